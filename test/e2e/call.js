// Drives the videod call page with the Debian chromium through
// playwright-core. Usage: node call.js BASE_URL ROOM OUTDIR
// Users alice, bob, carol exist with password pw-USER-secret. With CHATD
// and STATE set, bob's password is then reset (chatd passwd): his page
// must leave the call and show the login form, with no rejoin. Prints
// "ok: ..." lines; exits 1 with "FAIL: ..." on the first failed check.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const { execFileSync } = require('child_process');
const path = require('path');

const [base, room, outdir] = process.argv.slice(2);
const FRAMES = 50;

function ok(msg) { console.log('ok: ' + msg); }
function fail(msg) { console.log('FAIL: ' + msg); process.exit(1); }

async function until(what, secs, fn) {
  const end = Date.now() + secs * 1000;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(what + ' (after ' + secs + ' s; last: ' + JSON.stringify(last) + ')');
}

async function login(ctx, user, password) {
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(user + ' console: ' + m.text()); });
  await page.goto(base + '/?q=low&room=' + encodeURIComponent(room));
  await page.waitForSelector('#login:not(.hidden)', { timeout: 15000 });
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login button[type=submit]');
  return page;
}

// Inbound video frames and audio packets from the others.
async function media(page) {
  return page.evaluate(async () => {
    const s = await window.nexus.inbound();
    const v = s.filter((x) => x.kind === 'video' && !x.out);
    const a = s.filter((x) => x.kind === 'audio' && !x.out);
    const o = s.filter((x) => x.out);
    return {
      frames: v.map((x) => x.framesDecoded), vpackets: v.map((x) => x.packetsReceived), audio: a.map((x) => x.packetsReceived),
      people: (window.nexus.state() || { participants: [] }).participants.length,
      tiles: document.querySelectorAll('#grid .tile').length, raw: v, out: o,
    };
  });
}

async function mediaFrom(page, want) {
  return until('media from ' + want + ' other(s)', Number(process.env.MEDIA_SECS || 60), async () => {
    const m = await media(page);
    const v = m.frames.filter((f) => f >= FRAMES).length;
    const a = m.audio.filter((p) => p > 20).length;
    m.ok = v >= want && a >= want;
    return m;
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required'],
  });
  const opts = { ignoreHTTPSErrors: true, viewport: { width: 960, height: 600 } };
  try {
    // A wrong password is refused, with a sentence.
    const bad = await (await browser.newContext(opts)).newPage();
    await bad.goto(base + '/');
    await bad.waitForSelector('#login:not(.hidden)', { timeout: 15000 });
    await bad.fill('#login-user', 'alice');
    await bad.fill('#login-password', 'wrong-password');
    await bad.click('#login button[type=submit]');
    await bad.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0, null, { timeout: 15000 });
    const msg = await bad.textContent('#login-error');
    if (!/wrong user name or password/.test(msg)) fail('wrong login message: ' + msg);
    if (!(await bad.isVisible('#login'))) fail('wrong login left the login form');
    const me = await bad.evaluate(async () => (await fetch('/api/me')).status);
    if (me !== 401) fail('after a wrong login /api/me answers ' + me);
    ok('a wrong password is refused: "' + msg + '"');
    await bad.context().close();

    const a = await login(await browser.newContext(opts), 'alice', 'pw-alice-secret');
    const b = await login(await browser.newContext(opts), 'bob', 'pw-bob-secret');
    let t0 = Date.now();
    const ma = await mediaFrom(a, 1);
    const mb = await mediaFrom(b, 1);
    ok('alice decodes ' + ma.frames + ' frames and got ' + ma.audio + ' audio packets from bob; ' +
      'bob decodes ' + mb.frames + ' frames, ' + mb.audio + ' audio packets (' + (Date.now() - t0) + ' ms)');

    t0 = Date.now();
    const c = await login(await browser.newContext(opts), 'carol', 'pw-carol-secret');
    for (const [name, p] of [['alice', a], ['bob', b]]) {
      await until(name + ' sees carol', 10, async () => {
        const m = await media(p);
        m.ok = m.people === 3 && m.tiles === 3;
        return m;
      });
    }
    ok('alice and bob see carol arrive within ' + (Date.now() - t0) + ' ms');
    for (const [name, p] of [['alice', a], ['bob', b], ['carol', c]]) {
      const m = await mediaFrom(p, 2);
      ok(name + ' decodes video ' + m.frames + ' and audio ' + m.audio + ' from the two others');
    }
    const shot = path.join(outdir, 'three.png');
    await a.screenshot({ path: shot });
    const tiles = await a.evaluate(() => [...document.querySelectorAll('#grid .tile')].map((t) => {
      const v = t.querySelector('video');
      return { user: t.dataset.user, w: v.videoWidth, h: v.videoHeight, shown: !v.classList.contains('hidden') };
    }));
    if (tiles.length !== 3 || tiles.some((t) => !t.shown || t.w === 0)) fail('tiles: ' + JSON.stringify(tiles));
    ok('screenshot ' + shot + ' shows 3 video tiles: ' + JSON.stringify(tiles));

    t0 = Date.now();
    await c.click('#btn-leave');
    for (const [name, p] of [['alice', a], ['bob', b]]) {
      await until(name + ' sees carol leave', 10, async () => {
        const m = await media(p);
        const users = await p.evaluate(() => [...document.querySelectorAll('#grid .tile')].map((t) => t.dataset.user));
        m.ok = m.people === 2 && m.tiles === 2 && !users.includes('carol');
        return m;
      });
    }
    ok('carol left and her tile is gone for alice and bob within ' + (Date.now() - t0) + ' ms');

    if (process.env.CHATD && process.env.STATE) {
      let joins = 0;
      b.on('request', (r) => { if (r.url().includes('/api/join')) joins++; });
      t0 = Date.now();
      execFileSync(process.env.CHATD, ['-s', process.env.STATE, 'passwd', 'bob'], { input: 'pw-bob-new-secret\n' });
      await until('bob\'s page shows the login form with the revocation', 30, async () => {
        const m = await b.evaluate(() => ({
          login: !document.querySelector('#login').classList.contains('hidden'),
          msg: document.querySelector('#login-error').textContent,
          banner: document.querySelector('#banner').textContent,
        }));
        m.ok = m.login && /revoked/.test(m.msg);
        return m;
      });
      ok('bob\'s password reset: his page shows "' + (await b.textContent('#login-error')) + '" after ' + (Date.now() - t0) + ' ms');
      await until('alice sees bob leave', 15, async () => {
        const m = await media(a);
        m.ok = m.people === 1 && m.tiles === 1;
        return m;
      });
      ok('alice sees bob leave the call ' + (Date.now() - t0) + ' ms after the reset');
      await new Promise((r) => setTimeout(r, 3000));
      if (joins !== 0) fail('bob\'s page tried to rejoin ' + joins + ' time(s) after the revocation');
      if (!(await b.isVisible('#login'))) fail('bob\'s page left the login form');
      ok('bob\'s page stays on the login form (no rejoin in 3 s)');
    }
    fs.writeFileSync(path.join(outdir, 'done'), 'ok\n');
  } finally {
    await browser.close();
  }
}

main().catch((e) => fail(e.stack || String(e)));
