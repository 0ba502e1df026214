#!/usr/bin/env python3
"""vsradm-fixture.py SOCKET MODE - answers vsradm's requests with fixed lines.

The lines the daemon will send once IPv6, firewall marks, SCTP, one-packet
scheduling, GUE and the sync daemon are in it (ctlproto.h has their form),
so that vsradm's reading and printing of them can be held to ipvsadm's now.
MODE "good" answers list, conns, daemon and role; MODE "short" answers list with
an svc line that lacks a field. Serves until killed.
"""
import os
import socket
import sys

Z10 = " ".join(["0"] * 10)


def dest(addr, fwd, tun="ipip 0 nocsum", weight=1, active=0, inact=0, persist=0, ca="none"):
    # ADDR FWD UPPER LOWER TUN-TYPE TUN-PORT TUN-CSUM CLIENT-ADDRESS, then the
    # 19 counters: 10 traffic, active, inactive, persist, weight, overloaded,
    # healthy, removed, check downs, check ups.
    return (f"dest {addr} {fwd} 0 0 {tun} {ca} {Z10} {active} {inact} {persist} {weight} "
            f"0 1 0 0 0")


LIST = [
    "size 4096",
    f"svc tcp [2001:db8::1]:80 rr 0 0 128 - 0 {Z10}",
    dest("[2001:db8::11]:80", "dr", active=2),
    dest("10.10.0.11:80", "tun"),
    f"svc fwmark 1 wlc 0 300 255.255.255.0 - 0 {Z10}",
    dest("10.10.0.12:0", "dr", persist=3),
    f"svc fwmark6 2 sh 3 60 64 - 0 {Z10}",
    f"svc udp 10.10.0.100:53 wlc 0 360 255.255.255.255 sip 1 {Z10}",
    dest("10.10.0.14:5353", "fullnat", ca="proxy-v2"),
    dest("10.10.0.13:53", "tun", tun="gue 6080 remcsum", weight=5),
    f"svc sctp 10.10.0.100:80 rr 4 0 255.255.255.255 - 0 {Z10}",
]
CONNS = [
    "conn tcp [2001:db8::99]:40000 [2001:db8::1]:80 [2001:db8::11]:80 ESTABLISHED 100",
    "conn udp 10.10.0.1:5353 10.10.0.100:53 10.10.0.13:53 UDP 7",
]
DAEMON = [
    "daemon master eth0 1 1472 224.0.0.81 8848 1 -",
    "daemon backup eth1 2 0 - 0 0 10.20.0.3",
]


def answer(mode, req):
    word = req.split(" ")[0]
    if mode == "short" and word == "list":
        return ["size 4096", "svc tcp 10.10.0.100:80 rr 0 0 255.255.255.255 - 0", "ok"]
    if word == "list" and req == "list":
        return LIST + ["ok"]
    if word == "conns":
        return CONNS + ["ok"]
    if word == "daemon":
        return DAEMON + ["ok"]
    if req == "role":
        return ["role backup", "ok"]
    return ["err the fixture answers list, conns, daemon and role only"]


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    print("ready", flush=True)
    while True:
        c, _ = srv.accept()
        with c, c.makefile("rwb") as f:
            for line in f:
                for out in answer(mode, line.decode().rstrip("\n")):
                    f.write(out.encode() + b"\n")
                f.flush()


if __name__ == "__main__":
    main()
