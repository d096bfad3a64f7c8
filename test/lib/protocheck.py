#!/usr/bin/env python3
"""PROTOCOL.md's rules on message types, against a real daemon (Python 3
standard library only, rawclient.py's TLS peer and framing).

Usage: protocheck.py SCENARIO SERVICE PORT TOKENFILE|-
  SERVICE is chat, file or audio; TOKENFILE a nexus tokens/HOST_PORT file
  (its token goes into HELLO), "-" for none (chat only: not logged in).

  unsupported   every registered type the service takes from no client
                (another service's, or one only servers send), one after
                the other on one session: each must get ERROR{req,
                ERR_UNSUPPORTED} whose text names the type's service, and
                the session must go on (a PING at the end gets its PONG)
  unknown       a type number outside the registry: ERROR{0,
                ERR_UNSUPPORTED}, then the server closes
Exit 0 when the daemon behaved so, 1 (with the reasons) when not.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawclient as rc  # noqa: E402

# The whole registry (common/proto.c): name, fields in wire order.
REGISTRY = {
    0x0001: ("HELLO", "version name secret text"),
    0x0002: ("WELCOME", "version name user flags count size ts"),
    0x0003: ("ERROR", "req code text"),
    0x0004: ("PING", "req ts"),
    0x0005: ("PONG", "req ts"),
    0x0006: ("OK", "req id count"),
    0x0101: ("REGISTER", "req user secret"),
    0x0102: ("LOGIN", "req user secret"),
    0x0103: ("TOKEN", "req user secret ts flags"),
    0x0104: ("ROOM_CREATE", "req room flags text"),
    0x0105: ("ROOM_LIST", "req ref count flags"),
    0x0106: ("ROOM_INFO", "req room flags count id text"),
    0x0107: ("JOIN", "req room count"),
    0x0108: ("LEAVE", "req room"),
    0x0109: ("INVITE", "req room user"),
    0x010a: ("TOPIC", "req room text"),
    0x010b: ("SAY", "req room ref text"),
    0x010c: ("ACK", "req id ts room"),
    0x010d: ("EDIT", "req id text"),
    0x010e: ("DELETE", "req id"),
    0x010f: ("HISTORY", "req room ref id count text"),
    0x0110: ("CHAT", "req id ts room user ref flags text"),
    0x0111: ("MEMBERS", "req room"),
    0x0112: ("MEMBER", "req room user count ts flags"),
    0x0113: ("TYPING", "room user"),
    0x0114: ("PRESENCE", "req user count ts"),
    0x0115: ("EVENT", "room user count ts text"),
    0x0116: ("USER_ADMIN", "req user count secret"),
    0x0117: ("ROOM_PASS", "req room secret ts"),
    0x0118: ("LOGIN_VIA", "req user secret name ts hash"),
    0x0201: ("FILE_PUSH", "req size hash flags text"),
    0x0202: ("FILE_OFFSET", "req id size"),
    0x0203: ("FILE_DATA", "req size data"),
    0x0204: ("FILE_END", "req size hash"),
    0x0205: ("FILE_INFO", "req id size ts flags hash user room secret text"),
    0x0206: ("FILE_PULL", "req secret size flags"),
    0x0207: ("FILE_LIST", "req"),
    0x0208: ("FILE_DELETE", "req id"),
    0x0209: ("FILE_SHARE", "req id room"),
    0x020a: ("FILE_UNSHARE", "req secret"),
    0x020b: ("FILE_ROOM_LIST", "req room secret"),
    0x0301: ("VOICE_JOIN", "req room secret flags"),
    0x0302: ("VOICE_LEAVE", "req"),
    0x0303: ("AUDIO", "id ts ref size flags data"),
    0x0304: ("VOICE_MUTE", "req user flags"),
    0x0305: ("VOICE_EVENT", "req room user count flags size ts text"),
    0x0306: ("VOICE_RECORD", "req flags text"),
    0x0307: ("VOICE_STATS", "req text"),
}
# What each service takes from a client (PROTOCOL.md's "Sent by" C).
TAKES = {
    "chat": "HELLO PING REGISTER LOGIN ROOM_CREATE ROOM_LIST JOIN LEAVE INVITE TOPIC SAY "
            "EDIT DELETE HISTORY MEMBERS TYPING PRESENCE USER_ADMIN ROOM_PASS LOGIN_VIA",
    "file": "HELLO PING FILE_PUSH FILE_DATA FILE_END FILE_PULL FILE_LIST FILE_DELETE "
            "FILE_SHARE FILE_UNSHARE FILE_ROOM_LIST",
    "audio": "HELLO PING VOICE_JOIN VOICE_LEAVE AUDIO VOICE_MUTE VOICE_RECORD VOICE_STATS",
}
DAEMON = {"chat": "chatd", "file": "filed", "audio": "audiod"}
SERVICE_OF = {0x01: "chat", 0x02: "file", 0x03: "audio"}
ERR_UNSUPPORTED = 16


def payload(fields, req):
    """Every field 0 or empty, req = req."""
    out = b""
    for f in fields.split():
        if f == "req":
            out += struct.pack(">I", req)
        elif f in rc.STR:
            out += struct.pack(">I", 0)
        elif f == "hash":
            out += bytes(32)
        elif f == "data":
            out += struct.pack(">I", 0)
        else:
            out += bytes(rc.W[f])
    return out


def connect(service, port, tokenfile):
    token = "" if tokenfile == "-" else open(tokenfile).read().split()[1]
    p = rc.Peer(port)
    p.msg("HELLO", version=1, name=service, secret=token, text="protocheck")
    w = p.recv()
    if w["type"] != "WELCOME":
        rc.die("HELLO answered with", json.dumps(w))
    rc.say("%s: welcome, user %r" % (DAEMON[service], w.get("user")))
    return p


def reply(p):
    """The next frame that is not a push (PRESENCE of our own login...)."""
    while True:
        m = p.recv(10)
        if m["type"] in ("ERROR", "PONG") or m.get("req"):
            return m


def sc_unsupported(service, port, tokenfile):
    p = connect(service, port, tokenfile)
    takes = TAKES[service].split()
    bad, n = [], 0
    for i, (t, (name, fields)) in enumerate(sorted(REGISTRY.items())):
        if name in takes:
            continue
        req = 100 + i if "req" in fields.split() else 0
        p.send(rc.frame(t, payload(fields, req)))
        try:
            m = reply(p)
        except rc.Closed as e:
            rc.die("%s closed the session after %s (%s): it must only fail the request"
                   % (DAEMON[service], name, e))
        n += 1
        owner = SERVICE_OF.get(t >> 8)
        want = ("is a message of %s" % DAEMON[owner]) if owner and owner != service \
            else "only a server sends it"
        if m["type"] != "ERROR" or m.get("code") != ERR_UNSUPPORTED or m.get("req") != req \
                or name not in m.get("text", "") or want not in m.get("text", ""):
            bad.append("%s: got %s; want ERROR{req=%d, UNSUPPORTED, '...%s...'}"
                       % (name, json.dumps(m), req, want))
        elif i % 8 == 0:
            rc.say("%s -> ERROR{req=%d, %s, %r}" % (name, req, m["error"], m["text"]))
    p.msg("PING", req=9999, ts=42)
    try:
        m = reply(p)
    except rc.Closed as e:
        rc.die("the session was closed (%s): PING got no PONG" % e)
    if m["type"] != "PONG" or m.get("req") != 9999:
        bad.append("PING at the end: got %s" % json.dumps(m))
    for b in bad:
        rc.say("FAIL:", b)
    if bad:
        sys.exit(1)
    rc.say("%s: %d types of other services or of servers refused with ERR_UNSUPPORTED, "
           "session alive (PONG)" % (DAEMON[service], n))


def sc_unknown(service, port, tokenfile):
    p = connect(service, port, tokenfile)
    p.send(rc.frame(0x0fff, struct.pack(">I", 5)))
    rc.expect_error_close(p, "%s: type 0x0fff" % DAEMON[service], [ERR_UNSUPPORTED])


def main(argv):
    if len(argv) != 5 or argv[2] not in TAKES:
        sys.stderr.write(__doc__)
        sys.exit(2)
    {"unsupported": sc_unsupported, "unknown": sc_unknown}[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
