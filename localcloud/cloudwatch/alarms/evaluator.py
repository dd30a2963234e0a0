"""The periodic alarm evaluator: every metric alarm of every account and region, every interval.

A daemon thread, started with the first alarm (`ensure_started`, given the profile in force),
evaluates all alarms every WORKSHOP_ALARM_INTERVAL seconds (default 10; `set_interval`): under
the local profile all together, under the aws profile each alarm at its own phase of the interval
(the profile's `delay("alarm_offset", alarm_arn)`, a share of it), as AWS evaluates each alarm on
its own schedule (`Schedule`). It reads moto's CloudWatch backends and the datapoints through the
statistics engine; it patches nothing (localcloud/cloudwatch/alarms/hooks.py does).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from localcloud.cloudwatch import statistics as metric_statistics
from localcloud.cloudwatch.alarms import evaluation, messages
from localcloud.cloudwatch.alarms.actions import Notification, change_state, publish, utcnow
from localcloud.cloudwatch.alarms.evaluation import Point
from localcloud.locks import cloudwatch_lock

if TYPE_CHECKING:
    from localcloud.profile import Profile

DEFAULT_INTERVAL_S = 10.0
DEFAULT_PERIOD_S = 60

log = logging.getLogger(__name__)


# --- one alarm -------------------------------------------------------------------------------


def _alarm_period(alarm: Any) -> int:
    """The alarm's period: its own, or its metric queries' for metric-math alarms."""
    if alarm.period:
        return int(alarm.period)
    for query in alarm.metric_data_queries:
        if query.metric_stat and query.metric_stat.period:
            return int(query.metric_stat.period)
        if query.period:
            return int(query.period)
    return DEFAULT_PERIOD_S


def _query_dicts(alarm: Any) -> list[dict[str, Any]]:
    """A metric-math alarm's queries in GetMetricData form."""
    queries = []
    for query in alarm.metric_data_queries:
        item: dict[str, Any] = {"Id": query.id}
        if query.metric_stat:
            stat = query.metric_stat
            item["MetricStat"] = {
                "Metric": {
                    "Namespace": stat.metric.namespace,
                    "MetricName": stat.metric.metric_name,
                    "Dimensions": [{"Name": d.name, "Value": d.value} for d in stat.metric.dimensions],
                },
                "Period": int(stat.period or _alarm_period(alarm)),
                "Stat": stat.stat,
            }
            if stat.unit:
                item["MetricStat"]["Unit"] = stat.unit
        if query.expression:
            item["Expression"] = query.expression
        if query.period:
            item["Period"] = int(query.period)
        item["ReturnData"] = query.return_data not in (False, "false")
        queries.append(item)
    return queries


def _range_points(backend: Any, alarm: Any, starts: list[datetime], period: int) -> list[Point | None]:
    """The alarm's datapoint for each period of its evaluation range (None when missing)."""
    end = starts[-1] + timedelta(seconds=period)
    if alarm.metric_data_queries:
        queries = _query_dicts(alarm)
        series = metric_statistics.metric_series(backend, queries, starts[0], end)
        returned = [q["Id"] for q in queries if q.get("ReturnData")] or [queries[-1]["Id"]]
        values = series.get(returned[0], {})
        found = {moment: Point(moment, value) for moment, value in values.items()}
    else:
        statistic = alarm.extended_statistic or alarm.statistic
        rows = metric_statistics.datapoints(
            backend,
            alarm.namespace,
            alarm.metric_name,
            alarm.dimensions,
            statistic,
            period,
            starts[0],
            end,
            unit=alarm.unit,
        )
        found = {moment: Point(moment, value, count) for moment, value, count in rows}
    return [found.get(moment) for moment in starts]


def _min_samples(alarm: Any) -> float | None:
    """With EvaluateLowSampleCountPercentile=ignore on a percentile alarm, the fewest samples evaluated."""
    percentile = metric_statistics.percentile_of(alarm.extended_statistic or "")
    if percentile is None or alarm.evaluate_low_sample_count_percentile != "ignore":
        return None
    return evaluation.low_sample_minimum(percentile)


def evaluate_alarm(backend: Any, alarm: Any, now: datetime) -> list[Notification]:
    """Evaluate one metric alarm at `now`, change its state if due; return the notifications.

    Call with cloudwatch_lock held; publish the notifications after releasing it.
    """
    if alarm.comparison_operator not in evaluation.OPERATORS or getattr(alarm, "rule", None):
        return []
    period = _alarm_period(alarm)
    starts = evaluation.range_starts(now, period, alarm.evaluation_periods)
    threshold = float(alarm.threshold)
    result = evaluation.evaluate(
        _range_points(backend, alarm, starts, period),
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
        comparison_operator=alarm.comparison_operator,
        threshold=threshold,
        treat_missing_data=evaluation.missing_data_treatment(alarm.namespace, alarm.treat_missing_data),
        current_state=alarm.state_value,
        min_samples=_min_samples(alarm),
    )
    if result.retained or result.state == alarm.state_value:
        return []
    reason = messages.state_reason(
        result,
        comparison_operator=alarm.comparison_operator,
        threshold=threshold,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
    )
    reason_data = messages.state_reason_data(
        result,
        statistic=alarm.statistic,
        extended_statistic=alarm.extended_statistic,
        period=period,
        threshold=threshold,
        query_date=now,
        range_starts=starts,
    )
    return change_state(backend, alarm, result.state, reason, reason_data, now)


# --- every alarm -----------------------------------------------------------------------------


def _backends() -> list[Any]:
    """Every CloudWatch backend moto has created so far."""
    from moto.cloudwatch.models import cloudwatch_backends

    found = []
    for account_backends in list(dict.values(cloudwatch_backends)):
        found.extend(list(dict.values(account_backends)))
    return found


def evaluate_all(now: datetime | None = None, due: Callable[[Any], bool] | None = None) -> int:
    """Evaluate every metric alarm (those `due` accepts) in every account and region at `now`;
    return how many changed."""
    now = metric_statistics.naive_utc(now) if now is not None else utcnow()
    notifications: list[Notification] = []
    changed = 0
    with cloudwatch_lock:
        for backend in _backends():
            for alarm in list(backend.alarms.values()):
                if due is not None and not due(alarm):
                    continue
                try:
                    before = alarm.state_value
                    notifications.extend(evaluate_alarm(backend, alarm, now))
                    changed += alarm.state_value != before
                except Exception:  # one broken alarm must not stop the others
                    log.exception("evaluating alarm %s failed", getattr(alarm, "name", "?"))
    publish(notifications)
    return changed


# --- the background evaluator ----------------------------------------------------------------


class Schedule:
    """When each alarm is due under the aws profile: once per interval, at its own phase.

    An alarm's phase is a share of the interval (`offset(arn)`: the profile's
    `delay("alarm_offset", arn)`, drawn once per alarm); it is due whenever the epoch second passes
    k * interval + share * interval. An alarm is first due at the first such moment after it was first seen.
    """

    def __init__(self, offset: Callable[[str], float]) -> None:
        self.offset = offset
        self.shares: dict[str, float] = {}
        self.slots: dict[str, int] = {}

    def share(self, arn: str) -> float:
        """The alarm's phase as a share of the interval (drawn on first use)."""
        if arn not in self.shares:
            self.shares[arn] = self.offset(arn)
        return self.shares[arn]

    def _slot(self, arn: str, now: float, interval: float) -> int:
        """How many of the alarm's moments have passed by epoch second now."""
        return math.floor(now / interval - self.share(arn))

    def due(self, arn: str, now: float, interval: float) -> bool:
        """Whether the alarm's moment passed since it was last asked about (epoch seconds now)."""
        slot = self._slot(arn, now, interval)
        last = self.slots.get(arn)
        self.slots[arn] = slot
        return last is not None and slot > last

    def seconds_to_next(self, now: float, interval: float) -> float:
        """Seconds until the next alarm seen so far is due (an interval when none was seen)."""
        if not self.slots:
            return interval
        return min((slot + 1 + self.share(arn)) * interval - now for arn, slot in self.slots.items())

    def forget_except(self, arns: set[str]) -> None:
        """Drop the alarms that no longer exist."""
        for arn in set(self.slots) - arns:
            self.slots.pop(arn, None)


class _Evaluator:
    """Runs evaluate_all every `interval` seconds on a daemon thread."""

    def __init__(self) -> None:
        self.interval = float(os.environ.get("WORKSHOP_ALARM_INTERVAL") or DEFAULT_INTERVAL_S)
        self.condition = threading.Condition()
        self.running_pass = threading.Lock()
        self.next_due = time.monotonic() + self.interval
        self.thread: threading.Thread | None = None
        self.pid: int | None = None
        self.profile: Callable[[], Profile] | None = None  # the profile in force, given when started
        self.schedule = Schedule(lambda arn: self.in_force().delay("alarm_offset", arn))

    def in_force(self) -> Profile:
        """The profile in force (the evaluator is given how to read it when it starts)."""
        if self.profile is None:
            raise RuntimeError("the alarm evaluator was not started: ensure_started(profile) first")
        return self.profile()

    def ensure_started(self, profile: Callable[[], Profile]) -> None:
        """Start the thread, evaluating under the profile in force (`profile()`), unless it runs in this process already."""
        with self.condition:
            self.profile = profile
            if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.next_due = time.monotonic() + self.interval
            self.thread = threading.Thread(target=self.loop, name="workshop-alarm-evaluator", daemon=True)
            self.thread.start()

    def set_interval(self, seconds: float) -> None:
        """Evaluate every `seconds` from now on, once any pass under way finished."""
        with self.condition:
            self.interval = float(seconds)
            self.next_due = time.monotonic() + self.interval
            self.condition.notify_all()
        with self.running_pass:  # let a pass already under way finish first
            pass

    def loop(self) -> None:
        """The thread: wait for the next pass, run it, forever."""
        while True:
            with self.condition:
                while (remaining := self.next_due - time.monotonic()) > 0:
                    self.condition.wait(remaining)
                interval = self.interval
                self.next_due = time.monotonic() + interval
                self.running_pass.acquire()
            try:
                if self.in_force().aws:
                    wait = self.scheduled_pass(interval)
                    with self.condition:
                        self.next_due = min(self.next_due, time.monotonic() + wait)
                else:
                    evaluate_all()
            except Exception:
                log.exception("alarm evaluation pass failed")
            finally:
                self.running_pass.release()

    def scheduled_pass(self, interval: float) -> float:
        """Evaluate the alarms whose moment has come; return the seconds until the next pass."""
        now = time.time()
        seen: set[str] = set()

        def due(alarm: Any) -> bool:
            seen.add(alarm.alarm_arn)
            return self.schedule.due(alarm.alarm_arn, now, interval)

        evaluate_all(due=due)
        self.schedule.forget_except(seen)
        # Wake for the next alarm's moment, and often enough to see new alarms arrive.
        return max(0.005, min(self.schedule.seconds_to_next(time.time(), interval) + 0.005, interval / 10))


_evaluator = _Evaluator()


def ensure_started(profile: Callable[[], Profile]) -> None:
    """Start the background evaluator in this process under the profile in force (`profile()`); idempotent,
    PutMetricAlarm calls it."""
    _evaluator.ensure_started(profile)


def set_interval(seconds: float) -> None:
    """Evaluate alarms every `seconds` from now on (returns after any pass under way finished)."""
    _evaluator.set_interval(seconds)


def interval() -> float:
    """Seconds between two evaluation passes of the background evaluator."""
    return _evaluator.interval
