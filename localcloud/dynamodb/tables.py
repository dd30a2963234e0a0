"""DynamoDB tables as DynamoDB's control plane answers: CREATING, PITR not yet available, TTL limits.

moto 5.2.5 makes a table and its indexes ``ACTIVE`` at once, turns point-in-time recovery on at
any moment and lets TTL change as often as asked. Here:

- Under the ``aws`` profile ``CreateTable`` leaves the table ``CREATING`` (and every global
  secondary index ``CREATING``) for ``profile.delay("table_create")``; meanwhile data-plane calls
  answer ``ResourceNotFoundException`` as DynamoDB does for a table that is not ``ACTIVE``, and
  ``UpdateContinuousBackups`` answers ``ContinuousBackupsUnavailableException`` until
  ``profile.delay("pitr_unavailable")`` after creation (never before the table is ``ACTIVE``).
- In both profiles ``UpdateTimeToLive`` refuses a change to the state TTL is already in, and a
  second change within an hour of the last one, with DynamoDB's ``ValidationException`` texts.

State is kept per moto table object, so deleting or re-creating a table starts afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from localcloud import profile

TTL_CHANGE_INTERVAL_S = (
    3600.0  # DynamoDB allows one TTL change per table per hour (not scaled: a rule, not a delay)
)
DATA_ACTIONS = ("put_item", "get_item", "update_item", "delete_item", "query", "scan", "batch_write_item",
                "batch_get_item", "transact_write_items", "transact_get_items")  # fmt: skip


@dataclass
class TableState:
    """What DynamoDB's control plane is still doing for one table."""

    table: Any  # the moto Table this belongs to (a deleted or re-created table has another)
    active_at: float
    backups_at: float
    ttl_changed_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


_states: dict[tuple[str, str, str], TableState] = {}
_lock = threading.Lock()


@cache
def _errors() -> tuple[type[Exception], type[Exception], type[Exception]]:
    """The DynamoDB error classes the control plane answers with."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, MockValidationException, ResourceNotFoundException

    class ContinuousBackupsUnavailableException(JsonRESTError):
        """DynamoDB's answer to UpdateContinuousBackups while a new table's backups are being enabled."""

        def __init__(self, table_name: str) -> None:
            super().__init__(
                ERROR_TYPE_PREFIX + "ContinuousBackupsUnavailableException",
                f"Backups are being enabled for the table: {table_name}. Please retry later",
            )

    return MockValidationException, ResourceNotFoundException, ContinuousBackupsUnavailableException


def state_of(table: Any) -> TableState | None:
    """The control-plane state recorded for a moto table (None for one made before the hook)."""
    with _lock:
        state = _states.get((table.account_id, table.region_name, table.name))
    return state if state is not None and state.table is table else None


def creating(table: Any) -> bool:
    """True while the table is CREATING."""
    state = state_of(table)
    return state is not None and time.time() < state.active_at


def _track(table: Any) -> TableState:
    """Record a new table: ACTIVE after the create delay, backups available after the PITR delay."""
    now = time.time()
    current = profile.current()
    active_at = now + current.delay("table_create", table.name)
    state = TableState(table, active_at, max(active_at, now + current.delay("pitr_unavailable", table.name)))
    with _lock:
        _states[(table.account_id, table.region_name, table.name)] = state
    return state


def _table_names(body: Mapping[str, Any]) -> list[str]:
    """The tables a data-plane request names."""
    names = [body["TableName"]] if body.get("TableName") else []
    names += list((body.get("RequestItems") or {}).keys())
    for item in body.get("TransactItems") or []:
        names += [op.get("TableName") for op in item.values() if isinstance(op, dict) and op.get("TableName")]
    return names


def refuse_while_creating(backend: Any, body: Mapping[str, Any]) -> None:
    """Answer ResourceNotFoundException for a data-plane call on a CREATING table, as DynamoDB does."""
    for name in _table_names(body):
        table = backend.tables.get(name)
        if table is not None and creating(table):
            raise _errors()[1]()


# ---------------------------------------------------------------- what the hooks call


def describe(original: Callable[..., Any], table: Any, base_key: str = "TableDescription") -> dict[str, Any]:
    """Table.describe with TableStatus and IndexStatus CREATING while the table is being created."""
    result: dict[str, Any] = original(table, base_key)
    if creating(table):
        described = result[base_key]
        described["TableStatus"] = "CREATING"
        for index in described.get("GlobalSecondaryIndexes", []):
            index["IndexStatus"] = "CREATING"
    return result


def update_continuous_backups(
    original: Callable[..., Any], backend: Any, table_name: str, point_in_time_spec: dict[str, Any]
) -> dict[str, Any]:
    """UpdateContinuousBackups: ContinuousBackupsUnavailableException while a new table's backups are enabled."""
    table = backend.tables.get(table_name)
    state = state_of(table) if table is not None else None
    if state is not None and time.time() < state.backups_at:
        raise _errors()[2](table_name)
    answer: dict[str, Any] = original(backend, table_name, point_in_time_spec)
    return answer


def update_time_to_live(
    original: Callable[..., Any], backend: Any, table_name: str, ttl_spec: object
) -> None:
    """UpdateTimeToLive: refuse a change to the current state and a second change within the hour."""
    validation = _errors()[0]
    table = backend.tables.get(table_name)
    if table is None or not isinstance(ttl_spec, dict) or "Enabled" not in ttl_spec:
        original(backend, table_name, ttl_spec)
        return
    state = state_of(table) or _track_existing(table)
    with state.lock:
        status = table.ttl.get("TimeToLiveStatus", "DISABLED")
        if ttl_spec["Enabled"] and status in ("ENABLED", "ENABLING"):
            raise validation("TimeToLive is already enabled")
        if not ttl_spec["Enabled"] and status in ("DISABLED", "DISABLING"):
            raise validation("TimeToLive is already disabled")
        if state.ttl_changed_at is not None and time.time() - state.ttl_changed_at < TTL_CHANGE_INTERVAL_S:
            raise validation("Time to live has been modified multiple times within a fixed interval")
        original(backend, table_name, ttl_spec)
        state.ttl_changed_at = time.time()


def _track_existing(table: Any) -> TableState:
    """State for a table made before the hooks were installed: ACTIVE, backups available."""
    state = TableState(table, 0.0, 0.0)
    with _lock:
        _states[(table.account_id, table.region_name, table.name)] = state
    return state
