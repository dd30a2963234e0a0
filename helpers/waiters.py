"""Bounded waits with progress, and retries for AWS's eventual consistency."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from tqdm import tqdm

from helpers.errors import WorkshopError

T = TypeVar("T")


def elapsed_bar(desc: str, unit: str, total: float | None = None) -> tqdm[Any]:
    """A progress bar for a wait: desc, the time elapsed, then what set_postfix_str says."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stdout,
        bar_format="{desc}: {elapsed} elapsed{postfix}",
        mininterval=5,
    )


def wait_for_state(
    read_state: Callable[[], str],
    *,
    what: str,
    done: AbstractSet[str],
    failed: AbstractSet[str] = frozenset(),
    timeout_s: float = 900,
    interval_s: float = 5,
    hint: str = "",
) -> str:
    """Poll read_state until it is in done; show progress; fail clearly on a failed state or timeout."""
    started = time.monotonic()
    state = read_state()
    if state in done:
        return state
    with tqdm(total=None, desc=f"waiting for {what}", unit="check", leave=True, file=sys.stdout) as bar:
        while True:
            bar.set_postfix_str(f"{state}, {time.monotonic() - started:.0f}s")
            if state in done:
                return state
            if state in failed:
                raise WorkshopError(f"{what} ended in state {state}. {hint}".strip())
            if time.monotonic() - started > timeout_s:
                raise WorkshopError(
                    f"Gave up waiting for {what} after {timeout_s:.0f} s (last state {state}). {hint}".strip()
                )
            time.sleep(interval_s)
            bar.update(1)
            state = read_state()


def backoff(attempt: int, base_s: float = 0.05, max_s: float = 2.0) -> float:
    """The pause before retry number `attempt` + 1: exponential from base_s, capped at max_s."""
    return min(max_s, base_s * 2.0**attempt)


def retry(
    call: Callable[[], T],
    *,
    what: str,
    codes: set[str],
    message_contains: str = "",
    timeout_s: float = 120,
    first_delay_s: float = 1.0,
) -> T:
    """Call again with backoff while AWS answers one of codes (e.g. a role still propagating)."""
    started, attempt = time.monotonic(), 0
    while True:
        try:
            return call()
        except ClientError as exc:
            error = exc.response["Error"]
            if error.get("Code") not in codes or message_contains not in error.get("Message", ""):
                raise
            if time.monotonic() - started > timeout_s:
                raise WorkshopError(
                    f"Still failing after {timeout_s:.0f} s while {what}: {error.get('Code')}: {error.get('Message')}"
                ) from exc
            delay = backoff(attempt, first_delay_s, max_s=15)
            print(f"  {what}: {error.get('Code')}, retrying in {delay:.0f} s")
            time.sleep(delay)
            attempt += 1
