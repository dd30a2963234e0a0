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


def _api_scope() -> dict:
    """What 00_setup's API requests read: the names, the API AWS answered, the function, the helpers they call."""
    apigateway = SimpleNamespace(STAGE=specs.API_STAGE, lambda_uri=lambda arn: f"uri-of:{arn}")
    session = SimpleNamespace(arn=lambda service, resource: f"arn:{service}:{resource}")
    return {"names": NAMES, "settings": SETTINGS, "api": {"id": "a1", "rootResourceId": "r0"},
            "function": {"FunctionArn": "fn-arn"}, "apigateway": apigateway, "session": session}  # fmt: skip


def test_the_rest_api_request_is_the_templates():
    shown = assigned("00_setup", "api_spec", _api_scope())
    assert shown == specs.rest_api(NAMES, SETTINGS.tags())


def test_the_predict_resource_method_and_integration_requests_are_the_templates():
    scope = _api_scope()
    assert assigned("00_setup", "resource_spec", scope) == specs.predict_resource("a1", "r0")
    assert assigned("00_setup", "method_spec", scope) == specs.predict_method("a1", "")
    assert assigned("00_setup", "integration_spec", scope) == specs.proxy_integration(
        "a1", "", "uri-of:fn-arn"
    )


def test_the_invoke_permission_and_deployment_requests_are_the_templates():
    scope = _api_scope()
    source = "arn:execute-api:a1/*/POST/predict"
    statement = f"{NAMES.api}-invoke"
    assert assigned("00_setup", "permission_spec", scope) == specs.invoke_permission(
        NAMES.function, statement, source
    )
    assert assigned("00_setup", "deployment_spec", scope) == specs.deployment("a1")


def _alarm_scope() -> dict:
    """What 8.3's alarm and dashboard requests read."""
    topic = "arn:aws:sns:us-east-1:123456789012:t"
    return {"names": NAMES, "namespace": NAMES.metric_namespace, "ALARM_PERIOD": 60, "tags": TAGS,
            "actions": {"AlarmActions": [topic], "OKActions": [topic]}}  # fmt: skip


def test_the_alarm_requests_are_the_templates():
    shown = assigned("8.3_monitor_with_cloudwatch", "alarm_specs", _alarm_scope())
    assert shown == specs.alarms(NAMES, 60, "arn:aws:sns:us-east-1:123456789012:t", TAGS)


def test_the_dashboard_body_is_the_templates():
    alarms = specs.alarms(NAMES, 60, "t", TAGS)
    by_metric = {a["MetricName"]: a for a in alarms}
    arns = [f"arn:alarm:{a['AlarmName']}" for a in alarms]
    scope = {**_alarm_scope(), "alarm_specs": alarms, "settings": SimpleNamespace(region="eu-west-1"),
             "session": SimpleNamespace(arn=lambda service, resource: f"arn:{resource}"),
             "threshold_line": lambda metric: specs.threshold_line(by_metric[metric]),
             "lambda_dims": ["FunctionName", NAMES.function],
             "endpoint_dims": ["EndpointName", NAMES.endpoint, "VariantName", "AllTraffic"],
             "api_dims": ["ApiName", NAMES.api, "Stage", "prod"]}  # fmt: skip
    shown = assigned("8.3_monitor_with_cloudwatch", "dashboard_body", scope)
    assert shown == specs.dashboard(NAMES, "eu-west-1", 60, alarms, arns)
