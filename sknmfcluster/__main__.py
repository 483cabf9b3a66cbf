"""Run the command line with ``python -m sknmfcluster``."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
