"""helpers.reconciliation: where a reconciliation window may start, the totals rule, its explanations."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import boto3
import pandas as pd
import pytest

from helpers import dynamodb, reconciliation
from helpers.history import _load

T0 = pd.Timestamp("2026-11-27T12:00:00Z")


def at(seconds: float) -> pd.Timestamp:
    """T0 plus some seconds."""
    return T0 + pd.Timedelta(seconds=seconds)


def records(*requests: tuple[float, float]) -> pd.DataFrame:
    """Records of requests given as (start, seconds after T0; latency, ms), typed as history.load types them."""
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([at(s) for s, _ in requests], tz="UTC").as_unit("us"),
            "latencyMs": pd.array([latency for _, latency in requests], dtype="float64"),
        }
    )


def metrics(**columns: dict[float, float]) -> pd.DataFrame:
    """Per-minute sums as metric_sums returns them: {query id: {seconds after T0: value}}."""
    sums = {}
    for name, values in columns.items():
        series = pd.Series(
            list(values.values()),
            index=pd.DatetimeIndex([at(s) for s in values], tz="UTC").floor("min"),
            dtype="float64",
        )
        sums[name] = series.groupby(level=0).sum()
    return pd.DataFrame(sums)


def table(rows: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    """A per-minute table from (records, inference_count, duplicates, invocations) rows."""
    return pd.DataFrame(rows, columns=list(reconciliation.COLUMNS))


def handled(
    *requests: tuple[float, float], retried: tuple[float, ...] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records and metrics of requests the recording handler served: each logged an inference line
    and was invoked when it ended; `retried` (end times) logged a line and a duplicate, no record."""
    ends = [s + latency / 1000 for s, latency in requests]
    lines: dict[float, float] = {}
    for end in [*ends, *retried]:
        lines[end] = lines.get(end, 0) + 1
    return records(*requests), metrics(
        inference_count=lines, invocations=lines, duplicates={end: 1.0 for end in retried}
    )


# ------------------------------------------------------------------ when requests ran


def test_busy_until_is_the_end_of_the_last_request_plus_the_margin():
    assert reconciliation.busy_until(records((59.9, 300.0), (30.0, 20.0)), margin_ms=1000) == at(61.2)


def test_busy_until_without_records_is_none():
    assert reconciliation.busy_until(records()) is None


# ------------------------------------------------------------------ choosing the window start


def test_the_window_starts_at_the_latest_minute_that_no_request_straddles():
    seen, counted = handled((10.0, 30.0), (119.9, 400.0), (125.0, 30.0))  # the second one straddles 12:02
    assert reconciliation.choose_window_start(seen, counted, since=T0, now=at(150)) == at(60)


def test_a_request_whose_counts_may_be_unpublished_straddles_the_minutes_up_to_its_end_plus_a_margin():
    seen, counted = handled((10.0, 30.0), (119.5, 40.0))  # its record and log line may come up to 2 s later
    start = reconciliation.choose_window_start(
        seen, counted, since=T0, now=at(150), published_within=pd.Timedelta(minutes=5)
    )
    assert start == at(60)


def test_a_request_whose_counts_are_published_straddles_only_the_minutes_it_really_crossed():
    seen, counted = handled((10.0, 30.0), (119.5, 40.0))
    assert reconciliation.choose_window_start(seen, counted, since=T0, now=at(150)) == at(120)


def test_the_window_may_start_at_a_minute_that_has_just_passed():
    seen, counted = handled((10.0, 30.0), (70.0, 30.0))
    assert reconciliation.choose_window_start(seen, counted, since=T0, now=at(130)) == at(120)


def test_the_window_never_starts_before_the_metric_filters_were_created():
    start = reconciliation.choose_window_start(records(), metrics(), since=at(90), now=at(100))
    assert start == at(120)  # 12:01 was quiet, but a request then would have left no InferenceCount


def test_the_window_does_not_reach_back_over_an_invocation_that_logged_no_inference_line():
    seen, counted = handled((10.0, 30.0), (70.0, 30.0))
    counted.loc[at(60), "invocations"] += 1  # e.g. the chapter-7 handler, invoked in minute 12:01
    assert reconciliation.choose_window_start(seen, counted, since=T0, now=at(110)) == at(120)


def test_the_window_does_not_reach_back_over_a_record_that_was_never_written():
    seen, counted = handled((10.0, 30.0), (70.0, 30.0))
    seen = seen.iloc[:1]  # the second request's write failed, and no backfill restored it
    assert reconciliation.choose_window_start(seen, counted, since=T0, now=at(110)) == at(120)


def test_without_a_suitable_minute_the_window_starts_at_the_next_one():
    seen, counted = handled((59.5, 900.0), (119.0, 2000.0))  # they cross 12:01 and 12:02
    assert reconciliation.choose_window_start(seen, counted, since=at(1), now=at(125)) == at(180)


def test_the_next_minute_comes_after_every_recorded_request_surely_ended():
    seen, counted = handled((178.0, 500.0))  # over by 12:03:00.5 at the latest
    assert reconciliation.choose_window_start(seen, counted, since=at(175), now=at(179)) == at(240)


# ------------------------------------------------------------------ the totals rule


def test_retried_requests_count_as_inference_lines_and_invocations_but_not_as_records():
    seen, counted = handled((10.0, 30.0), (70.0, 30.0), retried=(80.0,))
    minutes = reconciliation.per_minute(seen, counted, T0, at(120))
    assert minutes.to_dict("list") == {
        "records": [1, 1],
        "inference_count": [1, 2],
        "duplicates": [0, 1],
        "invocations": [1, 2],
    }
    assert reconciliation.totals_agree(minutes)


def test_totals_agree_when_a_request_is_recorded_in_one_minute_and_counted_in_the_next():
    seen, counted = handled((59.8, 400.0))
    minutes = reconciliation.per_minute(seen, counted, T0, at(120))
    assert list(minutes["records"]) == [1, 0] and list(minutes["inference_count"]) == [0, 1]
    assert reconciliation.totals_agree(minutes)


def test_totals_disagree_when_an_invocation_logged_no_inference_line():
    assert not reconciliation.totals_agree(table([(2, 2, 0, 3)]))


def test_the_api_s_count_joins_the_table_when_queried_and_must_equal_the_invocations():
    seen, counted = handled((10.0, 30.0), (70.0, 30.0))
    counted["api_requests"] = counted["invocations"]
    minutes = reconciliation.per_minute(seen, counted, T0, at(120))
    assert list(minutes["api_requests"]) == [1, 1] and reconciliation.totals_agree(minutes)
    minutes.loc[at(60), "api_requests"] = 2  # API Gateway answered one request without the function
    assert not reconciliation.totals_agree(minutes)
    assert "answered them itself" in " ".join(reconciliation.explain(minutes))


def test_an_invocation_not_through_the_api_is_explained():
    minutes = table([(2, 2, 0, 2)]).assign(api_requests=[1])
    assert not reconciliation.totals_agree(minutes)
    assert "not through the API" in " ".join(reconciliation.explain(minutes))


def test_the_per_minute_table_leaves_out_records_outside_the_window():
    seen, counted = handled((10.0, 30.0), (70.0, 30.0), (130.0, 30.0))
    minutes = reconciliation.per_minute(seen, counted, at(60), at(120))
    assert list(minutes.index) == [at(60)] and minutes.loc[at(60)].tolist() == [1, 1, 0, 1]


def test_queries_without_the_ids_the_rule_needs_are_refused():
    with pytest.raises(ValueError, match="duplicates"):
        reconciliation.window_start(
            "t", "ep", [{"Id": "inference_count"}, {"Id": "invocations"}], since=T0, now=at(60)
        )


# ------------------------------------------------------------------ explanations


def test_agreeing_minutes_need_no_explanation():
    assert reconciliation.explain(table([(2, 3, 1, 3), (1, 1, 0, 1)])) == []


def test_an_inference_line_without_a_record_is_explained_by_a_failed_write():
    (reason,) = reconciliation.explain(table([(2, 3, 0, 3)]))
    assert reason.startswith("1 inference line(s) without a record") and "backfill_from_logs" in reason


def test_a_record_without_an_inference_line_is_explained_by_late_metrics_or_a_missing_filter():
    (reason,) = reconciliation.explain(table([(3, 2, 0, 2)]))
    assert reason.startswith("1 record(s) without an inference line") and "metric filter" in reason


def test_an_invocation_without_an_inference_line_is_explained_by_a_crash_or_other_code():
    (reason,) = reconciliation.explain(table([(2, 2, 0, 3)]))
    assert reason.startswith("1 invocation(s) without an inference line") and "chapter-7" in reason


def test_minutes_that_differ_while_totals_agree_are_explained_by_requests_crossing_a_minute():
    (reason,) = reconciliation.explain(table([(1, 0, 0, 0), (0, 1, 0, 1)]))
    assert reason.startswith("The totals agree; 2 minute(s) differ on their own")


# ------------------------------------------------------------------ against the local cloud


def queries_for(namespace: str, function: str) -> list[dict]:
    """The notebook's three GetMetricData queries for a namespace and a function."""

    def query(query_id: str, namespace: str, metric: str, dimensions: list[dict] | None = None) -> dict:
        metric_spec = {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions or []}
        return {"Id": query_id, "MetricStat": {"Metric": metric_spec, "Period": 60, "Stat": "Sum"}}

    return [
        query("inference_count", namespace, "InferenceCount"),
        query("duplicates", namespace, "DuplicateRequests"),
        query("invocations", "AWS/Lambda", "Invocations", [{"Name": "FunctionName", "Value": function}]),
    ]


@pytest.fixture()
def cloud(local_cloud, metadata_spec):
    """A fresh inference table, a metric namespace and a function name of one test, and the clients."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    name = f"reconcile-{uuid.uuid4().hex[:8]}"
    dynamodb.ensure_table(metadata_spec(name), client=ddb)
    namespace, function = f"Test/{uuid.uuid4().hex[:8]}", f"fn-{uuid.uuid4().hex[:6]}"
    yield {
        "table": name,
        "ddb": ddb,
        "cw": boto3.client("cloudwatch", region_name="us-east-1"),
        "namespace": namespace,
        "function": function,
        "queries": queries_for(namespace, function),
    }
    ddb.delete_table(TableName=name)


def serve(
    cloud: dict, requests: list[tuple[pd.Timestamp, float]], retried: Sequence[pd.Timestamp] = ()
) -> None:
    """Write what the recording handler leaves behind for requests (start, latency ms) and retries (end)."""
    items = [
        {
            "requestId": {"S": f"req-{i:03d}"},
            "timestamp": {"S": _load.iso_ms(start)},
            "endpointName": {"S": "ep"},
            "status": {"S": "ok"},
            "latencyMs": {"N": repr(latency)},
            "expiresAt": {"N": str(int(time.time()) + 86_400)},
        }
        for i, (start, latency) in enumerate(requests)
    ]
    dynamodb.batch_write(cloud["table"], items, client=cloud["ddb"])
    ends = [start + pd.Timedelta(milliseconds=latency) for start, latency in requests]
    for end, duplicate in [(e, 0.0) for e in ends] + [(e, 1.0) for e in retried]:
        when = end.to_pydatetime()
        cloud["cw"].put_metric_data(
            Namespace=cloud["namespace"],
            MetricData=[
                {"MetricName": "InferenceCount", "Value": 1.0, "Timestamp": when},
                {"MetricName": "DuplicateRequests", "Value": duplicate, "Timestamp": when},
            ],
        )
        cloud["cw"].put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Value": 1.0,
                    "Timestamp": when,
                    "Dimensions": [{"Name": "FunctionName", "Value": cloud["function"]}],
                }
            ],
        )


def reconcile(cloud, base: pd.Timestamp, minutes: int, **options) -> reconciliation.Reconciliation:
    """reconciliation.reconcile over the test's table, queries and metrics, from base for minutes."""
    return reconciliation.reconcile(
        cloud["table"],
        "ep",
        cloud["queries"],
        base,
        base + pd.Timedelta(minutes=minutes),
        cloudwatch=cloud["cw"],
        dynamodb=cloud["ddb"],
        **options,
    )


def test_reconcile_reads_records_and_metrics_per_minute_and_checks_the_totals(cloud):
    base = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=10)
    serve(
        cloud,
        [(base + pd.Timedelta(seconds=s), 20.0) for s in (5, 30, 59.99, 70)],
        retried=[base + pd.Timedelta(seconds=80)],
    )
    check = reconcile(cloud, base, 2)
    assert check.table.to_dict("list") == {
        "records": [3, 1],
        "inference_count": [2, 3],
        "duplicates": [0, 1],
        "invocations": [2, 3],
    }
    assert check.agree and check.totals["records"] == 4


def test_reconcile_reports_disagreeing_totals_with_their_explanation(cloud):
    base = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=10)
    serve(cloud, [(base + pd.Timedelta(seconds=5), 20.0)])
    cloud["cw"].put_metric_data(
        Namespace=cloud["namespace"],
        MetricData=[
            {
                "MetricName": "InferenceCount",
                "Value": 1.0,
                "Timestamp": (base + pd.Timedelta(seconds=30)).to_pydatetime(),
            }
        ],
    )
    check = reconcile(cloud, base, 1, timeout_s=0)
    assert not check.agree
    assert [e.split(":")[0] for e in check.explanations] == [
        "1 inference line(s) without a record",
        "1 inference line(s) without an invocation",
    ]


def test_window_start_reads_both_witnesses_from_the_cloud(cloud):
    base = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=10)
    requests = (
        (10, 20.0),
        (59.5, 900.0),
        (61, 20.0),
        (119.9, 400.0),
    )  # the 2nd and 4th cross base+1 and base+2 min
    serve(cloud, [(base + pd.Timedelta(seconds=s), latency) for s, latency in requests])
    start = reconciliation.window_start(
        cloud["table"],
        "ep",
        cloud["queries"],
        since=base - pd.Timedelta(minutes=1),
        now=base + pd.Timedelta(minutes=2, seconds=30),
        cloudwatch=cloud["cw"],
        dynamodb=cloud["ddb"],
    )
    assert start == base


# ------------------------------------------------------------------ the model container's own failures


@pytest.fixture(scope="module")
def bad_deploy(local_cloud):
    """Model version 2 (three features) behind serverless endpoints, one whose execution role may write the
    endpoint's logs and one whose role may not; the clients."""
    from kit_world import execution_role, serverless_endpoint

    from helpers import model

    aws = {
        s: boto3.client(s, region_name="us-east-1") for s in ("s3", "iam", "sagemaker", "logs", "cloudwatch")
    }
    tag = uuid.uuid4().hex[:6]
    bucket = f"failures-{tag}"
    aws["s3"].create_bucket(Bucket=bucket)
    aws["s3"].put_object(
        Bucket=bucket, Key="v2/model.tar.gz", Body=model.train(features=model.FEATURES_V2).artifact
    )
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    write_logs = {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                  "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/*"}  # fmt: skip
    endpoints = {}
    for name, statements in (("logs", (read, write_logs)), ("silent", (read,))):
        role = execution_role(aws["iam"], f"failures-{tag}-{name}", "sagemaker.amazonaws.com", *statements)
        endpoints[name] = serverless_endpoint(aws["sagemaker"], f"failures-{tag}-{name}", role,
                                              f"s3://{bucket}/v2/model.tar.gz")  # fmt: skip
    return {
        **aws,
        "endpoints": endpoints,
        "runtime": boto3.client("sagemaker-runtime", region_name="us-east-1"),
    }


def fail(bad_deploy: dict, cloud: dict, endpoint: str, n: int) -> None:
    """Send n four-feature rows to the endpoint (each a ModelError) and record them as the handler does."""
    items = []
    for _ in range(n):
        started = pd.Timestamp.now(tz="UTC")
        with pytest.raises(bad_deploy["runtime"].exceptions.ModelError):
            bad_deploy["runtime"].invoke_endpoint(
                EndpointName=endpoint, ContentType="text/csv", Body="42.5,14,0.12,900"
            )
        items.append({"requestId": {"S": f"fail-{uuid.uuid4().hex}"}, "timestamp": {"S": _load.iso_ms(started)},
                      "endpointName": {"S": endpoint}, "status": {"S": "model_error"},
                      "errorType": {"S": "ModelError"}, "latencyMs": {"N": "5.0"},
                      "expiresAt": {"N": str(int(time.time()) + 86_400)}})  # fmt: skip
    dynamodb.batch_write(cloud["table"], items, client=cloud["ddb"])


def test_model_error_records_equal_the_endpoints_4xx_errors_and_its_error_lines(bad_deploy, cloud):
    endpoint = bad_deploy["endpoints"]["logs"]
    start = pd.Timestamp.now(tz="UTC") - pd.Timedelta(seconds=1)
    fail(bad_deploy, cloud, endpoint, 3)
    counted = reconciliation.count_model_failures(
        cloud["table"], endpoint, "AllTraffic", start, pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=1),
        cloudwatch=bad_deploy["cloudwatch"], logs=bad_deploy["logs"], dynamodb=cloud["ddb"],
    )  # fmt: skip
    assert (counted.records, counted.endpoint_errors, counted.container_lines) == (3, 3, 3)
    assert counted.agree and counted.explanations == []


def test_without_the_roles_log_permissions_the_error_lines_are_missing_and_explained(bad_deploy, cloud):
    endpoint = bad_deploy["endpoints"]["silent"]
    start = pd.Timestamp.now(tz="UTC") - pd.Timedelta(seconds=1)
    fail(bad_deploy, cloud, endpoint, 2)
    counted = reconciliation.count_model_failures(
        cloud["table"], endpoint, "AllTraffic", start, pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=1),
        cloudwatch=bad_deploy["cloudwatch"], logs=bad_deploy["logs"], dynamodb=cloud["ddb"],
    )  # fmt: skip
    assert (counted.records, counted.endpoint_errors, counted.container_lines) == (2, 2, 0)
    assert not counted.agree and "logs:PutLogEvents" in " ".join(counted.explanations)
