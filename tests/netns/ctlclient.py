#!/usr/bin/env python3
"""ctlclient.py - clients of vsrouted's control socket that misbehave.

    ctlclient.py flood SOCK N GOFILE
        Sends N "conns" requests on one connection without reading, prints
        "sent N", waits (at most 120 s) until GOFILE exists, then reads
        until the N answers (each ends with a line "ok") are in, and prints
        "answers K bytes B" (K < N if the daemon closed the connection).

    ctlclient.py idle SOCK N SECONDS
        Opens N connections and sends nothing; prints "open N", then keeps
        them until SECONDS have passed or SIGTERM arrives.

    ctlclient.py fill SOCK MAX SECONDS
        Opens connections one by one, each asking "timeout" and kept while
        it is answered within 5 s, until one is not (or MAX are); prints
        "answered K", then keeps the K until SECONDS have passed or SIGTERM.

    ctlclient.py stall SOCK N
        Sends N "conns" requests and then never reads; prints "sent N" and
        waits for the daemon to close the connection (at most 120 s):
        prints "closed after S s" or "still open".

Bounded in time; every wait has a limit.
"""
import os
import select
import signal
import socket
import sys
import time


def connect(path):
    """A connection to PATH; the connect itself blocks while the listener's
    backlog is full (a non-blocking one would fail with EAGAIN)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s


def idle(path, n, secs):
    socks = [connect(path) for _ in range(n)]
    print("open", len(socks), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    time.sleep(secs)


def fill(path, most, secs):
    kept = []
    while len(kept) < most:
        s = connect(path)
        s.sendall(b"timeout\n")
        # 5 s: an answer slowed by a busy machine must not end the filling
        # (the unanswered one, which ends it, costs the wait once)
        s.settimeout(5)
        try:
            answer = s.recv(4096)
        except socket.timeout:
            answer = b""
        if not answer.startswith(b"timeout "):
            s.close()
            break
        kept.append(s)
    print("answered", len(kept), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    time.sleep(secs)


def send_all(s, n):
    s.setblocking(True)
    s.settimeout(120)
    s.sendall(b"conns\n" * n)
    print("sent", n, flush=True)


def flood(path, n, gofile):
    s = connect(path)
    send_all(s, n)
    end = time.time() + 120
    while not os.path.exists(gofile) and time.time() < end:
        time.sleep(0.1)
    got, size, buf = 0, 0, b""
    s.settimeout(30)
    while got < n:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        if not chunk:
            break
        size += len(chunk)
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        got += sum(1 for line in lines if line == b"ok")
    print("answers", got, "bytes", size, flush=True)


def stall(path, n):
    s = connect(path)
    send_all(s, n)
    t0 = time.time()
    # The daemon's close shows as POLLRDHUP even with its answers unread.
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP)
    while time.time() - t0 < 120:
        if p.poll(1000):
            print("closed after %d s" % (time.time() - t0), flush=True)
            return
    print("still open", flush=True)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "idle":
        idle(path, int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "flood":
        flood(path, int(sys.argv[3]), sys.argv[4])
    elif mode == "fill":
        fill(path, int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "stall":
        stall(path, int(sys.argv[3]))
    else:
        sys.exit("usage: ctlclient.py idle|flood|fill|stall SOCK ...")


if __name__ == "__main__":
    main()
