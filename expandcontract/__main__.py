"""``python -m expandcontract``: the same command line as ``expandcontract``."""

from expandcontract.cli import main

if __name__ == "__main__":
    main(prog_name="expandcontract")
