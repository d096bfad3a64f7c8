#!/usr/bin/env python3
"""One user's searches must not stall another user's PINGs (issue 13, 2).

Usage: searchload.py PORT USER PASS PINGER PASS ROOM N

USER fills ROOM (already created and joined) with N messages, then sends
search queries while PINGER times PINGs, one after the other, for as long
as each query runs:

  over-cap  1.2 KB of `a* OR "..."` terms: must be refused with
            ERR_TOO_LARGE (2)
  words16   16 words in at most 256 bytes (the cap), 15 of them in every
            message: must return exactly the messages with the 16th
  common16  16 words found in every message: the newest 500

Every PING must be answered within 50 ms (the max is printed). Last, USER
pipelines 80 HISTORY requests: some must get ERR_RATE_LIMITED (8), none
another error. Exit 0 when all holds, 1 (after every check) when not.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawclient import Closed, Peer, frame, payload  # noqa: E402

PING_MAX_MS = 50
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar").split()
failed = []


def say(*a):
    print("searchload:", *a, flush=True)


def check(ok, what):
    say("ok:" if ok else "FAIL:", what)
    if not ok:
        failed.append(what)


def text_of(i):
    return " ".join(WORDS) + " m%d w%d a" % (i, i % 7)


def login(port, user, password):
    p = Peer(port, timeout=120)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        say("FAIL: login", user, m)
        sys.exit(1)
    return p


def fill(p, room, n):
    """Pipeline SAYs in pages of 200; returns the ids in order."""
    ids = []
    for start in range(0, n, 200):
        page = range(start, min(n, start + 200))
        p.send(b"".join(frame("SAY", payload("SAY", req=10000 + i, room=room,
                                                 text=text_of(i))) for i in page))
        acks = {}
        while len(acks) < len(page):
            m = p.recv(60)
            if m["type"] == "ACK":
                acks[m["req"] - 10000] = m["id"]
            elif m["type"] == "ERROR":
                say("FAIL: SAY refused:", m)
                sys.exit(1)
        ids += [acks[i] for i in page]
    return ids


def history(p, room, text, count, timeout):
    """HISTORY; returns (CHAT ids, final frame or None on timeout)."""
    req = p.next_req()
    p.msg("HISTORY", req=req, room=room, count=count, text=text)
    ids, end = [], time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            return ids, None
        try:
            m = p.recv(left)
        except (TimeoutError, OSError):
            return ids, None
        if m.get("req") != req:
            continue
        if m["type"] == "CHAT":
            ids.append(m["id"])
        elif m["type"] in ("OK", "ERROR"):
            return ids, m


def timed(pinger, p, room, text, count, timeout=90):
    """Run one HISTORY on p while pinger PINGs back to back."""
    got = {}

    def run():
        got["ids"], got["end"] = history(p, room, text, count, timeout)

    # a few PINGs first: the quiet figure
    quiet = max(ping(pinger) for _ in range(5))
    t = threading.Thread(target=run)
    t0 = time.time()
    t.start()
    delays = []
    while t.is_alive():
        delays.append(ping(pinger))
    t.join()
    took = time.time() - t0
    return got["ids"], got["end"], quiet, max(delays) if delays else 0.0, len(delays), took


def ping(pinger):
    t = time.monotonic()
    _, m = pinger.call("PING", ts=1)
    if m["type"] != "PONG":
        raise RuntimeError("PING answered with %s" % m)
    return (time.monotonic() - t) * 1000


def main(argv):
    if len(argv) != 8:
        sys.stderr.write(__doc__)
        sys.exit(2)
    port, user, pw, puser, ppw, room, n = argv[1:]
    n = int(n)
    p = login(port, user, pw)
    t = time.time()
    ids = fill(p, room, n)
    say("%d messages in %s in %.1f s" % (n, room, time.time() - t))
    pinger = login(port, puser, ppw)

    attack = " OR ".join(["a*"] + ['"%s %d"' % (WORDS[i % len(WORDS)], i) for i in range(200)])
    attack = attack[:attack.rfind(" OR ", 0, 1200)]
    words16 = " ".join(WORDS + ["w0"])
    common16 = " ".join(WORDS + ["a"])
    cases = [
        ("over-cap", attack, 500),
        ("words16", words16, 500),
        ("common16", common16, 500),
    ]
    for name, text, count in cases:
        got, end, quiet, worst, npings, took = timed(pinger, p, room, text, count)
        nwords = len(text.split())
        say("%s (%d bytes, %d words): %s after %.3f s, %d CHAT; %d PINGs, max delay %.1f ms"
            " (quiet %.1f ms)" % (name, len(text.encode()), nwords,
                                  "no reply" if end is None else
                                  end["type"] + ("(%d)" % end["code"] if end["type"] == "ERROR"
                                                 else ""), took, len(got), npings, worst, quiet))
        print("FIGURE %s max_ping_ms=%.1f query_s=%.3f" % (name, worst, took), flush=True)
        check(worst < PING_MAX_MS, "%s: every PING within %d ms (max %.1f)" %
              (name, PING_MAX_MS, worst))
        if name == "over-cap":
            check(end is not None and end["type"] == "ERROR" and end["code"] == 2,
                  "over-cap: refused with ERR_TOO_LARGE: %s" % (end and end.get("text")))
        elif name == "words16":
            want = [ids[i] for i in range(n) if i % 7 == 0][-count:]
            check(end is not None and end["type"] == "OK" and got == want,
                  "words16: exactly the %d messages with w0 (got %d)" % (len(want), len(got)))
        else:
            want = ids[-count:]
            check(end is not None and end["type"] == "OK" and got == want,
                  "common16: the newest %d messages (got %d)" % (len(want), len(got)))
        if end is None:
            # the old server is still busy with it: a new connection
            p = login(port, user, pw)

    # a burst of HISTORY past the rate
    burst = 80
    p.send(b"".join(frame("HISTORY", payload("HISTORY", req=20000 + i, room=room, count=1))
                    for i in range(burst)))
    # another user's read is not queued behind them (4 reads per user)
    pinger.send(frame("HISTORY", payload("HISTORY", req=30000, room=room, count=1)))
    t0 = time.monotonic()
    while True:
        m = pinger.recv(60)
        if m.get("req") == 30000 and m["type"] in ("OK", "ERROR"):
            break
    say("another user's HISTORY during the burst: %s in %.1f ms" %
        (m["type"], (time.monotonic() - t0) * 1000))
    check(m["type"] == "OK", "another user's HISTORY answered during the burst")
    oks = limited = other = 0
    while oks + limited + other < burst:
        try:
            m = p.recv(60)
        except (Closed, OSError) as e:
            say("FAIL: burst: connection lost:", e)
            other = burst
            break
        if m.get("req", 0) < 20000:
            continue
        if m["type"] == "OK":
            oks += 1
        elif m["type"] == "ERROR" and m["code"] == 8:
            limited += 1
        elif m["type"] == "ERROR":
            other += 1
            say("burst: unexpected", m)
    say("burst of %d HISTORY: %d OK, %d rate limited, %d other errors" %
        (burst, oks, limited, other))
    check(limited > 0 and oks > 0 and other == 0, "burst: HISTORY past the rate gets ERR_RATE_LIMITED")
    check(ping(pinger) < 1000, "PING still answered after the burst")
    if failed:
        say("FAILED:", "; ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
