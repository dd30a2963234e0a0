"""The one way the local cloud patches moto (helpers/local/hooks.py)."""

from __future__ import annotations

import pytest

from helpers.local import hooks


class Target:
    def method(self, a, b):
        return ("original", a, b)


def fresh() -> type:
    return type("Fresh", (Target,), {"method": Target.method})


def test_a_hook_replaces_the_method_and_can_call_moto_s_original():
    cls = fresh()
    hooks.patch(
        cls,
        "method",
        ["self", "a", "b"],
        lambda original: lambda self, a, b: ("hooked", original(self, a, b)),
    )
    assert cls().method(1, 2) == ("hooked", ("original", 1, 2))


def test_a_hook_whose_target_signature_changed_fails_loudly():
    cls = fresh()
    with pytest.raises(hooks.HookError, match="moto changed"):
        hooks.patch(cls, "method", ["self", "a", "b", "c"], lambda original: original)


def test_a_hook_on_a_missing_target_fails_loudly():
    with pytest.raises(hooks.HookError, match="no"):
        hooks.patch(fresh(), "gone", ["self"], lambda original: original)


def test_installing_a_hook_twice_patches_once():
    cls = fresh()
    make = lambda original: lambda self, a, b: ("hooked", original(self, a, b))  # noqa: E731
    hooks.patch(cls, "method", ["self", "a", "b"], make)
    hooks.patch(cls, "method", ["self", "a", "b"], make)
    assert cls().method(1, 2) == ("hooked", ("original", 1, 2))


def test_original_finds_moto_s_method_behind_a_hook():
    cls = fresh()
    hooks.patch(cls, "method", ["self", "a", "b"], lambda original: lambda self, a, b: None)
    assert hooks.original(cls, "method") is Target.method


def test_an_action_moto_already_implements_is_not_overwritten():
    cls = type("Responses", (), {"describe_things": lambda self: "moto's"})
    with pytest.raises(hooks.HookError, match="now implements"):
        hooks.add_action(cls, "describe_things", lambda self: "ours")


def test_another_moto_version_is_refused(monkeypatch):
    import moto

    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(hooks.HookError, match="9.9.9"):
        hooks.check_moto()


def test_two_modules_hooking_the_same_method_both_take_effect():
    cls = fresh()
    first = lambda original: lambda self, a, b: ("first", original(self, a, b))  # noqa: E731
    second = lambda original: lambda self, a, b: ("second", original(self, a, b))  # noqa: E731
    hooks.patch(cls, "method", ["self", "a", "b"], first)
    hooks.patch(cls, "method", ["self", "a", "b"], second)
    assert cls().method(1, 2) == ("second", ("first", ("original", 1, 2)))
    assert hooks.original(cls, "method") is Target.method
