"""CloudWatch Logs ingestion: an event is searchable only some time after it was put, as in AWS.

`PutLogEvents` (and Lambda's and SageMaker's own log delivery) returns before CloudWatch Logs has
indexed the events: `GetLogEvents`, `FilterLogEvents` and Logs Insights see them seconds later.
Under the aws profile each ingested batch becomes visible `profile.delay("log_ingestion",
"<group>/<stream>")` after it was put; under the local profile at once.

Hooked in moto 5.2.5 by logs/hooks.py (every ingestion ends in `LogStream.put_log_events`, every read of one
stream's events in `LogStream.get_log_events` / `LogStream.filter_log_events`):

- `LogEvent.__init__` marks a new event as not yet visible (aws profile), so no reader sees it
  between its append and its stamp;
- `LogStream.put_log_events` stamps the batch with the time it becomes visible;
- the two stream reads run over the visible events only; Logs Insights asks `visible_events`.

Not delayed: metric filters and subscription filters (AWS applies them to the ingestion stream),
Live Tail, and `DescribeLogStreams`' timestamps.
"""

from __future__ import annotations

import time
from typing import Any

from localcloud import profile

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


class VisibleView:
    """A log stream as its readers see it: only the searchable events, everything else delegated."""

    def __init__(self, stream: Any, events: list[Any]) -> None:
        self._stream = stream
        self.events = events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
