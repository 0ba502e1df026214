#!/usr/bin/env python3
"""icmpecho.py - send ICMP or ICMPv6 echo requests and count the replies (stdlib only).

    icmpecho.py ADDR COUNT

Sends COUNT echo requests to ADDR (IPv4, or IPv6: ICMPv6) over a raw
socket, one at a time, each waiting up to WAIT (5 s) for the matching reply
(same id and sequence, from ADDR, the same payload, its checksum right: for
ICMPv6 the kernel checks it, with the pseudo-header, before handing the
reply over). Prints the number of replies. Needs root (CAP_NET_RAW).
"""
import os
import socket
import struct
import sys
import time

# A reply's wait: it ends at the reply, so only a reply that never comes
# costs it; a machine busy enough to delay one past 1 s must not lose it.
WAIT = 5.0


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    addr, count = sys.argv[1], int(sys.argv[2])
    ident = os.getpid() & 0xFFFF
    if ":" in addr:
        print(echo6(addr, count, ident))
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    got = 0
    for seq in range(1, count + 1):
        payload = b"vsrouted-echo-%04d" % seq
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload
        sock.sendto(pkt, (addr, 0))
        end = time.time() + WAIT
        while time.time() < end:
            sock.settimeout(max(0.01, end - time.time()))
            try:
                data, src = sock.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (data[0] & 0x0F) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq == seq and src[0] == addr and \
                    data[ihl + 8:] == payload and csum(data[ihl:]) == 0:
                got += 1
                break
    print(got)


def echo6(addr, count, ident):
    """ICMPv6: the kernel computes and checks the checksums; no IP header is read."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    want = socket.inet_pton(socket.AF_INET6, addr)
    got = 0
    for seq in range(1, count + 1):
        payload = b"vsrouted-echo-%04d" % seq
        sock.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload, (addr, 0))
        end = time.time() + WAIT
        while time.time() < end:
            sock.settimeout(max(0.01, end - time.time()))
            try:
                data, src = sock.recvfrom(2048)
            except socket.timeout:
                break
            if len(data) < 8:
                continue
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
            if typ == 129 and rid == ident and rseq == seq and \
                    socket.inet_pton(socket.AF_INET6, src[0]) == want and \
                    data[8:] == payload:
                got += 1
                break
    return got


if __name__ == "__main__":
    main()
