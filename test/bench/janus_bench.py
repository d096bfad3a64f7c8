#!/usr/bin/env python3
"""Janus AudioBridge under the shape of audio_bench: one room, TALKERS plain
RTP participants sending 20 ms Opus packets every 20 ms, and a growing
number of plain RTP participants that only listen. AudioBridge mixes with
one Opus encode per participant, so its cost grows with the room. For each
step: Janus' CPU use (all threads) and the fewest packets any listener
received against the 50 per second of a real-time stream.

usage: janus_bench.py HTTP_PORT OPUS_FILE TALKERS SECONDS COUNT...
OPUS_FILE: an Ogg Opus file of 20 ms packets (the talkers loop it).
Janus runs elsewhere (audio_bench.sh starts it); this only drives it."""
import json
import os
import random
import socket
import struct
import sys
import time
import urllib.request

ROOM = 4242


def ogg_packets(path):
    """The Opus packets of an Ogg file (headers skipped)."""
    data = open(path, "rb").read()
    pkts, cur, off = [], b"", 0
    while off + 27 <= len(data) and data[off:off + 4] == b"OggS":
        nseg = data[off + 26]
        segs = data[off + 27:off + 27 + nseg]
        body = off + 27 + nseg
        for s in segs:
            cur += data[body:body + s]
            body += s
            if s < 255:
                pkts.append(cur)
                cur = b""
        off = body
    return [p for p in pkts if not p.startswith(b"OpusHead") and not p.startswith(b"OpusTags")]


class Janus:
    def __init__(self, port):
        self.url = "http://127.0.0.1:%d/janus" % port

    def post(self, path, body):
        body["transaction"] = "%08x" % random.getrandbits(32)
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())

    def get(self, path):
        return json.loads(urllib.request.urlopen(self.url + path, timeout=30).read())


def join(j, name, rtp_port):
    """A session, a handle and a plain-RTP join; returns Janus' RTP address."""
    sid = j.post("", {"janus": "create"})["data"]["id"]
    hid = j.post("/%d" % sid, {"janus": "attach", "plugin": "janus.plugin.audiobridge"})["data"]["id"]
    j.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {
        "request": "join", "room": ROOM, "display": name,
        "rtp": {"ip": "127.0.0.1", "port": rtp_port, "payload_type": 111}}})
    for _ in range(20):
        evs = j.get("/%d?maxev=5" % sid)
        evs = evs if isinstance(evs, list) else [evs]
        for ev in evs:
            pd = ev.get("plugindata", {}).get("data", {})
            if pd.get("audiobridge") == "joined" and "rtp" in pd:
                return sid, (pd["rtp"]["ip"], pd["rtp"]["port"])
    raise RuntimeError("no joined event for %s" % name)


def cpu_of(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def main():
    port, opus, talkers, secs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    counts = [int(c) for c in sys.argv[5:]]
    janus_pid = int(os.environ["JANUS_PID"])
    pkts = ogg_packets(opus)
    j = Janus(port)
    socks, targets, sessions = [], [], []
    print("Janus AudioBridge, one room, %d plain-RTP talkers; %.0f s per step" % (talkers, secs))
    print("  %9s %10s %10s %s" % ("listeners", "janus_cpu", "min_pkts", "real time"))
    sys.stdout.flush()
    seq = 0
    for n in counts:
        while len(socks) < talkers + n:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            sid, addr = join(j, "p%d" % len(socks), s.getsockname()[1])
            # Janus starts a plain-RTP participant's stream once it has
            # heard from it: one packet of silence
            s.sendto(struct.pack(">BBHII", 0x80, 111, 0, 0, 5000 + len(socks)) + b"\xf8\xff\xfe",
                     addr)
            socks.append(s)
            targets.append(addr)
            sessions.append(sid)
        got = [0] * len(socks)
        t0 = time.monotonic()
        c0 = cpu_of(janus_pid)
        next_t = t0
        while time.monotonic() - t0 < secs:
            for t in range(talkers):
                p = pkts[(seq + 7 * t) % len(pkts)]
                hdr = struct.pack(">BBHII", 0x80, 111, seq & 0xFFFF, (seq * 960) & 0xFFFFFFFF, 1000 + t)
                socks[t].sendto(hdr + p, targets[t])
            seq += 1
            next_t += 0.02
            while True:
                for i, s in enumerate(socks):
                    try:
                        while True:
                            s.recv(2048)
                            got[i] += 1
                    except BlockingIOError:
                        pass
                left = next_t - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, 0.005))
        wall = time.monotonic() - t0
        cpu = 100 * (cpu_of(janus_pid) - c0) / wall
        low = min(got[talkers:]) if n else 0
        rt = low >= 0.98 * 50 * wall - 2 and cpu < 100
        print("  %9d %9.0f%% %10d %s" % (n, cpu, low, "yes" if rt else "NO"))
        sys.stdout.flush()
        # keep the sessions alive between steps
        for sid in sessions:
            j.post("/%d" % sid, {"janus": "keepalive"})


if __name__ == "__main__":
    main()
