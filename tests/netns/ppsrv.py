#!/usr/bin/env python3
"""ppsrv.py - servers and clients of the netns tests that speak the PROXY protocol v2 (stdlib only).

Every header is read and checked field by field against HAProxy's
proxy-protocol.txt, section 2.2: the 12-byte signature, version 2 and
command PROXY (0x21), the family and transport (0x11 TCP/IPv4, 0x21
TCP/IPv6, 0x12 UDP/IPv4, 0x22 UDP/IPv6), the length (12 or 36, nothing
more), the source and destination addresses and ports. Addresses are
written ADDR:PORT, [ADDR6]:PORT.

  ppsrv.py tcp NAME PORT [--banner]
      TCP on every address of both families. A connection must begin with
      a STREAM header: "conn SRC DST peer PEER" is logged, or "bad WHY peer
      PEER" and the connection is closed. With --banner the server speaks
      first, as an SMTP server does: "220 NAME SRC" right after the header,
      before the client said anything. Then lines: "SIZE N" and N bytes
      answer "250 SHA256 N"; "QUIT" answers "221 NAME" and ends it.

  ppsrv.py udp NAME PORT
      UDP on every address of both families. Each datagram must begin with
      a DGRAM header: the answer is "NAME SRC DST PAYLOAD" (the payload
      after the header, as text), logged as "dgram SRC DST peer PEER len N";
      a datagram without one is answered "bad WHY" and logged so.

  ppsrv.py ask-tcp ADDR PORT [--banner] [--size N]
      Connect; with --banner wait for the banner first (sending nothing);
      then send "SIZE N" and N random bytes, check the answer's sha256, and
      QUIT. Prints "local ADDR:PORT", each line the server sent, and "sha
      ok" or "sha BAD"; exit 1 on any failure or after 20 s.

  ppsrv.py ask-udp ADDR PORT MESSAGE [--sport N]
      One datagram; prints "local ADDR:PORT" and the answer; exit 1 if none
      comes within 3 s.

Prints "ready" once listening (servers), flushed, one line per event.
"""

import argparse
import hashlib
import ipaddress
import os
import socket
import struct
import sys
import threading

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def fmt(addr, port):
    a = ipaddress.ip_address(addr)
    return ("[%s]:%d" if a.version == 6 else "%s:%d") % (a, port)


def sockname(sa):
    host = sa[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return fmt(host, sa[1])


def parse(hdr, body, dgram):
    """The header's 16 fixed bytes HDR and what follows BODY: (src, dst) or raise ValueError."""
    if hdr[:12] != SIG:
        raise ValueError("signature %s" % hdr[:12].hex())
    if hdr[12] != 0x21:
        raise ValueError("version/command 0x%02x" % hdr[12])
    fam = hdr[13]
    want = {0x11: 12, 0x21: 36} if not dgram else {0x12: 12, 0x22: 36}
    if fam not in want:
        raise ValueError("family/transport 0x%02x" % fam)
    n = struct.unpack("!H", hdr[14:16])[0]
    if n != want[fam] or len(body) != n:
        raise ValueError("length %d for family 0x%02x" % (n, fam))
    alen = 4 if fam >> 4 == 1 else 16
    src = ipaddress.ip_address(body[:alen])
    dst = ipaddress.ip_address(body[alen:2 * alen])
    sport, dport = struct.unpack("!HH", body[2 * alen:2 * alen + 4])
    return fmt(src, sport), fmt(dst, dport)


def say(*words):
    print(*words, flush=True)


def recv_exact(conn, n):
    """N bytes from CONN, nothing more (what follows is read buffered)."""
    b = b""
    while len(b) < n:
        chunk = conn.recv(n - len(b))
        if not chunk:
            raise ValueError("short read (%d of %d bytes)" % (len(b), n))
        b += chunk
    return b


def tcp_conn(conn, peer, name, banner):
    conn.settimeout(30)
    try:
        hdr = recv_exact(conn, 16)
        n = struct.unpack("!H", hdr[14:16])[0] if hdr[:12] == SIG else 0
        src, dst = parse(hdr, recv_exact(conn, n) if n <= 216 else b"", False)
    except (ValueError, OSError) as e:
        say("bad %s peer %s" % (e, sockname(peer)))
        conn.close()
        return
    say("conn %s %s peer %s" % (src, dst, sockname(peer)))
    try:
        if banner:
            conn.sendall(("220 %s %s\r\n" % (name, src)).encode())
        r = conn.makefile("rb")
        while True:
            line = r.readline()
            if not line:
                break
            w = line.split()
            if w[:1] == [b"SIZE"] and len(w) == 2:
                left = int(w[1])
                h = hashlib.sha256()
                total = left
                while left > 0:
                    chunk = r.read(min(left, 65536))
                    if not chunk:
                        break
                    h.update(chunk)
                    left -= len(chunk)
                say("size %d %s from %s" % (total - left, h.hexdigest(), src))
                conn.sendall(("250 %s %d\r\n" % (h.hexdigest(), total - left)).encode())
            elif w[:1] == [b"QUIT"]:
                conn.sendall(("221 %s\r\n" % name).encode())
                break
            else:
                conn.sendall(b"500 what\r\n")
    except (OSError, ValueError) as e:
        say("error %s from %s" % (e, src))
    finally:
        conn.close()


def listeners(kind, port):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    return s


def serve_tcp(args):
    s = listeners(socket.SOCK_STREAM, args.port)
    s.listen(64)
    say("ready")
    while True:
        conn, peer = s.accept()
        threading.Thread(target=tcp_conn, args=(conn, peer, args.name, args.banner),
                         daemon=True).start()


def serve_udp(args):
    s = listeners(socket.SOCK_DGRAM, args.port)
    say("ready")
    while True:
        data, peer = s.recvfrom(65535)
        try:
            n = struct.unpack("!H", data[14:16])[0] if len(data) >= 16 else 0
            src, dst = parse(data[:16], data[16:16 + n], True)
            payload = data[16 + n:]
        except ValueError as e:
            say("bad %s peer %s len %d" % (e, sockname(peer), len(data)))
            s.sendto(("bad %s" % e).encode(), peer)
            continue
        # said before the answer, so that a client holding it finds the line
        say("dgram %s %s peer %s len %d" % (src, dst, sockname(peer), len(payload)))
        s.sendto(("%s %s %s " % (args.name, src, dst)).encode() + payload, peer)


def family(addr):
    return socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET


def ask_tcp(args):
    s = socket.socket(family(args.addr), socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect((args.addr, args.port))
    say("local %s" % sockname(s.getsockname()))
    r = s.makefile("rb")
    ok = True
    if args.banner:
        line = r.readline()
        say(line.decode().rstrip())
        ok = line.startswith(b"220 ")
    data = os.urandom(args.size)
    s.sendall(b"SIZE %d\r\n" % args.size + data)
    line = r.readline()
    say(line.decode().rstrip())
    sha = "250 %s %d" % (hashlib.sha256(data).hexdigest(), args.size)
    ok = ok and line.decode().rstrip() == sha
    say("sha %s" % ("ok" if line.decode().rstrip() == sha else "BAD"))
    s.sendall(b"QUIT\r\n")
    line = r.readline()
    say(line.decode().rstrip())
    ok = ok and line.startswith(b"221 ")
    return 0 if ok else 1


def ask_udp(args):
    s = socket.socket(family(args.addr), socket.SOCK_DGRAM)
    if args.sport:
        s.bind(("::" if family(args.addr) == socket.AF_INET6 else "0.0.0.0", args.sport))
    s.connect((args.addr, args.port))
    s.settimeout(3)
    s.send(args.message.encode())
    say("local %s" % sockname(s.getsockname()))
    try:
        say(s.recv(65535).decode(errors="replace"))
    except OSError as e:
        print("no answer: %s" % e, file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("tcp")
    a.add_argument("name")
    a.add_argument("port", type=int)
    a.add_argument("--banner", action="store_true")
    a = sub.add_parser("udp")
    a.add_argument("name")
    a.add_argument("port", type=int)
    a = sub.add_parser("ask-tcp")
    a.add_argument("addr")
    a.add_argument("port", type=int)
    a.add_argument("--banner", action="store_true")
    a.add_argument("--size", type=int, default=0)
    a = sub.add_parser("ask-udp")
    a.add_argument("addr")
    a.add_argument("port", type=int)
    a.add_argument("message")
    a.add_argument("--sport", type=int, default=0)
    args = p.parse_args()
    if args.cmd == "tcp":
        serve_tcp(args)
    elif args.cmd == "udp":
        serve_udp(args)
    elif args.cmd == "ask-tcp":
        try:
            sys.exit(ask_tcp(args))
        except OSError as e:
            print("error: %s" % e, file=sys.stderr)
            sys.exit(1)
    else:
        sys.exit(ask_udp(args))


if __name__ == "__main__":
    main()
