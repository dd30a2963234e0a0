"""Shared fixtures: a local cloud per test session, in this process, with every hook installed."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Tests never need real credentials and never reach AWS.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)


TEST_TAGS = [{"Key": "workshop-kit", "Value": "ml-pipeline-ch8"}, {"Key": "workshop-prefix", "Value": "t"}]


def _metadata_table_spec(name: str) -> dict:
    """Chapter 8.1's inference metadata table, read from its notebook cell, for a table called name: the
    CreateTable request plus the TTL and PITR settings of its UpdateTimeToLive and UpdateContinuousBackups
    requests (helpers.dynamodb.ensure_table applies them too)."""
    from notebook_source import assigned

    scope = {"names": SimpleNamespace(metadata_table=name), "tags": [dict(tag) for tag in TEST_TAGS]}
    notebook = "8.1_create_dynamodb_table"
    return {
        **assigned(notebook, "metadata_table_spec", scope),
        "TimeToLiveSpecification": assigned(notebook, "metadata_ttl_spec", scope)["TimeToLiveSpecification"],
        "PointInTimeRecoverySpecification": assigned(notebook, "metadata_pitr_spec", scope)[
            "PointInTimeRecoverySpecification"
        ],
    }


@pytest.fixture(scope="session")
def metadata_spec():
    """Makes the 8.1 inference metadata table spec: metadata_spec(name) -> a new dict, free to change."""
    return _metadata_table_spec


@pytest.fixture(scope="session")
def local_cloud():
    """A local cloud server (moto + the kit's hooks) on a free port; yields its URL."""
    from localcloud.server import InProcessCloud, wait_for_warm_up

    cloud = InProcessCloud(port=0).start()
    wait_for_warm_up()  # no test runs beside the background import of XGBoost and pandas (issue 19)
    old = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = cloud.url
    yield cloud.url
    if old is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = old
    cloud.stop()


@pytest.fixture()
def log_clients(local_cloud):
    """CloudWatch Logs and CloudWatch clients for the local cloud: (logs, cloudwatch)."""
    import boto3

    return (
        boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1"),
        boto3.client("cloudwatch", endpoint_url=local_cloud, region_name="us-east-1"),
    )


@pytest.fixture()
def log_group(log_clients):
    """A fresh log group with one stream, named s; yields the group's name."""
    import uuid

    logs, _ = log_clients
    name = f"/test/{uuid.uuid4().hex}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    return name


@pytest.fixture()
def reset_cloud(local_cloud):
    """Empty every service of the local cloud before the test (moto's reset API)."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{local_cloud}/moto-api/reset", method="POST")).read()
    yield local_cloud


# pytest-xdist (loadscope, with --no-loadscope-reorder, else it orders scopes by their number of tests) hands
# whole modules and classes to workers in collection order: the long notebook runs go first, one per worker,
# so none of them starts last and becomes the suite's critical path.
LONG_FIRST = ("test_notebooks.py", "test_attendee_identity.py", "test_browser.py", "test_bring_your_own.py",
              "test_prerequisites.py", "test_class_identity.py", "test_template.py")  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the long modules first (a stable sort: the order within each module stays as written)."""
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))


@pytest.fixture()
def kit_env(local_cloud, monkeypatch):
    """The kit's settings pointing at the local cloud, local mode, with a fresh prefix; yields the prefix."""
    from kit_world import forget_session, new_prefix, shared_session, use_local_cloud

    from helpers import session

    prefix = new_prefix()
    monkeypatch.setattr(session, "session", shared_session)
    use_local_cloud(monkeypatch, local_cloud, prefix)
    yield prefix
    monkeypatch.undo()
    os.environ["AWS_ENDPOINT_URL"] = local_cloud
    forget_session()
