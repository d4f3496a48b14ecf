"""The command line: `python -m workbench SUBCOMMAND ...`.

Each subcommand lives in its own module of this package and exposes
``add_parser(subparsers)`` (which sets ``func`` on its parser) so that modules stay small.
Errors meant for the user (WorkbenchError) become one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from workbench.errors import WorkbenchError

# Module names under workbench.cli, in the order `--help` lists them.
SUBCOMMANDS = ("run", "runs", "sweep", "seed_model", "calibrate", "claims", "grade")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags already; keep its message to one line."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m workbench",
                     description="Green LLM Workbench: train, compress and measure language models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"workbench.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"workbench.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # output piped into `head`: not an error worth a traceback
        sys.stderr.close()
        return 0
