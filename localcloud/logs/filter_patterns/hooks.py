"""Where moto gets the filter-pattern engine: FilterLogEvents, StartLiveTail and TestMetricFilter.

Hooked in moto 5.2.5 (localcloud.patching):

- `EventMessageFilter` (moto.logs.utils), which FilterLogEvents and StartLiveTail construct per
  pattern: its `__init__` compiles with `compile_pattern`, its `matches` asks the compiled pattern;
- `LogsBackend.filter_log_events` refuses a malformed pattern even when no event is searched;
- `LogsResponse.test_metric_filter`: the TestMetricFilter action, which moto lacks.

A malformed pattern is answered as AWS answers it: InvalidParameterException with the engine's message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import LogsBackend
from moto.logs.responses import LogsResponse
from moto.logs.utils import EventMessageFilter

from localcloud import patching
from localcloud.logs.filter_patterns import FilterPattern, FilterPatternError, compile_pattern

COMPILED = "_workshop_pattern"  # the attribute an EventMessageFilter keeps its compiled pattern in
MAX_TEST_MESSAGES = 50  # TestMetricFilter's logEventMessages


def compile_or_refuse(pattern: str | None) -> FilterPattern:
    """compile_pattern, a malformed pattern refused as AWS refuses it (InvalidParameterException)."""
    try:
        return compile_pattern(pattern)
    except FilterPatternError as error:
        raise InvalidParameterException(msg=str(error)) from None


def _compiling_init(original: Callable[..., None]) -> Callable[..., None]:
    """EventMessageFilter.__init__ that compiles the pattern with the engine instead of moto's."""

    def __init__(self: Any, pattern: str | None) -> None:
        setattr(self, COMPILED, compile_or_refuse(pattern))

    return __init__


def _compiled_matches(original: Callable[..., bool]) -> Callable[..., bool]:
    """EventMessageFilter.matches that asks the compiled pattern."""

    def matches(self: Any, message: str) -> bool:
        pattern: FilterPattern = getattr(self, COMPILED)
        return pattern.matches(message)

    return matches


def _validating(original: Callable[..., Any]) -> Callable[..., Any]:
    """LogsBackend.filter_log_events that refuses a malformed pattern even when no event is searched."""

    def filter_log_events(
        self: LogsBackend,
        log_group_name: str,
        log_stream_names: list[str],
        start_time: int,
        end_time: int,
        limit: int | None,
        next_token: str | None,
        filter_pattern: str,
        interleaved: bool,
    ) -> Any:
        compile_or_refuse(filter_pattern)
        return original(
            self,
            log_group_name,
            log_stream_names,
            start_time,
            end_time,
            limit,
            next_token,
            filter_pattern,
            interleaved,
        )

    return filter_log_events


def respond_test_metric_filter(self: LogsResponse) -> str:
    """LogsResponse.test_metric_filter: the TestMetricFilter action, which moto lacks."""
    pattern = self._get_param("filterPattern")
    messages = self._get_param("logEventMessages")
    if pattern is None:
        raise InvalidParameterException(msg="filterPattern is required.")
    if not messages or len(messages) > MAX_TEST_MESSAGES:
        raise InvalidParameterException(
            constraint=f"Member must have length between 1 and {MAX_TEST_MESSAGES}",
            parameter="logEventMessages",
            value=len(messages or []),
        )
    compiled = compile_or_refuse(pattern)
    matches = []
    for number, message in enumerate(messages, start=1):
        extracted = compiled.extract(message)
        if extracted is not None:
            matches.append(
                {"eventNumber": number, "eventMessage": message, "extractedValues": dict(extracted)}
            )
    return json.dumps({"matches": matches})


def install() -> None:
    """Make moto's FilterLogEvents/StartLiveTail use the engine and add TestMetricFilter (idempotent)."""
    patching.patch(EventMessageFilter, "__init__", ["self", "pattern"], _compiling_init)
    patching.patch(EventMessageFilter, "matches", ["self", "message"], _compiled_matches)
    patching.patch(
        LogsBackend,
        "filter_log_events",
        [
            "self",
            "log_group_name",
            "log_stream_names",
            "start_time",
            "end_time",
            "limit",
            "next_token",
            "filter_pattern",
            "interleaved",
        ],
        _validating,
    )
    patching.add_action(LogsResponse, "test_metric_filter", respond_test_metric_filter)
