#!/usr/bin/env python3
"""slowhttp.py - hostile HTTP clients against a listener, bounded in time.

    slowhttp.py endless ADDR PORT MAXBYTES SECONDS
    slowhttp.py slow ADDR PORT N SECONDS
    slowhttp.py connect ADDR PORT N SECONDS

endless: one connection sending a request header that never ends ("X: aaa..."
in 1 KB writes) until the server closes, MAXBYTES were sent or SECONDS
passed, then reading what is left of the answer; prints "sent BYTES" and
"answer STATUS-LINE" (or "answer none").

slow: N connections, each sending the start of a request and then one more
header byte every second, never the blank line, for SECONDS at most;
prints "opened N" once every connect was tried (those beyond the server's
cap and backlog may still be in progress), then "closed K" at the end:
how many the server closed on its own.

connect: N connections opened and closed at once, one after the other,
each waiting 0.5 s at most for an answer; prints "answered K".
"""
import select
import socket
import sys
import time


def endless(addr, port, maxbytes, seconds):
    s = socket.create_connection((addr, port), timeout=5)
    s.setblocking(False)
    sent, answer, end = 0, b"", time.time() + seconds
    chunk = b"GET /metrics HTTP/1.1\r\nX-Endless: " + b"a" * 1000
    while sent < maxbytes and time.time() < end:
        r, w, _ = select.select([s], [s], [], 0.5)
        if r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            answer += data
            if not data:
                break
        if w:
            try:
                sent += s.send(chunk)
            except OSError:
                break
            chunk = b"a" * 1024
    # What the server answered and had not been read yet.
    s.setblocking(True)
    s.settimeout(2)
    try:
        while not answer.endswith(b"\n") or b"\r\n\r\n" not in answer:
            data = s.recv(4096)
            if not data:
                break
            answer += data
    except OSError:
        pass
    s.close()
    print("sent %d" % sent)
    line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    print("answer %s" % (line or "none"))


def slow(addr, port, n, seconds):
    socks, end = [], time.time() + seconds
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((addr, port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            continue
        socks.append([s, False, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "])
    print("opened %d" % len(socks), flush=True)
    closed = 0
    while socks and time.time() < end:
        for entry in list(socks):
            s, _, pending = entry
            try:
                if pending:
                    n = s.send(pending)
                    entry[2] = pending[n:]
                else:
                    s.send(b"a")
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                socks.remove(entry)
                s.close()
                closed += 1
                continue
            try:
                if not s.recv(4096, socket.MSG_DONTWAIT):
                    socks.remove(entry)
                    s.close()
                    closed += 1
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                socks.remove(entry)
                s.close()
                closed += 1
        time.sleep(1)
    for s, _, _ in socks:
        s.close()
    print("closed %d" % closed)


def connect(addr, port, n, seconds):
    answered, end = 0, time.time() + seconds
    for _ in range(n):
        if time.time() >= end:
            break
        s = None
        try:
            s = socket.create_connection((addr, port), timeout=0.5)
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            if s.recv(16):
                answered += 1
        except OSError:
            pass
        finally:
            if s is not None:
                s.close()
    print("answered %d" % answered)


def main():
    mode, addr, port, n, seconds = sys.argv[1:6]
    {"endless": endless, "slow": slow, "connect": connect}[mode](
        addr, int(port), int(n), float(seconds))


if __name__ == "__main__":
    main()
