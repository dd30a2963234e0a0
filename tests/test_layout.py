"""The local cloud's layout: each behaviour package is an engine that needs no moto, and its hooks.py.

As moto keeps `logs/logs_query/` apart from `models.py`, a behaviour with an engine of its own is a
package under helpers/local/: its modules import without moto (pure, tested alone), and `hooks.py`
is the one module of the package that puts it into moto, installed by the server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.local import server

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "helpers" / "local"
PACKAGES = sorted(path.parent.name for path in LOCAL.glob("*/hooks.py"))


def engine_modules(package: str) -> list[str]:
    """The package's modules other than its hooks, as importable names."""
    folder = LOCAL / package
    names = [f"helpers.local.{package}.{path.stem}" for path in sorted(folder.glob("*.py"))]
    return [name.removesuffix(".__init__") for name in names if not name.endswith(".hooks")]


def test_the_local_cloud_has_behaviour_packages():
    assert {"alarms", "filter_patterns", "logs_insights", "metric_filters", "metric_statistics"} <= set(
        PACKAGES
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_a_behaviour_s_engine_imports_without_moto(package):
    script = (
        "import importlib, json, sys\n"
        f"for name in {engine_modules(package)!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'moto')))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_a_behaviour_s_hooks_are_installed_by_the_server(package):
    assert f"helpers.local.{package}.hooks" in server.HOOK_MODULES


@pytest.mark.parametrize("package", PACKAGES)
def test_only_a_behaviour_s_hooks_module_patches_moto(package):
    patching = re.compile(r"\bhooks\.(patch|add_action)\(")
    for path in (LOCAL / package).glob("*.py"):
        if path.name != "hooks.py":
            assert not patching.search(path.read_text()), f"{path.relative_to(ROOT)} patches moto"


def test_every_hook_module_the_server_installs_exists():
    for name in server.HOOK_MODULES:
        parts = name.split(".")[2:]
        assert (LOCAL.joinpath(*parts).with_suffix(".py")).is_file(), name
