"""A fault-injecting loopback proxy in front of moto: the recording proxy (recorder.py) plus faults.

With probability `rate` (seeded RNG, so a run is repeatable up to thread scheduling) a request gets
one fault instead of (or besides) its normal answer:

  throttle400   HTTP 400 with the JSON 1.1 error body AWS sends: {"__type": "ThrottlingException", ...}
  throttle429   HTTP 429 with a plain-text body, as a load balancer or API gateway in front would send
  http500       HTTP 500 InternalServiceError (JSON body)
  http503       HTTP 503 ServiceUnavailable (JSON body)
  reset_before  the connection is reset before the request reaches moto (nothing happened)
  reset_after   the request is forwarded, moto acts on it, then the connection is reset: the response
                is lost, so the client cannot know the call succeeded (the idempotency case)
  slow          the answer comes after a delay (below any sane timeout)
  hang          no answer at all for `hang_s` seconds, then a reset: only a client-side timeout helps

`after_upstream(op) -> bool` runs after moto acted on a request and before its answer is sent; when
it returns true the connection is reset instead (the crash test kills the provider there).

Like the recorder it keeps operation names, top-level request member *names* and the SDK's
`amz-sdk-request: attempt=N` header (how retries are counted), never a body: bodies carry values.
Its log (one JSON line per request) is written under the test's artifacts so the canary sweep
searches it too. Loopback only: it binds 127.0.0.1 and forwards to the loopback upstream.
"""

from __future__ import annotations

import collections
import json
import random
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from .recorder import Call, forward, send_answer

KINDS = ("throttle400", "throttle429", "http500", "http503", "reset_before", "reset_after", "slow", "hang")
# Not transient, so not in KINDS: a 400 ValidationException whose message is the request body,
# as a careless proxy or a fake might answer. The provider must not show it (the value is in it).
ECHO = "echo400"

_ATTEMPT = re.compile(r"attempt=(\d+)")


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.2,
        seed: int = 0,
        kinds: tuple[str, ...] = KINDS,
        log_path: Path | None = None,
        slow_s: tuple[float, float] = (0.3, 1.5),
        hang_s: float = 30.0,
        only_ops: set[str] | None = None,
        after_upstream=None,
    ):
        u = urlsplit(upstream)
        assert u.hostname in ("127.0.0.1", "localhost", "::1"), "the fault proxy forwards to loopback only"
        self.upstream_host, self.upstream_port = u.hostname, u.port
        self.rate = rate
        self.kinds = tuple(kinds)
        self.slow_s = slow_s
        self.hang_s = hang_s
        self.only_ops = only_ops
        # Called with the operation name after moto acted and before the answer goes back: the
        # crash test kills the provider there (the window between a call's effect and the state).
        self.after_upstream = after_upstream
        self.enabled = True
        self.rng = random.Random(seed)
        self._deck: list[str] = []
        self.calls: list[Call] = []
        self.faults: collections.Counter[str] = collections.Counter()
        self.faults_by_op: collections.Counter[tuple[str, str]] = collections.Counter()
        self.ops: collections.Counter[str] = collections.Counter()
        self.retries = 0  # requests whose amz-sdk-request header says attempt >= 2
        self.max_attempt = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._log = open(log_path, "a", buffering=1) if log_path else None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # no access log
                pass

            def finish(self):
                try:
                    super().finish()
                except OSError:
                    pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reset(self):
                """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass
                self.close_connection = True

            def _error(self, status: int, reason: str, body: bytes, ctype: str):
                self.send_response(status, reason)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", "fault-injected")
                self.end_headers()
                self.wfile.write(body)

            def _aws_error(self, status: int, reason: str, typ: str, message: str):
                body = json.dumps({"__type": typ, "message": message}).encode()
                self.send_response(status, reason)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-ErrorType", typ)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", "fault-injected")
                self.end_headers()
                self.wfile.write(body)

            def _forward(self):
                body = self._body()
                target = self.headers.get("X-Amz-Target", "")
                op = target.rsplit(".", 1)[-1] if target else f"{self.command} {self.path.split('?')[0]}"
                try:
                    members = tuple(sorted(json.loads(body or b"{}")))
                except (ValueError, TypeError):
                    members = ()
                m = _ATTEMPT.search(self.headers.get("amz-sdk-request", ""))
                attempt = int(m.group(1)) if m else 0
                with proxy._lock:
                    proxy.calls.append(Call(op, members))
                    proxy.ops[op] += 1
                    if attempt >= 2:
                        proxy.retries += 1
                    proxy.max_attempt = max(proxy.max_attempt, attempt)
                    kind = None
                    eligible = proxy.enabled and (proxy.only_ops is None or op in proxy.only_ops)
                    if eligible and proxy.rng.random() < proxy.rate:
                        # Kinds are dealt from a seeded, shuffled deck so that every kind
                        # occurs once in each len(kinds) faults: a run that injects at least
                        # that many has exercised them all.
                        if not proxy._deck:
                            proxy._deck = list(proxy.kinds)
                            proxy.rng.shuffle(proxy._deck)
                        kind = proxy._deck.pop()
                        proxy.faults[kind] += 1
                        proxy.faults_by_op[(op, kind)] += 1
                    delay = proxy.rng.uniform(*proxy.slow_s)
                proxy._write_log({"op": op, "members": list(members), "attempt": attempt, "fault": kind})

                if kind == ECHO:
                    return self._aws_error(400, "Bad Request", "ValidationException", "rejected: " + body.decode("utf-8", "replace"))
                if kind == "throttle400":
                    return self._aws_error(400, "Bad Request", "ThrottlingException", "Rate exceeded")
                if kind == "throttle429":
                    return self._error(429, "Too Many Requests", b"Too Many Requests\n", "text/plain")
                if kind == "http500":
                    return self._aws_error(500, "Internal Server Error", "InternalServiceError", "injected fault")
                if kind == "http503":
                    return self._aws_error(503, "Service Unavailable", "ServiceUnavailable", "injected fault")
                if kind == "reset_before":
                    return self._reset()
                if kind == "hang":
                    proxy._stopping.wait(proxy.hang_s)
                    return self._reset()
                if kind == "slow":
                    time.sleep(delay)
                status, reason, headers, data = forward(self, proxy.upstream_host, proxy.upstream_port, body)
                hook = proxy.after_upstream
                if hook is not None and hook(op):
                    return self._reset()
                if kind == "reset_after":
                    return self._reset()
                send_answer(self, status, reason, headers, data)

            do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _write_log(self, rec: dict) -> None:
        if self._log is not None:
            with self._lock:
                self._log.write(json.dumps(rec) + "\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FaultProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def take(self) -> list[Call]:
        with self._lock:
            out, self.calls = self.calls, []
        return out

    def figures(self) -> dict:
        with self._lock:
            return {
                "requests": sum(self.ops.values()),
                "faults": dict(sorted(self.faults.items())),
                "faults_total": sum(self.faults.values()),
                "retries_seen": self.retries,
                "max_attempt": self.max_attempt,
                "ops": dict(sorted(self.ops.items())),
            }
