"""API Gateway's data plane in the local cloud: a REST API's invoke URL runs its Lambda proxy integration as AWS does.

Each test names the AWS documentation page it follows (docs.aws.amazon.com/apigateway/latest/developerguide/...).
"""

from __future__ import annotations

import base64
import io
import json
import re
import textwrap
import urllib.error
import urllib.request
import uuid
import zipfile
from types import SimpleNamespace

import boto3
import pytest

from localcloud import client as local_client
from localcloud.apigateway import routing, throttle

REGION = "us-east-1"
ACCOUNT = "123456789012"
DOCS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
# The function answers what the request's body asks for: its event echoed, a given proxy response, a crash, a nap.
HANDLER = """
    import json, time

    def handler(event, context):
        ask = json.loads(event.get("body") or "{}") if not event.get("isBase64Encoded") else {}
        if "raw" in ask:
            return ask["raw"]
        if ask.get("crash"):
            raise RuntimeError("boom")
        if "sleep" in ask:
            time.sleep(ask["sleep"])
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""


def _zip(source: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
    return out.getvalue()


@pytest.fixture(scope="module")
def aws(local_cloud):
    """boto3 clients for the local cloud."""

    def make(service: str):
        return boto3.client(service, endpoint_url=local_cloud, region_name=REGION)

    return SimpleNamespace(
        url=local_cloud, lam=make("lambda"), agw=make("apigateway"), iam=make("iam"),
        cloudwatch=make("cloudwatch"), logs=make("logs"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def function_arn(aws) -> str:
    """A function behind the APIs (Timeout 5 s)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    name = f"test-agw-{uuid.uuid4().hex[:8]}"
    role = aws.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    made = aws.lam.create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="app.handler",
        Code={"ZipFile": _zip(HANDLER)}, Timeout=5,
    )  # fmt: skip
    return made["FunctionArn"]


def make_api(
    aws, function_arn: str, *, path_part: str = "predict", permit: bool = True, **integration
) -> SimpleNamespace:
    """A REST API with POST /{path_part} proxying to the function, deployed to stage prod; its invoke URL."""
    agw = aws.agw
    api = agw.create_rest_api(name=f"test-api-{uuid.uuid4().hex[:6]}")
    resource = agw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=path_part)
    agw.put_method(
        restApiId=api["id"], resourceId=resource["id"], httpMethod="POST", authorizationType="NONE"
    )
    agw.put_integration(
        restApiId=api["id"], resourceId=resource["id"], httpMethod="POST", type="AWS_PROXY",
        integrationHttpMethod=integration.pop("integrationHttpMethod", "POST"),
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        **integration,
    )  # fmt: skip
    if permit:
        aws.lam.add_permission(
            FunctionName=function_arn, StatementId=f"api-{api['id']}", Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['id']}/*/POST/{path_part.replace('{proxy+}', '*')}",
        )  # fmt: skip
    agw.create_deployment(restApiId=api["id"], stageName="prod")
    stage_url = local_client.invoke_url(aws.url, api["id"], "prod")
    return SimpleNamespace(
        id=api["id"], name=api["name"], stage_url=stage_url, url=f"{stage_url}/{path_part}"
    )


def call(url: str, body: object = None, method: str = "POST", headers: dict[str, str] | None = None):
    """(status, headers, body bytes) of one HTTP request."""
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.headers, failed.read()


@pytest.fixture(scope="module")
def api(aws, function_arn):
    """The chapter-7 shape: POST /predict with a Lambda proxy integration, stage prod."""
    return make_api(aws, function_arn)


def event_of(url: str, body: object = None, **kwargs) -> dict:
    status, _, raw = call(url, body if body is not None else {"echo": True}, **kwargs)
    assert status == 200, raw
    return json.loads(raw)


def test_invoke_url_runs_the_function_and_answers_its_proxy_response(api):
    """Set up Lambda proxy integrations: the function's statusCode, headers and body reach the client."""
    # DOCS + "set-up-lambda-proxy-integrations.html" (Output format of a Lambda function for proxy integration)
    status, headers, raw = call(api.url, {"features": [1, 2, 3, 4]})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(json.loads(raw)["body"]) == {"features": [1, 2, 3, 4]}


def test_proxy_event_has_the_rest_payload_format_with_null_for_what_the_request_lacks(api):
    """Input format of a Lambda function for proxy integration: every key, null (not {}) when empty."""
    # DOCS + "set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format"
    event = event_of(api.url)
    assert set(event) == {
        "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body",
        "isBase64Encoded",
    }  # fmt: skip
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/predict", "/predict", "POST")
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None and event["stageVariables"] is None
    assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"echo": True}


def test_request_context_names_the_stage_the_resource_and_the_caller(api):
    """Input format: requestContext with stage, resourcePath, path with the stage, identity, CLF time, epoch ms."""
    # DOCS + "set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format"
    context = event_of(api.url, headers={"User-Agent": "chapter-7-client"})["requestContext"]
    assert (context["stage"], context["resourcePath"], context["path"]) == (
        "prod",
        "/predict",
        "/prod/predict",
    )
    assert (context["apiId"], context["accountId"], context["httpMethod"]) == (api.id, ACCOUNT, "POST")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "chapter-7-client" and context["identity"]["user"] is None
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["requestTime"])
    assert isinstance(context["requestTimeEpoch"], int) and context["protocol"].startswith("HTTP/1.")


def test_request_ids_in_the_event_are_the_ones_the_client_gets_back(api):
    """Access logging: requestId is x-amzn-RequestId, extendedRequestId is x-amz-apigw-id."""
    # DOCS + "set-up-access-logging.html"
    status, headers, raw = call(api.url, {"echo": True})
    context = json.loads(raw)["requestContext"]
    assert status == 200 and str(uuid.UUID(context["requestId"])) == context["requestId"]
    assert headers["x-amzn-RequestId"] == context["requestId"]
    assert headers["x-amz-apigw-id"] == context["extendedRequestId"]


def test_a_client_may_set_the_request_id_with_a_uuid(api):
    """Access logging: clients can override x-amzn-RequestId with a UUID; anything else gets a new one."""
    # DOCS + "set-up-access-logging.html"
    mine = str(uuid.uuid4())
    assert event_of(api.url, headers={"x-amzn-RequestId": mine})["requestContext"]["requestId"] == mine
    other = event_of(api.url, headers={"x-amzn-RequestId": "not-a-uuid"})["requestContext"]["requestId"]
    assert other != "not-a-uuid" and uuid.UUID(other)


def test_multi_value_headers_and_query_parameters_keep_every_value(api):
    """Support for multi-value headers and query string parameters: single maps keep the last value."""
    # DOCS + "set-up-lambda-proxy-integrations.html#apigateway-multivalue-headers-and-parameters"
    event = event_of(f"{api.url}?model=v1&tag=a&tag=b")
    assert event["queryStringParameters"] == {"model": "v1", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"model": ["v1"], "tag": ["a", "b"]}
    assert event["multiValueHeaders"]["User-Agent"] == [event["headers"]["User-Agent"]]


def test_a_proxy_resource_passes_the_greedy_path_as_a_path_parameter(aws, function_arn):
    """Set up a proxy integration with a proxy resource: {proxy+} matches the rest of the path."""
    # DOCS + "api-gateway-set-up-simple-proxy.html"
    proxied = make_api(aws, function_arn, path_part="{proxy+}")
    event = event_of(f"{proxied.stage_url}/models/v1/predict")
    assert event["resource"] == "/{proxy+}" and event["path"] == "/models/v1/predict"
    assert event["pathParameters"] == {"proxy": "models/v1/predict"}
    assert event["requestContext"]["path"] == "/prod/models/v1/predict"


def test_a_header_in_both_maps_and_a_status_given_as_text_are_accepted(api):
    """Output format: statusCode as a numeric string; headers and multiValueHeaders merged, comma-joined."""
    # DOCS + "set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format"
    raw = {"statusCode": "201", "headers": {"X-Model": "solo"}, "multiValueHeaders": {"X-Model": ["multi"]}}
    status, headers, body = call(api.url, {"raw": raw})
    assert (status, headers["X-Model"], body) == (201, "multi, solo", b"")
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "raw",
    [
        "just a string",
        {"statusCode": 200, "bodyy": "typo"},
        {"statusCode": "ok"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "not a list"}},
    ],
    ids=["bare-string", "unknown-key", "text-status", "object-body", "multi-not-list"],
)
def test_a_malformed_proxy_response_answers_502(api, raw):
    """Output format: anything but the documented shape answers 502 Internal server error."""
    # DOCS + "set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format"
    status, headers, body = call(api.url, {"raw": raw})
    assert (status, body) == (502, b'{"message": "Internal server error"}')
    assert headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_a_function_error_answers_502(api):
    """Handle Lambda errors in API Gateway: an unhandled exception in a proxy integration answers 502."""
    # DOCS + "handle-errors-in-lambda-integration.html"
    status, _, body = call(api.url, {"crash": True})
    assert (status, body) == (502, b'{"message": "Internal server error"}')


def test_past_the_integration_timeout_the_client_gets_504(aws, function_arn):
    """Quotas for REST APIs: the integration timeout (timeoutInMillis, 50 ms to 29 s) answers 504."""
    # DOCS + "limits.html" (Integration timeout); gateway response INTEGRATION_TIMEOUT
    quick = make_api(aws, function_arn, timeoutInMillis=500)
    status, headers, body = call(quick.url, {"sleep": 2})
    assert (status, body) == (504, b'{"message": "Endpoint request timed out"}')
    assert headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    "where",
    ["unknown-path", "unknown-method", "unknown-stage", "no-stage", "unknown-api"],
)
def test_an_unknown_resource_method_stage_or_api_answers_403_missing_authentication_token(api, where):
    """Gateway response types: MISSING_AUTHENTICATION_TOKEN for an unsupported method or resource (403)."""
    # DOCS + "supported-gateway-response-types.html"
    url, method = {
        "unknown-path": (f"{api.stage_url}/nothing-here", "POST"),
        "unknown-method": (api.url, "GET"),
        "unknown-stage": (api.url.replace("/prod/", "/beta/"), "POST"),
        "no-stage": (api.stage_url.removesuffix("/prod"), "POST"),
        "unknown-api": (api.url.replace(api.id, "nosuchapi0"), "POST"),
    }[where]
    status, headers, body = call(url, {"echo": True}, method=method)
    assert (status, body) == (403, b'{"message":"Missing Authentication Token"}')
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_without_lambda_permission_the_integration_fails_with_500(aws, function_arn):
    """Lambda permissions for API Gateway: without AddPermission for apigateway.amazonaws.com, 500."""
    # DOCS + "api-gateway-control-access-using-iam-policies-to-invoke-api.html", integrating-api-with-aws-services-lambda
    unpermitted = make_api(aws, function_arn, path_part="unpermitted", permit=False)
    status, _, body = call(unpermitted.url, {"echo": True})
    assert (status, body) == (500, b'{"message": "Internal server error"}')


def test_the_stage_throttle_answers_429_once_its_burst_is_spent(aws, function_arn):
    """Throttle requests to your REST APIs: a stage's */* rate and burst; an empty bucket answers 429."""
    # DOCS + "api-gateway-request-throttling.html"
    throttled = make_api(aws, function_arn, path_part="throttled")
    aws.agw.update_stage(
        restApiId=throttled.id, stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.001"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
        ],
    )  # fmt: skip
    statuses = [call(throttled.url, {"echo": True})[0] for _ in range(3)]
    status, headers, body = call(throttled.url, {"echo": True})
    assert statuses == [200, 200, 429] and (status, body) == (429, b'{"message":"Too Many Requests"}')
    assert headers["x-amzn-ErrorType"] == "TooManyRequestsException"


def test_token_buckets_refill_at_the_rate_up_to_the_burst():
    """Throttle requests to your REST APIs: the token bucket algorithm, narrowest level first."""
    # DOCS + "api-gateway-request-throttling.html"
    now = [0.0]
    buckets = throttle.Buckets(clock=lambda: now[0])
    stage, account = throttle.Limit("stage", 1.0, 2), throttle.Limit("account", 0.0, 3)
    assert [buckets.take([stage, account]) for _ in range(3)] == [None, None, "stage"]
    now[0] = 1.0  # one token back in the stage's bucket
    assert [buckets.take([stage, account]) for _ in range(2)] == [None, "stage"]
    assert buckets.take([throttle.Limit("other", 100.0, 5), account]) == "account"  # 3 taken already


def _statistic(aws, api_name: str, metric: str, stat: str, stage: str | None = "prod") -> float:
    import datetime as dt

    dims = [{"Name": "ApiName", "Value": api_name}] + ([{"Name": "Stage", "Value": stage}] if stage else [])
    now = dt.datetime.now(dt.UTC)
    points = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/ApiGateway", MetricName=metric, Dimensions=dims, Statistics=[stat],
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1), Period=600,
    )["Datapoints"]  # fmt: skip
    return sum(p[stat] for p in points)


def test_metrics_count_every_request_and_its_errors_per_api_name_and_stage(aws, function_arn):
    """Amazon API Gateway dimensions and metrics: Count, 4XXError, 5XXError, Latency, IntegrationLatency."""
    # DOCS + "api-gateway-metrics-and-dimensions.html"
    measured = make_api(aws, function_arn, path_part="measured")
    call(measured.url, {"echo": True})
    call(measured.url, {"echo": True}, method="GET")  # 403
    call(measured.url, {"crash": True})  # 502
    assert _statistic(aws, measured.name, "Count", "SampleCount") == 3
    assert _statistic(aws, measured.name, "Count", "Sum", stage=None) == 3
    assert _statistic(aws, measured.name, "4XXError", "Sum") == 1
    assert _statistic(aws, measured.name, "5XXError", "Sum") == 1
    assert _statistic(aws, measured.name, "Latency", "SampleCount") == 3
    assert _statistic(aws, measured.name, "IntegrationLatency", "SampleCount") == 2


def test_access_logging_writes_one_line_per_request_in_the_stage_format(aws, function_arn):
    """Set up CloudWatch logging: the stage's accessLogSettings format, $context variables, one line per request."""
    # DOCS + "set-up-logging.html", "api-gateway-variables-for-access-logging.html"
    logged = make_api(aws, function_arn, path_part="logged")
    group = f"/test/access/{logged.id}"
    aws.logs.create_log_group(logGroupName=group)
    line_format = (
        '{"requestId":"$context.requestId","status":"$context.status","path":"$context.resourcePath"}'
    )
    aws.agw.update_stage(
        restApiId=logged.id, stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"},
            {"op": "replace", "path": "/accessLogSettings/format", "value": line_format},
        ],
    )  # fmt: skip
    _, headers, _ = call(logged.url, {"echo": True})
    call(logged.url, {"echo": True}, method="GET")
    lines = [json.loads(e["message"]) for e in aws.logs.filter_log_events(logGroupName=group)["events"]]
    assert {"requestId": headers["x-amzn-RequestId"], "status": "200", "path": "/logged"} in lines
    assert [line["status"] for line in lines] == ["200", "403"] and lines[1]["path"] == "-"


def test_binary_media_types_arrive_base64_encoded(aws, function_arn):
    """Binary media types for REST APIs: a body of a declared type reaches the function base64-encoded."""
    # DOCS + "api-gateway-payload-encodings.html"
    binary = make_api(aws, function_arn, path_part="binary")
    aws.agw.update_rest_api(
        restApiId=binary.id,
        patchOperations=[
            {
                "op": "add",
                "path": "/binaryMediaTypes/application~1octet-stream",
                "value": "application/octet-stream",
            }
        ],
    )
    status, _, raw = call(binary.url, b"\x00\x01\xff", headers={"Content-Type": "application/octet-stream"})
    event = json.loads(raw)
    assert status == 200 and event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01\xff"


def test_invoke_urls_never_take_a_route_of_moto_s_control_plane(aws, api):
    """The local invoke URL's path forms match none of moto's API Gateway routes; the control plane still answers."""
    from moto.apigateway.urls import url_paths

    for path in (
        f"/_aws/execute-api/{api.id}/prod/predict",
        f"/restapis/{api.id}/prod/_user_request_/predict",
    ):
        assert routing.is_invoke_path(path)
        assert not any(re.fullmatch(pattern.format(""), path) for pattern in url_paths), path
    assert not routing.is_invoke_path(f"/restapis/{api.id}/stages/prod")
    assert aws.agw.get_stage(restApiId=api.id, stageName="prod")["stageName"] == "prod"


def test_the_user_request_form_reaches_the_same_stage(aws, api):
    """LocalStack's /restapis/{id}/{stage}/_user_request_/{path} form is served too (local cloud convention)."""
    status, _, _ = call(f"{aws.url}/restapis/{api.id}/prod/_user_request_/predict", {"echo": True})
    assert status == 200


def test_management_calls_are_recorded_as_api_gateway_s_iam_actions_on_their_paths(aws, api):
    """Control access to API Gateway with IAM: actions are apigateway:METHOD on arn:aws:apigateway:REGION::/path."""
    # DOCS + "permissions.html" (API Gateway permissions model for creating and managing an API)
    from localcloud.calls import record as log

    aws.agw.get_resources(restApiId=api.id)
    recorded = {(c["action"], c["resource"]) for c in log.calls()}
    assert ("apigateway:GET", f"arn:aws:apigateway:{REGION}::/restapis/{api.id}/resources") in recorded
    assert ("apigateway:POST", f"arn:aws:apigateway:{REGION}::/restapis") in recorded
