"""Locks shared by the local cloud's hooks (moto serves each request on its own thread)."""

import threading
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Taken around CloudWatch request handling, metric-filter publishing and alarm evaluation.
# Never hold it across an SNS publish or a Lambda run: SNS can invoke a Lambda that calls
# CloudWatch back on another thread.
cloudwatch_lock = threading.RLock()


def locked(method: Callable[P, R]) -> Callable[P, R]:
    """The method, run while holding cloudwatch_lock."""

    @wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with cloudwatch_lock:
            return method(*args, **kwargs)

    return run
