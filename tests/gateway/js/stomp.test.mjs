// STOMP 1.2 over WebSocket at /ws with a real @stomp/stompjs Client (on
// `ws`): a read and an observe by the client's own tickets, notifications on
// /queue/responses and /topic/notification, a REGISTRATION (and the
// DEREGISTRATION) of a second fleet on /topic/registration, an err for a bad
// request body with its ticket, and an ERROR frame plus a closed socket for
// a wrong passcode.
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

import { check, env, log, onCleanup, run, startFleet, waitFor } from './lib.mjs';

const WS_URL = `${env.GATEWAY_URL.replace(/^http/, 'ws')}/ws`;

// A connected client, or the reason it was refused: {client, error, closed}.
function connect(passcode) {
  const result = { client: null, error: null, closed: false };
  const client = new Client({
    webSocketFactory: () => new WebSocket(WS_URL, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: { passcode },
    reconnectDelay: 0,  // one attempt
    heartbeatIncoming: 10000,
    heartbeatOutgoing: 10000,
    debug: () => {},
  });
  result.client = client;
  onCleanup(() => client.deactivate());
  return new Promise((resolve) => {
    client.onConnect = () => resolve(result);
    client.onStompError = (frame) => { result.error = frame; };
    client.onWebSocketClose = () => { result.closed = true; resolve(result); };
    client.activate();
    setTimeout(() => resolve(result), 5000);  // neither connected nor closed: checked by the caller
  });
}

function collect(client, destination) {
  const messages = [];
  client.subscribe(destination, (m) => messages.push({ headers: m.headers, body: JSON.parse(m.body) }));
  return messages;
}

const request = (client, ticket, req, ep = 'dev-0') =>
  client.publish({ destination: '/app/request', body: JSON.stringify({ ep, ticket, req }) });

run('stomp', async () => {
  // A wrong passcode: ERROR frame, then the server closes the socket.
  const refused = await connect('wrong-token-0123456789');
  check(refused.error, 'no ERROR frame for a wrong passcode');
  check(refused.closed, 'the socket stayed open after the ERROR frame');
  check(/token/i.test(refused.error.headers.message || ''), `ERROR message: ${refused.error.headers.message}`);
  log(`wrong passcode: ERROR "${refused.error.headers.message}", socket closed`);

  const { client, error, closed } = await connect(env.GATEWAY_TOKEN);
  check(!error && !closed && client.connected, `CONNECT refused: ${error && error.headers.message}`);
  const responses = collect(client, '/queue/responses');
  const registrations = collect(client, '/topic/registration');
  const notifications = collect(client, '/topic/notification');
  const dev0Notifications = collect(client, '/topic/notification/dev-0');
  log('connected, subscribed');

  const forTicket = (ticket) => responses.filter((m) => m.body.ticket === ticket).map((m) => m.body);

  // Read by our own ticket: ack, then rep CONTENT.
  request(client, 'js-read-1', { kind: 'read', path: '/3313/0/5702' });
  const read = await waitFor(() => forTicket('js-read-1').length >= 2 && forTicket('js-read-1'), 'ack + rep of the read');
  check(read[0].ack === true, `first answer is not the ack: ${JSON.stringify(read[0])}`);
  const rep = read[1].rep;
  check(rep && rep.code === 'CONTENT', `read answer: ${JSON.stringify(read[1])}`);
  check(rep.content && rep.content.id === 5702 && Number.isFinite(Number(rep.content.value)),
    `read content: ${JSON.stringify(rep.content)}`);
  log(`read /3313/0/5702 = ${rep.content.value}`);

  // A body that is not a valid request: an err with the same ticket.
  request(client, 'js-bad-1', { kind: 'levitate', path: '/3313/0/5702' });
  const bad = await waitFor(() => forTicket('js-bad-1').find((b) => b.err), 'err of the bad request');
  check(/unknown kind/.test(bad.err.errorMessage), `err message: ${bad.err.errorMessage}`);
  client.publish({ destination: '/app/request', body: '{"ticket":"js-bad-2","req":' });
  await waitFor(() => responses.some((m) => m.body.err && m.body.ticket !== 'js-bad-1'), 'err of a body that is not JSON');
  check(client.connected, 'the session ended after a bad request');
  log(`bad request: err "${bad.err.errorMessage}"`);

  // Observe: ack, rep CONTENT, then notifications as reps of our ticket, and
  // NOTIFICATION events on the topics.
  request(client, 'js-obs-1', { kind: 'observe', path: '/3313/0/5703' });
  const observed = await waitFor(() => forTicket('js-obs-1').length >= 5 && forTicket('js-obs-1'),
    'ack, rep and 3 notifications of the observe', 10000);
  check(observed[0].ack && observed[1].rep.code === 'CONTENT', `observe answers: ${JSON.stringify(observed.slice(0, 2))}`);
  const notes = observed.slice(2).map((b) => b.rep);
  check(notes.every((n) => n && n.notification && n.ep === 'dev-0' && n.path === '/3313/0/5703'),
    `notification reps: ${JSON.stringify(notes[0])}`);
  const isOurs = (m) => m.headers.event === 'NOTIFICATION' && m.body.ep === 'dev-0' && m.body.res === '/3313/0/5703';
  await waitFor(() => notifications.filter(isOurs).length >= 2, 'NOTIFICATIONs on /topic/notification');
  await waitFor(() => dev0Notifications.filter(isOurs).length >= 2, 'NOTIFICATIONs on /topic/notification/dev-0');
  log(`observe: ${notes.length} notifications so far, e.g. ${JSON.stringify(notes[0].content)}`);

  request(client, 'js-cancel-1', { kind: 'cancel_observe', path: '/3313/0/5703', observeTicket: 'js-obs-1' });
  const cancel = await waitFor(() => forTicket('js-cancel-1').find((b) => b.rep || b.err), 'cancel_observe answer');
  check(cancel.rep && cancel.rep.code === 'CANCELLED', `cancel answer: ${JSON.stringify(cancel)}`);
  log('observation cancelled');

  // A device registers (and de-registers) while we listen.
  const stopFleet = startFleet(100);
  const isReg = (name) => (m) => m.headers.event === name && m.body.endpoint === 'dev-100';
  await waitFor(() => registrations.find(isReg('REGISTRATION')), 'REGISTRATION of dev-100 on /topic/registration', 15000);
  log('REGISTRATION of dev-100 received');
  await stopFleet();
  await waitFor(() => registrations.find(isReg('DEREGISTRATION')), 'DEREGISTRATION of dev-100', 10000);
  check(!registrations.some((m) => m.headers.event === 'NOTIFICATION'), 'NOTIFICATION on /topic/registration');
  log('DEREGISTRATION of dev-100 received');

  await client.deactivate();
});
