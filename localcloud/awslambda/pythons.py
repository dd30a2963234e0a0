"""Which Python runs a Lambda function's runtime locally: that version when the machine has it, else the kit's.

AWS runs a `python3.13` function on Python 3.13. The local cloud does the same when it finds a
Python 3.13 on this machine (on PATH, or installed by pyenv or uv); otherwise the handler runs on the
kit's own interpreter, and `python -m localcloud status` says so. The handler needs nothing but the
standard library and boto3 (pure Python, linked from the kit's site-packages), so any 3.x runs it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

RUNTIME = re.compile(r"^python(?P<version>3\.\d+)$")
OWN = f"{sys.version_info.major}.{sys.version_info.minor}"


def wanted_version(run_time: str) -> str | None:
    """'3.13' for 'python3.13'; None for a runtime that is not Python."""
    match = RUNTIME.match(run_time or "")
    return match.group("version") if match else None


def candidates(version: str) -> list[str]:
    """Interpreters that may be Python `version`: PATH first, then pyenv's and uv's installs."""
    found = [shutil.which(f"python{version}") or ""]
    homes = [
        Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions",
        Path(os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local/share/uv/python")),
    ]
    for home in homes:
        if home.is_dir():
            found += sorted(str(p) for p in home.glob(f"*{version}*/bin/python{version}"))
    return [path for path in dict.fromkeys(found) if path]


@functools.cache
def version_of(executable: str) -> str | None:
    """The 'major.minor' an interpreter reports, or None when it does not run (e.g. a pyenv shim of another version)."""
    try:
        answer = subprocess.run(
            [executable, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return answer.stdout.strip() if answer.returncode == 0 else None


def find(version: str) -> str | None:
    """An interpreter of Python `version` ('3.13') on this machine, or None."""
    if version == OWN:
        return sys.executable
    return next((path for path in candidates(version) if version_of(path) == version), None)


@functools.cache
def interpreter(run_time: str) -> str:
    """The executable that runs functions of this runtime (the kit's own when the version is not on this machine)."""
    version = wanted_version(run_time)
    return (find(version) if version else None) or sys.executable


def describe(run_time: str) -> str:
    """One line for `status`: which Python runs this runtime."""
    path = interpreter(run_time)
    running = version_of(path) or OWN
    wanted = wanted_version(run_time)
    note = "" if wanted in (None, running) else f" (no Python {wanted} on this machine: the kit's own)"
    return f"{run_time} handlers run on Python {running}, {path}{note}"
