"""The whole chapter-8 pipeline in the local cloud: the deployed handler, the real model, records, logs, alarms."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from contextlib import contextmanager

import boto3
import pytest
from kit_world import any_error_alarm, execution_role, records_table, served_model, serverless_endpoint
from lambda_events import rest_event
from notebook_source import queue_policy_request

from helpers import awslambda, dynamodb, model
from localcloud.cloudwatch.alarms import evaluator

REGION = "us-east-1"
PREFIX = f"pipe{uuid.uuid4().hex[:6]}"
HOSTILE_BODIES = {
    "malformed JSON": '{"features": [1, 2',
    "wrong type": '{"features": "1,2,3,4"}',
    "NaN": '{"features": [NaN, 1, 2, 3]}',
    "Infinity": '{"features": [Infinity, 1, 2, 3]}',
    "boolean": '{"features": [true, 1, 2, 3]}',
    "nested list": '{"features": [[1], 2, 3, 4]}',
    "three numbers": '{"features": [1, 2, 3]}',
    "empty body": "",
    "null": "null",
    "very large body": '{"features": [1, 2, 3, 4], "pad": "' + "x" * 200_000 + '"}',
    "deeply nested JSON": "[" * 5000 + "]" * 5000,
    "unicode": '{"features": ["①", 2, 3, 4]}',
}


@pytest.fixture(scope="module")
def aws(local_cloud):
    """Clients for the test's local cloud."""
    return {
        s: boto3.client(s, endpoint_url=local_cloud, region_name=REGION)
        for s in ("s3", "sagemaker", "iam", "lambda", "dynamodb", "logs", "cloudwatch", "sns", "sqs")
    }


def lambda_statements(prefix: str, account: str = "123456789012") -> list[dict]:
    """The chapter-8 function's permissions, on any table and endpoint of the prefix (tests point it at missing ones)."""
    return [
        {"Sid": "WriteRecords", "Effect": "Allow", "Action": "dynamodb:PutItem",
         "Resource": f"arn:aws:dynamodb:{REGION}:{account}:table/{prefix}-*"},
        {"Sid": "InvokeEndpoint", "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint",
         "Resource": f"arn:aws:sagemaker:{REGION}:{account}:endpoint/{prefix}-*"},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def pipeline(aws):
    """Bucket, model, endpoint, table and the chapter-8 function, as the notebooks build them."""
    trained = served_model(aws, PREFIX)
    role = execution_role(aws["iam"], f"{PREFIX}-role", "lambda.amazonaws.com", *lambda_statements(PREFIX))
    # The bad deploy of 8.2 and 8.3: version 2 knows three features, the handler sends four.
    bucket = f"{PREFIX}-artifacts"  # served_model's
    aws["s3"].put_object(
        Bucket=bucket, Key="v2/model.tar.gz", Body=model.train(features=model.FEATURES_V2).artifact
    )
    read_v2 = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/v2/model.tar.gz",
    }
    v2_role = execution_role(aws["iam"], f"{PREFIX}-v2-sagemaker", "sagemaker.amazonaws.com", read_v2)
    bad_endpoint = serverless_endpoint(
        aws["sagemaker"], f"{PREFIX}-v2", v2_role, f"s3://{bucket}/v2/model.tar.gz"
    )
    table = records_table(aws["dynamodb"], f"{PREFIX}-records")["TableName"]
    function = f"{PREFIX}-inference"
    env = {
        "TABLE_NAME": table,
        "ENDPOINT_NAME": f"{PREFIX}-endpoint",
        "MODEL_VERSION": "1",
        "MODEL_NAME": f"{PREFIX}-model",
    }
    aws["lambda"].create_function(
        FunctionName=function,
        Runtime="python3.13",
        Role=role,
        Handler="app.lambda_handler",
        Timeout=30,
        Code={"ZipFile": awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"})},
        Environment={"Variables": env},
    )
    return {"function": function, "table": table, "env": env, "booster": model.load_booster(trained.artifact),
            "bad_endpoint": bad_endpoint}  # fmt: skip


def invoke(aws, pipeline, event: dict) -> tuple[dict, str | None]:
    """Invoke the deployed function; its proxy response (body decoded) and FunctionError."""
    answer = aws["lambda"].invoke(FunctionName=pipeline["function"], Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        return payload, answer["FunctionError"]
    return {**payload, "body": json.loads(payload["body"])}, None


@contextmanager
def environment(aws, pipeline, **changes: str):
    """The function runs with these environment variables changed, until the block ends."""
    variables = {**pipeline["env"], **changes}
    aws["lambda"].update_function_configuration(
        FunctionName=pipeline["function"], Environment={"Variables": variables}
    )
    try:
        yield
    finally:
        aws["lambda"].update_function_configuration(
            FunctionName=pipeline["function"], Environment={"Variables": pipeline["env"]}
        )


def stored(aws, pipeline, request_id: str) -> dict:
    item = aws["dynamodb"].get_item(
        TableName=pipeline["table"], Key={"requestId": {"S": request_id}}, ConsistentRead=True
    )
    return dynamodb.plain(item["Item"])


def test_the_deployed_handler_answers_the_real_models_prediction_and_records_it(aws, pipeline):
    request_id = str(uuid.uuid4())
    response, error = invoke(aws, pipeline, rest_event('{"features": [1890.0, 3, 0.91, 12]}', request_id))
    expected = model.predict(pipeline["booster"], [[1890.0, 3, 0.91, 12]])[0]
    assert error is None and response["statusCode"] == 200
    assert response["body"]["prediction"] == pytest.approx(expected, abs=1e-7)
    record = stored(aws, pipeline, request_id)
    assert record["status"] == "ok" and float(record["prediction"]) == response["body"]["prediction"]
    assert record["variantName"] == "AllTraffic" and record["modelVersion"] == "1"


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
def test_hostile_input_through_the_deployed_function_is_a_400_with_a_client_error_record(aws, pipeline, case):
    request_id = str(uuid.uuid4())
    response, error = invoke(aws, pipeline, rest_event(HOSTILE_BODIES[case], request_id))
    assert error is None, response
    assert response["statusCode"] == 400 and response["body"]["error"]
    record = stored(aws, pipeline, request_id)
    assert record["status"] == "client_error" and record["errorMessage"]


def test_broken_base64_is_a_400_with_a_client_error_record(aws, pipeline):
    request_id = str(uuid.uuid4())
    event = {**rest_event("", request_id), "body": "%%% not base64 %%%", "isBase64Encoded": True}
    response, error = invoke(aws, pipeline, event)
    assert error is None and response["statusCode"] == 400
    assert stored(aws, pipeline, request_id)["status"] == "client_error"


def test_n_requests_of_every_kind_make_exactly_n_records_with_their_statuses(aws, pipeline):
    kinds = {"ok": '{"features": [42.5, 14, 0.12, 900]}', "client_error": '{"features": [1, 2]}'}
    sent = {}
    for i in range(6):
        kind = "ok" if i % 2 else "client_error"
        request_id = f"{kind}-{uuid.uuid4()}"
        body, encoded = kinds[kind], i % 3 == 0
        body = base64.b64encode(body.encode()).decode() if encoded else body
        response, _ = invoke(aws, pipeline, rest_event(body, request_id, base64_encoded=encoded))
        sent[request_id] = kind
    statuses = {rid: stored(aws, pipeline, rid)["status"] for rid in sent}
    assert statuses == sent


def test_the_handler_holds_no_fault_injection():
    text = (awslambda.ROOT / "lambda" / "app.py").read_text()
    assert not re.search(r"\bFAULT_|inject|random\.random\(\) <", text, re.IGNORECASE)


def test_a_model_container_failure_is_a_502_with_a_model_error_record(aws, pipeline):
    request_id = str(uuid.uuid4())
    with environment(aws, pipeline, ENDPOINT_NAME=pipeline["bad_endpoint"]):
        response, error = invoke(aws, pipeline, rest_event('{"features": [1, 2, 3, 4]}', request_id))
    assert error is None and response["statusCode"] == 502
    record = stored(aws, pipeline, request_id)
    assert record["status"] == "model_error" and record["errorType"] == "ModelError"
    assert "Received client error (400)" in record["errorMessage"]


def test_a_model_failure_is_a_502_with_a_model_error_record(aws, pipeline):
    request_id = str(uuid.uuid4())
    with environment(aws, pipeline, ENDPOINT_NAME=f"{PREFIX}-missing-endpoint"):
        response, error = invoke(aws, pipeline, rest_event('{"features": [1, 2, 3, 4]}', request_id))
    assert error is None and response["statusCode"] == 502
    record = stored(aws, pipeline, request_id)
    assert record["status"] == "model_error" and record["errorType"] == "ValidationError"


def test_a_retried_event_makes_one_record_and_answers_the_same_request_id(aws, pipeline):
    request_id = str(uuid.uuid4())
    first, _ = invoke(aws, pipeline, rest_event('{"features": [1, 2, 3, 4]}', request_id))
    second, _ = invoke(aws, pipeline, rest_event('{"features": [1, 2, 3, 4]}', request_id))
    assert first["body"]["requestId"] == second["body"]["requestId"] == request_id
    found = aws["dynamodb"].query(
        TableName=pipeline["table"],
        KeyConditionExpression="requestId = :r",
        ExpressionAttributeValues={":r": {"S": request_id}},
    )
    assert found["Count"] == 1


def test_when_the_table_is_unavailable_the_prediction_is_returned_and_backfill_restores_the_record(
    aws, pipeline
):
    request_id = str(uuid.uuid4())
    with environment(aws, pipeline, TABLE_NAME=f"{PREFIX}-unavailable"):
        response, error = invoke(aws, pipeline, rest_event('{"features": [1, 2, 3, 4]}', request_id))
    assert error is None and response["statusCode"] == 200
    group = f"/aws/lambda/{pipeline['function']}"
    first = dynamodb.backfill_from_logs(
        group, pipeline["table"], client=aws["dynamodb"], logs_client=aws["logs"]
    )
    again = dynamodb.backfill_from_logs(
        group, pipeline["table"], client=aws["dynamodb"], logs_client=aws["logs"]
    )
    assert float(stored(aws, pipeline, request_id)["prediction"]) == response["body"]["prediction"]
    assert first["restored"] >= 1 and again["restored"] == 0


def test_model_errors_in_the_logs_fire_an_alarm_that_notifies_through_sns(aws, pipeline):
    group = f"/aws/lambda/{pipeline['function']}"
    namespace = f"Test/{PREFIX}"
    aws["logs"].put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern='{ $.event = "inference" && $.status = "model_error" }',
        metricTransformations=[
            {
                "metricName": "InferenceErrors",
                "metricNamespace": namespace,
                "metricValue": "1",
                "defaultValue": 0,
            }
        ],
    )
    topic = aws["sns"].create_topic(Name=f"{PREFIX}-alarms")["TopicArn"]
    queue = aws["sqs"].create_queue(QueueName=f"{PREFIX}-inbox")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws["sqs"].set_queue_attributes(**queue_policy_request(queue, queue_arn, topic))
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    name = f"{PREFIX}-errors"
    any_error_alarm(
        aws["cloudwatch"],
        name,
        namespace,
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    with environment(aws, pipeline, ENDPOINT_NAME=pipeline["bad_endpoint"]):
        for _ in range(3):
            invoke(aws, pipeline, rest_event('{"features": [1, 2, 3, 4]}'))
    after_this_minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(
        minutes=1, seconds=5
    )
    interval = evaluator.interval()
    evaluator.set_interval(3600)  # evaluate at our chosen time only, not also at the real one
    try:
        evaluator.evaluate_all(now=after_this_minute)
        state = aws["cloudwatch"].describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
        messages = (
            aws["sqs"]
            .receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2)
            .get("Messages", [])
        )
    finally:
        evaluator.set_interval(interval)
    notes = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    states = [n["NewStateValue"] for n in notes if n["AlarmName"] == name]
    assert state == "ALARM"
    # The background evaluator may have settled the new alarm to OK (no data yet) before: notified too.
    assert states.count("ALARM") == 1 and set(states) <= {"OK", "ALARM"}


def test_setup_reuses_an_existing_function_as_it_is_when_asked(aws, pipeline, local_cloud):
    before = aws["lambda"].get_function_configuration(FunctionName=pipeline["function"])
    other_code = awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "chapter7" / "app.py"})
    spec = {
        "FunctionName": pipeline["function"],
        "Role": before["Role"],
        "Handler": "app.lambda_handler",
        "Runtime": "python3.13",
    }
    kept = awslambda.ensure_function(spec, other_code, reuse_existing=True)
    assert kept["CodeSha256"] == before["CodeSha256"] != awslambda.code_sha256(other_code)
