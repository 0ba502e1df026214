#!/usr/bin/env python3
"""upsrv.py - tiny HTTP upload server of the netns tests (stdlib only).

  upsrv.py PORT
      Answer every POST with the sha256 (hex) of its body, read to the end
      (Content-Length), and a newline.  Prints "ready" once listening.
"""

import hashlib
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while left > 0:
            b = self.rfile.read(min(left, 65536))
            if not b:
                break
            h.update(b)
            left -= len(b)
        body = (h.hexdigest() + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
