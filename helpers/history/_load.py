"""Loading records: Query the (endpointName, timestamp) index in time slices, or Scan in segments, page by page.

Pages skip botocore's per-value parsing (a hook hands the raw JSON body to helpers.history._arrow)
and are fetched by threads into one ColumnBuffer.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers import session
from helpers.config import METADATA_INDEX
from helpers.history._arrow import ColumnBuffer, items_to_arrow, parse_page, tags
from kitformats import clock

INDEX_NAME = METADATA_INDEX


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
    if session.settings().is_local:
        return 1
    per_12h: int = math.ceil((end - start) / pd.Timedelta(hours=12))
    return max(1, min(2 * workers, per_12h))


_raw = threading.local()


def _take_raw_page(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
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


def _paged(call: Callable[..., dict[str, Any]], kwargs: dict[str, Any]) -> Iterator[list[pa.StructArray]]:
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
            tags(chunk.field("timestamp")).get("S") if chunk.type.get_field_index("timestamp") >= 0 else None
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


def progress_bar(progress: bool, desc: str) -> Any:
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
    bar = progress_bar(progress, desc)
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
    client = session.use_client(client, "dynamodb", pool=workers)
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
    client = session.use_client(client, "dynamodb", pool=segments)
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
