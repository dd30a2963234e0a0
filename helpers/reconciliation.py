"""Reconciling inference records in DynamoDB with CloudWatch's metrics (chapter 8.4).

Two witnesses count the same requests. DynamoDB holds one record per request, stamped when the
request **started**. CloudWatch counts the handler's log lines (``InferenceCount``, and
``DuplicateRequests`` for retried requests that found their record already written), Lambda's
own ``Invocations`` and, when the queries include it, API Gateway's ``Count`` of the requests clients
sent through the API (every one of them invokes the function once), all stamped when the request
**ended**. Over a window of whole minutes that no request straddles, their totals obey the rule::

    records = InferenceCount - DuplicateRequests,   InferenceCount = Invocations   (= API Count)

The metrics come from GetMetricData queries that the caller builds (the notebook shows them); their
``Id`` names the table's columns, so the queries must use the ids in ``METRIC_IDS``.

``window_start`` chooses where a window may start without waiting: the latest whole minute since the
metric filters exist from which on the counts already obey the rule (``choose_window_start``);
``reconcile`` counts a window in both witnesses and explains any difference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers import history
from helpers.session import client, settings

INFERENCE_COUNT, DUPLICATES, INVOCATIONS = "inference_count", "duplicates", "invocations"
METRIC_IDS = (INFERENCE_COUNT, DUPLICATES, INVOCATIONS)
API_REQUESTS = "api_requests"  # optional: AWS/ApiGateway Count of the API's stage
COLUMNS = ("records", *METRIC_IDS)  # the table's columns; API_REQUESTS follows when queried
# latencyMs ends before the record is written and the line logged; the invocation ends a little later.
MARGIN_MS = 2000.0
LONGEST_REQUEST = pd.Timedelta(minutes=15)  # Lambda's maximum timeout
MINUTE = pd.Timedelta(minutes=1)
LOOKBACK = pd.Timedelta(minutes=30)  # how far back window_start looks for a minute to start at
# How late CloudWatch may publish a request's datapoints: the local cloud publishes them before the
# invocation returns (under its aws profile as late as AWS); AWS usually within a minute or two
# (metric filters, Lambda metrics).
PUBLISHED_WITHIN = {"local": pd.Timedelta(0), "aws": pd.Timedelta(minutes=5)}


# ---------------------------------------------------------------- when requests ran


def _ends(records: pd.DataFrame, margin_ms: float) -> pd.Series:
    """When each recorded request was surely over: its start plus its latency plus margin_ms."""
    latency = records["latencyMs"].astype("float64").fillna(0) + margin_ms
    return records["timestamp"] + pd.to_timedelta(latency, unit="ms")


def busy_until(records: pd.DataFrame, margin_ms: float = MARGIN_MS) -> pd.Timestamp | None:
    """When the last recorded request was surely over; None without records."""
    return None if records.empty else _ends(records, margin_ms).max()


def straddles(records: pd.DataFrame, moment: pd.Timestamp, margin_ms: float = MARGIN_MS) -> bool:
    """Whether some recorded request started before `moment` and may have ended after it."""
    if records.empty:
        return False
    return bool(((records["timestamp"] < moment) & (_ends(records, margin_ms) > moment)).any())


# ---------------------------------------------------------------- the per-minute table and the rule


def per_minute(
    records: pd.DataFrame, metrics: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Records per minute (by start time) beside the metrics' sums per minute, for [start, end)."""
    index = pd.date_range(start.floor("min"), end, freq="min", inclusive="left", name="minute").as_unit("ns")
    stamps = records["timestamp"]
    started = stamps[(stamps >= start) & (stamps < end)].dt.floor("min").dt.as_unit("ns")
    table = pd.DataFrame({"records": started.value_counts().reindex(index, fill_value=0)}, index=index)
    for column in (*METRIC_IDS, *([API_REQUESTS] if API_REQUESTS in metrics else [])):
        sums = metrics[column].dropna() if column in metrics else pd.Series(dtype="float64")
        table[column] = sums.reindex(index, fill_value=0.0)
    return table.astype("int64")


def totals_agree(table: pd.DataFrame) -> bool:
    """The totals rule: records = inference lines - retries, inference lines = invocations (= API requests)."""
    t = table.sum()
    api_ok = API_REQUESTS not in t.index or t[API_REQUESTS] == t[INVOCATIONS]
    return bool(
        t["records"] == t[INFERENCE_COUNT] - t[DUPLICATES] and t[INFERENCE_COUNT] == t[INVOCATIONS] and api_ok
    )


def explain(table: pd.DataFrame) -> list[str]:
    """Why the totals differ, one sentence per difference (or why single minutes differ)."""
    t = table.sum()
    lines, invocations, records = t[INFERENCE_COUNT], t[INVOCATIONS], t["records"]
    expected = lines - t[DUPLICATES]
    reasons = []
    if records < expected:
        reasons.append(
            f"{expected - records} inference line(s) without a record: a write failed (see MetadataWriteFailures; "
            "helpers.dynamodb.backfill_from_logs restores it), the record expired, or its request started before the window."
        )
    if records > expected:
        reasons.append(
            f"{records - expected} record(s) without an inference line: CloudWatch has not published the last minutes "
            "yet (in AWS a minute or two late), the metric filter did not exist when the request ran, the record was "
            "written by hand or by seed(), or its request ended after the window."
        )
    if invocations > lines:
        reasons.append(
            f"{invocations - lines} invocation(s) without an inference line: the function crashed or timed out before "
            "logging it (see AWS/Lambda Errors), or ran code that logs none (such as the chapter-7 handler)."
        )
    if invocations < lines:
        reasons.append(
            f"{lines - invocations} inference line(s) without an invocation: AWS/Lambda has not published the last "
            "minutes yet, or the invocations ended after the window."
        )
    api = t[API_REQUESTS] if API_REQUESTS in t.index else invocations
    if api > invocations:
        reasons.append(
            f"{api - invocations} API request(s) without an invocation: API Gateway answered them itself (403 for an "
            "unknown path or method, 429 throttled, 500 without permission, 504 timed out; see its 4XXError and "
            "5XXError), or AWS/Lambda has not published the last minutes yet."
        )
    if api < invocations:
        reasons.append(
            f"{invocations - api} invocation(s) not through the API: the function was invoked directly (Invoke API, "
            "a test event), or API Gateway has not published the last minutes yet."
        )
    if not reasons:
        differing = int((table["records"] != table[INFERENCE_COUNT] - table[DUPLICATES]).sum())
        if differing:
            reasons.append(
                f"The totals agree; {differing} minute(s) differ on their own: a request that crosses a minute is "
                "recorded in the minute it started and counted in the minute it ended."
            )
    return reasons


@dataclass
class Reconciliation:
    """DynamoDB and CloudWatch counted over [start, end): the per-minute table and its verdict."""

    start: pd.Timestamp
    end: pd.Timestamp
    table: pd.DataFrame

    @property
    def totals(self) -> pd.Series:
        """Each column's total over the window."""
        return self.table.sum()

    @property
    def agree(self) -> bool:
        """Whether the totals obey the rule."""
        return totals_agree(self.table)

    @property
    def explanations(self) -> list[str]:
        """Why the counts differ, if they do."""
        return explain(self.table)


# ---------------------------------------------------------------- choosing the window


def choose_window_start(
    records: pd.DataFrame,
    metrics: pd.DataFrame,
    since: pd.Timestamp,
    now: pd.Timestamp,
    *,
    published_within: pd.Timedelta = PUBLISHED_WITHIN["local"],
    margin_ms: float = MARGIN_MS,
) -> pd.Timestamp:
    """The latest whole minute m in [since, now] over whose [m, now) the published counts already
    obey the rule, and that no request with counts possibly unpublished straddles; else the first
    whole minute after now and after every request."""
    # Once a request's counts are published, the rule itself catches it straddling m (its record
    # falls before m, its line after); before that, only its record's start and latency tell.
    unpublished = records[_ends(records, margin_ms) > now - published_within] if len(records) else records
    for m in reversed(pd.date_range(since.ceil("min"), now.floor("min"), freq="min")):
        if not straddles(unpublished, m, margin_ms) and totals_agree(per_minute(records, metrics, m, now)):
            return m
    return max(now, since, busy_until(records, margin_ms) or now).floor("min") + MINUTE


def published_within_here() -> pd.Timedelta:
    """How late the chosen cloud may publish datapoints: AWS's lag, also for the local cloud's aws profile."""
    from localcloud import client

    late = not settings().is_local or client.publishes_like_aws()
    return PUBLISHED_WITHIN["aws" if late else "local"]


def window_start(
    table: str,
    endpoint: str,
    queries: list[dict[str, Any]],
    since: Any,
    *,
    now: Any = None,
    lookback: pd.Timedelta = LOOKBACK,
    published_within: pd.Timedelta | None = None,
    cloudwatch: Any = None,
    dynamodb: Any = None,
) -> pd.Timestamp:
    """Where a reconciliation window can start (see choose_window_start), looking back at most
    `lookback`; `since` is when the metric filters were created (before it, lines were not counted)."""
    _check_queries(queries)
    now = history.as_utc(now if now is not None else pd.Timestamp.now(tz="UTC"), "now")
    if published_within is None:
        published_within = published_within_here()
    earliest = max(history.as_utc(since, "since"), now - lookback)
    records = history.load(table, endpoint, earliest - LONGEST_REQUEST, now, client=dynamodb, progress=False)
    if earliest.ceil("min") > now:  # no whole minute to look at
        metrics = pd.DataFrame()
    else:
        metrics = metric_sums(queries, earliest.ceil("min"), now.floor("min") + MINUTE, cloudwatch)
    return choose_window_start(records, metrics, earliest, now, published_within=published_within)


# ---------------------------------------------------------------- reading both witnesses


def metric_sums(
    queries: list[dict[str, Any]], start: pd.Timestamp, end: pd.Timestamp, cloudwatch: Any = None
) -> pd.DataFrame:
    """GetMetricData (every page) as one column of sums per query Id, indexed by whole minute."""
    cloudwatch = cloudwatch or client("cloudwatch")
    pairs: dict[str, list[tuple[Any, float]]] = {q["Id"]: [] for q in queries}
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start.to_pydatetime(),
        "EndTime": end.to_pydatetime(),
        "ScanBy": "TimestampAscending",
    }
    while True:
        answer = cloudwatch.get_metric_data(**kwargs)
        for result in answer.get("MetricDataResults", []):
            pairs[result["Id"]].extend(
                zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
            )
        if not answer.get("NextToken"):
            break
        kwargs["NextToken"] = answer["NextToken"]
    return pd.DataFrame({query_id: _per_minute_sums(found) for query_id, found in pairs.items()})


def _per_minute_sums(pairs: list[tuple[Any, float]]) -> pd.Series:
    """(timestamp, value) pairs summed per whole minute (UTC)."""
    stamps = pd.to_datetime([t for t, _ in pairs], utc=True).as_unit("ns")
    values = pd.Series([v for _, v in pairs], index=stamps, dtype="float64")
    return values.groupby(values.index.floor("min")).sum()


def reconcile(
    table: str,
    endpoint: str,
    queries: list[dict[str, Any]],
    start: Any,
    end: Any,
    *,
    timeout_s: float = 240,
    interval_s: float = 20,
    cloudwatch: Any = None,
    dynamodb: Any = None,
) -> Reconciliation:
    """Count [start, end) in DynamoDB and CloudWatch, looking again every interval_s while they
    disagree (in AWS, metrics arrive a minute or two late), for at most timeout_s."""
    _check_queries(queries)
    start, end = history.as_utc(start, "start"), history.as_utc(end, "end")
    deadline = time.monotonic() + timeout_s
    while True:
        records = history.load(table, endpoint, start, end, client=dynamodb, progress=False)
        result = Reconciliation(
            start, end, per_minute(records, metric_sums(queries, start, end, cloudwatch), start, end)
        )
        if result.agree or time.monotonic() + interval_s > deadline:
            return result
        print(f"not in agreement yet, looking again in {interval_s:.0f} s: {' '.join(result.explanations)}")
        time.sleep(interval_s)


def _check_queries(queries: list[dict[str, Any]]) -> None:
    """Raise ValueError unless the queries carry the ids the rule needs."""
    missing = [i for i in METRIC_IDS if i not in {q.get("Id") for q in queries}]
    if missing:
        raise ValueError(
            f"The GetMetricData queries lack the Id(s) {missing}. Fix: give the InferenceCount, DuplicateRequests "
            f"and AWS/Lambda Invocations queries the Ids {list(METRIC_IDS)}."
        )


# ---------------------------------------------------------------- the model's own failures


ENDPOINT_ERROR_METRICS = ("Invocation4XXErrors", "Invocation5XXErrors")  # AWS/SageMaker, 1 per error answer
CONTAINER_ERROR_PATTERN = (
    "ERROR"  # the XGBoost container logs each failed request as one "[...:ERROR] ..." line
)


@dataclass
class ModelFailures:
    """The model container's failures over [start, end), counted by three witnesses."""

    start: pd.Timestamp
    end: pd.Timestamp
    records: int  # DynamoDB records whose status is model_error
    endpoint_errors: int  # AWS/SageMaker Invocation4XXErrors + Invocation5XXErrors
    container_lines: int  # error lines in /aws/sagemaker/Endpoints/<endpoint>

    @property
    def agree(self) -> bool:
        """Whether the three counts are equal."""
        return self.records == self.endpoint_errors == self.container_lines

    @property
    def explanations(self) -> list[str]:
        """Why the counts differ, if they do."""
        reasons = []
        if self.endpoint_errors != self.records:
            reasons.append(
                f"{self.records} model_error record(s) but {self.endpoint_errors} endpoint error(s): CloudWatch has "
                "not published the last minutes yet (in AWS a minute or two late), or a model_error came from "
                "elsewhere than the container (an endpoint that was not InService, a timeout; see errorType)."
            )
        if self.container_lines != self.endpoint_errors:
            reasons.append(
                f"{self.endpoint_errors} endpoint error(s) but {self.container_lines} container error line(s): the "
                "lines are not searchable yet (seconds in AWS), or the model's execution role may not write the "
                "endpoint's logs (logs:CreateLogStream, logs:PutLogEvents)."
            )
        return reasons

    @property
    def table(self) -> pd.DataFrame:
        """The three counts side by side."""
        return pd.DataFrame(
            {"count": [self.records, self.endpoint_errors, self.container_lines]},
            index=pd.Index(
                [
                    "DynamoDB: status = model_error",
                    "AWS/SageMaker: 4XX + 5XX errors",
                    "endpoint log: error lines",
                ],
                name="witness",
            ),
        )


def endpoint_error_queries(endpoint: str, variant: str) -> list[dict[str, Any]]:
    """GetMetricData queries of the endpoint's error metrics, Sum per minute."""
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    return [
        {
            "Id": metric[0].lower() + metric[1:],
            "MetricStat": {
                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dimensions},
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for metric in ENDPOINT_ERROR_METRICS
    ]


def container_error_lines(endpoint: str, start: pd.Timestamp, end: pd.Timestamp, logs: Any = None) -> int:
    """How many error lines the endpoint's container wrote in [start, end) (FilterLogEvents, every page)."""
    logs = logs or client("logs")
    kwargs: dict[str, Any] = {
        "logGroupName": f"/aws/sagemaker/Endpoints/{endpoint}",
        "filterPattern": CONTAINER_ERROR_PATTERN,
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000) - 1,
    }
    found = 0
    while True:
        try:
            answer = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return 0  # no group: the container never wrote a line
        found += len(answer.get("events", []))
        if not answer.get("nextToken"):
            return found
        kwargs["nextToken"] = answer["nextToken"]


def count_model_failures(
    table: str, endpoint: str, variant: str, start: Any, end: Any, *, cloudwatch: Any = None, logs: Any = None,
    dynamodb: Any = None,
) -> ModelFailures:  # fmt: skip
    """Count the model container's failures over [start, end) in DynamoDB, AWS/SageMaker metrics and the endpoint's log."""
    start, end = history.as_utc(start, "start"), history.as_utc(end, "end")
    records = history.load(table, endpoint, start, end, client=dynamodb, progress=False)
    failed = int((records["status"] == "model_error").sum()) if len(records) else 0
    sums = metric_sums(
        endpoint_error_queries(endpoint, variant), start.floor("min"), end.ceil("min"), cloudwatch
    )
    errors = int(sums.sum().sum()) if len(sums) else 0
    return ModelFailures(start, end, failed, errors, container_error_lines(endpoint, start, end, logs))


def reconcile_model_failures(
    table: str, endpoint: str, variant: str, start: Any, end: Any, *, timeout_s: float = 240,
    interval_s: float = 20, **clients: Any,
) -> ModelFailures:  # fmt: skip
    """count_model_failures, looking again every interval_s while the witnesses disagree (AWS publishes late),
    for at most timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = count_model_failures(table, endpoint, variant, start, end, **clients)
        if result.agree or time.monotonic() + interval_s > deadline:
            return result
        print(f"not in agreement yet, looking again in {interval_s:.0f} s: {' '.join(result.explanations)}")
        time.sleep(interval_s)
