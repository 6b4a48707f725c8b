// End-to-end test of the remote-capture phone page: a real `capture-station serve` (SQLite, ONNX
// face pipeline), Debian Chromium through playwright-core with a fake camera that plays a Y4M made
// from a real face photo, the page opened at the dynamic link on a phone-sized viewport, the
// capture approved through the API as admin, and the enrolled person read back.
//
// Env: CAPTURE_STATION_BIN (default $CARGO_TARGET_DIR/debug/capture-station), CHROMIUM
// (default /usr/bin/chromium), ORT_DYLIB_PATH (passed to the server). Screenshots go to
// docs/screenshots/phone-*.png in the repository.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { makeY4m } from './make-y4m.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const bin = process.env.CAPTURE_STATION_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/capture-station/target'), 'debug/capture-station');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(repo, 'docs/screenshots');
const ADMIN_PASSWORD = 'e2e-admin-password';
const CLIENT = '52998224725';

let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
  return ok;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(base, method, p, token, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: resp.status, body: json };
}

async function main() {
  if (!fs.existsSync(bin)) throw new Error(`${bin} not found: cargo build -p capture-station (or set CAPTURE_STATION_BIN)`);
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} not found: apt-get install chromium (or set CHROMIUM)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phone-e2e-'));
  const y4m = path.join(tmp, 'face.y4m');
  makeY4m(path.join(repo, 'biometrics/face/tests/data/obama.jpg'), y4m, 40);
  fs.mkdirSync(shots, { recursive: true });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--db', path.join(tmp, 'server.sqlite')], {
    env: { ...process.env, CAPTURE_ADMIN_PASSWORD: ADMIN_PASSWORD, CAPTURE_REMOTE_LIVENESS: 'passive', STATION_DATA_DIR: tmp, STATION_CONFIG: path.join(tmp, 'station.toml') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let context = null;
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try { up = (await fetch(`${base}/gbs-spid-server/status`)).ok; } catch { await sleep(200); }
    }
    if (!check('server answers /status', up)) return;

    const login = await api(base, 'POST', '/gbds/v2/tokens', null, { data: { grantType: 'CREDENTIALS', userName: 'admin', userPassword: ADMIN_PASSWORD } });
    const token = login.body?.data?.token;
    if (!check('admin logs in', login.status === 201 && token, JSON.stringify(login))) return;
    const created = await api(base, 'POST', '/gbs-spid-server/remote-capture/enroll', token, { data: { clientID: CLIENT, operatorID: 'admin' } });
    const { tguid, dynamicLink } = created.body || {};
    if (!check('remote enroll created with a dynamic link', created.status === 200 && dynamicLink?.startsWith(`${base}/rc/`), JSON.stringify(created))) return;

    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`],
    });
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const resp = await page.goto(dynamicLink);
    check('phone page served (200, no auth)', resp.status() === 200);
    // Mid-capture: the pipeline's answers are on screen (prompt, meters, oval).
    await page.waitForFunction(() => Number(document.body.dataset.frames || 0) >= 2, null, { timeout: 60000 });
    const midPrompt = await page.textContent('#prompt');
    check('page shows the server prompt while capturing', midPrompt && midPrompt.length > 0 && !/Starting/.test(midPrompt), midPrompt);
    await page.screenshot({ path: path.join(shots, 'phone-capturing.png') });
    await page.waitForFunction(() => document.body.dataset.state === 'DONE', null, { timeout: 90000 });
    const done = await page.textContent('#done');
    check('page reports the capture as done', /Done — you can close this page/.test(done), done);
    await page.screenshot({ path: path.join(shots, 'phone-done.png') });
    check('no script errors on the page', errors.length === 0, errors.join('; '));

    const pending = await api(base, 'GET', '/gbs-spid-server/remote-capture/pending', token);
    const row = (pending.body || []).find((r) => r.tguid === tguid);
    check('admin listing shows it awaiting approval, liveness LIVE', row?.status === 'AWAITING_APPROVAL' && row?.livenessDecision === 'LIVE', JSON.stringify(row));
    const bio = await api(base, 'GET', `/gbs-spid-server/remote-capture/biometrics/${tguid}`, token);
    check('captured face is the ISO crop (index 10, 480x640)', bio.status === 200 && bio.body.index === 10 && bio.body.width === 480 && bio.body.height === 640);

    const fin = await api(base, 'POST', `/gbs-spid-server/remote-capture/finish/${tguid}`, token, { approval: true });
    check('admin approves', fin.status === 200, JSON.stringify(fin));
    let result = null;
    for (let i = 0; i < 100; i++) {
      result = await api(base, 'GET', `/gbs-spid-server/people/transactions/${tguid}`, token);
      if (result.status === 200 && !/ENQUEUED|PENDING/.test(result.body.status)) break;
      await sleep(100);
    }
    check('enrollment decided ENROLL_OK', result?.body?.status === 'ENROLL_OK', JSON.stringify(result));
    const person = await api(base, 'GET', `/gbs-spid-server/people/${CLIENT}`, token);
    const face = (person.body?.biometrics || []).find((b) => b.index === 10);
    check('person exists with the captured face', person.status === 200 && face && face.content === bio.body.content, String(person.status));
  } finally {
    if (context) await context.close().catch(() => {});
    server.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main()
  .catch((e) => { failed++; console.log(`FAIL ${e && e.stack ? e.stack : e}`); })
  .finally(() => {
    console.log(`e2e/phone: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  });
