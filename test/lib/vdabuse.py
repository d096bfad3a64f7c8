#!/usr/bin/env python3
"""Bad input for videod: garbage datagrams on the media port (random bytes,
STUN with broken lengths, integrity or fingerprint, DTLS- and RTP-looking
junk), and bad HTTPS requests (plain bytes, bad JSON, wrong content type,
oversized bodies, forged cookies, nonsense SDP). Bounded: a few thousand
packets, a few hundred requests. Usage: vdabuse.py HOST PORT COOKIE PEER_ID
(a logged-in cookie and a joined participant for the SDP cases). Prints a
summary; exits 1 if a request got no HTTP answer at all."""
import json
import os
import random
import socket
import ssl
import struct
import sys
import zlib

host, port, cookie, peer = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rnd = random.Random(6)


def stun(username=b"abcd:efgh", mi=True, fp=True, badlen=False):
    attrs = struct.pack("!HH", 6, len(username)) + username + b"\0" * (-len(username) % 4)
    if mi:
        attrs += struct.pack("!HH", 8, 20) + os.urandom(20)
    body_len = len(attrs) + (8 if fp else 0) + (7 if badlen else 0)
    msg = struct.pack("!HHI", 1, body_len, 0x2112A442) + os.urandom(12) + attrs
    if fp:
        crc = (zlib.crc32(msg) ^ 0x5354554E) & 0xFFFFFFFF
        msg += struct.pack("!HHI", 0x8028, 4, crc)
    return msg


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    for i in range(3000):
        kind = i % 6
        if kind == 0:
            pkt = os.urandom(rnd.randint(0, 1500))
        elif kind == 1:
            pkt = stun(username=os.urandom(rnd.randint(0, 40)).hex().encode()[:60])
        elif kind == 2:
            pkt = stun(badlen=True)
        elif kind == 3:
            pkt = stun()[: rnd.randint(0, 60)]
        elif kind == 4:
            pkt = bytes([22, 254, 253]) + os.urandom(rnd.randint(0, 300))
        else:
            pkt = bytes([0x80, rnd.choice([96, 111, 200, 201, 206])]) + os.urandom(rnd.randint(0, 1200))
        s.sendto(pkt, (host, port))
        n += 1
    s.close()
    return n


def tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def request(raw):
    """Send raw bytes over TLS; return the status code or None."""
    try:
        with socket.create_connection((host, port), timeout=10) as t:
            with tls().wrap_socket(t) as s:
                s.sendall(raw)
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1."):
                    return int(data[9:12])
                return None
    except (OSError, ssl.SSLError):
        return None


def post(path, body, ctype="application/json", ck=cookie):
    if isinstance(body, str):
        body = body.encode()
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nCookie: nexus_token=%s\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n" % (path, ctype, ck, len(body)))
    return request(head.encode() + body)


def http():
    answered = 0
    silent = []
    cases = []
    for _ in range(20):  # plain TCP garbage, no TLS
        try:
            with socket.create_connection((host, port), timeout=5) as t:
                t.sendall(os.urandom(rnd.randint(1, 3000)))
        except OSError:
            pass
    for _ in range(30):
        cases.append(("junk", lambda: request(os.urandom(rnd.randint(1, 2000)) + b"\r\n\r\n"), None))
    cases += [
        ("bad json", lambda: post("/api/join", "{nope"), 400),
        ("json array", lambda: post("/api/join", "[1,2]"), 400),
        ("text/plain", lambda: post("/api/join", '{"room":"x"}', "text/plain"), 415),
        ("huge body", lambda: post("/api/join", "x" * (600 * 1024)), (413, None)),
        ("long room", lambda: post("/api/join", json.dumps({"room": "r" * 500})), 400),
        ("forged cookie", lambda: post("/api/join", '{"room":"standup"}', ck="v1.alice.99999999999.00.00"), 401),
        ("no cookie", lambda: post("/api/offer", '{"id":"x"}', ck=""), 401),
        ("bad code", lambda: post("/api/login", '{"code":"' + "0" * 32 + '"}'), 401),
        ("unknown peer", lambda: post("/api/offer", json.dumps({"id": "0" * 16, "sdp": "v=0"})), 404),
        ("sdp junk", lambda: post("/api/offer", json.dumps({"id": peer, "sdp": os.urandom(500).hex()})), 400),
        ("sdp no ice", lambda: post("/api/offer", json.dumps({"id": peer, "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"})), 400),
        ("sdp many m", lambda: post("/api/offer", json.dumps({"id": peer, "sdp": "v=0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\na=fingerprint:sha-256 AA\r\n" + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n" * 200})), 400),
        ("subscribe junk", lambda: post("/api/offer", json.dumps({"id": peer, "sdp": "v=0", "subscribe": {"a": 5}})), 400),
        ("nul in json", lambda: post("/api/state", '{"id":"%s","reaction":"a\\u0000b"}' % peer), 400),
        ("bad bool", lambda: post("/api/state", json.dumps({"id": peer, "muted": "yes"})), 400),
        ("unknown api", lambda: request(b"GET /api/nope HTTP/1.1\r\nHost: x\r\nCookie: nexus_token=" + cookie.encode() + b"\r\n\r\n"), 404),
        ("bad method", lambda: request(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"), (405, 501)),
        ("path junk", lambda: request(b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"), 404),
        ("huge header", lambda: request(b"GET / HTTP/1.1\r\nX: " + b"a" * 40000 + b"\r\n\r\n"), None),
    ]
    for name, fn, want in cases:
        got = fn()
        if got is not None:
            answered += 1
        if isinstance(want, tuple) and got in want:
            continue
        if want is not None and got != want:
            silent.append("%s: got %s, wanted %s" % (name, got, want))
    return answered, silent


n = udp()
answered, wrong = http()
print("sent %d garbage datagrams; %d bad requests answered" % (n, answered))
for w in wrong:
    print("WRONG: " + w)
sys.exit(1 if wrong else 0)
