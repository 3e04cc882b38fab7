#!/usr/bin/env python3
"""An HTTP/1.1-only server (Python's http.server) for the tests of our outbound client: an AS
whose callbacks are plain HTTP/1.1, as TS 29.122-style northbound servers often are.

  http1_server.py PORT_FILE LOG_FILE [--tls CERT KEY] [--idle-timeout S]

Binds a free loopback port and writes it to PORT_FILE once listening. Every request is appended
to LOG_FILE as one JSON line {method, path, version, headers, body} before it is answered:
  /echo...   200, the request body back, x-protocol: the request's HTTP version
  /slow...   204 after 3 s
  /big...    200 with a 5 MiB body
  /close...  204 with "Connection: close"
  otherwise  204
Over TLS (--tls) the server offers ALPN http/1.1 only. --idle-timeout closes a kept-alive
connection that stays idle that long (the client's retry on a reused connection)."""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from test_http_server import serve

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = ""

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {
            "method": self.command,
            "path": self.path,
            "version": self.request_version,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with LOCK, open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        if self.path.startswith("/echo"):
            self.reply(200, body, {"x-protocol": self.request_version,
                                   "content-type": self.headers.get("content-type", "text/plain")})
        elif self.path.startswith("/slow"):
            time.sleep(3)
            self.reply(204, b"")
        elif self.path.startswith("/big"):
            self.reply(200, b"x" * (5 << 20))
        elif self.path.startswith("/close"):
            self.close_connection = True
            self.reply(204, b"", {"connection": "close"})
        else:
            self.reply(204, b"")

    def reply(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("content-length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port_file")
    p.add_argument("log_file")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--idle-timeout", type=float, default=None)
    a = p.parse_args()
    Handler.log_path = a.log_file
    if a.idle_timeout:
        Handler.timeout = a.idle_timeout  # socket timeout: an idle keep-alive connection closes
    return serve(Handler, a.port_file, 0, a.tls)


if __name__ == "__main__":
    sys.exit(main())
