#!/usr/bin/env python3
"""Protocol-level test client for chatd (Python 3 standard library only).

Speaks the framing of common/proto.c: an 8-byte header (u32 payload length,
u16 type, u16 flags, big-endian), then the fields of the type in schema
order: u16/u32/u64 big-endian integers, strings as u32 length + bytes.

Usage: rawclient.py PORT SCENARIO [ARGS...]   (server is 127.0.0.1)
PASS may be "@FILE": the token in a nexus tokens/HOST_PORT file, no LOGIN.
Each scenario prints what it sees and exits 0 when the server behaved as
expected, 1 when not (with a line saying why), 2 on usage errors.

  plain-garbage               non-TLS bytes; the server must close
  plain-garbage-many [N]      the same over N (20) connections at once
  bad-type [--before-hello]   TLS, then a frame of unknown type: ERROR + close
  bad-payload                 HELLO with a truncated string: ERROR + close
  oversize [LEN]              header claiming LEN (0x7fffffff) bytes: ERROR 2 + close
  bad-utf8                    LOGIN with invalid UTF-8 in the user name: ERROR
  unauth                      SAY and JOIN without logging in: ERROR 4
  login USER PASS [--src A]   LOGIN from source address A: prints TOKEN/ERROR;
                              exit 0 on TOKEN, 8 on ERR_RATE_LIMITED, 1 else
  listen USER PASS SECS [ROOM...]  log in, join ROOMs, print every frame as a
                              JSON line for SECS seconds (or until EOF)
  slow USER PASS ROOM TRIGGER [RCVBUF]  log in, join ROOM, then stop reading
                              until the file TRIGGER exists; then drain and
                              report how the server ended the connection
  req USER PASS TYPE [FIELD=VALUE...]  log in (USER "-": no login), send one
                              request (integers for integer fields, "\\n" in
                              strings is a newline), print the frames of the
                              reply as JSON lines; exit 0 unless it is an ERROR
  burst USER PASS ROOM N      pipeline N SAYs: some must be rate limited (8)
  create-many USER PASS PREFIX N [PRIVATE_EVERY]  create rooms PREFIX1..PREFIXN
                              on one connection (every K-th private); exit 0
                              when all were created
  presence-flip USER PASS N [HOLD]  pipeline N PRESENCE requests, away and
                              online in turn; exit 0 when all were answered OK
                              (after staying connected HOLD more seconds)
  create-flood USER PASS PREFIX N [DM_PEER...]  pipeline N ROOM_CREATEs of
                              PREFIX1..PREFIXN (or JOINs of @DM_PEER, opening
                              direct conversations, when given); print OK and ERROR counts per code and
                              each code's first sentence
  history-leave USER PASS ROOM  HISTORY of ROOM and LEAVE of it in one write
                              (the read is answered after the leave): print
                              what HISTORY got; exit 0 if it got no CHAT
  hello VERSION SERVICE       HELLO with these values: must get ERROR + close
  idle plain|tls SECS         connect, send nothing; exit 0 once the server
                              closes, 1 if it is still open after SECS
  forge-token KEYFILE USER EXPIRY   print a token signed with KEYFILE
  login-via KEYFILE USER PASS ADDR [signed|forged|stale]  LOGIN_VIA naming ADDR,
                              as videod sends it (signed with KEYFILE), with a
                              wrong mac, or signed 2 minutes ago; prints the
                              reply; exit 0 on TOKEN, 10 on ERR_FORBIDDEN,
                              8 on ERR_RATE_LIMITED, 5 on ERR_BAD_LOGIN, 1 else
"""
import hashlib
import hmac
import json
import os
import secrets
import select
import socket
import ssl
import struct
import sys
import time

HOST = "127.0.0.1"

# Field kinds: integer widths, or "s" for a string.
W = {"req": 4, "id": 8, "ref": 8, "ts": 8, "count": 4, "flags": 4, "code": 2,
     "version": 2, "size": 8, "hash": 32}
STR = ("room", "user", "name", "text", "secret")

TYPES = {
    0x0001: ("HELLO", ["version", "name", "secret", "text"]),
    0x0002: ("WELCOME", ["version", "name", "user", "flags", "count", "size", "ts"]),
    0x0003: ("ERROR", ["req", "code", "text"]),
    0x0004: ("PING", ["req", "ts"]),
    0x0005: ("PONG", ["req", "ts"]),
    0x0006: ("OK", ["req", "id", "count"]),
    0x0101: ("REGISTER", ["req", "user", "secret"]),
    0x0102: ("LOGIN", ["req", "user", "secret"]),
    0x0103: ("TOKEN", ["req", "user", "secret", "ts", "flags"]),
    0x0104: ("ROOM_CREATE", ["req", "room", "flags", "text"]),
    0x0105: ("ROOM_LIST", ["req", "ref", "count", "flags"]),
    0x0106: ("ROOM_INFO", ["req", "room", "flags", "count", "id", "text"]),
    0x0107: ("JOIN", ["req", "room", "count"]),
    0x0108: ("LEAVE", ["req", "room"]),
    0x0109: ("INVITE", ["req", "room", "user"]),
    0x010a: ("TOPIC", ["req", "room", "text"]),
    0x010b: ("SAY", ["req", "room", "ref", "text"]),
    0x010c: ("ACK", ["req", "id", "ts", "room"]),
    0x010d: ("EDIT", ["req", "id", "text"]),
    0x010e: ("DELETE", ["req", "id"]),
    0x010f: ("HISTORY", ["req", "room", "ref", "id", "count", "text"]),
    0x0110: ("CHAT", ["req", "id", "ts", "room", "user", "ref", "flags", "text"]),
    0x0111: ("MEMBERS", ["req", "room"]),
    0x0112: ("MEMBER", ["req", "room", "user", "count", "ts", "flags"]),
    0x0113: ("TYPING", ["room", "user"]),
    0x0114: ("PRESENCE", ["req", "user", "count", "ts"]),
    0x0115: ("EVENT", ["room", "user", "count", "ts", "text"]),
    0x0116: ("USER_ADMIN", ["req", "user", "count", "secret"]),
    0x0117: ("ROOM_PASS", ["req", "room", "secret", "ts"]),
    0x0118: ("LOGIN_VIA", ["req", "user", "secret", "name", "ts", "hash"]),
}
BYNAME = {v[0]: k for k, v in TYPES.items()}
MSG_ERROR = 0x0003
ERR_NAMES = {1: "BAD_FRAME", 2: "TOO_LARGE", 3: "VERSION", 4: "AUTH_REQUIRED",
             5: "BAD_LOGIN", 6: "TOKEN_EXPIRED", 7: "TOKEN_INVALID",
             8: "RATE_LIMITED", 9: "NOT_FOUND", 10: "FORBIDDEN", 11: "EXISTS",
             12: "INVALID", 13: "REG_CLOSED", 14: "SLOW_READER", 15: "INTERNAL",
             16: "UNSUPPORTED", 17: "WRONG_SERVICE", 18: "QUOTA", 19: "SHUTDOWN"}


class Closed(Exception):
    pass


def payload(_t, /, **f):
    """Encode the payload of message _t; missing fields are 0 or ""."""
    out = b""
    for field in TYPES[BYNAME[_t]][1]:
        v = f.get(field)
        if field in STR:
            if v is None:
                v = b""
            if isinstance(v, str):
                v = v.encode()
            out += struct.pack(">I", len(v)) + v
        elif field == "hash":
            out += bytes(v or bytes(32))
        else:
            out += (v or 0).to_bytes(W[field], "big")
    return out


def frame(type_, body, flags=0, length=None):
    if isinstance(type_, str):
        type_ = BYNAME[type_]
    n = len(body) if length is None else length
    return struct.pack(">IHH", n, type_, flags) + body


def decode(type_, body):
    name, fields = TYPES.get(type_, ("0x%04x" % type_, []))
    m = {"type": name}
    off = 0
    try:
        for field in fields:
            if field in STR:
                (n,) = struct.unpack_from(">I", body, off)
                off += 4
                m[field] = body[off:off + n].decode("utf-8", "replace")
                off += n
            else:
                m[field] = int.from_bytes(body[off:off + W[field]], "big")
                off += W[field]
    except struct.error:
        m["undecodable"] = body.hex()
    if type_ == MSG_ERROR and "code" in m:
        m["error"] = ERR_NAMES.get(m["code"], "?")
    return m


class Peer:
    def __init__(self, port, tls=True, src=None, rcvbuf=None, timeout=10):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if src:
            raw.bind((src, 0))
        raw.settimeout(timeout)
        raw.connect((HOST, int(port)))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            self.s = ctx.wrap_socket(raw)
        else:
            self.s = raw
        self.buf = b""
        self.req = 0

    def send(self, data):
        self.s.sendall(data)

    def msg(self, _t, /, **f):
        self.send(frame(_t, payload(_t, **f)))

    def next_req(self):
        self.req += 1
        return self.req

    def _fill(self):
        try:
            d = self.s.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
            raise Closed("reset: %s" % e)
        if not d:
            raise Closed("eof")
        self.buf += d

    def recv(self, timeout=10):
        """Next frame as a dict; raises Closed at EOF, socket.timeout on timeout."""
        self.s.settimeout(timeout)
        while len(self.buf) < 8:
            self._fill()
        n, t, fl = struct.unpack(">IHH", self.buf[:8])
        while len(self.buf) < 8 + n:
            self._fill()
        body, self.buf = self.buf[8:8 + n], self.buf[8 + n:]
        m = decode(t, body)
        m["frame_flags"] = fl
        return m

    def expect_closed(self, timeout=10):
        """Read until EOF; returns the frames seen. Raises socket.timeout."""
        seen = []
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise socket.timeout("still open after %ss" % timeout)
            try:
                seen.append(self.recv(left))
            except Closed:
                return seen

    def hello(self, token=""):
        self.msg("HELLO", version=1, name="chat", secret=token, text="rawclient")
        m = self.recv()
        if m["type"] != "WELCOME":
            raise RuntimeError("HELLO answered with %s" % m)
        return m

    def call(self, _t, /, **f):
        """Send a request, return (reply frames, final frame) up to OK/ERROR/
        TOKEN/ACK with our req; live frames in between are returned too."""
        req = self.next_req()
        self.msg(_t, req=req, **f)
        got = []
        while True:
            m = self.recv()
            got.append(m)
            if m.get("req") == req and m["type"] in ("OK", "ERROR", "TOKEN", "ACK", "PONG"):
                return got, m
            if m["type"] == "ERROR" and m.get("req") == 0:
                return got, m  # connection-level error: the server closes

    def login(self, user, password):
        """LOGIN with a password; with "@FILE" (a nexus tokens/HOST_PORT
        file) present the cached token in HELLO instead, as nexus does."""
        if password.startswith("@"):
            fuser, token = open(password[1:]).read().split()[:2]
            w = self.hello(token)
            if w.get("user") != user:
                return {"type": "ERROR", "code": 0, "text": "token is for %r" % w.get("user")}
            return {"type": "TOKEN", "user": user}
        self.hello()
        _, m = self.call("LOGIN", user=user, secret=password)
        return m


def say(*a):
    print("rawclient:", *a, flush=True)


def die(*a):
    say("FAIL:", *a)
    sys.exit(1)


def expect_error_close(p, what, codes=None):
    try:
        seen = p.expect_closed(10)
    except socket.timeout:
        die(what, ": server kept the connection open")
    errs = [m for m in seen if m["type"] == "ERROR"]
    say(what, ": frames before close:", json.dumps(seen)[:500])
    if not errs:
        die(what, ": no ERROR frame before the close")
    if codes and errs[0]["code"] not in codes:
        die(what, ": ERROR code %d, expected one of %s" % (errs[0]["code"], codes))
    say(what, ": ERROR code %d (%s) then close: ok" % (errs[0]["code"], errs[0]["error"]))


def sc_plain_garbage(port):
    p = Peer(port, tls=False)
    p.send(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(4096))
    try:
        end = time.time() + 15
        while time.time() < end:
            p.s.settimeout(end - time.time())
            if not p.s.recv(65536):
                break
        else:
            die("server kept a non-TLS connection open for 15 s")
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        die("server kept a non-TLS connection open for 15 s")
    say("plain garbage: server closed the connection: ok")


def sc_plain_garbage_many(port, n="20"):
    """N concurrent non-TLS garbage connections; all must be closed."""
    import threading
    errors = []

    def one():
        try:
            sc_plain_garbage(port)
        except SystemExit as e:
            if e.code:
                errors.append(e.code)
        except Exception as e:  # noqa: BLE001 - report anything
            errors.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(int(n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        die("%d of %s garbage connections failed: %s" % (len(errors), n, errors[:3]))
    say("%s concurrent garbage connections all closed: ok" % n)


def sc_bad_type(port, before_hello=False):
    p = Peer(port)
    if not before_hello:
        p.hello()
    p.send(frame(0xBEEF, b"\x00\x01garbage\xff\xfe"))
    expect_error_close(p, "unknown frame type%s" % (" before HELLO" if before_hello else ""))


def sc_bad_payload(port):
    p = Peer(port)
    # HELLO whose name claims 100 bytes but the frame ends first.
    body = struct.pack(">H", 1) + struct.pack(">I", 100) + b"chat"
    p.send(frame("HELLO", body))
    expect_error_close(p, "truncated HELLO", codes=[1, 2])


def sc_oversize(port, length=0x7FFFFFFF):
    p = Peer(port)
    p.hello()
    p.send(struct.pack(">IHH", length, BYNAME["SAY"], 0) + b"x" * 1024)
    expect_error_close(p, "length prefix 0x%x" % length, codes=[2])


def sc_bad_utf8(port):
    p = Peer(port)
    p.hello()
    p.msg("LOGIN", req=1, user=b"al\xff\xfece", secret="whatever-pw")
    try:
        m = p.recv()
    except Closed as e:
        die("invalid UTF-8: connection closed without ERROR (%s)" % e)
    if m["type"] != "ERROR":
        die("invalid UTF-8 in LOGIN answered with", m)
    say("invalid UTF-8 user name: ERROR code %d (%s): ok" % (m["code"], m["error"]))
    # A fresh connection: invalid UTF-8 (overlong '/') in a SAY text.
    p = Peer(port)
    p.hello()
    p.msg("SAY", req=2, room="lobby", text=b"caf\xc0\xaf")
    try:
        m = p.recv()
    except Closed as e:
        die("invalid UTF-8 SAY: connection closed without ERROR (%s)" % e)
    if m["type"] != "ERROR":
        die("invalid UTF-8 in SAY answered with", m)
    say("overlong UTF-8 in SAY text: ERROR code %d (%s): ok" % (m["code"], m["error"]))


def sc_unauth(port):
    p = Peer(port)
    w = p.hello()
    if w.get("user"):
        die("WELCOME without a token names a user:", w)
    for name, f in (("SAY", {"room": "lobby", "text": "sneaky"}),
                    ("JOIN", {"room": "lobby", "count": 10}),
                    ("HISTORY", {"room": "lobby", "count": 10})):
        try:
            got, m = p.call(name, **f)
        except Closed:
            die("unauthenticated %s: closed without ERROR" % name)
        if m["type"] != "ERROR" or m["code"] != 4:
            die("unauthenticated %s answered %s, expected ERROR code 4" % (name, m))
        if any(x["type"] == "CHAT" for x in got):
            die("unauthenticated %s leaked CHAT frames" % name)
        say("unauthenticated %s: ERROR 4 (%s): ok" % (name, m["text"]))


def sc_login(port, user, password, *rest):
    src = None
    if rest[:1] == ("--src",):
        src = rest[1]
    p = Peer(port, src=src)
    m = p.login(user, password)
    say("LOGIN %s from %s:" % (user, src or "default"), json.dumps(
        {k: v for k, v in m.items() if k != "secret"}))
    if m["type"] == "TOKEN":
        sys.exit(0)
    if m["type"] == "ERROR" and m["code"] == 8:
        sys.exit(8)
    sys.exit(1)


def sc_login_vanish(port, user, password, n="5", src="127.0.0.9"):
    """Password checks run on chatd's hashing thread: clients that send
    LOGIN and vanish before the answer must not hurt chatd, and a second
    LOGIN while the first is checked is refused with ERROR 8."""
    for _ in range(int(n)):
        p = Peer(port, src=src)
        p.hello()
        p.msg("LOGIN", req=p.next_req(), user=user, secret=password)
        p.s.close()
    say("%s clients sent LOGIN and vanished" % n)
    p = Peer(port, src=src)
    p.hello()
    first, second = p.next_req(), p.next_req()
    # one write: two segments could be apart by Nagle's delay, longer
    # than a password check on a quiet machine
    p.send(frame("LOGIN", payload("LOGIN", req=first, user=user, secret=password)) +
           frame("LOGIN", payload("LOGIN", req=second, user=user, secret=password)))
    got = {}
    while len(got) < 2:
        m = p.recv()
        if m.get("req") in (first, second):
            got[m["req"]] = m
    if got[first]["type"] != "TOKEN":
        die("the first LOGIN answered", got[first])
    if (got[second]["type"] != "ERROR" or got[second]["code"] != 8 or
            "wait for the answer" not in got[second]["text"]):
        die("a LOGIN during a LOGIN answered", got[second], "expected ERROR 8, wait for the answer")
    say("LOGIN during a LOGIN: ERROR 8 (%s); the first got its TOKEN" % got[second]["text"])


def sc_login_burst(port, user, password, n="8"):
    """While chatd checks a burst of n passwords (each from its own address,
    below the per-address limit), a logged-in client's PING is answered
    before the burst is through: the checks do not hold up the loop."""
    me = Peer(port, src="127.0.0.20")
    if me.login(user, password)["type"] != "TOKEN":
        die("cannot log in", user)
    peers = [Peer(port, src="127.0.0.%d" % (21 + i)) for i in range(int(n))]
    for p in peers:
        p.hello()
    for p in peers:
        p.msg("LOGIN", req=p.next_req(), user=user, secret="wrong-%s" % password)
    _, pong = me.call("PING")
    if pong["type"] != "PONG":
        die("PING answered", pong)
    # answers already here when the PONG came
    answered = len(select.select([p.s for p in peers], [], [], 0)[0])
    say("PONG came when %d of %d password checks were answered" % (answered, len(peers)))
    if answered == len(peers):
        die("the PING waited for every password check")
    for p in peers:
        m = p.recv()
        if m["type"] != "ERROR" or m["code"] != 5:
            die("a wrong password answered", m)
    say("all %d wrong passwords refused with ERROR 5" % len(peers))


def sc_listen(port, user, password, secs, *rooms):
    p = Peer(port)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    for r in rooms:
        _, m = p.call("JOIN", room=r, count=0)
        if m["type"] != "OK":
            die("JOIN %s failed: %s" % (r, m))
    print(json.dumps({"type": "READY"}), flush=True)
    end = time.time() + float(secs)
    while time.time() < end:
        try:
            m = p.recv(max(0.1, end - time.time()))
        except socket.timeout:
            break
        except Closed:
            break
        print(json.dumps(m), flush=True)


def sc_slow(port, user, password, room, trigger, rcvbuf="4096"):
    p = Peer(port, rcvbuf=int(rcvbuf))
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    _, m = p.call("JOIN", room=room, count=0)
    if m["type"] != "OK":
        die("JOIN failed:", m)
    say("joined %s; no longer reading (SO_RCVBUF=%s)" % (room, rcvbuf))
    while not os.path.exists(trigger):
        time.sleep(0.2)
    chats = 0
    last = None
    how = "timeout"
    end = time.time() + 30
    while time.time() < end:
        try:
            m = p.recv(end - time.time())
        except Closed as e:
            how = str(e)
            break
        except socket.timeout:
            break
        last = m
        if m["type"] == "CHAT":
            chats += 1
    say("slow reader: got %d CHAT frames, last frame %s, connection end: %s"
        % (chats, json.dumps(last)[:200] if last else None, how))
    if how == "timeout":
        die("the slow reader was never dropped")
    if not last or last["type"] != "ERROR" or last.get("code") != 14:
        die("the slow reader's last frame is not ERROR 14 (ERR_SLOW_READER)")


def token_key(keyfile):
    key = open(keyfile, "rb").read()
    k = key.strip()
    if len(key) != 32 and len(k) == 64:
        key = bytes.fromhex(k.decode())
    elif len(key) != 32:
        die("token key %s: unexpected length %d" % (keyfile, len(key)))
    return key


def sc_login_via(port, keyfile, user, password, addr, mode="signed"):
    """videod's relayed login (common/auth.h auth_relay_sign)."""
    ts = int(time.time() * 1000) - (120000 if mode == "stale" else 0)
    text = "r1\n%s\n%s\n%d" % (user, addr, ts)
    mac = hmac.new(token_key(keyfile), text.encode(), hashlib.sha256).digest()
    if mode == "forged":
        mac = bytes(32)
    p = Peer(port)
    p.hello()
    _, m = p.call("LOGIN_VIA", user=user, secret=password, name=addr, ts=ts, hash=mac)
    say("LOGIN_VIA %s for %s (%s):" % (user, addr, mode), json.dumps(
        {k: v for k, v in m.items() if k != "secret"}))
    if m["type"] == "TOKEN":
        sys.exit(0)
    sys.exit(m.get("code") if m["type"] == "ERROR" and m.get("code") in (5, 8, 10) else 1)


def sc_forge_token(keyfile, user, expiry):
    key = token_key(keyfile)
    # v1.USER.EXPIRY.ISSUED_MS.NONCE (common/auth.h); issued now
    body = "v1.%s.%d.%d.%s" % (user, int(expiry), int(time.time() * 1000),
                               secrets.token_hex(8))
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    print("%s.%s" % (body, mac))


def sc_req(port, user, password, type_, *assignments):
    p = Peer(port)
    if user == "-":
        p.hello()
    else:
        m = p.login(user, password)
        if m["type"] != "TOKEN":
            die("login failed:", m)
    f = {}
    for a in assignments:
        k, _, v = a.partition("=")
        if k in STR:
            f[k] = v.replace("\\n", "\n").replace("\\t", "\t")
        else:
            f[k] = int(v, 0)
    try:
        got, m = p.call(type_, **f)
    except Closed as e:
        die("%s: connection closed without a reply (%s)" % (type_, e))
    for x in got:
        print(json.dumps(x, ensure_ascii=False), flush=True)
    sys.exit(1 if m["type"] == "ERROR" else 0)


def sc_create_many(port, user, password, prefix, n, private_every="0"):
    p = Peer(port)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    k = int(private_every)
    for i in range(1, int(n) + 1):
        flags = 0x0001 if k and i % k == 0 else 0
        _, m = p.call("ROOM_CREATE", room="%s%d" % (prefix, i), flags=flags, text="")
        if m["type"] != "OK":
            die("ROOM_CREATE %s%d:" % (prefix, i), m)
    say("created %s rooms %s1..%s%s" % (n, prefix, prefix, n))


def sc_burst(port, user, password, room, n):
    """Pipeline N SAYs, then count ACKs and ERROR 8s; exit 0 if some were
    rate limited and the connection stayed usable."""
    p = Peer(port)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    n = int(n)
    data = b"".join(frame("SAY", payload("SAY", req=1000 + i, room=room, text="burst %d" % i))
                    for i in range(n))
    p.send(data)
    acks = limited = other = 0
    while acks + limited + other < n:
        try:
            m = p.recv(20)
        except Closed as e:
            die("connection closed after %d ACK, %d rate limited (%s)" % (acks, limited, e))
        if m["type"] == "ACK":
            acks += 1
        elif m["type"] == "ERROR" and m["code"] == 8:
            limited += 1
        elif m["type"] == "ERROR":
            other += 1
            say("unexpected error:", json.dumps(m))
    say("burst of %d SAYs: %d ACK, %d rate limited, %d other errors" % (n, acks, limited, other))
    _, m = p.call("PING", ts=1)
    if m["type"] != "PONG":
        die("PING after the burst answered", m)
    if not limited or other:
        sys.exit(1)


def sc_presence_flip(port, user, password, n, hold="0"):
    p = Peer(port)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    n = int(n)
    # away, online, away, ... ending online (an even N)
    p.send(b"".join(frame("PRESENCE", payload("PRESENCE", req=1000 + i, user="",
                                                count=2 if i % 2 == 0 else 1, ts=0))
                    for i in range(n)))
    oks = 0
    start = time.time()
    while oks < n:
        m = p.recv(20)
        if m["type"] == "OK" and m["req"] >= 1000:
            oks += 1
        elif m["type"] == "ERROR":
            die("PRESENCE answered", m)
    say("%d presence flips answered OK in %.2fs" % (n, time.time() - start))
    time.sleep(float(hold))


def sc_create_flood(port, user, password, prefix, n, *peers):
    p = Peer(port)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    n = int(n)
    if peers:
        reqs = [frame("JOIN", payload("JOIN", req=1000 + i, room="@" + peers[i % len(peers)],
                                      count=0))
                for i in range(n)]
    else:
        reqs = [frame("ROOM_CREATE", payload("ROOM_CREATE", req=1000 + i,
                                             room="%s%d" % (prefix, i + 1), flags=0, text=""))
                for i in range(n)]
    start = time.time()
    p.send(b"".join(reqs))
    ok = 0
    errs = {}
    first = {}
    while ok + sum(errs.values()) < n:
        m = p.recv(30)
        if m.get("req", 0) < 1000:
            continue
        if m["type"] in ("OK", "ACK"):
            ok += 1
        elif m["type"] == "ERROR":
            errs[m["code"]] = errs.get(m["code"], 0) + 1
            first.setdefault(m["code"], m.get("text", ""))
    secs = time.time() - start
    say("%d requests in %.2fs: %d OK, errors %s" % (n, secs, ok, json.dumps(errs, sort_keys=True)))
    for c in sorted(first):
        say("first ERROR %d (%s): %s" % (c, ERR_NAMES.get(c, "?"), first[c]))
    print(json.dumps({"ok": ok, "errors": {str(k): v for k, v in errs.items()},
                      "first": {str(k): v for k, v in first.items()}}), flush=True)


def sc_history_leave(port, user, password, room):
    p = Peer(port)
    m = p.login(user, password)
    if m["type"] != "TOKEN":
        die("login failed:", m)
    p.send(frame("HISTORY", payload("HISTORY", req=7001, room=room, text="")) +
           frame("LEAVE", payload("LEAVE", req=7002, room=room)))
    chats, final = 0, {}
    while not final:
        try:
            m = p.recv(10)
        except Closed as e:
            die("connection closed before HISTORY's reply (%s)" % e)
        if m.get("req") == 7001 and m["type"] == "CHAT":
            chats += 1
        elif m.get("req") == 7001:
            final = m
    say("HISTORY after LEAVE: %d messages, then %s" % (chats, json.dumps(final)))
    sys.exit(1 if chats else 0)


def sc_hello(port, version, service):
    p = Peer(port)
    p.msg("HELLO", version=int(version), name=service, secret="", text="rawclient")
    expect_error_close(p, "HELLO version %s service %r" % (version, service))


def sc_idle(port, mode, secs):
    p = Peer(port, tls=(mode == "tls"), timeout=float(secs))
    start = time.time()
    try:
        while True:
            d = p.s.recv(65536)
            if not d:
                break
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        pass
    except socket.timeout:
        die("idle %s connection still open after %ss" % (mode, secs))
    say("idle %s connection closed by the server after %.1fs: ok" % (mode, time.time() - start))


SCENARIOS = {
    "req": sc_req,
    "burst": sc_burst,
    "create-many": sc_create_many,
    "hello": sc_hello,
    "history-leave": sc_history_leave,
    "presence-flip": sc_presence_flip,
    "create-flood": sc_create_flood,
    "idle": sc_idle,
    "plain-garbage": sc_plain_garbage,
    "plain-garbage-many": sc_plain_garbage_many,
    "bad-type": lambda port, *a: sc_bad_type(port, "--before-hello" in a),
    "bad-payload": sc_bad_payload,
    "oversize": lambda port, n="0x7fffffff": sc_oversize(port, int(n, 0)),
    "bad-utf8": sc_bad_utf8,
    "unauth": sc_unauth,
    "login": sc_login,
    "login-via": sc_login_via,
    "login-vanish": sc_login_vanish,
    "login-burst": sc_login_burst,
    "listen": sc_listen,
    "slow": sc_slow,
}


def main(argv):
    if len(argv) >= 2 and argv[1] == "forge-token":
        sc_forge_token(*argv[2:])
        return
    if len(argv) < 3 or argv[2] not in SCENARIOS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    SCENARIOS[argv[2]](argv[1], *argv[3:])


if __name__ == "__main__":
    main(sys.argv)
