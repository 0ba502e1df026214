#!/usr/bin/env python3
"""pushsrv.py - a server that speaks first after a pause, and its client (stdlib only).

  pushsrv.py serve PORT DELAY FILE
      TCP server on all addresses: on each connection, wait DELAY seconds
      without a byte either way, then send FILE and close. Prints "ready"
      once listening and "sent N" per connection (flushed).

  pushsrv.py fetch ADDR PORT N [--timeout S]
      Open N connections to ADDR:PORT at once and read each to its end;
      print the sha256 of what each brought (one line each, "ERR" for a
      failure). Every socket operation times out after S seconds (default 30).

The pause lets the TAP's flow-steering entries age out (the kernel forgets
a flow's queue after about 3 s), so the server's first data after it may
reach the director on another queue than the connection's first packets:
the case workers must handle (nat-workers.sh).
"""

import argparse
import hashlib
import socket
import sys
import threading
import time


def serve(args):
    with open(args.file, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", args.port))
    s.listen(128)
    print("ready", flush=True)

    def push(c):
        try:
            time.sleep(args.delay)
            c.sendall(data)
            print("sent %d" % len(data), flush=True)
        except OSError as e:
            print("error %s" % e, flush=True)
        finally:
            c.close()

    while True:
        c, _ = s.accept()
        c.settimeout(30)
        threading.Thread(target=push, args=(c,), daemon=True).start()


def fetch(args):
    out = [None] * args.n

    def one(i):
        try:
            c = socket.create_connection((args.addr, args.port), timeout=args.timeout)
            h = hashlib.sha256()
            while True:
                b = c.recv(65536)
                if not b:
                    break
                h.update(b)
            c.close()
            out[i] = h.hexdigest()
        except OSError:
            out[i] = "ERR"

    ts = [threading.Thread(target=one, args=(i,)) for i in range(args.n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(args.timeout * 2)
    for r in out:
        print(r or "ERR")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve")
    sv.add_argument("port", type=int)
    sv.add_argument("delay", type=float)
    sv.add_argument("file")
    fe = sub.add_parser("fetch")
    fe.add_argument("addr")
    fe.add_argument("port", type=int)
    fe.add_argument("n", type=int)
    fe.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()
    serve(args) if args.cmd == "serve" else fetch(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
