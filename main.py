"""`python main.py ...` is `sixbtc ...` (the seed's commands), for a checkout without the console script."""

import sys

from entrypoints.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
