"""A parsed Logs Insights query run over event records: commands in order, stats groups, AWS's sort order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from localcloud.logs.insights.functions import GroupView
from localcloud.logs.insights.parser import DEFAULT_LIMIT, Command, Query, parse_query
from localcloud.logs.insights.values import Record, to_number, to_text, truthy


class Results(list[dict[str, str]]):
    """Result rows (field -> text, as GetQueryResults shows them), with the query's statistics."""

    statistics: dict[str, float]


def query_results(text: str, records: Iterable[Record]) -> Results:
    """Parse and run a query over the event records it scans; raises QuerySyntaxError."""
    parsed = parse_query(text)
    scanned = sorted(records, key=lambda r: (r["@timestamp"], r["@ingestionTime"]), reverse=True)
    scanned_bytes = sum(len(str(r["@message"]).encode()) for r in scanned)
    rows, shown, matched = run(parsed, [dict(r) for r in scanned])
    results = Results(
        {name: to_text(row[name]) for name in shown if row.get(name) is not None} for row in rows
    )
    results.statistics = {
        "recordsMatched": float(matched),
        "recordsScanned": float(len(scanned)),
        "bytesScanned": float(scanned_bytes),
    }
    return results


def run(query: Query, events: Iterable[Record]) -> tuple[list[Record], list[str], int]:
    """Evaluate the commands over the event records (newest first); the rows, shown fields, matched count."""
    rows = list(events)
    shown: list[str] | None = None
    aggregated = False
    limit = DEFAULT_LIMIT
    matched = len(rows)
    for cmd in query.commands:
        if cmd.name == "filter":
            predicate = cmd.predicate
            assert predicate is not None  # the parser gives every filter its predicate
            rows = [r for r in rows if truthy(predicate(r))]
            matched = matched if aggregated else len(rows)
        elif cmd.name == "parse":
            _parse(cmd, rows)
        elif cmd.name == "fields":
            for r in rows:
                r.update({name: expr(r) for name, expr in cmd.items})
            shown = list(dict.fromkeys([*(shown or []), *(n for n, _ in cmd.items)]))
        elif cmd.name == "display":
            for r in rows:
                r.update({name: expr(r) for name, expr in cmd.items})
            shown = [n for n, _ in cmd.items]
        elif cmd.name == "stats":
            rows = _stats(cmd, rows)
            shown = [n for n, _ in cmd.by] + [n for n, _ in cmd.items]
            aggregated = True
        elif cmd.name == "sort":
            rows = sort_rows(rows, cmd.order)
        elif cmd.name == "limit":
            rows = rows[: cmd.limit]
            limit = min(limit, cmd.limit)
    if shown is None:
        shown = ["@timestamp", "@message"]
    if not aggregated:
        shown = [n for n in shown if n != "@ptr"] + ["@ptr"]
    return rows[:limit], shown, matched


def _parse(cmd: Command, rows: list[Record]) -> None:
    """Add the fields a parse command extracts to each row its pattern matches."""
    extract = cmd.extract
    assert extract is not None  # the parser gives every parse its extractor
    for r in rows:
        source = r.get(cmd.source)
        found = extract(to_text(source)) if source is not None else None
        if found:
            r.update(found)


def _stats(cmd: Command, rows: list[Record]) -> list[Record]:
    """Group the rows by the `by` expressions and compute the stats expressions per group."""
    groups: dict[tuple[str, ...], tuple[Record, list[Record]]] = {}
    for r in rows:
        keys = {name: expr(r) for name, expr in cmd.by}
        if any(v is None for v in keys.values()):
            continue
        key = tuple(to_text(v) for v in keys.values())
        groups.setdefault(key, (keys, []))[1].append(r)
    if not cmd.by and not groups:
        groups[()] = ({}, [])
    out: list[Record] = []
    for keys, members in groups.values():
        result: Record = dict(keys)
        for name, expr in cmd.items:
            result[name] = expr(GroupView(result, members))
        out.append(result)
    return out


def sort_rows(rows: list[Record], order: list[tuple[str, bool]]) -> list[Record]:
    """Rows sorted by each (field, descending) in turn; rows without the field go last."""
    for name, descending in reversed(order):
        present = [r for r in rows if r.get(name) is not None]
        missing = [r for r in rows if r.get(name) is None]
        rows = sorted(present, key=lambda r: natural_key(r[name]), reverse=descending) + missing
    return rows


_PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def natural_key(value: Any) -> tuple[Any, ...]:
    """AWS's sort order (ascending): non-numbers first, in natural order, then numbers by value."""
    if isinstance(value, int | float) or (isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value)):
        return (1, to_number(value), to_text(value))
    return (0, tuple(_chunk_key(c) for c in re.findall(r"\d+|\D+", to_text(value))))


def _chunk_key(chunk: str) -> tuple[Any, ...]:
    """A run of digits sorts by length then value; any other run by Unicode. Against each other they
    compare by Unicode: "0" stands for every digit, no other character lies between "0" and "9"."""
    if chunk.isdecimal():
        return ("0", 1, len(chunk), int(chunk))
    return (chunk[0], 0, chunk, 0)
