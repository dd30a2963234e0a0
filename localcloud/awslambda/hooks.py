"""Puts Lambda's control plane into moto 5.2.5: function states (states.py) and the runtime lifecycle (runtimes.py).

- ``LambdaFunction.__init__`` starts a new function's ``Pending`` clock (aws profile);
  ``get_configuration`` reports ``State``/``LastUpdateStatus``; ``update_configuration`` and
  ``update_function_code`` refuse a conflicting update and start the update's clock.
- ``LambdaBackend.create_function``, ``update_function_configuration`` and
  ``update_function_code`` refuse a runtime AWS has blocked for that action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import patching, profile
from localcloud.awslambda import runtimes, states


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
    from moto.awslambda.models import LambdaBackend, LambdaFunction

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
