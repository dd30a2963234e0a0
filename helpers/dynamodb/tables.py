"""DynamoDB tables: made from a visible create_table spec, or verified against it; TTL, PITR and tags."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.waiters import backoff

CLEANUP_FIX = (
    "Fix: delete the table (notebooks/99_cleanup.ipynb) and run this cell again, or change the spec."
)
TTL_ONCE_AN_HOUR = "modified multiple times within a fixed interval"
PITR_TIMEOUT_S = 300


class TableMismatchError(RuntimeError):
    """An existing table differs from the spec in ways that cannot be changed in place."""


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
