#!/usr/bin/env python3
"""ops-conngrow.py - keep-alive connections across a reload that grows conn_max.

    ops-conngrow.py ADDR PORT N M GO

Opens N keep-alive HTTP connections to ADDR:PORT, one GET each, prints
"held K" (K answered); waits until the file GO exists; then opens M more,
one GET each, and prints "more K"; then a second GET on each of the N
first ones, "again K", and on the M, "again2 K"; then waits for GO to be
removed, and a third GET on the N, "third K". Holds every connection
until then. Bounded in time: every socket operation has a timeout, each
wait 60 s.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from holdopen import request  # noqa: E402  the same keep-alive GET


def open_n(addr, port, n):
    out = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((addr, port))
            if request(s)[0]:
                out.append(s)
                continue
        except OSError:
            pass
        s.close()
    return out


def answered(socks):
    k = 0
    for s in socks:
        try:
            if request(s)[0]:
                k += 1
        except OSError:
            pass
    return k


def wait(cond):
    end = time.time() + 60
    while not cond() and time.time() < end:
        time.sleep(0.1)


def main():
    addr, port, n, m, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    held = open_n(addr, port, n)
    print("held", len(held), flush=True)
    wait(lambda: os.path.exists(go))
    more = open_n(addr, port, m)
    print("more", len(more), flush=True)
    print("again", answered(held), flush=True)
    print("again2", answered(more), flush=True)
    wait(lambda: not os.path.exists(go))
    print("third", answered(held), flush=True)
    for s in held + more:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
