// Holds N STOMP-over-WebSocket sessions on the gateway, each subscribed to
// one device's notifications (/topic/notification/<prefix><i>), and prints
// once a second how many MESSAGE frames arrived, as JSON lines:
//   {"t":3,"sessions":10000,"messages":9987}
// Usage: node stomp_sessions.mjs URL TOKEN N PREFIX SECONDS
// Uses `ws` from tests/gateway/js/node_modules (run.sh installs it).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/gateway/js/package.json'));
const WebSocket = require('ws');

const [url, token, count, prefix, seconds] = process.argv.slice(2);
const n = Number(count);
const frame = (command, headers, body = '') =>
  command + '\n' + Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n') + '\n\n' + body + '\0';

let open = 0, messages = 0, errors = 0;
const sockets = [];
function connect(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', ['v12.stomp']);
    ws.on('open', () => {
      ws.send(frame('CONNECT', { 'accept-version': '1.2', host: 'fogm2m', passcode: token, 'heart-beat': '0,0' }));
      ws.send(frame('SUBSCRIBE', { id: 's', destination: `/topic/notification/${prefix}${i}` }));
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('CONNECTED')) { open++; resolve(); }
      else if (text.startsWith('MESSAGE')) messages++;
      else if (text.startsWith('ERROR')) { errors++; resolve(); }
    });
    ws.on('error', () => { errors++; resolve(); });
    sockets.push(ws);
  });
}

const started = Date.now();
for (let i = 0; i < n; i += 200) {  // in batches, so the accept backlog keeps up
  await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, k) => connect(i + k)));
}
console.log(JSON.stringify({ connected: open, errors, connect_s: (Date.now() - started) / 1000 }));
let t = 0;
const timer = setInterval(() => {
  t++;
  console.log(JSON.stringify({ t, sessions: open, messages }));
  messages = 0;
  if (t >= Number(seconds)) {
    clearInterval(timer);
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
}, 1000);
