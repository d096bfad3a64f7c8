// The call page's controls and failure paths, in Chromium: speaking
// highlight, mute, hand, reaction, a refused camera (clear message, still in
// the call), and automatic reconnect after videod is killed and restarted.
// Usage: node features.js BASE_URL ROOM OUTDIR VIDEOD_PID LINK
// (LINK: from `nexus call ROOM`, opened first: it must log in and join).
// The shell restarts videod once OUTDIR/killed appears.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [base, room, outdir, videodPid, link] = process.argv.slice(2);

function ok(msg) { console.log('ok: ' + msg); }
function fail(msg) { console.log('FAIL: ' + msg); process.exit(1); }

async function until(what, secs, fn) {
  const end = Date.now() + secs * 1000;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); } catch (e) { last = { error: String(e) }; }
    if (last && last.ok) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(what + ' (after ' + secs + ' s; last: ' + JSON.stringify(last) + ')');
}

async function open(browser, user, init) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 960, height: 600 } });
  if (init) await ctx.addInitScript(init);
  const page = await ctx.newPage();
  await page.goto(base + '/?q=low&room=' + encodeURIComponent(room));
  await page.waitForSelector('#login:not(.hidden)', { timeout: 15000 });
  await page.fill('#login-user', user);
  await page.fill('#login-password', 'pw-' + user + '-secret');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#call:not(.hidden)', { timeout: 15000 });
  return page;
}

// What page sees of user's tile.
function tileOf(page, user) {
  return page.evaluate((u) => {
    const t = [...document.querySelectorAll('#grid .tile')].find((x) => x.dataset.user === u && !x.dataset.screen);
    if (!t) return null;
    return {
      speaking: t.classList.contains('speaking'), badges: t.querySelector('.badges').textContent,
      reaction: !!t.querySelector('.reaction'), avatar: !t.querySelector('.avatar').classList.contains('hidden'),
    };
  }, user);
}

async function frames(page) {
  return page.evaluate(async () => (await window.nexus.inbound())
    .filter((x) => x.kind === 'video' && !x.out).reduce((a, x) => a + x.framesDecoded, 0));
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const lctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const lp = await lctx.newPage();
    await lp.goto(link);
    await lp.waitForSelector('#call:not(.hidden)', { timeout: 20000 });
    const who = await lp.evaluate(() => (window.nexus.state() || { participants: [] }).participants.map((p) => p.user));
    if (!who.includes('alice') || /code=/.test(lp.url())) fail('the link did not join alice: ' + JSON.stringify(who) + ' at ' + lp.url());
    ok('the nexus call link logged in and joined without a password (' + lp.url() + ')');
    await lp.click('#btn-leave');
    await lctx.close();

    const a = await open(browser, 'alice');
    const b = await open(browser, 'bob');
    await until('bob decodes alice', 30, async () => ({ ok: (await frames(b)) > 10 }));
    await until('bob sees alice speaking (audio level extension)', 15, async () => {
      const t = await tileOf(b, 'alice');
      return { ok: t && t.speaking, t };
    });
    ok('speaking highlight on alice\'s tile at bob');

    await a.click('#btn-mute');
    await until('bob sees alice muted, not speaking', 10, async () => {
      const t = await tileOf(b, 'alice');
      return { ok: t && t.badges.includes('🔇') && !t.speaking, t };
    });
    ok('mute: bob sees 🔇 and no speaking highlight on alice');
    await b.click('#btn-hand');
    await until('alice sees bob\'s hand', 10, async () => {
      const t = await tileOf(a, 'bob');
      return { ok: t && t.badges.includes('✋'), t };
    });
    ok('hand: alice sees ✋ on bob');
    await a.click('.react[data-r="👍"]');
    await until('bob sees alice\'s reaction', 10, async () => {
      const t = await tileOf(b, 'alice');
      return { ok: t && t.reaction, t };
    });
    ok('reaction: 👍 floats over alice\'s tile at bob');
    await a.click('#btn-camera');
    await until('bob sees alice\'s camera off', 10, async () => {
      const t = await tileOf(b, 'alice');
      return { ok: t && t.avatar, t };
    });
    await a.click('#btn-camera');
    ok('camera off: bob sees alice\'s initial instead of video');

    // A browser that refuses the camera and microphone.
    const c = await open(browser, 'carol', () => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    const msg = await c.textContent('#banner');
    if (!/refused/.test(msg)) fail('no clear message for a refused camera: ' + msg);
    await until('carol, without devices, still receives video', 30, async () => ({ ok: (await frames(c)) > 10 }));
    await until('alice sees carol (no camera)', 10, async () => {
      const t = await tileOf(a, 'carol');
      return { ok: t && t.avatar, t };
    });
    ok('refused camera: "' + msg.slice(0, 70) + '…"; carol watches, others see her initial');
    await c.context().close();

    // videod dies: the pages say so and come back by themselves.
    process.kill(Number(videodPid), 'SIGKILL');
    await until('alice shows the connection loss', 20, async () => {
      const t = await a.textContent('#banner');
      return { ok: /Connection lost/.test(t), t };
    });
    ok('alice shows: ' + (await a.textContent('#banner')).slice(0, 60));
    fs.writeFileSync(path.join(outdir, 'killed'), 'yes\n');
    const before = await frames(a);
    await until('alice and bob back in one call with video', 60, async () => {
      const fa = await frames(a); const fb = await frames(b);
      const n = await a.evaluate(() => (window.nexus.state() || { participants: [] }).participants.length);
      return { ok: n === 2 && fa > 10 && fb > 10 && !(await a.isVisible('#banner')), fa, fb, n, before };
    });
    ok('after videod restarted, alice and bob reconnected by themselves and decode video again');
    fs.writeFileSync(path.join(outdir, 'done'), 'ok\n');
  } finally {
    await browser.close();
  }
}

main().catch((e) => fail(e.stack || String(e)));
