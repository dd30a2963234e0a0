"""The AWS operations a cell made, by name, with their identifiers and outcome, from botocore's own events.

Every boto3 client the kit or a cell builds reports each API call it completes (botocore's
``before-parameter-build`` event keeps the request's parameters, ``after-call`` gives the answer).
``recording()`` collects them while it is open; in a notebook, ``session.prepare()`` opens one
around every cell and prints it at the cell's end, so each cell shows the operations it made:

    AWS operations in this cell:
      dynamodb CreateTable TableName=ws-ada-inference-metadata → ok
      dynamodb DescribeTable TableName=ws-ada-inference-metadata → ok ×3

Repeats of one call (a wait polling the same Describe) show once with a count; calls from
background threads (traffic) merge by operation, so the trail stays a few lines long.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Request parameters that identify what an operation acted on, in the order shown.
IDENTIFIERS = (
    "TableName",
    "FunctionName",
    "RoleName",
    "PolicyName",
    "PolicyArn",
    "EndpointName",
    "EndpointConfigName",
    "ModelName",
    "logGroupName",
    "filterName",
    "AlarmName",
    "AlarmNames",
    "DashboardName",
    "Name",
    "TopicArn",
    "Protocol",
    "Endpoint",
    "QueueName",
    "QueueUrl",
    "ResourceArn",
    "Bucket",
    "Key",
    "RestApiId",
    "SubscriptionArn",
)
ATTRIBUTE_NAMES = "Attributes"  # SetQueueAttributes / SetTopicAttributes: which attributes were set
MAX_VALUE = 120  # an identifier longer than this (a queue URL with its host) is shown by its end
MAX_LINES = 16  # a longer trail (a cleanup deleting dozens of resources) is shown per operation and outcome
_PARAMS_KEY = "workshop_trail_params"
_lock = threading.Lock()
_open: list[Recording] = []


@dataclass
class Call:
    """One AWS operation as the trail shows it."""

    service: str
    operation: str
    identifiers: str
    outcome: str
    thread: int
    count: int = 1

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes two calls the same line of the trail."""
        return self.service, self.operation, self.identifiers, self.outcome

    def __str__(self) -> str:
        repeat = f" ×{self.count}" if self.count > 1 else ""
        ids = f" {self.identifiers}" if self.identifiers else ""
        return f"{self.service} {self.operation}{ids} → {self.outcome}{repeat}"


class Recording:
    """The calls made while a recording() is open."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._last: dict[int, int] = {}  # thread -> index of its latest call
        self._main = threading.get_ident()

    def add(self, call: Call) -> None:
        """Add a call: a repeat of the thread's previous call (or, off the main thread, any earlier
        background call) only counts up."""
        with _lock:
            previous = self._last.get(call.thread)
            if previous is not None and self.calls[previous].key == call.key:
                self.calls[previous].count += 1
                return
            if call.thread != self._main:
                for index, earlier in enumerate(self.calls):
                    if earlier.thread != self._main and earlier.key == call.key:
                        earlier.count += 1
                        self._last[call.thread] = index
                        return
            self.calls.append(call)
            self._last[call.thread] = len(self.calls) - 1

    def operations(self) -> list[str]:
        """The operation names made, in order, once each (e.g. ['DescribeTable', 'CreateTable'])."""
        return list(dict.fromkeys(c.operation for c in self.calls))

    def lines(self) -> list[str]:
        """The trail as text lines: one per call (repeats counted), or, past MAX_LINES, one per operation
        and outcome with how many calls and resources."""
        if len(self.calls) <= MAX_LINES:
            return [str(c) for c in self.calls]
        grouped: dict[tuple[str, str, str], list[Call]] = {}
        for call in self.calls:
            grouped.setdefault((call.service, call.operation, call.outcome), []).append(call)
        return [
            f"{service} {operation} → {outcome} ×{sum(c.count for c in calls)}"
            f" ({len({c.identifiers for c in calls})} resources)"
            for (service, operation, outcome), calls in grouped.items()
        ]

    def text(self) -> str:
        """The trail as the cell prints it (empty when no call was made)."""
        if not self.calls:
            return ""
        return "\n".join(["AWS operations in this cell:", *(f"  {line}" for line in self.lines())])


def _value(value: Any) -> str:
    """An identifier's value, short enough for one line."""
    if isinstance(value, Mapping):  # a DynamoDB key: {"requestId": {"S": "abc"}} -> requestId:abc
        text = ",".join(
            f"{k}:{next(iter(v.values()))}" if isinstance(v, Mapping) and len(v) == 1 else f"{k}:{v}"
            for k, v in value.items()
        )
    elif isinstance(value, (list, tuple)):
        text = ",".join(str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else "…" + text[-(MAX_VALUE - 1) :]


def identifiers(params: Mapping[str, Any]) -> str:
    """The identifying parameters of a request, as name=value pairs."""
    parts = [f"{name}={_value(params[name])}" for name in IDENTIFIERS if params.get(name)]
    attributes = params.get(ATTRIBUTE_NAMES)
    if isinstance(attributes, Mapping) and attributes:
        parts.append(f"Attributes={','.join(attributes)}")
    return " ".join(parts)


def outcome(http_status: int, parsed: Mapping[str, Any]) -> str:
    """'ok', or the error code AWS answered."""
    if http_status < 300:
        return "ok"
    error = parsed.get("Error") or {}
    return str(error.get("Code") or f"HTTP {http_status}")


def _keep_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    """botocore's before-parameter-build: keep the request's parameters for after-call."""
    if _open:
        context[_PARAMS_KEY] = dict(params)


def _after_call(
    http_response: Any, parsed: Mapping[str, Any], model: Any, context: Mapping[str, Any], **_: Any
) -> None:
    """botocore's after-call: add the finished call to every open recording."""
    if not _open:
        return
    call = Call(
        service=model.service_model.service_name,
        operation=model.name,
        identifiers=identifiers(context.get(_PARAMS_KEY) or {}),
        outcome=outcome(http_response.status_code, parsed),
        thread=threading.get_ident(),
    )
    for recording in list(_open):
        recording.add(call)


def attach(events: Any) -> None:
    """Report the calls of every client built from this botocore event system (a session's, or one client's); idempotent."""
    events.register("before-parameter-build", _keep_params, unique_id="workshop-trail-params")
    events.register("after-call", _after_call, unique_id="workshop-trail-after-call")


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Collect the AWS operations made while open (by any client attached to the trail)."""
    current = Recording()
    with _lock:
        _open.append(current)
    try:
        yield current
    finally:
        with _lock:
            _open.remove(current)


class CellTrail:
    """IPython's pre/post_run_cell callbacks: a recording around each cell, printed at its end."""

    def __init__(self) -> None:
        self._cell: contextlib.ExitStack | None = None
        self._recording: Recording | None = None

    def pre_run_cell(self, *_: Any) -> None:
        """Open the cell's recording."""
        self.post_run_cell()
        self._cell = contextlib.ExitStack()
        self._recording = self._cell.enter_context(recording())

    def post_run_cell(self, result: Any = None) -> None:
        """Close the cell's recording and print its trail (not under a failed cell: its error says what to do)."""
        if self._cell is None or self._recording is None:
            return
        self._cell.close()
        text = self._recording.text()
        self._cell = self._recording = None
        if text and getattr(result, "success", True):
            print(text)


_cell_trail = CellTrail()


def show_in_notebook() -> bool:
    """In a Jupyter kernel, print every later cell's AWS operations at its end (once per kernel); True when there."""
    try:
        ip = get_ipython()  # type: ignore[name-defined]  # noqa: F821  (defined inside IPython only)
    except NameError:
        return False
    callbacks = ip.events.callbacks
    if _cell_trail.pre_run_cell not in callbacks["pre_run_cell"]:
        ip.events.register("pre_run_cell", _cell_trail.pre_run_cell)
        ip.events.register("post_run_cell", _cell_trail.post_run_cell)
        _cell_trail.pre_run_cell()  # the cell calling this one shows its own operations too
    return True
