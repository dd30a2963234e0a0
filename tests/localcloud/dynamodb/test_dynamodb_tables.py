"""The local cloud's DynamoDB tables pass through CREATING, refuse early PITR and TTL changes as AWS does."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
from aws_errors import error_of
from botocore.exceptions import ClientError

from localcloud import profile


@pytest.fixture()
def ddb(local_cloud):
    return boto3.client("dynamodb", endpoint_url=local_cloud, region_name="us-east-1")


@pytest.fixture()
def aws_profile():
    """AWS's delays at 1/5: CREATING 0.6-3 s, PITR unavailable 2-12 s after creation (long against load jitter)."""
    old = profile.use(profile.Profile(name="aws", seed=1, scale=0.2, quotas=profile.from_env({}).quotas))
    yield
    profile.use(old)


class FixedDelays(profile.Profile):
    """The aws profile with chosen delays, for tests that need one delay to outlast another."""

    def __init__(self, delays: dict[str, float]) -> None:
        super().__init__(name="aws", seed=1, scale=1.0, quotas=profile.from_env({}).quotas)
        self.fixed = delays

    def delay(self, kind: str, key: str = "") -> float:
        return self.fixed.get(kind, 0.0)


@pytest.fixture()
def slow_backups():
    """CREATING for 0.3 s, backups available 5 s after creation (longer than the kit's first wait)."""
    old = profile.use(FixedDelays({"table_create": 0.3, "pitr_unavailable": 5.0}))
    yield
    profile.use(old)


@pytest.fixture()
def local_profile():
    old = profile.use(profile.Profile(name="local", seed=1, scale=1.0, quotas=profile.from_env({}).quotas))
    yield
    profile.use(old)


def create(ddb, metadata_spec) -> tuple[str, dict]:
    """Create an 8.1 metadata table; return its name and CreateTable's TableDescription."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    spec = metadata_spec(name)
    spec.pop("TimeToLiveSpecification")
    spec.pop("PointInTimeRecoverySpecification")
    return name, ddb.create_table(**spec)["TableDescription"]


def wait_active(ddb, name: str, timeout_s: float = 10) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        table = ddb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE":
            return table
        time.sleep(0.05)
    raise AssertionError(f"{name} never became ACTIVE")


ITEM = {"requestId": {"S": "r1"}, "endpointName": {"S": "e"}, "timestamp": {"S": "2026-11-27T12:00:00.000Z"}}
PITR_ON = {"PointInTimeRecoveryEnabled": True}
TTL_ON = {"Enabled": True, "AttributeName": "expiresAt"}


# -- CREATING under the aws profile -----------------------------------------------------------------


def test_create_table_answers_creating(ddb, metadata_spec, aws_profile):
    _, described = create(ddb, metadata_spec)
    assert described["TableStatus"] == "CREATING"


def test_a_new_table_is_creating_then_active(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "CREATING"
    assert wait_active(ddb, name)["TableStatus"] == "ACTIVE"


def test_global_indexes_are_creating_while_the_table_is_created(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    indexes = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert [ix["IndexStatus"] for ix in indexes] == ["CREATING"]
    assert [ix["IndexStatus"] for ix in wait_active(ddb, name)["GlobalSecondaryIndexes"]] == ["ACTIVE"]


def test_the_table_exists_waiter_waits_for_active(ddb, metadata_spec, aws_profile):
    name, described = create(ddb, metadata_spec)
    assert described["TableStatus"] == "CREATING"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


def test_writing_to_a_creating_table_answers_resource_not_found(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    code, message = error_of(lambda: ddb.put_item(TableName=name, Item=ITEM))
    assert (code, message) == ("ResourceNotFoundException", "Requested resource not found")


def test_batch_writes_to_a_creating_table_answer_resource_not_found(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    code, _ = error_of(lambda: ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": ITEM}}]}))
    assert code == "ResourceNotFoundException"


def test_writes_succeed_once_the_table_is_active(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    wait_active(ddb, name)
    ddb.put_item(TableName=name, Item=ITEM)
    assert ddb.get_item(TableName=name, Key={"requestId": {"S": "r1"}})["Item"] == ITEM


def test_point_in_time_recovery_is_unavailable_soon_after_creation(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    call = lambda: ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=PITR_ON)  # noqa: E731
    assert error_of(call) == (
        "ContinuousBackupsUnavailableException",
        f"Backups are being enabled for the table: {name}. Please retry later",
    )


def test_point_in_time_recovery_becomes_available_after_a_while(ddb, metadata_spec, aws_profile):
    name, _ = create(ddb, metadata_spec)
    deadline = time.monotonic() + 20
    while True:
        try:
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=PITR_ON)
            break
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ContinuousBackupsUnavailableException"
            assert time.monotonic() < deadline, "backups never became available"
            time.sleep(0.1)
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


# -- strict in both profiles ------------------------------------------------------------------------


def test_under_the_local_profile_a_new_table_is_active_at_once(ddb, metadata_spec, local_profile):
    _, described = create(ddb, metadata_spec)
    assert described["TableStatus"] == "ACTIVE"


def test_creating_an_existing_table_is_refused(ddb, metadata_spec, local_profile):
    name, _ = create(ddb, metadata_spec)
    spec = metadata_spec(name)
    spec.pop("TimeToLiveSpecification")
    spec.pop("PointInTimeRecoverySpecification")
    assert error_of(lambda: ddb.create_table(**spec))[0] == "ResourceInUseException"


def test_enabling_ttl_that_is_already_enabled_is_refused(ddb, metadata_spec, local_profile):
    name, _ = create(ddb, metadata_spec)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=TTL_ON)
    call = lambda: ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=TTL_ON)  # noqa: E731
    assert error_of(call) == ("ValidationException", "TimeToLive is already enabled")


def test_disabling_ttl_that_is_not_enabled_is_refused(ddb, metadata_spec, local_profile):
    name, _ = create(ddb, metadata_spec)
    disable = {**TTL_ON, "Enabled": False}
    call = lambda: ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=disable)  # noqa: E731
    assert error_of(call) == ("ValidationException", "TimeToLive is already disabled")


def test_a_second_ttl_change_within_the_hour_is_refused(ddb, metadata_spec, local_profile):
    name, _ = create(ddb, metadata_spec)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=TTL_ON)
    disable = {**TTL_ON, "Enabled": False}
    call = lambda: ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=disable)  # noqa: E731
    assert error_of(call) == (
        "ValidationException",
        "Time to live has been modified multiple times within a fixed interval",
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def test_a_re_created_table_may_change_ttl_again(ddb, metadata_spec, local_profile):
    name, _ = create(ddb, metadata_spec)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=TTL_ON)
    ddb.delete_table(TableName=name)
    spec = metadata_spec(name)
    spec.pop("TimeToLiveSpecification")
    spec.pop("PointInTimeRecoverySpecification")
    ddb.create_table(**spec)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=TTL_ON)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


# -- the kit: helpers.dynamodb.ensure_table ---------------------------------------------------------


def test_ensure_table_waits_for_the_table_and_its_indexes_to_be_active(
    ddb, metadata_spec, slow_backups, capsys
):
    from helpers import dynamodb

    table = dynamodb.ensure_table(metadata_spec(f"t-{uuid.uuid4().hex[:10]}"), client=ddb)
    assert table["TableStatus"] == "ACTIVE"
    assert [ix["IndexStatus"] for ix in table["GlobalSecondaryIndexes"]] == ["ACTIVE"]
    assert "CREATING (indexes: CREATING), waiting" in capsys.readouterr().out


def test_ensure_table_retries_point_in_time_recovery_while_backups_are_enabled(
    ddb, metadata_spec, slow_backups, capsys
):
    from helpers import dynamodb

    name = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.ensure_table(metadata_spec(name), client=ddb)
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert "still enabling backups" in capsys.readouterr().out


def test_ensure_table_twice_leaves_ttl_alone(ddb, metadata_spec, local_profile, capsys):
    from helpers import dynamodb

    name = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.ensure_table(metadata_spec(name), client=ddb)
    dynamodb.ensure_table(
        metadata_spec(name), client=ddb
    )  # TTL may change once an hour: a second change would fail
    assert "TTL on expiresAt: already enabled" in capsys.readouterr().out


def test_ensure_table_explains_the_once_an_hour_ttl_limit(ddb, metadata_spec, local_profile):
    from helpers import dynamodb

    name = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.ensure_table(metadata_spec(name), client=ddb)
    spec = {
        **metadata_spec(name),
        "TimeToLiveSpecification": {"Enabled": False, "AttributeName": "expiresAt"},
    }
    with pytest.raises(dynamodb.TableMismatchError, match="one TTL change per table per hour"):
        dynamodb.ensure_table(spec, client=ddb)
