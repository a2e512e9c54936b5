"""The relay (relay.py) in front of moto, keeping which Secrets Manager operations were called: the
operation name and the *names* of the top-level JSON request members, never a body (bodies carry
secret values)."""

from __future__ import annotations

from dataclasses import dataclass

from .relay import Relay


@dataclass(frozen=True)
class Call:
    operation: str  # "CreateSecret", "DescribeSecret", ...
    members: tuple[str, ...]  # top-level request member names, sorted


class Recorder(Relay):
    def __init__(self, upstream: str, **kwargs):
        super().__init__(upstream, bodies=False, **kwargs)
        self._taken = 0

    def take(self) -> list[Call]:
        """The calls since the last take()."""
        with self._lock:
            out = [Call(s.operation, s.members) for s in self.seen[self._taken:]]
            self._taken = len(self.seen)
        return out
