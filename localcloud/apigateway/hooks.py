"""Where moto's server gets API Gateway's data plane: requests to an invoke URL reach the API's Lambda.

install() hooks ``DomainDispatcherApplication.__call__`` (moto's server app, through localcloud.patching)
so that a request whose path is a local invoke URL (``routing.is_invoke_path``: ``/_aws/execute-api/...``
or ``/restapis/{id}/{stage}/_user_request_/...``, which no control-plane route of moto's matches) is
served here, and every other request goes to moto exactly as before. Serving one request:

1. the API (any account and Region moto holds), its stage, the resource and method
   (``routing``); none: 403 Missing Authentication Token;
2. the account's and the stage's throttling (``throttle``): 429;
3. the method's integration: ``AWS_PROXY`` with ``POST`` to a Lambda function whose resource policy
   lets API Gateway invoke it for this request (``permissions``): otherwise 500;
4. the proxy event (``events``) run by moto's ``LambdaBackend.invoke``, which the kit's runtime serves
   (so logs, metrics, concurrency and the function's role behave as for the Invoke API), waited for at
   most the integration's ``timeoutInMillis`` (default ``INTEGRATION_TIMEOUT_S``): 504 past it;
5. the answer mapped from the proxy response (``responses``): 502 for a function error or a
   malformed response; ``x-amzn-RequestId`` and ``x-amz-apigw-id`` on every answer;
6. ``AWS/ApiGateway`` ``Count``, ``4XXError``, ``5XXError``, ``Latency``, ``IntegrationLatency`` per
   ``ApiName`` and per ``ApiName, Stage``; one access log line when the stage has access logging.

Not emulated: deployments as snapshots (a stage serves the API's current resources), authorizers,
API keys and usage plans, request validation, mapping templates, caching, execution logs, and
integrations other than the Lambda proxy (they answer 500).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localcloud import patching
from localcloud.apigateway import access_logs, events, permissions, responses, routing, throttle
from localcloud.locks import cloudwatch_lock

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

INTEGRATION_TIMEOUT_S = (
    29.0  # the REST API integration timeout's default and (without a quota increase) maximum
)
NAMESPACE = "AWS/ApiGateway"
ACCESS_LOG_STREAM = "access-log"  # the stream the local cloud writes a stage's access log lines to
_buckets = throttle.Buckets()


@dataclass
class Served:
    """One request's outcome, for the metrics and the access log."""

    answer: responses.Answer
    integration_ms: float | None = None
    integration_status: str = ""  # $context.integrationStatus: the Lambda service's status
    function_status: str = ""  # $context.integration.status: the proxy response's statusCode
    integration_error: str = ""


def _find_api(api_id: str) -> tuple[Any, Any] | None:
    """(backend, RestAPI) of the API with this id, in whichever account and Region moto holds it."""
    from moto.apigateway.models import apigateway_backends

    for _, regional in list(apigateway_backends.items()):
        for _, backend in list(regional.items()):
            api = backend.apis.get(api_id)
            if api is not None:
                return backend, api
    return None


def _request(environ: WSGIEnvironment, target: routing.Target) -> events.Request:
    """The client's request as events.Request (headers in WSGI's order, names as WSGI spells them)."""
    from werkzeug.wrappers import Request

    incoming = Request(environ)
    headers = list(incoming.headers.items())
    source_ip = environ.get("REMOTE_ADDR", "127.0.0.1") or "127.0.0.1"
    forwarded = [
        ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{events.new_request_id().replace('-', '')[:24]}"),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", str(environ.get("SERVER_PORT", "443"))),
        ("X-Forwarded-Proto", str(environ.get("wsgi.url_scheme", "https"))),
    ]
    known = {name.lower() for name, _ in headers}
    headers += [(name, value) for name, value in forwarded if name.lower() not in known]
    return events.Request(
        method=incoming.method.upper(),
        path=target.path,
        headers=headers,
        query=environ.get("QUERY_STRING", "") or "",
        body=incoming.get_data(),
        source_ip=source_ip,
        protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1") or "HTTP/1.1",
    )


def _lambda_target(uri: str) -> tuple[str, str | None] | None:
    """(function ARN without qualifier, qualifier) an AWS_PROXY integration URI names; None if not Lambda."""
    marker = ":lambda:path/2015-03-31/functions/"
    if marker not in uri or not uri.endswith("/invocations"):
        return None
    arn = uri.split(marker, 1)[1].removesuffix("/invocations")
    parts = arn.split(":")
    if len(parts) == 8:
        return ":".join(parts[:7]), parts[7]
    return arn, None


def _invoke(
    function_arn: str, qualifier: str | None, event: dict[str, Any], timeout_s: float
) -> tuple[bytes | None, dict[str, str], Exception | None, bool]:
    """Run the function as moto's Invoke does; (payload, its headers, a service error, timed out)."""
    from moto.awslambda.models import lambda_backends

    region, account = function_arn.split(":")[3], function_arn.split(":")[4]
    lam = lambda_backends[account][region]
    outcome: dict[str, Any] = {}
    response_headers: dict[str, str] = {}

    def run() -> None:
        try:
            outcome["payload"] = lam.invoke(
                function_arn,
                qualifier,
                json.dumps(event),
                {"X-Amz-Invocation-Type": "RequestResponse", "User-Agent": "AmazonAPIGateway"},
                response_headers,
            )
        except Exception as exc:  # the Lambda service refused: throttled, not found, still Pending
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="apigateway-integration", daemon=True)
    worker.start()
    worker.join(timeout_s)  # past the integration timeout the client gets 504; the function may keep running
    if worker.is_alive():
        return None, response_headers, None, True
    payload = outcome.get("payload")
    if isinstance(payload, str):
        payload = payload.encode()
    return payload, response_headers, outcome.get("error"), False


def _integrate(
    api: Any, method: Any, request: events.Request, route: events.Route, ids: tuple[str, str]
) -> Served:
    """Run the method's integration and map its answer (steps 3-5 of the module docstring)."""
    integration = getattr(method, "method_integration", None)
    uri = getattr(integration, "uri", "") or ""
    target = _lambda_target(uri)
    if (
        integration is None
        or getattr(integration, "integration_type", "") != "AWS_PROXY"
        or target is None
        or (getattr(integration, "http_method", "") or "").upper() != "POST"
    ):
        return Served(
            responses.INTEGRATION_FAILURE.answer(), integration_error="Malformed Lambda proxy integration"
        )
    function_arn, qualifier = target
    from moto.awslambda.models import lambda_backends

    region, account = function_arn.split(":")[3], function_arn.split(":")[4]
    try:
        fn = lambda_backends[account][region].get_function(function_arn, qualifier)
        policy = fn.policy.wire_format() if getattr(fn, "policy", None) is not None else None
    except Exception:
        fn, policy = None, None
    source = permissions.source_arn(
        api.region_name, api.account_id, api.id, route.stage, route.http_method, route.resource_path
    )
    qualified = f"{function_arn}:{qualifier}" if qualifier else function_arn
    if fn is None or not permissions.allows(policy, qualified, source):
        return Served(
            responses.API_CONFIGURATION_ERROR.answer(),
            integration_error="Invalid permissions on Lambda function",
        )
    now = dt.datetime.now(dt.UTC)
    event = events.proxy_event(request, route, ids[0], ids[1], now)
    millis = getattr(integration, "timeout_in_millis", None)
    timeout_s = float(millis) / 1000 if millis else INTEGRATION_TIMEOUT_S
    t0 = time.perf_counter()
    payload, headers, error, timed_out = _invoke(function_arn, qualifier, event, timeout_s)
    integration_ms = (time.perf_counter() - t0) * 1000
    if timed_out:
        return Served(
            responses.INTEGRATION_TIMEOUT.answer(), integration_ms, "-", "-", "Endpoint request timed out"
        )
    if error is not None:
        status = str(getattr(error, "code", 500))
        return Served(responses.API_CONFIGURATION_ERROR.answer(), integration_ms, status, "-", str(error))
    if headers.get("x-amz-function-error"):
        return Served(
            responses.INTEGRATION_FAILURE.answer(),
            integration_ms,
            "200",
            "-",
            "Lambda Customer Function Error",
        )
    accept = events.header(request.headers, "accept")
    try:
        answer = responses.map_proxy_response(
            payload or b"", events.is_binary(accept, route.binary_media_types)
        )
    except responses.MalformedProxyResponse as exc:
        return Served(
            responses.INTEGRATION_FAILURE.answer(),
            integration_ms,
            "200",
            "-",
            f"Malformed Lambda proxy response: {exc}",
        )
    return Served(answer, integration_ms, "200", str(answer.status))


def _route(api: Any, target: routing.Target, request: events.Request) -> tuple[Any, events.Route] | None:
    """The method serving the request (None: no such resource or method) and where it sits; None without the stage."""
    stage = api.stages.get(target.stage) if target.stage else None
    if stage is None:
        return None
    by_path = {resource.get_path(): resource for resource in list(api.resources.values())}
    found = routing.match_resource(by_path, request.path)
    template, params = found if found is not None else ("", {})
    resource = by_path.get(template)
    methods = resource.resource_methods if resource is not None else {}
    chosen = routing.choose_method(methods, request.method)
    route = events.Route(
        api_id=api.id,
        account_id=api.account_id,
        stage=stage.name,
        resource_path=template if chosen else "",
        resource_id=resource.id if resource is not None and chosen else "",
        http_method=request.method,
        deployment_id=stage.deployment_id or "",
        path_parameters=params,
        stage_variables=dict(stage.variables or {}),
        domain_name=events.header(request.headers, "host"),
        binary_media_types=tuple(api.binaryMediaTypes or ()),
    )
    return (methods[chosen] if chosen else None), route


def _throttled(backend: Any, api: Any, route: events.Route) -> bool:
    """True when the stage's or the account's token bucket is empty (nothing taken then)."""
    stage = api.stages[route.stage]
    account = getattr(backend, "account", None)
    settings = getattr(account, "throttle_settings", None) or {}
    limits = throttle.stage_limits(
        stage.method_settings or {}, f"{api.id}/{route.stage}", route.resource_path, route.http_method
    )
    limits.append(
        throttle.Limit(
            f"account:{api.account_id}:{api.region_name}",
            float(settings.get("rateLimit", throttle.ACCOUNT_RATE_LIMIT)),
            int(settings.get("burstLimit", throttle.ACCOUNT_BURST_LIMIT)),
        )
    )
    return _buckets.take(limits) is not None


def api_name_dimension(api: Any) -> str:
    """The ApiName dimension: the name without non-ASCII characters (all of them: the API's id)."""
    name = "".join(c for c in api.name or "" if ord(c) < 128)
    return name or api.id


def _publish(
    api: Any, stage: str, answer: responses.Answer, latency_ms: float, integration_ms: float | None
) -> None:
    """AWS/ApiGateway datapoints of one request, per ApiName and per ApiName+Stage."""
    from moto.cloudwatch.models import cloudwatch_backends

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # moto keeps naive UTC
    values: list[tuple[str, float, str]] = [
        ("Count", 1.0, "Count"),
        ("4XXError", 1.0 if 400 <= answer.status < 500 else 0.0, "Count"),
        ("5XXError", 1.0 if answer.status >= 500 else 0.0, "Count"),
        ("Latency", latency_ms, "Milliseconds"),
    ]
    if integration_ms is not None:
        values.append(("IntegrationLatency", integration_ms, "Milliseconds"))
    name = api_name_dimension(api)
    data = [
        {"MetricName": metric, "Value": value, "Unit": unit, "Dimensions": dims, "Timestamp": now}
        for dims in (
            [{"Name": "ApiName", "Value": name}],
            [{"Name": "ApiName", "Value": name}, {"Name": "Stage", "Value": stage}],
        )
        for metric, value, unit in values
    ]
    with cloudwatch_lock:
        cloudwatch_backends[api.account_id][api.region_name].put_metric_data(NAMESPACE, data)


def _access_log(api: Any, stage: Any, context: dict[str, object]) -> None:
    """One line in the stage's access log destination, when the stage has one that exists."""
    settings = getattr(stage, "access_log_settings", None) or {}
    destination, template = settings.get("destinationArn"), settings.get("format")
    if not destination or not template:
        return
    from moto.logs.models import logs_backends

    parts = destination.split(":")
    logs = logs_backends[parts[4] if len(parts) > 4 else api.account_id][
        parts[3] if len(parts) > 3 else api.region_name
    ]
    group = access_logs.log_group_name(destination)
    if group not in logs.groups:
        return  # AWS drops the lines when the destination group is gone
    stream = f"{ACCESS_LOG_STREAM}-{api.id}-{stage.name}"
    logs.ensure_log_stream(group, stream)
    line = access_logs.format_line(template, context)
    logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])


def _context(
    request: events.Request, route: events.Route, ids: tuple[str, str], served: Served, latency_ms: float
) -> dict[str, object]:
    """The $context variables of one request, for the access log."""
    now = dt.datetime.now(dt.UTC)
    return {
        "requestId": ids[0],
        "extendedRequestId": ids[1],
        "apiId": route.api_id,
        "accountId": route.account_id,
        "stage": route.stage,
        "httpMethod": request.method,
        "resourcePath": route.resource_path,
        "path": f"/{route.stage}{request.path}",
        "protocol": request.protocol,
        "requestTime": events.request_time(now),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": events.header(request.headers, "user-agent"),
        "status": served.answer.status,
        "responseLength": len(served.answer.body),
        "responseLatency": int(latency_ms),
        "integrationLatency": int(served.integration_ms) if served.integration_ms is not None else None,
        "integrationStatus": served.integration_status,
        "integration.status": served.function_status,
        "integration.latency": int(served.integration_ms) if served.integration_ms is not None else None,
        "integrationErrorMessage": served.integration_error,
        "integration.error": served.integration_error,
        "error.message": served.answer.error_message,
        "error.responseType": served.answer.error_type,
    }


def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer one request to an invoke URL as API Gateway does."""
    started = time.perf_counter()
    client_id = str(environ.get("HTTP_X_AMZN_REQUESTID", "") or "")
    ids = (events.new_request_id(client_id), events.new_extended_request_id())
    target = routing.parse(environ.get("PATH_INFO", "") or "")
    found = _find_api(target.api_id) if target is not None else None
    served = Served(responses.MISSING_AUTHENTICATION_TOKEN.answer())
    if found is not None and target is not None:
        backend, api = found
        request = _request(environ, target)
        routed = _route(api, target, request)
        if routed is not None:  # the stage exists: its metrics and access log count the request
            method, route = routed
            if method is None:
                pass  # no such resource or method: 403
            elif _throttled(backend, api, route):
                served = Served(responses.THROTTLED.answer())
            else:
                served = _integrate(api, method, request, route, ids)
            latency_ms = (time.perf_counter() - started) * 1000
            _publish(api, route.stage, served.answer, latency_ms, served.integration_ms)
            _access_log(api, api.stages[route.stage], _context(request, route, ids, served, latency_ms))
    answer = served.answer
    headers = [
        *answer.headers,
        ("x-amzn-RequestId", ids[0]),
        ("x-amz-apigw-id", ids[1]),
        ("Content-Length", str(len(answer.body))),
    ]
    start_response(f"{answer.status} {_reason(answer.status)}", headers)
    return [answer.body]


def _reason(status: int) -> str:
    """The HTTP reason phrase of a status."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _serving_invoke_urls(original: Callable[..., Any]) -> Callable[..., Any]:
    """DomainDispatcherApplication.__call__ that serves invoke URLs itself and passes everything else to moto."""

    def call(self: Any, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if routing.is_invoke_path(environ.get("PATH_INFO", "") or ""):
            return serve(environ, start_response)
        return original(self, environ, start_response)

    return call


def forget_throttles() -> None:
    """Start every throttling bucket full (tests)."""
    _buckets.forget()


def install() -> None:
    """Serve API Gateway's invoke URLs from moto's server."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    patching.patch(
        DomainDispatcherApplication, "__call__", ["self", "environ", "start_response"], _serving_invoke_urls
    )
