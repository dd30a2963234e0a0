"""Exit with a clear message unless this Python can run the kit (run by make before anything is installed)."""

import sys

OLDEST, NEWEST = (3, 11), (3, 13)  # the Pythons CI runs the kit on (.ci/run)


def main():
    """Name the Python found and the versions needed; 0 when it is one of them."""
    found = sys.version_info[:2]
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
