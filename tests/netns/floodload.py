#!/usr/bin/env python3
"""floodload.py - keep-alive clients and a new-connection probe, for flood.sh.

    floodload.py ADDR PORT SECONDS NCLIENTS OUTFILE [WAIT]

For SECONDS: NCLIENTS threads each hold ONE keep-alive HTTP connection to
ADDR:PORT, opened at the start, and send a GET on it every 200 ms; they
never reconnect, so any loss (a reset, no answer within WAIT seconds,
default 5, a short answer) ends that client as failed. One more thread opens a new connection every
50 ms (connect and GET, 10 s at most each: SYN retransmissions included)
and writes one line per attempt to OUTFILE: "START_MS ok MS_TAKEN" or
"START_MS ERR reason". At the end prints, per
client, "client I requests N slowest MS ok|failed: reason", then
"probe N ok M".
"""
import socket
import sys
import threading
import time


# A client's TCP retries its SYN after 1 s and 3 s more: 10 s is what a
# browser waits for far less than; a lost SYN is not a refused connection.
PROBE_TIMEOUT = 10


def now_ms():
    return int(time.time() * 1000)


def get(sock):
    sock.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by the peer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError("status " + head.split(b"\r\n")[0].decode(errors="replace"))
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("short body")
        body += chunk


def client(i, addr, port, end, wait, results):
    n = 0
    slowest = 0
    try:
        sock = socket.create_connection((addr, port), timeout=wait)
        while time.time() < end:
            t = now_ms()
            get(sock)
            slowest = max(slowest, now_ms() - t)
            n += 1
            time.sleep(0.2)
        sock.close()
        results[i] = "client %d requests %d slowest %d ok" % (i, n, slowest)
    except Exception as e:  # noqa: BLE001 - any failure is the result
        results[i] = "client %d requests %d slowest %d failed: %s" % (i, n, slowest, e)


def probe(addr, port, end, out, counts):
    with open(out, "w", buffering=1) as f:
        while time.time() < end:
            t = now_ms()
            try:
                with socket.create_connection((addr, port), timeout=PROBE_TIMEOUT) as s:
                    get(s)
                f.write("%d ok %d\n" % (t, now_ms() - t))
                counts[1] += 1
            except Exception as e:  # noqa: BLE001
                f.write("%d ERR %s\n" % (t, str(e).replace("\n", " ")))
            counts[0] += 1
            time.sleep(0.05)


def main():
    addr, port, secs, nclients, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5]
    wait = float(sys.argv[6]) if len(sys.argv) > 6 else 5.0
    end = time.time() + secs
    results = ["client %d not started" % i for i in range(nclients)]
    counts = [0, 0]
    threads = [threading.Thread(target=client, args=(i, addr, port, end, wait, results))
               for i in range(nclients)]
    threads.append(threading.Thread(target=probe, args=(addr, port, end, out, counts)))
    for t in threads:
        t.start()
    print("ready", flush=True)
    for t in threads:
        t.join()
    for r in results:
        print(r)
    print("probe %d ok %d" % (counts[0], counts[1]))


main()
