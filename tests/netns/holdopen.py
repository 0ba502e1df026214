#!/usr/bin/env python3
"""holdopen.py - open N keep-alive HTTP connections and hold them.

    holdopen.py ADDR PORT N SECONDS

Sends one GET on each of N new connections to ADDR:PORT, prints the body
of each answer (one line each, "ERR" for a failure), then "ready", and
holds the connections open until SECONDS have passed or SIGTERM arrives;
then closes them. Bounded in time.
"""
import signal
import socket
import sys
import time


def request(sock):
    """One keep-alive GET / on SOCK: (status is 200, body without spaces)."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return head.startswith(b"HTTP/1.1 200"), body.decode().strip()


def get(sock):
    return request(sock)[1]

def main():
    addr, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    held = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((addr, port))
            print(get(s), flush=True)
            held.append(s)
        except OSError:
            print("ERR", flush=True)
            s.close()
    print("ready", flush=True)
    try:
        time.sleep(secs)
    finally:
        for s in held:
            s.close()


if __name__ == "__main__":
    main()
