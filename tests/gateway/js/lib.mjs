// Shared by the gateway's JS tests (run.sh runs each inside
// gateway_cluster.py, which sets GATEWAY_URL, GATEWAY_TOKEN, COAP_PORT and
// FOGM2M_BINARY): a test runner with a hard deadline and cleanups that run
// whatever happens, polling, a second emulated fleet, and a small
// Server-Sent Events reader on node's http module.
import { spawn } from 'node:child_process';
import http from 'node:http';

export const env = Object.fromEntries(
  ['GATEWAY_URL', 'GATEWAY_TOKEN', 'COAP_PORT', 'FOGM2M_BINARY'].map((name) => {
    if (!process.env[name]) {
      console.error(`FAIL: $${name} is not set: run through run.sh (gateway_cluster.py)`);
      process.exit(2);
    }
    return [name, process.env[name]];
  }));

const cleanups = [];
export const onCleanup = (fn) => cleanups.push(fn);

const t0 = Date.now();
export const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

export class TestFailure extends Error {}
export function check(condition, message) {
  if (!condition) throw new TestFailure(message);
}

async function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await Promise.race([fn(), sleep(10000)]);
    } catch (e) {
      console.error(`cleanup: ${e.message}`);
    }
  }
}

// Runs body(); exits 0 when it passes, 1 with the reason otherwise; never
// longer than timeoutMs (cleanups included).
export async function run(name, body, timeoutMs = 55000) {
  let code = 1;
  const deadline = setTimeout(async () => {
    console.error(`FAIL ${name}: did not finish within ${timeoutMs / 1000} s`);
    await runCleanups();
    process.exit(1);
  }, timeoutMs);
  try {
    await body();
    log(`PASS ${name}`);
    code = 0;
  } catch (e) {
    console.error(`FAIL ${name}: ${e instanceof TestFailure ? e.message : e.stack}`);
  }
  await runCleanups();
  clearTimeout(deadline);
  process.exit(code);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls predicate() (sync or async) until it returns a truthy value.
export async function waitFor(predicate, what, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > end) throw new TestFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(50);
  }
}

// `fogm2m fleet` of n devices named dev-{first}.. against the cluster's first
// node, in its own process group; stopped (SIGTERM: they de-register) by
// the returned function, and at cleanup or exit at the latest.
export function startFleet(first, n = 1) {
  const child = spawn(env.FOGM2M_BINARY, ['fleet', '--server', `127.0.0.1:${env.COAP_PORT}`,
    '-n', String(n), '--first', String(first), '-q', '--stop-timeout', '3'],
  { detached: true, stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  const done = new Promise((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const kill = (signal) => { try { process.kill(-child.pid, signal); } catch { /* gone */ } };
  const onExit = () => kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    if (!exited) {
      kill('SIGTERM');
      await Promise.race([done, sleep(6000)]);
      if (!exited) {
        kill('SIGKILL');
        await done;
      }
    }
    process.removeListener('exit', onExit);
  };
  onCleanup(stop);
  return stop;
}

// GET path as Server-Sent Events: {opened (a promise of {status, headers}),
// events, waitFor(pred, what, ms, count), close()}.
// events: [{event, data (parsed JSON when it is JSON)}].
export function openEvents(path, headers = {}) {
  const events = [];
  let req;
  const opened = new Promise((resolve, reject) => {
    req = http.get(new URL(path, env.GATEWAY_URL), { headers: { Accept: 'text/event-stream', ...headers } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return resolve({ status: res.statusCode, headers: res.headers });
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk) => {
          buffer += chunk.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':') || !line) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') event = value;
              else if (field === 'data') data.push(value);
            }
            if (!data.length) continue;
            let parsed = data.join('\n');
            try { parsed = JSON.parse(parsed); } catch { /* kept as text */ }
            events.push({ event, data: parsed });
          }
        });
        res.on('error', () => {});
        resolve({ status: res.statusCode, headers: res.headers });
      });
    req.on('error', reject);
  });
  const stream = {
    events,
    opened,
    close: () => req.destroy(),
    // The events matching pred, once there are at least count of them.
    waitFor: (pred, what, ms, count = 1) => waitFor(() => {
      const hits = events.filter(pred);
      return hits.length >= count && hits;
    }, what, ms),
  };
  onCleanup(async () => stream.close());
  return stream;
}

// fetch() with the token.
export function api(method, path, { body, headers = {}, auth = true } = {}) {
  return fetch(new URL(path, env.GATEWAY_URL), {
    method,
    body,
    headers: { ...(auth ? { Authorization: `Bearer ${env.GATEWAY_TOKEN}` } : {}), ...headers },
  });
}
