"""python -m helpers.local up | down | status: manage the local cloud process."""

from __future__ import annotations

import argparse
import sys

from helpers.config import SettingsError, settings
from helpers.local import process


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m helpers.local", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--port", type=int, help="default: WORKSHOP_LOCAL_PORT or 4566")
    args = parser.parse_args(argv)
    try:
        port = args.port or settings().local_port
        if args.command == "up":
            print(process.up(port).describe())
        elif args.command == "down":
            print(process.down(port))
        else:
            current = process.status(port)
            print(current.describe())
            from helpers.local import lambda_pythons, lambda_runtimes

            for runtime in lambda_runtimes.LIFECYCLE:
                if not lambda_runtimes.blocked(runtime, "create"):
                    print(lambda_pythons.describe(runtime))
            return 0 if current.state == "running" else 3
    except (process.LocalCloudError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
