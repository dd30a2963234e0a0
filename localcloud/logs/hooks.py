"""Puts CloudWatch Logs' ingestion delay (ingestion.py) into moto 5.2.5.

- ``LogEvent.__init__`` marks a new event as not yet searchable (aws profile);
- ``LogStream.put_log_events`` stamps the batch with the time it becomes searchable;
- ``LogStream.get_log_events`` / ``filter_log_events`` run over the searchable events only.

The filter patterns, metric filters and Logs Insights have their own hooks in their folders.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from localcloud import patching, profile
from localcloud.logs import ingestion

if TYPE_CHECKING:
    from moto.logs.models import LogEvent, LogStream


def _mark_unsearchable(original: Callable[..., None]) -> Callable[..., None]:
    """LogEvent.__init__ that starts an event unsearchable under the aws profile."""

    def __init__(self: LogEvent, ingestion_time: int, log_event: dict[str, Any]) -> None:
        original(self, ingestion_time, log_event)
        if profile.current().aws:
            setattr(self, ingestion.VISIBLE_AT, math.inf)

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
                if getattr(event, ingestion.VISIBLE_AT, 0.0) == math.inf:
                    setattr(event, ingestion.VISIBLE_AT, ready)
        return token

    return put_log_events


def _searchable_only(original: Callable[..., Any]) -> Callable[..., Any]:
    """A LogStream read that runs over the events searchable now."""

    def read(self: LogStream, *args: Any, **kwargs: Any) -> Any:
        if not profile.current().aws:
            return original(self, *args, **kwargs)
        return original(ingestion.VisibleView(self, ingestion.visible_events(self)), *args, **kwargs)

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
