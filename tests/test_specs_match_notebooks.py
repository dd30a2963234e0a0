"""The template's specs (helpers.specs) are the requests the notebooks show, so the two cannot drift.

The notebooks keep each request as a literal in its cell, the lesson; `python -m helpers template`
builds the stack from helpers.specs. Each test evaluates a notebook's literal and compares it with
the spec function for the same names.
"""

from __future__ import annotations

from types import SimpleNamespace

from notebook_source import assigned

from helpers import config, specs

NAMES = config.Names("jane-doe")
TAGS = [{"Key": "workshop-kit", "Value": "ml-pipeline-ch8"}, {"Key": "workshop-prefix", "Value": "jane-doe"}]
SETTINGS = SimpleNamespace(tags=lambda: {t["Key"]: t["Value"] for t in TAGS}, tag_list=lambda: TAGS)


def test_the_metadata_table_request_is_the_templates():
    scope = {"names": NAMES, "tags": TAGS, "settings": SETTINGS}
    shown = assigned("8.1_create_dynamodb_table", "metadata_table_spec", scope)
    spec = specs.metadata_table(NAMES, TAGS)
    assert {k: v for k, v in spec.items() if k in shown} == shown


def test_the_registry_table_request_is_the_templates():
    scope = {"names": NAMES, "tags": TAGS, "settings": SETTINGS}
    shown = assigned("8.1_create_dynamodb_table", "registry_table_spec", scope)
    spec = specs.registry_table(NAMES, TAGS)
    assert {k: v for k, v in spec.items() if k in shown} == shown


def test_the_write_policy_is_the_templates():
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/jane-doe-inference-metadata"
    shown = assigned(
        "8.1_create_dynamodb_table", "write_records_policy", {"metadata_table": {"TableArn": table_arn}}
    )
    assert shown == specs.write_records_policy(table_arn)


def test_the_metric_filters_are_the_templates():
    namespace = NAMES.metric_namespace
    patterns = {
        f["metricTransformations"][0]["metricName"]: f["filterPattern"]
        for f in specs.metric_filters(namespace)
    }
    scope = {"names": NAMES, "patterns": patterns, "namespace": namespace}
    shown = assigned("8.3_monitor_with_cloudwatch", "metric_filters", scope)
    assert [{k: v for k, v in f.items() if k != "logGroupName"} for f in shown] == specs.metric_filters(
        namespace
    )


def test_the_queue_policy_is_the_templates():
    queue_arn, topic_arn = "arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sns:us-east-1:123456789012:t"
    shown = assigned(
        "8.3_monitor_with_cloudwatch", "queue_policy", {"queue_arn": queue_arn, "topic_arn": topic_arn}
    )
    assert shown == specs.queue_policy(queue_arn, topic_arn)
