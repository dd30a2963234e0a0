"""helpers.trail: the AWS operations a cell made, by name, with identifiers and outcome, from botocore's events."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import trail


@pytest.fixture()
def ddb(local_cloud):
    client = boto3.client("dynamodb", endpoint_url=local_cloud, region_name="us-east-1")
    trail.attach(client.meta.events)
    return client


def test_a_recording_names_each_operation_with_its_identifiers_and_outcome(ddb):
    name = f"trail-{uuid.uuid4().hex[:8]}"
    with trail.recording() as made:
        with pytest.raises(ClientError):
            ddb.describe_table(TableName=name)
        ddb.list_tables()
    assert made.lines() == [
        f"dynamodb DescribeTable TableName={name} → ResourceNotFoundException",
        "dynamodb ListTables → ok",
    ]


def test_repeats_of_one_call_show_once_with_their_count(ddb):
    with trail.recording() as made:
        for _ in range(3):
            ddb.list_tables()
    assert made.lines() == ["dynamodb ListTables → ok ×3"]


def test_calls_from_background_threads_merge_by_operation(ddb):
    with trail.recording() as made:
        workers = [threading.Thread(target=ddb.list_tables) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert made.lines() == ["dynamodb ListTables → ok ×4"]


def test_nothing_is_recorded_outside_a_recording(ddb):
    ddb.list_tables()
    with trail.recording() as made:
        pass
    assert made.text() == ""


def test_the_trail_prints_under_its_title(ddb):
    with trail.recording() as made:
        ddb.list_tables()
    assert made.text() == "AWS operations in this cell:\n  dynamodb ListTables → ok"


def test_a_long_trail_is_shown_per_operation_and_outcome(ddb):
    with trail.recording() as made:
        for i in range(trail.MAX_LINES + 4):
            with pytest.raises(ClientError):
                ddb.describe_table(TableName=f"missing-{i}")
    assert made.lines() == [
        f"dynamodb DescribeTable → ResourceNotFoundException ×{trail.MAX_LINES + 4} (20 resources)"
    ]
