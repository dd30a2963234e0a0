"""Deciding an alarm's state from its datapoints: M out of N, missing data, low sample counts.

Pure: datapoints in, a state out. The rules are AWS's ("Using Amazon CloudWatch alarms":
Evaluating an alarm; Configuring how CloudWatch alarms treat missing data); the package
docstring (localcloud/cloudwatch/alarms/__init__.py) states them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

EXTRA_RANGE_PERIODS = 2  # AWS's examples retrieve 5 periods for N = 3; AWS does not publish its rule
EPOCH = datetime(1970, 1, 1)

_BREACHES: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
OPERATORS = frozenset(_BREACHES)  # the comparison operators evaluated (anomaly bands are not)


@dataclass(frozen=True)
class Point:
    """One period's datapoint: when its period starts, its value, how many samples it holds."""

    timestamp: datetime
    value: float
    sample_count: float = 1.0


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation decided, with what the reason text needs."""

    state: str
    evaluated: tuple[Point, ...] = ()  # real datapoints evaluated, oldest first
    breaching: int = 0  # breaching datapoints among the evaluated ones, filled ones included
    filled: int = 0  # missing datapoints filled by TreatMissingData
    fill: str | None = None  # "breaching" or "notBreaching" when points were filled
    retained: bool = False  # the state was kept (ignore, or too few samples)


def breaches(value: float, comparison_operator: str, threshold: float) -> bool:
    """Whether a value is on the alarming side of the threshold."""
    try:
        return _BREACHES[comparison_operator](value, threshold)
    except KeyError:
        raise ValueError(
            f"Comparison operator {comparison_operator} is not evaluated by the local cloud; "
            f"use one of {', '.join(sorted(OPERATORS))}"
        ) from None


def low_sample_minimum(percentile: float) -> float:
    """Fewest samples a period needs before a pNN statistic is statistically significant."""
    fraction = percentile / 100.0
    if fraction >= 0.5:
        return math.inf if fraction >= 1 else 10.0 / (1.0 - fraction)
    return math.inf if fraction <= 0 else 10.0 / fraction


def missing_data_treatment(namespace: str | None, treat_missing_data: str | None) -> str | None:
    """The TreatMissingData that applies: metrics in AWS/DynamoDB always ignore missing data."""
    return "ignore" if namespace == "AWS/DynamoDB" else treat_missing_data


def range_starts(now: datetime, period: int, evaluation_periods: int) -> list[datetime]:
    """Period starts of the evaluation range (naive UTC), oldest first, ending with the last period fully ended."""
    seconds = int((now - EPOCH).total_seconds())
    last_end = seconds - seconds % period
    count = int(evaluation_periods) + EXTRA_RANGE_PERIODS
    return [EPOCH + timedelta(seconds=last_end - (count - i) * period) for i in range(count)]


def evaluate(
    points: Sequence[Point | None],
    *,
    evaluation_periods: int,
    comparison_operator: str,
    threshold: float,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: str | None = None,
    current_state: str = "INSUFFICIENT_DATA",
    min_samples: float | None = None,
) -> Evaluation:
    """Decide an alarm's state from its evaluation range (oldest first; None for a missing period).

    min_samples: with EvaluateLowSampleCountPercentile=ignore, the sample count below which an
    evaluated datapoint makes the alarm keep its state.
    """
    n = int(evaluation_periods)
    m = int(datapoints_to_alarm or n)
    treatment = treat_missing_data or "missing"
    real = [(index, point) for index, point in enumerate(points) if point is not None]
    chosen = real[-n:] if len(real) >= n else real
    evaluated = tuple(point for _, point in chosen)
    if min_samples is not None and any(point.sample_count < min_samples for point in evaluated):
        return Evaluation(current_state, evaluated, retained=True)
    flags = [breaches(point.value, comparison_operator, threshold) for point in evaluated]
    breaching = sum(flags)
    if len(real) >= n:
        return Evaluation("ALARM" if breaching >= m else "OK", evaluated, breaching)
    filled = n - len(real)
    if treatment in ("breaching", "notBreaching"):
        total = breaching + (filled if treatment == "breaching" else 0)
        return Evaluation("ALARM" if total >= m else "OK", evaluated, total, filled, treatment)
    if breaching >= m:
        return Evaluation("ALARM", evaluated, breaching)
    if breaching < len(evaluated):
        return Evaluation("OK", evaluated, breaching)
    if treatment == "missing" and evaluated:
        oldest_age = len(points) - chosen[0][0]
        if oldest_age >= m:
            return Evaluation("ALARM", evaluated, breaching)
    if treatment == "missing":
        return Evaluation("INSUFFICIENT_DATA", evaluated, breaching)
    return Evaluation(current_state, evaluated, breaching, retained=True)
