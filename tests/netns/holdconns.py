#!/usr/bin/env python3
"""holdconns.py - hold N keep-alive HTTP connections, try one more, reuse the N.

    holdconns.py ADDR PORT N

Opens N TCP connections to ADDR:PORT and sends one HTTP/1.1 GET on each
(keep-alive), then tries an (N+1)th connection with a 2 s timeout, then
sends a second GET on each of the N held connections. Prints, one per line:
    held K          K of the N first requests were answered
    extra ok|fail   whether the extra connection was answered
    again K         K of the N second requests were answered
Bounded in time: every socket operation has a timeout.
"""
import socket
import sys

from holdopen import request  # the same keep-alive GET


def get(sock):
    return request(sock)[0]


def main():
    addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    held = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((addr, port))
            if get(s):
                held.append(s)
                continue
        except OSError:
            pass
        s.close()
    print("held", len(held), flush=True)

    extra = socket.socket()
    extra.settimeout(2)
    try:
        extra.connect((addr, port))
        print("extra", "ok" if get(extra) else "fail", flush=True)
    except OSError:
        print("extra fail", flush=True)
    finally:
        extra.close()

    again = 0
    for s in held:
        try:
            again += get(s)
        except OSError:
            pass
    print("again", again, flush=True)
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
