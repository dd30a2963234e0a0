"""The local cloud's background warm-up (localcloud/sagemaker/runtime/warmup.py) can be waited for or skipped.

Observed (issue 19): moto 5.2.5's test suite run with the hooks installed in-process crashed in a test using
freezegun while the hooks' background import of XGBoost and pandas ran: freeze_time walks every loaded module,
and the process died in pandas (segmentation fault, or importlib's _DeadlockError on pandas' module locks;
reproduced with this file's SCRIPT and no wait: exit 139). Each scenario runs in a fresh process, the only
place a process-wide import can be observed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud.sagemaker.runtime import warmup

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import datetime as dt, sys
from localcloud import server
server.install_hooks()
{between}
from freezegun import freeze_time
for _ in range(30):
    with freeze_time("2020-01-01 00:00:00"):
        assert dt.datetime.now().year == 2020
print("xgboost imported:", "xgboost" in sys.modules)
"""


def run(between: str, **env: str) -> subprocess.CompletedProcess[str]:
    """SCRIPT in a fresh interpreter, with `between` run after the hooks install."""
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(between=between)],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_freezing_the_clock_after_waiting_for_the_warm_up_does_not_crash():
    done = run("assert server.wait_for_warm_up()")
    assert (done.returncode, done.stdout.strip(), "Traceback" in done.stderr) == (
        0,
        "xgboost imported: True",
        False,
    ), done.stderr[-2000:]


def test_with_the_warm_up_off_nothing_is_imported_in_the_background():
    done = run("", WORKSHOP_LOCAL_WARM_UP="off")
    assert (done.returncode, done.stdout.strip(), "Traceback" in done.stderr) == (
        0,
        "xgboost imported: False",
        False,
    ), done.stderr[-2000:]


def test_an_unknown_warm_up_mode_names_the_fix():
    with pytest.raises(ValueError, match="WORKSHOP_LOCAL_WARM_UP='later'.*WORKSHOP_LOCAL_WARM_UP=off"):
        warmup.mode({"WORKSHOP_LOCAL_WARM_UP": "later"})
