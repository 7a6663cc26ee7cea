#!/usr/bin/env python3
"""GET /ping every 5 ms on one keep-alive connection until STOPFILE exists;
prints the latencies' p50, p99 and max in milliseconds and the count.
READYFILE, if given, is created once the first answer is in, so the load
can start only when the pinger measures.

    pinger.py PORT STOPFILE [READYFILE]
"""
import os
import socket
import sys
import time

port, stop = int(sys.argv[1]), sys.argv[2]
ready = sys.argv[3] if len(sys.argv) > 3 else None
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = b"GET /ping HTTP/1.1\r\nHost: bench\r\n\r\n"
lat = []
buf = b""
next_at = time.perf_counter()
while not os.path.exists(stop):
    t0 = time.perf_counter()
    s.sendall(req)
    # Read one response: a head with Content-Length and its body.
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1").lower()
            n = 0
            for line in head.split("\r\n"):
                if line.startswith("content-length:"):
                    n = int(line.split(":", 1)[1])
            if len(buf) >= end + 4 + n:
                buf = buf[end + 4 + n:]
                break
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("pinger: the server closed the connection")
        buf += chunk
    lat.append((time.perf_counter() - t0) * 1000)
    if ready and len(lat) == 1:
        open(ready, "w").close()
    next_at += 0.005
    time.sleep(max(0, next_at - time.perf_counter()))
lat.sort()


def pct(p):
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")


print("ping_p50_ms=%.3f ping_p99_ms=%.3f ping_max_ms=%.3f pings=%d" % (pct(50), pct(99), lat[-1] if lat else 0, len(lat)))
