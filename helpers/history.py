"""Inference history (chapter 8.4): load records from DynamoDB into pandas, seed a demo history,
find latency regressions and error bursts, and export (reconciling with CloudWatch is in
helpers.reconciliation).

The loaded frame has one column per record attribute:

- ``timestamp``: tz-aware UTC datetimes; rows are sorted by it.
- numbers: ``float64`` for measurements (``prediction``, ``latencyMs``, ``modelLatencyMs``), pandas'
  nullable ``Int64`` for integers (``inputBytes``, ``predictedLabel``, ``expiresAt``), so a missing
  attribute is NaN / <NA> and the column keeps its type. Never ``Decimal``.
- flags: nullable ``boolean``. Text: pandas ``str``. ``status``, ``variantName``, ``modelVersion``
  and ``eventSource`` are categoricals.
- ``features`` (a list of numbers) is spread into float64 columns ``f0``, ``f1``, ``f2``, ``f3``
  (more if a record carries more; NaN where a record has fewer or none): numeric columns are what
  pandas analyses fast (drift per feature), and the model takes four features. A list element
  that is not a number becomes NaN.
- attributes outside the schema (hand-written items, older handlers) are kept, typed from what
  they hold.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from helpers import clock
from helpers.config import METADATA_INDEX

INDEX_NAME = METADATA_INDEX
BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_WRITE_ATTEMPTS = 8

# Attribute -> (DynamoDB type tag, column kind). Kinds: str, cat, time, float, int, bool, list.
SCHEMA: dict[str, tuple[str, str]] = {
    "requestId": ("S", "str"),
    "timestamp": ("S", "time"),
    "endpointName": ("S", "str"),
    "modelName": ("S", "str"),
    "modelVersion": ("S", "cat"),
    "variantName": ("S", "cat"),
    "input": ("S", "str"),
    "inputTruncated": ("BOOL", "bool"),
    "inputSha256": ("S", "str"),
    "inputBytes": ("N", "int"),
    "features": ("L", "vector"),
    "prediction": ("N", "float"),
    "predictedLabel": ("N", "int"),
    "latencyMs": ("N", "float"),
    "modelLatencyMs": ("N", "float"),
    "status": ("S", "cat"),
    "errorType": ("S", "str"),
    "errorMessage": ("S", "str"),
    "eventSource": ("S", "cat"),
    "coldStart": ("BOOL", "bool"),
    "lambdaRequestId": ("S", "str"),
    "functionVersion": ("S", "str"),
    "expiresAt": ("N", "int"),
}
FEATURE_COLUMNS = 4  # f0..f3 always present


# ---------------------------------------------------------------- converting DynamoDB JSON
#
# A Query or Scan page is parsed straight from its JSON body by pyarrow into one struct column per
# attribute, each a struct of its type tags ({"N": "12.5"} -> struct<N: string>); the conversions
# to typed columns are then whole-column casts. Python never touches the ~20 values of each item.

_TAG_TYPES = {"S": pa.string(), "N": pa.string(), "BOOL": pa.bool_()}


def _attribute_type(tag: str) -> pa.DataType:
    """The arrow type of one schema attribute's DynamoDB JSON value."""
    if tag == "L":
        return pa.struct([pa.field("L", pa.list_(pa.struct([pa.field("N", pa.string())])))])
    return pa.struct([pa.field(tag, _TAG_TYPES[tag])])


# Declared for the schema's attributes (parsing skips type inference for them); anything else,
# other tags included, is inferred.
_PAGE_SCHEMA = pa.schema(
    [
        pa.field(
            "Items",
            pa.list_(pa.struct([pa.field(name, _attribute_type(tag)) for name, (tag, _) in SCHEMA.items()])),
        )
    ]
)


def _read_json(body: bytes, schema: pa.Schema | None) -> pa.Table:
    """One JSON document as a one-row arrow table (the whole document is one block)."""
    return pa_json.read_json(
        pa.BufferReader(body),
        read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(body) + 1, 1 << 16)),
        parse_options=pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer"),
    )


def _items_of(table: pa.Table) -> list[pa.StructArray]:
    """The Items of a parsed page as struct arrays (none for an empty page)."""
    if "Items" not in table.column_names:
        return []
    column = table.column("Items")
    if not pa.types.is_struct(column.type.value_type):  # an empty page: list<null>
        return []
    items = [pc.list_flatten(chunk) for chunk in column.chunks]
    return [chunk for chunk in items if len(chunk)]


def _strip(value: Any) -> Any:
    """An arrow-read DynamoDB JSON value without the null tags and keys other rows added."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def parse_page(body: bytes) -> tuple[list[pa.StructArray], dict | None]:
    """A Query or Scan response body as (its items as struct arrays, its LastEvaluatedKey)."""
    try:
        table = _read_json(body, _PAGE_SCHEMA)
    except pa.ArrowInvalid:
        # Items whose shapes cannot share one inferred type (never DynamoDB's own JSON, which
        # types every value by its tag): read item by item, each with its own type.
        page = json.loads(body)
        items = [one for item in page.get("Items", []) for one in items_to_arrow([item])]
        return items, page.get("LastEvaluatedKey")
    last_key = None
    if "LastEvaluatedKey" in table.column_names:
        last_key = _strip(table.column("LastEvaluatedKey").to_pylist()[0])
    return _items_of(table), last_key


def items_to_arrow(items: list[dict]) -> list[pa.StructArray]:
    """Items in DynamoDB JSON (as the low-level client returns them) as struct arrays."""
    if not items:
        return []
    body = json.dumps({"Items": items}).encode()
    if len(items) > 1:
        return parse_page(body)[0]
    try:
        return _items_of(_read_json(body, _PAGE_SCHEMA))
    except pa.ArrowInvalid:  # a schema attribute with a payload of the wrong JSON type: infer them all
        return _items_of(_read_json(body, None))


def _plain(value: dict | None) -> Any:
    """One attribute value in DynamoDB JSON as a plain Python value (numbers as int or float)."""
    if not value:
        return None
    ((tag, v),) = value.items()
    if tag == "S":
        return v
    if tag == "N":
        number = float(v)
        return int(v) if number.is_integer() and "." not in v and "e" not in v.lower() else number
    if tag == "BOOL":
        return v
    if tag == "NULL":
        return None
    if tag == "L":
        return [_plain(x) for x in v]
    if tag == "M":
        return {k: _plain(x) for k, x in v.items()}
    if tag == "SS":
        return set(v)
    if tag == "NS":
        return {_plain({"N": x}) for x in v}
    if tag == "B":
        return base64.b64decode(v) if isinstance(v, str) else v
    if tag == "BS":
        return {base64.b64decode(x) if isinstance(x, str) else x for x in v}
    raise ValueError(f"Unknown DynamoDB type tag {tag!r} in {value!r}")


def _tags(cells: pa.StructArray) -> dict[str, pa.Array]:
    """An attribute's cells split by type tag: tag -> values (null where the cell has another tag);
    nothing for values that are not tagged objects."""
    if not pa.types.is_struct(cells.type):
        return {}
    return dict(zip((f.name for f in cells.type), cells.flatten(), strict=True))


def _text_as_numbers(text: pa.Array) -> pa.Array:
    """Strings as float64, null where a string is not a number."""
    try:
        return pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        return pa.array(
            pd.to_numeric(text.to_pandas(), errors="coerce").to_numpy(np.float64),
            pa.float64(),
            from_pandas=True,
        )


def _numbers(cells: pa.StructArray) -> pa.Array:
    """Number cells (or numbers written as text) as float64, null elsewhere."""
    tags = _tags(cells)
    parts = [_text_as_numbers(tags[t]) for t in ("N", "S") if t in tags]
    return pc.coalesce(*parts) if parts else pa.nulls(len(cells), pa.float64())


def _text(cells: pa.StructArray) -> pa.Array:
    """Text cells (or the text of numbers and flags) as strings, null elsewhere."""
    tags = _tags(cells)
    parts = [pc.cast(tags[t], pa.string()) for t in ("S", "N", "BOOL") if t in tags]
    return pc.coalesce(*parts) if parts else pa.nulls(len(cells), pa.string())


def _times(cells: pa.StructArray) -> pa.Array:
    """ISO 8601 text cells as UTC timestamps (µs), null where unreadable."""
    text = _text(cells)
    try:
        return pc.cast(text, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        stamps = pd.to_datetime(text.to_pandas(), format="ISO8601", utc=True, errors="coerce").dt.as_unit(
            "us"
        )
        return pa.array(stamps, pa.timestamp("us", tz="UTC"))


def _flags(cells: pa.StructArray) -> pa.Array:
    """BOOL cells as booleans, null elsewhere."""
    flags = _tags(cells).get("BOOL")
    return (
        flags if flags is not None and pa.types.is_boolean(flags.type) else pa.nulls(len(cells), pa.bool_())
    )


def _vectors(cells: pa.StructArray) -> np.ndarray:
    """List-of-number cells as a float matrix padded with NaN (non-numbers become NaN)."""
    lists = _tags(cells).get("L")
    if lists is None or len(lists) == 0:
        return np.full((len(cells), FEATURE_COLUMNS), np.nan)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
    width = max(FEATURE_COLUMNS, int(lengths.max()))
    elements = pc.list_flatten(lists)
    values = (
        _numbers(elements) if pa.types.is_struct(elements.type) else pa.nulls(len(elements), pa.float64())
    )
    flat = values.to_numpy(zero_copy_only=False).astype(np.float64)
    out = np.full((len(cells), width), np.nan)
    rows = np.repeat(np.arange(len(cells)), lengths)
    out[rows, np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)] = flat
    return out


def _objects(cells: pa.StructArray) -> list:
    """Cells of any type as plain Python values (maps, lists, sets, bytes, ...)."""
    return [_plain(_strip(cell)) if isinstance(cell, dict) else cell for cell in cells.to_pylist()]


_CONVERTERS: dict[str, Callable[[pa.StructArray], Any]] = {
    "float": _numbers,
    "int": _numbers,
    "str": _text,
    "cat": _text,
    "time": _times,
    "bool": _flags,
    "vector": _vectors,
    "obj": _objects,
}


def _kind_of_extra(types: list[pa.DataType]) -> str:
    """The column kind of an attribute outside the schema, from the tags its cells carry."""
    tags = {f.name for t in types if pa.types.is_struct(t) for f in t}
    if len(tags) == 1:
        return {"S": "str", "N": "float", "BOOL": "bool"}.get(tags.pop(), "obj")
    return "obj"


def _typed(kind: str, parts: list) -> Any:
    """One column's converted parts as a typed pandas array of the column's kind."""
    if kind == "obj":
        return pd.array(list(chain.from_iterable(parts)), dtype=object)
    if kind == "vector":
        return np.concatenate(parts) if parts else np.empty((0, FEATURE_COLUMNS))
    joined = pa.chunked_array(parts, type=parts[0].type) if parts else None
    if kind in ("float", "int"):
        values = joined.to_numpy().astype(np.float64) if joined is not None else np.empty(0)
        if kind == "int":
            finite = values[~np.isnan(values)]
            if np.array_equal(finite, np.round(finite)):
                return pd.array(values, dtype="Int64")
        return pd.array(values, dtype="float64")
    if kind == "time":
        stamps = joined if joined is not None else pa.chunked_array([], pa.timestamp("us", tz="UTC"))
        return pd.array(stamps.to_pandas(), dtype="datetime64[us, UTC]")
    if kind == "bool":
        return pd.array(joined if joined is not None else pa.array([], pa.bool_()), dtype="boolean")
    text = pd.array(joined if joined is not None else pa.array([], pa.string()), dtype="str")
    if kind == "cat":
        categorical = pd.Categorical(text)
        return categorical.reorder_categories(sorted(categorical.categories))
    return text


class ColumnBuffer:
    """Accumulates pages of items (arrow struct arrays, one column per attribute), thread-safe."""

    def __init__(self) -> None:
        self._pages: list[pa.StructArray] = []
        self._lock = threading.Lock()

    @property
    def rows(self) -> int:
        """How many items were added."""
        return sum(map(len, self._pages))

    def add(self, items: list[pa.StructArray]) -> None:
        """Append parsed items (see parse_page)."""
        with self._lock:
            self._pages.extend(items)

    def add_json(self, items: list[dict]) -> None:
        """Append items in DynamoDB JSON (as the low-level client returns them)."""
        self.add(items_to_arrow(items))

    def frame(self) -> pd.DataFrame:
        """The typed DataFrame of everything added so far, sorted by timestamp."""
        names = list(SCHEMA)
        names += dict.fromkeys(f.name for page in self._pages for f in page.type if f.name not in SCHEMA)
        columns: dict[str, Any] = {}
        for name in names:
            cells = [
                page.field(name) if page.type.get_field_index(name) >= 0 else None for page in self._pages
            ]
            kind = (
                SCHEMA[name][1]
                if name in SCHEMA
                else _kind_of_extra([c.type for c in cells if c is not None])
            )
            convert = _CONVERTERS[kind]
            parts = [
                convert(c) if c is not None else convert(pa.nulls(len(page), pa.struct([])))
                for c, page in zip(cells, self._pages, strict=True)
            ]
            if kind == "vector":
                matrix = _typed(kind, _padded(parts))
                columns.update({f"f{i}": matrix[:, i] for i in range(matrix.shape[1])})
            else:
                columns[name] = _typed(kind, parts)
        df = pd.DataFrame(columns, index=pd.RangeIndex(self.rows))
        if self.rows:
            df = df.sort_values("timestamp", kind="stable", na_position="last").reset_index(drop=True)
        return df


def _padded(matrices: list[np.ndarray]) -> list[np.ndarray]:
    """Feature matrices padded with NaN to the widest one."""
    width = max((m.shape[1] for m in matrices), default=FEATURE_COLUMNS)
    return [
        m if m.shape[1] == width else np.pad(m, ((0, 0), (0, width - m.shape[1])), constant_values=np.nan)
        for m in matrices
    ]


def to_frame(items: Iterable[dict]) -> pd.DataFrame:
    """Items in DynamoDB JSON (as the low-level client returns them) as the typed history frame."""
    buffer = ColumnBuffer()
    buffer.add_json(list(items))
    return buffer.frame()


def empty_frame() -> pd.DataFrame:
    """The typed history frame with no rows: every schema column, with its dtype."""
    return ColumnBuffer().frame()


def feature_columns(df: pd.DataFrame) -> list[str]:
    """The frame's feature columns, f0, f1, ..., in order."""
    return sorted(
        (c for c in df.columns if isinstance(c, str) and c[:1] == "f" and c[1:].isdigit()),
        key=lambda c: int(c[1:]),
    )


# ---------------------------------------------------------------- loading


def _client(client: Any, workers: int = 10) -> Any:
    """The given DynamoDB client, or a new one for the workshop's region and endpoint."""
    if client is not None:
        return client
    import boto3
    from botocore.config import Config

    from helpers.config import settings

    config = Config(max_pool_connections=max(10, workers), retries={"mode": "standard", "max_attempts": 8})
    return boto3.client("dynamodb", region_name=settings().region, config=config)


def as_utc(value: Any, name: str) -> pd.Timestamp:
    """A tz-aware timestamp argument as UTC; naive or unparsable values raise ValueError."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name}={value!r} is not a date and time. Fix: pass a timezone-aware datetime, e.g. "
            "datetime.now(timezone.utc) - timedelta(days=7)."
        ) from exc
    if ts is pd.NaT:
        raise ValueError(f"{name} is missing (NaT). Fix: pass a timezone-aware datetime.")
    if ts.tzinfo is None:
        raise ValueError(
            f"{name}={value!r} has no timezone, so it is ambiguous. Fix: make it timezone-aware, "
            f"e.g. {name}=datetime(2026, 11, 27, tzinfo=timezone.utc) or pd.Timestamp(..., tz='UTC')."
        )
    return ts.tz_convert("UTC")


def _check_range(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The (start, end) range as UTC timestamps; raises ValueError for naive or reversed ranges."""
    start_ts, end_ts = as_utc(start, "start"), as_utc(end, "end")
    if start_ts > end_ts:
        raise ValueError(
            f"start ({start_ts.isoformat()}) is after end ({end_ts.isoformat()}). "
            "Fix: swap them: load(table, endpoint, start=earlier, end=later)."
        )
    return start_ts, end_ts


def iso_ms(ts: pd.Timestamp | _dt.datetime) -> str:
    """A UTC instant in the records' timestamp format: 2026-11-27T12:00:00.123Z."""
    return clock.iso_ms(pd.Timestamp(ts).tz_convert("UTC").to_pydatetime())


def time_slices(start: pd.Timestamp, end: pd.Timestamp, count: int) -> list[tuple[str, str, bool]]:
    """`count` consecutive (low, high, last) key ranges covering [start, end] at millisecond precision.

    Every slice but the last excludes its `high` bound (it is the next slice's `low`), so each
    timestamp string falls in exactly one slice, whatever its format.
    """
    lo, hi = iso_ms(start), iso_ms(end)
    bounds = sorted({iso_ms(t) for t in pd.date_range(start, end, periods=count + 1)} | {lo, hi})
    bounds = [b for b in bounds if lo <= b <= hi]
    if len(bounds) == 1:
        return [(lo, hi, True)]
    return [(a, b, i == len(bounds) - 2) for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))]


def _auto_slices(start: pd.Timestamp, end: pd.Timestamp, workers: int) -> int:
    """How many slices to split a range into: about one per 12 hours, two per worker at most.

    The local cloud answers each Query page by scanning the whole table, so there slices only
    multiply the work: one slice. DynamoDB serves slices from the index in parallel.
    """
    from helpers.config import settings

    if settings().is_local:
        return 1
    return max(1, min(2 * workers, math.ceil((end - start) / pd.Timedelta(hours=12))))


_raw = threading.local()


def _take_raw_page(response_dict: dict, customized_response_dict: dict, **_: Any) -> None:
    """botocore hook: hand a page's JSON body over untouched, skipping botocore's per-value
    parsing (parse_page reads it columnar); only for this module's own requests."""
    if getattr(_raw, "active", False) and response_dict.get("status_code") == 200:
        customized_response_dict["RawPage"] = response_dict["body"]
        response_dict["body"] = b"{}"


def _fast_pages(client: Any) -> None:
    """Let Query and Scan pages requested by this module skip botocore's item parsing."""
    for operation in ("Query", "Scan"):
        client.meta.events.register(
            f"before-parse.dynamodb.{operation}", _take_raw_page, unique_id=f"helpers.history.raw-{operation}"
        )


def _paged(call: Callable[..., dict], kwargs: dict[str, Any]) -> Iterator[list[pa.StructArray]]:
    """Pages of items of a Query or Scan, following LastEvaluatedKey."""
    while True:
        _raw.active = True
        try:
            page = call(**kwargs)
        finally:
            _raw.active = False
        if "RawPage" in page:
            items, last_key = parse_page(page["RawPage"])
        else:
            items, last_key = items_to_arrow(page.get("Items", [])), page.get("LastEvaluatedKey")
        yield items
        if not last_key:
            return
        kwargs["ExclusiveStartKey"] = last_key


def _not_at(items: list[pa.StructArray], moment: str) -> list[pa.StructArray]:
    """Items whose timestamp is not `moment` (the next time slice's first instant)."""
    kept = []
    for chunk in items:
        stamps = (
            _tags(chunk.field("timestamp")).get("S") if chunk.type.get_field_index("timestamp") >= 0 else None
        )
        kept.append(
            chunk
            if stamps is None
            else chunk.filter(pc.invert(pc.fill_null(pc.equal(stamps, moment), False)))
        )
    return kept


def _query_pages(
    client: Any, table: str, endpoint: str, lo: str, hi: str, limit: int | None
) -> Iterator[list[pa.StructArray]]:
    """Pages of items of one endpoint with lo <= timestamp <= hi, from the time index."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": INDEX_NAME,
        "KeyConditionExpression": "#e = :e AND #t BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#e": "endpointName", "#t": "timestamp"},
        "ExpressionAttributeValues": {":e": {"S": endpoint}, ":lo": {"S": lo}, ":hi": {"S": hi}},
    }
    if limit:
        kwargs["Limit"] = limit
    return _paged(client.query, kwargs)


def _scan_pages(
    client: Any, table: str, segment: int, total: int, limit: int | None
) -> Iterator[list[pa.StructArray]]:
    """Pages of items of one segment of a parallel scan."""
    kwargs: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": total}
    if limit:
        kwargs["Limit"] = limit
    return _paged(client.scan, kwargs)


def _progress(progress: bool, desc: str):
    """A tqdm bar counting items (disabled when progress is False)."""
    import sys

    from tqdm import tqdm  # text bars: they render in Jupyter, in headless runs and in logs alike

    return tqdm(
        total=None, unit=" items", desc=desc, disable=not progress, leave=True, file=sys.stdout, mininterval=1
    )


def _collect(
    jobs: Sequence[Callable[[], Iterator[list[pa.StructArray]]]], workers: int, progress: bool, desc: str
) -> ColumnBuffer:
    """Run page producers concurrently, adding each page to one buffer as it arrives."""
    buffer = ColumnBuffer()
    bar = _progress(progress, desc)
    bar_lock = threading.Lock()

    def drain(job: Callable[[], Iterator[list[pa.StructArray]]]) -> None:
        for items in job():
            buffer.add(items)
            with bar_lock:
                bar.update(sum(map(len, items)))

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for future in as_completed([pool.submit(drain, job) for job in jobs]):
                future.result()
    finally:
        bar.close()
    return buffer


def _without_expired(df: pd.DataFrame, now: float) -> pd.DataFrame:
    """Rows whose expiresAt is missing or not yet past."""
    expires = df["expiresAt"]
    keep = expires.isna() | (expires >= now)
    return df[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def load(
    table: str,
    endpoint: str,
    start: Any,
    end: Any,
    *,
    include_expired: bool = False,
    slices: int | None = None,
    workers: int = 4,
    client: Any = None,
    progress: bool = True,
    page_limit: int | None = None,
    fast: bool = True,
) -> pd.DataFrame:
    """The endpoint's inference records with start <= timestamp <= end, as a typed DataFrame.

    Queries the (endpointName, timestamp) index, following every page; the range is split into
    `slices` (default: about one per 12 h) fetched by `workers` threads. Items already past
    `expiresAt` (TTL deletes them late) are left out unless `include_expired`. With `fast`, the
    pages' items skip botocore's parsing (a hook on this client, active only for these requests).
    """
    start_ts, end_ts = _check_range(start, end)
    now = time.time()
    client = _client(client, workers)
    if fast:
        _fast_pages(client)
    count = slices if slices is not None else _auto_slices(start_ts, end_ts, workers)
    if count < 1:
        raise ValueError(
            f"slices={slices} must be at least 1. Fix: pass slices=None to choose automatically."
        )

    def job(lo: str, hi: str, last: bool) -> Callable[[], Iterator[list[pa.StructArray]]]:
        def pages() -> Iterator[list[pa.StructArray]]:
            for items in _query_pages(client, table, endpoint, lo, hi, page_limit):
                yield items if last else _not_at(items, hi)

        return pages

    jobs = [job(lo, hi, last) for lo, hi, last in time_slices(start_ts, end_ts, count)]
    df = _collect(jobs, workers, progress, f"{endpoint}").frame()
    return df if include_expired else _without_expired(df, now)


def scan(
    table: str,
    *,
    endpoint: str | None = None,
    start: Any = None,
    end: Any = None,
    segments: int = 4,
    include_expired: bool = False,
    client: Any = None,
    progress: bool = True,
    page_limit: int | None = None,
    fast: bool = True,
) -> pd.DataFrame:
    """Every record of the table by parallel Scan (for tables without the time index), typed as in load.

    Optional `endpoint` and `start`/`end` filters are applied to the loaded rows.
    """
    if segments < 1:
        raise ValueError(f"segments={segments} must be at least 1.")
    bounds = _check_range(start, end) if start is not None or end is not None else None
    now = time.time()
    client = _client(client, segments)
    if fast:
        _fast_pages(client)
    jobs = [functools.partial(_scan_pages, client, table, s, segments, page_limit) for s in range(segments)]
    df = _collect(jobs, segments, progress, f"scan {table}").frame()
    if endpoint is not None:
        df = df[(df["endpointName"] == endpoint).fillna(False).to_numpy(dtype=bool)]
    if bounds is not None:
        df = df[
            ((df["timestamp"] >= bounds[0]) & (df["timestamp"] <= bounds[1]))
            .fillna(False)
            .to_numpy(dtype=bool)
        ]
    df = df.reset_index(drop=True)
    return df if include_expired else _without_expired(df, now)


# ---------------------------------------------------------------- seeding a demo history


VARIANTS = (("AllTraffic", 0.9), ("Canary", 0.1))
EVENT_SOURCES = (("apigateway-rest", 0.7), ("apigateway-http", 0.2), ("direct", 0.1))


def _uuids(rng: np.random.Generator, n: int) -> list[str]:
    """n version-4 UUID strings drawn from the generator."""
    raw = rng.bytes(16 * n)
    return [str(uuid.UUID(bytes=raw[i * 16 : (i + 1) * 16], version=4)) for i in range(n)]


def _num(x: float, digits: int) -> dict:
    """A float as a DynamoDB number, rounded to `digits` decimals."""
    return {"N": repr(round(float(x), digits))}


def history_items(
    endpoint: str,
    days: int = 7,
    per_day: int = 1440,
    seed: int = 42,
    end: Any = None,
    ttl_days: int = 30,
) -> list[dict]:
    """A realistic, deterministic week of inference records (DynamoDB JSON), ending at `end`.

    The story: a daily traffic cycle peaking mid-afternoon UTC; two variants (AllTraffic 90%,
    Canary 10%); model v2 on the canary throughout and on AllTraffic from mid-range (its scores
    shifted up: drift); from 70% of the range on, AllTraffic's model latency triples; for about
    75 minutes at 55% of the range most requests fail with model errors; ~1.5% client errors.
    """
    if days < 1 or per_day < 1:
        raise ValueError(f"days={days} and per_day={per_day} must both be at least 1.")
    end_ts = pd.Timestamp.now(tz="UTC").floor("h") if end is None else as_utc(end, "end")
    start_ts = end_ts - pd.Timedelta(days=days)
    rng = np.random.default_rng(seed)
    n = days * per_day
    span_ms = days * 86_400_000

    # Daily cycle: hourly weights peaking at 14:00 UTC, then uniform within each hour.
    hours = days * 24
    hour_of_day = (start_ts.hour + np.arange(hours)) % 24
    weights = 1 + 0.6 * np.sin(2 * np.pi * (hour_of_day - 8) / 24)
    per_hour = rng.multinomial(n, weights / weights.sum())
    offsets = np.repeat(np.arange(hours) * 3_600_000, per_hour) + rng.integers(0, 3_600_000, n)
    offsets.sort()
    frac = offsets / span_ms

    variant = np.where(rng.random(n) < VARIANTS[0][1], VARIANTS[0][0], VARIANTS[1][0])
    canary = variant == "Canary"
    v2 = canary | (frac >= 0.5)
    x = rng.normal(0, 1, (n, 4))
    logit = x @ np.array([1.2, -0.8, 0.5, 0.3]) - 0.4 + np.where(v2, 0.9, 0.0)
    prediction = 1 / (1 + np.exp(-logit))

    model_ms = rng.lognormal(np.log(18), 0.25, n)
    model_ms = np.where((frac >= 0.7) & ~canary, model_ms * 3, model_ms)
    cold = rng.random(n) < 0.01
    latency = model_ms + rng.lognormal(np.log(6), 0.3, n) + np.where(cold, rng.normal(320, 40, n), 0)

    burst = (frac >= 0.55) & (frac < 0.55 + 75 / (days * 1440))
    u = rng.random(n)
    status = np.where(burst & (u < 0.7), "model_error", np.where(u > 0.998, "model_error", "ok"))
    status = np.where((status == "ok") & (rng.random(n) < 0.015), "client_error", status)
    source_draw = rng.random(n)
    sources = np.where(
        source_draw < 0.7, "apigateway-rest", np.where(source_draw < 0.9, "apigateway-http", "direct")
    )
    request_ids, lambda_ids = _uuids(rng, n), _uuids(rng, n)
    start_ms = int(start_ts.value // 1_000_000)

    items = []
    for i in range(n):
        ts_ms = start_ms + int(offsets[i])
        ts = _dt.datetime.fromtimestamp(ts_ms / 1000, _dt.UTC)
        version = "2" if v2[i] else "1"
        features = [round(float(f), 4) for f in x[i]]
        item = {
            "requestId": {"S": request_ids[i]},
            "timestamp": {"S": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"},
            "endpointName": {"S": endpoint},
            "modelName": {"S": f"classifier-v{version}"},
            "modelVersion": {"S": version},
            "variantName": {"S": str(variant[i])},
            "inputTruncated": {"BOOL": False},
            "latencyMs": _num(latency[i], 2),
            "status": {"S": str(status[i])},
            "eventSource": {"S": str(sources[i])},
            "coldStart": {"BOOL": bool(cold[i])},
            "lambdaRequestId": {"S": lambda_ids[i]},
            "functionVersion": {"S": "$LATEST"},
            "expiresAt": {"N": str(ts_ms // 1000 + ttl_days * 86_400)},
        }
        if status[i] == "client_error":
            text = json.dumps({"features": features[:3]})
            item.update(
                errorType={"S": "ValidationError"},
                errorMessage={"S": "features must be a list of 4 numbers, got 3"},
            )
        else:
            text = json.dumps({"features": features})
            item["features"] = {"L": [{"N": repr(f)} for f in features]}
            item["modelLatencyMs"] = _num(model_ms[i], 2)
        if status[i] == "ok":
            item["prediction"] = _num(prediction[i], 6)
            item["predictedLabel"] = {"N": "1" if prediction[i] >= 0.5 else "0"}
        elif status[i] == "model_error":
            item.update(
                errorType={"S": "ModelError"},
                errorMessage={"S": "Received server error (500) from primary: worker died"},
            )
        item["input"] = {"S": text}
        item["inputBytes"] = {"N": str(len(text.encode()))}
        item["inputSha256"] = {"S": hashlib.sha256(text.encode()).hexdigest()}
        items.append(item)
    return items


def write_batch(
    client: Any,
    table: str,
    requests: list[dict],
    *,
    base_delay: float = 0.05,
    max_attempts: int = MAX_WRITE_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Write up to 25 put requests with BatchWriteItem, retrying UnprocessedItems with backoff."""
    pending = {table: requests}
    for attempt in range(max_attempts):
        answer = client.batch_write_item(RequestItems=pending)
        pending = answer.get("UnprocessedItems") or {}
        if not pending:
            return len(requests)
        sleep(min(2.0, base_delay * 2**attempt) * (0.5 + 0.5 * ((attempt * 7919) % 10) / 10))
    left = sum(len(v) for v in pending.values())
    raise RuntimeError(
        f"{left} of {len(requests)} items were still unprocessed after {max_attempts} BatchWriteItem "
        f"attempts on {table}: the table is throttled. Fix: wait a minute and run seed() again "
        "(it overwrites the same request ids)."
    )


def write_items(
    table: str, items: list[dict], *, client: Any = None, workers: int = 4, progress: bool = True
) -> int:
    """Write items (DynamoDB JSON) in batches of 25 with concurrent writers; return how many."""
    client = _client(client, workers)
    batches = [items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE)]
    written = 0
    with _progress(progress, f"writing {table}") as bar, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(write_batch, client, table, [{"PutRequest": {"Item": it}} for it in b])
            for b in batches
        ]
        for future in as_completed(futures):
            count = future.result()
            written += count
            bar.update(count)
    return written


def seed(
    table: str,
    endpoint: str,
    days: int = 7,
    per_day: int = 1440,
    seed: int = 42,
    end: Any = None,
    client: Any = None,
    *,
    workers: int = 4,
    progress: bool = True,
) -> int:
    """Write a deterministic demo history (see history_items) for the endpoint; return records written.

    `end` defaults to the start of the current hour; request ids depend only on the seed, so
    running it again overwrites the same records instead of adding new ones.
    """
    items = history_items(endpoint, days=days, per_day=per_day, seed=seed, end=end)
    return write_items(table, items, client=client, workers=workers, progress=progress)


# ---------------------------------------------------------------- analysis


def _errors(df: pd.DataFrame) -> pd.Series:
    """True for records whose status is not ok."""
    return (df["status"].astype("str") != "ok") & df["status"].notna()


def latency_regressions(
    df: pd.DataFrame,
    freq: str = "1h",
    *,
    quantile: float = 0.9,
    by: tuple[str, ...] = ("modelVersion", "variantName"),
    window: int = 24,
    factor: float = 1.5,
    sustain: int = 3,
    min_count: int = 10,
) -> pd.DataFrame:
    """Latency regressions: runs of at least `sustain` periods whose latency quantile exceeds
    `factor` times the median of the previous `window` periods, per group of `by`.

    One row per regression, earliest first: the group, `period` (first period of the run),
    `periods` (its length), the quantile (`p90_ms` for 0.9), the `baseline_ms` and their `ratio`.
    """
    qcol = f"p{round(quantile * 100):d}_ms"
    columns = [*by, "period", "periods", qcol, "baseline_ms", "ratio", "count"]
    ok = df[(df["status"].astype("str") == "ok").to_numpy(dtype=bool)] if len(df) else df
    ok = ok.dropna(subset=["timestamp", "latencyMs"])
    rows = []
    groups = ok.groupby(list(by), observed=True) if by else [((), ok)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        series = group.set_index("timestamp")["latencyMs"].astype("float64").resample(freq)
        stats = pd.DataFrame({"q": series.quantile(quantile), "count": series.count()})
        stats.loc[stats["count"] < min_count, "q"] = np.nan
        baseline = stats["q"].rolling(window, min_periods=max(3, window // 4)).median().shift(1)
        high = (stats["q"] > factor * baseline).to_numpy()
        run_id = np.cumsum(~high)
        for rid in np.unique(run_id[high]):
            positions = np.flatnonzero(high & (run_id == rid))
            if len(positions) < sustain:
                continue
            first = positions[0]
            rows.append(
                (
                    *key,
                    stats.index[first],
                    len(positions),
                    stats["q"].iloc[first],
                    baseline.iloc[first],
                    stats["q"].iloc[first] / baseline.iloc[first],
                    int(stats["count"].iloc[first]),
                )
            )
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("period", kind="stable").reset_index(drop=True) if rows else out


def error_bursts(
    df: pd.DataFrame,
    freq: str = "10min",
    *,
    statuses: tuple[str, ...] | None = None,
    z: float = 4.0,
    min_errors: int = 5,
) -> pd.DataFrame:
    """Error bursts: consecutive periods whose error rate stands out from the overall rate.

    A period stands out when it has at least `min_errors` errors and its rate exceeds the overall
    rate by `z` binomial standard deviations. Errors are `statuses` (default: every status but ok).
    One row per burst: start, end, requests, errors, error_rate, baseline_rate, top errorType.
    """
    columns = ["start", "end", "periods", "requests", "errors", "error_rate", "baseline_rate", "top_error"]
    data = df.dropna(subset=["timestamp"])
    if data.empty:
        return pd.DataFrame(columns=columns)
    is_error = data["status"].isin(statuses) if statuses else _errors(data)
    frame = pd.DataFrame(
        {"requests": 1, "errors": is_error.astype(int).to_numpy()}, index=data["timestamp"].to_numpy()
    )
    frame.index = pd.DatetimeIndex(frame.index, tz="UTC") if frame.index.tz is None else frame.index
    per = frame.resample(freq).sum()
    p0 = per["errors"].sum() / max(1, per["requests"].sum())
    rate = per["errors"] / per["requests"].where(per["requests"] > 0)
    sd = np.sqrt(p0 * (1 - p0) / per["requests"].where(per["requests"] > 0))
    flagged = ((per["errors"] >= min_errors) & (rate > p0 + z * sd)).to_numpy()
    period = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    rows = []
    run_id = np.cumsum(~flagged)
    errors_only = data[is_error.to_numpy(dtype=bool)]
    for rid in np.unique(run_id[flagged]):
        pos = np.flatnonzero(flagged & (run_id == rid))
        start, stop = per.index[pos[0]], per.index[pos[-1]] + period
        requests, errors = int(per["requests"].iloc[pos].sum()), int(per["errors"].iloc[pos].sum())
        in_run = errors_only[(errors_only["timestamp"] >= start) & (errors_only["timestamp"] < stop)]
        top = in_run["errorType"].mode() if "errorType" in in_run else pd.Series(dtype=object)
        rows.append(
            (
                start,
                stop,
                len(pos),
                requests,
                errors,
                errors / requests,
                p0,
                top.iloc[0] if len(top) else None,
            )
        )
    return pd.DataFrame(rows, columns=columns)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per model version and variant (and overall): requests, time span, error rates, latency
    percentiles (ms), mean prediction and cold-start rate."""

    def describe(g: pd.DataFrame) -> dict[str, Any]:
        status = g["status"].astype("str")
        lat = g["latencyMs"].astype("float64")
        return {
            "requests": len(g),
            "first": g["timestamp"].min(),
            "last": g["timestamp"].max(),
            "error_rate": float(_errors(g).mean()) if len(g) else np.nan,
            "client_error_rate": float((status == "client_error").mean()) if len(g) else np.nan,
            "model_error_rate": float((status == "model_error").mean()) if len(g) else np.nan,
            "latency_p50_ms": lat.quantile(0.5),
            "latency_p90_ms": lat.quantile(0.9),
            "latency_p99_ms": lat.quantile(0.99),
            "mean_prediction": g["prediction"].astype("float64").mean(),
            "cold_start_rate": g["coldStart"].astype("float64").mean(),
        }

    rows = {}
    for (version, variant), g in df.groupby(["modelVersion", "variantName"], observed=True):
        rows[(str(version), str(variant))] = describe(g)
    rows[("all", "all")] = describe(df)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["modelVersion", "variantName"])
    return out


# ---------------------------------------------------------------- export


def _exportable(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with list and dict cells as JSON text (for flat file formats)."""
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = [
                json.dumps(v, default=str) if isinstance(v, list | dict | set) else v for v in out[name]
            ]
    return out


def to_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the frame as CSV (timestamps ISO-8601 UTC, lists as JSON); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _exportable(df).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return path


def to_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the frame as Parquet (types kept: categories, UTC timestamps, nullable ints); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _exportable(df).to_parquet(path, index=False)
    return path
