// The web UI in headless Chromium (puppeteer-core, Debian's /usr/bin/chromium):
// sign in with the token, see the 3 devices, open dev-0, Read
// /3313/0/5702, observe the accelerometer and see values and chart follow
// the NOTIFICATIONs, see a second fleet's device register (and leave), and
// take a screenshot that is not blank. Any console error, page error or
// failed request fails the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import puppeteer from 'puppeteer-core';

import { check, env, log, onCleanup, run, startFleet, TestFailure } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const X = '[data-path="/3313/0/5702"]';

// The number of distinct colours among the pixels of a PNG (8-bit RGB or
// RGBA, not interlaced): enough of a decoder to tell a blank image.
function pngColours(file) {
  const png = fs.readFileSync(file);
  check(png.readUInt32BE(12) === 0x49484452, `${file} is not a PNG`);
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [depth, type, , , interlace] = png.subarray(24, 29);
  check(depth === 8 && (type === 2 || type === 6) && !interlace, `unexpected PNG format ${depth}/${type}/${interlace}`);
  const idat = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += len + 12;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const bpp = type === 6 ? 4 : 3;
  const stride = width * bpp;
  let prev = Buffer.alloc(stride);
  const colours = new Set();
  for (let y = 0; y < height; ++y) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; ++i) {
      const a = i >= bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a
        : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      line[i] = (line[i] + [0, a, b, (a + b) >> 1, paeth][filter]) & 0xff;
    }
    for (let i = 0; i < stride; i += bpp) colours.add(line.readUIntBE(i, 3));
    prev = line;
  }
  return colours.size;
}

run('ui', async () => {
  let step = 'launching Chromium';
  const problems = [];
  try {
    await scenario((name) => { step = name; }, problems);
  } catch (e) {
    const detail = e instanceof TestFailure ? e.message : `${e.name}: ${e.message}`;
    throw new TestFailure(`while ${step}: ${detail}${problems.length ? `\n  page problems:\n  ${problems.join('\n  ')}` : ''}`);
  }
});

async function scenario(step, problems) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fogm2m-ui-chromium-'));
  onCleanup(async () => fs.rmSync(profile, { recursive: true, force: true }));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    protocolTimeout: 20000,
  });
  let closing = false;
  onCleanup(async () => { closing = true; await browser.close(); });

  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!closing) problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  const noProblems = () => check(!problems.length, 'console errors, page errors or failed requests');

  step('signing in and waiting for the 3 client rows');
  await page.goto(env.GATEWAY_URL, { waitUntil: 'load' });
  await page.waitForSelector('#token', { visible: true });
  await page.type('#token', env.GATEWAY_TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#clients tr[data-ep]').length === 3);
  const eps = await page.$$eval('#clients tr[data-ep]', (rows) => rows.map((r) => r.dataset.ep));
  check(eps.join() === 'dev-0,dev-1,dev-2', `client rows: ${eps}`);
  await page.waitForFunction(() => document.querySelector('#live').classList.contains('ok'));
  log(`signed in; clients ${eps}`);

  step('opening dev-0');
  await page.click('#clients tr[data-ep="dev-0"] button');
  await page.waitForSelector(`${X} [data-action=read]`);
  const label = await page.$eval(X, (row) => row.textContent);
  check(/X Value/.test(label), `row of /3313/0/5702 is not labelled "X Value": ${label}`);
  check(await page.$('[data-path="/3/0/4"] [data-action=execute]'), 'no Execute on /3/0/4 (Reboot)');
  check(await page.$('[data-path="/1/0/1"] [data-action=write]'), 'no Write on /1/0/1 (Lifetime)');
  check(!(await page.$(`${X} [data-action=write]`)), 'Write offered on a read-only resource');

  step('reading /3313/0/5702');
  await page.click(`${X} [data-action=read]`);
  const read = await page.waitForFunction((sel) => {
    const v = document.querySelector(`${sel} [data-role=value]`).textContent;
    return v !== '' && Number.isFinite(Number(v)) && v;
  }, {}, X);
  const status = await page.$eval(`${X} [data-role=status]`, (c) => c.textContent);
  check(/^CONTENT/.test(status), `status after Read: ${status}`);
  log(`Read /3313/0/5702 = ${await read.jsonValue()} (${status})`);

  // Observe the accelerometer: X's value changes at least twice and the chart fills.
  step('observing the accelerometer (values and chart)');
  await page.$eval(`${X} [data-role=value]`, (cell) => {
    window.seenX = [];  // X values shown from NOTIFICATIONs (the cell's title says which)
    new MutationObserver(() => { if (/^notified/.test(cell.title)) window.seenX.push(cell.textContent); })
      .observe(cell, { childList: true, characterData: true, subtree: true });
  });
  await page.click('[data-path="/3313/0"] [data-action=observe-accel]');
  await page.waitForFunction(() => new Set(window.seenX).size >= 3, { timeout: 15000 });
  await page.waitForFunction(() => Number(document.querySelector('canvas[data-chart="/3313/0"]').dataset.points) >= 10);
  await page.waitForSelector(`${X} [data-action=cancel]:not([hidden])`);
  const inked = await page.$eval('canvas[data-chart="/3313/0"]', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) ++n;
    return n;
  });
  check(inked > 200, `the chart has ${inked} painted pixels`);
  const seen = await page.evaluate(() => window.seenX.length);
  log(`observing: ${seen} notified X values, chart has ${inked} painted pixels`);

  // A new device registers, and leaves.
  step('waiting for the REGISTRATION of dev-100');
  const stopFleet = startFleet(100);
  await page.waitForSelector('#events li[data-event="REGISTRATION"][data-endpoint="dev-100"]', { timeout: 15000 });
  await page.waitForSelector('#clients tr[data-ep="dev-100"]');
  log('dev-100 registered: in the event panel and the client list');

  step('taking the screenshot');
  const shot = process.env.UI_SCREENSHOT || path.join(profile, "screenshot.png");
  await page.screenshot({ path: shot, fullPage: true });
  const size = fs.statSync(shot).size;
  const colours = pngColours(shot);
  check(size > 20000 && colours > 16, `the screenshot looks blank: ${size} bytes, ${colours} colours`);
  log(`screenshot: ${size} bytes, ${colours} colours`);

  step('waiting for the DEREGISTRATION of dev-100');
  await stopFleet();
  await page.waitForSelector('#events li[data-event="DEREGISTRATION"][data-endpoint="dev-100"]');
  await page.waitForFunction(() => !document.querySelector('#clients tr[data-ep="dev-100"]'));
  log('dev-100 de-registered');

  step('cancelling the observation');
  await page.click('[data-path="/3313/0"] [data-action=cancel-accel]');
  await page.waitForFunction(() =>
    /cancelled/.test(document.querySelector('[data-path="/3313/0"] [data-role=status]').textContent));
  await page.waitForSelector(`${X} [data-action=observe]:not([hidden])`);
  log('observation cancelled');
  step('checking the page had no problems');
  noProblems();
}
