#!/usr/bin/env python3
"""badframes.py - send malformed IPv4 frames at a VIP (stdlib only).

  badframes.py --iface eth0 --dst-mac MAC --src IP --dst VIP
               [--count 2000] [--seed 1] [--dport 80] [--list]

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
TCP, UDP, ICMP = 6, 17, 1


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
    if a.list:
        print("\n".join(Gen.KINDS))
        return 0
    if not (a.dst_mac and a.src and a.dst):
        p.error("--dst-mac, --src and --dst are required")
    if a.count < 0 or a.count > 100000:
        p.error("--count must be within 0..100000")

    with open("/sys/class/net/%s/address" % a.iface) as f:
        src_mac = mac_bytes(f.read().strip())
    eth = mac_bytes(a.dst_mac) + src_mac + struct.pack("!H", ETH_P_IP)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    g = Gen(random.Random(a.seed), a.src, a.dst, a.dport)
    sent = {k: 0 for k in Gen.KINDS}
    for i in range(a.count):
        kind = g.r.choice(Gen.KINDS)
        s.send(eth + getattr(g, kind)())
        sent[kind] += 1
        if i % 50 == 49:
            time.sleep(0.01)
    for k in Gen.KINDS:
        print("%-16s %d" % (k, sent[k]))
    print("total %d" % a.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
