"""Command line: ``python -m core <command> ...`` (run ``python -m core --help``).

Each area of the engine registers its own sub-commands from a module of ``core/cli/``
(``register(subparsers)``), so this file only wires them together and turns a
``StudioError``/``ValueError`` into a one-line message and exit code 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from core.cli import analyse, data, evaluate, model, sweep, train

# Each module exposes ``register(subparsers)``; Keras is imported only by a command that uses it.
CLI_MODULES = (model, data, train, evaluate, analyse, sweep)


def build_parser() -> argparse.ArgumentParser:
    """Builds the argument parser with every area's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="python -m core", description="Transfer-learning studio engine (headless)."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in CLI_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command and returns the process exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ValueError as error:  # StudioError and config validation errors
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
