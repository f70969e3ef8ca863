// Drives the real dashboard in headless Chromium against a running greenfleet + emulator
// (tests/ui/run.sh starts both and passes GF_* env). With --screenshots DIR it also writes
// screenshots of the main views at desktop (1280×800) and phone (390×844) sizes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import puppeteer from 'puppeteer-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/ui/run.sh)`);
  return v;
};
const BASE = env('GF_BASE_URL');
const READ_KEY = env('GF_READ_KEY');
const ADMIN_KEY = env('GF_ADMIN_KEY');
const EMU = env('GF_EMULATOR_URL');
const shotsArg = process.argv.indexOf('--screenshots');
const SHOTS = shotsArg >= 0 ? resolve(process.argv[shotsArg + 1] || '../../docs/screenshots') : null;

let passed = 0;
let failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}\n${String(err.stack || err).replace(/^/gm, '    ')}`);
    throw err;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(200);
  }
}

async function api(path, key = READ_KEY) {
  const res = await fetch(`${BASE}/api/v1${path}`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200, `${path} answered ${res.status}`);
  return res.json();
}
async function emulator(path, method = 'GET') {
  const res = await fetch(`${EMU}/_emulator${path}`, { method });
  assert.ok(res.ok, `emulator ${method} ${path} answered ${res.status}`);
  return res.json();
}

// A GET with the path sent verbatim (fetch() would normalise "%2e%2e" away).
function rawGet(path) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(BASE);
    const req = http.get({ hostname, port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${path} timed out`)));
  });
}

function decodeQr(bytes) {
  const png = PNG.sync.read(Buffer.from(bytes));
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length),
    png.width, png.height);
  assert.ok(code, 'the image holds no readable QR code');
  return code.data;
}

// The pixels of an <img> on the page, as PNG bytes (drawn on a canvas: what the user sees).
const imagePng = (page, selector) => page.$eval(selector, (img) => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  canvas.getContext('2d').drawImage(img, 0, 0);
  const bin = atob(canvas.toDataURL('image/png').split(',')[1]);
  return Array.from(bin, (c) => c.charCodeAt(0));
});

// Text of a tile's number, or null while the tile is not rendered.
const tileValue = (page, id) => page.evaluate((tid) => {
  const v = document.querySelector(`[data-tile="${tid}"] .value`);
  return v ? v.textContent : null;
}, id);

async function main() {
  await step('the dashboard is served with the right types, caching and 404s', async () => {
    const root = await fetch(`${BASE}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    const index = await fetch(`${BASE}/ui/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const etag = index.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${BASE}/ui/`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    for (const [file, type] of [['style.css', /^text\/css/], ['app.js', /^text\/javascript/],
      ['api.js', /^text\/javascript/], ['favicon.svg', /^image\/svg\+xml/]]) {
      const r = await fetch(`${BASE}/ui/${file}`);
      assert.equal(r.status, 200, file);
      assert.match(r.headers.get('content-type'), type, file);
    }
    for (const bad of ['/ui/nope.js', '/ui/..%2FCMakeLists.txt', '/ui/%2e%2e', '/ui/..',
      '/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/ui/a/b', '/ui/index.html%00.css']) {
      const r = await rawGet(bad);
      assert.equal(r.status, 404, `${bad}: ${r.status} ${r.body}`);
      assert.equal(JSON.parse(r.body).error.code, 'not_found', bad);
    }
    const ui = await fetch(`${BASE}/ui`, { redirect: 'manual' });
    assert.equal(ui.status, 302);
  });

  let summary;
  await step('the fleet is probed (3 instances need a scan)', async () => {
    summary = await waitFor('needsScan = 3', async () => {
      const s = await api('/summary');
      return s.needsScan === 3 && s.instances === 7 ? s : null;
    }, 60000);
  });

  const userDataDir = mkdtempSync(join(process.env.GF_TMP || tmpdir(), 'chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${userDataDir}`],
    protocolTimeout: 60000,
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await step('the page asks for a key, then the needs-scan tile matches /summary', async () => {
      await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
      assert.equal(new URL(page.url()).pathname, '/ui/');
      await page.waitForSelector('#key-input', { visible: true });
      await page.type('#key-input', READ_KEY);
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-tile="needs-scan"]', { visible: true });
      await waitFor('tile = /summary needsScan', async () => {
        const s = await api('/summary');
        return (await tileValue(page, 'needs-scan')) === String(s.needsScan) && s.needsScan === 3;
      });
      assert.equal(await page.evaluate(() => sessionStorage.getItem('greenfleet.apiKey')), READ_KEY);
      assert.ok(!page.url().includes(READ_KEY), 'the key must not stay in the URL');
      await waitFor('live stream', () => page.$eval('#live', (e) => e.dataset.state === 'live'));
      await page.evaluate(() => { window.__sameDocument = true; });
    });

    let shownId;
    await step('scan mode shows the longest-waiting QR, which decodes to the emulator payload', async () => {
      await page.click('a[data-nav="scan"]');
      await page.waitForSelector('#qr-img:not([hidden])', { timeout: 30000 });
      shownId = Number(await page.$eval('#qr-img', (img) => img.dataset.instanceId));
      const queue = await api('/needs-scan');
      assert.equal(shownId, queue.items[0].id, 'scan mode starts with the longest-waiting instance');
      // The pixels on screen, exactly as shown (the page's CSP keeps fetch() off blob: URLs).
      const payload = decodeQr(await imagePng(page, '#qr-img'));
      const expected = (await emulator(`/instances/${shownId}`)).qr.payload;
      assert.equal(payload, expected);
      assert.match(await page.$eval('#qr-countdown', (e) => e.textContent), /QR refreshes in \d+ s/);
    });

    await step('scanning it in the emulator moves scan mode on and drops it from the queue, no reload', async () => {
      await emulator(`/instances/${shownId}/scan`, 'POST');
      await waitFor('scan mode leaves the scanned instance', () => page.evaluate((id) => {
        const stage = document.querySelector('.scan-stage');
        const inQueue = document.querySelector(`#queue li[data-id="${id}"]`);
        const img = document.getElementById('qr-img');
        return stage.dataset.currentId !== String(id) && !inQueue && !img.hidden &&
          img.dataset.instanceId !== String(id);
      }, shownId), 45000);
      await page.click('a[data-nav="overview"]');
      await waitFor('needs-scan tile = 2', async () => (await tileValue(page, 'needs-scan')) === '2');
      assert.equal((await api('/summary')).needsScan, 2);
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
    });

    await step('the instance table filters and pages', async () => {
      await page.click('a[data-nav="instances"]');
      await waitFor('7 rows', async () => (await page.$$('#instances-table tbody tr[data-id]')).length === 7);
      await page.select('select[name="state"]', 'notAuthorized');
      await waitFor('2 rows', async () => (await page.$$('#instances-table tbody tr[data-id]')).length === 2);
      await page.select('select[name="state"]', '');
      await page.type('input[name="q"]', 'no-such-name');
      await waitFor('no rows', async () => (await page.$$('#instances-table tbody tr[data-id]')).length === 0);
    });

    await step('the instance page shows history, and a read key is offered no actions', async () => {
      await page.goto(`${BASE}/ui/#/instances/${shownId}`, { waitUntil: 'domcontentloaded' });
      await waitFor('history', async () => (await page.$$('#instance-history li[data-seq]')).length > 0);
      const history = await page.$eval('#instance-history', (e) => e.textContent);
      assert.match(history, /notAuthorized → authorized/);
      assert.equal(await page.$('button[data-action="poll"]'), null);
      assert.match(await page.$eval('#read-only-note', (e) => e.textContent), /admin key/);
    });

    await step('the events feed lists events and receives new ones live', async () => {
      await page.click('a[data-nav="events"]');
      await waitFor('events', async () => (await page.$$('#events-feed li[data-seq]')).length > 0);
      const before = await page.$$eval('#events-feed li[data-seq]', (l) => Math.max(...l.map((x) => Number(x.dataset.seq))));
      const [next] = (await api('/needs-scan')).items;
      await emulator(`/instances/${next.id}/scan`, 'POST');
      await waitFor('a newer event', async () => (await page.$$eval('#events-feed li[data-seq]',
        (l) => Math.max(...l.map((x) => Number(x.dataset.seq))))) > before, 45000);
    });

    await step('no script errors on the page', async () => {
      assert.deepEqual(pageErrors, []);
    });

    await scanLinkSteps(browser);

    if (SHOTS) await step(`screenshots into ${SHOTS}`, () => screenshots(browser, SHOTS));
  } finally {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}


// Issue 16: an admin makes a scan link on the dashboard; someone with no key opens it in a fresh
// browser, scans the QR it shows, and the page says Connected by itself; the link is then dead.
async function scanLinkSteps(browser) {
  // greenfleet learns of a scan a probe (and a confirmation) later: take an instance that the
  // emulator, the truth here, and greenfleet's record both still show notAuthorized, not one the
  // earlier steps just scanned.
  let target;
  await waitFor('an instance that still needs a scan', async () => {
    for (const item of (await api('/needs-scan')).items) {
      if ((await emulator(`/instances/${item.id}`)).state === 'notAuthorized' &&
          (await api(`/instances/${item.id}`)).state === 'notAuthorized') {
        target = item;
        return true;
      }
    }
    return false;
  });
  let url;
  await step('an admin creates a scan link on the instance page and gets it as text and QR', async () => {
    const admin = await browser.createBrowserContext();
    const page = await admin.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${BASE}/ui/#key=${encodeURIComponent(ADMIN_KEY)}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-tile="needs-scan"]', { visible: true });
    await page.evaluate((id) => { location.hash = `#/instances/${id}`; }, target.id);
    await page.waitForSelector('#create-scan-link', { visible: true });
    await page.click('#create-scan-link');
    await page.waitForSelector('#scan-link-url', { visible: true });
    url = await page.$eval('#scan-link-url', (e) => e.value);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/s\/[A-Za-z0-9_-]{43}$/);
    await waitFor('the link QR', () => page.$eval('#scan-link-qr', (img) => img.complete && img.naturalWidth > 0));
    assert.equal(decodeQr(await imagePng(page, '#scan-link-qr')), url);
    await admin.close();
  });

  const holder = await browser.createBrowserContext();
  const page = await holder.newPage();
  const requested = [];
  const errors = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (err) => errors.push(err.message));
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  await step('with no key, the link shows the name and a QR that decodes to the emulator payload', async () => {
    const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
    assert.equal(await page.$eval('#name', (e) => e.textContent), target.name);
    await page.waitForSelector('#qr:not([hidden])', { timeout: 30000 });
    const expected = (await emulator(`/instances/${target.id}`)).qr.payload;
    assert.equal(decodeQr(await imagePng(page, '#qr')), expected);
    assert.match(await page.$eval('#expiry', (e) => e.textContent), /valid for \d+:\d\d/);
    const html = await res.text();
    assert.ok(!html.includes(new URL(url).pathname.slice(3)), 'the page source holds the token');
    await page.evaluate(() => { window.__sameDocument = true; });
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'scan-link-phone.png'), fullPage: true });
    }
  });

  await step('"link with phone number instead" gets the pairing code Green API issued', async () => {
    await page.click('#toggle');
    await page.type('#phone', '+44 1234 567890');
    await page.click('#pair-submit');
    await page.waitForSelector('#pair-code-box:not([hidden])', { timeout: 30000 });
    const shown = (await page.$eval('#pair-code', (e) => e.textContent)).replace('-', '');
    const pending = (await emulator(`/instances/${target.id}`)).pairingCode;
    assert.equal(pending.phoneNumber, 441234567890);
    assert.equal(shown, pending.code);
    assert.match(await page.$eval('#pair-code-left', (e) => e.textContent), /valid for \d+:\d\d/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'scan-link-phone-number.png'), fullPage: true });
    await page.click('#toggle');
  });

  await step('after the scan the page says Connected without a reload, and the link answers 410', async () => {
    await emulator(`/instances/${target.id}/scan`, 'POST');
    await page.waitForSelector('#done:not([hidden])', { timeout: 45000 });
    assert.match(await page.$eval('#done', (e) => e.textContent), /Connected/);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'scan-link-phone-connected.png'), fullPage: true });
    const again = await fetch(url);
    assert.equal(again.status, 410);
    const origin = new URL(url).origin;
    const foreign = requested.filter((u) => new URL(u).origin !== origin);
    assert.deepEqual(foreign, [], 'requests to another origin');
    assert.ok(requested.some((u) => u.includes('/qr.png')));
    assert.deepEqual(errors, []);
  });
  await holder.close();
}

async function screenshots(browser, dir) {
  mkdirSync(dir, { recursive: true });
  // Log one instance out again so the queue and scan mode have something to show.
  const authorized = (await api('/instances?state=authorized')).items;
  for (const it of authorized.slice(0, 2)) {
    await fetch(`${BASE}/api/v1/instances/${it.id}/actions/logout`, {
      method: 'POST', headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  }
  await waitFor('two need a scan', async () => (await api('/summary')).needsScan >= 2, 60000);
  const first = (await api('/needs-scan')).items[0].id;
  const views = [
    ['overview', '#/', '[data-tile="needs-scan"]'],
    ['scan', '#/scan', '#qr-img:not([hidden])'],
    ['instances', '#/instances', '#instances-table tbody tr[data-id]'],
    ['instance', `#/instances/${first}`, '#instance-history li[data-seq]'],
    ['events', '#/events', '#events-feed li[data-seq]'],
  ];
  const sizes = [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 }],
  ];
  for (const [scheme, suffix] of [['light', ''], ['dark', '-dark']]) {
    for (const [size, viewport] of sizes) {
      if (scheme === 'dark' && size === 'phone') continue;
      const page = await browser.newPage();
      await page.setViewport(viewport);
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
      await page.goto(`${BASE}/ui/#key=${encodeURIComponent(READ_KEY)}`, { waitUntil: 'domcontentloaded' });
      for (const [name, hash, ready] of views) {
        if (scheme === 'dark' && name !== 'overview' && name !== 'scan') continue;
        await page.evaluate((h) => { location.hash = h; }, hash);
        await page.waitForSelector(ready, { visible: true, timeout: 30000 });
        await sleep(800);
        const file = join(dir, `${name}-${size}${suffix}.png`);
        await page.screenshot({ path: file, fullPage: size === 'phone' });
        console.log(`  wrote ${file}`);
      }
      await page.close();
    }
  }
}

try {
  await main();
} catch {
  // reported by step()
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
