"""The metric statistics engine (localcloud/cloudwatch/statistics/) on its own, without moto."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from localcloud.cloudwatch import statistics as metric_statistics

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2024, 1, 1, 12, 0)


def datum(**fields: object) -> SimpleNamespace:
    """A datapoint as moto keeps one, of metric Workshop/Latency without dimensions."""
    return SimpleNamespace(
        namespace="Workshop", name="Latency", dimensions=[], unit=None, timestamp=START, **fields
    )


def store(*data: SimpleNamespace) -> SimpleNamespace:
    """A backend holding data, read the way the engine reads moto's CloudWatchBackend."""
    return SimpleNamespace(get_all_metrics=lambda: list(data))


def test_percentile_names_are_cloudwatch_s_p0_to_p100():
    assert metric_statistics.percentile_of("p99.9") == 99.9
    assert metric_statistics.percentile_of("p100") == 100.0
    assert metric_statistics.percentile_of("p101") is None
    assert metric_statistics.percentile_of("Average") is None


def test_a_percentile_is_the_nearest_rank_of_individually_published_values():
    backend = store(*(datum(value=float(v)) for v in range(1, 11)))
    [(_, p90, count)] = metric_statistics.datapoints(
        backend, "Workshop", "Latency", [], "p90", 60, START, datetime(2024, 1, 1, 12, 1)
    )
    assert (p90, count) == (9.0, 10.0)


def test_a_period_holding_a_statistic_set_has_no_percentile():
    backend = store(datum(value=1.0), datum(sample_count=2, sum=5.0, min=2.0, max=3.0))
    end = datetime(2024, 1, 1, 12, 1)
    assert metric_statistics.datapoints(backend, "Workshop", "Latency", [], "p50", 60, START, end) == []
    assert metric_statistics.datapoints(backend, "Workshop", "Latency", [], "Sum", 60, START, end) == [
        (START, 6.0, 3.0)
    ]
