# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small counting reverse proxy for the benchmark: it forwards every request to one upstream HTTP server
on this machine and counts the requests by method and API operation, so that the benchmark can report the
calls per bucket that a run makes as the server sees them (retries included).

It binds 127.0.0.1 only, passes requests and answers through unchanged (the Host header too, so signed AWS
requests stay valid), and never injects faults. Used by fleet.py; runnable alone for a look:
    python tests/benchmarks/countproxy.py http://127.0.0.1:4566
"""

from __future__ import annotations

import http.client
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

READ_METHODS = ("GET", "HEAD", "OPTIONS")
# Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP_HEADERS = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
        "expect",
    )
)
# S3 names its bucket sub-resources with a bare query key (?policy, ?cors, ...); the first one found names the
# operation.
S3_SUBRESOURCES = (
    "policy",
    "cors",
    "location",
    "encryption",
    "ownershipControls",
    "requestPayment",
    "publicAccessBlock",
    "versioning",
    "tagging",
    "acl",
    "accelerate",
    "object-lock",
    "lifecycle",
    "logging",
    "website",
    "notification",
    "replication",
    "inventory",
    "intelligent-tiering",
    "analytics",
    "metrics",
    "uploads",
)
_GCS_BUCKET_PATH_RE = re.compile(r"^/storage/v1/b/[^/]+(/.*)?$")


def operation_name(method: str, path_and_query: str, headers) -> str:
    """A short name for the API operation of a request, such as 'GET policy' (S3), 'PATCH bucket' or 'GET iam' (GCS).

    AWS query and JSON APIs (STS, KMS) are named by their action; anything unknown by method and a coarse path."""
    parts = urlsplit(path_and_query)
    target = headers.get("X-Amz-Target")
    if target:
        return "%s %s" % (method, target.rsplit(".", 1)[-1])
    if parts.path.startswith("/storage/v1/b"):
        match = _GCS_BUCKET_PATH_RE.match(parts.path)
        if not match:
            return "%s buckets" % method
        suffix = (match.group(1) or "").strip("/")
        return "%s %s" % (method, suffix.split("/")[0] if suffix else "bucket")
    query_keys = [key for key, _value in parse_qsl(parts.query, keep_blank_values=True)]
    for subresource in S3_SUBRESOURCES:
        if subresource in query_keys:
            return "%s %s" % (method, subresource)
    segments = [segment for segment in parts.path.split("/") if segment]
    if method == "POST" and not segments:
        return "POST query-api"
    return "%s %s" % (method, "object" if len(segments) > 1 else ("bucket" if segments else "service"))


def is_read(operation: str) -> bool:
    """Whether a counted operation only reads: GET, HEAD and OPTIONS, and AWS actions named Get*, Describe* or List*."""
    method, _space, action = operation.partition(" ")
    return method in READ_METHODS or action.startswith(("Get", "Describe", "List"))


class CountingProxy:
    """A threaded reverse proxy on 127.0.0.1 in front of ``upstream`` (http://HOST:PORT) that counts requests by
    operation.

    ``start()`` returns its URL; ``snapshot()`` the counts so far; ``reset()`` zeroes them; ``stop()`` shuts it down."""

    def __init__(self, upstream: str):
        upstream_parts = urlsplit(upstream)
        if upstream_parts.scheme != "http" or upstream_parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                "the counting proxy forwards to a plain-HTTP server on this machine only, not %r" % upstream
            )
        self.upstream_host = upstream_parts.hostname
        self.upstream_port = upstream_parts.port or 80
        self._counts = Counter()
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    def count(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def snapshot(self) -> dict:
        """The counts since the last reset: {operation: requests}."""
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def start(self) -> str:
        proxy = self

        class Handler(_ForwardingHandler):
            counting_proxy = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _ForwardingHandler(BaseHTTPRequestHandler):
    """Forwards one client connection's requests over one kept-alive upstream connection."""

    protocol_version = "HTTP/1.1"
    counting_proxy: CountingProxy = None
    upstream = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # quiet: the counts are the output

    def finish(self):
        super().finish()
        if self.upstream is not None:
            self.upstream.close()

    def _upstream_connection(self):
        if self.upstream is None:
            self.upstream = http.client.HTTPConnection(
                self.counting_proxy.upstream_host, self.counting_proxy.upstream_port, timeout=120
            )
        return self.upstream

    def _forward(self):
        proxy = self.counting_proxy
        proxy.count(operation_name(self.command, self.path, self.headers))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP_HEADERS}
        for attempt in range(2):
            connection = self._upstream_connection()
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                answer_body = answer.read()
                break
            except (http.client.HTTPException, OSError):
                # The upstream closed a kept-alive connection; one fresh connection is tried before giving up.
                connection.close()
                self.upstream = None
                if attempt:
                    self.send_error(502, "upstream unreachable")
                    return
                time.sleep(0.05)
        self.send_response_only(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP_HEADERS and name.lower() != "content-length":
                self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(answer_body)))
        elif answer.getheader("Content-Length"):
            self.send_header("Content-Length", answer.getheader("Content-Length"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer_body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _forward


def main(argv):
    proxy = CountingProxy(argv[1])
    print("counting proxy on %s -> %s; Ctrl-C prints the counts" % (proxy.start(), argv[1]), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        for operation, requests in sorted(proxy.snapshot().items()):
            print("%6d  %s" % (requests, operation))
        proxy.stop()


if __name__ == "__main__":
    main(sys.argv)
