// The browser half of test_e2e_suite.sh: alice and bob open the links that
// `nexus call` printed for them (no password typed), each must decode
// >= 50 frames of the other's video. Then, when the script writes
// OUTDIR/killed (videod was killed and systemd restarted it), both must be
// back in one call and decode new frames. Usage:
//   node suite_call.js LINK_ALICE LINK_BOB OUTDIR
// Writes OUTDIR/media after the first part and OUTDIR/done at the end, then
// stays in the call until OUTDIR/release appears (60 s at most);
// prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failed check.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [linkA, linkB, outdir] = process.argv.slice(2);
const FRAMES = 50;
const SECS = Number(process.env.MEDIA_SECS || 90);

function ok(msg) { console.log('ok: ' + msg); }
function fail(msg) { console.log('FAIL: ' + msg); process.exit(1); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, secs, fn) {
  const end = Date.now() + secs * 1000;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await sleep(250);
  }
  fail(what + ' (after ' + secs + ' s; last: ' + JSON.stringify(last) + ')');
}

// Frames decoded from the others' video, people in the call, the banner.
async function media(page) {
  return page.evaluate(async () => {
    const s = await window.nexus.inbound();
    const v = s.filter((x) => x.kind === 'video' && !x.out);
    const st = window.nexus.state() || { participants: [] };
    const banner = document.querySelector('#banner');
    return {
      frames: v.reduce((a, x) => a + x.framesDecoded, 0),
      people: st.participants.map((p) => p.user),
      banner: banner && !banner.classList.contains('hidden') ? banner.textContent.slice(0, 60) : '',
    };
  });
}

async function open(browser, who, link) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 800, height: 500 } });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(who + ' console: ' + m.text()); });
  await page.goto(link);
  await page.waitForSelector('#call:not(.hidden)', { timeout: 30000 });
  if (/code=/.test(page.url())) fail(who + "'s link left its code in the address: " + page.url());
  ok(who + ' joined through the link, at ' + page.url());
  return page;
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
    const a = await open(browser, 'alice', linkA);
    const b = await open(browser, 'bob', linkB);
    let t0 = Date.now();
    for (const [name, other, p] of [['alice', 'bob', a], ['bob', 'alice', b]]) {
      const m = await until(name + ' decodes ' + FRAMES + ' frames of ' + other, SECS, async () => {
        const x = await media(p);
        x.ok = x.frames >= FRAMES && x.people.includes(other);
        return x;
      });
      ok(name + ' decodes ' + m.frames + ' frames of ' + other + "'s video; in the call: " + m.people.join(' ') +
        ' (' + (Date.now() - t0) + ' ms)');
    }
    fs.writeFileSync(path.join(outdir, 'media'), 'ok\n');

    // videod is killed and restarted by systemd: wait for the word.
    // Meanwhile, note what alice's page says (the loss may be short).
    const killed = path.join(outdir, 'killed');
    const end = Date.now() + 600 * 1000;
    const seen = new Set();
    while (!fs.existsSync(killed)) {
      if (Date.now() > end) fail('nobody wrote ' + killed);
      const m = await media(a);
      if (m.banner) seen.add(m.banner);
      await sleep(200);
    }
    t0 = Date.now();
    const fa0 = (await media(a)).frames; const fb0 = (await media(b)).frames;
    ok('videod killed and restarted; alice\'s page said meanwhile: ' + JSON.stringify([...seen]));
    await until('alice and bob back in one call with new video', SECS, async () => {
      const ma = await media(a); const mb = await media(b);
      // A reconnect starts new receivers: their counts start from zero.
      const na = ma.frames < fa0 ? ma.frames : ma.frames - fa0;
      const nb = mb.frames < fb0 ? mb.frames : mb.frames - fb0;
      return { ok: ma.people.length === 2 && mb.people.length === 2 && na >= FRAMES && nb >= FRAMES &&
        !/Connection lost/.test(ma.banner + mb.banner), na, nb, ma, mb };
    });
    ok('after the restart alice and bob reconnected by themselves and decode new video (' +
      (Date.now() - t0) + ' ms after the word)');
    fs.writeFileSync(path.join(outdir, 'done'), 'ok\n');
    // Stay in the call until the script has looked (OUTDIR/release).
    const rend = Date.now() + 60 * 1000;
    while (!fs.existsSync(path.join(outdir, 'release')) && Date.now() < rend) await sleep(200);
  } finally {
    await browser.close();
  }
}

main().catch((e) => fail(e.stack || String(e)));
