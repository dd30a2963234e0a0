"""CloudWatch Logs ingestion: an event is searchable only some time after it was put, as in AWS.

`PutLogEvents` (and Lambda's and SageMaker's own log delivery) returns before CloudWatch Logs has
indexed the events: `GetLogEvents`, `FilterLogEvents` and Logs Insights see them seconds later.
Under the aws profile each ingested batch becomes visible `profile.delay("log_ingestion",
"<group>/<stream>")` after it was put; under the local profile at once.

Hooked in moto 5.2.5 (every ingestion ends in `LogStream.put_log_events`, every read of one
stream's events in `LogStream.get_log_events` / `LogStream.filter_log_events`):

- `LogEvent.__init__` marks a new event as not yet visible (aws profile), so no reader sees it
  between its append and its stamp;
- `LogStream.put_log_events` stamps the batch with the time it becomes visible;
- the two stream reads run over the visible events only; Logs Insights asks `visible_events`.

Not delayed: metric filters and subscription filters (AWS applies them to the ingestion stream),
Live Tail, and `DescribeLogStreams`' timestamps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from localcloud import patching, profile

if TYPE_CHECKING:
    from moto.logs.models import LogEvent, LogStream

VISIBLE_AT = "_workshop_visible_at"  # epoch seconds from which an event is searchable


def visible(event: Any, now: float) -> bool:
    """Whether an ingested event is searchable at epoch second now (events from before the hook: yes)."""
    return getattr(event, VISIBLE_AT, 0.0) <= now


def visible_events(stream: Any, now: float | None = None) -> list[Any]:
    """The stream's events that are searchable now, in stored order."""
    events = list(stream.events)
    if not profile.current().aws:
        return events
    now = time.time() if now is None else now
    return [event for event in events if visible(event, now)]


class _VisibleView:
    """A log stream as its readers see it: only the searchable events, everything else delegated."""

    def __init__(self, stream: Any, events: list[Any]) -> None:
        self._stream = stream
        self.events = events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _mark_unsearchable(original: Callable[..., None]) -> Callable[..., None]:
    """LogEvent.__init__ that starts an event unsearchable under the aws profile."""

    def __init__(self: LogEvent, ingestion_time: int, log_event: dict[str, Any]) -> None:
        original(self, ingestion_time, log_event)
        if profile.current().aws:
            setattr(self, VISIBLE_AT, math.inf)

    return __init__


def _stamp_batch(original: Callable[..., str]) -> Callable[..., str]:
    """LogStream.put_log_events that schedules when the new events become searchable."""

    def put_log_events(self: LogStream, log_events: list[dict[str, Any]]) -> str:
        before = len(self.events)
        token = original(self, log_events)
        current = profile.current()
        if current.aws:
            ready = time.time() + current.delay(
                "log_ingestion", f"{self.log_group.name}/{self.log_stream_name}"
            )
            for event in self.events[before:]:
                if getattr(event, VISIBLE_AT, 0.0) == math.inf:
                    setattr(event, VISIBLE_AT, ready)
        return token

    return put_log_events


def _searchable_only(original: Callable[..., Any]) -> Callable[..., Any]:
    """A LogStream read that runs over the events searchable now."""

    def read(self: LogStream, *args: Any, **kwargs: Any) -> Any:
        if not profile.current().aws:
            return original(self, *args, **kwargs)
        return original(_VisibleView(self, visible_events(self)), *args, **kwargs)

    read.__name__ = original.__name__
    read.__doc__ = original.__doc__
    return read


def install() -> None:
    """Delay the visibility of ingested log events under the aws profile (idempotent)."""
    from moto.logs.models import LogEvent, LogStream

    patching.patch(LogEvent, "__init__", ["self", "ingestion_time", "log_event"], _mark_unsearchable)
    patching.patch(LogStream, "put_log_events", ["self", "log_events"], _stamp_batch)
    patching.patch(
        LogStream,
        "get_log_events",
        ["self", "start_time", "end_time", "limit", "next_token", "start_from_head"],
        _searchable_only,
    )
    patching.patch(
        LogStream, "filter_log_events", ["self", "start_time", "end_time", "filter_pattern"], _searchable_only
    )
