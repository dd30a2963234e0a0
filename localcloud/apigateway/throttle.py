"""Throttling as "Throttle requests to your REST APIs" describes it: token buckets, checked in order.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html:
every request takes a token from the bucket of each level that applies, narrowest first (the
stage's method settings, ``{resource}/{method}`` or ``*/*``, then the account's 10,000 requests per
second with a burst of 5,000 per Region); a bucket holds at most ``burstLimit`` tokens and refills at
``rateLimit`` per second. An empty bucket answers 429 (the THROTTLED gateway response).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ACCOUNT_RATE_LIMIT = 10_000.0  # requests per second, per account and Region (AWS's default quota)
ACCOUNT_BURST_LIMIT = 5_000


@dataclass(frozen=True)
class Limit:
    """One throttling level: its key (what the bucket belongs to), steady rate and burst."""

    key: str
    rate: float
    burst: int


class Buckets:
    """The token buckets of every level, filled to their burst when first used."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float, Limit]] = {}  # key -> (tokens, at, limit)

    def _tokens(self, limit: Limit, now: float) -> float:
        """The tokens in limit's bucket now (refilled since last use; a changed limit starts full)."""
        tokens, at, known = self._state.get(limit.key, (float(limit.burst), now, limit))
        if known != limit:
            return float(limit.burst)
        return min(float(limit.burst), tokens + (now - at) * limit.rate)

    def take(self, limits: Sequence[Limit]) -> str | None:
        """Take a token from every level's bucket; the key of the first empty one (nothing taken), else None."""
        with self._lock:
            now = self._clock()
            levels = [(limit, self._tokens(limit, now)) for limit in limits]
            for limit, tokens in levels:
                if tokens < 1.0:
                    return limit.key
            for limit, tokens in levels:
                self._state[limit.key] = (tokens - 1.0, now, limit)
            return None

    def forget(self) -> None:
        """Empty memory: every bucket starts full again."""
        with self._lock:
            self._state.clear()


def stage_limits(
    method_settings: dict[str, dict[str, object]], stage_key: str, resource_path: str, method: str
) -> list[Limit]:
    """The stage's throttling for a method: its own ``{path}/{METHOD}`` setting, else ``*/*`` (none: [])."""
    escaped = resource_path.lstrip("/").replace("/", "~1")
    for setting_key in (f"~1{escaped}/{method}" if escaped else f"~1/{method}", "*/*"):
        found = method_settings.get(setting_key)
        if found and "throttlingRateLimit" in found and "throttlingBurstLimit" in found:
            rate = float(str(found["throttlingRateLimit"]))
            burst = int(str(found["throttlingBurstLimit"]))
            return [Limit(f"{stage_key}:{setting_key}", rate, burst)]
    return []
