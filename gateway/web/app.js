// The fogm2m gateway's web UI: the live client list, a client's resource
// tree (labelled from /api/objectspecs) with Read / Write / Execute /
// Observe, live accelerometer charts and the registration events.
// Plain ES2020, no dependencies. Live data comes over Server-Sent Events
// (/api/event), authenticated by the fogm2m_token cookie; fetch() calls
// carry the token as a bearer header. Stable hooks for tests: client rows
// [data-ep], resource rows [data-path] with [data-role=value|status|input],
// buttons [data-action], charts canvas[data-chart] (data-points counts).

const TOKEN_KEY = 'fogm2m_token';
const ACCEL = { 5702: 0, 5703: 1, 5704: 2 };  // IPSO 3313 X, Y, Z -> series
const AXES = [['X', '#d62728'], ['Y', '#2ca02c'], ['Z', '#1f77b4']];
const MAX_POINTS = 100;
const MAX_EVENTS = 200;
// RFC 6265 cookie-octet: what a token may hold to travel in the cookie.
const COOKIE_SAFE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/;

const state = {
  clients: new Map(),    // endpoint -> registration JSON
  specs: new Map(),      // object id -> object model
  selected: null,        // endpoint shown in the client panel
  observing: new Map(),  // endpoint -> Set of observed paths
  charts: new Map(),     // "/3313/0" -> {canvas, series: [[x..], [y..], [z..]], points}
  source: null,          // the EventSource
  pending: null,         // registration events seen while the list loads
  retry: 0,
  renderQueued: false,
};

class Unauthorized extends Error {}

const $ = (selector, root = document) => root.querySelector(selector);

// h('td', {className: 'x', 'data-role': 'value'}, 'text', child...)
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (/^(data-|aria-)|^(role|for|scope)$/.test(k)) el.setAttribute(k, v === true ? '' : v);
    else el[k] = v;
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

const byEndpoint = (a, b) => a.localeCompare(b, undefined, { numeric: true });
const clock = (ms) => new Date(ms).toLocaleTimeString();

// ---- token ---------------------------------------------------------------

const token = () => sessionStorage.getItem(TOKEN_KEY);

function saveToken(t) {
  sessionStorage.setItem(TOKEN_KEY, t);
  document.cookie = `fogm2m_token=${t}; SameSite=Strict; path=/`;
}

function askToken(message = '') {
  stopEvents();
  sessionStorage.removeItem(TOKEN_KEY);
  document.cookie = 'fogm2m_token=; SameSite=Strict; path=/; max-age=0';
  $('#app').hidden = true;
  $('#change-token').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
  $('#token').value = '';
  $('#token').focus();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('#token').value.trim();
  if (!COOKIE_SAFE.test(t)) {
    $('#login-error').textContent = 'A token has no spaces, quotes, commas, semicolons or backslashes.';
    return;
  }
  saveToken(t);
  start();
});

$('#change-token').addEventListener('click', () => askToken());

// ---- REST ----------------------------------------------------------------

// {status, ok, json, text}; throws Unauthorized (after asking for the token
// again) on 401, and TypeError when the gateway is unreachable.
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'text/plain';
  const res = await fetch(path, { method, headers, body });
  if (res.status === 401) {
    askToken('The gateway refused the token: enter it again.');
    throw new Unauthorized('401');
  }
  const text = await res.text();
  let json = null;
  if ((res.headers.get('content-type') || '').includes('json')) {
    try { json = JSON.parse(text); } catch { /* shown as text */ }
  }
  return { status: res.status, ok: res.ok, json, text };
}

async function start() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#change-token').hidden = false;
  try {
    if (!state.specs.size) {
      const r = await api('GET', '/api/objectspecs');
      for (const o of r.json || []) state.specs.set(o.id, o);
    }
  } catch (e) {
    if (!(e instanceof Unauthorized)) setLive(`gateway unreachable: ${e.message}`, false);
    if (!(e instanceof Unauthorized)) reconnectLater();
    return;
  }
  connectEvents();
}

// ---- live events -----------------------------------------------------------

function setLive(text, ok) {
  const el = $('#live');
  el.textContent = text;
  el.classList.toggle('ok', ok);
}

function connectEvents() {
  stopEvents();
  const source = new EventSource('/api/event');
  state.source = source;
  setLive('connecting…', false);
  source.addEventListener('open', () => {
    setLive('live', true);
    loadClients();  // (again) after each (re)connection: events may have been missed
  });
  source.addEventListener('error', () => {
    setLive('reconnecting…', false);
    // EventSource retries on its own, except after a non-200 answer (a 401?).
    if (source.readyState === EventSource.CLOSED && state.source === source) {
      state.source = null;
      reconnectLater();
    }
  });
  for (const name of ['REGISTRATION', 'UPDATED', 'DEREGISTRATION'])
    source.addEventListener(name, (e) => onRegistrationEvent(name, JSON.parse(e.data)));
  source.addEventListener('NOTIFICATION', (e) => onNotification(JSON.parse(e.data)));
}

function stopEvents() {
  clearTimeout(state.retry);
  if (state.source) state.source.close();
  state.source = null;
}

function reconnectLater() {
  clearTimeout(state.retry);
  state.retry = setTimeout(async () => {
    try {
      await api('GET', '/api/clients');  // asks for the token on 401
      start();
    } catch (e) {
      if (!(e instanceof Unauthorized)) reconnectLater();
    }
  }, 3000);
}

async function loadClients() {
  state.pending = [];
  let r;
  try {
    r = await api('GET', '/api/clients');
  } catch {
    state.pending = null;
    return;
  }
  const pending = state.pending || [];
  state.pending = null;
  if (!r.ok || !Array.isArray(r.json)) return setLive(`client list: HTTP ${r.status}`, false);
  const before = state.clients.get(state.selected);
  state.clients = new Map(r.json.map((c) => [c.endpoint, c]));
  for (const [name, data] of pending) applyRegistration(name, data);
  renderClients();
  // The open client's tree (values, chart) stays unless its registration changed.
  const after = state.clients.get(state.selected);
  if (state.selected && (before && before.registrationId) !== (after && after.registrationId)) {
    state.observing.delete(state.selected);
    renderClient();
  }
}

function onRegistrationEvent(name, data) {
  if (state.pending) state.pending.push([name, data]);
  const reg = applyRegistration(name, data);
  logEvent(name, reg.endpoint);
  queueRenderClients();
  if (reg.endpoint !== state.selected) return;
  if (name === 'REGISTRATION') {
    state.observing.delete(reg.endpoint);  // a new registration starts without observations
    renderClient();
  } else if (name === 'DEREGISTRATION') {
    $('#client-title').textContent = `${reg.endpoint} (deregistered)`;
    for (const b of document.querySelectorAll('#tree button')) b.disabled = true;
  } else {
    renderClientInfo(reg);
  }
}

function applyRegistration(name, data) {
  const reg = name === 'UPDATED' ? data.registration : data;
  if (name === 'DEREGISTRATION') state.clients.delete(reg.endpoint);
  else state.clients.set(reg.endpoint, reg);
  return reg;
}

function onNotification(n) {
  if (n.ep !== state.selected || !n.val) return;
  applyContent(n.res, n.val, true);
}

function logEvent(name, ep) {
  const list = $('#events');
  const now = Date.now();
  list.prepend(h('li', { 'data-event': name, 'data-endpoint': ep },
    h('time', { dateTime: new Date(now).toISOString() }, clock(now)), ' ',
    h('span', { className: `event ${name.toLowerCase()}` }, name), ' ',
    h('span', { className: 'endpoint' }, ep)));
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

// ---- client list ---------------------------------------------------------

function queueRenderClients() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => { state.renderQueued = false; renderClients(); });
}

function renderClients() {
  const rows = [...state.clients.keys()].sort(byEndpoint).map((ep) => {
    const c = state.clients.get(ep);
    return h('tr', { 'data-ep': ep, 'aria-current': String(ep === state.selected) },
      h('td', {}, h('button', { type: 'button', className: 'link', 'data-action': 'select' }, ep)),
      h('td', {}, c.address || ''),
      h('td', {}, c.lifetime != null ? `${c.lifetime} s` : ''),
      h('td', {}, c.lastUpdate ? h('time', { dateTime: new Date(c.lastUpdate).toISOString(),
        title: new Date(c.lastUpdate).toString() }, clock(c.lastUpdate)) : ''));
  });
  $('#clients tbody').replaceChildren(...rows);
  $('#client-count').textContent = `(${rows.length})`;
  $('#no-clients').hidden = rows.length > 0;
}

$('#clients tbody').addEventListener('click', (e) => {
  const row = e.target.closest('tr[data-ep]');
  if (row) select(row.dataset.ep);
});

function select(ep) {
  state.selected = ep;
  for (const tr of document.querySelectorAll('#clients tr[data-ep]'))
    tr.setAttribute('aria-current', String(tr.dataset.ep === ep));
  renderClient();
}

// ---- one client's resource tree -------------------------------------------

const observed = (ep) => {
  if (!state.observing.has(ep)) state.observing.set(ep, new Set());
  return state.observing.get(ep);
};

function renderClientInfo(reg) {
  $('#client-info').textContent = [`LwM2M ${reg.lwM2mVersion || '?'}`, `binding ${reg.bindingMode || '?'}`,
    reg.address, reg.registrationDate && `registered ${new Date(reg.registrationDate).toLocaleString()}`]
    .filter(Boolean).join(' · ');
}

function renderClient() {
  const reg = state.clients.get(state.selected);
  state.charts.clear();
  $('#client-title').textContent = reg ? reg.endpoint : `${state.selected} (not registered)`;
  $('#client-info').textContent = '';
  const tree = $('#tree');
  tree.replaceChildren();
  if (!reg) return;
  renderClientInfo(reg);
  tree.append(...objectsOf(reg).map(([oid, ids]) => renderObject(oid, ids)));
}

// [[objectId, [instanceIds]]] from availableInstances, else the object links.
function objectsOf(reg) {
  const objects = new Map();
  if (reg.availableInstances) {
    for (const [o, ids] of Object.entries(reg.availableInstances)) objects.set(Number(o), ids);
  } else {
    for (const { url } of reg.objectLinks || []) {
      const m = /^\/(\d+)(?:\/(\d+))?$/.exec(url);
      if (!m) continue;
      const ids = objects.get(Number(m[1])) || [];
      if (m[2] != null) ids.push(Number(m[2]));
      objects.set(Number(m[1]), ids);
    }
  }
  return [...objects.entries()].sort((a, b) => a[0] - b[0]);
}

function renderObject(oid, ids) {
  const spec = state.specs.get(oid);
  // The server objects (0, 1) start folded: they are seldom what one looks for.
  return h('details', { className: 'object', 'data-object': oid, open: oid > 1 },
    h('summary', {}, h('h3', {}, spec ? spec.name : 'Unknown object', ' ', h('span', { className: 'muted' }, `/${oid}`))),
    ids.length ? ids.map((iid) => renderInstance(oid, iid, spec)) : h('p', { className: 'muted' }, 'No instance.'));
}

function renderInstance(oid, iid, spec) {
  const base = `/${oid}/${iid}`;
  const head = h('div', { className: 'instance-head', 'data-path': base },
    h('h4', {}, `Instance ${iid}`),
    h('button', { type: 'button', 'data-action': 'read', 'aria-label': `Read ${base}` }, 'Read all'),
    h('span', { className: 'status', 'data-role': 'status', 'aria-live': 'polite' }));
  const parts = [head];
  if (oid === 3313) {
    head.append(
      h('button', { type: 'button', 'data-action': 'observe-accel' }, 'Observe accelerometer'),
      h('button', { type: 'button', 'data-action': 'cancel-accel' }, 'Cancel accelerometer'));
    const canvas = h('canvas', { className: 'chart', 'data-chart': base, 'data-points': '0', role: 'img',
      'aria-label': `Accelerometer ${base}: X, Y and Z, last ${MAX_POINTS} notifications` });
    state.charts.set(base, { canvas, series: [[], [], []], points: 0, queued: false });
    parts.push(h('figure', { className: 'chart-box' }, canvas,
      h('figcaption', {}, AXES.map(([name, color]) =>
        h('span', { className: 'legend' }, h('span', { className: 'swatch', style: `background:${color}` }), name)))));
  }
  const tbody = h('tbody', {}, (spec ? spec.resourcedefs : []).map((r) => renderResource(base, r)));
  parts.push(h('table', { className: 'resources' },
    h('thead', {}, h('tr', {}, ['ID', 'Resource', 'Value', 'Actions', 'Reply'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody));
  return h('div', { className: 'instance', 'data-instance': base }, parts);
}

function renderResource(base, r) {
  const path = `${base}/${r.id}`;
  const ops = r.operations || '';
  const single = r.instancetype !== 'multiple';
  const watching = observed(state.selected).has(path);
  const button = (action, label) => h('button', { type: 'button', 'data-action': action,
    'aria-label': `${label} ${r.name}` }, label);
  return h('tr', { 'data-path': path, 'data-ops': ops },
    h('td', { className: 'num' }, r.id),
    h('td', {}, r.name, r.units ? h('span', { className: 'units' }, ` (${r.units})`) : null),
    h('td', { className: 'value', 'data-role': 'value' }),
    h('td', { className: 'actions' },
      ops.includes('R') && button('read', 'Read'),
      ops.includes('W') && single && [
        h('input', { type: 'text', size: 8, 'data-role': 'input', 'aria-label': `New value for ${r.name}`,
          placeholder: r.type ? r.type.toLowerCase() : '' }),
        button('write', 'Write')],
      ops.includes('E') && button('execute', 'Execute'),
      ops.includes('R') && [
        h('button', { type: 'button', 'data-action': 'observe', 'aria-label': `Observe ${r.name}`,
          hidden: watching }, 'Observe'),
        h('button', { type: 'button', 'data-action': 'cancel', 'aria-label': `Cancel observation of ${r.name}`,
          hidden: !watching }, 'Cancel')]),
    h('td', { className: 'status', 'data-role': 'status', 'aria-live': 'polite' }));
}

// The row of a path, made on the fly for a resource the object model lacks.
function rowOf(path, make = false) {
  let row = document.querySelector(`#tree [data-path="${path}"]`);
  const m = /^(\/\d+\/\d+)\/(\d+)$/.exec(path);
  if (!row && make && m) {
    const tbody = $(`#tree [data-instance="${m[1]}"] tbody`);
    if (tbody) tbody.append(row = renderResource(m[1], { id: Number(m[2]), name: `Resource ${m[2]}`, operations: 'R' }));
  }
  return row;
}

function setStatus(row, text, kind) {
  const cell = row && $('[data-role=status]', row);
  if (!cell) return;
  cell.textContent = text;
  cell.className = `status ${kind || ''}`;
}

$('#tree').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  const row = button && button.closest('[data-path]');
  if (row) act(button.dataset.action, row.dataset.path);
});

$('#tree').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && e.target.matches('input[data-role=input]')) {
    act('write', e.target.closest('[data-path]').dataset.path);
  }
});

async function act(action, path) {
  const ep = state.selected;
  if (action === 'observe-accel' || action === 'cancel-accel') {
    const observe = action === 'observe-accel';
    setStatus(rowOf(path), observe ? 'observing…' : 'cancelling…', 'pending');
    const done = await Promise.all(Object.keys(ACCEL).map((r) => act(observe ? 'observe' : 'cancel', `${path}/${r}`)));
    const ok = done.every(Boolean);
    if (ep === state.selected) {
      setStatus(rowOf(path), ok ? (observe ? 'observing X, Y, Z' : 'cancelled') : 'failed: see the resources', ok ? 'ok' : 'error');
    }
    return ok;
  }
  const url = `/api/clients/${encodeURIComponent(ep)}${path}`;
  setStatus(rowOf(path), '…', 'pending');
  let r;
  try {
    if (action === 'read') r = await api('GET', url);
    else if (action === 'write') r = await api('PUT', url, $('[data-role=input]', rowOf(path)).value);
    else if (action === 'execute') r = await api('POST', url);
    else if (action === 'observe') r = await api('POST', `${url}/observe`);
    else if (action === 'cancel') r = await api('DELETE', `${url}/observe`);
    else return false;
  } catch (e) {
    if (!(e instanceof Unauthorized)) setStatus(rowOf(path), `request failed: ${e.message}`, 'error');
    return false;
  }
  const success = Boolean(r.ok && r.json && r.json.success);
  if (action === 'observe' && success) observed(ep).add(path);
  if (action === 'cancel' && (r.ok || r.status === 404)) observed(ep).delete(path);  // 404: none to cancel
  if (ep !== state.selected) return success;  // the user moved on
  const row = rowOf(path);
  if (row && (action === 'observe' || action === 'cancel')) {
    $('[data-action=observe]', row).hidden = observed(ep).has(path);
    $('[data-action=cancel]', row).hidden = !observed(ep).has(path);
  }
  showReply(path, r);
  return success;
}

function showReply(path, r) {
  const row = rowOf(path);
  if (!r.ok) return setStatus(row, `HTTP ${r.status}: ${r.text}`, 'error');
  const j = r.json;
  if (!j) return setStatus(row, r.text || `HTTP ${r.status}`, 'ok');
  if (j.content) applyContent(path, j.content, false);
  if (j.failure) setStatus(row, `${j.status}${j.errormessage ? `: ${j.errormessage}` : ''}`, 'error');
  else setStatus(row, j.status || 'OK', 'ok');
}

// Shows a node's values in the rows under path; live: from a notification.
function applyContent(path, node, live) {
  switch (node.kind) {
    case 'singleResource':
      return setValue(path, node.value, live);
    case 'multiResource':
      return setValue(path, Object.entries(node.values || {}).map(([i, v]) => `${i}: ${v}`).join(', '), live);
    case 'instance':
      for (const r of node.resources || []) applyContent(`${path}/${r.id}`, r, live);
      return;
    case 'obj':
      for (const i of node.instances || []) applyContent(`${path}/${i.id}`, i, live);
      return;
    default:
      return undefined;
  }
}

function setValue(path, value, live) {
  const row = rowOf(path, true);
  if (row) {
    const cell = $('[data-role=value]', row);
    cell.textContent = value;
    cell.title = `${live ? 'notified' : 'read'} at ${clock(Date.now())}`;
  }
  if (live) chartPoint(path, value);
}

// ---- accelerometer chart -------------------------------------------------

function chartPoint(path, value) {
  const m = /^(\/3313\/\d+)\/(\d+)$/.exec(path);
  const chart = m && state.charts.get(m[1]);
  const axis = m && ACCEL[m[2]];
  const v = Number(value);
  if (!chart || axis === undefined || !Number.isFinite(v)) return;
  const s = chart.series[axis];
  s.push(v);
  if (s.length > MAX_POINTS) s.shift();
  chart.canvas.dataset.points = String(++chart.points);
  if (!chart.queued) {
    chart.queued = true;
    requestAnimationFrame(() => drawChart(chart));
  }
}

// Three lanes, one per axis, each scaled to its own range (gravity puts Z
// near 9.8 while X and Y stay near 0).
function drawChart(chart) {
  chart.queued = false;
  const { canvas } = chart;
  const ctx = canvas.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const ht = canvas.clientHeight || 180;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(ht * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(ht * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, ht);
  const ink = getComputedStyle(canvas).color;
  const left = 70;
  const lane = ht / 3;
  const x = (i, n) => left + ((w - left - 6) * (i + MAX_POINTS - n)) / (MAX_POINTS - 1);
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1.5;
  chart.series.forEach((s, axis) => {
    const top = axis * lane + 6;
    const bottom = (axis + 1) * lane - 6;
    ctx.fillStyle = ink;
    ctx.globalAlpha = 0.3;
    if (axis) ctx.fillRect(0, axis * lane, w, 1);
    ctx.globalAlpha = 1;
    if (!s.length) return;
    const lo = Math.min(...s);
    const hi = Math.max(...s);
    const pad = Math.max((hi - lo) * 0.05, 0.005);
    const y = (v) => bottom - ((v - lo + pad) / (hi - lo + 2 * pad)) * (bottom - top);
    ctx.textBaseline = 'top';
    ctx.fillText(hi.toFixed(3), 4, top);
    ctx.textBaseline = 'bottom';
    ctx.fillText(lo.toFixed(3), 4, bottom);
    ctx.textBaseline = 'middle';
    ctx.fillStyle = AXES[axis][1];
    ctx.fillText(`${AXES[axis][0]} ${s[s.length - 1].toFixed(3)}`, 4, (top + bottom) / 2);
    ctx.strokeStyle = AXES[axis][1];
    ctx.beginPath();
    s.forEach((v, i) => (i ? ctx.lineTo(x(i, s.length), y(v)) : ctx.moveTo(x(i, s.length), y(v))));
    ctx.stroke();
  });
}

// ---- start -----------------------------------------------------------------

if (token()) {
  saveToken(token());  // the cookie too: it may have been cleared
  start();
} else {
  askToken();
}
