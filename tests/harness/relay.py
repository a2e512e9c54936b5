"""A loopback relay in front of moto that keeps what each request carried, in memory only.

Unlike the recorder (recorder.py), which keeps operation and member names and never a body, this
relay is for tests that must see *what* reached the server: the STS AssumeRole form (RoleArn,
ExternalId, Tags, ...), the STS answer (the role's credentials), and which access key and session
token signed each Secrets Manager call. Nothing it keeps is written anywhere: a test compares it
and keeps the comparison's outcome, never prints it (it holds external ids and session tokens).

`answer[op]`, when set, is called with the `Seen` request before it is forwarded; returning
`(status, content_type, body)` answers in moto's place (an AWS error, or a made-up success),
returning None forwards it as usual.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from .recorder import forward, send_answer

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(repr=False)
class Seen:
    service: str  # "sts" or "secretsmanager"
    operation: str  # "AssumeRole", "DescribeSecret", ...
    access_key: str  # the access key id of the signature ("" unsigned)
    session_token: str  # X-Amz-Security-Token ("" none)
    form: dict[str, list[str]] = field(default_factory=dict)  # STS's form body
    request: dict = field(default_factory=dict)  # Secrets Manager's JSON body (may hold a value)
    answer: bytes = b""  # what came back (kept for STS only)

    def __repr__(self) -> str:
        # pytest shows an operand's repr (`where ... = Seen(...).access_key`): never the token, the
        # form (ExternalId), the request (SecretString) or STS's answer (the role's keys).
        return f"Seen({self.service} {self.operation} signed by {self.access_key or '-'})"


class Relay:
    def __init__(self, upstream: str):
        u = urlsplit(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port
        self.seen: list[Seen] = []
        self.answer: dict[str, Callable[[Seen], tuple[int, str, bytes] | None]] = {}
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # no access log
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                m = _CREDENTIAL.search(self.headers.get("Authorization", ""))
                seen = Seen(
                    service="secretsmanager" if target else "sts",
                    operation=target.rsplit(".", 1)[-1],
                    access_key=m.group(1) if m else "",
                    session_token=self.headers.get("X-Amz-Security-Token", ""),
                )
                if not target:
                    seen.form = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
                    seen.operation = seen.form.get("Action", ["?"])[0]
                else:
                    try:
                        seen.request = json.loads(body or b"{}")
                    except ValueError:
                        seen.request = {}
                with relay._lock:
                    relay.seen.append(seen)
                    hook = relay.answer.get(seen.operation)
                made = hook(seen) if hook else None
                if made is not None:
                    status, ctype, data = made
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                status, reason, headers, data = forward(self, relay.upstream_host, relay.upstream_port, body)
                if not target:
                    seen.answer = data
                send_answer(self, status, reason, headers, data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "Relay":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, operation: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.operation == operation]

    def operations(self) -> list[str]:
        with self._lock:
            return [s.operation for s in self.seen]


def aws_json(document: dict) -> tuple[int, str, bytes]:
    """A successful Secrets Manager answer (JSON 1.1)."""
    return 200, "application/x-amz-json-1.1", json.dumps(document).encode()


def aws_json_error(code: str, message: str, status: int = 400) -> tuple[int, str, bytes]:
    """An answer as Secrets Manager words an error (JSON 1.1)."""
    return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "Message": message}).encode()
