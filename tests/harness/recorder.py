"""A loopback proxy in front of moto that records which Secrets Manager operations were called.

It keeps the operation name (the `X-Amz-Target` header) and the *names* of the top-level JSON
request members, never a request or response body: the bodies carry secret values.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def forward(
    handler: BaseHTTPRequestHandler, host: str, port: int, body: bytes
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """Sends the request `handler` holds, whose body was read as `body`, to http://host:port as
    it came (hop-by-hop headers left out, the length recounted); returns the answer as
    (status, reason, headers, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.putrequest(handler.command, handler.path, skip_host=True, skip_accept_encoding=True)
        for k, v in handler.headers.items():
            if k.lower() not in _HOP and k.lower() != "content-length":
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.reason, resp.getheaders(), resp.read()
    finally:
        conn.close()


def send_answer(
    handler: BaseHTTPRequestHandler, status: int, reason: str, headers: list[tuple[str, str]], data: bytes
) -> None:
    """Sends (status, reason, headers, data) back through `handler`, hop-by-hop headers left out
    and the length recounted."""
    handler.send_response(status, reason)
    for k, v in headers:
        if k.lower() not in _HOP and k.lower() != "content-length":
            handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@dataclass(frozen=True)
class Call:
    operation: str  # "CreateSecret", "DescribeSecret", ...
    members: tuple[str, ...]  # top-level request member names, sorted


class Recorder:
    def __init__(self, upstream: str):
        u = urlsplit(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # no access log
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

            def _forward(self):
                body = self._body()
                target = self.headers.get("X-Amz-Target", "")
                op = target.rsplit(".", 1)[-1] if target else f"{self.command} {self.path.split('?')[0]}"
                try:
                    members = tuple(sorted(json.loads(body or b"{}")))
                except (ValueError, TypeError):
                    members = ()
                with rec._lock:
                    rec.calls.append(Call(op, members))
                send_answer(self, *forward(self, rec.upstream_host, rec.upstream_port, body))

            do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Recorder":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def operations(self) -> list[str]:
        with self._lock:
            return [c.operation for c in self.calls]

    def take(self) -> list[Call]:
        """The calls since the last take()."""
        with self._lock:
            out, self.calls = self.calls, []
        return out
