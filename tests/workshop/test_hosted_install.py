"""tools/hosted_install.sh, as a SageMaker Studio JupyterLab space would run it: offline, in a simulated space.

The space: a home directory (the only thing a space restart keeps; SageMaker's JupyterLab user guide,
"Customize your environment using a package manager": a separate environment, `ipykernel install --user`)
holding a copy of the kit, and a base environment standing for the image's
JupyterLab server environment, first on PATH. The installer runs with uv offline from this machine's cache
(no network in tests). Checked: the base environment's packages are the same before and after; the kernel
is registered for the user and runs the kit's own environment; after a "restart" (the base environment made
again from scratch, the home directory kept) the kernel still imports the kit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "uv").exists(), reason="needs the kit's uv")


def packages(env: Path) -> list[str]:
    """The distributions installed in an environment's site-packages."""
    site = next((env / "lib").glob("python3*/site-packages"))
    return sorted(p.name for p in site.iterdir() if p.name.endswith(".dist-info"))


def make_base(where: Path) -> Path:
    """The image's server environment: a fresh venv of this machine's Python."""
    subprocess.run([sys._base_executable, "-m", "venv", str(where)], check=True)  # type: ignore[attr-defined]
    return where


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    root = tmp_path_factory.mktemp("space")
    home, base = root / "home" / "sagemaker-user", root / "opt" / "conda"
    home.mkdir(parents=True)
    kit = home / "kit"
    shutil.copytree(
        ROOT,
        kit,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "__pycache__", "*.egg-info", ".pytest_cache"),
    )
    make_base(base)
    before = packages(base)
    env = {
        "HOME": str(home),
        "PATH": f"{base / 'bin'}:/usr/bin:/bin",
        "WORKSHOP_UV": str(ROOT / ".venv" / "bin" / "uv"),
        "UV_OFFLINE": "1",
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
    }
    done = subprocess.run(
        ["bash", str(kit / "tools" / "hosted_install.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return {"home": home, "base": base, "kit": kit, "before": before, "done": done, "env": env}


def kernel_spec(home: Path) -> dict:
    return json.loads((home / ".local/share/jupyter/kernels/ml-pipeline-ch8/kernel.json").read_text())


def test_the_installer_succeeds(space):
    assert space["done"].returncode == 0, space["done"].stderr[-3000:]


def test_the_servers_environment_is_untouched(space):
    assert packages(space["base"]) == space["before"]


def test_the_kernel_is_the_users_and_runs_the_kits_own_environment(space):
    spec = kernel_spec(space["home"])
    python = Path(spec["argv"][0])
    assert python.is_relative_to(space["home"] / ".ml-workshop-env")
    assert spec["env"]["PYTHONPATH"] == str(space["kit"])


def test_the_kernel_survives_a_restart_that_keeps_only_the_home_directory(space):
    shutil.rmtree(space["base"])
    make_base(space["base"])  # the image again, nothing installed into it
    spec = kernel_spec(space["home"])
    done = subprocess.run(
        [spec["argv"][0], "-c", "import helpers, boto3, ipykernel, pandas; print(helpers.__file__)"],
        env={**space["env"], **spec["env"]},
        cwd=space["home"],  # a notebook's folder in the space
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith(str(space["kit"]))
