// Server-Sent Events at /api/event with a real SSE reader: 401 without the
// token; ?ep=dev-0 gets dev-0's NOTIFICATIONs of an observe started with
// POST .../observe and none of dev-1's (which an unfiltered stream,
// authenticated by the cookie, does see); DELETE .../observe stops them.
import { api, check, env, log, openEvents, run, sleep } from './lib.mjs';

const RES = '/3313/0/5702';
const isNotification = (ep) => (e) => e.event === 'NOTIFICATION' && e.data.ep === ep && e.data.res === RES;

run('sse', async () => {
  // No token, a wrong token: 401, on the stream and the REST API alike.
  check((await api('GET', '/api/clients', { auth: false })).status === 401, 'GET /api/clients without token: not 401');
  for (const headers of [{}, { Authorization: 'Bearer wrong-token-0123456789' }, { Cookie: 'fogm2m_token=nope' }]) {
    const { status } = await openEvents('/api/event?ep=dev-0', headers).opened;
    check(status === 401, `GET /api/event with ${JSON.stringify(headers)}: ${status}, expected 401`);
  }
  log('401 without a valid token');

  const dev0 = openEvents('/api/event?ep=dev-0', { Authorization: `Bearer ${env.GATEWAY_TOKEN}` });
  const all = openEvents('/api/event', { Cookie: `fogm2m_token=${env.GATEWAY_TOKEN}` });
  for (const [name, s] of [['ep=dev-0 (bearer)', dev0], ['all (cookie)', all]]) {
    const { status, headers } = await s.opened;
    check(status === 200, `GET /api/event ${name}: ${status}`);
    check(/^text\/event-stream/.test(headers['content-type']), `content-type ${headers['content-type']}`);
  }
  log('both streams open');

  for (const ep of ['dev-0', 'dev-1']) {
    const r = await api('POST', `/api/clients/${ep}/3313/0/5702/observe`);
    const body = await r.text();
    check(r.status === 200, `POST observe ${ep}: ${r.status} ${body}`);
    const j = JSON.parse(body);
    check(j.success && /^CONTENT/.test(j.status) && j.content && j.content.id === 5702, `observe reply ${body}`);
  }
  log('observing /3313/0/5702 on dev-0 and dev-1');

  const got = await dev0.waitFor(isNotification('dev-0'), '3 NOTIFICATIONs of dev-0', 10000, 3);
  const n = got[0].data;
  check(n.kind === 'single' && n.val.kind === 'singleResource' && n.val.id === 5702 && n.val.type === 'FLOAT' &&
        typeof n.val.value === 'string' && Number.isFinite(Number(n.val.value)), `NOTIFICATION shape: ${JSON.stringify(n)}`);
  await all.waitFor(isNotification('dev-1'), "dev-1's NOTIFICATIONs on the unfiltered stream", 10000);
  const foreign = dev0.events.filter((e) => e.data && e.data.ep !== 'dev-0');
  check(!foreign.length, `?ep=dev-0 delivered other endpoints' events: ${JSON.stringify(foreign[0])}`);
  log(`${dev0.events.length} events on ep=dev-0, all dev-0's; sample value ${n.val.value}`);

  for (const ep of ['dev-0', 'dev-1']) {
    const r = await api('DELETE', `/api/clients/${ep}/3313/0/5702/observe`);
    const body = await r.text();
    check(r.status === 200 && JSON.parse(body).status === 'CANCELLED', `DELETE observe ${ep}: ${r.status} ${body}`);
  }
  await sleep(500);  // in flight
  const before = dev0.events.length;
  await sleep(1500);
  check(dev0.events.length === before, `${dev0.events.length - before} events after the observe was cancelled`);
  log('cancelled: no more notifications');
});
