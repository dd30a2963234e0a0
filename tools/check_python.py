"""Exit with a clear message unless this Python can run the kit (run by make before anything is installed)."""

import os
import re
import sys

PYPROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "pyproject.toml")


def supported():
    """(oldest, newest) Python the kit supports, from pyproject.toml's requires-python '>=3.A,<3.B'."""
    with open(PYPROJECT) as f:
        match = re.search(r'requires-python\s*=\s*">=3\.(\d+),\s*<3\.(\d+)"', f.read())
    return (3, int(match.group(1))), (3, int(match.group(2)) - 1)


OLDEST, NEWEST = supported()  # CI runs the kit on both (.ci/run)


def main():
    """Name the Python found and the versions needed; 0 when it is one of them."""
    found = tuple(sys.version_info[:2])
    if OLDEST <= found <= NEWEST:
        return 0
    # %-formatting, not f-strings: this must run (and speak) on any Python someone points make at.
    sys.stderr.write(
        "This kit needs Python %d.%d to %d.%d; %s is Python %d.%d.\n"
        "Install one of those, then point make at it, e.g.: make install PYTHON=python3.%d\n"
        % (OLDEST + NEWEST + (sys.executable,) + found + (NEWEST[1],))
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
