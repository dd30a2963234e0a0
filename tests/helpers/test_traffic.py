"""Traffic through chapter 7's REST API: what the generator sends, and that it goes over HTTP to the invoke URL.

The API is built by helpers.apigateway with 00_setup's specs, in front of a small function that answers
as the chapter-8 handler does (200 with the request id, 400 for a bad body).
"""

from __future__ import annotations

import json
import random
import shlex
import shutil
import subprocess
import textwrap
import uuid

import boto3
import pytest
from kit_world import execution_role

from helpers import apigateway, awslambda, traffic

HANDLER = """
    import json

    def handler(event, context):
        request_id = event["requestContext"]["requestId"]
        try:
            features = json.loads(event["body"])["features"]
            assert len(features) == 4 and all(type(x) in (int, float) for x in features)
        except Exception:
            return {"statusCode": 400, "body": json.dumps({"error": "bad features", "requestId": request_id})}
        return {"statusCode": 200, "body": json.dumps({"prediction": sum(features), "requestId": request_id})}
"""


def _sent(seed: int) -> list[str]:
    """The bodies of 20 requests from a generator seeded with `seed`."""
    rng = random.Random(seed)
    return [traffic.make_body(rng, bad=rng.random() < 0.3) for _ in range(20)]


def test_the_same_seed_sends_the_same_bodies():
    assert _sent(7) == _sent(7) != _sent(8)
    assert all(b in traffic.BAD_BODIES or "features" in json.loads(b) for b in _sent(7))


@pytest.fixture(scope="module")
def api_url(local_cloud, tmp_path_factory):
    """Chapter 7's API built by the helpers (00_setup's specs) in front of a small function; its invoke URL."""
    import os

    from kit_world import forget_session, new_prefix, use_local_cloud

    from helpers import session

    monkeypatch = pytest.MonkeyPatch()
    prefix = new_prefix()
    use_local_cloud(monkeypatch, local_cloud, prefix)
    settings = session.settings()
    names = settings.names
    iam = boto3.client("iam", region_name="us-east-1")
    role = execution_role(iam, names.role, "lambda.amazonaws.com")
    folder = tmp_path_factory.mktemp("handler")
    (folder / "app.py").write_text(textwrap.dedent(HANDLER))
    function = awslambda.ensure_function(
        {"FunctionName": names.function, "Runtime": "python3.13", "Role": role, "Handler": "app.handler"},
        awslambda.build_zip({"app.py": folder / "app.py"}),
    )
    built = build_api(settings, function["FunctionArn"])
    yield built
    monkeypatch.undo()
    os.environ["AWS_ENDPOINT_URL"] = local_cloud
    forget_session()


def build_api(settings, function_arn: str) -> str:
    """00_setup's Step 6, with its specs: the API, /predict, POST with a Lambda proxy, the permission, stage prod."""
    from helpers import session

    names = settings.names
    api = apigateway.ensure_rest_api({"name": names.api, "tags": settings.tags()})
    resource = apigateway.ensure_resource(
        {"restApiId": api["id"], "parentId": api["rootResourceId"], "pathPart": "predict"}
    )
    where = {"restApiId": api["id"], "resourceId": resource["id"], "httpMethod": "POST"}
    changed = apigateway.ensure_method(
        {**where, "authorizationType": "NONE"},
        {
            **where,
            "type": "AWS_PROXY",
            "integrationHttpMethod": "POST",
            "uri": apigateway.lambda_uri(function_arn),
        },
    )
    apigateway.allow_invoke(
        {
            "FunctionName": names.function,
            "StatementId": f"{names.api}-invoke",
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": session.arn("execute-api", f"{api['id']}/*/POST/predict"),
        }
    )
    apigateway.ensure_deployment({"restApiId": api["id"], "stageName": "prod"}, changed=changed)
    return apigateway.invoke_url(api["id"])


def test_building_the_api_again_changes_nothing(api_url, capsys):
    from helpers import session

    settings = session.settings()
    again = build_api(
        settings,
        boto3.client("lambda").get_function(FunctionName=settings.names.function)["Configuration"][
            "FunctionArn"
        ],
    )
    said = capsys.readouterr().out
    assert again == api_url == apigateway.endpoint_url()
    assert "created" not in said and "deployed stage" not in said and "added permission" not in said


def test_the_printed_curl_line_works(api_url):
    """00_setup prints apigateway.curl_line(url, features): run it as a terminal would."""
    curl = shutil.which("curl")
    assert curl, "curl is needed (Debian: apt-get install curl; .ci/run installs it)"
    line = apigateway.curl_line(api_url, [42.5, 14, 0.12, 900])
    answer = subprocess.run(
        [*shlex.split(line), "-s", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=60
    )
    body, _, status = answer.stdout.rpartition("\n")
    assert answer.returncode == 0 and status == "200", answer.stdout + answer.stderr
    assert json.loads(body)["prediction"] == pytest.approx(956.62)


def test_traffic_goes_through_the_invoke_url_under_api_gateway_s_request_ids(api_url):
    report = traffic.run(n=16, concurrency=4, bad_share=0.4, seed=3, progress=False)
    assert report.sent == 16 and set(report.statuses) == {200, 400}
    assert len(set(report.request_ids)) == 16 and all(uuid.UUID(r) for r in report.request_ids)


def test_the_function_sees_the_request_id_the_client_gets_back(api_url):
    reply = traffic.post(api_url, '{"features": [1, 2, 3, 4]}')
    assert reply.status == 200 and reply.body["requestId"] == reply.request_id


def test_a_request_resent_with_its_id_reaches_the_function_under_the_same_id(api_url):
    first = traffic.post(api_url, '{"features": [1, 2, 3, 4]}')
    again = traffic.post(api_url, '{"features": [1, 2, 3, 4]}', request_id=first.request_id)
    assert again.request_id == first.request_id == again.body["requestId"]


def test_background_traffic_flows_until_the_block_ends(api_url):
    import time

    with traffic.background(rate_per_s=20, seed=1) as live:
        deadline = time.monotonic() + 30
        while live.sent < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    sent = live.sent
    assert sent >= 3 and set(live.statuses) == {200}
    time.sleep(0.3)
    assert live.sent == sent
