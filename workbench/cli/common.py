"""Flags shared by several subcommands."""
from __future__ import annotations

import argparse
import os


def add_data_dir(parser: argparse.ArgumentParser):
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="folder of the run ledger (default: $WORKBENCH_DATA_DIR or the per-user data folder)")


def apply_data_dir(args: argparse.Namespace):
    if getattr(args, "data_dir", None):
        os.environ["WORKBENCH_DATA_DIR"] = args.data_dir
