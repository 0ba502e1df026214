#!/usr/bin/env python3
"""udpsrv.py - tiny UDP server and client of the netns tests (stdlib only).

  udpsrv.py serve NAME PORT [--bind ADDR]
      Answer every datagram with NAME, sent from the address the datagram
      was sent to (IP_PKTINFO), so that a real server holding the VIP on lo
      answers from the VIP as LVS-DR needs.  Prints "ready" once bound and
      "from IP:PORT to IP" per datagram (flushed), so tests can count.

  udpsrv.py ask ADDR PORT [--sport N] [--timeout S] [--message M]
      Send one datagram to ADDR:PORT from a connected socket (so only an
      answer from ADDR:PORT is accepted), print the answer; exit 1 if none
      comes within S seconds (default 2).
"""

import argparse
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def serve(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind((args.bind, args.port))
    reply = args.name.encode() + b"\n"
    print("ready", flush=True)
    while True:
        data, anc, _flags, peer = s.recvmsg(65535, socket.CMSG_SPACE(12))
        local = None
        for level, kind, cdata in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
                local = cdata[8:12]
        cmsg = []
        if local is not None:
            cmsg = [(socket.IPPROTO_IP, IP_PKTINFO,
                     struct.pack("=i4s4s", 0, local, b"\0\0\0\0"))]
        s.sendmsg([reply], cmsg, 0, peer)
        dst = socket.inet_ntoa(local) if local else "?"
        print("from %s:%d to %s len %d" % (peer[0], peer[1], dst, len(data)),
              flush=True)


def ask(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", args.sport))
    s.connect((args.addr, args.port))
    s.settimeout(args.timeout)
    s.send(args.message.encode())
    try:
        data = s.recv(65535)
    except (socket.timeout, ConnectionRefusedError) as e:
        print("no answer from %s:%d: %s" % (args.addr, args.port, e),
              file=sys.stderr)
        return 1
    sys.stdout.write(data.decode(errors="replace"))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("serve")
    ps.add_argument("name")
    ps.add_argument("port", type=int)
    ps.add_argument("--bind", default="0.0.0.0")
    pa = sub.add_parser("ask")
    pa.add_argument("addr")
    pa.add_argument("port", type=int)
    pa.add_argument("--sport", type=int, default=0)
    pa.add_argument("--timeout", type=float, default=2.0)
    pa.add_argument("--message", default="hello")
    args = p.parse_args()
    if args.cmd == "serve":
        try:
            serve(args)
        except KeyboardInterrupt:
            pass
        return 0
    return ask(args)


if __name__ == "__main__":
    sys.exit(main())
