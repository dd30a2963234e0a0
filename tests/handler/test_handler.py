"""The 8.2 inference handler, called in-process: records in the local cloud's DynamoDB, a fake model."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import re
import uuid
from decimal import Decimal

import boto3
import pytest
from handler_harness import ENDPOINT, FailingTable, FakeRuntime, load_app, probability
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lambda_events import context, http_event, rest_event

from helpers import dynamodb
from helpers.dynamodb import records

LOG_KEYS = {
    "event", "requestId", "endpointName", "modelVersion", "variantName",
    "status", "latencyMs", "modelLatencyMs", "errorType", "coldStart", "record",
}  # fmt: skip


@pytest.fixture(scope="module")
def table(local_cloud, metadata_spec) -> str:
    """The inference metadata table, made as chapter 8.1 makes it."""
    name = f"t-{uuid.uuid4().hex[:10]}-inference-metadata"
    dynamodb.ensure_table(metadata_spec(name))
    return name


@pytest.fixture()
def app(table):
    return load_app(table)


def record(table: str, request_id: str) -> dict | None:
    return records.get_record(table, request_id)


def body_of(response: dict) -> dict:
    return json.loads(response["body"])


def log_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------- event shapes


def test_rest_proxy_event_is_answered_and_recorded_under_api_gateways_request_id(app, table):
    response = app.lambda_handler(
        rest_event('{"features": [1, 2, 3, 4]}', "rest-1-" + uuid.uuid4().hex), context()
    )
    assert response["statusCode"] == 200
    answer = body_of(response)
    item = record(table, answer["requestId"])
    assert answer["requestId"].startswith("rest-1-")
    assert item["eventSource"] == {"S": "apigateway-rest"}
    assert answer["prediction"] == probability([1, 2, 3, 4])


def test_http_api_event_is_answered_and_recorded(app, table):
    request_id = "http-" + uuid.uuid4().hex
    response = app.lambda_handler(http_event('{"features": [1, 2, 3, 4]}', request_id), context())
    assert response["statusCode"] == 200
    assert record(table, request_id)["eventSource"] == {"S": "apigateway-http"}


def test_chapter_7_body_event_uses_the_lambda_request_id(app, table):
    ctx = context()
    response = app.lambda_handler({"body": '{"features": [1, 2, 3, 4]}'}, ctx)
    assert body_of(response)["requestId"] == ctx.aws_request_id
    assert record(table, ctx.aws_request_id)["eventSource"] == {"S": "body"}


def test_direct_invocation_is_answered_as_a_proxy_response(app, table):
    ctx = context()
    response = app.lambda_handler({"features": [1, 2, 3, 4]}, ctx)
    assert set(response) >= {"statusCode", "headers", "body"}
    assert response["headers"]["Content-Type"] == "application/json"
    assert record(table, ctx.aws_request_id)["eventSource"] == {"S": "direct"}


def test_base64_body_is_decoded(app, table):
    encoded = base64.b64encode(b'{"features": [1, 2, 3, 4]}').decode()
    response = app.lambda_handler(rest_event(encoded, base64_encoded=True), context())
    assert response["statusCode"] == 200


def test_body_given_as_an_object_is_accepted(app):
    assert app.lambda_handler({"body": {"features": [1, 2, 3, 4]}}, context())["statusCode"] == 200


def test_ok_answer_carries_request_id_prediction_model_version_and_latency(app):
    answer = body_of(app.lambda_handler({"features": [1, 2, 3, 4]}, context()))
    assert set(answer) >= {"requestId", "prediction", "modelVersion", "latencyMs"}
    assert answer["modelVersion"] == "1" and answer["latencyMs"] >= 0


def test_model_receives_one_csv_row_and_asks_for_csv(table):
    runtime = FakeRuntime()
    load_app(table, runtime).lambda_handler({"features": [0.1, 2, -3.5, 4e-07]}, context())
    (call,) = runtime.calls
    assert call == {
        "EndpointName": ENDPOINT, "ContentType": "text/csv", "Accept": "text/csv", "Body": "0.1,2,-3.5,4e-07",
    }  # fmt: skip


# ---------------------------------------------------------------- the record


def test_ok_record_holds_every_attribute_of_the_schema(app, table):
    ctx = context()
    app.lambda_handler({"features": [1, 2, 3, 4]}, ctx)
    item = record(table, ctx.aws_request_id)
    expected = {
        "requestId": "S", "timestamp": "S", "endpointName": "S", "modelName": "S", "modelVersion": "S",
        "variantName": "S", "input": "S", "inputTruncated": "BOOL", "inputSha256": "S", "inputBytes": "N",
        "features": "L", "prediction": "N", "predictedLabel": "N", "latencyMs": "N", "modelLatencyMs": "N",
        "status": "S", "eventSource": "S", "coldStart": "BOOL", "lambdaRequestId": "S",
        "functionVersion": "S", "expiresAt": "N",
    }  # fmt: skip
    assert {name: next(iter(value)) for name, value in item.items()} == expected
    assert item["status"] == {"S": "ok"} and item["variantName"] == {"S": "AllTraffic"}
    assert item["predictedLabel"] == {"N": "1" if probability([1, 2, 3, 4]) >= 0.5 else "0"}


def test_numbers_are_written_exactly(app, table):
    ctx = context()
    app.lambda_handler({"body": '{"features": [0.1, 1, 2.5e-7, 123456789012345678]}'}, ctx)
    item = record(table, ctx.aws_request_id)
    assert [Decimal(n["N"]) for n in item["features"]["L"]] == [
        Decimal("0.1"), Decimal("1"), Decimal("2.5e-7"), Decimal("123456789012345678"),
    ]  # fmt: skip
    assert item["features"]["L"][0] == {"N": "0.1"}
    assert Decimal(item["prediction"]["N"]) == Decimal(
        repr(probability([0.1, 1, 2.5e-7, 123456789012345678]))
    )


def test_timestamp_is_iso_utc_with_milliseconds_and_expiry_follows_the_retention(app, table):
    ctx = context()
    app.lambda_handler({"features": [1, 2, 3, 4]}, ctx)
    item = record(table, ctx.aws_request_id)
    stamp = item["timestamp"]["S"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert int(item["expiresAt"]["N"]) == int(moment.timestamp()) + 30 * 86400


def test_input_over_16_kb_is_stored_truncated_with_digest_of_the_whole(app, table):
    text = json.dumps({"features": [1, 2, 3, 4], "note": "é" * 15000}, ensure_ascii=False)
    ctx = context()
    assert app.lambda_handler({"body": text}, ctx)["statusCode"] == 200
    item = record(table, ctx.aws_request_id)
    assert item["inputTruncated"] == {"BOOL": True}
    assert item["inputBytes"] == {"N": str(len(text.encode()))}
    assert item["inputSha256"] == {"S": hashlib.sha256(text.encode()).hexdigest()}
    assert len(item["input"]["S"].encode()) <= 16 * 1024 and text.startswith(item["input"]["S"])


def test_small_input_is_stored_whole(app, table):
    ctx = context()
    app.lambda_handler({"body": '{"features": [1, 2, 3, 4]}'}, ctx)
    item = record(table, ctx.aws_request_id)
    assert item["input"] == {"S": '{"features": [1, 2, 3, 4]}'} and item["inputTruncated"] == {"BOOL": False}


def test_cold_start_is_flagged_on_the_first_call_only(app, table):
    first, second = context(), context()
    app.lambda_handler({"features": [1, 2, 3, 4]}, first)
    app.lambda_handler({"features": [1, 2, 3, 4]}, second)
    assert record(table, first.aws_request_id)["coldStart"] == {"BOOL": True}
    assert record(table, second.aws_request_id)["coldStart"] == {"BOOL": False}


def test_feature_count_comes_from_the_environment(table):
    app = load_app(table, FEATURE_COUNT="2")
    assert app.lambda_handler({"features": [1, 2]}, context())["statusCode"] == 200
    assert app.lambda_handler({"features": [1, 2, 3, 4]}, context())["statusCode"] == 400


def test_retention_comes_from_the_environment(table):
    ctx = context()
    load_app(table, RECORD_TTL_DAYS="7").lambda_handler({"features": [1, 2, 3, 4]}, ctx)
    item = record(table, ctx.aws_request_id)
    stamp = dt.datetime.strptime(item["timestamp"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert int(item["expiresAt"]["N"]) == int(stamp.timestamp()) + 7 * 86400


# ---------------------------------------------------------------- hostile input

HOSTILE = {
    "malformed JSON": ('{"features": [1, 2, 3, 4}', "not valid JSON"),
    "features as a string": ('{"features": "1,2,3,4"}', "got string"),
    "a string feature": ('{"features": [1, "2", 3, 4]}', "features[1] must be a number, got string"),
    "features as an object": ('{"features": {"a": 1}}', "got object"),
    "an array, not an object": ("[1, 2, 3, 4]", "must be a JSON object"),
    "no features": ('{"feature": [1, 2, 3, 4]}', "no 'features'"),
    "too few features": ('{"features": [1, 2, 3]}', "exactly 4 numbers, got 3"),
    "too many features": ('{"features": [1, 2, 3, 4, 5]}', "exactly 4 numbers, got 5"),
    "NaN": ('{"features": [NaN, 1, 2, 3]}', "NaN is not a JSON number"),
    "Infinity": ('{"features": [1, Infinity, 2, 3]}', "Infinity is not a JSON number"),
    "-Infinity": ('{"features": [1, 2, -Infinity, 3]}', "-Infinity is not a JSON number"),
    "a number that overflows": ('{"features": [1e400, 1, 2, 3]}', "finite number"),
    "an integer of 40 digits": ('{"features": [1' + "0" * 39 + ", 1, 2, 3]}", "more than 38 digits"),
    "a number too small for DynamoDB": ('{"features": [1e-200, 1, 2, 3]}', "between 1e-130 and 1e126"),
    "a boolean": ('{"features": [true, 1, 2, 3]}', "features[0] must be a number, got boolean true"),
    "a nested list": ('{"features": [[1], 2, 3, 4]}', "features[0] must be a number, got array"),
    "a null feature": ('{"features": [null, 2, 3, 4]}', "got null"),
    "null": ("null", "got null"),
    "empty body": ("", "body is empty"),
    "blank body": ("  \n", "body is empty"),
    "very large body": ('{"features": [1, 2, 3, 4], "pad": "' + "x" * 70_000 + '"}', "limit is 65536 bytes"),
    "deeply nested arrays": ("[" * 30_000 + "]" * 30_000, "nested more than 32 levels"),
    "deeply nested objects": ('{"a":' * 5000 + "1" + "}" * 5000, "nested more than 32 levels"),
    "nested features": ('{"features": ' + "[" * 40 + "]" * 40 + "}", "nested more than 32 levels"),
    "unterminated string": ('{"features": "' + "a" * 60_000, "not valid JSON"),
    "unicode digits": ('{"features": ["①", 2, 3, 4]}', "got string"),
    "unicode key": ('{"fëatures": [1, 2, 3, 4]}', "no 'features'"),
    "lone surrogate": ('{"features": ["\\ud800", 2, 3, 4]}', "got string"),
    "a body of a number": ("42", "got number"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_body_answers_400_naming_the_problem_and_leaves_a_client_error_record(app, table, case):
    body, expected = HOSTILE[case]
    request_id = "hostile-" + uuid.uuid4().hex
    response = app.lambda_handler(rest_event(body, request_id), context())
    assert response["statusCode"] == 400
    message = body_of(response)["error"]
    assert expected in message
    item = record(table, request_id)
    assert item["status"] == {"S": "client_error"}
    assert item["errorMessage"] == {"S": message} and item["errorType"] == {"S": "InvalidRequest"}
    assert "prediction" not in item


@pytest.mark.parametrize(
    ("case", "event", "expected"),
    [
        ("missing body", rest_event(...), "no body"),
        ("broken base64", rest_event("not base64!!", base64_encoded=True), "not valid base64"),
        ("base64 of bytes that are not UTF-8", rest_event("//79", base64_encoded=True), "not UTF-8"),
        ("a body that is a number", {"body": 42}, "must be a JSON text"),
        ("a null event", None, "got null"),
        ("a list event", [1, 2, 3, 4], "got array"),
        ("a string event", '{"features": [1, 2, 3, 4]}', "got string"),
        ("a direct event with NaN", {"features": [float("nan"), 1, 2, 3]}, "finite number"),
        ("a direct event with a boolean", {"features": [1, False, 2, 3]}, "got boolean false"),
        ("an empty event", {}, "no 'features'"),
    ],
    ids=lambda v: v.replace(" ", "_") if isinstance(v, str) and " " in v else "",
)
def test_hostile_event_answers_400_and_leaves_a_client_error_record(app, table, case, event, expected):
    ctx = context()
    response = app.lambda_handler(event, ctx)
    assert response["statusCode"] == 400
    answer = body_of(response)
    assert expected in answer["error"]
    assert record(table, answer["requestId"])["status"] == {"S": "client_error"}


@pytest.mark.parametrize(
    "event",
    [rest_event("not base64!!", base64_encoded=True), {"body": "x" * 70_000}, {"features": [1, True]}, None],
    ids=["broken_base64", "too_large", "direct", "null"],
)
def test_a_refused_request_is_stored_as_it_came(app, table, event):
    ctx = context()
    answer = body_of(app.lambda_handler(event, ctx))
    item = record(table, answer["requestId"])
    compact = json.dumps(event, separators=(",", ":"))
    came = event.get("body") if isinstance(event, dict) and "body" in event else compact
    assert item["inputSha256"] == {"S": hashlib.sha256(came.encode()).hexdigest()}
    assert came.startswith(item["input"]["S"])


def test_deeply_nested_direct_event_is_a_client_error_without_recursion(app, table):
    event: dict = {"features": [1, 2, 3, 4]}
    nested = event
    for _ in range(5000):
        nested["x"] = {}
        nested = nested["x"]
    assert app.lambda_handler(event, context())["statusCode"] == 400


# ---------------------------------------------------------------- model failures


@pytest.mark.parametrize("code", ["ModelError", "ValidationError", "ServiceUnavailable"])
def test_model_failure_answers_502_and_leaves_a_model_error_record(table, code):
    ctx = context()
    response = load_app(table, FakeRuntime(code)).lambda_handler({"features": [1, 2, 3, 4]}, ctx)
    assert response["statusCode"] == 502
    assert code in body_of(response)["error"]
    item = record(table, ctx.aws_request_id)
    assert (item["status"], item["errorType"]) == ({"S": "model_error"}, {"S": code})
    assert "prediction" not in item and "modelLatencyMs" in item


def test_a_model_answer_that_is_not_a_probability_is_a_model_error(table):
    class Garbage(FakeRuntime):
        def invoke_endpoint(self, **kwargs):
            return {"Body": io.BytesIO(b"<html>oops</html>"), "InvokedProductionVariant": "AllTraffic"}

    response = load_app(table, Garbage()).lambda_handler({"features": [1, 2, 3, 4]}, context())
    assert response["statusCode"] == 502 and "InvalidModelResponse" in body_of(response)["error"]


def test_a_probability_below_dynamodbs_range_is_recorded_as_zero(table, capsys):
    class Tiny(FakeRuntime):
        def invoke_endpoint(self, **kwargs):
            return {"Body": io.BytesIO(b"1e-200\n"), "InvokedProductionVariant": "AllTraffic"}

    ctx = context()
    assert load_app(table, Tiny()).lambda_handler({"features": [1, 2, 3, 4]}, ctx)["statusCode"] == 200
    assert record(table, ctx.aws_request_id)["prediction"] == {"N": "0"}
    assert not failure_lines(capsys.readouterr().out)


# ---------------------------------------------------------------- one record per request


def test_retried_event_makes_one_record_and_answers_the_same_request_id(app, table):
    request_id = "retry-" + uuid.uuid4().hex
    event = rest_event('{"features": [1, 2, 3, 4]}', request_id)
    first = app.lambda_handler(event, context())
    stored = record(table, request_id)
    second = app.lambda_handler(event, context())
    assert body_of(first)["requestId"] == body_of(second)["requestId"] == request_id
    assert second["statusCode"] == 200
    assert record(table, request_id) == stored
    assert dynamodb.plain(stored)["requestId"] == request_id


def test_a_retry_does_not_log_a_write_failure(app, capsys):
    event = rest_event('{"features": [1, 2, 3, 4]}')
    app.lambda_handler(event, context())
    app.lambda_handler(event, context())
    assert not [
        line for line in log_lines(capsys.readouterr().out) if line["event"] == "metadata_write_failed"
    ]


def test_inference_line_says_whether_the_record_was_written_or_a_duplicate(app, capsys):
    event = rest_event('{"features": [1, 2, 3, 4]}', "dup-" + uuid.uuid4().hex)
    app.lambda_handler(event, context())
    app.lambda_handler(event, context())
    inference = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "inference"]
    assert [line["record"] for line in inference] == ["written", "duplicate"]


# ---------------------------------------------------------------- write failures


def failure_lines(out: str) -> list[dict]:
    return [line for line in log_lines(out) if line["event"] == "metadata_write_failed"]


def test_missing_table_still_answers_the_prediction_and_logs_the_record(capsys, local_cloud):
    app = load_app("no-such-table")
    ctx = context()
    response = app.lambda_handler({"features": [1, 2, 3, 4]}, ctx)
    assert response["statusCode"] == 200
    (line,) = failure_lines(capsys.readouterr().out)
    assert line["record"]["requestId"] == {"S": ctx.aws_request_id}
    assert "ResourceNotFoundException" in line["error"]


def test_throttled_writes_are_retried_then_the_record_is_logged(table, capsys):
    throttled = FailingTable("ProvisionedThroughputExceededException")
    app = load_app(table, dynamodb_client=throttled)
    response = app.lambda_handler({"features": [1, 2, 3, 4]}, context())
    assert response["statusCode"] == 200
    assert throttled.attempts == app.WRITE_ATTEMPTS > 1
    (line,) = failure_lines(capsys.readouterr().out)
    assert line["record"]["prediction"] == {"N": repr(probability([1, 2, 3, 4]))}


def test_access_denied_is_not_retried_and_the_record_is_logged(table, capsys):
    denied = FailingTable("AccessDeniedException")
    response = load_app(table, dynamodb_client=denied).lambda_handler({"features": [1, 2, 3, 4]}, context())
    assert response["statusCode"] == 200 and denied.attempts == 1
    assert len(failure_lines(capsys.readouterr().out)) == 1


def test_unset_table_name_still_answers_and_logs_the_record(table, capsys):
    response = load_app("").lambda_handler({"features": [1, 2, 3, 4]}, context())
    assert response["statusCode"] == 200
    assert "TABLE_NAME" in failure_lines(capsys.readouterr().out)[0]["error"]


def test_logged_record_is_restored_by_backfill_exactly(table, capsys):
    ctx = context()
    load_app(table, dynamodb_client=FailingTable("ThrottlingException")).lambda_handler(
        {"features": [0.1, 2, 3, 4]}, ctx
    )
    (line,) = failure_lines(capsys.readouterr().out)
    logs = boto3.client("logs")
    group = f"/aws/lambda/t-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000), "message": json.dumps(line)}
        ],
    )
    assert dynamodb.backfill_from_logs(group, table)["restored"] == 1
    assert record(table, ctx.aws_request_id) == line["record"]


# ---------------------------------------------------------------- logs and calls


@pytest.mark.parametrize(
    "event",
    [{"features": [1, 2, 3, 4]}, {"body": "nope"}, None],
    ids=["ok", "client_error", "null_event"],
)
def test_exactly_one_inference_log_line_per_call_with_every_key(app, capsys, event):
    ctx = context()
    app.lambda_handler(event, ctx)
    lines = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "inference"]
    assert len(lines) == 1
    assert set(lines[0]) == LOG_KEYS and lines[0]["requestId"] == ctx.aws_request_id


def test_model_error_log_line_names_the_error(table, capsys):
    load_app(table, FakeRuntime("ModelError")).lambda_handler({"features": [1, 2, 3, 4]}, context())
    (line,) = log_lines(capsys.readouterr().out)
    assert (line["status"], line["errorType"], line["variantName"]) == ("model_error", "ModelError", None)


def test_one_aws_request_per_inference_and_no_put_metric_data(app):
    operations, sent = [], []
    events = app.CLIENTS["dynamodb"].meta.events
    events.register("before-call", lambda model, **kw: operations.append(model.name))
    events.register("before-send", lambda request, **kw: sent.append(request.url))
    app.lambda_handler({"features": [1, 2, 3, 4]}, context())
    assert operations == ["PutItem"] and len(sent) == 1
    assert len(app.CLIENTS["sagemaker-runtime"].calls) == 1
    assert set(app.CLIENTS) == {"dynamodb", "sagemaker-runtime"}


def test_the_table_client_is_created_on_first_use_and_reused_warm(table):
    app = load_app(table)
    del app.CLIENTS["dynamodb"]
    first, second = context(), context()
    app.lambda_handler({"features": [1, 2, 3, 4]}, first)
    made = app.CLIENTS["dynamodb"]
    app.lambda_handler({"features": [1, 2, 3, 4]}, second)
    assert app.CLIENTS["dynamodb"] is made
    assert record(table, first.aws_request_id) and record(table, second.aws_request_id)


# ---------------------------------------------------------------- fuzz

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=20,
)
PAYLOADS = JSON_VALUES | st.fixed_dictionaries({"features": st.lists(SCALARS, min_size=3, max_size=5)})


def valid_features(payload) -> bool:
    """The contract, restated independently: a dict whose features are 4 finite numbers DynamoDB can hold."""
    if not isinstance(payload, dict) or not isinstance(payload.get("features"), list):
        return False
    values = payload["features"]
    return len(values) == 4 and all(
        not isinstance(v, bool)
        and isinstance(v, int | float)
        and (abs(v) < 10**38 if isinstance(v, int) else (v == 0 or 1e-130 <= abs(v) < 1e126))
        for v in values
    )


@pytest.fixture(scope="module")
def fuzz_app(table):
    return load_app(table)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=PAYLOADS, shape=st.sampled_from(["rest", "http", "body", "direct", "base64"]))
def test_fuzz_any_json_answers_200_exactly_when_valid_else_400_and_every_record_is_writable(
    fuzz_app, payload, shape
):
    text = json.dumps(payload)
    request_id = "fuzz-" + uuid.uuid4().hex
    event = {
        "rest": lambda: rest_event(text, request_id),
        "http": lambda: http_event(text, request_id),
        "body": lambda: {"body": text},
        "direct": lambda: payload,
        "base64": lambda: rest_event(
            base64.b64encode(text.encode()).decode(), request_id, base64_encoded=True
        ),
    }[shape]()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        response = fuzz_app.lambda_handler(event, context())
    assert response["statusCode"] == (200 if valid_features(payload) else 400)
    if response["statusCode"] == 400:
        assert "error" in body_of(response), "a refused request must say why"
    assert not failure_lines(out.getvalue()), "every record must be accepted by DynamoDB"


@settings(max_examples=100, deadline=None)
@given(
    event=st.dictionaries(
        st.sampled_from(["body", "isBase64Encoded", "requestContext", "httpMethod", "version", "features"]),
        JSON_VALUES,
        max_size=6,
    )
    | JSON_VALUES
)
def test_fuzz_any_event_gets_a_proxy_response_never_a_500(fuzz_app, event):
    with contextlib.redirect_stdout(io.StringIO()):
        response = fuzz_app.lambda_handler(event, context())
    assert response["statusCode"] in (200, 400)
    assert isinstance(json.loads(response["body"]), dict)
