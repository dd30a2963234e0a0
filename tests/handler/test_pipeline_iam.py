"""The real pipeline with the Lambda role's PutItem statement removed: AWS's failure, seen end to end in the local cloud.

The handler's write is refused (AccessDeniedException, as the role's session), the caller still gets its
prediction, the full record goes to the log as `metadata_write_failed`, and 8.3's write-failures metric
filter and alarm (10 s periods) go to ALARM. With 8.1's write policy put back, the record is written:
the notebooks' own policies are exactly what the handler needs.
"""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace

import boto3
import pytest
from kit_world import records_table, served_model
from lambda_events import rest_event
from notebook_source import assigned

from helpers import awslambda, config, iam, model, specs
from localcloud.cloudwatch.alarms import evaluator

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = f"iam{uuid.uuid4().hex[:6]}"
PERIOD = 10


@pytest.fixture(scope="module")
def aws(local_cloud):
    return {
        s: boto3.client(s, endpoint_url=local_cloud, region_name=REGION)
        for s in ("s3", "sagemaker", "iam", "lambda", "dynamodb", "logs", "cloudwatch")
    }


@pytest.fixture(scope="module")
def stack(aws):
    """Model, endpoint and table as the notebooks build them; the function's role has 00_setup's policies only."""
    trained = served_model(aws, PREFIX, key="models/model.tar.gz")
    endpoint = aws["sagemaker"].describe_endpoint(EndpointName=f"{PREFIX}-endpoint")
    table = f"{PREFIX}-records"
    metadata_table = records_table(aws["dynamodb"], table)

    # 00_setup's role: trust, basic execution, the endpoint's invoke policy; 8.1's write policy left out.
    role = f"{PREFIX}-role"
    aws["iam"].create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps(assigned("00_setup", "trust_policy"))
    )
    aws["iam"].attach_role_policy(RoleName=role, PolicyArn=iam.BASIC_EXECUTION)
    aws["iam"].put_role_policy(
        RoleName=role,
        PolicyName="invoke-endpoint",
        PolicyDocument=json.dumps(
            assigned(
                "00_setup",
                "invoke_endpoint_policy",
                {"endpoint": SimpleNamespace(endpoint_arn=endpoint["EndpointArn"]), "specs": specs},
            )
        ),
    )
    function = f"{PREFIX}-inference"
    aws["lambda"].create_function(
        FunctionName=function, Runtime="python3.13", Role=aws["iam"].get_role(RoleName=role)["Role"]["Arn"],
        Handler="app.lambda_handler", Timeout=30,
        Code={"ZipFile": awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"})},
        Environment={"Variables": {"TABLE_NAME": table, "ENDPOINT_NAME": endpoint["EndpointName"], "MODEL_VERSION": "1",
                                   "MODEL_NAME": f"{PREFIX}-model"}},
    )  # fmt: skip
    write_policy = assigned(
        "8.1_create_dynamodb_table",
        "write_records_policy",
        {"metadata_table": {"TableArn": metadata_table["TableArn"]}, "specs": specs},
    )
    return SimpleNamespace(
        function=function,
        role=role,
        table=table,
        group=f"/aws/lambda/{function}",
        write_policy=write_policy,
        booster=model.load_booster(trained.artifact),
    )


@pytest.fixture(scope="module")
def write_failures_alarm(aws, stack):
    """8.3's MetadataWriteFailures metric filter and alarm on the function's log group, 10 s periods."""
    namespace = f"MLWorkshop/{PREFIX}"
    names = config.Names(PREFIX)  # the function is f"{PREFIX}-inference", as the notebooks name it
    [metric_filter] = [
        f for f in specs.metric_filters(namespace) if f["filterName"] == "metadata-write-failures"
    ]
    [spec] = [s for s in specs.alarms(names, PERIOD, "", []) if s["MetricName"] == "MetadataWriteFailures"]
    spec = {**spec, "AlarmActions": [], "OKActions": []}
    aws["logs"].create_log_group(logGroupName=stack.group)
    aws["logs"].put_metric_filter(logGroupName=stack.group, **metric_filter)
    aws["cloudwatch"].put_metric_alarm(**{k: v for k, v in spec.items() if k != "Tags"})
    return spec["AlarmName"]


def invoke(aws, stack, features: list[float]) -> tuple[str, dict]:
    request_id = str(uuid.uuid4())
    answer = aws["lambda"].invoke(
        FunctionName=stack.function,
        Payload=json.dumps(rest_event(json.dumps({"features": features}), request_id)),
    )
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return request_id, {**payload, "body": json.loads(payload["body"])}


def failed_writes(aws, stack, request_id: str) -> list[dict]:
    events = aws["logs"].filter_log_events(
        logGroupName=stack.group, filterPattern='{ $.event = "metadata_write_failed" }'
    )
    lines = [json.loads(e["message"]) for e in events["events"]]
    return [line for line in lines if line["record"]["requestId"]["S"] == request_id]


def test_without_put_item_the_caller_still_gets_its_prediction_and_the_record_is_logged(
    aws, stack, write_failures_alarm
):
    features = [1890.0, 3, 0.91, 12]
    request_id, response = invoke(aws, stack, features)
    assert response["statusCode"] == 200
    assert response["body"]["prediction"] == pytest.approx(
        model.predict(stack.booster, [features])[0], abs=1e-7
    )
    [line] = failed_writes(aws, stack, request_id)
    assert line["error"] == (
        f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{stack.role}/{stack.function} is not "
        f"authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{stack.table} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert "Item" not in aws["dynamodb"].get_item(TableName=stack.table, Key={"requestId": {"S": request_id}})


def test_the_write_failures_alarm_goes_to_alarm(aws, stack, write_failures_alarm):
    previous = evaluator.interval()
    evaluator.set_interval(1)
    try:
        for _ in range(3):
            invoke(aws, stack, [42.5, 14, 0.12, 900])
        deadline = time.time() + 6 * PERIOD
        state = None
        while time.time() < deadline:
            state = aws["cloudwatch"].describe_alarms(AlarmNames=[write_failures_alarm])["MetricAlarms"][0][
                "StateValue"
            ]
            if state == "ALARM":
                break
            time.sleep(0.5)
    finally:
        evaluator.set_interval(previous)
    assert state == "ALARM"


def test_with_the_write_policy_of_8_1_the_record_is_written(aws, stack, write_failures_alarm):
    aws["iam"].put_role_policy(
        RoleName=stack.role,
        PolicyName="write-inference-records",
        PolicyDocument=json.dumps(stack.write_policy),
    )
    try:
        request_id, response = invoke(aws, stack, [1, 2, 3, 4])
        assert response["statusCode"] == 200 and failed_writes(aws, stack, request_id) == []
        item = aws["dynamodb"].get_item(
            TableName=stack.table, Key={"requestId": {"S": request_id}}, ConsistentRead=True
        )
        assert item["Item"]["status"]["S"] == "ok"
    finally:
        aws["iam"].delete_role_policy(RoleName=stack.role, PolicyName="write-inference-records")
