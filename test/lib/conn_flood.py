#!/usr/bin/env python3
"""Idle TCP connections for test_conn_flood: opens COUNT plain connections
from SRC (an address on lo) to 127.0.0.1:PORT, sends nothing, and reports on
stdout (one line each, flushed):
  opened N            all connects done (the kernel finished each handshake)
  early OPEN CLOSED   one second later: held, and closed by the server
  closed SECS OPEN    every WAIT seconds after that, until all are closed or
                      LIMIT seconds have passed
Usage: conn_flood.py PORT SRC[,SRC...] COUNT_PER_SRC LIMIT_SECS"""
import errno
import resource
import socket
import sys
import time


def closed(s):
    try:
        return s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    port, srcs, count, limit = int(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3]), float(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for src in srcs:
        for _ in range(count):
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(3)
            try:
                s.connect(("127.0.0.1", port))
            except OSError as e:
                if e.errno not in (errno.ECONNRESET, errno.ECONNREFUSED, errno.ETIMEDOUT) and not isinstance(e, socket.timeout):
                    raise
            s.setblocking(False)
            socks.append(s)
    start = time.monotonic()
    print("opened %d" % len(socks), flush=True)
    time.sleep(1)
    n = sum(closed(s) for s in socks)
    print("early %d %d" % (len(socks) - n, n), flush=True)
    while time.monotonic() - start < limit:
        time.sleep(0.5)
        n = sum(closed(s) for s in socks)
        if n == len(socks):
            break
    print("closed %.1f %d" % (time.monotonic() - start, len(socks) - n), flush=True)


main()
