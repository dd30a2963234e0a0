"""The inference record: the one DynamoDB item per inference that chapter 8.2's handler writes.

This is the schema's one definition. The handler (lambda/app.py build_record) is deployed as one file
and cannot import it, so tests/kitformats/test_record_schema.py holds its records to it; the demo history
(helpers.history's seed) is tested against it too, and the typed loader (helpers.history's arrow
schema) is built from it.
"""

from __future__ import annotations

from typing import Any

# Attribute -> its DynamoDB type tag (S string, N number, BOOL, L a list of numbers), in reading order.
ATTRIBUTES: dict[str, str] = {
    "requestId": "S",
    "timestamp": "S",  # ISO-8601 UTC with milliseconds, e.g. 2026-01-01T12:00:00.123Z
    "endpointName": "S",
    "modelName": "S",
    "modelVersion": "S",
    "variantName": "S",
    "input": "S",  # the request as received, at most the handler's MAX_INPUT_STORED_BYTES
    "inputTruncated": "BOOL",
    "inputSha256": "S",  # of the whole input, truncated or not
    "inputBytes": "N",
    "features": "L",
    "prediction": "N",
    "predictedLabel": "N",
    "latencyMs": "N",
    "modelLatencyMs": "N",
    "status": "S",
    "errorType": "S",
    "errorMessage": "S",
    "eventSource": "S",
    "coldStart": "BOOL",
    "lambdaRequestId": "S",
    "functionVersion": "S",
    "expiresAt": "N",  # epoch seconds: the table's TTL attribute
}
# What every record carries whatever happened; the others depend on the outcome (no prediction for a
# client error, no error for an ok) or on what the invocation knew (a variant, a Lambda request id).
ALWAYS = frozenset(
    {
        "requestId",
        "timestamp",
        "endpointName",
        "modelVersion",
        "status",
        "eventSource",
        "coldStart",
        "latencyMs",
        "expiresAt",
        "input",
        "inputTruncated",
        "inputSha256",
        "inputBytes",
    }
)
STATUSES = ("ok", "client_error", "model_error", "server_error")


def problems(item: dict[str, dict[str, Any]]) -> list[str]:
    """How a DynamoDB item departs from the schema (an attribute it lacks, has extra, or types otherwise)."""
    found = [f"lacks {name}" for name in sorted(ALWAYS - item.keys())]
    for name, value in item.items():
        tag = ATTRIBUTES.get(name)
        if tag is None:
            found.append(f"has {name}, which the schema does not")
        elif list(value) != [tag]:
            found.append(f"{name} is {sorted(value)}, the schema says {tag}")
        elif tag == "L" and any(not isinstance(e, dict) or list(e) != ["N"] for e in value["L"]):
            found.append(f"{name} holds something other than numbers")
    status = item.get("status", {}).get("S")
    if status is not None and status not in STATUSES:
        found.append(f"status {status!r} is none of {', '.join(STATUSES)}")
    return found
