"""DynamoDB JSON to Arrow to the typed history frame: parse Query/Scan pages columnar, type each column.

A Query or Scan page is parsed straight from its JSON body by pyarrow into one struct column per
attribute, each a struct of its type tags ({"N": "12.5"} -> struct<N: string>); the conversions to
typed columns are then whole-column casts. Python never touches the ~20 values of each item.
The frame's columns are described in helpers.history's docstring.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from kitformats import inference_record
from kitformats.dynamodb_json import without_none

# Attribute -> the kind of column it loads as: str, cat, time, float, int, bool, vector.
KINDS: dict[str, str] = {
    "requestId": "str",
    "timestamp": "time",
    "endpointName": "str",
    "modelName": "str",
    "modelVersion": "cat",
    "variantName": "cat",
    "input": "str",
    "inputTruncated": "bool",
    "inputSha256": "str",
    "inputBytes": "int",
    "features": "vector",
    "prediction": "float",
    "predictedLabel": "int",
    "latencyMs": "float",
    "modelLatencyMs": "float",
    "status": "cat",
    "errorType": "str",
    "errorMessage": "str",
    "eventSource": "cat",
    "coldStart": "bool",
    "lambdaRequestId": "str",
    "functionVersion": "str",
    "expiresAt": "int",
}
# Attribute -> (DynamoDB type tag, column kind), for every attribute of the record's one schema.
SCHEMA: dict[str, tuple[str, str]] = {
    name: (tag, KINDS[name]) for name, tag in inference_record.ATTRIBUTES.items()
}
FEATURE_COLUMNS = 4  # f0..f3 always present


_TAG_TYPES = {"S": pa.string(), "N": pa.string(), "BOOL": pa.bool_()}


def _attribute_type(tag: str) -> pa.DataType:
    """The arrow type of one schema attribute's DynamoDB JSON value."""
    if tag == "L":
        return pa.struct([pa.field("L", pa.list_(pa.struct([pa.field("N", pa.string())])))])
    return pa.struct([pa.field(tag, _TAG_TYPES[tag])])


# Declared for the schema's attributes (parsing skips type inference for them); anything else,
# other tags included, is inferred.
PAGE_SCHEMA = pa.schema(
    [
        pa.field(
            "Items",
            pa.list_(pa.struct([pa.field(name, _attribute_type(tag)) for name, (tag, _) in SCHEMA.items()])),
        )
    ]
)


def read_json(body: bytes, schema: pa.Schema | None) -> pa.Table:
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
    if not pa.types.is_struct(column.type.value_type):  # an empty page: list[Any]<null>
        return []
    items = [pc.list_flatten(chunk) for chunk in column.chunks]
    return [chunk for chunk in items if len(chunk)]


def parse_page(body: bytes) -> tuple[list[pa.StructArray], dict[str, Any] | None]:
    """A Query or Scan response body as (its items as struct arrays, its LastEvaluatedKey)."""
    try:
        table = read_json(body, PAGE_SCHEMA)
    except pa.ArrowInvalid:
        # Items whose shapes cannot share one inferred type (never DynamoDB's own JSON, which
        # types every value by its tag): read item by item, each with its own type.
        page = json.loads(body)
        items = [one for item in page.get("Items", []) for one in items_to_arrow([item])]
        return items, page.get("LastEvaluatedKey")
    last_key = None
    if "LastEvaluatedKey" in table.column_names:
        last_key = without_none(table.column("LastEvaluatedKey").to_pylist()[0])
    return _items_of(table), last_key


def items_to_arrow(items: list[dict[str, Any]]) -> list[pa.StructArray]:
    """Items in DynamoDB JSON (as the low-level client returns them) as struct arrays."""
    if not items:
        return []
    body = json.dumps({"Items": items}).encode()
    if len(items) > 1:
        return parse_page(body)[0]
    try:
        return _items_of(read_json(body, PAGE_SCHEMA))
    except pa.ArrowInvalid:  # a schema attribute with a payload of the wrong JSON type: infer them all
        return _items_of(read_json(body, None))


def _native(value: dict[str, Any] | None) -> Any:
    """A DynamoDB JSON value as native Python, numbers as int or float (dynamodb.plain keeps Decimal)."""
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
        return [_native(x) for x in v]
    if tag == "M":
        return {k: _native(x) for k, x in v.items()}
    if tag == "SS":
        return set(v)
    if tag == "NS":
        return {_native({"N": x}) for x in v}
    if tag == "B":
        return base64.b64decode(v) if isinstance(v, str) else v
    if tag == "BS":
        return {base64.b64decode(x) if isinstance(x, str) else x for x in v}
    raise ValueError(f"Unknown DynamoDB type tag {tag!r} in {value!r}")


def tags(cells: pa.StructArray) -> dict[str, pa.Array]:
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
    by_tag = tags(cells)
    parts = [_text_as_numbers(by_tag[t]) for t in ("N", "S") if t in by_tag]
    return pc.coalesce(*parts) if parts else pa.nulls(len(cells), pa.float64())


def _text(cells: pa.StructArray) -> pa.Array:
    """Text cells (or the text of numbers and flags) as strings, null elsewhere."""
    by_tag = tags(cells)
    parts = [pc.cast(by_tag[t], pa.string()) for t in ("S", "N", "BOOL") if t in by_tag]
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
    flags = tags(cells).get("BOOL")
    return (
        flags if flags is not None and pa.types.is_boolean(flags.type) else pa.nulls(len(cells), pa.bool_())
    )


def _vectors(cells: pa.StructArray) -> np.ndarray:
    """List-of-number cells as a float matrix padded with NaN (non-numbers become NaN)."""
    lists = tags(cells).get("L")
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


def _objects(cells: pa.StructArray) -> list[Any]:
    """Cells of any type as plain Python values (maps, lists, sets, bytes, ...)."""
    return [_native(without_none(cell)) if isinstance(cell, dict) else cell for cell in cells.to_pylist()]


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


def _typed(kind: str, parts: list[Any]) -> Any:
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

    def add_json(self, items: list[dict[str, Any]]) -> None:
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


def to_frame(items: Iterable[dict[str, Any]]) -> pd.DataFrame:
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
