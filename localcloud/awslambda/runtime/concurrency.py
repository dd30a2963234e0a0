"""Concurrent executions, limited as AWS limits them: per function when reserved, else per account.

A function with reserved concurrency runs at most that many invocations at once (Reason
``ReservedFunctionConcurrentInvocationLimitExceeded``); functions without share what the
account's ``lambda_concurrent_executions`` quota (per region, from the profile) leaves after
every reservation (``ConcurrentInvocationLimitExceeded``). A refused invocation is a Throttles
datapoint and raises ``TooManyRequests``, which the hooks answer as AWS's TooManyRequestsException.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from localcloud.awslambda.runtime.reports import publish_metrics

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

    from localcloud.profile import Profile

Slot = tuple[str, tuple[str, str] | None]  # a function ARN and, when unreserved, its (account, region)


class TooManyRequests(Exception):
    """Raised as TooManyRequestsException (429) by the hooks; args[0] is AWS's Reason."""


class Concurrency:
    """The invocations running now, per function and per account and region, and the slots left."""

    def __init__(self, profile: Callable[[], Profile]) -> None:
        self.profile = profile  # the profile in force (it holds the account's quota)
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}  # running invocations per function ARN
        # ... of functions without reserved concurrency, per (account, region)
        self._unreserved: dict[tuple[str, str], int] = {}

    def _throttle_reason(self, fn: LambdaFunction) -> str | None:
        """AWS's Reason for refusing an invocation of fn now, or None when a slot is free (hold self._lock)."""
        reserved = fn.reserved_concurrency
        if reserved is not None:  # a reservation is the function's own: only it limits the function
            full = self._busy.get(fn.function_arn, 0) >= int(reserved)
            return "ReservedFunctionConcurrentInvocationLimitExceeded" if full else None
        # Unreserved functions share what the account's quota leaves after every reservation.
        pool = self.profile().quota("lambda_concurrent_executions") - reserved_concurrency(
            fn.account_id, fn.region
        )
        full = self._unreserved.get((fn.account_id, fn.region), 0) >= pool
        return "ConcurrentInvocationLimitExceeded" if full else None

    def take(self, fn: LambdaFunction) -> Slot:
        """Take an execution slot for fn; return what give_back needs (TooManyRequests when none is free)."""
        with self._lock:  # check and take at once, so two callers cannot both take the last slot
            reason = self._throttle_reason(fn)
            if reason is None:
                shared = (fn.account_id, fn.region) if fn.reserved_concurrency is None else None
                self._busy[fn.function_arn] = self._busy.get(fn.function_arn, 0) + 1
                if shared:
                    self._unreserved[shared] = self._unreserved.get(shared, 0) + 1
                return fn.function_arn, shared
        publish_metrics(fn, {"Throttles": (1, "Count")})
        raise TooManyRequests(reason)

    def give_back(self, slot: Slot) -> None:
        """Release a slot taken by take."""
        arn, shared = slot
        with self._lock:
            self._busy[arn] -= 1
            if shared:
                self._unreserved[shared] -= 1


def reserved_concurrency(account_id: str, region: str) -> int:
    """The concurrency reserved by all functions of an account in a region."""
    from moto.awslambda.models import lambda_backends

    functions = lambda_backends[account_id][region].list_functions()
    return sum(int(f.reserved_concurrency) for f in functions if f.reserved_concurrency is not None)
