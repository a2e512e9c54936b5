"""A fault-injecting loopback proxy in front of moto: the relay (relay.py) answering a random share of
requests with one of its faults.

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
import random
from pathlib import Path
from urllib.parse import urlsplit

from .recorder import Recorder
from .relay import Seen

KINDS = ("throttle400", "throttle429", "http500", "http503", "reset_before", "reset_after", "slow", "hang")
# Not transient, so not in KINDS: a 400 ValidationException whose message is the request body,
# as a careless proxy or a fake might answer. The provider must not show it (the value is in it).
ECHO = "echo400"


class FaultProxy(Recorder):
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
        loopback = urlsplit(upstream).hostname in ("127.0.0.1", "localhost", "::1")
        assert loopback, "the fault proxy forwards to loopback only"
        # after_upstream(op) runs after moto acted and before the answer goes back: the crash test
        # kills the provider there (the window between a call's effect and the state).
        super().__init__(upstream, log_path=log_path, after_upstream=after_upstream)
        self.rate = rate
        self.kinds = tuple(kinds)
        self.slow_s = slow_s
        self.hang_s = hang_s
        self.only_ops = only_ops
        self.enabled = True
        self.rng = random.Random(seed)
        self._deck: list[str] = []
        self.faults: collections.Counter[str] = collections.Counter()
        self.faults_by_op: collections.Counter[tuple[str, str]] = collections.Counter()
        self.retries = 0  # requests whose amz-sdk-request header says attempt >= 2
        self.max_attempt = 0

    def fault(self, seen: Seen) -> str | None:  # under the lock
        op = seen.operation
        if seen.attempt >= 2:
            self.retries += 1
        self.max_attempt = max(self.max_attempt, seen.attempt)
        kind = None
        if self.enabled and (self.only_ops is None or op in self.only_ops) and self.rng.random() < self.rate:
            # Kinds are dealt from a seeded, shuffled deck so that every kind occurs once in each
            # len(kinds) faults: a run that injects at least that many has exercised them all.
            if not self._deck:
                self._deck = list(self.kinds)
                self.rng.shuffle(self._deck)
            kind = self._deck.pop()
            self.faults[kind] += 1
            self.faults_by_op[(op, kind)] += 1
        seen.delay = self.rng.uniform(*self.slow_s)
        return kind

    def log_record(self, seen: Seen) -> dict:
        return {"op": seen.operation, "members": list(seen.members), "attempt": seen.attempt, "fault": seen.fault}

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
