"""Where moto is hooked for Logs Insights: StartQuery runs this package's engine, GetQueryResults adds statistics.

moto 5.2.5's `LogQuery.__init__` (StartQuery) calls the module function
`moto.logs.models.execute_query`; this hook replaces that function, and wraps
`LogQuery.to_result_json` (GetQueryResults) so it also answers the query's statistics. A query
that does not parse leaves as moto's `MalformedQueryException` error (HTTP 400), AWS's code and message.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from moto.logs.exceptions import LogsClientError

from localcloud import patching
from localcloud.logs import ingestion as logs_ingestion
from localcloud.logs.insights.discovery import event_record
from localcloud.logs.insights.errors import QuerySyntaxError
from localcloud.logs.insights.evaluator import Results, query_results
from localcloud.logs.insights.values import Record

NO_STATISTICS = {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}


class MalformedQueryException(LogsClientError):
    """AWS's answer to a query that does not parse: MalformedQueryException, HTTP 400, with its location."""

    def __init__(self, error: QuerySyntaxError) -> None:
        super().__init__("MalformedQueryException", error.message)
        location = {
            "startCharOffset": error.start,
            "endCharOffset": error.end,
        }  # AWS's QueryCompileErrorLocation
        self.description = json.dumps(
            {
                "__type": "MalformedQueryException",
                "message": error.message,
                "queryCompileError": {"location": location, "message": error.message},
            }
        )


def execute_query(log_groups: list[Any], query: str, start_time: int, end_time: int) -> Results:
    """Run a Logs Insights query over the groups' events in [start_time, end_time] (epoch seconds, inclusive)."""
    low = start_time * 1000 if start_time else None
    high = end_time * 1000 + 999 if end_time else None
    records: list[Record] = []
    for group in log_groups:
        for stream in list(group.streams.values()):
            for event in logs_ingestion.visible_events(stream):
                if (low is not None and event.timestamp < low) or (
                    high is not None and event.timestamp > high
                ):
                    continue
                records.append(event_record(event, stream.log_stream_name, group.name, group.account_id))
    try:
        return query_results(query, records)
    except QuerySyntaxError as error:
        raise MalformedQueryException(error) from error


def _with_statistics(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """LogQuery.to_result_json that also answers the query's statistics."""

    def to_result_json(self: Any) -> dict[str, Any]:
        answer = original(self)
        answer["statistics"] = getattr(self.results, "statistics", NO_STATISTICS)
        return answer

    return to_result_json


def install() -> None:
    """Make moto's StartQuery run queries with this engine and GetQueryResults answer statistics (idempotent)."""
    import moto.logs.models as models

    if "execute_query(" not in inspect.getsource(models.LogQuery.__init__):
        raise patching.HookError(
            "moto's LogQuery.__init__ no longer calls execute_query, which localcloud.logs.insights "
            f"replaces; written against moto {patching.MOTO_VERSION}"
        )
    patching.patch(
        models,
        "execute_query",
        ["log_groups", "query", "start_time", "end_time"],
        lambda original: execute_query,
    )
    patching.patch(models.LogQuery, "to_result_json", ["self"], _with_statistics)
