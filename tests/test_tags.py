"""Re-running a notebook never changes when the kit says a resource was created (its workshop-created-at tag)."""

from __future__ import annotations

import uuid

import boto3

from helpers import logs


def test_ensuring_a_log_group_again_keeps_its_created_at_tag_and_adds_missing_ones(local_cloud):
    name = f"/aws/lambda/tags-{uuid.uuid4().hex[:8]}"
    logs.ensure_log_group(name, 14, {"workshop-created-at": "2026-11-29T10:00:00Z"})

    logs.ensure_log_group(name, 14, {"workshop-created-at": "2026-11-29T11:00:00Z", "workshop-kit": "ml-pipeline-ch8"})

    client = boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1")
    assert client.list_tags_log_group(logGroupName=name)["tags"] == {
        "workshop-created-at": "2026-11-29T10:00:00Z", "workshop-kit": "ml-pipeline-ch8"}
