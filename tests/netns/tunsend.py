#!/usr/bin/env python3
"""tunsend.py - send one tunnelled UDP datagram, as a director would (stdlib only).

  tunsend.py ipip|gre|gue DST SRC VIP PORT [--gre-flags HEX] [--key N]
             [--gue-port N] [--gue-hdr HEX] [--payload TEXT]
      Wrap an IPv4/UDP datagram SRC:40000 -> VIP:PORT in IPIP or GRE and send
      it to DST through a raw socket (the outer source is whatever the
      kernel picks toward DST).  --gre-flags sets GRE's first 16 bits (0:
      plain GRE; 0x2000: a key follows, 1 unless --key says).  --key N sets
      the K bit and sends key N (RFC 2890).  gue: over UDP to DST:--gue-port
      (default 6080) from a UDP socket, after the 4-byte GUE header
      --gue-hdr (default 00040000: version 0, no option, IPv4 inside);
      with --bare the header alone.  --remcsum START,FIELD: GUE with remote
      checksum offload instead (hlen 2, the private flag, then the option
      with START and FIELD), the inner UDP checksum field holding the
      pseudo-header sum alone, as a sender that leaves it to the receiver.
"""

import argparse
import socket
import struct


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["ipip", "gre", "gue"])
    p.add_argument("dst")
    p.add_argument("src")
    p.add_argument("vip")
    p.add_argument("port", type=int)
    p.add_argument("--gre-flags", default="0")
    p.add_argument("--key", type=int)
    p.add_argument("--gue-port", type=int, default=6080)
    p.add_argument("--gue-hdr", default="00040000")
    p.add_argument("--bare", action="store_true")
    p.add_argument("--remcsum")
    p.add_argument("--payload", default="tunsend")
    a = p.parse_args()
    data = a.payload.encode()
    udp = struct.pack("!HHHH", 40000, a.port, 8 + len(data), 0) + data
    if a.remcsum:
        # The field holds the pseudo-header sum (folded, not complemented).
        ph = socket.inet_aton(a.src) + socket.inet_aton(a.vip) + struct.pack("!BBH", 0, 17, len(udp))
        udp = udp[:6] + struct.pack("!H", ~csum(ph) & 0xffff) + udp[8:]
        start, field = (int(x) for x in a.remcsum.split(","))
        a.gue_hdr = "0204000180000000" + "%04x%04x" % (start, field)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(a.src), socket.inet_aton(a.vip))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    pkt = ip + udp
    if a.kind == "gue":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(bytes.fromhex(a.gue_hdr) + (b"" if a.bare else pkt), (a.dst, a.gue_port))
        return
    if a.kind == "gre":
        flags = int(a.gre_flags, 16) | (0x2000 if a.key is not None else 0)
        key = struct.pack("!I", a.key if a.key is not None else 1)
        pkt = struct.pack("!HH", flags, 0x0800) + (key if flags & 0x2000 else b"") + pkt
        proto = socket.IPPROTO_GRE
    else:
        proto = 4
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    s.sendto(pkt, (a.dst, 0))


if __name__ == "__main__":
    main()
