"""Set-up time: a fresh `make install` (uv) against plain pip on the same pins, cold and warm cache, and .venv's size.

Each run installs into a fresh clone of this repository, so nothing of the working copy is touched.
Cold: empty package caches (packages come from the index). Warm: the caches the cold run filled.
Targets (issue 13): `make install` ≤ 30 s warm and no slower than pip's 78 s cold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = os.environ.get("PYTHON", sys.executable if sys.prefix == sys.base_prefix else sys._base_executable)


def fresh_clone(into: Path) -> Path:
    """A clone of this repository's HEAD (no .venv)."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    return into


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds the command took; fails loudly when it fails."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def size_mb(folder: Path) -> float:
    """Disk use of a folder in MB (du, counting hard links once, as the disk does)."""
    out = subprocess.run(["du", "-sm", str(folder)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def make_install(work: Path, caches: Path) -> float:
    """`make install` in a fresh clone with the kit's installer."""
    clone = fresh_clone(work / f"uv-{time.monotonic_ns()}")
    env = dict(os.environ, UV_CACHE_DIR=str(caches / "uv"), PIP_CACHE_DIR=str(caches / "pip"), PYTHON=PYTHON)
    return timed(["make", "install", f"PYTHON={PYTHON}"], clone, env)


def pip_install(work: Path, caches: Path) -> float:
    """A fresh venv and plain `pip install -r requirements.txt -c constraints.txt` (what make install did before)."""
    clone = fresh_clone(work / f"pip-{time.monotonic_ns()}")
    env = dict(os.environ, PIP_CACHE_DIR=str(caches / "pip"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    started = time.perf_counter()
    timed([PYTHON, "-m", "venv", ".venv"], clone, env)
    timed(
        [
            ".venv/bin/python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            "requirements.txt",
            "-c",
            "constraints.txt",
        ],
        clone,
        env,
    )
    return time.perf_counter() - started


def main() -> int:
    """Print cold and warm times for both installers side by side, their ratios, and .venv's size."""
    with tempfile.TemporaryDirectory(prefix="bench-setup-") as folder:
        work = Path(folder)
        rows = {}
        for name, install in (("make install (uv)", make_install), ("pip", pip_install)):
            caches = work / f"cache-{name.split()[0]}"
            cold = install(work, caches)
            warm = install(work, caches)
            rows[name] = (cold, warm)
            print(f"{name:<20} cold {cold:6.1f} s   warm {warm:6.1f} s", flush=True)
        uv_cold, uv_warm = rows["make install (uv)"]
        pip_cold, pip_warm = rows["pip"]
        venv = next(work.glob("uv-*")) / ".venv"
        print(f"pip / uv: cold ×{pip_cold / uv_cold:.1f}, warm ×{pip_warm / uv_warm:.1f}")
        print(f".venv: {size_mb(venv):,.0f} MB ({PYTHON})")
        print(
            f"targets: warm ≤ 30 s: {'met' if uv_warm <= 30 else 'MISSED'}; "
            f"cold ≤ 78 s: {'met' if uv_cold <= 78 else 'MISSED'}"
        )
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
