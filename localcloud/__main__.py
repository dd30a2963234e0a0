"""python -m localcloud up | down | status: manage the local cloud process."""

import sys

from localcloud.client import cli

if __name__ == "__main__":
    sys.exit(cli())
