#!/usr/bin/env python3
"""Protocol-level test client for audiod (Python 3 standard library only),
built on rawclient.py's framing.

Usage: audioraw.py CHAT_PORT AUDIO_PORT SCENARIO USER TOKENFILE ROOM [ARGS]
  abuse                  broken and hostile frames, each on its own
                         connection: audiod must answer ERROR (and close
                         where the peer broke the protocol)
  stall SECS             join ROOM, then read nothing for SECS seconds
                         (a stalled listener); prints frames seen after
  stats [reset]          print audiod's VOICE_STATS line
  mute TARGET [1|0]      join ROOM, (un)mute TARGET: exit 0 OK, 6 forbidden
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawclient as rc  # noqa: E402

rc.TYPES.update({
    0x0117: ("ROOM_PASS", ["req", "room", "secret", "ts"]),
    0x0301: ("VOICE_JOIN", ["req", "room", "secret", "flags"]),
    0x0302: ("VOICE_LEAVE", ["req"]),
    0x0303: ("AUDIO", ["id", "ts", "ref", "size", "flags"]),
    0x0304: ("VOICE_MUTE", ["req", "user", "flags"]),
    0x0305: ("VOICE_EVENT", ["req", "room", "user", "count", "flags", "size", "ts", "text"]),
    0x0306: ("VOICE_RECORD", ["req", "flags", "text"]),
    0x0307: ("VOICE_STATS", ["req", "text"]),
})
rc.BYNAME.update({v[0]: k for k, v in rc.TYPES.items()})
rc.ERR_NAMES[20] = "INTEGRITY"

# A 20 ms CELT full-band mono packet (TOC 0xf8) of arbitrary bytes: valid
# for the header checks, decodes to noise-like sound.
GOOD = b"\xf8" + bytes(range(1, 40))
TEN_MS = b"\xf0" + bytes(range(1, 40))  # TOC of a 10 ms frame


def token_of(path):
    return open(path).read().split()[1]


def room_pass(chat_port, tokenfile, room):
    p = rc.Peer(chat_port)
    p.hello(token_of(tokenfile))
    p.msg("ROOM_PASS", req=7, room=room)
    m = p.recv()
    while m["type"] not in ("ROOM_PASS", "ERROR"):
        m = p.recv()
    if m["type"] != "ROOM_PASS":
        rc.die("ROOM_PASS answered with", m)
    return m["room"], m["secret"]


def audio_frame(seq, data, flags=0):
    body = struct.pack(">QQQQI", seq, int(time.time() * 1000), 0, 0, flags)
    body += struct.pack(">I", len(data)) + data
    return rc.frame(0x0303, body)


class Voice:
    def __init__(self, port, tokenfile, service="audio", token=None, rcvbuf=None):
        self.p = rc.Peer(port, rcvbuf=rcvbuf)
        tok = token_of(tokenfile) if token is None else token
        self.p.msg("HELLO", version=1, name=service, secret=tok, text="audioraw")

    def welcome(self):
        m = self.p.recv()
        if m["type"] != "WELCOME":
            rc.die("HELLO answered with", m)
        return m

    def join(self, room, secret):
        self.p.msg("VOICE_JOIN", req=1, room=room, secret=secret)
        while True:
            m = self.p.recv()
            if m.get("req") == 1 and m["type"] in ("OK", "ERROR"):
                return m


def case(name, fn, codes, closed=True):
    """Run fn (which sends the bad thing on a fresh connection and returns
    the Peer); expect an ERROR with one of codes, and a close if closed."""
    p = fn()
    if closed:
        rc.expect_error_close(p, name, codes)
        return
    m = p.recv()
    while m["type"] not in ("ERROR", "OK"):
        m = p.recv()
    if m["type"] != "ERROR" or m["code"] not in codes:
        rc.die(name, ": expected ERROR", codes, "got", m)
    rc.say(name, ": ERROR code %d (%s), connection kept: ok" % (m["code"], m["error"]))


def sc_abuse(chat_port, port, user, tokenfile, room):
    room, secret = room_pass(chat_port, tokenfile, room)

    def joined():
        v = Voice(port, tokenfile)
        v.welcome()
        m = v.join(room, secret)
        if m["type"] != "OK":
            rc.die("join answered", m)
        return v.p

    def send(data):
        def fn():
            p = joined()
            try:
                p.send(data)
            except OSError:  # the server may close before we finish
                pass
            return p
        return fn

    case("not Opus", send(audio_frame(1, b"\xff" * 60)), [12])
    case("10 ms frame", send(audio_frame(1, TEN_MS)), [12])
    case("empty audio", send(audio_frame(1, b"")), [2])
    case("packet over max_packet", send(audio_frame(1, b"\xf8" + bytes(600))), [2])
    case("frame over the frame limit", send(struct.pack(">IHH", 100000, 0x0303, 0)), [2])
    case("truncated AUDIO", send(rc.frame(0x0303, audio_frame(1, GOOD)[8:-5])), [1])
    case("unknown type", send(rc.frame(0x03ff, b"")), [16])
    case("audio flood", send(b"".join(audio_frame(i, GOOD) for i in range(1, 1000))), [8])

    def before_join():
        v = Voice(port, tokenfile)
        v.welcome()
        v.p.send(audio_frame(1, GOOD))
        return v.p
    case("audio before VOICE_JOIN", before_join, [12])
    case("HELLO for chat", lambda: Voice(port, tokenfile, service="chat").p, [17])
    case("no token", lambda: Voice(port, tokenfile, token="").p, [4])
    case("forged token", lambda: Voice(port, tokenfile, token="v1.x.9999999999.00.00").p, [7])

    def bad_pass(r, s):
        def fn():
            v = Voice(port, tokenfile)
            v.welcome()
            v.p.msg("VOICE_JOIN", req=1, room=r, secret=s)
            return v.p
        return fn
    forged = secret[:-4] + ("0000" if not secret.endswith("0000") else "1111")
    case("forged room pass", bad_pass(room, forged), [10], closed=False)
    case("pass for another room", bad_pass(room + "x", secret), [10], closed=False)
    case("admin bit added to a pass", bad_pass(room, secret.replace(".0.", ".1.", 1)), [10],
         closed=False)
    rc.say("all abuse cases refused")


def sc_stall(chat_port, port, user, tokenfile, room, secs):
    room, secret = room_pass(chat_port, tokenfile, room)
    v = Voice(port, tokenfile, rcvbuf=4096)
    v.welcome()
    m = v.join(room, secret)
    if m["type"] != "OK":
        rc.die("join answered", m)
    # shrink our receive window further, then stop reading
    rc.say("joined; not reading for %s s" % secs)
    time.sleep(float(secs))
    n = 0
    try:
        while True:
            v.p.recv(2)
            n += 1
    except (socket.timeout, rc.Closed) as e:
        rc.say("after the stall: %d frames, then %s" % (n, type(e).__name__))


def sc_mute(chat_port, port, user, tokenfile, room, target, on="1"):
    """Join ROOM and (un)mute TARGET: exit 0 on OK, 6 on ERR_FORBIDDEN."""
    room, secret = room_pass(chat_port, tokenfile, room)
    v = Voice(port, tokenfile)
    v.welcome()
    m = v.join(room, secret)
    if m["type"] != "OK":
        rc.die("join answered", m)
    v.p.msg("VOICE_MUTE", req=5, user=target, flags=0x10000 if on == "1" else 0)
    m = v.p.recv()
    while m.get("req") != 5:
        m = v.p.recv()
    rc.say("VOICE_MUTE %s answered %s" % (target, m["type"]), m.get("text", ""))
    sys.exit(0 if m["type"] == "OK" else 6 if m.get("code") == 10 else 1)


def sc_stats(chat_port, port, user, tokenfile, room, *rest):
    v = Voice(port, tokenfile)
    v.welcome()
    v.p.msg("VOICE_STATS", req=3, text="reset" if rest and rest[0] == "reset" else "")
    m = v.p.recv()
    while m["type"] != "VOICE_STATS":
        m = v.p.recv()
    print(m["text"])


def main(argv):
    sc = {"abuse": sc_abuse, "stall": sc_stall, "stats": sc_stats, "mute": sc_mute}
    if len(argv) < 7 or argv[3] not in sc:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sc[argv[3]](argv[1], argv[2], *argv[4:])


if __name__ == "__main__":
    main(sys.argv)
