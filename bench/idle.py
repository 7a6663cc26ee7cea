#!/usr/bin/env python3
"""Idle keep-alive connections for scenario S6.

Opens N connections to HOST:PORT, sends one `GET /ping` on each, reads the
whole response, and keeps every connection open. With --pids it measures the
resident memory (VmRSS from /proc, summed over the PIDs, e.g. nginx's master
and worker) before the first connection and again after all N are idle and
--settle seconds have passed, and prints

    IDLE conns=N failed=F rss_before_kib=A rss_after_kib=B bytes_per_conn=X

where X = (B - A) * 1024 / N. Without --pids it prints the counts and holds
the connections for --hold seconds. All connections are closed on exit.

Connections are opened --window at a time (non-blocking, one selector), so
19,000 take a second or two. The soft descriptor limit is raised to the hard
one; N connections need N + a few descriptors.
"""
import argparse
import resource
import selectors
import socket
import sys
import time


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


class Conn:
    __slots__ = ("sock", "buf", "sent", "done")

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.sent = 0
        self.done = False


def response_complete(buf):
    """True once buf holds a whole response with a Content-Length body."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buf) >= end + 4 + length


def open_all(host, port, n, window, timeout):
    request = f"GET /ping HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    idle, failed = [], 0
    started = 0
    inflight = 0
    deadline = time.monotonic() + timeout
    while len(idle) + failed < n:
        while started < n and inflight < window:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                failed += 1
                started += 1
                continue
            sel.register(s, selectors.EVENT_WRITE, Conn(s))
            started += 1
            inflight += 1
        if time.monotonic() > deadline:
            break
        for key, events in sel.select(timeout=1.0):
            c = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect")
                    c.sent += c.sock.send(request[c.sent:])
                    if c.sent == len(request):
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(4096)
                if not data:
                    raise OSError("closed by server")
                c.buf += data
                if response_complete(c.buf):
                    ok = c.buf.startswith(b"HTTP/1.1 200")
                    sel.unregister(c.sock)
                    inflight -= 1
                    if ok:
                        c.buf = b""
                        idle.append(c.sock)
                    else:
                        c.sock.close()
                        failed += 1
            except OSError:
                sel.unregister(c.sock)
                c.sock.close()
                inflight -= 1
                failed += 1
    # Anything still in flight at the deadline counts as failed.
    for key in list(sel.get_map().values()):
        key.fileobj.close()
        failed += 1
    sel.close()
    return idle, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", "--conns", type=int, default=19000)
    ap.add_argument("--pids", default="", help="comma-separated PIDs whose RSS is summed")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait after the last connection before measuring")
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep the connections open after measuring")
    ap.add_argument("--window", type=int, default=256, help="connections being opened at once")
    ap.add_argument("--timeout", type=float, default=120.0, help="give up opening connections after this many seconds")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.conns + 16 > hard:
        print(f"idle.py: warning: descriptor limit {hard} is below {args.conns} connections", file=sys.stderr)

    pids = [int(p) for p in args.pids.split(",") if p]
    before = rss_kib(pids) if pids else 0
    t0 = time.monotonic()
    idle, failed = open_all(args.host, args.port, args.conns, args.window, args.timeout)
    opened = time.monotonic() - t0
    time.sleep(args.settle)
    # Every connection must still be open: a server that dropped idle
    # connections would look cheap.
    sel = selectors.DefaultSelector()
    for s in idle:
        sel.register(s, selectors.EVENT_READ)
    dropped = len(sel.select(timeout=0))
    sel.close()
    line = f"IDLE conns={len(idle)} failed={failed} dropped={dropped} open_s={opened:.2f}"
    if pids:
        after = rss_kib(pids)
        per = (after - before) * 1024 / len(idle) if idle else 0
        line += f" rss_before_kib={before} rss_after_kib={after} bytes_per_conn={per:.0f}"
    print(line, flush=True)
    time.sleep(args.hold)
    for s in idle:
        s.close()
    return 0 if idle and failed == 0 and dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
