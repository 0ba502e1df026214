#!/usr/bin/env python3
"""fragsend.py - IP fragments sent by hand (scapy) for tests/netns/frag.sh.

  fragsend.py reverse SRC DST PORT SPORT SIZE
      Send one UDP datagram of SIZE bytes (udpsrv.py's pattern) from
      SRC:SPORT to DST:PORT as fragments of at most 1280 bytes, last one
      first, and wait for an --echo (--digest) server's answer on a socket
      bound to SRC:SPORT and connected to DST:PORT; print "intact SIZE"
      when the same bytes (their digest) come back, else exit 1.  IPv4 or
      IPv6, after DST.

  fragsend.py flood SRC DST PORT COUNT
      Send COUNT later fragments (offset 1480, 1400 bytes of data) of as
      many datagrams whose first fragment never comes, 100 every 5 ms;
      print "sent COUNT".
"""

import random
import socket
import sys
import time

from scapy.all import IP, UDP, IPv6, IPv6ExtHdrFragment, Raw, conf, fragment, fragment6  # noqa

sys.path.insert(0, __import__("os").path.dirname(__file__))
from udpsrv import pattern, same  # noqa: E402

conf.verb = 0


def rawsend(pkts, dst, pace=0):
    """Whole IP packets built by scapy out of a raw socket: the kernel routes them and finds the MAC.
    With PACE, 5 ms of rest after every PACE packets."""
    six = ":" in dst
    r = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i, p in enumerate(pkts):
        r.sendto(bytes(p), (dst, 0))
        if pace and i % pace == pace - 1:
            time.sleep(0.005)
    r.close()


def reverse(src, dst, port, sport, size):
    six = ":" in dst
    s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    s.connect((dst, port))      # an answer counts only from where it was sent
    s.settimeout(3)
    data = pattern(size, sport)
    ident = random.randrange(1, 0xffff)
    if six:
        pkt = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=ident) / UDP(sport=sport, dport=port) / Raw(data)
        frags = fragment6(pkt, 1280)
    else:
        pkt = IP(src=src, dst=dst, id=ident, flags=0) / UDP(sport=sport, dport=port) / Raw(data)
        frags = fragment(pkt, fragsize=1256)
    if len(frags) < 2:
        print("not fragmented", file=sys.stderr)
        return 1
    rawsend(list(reversed(frags)), dst)
    try:
        got = s.recv(65535)
    except socket.timeout:
        print("no answer to %d fragments sent last first" % len(frags), file=sys.stderr)
        return 1
    if not same(got, data):
        print("answer of %d bytes differs from the %d sent" % (len(got), size), file=sys.stderr)
        return 1
    print("intact %d" % size)
    return 0


def flood(src, dst, port, count):
    six = ":" in dst
    out = []
    for i in range(count):
        ident = 0x10000 + i if six else (i % 0xfffe) + 1
        if six:
            p = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(nh=17, offset=185, m=1, id=ident) / Raw(b"x" * 1400)
        else:
            p = IP(src=src, dst=dst, id=ident, proto=17, frag=185, flags="MF") / Raw(b"x" * 1400)
        out.append(p)
    # 100 at a time, 5 ms apart: the kernel's queue into the TAP holds 1000
    # frames, and what a burst puts there while the daemon is off the CPU
    # beyond that is lost before the daemon can count it (frag.sh wants
    # more than half of them counted as dropped for memory)
    rawsend(out, dst, pace=100)
    print("sent %d" % count)
    return 0


def main():
    if sys.argv[1] == "reverse":
        return reverse(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    return flood(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))


if __name__ == "__main__":
    sys.exit(main())
