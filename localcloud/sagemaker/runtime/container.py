"""The built-in XGBoost container's serving contract: what it reads, what it answers, how it fails.

Request bodies are text/csv (one row per line) or application/json (``{"instances": [...]}``);
the answer is one score per line (CSV) or ``{"predictions": [{"score": ...}]}`` (JSON). A body the
container cannot read is a ContainerError with the status and the message it answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xgboost as xgb

_boosters: dict[str, xgb.Booster] = {}
_boosters_lock = threading.Lock()


class ContainerError(Exception):
    """The model container answered an error status (becomes ModelError)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_rows(body: bytes, content_type: str) -> list[list[float]]:
    """Rows of numbers from a text/csv or application/json request, as the XGBoost container reads them."""
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContainerError(400, f"Unable to decode payload as UTF-8: {exc}") from exc
    if kind == "text/csv":
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            rows = [[float(cell) for cell in line.split(",")] for line in lines]
        except ValueError as exc:
            raise ContainerError(
                400, f"Loading csv data failed with Exception, please ensure data is in csv format: {exc}"
            ) from exc
    elif kind == "application/json":
        try:
            doc = json.loads(text)
            instances = doc["instances"] if isinstance(doc, dict) else doc
            rows = [
                [float(v) for v in (item["features"] if isinstance(item, dict) else item)]
                for item in instances
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ContainerError(
                400, f'Unable to parse JSON: expected {{"instances": [[f1, f2, ...], ...]}} ({exc})'
            ) from exc
    else:
        raise ContainerError(
            415, f"Content type {content_type or '(none)'} is not supported by this algorithm."
        )
    if not rows:
        raise ContainerError(400, "The payload holds no rows to predict.")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ContainerError(400, f"Rows have different numbers of columns: {sorted(widths)}")
    return rows


def format_predictions(scores: list[float], accept: str) -> tuple[bytes, str]:
    """The answer body in the requested type: one score per line for CSV, predictions for JSON."""
    if (accept or "").split(";")[0].strip().lower() == "application/json":
        return json.dumps({"predictions": [{"score": s} for s in scores]}).encode(), "application/json"
    return "\n".join(repr(s) for s in scores).encode(), "text/csv; charset=utf-8"


def booster_for(artifact: bytes) -> xgb.Booster:
    """The XGBoost booster of an artifact, loaded once per content digest."""
    from kitformats import model_artifact as model

    digest = hashlib.sha256(artifact).hexdigest()
    with _boosters_lock:
        booster = _boosters.get(digest)
        if booster is None:
            booster = _boosters[digest] = model.load_booster(artifact)
    return booster


def access_line(status: int, size: int) -> str:
    """The container's access log line for one /invocations request."""
    stamp = dt.datetime.now(dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'169.254.178.2 - - [{stamp}] "POST /invocations HTTP/1.1" {status} {size} "-" "AHC/2.0"'


def error_line(message: str) -> str:
    """The container's log line for a request it refused, in the built-in containers' logging format."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d:%H:%M:%S")
    return f"[{stamp}:ERROR] {message}"
