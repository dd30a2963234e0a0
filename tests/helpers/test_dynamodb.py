"""helpers.dynamodb against the local cloud: tables from a spec, batches, backfill, the IAM wildcard check."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from notebook_source import assigned

from helpers import dynamodb
from helpers.dynamodb import backfill, records


@pytest.fixture()
def ddb(local_cloud):
    return boto3.client("dynamodb")


@pytest.fixture()
def table(ddb, metadata_spec):
    """A fresh metadata table made by ensure_table."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.ensure_table(metadata_spec(name), client=ddb)
    return name


def test_the_tests_table_spec_is_the_one_the_8_1_notebook_shows(metadata_spec):
    scope = {"names": SimpleNamespace(metadata_table="t-spec"), "tags": []}
    notebook = "8.1_create_dynamodb_table"
    shown = {
        **assigned(notebook, "metadata_table_spec", scope),
        **assigned(notebook, "metadata_ttl_spec", scope),
        **assigned(notebook, "metadata_pitr_spec", scope),
    }
    ours = metadata_spec("t-spec")
    assert {k: v for k, v in shown.items() if k != "Tags"} == {k: v for k, v in ours.items() if k != "Tags"}


def item(request_id: str, **extra) -> dict:
    return {"requestId": {"S": request_id}, "status": {"S": "ok"}, "prediction": {"N": "0.1"}, **extra}


def test_ensure_table_creates_the_table_as_specified(ddb, table):
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["KeySchema"] == [{"AttributeName": "requestId", "KeyType": "HASH"}]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [ix["IndexName"] for ix in described["GlobalSecondaryIndexes"]] == ["endpointName-timestamp-index"]


def test_ensure_table_turns_on_ttl_and_point_in_time_recovery(ddb, table):
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_ensure_table_tags_the_table(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags["workshop-kit"] == "ml-pipeline-ch8"


def test_ensure_table_rerun_changes_nothing(ddb, table, metadata_spec, capsys):
    before = ddb.describe_table(TableName=table)["Table"]
    again = dynamodb.ensure_table(metadata_spec(table), client=ddb)
    assert again["CreationDateTime"] == before["CreationDateTime"]
    assert again["TableArn"] == before["TableArn"]
    out = capsys.readouterr().out
    assert "matches the spec" in out and "already enabled" in out and "already on" in out


def test_ensure_table_enables_ttl_and_pitr_on_an_existing_table_without_them(ddb, metadata_spec):
    name = f"t-{uuid.uuid4().hex[:10]}"
    spec = metadata_spec(name)
    bare = {k: v for k, v in spec.items() if not k.endswith("Specification")}
    ddb.create_table(**bare)
    dynamodb.ensure_table(spec, client=ddb)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_ensure_table_names_each_difference_of_an_existing_table(ddb, metadata_spec):
    name = f"t-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    with pytest.raises(dynamodb.TableMismatchError) as raised:
        dynamodb.ensure_table(metadata_spec(name), client=ddb)
    message = str(raised.value)
    for expected in (
        "key schema",
        "attribute definitions",
        "billing mode",
        "endpointName-timestamp-index",
        "cleanup",
    ):
        assert expected in message


def test_ensure_table_reports_a_different_index_projection(ddb, table, metadata_spec):
    spec = metadata_spec(table)
    spec["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    with pytest.raises(dynamodb.TableMismatchError, match="endpointName-timestamp-index"):
        dynamodb.ensure_table(spec, client=ddb)


def test_put_record_writes_once_and_reports_a_duplicate(ddb, table):
    assert records.put_record(table, item("r1"), client=ddb) is True
    assert records.put_record(table, item("r1", status={"S": "changed"}), client=ddb) is False
    assert records.get_record(table, "r1", client=ddb)["status"] == {"S": "ok"}


def test_plain_keeps_numbers_exact(ddb, table):
    records.put_record(table, item("r2"), client=ddb)
    assert str(dynamodb.plain(records.get_record(table, "r2", client=ddb))["prediction"]) == "0.1"


def test_batch_write_writes_more_than_25_items_in_batches(ddb, table):
    items = [item(f"b{i}") for i in range(60)]
    summary = dynamodb.batch_write(table, items, client=ddb)
    assert summary["batches"] == 3
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 60


class UnprocessingClient:
    """Wraps a DynamoDB client; its first batch calls leave some items unprocessed (not written)."""

    def __init__(self, real, failing_calls: int) -> None:
        self.real, self.failing_calls, self.calls = real, failing_calls, 0

    def batch_write_item(self, RequestItems):
        self.calls += 1
        if self.calls > self.failing_calls:
            return self.real.batch_write_item(RequestItems=RequestItems)
        ((table, requests),) = RequestItems.items()
        half = len(requests) // 2 or 1
        self.real.batch_write_item(RequestItems={table: requests[:half]})
        return {"UnprocessedItems": {table: requests[half:]} if requests[half:] else {}}


def test_batch_write_retries_unprocessed_items_with_backoff(ddb, table):
    delays = []
    wrapped = UnprocessingClient(ddb, failing_calls=3)
    summary = dynamodb.batch_write(
        table, [item(f"u{i}") for i in range(30)], client=wrapped, sleep=delays.append
    )
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 30
    assert summary["retries"] == len(delays) >= 2
    assert delays == sorted(delays)


def test_batch_write_gives_up_after_bounded_attempts_with_the_rest(ddb, table):
    wrapped = UnprocessingClient(ddb, failing_calls=10**6)
    with pytest.raises(dynamodb.BatchWriteError) as raised:
        dynamodb.batch_write(
            table, [item(f"g{i}") for i in range(8)], client=wrapped, max_attempts=3, sleep=lambda s: None
        )
    assert wrapped.calls == 3
    written = ddb.scan(TableName=table, Select="COUNT")["Count"]
    assert written + len(raised.value.unprocessed) == 8


def test_batch_write_with_parallel_workers_writes_every_item_and_reports_each_batch(ddb, table):
    written = []
    summary = dynamodb.batch_write(
        table, [item(f"p{i}") for i in range(110)], client=ddb, workers=4, on_written=written.append
    )
    assert sorted(written) == [10, 25, 25, 25, 25] and summary["batches"] == 5
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 110


class ThrottlingClient:
    """Wraps a DynamoDB client; its first batch calls fail as a throttled table answers."""

    def __init__(self, real, code: str, failing_calls: int) -> None:
        self.real, self.code, self.failing_calls, self.calls = real, code, failing_calls, 0

    def batch_write_item(self, RequestItems):
        self.calls += 1
        if self.calls <= self.failing_calls:
            raise ClientError({"Error": {"Code": self.code, "Message": "slow down"}}, "BatchWriteItem")
        return self.real.batch_write_item(RequestItems=RequestItems)


def test_batch_write_retries_a_throttled_request(ddb, table):
    throttled = ThrottlingClient(ddb, "ProvisionedThroughputExceededException", failing_calls=2)
    summary = dynamodb.batch_write(
        table, [item(f"t{i}") for i in range(5)], client=throttled, sleep=lambda s: None
    )
    assert summary["retries"] == 2 and ddb.scan(TableName=table, Select="COUNT")["Count"] == 5


def test_batch_write_does_not_retry_an_error_that_is_not_transient(ddb, table):
    refused = ThrottlingClient(ddb, "ValidationException", failing_calls=1)
    with pytest.raises(ClientError, match="ValidationException"):
        dynamodb.batch_write(table, [item("v1")], client=refused, sleep=lambda s: None)
    assert refused.calls == 1


def failure_line(request_id: str) -> str:
    record = item(request_id, timestamp={"S": "2026-11-27T12:00:00.123Z"}, features={"L": [{"N": "0.1"}]})
    return json.dumps(
        {"event": "metadata_write_failed", "record": record, "error": "ThrottlingException: slow"}
    )


@pytest.fixture()
def failure_logs(local_cloud):
    """A log group with two failure lines, one inference line and one unrelated line."""
    logs = boto3.client("logs")
    group = f"/aws/lambda/t-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    messages = [
        failure_line("lost-1"),
        json.dumps({"event": "inference", "requestId": "lost-1", "status": "ok"}),
        "START RequestId: lost-2 Version: $LATEST",
        failure_line("lost-2"),
    ]
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )
    return group


def test_backfill_restores_every_logged_record(ddb, table, failure_logs):
    summary = dynamodb.backfill_from_logs(failure_logs, table, client=ddb)
    assert (summary["events"], summary["restored"], summary["skipped"]) == (2, 2, 0)
    restored = records.get_record(table, "lost-1", client=ddb)
    assert restored["features"] == {"L": [{"N": "0.1"}]}


def test_backfill_again_skips_what_is_present_and_duplicates_nothing(ddb, table, failure_logs):
    dynamodb.backfill_from_logs(failure_logs, table, client=ddb)
    summary = dynamodb.backfill_from_logs(failure_logs, table, client=ddb)
    assert (summary["restored"], summary["skipped"]) == (0, 2)
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 2


def test_backfill_honours_the_start_time(ddb, table, failure_logs):
    summary = dynamodb.backfill_from_logs(
        failure_logs, table, start_time=int(time.time() * 1000) + 3_600_000, client=ddb
    )
    assert summary["events"] == 0


def test_backfill_of_a_missing_log_group_says_so(ddb, table):
    with pytest.raises(LookupError, match="does not exist"):
        dynamodb.backfill_from_logs("/aws/lambda/nobody", table, client=ddb)


def test_failure_record_ignores_other_lines():
    assert backfill.failure_record('{"event": "inference"}') is None
    assert backfill.failure_record("not json {") is None
    assert backfill.failure_record("[INFO]\t2026\tid\t" + failure_line("x"))["requestId"] == {"S": "x"}


LEAST_PRIVILEGE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "WriteInferenceRecords",
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t-inference-metadata",
        },
        {
            "Sid": "InvokeModel",
            "Effect": "Allow",
            "Action": ["sagemaker:InvokeEndpoint"],
            "Resource": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/t-classifier-endpoint",
        },
    ],
}


def test_wildcard_violations_accepts_the_least_privilege_policy():
    assert dynamodb.wildcard_violations(LEAST_PRIVILEGE) == []
    assert dynamodb.wildcard_violations(json.dumps(LEAST_PRIVILEGE)) == []


@pytest.mark.parametrize("action", ["*", "dynamodb:*", "sagemaker:*", "dynamodb:Put*"])
def test_wildcard_violations_names_a_wildcard_action(action):
    policy = {
        "Statement": [
            {"Sid": "Broad", "Effect": "Allow", "Action": action, "Resource": "arn:aws:dynamodb:::table/x"}
        ]
    }
    (violation,) = [v for v in dynamodb.wildcard_violations(policy) if "action" in v]
    assert "Broad" in violation and repr(action) in violation


@pytest.mark.parametrize("resource", ["*", "arn:aws:dynamodb:us-east-1:123456789012:table/*"])
def test_wildcard_violations_names_a_wildcard_resource_on_data(resource):
    policy = {"Statement": {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": resource}}
    assert dynamodb.wildcard_violations(policy) == [
        f"statement 1: resource {resource!r} is a wildcard for dynamodb:PutItem; name the table's or endpoint's ARN"
    ]


def test_wildcard_violations_allows_log_writing_and_deny_statements():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:::table/t/index/*"},
        ]
    }
    assert dynamodb.wildcard_violations(policy) == []


def test_wildcard_violations_flags_not_action():
    policy = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}]}
    assert any("NotAction" in v for v in dynamodb.wildcard_violations(policy))


def test_client_errors_other_than_a_missing_table_are_raised(local_cloud, metadata_spec):
    class Denied:
        def describe_table(self, TableName):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeTable")

    with pytest.raises(ClientError, match="AccessDenied"):
        dynamodb.ensure_table(metadata_spec("x"), client=Denied())
