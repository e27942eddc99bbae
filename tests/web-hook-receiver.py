#!/usr/bin/env python3
"""web-hook-receiver.py: a webhook receiver for hazgate-web's tests.

    web-hook-receiver.py PORT SECRET_FILE LOG [--fail-first N] [--delay-ms MS]
                         [--tls CERT KEY] [--pid FILE]

Listens on 127.0.0.1:PORT. Each POST is checked: the body must be a JSON
object with an integer "id", and X-Hazgate-Signature must be
"sha256=" + hex HMAC-SHA256 of the body with the secret (the first line of
SECRET_FILE). One line per request is appended to LOG (flushed at once):
"ID<TAB>good|bad<TAB>STATUS<TAB>PATH". The first N requests (--fail-first) are
answered 500 (and logged with that status); the others 200 when the
signature is good, else 401. --delay-ms: each answer that long after the
request (a slow receiver). --tls: HTTPS with that certificate and key.
"""
import hashlib
import hmac
import http.server
import json
import os
import ssl
import sys
import time


def main():
    port, secret_file, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    fail_first = 0
    if "--fail-first" in args:
        fail_first = int(args[args.index("--fail-first") + 1])
    delay = 0.0
    if "--delay-ms" in args:
        delay = int(args[args.index("--delay-ms") + 1]) / 1000.0
    if "--pid" in args:
        with open(args[args.index("--pid") + 1], "w") as f:
            f.write(str(os.getpid()))
    with open(secret_file, "rb") as f:
        secret = f.read().split(b"\n", 1)[0].rstrip(b"\r")
    log = open(log_path, "a", buffering=1)
    state = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            good = hmac.compare_digest(want, self.headers.get("X-Hazgate-Signature", ""))
            try:
                alert_id = json.loads(body)["id"]
            except (ValueError, KeyError, TypeError):
                alert_id, good = "?", False
            if delay:
                time.sleep(delay)
            state["n"] += 1
            status = 500 if state["n"] <= fail_first else (200 if good else 401)
            log.write("%s\t%s\t%d\t%s\n" % (alert_id, "good" if good else "bad", status, self.path))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    if "--tls" in args:
        i = args.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[i + 1], args[i + 2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
