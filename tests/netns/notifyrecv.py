#!/usr/bin/env python3
"""notifyrecv.py - a stand-in for systemd's notification socket, for ops-systemd.sh

    notifyrecv.py ADDR

Binds a datagram Unix socket at ADDR (a path, or an abstract name written
with a leading '@', as NOTIFY_SOCKET has it), prints "ready" once listening,
then one line per datagram: the receiver's CLOCK_MONOTONIC in microseconds,
a tab, and the message with its newlines turned into '|'.  Ends on SIGTERM.
"""
import os
import signal
import socket
import sys
import time


def main():
    addr = sys.argv[1]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    if not addr.startswith("@"):
        os.chmod(addr, 0o777)       # the daemon runs as nobody
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        msg = s.recv(4096).decode(errors="replace")
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        print("%d\t%s" % (now, msg.replace("\n", "|")), flush=True)


if __name__ == "__main__":
    main()
