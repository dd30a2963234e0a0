"""The backfill: records the handler could not write, logged as metadata_write_failed lines, replayed."""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.dynamodb.records import put_with_retries
from helpers.errors import WorkshopError

FAILURE_EVENT = "metadata_write_failed"
FAILURE_PATTERN = '{ $.event = "metadata_write_failed" }'


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
            written = put_with_retries(table, record, ddb)
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
