"""Lambda function states for the local cloud's ``aws`` profile: Pending after create, InProgress after updates.

AWS creates a function ``Pending`` (``StateReasonCode: Creating``) for seconds before it is
``Active``; meanwhile Invoke and every code or configuration update answer
``ResourceConflictException``. An update leaves ``LastUpdateStatus: InProgress`` until
``Successful``; a second update meanwhile answers ``ResourceConflictException``, and invocations
still run the previous code and configuration. moto 5.2.5 answers ``Active``/``Successful`` at once.

Under the ``local`` profile (delays of 0) nothing here changes moto's answers. The delays are the
profile's ``lambda_create`` and ``lambda_update`` kinds, keyed by the function's ARN.
"""

from __future__ import annotations

import copy
import threading
import time
from functools import cache
from typing import Any

from localcloud import profile

CREATING = "The function is being created."
PREVIOUS = "_workshop_previous"  # on a function during an update: a copy of it as it was before
IDENTITY = "_workshop_identity"  # the function a copy stands for (its warm environments stay usable)
REPEAT = "_workshop_update_spec"  # the last code update applied (moto applies each one twice)
_updates = threading.Lock()  # two updates arriving together: one starts, the other conflicts


@cache
def _conflict_class() -> type[Exception]:
    """Lambda's ResourceConflictException (HTTP 409), made on first use (moto is imported only then)."""
    from moto.awslambda.exceptions import LambdaClientError

    class ResourceConflictException(LambdaClientError):
        """The function is Pending or another update is in progress (HTTP 409)."""

        code = 409

        def __init__(self, message: str) -> None:
            super().__init__("ResourceConflictException", message)

    return ResourceConflictException


def conflict(message: str) -> Exception:
    """AWS's ResourceConflictException with message."""
    return _conflict_class()(message)


def pending(fn: Any) -> bool:
    """True while the function is being created."""
    return profile.current().remaining("lambda_create", fn.function_arn) > 0


def updating(fn: Any) -> bool:
    """True while the function's last code or configuration update is in progress."""
    return profile.current().remaining("lambda_update", fn.function_arn) > 0


def identity(fn: Any) -> int:
    """The same number for a function and the copies that stand for it while it updates."""
    return getattr(fn, IDENTITY, None) or id(fn)


def check_pending(fn: Any) -> None:
    """Raise AWS's ResourceConflictException while the function is Pending."""
    if pending(fn):
        raise conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending"
        )


def check_updatable(fn: Any) -> None:
    """Raise AWS's ResourceConflictException while the function is Pending or an update runs."""
    check_pending(fn)
    if updating(fn):
        raise conflict(
            f"The operation cannot be performed at this time. An update is in progress for resource: {fn.function_arn}"
        )


def serving(fn: Any, trigger: bool = False) -> Any:
    """The function as an invocation runs it now: during an update, the previous version.

    While it is Pending, the Invoke API is refused; a trigger (an SNS or SQS delivery, which AWS
    retries) waits until the function is Active.
    """
    if trigger:
        time.sleep(profile.current().remaining("lambda_create", fn.function_arn))
    check_pending(fn)
    previous = getattr(fn, PREVIOUS, None)
    if previous is not None and updating(fn):
        return previous
    return fn


def begin_update(fn: Any) -> None:
    """Refuse a conflicting update; otherwise remember the function as it is and start the update's clock."""
    with _updates:
        check_updatable(fn)
        if not profile.current().aws:
            return
        previous = copy.copy(fn)
        previous.__dict__.pop(PREVIOUS, None)
        setattr(previous, IDENTITY, identity(fn))
        setattr(fn, PREVIOUS, previous)
        profile.current().start("lambda_update", fn.function_arn)


def describe(fn: Any, config: dict[str, Any], on_create: bool) -> dict[str, Any]:
    """config with the State and LastUpdateStatus fields AWS answers for fn now."""
    if pending(fn):
        config.update(State="Pending", StateReason=CREATING, StateReasonCode="Creating")
        if not on_create:
            config.update(LastUpdateStatus="InProgress", LastUpdateStatusReason=CREATING,
                          LastUpdateStatusReasonCode="Creating")  # fmt: skip
    elif updating(fn):
        config.update(State="Active", LastUpdateStatus="InProgress", LastUpdateStatusReason=CREATING,
                      LastUpdateStatusReasonCode="Creating")  # AWS's own wording for updates too  # fmt: skip
    return config
