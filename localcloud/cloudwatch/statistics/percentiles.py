"""Percentile statistics as CloudWatch names and computes them: 'p99.9', nearest rank."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_PERCENTILE_RE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$")


def percentile_of(statistic: str) -> float | None:
    """The percentile a statistic names, as a number between 0 and 100 ('p99.9' -> 99.9), or None."""
    match = _PERCENTILE_RE.match(statistic or "")
    return float(match.group(1)) if match else None


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    """The nearest-rank percentile of values: the sorted value at rank ceil(p/100 * n), at least 1."""
    ordered = sorted(values)
    rank = max(1, math.ceil(round(percentile * len(ordered) / 100.0, 9)))  # round: 99.9% of 1000 is 999
    return ordered[min(rank, len(ordered)) - 1]
