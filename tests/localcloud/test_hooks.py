"""The one way the local cloud patches moto (localcloud/patching.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from localcloud import patching


class Target:
    def method(self, a, b):
        return ("original", a, b)


def fresh() -> type:
    return type("Fresh", (Target,), {"method": Target.method})


def test_a_hook_replaces_the_method_and_can_call_moto_s_original():
    cls = fresh()
    patching.patch(
        cls,
        "method",
        ["self", "a", "b"],
        lambda original: lambda self, a, b: ("hooked", original(self, a, b)),
    )
    assert cls().method(1, 2) == ("hooked", ("original", 1, 2))


def test_a_hook_whose_target_signature_changed_fails_loudly():
    cls = fresh()
    with pytest.raises(patching.HookError, match="moto changed"):
        patching.patch(cls, "method", ["self", "a", "b", "c"], lambda original: original)


def test_a_hook_on_a_missing_target_fails_loudly():
    with pytest.raises(patching.HookError, match="no"):
        patching.patch(fresh(), "gone", ["self"], lambda original: original)


def test_installing_a_hook_twice_patches_once():
    cls = fresh()
    make = lambda original: lambda self, a, b: ("hooked", original(self, a, b))  # noqa: E731
    patching.patch(cls, "method", ["self", "a", "b"], make)
    patching.patch(cls, "method", ["self", "a", "b"], make)
    assert cls().method(1, 2) == ("hooked", ("original", 1, 2))


def test_original_finds_moto_s_method_behind_a_hook():
    cls = fresh()
    patching.patch(cls, "method", ["self", "a", "b"], lambda original: lambda self, a, b: None)
    assert patching.original(cls, "method") is Target.method


def test_an_action_moto_already_implements_is_not_overwritten():
    cls = type("Responses", (), {"describe_things": lambda self: "moto's"})
    with pytest.raises(patching.HookError, match="now implements"):
        patching.add_action(cls, "describe_things", lambda self: "ours")


def test_another_moto_version_is_refused(monkeypatch):
    import moto

    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(patching.HookError, match="9.9.9"):
        patching.check_moto()


def test_requirements_pin_the_moto_version_the_hooks_were_written_against():
    requirements = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text()
    assert f"moto[server]=={patching.MOTO_VERSION}\n" in requirements


def test_two_modules_hooking_the_same_method_both_take_effect():
    cls = fresh()
    first = lambda original: lambda self, a, b: ("first", original(self, a, b))  # noqa: E731
    second = lambda original: lambda self, a, b: ("second", original(self, a, b))  # noqa: E731
    patching.patch(cls, "method", ["self", "a", "b"], first)
    patching.patch(cls, "method", ["self", "a", "b"], second)
    assert cls().method(1, 2) == ("second", ("first", ("original", 1, 2)))
    assert patching.original(cls, "method") is Target.method


class Responses:
    @staticmethod
    def enrich(headers, body):
        return headers, body


def test_an_inherited_staticmethod_is_hooked_on_the_subclass_and_stays_static():
    cls = type("LambdaResponses", (Responses,), {})
    patching.patch(
        cls,
        "enrich",
        ["headers", "body"],
        lambda original: lambda headers, body: ("hooked", original(headers, body)),
    )
    assert cls().enrich({}, "b") == ("hooked", ({}, "b"))
    assert Responses.enrich({}, "b") == ({}, "b")
    assert patching.original(cls, "enrich") is Responses.__dict__["enrich"].__func__


def test_an_inherited_classmethod_stays_a_classmethod():
    base = type("Base", (), {"make": classmethod(lambda cls, x: (cls.__name__, x))})
    cls = type("Sub", (base,), {})
    patching.patch(cls, "make", ["cls", "x"], lambda original: lambda cls, x: ("hooked", original(cls, x)))
    assert cls.make(1) == ("hooked", ("Sub", 1))


def test_every_applied_hook_is_recorded_with_the_parameters_it_relies_on():
    cls = fresh()
    patching.patch(cls, "method", ["self", "a"], lambda original: original, prefix=True)
    assert patching.applied()[-1] == patching.Hook(cls, "method", ("self", "a"), True)


def moto_hooks() -> list[patching.Hook]:
    """The hooks the local cloud's modules applied to moto's classes."""
    from localcloud import server

    server.install_hooks()
    return [hook for hook in patching.applied() if module_of(hook.owner).startswith("moto.")]


def module_of(owner: patching.Owner) -> str:
    """The module a hooked class lives in, or the hooked module's own name."""
    return owner.__name__ if isinstance(owner, ModuleType) else owner.__module__


def test_every_hook_of_the_local_cloud_matches_the_installed_moto():
    applied = moto_hooks()
    assert len(applied) > 40  # every HOOK_MODULES module's patches, not a few
    for hook in applied:
        hook.check()


def test_a_moto_target_whose_signature_changed_fails_the_recorded_check(monkeypatch):
    from moto.cloudwatch.models import CloudWatchBackend

    [hook] = [h for h in moto_hooks() if (h.owner, h.name) == (CloudWatchBackend, "list_metrics")]
    monkeypatch.setattr(CloudWatchBackend, "list_metrics", lambda self, next_token: ([], None))
    with pytest.raises(patching.HookError, match="moto changed"):
        hook.check()
