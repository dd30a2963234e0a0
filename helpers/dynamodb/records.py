"""Inference records one at a time: a conditional write keyed by the request id, a consistent read."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.waiters import backoff

Item = dict[str, Any]  # a typed item: attribute name -> DynamoDB JSON value ({"S": "..."}, {"N": "1.5"}, ...)
# DynamoDB's throttling and transient server errors: worth retrying after a pause (helpers only).
RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def put_record(table: str, item: dict[str, Any], client: Any = None) -> bool:
    """Write a typed item unless its requestId is already stored; True when written."""
    try:
        session.use_client(client, "dynamodb").put_item(
            TableName=table, Item=item, ConditionExpression="attribute_not_exists(requestId)"
        )
        return True
    except ClientError as exc:
        if errors.code(exc) == "ConditionalCheckFailedException":
            return False
        raise


def get_record(table: str, request_id: str, client: Any = None) -> dict[str, Any] | None:
    """The typed item stored for a request id, or None (a strongly consistent read)."""
    found = session.use_client(client, "dynamodb").get_item(
        TableName=table, Key={"requestId": {"S": request_id}}, ConsistentRead=True
    )
    stored: dict[str, Any] | None = found.get("Item")
    return stored


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A typed item as plain Python values (numbers as Decimal, exactly as stored)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def put_with_retries(
    table: str, item: dict[str, Any], ddb: Any, attempts: int = 5, base_s: float = 0.05
) -> bool:
    """put_record, retrying throttling with bounded backoff."""
    for attempt in range(attempts):
        try:
            return put_record(table, item, ddb)
        except ClientError as exc:
            if errors.code(exc) not in RETRYABLE or attempt + 1 == attempts:
                raise
            time.sleep(backoff(attempt, base_s))
    raise AssertionError("unreachable")
