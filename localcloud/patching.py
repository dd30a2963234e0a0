"""The one way the local cloud patches moto: at this place, checked against this signature, once.

moto's internals move even in patch releases, so every hook names the parameters it relies on;
a moto whose target no longer has them fails loudly when the local cloud starts instead of
misbehaving later. moto itself is checked once, against ``MOTO_VERSION``. Every applied hook is
recorded (``applied()``), so a test can check them all against the installed moto at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, NamedTuple

MOTO_VERSION = "5.2.5"
MARK = "_workshop_original"


class HookError(RuntimeError):
    """moto no longer has the place a hook was written for."""


Owner = type | ModuleType  # a class whose method is hooked, or a module whose function is


class Hook(NamedTuple):
    """One applied hook: moto's owner.name, whose parameters are (or start with, when prefix) expected."""

    owner: Owner
    name: str
    expected: tuple[str, ...]
    prefix: bool

    def check(self) -> None:
        """Raise HookError unless moto's own owner.name still takes the expected parameters."""
        check_signature(original(self.owner, self.name), self.expected, self.prefix)


def check_signature(target: Callable[..., Any], expected: Sequence[str], prefix: bool = False) -> None:
    """Raise HookError unless target's parameters are expected (or start with it, when prefix)."""
    found = list(inspect.signature(target).parameters)
    ok = found[: len(expected)] == list(expected) if prefix else found == list(expected)
    if not ok:
        raise HookError(
            f"moto changed {getattr(target, '__qualname__', target)}{inspect.signature(target)}; "
            f"the local cloud's hook expects ({', '.join(expected)}), written against moto {MOTO_VERSION}"
        )


def _lookup(owner: Owner, name: str) -> Any:
    """owner.name as stored in the module, or in the class the MRO finds it in (a staticmethod stays one)."""
    for namespace in (owner,) if isinstance(owner, ModuleType) else owner.__mro__:
        if name in namespace.__dict__:
            return namespace.__dict__[name]
    where = getattr(owner, "__qualname__", owner.__name__)
    raise HookError(f"moto has no {where}.{name}; written against moto {MOTO_VERSION}")


def _function(attribute: Any) -> Callable[..., Any]:
    """The function behind a class attribute (a staticmethod's or classmethod's own)."""
    found: Callable[..., Any] = (
        attribute.__func__ if isinstance(attribute, staticmethod | classmethod) else attribute
    )
    return found


def original(owner: Owner, name: str) -> Callable[..., Any]:
    """moto's own implementation of owner.name, even after it was patched."""
    current = _function(_lookup(owner, name))
    found: Callable[..., Any] = getattr(current, MARK, current)
    return found


def patch(
    owner: Owner,
    name: str,
    expected: Sequence[str],
    make: Callable[[Callable[..., Any]], Callable[..., Any]],
    prefix: bool = False,
) -> None:
    """Replace owner.name by make(current), once per make; expected lists the parameters relied on.

    Two modules may hook the same method: the second wraps the first (each gets what was there
    before it), while the signature is always checked against moto's own. An inherited method
    is hooked on owner alone; a staticmethod or classmethod stays one.
    """
    current = _lookup(owner, name)
    # The same code installing twice is skipped; a closure made again by a second install() shares its code.
    key = (owner, name, getattr(make, "__code__", make))
    if key in _applied:
        return
    raw = _function(current)
    moto_own = getattr(raw, MARK, raw)
    check_signature(moto_own, expected, prefix)
    replacement: Any = make(raw)
    setattr(replacement, MARK, moto_own)
    if isinstance(current, staticmethod | classmethod):
        replacement = type(current)(replacement)
    setattr(owner, name, replacement)
    _applied[key] = Hook(owner, name, tuple(expected), prefix)


_applied: dict[tuple[Any, ...], Hook] = {}


def applied() -> list[Hook]:
    """Every hook patch() has applied in this process, oldest first."""
    return list(_applied.values())


def add_action(response_class: type, name: str, method: Callable[..., Any]) -> None:
    """Give a moto Response class an API action it lacks (dispatch finds it by snake_case name)."""
    existing = response_class.__dict__.get(name)
    if existing is not None and getattr(existing, MARK, None) is None and existing is not method:
        raise HookError(
            f"moto now implements {response_class.__qualname__}.{name}; review the local cloud's hook"
        )
    setattr(method, MARK, method)
    setattr(response_class, name, method)


def check_moto() -> None:
    """Raise unless the installed moto is the version the hooks were written against."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise HookError(
            f"The local cloud was written against moto {MOTO_VERSION}, found {moto.__version__}. "
            "Fix: make install (requirements.txt pins the right version)."
        )
