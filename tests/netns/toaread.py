#!/usr/bin/env python3
"""toaread.py - what LVS's TOA module would read, seen on a real server (stdlib only).

  toaread.py IFACE PORT
      Capture (AF_PACKET) the TCP segments to PORT arriving on IFACE, IPv4
      and IPv6, and print one line per segment, flushed:
        seg SRC DST FLAGS len N toa OPT
      FLAGS as tcpdump writes them (S, ., P, F, R), N the payload length,
      OPT "-" when the segment has no option of kind 254, else the client's
      address as the option says (ADDR:PORT, [ADDR6]:PORT) when its length
      is right for its family (8: port and IPv4 address, 20: port and IPv6
      address), or "bad:HEX" with the option's bytes. The options are
      walked as a TCP stack walks them (EOL, NOP, kind and length).
      Prints "ready" once the socket is open.
"""

import ipaddress
import socket
import struct
import sys

ETH_P_ALL = 0x0003


def addr(a, port):
    ip = ipaddress.ip_address(a)
    return ("[%s]:%d" if ip.version == 6 else "%s:%d") % (ip, port)


def options(opt):
    i = 0
    while i < len(opt):
        kind = opt[i]
        if kind == 0:
            return
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opt) or opt[i + 1] < 2 or i + opt[i + 1] > len(opt):
            return
        yield kind, opt[i:i + opt[i + 1]]
        i += opt[i + 1]


def toa(opt, v6):
    for kind, o in options(opt):
        if kind != 254:
            continue
        if len(o) == 8 and not v6:
            return addr(o[4:8], struct.unpack("!H", o[2:4])[0])
        if len(o) == 20 and v6:
            return addr(o[4:20], struct.unpack("!H", o[2:4])[0])
        return "bad:" + o.hex()
    return "-"


def flags(b):
    out = "".join(c for c, m in (("F", 1), ("S", 2), ("R", 4), ("P", 8)) if b & m)
    return out + ("." if b & 0x10 else "")


def main():
    ifname, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    print("ready", flush=True)
    while True:
        frame, meta = s.recvfrom(65600)
        if meta[2] == socket.PACKET_OUTGOING:
            continue
        etype = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if etype == 0x0800 and len(ip) >= 20 and ip[9] == 6:
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            src, dst, l4, end, v6 = ip[12:16], ip[16:20], ihl, tot, False
        elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 6:
            src, dst, l4, v6 = ip[8:24], ip[24:40], 40, True
            end = 40 + struct.unpack("!H", ip[4:6])[0]
        else:
            continue
        th = ip[l4:end]
        if len(th) < 20:
            continue
        sport, dport = struct.unpack("!HH", th[:4])
        if dport != port:
            continue
        doff = (th[12] >> 4) * 4
        print("seg %s %s %s len %d toa %s" % (addr(src, sport), addr(dst, dport), flags(th[13]),
                                             len(th) - doff, toa(th[20:doff], v6)), flush=True)


if __name__ == "__main__":
    main()
