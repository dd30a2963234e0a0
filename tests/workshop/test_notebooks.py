"""The workshop notebooks, run with nbval on a fresh local cloud: every notebook twice in a row, then cleanup.

Once under each profile of the local cloud: ``local`` (changes visible at once) and ``aws``
(AWS's eventual consistency and delays, shortened tenfold, from a fixed seed so a failure replays).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from notebook_source import kernel_env, nbval_failure, stop_local_cloud

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if p.name[0].isdigit())
CHAPTERS = [p for p in NOTEBOOKS if not p.name.startswith("99_")]
CLEANUP = [p for p in NOTEBOOKS if p.name.startswith("99_")]

pytestmark = pytest.mark.notebooks


PROFILES = {
    "local": {},
    "aws": {"WORKSHOP_LOCAL_PROFILE": "aws", "WORKSHOP_LOCAL_TIME_SCALE": "0.1", "WORKSHOP_LOCAL_SEED": "8"},
}


@pytest.fixture(scope="class")
def notebook_env(request, tmp_path_factory):
    """Environment for notebook kernels: their own local cloud (port, state folder, the class's profile), fast
    alarm periods. One class per profile: pytest-xdist's loadscope runs each on its own worker."""
    env = kernel_env(
        "nbval", tmp_path_factory.mktemp("workshop-state"), MPLBACKEND="Agg", **PROFILES[request.cls.profile]
    )
    yield env
    stop_local_cloud(env)


def _nbval(paths: list[Path], env: dict) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-current-env",
        "--keep-duplicates",
        "-p",
        "no:cacheprovider",
        "-q",
        "--timeout=900",
        "-o",
        "addopts=",
        *map(str, paths),
    ]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)


def _kit_resources(env: dict) -> int:
    """How many of the kit's resources the notebooks' prefix has in the notebooks' local cloud."""
    count = "from helpers import inventory; print(sum(r.owned for r in inventory.collect()))"
    answer = subprocess.run([sys.executable, "-c", count], env=env, cwd=ROOT, capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr[-2000:]
    return int(answer.stdout.strip().splitlines()[-1])


class Chapters:
    """Every chapter twice in a row, then cleanup, on a fresh local cloud of the subclass's profile."""

    profile = ""

    # Ten notebook runs, four UpdateEndpoint waits among them (8.2's and 8.3's bad deploy, out and back) and
    # the alarm periods: longer than the suite's 600 s per test on a busy machine; each cell has its own 900 s.
    @pytest.mark.timeout(1800)
    def test_every_chapter_notebook_runs_twice_in_a_row_on_the_same_stack(self, notebook_env):
        result = _nbval(CHAPTERS + CHAPTERS, notebook_env)
        assert result.returncode == 0, nbval_failure(result.stdout, result.stderr)

    def test_cleanup_notebook_then_removes_everything_it_listed(self, notebook_env):
        before = _kit_resources(notebook_env)
        assert before > 10, f"only {before} resources to clean up: run this with the chapters test before it"
        result = _nbval(CLEANUP, notebook_env)
        assert result.returncode == 0, nbval_failure(result.stdout, result.stderr)
        assert _kit_resources(notebook_env) == 0


class TestLocalProfile(Chapters):
    profile = "local"


class TestAwsProfile(Chapters):
    profile = "aws"
