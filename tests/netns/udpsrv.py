#!/usr/bin/env python3
"""udpsrv.py - tiny UDP server and client of the netns tests (stdlib only).

  udpsrv.py serve NAME PORT [--bind ADDR]
      Answer every datagram with NAME, sent from the address the datagram
      was sent to (IP_PKTINFO, IPV6_PKTINFO), so that a real server holding
      the VIP on lo answers from the VIP as LVS-DR needs.  Listens on IPv4
      (ADDR, default 0.0.0.0) and, where IPv6 is on and no ADDR is given,
      on IPv6 too.  Prints "ready" once bound and "from IP:PORT to IP" per
      datagram (flushed, before the answer), so tests can count.

      With --echo, answer every datagram with itself instead (as large as
      it came: its fragments go back through the same paths); with
      --digest, with the SHA-256 of it in hex (a short answer).

  udpsrv.py ask ADDR PORT [--sport N] [--timeout S] [--message M] [--size N]
      Send one datagram to ADDR:PORT (IPv4 or IPv6) from a connected
      socket (so only an answer from ADDR:PORT is accepted), print the
      answer; exit 1 if none comes within S seconds (default 2).  With
      --size N, send N bytes of a pattern to an --echo (or --digest)
      server and print "intact N" when the same N bytes (or their
      digest) come back, else exit 1.
"""

import argparse
import hashlib
import select
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)


def answer(s, reply, six):
    data, anc, _flags, peer = s.recvmsg(65535, socket.CMSG_SPACE(20))
    local = None
    for level, kind, cdata in anc:
        if not six and level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
            local = cdata[8:12]
        elif six and level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO:
            # struct in6_pktinfo { in6_addr addr; int ifindex; }
            local = cdata[0:16]
    cmsg = []
    if local is not None and not six:
        cmsg = [(socket.IPPROTO_IP, IP_PKTINFO,
                 struct.pack("=i4s4s", 0, local, b"\0\0\0\0"))]
    elif local is not None:
        cmsg = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack("=16si", local, 0))]
    if reply == b"digest":
        out = hashlib.sha256(data).hexdigest().encode()
    else:
        out = data if reply is None else reply
    dst = socket.inet_ntop(socket.AF_INET6 if six else socket.AF_INET, local) \
        if local else "?"
    # The line before the answer: a test that counts lines once it has its
    # answer must find every one there.
    print("from %s:%d to %s len %d" % (peer[0], peer[1], dst, len(data)),
          flush=True)
    s.sendmsg([out], cmsg, 0, peer)


def serve(args):
    socks = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind((args.bind, args.port))
    socks.append((s, False))
    if args.bind == "0.0.0.0":
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
            s6.bind(("::", args.port))
            socks.append((s6, True))
        except OSError:
            pass
    reply = None if args.echo else b"digest" if args.digest else args.name.encode() + b"\n"
    print("ready", flush=True)
    six = {sk.fileno(): v6 for sk, v6 in socks}
    byfd = {sk.fileno(): sk for sk, _ in socks}
    while True:
        ready, _, _ = select.select(list(byfd), [], [])
        for fd in ready:
            answer(byfd[fd], reply, six[fd])


def same(answer, sent):
    """An --echo server's answer is what was sent; a --digest server's, its SHA-256."""
    return answer == sent or answer == hashlib.sha256(sent).hexdigest().encode()


def pattern(n, seed):
    """N bytes that differ from one datagram, and one offset, to the next."""
    return bytes((i * 7 + seed + i // 251) & 0xff for i in range(n))


def ask(args):
    fam = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if args.sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.sport))
    s.connect((args.addr, args.port))
    s.settimeout(args.timeout)
    if args.size:
        want = pattern(args.size, args.sport)
        s.send(want)
        try:
            data = s.recv(65535)
        except (socket.timeout, ConnectionRefusedError) as e:
            print("no answer from %s:%d: %s" % (args.addr, args.port, e), file=sys.stderr)
            return 1
        if not same(data, want):
            print("answer of %d bytes differs from the %d sent" % (len(data), len(want)),
                  file=sys.stderr)
            return 1
        print("intact %d" % len(want))
        return 0
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
    ps.add_argument("--echo", action="store_true")
    ps.add_argument("--digest", action="store_true")
    pa = sub.add_parser("ask")
    pa.add_argument("addr")
    pa.add_argument("port", type=int)
    pa.add_argument("--sport", type=int, default=0)
    pa.add_argument("--timeout", type=float, default=2.0)
    pa.add_argument("--message", default="hello")
    pa.add_argument("--size", type=int, default=0)
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
