"""Set-up: the Pythons the kit supports come from pyproject.toml, and make names any other before installing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud.awslambda.pythons import find

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "tools" / "check_python.py"
_spec = importlib.util.spec_from_file_location("check_python", CHECK)  # a script, not a module of the kit
check_python = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_python)


def test_the_supported_pythons_are_pyproject_s_requires_python():
    assert check_python.supported() == ((3, 11), (3, 13))


def test_this_python_is_accepted():
    assert subprocess.run([sys.executable, str(CHECK)]).returncode == 0


@pytest.mark.parametrize("version", ["3.10", "3.6"])
def test_an_unsupported_python_is_named_with_the_fix(version):
    python = find(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    answer = subprocess.run([python, str(CHECK)], capture_output=True, text=True)
    assert answer.returncode == 1
    assert f"is Python {version}" in answer.stderr and "make install PYTHON=python3.13" in answer.stderr
