"""Benchmark: the workshop notebooks end to end on a fresh local cloud, against the issues' targets.

Runs 00 → 8.4 in order (alarm period 60 s, as in AWS) on its own local cloud (free port, temporary
state folder), then prints each notebook's wall time beside its target. Targets: the whole 8.3
notebook, alarm firing and recovering included, ≤ 240 s; 8.4 with 10,000 seeded records ≤ 60 s.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"8.3_monitor_with_cloudwatch.ipynb": 240.0, "8.4_analyze_inference_history.ipynb": 60.0}


def main() -> None:
    """Run the notebooks and print the table."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = tempfile.mkdtemp(prefix="bench-notebooks-")
    os.environ.update(
        WORKSHOP_MODE="local",
        WORKSHOP_PREFIX="bench",
        WORKSHOP_LOCAL_PORT=str(port),
        WORKSHOP_STATE_DIR=state,
        MPLBACKEND="Agg",
    )
    os.environ.pop("WORKSHOP_ALARM_PERIOD", None)
    from helpers import runner

    out = Path(tempfile.mkdtemp(prefix="bench-notebooks-out-"))
    try:
        results = [runner.run_notebook(nb, out) for nb in runner.workshop_notebooks()]
    finally:
        subprocess.run([sys.executable, "-m", "localcloud", "down"], cwd=ROOT, capture_output=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'notebook':<42}{'seconds':>9}{'target':>9}{'ratio':>8}  verdict")
    for r in results:
        target = TARGETS.get(r.notebook)
        ratio = f"{r.seconds / target:.2f}" if target else ""
        verdict = ("ok" if r.seconds <= target else "over") if target else ""
        status = "" if r.ok else f"  FAILED: {r.error}"
        print(
            f"{r.notebook:<42}{r.seconds:>9.1f}{(f'{target:.0f}' if target else '-'):>9}{ratio:>8}  {verdict}{status}"
        )


if __name__ == "__main__":
    main()
