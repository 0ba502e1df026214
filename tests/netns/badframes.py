#!/usr/bin/env python3
"""badframes.py - send malformed IPv4 or IPv6 frames at a VIP (stdlib only).

  badframes.py --iface eth0 --dst-mac MAC --src IP --dst VIP
               [--count 2000] [--seed 1] [--dport 80] [--list]

IPv6 addresses (SRC and VIP) send IPv6 frames, broken in their own ways:
extension-header chains that loop (a header naming its own kind next,
over and over), run past the payload or end inside a header, come in the
wrong order, repeat or number more than eight, routing headers with
segments left, unknown next headers, fragments of every shape (first,
later, last, repeated, atomic with a truncated transport), payload
lengths of 0 or short of the headers, truncated TCP/UDP/ICMPv6, UDP
checksums of 0.

Sends COUNT Ethernet frames out of IFACE (an AF_PACKET socket, so run it in
the client's namespace), addressed to DST-MAC (the director), each an IPv4
packet from SRC to DST with a correct IP header checksum, so that the
director's kernel forwards it into the TAP, and a broken inside: TCP with a
data offset below 5 or beyond the packet, truncated TCP/UDP/ICMP headers,
UDP length fields larger or smaller than the datagram, IP options of bad
length, odd total lengths with trailing garbage, random bytes after a valid
IP header, fragments, empty payloads.  The mix is drawn from a seeded
random generator: the same seed sends the same frames.  Prints how many
frames of each kind it sent.  Paced (a short pause every 50 frames) and
bounded by COUNT.
"""

import argparse
import random
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
TCP, UDP, ICMP = 6, 17, 1
HOP, RTG, FRAG, DST, ICMP6, NONE = 0, 43, 44, 60, 58, 59


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Gen:
    def __init__(self, rnd, src, dst, dport):
        self.r = rnd
        self.src = socket.inet_aton(src)
        self.dst = socket.inet_aton(dst)
        self.dport = dport

    def ip(self, proto, payload, options=b"", tot_len=None, frag=0,
           trailer=b""):
        """IPv4 header (checksum right) + payload + bytes past tot_len."""
        ihl = 5 + len(options) // 4
        if tot_len is None:
            tot_len = ihl * 4 + len(payload)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot_len,
                          self.r.randrange(65536), frag, 64, proto, 0,
                          self.src, self.dst) + options
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        return hdr + payload + trailer

    def port(self):
        return self.dport if self.r.random() < 0.7 else self.r.randrange(1, 65536)

    def tcp_hdr(self, doff, flags=None):
        if flags is None:
            flags = self.r.choice([0x02, 0x10, 0x18, 0x11, 0x04, 0x12, 0x3f])
        return struct.pack("!HHIIBBHHH", self.r.randrange(1024, 65536),
                           self.port(), self.r.randrange(1 << 32),
                           self.r.randrange(1 << 32), (doff & 15) << 4,
                           flags, 8192, self.r.randrange(65536), 0)

    def rand(self, n):
        return bytes(self.r.randrange(256) for _ in range(n))

    # --- the kinds of malformed packets -----------------------------------
    def tcp_doff_small(self):
        return self.ip(TCP, self.tcp_hdr(self.r.randrange(5)) +
                       self.rand(self.r.randrange(0, 20)))

    def tcp_doff_beyond(self):
        # data offset says 24..60 bytes of header, the packet has less
        doff = self.r.randrange(6, 16)
        return self.ip(TCP, self.tcp_hdr(doff) +
                       self.rand(self.r.randrange(0, doff * 4 - 20)))

    def tcp_truncated(self):
        return self.ip(TCP, self.tcp_hdr(5)[:self.r.randrange(1, 20)])

    def udp_truncated(self):
        h = struct.pack("!HHHH", self.r.randrange(1024, 65536), self.port(), 8, 0)
        return self.ip(UDP, h[:self.r.randrange(1, 8)])

    def udp_len_big(self):
        data = self.rand(self.r.randrange(0, 32))
        ulen = 8 + len(data) + self.r.randrange(1, 1000)
        return self.ip(UDP, struct.pack("!HHHH", self.r.randrange(1024, 65536),
                                        self.port(), ulen, 0) + data)

    def udp_len_small(self):
        data = self.rand(self.r.randrange(1, 32))
        ulen = self.r.randrange(0, 8)
        return self.ip(UDP, struct.pack("!HHHH", self.r.randrange(1024, 65536),
                                        self.port(), ulen, 0) + data)

    def icmp_truncated(self):
        return self.ip(ICMP, bytes([8, 0]) + self.rand(self.r.randrange(0, 6)))

    def ip_bad_options(self):
        # option length 0, 1, or running past the header
        kind = self.r.choice([0x07, 0x44, 0x83, 0x89, 0x94])
        olen = self.r.choice([0, 1, 40, 255])
        opts = bytes([kind, olen]) + self.rand(2)
        opts += b"\0" * ((-len(opts)) % 4)
        return self.ip(TCP, self.tcp_hdr(5), options=opts)

    def odd_len_trailer(self):
        # odd total length, truncated TCP inside, garbage after tot_len
        l4 = self.tcp_hdr(5)[:self.r.choice([1, 3, 7, 13, 19])]
        return self.ip(TCP, l4, trailer=self.rand(self.r.randrange(1, 40)))

    def random_after_ip(self):
        proto = self.r.choice([TCP, UDP, ICMP, 4, 47, 132, 253])
        return self.ip(proto, self.rand(self.r.randrange(0, 64)))

    def fragment(self):
        if self.r.random() < 0.5:
            # first fragment (MF) carrying only part of the L4 header
            proto = self.r.choice([TCP, UDP])
            l4 = self.tcp_hdr(5)[:8] if proto == TCP else self.rand(4)
            return self.ip(proto, l4, frag=0x2000)
        # a later fragment: no L4 header at all
        off = self.r.randrange(1, 200)
        mf = 0x2000 if self.r.random() < 0.5 else 0
        return self.ip(self.r.choice([TCP, UDP, ICMP]),
                       self.rand(self.r.randrange(8, 64)), frag=mf | off)

    def empty(self):
        return self.ip(self.r.choice([TCP, UDP, ICMP]), b"")

    KINDS = ["tcp_doff_small", "tcp_doff_beyond", "tcp_truncated",
             "udp_truncated", "udp_len_big", "udp_len_small",
             "icmp_truncated", "ip_bad_options", "odd_len_trailer",
             "random_after_ip", "fragment", "empty"]


class Gen6:
    """The IPv6 kinds; each returns an IPv6 packet (no Ethernet header)."""

    def __init__(self, rnd, src, dst, dport):
        self.r = rnd
        self.src = socket.inet_pton(socket.AF_INET6, src)
        self.dst = socket.inet_pton(socket.AF_INET6, dst)
        self.dport = dport

    def rand(self, n):
        return bytes(self.r.randrange(256) for _ in range(n))

    def port(self):
        return self.dport if self.r.random() < 0.7 else self.r.randrange(1, 65536)

    def csum(self, nxt, l4):
        ph = self.src + self.dst + struct.pack("!IxxxB", len(l4), nxt)
        return csum(ph + l4)

    def tcp(self, payload=b"", doff=5):
        h = struct.pack("!HHIIBBHHH", self.r.randrange(1024, 65536), self.port(),
                        self.r.randrange(1 << 32), 0, (doff & 15) << 4,
                        self.r.choice([0x02, 0x10, 0x18, 0x11]), 8192, 0, 0)
        l4 = h + payload
        c = self.csum(TCP, l4)
        return l4[:16] + struct.pack("!H", c) + l4[18:]

    def ip6(self, nxt, body, plen=None, trailer=b""):
        """The fixed header, hop limit 64, then BODY and bytes past PLEN."""
        if plen is None:
            plen = len(body)
        return struct.pack("!IHBB16s16s", 6 << 28, plen, nxt, 64, self.src,
                           self.dst) + body + trailer

    @staticmethod
    def ext(nxt, length=8, segleft=None):
        """An options header (PadN filling it) or a routing header."""
        if segleft is not None:
            return struct.pack("!BBBB", nxt, length // 8 - 1, 4, segleft) + \
                b"\0" * (length - 4)
        return struct.pack("!BBBB", nxt, length // 8 - 1, 1, length - 4) + \
            b"\0" * (length - 4)

    @staticmethod
    def frag(nxt, off, more, ident=0x12345678):
        return struct.pack("!BBHI", nxt, 0, (off << 3) | (1 if more else 0), ident)

    # --- the kinds of malformed packets -----------------------------------
    def ext_loop(self):
        # destination options naming destination options next, many times
        n = self.r.randrange(3, 12)
        body = b"".join(self.ext(DST) for _ in range(n)) + self.ext(TCP) + self.tcp()
        return self.ip6(DST, body)

    def ext_too_many(self):
        kinds = [DST, RTG, DST] + [DST] * self.r.randrange(6, 10)
        body = b""
        for i, k in enumerate(kinds):
            nxt = kinds[i + 1] if i + 1 < len(kinds) else TCP
            body += self.ext(nxt, segleft=0) if k == RTG else self.ext(nxt)
        return self.ip6(kinds[0], body + self.tcp())

    def ext_truncated(self):
        # the payload ends inside an extension header
        body = self.ext(DST) + self.ext(TCP, 16)
        return self.ip6(DST, body[:self.r.randrange(9, 23)])

    def ext_len_beyond(self):
        h = bytearray(self.ext(TCP))
        h[1] = self.r.randrange(2, 255)
        return self.ip6(DST, bytes(h) + self.tcp())

    def hbh_not_first(self):
        return self.ip6(DST, self.ext(HOP) + self.ext(TCP) + self.tcp())

    def routing_segleft(self):
        return self.ip6(RTG, self.ext(TCP, 24, segleft=self.r.randrange(1, 3)) + self.tcp())

    def unknown_next(self):
        nxt = self.r.choice([NONE, 50, 51, 132, 135, 139, 253, 254])
        return self.ip6(nxt, self.rand(self.r.randrange(8, 64)))

    def fragment(self):
        k = self.r.randrange(5)
        nxt = self.r.choice([TCP, UDP])
        if k == 0:      # first, more to come, part of a TCP header
            return self.ip6(FRAG, self.frag(nxt, 0, True) + self.tcp()[:8])
        if k == 1:      # a later one, no transport header
            return self.ip6(FRAG, self.frag(nxt, self.r.randrange(1, 200), True) +
                            self.rand(self.r.randrange(8, 64)))
        if k == 2:      # the last one
            return self.ip6(FRAG, self.frag(nxt, self.r.randrange(1, 200), False) +
                            self.rand(self.r.randrange(8, 64)))
        if k == 3:      # two fragment headers
            return self.ip6(FRAG, self.frag(FRAG, 0, False) + self.frag(TCP, 0, False) +
                            self.tcp())
        # atomic (offset 0, no more) but its TCP header cut short
        return self.ip6(FRAG, self.frag(TCP, 0, False) + self.tcp()[:self.r.randrange(1, 19)])

    def frag_cut(self):
        # the payload ends inside the fragment header
        return self.ip6(FRAG, self.frag(TCP, 0, False)[:self.r.randrange(1, 8)])

    def plen_zero(self):
        return self.ip6(TCP, self.tcp(), plen=0)

    def plen_short(self):
        t = self.tcp(self.rand(20))
        return self.ip6(TCP, t, plen=self.r.randrange(1, 20), trailer=b"")

    def tcp_doff_bad(self):
        return self.ip6(TCP, self.tcp(self.rand(self.r.randrange(0, 20)),
                                      doff=self.r.choice([0, 3, 4, 13, 15])))

    def udp_bad(self):
        data = self.rand(self.r.randrange(0, 32))
        if self.r.random() < 0.5:       # checksum 0: none, forbidden over IPv6
            l4 = struct.pack("!HHHH", self.r.randrange(1024, 65536), self.port(),
                             8 + len(data), 0) + data
        else:                           # length beyond the datagram
            l4 = struct.pack("!HHHH", self.r.randrange(1024, 65536), self.port(),
                             8 + len(data) + self.r.randrange(1, 500), 0) + data
        return self.ip6(UDP, l4)

    def icmp6_truncated(self):
        return self.ip6(ICMP6, bytes([128, 0]) + self.rand(self.r.randrange(0, 6)))

    def trailer(self):
        # a truncated TCP inside, garbage after the payload length
        return self.ip6(TCP, self.tcp()[:self.r.choice([1, 7, 13, 19])],
                        trailer=self.rand(self.r.randrange(1, 40)))

    KINDS = ["ext_loop", "ext_too_many", "ext_truncated", "ext_len_beyond",
             "hbh_not_first", "routing_segleft", "unknown_next", "fragment",
             "frag_cut", "plen_zero", "plen_short", "tcp_doff_bad", "udp_bad",
             "icmp6_truncated", "trailer"]


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iface", default="eth0")
    p.add_argument("--dst-mac")
    p.add_argument("--src")
    p.add_argument("--dst")
    p.add_argument("--dport", type=int, default=80)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--list", action="store_true", help="list the kinds and exit")
    a = p.parse_args()
    six = a.dst is not None and ":" in a.dst
    G = Gen6 if six else Gen
    if a.list:
        print("\n".join(G.KINDS))
        return 0
    if not (a.dst_mac and a.src and a.dst):
        p.error("--dst-mac, --src and --dst are required")
    if a.count < 0 or a.count > 100000:
        p.error("--count must be within 0..100000")

    with open("/sys/class/net/%s/address" % a.iface) as f:
        src_mac = mac_bytes(f.read().strip())
    eth = mac_bytes(a.dst_mac) + src_mac + struct.pack("!H", ETH_P_IPV6 if six else ETH_P_IP)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    g = G(random.Random(a.seed), a.src, a.dst, a.dport)
    sent = {k: 0 for k in G.KINDS}
    for i in range(a.count):
        kind = g.r.choice(G.KINDS)
        s.send(eth + getattr(g, kind)())
        sent[kind] += 1
        if i % 50 == 49:
            time.sleep(0.01)
    for k in G.KINDS:
        print("%-16s %d" % (k, sent[k]))
    print("total %d" % a.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
