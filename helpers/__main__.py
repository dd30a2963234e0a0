"""python -m helpers: the instructor's command line (run, status, traffic, cleanup, local)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _run(args) -> int:
    from helpers import runner

    notebooks = [Path(n).resolve() for n in args.notebooks] or runner.workshop_notebooks(args.with_cleanup)
    params = dict(p.split("=", 1) for p in args.param)
    results = runner.run_all(notebooks, Path(args.out).resolve() if args.out else None, params)
    return 0 if all(r.ok for r in results) else 1


def _local(args) -> int:
    from helpers.local.__main__ import main as local_main

    return local_main([args.action] + (["--port", str(args.port)] if args.port else []))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks headless; executed copies + HTML under build/notebooks")
    run.add_argument("notebooks", nargs="*", help="default: every workshop notebook in order")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a 'parameters' cell value")
    run.add_argument("--out", help="output folder (default build/notebooks)")
    run.add_argument("--with-cleanup", action="store_true", help="also run 99_cleanup at the end")
    run.set_defaults(func=_run)
    local = sub.add_parser("local", help="manage the local cloud")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=int)
    local.set_defaults(func=_local)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
