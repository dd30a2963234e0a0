"""The call record: which operations each caller sent, the IAM actions they needed, on which resources.

No moto: ``localcloud/calls/hooks.py`` notes each request here. Read and reset the record in process
(``calls()``, ``reset()``) or over HTTP: ``GET`` and ``DELETE`` on ``/_workshop/calls``
(``?caller=<access key id>`` narrows the answer).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from localcloud.client import Call, CallRecord

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PATH = "/_workshop/calls"

_lock = threading.Lock()
_calls: dict[tuple[str, ...], CallRecord] = {}  # by the call's values, in Call's field order


def record(call: Call) -> None:
    """Count one call."""
    with _lock:
        key = tuple(str(value) for value in call.values())
        counted = _calls.get(key)
        _calls[key] = {**call, "count": 1 if counted is None else counted["count"] + 1}


def calls(caller: str | None = None) -> list[CallRecord]:
    """The calls recorded so far (each with its count), for one access key or all, in a stable order."""
    with _lock:
        return [r.copy() for _, r in sorted(_calls.items()) if caller in (None, r["caller"])]


def actions(records: Iterable[CallRecord]) -> list[str]:
    """The distinct IAM actions in a recording, sorted."""
    return sorted({a for r in records for a in r["actions"]})


def reset() -> None:
    """Forget every recorded call."""
    with _lock:
        _calls.clear()


def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """GET: the recorded calls as JSON (``?caller=KEY`` narrows); DELETE: forget them."""
    if environ.get("REQUEST_METHOD") == "DELETE":
        reset()
        body: Any = {"reset": True}
    else:
        caller = (parse_qs(environ.get("QUERY_STRING", "")).get("caller") or [None])[0]
        body = {"calls": calls(caller)}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
