"""DynamoDB for the workshop: tables made or verified from a visible spec, records, batches, backfill."""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, session

Item = dict[str, Any]  # a typed item: attribute name -> DynamoDB JSON value ({"S": "..."}, {"N": "1.5"}, ...)

FAILURE_EVENT = "metadata_write_failed"
FAILURE_PATTERN = '{ $.event = "metadata_write_failed" }'
BATCH_SIZE = 25  # BatchWriteItem's limit
WRITE_ATTEMPTS = 8
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
DATA_SERVICES = ("dynamodb", "sagemaker", "s3")
CLEANUP_FIX = (
    "Fix: delete the table (notebooks/99_cleanup.ipynb) and run this cell again, or change the spec."
)


class TableMismatchError(RuntimeError):
    """An existing table differs from the spec in ways that cannot be changed in place."""


class BatchWriteError(RuntimeError):
    """Some items stayed unprocessed after every retry; they are on .unprocessed."""

    def __init__(self, message: str, unprocessed: list[Item]) -> None:
        super().__init__(message)
        self.unprocessed = unprocessed


# ---------------------------------------------------------------- tables


def _key_schema(schema: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """A key schema as comparable (name, HASH/RANGE) pairs, in order."""
    return [(k["AttributeName"], k["KeyType"]) for k in schema or []]


def _projection(projection: dict[str, Any] | None) -> tuple[str, tuple[str, ...]]:
    """A projection as a comparable (type, sorted non-key attributes)."""
    projection = projection or {}
    return projection.get("ProjectionType", "ALL"), tuple(sorted(projection.get("NonKeyAttributes", [])))


def _indexes(indexes: Iterable[dict[str, Any]] | None) -> dict[str, tuple[Any, ...]]:
    """Secondary indexes by name as comparable (key schema, projection)."""
    return {
        ix["IndexName"]: (_key_schema(ix["KeySchema"]), _projection(ix.get("Projection")))
        for ix in indexes or []
    }


def table_differences(spec: dict[str, Any], table: dict[str, Any]) -> list[str]:
    """What differs between a create_table spec and a described table, one sentence each."""
    found = []
    if _key_schema(spec.get("KeySchema", [])) != _key_schema(table.get("KeySchema", [])):
        found.append(
            f"key schema: the spec has {_key_schema(spec.get('KeySchema', []))}, "
            f"the table has {_key_schema(table.get('KeySchema', []))}"
        )
    want_attrs = {(a["AttributeName"], a["AttributeType"]) for a in spec.get("AttributeDefinitions", [])}
    have_attrs = {(a["AttributeName"], a["AttributeType"]) for a in table.get("AttributeDefinitions", [])}
    if want_attrs != have_attrs:
        found.append(
            f"attribute definitions: the spec has {sorted(want_attrs)}, the table has {sorted(have_attrs)}"
        )
    want_billing = spec.get("BillingMode", "PROVISIONED")
    have_billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if want_billing != have_billing:
        found.append(f"billing mode: the spec has {want_billing}, the table has {have_billing}")
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        want, have = _indexes(spec.get(kind)), _indexes(table.get(kind))
        for name in sorted(want.keys() - have.keys()):
            found.append(f"{kind}: index {name!r} is in the spec but not on the table")
        for name in sorted(have.keys() - want.keys()):
            found.append(f"{kind}: index {name!r} is on the table but not in the spec")
        for name in sorted(want.keys() & have.keys()):
            if want[name] != have[name]:
                found.append(f"{kind}: index {name!r} is {have[name]} on the table, {want[name]} in the spec")
    return found


def wait_active(name: str, client: Any = None, timeout_s: float = 300, poll_s: float = 2.0) -> dict[str, Any]:
    """Wait until the table and its global indexes are ACTIVE, printing progress; return its description."""
    ddb = session.use_client(client, "dynamodb")
    started = time.monotonic()
    shown = ""
    while True:
        table: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]
        states = [table["TableStatus"]] + [
            ix.get("IndexStatus", "ACTIVE") for ix in table.get("GlobalSecondaryIndexes", [])
        ]
        if all(s == "ACTIVE" for s in states):
            if shown:
                print(f"  {name}: ACTIVE after {time.monotonic() - started:.0f} s")
            return table
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"table {name} is still {table['TableStatus']} after {timeout_s:.0f} s")
        status = f"{table['TableStatus']} (indexes: {', '.join(states[1:]) or 'none'})"
        if status != shown:
            print(f"  {name}: {status}, waiting ...")
            shown = status
        time.sleep(poll_s)


TTL_ONCE_AN_HOUR = "modified multiple times within a fixed interval"
PITR_TIMEOUT_S = 300


def _update_ttl(name: str, spec: dict[str, Any], ddb: Any) -> None:
    """UpdateTimeToLive, with AWS's once-an-hour limit explained."""
    try:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    except ClientError as exc:
        if TTL_ONCE_AN_HOUR not in exc.response.get("Error", {}).get("Message", ""):
            raise
        raise TableMismatchError(
            f"table {name}: DynamoDB refused to change TTL again (it allows one TTL change per table per hour). "
            "Fix: wait up to an hour and re-run this cell, or delete the table (99_cleanup) and re-run 8.1."
        ) from None


def _ensure_ttl(name: str, ttl: dict[str, Any], ddb: Any) -> str:
    """Bring the table's TTL to the spec, changing it only when it differs; return what was done."""
    current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    status = current.get("TimeToLiveStatus", "DISABLED")
    attribute = current.get("AttributeName")
    if ttl.get("Enabled"):
        if status in ("ENABLED", "ENABLING") and attribute == ttl["AttributeName"]:
            return f"TTL on {attribute}: already {status.lower()}"
        if status in ("ENABLED", "ENABLING"):
            raise TableMismatchError(
                f"table {name} expires items on {attribute!r}, the spec on {ttl['AttributeName']!r}. "
                "Fix: disable TTL on the table (AWS allows one TTL change per hour), or change the spec."
            )
        _update_ttl(name, ttl, ddb)
        return f"TTL on {ttl['AttributeName']}: enabled"
    if status in ("ENABLED", "ENABLING"):
        _update_ttl(name, {**ttl, "AttributeName": attribute}, ddb)
        return "TTL: disabled"
    return "TTL: off, as specified"


def _ensure_pitr(name: str, pitr: dict[str, Any], ddb: Any, timeout_s: float = PITR_TIMEOUT_S) -> str:
    """Bring point-in-time recovery to the spec, retrying while a new table's backups are being enabled."""
    started, attempt = time.monotonic(), 0
    while True:
        described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = (described.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
        want = bool(pitr.get("PointInTimeRecoveryEnabled"))
        if (status == "ENABLED") == want:
            return f"point-in-time recovery: already {'on' if want else 'off'}"
        try:
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
            return f"point-in-time recovery: turned {'on' if want else 'off'}"
        except ClientError as exc:
            if errors.code(exc) != "ContinuousBackupsUnavailableException":
                raise
            waited = time.monotonic() - started
            if waited > timeout_s:
                raise TimeoutError(
                    f"table {name}: backups were still being enabled after {waited:.0f} s "
                    f"({exc.response['Error'].get('Message')}). Fix: re-run this cell in a few minutes."
                ) from None
            if attempt == 0:
                print(
                    f"  {name}: DynamoDB is still enabling backups for the new table; retrying point-in-time recovery"
                )
            time.sleep(backoff(attempt, base_s=1.0, max_s=10.0))
            attempt += 1


def _ensure_tags(table: dict[str, Any], tags: list[dict[str, Any]], ddb: Any) -> str:
    """Add the spec's tags the table lacks (existing values, e.g. creation time, are kept)."""
    if not tags:
        return "tags: none in the spec"
    have = {t["Key"] for t in ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])}
    missing = [t for t in tags if t["Key"] not in have]
    if missing:
        ddb.tag_resource(ResourceArn=table["TableArn"], Tags=missing)
        return f"tags: added {', '.join(t['Key'] for t in missing)}"
    return "tags: present"


def ensure_table(spec: dict[str, Any], client: Any = None) -> dict[str, Any]:
    """Create the table from a CreateTable request, or verify an existing one and add the tags it lacks.

    TTL and point-in-time recovery are their own requests (ensure_time_to_live, ensure_continuous_backups);
    a spec that still carries TimeToLiveSpecification or PointInTimeRecoverySpecification has them applied too.
    """
    ddb = session.use_client(client, "dynamodb")
    spec = dict(spec)
    ttl = spec.pop("TimeToLiveSpecification", None)
    pitr = spec.pop("PointInTimeRecoverySpecification", None)
    name = spec["TableName"]
    try:
        existing = ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if errors.code(exc) != "ResourceNotFoundException":
            raise
        existing = None
    if existing is None:
        try:
            ddb.create_table(**spec)
            print(f"{name}: created")
        except ClientError as exc:
            if errors.code(exc) != "ResourceInUseException":
                raise
            existing = ddb.describe_table(TableName=name)[
                "Table"
            ]  # created meanwhile (another run of this cell)
    if existing is not None:
        differences = table_differences(spec, existing)
        if differences:
            lines = "\n".join(f"  - {d}" for d in differences)
            raise TableMismatchError(
                f"table {name} exists but differs from the spec:\n{lines}\n"
                "These cannot be changed in place. " + CLEANUP_FIX
            )
        print(f"{name}: exists and matches the spec")
    table = wait_active(name, ddb)
    if existing is not None:
        print(f"  {_ensure_tags(table, spec.get('Tags', []), ddb)}")
    if ttl is not None:
        ensure_time_to_live({"TableName": name, "TimeToLiveSpecification": ttl}, ddb)
    if pitr is not None:
        ensure_continuous_backups({"TableName": name, "PointInTimeRecoverySpecification": pitr}, ddb)
    described: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]
    return described


def ensure_time_to_live(request: dict[str, Any], client: Any = None) -> str:
    """Apply an UpdateTimeToLive request unless the table already has that TTL; print and return what was done."""
    ddb = session.use_client(client, "dynamodb")
    note = _ensure_ttl(request["TableName"], request["TimeToLiveSpecification"], ddb)
    print(f"  {request['TableName']}: {note}")
    return note


def ensure_continuous_backups(request: dict[str, Any], client: Any = None) -> str:
    """Apply an UpdateContinuousBackups request unless already so (retrying while a new table's backups are
    being enabled); print and return what was done."""
    ddb = session.use_client(client, "dynamodb")
    note = _ensure_pitr(request["TableName"], request["PointInTimeRecoverySpecification"], ddb)
    print(f"  {request['TableName']}: {note}")
    return note


# ---------------------------------------------------------------- records


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


def backoff(attempt: int, base_s: float = 0.05, max_s: float = 2.0) -> float:
    """The pause before retry number `attempt` + 1: exponential from base_s, capped at max_s."""
    return min(max_s, base_s * 2.0**attempt)


def _write_batch(
    ddb: Any, table: str, items: list[Item], max_attempts: int, sleep: Callable[[float], None]
) -> tuple[int, int, list[Item]]:
    """One BatchWriteItem of up to 25 items, retried while items are unprocessed or the table throttles:
    (requests made, retries, items still unwritten)."""
    pending = [{"PutRequest": {"Item": item}} for item in items]
    requests = retries = 0
    for attempt in range(max_attempts):
        requests += 1
        try:
            answer = ddb.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
        except ClientError as exc:
            if errors.code(exc) not in RETRYABLE:
                raise
        if not pending:
            break
        if attempt + 1 < max_attempts:
            retries += 1
            sleep(backoff(attempt))
    return requests, retries, [request["PutRequest"]["Item"] for request in pending]


def batch_write(
    table: str,
    items: list[Item],
    client: Any = None,
    *,
    workers: int = 1,
    on_written: Callable[[int], object] | None = None,
    max_attempts: int = WRITE_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Write typed items in batches of 25 by `workers` threads, retrying UnprocessedItems with bounded
    backoff; return a summary (items, batches requested, retries).

    AWS's BatchWriteItem reference: "If DynamoDB returns any unprocessed items, you should retry the
    batch operation on those items. However, we strongly recommend that you use an exponential backoff
    algorithm."

    `on_written(count)` is called, in the caller's thread, after each batch (a progress bar's update).
    When a batch is still unprocessed after `max_attempts`, the batches not yet started are cancelled
    and BatchWriteError carries every item not written.
    """
    ddb = session.use_client(client, "dynamodb", pool=workers)
    batches = [items[start : start + BATCH_SIZE] for start in range(0, len(items), BATCH_SIZE)]
    summary = {"items": len(items), "batches": 0, "retries": 0}
    unwritten: list[Item] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {
            pool.submit(_write_batch, ddb, table, batch, max_attempts, sleep): batch for batch in batches
        }
        try:
            for future in as_completed(futures):
                if future.cancelled():
                    unwritten += futures[future]
                    continue
                requests, retries, left = future.result()
                summary["batches"] += requests
                summary["retries"] += retries
                if on_written is not None:
                    on_written(len(futures[future]) - len(left))
                if left:
                    unwritten += left
                    for other in futures:
                        other.cancel()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    if unwritten:
        raise BatchWriteError(
            f"{len(unwritten)} of {len(items)} items were not written to {table} after {max_attempts} "
            "attempts (throttled). Fix: wait a minute, then run batch_write again with error.unprocessed.",
            unwritten,
        )
    return summary


def _put_with_retries(
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


# ---------------------------------------------------------------- backfill


def failure_record(message: str) -> dict[str, Any] | None:
    """The record carried by a metadata_write_failed log line, or None for any other line."""
    start = message.find("{")
    if start < 0:
        return None
    try:
        line = json.loads(message[start:])
    except ValueError:
        return None
    if not isinstance(line, dict) or line.get("event") != FAILURE_EVENT:
        return None
    record = line.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("requestId"), dict):
        return None
    return record


def _epoch_ms(moment: _dt.datetime | float | int | None) -> int | None:
    """A start time as epoch milliseconds (datetimes without a zone are taken as UTC)."""
    if moment is None:
        return None
    if isinstance(moment, _dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.UTC)
        return int(moment.timestamp() * 1000)
    return int(moment)


def _logged_failures(
    logs: Any, log_group: str, start_time: _dt.datetime | float | int | None
) -> list[dict[str, Any]]:
    """Every record carried by a metadata_write_failed line searchable in the group now, oldest first."""
    kwargs: dict[str, Any] = {"logGroupName": log_group, "filterPattern": FAILURE_PATTERN}
    if start_time is not None:
        kwargs["startTime"] = _epoch_ms(start_time)
    records = []
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except ClientError as exc:
            if errors.code(exc) == "ResourceNotFoundException":
                raise LookupError(
                    f"log group {log_group} does not exist: nothing was logged there yet "
                    "(has the function run?)"
                ) from None
            raise
        for event in page.get("events", []):
            # The pattern is checked again here: a filter that over-matches must not replay noise.
            record = failure_record(event.get("message", ""))
            if record is not None:
                records.append(record)
        token = page.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return records
        kwargs["nextToken"] = token


def _not_found(records: list[dict[str, Any]], expect: Iterable[str] | int | None) -> list[str]:
    """What the caller expects that the records lack: request ids, or '<n> more' for a count."""
    found = {r.get("requestId", {}).get("S") for r in records}
    if expect is None:
        return []
    if isinstance(expect, int):
        return [f"{expect - len(found)} more"] if len(found) < expect else []
    return sorted(set(expect) - found)


def backfill_from_logs(
    log_group: str,
    table: str,
    start_time: _dt.datetime | int | None = None,
    client: Any = None,
    logs_client: Any = None,
    *,
    expect: Iterable[str] | int | None = None,
    timeout_s: float = 120,
    poll_s: float = 2,
) -> dict[str, Any]:
    """Replay every metadata_write_failed record logged in the group into the table, once each.

    CloudWatch Logs makes a line searchable only seconds after the function wrote it. With `expect`
    (the request ids known to have failed, or their number) it first waits, for at most timeout_s,
    until all of them are searchable; what is still missing then is named in a WorkshopError after
    what was found has been restored.
    """
    from helpers.errors import WorkshopError

    ddb = session.use_client(client, "dynamodb")
    logs = session.use_client(logs_client, "logs")
    started = time.monotonic()
    reported = -math.inf
    records = _logged_failures(logs, log_group, start_time)
    while (missing := _not_found(records, expect)) and time.monotonic() - started < timeout_s:
        waited = time.monotonic() - started
        if waited - reported >= 10:
            reported = waited
            print(
                f"waiting for CloudWatch Logs to make the failure lines searchable ({waited:.0f} s of at most "
                f"{timeout_s:.0f} s); not yet found: {', '.join(missing)}"
            )
        time.sleep(poll_s)
        records = _logged_failures(logs, log_group, start_time)
    summary: dict[str, Any] = {
        "events": 0,
        "restored": 0,
        "skipped": 0,
        "failed": 0,
        "errors": [],
        "missing": missing,
    }
    for record in records:
        summary["events"] += 1
        try:
            written = _put_with_retries(table, record, ddb)
        except ClientError as exc:
            summary["failed"] += 1
            summary["errors"].append(f"{record['requestId'].get('S')}: {errors.code(exc)}: {exc}")
            continue
        summary["restored" if written else "skipped"] += 1
    print(
        f"{log_group} -> {table}: {summary['events']} failed writes found, {summary['restored']} restored, "
        f"{summary['skipped']} already present, {summary['failed']} failed"
    )
    if missing:
        raise WorkshopError(
            f"After {timeout_s:.0f} s, {log_group} still shows no metadata_write_failed line for: "
            f"{', '.join(missing)} (the {summary['restored']} found were restored). CloudWatch Logs usually makes "
            "lines searchable within seconds. Fix: check the function's log group for those requests (did they "
            "fail to write, or were they recorded after all?), then run the backfill again: it restores each "
            "record once."
        )
    return summary


# ---------------------------------------------------------------- IAM check


def _as_list(value: Any) -> list[Any]:
    """An IAM field that may be one string or a list, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict)) else list(value)


def _wildcard_resource(resource: str) -> bool:
    """True when a resource ARN names more than one thing (a table's own indexes are allowed)."""
    if "*" not in resource:
        return False
    stem, sep, rest = resource.partition("/index/")
    return not (sep and rest == "*" and "*" not in stem)


def wildcard_violations(policy_document: dict[str, Any] | str) -> list[str]:
    """Statements that grant a wildcard action, or a wildcard resource on data actions; one line each."""
    document = json.loads(policy_document) if isinstance(policy_document, str) else policy_document
    found = []
    for number, statement in enumerate(_as_list(document.get("Statement")), start=1):
        if statement.get("Effect") != "Allow":
            continue
        label = f"statement {number}" + (f" ({statement['Sid']})" if statement.get("Sid") else "")
        if "NotAction" in statement:
            found.append(f"{label}: NotAction grants every action but those listed; list the actions instead")
        if "NotResource" in statement:
            found.append(
                f"{label}: NotResource grants every resource but those listed; list the resources instead"
            )
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        for action in actions:
            if "*" in action:
                found.append(
                    f"{label}: action {action!r} is a wildcard; grant only the actions used (e.g. dynamodb:PutItem)"
                )
        data_actions = [a for a in actions if a == "*" or a.split(":", 1)[0].lower() in DATA_SERVICES]
        if data_actions:
            for resource in _as_list(statement.get("Resource")):
                if isinstance(resource, str) and _wildcard_resource(resource):
                    found.append(
                        f"{label}: resource {resource!r} is a wildcard for {', '.join(data_actions)}; "
                        "name the table's or endpoint's ARN"
                    )
    return found
