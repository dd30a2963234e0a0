"""Puts Lambda's control plane into moto 5.2.5: function states (states.py) and the runtime lifecycle (runtimes.py).

- ``LambdaFunction.__init__`` starts a new function's ``Pending`` clock (aws profile);
  ``get_configuration`` reports ``State``/``LastUpdateStatus``; ``update_configuration`` and
  ``update_function_code`` refuse a conflicting update and start the update's clock.
- ``LambdaBackend.create_function``, ``update_function_configuration`` and
  ``update_function_code`` refuse a runtime AWS has blocked for that action.
- The execution role is checked where Lambda checks it, after its own request validation
  (architectures, ephemeral storage, image, layers, the code's bucket and key: moto's, made while
  it builds the function): ``LambdaStorage.put_function`` (CreateFunction) and
  ``update_function_configuration`` (a new Role) answer, in this order, ``ValidationException``
  for a role that is not a role ARN, "Cross-account pass role is not allowed." for another
  account's role, and "The role defined for the function cannot be assumed by Lambda." for a role
  that does not exist, does not trust ``lambda.amazonaws.com`` or (aws profile) has not propagated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud import patching, profile
from localcloud.awslambda import runtimes, states
from localcloud.iam import enforcement

# CreateFunction's Role: AWS Lambda's API model (shape RoleArn), as the API reference lists it.
ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"


def check_role(account: str, role: str) -> None:
    """Raise Lambda's answer to an execution role it cannot use: pattern, then account, then trust."""
    from moto.awslambda.exceptions import (
        CrossAccountNotAllowed,
        InvalidParameterValueException,
        LambdaClientError,
    )

    if not re.fullmatch(ROLE_PATTERN, role):
        raise LambdaClientError(
            "ValidationException",
            f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {ROLE_PATTERN}",
        )
    if role.split(":")[4] != account:
        raise CrossAccountNotAllowed()
    if not enforcement.lambda_can_assume(account, role):
        raise InvalidParameterValueException(enforcement.LAMBDA_ROLE_MESSAGE)


def _put_function(original: Callable[..., Any]) -> Callable[..., Any]:
    """LambdaStorage.put_function (CreateFunction, after moto built and so validated the function) checking
    the role first."""

    def put_function(self: Any, fn: Any) -> None:
        check_role(self.account_id, fn.role)
        original(self, fn)

    return put_function


def _update_role(original: Callable[..., Any]) -> Callable[..., Any]:
    """UpdateFunctionConfiguration checking a new Role as CreateFunction does."""

    def update(self: Any, function_name: str, qualifier: str, body: dict[str, Any]) -> Any:
        if isinstance(body.get("Role"), str):
            check_role(self.account_id, body["Role"])
        return original(self, function_name, qualifier, body)

    return update


def _check_runtime(runtime: str | None, action: str) -> None:
    """Raise AWS's InvalidParameterValueException when runtime is blocked for action today."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    if runtimes.blocked(runtime, action):
        raise InvalidParameterValueException(runtimes.refusal(str(runtime)))


def _create(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateFunction refusing a runtime blocked for creation."""

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        _check_runtime(spec.get("Runtime"), "create")
        return original(self, spec)

    return create_function


def _update(original: Callable[..., Any], changes_runtime: bool) -> Callable[..., Any]:
    """An update refusing a function whose (new or current) runtime is blocked for updates."""

    def update(self: Any, function_name: str, qualifier: str, body: dict[str, Any]) -> Any:
        wanted = body.get("Runtime") if changes_runtime else None
        current = self.get_function(function_name, qualifier).run_time
        _check_runtime(wanted or current, "update")
        return original(self, function_name, qualifier, body)

    return update


def _make_init(original: Callable[..., Any]) -> Callable[..., Any]:
    """LambdaFunction.__init__ that starts the function Pending under the aws profile."""

    def __init__(
        self: Any, account_id: str, spec: dict[str, Any], region: str, version: str | int = 1
    ) -> None:
        original(self, account_id, spec, region, version)
        arn = self.function_arn
        profile.current().forget("lambda_update", arn)  # a function created again under an old name
        if profile.current().aws:
            profile.current().start("lambda_create", arn)

    return __init__


def _make_get_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    """get_configuration with the State and LastUpdateStatus AWS answers now."""

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        return states.describe(self, original(self, on_create), on_create)

    return get_configuration


def _make_update_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    """update_configuration that refuses a conflicting update and starts the update's clock."""

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
        states.begin_update(self)
        return original(self, config_updates)

    return update_configuration


def _make_update_function_code(original: Callable[..., Any]) -> Callable[..., Any]:
    """update_function_code that refuses a conflicting update and starts the update's clock."""

    def update_function_code(self: Any, updated_spec: dict[str, Any]) -> Any:
        # moto's backend applies one UpdateFunctionCode to the function twice: check the first only.
        if getattr(self, states.REPEAT, None) is not updated_spec:
            states.begin_update(self)
            setattr(self, states.REPEAT, updated_spec)
        return original(self, updated_spec)

    return update_function_code


def install() -> None:
    """Hook function states and the runtime lifecycle into moto's Lambda (idempotent)."""
    from moto.awslambda.models import LambdaBackend, LambdaFunction, LambdaStorage

    patching.patch(
        LambdaFunction, "__init__", ["self", "account_id", "spec", "region", "version"], _make_init
    )
    patching.patch(LambdaFunction, "get_configuration", ["self", "on_create"], _make_get_configuration)
    patching.patch(
        LambdaFunction, "update_configuration", ["self", "config_updates"], _make_update_configuration
    )
    patching.patch(
        LambdaFunction, "update_function_code", ["self", "updated_spec"], _make_update_function_code
    )
    patching.patch(LambdaBackend, "create_function", ["self", "spec"], _create)
    params = ["self", "function_name", "qualifier", "body"]
    patching.patch(
        LambdaBackend, "update_function_configuration", params, lambda original: _update(original, True)
    )
    patching.patch(LambdaBackend, "update_function_code", params, lambda original: _update(original, False))
    patching.patch(LambdaStorage, "put_function", ["self", "fn"], _put_function)
    patching.patch(LambdaBackend, "update_function_configuration", params, _update_role)
