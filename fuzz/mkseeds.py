#!/usr/bin/env python3
"""mkseeds.py - write the packet harnesses' seed corpora: fuzz/corpus/pkt and fuzz/corpus/core.

  fuzz/mkseeds.py [OUTDIR]        (default: the fuzz/corpus beside this file)

The frames are the ones the scenarios send: every malformed kind of
tests/netns/badframes.py (IPv4 and IPv6: extension-header chains, fragments,
bad lengths, truncated headers), a few of each drawn from its seeded
generator, and well-formed traffic of each kind the packet path handles,
built here with the same helpers: TCP handshakes and data, UDP, ICMP and
ICMPv6 echo, errors quoting a flow (unreachable, fragmentation needed,
packet too big), IPv6 with hop-by-hop, destination options and an atomic
fragment header, ARP, and GSO super-frames with partial checksums (IPv4,
IPv6) as the TAP hands them over. Addresses are fuzz.h's live
configuration's, so that the core harness schedules them.

Record formats (fuzz_pkt.c, fuzz_core.c):
  pkt:  CTL(1) SADDR(16) DADDR(16) SPORT(2) DPORT(2) MTU(2) VNET(10) FRAME
  core: a sequence of  OP(1) LEN(2, big-endian) VNET(10) FRAME(LEN - 10)
The same seed (the generator's) writes the same files.
"""
import importlib.util
import os
import random
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "badframes", os.path.join(HERE, "..", "tests", "netns", "badframes.py"))
bf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bf)

OUR_MAC = bytes.fromhex("0200000000bb")
TAP_MAC = bytes.fromhex("0200000000aa")
RS_MAC = bytes.fromhex("02000000010d")
CLIENT, CLIENT6 = "192.0.2.1", "2001:db8:1::1"
VNET_NONE = bytes(10)
NEEDS_CSUM, GSO_TCPV4, GSO_TCPV6 = 1, 1, 4


def eth(ethtype, src=TAP_MAC, dst=OUR_MAC):
    return dst + src + struct.pack("!H", ethtype)


def vnet(flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def csum(b):
    return bf.csum(b)


def sum16(b):
    """One's-complement sum, folded, not complemented."""
    return (~csum(b)) & 0xFFFF


def tcp4(src, dst, sport, dport, flags, payload=b"", seq=1000, ack=0, partial=False):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    l4 = h + payload
    ph = s + d + struct.pack("!BBH", 0, 6, len(l4))
    c = sum16(ph) if partial else csum(ph + l4)
    return l4[:16] + struct.pack("!H", c) + l4[18:]


def udp4(src, dst, sport, dport, payload, zero=False):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if zero:
        return l4
    c = csum(s + d + struct.pack("!BBH", 0, 17, len(l4)) + l4) or 0xFFFF
    return l4[:6] + struct.pack("!H", c) + l4[8:]


def ip4(src, dst, proto, payload, df=True, ident=7):
    g = bf.Gen(random.Random(ident), src, dst, 80)
    return g.ip(proto, payload, frag=0x4000 if df else 0)


def icmp4(typ, code, rest, body):
    m = struct.pack("!BBH", typ, code, 0) + rest + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def l4_6(src, dst, nxt, l4, partial=False):
    s = socket.inet_pton(socket.AF_INET6, src)
    d = socket.inet_pton(socket.AF_INET6, dst)
    ph = s + d + struct.pack("!IxxxB", len(l4), nxt)
    at = {6: 16, 17: 6, 58: 2}[nxt]
    c = sum16(ph) if partial else (csum(ph + l4) or (0xFFFF if nxt == 17 else 0))
    return l4[:at] + struct.pack("!H", c) + l4[at + 2:]


def ip6(src, dst, nxt, body, exts=b""):
    g = bf.Gen6(random.Random(1), src, dst, 80)
    return g.ip6(nxt, exts + body)


def tcp6(src, dst, sport, dport, flags, payload=b"", seq=1000, partial=False):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    return l4_6(src, dst, 6, h + payload, partial)


def udp6(src, dst, sport, dport, payload):
    return l4_6(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def icmp6(src, dst, typ, code, rest, body):
    return l4_6(src, dst, 58, struct.pack("!BBH", typ, code, 0) + rest + body)


def frames():
    """(name, vnet, frame) of well-formed traffic."""
    out = []
    vip, nat, fnat, tun, dns = "10.10.0.100", "10.10.0.102", "10.10.0.103", "10.10.0.101", "10.10.0.102"
    pay = bytes(range(256)) * 2
    for name, v in (("dr", vip), ("tun", tun), ("nat", nat), ("fnat", fnat), ("sorry", "10.10.0.104")):
        port = 443 if name == "sorry" else 80
        out.append((name + "-syn", VNET_NONE, eth(0x0800) + ip4(CLIENT, v, 6, tcp4(CLIENT, v, 40000, port, 0x02))))
        out.append((name + "-ack", VNET_NONE, eth(0x0800) + ip4(CLIENT, v, 6, tcp4(CLIENT, v, 40000, port, 0x10, pay[:100], seq=1001, ack=1))))
        out.append((name + "-fin", VNET_NONE, eth(0x0800) + ip4(CLIENT, v, 6, tcp4(CLIENT, v, 40000, port, 0x11, seq=1101, ack=1))))
        out.append((name + "-rst", VNET_NONE, eth(0x0800) + ip4(CLIENT, v, 6, tcp4(CLIENT, v, 40000, port, 0x04, seq=1101))))
    # the nat real server's reply (from its side of the TAP)
    out.append(("nat-reply-synack", VNET_NONE, eth(0x0800) + ip4("10.20.0.13", CLIENT, 6, tcp4("10.20.0.13", CLIENT, 8080, 40000, 0x12, ack=1001))))
    out.append(("fnat-reply", VNET_NONE, eth(0x0800) + ip4("10.20.0.14", "10.20.0.250", 6, tcp4("10.20.0.14", "10.20.0.250", 8080, 1024, 0x12, ack=1001))))
    out.append(("udp-dns", VNET_NONE, eth(0x0800) + ip4(CLIENT, dns, 17, udp4(CLIENT, dns, 5300, 53, b"\x12\x34" + bytes(30)))))
    out.append(("udp-dns-csum0", VNET_NONE, eth(0x0800) + ip4(CLIENT, dns, 17, udp4(CLIENT, dns, 5300, 53, bytes(31), zero=True))))
    out.append(("udp-reply", VNET_NONE, eth(0x0800) + ip4("10.20.0.13", CLIENT, 17, udp4("10.20.0.13", CLIENT, 5353, 5300, bytes(40)))))
    out.append(("icmp-echo", VNET_NONE, eth(0x0800) + ip4(CLIENT, vip, 1, icmp4(8, 0, struct.pack("!HH", 1, 1), b"ping" * 8))))
    quote = ip4("10.10.0.102", CLIENT, 6, tcp4("10.10.0.102", CLIENT, 80, 40000, 0x12))[:28]
    out.append(("icmp-unreach", VNET_NONE, eth(0x0800) + ip4("198.51.100.1", nat, 1, icmp4(3, 3, bytes(4), quote))))
    out.append(("icmp-fragneeded", VNET_NONE, eth(0x0800) + ip4("198.51.100.1", nat, 1, icmp4(3, 4, struct.pack("!HH", 0, 1200), quote))))
    rsq = ip4(CLIENT, "10.20.0.13", 6, tcp4(CLIENT, "10.20.0.13", 40000, 8080, 0x02))[:28]
    out.append(("icmp-from-rs", VNET_NONE, eth(0x0800) + ip4("10.20.0.13", CLIENT, 1, icmp4(3, 1, bytes(4), rsq))))
    out.append(("arp-request", VNET_NONE, eth(0x0806) + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, TAP_MAC, socket.inet_aton("10.10.0.1"), bytes(6), socket.inet_aton(vip))))
    # GSO super-frames, as the TAP hands them with offloads on
    big = pay * 6
    for v in (nat, fnat, tun):
        t = tcp4(CLIENT, v, 40000, 80, 0x18, big[:3000], seq=1001, ack=1, partial=True)
        out.append(("gso4-" + v.split(".")[-1], vnet(NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16),
                    eth(0x0800) + ip4(CLIENT, v, 6, t)))
    # IPv6
    v6 = {"dr": "2001:db8:10::100", "nat": "2001:db8:10::102", "fnat": "2001:db8:10::103", "tun": "2001:db8:10::101"}
    for name, v in v6.items():
        out.append((name + "6-syn", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 6, tcp6(CLIENT6, v, 40000, 80, 0x02))))
        out.append((name + "6-ack", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 6, tcp6(CLIENT6, v, 40000, 80, 0x10, pay[:200], seq=1001))))
    v = v6["nat"]
    hbh = bf.Gen6.ext(60)        # hop-by-hop -> destination options -> TCP
    dst = bf.Gen6.ext(44)        # destination options -> fragment (atomic) -> TCP
    frag = bf.Gen6.frag(6, 0, False)
    out.append(("nat6-ext-chain", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 0, tcp6(CLIENT6, v, 40001, 80, 0x02), exts=hbh + dst + frag)))
    out.append(("nat6-frag-first", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 44, tcp6(CLIENT6, v, 40002, 80, 0x02), exts=bf.Gen6.frag(6, 0, True))))
    out.append(("nat6-frag-later", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 44, bytes(64), exts=bf.Gen6.frag(6, 8, False))))
    out.append(("nat6-routing", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 43, tcp6(CLIENT6, v, 40003, 80, 0x02), exts=bf.Gen6.ext(6, 24, segleft=0))))
    out.append(("udp6", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 17, udp6(CLIENT6, v, 5300, 80, bytes(20)))))
    out.append(("icmp6-echo", VNET_NONE, eth(0x86DD) + ip6(CLIENT6, v, 58, icmp6(CLIENT6, v, 128, 0, struct.pack("!HH", 1, 1), b"ping" * 8))))
    q6 = ip6(v, CLIENT6, 6, tcp6(v, CLIENT6, 80, 40000, 0x12))[:48]
    out.append(("icmp6-toobig", VNET_NONE, eth(0x86DD) + ip6("2001:db8:ff::1", v, 58, icmp6("2001:db8:ff::1", v, 2, 0, struct.pack("!I", 1280), q6))))
    out.append(("icmp6-unreach", VNET_NONE, eth(0x86DD) + ip6("2001:db8:ff::1", v, 58, icmp6("2001:db8:ff::1", v, 1, 4, bytes(4), q6))))
    ns = struct.pack("!I", 0) + socket.inet_pton(socket.AF_INET6, v) + struct.pack("!BB", 1, 1) + TAP_MAC
    nsp = ip6("fe80::1", "ff02::1:ff00:102", 58, icmp6("fe80::1", "ff02::1:ff00:102", 135, 0, b"", ns))
    nsp = nsp[:7] + b"\xff" + nsp[8:]   # hop limit 255
    out.append(("icmp6-ns", VNET_NONE, eth(0x86DD) + nsp))
    t = tcp6(CLIENT6, v, 40000, 80, 0x18, big[:2800], seq=1001, partial=True)
    out.append(("gso6-nat", vnet(NEEDS_CSUM, GSO_TCPV6, 74, 1428, 54, 16), eth(0x86DD) + ip6(CLIENT6, v, 6, t)))
    t = tcp6(CLIENT6, v, 40000, 80, 0x18, pay[:500], seq=1001, partial=True)
    out.append(("partial6-nat", vnet(NEEDS_CSUM, 0, 0, 0, 54, 16), eth(0x86DD) + ip6(CLIENT6, v, 6, t)))
    t = tcp4(CLIENT, nat, 40000, 80, 0x18, pay[:500], seq=1001, partial=True)
    out.append(("partial4-nat", vnet(NEEDS_CSUM, 0, 0, 0, 34, 16), eth(0x0800) + ip4(CLIENT, nat, 6, t)))
    return out


def bad_frames():
    """(name, vnet, frame): badframes.py's kinds, three of each, both families."""
    out = []
    for fam, G, src, dst, et in ((4, bf.Gen, CLIENT, "10.10.0.102", 0x0800),
                                 (6, bf.Gen6, CLIENT6, "2001:db8:10::102", 0x86DD)):
        g = G(random.Random(15), src, dst, 80)
        for kind in G.KINDS:
            for i in range(3):
                out.append(("bad%d-%s-%d" % (fam, kind, i), VNET_NONE, eth(et) + getattr(g, kind)()))
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    good, bad = frames(), bad_frames()
    rnd = random.Random(9)
    pdir, cdir = os.path.join(outdir, "pkt"), os.path.join(outdir, "core")
    os.makedirs(pdir, exist_ok=True)
    os.makedirs(cdir, exist_ok=True)
    for name, vh, fr in good + bad:
        # rewrite values: a client and a real server of the frame's family
        six = fr[12:14] == b"\x86\xdd"
        s = socket.inet_pton(socket.AF_INET6, "2001:db8:20::250") if six else socket.inet_aton("10.20.0.250") + bytes(12)
        d = socket.inet_pton(socket.AF_INET6, "2001:db8:20::13") if six else socket.inet_aton("10.20.0.13") + bytes(12)
        hdr = bytes([rnd.choice([0, 2, 4, 6])]) + s + d + struct.pack("!HHH", 1024, 8080, 1400)
        with open(os.path.join(pdir, name), "wb") as f:
            f.write(hdr + vh + fr)
    # core: flows as sequences, a few frames each, and each frame alone
    def rec(op, vh, fr):
        return struct.pack("!BH", op, len(vh) + len(fr)) + vh + fr
    byname = dict((n, (v, f)) for n, v, f in good)
    flows = [
        ("flow-nat", ["nat-syn", "nat-reply-synack", "nat-ack", "icmp-unreach", "icmp-fragneeded", "nat-fin", "nat-rst"]),
        ("flow-fnat", ["fnat-syn", "fnat-reply", "fnat-ack", "gso4-103", "fnat-fin"]),
        ("flow-dr", ["dr-syn", "dr-ack", "dr-fin", "icmp-echo", "arp-request"]),
        ("flow-tun", ["tun-syn", "tun-ack", "gso4-101", "tun-rst"]),
        ("flow-udp", ["udp-dns", "udp-reply", "udp-dns-csum0", "icmp-from-rs"]),
        ("flow-nat6", ["nat6-syn", "nat6-ack", "gso6-nat", "partial6-nat", "icmp6-toobig", "icmp6-unreach", "nat6-ext-chain"]),
        ("flow-fnat6", ["fnat6-syn", "fnat6-ack", "dr6-syn", "dr6-ack", "tun6-syn", "tun6-ack", "icmp6-echo", "icmp6-ns"]),
        ("flow-sorry", ["sorry-syn", "sorry-ack", "sorry-fin"]),
        ("flow-expire", ["nat-syn", "nat-ack"]),
    ]
    for name, seq in flows:
        data = b""
        for i, n in enumerate(seq):
            op = 0x0f if (name == "flow-expire" and i == 1) else 0
            data += rec(op, *byname[n])
        with open(os.path.join(cdir, name), "wb") as f:
            f.write(data)
    for name, vh, fr in good + bad[::3]:
        with open(os.path.join(cdir, "one-" + name), "wb") as f:
            f.write(rec(0, vh, fr))
    print("%d pkt seeds, %d core seeds" % (len(os.listdir(pdir)), len(os.listdir(cdir))))


if __name__ == "__main__":
    main()
