"""Alarm evaluation rules, as pure logic on datapoint lists (no server).

The missing-data tables are the two tables of AWS's "Configuring how CloudWatch alarms treat
missing data": five retrieved periods, oldest first; 0 is a non-breaching datapoint, X a
breaching one, - a missing one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from localcloud.cloudwatch.alarms import (
    Evaluation,
    Point,
    evaluate,
    java_double,
    low_sample_minimum,
    state_reason,
)

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 27, 12, 0)
THRESHOLD = 5.0
RETAIN = "retain"


def range_of(row: str, sample_count: float = 1.0) -> list[Point | None]:
    """Datapoints from a documentation row such as '0 - X - X' (one minute apart)."""
    values = {"0": 1.0, "X": 10.0, "-": None}
    points: list[Point | None] = []
    for index, mark in enumerate(row.split()):
        value = values[mark]
        points.append(None if value is None else Point(T0 + timedelta(minutes=index), value, sample_count))
    return points


def run(
    row: str,
    treatment: str,
    *,
    n: int = 3,
    m: int | None = None,
    current: str = "OK",
    operator: str = "GreaterThanThreshold",
    min_samples: float | None = None,
    sample_count: float = 1.0,
) -> Evaluation:
    return evaluate(
        range_of(row, sample_count),
        evaluation_periods=n,
        datapoints_to_alarm=m,
        comparison_operator=operator,
        threshold=THRESHOLD,
        treat_missing_data=treatment,
        current_state=current,
        min_samples=min_samples,
    )


TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
THREE_OF_THREE = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("0 - - - -", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - - - X", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("X - - - -", ("ALARM", RETAIN, "ALARM", "OK")),
]
TWO_OF_THREE = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - - X", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
]


def _cases(table: list[tuple[str, tuple[str, ...]]], m: int) -> list:
    return [
        pytest.param(row, treatment, m, expected, id=f"{m}of3[{row}]-{treatment}")
        for row, outcomes in table
        for treatment, expected in zip(TREATMENTS, outcomes, strict=True)
    ]


@pytest.mark.parametrize(
    ("row", "treatment", "m", "expected"), _cases(THREE_OF_THREE, 3) + _cases(TWO_OF_THREE, 2)
)
def test_missing_data_tables_of_the_documentation(row: str, treatment: str, m: int, expected: str) -> None:
    if expected == RETAIN:
        for current in ("OK", "ALARM", "INSUFFICIENT_DATA"):
            assert run(row, treatment, m=m, current=current).state == current
    else:
        for current in ("OK", "ALARM", "INSUFFICIENT_DATA"):
            assert run(row, treatment, m=m, current=current).state == expected


def test_breaching_datapoints_need_not_be_consecutive() -> None:
    assert run("X 0 X 0 X", "missing", n=5, m=3).state == "ALARM"


def test_fewer_breaching_datapoints_than_datapoints_to_alarm_is_ok() -> None:
    assert run("X 0 X 0 0", "missing", n=5, m=3).state == "OK"


def test_only_the_newest_n_real_datapoints_are_evaluated() -> None:
    assert run("X X 0 0", "missing", n=2, m=1).state == "OK"


def test_real_datapoints_outside_the_newest_n_periods_are_used_when_data_is_missing() -> None:
    result = run("X X - - -", "notBreaching", n=3, m=2)
    assert (result.state, result.filled) == ("ALARM", 1)


@pytest.mark.parametrize(
    ("percentile", "minimum"), [(99.0, 1000.0), (90.0, 100.0), (50.0, 20.0), (10.0, 100.0)]
)
def test_low_sample_count_minimum_is_ten_over_one_minus_p(percentile: float, minimum: float) -> None:
    assert low_sample_minimum(percentile) == pytest.approx(minimum)


def test_percentile_alarm_ignoring_low_sample_counts_keeps_its_state() -> None:
    result = run("- - X X X", "missing", current="OK", min_samples=100, sample_count=99)
    assert (result.state, result.retained) == ("OK", True)


def test_percentile_alarm_with_enough_samples_is_evaluated() -> None:
    assert run("- - X X X", "missing", current="OK", min_samples=100, sample_count=100).state == "ALARM"


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("GreaterThanThreshold", 6.0, "ALARM"),
        ("GreaterThanThreshold", 5.0, "OK"),
        ("GreaterThanOrEqualToThreshold", 5.0, "ALARM"),
        ("GreaterThanOrEqualToThreshold", 4.9, "OK"),
        ("LessThanThreshold", 4.0, "ALARM"),
        ("LessThanThreshold", 5.0, "OK"),
        ("LessThanOrEqualToThreshold", 5.0, "ALARM"),
        ("LessThanOrEqualToThreshold", 5.1, "OK"),
    ],
)
def test_comparison_operators(operator: str, value: float, expected: str) -> None:
    result = evaluate(
        [Point(T0, value)], evaluation_periods=1, comparison_operator=operator, threshold=THRESHOLD
    )
    assert result.state == expected


def test_alarm_reason_reads_like_cloudwatch() -> None:
    result = evaluate(
        [None, Point(T0, 5.0)],
        evaluation_periods=1,
        comparison_operator="GreaterThanThreshold",
        threshold=0.0,
    )
    reason = state_reason(
        result,
        comparison_operator="GreaterThanThreshold",
        threshold=0.0,
        evaluation_periods=1,
        datapoints_to_alarm=None,
    )
    assert reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (27/11/26 12:00:00)] was greater "
        "than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )


def test_ok_reason_counts_datapoints_not_crossing() -> None:
    points = [Point(T0, 1.0), Point(T0 + timedelta(minutes=1), 2.0)]
    result = evaluate(points, evaluation_periods=2, comparison_operator="GreaterThanThreshold", threshold=3.0)
    reason = state_reason(
        result,
        comparison_operator="GreaterThanThreshold",
        threshold=3.0,
        evaluation_periods=2,
        datapoints_to_alarm=None,
    )
    assert reason == (
        "Threshold Crossed: 2 out of the last 2 datapoints [2.0 (27/11/26 12:01:00), "
        "1.0 (27/11/26 12:00:00)] were not greater than the threshold (3.0) "
        "(minimum 1 datapoint for ALARM -> OK transition)."
    )


def test_insufficient_data_reason_counts_unknown_datapoints() -> None:
    result = evaluate(
        [None] * 5, evaluation_periods=3, comparison_operator="GreaterThanThreshold", threshold=0.0
    )
    assert (
        state_reason(
            result,
            comparison_operator="GreaterThanThreshold",
            threshold=0.0,
            evaluation_periods=3,
            datapoints_to_alarm=None,
        )
        == "Insufficient Data: 3 datapoints were unknown."
    )


def test_filled_reason_says_how_missing_datapoints_were_treated() -> None:
    result = evaluate(
        [None] * 3,
        evaluation_periods=1,
        comparison_operator="GreaterThanThreshold",
        threshold=0.0,
        treat_missing_data="breaching",
    )
    assert state_reason(
        result,
        comparison_operator="GreaterThanThreshold",
        threshold=0.0,
        evaluation_periods=1,
        datapoints_to_alarm=None,
    ) == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[Breaching]."
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5, "5.0"),
        (0.1, "0.1"),
        (1e7, "1.0E7"),
        (0.0001, "1.0E-4"),
        (-2.5, "-2.5"),
        (123456789.0, "1.23456789E8"),
    ],
)
def test_numbers_are_written_like_java_doubles(value: float, text: str) -> None:
    assert java_double(value) == text
