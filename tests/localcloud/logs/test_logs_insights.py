"""Logs Insights in the local cloud: StartQuery/GetQueryResults run the documented query language."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from notebook_source import assigned

from localcloud.logs.insights import (
    QuerySyntaxError,
    event_record,
    format_time,
    parse_query,
    query_results,
)

ROOT = Path(__file__).resolve().parents[3]

# The two queries of the 8.3 notebook (Step 7), read from its source.
SLOWEST = assigned("8.3_monitor_with_cloudwatch", "slowest")
ERROR_MIX = assigned("8.3_monitor_with_cloudwatch", "error_mix")
BASE_MS = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC


@pytest.fixture()
def logs(local_cloud):
    return boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1")


@pytest.fixture()
def group(logs):
    """A fresh log group with the stream `s`."""
    name = f"/test/insights/{uuid.uuid4().hex}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    return name


def put(logs, group: str, messages: list, start_ms: int | None = None, step_ms: int = 1000) -> int:
    """Ingest messages (dicts become JSON lines) one step apart; returns the first timestamp."""
    start_ms = start_ms or int(time.time() * 1000) - len(messages) * step_ms - 1000
    events = [
        {"timestamp": start_ms + i * step_ms, "message": m if isinstance(m, str) else json.dumps(m)}
        for i, m in enumerate(messages)
    ]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    return start_ms


def run(logs, group: str, query: str, start_s: int | None = None, end_s: int | None = None) -> dict:
    """StartQuery then GetQueryResults until complete; the answer."""
    now = int(time.time())
    query_id = logs.start_query(
        logGroupName=group,
        startTime=start_s if start_s is not None else now - 3600,
        endTime=end_s if end_s is not None else now + 60,
        queryString=query,
    )["queryId"]
    for _ in range(50):
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] not in ("Scheduled", "Running"):
            return answer
        time.sleep(0.1)
    raise AssertionError("query did not complete")


def rows(answer: dict, ptr: bool = False) -> list[dict]:
    """Result rows as dicts (without @ptr unless asked)."""
    return [{f["field"]: f["value"] for f in row if ptr or f["field"] != "@ptr"} for row in answer["results"]]


def records(messages: list, start_ms: int = BASE_MS, step_ms: int = 1000, stream: str = "s") -> list[dict]:
    """The messages as the records of one stream's events (in the log group /g), for the engine alone."""
    return [
        event_record(
            SimpleNamespace(
                timestamp=start_ms + i * step_ms,
                ingestion_time=start_ms + i * step_ms + 50,
                event_id=i,
                message=m if isinstance(m, str) else json.dumps(m),
            ),
            stream,
            "/g",
            "123456789012",
        )
        for i, m in enumerate(messages)
    ]


def evaluate(messages: list, query: str, **kwargs) -> list[dict]:
    """The engine's result rows for the query over the messages."""
    return list(query_results(query, records(messages, **kwargs)))


def no_ptr(results: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "@ptr"} for r in results]


def inference(request_id: str, status: str, latency: float, model_latency: float | None = 5.0) -> dict:
    """An inference log line exactly as lambda/app.py prints it."""
    return {
        "event": "inference",
        "requestId": request_id,
        "endpointName": "e",
        "modelVersion": "1",
        "variantName": "AllTraffic" if status == "ok" else None,
        "status": status,
        "latencyMs": latency,
        "modelLatencyMs": model_latency,
        "errorType": None if status == "ok" else "X",
        "coldStart": False,
        "record": "written",
    }


def report(
    request_id: str, duration: float, billed: int, memory: int, used: int, init: float | None = None
) -> str:
    """A Lambda REPORT line as localcloud/awslambda/runtime/reports.py writes it."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {used} MB"
    )
    return line + (f"\tInit Duration: {init:.2f} ms" if init is not None else "")


# ---------------------------------------------------------------- the API


def test_query_completes_with_rows_of_field_value_pairs_and_ptr(logs, group):
    put(logs, group, ["hello", "world"])
    answer = run(logs, group, "fields @timestamp, @message")
    assert answer["status"] == "Complete"
    for row in answer["results"]:
        assert [f["field"] for f in row] == ["@timestamp", "@message", "@ptr"]
        assert all(isinstance(f["value"], str) for f in row)


def test_statistics_count_scanned_and_matched_records_and_bytes(logs, group):
    put(logs, group, ["ERROR one", "fine", "ERROR two"])
    answer = run(logs, group, "filter @message like /ERROR/")
    assert answer["statistics"] == {
        "recordsMatched": 2.0,
        "recordsScanned": 3.0,
        "bytesScanned": float(len("ERROR onefineERROR two")),
    }


def test_malformed_query_is_refused_by_start_query_with_400_naming_the_problem(logs, group):
    with pytest.raises(ClientError) as caught:
        run(logs, group, "fields @message | frobnicate @message")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "MalformedQueryException"
    assert "unknown command frobnicate" in error["Error"]["Message"]
    assert "line 1 and position 18" in error["Error"]["Message"]


def test_malformed_query_answer_locates_the_problem_in_the_query(logs, group):
    with pytest.raises(ClientError) as caught:
        run(logs, group, "fields @message | frobnicate @message")
    assert caught.value.response["queryCompileError"]["location"] == {
        "startCharOffset": 18,
        "endCharOffset": 28,
    }


def test_only_events_inside_the_time_range_are_queried(logs, group):
    now_s = int(time.time())
    put(logs, group, ["old"], start_ms=(now_s - 7200) * 1000)
    put(logs, group, ["new"], start_ms=(now_s - 60) * 1000)
    assert [r["@message"] for r in rows(run(logs, group, "fields @message", start_s=now_s - 600))] == ["new"]


def test_end_time_includes_its_whole_second(logs, group):
    now_s = int(time.time())
    put(logs, group, ["edge"], start_ms=(now_s - 10) * 1000 + 999)
    assert rows(run(logs, group, "fields @message", start_s=now_s - 20, end_s=now_s - 10)) == [
        {"@message": "edge"}
    ]


def test_queries_span_several_log_groups(logs, group):
    other = f"{group}-other"
    logs.create_log_group(logGroupName=other)
    logs.create_log_stream(logGroupName=other, logStreamName="s")
    put(logs, group, ["a"])
    put(logs, other, ["b"])
    now = int(time.time())
    query_id = logs.start_query(
        logGroupNames=[group, other],
        startTime=now - 600,
        endTime=now + 60,
        queryString="stats count(*) as n by @log",
    )["queryId"]
    found = {r["@log"]: r["n"] for r in rows(logs.get_query_results(queryId=query_id))}
    assert found == {f"123456789012:{group}": "1", f"123456789012:{other}": "1"}


# ---------------------------------------------------------------- the 8.3 notebook's queries


def test_notebook_slowest_requests_query_on_the_handlers_log_lines(logs, group):
    lines = [
        inference("r1", "ok", 12.5),
        inference("r2", "model_error", 99.0, None),
        inference("r3", "ok", 40.25, 30.0),
        inference("r4", "client_error", 1.0, None),
        inference("r5", "ok", 7.0),
        report("lambda-1", 14.0, 14, 256, 80),
    ]
    put(logs, group, lines)
    found = rows(run(logs, group, SLOWEST))
    assert [r["requestId"] for r in found] == ["r3", "r1", "r5"]
    assert found[0] == {
        "@timestamp": found[0]["@timestamp"],
        "requestId": "r3",
        "latencyMs": "40.25",
        "modelLatencyMs": "30",
        "variantName": "AllTraffic",
    }


def test_notebook_error_mix_query_counts_per_five_minutes(logs, group):
    now_s = int(time.time())
    first = (now_s - 900) // 300 * 300  # a five-minute boundary 10-15 minutes ago
    statuses = ["ok", "model_error", "client_error", "ok"] + ["ok", "model_error", "model_error"]
    for i, status in enumerate(statuses):
        at = (first + (5 if i < 4 else 305)) * 1000 + i
        put(logs, group, [inference(f"r{i}", status, 10.0)], start_ms=at)
    put(logs, group, [report("x", 1.0, 1, 128, 50)], start_ms=(first + 10) * 1000)
    found = rows(run(logs, group, ERROR_MIX))
    late, early = format_time((first + 300) * 1000), format_time(first * 1000)
    expected = [
        {"bin(5m)": late, "status": "ok", "requests": "1"},
        {"bin(5m)": late, "status": "model_error", "requests": "2"},
        {"bin(5m)": early, "status": "ok", "requests": "2"},
        {"bin(5m)": early, "status": "model_error", "requests": "1"},
        {"bin(5m)": early, "status": "client_error", "requests": "1"},
    ]
    key = lambda row: (row["bin(5m)"], row["status"])  # noqa: E731
    assert sorted(found, key=key) == sorted(expected, key=key)


def test_notebook_queries_on_lines_the_real_handler_prints(logs, group, metadata_spec, capsys):
    from handler_harness import FakeRuntime, load_app
    from lambda_events import context, rest_event

    from helpers import dynamodb

    table = f"t-{uuid.uuid4().hex[:10]}-inference-metadata"
    dynamodb.ensure_table(metadata_spec(table))
    app, failing = load_app(table), load_app(table, runtime=FakeRuntime("ModelError"))
    app.lambda_handler(rest_event('{"features": [1, 2, 3, 4]}', "ok-1"), context())
    app.lambda_handler(rest_event('{"features": [0, 0, 0, 0]}', "ok-2"), context())
    app.lambda_handler(rest_event('{"features": "nope"}', "bad-1"), context())
    failing.lambda_handler(rest_event('{"features": [1, 1, 1, 1]}', "fail-1"), context())
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    previous_bin_ms = (int(time.time() * 1000) // 300_000 - 1) * 300_000  # all four in one bin(5m)
    put(logs, group, printed, start_ms=previous_bin_ms + 1000)
    slowest = rows(run(logs, group, SLOWEST))
    latency = {d["requestId"]: d["latencyMs"] for d in map(json.loads, printed)}
    assert {r["requestId"] for r in slowest} == {"ok-1", "ok-2"}
    assert [float(r["latencyMs"]) for r in slowest] == sorted(
        (latency["ok-1"], latency["ok-2"]), reverse=True
    )
    mix = rows(run(logs, group, ERROR_MIX))
    assert sorted((r["status"], r["requests"]) for r in mix) == [
        ("client_error", "1"),
        ("model_error", "1"),
        ("ok", "2"),
    ]


# ---------------------------------------------------------------- the documentation's examples


def test_doc_example_25_most_recent_events():
    found = evaluate(
        [f"line {i}" for i in range(30)], "fields @timestamp, @message | sort @timestamp desc | limit 25"
    )
    assert len(found) == 25
    assert found[0]["@message"] == "line 29" and found[-1]["@message"] == "line 5"
    assert found[0]["@timestamp"] == format_time(BASE_MS + 29_000)


def test_doc_example_exceptions_per_hour_sorted_by_count():
    messages = ["NullPointerException"] * 3 + ["ok"] * 2 + ["IOException"]
    query = "filter @message like /Exception/ \n| stats count(*) as exceptionCount by bin(1h)\n| sort exceptionCount desc"
    found = evaluate(messages, query, step_ms=1_800_000)  # 30 minutes apart
    assert [r["exceptionCount"] for r in found] == ["2", "1", "1"]
    assert all(r["bin(1h)"].endswith(":00:00.000") for r in found)


def test_doc_example_events_that_are_not_exceptions():
    found = evaluate(["an Exception", "fine"], "fields @message | filter @message not like /Exception/")
    assert no_ptr(found) == [{"@message": "fine"}]


def test_doc_example_overprovisioned_lambda_memory():
    messages = [
        report("a", 10, 10, 256, 80),
        report("b", 20, 20, 256, 100),
        "START RequestId: c Version: $LATEST",
    ]
    query = """filter @type = "REPORT"
| stats max(@memorySize / 1024 / 1024) as provisonedMemoryMB,
    min(@maxMemoryUsed / 1024 / 1024) as smallestMemoryRequestMB,
    avg(@maxMemoryUsed / 1024 / 1024) as avgMemoryUsedMB,
    max(@maxMemoryUsed / 1024 / 1024) as maxMemoryUsedMB,
    provisonedMemoryMB - maxMemoryUsedMB as overProvisionedMB"""
    mb = 1_000_000 / 1024 / 1024  # AWS reports memory in bytes of 10^6 per MB
    [found] = evaluate(messages, query)
    assert float(found["provisonedMemoryMB"]) == pytest.approx(256 * mb)
    assert float(found["smallestMemoryRequestMB"]) == pytest.approx(80 * mb)
    assert float(found["avgMemoryUsedMB"]) == pytest.approx(90 * mb)
    assert float(found["overProvisionedMB"]) == pytest.approx(156 * mb)


def test_doc_example_latency_report_per_five_minutes():
    messages = [report("a", 10, 10, 128, 50), report("b", 30, 30, 128, 50), "END RequestId: b"]
    query = 'filter @type = "REPORT" |\nstats avg(@duration), max(@duration), min(@duration) by bin(5m)'
    assert no_ptr(evaluate(messages, query)) == [
        {
            "bin(5m)": format_time(BASE_MS // 300_000 * 300_000),
            "avg(@duration)": "20",
            "max(@duration)": "30",
            "min(@duration)": "10",
        }
    ]
    # The page's own spelling, `type` without @, names no Lambda field: no REPORT line matches it.
    assert evaluate(messages, query.replace("@type", "type")) == []


def test_doc_example_top_packet_transfers_by_host_pair():
    flows = [
        {"srcAddr": "10.0.0.1", "dstAddr": "10.0.0.2", "packets": 5, "protocol": 6},
        {"srcAddr": "10.0.0.1", "dstAddr": "10.0.0.2", "packets": 7, "protocol": 17},
        {"srcAddr": "10.0.0.3", "dstAddr": "10.0.0.2", "packets": 20, "protocol": 17},
    ]
    query = "stats sum(packets) as packetsTransferred by srcAddr, dstAddr\n| sort packetsTransferred  desc\n| limit 15"
    assert no_ptr(evaluate(flows, query)) == [
        {"srcAddr": "10.0.0.3", "dstAddr": "10.0.0.2", "packetsTransferred": "20"},
        {"srcAddr": "10.0.0.1", "dstAddr": "10.0.0.2", "packetsTransferred": "12"},
    ]
    assert no_ptr(evaluate(flows, "filter protocol=17 | stats count(*) by srcAddr")) == [
        {"srcAddr": "10.0.0.3", "count(*)": "1"},
        {"srcAddr": "10.0.0.1", "count(*)": "1"},
    ]


def test_doc_example_skipped_flow_records_per_hour_with_alias_sort():
    messages = [{"logStatus": "SKIPDATA"}, {"logStatus": "OK"}, {"logStatus": "SKIPDATA"}]
    found = evaluate(
        messages, 'filter logStatus="SKIPDATA"\n| stats count(*) by bin(1h) as t\n| sort t', step_ms=3_600_000
    )
    assert [r["count(*)"] for r in found] == ["1", "1"]
    assert found[0]["t"] > found[1]["t"]  # sort without asc/desc is descending


def test_doc_example_route53_records_per_hour_by_query_type():
    messages = [{"queryType": "A"}, {"queryType": "AAAA"}, {"queryType": "A"}]
    found = evaluate(messages, "stats count(*) by queryType, bin(1h)")
    assert {(r["queryType"], r["count(*)"]) for r in found} == {("A", "2"), ("AAAA", "1")}


def test_doc_example_cloudtrail_start_or_stop_in_a_region():
    messages = [
        {"eventName": "StartInstances", "region": "us-east-2"},
        {"eventName": "StopInstances", "region": "us-east-1"},
        {"eventName": "RebootInstances", "region": "us-east-2"},
    ]
    query = 'filter (eventName="StartInstances" or eventName="StopInstances") and region="us-east-2"'
    found = evaluate(messages, query)
    assert [json.loads(r["@message"])["eventName"] for r in found] == ["StartInstances"]


def test_doc_example_cloudtrail_nested_fields_of_new_users():
    event = {
        "eventName": "CreateUser",
        "awsRegion": "us-east-1",
        "requestParameters": {"userName": "alice"},
        "responseElements": {"user": {"arn": "arn:aws:iam::123456789012:user/alice"}},
    }
    query = 'filter eventName="CreateUser"\n| fields awsRegion, requestParameters.userName, responseElements.user.arn'
    assert no_ptr(evaluate([event, {"eventName": "Other"}], query)) == [
        {
            "awsRegion": "us-east-1",
            "requestParameters.userName": "alice",
            "responseElements.user.arn": "arn:aws:iam::123456789012:user/alice",
        }
    ]


def test_doc_example_json_arrays_are_numbered():
    event = {"requestParameters": {"instancesSet": {"items": [{"instanceId": "i-abcde123"}]}}}
    found = evaluate([event], "fields requestParameters.instancesSet.items.0.instanceId as id")
    assert found[0]["id"] == "i-abcde123"


def test_doc_example_update_trail_errors_by_code():
    messages = [
        {"eventName": "UpdateTrail", "errorCode": "AccessDenied", "errorMessage": "no"},
        {"eventName": "UpdateTrail"},
        {"eventName": "UpdateTrail", "errorCode": "AccessDenied", "errorMessage": "no"},
    ]
    query = (
        'filter eventName="UpdateTrail" and ispresent(errorCode)\n| stats count(*) by errorCode, errorMessage'
    )
    assert no_ptr(evaluate(messages, query)) == [
        {"errorCode": "AccessDenied", "errorMessage": "no", "count(*)": "2"}
    ]


def test_doc_example_fields_with_backticks_and_functions():
    found = evaluate(
        [{"foo-bar": "x", "action": "go", "f3": 2, "f4": 7}], "fields `foo-bar`, action, abs(f3-f4)"
    )
    assert no_ptr(found) == [{"foo-bar": "x", "action": "go", "abs(f3-f4)": "5"}]


def test_doc_example_filter_on_numbers_and_or():
    messages = [
        {"f1": 10, "f2": "a", "f3": 1},
        {"f1": 3, "f2": "b", "f3": 30},
        {"f1": 3, "f2": "c", "f3": 2},
        {"f1": 1, "duration": 2500},
    ]
    assert [r["f2"] for r in evaluate(messages, "fields f1, f2 | filter (f1=10 or f3>25)")] == ["b", "a"]
    assert [r["@message"] for r in evaluate(messages, "filter (duration>2000)")] == [json.dumps(messages[3])]


def test_doc_example_status_code_regex():
    messages = [
        {"statusCode": 200, "f1": "a"},
        {"statusCode": 404, "f1": "b"},
        {"statusCode": 299, "f1": "c"},
    ]
    found = evaluate(messages, r"fields f1 | filter statusCode like /2\d\d/")
    assert [r["f1"] for r in found] == ["c", "a"]


@pytest.mark.parametrize(
    "query",
    [
        "fields f1, f2, f3 | filter f1 like /Exception/",
        "fields f1, f2, f3 | filter f1 =~ /Exception/",
        'fields f1, f2, f3 | filter f1 like "Exception"',
    ],
)
def test_doc_example_three_ways_to_match_exception(query):
    messages = [{"f1": "an Exception here"}, {"f1": "an exception here"}, {"f2": "Exception"}]
    assert [r["f1"] for r in evaluate(messages, query)] == ["an Exception here"]


def test_doc_example_case_insensitive_regex_flags():
    messages = [{"f1": "EXCEPTION"}, {"f1": "an exception"}, {"f1": "none"}]
    assert len(evaluate(messages, "fields f1, f2, f3 | filter f1 like /(?i)Exception/ ")) == 2
    assert [r["f1"] for r in evaluate(messages, "fields f1, f2, f3 | filter f1 =~ /^(?i)Exception$/")] == [
        "EXCEPTION"
    ]


def test_doc_example_aliases_in_fields_stats_and_sort():
    messages = [{"myField": -3, "myField2": "a", "f1": 1}, {"myField": 4, "myField2": "b", "f1": 5}]
    found = evaluate(messages, "fields abs(myField) as AbsoluteValuemyField, myField2")
    assert no_ptr(found) == [
        {"AbsoluteValuemyField": "4", "myField2": "b"},
        {"AbsoluteValuemyField": "3", "myField2": "a"},
    ]
    assert no_ptr(evaluate(messages, "stats avg(f1) as myAvgF1 | sort myAvgF1 desc")) == [{"myAvgF1": "3"}]


def test_doc_example_parse_glob_then_stats():
    messages = [
        "user=alice, method:GET, latency := 10",
        "user=alice, method:GET, latency := 30",
        "user=bob, method:PUT, latency := 5",
        "unrelated",
    ]
    query = 'parse @message "user=*, method:*, latency := *" as @user,\n    @method, @latency | stats avg(@latency) by @method,\n    @user'
    assert {(r["@method"], r["@user"], r["avg(@latency)"]) for r in evaluate(messages, query)} == {
        ("GET", "alice", "20"),
        ("PUT", "bob", "5"),
    }


def test_doc_example_parse_regex_with_named_groups():
    line = "1700000000.123 42 10.0.0.1 TCP_MISS/200 www.example.com:443 GET - HIER_DIRECT"
    query = r"parse @message /(?<time>[0-9]{10}\.[0-9]{1,3}) .* (?<code>[A-Z_]+\/[0-9]{3}) (?<url>[a-zA-Z.]+:[0-9]{1,5})/"
    query += " | display time, code, url"
    assert no_ptr(evaluate([line], query)) == [
        {"time": "1700000000.123", "code": "TCP_MISS/200", "url": "www.example.com:443"}
    ]


def test_doc_example_parse_regex_eni_and_display():
    line = "2 123456789012 eni-0abc1234 10.0.0.1 10.0.0.2 443 49152 6 10 840 ACCEPT OK"
    found = evaluate(
        [line, "no interface"],
        "parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
    )
    assert no_ptr(found) == [
        {"@message": "no interface"},
        {"NetworkInterface": "eni-0abc1234", "@message": line},
    ]


# ---------------------------------------------------------------- fields and discovery


def test_system_fields_are_discovered():
    [found] = evaluate(
        ["x"], "fields @timestamp, @message, @logStream, @log, @ingestionTime, @ptr", stream="st"
    )
    assert found["@timestamp"] == format_time(BASE_MS) == "2026-11-18 11:06:40.000"
    assert found["@ingestionTime"] == format_time(BASE_MS + 50)
    assert (found["@logStream"], found["@log"], found["@message"]) == ("st", "123456789012:/g", "x")
    assert found["@ptr"]


def test_lambda_report_line_fields_are_discovered():
    query = (
        'filter @type = "REPORT" | fields @requestId, @duration, @billedDuration, @memorySize, '
        "@maxMemoryUsed, @initDuration"
    )
    [found] = evaluate([report("req-1", 12.34, 13, 256, 80, 301.5), "END RequestId: req-1"], query)
    assert no_ptr([found]) == [
        {
            "@requestId": "req-1",
            "@duration": "12.34",
            "@billedDuration": "13",
            "@memorySize": "256000000",
            "@maxMemoryUsed": "80000000",
            "@initDuration": "301.5",
        }
    ]


def test_lambda_start_and_end_lines_have_type_and_request_id():
    found = evaluate(
        ["START RequestId: r-1 Version: $LATEST", "END RequestId: r-1"], "fields @type, @requestId"
    )
    assert no_ptr(found) == [{"@type": "END", "@requestId": "r-1"}, {"@type": "START", "@requestId": "r-1"}]


def test_json_after_a_prefix_is_discovered_and_null_is_absent():
    line = '[INFO]\t2026-11-27T12:00:00.000Z\tabc\t{"a": {"b": 2}, "c": null}'
    [found] = evaluate([line], "fields a.b, c, ispresent(c) as has_c")
    assert no_ptr([found]) == [{"a.b": "2", "has_c": "0"}]


# ---------------------------------------------------------------- commands


def test_default_display_is_timestamp_and_message_newest_first():
    found = evaluate(["first", "second"], "filter @message like 's'")
    assert [list(r) for r in found] == [["@timestamp", "@message", "@ptr"]] * 2
    assert [r["@message"] for r in found] == ["second", "first"]


def test_default_limit_is_10000_rows():
    assert len(evaluate(["x"] * 10_005, "fields @message")) == 10_000


def test_sort_ascending_puts_words_before_numbers_in_natural_order():
    values = ["10", "a10", "a9", "2", "B"]
    found = evaluate([{"v": v} for v in values], "fields v | sort v asc")
    assert [r["v"] for r in found] == ["B", "a9", "a10", "2", "10"]


def test_sort_ascending_gives_the_documentations_own_example_order():
    # docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Sort.html, "the result of a sort in ascending order"
    documented = [
        "!:",
        "#",
        "*%04",
        "0#",
        "5A",
        "111A",
        "2345_",
        "@",
        "@_",
        "A",
        "A9876fghj",
        "a12345hfh",
        "0",
        "01",
        "1",
        "2",
        "3",
    ]
    shuffled = documented[::-1][1::2] + documented[::-1][0::2]
    found = evaluate([{"v": v} for v in shuffled], "fields v | sort v asc")
    assert [r["v"] for r in found] == documented
    assert [r["v"] for r in evaluate([{"v": v} for v in shuffled], "fields v | sort v desc")] == documented[
        ::-1
    ]


def test_sort_by_two_fields():
    messages = [{"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 2}]
    found = evaluate(messages, "fields a, b | sort a asc, b desc")
    assert [(r["a"], r["b"]) for r in found] == [("1", "2"), ("1", "1"), ("2", "1")]


def test_display_replaces_fields():
    found = evaluate([{"a": 1, "b": 2}], "fields a, b | display b")
    assert no_ptr(found) == [{"b": "2"}]


def test_parse_leaves_unmatched_events_without_the_fields():
    found = evaluate(["id=7 x", "nothing"], 'parse @message "id=* " as id | fields id')
    assert no_ptr(found) == [{}, {"id": "7"}]


def test_parse_from_another_field():
    found = evaluate(
        [{"url": "/api/v2/users/42"}],
        'parse url "/api/*/users/*" as apiVersion, userId | display apiVersion, userId',
    )
    assert no_ptr(found) == [{"apiVersion": "v2", "userId": "42"}]


def test_comments_are_ignored():
    assert len(evaluate(["a", "b"], "# the last one\nfields @message # shown\n| limit 1")) == 1


# ---------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("n = 10", ["10"]),
        ("n != 10", ["9", "100"]),
        ("n < 10", ["9"]),
        ("n <= 10", ["10", "9"]),
        ("n > 10", ["100"]),
        ("n >= 10", ["10", "100"]),
        ('n in [9, "100"]', ["9", "100"]),
        ("n not in [9, 100]", ["10"]),
        ("not n = 10", ["9", "100"]),
        ("n > 9 and n < 100", ["10"]),
        ("(n = 9 or n = 100) and n > 50", ["100"]),
        ("n * 2 - 1 = 19", ["10"]),
        ("n / 4 = 2.25", ["9"]),
        ("n + 1 > 100", ["100"]),
        ("s = 'x9'", ["9"]),
        ("s like 'x1'", ["10", "100"]),
        ("s =~ /^x\\d$/", ["9"]),
        ("s not like /0/", ["9"]),
        ("m > 5", []),
    ],
)
def test_filter_expressions(expression, expected):
    messages = [{"n": 10, "s": "x10"}, {"n": "9", "s": "x9"}, {"n": 100, "s": "x100"}]
    found = evaluate(messages, f"filter {expression} | fields n | sort @timestamp asc")
    assert sorted(r["n"] for r in found) == sorted(expected)


def test_numbers_compare_numerically_not_as_text():
    assert [r["n"] for r in evaluate([{"n": "9"}, {"n": "10"}], "filter n > 9.5 | fields n")] == ["10"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("strlen(s)", "5"),
        ("tolower(s)", "hello"),
        ("toupper(s)", "HELLO"),
        ("abs(n)", "2.5"),
        ("ceil(n)", "-2"),
        ("floor(n)", "-3"),
        ("concat(s, '-', n)", "HeLLo--2.5"),
        ("isempty(missing)", "1"),
        ("isempty(s)", "0"),
        ("ispresent(s)", "1"),
        ("substr(s, 1, 3)", "eLL"),
        ("replace(s, 'L', 'l')", "Hello"),
        ("strcontains(s, 'LL')", "1"),
        ("coalesce(missing, s)", "HeLLo"),
        ("trim('  a ')", "a"),
        ("greatest(1, n, 3)", "3"),
        ("least(1, n, 3)", "-2.5"),
        ("2 ^ 3", "8"),
        ("10 % 3", "1"),
    ],
)
def test_functions(expression, expected):
    [found] = evaluate([{"s": "HeLLo", "n": -2.5}], f"fields {expression} as out")
    assert found["out"] == expected


def test_stats_aggregates():
    messages = [{"v": v, "k": k} for v, k in [(1, "a"), (2, "b"), (3, "a"), (4, "c"), (10, "a")]]
    query = (
        "stats count(*) as n, count(k) as nk, count_distinct(k) as dk, sum(v) as s, avg(v) as a, min(v) as lo, "
        "max(v) as hi, pct(v, 50) as p50, pct(v, 90) as p90, stddev(v) as sd, earliest(v) as first, "
        "latest(v) as last"
    )
    [found] = evaluate(messages, query)
    assert {k: v for k, v in found.items()} == {
        "n": "5",
        "nk": "5",
        "dk": "3",
        "s": "20",
        "a": "4",
        "lo": "1",
        "hi": "10",
        "p50": "3",
        "p90": "10",
        "sd": repr(3.5355339059327378),
        "first": "1",
        "last": "10",
    }


def test_pct_is_the_value_at_the_exact_nearest_rank():
    # 28% of 25 values is rank 7 exactly (computed as 0.28 * 25 in floating point it would be 7.000...1, rank 8).
    [found] = evaluate([{"v": v} for v in range(1, 26)], "stats pct(v, 28) as p28, pct(v, 56) as p56")
    assert (found["p28"], found["p56"]) == ("7", "14")


def test_stats_by_bin_units():
    for unit, ms in (("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("1d", 86_400_000)):
        found = evaluate(["a", "b"], f"stats count(*) by bin({unit})", step_ms=ms)
        assert [r[f"bin({unit})"] for r in found] == [
            format_time((BASE_MS + ms) // ms * ms),
            format_time(BASE_MS // ms * ms),
        ]


def test_count_field_counts_only_events_that_have_it():
    [found] = evaluate([{"a": 1}, {"b": 1}, {"a": 0}], "stats count(a) as n, count(*) as all")
    assert (found["n"], found["all"]) == ("2", "3")


def test_stats_on_no_events_counts_zero():
    assert evaluate([], "stats count(*) as n") == [{"n": "0"}]


# ---------------------------------------------------------------- malformed queries


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("fields", "unexpected symbol found end of query"),
        ("filter a = ", "unexpected symbol found end of query"),
        ("filter a = 'x", "unterminated string"),
        ("sort", "expected a field name to sort by"),
        ("limit ten", "limit takes a whole number"),
        ("limit 10001", "limit takes a whole number"),
        ("fields a |", "expected a command"),
        ("filter count(*) > 1", "count() is an aggregate function: use it in stats"),
        ("stats nosuch(a)", "unknown function nosuch"),
        ('parse @message "a=* b=*" as a', "the pattern has 2 wildcards for 1 field names"),
        ("filter a like /(/", "invalid regular expression"),
        ("stats count(*) by bin(5)", "bin() takes a period"),
        ("fields a b", "unexpected symbol found b"),
        ("filter a ~ 1", "unexpected symbol found ~"),
    ],
)
def test_malformed_queries_name_the_problem(query, problem):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert problem in caught.value.message
    assert " at line 1 and position " in caught.value.message


# ---------------------------------------------------------------- the engine apart from moto
