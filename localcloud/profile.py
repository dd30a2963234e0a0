"""How much of AWS's timing the local cloud reproduces, and the account quotas it enforces.

Two profiles, chosen when the local cloud starts (``WORKSHOP_LOCAL_PROFILE``):

- ``local`` (the default for attendees): every change is visible at once. Nothing to wait for,
  so a workshop on a laptop flows; strict semantics, IAM and quotas still apply.
- ``aws``: AWS's eventual consistency and delays. Each delay is drawn from the range AWS
  documents or users measure (``DELAYS``), from a seed (``WORKSHOP_LOCAL_SEED``, random when
  unset and printed in the server log and health answer) so a failing run can be replayed, and
  multiplied by ``WORKSHOP_LOCAL_TIME_SCALE`` (CI shortens them; every kind still happens).

Quotas are account-wide, per region, and apply in both profiles; ``aws`` defaults to the
values of a new AWS account, ``local`` to AWS's documented defaults.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("local", "aws")

# Seconds at time scale 1: (shortest, longest). Sources: docs/local-cloud.md ("AWS's timing, as a profile"),
# which names the AWS page behind each range.
DELAYS: dict[str, tuple[float, float]] = {
    "iam_propagation": (4.0, 12.0),  # a new role/policy is not yet usable by Lambda, SageMaker, STS
    "lambda_create": (1.0, 5.0),  # State Pending -> Active
    "lambda_update": (1.0, 5.0),  # LastUpdateStatus InProgress -> Successful
    "endpoint_create": (90.0, 240.0),  # Creating -> InService (serverless included)
    "endpoint_update": (60.0, 180.0),  # Updating -> InService
    "endpoint_delete": (5.0, 30.0),  # Deleting -> gone
    "table_create": (3.0, 15.0),  # CREATING -> ACTIVE, GSIs CREATING while they backfill
    "pitr_unavailable": (10.0, 60.0),  # UpdateContinuousBackups refused after CreateTable
    "log_ingestion": (1.0, 8.0),  # PutLogEvents / Lambda logs -> visible to Get/FilterLogEvents, Insights
    "metric_publication": (20.0, 90.0),  # metric-filter and service datapoints -> GetMetricData, alarms
    "alarm_offset": (0.0, 1.0),  # each alarm's phase, as a share of the evaluation interval
    "sns_delivery": (0.1, 2.0),  # Publish -> subscriber receives
}

# Account quotas per region: (documented default, a new account's value).
QUOTAS: dict[str, tuple[int, int]] = {
    "lambda_concurrent_executions": (1000, 10),
    "sagemaker_serverless_total_concurrency": (200, 10),
}
QUOTA_ENV = {
    "lambda_concurrent_executions": "WORKSHOP_LOCAL_LAMBDA_CONCURRENCY",
    "sagemaker_serverless_total_concurrency": "WORKSHOP_LOCAL_SERVERLESS_CONCURRENCY",
}


class ProfileError(ValueError):
    """A WORKSHOP_LOCAL_* setting the local cloud cannot use."""


@dataclass
class Profile:
    """The timing and quotas of one local cloud process."""

    name: str = "local"
    seed: int = 0
    scale: float = 1.0
    quotas: dict[str, int] = field(default_factory=dict)
    _draws: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _ready: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def aws(self) -> bool:
        """True when AWS's delays are reproduced."""
        return self.name == "aws"

    def delay(self, kind: str, key: str = "") -> float:
        """Seconds this occurrence of kind (for resource key) takes; 0 under the local profile."""
        if not self.aws:
            return 0.0
        low, high = DELAYS[kind]
        value = self.draw(kind, key).uniform(low, high)
        return value if kind == "alarm_offset" else value * self.scale

    def draw(self, kind: str, key: str = "") -> random.Random:
        """A generator for this occurrence of kind on key: the same seed replays the same draws,
        whatever order threads ask in."""
        with self._lock:
            n = self._draws.get((kind, key), 0)
            self._draws[(kind, key)] = n + 1
        return random.Random(f"{self.seed}|{kind}|{key}|{n}")

    def start(self, kind: str, key: str) -> float:
        """Begin a change of kind on key now; return the epoch second it completes."""
        ready = time.time() + self.delay(kind, key)
        with self._lock:
            self._ready[(kind, key)] = ready
        return ready

    def remaining(self, kind: str, key: str) -> float:
        """Seconds until the last change of kind on key completes (0 when done or never started)."""
        with self._lock:
            ready = self._ready.get((kind, key), 0.0)
        return max(0.0, ready - time.time())

    def forget(self, kind: str, key: str) -> None:
        """Drop the record of a change (its resource was deleted)."""
        with self._lock:
            self._ready.pop((kind, key), None)

    def quota(self, name: str) -> int:
        """The account quota in force for name (see QUOTAS)."""
        return self.quotas[name]

    def describe(self) -> dict[str, Any]:
        """What the health answer and the log show, so a run can be replayed."""
        return {
            "profile": self.name,
            "seed": self.seed,
            "time_scale": self.scale,
            "quotas": dict(self.quotas),
        }


def from_env(env: dict[str, str] | None = None) -> Profile:
    """The profile the WORKSHOP_LOCAL_* variables choose (ProfileError names a bad one and the fix)."""
    env = dict(os.environ if env is None else env)
    name = (env.get("WORKSHOP_LOCAL_PROFILE") or "local").strip().lower()
    if name not in PROFILES:
        raise ProfileError(
            f"WORKSHOP_LOCAL_PROFILE={name!r} is not a profile. Fix: use local (the default) or aws."
        )
    seed_text = (env.get("WORKSHOP_LOCAL_SEED") or "").strip()
    if seed_text and not seed_text.isdigit():
        raise ProfileError(f"WORKSHOP_LOCAL_SEED={seed_text!r} must be a whole number (the seed to replay).")
    seed = int(seed_text) if seed_text else random.SystemRandom().randrange(10**6)
    scale_text = (env.get("WORKSHOP_LOCAL_TIME_SCALE") or "1").strip()
    try:
        scale = float(scale_text)
    except ValueError:
        scale = -1.0
    if not 0 < scale <= 1:
        raise ProfileError(
            f"WORKSHOP_LOCAL_TIME_SCALE={scale_text!r} must be a number above 0 and at most 1 "
            "(1 = AWS's own delays; 0.05 shortens them twentyfold)."
        )
    quotas = {}
    for quota, (default, new_account) in QUOTAS.items():
        text = (env.get(QUOTA_ENV[quota]) or "").strip()
        if text and not (text.isdigit() and int(text) > 0):
            raise ProfileError(f"{QUOTA_ENV[quota]}={text!r} must be a whole number above 0.")
        quotas[quota] = int(text) if text else (new_account if name == "aws" else default)
    return Profile(name=name, seed=seed, scale=scale, quotas=quotas)


_current: Profile | None = None
_current_lock = threading.Lock()


def current() -> Profile:
    """The profile of this local cloud process (read from the environment on first use)."""
    global _current
    with _current_lock:
        if _current is None:
            _current = from_env()
        return _current


def use(profile: Profile) -> Profile:
    """Make profile the current one (tests switch profiles on an in-process cloud); return the old one."""
    global _current
    with _current_lock:
        old, _current = _current, profile
    return old or from_env({})
