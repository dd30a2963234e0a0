"""Chapter 8's inference Lambda: chapter 7's handler, plus one record per inference in DynamoDB and one
JSON log line per inference for CloudWatch.

The handler comes first and reads top to bottom; what it relies on (the many event shapes it accepts,
the checks on untrusted input, the model call, the record's layout and its retried conditional write)
lives beside it, below the line "beside the handler", each in a named function. Contract (see
docs/design.md): any event shape in, an API Gateway proxy response out (200, 400 or 502), one
conditional PutItem per request keyed by the request id, exactly one JSON log line per inference.
Standard library plus boto3 only; clients are created on first use and reused while the environment
stays warm.
"""

from __future__ import annotations

import json
import time
from typing import Any


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Validate the request, predict, record the inference once, log one line, answer a proxy response."""
    started = time.perf_counter()
    r = new_record(event, context)  # request id, time, endpoint, model version, cold start, expiry
    try:
        r["features"] = features_from(event, r)  # bad input raises ClientInputError: a 400, never a 500
        model_started = time.perf_counter()
        try:
            r["prediction"], r["variantName"] = predict(SETTINGS.endpoint_name, r["features"])
        finally:
            r["modelLatencyMs"] = millis(time.perf_counter() - model_started)
        code, body = 200, answer(r)
    except ClientInputError as exc:
        r["raw"] = r["raw"] or refused_input(event, r["eventSource"])
        code, body = 400, failure(r, "client_error", "InvalidRequest", str(exc), str(exc))
    except ModelFailure as exc:
        said = f"the model failed ({exc.error_type}): {exc}"
        code, body = 502, failure(r, "model_error", exc.error_type, str(exc), said)
    except Exception as exc:  # a bug of ours: still one record, one log line, a proxy response
        code, body = 500, failure(r, "server_error", type(exc).__name__, str(exc), "internal error")
    r["latencyMs"] = millis(time.perf_counter() - started)
    if code == 200:
        body["latencyMs"] = r["latencyMs"]
    written = put_record(SETTINGS.table_name, record_item(r))  # conditional PutItem, retried
    print(json.dumps(log_line(r, written)))  # the one line per inference that 8.3's filters count
    return _response(code, body, r["requestId"])


# ================================================================ beside the handler

import base64
import binascii
import datetime
import hashlib
import math
import os
import random
import re
from collections.abc import Mapping
from typing import NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

DEFAULT_FEATURE_COUNT = 4
DEFAULT_TTL_DAYS = 30
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_INPUT_STORED_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32
LABEL_THRESHOLD = 0.5
WRITE_ATTEMPTS = 3
WRITE_BASE_DELAY_S = 0.02
# Its own copy of helpers.dynamodb.records.RETRYABLE (+ TransactionConflict): the deployed file cannot import helpers.
RETRYABLE_WRITE_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)
JSON_HEADERS = {"Content-Type": "application/json"}
_STRINGS_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


class ClientInputError(ValueError):
    """The request cannot be served as sent; the message says what was expected and what came."""


class Settings:
    """The function's configuration, read from its environment variables."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.table_name = env.get("TABLE_NAME", "")
        self.endpoint_name = env.get("ENDPOINT_NAME", "")
        self.model_version = env.get("MODEL_VERSION", "")
        self.model_name = env.get("MODEL_NAME", "")
        self.feature_count = _positive_int(env, "FEATURE_COUNT", DEFAULT_FEATURE_COUNT)
        self.ttl_days = _positive_int(env, "RECORD_TTL_DAYS", DEFAULT_TTL_DAYS)
        self.max_body_bytes = _positive_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number from the environment, or the default when unset."""
    text = str(env.get(name, "") or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"environment variable {name}={text!r} must be a positive whole number")
    return int(text)


SETTINGS = Settings(os.environ)
# Clients by service name, created on first use; tests and benchmarks may put fakes here.
CLIENTS: dict[str, Any] = {}
_cold_start = True


def client(service: str) -> Any:
    """The boto3 client for a service, created once per execution environment."""
    found = CLIENTS.get(service)
    if found is None:
        if service == "dynamodb":
            # The handler retries writes itself, briefly; botocore's own retries could take seconds.
            config = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1})
        else:
            config = Config(connect_timeout=2, read_timeout=70, retries={"total_max_attempts": 2})
        found = CLIENTS[service] = boto3.client(service, config=config)
    return found


# ---------------------------------------------------------------- request parsing


def _json_type(value: object) -> str:
    """The JSON name of a Python value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _refuse_constant(name: str) -> NoReturn:
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ClientInputError(f"the body is not valid JSON: {name} is not a JSON number")


def _too_deep(text: str, limit: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than the limit (strings ignored)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for char in _STRINGS_RE.sub("", text):
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(text: str) -> Any:
    """Parse a request's JSON text, refusing NaN/Infinity, deep nesting and malformed text."""
    if not text.strip():
        raise ClientInputError('the body is empty: expected JSON like {"features": [...]}')
    if _too_deep(text, MAX_JSON_DEPTH):
        raise ClientInputError(f"the body's JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ClientInputError(f"the body's JSON is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:
        if isinstance(exc, ClientInputError):
            raise
        raise ClientInputError(f"the body is not valid JSON: {exc}") from None


def event_source(event: object) -> str:
    """Which kind of invocation the event is: apigateway-rest, apigateway-http, body or direct."""
    if not isinstance(event, dict):
        return "direct"
    if event.get("version") == "2.0" and isinstance(event.get("requestContext"), dict):
        return "apigateway-http"
    if "httpMethod" in event or isinstance(event.get("requestContext"), dict):
        return "apigateway-rest"
    if "body" in event:
        return "body"
    return "direct"


def _event_json(value: object, what: str) -> str:
    """JSON text of an already-parsed event or body (as stored in the record)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)
    except (RecursionError, ValueError):
        raise ClientInputError(f"the {what} is nested more than {MAX_JSON_DEPTH} levels deep") from None


def request_text(event: Any, source: str, max_bytes: int) -> tuple[str, bytes]:
    """The request's JSON text and its UTF-8 bytes, decoded from base64 when flagged."""
    if source == "direct":
        if not isinstance(event, dict):
            raise ClientInputError(
                f'the event must be a JSON object like {{"features": [...]}}, got {_json_type(event)}'
            )
        text = _event_json(event, "event")
        raw = text.encode("utf-8", "replace")
        if len(raw) > max_bytes:
            raise ClientInputError(f"the event is {len(raw)} bytes; the limit is {max_bytes} bytes")
        return text, raw
    body = event.get("body")
    if body is None:
        raise ClientInputError('the request has no body: expected JSON like {"features": [...]}')
    if isinstance(body, dict):
        body = _event_json(body, "body")
    if not isinstance(body, str):
        raise ClientInputError(f"the body must be a JSON text (a string), got {_json_type(body)}")
    if event.get("isBase64Encoded") is True:
        if len(body) > (max_bytes * 4) // 3 + 4:
            raise ClientInputError(f"the body is over the limit of {max_bytes} bytes")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ClientInputError("the body is flagged isBase64Encoded but is not valid base64") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ClientInputError(
                f"the base64 body is not UTF-8 text: {exc.reason} at byte {exc.start}"
            ) from None
    else:
        text = body
        raw = body.encode("utf-8", "replace")
    if len(raw) > max_bytes:
        raise ClientInputError(f"the body is {len(raw)} bytes; the limit is {max_bytes} bytes")
    return text, raw


def refused_input(event: Any, source: str) -> bytes:
    """What came, as bytes for the record, when the request could not be read as JSON text."""
    value = event if source == "direct" else event.get("body")
    if value is None and source != "direct":
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    try:
        return _event_json(value, "event").encode("utf-8", "replace")
    except ClientInputError:
        return b""


def number_text(value: object, where: str) -> str:
    """The exact DynamoDB/CSV text of a finite JSON number, or a ClientInputError naming the problem."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = f" {json.dumps(value)}" if isinstance(value, bool) else ""
        raise ClientInputError(f"{where} must be a number, got {_json_type(value)}{shown}")
    if isinstance(value, int):
        if abs(value) >= 10**38:
            raise ClientInputError(f"{where} has more than 38 digits; DynamoDB numbers cannot hold it")
        return str(value)
    if not math.isfinite(value):
        raise ClientInputError(f"{where} must be a finite number, got {value!r}")
    if value != 0 and not 1e-130 <= abs(value) < 1e126:
        raise ClientInputError(f"{where} is {value!r}; numbers must lie between 1e-130 and 1e126 in size")
    return repr(value)


def features_of(payload: object, count: int) -> list[str]:
    """The features of a parsed request as exact number texts, validated."""
    expected = f'expected {{"features": [{count} numbers]}}'
    if not isinstance(payload, dict):
        raise ClientInputError(f"the request must be a JSON object; {expected}, got {_json_type(payload)}")
    if "features" not in payload:
        raise ClientInputError(f"the request has no 'features'; {expected}")
    features = payload["features"]
    if not isinstance(features, list):
        raise ClientInputError(f"'features' must be an array of {count} numbers, got {_json_type(features)}")
    if len(features) != count:
        raise ClientInputError(f"'features' must hold exactly {count} numbers, got {len(features)}")
    return [number_text(value, f"features[{i}]") for i, value in enumerate(features)]


# ---------------------------------------------------------------- the model


class ModelFailure(Exception):
    """The endpoint did not give a usable prediction; error_type is the AWS error code."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def predict(endpoint: str, features: list[str]) -> tuple[float, str]:
    """Ask the endpoint for the probability of one CSV row; return it and the answering variant."""
    try:
        answer = client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=",".join(features)
        )
        text = answer["Body"].read().decode("utf-8", "replace")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ModelFailure(error.get("Code") or "ClientError", error.get("Message") or str(exc)) from None
    except Exception as exc:  # connection failures, timeouts: the model did not answer
        raise ModelFailure(type(exc).__name__, str(exc)) from None
    first = text.strip().splitlines()[0].split(",")[0].strip() if text.strip() else ""
    try:
        probability = float(first)
    except ValueError:
        raise ModelFailure(
            "InvalidModelResponse", f"the model answered {text[:80]!r}, not a probability"
        ) from None
    if not math.isfinite(probability):
        raise ModelFailure("InvalidModelResponse", f"the model answered {first!r}, not a finite probability")
    return probability, answer.get("InvokedProductionVariant") or ""


# ---------------------------------------------------------------- the record


def iso_millis(epoch_s: float) -> str:
    """ISO-8601 UTC with milliseconds, e.g. 2026-11-27T12:00:00.123Z."""
    moment = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def millis(seconds: float) -> float:
    """Seconds as milliseconds, rounded to the microsecond."""
    return round(seconds * 1000, 3)


def put_record(table: str, item: dict[str, Any]) -> str:
    """Write the record once (conditional PutItem); 'written', 'duplicate' or 'failed' (logged)."""
    if not table:
        return _write_failed(item, "TABLE_NAME is not set")
    error = ""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            client("dynamodb").put_item(
                TableName=table, Item=item, ConditionExpression="attribute_not_exists(requestId)"
            )
            return "written"
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                return "duplicate"
            error = f"{code}: {exc.response.get('Error', {}).get('Message', '')}"
            if code not in RETRYABLE_WRITE_ERRORS:
                break
        except (BotoConnectionError, HTTPClientError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # never let the record cost the caller its prediction
            error = f"{type(exc).__name__}: {exc}"
            break
        if attempt + 1 < WRITE_ATTEMPTS:
            time.sleep(WRITE_BASE_DELAY_S * 2**attempt * (0.5 + random.random()))
    return _write_failed(item, error)


def _write_failed(item: dict[str, Any], error: str) -> str:
    """Log the whole record as one line that backfill_from_logs can replay."""
    print(json.dumps({"event": "metadata_write_failed", "record": item, "error": error}))
    return "failed"


def storable(value: float) -> str:
    """A float's exact text, with magnitudes below DynamoDB's smallest (1e-130) written as 0."""
    return "0" if abs(value) < 1e-130 else repr(value)


def build_record(r: dict[str, Any]) -> dict[str, Any]:
    """The DynamoDB item (typed attribute values) for one inference."""
    item = {
        "requestId": {"S": r["requestId"]},
        "timestamp": {"S": r["timestamp"]},
        "endpointName": {"S": r["endpointName"]},
        "modelVersion": {"S": r["modelVersion"]},
        "status": {"S": r["status"]},
        "eventSource": {"S": r["eventSource"]},
        "coldStart": {"BOOL": r["coldStart"]},
        "latencyMs": {"N": repr(r["latencyMs"])},
        "expiresAt": {"N": str(r["expiresAt"])},
    }
    raw: bytes = r["raw"]
    stored = raw[:MAX_INPUT_STORED_BYTES]
    item["input"] = {"S": stored.decode("utf-8", "ignore")}
    item["inputTruncated"] = {"BOOL": len(raw) > MAX_INPUT_STORED_BYTES}
    item["inputSha256"] = {"S": hashlib.sha256(raw).hexdigest()}
    item["inputBytes"] = {"N": str(len(raw))}
    optional_strings = (
        "modelName",
        "variantName",
        "errorType",
        "errorMessage",
        "lambdaRequestId",
        "functionVersion",
    )
    for name in optional_strings:
        if r.get(name):
            item[name] = {"S": r[name]}
    if r.get("features") is not None:
        item["features"] = {"L": [{"N": text} for text in r["features"]]}
    if r.get("prediction") is not None:
        item["prediction"] = {"N": storable(r["prediction"])}
        item["predictedLabel"] = {"N": "1" if r["prediction"] >= LABEL_THRESHOLD else "0"}
    if r.get("modelLatencyMs") is not None:
        item["modelLatencyMs"] = {"N": repr(r["modelLatencyMs"])}
    return item


# ---------------------------------------------------------------- the handler


def _response(status_code: int, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status_code,
        "headers": {**JSON_HEADERS, "X-Request-Id": request_id},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def request_id_of(event: object, context: object) -> str:
    """API Gateway's request id when present, else the Lambda request id."""
    if isinstance(event, dict):
        request_context = event.get("requestContext")
        if isinstance(request_context, dict):
            found = request_context.get("requestId")
            if isinstance(found, str) and found:
                return found
    found = getattr(context, "aws_request_id", None)
    if isinstance(found, str) and found:
        return found
    import uuid  # only for calls without a Lambda context (local experiments)

    return str(uuid.uuid4())


# ---------------------------------------------------------------- the handler's parts


def new_record(event: Any, context: Any) -> dict[str, Any]:
    """What is known of an inference before its input is read: ids, time, model, source, cold start, expiry."""
    global _cold_start
    now = time.time()
    cold, _cold_start = _cold_start, False
    cfg = SETTINGS
    return {
        "requestId": request_id_of(event, context),
        "timestamp": iso_millis(now),
        "endpointName": cfg.endpoint_name,
        "modelName": cfg.model_name,
        "modelVersion": cfg.model_version,
        "eventSource": event_source(event),
        "coldStart": cold,
        "lambdaRequestId": getattr(context, "aws_request_id", None) or "",
        "functionVersion": getattr(context, "function_version", None) or cfg.function_version,
        "expiresAt": int(now) + cfg.ttl_days * 86400,
        "raw": b"",
    }


def features_from(event: Any, r: dict[str, Any]) -> list[str]:
    """The request's features as exact number texts, from any event shape; keeps the raw input on r."""
    source = r["eventSource"]
    text, r["raw"] = request_text(event, source, SETTINGS.max_body_bytes)
    payload = event if source == "direct" else parse_json(text)
    if source == "direct" and _too_deep(text, MAX_JSON_DEPTH):
        raise ClientInputError(f"the event is nested more than {MAX_JSON_DEPTH} levels deep")
    return features_of(payload, SETTINGS.feature_count)


def answer(r: dict[str, Any]) -> dict[str, Any]:
    """The 200 answer's body for a prediction (and the record's status ok)."""
    r["status"] = "ok"
    return {
        "requestId": r["requestId"],
        "prediction": r["prediction"],
        "predictedLabel": 1 if r["prediction"] >= LABEL_THRESHOLD else 0,
        "modelVersion": SETTINGS.model_version,
        "variantName": r["variantName"] or None,
    }


def failure(r: dict[str, Any], status: str, error_type: str, message: str, said: str) -> dict[str, Any]:
    """Note a failed inference on r (status, error type, message up to 1,000 characters); the answer's body."""
    r["status"], r["errorType"], r["errorMessage"] = status, error_type, message[:1000]
    return {"error": said, "requestId": r["requestId"]}


def record_item(r: dict[str, Any]) -> dict[str, Any]:
    """The DynamoDB item for r; a minimal one when building it fails (a bug upstream must not lose the record)."""
    try:
        return build_record(r)
    except Exception as exc:  # e.g. an unserialisable value from a bug upstream
        r["errorMessage"] = f"record could not be built: {exc}"
        return {"requestId": {"S": r["requestId"]}, "status": {"S": r["status"]}}


def log_line(r: dict[str, Any], written: str) -> dict[str, Any]:
    """The one JSON log line per inference."""
    return {
        "event": "inference",
        "requestId": r["requestId"],
        "endpointName": r["endpointName"] or None,
        "modelVersion": r["modelVersion"] or None,
        "variantName": r.get("variantName") or None,
        "status": r["status"],
        "latencyMs": r["latencyMs"],
        "modelLatencyMs": r.get("modelLatencyMs"),
        "errorType": r.get("errorType"),
        "coldStart": r["coldStart"],
        "record": written,  # written | duplicate (a retried request) | failed (logged for backfill)
    }
