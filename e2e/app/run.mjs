// End-to-end tests of the desktop app: the real binary (built with custom-protocol), driven
// through tauri-driver + WebKitWebDriver, with the embedded server and simulated devices.
//
//   APP_BIN=/path/capture-station-app node run.mjs      (DISPLAY must point at an X server)
//
// Each scenario starts its own tauri-driver with the environment the app should see, opens a
// session (which launches the app), and closes both afterwards. Screenshots go to
// SHOTS_DIR (default docs/screenshots); measurements to METRICS_FILE when set.
import { remote } from "webdriverio";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, createWriteStream, readFileSync, readdirSync } from "node:fs";
import { tmpdir, loadavg, cpus } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const HERE = dirname(fileURLToPath(import.meta.url));
const APP = process.env.APP_BIN;
if (!APP) {
  console.error("set APP_BIN to the capture-station-app binary");
  process.exit(2);
}
const SHOTS = resolve(process.env.SHOTS_DIR ?? join(HERE, "../../docs/screenshots"));
mkdirSync(SHOTS, { recursive: true });
const WORK = mkdtempSync(join(tmpdir(), "app-e2e-"));
const ADMIN_PASSWORD = "e2e-admin-password";
const CPF = "52998224725";
const metrics = { cold_start: [], preview_fps: [] };
const only = process.argv[2];

const loadAverage = () => loadavg().map((l) => Number(l.toFixed(2)));

// CPU accounting over the face step (Linux /proc), to tell an app that is too slow from a machine
// that other processes kept busy: the whole machine's busy and idle time, and the time of the
// processes that make the preview (the app, WebKit's processes, Xvfb).
const CLOCK = 100; // USER_HZ
function cpuSnapshot() {
  const [, ...f] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  const idle = f[3] + f[4];
  const busy = f.slice(0, 8).reduce((a, c) => a + c, 0) - idle;
  let ours = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!/^(capture-station|WebKit|Xvfb)/.test(name)) continue;
      const g = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ours += Number(g[11]) + Number(g[12]);
    } catch {}
  }
  return { t: Date.now(), idle, busy, ours };
}
function cpuShare(a, b) {
  const s = (b.t - a.t) / 1000;
  const cores = (j) => Number((j / CLOCK / s).toFixed(2));
  return { idle_cores: cores(b.idle - a.idle), ours_cores: cores(b.ours - a.ours), others_cores: cores(b.busy - a.busy - (b.ours - a.ours)) };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let driverPort = 4444 + Math.floor(Math.random() * 200) * 2;

async function launch(name, env, args = []) {
  const port = (driverPort += 2);
  const log = createWriteStream(join(WORK, `${name}.log`));
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(port + 1)], {
    env: { ...process.env, NO_AT_BRIDGE: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  for (const s of [driver.stdout, driver.stderr]) {
    s.on("data", (d) => {
      output += d;
      log.write(d);
    });
  }
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      break;
    } catch {
      if (i > 100) throw new Error("tauri-driver did not start");
      await sleep(100);
    }
  }
  const t0 = Date.now();
  const browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "error",
    connectionRetryTimeout: 180_000,
    capabilities: { "tauri:options": { application: APP, args }, "wdio:enforceWebDriverClassic": true },
  });
  const ctx = {
    browser,
    t0,
    output: () => output,
    async close() {
      try {
        await browser.deleteSession();
      } catch {}
      try {
        process.kill(-driver.pid, "SIGTERM");
      } catch {}
      await sleep(300);
      log.end();
    },
  };
  return ctx;
}

const $t = (b, id) => b.$(`[data-testid="${id}"]`);
async function shown(b, id, timeout = 20_000) {
  const el = await $t(b, id);
  await el.waitForDisplayed({ timeout, timeoutMsg: `${id} not shown within ${timeout} ms` });
  return el;
}
async function click(b, id) {
  await (await shown(b, id)).click();
}
async function type(b, id, text) {
  const el = await shown(b, id);
  await el.clearValue();
  if (text) await el.setValue(text);
}
async function shot(b, name) {
  await b.pause(150);
  await b.saveScreenshot(join(SHOTS, `app-${name}.png`));
}

function appEnv(dir, port, extra = {}) {
  return {
    STATION_DATA_DIR: dir,
    STATION_CONFIG: join(dir, "station.toml"),
    STATION_SECRETS: "file",
    STATION_SERVER_URL: `http://127.0.0.1:${port}`,
    CAPTURE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...extra,
  };
}

async function coldStart(ctx) {
  const b = ctx.browser;
  const first = await shown(b, "footer", 60_000);
  const wall = Date.now() - ctx.t0;
  await (await $t(b, "ready-ms")).waitForDisplayed({ timeout: 10_000 });
  const readyMs = Number(await (await $t(b, "ready-ms")).getText());
  metrics.cold_start.push({ ready_ms: readyMs, session_to_interactive_ms: wall });
  assert.ok(first);
  return readyMs;
}

async function signIn(b, password = ADMIN_PASSWORD, user = "admin") {
  await type(b, "sign-in-user", user);
  await type(b, "sign-in-password", password);
  await click(b, "sign-in-submit");
}

/** Captures every open finger (marking `missing` first) and the face, and opens the review. */
async function captureAll(b, missing) {
  if (missing) {
    await click(b, `finger-${missing.position}`);
    await (await shown(b, "missing-kind")).selectByAttribute("value", missing.kind);
    await type(b, "missing-reason", missing.reason);
    await click(b, "mark-missing");
    await b.waitUntil(async () => (await (await $t(b, `finger-${missing.position}`)).getAttribute("data-state")) === "missing", {
      timeout: 10_000,
      timeoutMsg: "finger not marked missing",
    });
  }
  await click(b, "capture-remaining");
  await b.waitUntil(
    async () => {
      for (let p = 0; p < 10; p++) {
        const s = await (await $t(b, `finger-${p}`)).getAttribute("data-state");
        if (s === "open") return false;
      }
      return true;
    },
    { timeout: 180_000, interval: 500, timeoutMsg: "fingers not all captured" },
  );
}

async function faceCapture(b, screenshot) {
  await click(b, "fingers-next");
  const cpu0 = cpuSnapshot();
  await shown(b, "face-live", 60_000);
  if (screenshot) {
    // The preview with its rolling fps figure once it has run for a moment (the subject is still
    // walking up: the challenge starts once the face is in position).
    await b.pause(1500);
    await shot(b, "face-live");
  }
  // The liveness challenge is asked in plain words once the face is in position.
  const challenge = await shown(b, "face-challenge", 60_000);
  const asked = await challenge.getAttribute("data-challenge");
  const prompt = await (await $t(b, "face-prompt")).getText();
  assert.match(prompt, /^(Blink now|Turn your head slowly to your (left|right), then back|Look straight at the camera|Look at the camera)$/, prompt);
  if (screenshot) {
    await b.waitUntil(async () => /Blink now|Turn your head/.test(await (await $t(b, "face-prompt")).getText()), {
      timeout: 10_000,
      timeoutMsg: "no challenge prompt shown",
    });
    await shot(b, "face-challenge");
  }
  const done = await shown(b, "face-done", 240_000);
  const cpu = cpuShare(cpu0, cpuSnapshot());
  assert.equal(await done.getAttribute("data-outcome"), "captured", await done.getText());
  const text = await done.getText();
  const figure = async (name) => Number(await done.getAttribute(name));
  const fps = {
    // Painted by the window from its first painted frame to the capture, and the worst 2 s window.
    steady_fps: await figure("data-steady-fps"),
    min_2s_fps: await figure("data-min-fps"),
    painted: await figure("data-painted"),
    camera_fps: await figure("data-camera-fps"),
    analysed_fps: await figure("data-analysed-fps"),
    // Over the whole step (model loading, camera start and the challenge included), for transparency.
    whole_step_fps: await figure("data-fps"),
    load_average: loadAverage(),
    cores: cpus().length,
    ...cpu,
  };
  // The live preview target: at least 15 frames/s actually painted, sustained from the first
  // painted frame to the capture. A shortfall fails the test whenever the preview had the CPU it
  // asked for: when the machine had idle time left, or when no other process took a share of it.
  // It is left unchecked (and says so) only when the CPU was saturated and other processes (other
  // builds and benchmarks on a shared machine) took at least a quarter of a core meanwhile: then
  // the figure measures the contention, not the app.
  const saturated = cpu.idle_cores < 0.1 * fps.cores;
  if (fps.steady_fps < 15 && saturated && cpu.others_cores >= 0.25) {
    fps.fps_check = `not checked: CPU saturated, other processes used ${cpu.others_cores} of ${fps.cores} cores`;
    console.log(`NOTE preview fps ${fps.steady_fps} ${fps.fps_check}`);
  } else {
    fps.fps_check = fps.steady_fps >= 15 ? "passed" : "failed";
  }
  metrics.preview_fps.push(fps);
  assert.notEqual(fps.fps_check, "failed", `preview painted ${fps.steady_fps} fps from the first frame to the capture (< 15): ${JSON.stringify(fps)}`);
  await shown(b, "face-captured");
  // The simulated subject does what each prompt asks: it turns its head left or right (a 3-D turn
  // the face mesh confirms) and blinks (its eyelids close on the picture, which the iris model's
  // eyelid contour sees at about 0.3 of open: station/tests/simulated_liveness.rs). Every step
  // passes, in whatever order the session asked them: LIVE.
  const liveness = await shown(b, "face-liveness");
  assert.equal(await liveness.getAttribute("data-decision"), "LIVE", await liveness.getText());
  return { text, asked };
}

/** The review screen's challenge list: each step's text and whether it passed. */
async function reviewChallenges(b) {
  return b.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="review-challenge"]')).map((li) => ({
      text: li.textContent.trim(),
      passed: li.getAttribute("data-passed") === "yes",
    })),
  );
}

async function adminToken(port) {
  const t = await fetch(`http://127.0.0.1:${port}/gbds/v2/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ data: { grantType: "CREDENTIALS", userName: "admin", userPassword: ADMIN_PASSWORD } }),
  });
  assert.ok(t.ok, `login answered ${t.status}`);
  return (await t.json()).data.token;
}

async function tokenAndPerson(port, cpf) {
  const token = await adminToken(port);
  const p = await fetch(`http://127.0.0.1:${port}/gbs-spid-server/people/${cpf}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: p.status, body: await p.json() };
}


async function queueRows(b, cpf) {
  return b.execute(
    (user) =>
      Array.from(document.querySelectorAll(`[data-testid="queue-row"][data-user="${user}"]`)).map((r) => ({
        state: r.getAttribute("data-state"),
        reason: r.querySelector('[data-testid="queue-reason"]')?.textContent ?? "",
      })),
    cpf,
  );
}

// ------------------------------------------------------------------------------------------
const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });
const OP_DIR = join(WORK, "operator");
const OP_PORT = 20000 + Math.floor(Math.random() * 20000);

scenario("operator enrollment reaches the embedded server and shows synced", async () => {
  const ctx = await launch("operator", appEnv(OP_DIR, OP_PORT));
  const b = ctx.browser;
  try {
    await shown(b, "sign-in", 60_000);
    await coldStart(ctx);
    assert.match(await (await $t(b, "server-status")).getText(), /embedded server/);
    assert.doesNotMatch(await (await $t(b, "server-status")).getText(), /stopped/);
    await shot(b, "signin");
    // Wrong password: the server's refusal is shown, nothing is stored.
    await signIn(b, "not-the-password");
    assert.match(await (await shown(b, "sign-in-error")).getText(), /refused|invalid|password|credentials/i);
    await signIn(b);
    assert.equal(await (await shown(b, "operator")).getText(), "Admin admin");

    // Biographic validation.
    await type(b, "person-cpf", "123.456.789-00");
    await type(b, "person-name", "R2");
    await click(b, "person-next");
    assert.match(await (await shown(b, "person-cpf-error")).getText(), /not valid/);
    assert.match(await (await shown(b, "person-name-error")).getText(), /cannot contain|two letters/);
    await shot(b, "person-validation");
    await type(b, "person-cpf", "529.982.247-25");
    await type(b, "person-name", "Maria da Silva");
    await click(b, "person-next");
    await shown(b, "fingers");

    await captureAll(b, { position: 0, kind: "AMPUTATED", reason: "declared by subject" });
    // Re-capture the right index: a new impression replaces the image.
    await click(b, "finger-6");
    const before = await (await shown(b, "finger-image")).getAttribute("src");
    await click(b, "capture");
    await b.waitUntil(async () => (await (await $t(b, "finger-image")).getAttribute("src")) !== before, {
      timeout: 30_000,
      timeoutMsg: "re-capture did not replace the image",
    });
    await shot(b, "fingers");

    await faceCapture(b, true);
    await shot(b, "face-captured");
    await click(b, "face-next");
    assert.equal(await (await shown(b, "review-fingers")).getText(), "9 captured, 1 missing");
    assert.match(await (await shown(b, "review-missing")).getText(), /AMPUTATED — declared by subject/);
    // The challenge's result on the review screen: the subject blinked and turned as asked, every
    // step passed, and no reasons are given.
    assert.equal(await (await shown(b, "review-liveness")).getAttribute("data-decision"), "LIVE");
    assert.equal(await (await shown(b, "review-liveness-summary")).getText(), "live person confirmed");
    assert.equal((await b.$$('[data-testid="review-liveness-reasons"]')).length, 0);
    const steps = await reviewChallenges(b);
    assert.equal(steps.length, 3, JSON.stringify(steps));
    assert.ok(steps.every((c) => c.passed && c.text.startsWith("✓")), JSON.stringify(steps));
    assert.equal(steps.filter((c) => /Blink now/.test(c.text)).length, 1, JSON.stringify(steps));
    assert.equal(steps.filter((c) => /Turn your head/.test(c.text)).length, 2, JSON.stringify(steps));
    await shot(b, "review");
    await click(b, "submit");

    await shown(b, "queue");
    await b.waitUntil(async () => (await queueRows(b, CPF)).some((r) => r.state === "synced"), {
      timeout: 90_000,
      interval: 500,
      timeoutMsg: "enrollment did not reach synced",
    });
    await shot(b, "queue-synced");

    // The person as the embedded server returns it: 9 fingers + face, and the declared missing finger.
    const person = await tokenAndPerson(OP_PORT, CPF);
    assert.equal(person.status, 200, JSON.stringify(person.body).slice(0, 300));
    const indexes = person.body.biometrics.map((x) => x.index).sort((a, c) => a - c);
    assert.deepEqual(indexes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(person.body.biographics.find((x) => x.id === "NAME").value, "Maria da Silva");

    await click(b, "nav-settings");
    await shown(b, "settings");
    await shot(b, "settings");
  } finally {
    await ctx.close();
  }
});

scenario("second enrollment of the same CPF is rejected with the server's reason", async () => {
  // Same data directory: the embedded server still holds the person enrolled above.
  const ctx = await launch("duplicate", appEnv(OP_DIR, OP_PORT));
  const b = ctx.browser;
  try {
    await shown(b, "sign-in", 60_000);
    await coldStart(ctx);
    await signIn(b);
    await type(b, "person-cpf", CPF);
    await type(b, "person-name", "Maria da Silva");
    await click(b, "person-next");
    await shown(b, "fingers");
    await captureAll(b, null);
    await faceCapture(b, false);
    await click(b, "face-next");
    assert.equal(await (await shown(b, "review-fingers")).getText(), "10 captured, 0 missing");
    await click(b, "submit");
    await shown(b, "queue");
    await b.waitUntil(async () => (await queueRows(b, CPF)).some((r) => r.state === "rejected"), {
      timeout: 90_000,
      interval: 500,
      timeoutMsg: "duplicate was not rejected",
    });
    const rows = await queueRows(b, CPF);
    assert.equal(rows.length, 2, "the first (synced) enrollment is still listed");
    const rejected = rows.find((r) => r.state === "rejected");
    assert.match(rejected.reason, /already enrolled/);
    assert.ok(rows.some((r) => r.state === "synced"));
    await shot(b, "queue-rejected");
  } finally {
    await ctx.close();
  }
});

scenario("verify (1:1): the enrolled person matches, an impostor does not, an unknown CPF is explained", async () => {
  // Same data directory: the embedded server holds the person enrolled by the first scenario.
  const ctx = await launch("verify", appEnv(OP_DIR, OP_PORT));
  const b = ctx.browser;
  const verifyWith = async (cpf, presenter) => {
    await type(b, "verify-cpf", cpf);
    await type(b, "verify-presenter", presenter);
    await click(b, "verify-submit");
    await b.waitUntil(async () => (await (await $t(b, "verify-submit")).isEnabled()), {
      timeout: 60_000,
      interval: 300,
      timeoutMsg: "verify did not answer",
    });
  };
  try {
    await shown(b, "sign-in", 60_000);
    await signIn(b);
    await click(b, "nav-verify");
    await shown(b, "verify");
    await verifyWith("529.982.247-25", "");
    const match = await shown(b, "verify-result");
    assert.equal(await match.getAttribute("data-verdict"), "MATCH", await (await $t(b, "verify-message")).getText());
    assert.match(await (await $t(b, "verify-score")).getText(), /^Score \d+(\.\d)? · threshold \d+(\.\d)?$/);
    assert.equal((await b.$$('[data-testid="verify-probe"]')).length, 2);
    await shot(b, "verify-match");
    await verifyWith("529.982.247-25", "11144477735");
    await b.waitUntil(async () => (await (await $t(b, "verify-result")).getAttribute("data-verdict")) === "NO_MATCH", {
      timeout: 10_000,
      timeoutMsg: "an impostor's fingers were not refused",
    });
    await shot(b, "verify-no-match");
    // A CPF nobody is enrolled under: no score, and the server's reason in words.
    await verifyWith("111.444.777-35", "");
    const failed = await b.$('[data-testid="verify-error"], [data-testid="verify-result"][data-verdict="FAILED"]');
    await failed.waitForDisplayed({ timeout: 10_000 });
    assert.match(await failed.getText(), /not|no person|NOT VERIFIED/i);
    await shot(b, "verify-unknown");
  } finally {
    await ctx.close();
  }
});

scenario("admin reviews a phone capture (real page in Chromium) and approves it; an operator gets 403", async () => {
  // The phone page runs in headless Chromium (playwright-core from e2e/phone) with a fake camera
  // fed from a real face photograph; the app's embedded server stores the capture.
  const phoneRequire = createRequire(join(HERE, "../phone/package.json"));
  const { chromium } = phoneRequire("playwright-core");
  const { makeY4m } = await import(join(HERE, "../phone/make-y4m.mjs"));
  const dir = join(WORK, "remote");
  mkdirSync(dir, { recursive: true });
  const y4m = join(dir, "face.y4m");
  makeY4m(join(HERE, "../../biometrics/face/tests/data/obama.jpg"), y4m, 40);
  const port = OP_PORT + 2;
  const cpf = "11144477735";
  // The fake camera plays a photo: the phone page runs the passive liveness cues only.
  const ctx = await launch("remote-admin", appEnv(dir, port, { CAPTURE_REMOTE_LIVENESS: "passive" }));
  const b = ctx.browser;
  let phone = null;
  try {
    await shown(b, "sign-in", 60_000);
    await signIn(b);
    assert.equal(await (await shown(b, "operator")).getText(), "Admin admin");
    await click(b, "nav-remote");
    await shown(b, "remote-admin");
    await shown(b, "remote-empty");
    await type(b, "remote-cpf", "111.444.777-35");
    await click(b, "remote-create");
    const link = await (await shown(b, "remote-link")).getValue();
    assert.match(link, new RegExp(`^http://127\\.0\\.0\\.1:${port}/rc/`));
    await b.waitUntil(async () => (await (await $t(b, "remote-status")).getText()) === "waiting for the phone", {
      timeout: 10_000,
      timeoutMsg: "the new link is not listed",
    });
    await shot(b, "remote-link");

    phone = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-video-capture=${y4m}`],
    });
    const page = phone.pages()[0] ?? (await phone.newPage());
    const resp = await page.goto(link);
    assert.equal(resp.status(), 200);
    await page.waitForFunction(() => document.body.dataset.state === "DONE", null, { timeout: 120_000 });
    await phone.close();
    phone = null;

    // The admin view picks the capture up (it refreshes every 3 s) with its image and quality.
    const row = `[data-testid="remote-row"][data-client="${cpf}"]`;
    await b.waitUntil(async () => (await (await b.$(row)).getAttribute("data-status")) === "AWAITING_APPROVAL", {
      timeout: 20_000,
      interval: 500,
      timeoutMsg: "the phone capture did not reach the admin view",
    });
    const r = await b.$(row);
    const img = await r.$('[data-testid="remote-image"]');
    await img.waitForDisplayed({ timeout: 10_000 });
    assert.match(await img.getAttribute("src"), /^data:image\/png;base64,/);
    assert.ok((await img.getProperty("naturalWidth")) >= 240, "the stored face image decodes in the window");
    assert.match(await (await r.$('[data-testid="remote-quality"]')).getText(), /^\d+ \/ 100$/);
    assert.match(await (await r.$('[data-testid="remote-liveness"]')).getText(), /passive · LIVE/);
    // Rejecting needs a reason: the button stays disabled without one.
    assert.equal(await (await r.$('[data-testid="remote-reject"]')).isEnabled(), false);
    await (await r.$('[data-testid="remote-reason"]')).setValue("face matches the ID document");
    await shot(b, "remote-pending");
    await (await r.$('[data-testid="remote-approve"]')).click();
    assert.match(await (await shown(b, "remote-notice")).getText(), /Approved the capture of 11144477735/);

    // The person is enrolled on the server with the face the phone captured.
    let person = null;
    for (let i = 0; i < 100; i++) {
      person = await tokenAndPerson(port, cpf);
      if (person.status === 200) break;
      await sleep(200);
    }
    assert.equal(person.status, 200, JSON.stringify(person.body).slice(0, 300));
    assert.ok(person.body.biometrics.some((x) => x.index === 10), "the enrolled person has the face");
    await click(b, "remote-show-all");
    await b.waitUntil(async () => (await (await b.$(row)).getAttribute("data-status")) === "APPROVED", {
      timeout: 10_000,
      timeoutMsg: "the decided capture is not listed as approved",
    });
    await shot(b, "remote-approved");

    // An operator account (made through the API): no admin menu, and the server's 403 if reached.
    const token = await adminToken(port);
    const created = await fetch(`http://127.0.0.1:${port}/gbs-spid-server/operator`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ data: { document: "op1", password: "operator-password", role: "OPERATOR" } }),
    });
    assert.ok(created.ok, `operator insert answered ${created.status}`);
    await click(b, "sign-out");
    await signIn(b, "operator-password", "op1");
    assert.equal(await (await shown(b, "operator")).getText(), "Operator op1");
    assert.equal(await (await $t(b, "nav-remote")).isExisting(), false, "an operator sees no remote-capture menu");
    // The server refuses the operator's token itself (the app's typed 403 message for this
    // answer is checked in station::app_remote's test against a real server).
    const opLogin = await fetch(`http://127.0.0.1:${port}/gbds/v2/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { grantType: "CREDENTIALS", userName: "op1", userPassword: "operator-password" } }),
    });
    const opToken = (await opLogin.json()).data.token;
    const refused = await fetch(`http://127.0.0.1:${port}/gbs-spid-server/remote-capture/pending`, { headers: { authorization: `Bearer ${opToken}` } });
    assert.equal(refused.status, 403);
  } finally {
    if (phone) await phone.close().catch(() => {});
    await ctx.close();
  }
});

scenario("kiosk: idle timeout wipes the session; leaving needs the admin PIN", async () => {
  const dir = join(WORK, "kiosk");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "app.toml"), "idle_timeout_s = 10\n");
  const port = OP_PORT + 1;
  const ctx = await launch("kiosk", appEnv(dir, port, { STATION_KIOSK_PIN: "2468" }), ["--kiosk"]);
  const b = ctx.browser;
  try {
    await shown(b, "kiosk", 60_000);
    assert.equal(await (await $t(b, "kiosk")).getAttribute("data-phase"), "welcome");
    // No operator chrome in kiosk mode.
    assert.equal(await (await $t(b, "nav-settings")).isExisting(), false);
    assert.equal(await (await $t(b, "sign-in")).isExisting(), false);
    await shot(b, "kiosk-welcome");
    await click(b, "kiosk-start");
    await type(b, "person-cpf", CPF);
    await type(b, "person-name", "Maria da Silva");
    await click(b, "person-next");
    await shown(b, "fingers");
    const lastTouch = Date.now();
    await click(b, "capture");
    await b.waitUntil(async () => (await (await $t(b, "finger-0")).getAttribute("data-state")) === "captured", {
      timeout: 30_000,
      timeoutMsg: "kiosk finger capture failed",
    });
    await shot(b, "kiosk-fingers");
    // Walk away: after 10 s without input the session is wiped.
    await shown(b, "kiosk-reset", 25_000);
    const wiped = Date.now() - lastTouch;
    assert.ok(wiped >= 9_500, `wiped ${wiped} ms after the last touch, before the 10 s timeout`);
    assert.equal(await (await $t(b, "kiosk")).getAttribute("data-phase"), "welcome");
    await shot(b, "kiosk-reset");
    await click(b, "kiosk-start");
    assert.equal(await (await shown(b, "person-cpf")).getValue(), "", "the CPF typed before was wiped");
    assert.equal(await (await $t(b, "step-fingers")).isEnabled(), false, "no draft survives the reset");

    await click(b, "kiosk-staff");
    await type(b, "kiosk-pin-input", "1111");
    await click(b, "kiosk-exit");
    assert.match(await (await shown(b, "kiosk-pin-error")).getText(), /wrong PIN/);
    await shot(b, "kiosk-pin");
    await type(b, "kiosk-pin-input", "2468");
    const exit = await shown(b, "kiosk-exit");
    try {
      await exit.click();
    } catch (e) {
      // The app may quit before the click command is answered: that is the expected outcome.
      if (!/invalid session id|session/i.test(String(e))) throw e;
    }
    // The app quits: the WebDriver session loses its window.
    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      await sleep(250);
      try {
        await b.getTitle();
      } catch {
        gone = true;
      }
    }
    assert.ok(gone, "the app is still running after the right PIN");
  } finally {
    await ctx.close();
  }
});

// ------------------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
for (const s of scenarios) {
  if (only && !s.name.includes(only)) continue;
  const t = Date.now();
  try {
    await s.fn();
    passed++;
    console.log(`ok   ${s.name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${s.name}: ${e?.stack ?? e}`);
  }
}
console.log(`metrics ${JSON.stringify(metrics)}`);
if (process.env.METRICS_FILE) writeFileSync(process.env.METRICS_FILE, JSON.stringify(metrics, null, 2));
console.log(`logs in ${WORK}`);
console.log(`e2e/app: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
