# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small fault-injecting reverse proxy for the system tests, stdlib only.

It binds 127.0.0.1 on a free port, forwards each request to one upstream server on this machine (LocalStack, the
GCS emulator or Azurite) and, on a chosen fraction of the requests, answers with a fault instead:

  error_500      HTTP 500 (S3 ``InternalError`` XML, GCS JSON ``backendError``, Azure ``InternalError`` XML), nothing
                 forwarded
  slowdown_503   HTTP 503 (S3 ``SlowDown`` XML, GCS JSON ``backendError``, Azure ``ServerBusy`` XML), nothing forwarded
  throttle       S3: HTTP 400 ``Throttling`` XML; GCS: HTTP 429 ``rateLimitExceeded``; Azure: HTTP 503 ``ServerBusy``
                 (how the Blob service throttles); nothing forwarded
  reset_before   the connection is reset (RST) before anything is forwarded: the call never reached the server
  reset_after    the request IS forwarded and applied, then the connection is reset instead of answering
  slow           the request IS forwarded and applied, then the answer is held for ``slow_seconds`` (set it past the
                 client's read timeout) and the connection closed: the client times out on a change that landed
  access_denied  HTTP 403 (S3 ``AccessDenied`` XML, KMS/STS in their own formats, GCS JSON ``forbidden``, Azure
                 ``AuthorizationPermissionMismatch`` XML)

Which requests fault is decided per request from ``random.Random(seed|operation key|occurrence)``, so for a
given seed the same request (the n-th time the same method, path and query is seen) gets the same fate however
the client's threads interleave. ``only`` limits faults to some requests; ``deny_all()`` answers every matching
request with access_denied (for AccessDenied-on-each-call tests).

A request that repeats the method, path and query of a request that was faulted is counted as a retry. With
``enforce_preconditions`` the proxy also does what the GCS emulator does not: it answers 412 to a bucket write
whose ``ifMetagenerationMatch`` is stale and 409 (``iam_conflict_status``) to an IAM policy write whose etag is
stale, and gives every IAM policy write a fresh etag, as Cloud Storage does. Hooks let a test act between the
client's request and its forwarding (``before_forward``) or just after (``after_forward``), e.g. to race it.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

FAULT_KINDS = ("error_500", "slowdown_503", "throttle", "reset_before", "reset_after", "slow")
ACCESS_DENIED = "access_denied"
# Faults whose request reached the server: the change may have landed although the client saw a failure.
FORWARDED_FAULTS = ("reset_after", "slow")
WRITE_METHODS = ("PUT", "POST", "PATCH", "DELETE")
# A request carrying this header is never faulted nor hooked (a test's own foreign writer going through the proxy).
EXEMPT_HEADER = "X-Segments-Fault-Exempt"
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
        "content-length",
    )
)
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
    "object-lock",
    "lifecycle",
    "logging",
    "website",
    "uploads",
)
UPSTREAM_TIMEOUT_SECONDS = 60
# How often an idle proxy looks for a stop request: stop() waits up to this long. socketserver's 0.5 s default made
# the bad-input matrix's teardown (two proxies per row, stopped one after another) take over a minute.
STOP_POLL_SECONDS = 0.05
EVENT_LOG_LIMIT = 200000

_S3_ERROR_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
    '<RequestId>FAULTPROXY</RequestId><HostId>faultproxy</HostId></Error>'
)
_QUERY_API_ERROR_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>%s</Type><Code>%s</Code>'
    '<Message>%s</Message></Error><RequestId>FAULTPROXY</RequestId></ErrorResponse>'
)
# (HTTP status, AWS error code, GCS reason, message) of each fault that is an answer.
_ERROR_ANSWERS = {
    "error_500": (500, "InternalError", "backendError", "We encountered an internal error. Please try again."),
    "slowdown_503": (503, "SlowDown", "backendError", "Please reduce your request rate."),
    "throttle": (400, "Throttling", "rateLimitExceeded", "Rate exceeded"),
    ACCESS_DENIED: (403, "AccessDenied", "forbidden", "Access Denied"),
}
_GCS_THROTTLE_STATUS = 429
_AZURE_ERROR_XML = '<?xml version="1.0" encoding="utf-8"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>'
# (HTTP status, x-ms-error-code, message) of each Azure error answer, as the Blob service sends them.
_AZURE_ERROR_ANSWERS = {
    "error_500": (500, "InternalError", "The server encountered an internal error. Please retry the request."),
    "slowdown_503": (503, "ServerBusy", "The server is currently unable to receive requests. Please retry."),
    "throttle": (503, "ServerBusy", "Ingress is over the account limit."),
    ACCESS_DENIED: (
        403,
        "AuthorizationPermissionMismatch",
        "This request is not authorized to perform this operation using this permission.",
    ),
}


@dataclass
class ProxyRequest:
    """One client request as the proxy saw it: what hooks and ``only`` filters get."""

    method: str
    path: str
    query: str
    headers: dict
    body: bytes
    operation: str
    bucket: str | None
    occurrence: int = 0
    key: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def is_write(self) -> bool:
        """PUT, POST, PATCH and DELETE write; AWS query/JSON APIs (POST) that only read count as reads."""
        action = self.operation.partition(" ")[2]
        return self.method in WRITE_METHODS and not action.startswith(("Get", "Describe", "List"))

    @property
    def query_params(self) -> dict:
        """The query string as a dict (the last value of a repeated key)."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


def operation_of(cloud: str, method: str, path: str, query: str, headers, body: bytes) -> str:
    """A short name for the API call: 'GET policy', 'PUT cors' (S3), 'POST DescribeKey' (KMS, STS),
    'PATCH bucket', 'GET iam' (GCS)."""
    if cloud == "azure":
        # Path-style Azurite, /ACCOUNT[/CONTAINER[/BLOB]]; a call is named by comp (or restype): 'PUT properties'.
        params = dict(parse_qsl(query, keep_blank_values=True))
        depth = len([part for part in path.split("/") if part])
        named = (
            params.get("comp") or params.get("restype") or ("account", "account", "container", "blob")[min(depth, 3)]
        )
        return "%s %s" % (method, named)
    target = headers.get("X-Amz-Target")
    if target:
        return "%s %s" % (method, target.rsplit(".", 1)[-1])
    if cloud == "gcs":
        parts = [part for part in path.split("/") if part]
        if parts[:3] == ["storage", "v1", "b"]:
            if len(parts) == 3:
                return "%s buckets" % method
            return "%s %s" % (method, "/".join(parts[4:]) if len(parts) > 4 else "bucket")
        return "%s %s" % (method, path)
    query_keys = [key for key, _value in parse_qsl(query, keep_blank_values=True)]
    if method == "POST" and path in ("", "/"):
        action = dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action") if body else None
        return "POST %s" % (action or "query-api")
    for subresource in S3_SUBRESOURCES:
        if subresource in query_keys:
            return "%s %s" % (method, subresource)
    segments = [segment for segment in path.split("/") if segment]
    return "%s %s" % (method, "object" if len(segments) > 1 else ("bucket" if segments else "service"))


def bucket_of(cloud: str, path: str, operation: str) -> str | None:
    """The bucket a request is about, from the path (S3 path style, GCS JSON API), or None."""
    parts = [part for part in path.split("/") if part]
    if cloud == "azure":
        return parts[0] if parts else None  # the storage account
    if cloud == "gcs":
        if "b" in parts:
            index = parts.index("b")
            return parts[index + 1] if len(parts) > index + 1 else None
        return None
    action = operation.partition(" ")[2]
    if not parts or action[:1].isupper():
        return None
    return parts[0]


def _matcher(only):
    """only: None (every request), a callable(ProxyRequest) -> bool, or a list of (method or None, operation or None,
    bucket or None)."""
    if only is None:
        return lambda request: True
    if callable(only):
        return only

    def matches(request):
        for method, operation, bucket in only:
            if method not in (None, request.method):
                continue
            if operation not in (None, request.operation, request.operation.partition(" ")[2]):
                continue
            if bucket not in (None, request.bucket):
                continue
            return True
        return False

    return matches


class FaultProxy:
    """A threaded HTTP/1.1 reverse proxy on 127.0.0.1 in front of ``upstream`` that injects faults.

    cloud: "s3" (LocalStack: S3 XML errors, KMS/STS in their formats), "gcs" (JSON errors, preconditions) or "azure"
    (Azurite, path style: the "bucket" of a request is its storage account; Blob service XML errors).
    rate: the fraction of matching requests that fault; seed: fixes which ones; kinds: the fault kinds to draw from
    (uniformly, or by ``weights``); slow_seconds: how long a "slow" answer is held; only: which requests may fault
    (see _matcher); key_normalizer(text) -> text: maps run-specific parts of paths (bucket name tokens) away so that
    the same seed picks the same requests from one run to the next. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        upstream: str,
        cloud: str = "s3",
        rate: float = 0.0,
        seed: int = 0,
        kinds=FAULT_KINDS,
        weights=None,
        slow_seconds: float = 3.0,
        only=None,
        key_normalizer=None,
        enforce_preconditions: bool = False,
        iam_conflict_status: int = 409,
        before_forward=None,
        after_forward=None,
    ):
        upstream_parts = urlsplit(upstream)
        if upstream_parts.scheme != "http" or upstream_parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy forwards to a plain-HTTP server on this machine only, not %r" % upstream)
        if cloud not in ("s3", "gcs", "azure"):
            raise ValueError("cloud must be 's3', 'gcs' or 'azure', not %r" % cloud)
        unknown = set(kinds) - set(FAULT_KINDS) - {ACCESS_DENIED}
        if unknown:
            raise ValueError("unknown fault kinds: %s" % ", ".join(sorted(unknown)))
        self.upstream_host = upstream_parts.hostname
        self.upstream_port = upstream_parts.port or 80
        self.cloud = cloud
        self.rate = rate
        self.seed = seed
        self.kinds = tuple(kinds)
        self.weights = weights
        self.slow_seconds = slow_seconds
        self.matches = _matcher(only)
        self.key_normalizer = key_normalizer or (lambda text: text)
        self.enforce_preconditions = enforce_preconditions
        self.iam_conflict_status = iam_conflict_status
        self.before_forward = before_forward
        self.after_forward = after_forward
        self.url = None
        self._server = None
        self._thread = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._bucket_locks = defaultdict(threading.Lock)
        self._reset_counters()

    # ---- configuration shortcuts ----

    def deny_all(self, only=None):
        """From now on answer every matching request (all when only is None) with access_denied."""
        with self._lock:
            self.rate, self.kinds, self.weights = 1.0, (ACCESS_DENIED,), None
            self.matches = _matcher(only)

    def set_faults(self, rate: float, kinds=FAULT_KINDS, only=None, seed: int | None = None):
        """Change the fault rate, kinds, filter (and seed) of a running proxy."""
        with self._lock:
            self.rate, self.kinds, self.weights = rate, tuple(kinds), None
            self.matches = _matcher(only)
            if seed is not None:
                self.seed = seed

    # ---- life cycle ----

    def start(self) -> str:
        """Start serving on a free loopback port; return the proxy's base URL (http://127.0.0.1:PORT)."""
        proxy = self

        class Handler(_FaultHandler):
            fault_proxy = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="fault-proxy",
            daemon=True,
        )
        self._thread.start()
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        return self.url

    def stop(self) -> None:
        """Stop serving; held ("slow") answers are released at once."""
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    # ---- counters ----

    def _reset_counters(self):
        self._occurrences = Counter()
        self._requests = Counter()
        self._operations = Counter()
        self._faults = Counter()
        self._retries = Counter()
        self._pending_faults = defaultdict(list)
        self._preconditions = Counter()
        self._hooks = 0
        self._events = []

    def reset_stats(self) -> None:
        """Zero every counter and the event log (occurrence numbering restarts too)."""
        with self._lock:
            self._reset_counters()

    def stats(self) -> dict:
        """Counters so far, JSON-able: requests (total, reads, writes), requests by operation, faults by kind and by
        read/write, retries (total and by the kind of fault they followed), faults the client never retried,
        preconditions the proxy enforced, hook calls."""
        with self._lock:
            faults_by_kind = Counter()
            faults_by_class = Counter()
            for (kind, request_class), count in self._faults.items():
                faults_by_kind[kind] += count
                faults_by_class[request_class] += count
            return {
                "requests": sum(self._requests.values()),
                "reads": self._requests["read"],
                "writes": self._requests["write"],
                "requests_by_operation": dict(sorted(self._operations.items())),
                "faults": sum(faults_by_kind.values()),
                "faults_by_kind": dict(sorted(faults_by_kind.items())),
                "faults_on_reads": faults_by_class["read"],
                "faults_on_writes": faults_by_class["write"],
                "faults_by_kind_and_class": {"%s/%s" % key: count for key, count in sorted(self._faults.items())},
                "retries": sum(self._retries.values()),
                "retries_after": dict(sorted(self._retries.items())),
                "faults_not_retried": sum(len(kinds) for kinds in self._pending_faults.values()),
                "preconditions_failed": dict(sorted(self._preconditions.items())),
                "hook_calls": self._hooks,
                "max_requests_for_one_key": max(self._occurrences.values(), default=0),
            }

    def events(self, bucket: str | None = None) -> list:
        """The request log in arrival order (dicts: started, ended, bucket, operation, status, fault), optionally for
        one bucket."""
        with self._lock:
            return [dict(event) for event in self._events if bucket is None or event["bucket"] == bucket]

    def hold(self) -> None:
        """Hold a "slow" answer for slow_seconds, or until the proxy stops."""
        self._stopping.wait(self.slow_seconds)

    def bucket_lock(self, bucket: str):
        """The lock the proxy holds while it checks a precondition and forwards a write to ``bucket``."""
        with self._lock:
            return self._bucket_locks[bucket]

    # ---- decisions (called by the handler) ----

    def admit(self, request: ProxyRequest, exempt: bool) -> str | None:
        """Number the request, count it and any retry it is, and return the fault to inject (None to forward)."""
        with self._lock:
            request.key = "%s %s?%s" % (
                request.method,
                self.key_normalizer(request.path),
                "&".join(sorted(self.key_normalizer(request.query).split("&"))),
            )
            request.occurrence = self._occurrences[request.key]
            self._occurrences[request.key] += 1
            request_class = "write" if request.is_write else "read"
            self._requests[request_class] += 1
            self._operations[request.operation] += 1
            pending = self._pending_faults.get(request.key)
            if pending:
                self._retries[pending.pop(0)] += 1
            if exempt or not self.rate or not self.matches(request):
                return None
            chooser = random.Random("%s|%s|%d" % (self.seed, request.key, request.occurrence))
            if chooser.random() >= self.rate:
                return None
            kind = chooser.choices(self.kinds, weights=self.weights)[0]
            self._faults[(kind, request_class)] += 1
            self._pending_faults[request.key].append(kind)
            return kind

    def record(self, request: ProxyRequest, status, fault) -> None:
        """Append a request's outcome to the event log."""
        with self._lock:
            if len(self._events) < EVENT_LOG_LIMIT:
                self._events.append(
                    dict(
                        started=request.started,
                        ended=time.monotonic(),
                        bucket=request.bucket,
                        operation=request.operation,
                        status=status,
                        fault=fault,
                    )
                )

    def count_precondition(self, what: str) -> None:
        """Count a write the proxy refused for a stale precondition ("metageneration" or "etag")."""
        with self._lock:
            self._preconditions[what] += 1

    def count_hook(self) -> None:
        """Count a call of a before_forward or after_forward hook."""
        with self._lock:
            self._hooks += 1

    # ---- upstream I/O ----

    def upstream_request(self, method: str, path: str, body: bytes | None = None, headers=None):
        """Send one request straight to the upstream (no faults, no counting); return (status, headers, body)."""
        connection = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=UPSTREAM_TIMEOUT_SECONDS
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def _gcs_precondition_problem(self, request: ProxyRequest) -> tuple | None:
        """(status, reason, message) when a GCS write's precondition is stale, else None; an IAM write gets a fresh
        etag."""
        bucket_path = "/storage/v1/b/%s" % request.bucket
        if request.operation in ("PATCH bucket", "PUT bucket"):
            wanted = request.query_params.get("ifMetagenerationMatch")
            if wanted is None:
                return None
            status, _headers, body = self.upstream_request("GET", bucket_path)
            if status != 200:
                return None  # the upstream answers the write itself (404 ...)
            current = str(json.loads(body).get("metageneration"))
            if current != str(wanted):
                self.count_precondition("metageneration")
                return (412, "conditionNotMet", "Precondition Failed: metageneration is %s, not %s" % (current, wanted))
            return None
        if request.operation == "PUT iam":
            policy = json.loads(request.body or b"{}")
            status, _headers, body = self.upstream_request("GET", bucket_path + "/iam?optionsRequestedPolicyVersion=3")
            if status != 200:
                return None
            current = json.loads(body).get("etag")
            if policy.get("etag") and policy.get("etag") != current:
                self.count_precondition("etag")
                return (
                    self.iam_conflict_status,
                    "conflict" if self.iam_conflict_status == 409 else "conditionNotMet",
                    "The etag %s is stale: the policy was changed since it was read (etag %s)"
                    % (policy.get("etag"), current),
                )
            policy["etag"] = fresh_etag()
            request.body = json.dumps(policy).encode()
        return None

    def forward(self, request: ProxyRequest) -> tuple:
        """Forward a request (checking GCS preconditions under the bucket's lock when enforced); return (status,
        headers, body)."""
        headers = {name: value for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP_HEADERS}
        path = request.path + ("?" + request.query if request.query else "")
        guarded = (
            self.enforce_preconditions and self.cloud == "gcs" and request.bucket and request.method in ("PATCH", "PUT")
        )
        if not guarded:
            return self.upstream_request(request.method, path, request.body or None, headers)
        with self.bucket_lock(request.bucket):
            problem = self._gcs_precondition_problem(request)
            if problem:
                status, reason, message = problem
                return (
                    status,
                    [("Content-Type", "application/json; charset=UTF-8")],
                    gcs_error_body(status, reason, message),
                )
            return self.upstream_request(request.method, path, request.body or None, headers)

    def error_answer(self, kind: str, request: ProxyRequest) -> tuple:
        """(status, headers, body) of an injected error answer in the format the client expects."""
        if self.cloud == "azure":
            status, code, message = _AZURE_ERROR_ANSWERS[kind]
            body = (_AZURE_ERROR_XML % (code, message)).encode()
            return status, [("Content-Type", "application/xml"), ("x-ms-error-code", code)], body
        status, code, reason, message = _ERROR_ANSWERS[kind]
        if self.cloud == "gcs":
            if kind == "throttle":
                status = _GCS_THROTTLE_STATUS
            return (
                status,
                [("Content-Type", "application/json; charset=UTF-8")],
                gcs_error_body(status, reason, message),
            )
        if request.headers.get("X-Amz-Target"):
            json_code = {
                "AccessDenied": "AccessDeniedException",
                "InternalError": "KMSInternalException",
                "Throttling": "ThrottlingException",
            }.get(code, code)
            body = json.dumps({"__type": json_code, "message": message}).encode()
            return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", json_code)], body
        if request.operation.partition(" ")[2][:1].isupper():
            fault_type = "Sender" if status < 500 else "Receiver"
            return status, [("Content-Type", "text/xml")], (_QUERY_API_ERROR_XML % (fault_type, code, message)).encode()
        return status, [("Content-Type", "application/xml")], (_S3_ERROR_XML % (code, message)).encode()


def fresh_etag() -> str:
    """A new IAM policy etag, as Cloud Storage gives one on every policy write."""
    return "px-" + uuid.uuid4().hex[:16]


def gcs_error_body(status: int, reason: str, message: str) -> bytes:
    """The JSON error document of the Cloud Storage JSON API."""
    return json.dumps(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": "global", "reason": reason, "message": message}],
            }
        }
    ).encode()


class _FaultHandler(BaseHTTPRequestHandler):
    """Handles one client connection: each request is faulted or forwarded on a fresh upstream connection."""

    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle kept-alive client connection is closed after this
    close_connection = False
    fault_proxy: FaultProxy = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # quiet: the counters are the output

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True  # the client went away (it timed out, or we reset it)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if not size:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reset(self):
        """Close the connection with an RST and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _answer(self, status: int, headers, body: bytes):
        self.send_response_only(status)
        length_sent = False
        for name, value in headers:
            lowered = name.lower()
            if lowered in HOP_BY_HOP_HEADERS and not (lowered == "content-length" and self.command == "HEAD"):
                continue
            length_sent = length_sent or lowered == "content-length"
            self.send_header(name, value)
        if not length_sent:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _handle(self):
        proxy = self.fault_proxy
        parts = urlsplit(self.path)
        body = self._read_body()
        headers = dict(self.headers.items())
        operation = operation_of(proxy.cloud, self.command, parts.path, parts.query, self.headers, body)
        request = ProxyRequest(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers=headers,
            body=body,
            operation=operation,
            bucket=bucket_of(proxy.cloud, parts.path, operation),
        )
        exempt = bool(self.headers.get(EXEMPT_HEADER))
        fault = proxy.admit(request, exempt)
        if fault == "reset_before":
            proxy.record(request, None, fault)
            self._reset()
            return
        if fault in _ERROR_ANSWERS:
            status, answer_headers, answer_body = proxy.error_answer(fault, request)
            proxy.record(request, status, fault)
            self._answer(status, answer_headers, answer_body)
            return
        hooked = not exempt and (proxy.before_forward or proxy.after_forward)
        if hooked and proxy.before_forward:
            proxy.count_hook()
            proxy.before_forward(request)
        try:
            status, answer_headers, answer_body = proxy.forward(request)
        except OSError:
            proxy.record(request, 502, fault)
            self.close_connection = True
            self._answer(502, [("Content-Type", "text/plain")], b"fault proxy: the upstream did not answer")
            return
        if hooked and proxy.after_forward:
            proxy.count_hook()
            proxy.after_forward(request, status)
        proxy.record(request, status, fault)
        if fault == "reset_after":
            self._reset()
            return
        if fault == "slow":
            proxy.hold()
            self.close_connection = True
        self._answer(status, answer_headers, answer_body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _handle
