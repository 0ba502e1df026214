#!/usr/bin/env python3
"""upsrv.py - upload sink of the netns tests (stdlib only).

  upsrv.py PORT
      HTTP/1.1 server on all addresses, IPv4 and IPv6 (one dual-stack
      socket where IPv6 is on): PUT or POST of a body answers the
      body's sha256 in hex and its length ("HEX LEN\\n"), without keeping it.
      Prints "ready" once listening and "upload LEN HEX" per body (flushed).
"""

import hashlib
import http.server
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        n = 0
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            left -= len(chunk)
        body = ("%s %d\n" % (h.hexdigest(), n)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("upload %d %s" % (n, h.hexdigest()), flush=True)

    do_POST = do_PUT

    def log_message(self, fmt, *args):
        pass


class DualStack(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    port = int(sys.argv[1])
    try:
        srv = DualStack(("::", port), Handler)
    except OSError:
        srv = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
