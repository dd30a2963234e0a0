""" "Before you start": what each notebook needs from the earlier ones, checked before any call can fail.

Each notebook's first cell calls ``require("8.3")`` (say). Every check asks AWS in a way that answers
"missing" instead of raising for a missing resource, so a notebook opened out of order stops with
the kit's own one line (``Run 8.2 first: ...``), never a botocore traceback. The earliest notebook
whose work is missing is the one named: on a fresh prefix that is ``00_setup``, whatever was opened.
Other failures (denied permissions, expired credentials, no network) still raise, and
``session.show_error`` explains them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from helpers import session
from helpers.config import BAD_VERSION, METADATA_INDEX, Names
from helpers.errors import WorkshopError, is_not_found

ORDER = ("00_setup", "8.1", "8.2", "8.3", "8.4", "8.5")


class NotReady(WorkshopError):
    """An earlier notebook has not run (or not to the end) for this prefix."""


def _look_up(service: str, operation: str, **params: Any) -> dict[str, Any] | None:
    """The call's answer, or None when AWS says the resource does not exist (any other error is raised)."""
    try:
        answer: dict[str, Any] = getattr(session.client(service), operation)(**params)
        return answer
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise


def _endpoint(names: Names) -> str | None:
    answer = _look_up("sagemaker", "describe_endpoint", EndpointName=names.endpoint)
    if answer is None:
        return f"endpoint {names.endpoint} does not exist"
    status = answer["EndpointStatus"]
    return None if status == "InService" else f"endpoint {names.endpoint} is {status}, not InService"


def _function(names: Names) -> dict[str, Any] | None:
    return _look_up("lambda", "get_function_configuration", FunctionName=names.function)


def _function_exists(names: Names) -> str | None:
    return None if _function(names) else f"function {names.function} does not exist"


def _metadata_table(names: Names) -> str | None:
    answer = _look_up("dynamodb", "describe_table", TableName=names.metadata_table)
    if answer is None:
        return f"table {names.metadata_table} does not exist"
    table = answer["Table"]
    if table["TableStatus"] != "ACTIVE":
        return f"table {names.metadata_table} is {table['TableStatus']}, not ACTIVE"
    if not any(i["IndexName"] == METADATA_INDEX for i in table.get("GlobalSecondaryIndexes", [])):
        return f"table {names.metadata_table} has no {METADATA_INDEX}"
    return None


def _function_records(names: Names) -> str | None:
    function = _function(names) or {}
    variables = function.get("Environment", {}).get("Variables", {})
    if variables.get("TABLE_NAME") != names.metadata_table:
        return f"function {names.function} does not write records to {names.metadata_table} yet"
    return None


def _bad_version(names: Names) -> str | None:
    config = names.version(BAD_VERSION).endpoint_config
    answer = _look_up("sagemaker", "describe_endpoint_config", EndpointConfigName=config)
    return None if answer else f"endpoint configuration {config} (8.2's bad model version) does not exist"


def _records(names: Names) -> str | None:
    answer = _look_up(
        "dynamodb",
        "query",
        TableName=names.metadata_table,
        IndexName=METADATA_INDEX,
        Limit=1,
        KeyConditionExpression="endpointName = :e",
        ExpressionAttributeValues={":e": {"S": names.endpoint}},
    )
    if answer is None:
        return f"table {names.metadata_table} does not exist"
    return (
        None
        if answer["Items"]
        else f"table {names.metadata_table} holds no inference records of {names.endpoint}"
    )


def _metric_filters(names: Names) -> str | None:
    answer = _look_up("logs", "describe_metric_filters", logGroupName=names.function_log_group)
    if answer is None:
        return f"log group {names.function_log_group} does not exist"
    counted = {t["metricName"] for f in answer["metricFilters"] for t in f["metricTransformations"]}
    missing = sorted({"InferenceCount", "DuplicateRequests"} - counted)
    return f"{names.function_log_group} has no metric filter for {', '.join(missing)}" if missing else None


# (the notebook that makes it, the first notebook that needs it, the check: None when present, else what is missing)
CHECKS: list[tuple[str, str, Callable[[Names], str | None]]] = [
    ("00_setup", "8.1", _endpoint),
    ("00_setup", "8.1", _function_exists),  # 00_setup makes it last: its role and the rest exist
    ("8.1", "8.2", _metadata_table),
    ("8.2", "8.3", _function_records),
    ("8.2", "8.3", _bad_version),
    ("8.2", "8.4", _records),
    ("8.3", "8.4", _metric_filters),
]


def missing(notebook: str) -> list[tuple[str, str]]:
    """What the earlier notebooks should have left for `notebook` and did not: (notebook to run, what is missing)."""
    names = session.settings().names
    needed = [
        (made_by, check)
        for made_by, needed_by, check in CHECKS
        if ORDER.index(needed_by) <= ORDER.index(notebook)
    ]
    found: list[tuple[str, str]] = []
    for made_by, check in needed:
        if any(made_by == m for m, _ in found):
            continue  # one reason per notebook is enough
        if any(ORDER.index(m) < ORDER.index(made_by) for m, _ in found):
            # An earlier notebook is missing: what it makes is missing too, and this one cannot have run.
            found.append((made_by, ""))
            continue
        reason = check(names)
        if reason:
            found.append((made_by, reason))
    return found


def require(notebook: str) -> None:
    """Stop with one line naming the notebook to run first when an earlier notebook's work is missing."""
    if notebook not in ORDER:
        raise ValueError(f"unknown notebook {notebook!r}: one of {', '.join(ORDER)}")
    gaps = missing(notebook)
    if not gaps:
        return
    first, reason = gaps[0]
    then = [m for m, _ in gaps[1:]]
    after = f" (then {', '.join(then)})" if then else ""
    raise NotReady(f"Run {first} first{after}: {reason}.")
