"""The command line: ``python -m kinsim COMMAND``.

Exit status: 0 on success, 2 for bad input (a bad scenario file, a bad option), 1 for anything else.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from . import __version__

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kinsim",
        description="Simulate and test Kinesis stream processing on one machine.",
    )
    parser.add_argument("--version", action="version", version=f"kinsim {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2
