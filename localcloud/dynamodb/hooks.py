"""Puts DynamoDB's control plane (tables.py) and the fast paths (fast_paths.py) into moto 5.2.5.

- tables: ``DynamoDBBackend.create_table`` records the table's state, ``Table.describe`` reports
  ``CREATING``, ``update_continuous_backups`` and ``update_time_to_live`` answer DynamoDB's
  refusals, and every data-plane action of ``DynamoHandler`` refuses a ``CREATING`` table.
- fast paths: ``Table.sorted_items``/``all_items`` sort by key values converted once,
  ``Item.__init__`` measures an item once, ``DynamoHandler.serialized`` writes item-heavy results
  straight to JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import patching
from localcloud.dynamodb import fast_paths, tables


def _make_create(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateTable that records the new table's control-plane state."""

    def create_table(self: Any, *args: Any, **kwargs: Any) -> Any:
        table = original(self, *args, **kwargs)
        tables._track(table)
        return table

    return create_table


def _guard(original: Callable[..., Any]) -> Callable[..., Any]:
    """A data-plane response method that first refuses CREATING tables."""

    def guarded(self: Any) -> Any:
        tables.refuse_while_creating(self.dynamodb_backend, self.body)
        return original(self)

    return guarded


def _install_tables() -> None:
    """Put table states, PITR availability and TTL limits into moto's DynamoDB."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    create_params = ["self", "name", "schema", "throughput", "attr", "global_indexes", "indexes", "streams",
                     "billing_mode", "sse_specification", "tags", "deletion_protection_enabled", "warm_throughput"]  # fmt: skip
    patching.patch(DynamoDBBackend, "create_table", create_params, _make_create)
    patching.patch(
        Table,
        "describe",
        ["self", "base_key"],
        lambda original: lambda self, base_key="TableDescription": tables.describe(original, self, base_key),
    )
    patching.patch(DynamoDBBackend, "update_continuous_backups", ["self", "table_name", "point_in_time_spec"],
                lambda original: lambda self, table_name, point_in_time_spec: tables.update_continuous_backups(
                    original, self, table_name, point_in_time_spec))  # fmt: skip
    patching.patch(DynamoDBBackend, "update_time_to_live", ["self", "table_name", "ttl_spec"],
                lambda original: lambda self, table_name, ttl_spec: tables.update_time_to_live(
                    original, self, table_name, ttl_spec))  # fmt: skip
    for action in tables.DATA_ACTIONS:
        patching.patch(DynamoHandler, action, ["self"], _guard)


def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """Item.__init__ that measures the item once (moto re-measures it for each attribute set: quadratic)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    converted = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in converted.items()) > fast_paths.ITEM_LIMIT_BYTES:
        raise ItemSizeTooLarge
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict()
    dict.update(self.attrs, converted)


def _fast_serialized(original: Callable[..., Any]) -> Callable[..., Any]:
    """DynamoHandler.serialized that writes item-heavy results straight to JSON."""

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in fast_paths.FAST_ACTIONS:
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            return 200, headers, fast_paths.encode(result)
        return original(self, action_result)

    return serialized


def _install_fast_paths() -> None:
    """Write Query/Scan/GetItem/BatchGetItem results straight to JSON; sort and size items fast."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    patching.patch(
        Table,
        "sorted_items",
        ["self", "hash_key_attrs", "range_key_attrs", "items"],
        lambda original: fast_paths.sorted_items,
    )
    patching.patch(Table, "all_items", ["self"], lambda original: fast_paths.all_items)
    patching.patch(Item, "__init__", ["self", "hash_key", "range_key", "attrs"], lambda original: _item_init)
    patching.patch(DynamoHandler, "serialized", ["self", "action_result"], _fast_serialized)


def install() -> None:
    """Hook DynamoDB's control plane and the fast paths into moto (idempotent)."""
    _install_tables()
    _install_fast_paths()
