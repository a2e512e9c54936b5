"""The e2e tests' one loopback HTTP server core, and the relay in front of moto built on it.

`Server` is an HTTP/1.1 server on 127.0.0.1 (an ephemeral port, TLS when given a context) whose
every request goes to one `handle(handler)`. `stop()` (or leaving `with`) ends it cleanly: the
listening port is closed, the connections still open are shut, stalls waiting on `stopping` or
`release` end, and the handler threads are joined.

`Relay` forwards to an upstream (moto) and keeps one `Seen` per request in memory only. For an
operation it can answer in moto's place: `answer[op](seen)` returning (status, content_type, body),
or `rules[op] = kind`, a fault of `FAULTS` (a status code, throttling, an echo of the request, a
malformed or cut answer, a stall, a reset). `after_upstream(op)` runs after moto acted and before
its answer goes back; true resets the connection instead. recorder.py, faults.py and proxies.py
are the relay and the server with a few settings of their own.

The invariant: request bodies hold secret values (canaries) and header values session tokens.
Nothing here prints, logs or reprs either, or puts one into an exception or assertion message:
`Seen`'s repr names the service, the operation and the signing key id; it is no dataclass (pytest
would compare and show its fields one by one); the optional log (`log_path`, searched by the
canary sweep) holds operation names and fault kinds; an error in a handler is reported by its type
and traceback, never its message (which may quote the request). Only `bodies=True` (the default)
keeps the session token, the STS form and answer and the Secrets Manager request in a `Seen`, for
a test to compare; else it holds operation, member names, signing key id and attempt.
"""

from __future__ import annotations

import collections
import http.client
import json
import re
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

AMZ_JSON = "application/x-amz-json-1.1"
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_ATTEMPT = re.compile(r"attempt=(\d+)")


def read_body(h: BaseHTTPRequestHandler) -> bytes:
    """The request body, chunked or not."""
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += h.rfile.read(size)
            h.rfile.readline()
    return h.rfile.read(int(h.headers.get("Content-Length") or 0))


def forward(
    h: BaseHTTPRequestHandler, host: str, port: int, body: bytes, path: str | None = None
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """Sends the request `h` holds, whose body was read as `body`, to http://host:port (at `path`,
    by default the request's) as it came, hop-by-hop headers left out and the length recounted;
    returns the answer as (status, reason, headers, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.putrequest(h.command, path or h.path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.headers.items():
            if k.lower() not in _HOP and k.lower() != "content-length":
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.reason, resp.getheaders(), resp.read()
    finally:
        conn.close()


def send_answer(
    h: BaseHTTPRequestHandler, status: int, reason: str, headers: list[tuple[str, str]], data: bytes
) -> None:
    """Sends an upstream answer back through `h`, hop-by-hop headers left out, the length recounted."""
    h.send_response(status, reason)
    for k, v in headers:
        if k.lower() not in _HOP and k.lower() != "content-length":
            h.send_header(k, v)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def send(
    h: BaseHTTPRequestHandler, status: int, ctype: str | None, data: bytes, *,
    reason: str | None = None, headers: tuple[tuple[str, str], ...] = (), length: int | None = None,
) -> None:
    """Answers `data` (no Content-Type when `ctype` is None); `length` larger than it promises
    more than is sent (a cut answer)."""
    h.send_response(status, reason)
    if ctype is not None:
        h.send_header("Content-Type", ctype)
    for k, v in headers:
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(data) if length is None else length))
    h.end_headers()
    h.wfile.write(data)
    h.wfile.flush()


def reset(h: BaseHTTPRequestHandler) -> None:
    """Closes with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass
    h.close_connection = True


def aws_json(document: dict) -> tuple[int, str, bytes]:
    """A successful Secrets Manager answer (JSON 1.1)."""
    return 200, AMZ_JSON, json.dumps(document).encode()


def aws_json_error(code: str, message: str, status: int = 400) -> tuple[int, str, bytes]:
    """An answer as Secrets Manager words an error (JSON 1.1)."""
    return status, AMZ_JSON, json.dumps({"__type": code, "Message": message}).encode()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, owner: "Server", handler) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), handler)

    def process_request_thread(self, request, client_address) -> None:
        me = threading.current_thread()
        with self.owner._conns_lock:
            self.owner._conns[me] = request
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.owner._conns_lock:
                self.owner._conns.pop(me, None)

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the client went away, or the test reset the connection
            return
        # The type and where, never the message: it may quote the request (a value, a token).
        where = "".join(traceback.format_tb(exc.__traceback__)) if exc is not None else ""
        sys.stderr.write(f"harness server: {type(exc).__name__} answering a request (message not shown)\n{where}")


class Server:
    """A loopback HTTP/1.1 server; every request goes to `handle(h)` (by default the method)."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None] | None = None, *,
                 tls: ssl.SSLContext | None = None, methods=("GET", "POST", "PUT", "DELETE", "HEAD")):
        self.stopping = threading.Event()  # set by stop(): ends what waits on it
        self.release = threading.Event()  # ends stalls early; stop() sets it too
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._conns_lock = threading.Lock()
        self._started = False
        target = handle or self.handle

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # no access log
                pass

            def finish(self) -> None:
                try:
                    super().finish()
                except OSError:
                    pass

            def _any(self) -> None:
                target(self)

        for method in methods:
            setattr(Handler, "do_" + method, Handler._any)
        self.server = _HTTPServer(self, Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self):
        self._started = True
        self.thread.start()
        return self

    def stop(self, join_s: float = 10.0) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.release.set()
        if self._started:
            self.server.shutdown()
            self.thread.join(5)
        self.server.server_close()
        with self._conns_lock:
            open_now = dict(self._conns)
        for conn in open_now.values():  # idle keep-alive connections, answers being written
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + join_s
        for t in open_now:  # one forwarding to a hung upstream may outlast this: it is a daemon
            if t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Seen:
    """One request as the relay saw it. Its repr names no value and no token (see the module)."""

    __slots__ = ("service", "operation", "access_key", "session_token", "attempt", "members",
                 "form", "request", "answer", "fault", "delay")

    def __init__(self, service: str, operation: str, access_key: str = "", session_token: str = "",
                 attempt: int = 0, members: tuple[str, ...] = ()) -> None:
        self.service = service  # "sts", "secretsmanager", or "" (neither: a GET, ...)
        self.operation = operation  # "AssumeRole", "DescribeSecret", "GET /path", ...
        self.access_key = access_key  # the access key id of the signature ("" unsigned)
        self.session_token = session_token  # X-Amz-Security-Token ("" none; bodies=True only)
        self.attempt = attempt  # the SDK's amz-sdk-request attempt=N (0 none)
        self.members = members  # top-level request member names, sorted
        self.form: dict[str, list[str]] = {}  # STS's form body (bodies=True only)
        self.request: dict = {}  # Secrets Manager's JSON body (bodies=True only; may hold a value)
        self.answer = b""  # what came back from STS (bodies=True only; the role's keys)
        self.fault: str | None = None  # the fault the relay answered with
        self.delay = 0.0  # for the "slow" fault

    def __repr__(self) -> str:
        return f"Seen({self.service or '-'} {self.operation} signed by {self.access_key or '-'})"


def secret_string(body: bytes) -> str:
    """The SecretString of a JSON request body ("" none)."""
    if not body.startswith(b"{"):
        return ""
    try:
        value = json.loads(body).get("SecretString")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


class Relay(Server):
    def __init__(self, upstream: str, *, bodies: bool = True, log_path: Path | None = None,
                 after_upstream: Callable[[str], bool] | None = None):
        super().__init__()
        self.upstream = upstream  # may be changed while running (moto restarted elsewhere)
        self.bodies = bodies
        self.seen: list[Seen] = []
        self.answer: dict[str, Callable[[Seen], tuple[int, str, bytes] | None]] = {}
        self.rules: dict[str, str] = {}  # {operation: fault kind}
        self.after_upstream = after_upstream
        self.ops: collections.Counter[str] = collections.Counter()
        self.faulted: collections.Counter[str] = collections.Counter()
        self.entered = threading.Event()  # a stalled call has arrived
        self._lock = threading.Lock()
        self._log = open(log_path, "a", buffering=1) if log_path else None

    # What a subclass may change.
    def fault(self, seen: Seen) -> str | None:
        """The fault kind to answer `seen` with (None: forward it). Called under the lock."""
        return self.rules.get(seen.operation)

    def observe(self, seen: Seen, body: bytes) -> None:
        """Called with each request before it is answered."""

    def log_record(self, seen: Seen) -> dict:
        return {"op": seen.operation, "kind": seen.fault}

    def reply(self, seen: Seen, body: bytes) -> tuple[int, str, bytes] | None:
        hook = self.answer.get(seen.operation)
        return hook(seen) if hook else None

    def transform(self, seen: Seen, status: int, data: bytes) -> bytes:
        """The upstream answer's body as it is sent back."""
        return data

    # The core.
    @property
    def upstream_hostport(self) -> tuple[str, int]:
        u = urlsplit(self.upstream)
        return u.hostname, u.port

    def write_log(self, record: dict) -> None:
        if self._log is not None:
            with self._lock:
                if self._log is not None:
                    self._log.write(json.dumps(record) + "\n")

    def parse(self, h: BaseHTTPRequestHandler, body: bytes) -> Seen:
        target = h.headers.get("X-Amz-Target", "")
        signed = _CREDENTIAL.search(h.headers.get("Authorization", ""))
        attempt = _ATTEMPT.search(h.headers.get("amz-sdk-request", ""))
        token = h.headers.get("X-Amz-Security-Token", "") if self.bodies else ""
        seen = Seen("secretsmanager" if target else "", target.rsplit(".", 1)[-1],
                    signed.group(1) if signed else "", token, int(attempt.group(1)) if attempt else 0)
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            seen.members = tuple(sorted(doc))
            if target and self.bodies:
                seen.request = doc
        if not target:
            form = parse_qs(body.decode(errors="replace"), keep_blank_values=True) if doc is None else {}
            if "Action" in form:
                seen.service, seen.operation = "sts", form["Action"][0]
                if self.bodies:
                    seen.form = form
            else:
                seen.operation = f"{h.command} {h.path.split('?')[0]}"
        return seen

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        body = read_body(h)
        seen = self.parse(h, body)
        with self._lock:
            self.seen.append(seen)
            self.ops[seen.operation] += 1
            seen.fault = self.fault(seen)
            if seen.fault is not None:
                self.faulted[seen.operation] += 1
        self.observe(seen, body)
        self.write_log(self.log_record(seen))
        if seen.fault is not None:
            return FAULTS[seen.fault](self, h, seen, body)
        made = self.reply(seen, body)
        if made is not None:
            return send(h, *made)
        self.pass_through(h, seen, body)

    def pass_through(self, h: BaseHTTPRequestHandler, seen: Seen, body: bytes, answer: bool = True) -> bool:
        """Forwards, and sends moto's answer back (unless not `answer`); False when the connection
        was reset instead."""
        try:
            status, reason, headers, data = forward(h, *self.upstream_hostport, body)
        except OSError:
            self.write_log({"op": seen.operation, "upstream": "unreachable"})
            reset(h)
            return False
        if self.bodies and seen.service == "sts":
            seen.answer = data
        hook = self.after_upstream
        if hook is not None and hook(seen.operation):
            reset(h)
            return False
        if answer:
            send_answer(h, status, reason, headers, self.transform(seen, status, data))
        return True

    def calls(self, operation: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.operation == operation]

    def operations(self) -> list[str]:
        with self._lock:
            return [s.operation for s in self.seen]

    def stop(self, join_s: float = 10.0) -> None:
        super().stop(join_s)
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None


# Faults: fault(relay, handler, seen, body) answers the request in moto's place.
def _aws_error(status: int, reason: str, typ: str, message: str):
    def fault(r: Relay, h, seen: Seen, body: bytes) -> None:
        send(h, status, AMZ_JSON, json.dumps({"__type": typ, "message": message}).encode(), reason=reason,
             headers=(("x-amzn-ErrorType", typ), ("x-amzn-RequestId", "fault-injected")))
    return fault


def _json(status: int, doc: Callable[[bytes], dict]):
    return lambda r, h, seen, body: send(h, status, AMZ_JSON, json.dumps(doc(body)).encode())


def _echo400(r: Relay, h, seen: Seen, body: bytes) -> None:
    # A careless proxy or fake: the request body as the message. The provider must not show it.
    message = "rejected: " + body.decode("utf-8", "replace")
    _aws_error(400, "Bad Request", "ValidationException", message)(r, h, seen, body)


def _slow(r: Relay, h, seen: Seen, body: bytes) -> None:
    time.sleep(seen.delay)
    r.pass_through(h, seen, body)


def _reset_after(r: Relay, h, seen: Seen, body: bytes) -> None:
    if r.pass_through(h, seen, body, answer=False):  # the answer is lost: did the call happen?
        reset(h)


def _hang(r: Relay, h, seen: Seen, body: bytes) -> None:
    r.stopping.wait(getattr(r, "hang_s", 30.0))
    reset(h)


def _malformed_after(r: Relay, h, seen: Seen, body: bytes) -> None:  # moto acted; its answer broken
    forward(h, *r.upstream_hostport, body)
    send(h, 200, AMZ_JSON, b'{"ARN": "arn:aws:secretsmanager:')


def _cut_echo(r: Relay, h, seen: Seen, body: bytes) -> None:  # a 200 promising more: the request, EOF
    send(h, 200, AMZ_JSON, body, length=len(body) + 4096)
    reset(h)


def _cut_answer(r: Relay, h, seen: Seen, body: bytes) -> None:  # moto's answer (a read's holds the value), half
    status, reason, headers, data = forward(h, *r.upstream_hostport, body)
    send(h, status, AMZ_JSON, data[: len(data) // 2], length=len(data))
    reset(h)


def _stall(after: bool):
    def fault(r: Relay, h, seen: Seen, body: bytes) -> None:  # no answer; after: moto acted first
        if after:
            forward(h, *r.upstream_hostport, body)
        r.entered.set()
        r.release.wait(60)
        reset(h)
    return fault


def _html(r: Relay, h, seen: Seen, body: bytes) -> None:
    text = body.decode(errors="replace")
    page = f"<html><body><h1>500 Internal Server Error</h1><p>request: {text}</p></body></html>"
    send(h, 500, "text/html", page.encode())


FAULTS: dict[str, Callable[[Relay, BaseHTTPRequestHandler, Seen, bytes], None]] = {
    # Transient, as AWS or what stands in front of it answers (faults.KINDS).
    "throttle400": _aws_error(400, "Bad Request", "ThrottlingException", "Rate exceeded"),
    "throttle429": lambda r, h, seen, body: send(
        h, 429, "text/plain", b"Too Many Requests\n", reason="Too Many Requests",
        headers=(("x-amzn-RequestId", "fault-injected"),)),
    "http500": _aws_error(500, "Internal Server Error", "InternalServiceError", "injected fault"),
    "http503": _aws_error(503, "Service Unavailable", "ServiceUnavailable", "injected fault"),
    "reset_before": lambda r, h, seen, body: reset(h),
    "reset_after": _reset_after,
    "slow": _slow,
    "hang": _hang,
    "echo400": _echo400,
    # Answers quoting the request (it holds SecretString), malformed or cut answers, stalls.
    "echo500-json": _json(500, lambda body: {
        "__type": "InternalFailure", "message": "upstream failed on request " + body.decode(errors="replace")}),
    "echo503-text": lambda r, h, seen, body: send(h, 503, "text/plain", b"Service Unavailable. Request was: " + body),
    "echo500-html": _html,
    "throttle": _json(400, lambda body: {"__type": "ThrottlingException", "message": "Rate exceeded"}),
    "validation-quotes-value": _json(400, lambda body: {
        "__type": "ValidationException",
        "message": f"1 validation error detected: Value '{secret_string(body)}' at 'secretString' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern"}),
    "malformed-after": _malformed_after,
    "malformed-200": lambda r, h, seen, body: send(h, 200, AMZ_JSON, body[: len(body) * 3 // 4]),
    "wrong-type-200": _json(200, lambda body: {
        "ARN": {"x": secret_string(body)}, "Name": [secret_string(body)], "VersionId": secret_string(body)}),
    "cut-echo": _cut_echo,
    "cut-answer": _cut_answer,
    "stall": _stall(False),
    "stall-after": _stall(True),
}
