"""`python -m workbench sweep`: the same run over several values of one setting."""
from __future__ import annotations

import json

import pandas as pd

from workbench.cli.common import add_data_dir, apply_data_dir
from workbench.cli.run import FLAGS, settings_from_args


def add_parser(sub):
    p = sub.add_parser("sweep", help="run over several values of one setting and print the curve",
                       description="Run one workload for each value of a setting (e.g. --field parallelism "
                                   "--values 1 2 4) and print time, energy (with source) and quality, with "
                                   "ratios against the first value.")
    p.add_argument("--field", required=True, help="the Settings field to vary, e.g. parallelism, bits, prune_ratio")
    p.add_argument("--values", nargs="+", required=True, help="the values, in order")
    for flag, (_, typ, help_text) in FLAGS.items():
        p.add_argument(flag, type=typ, default=None, help=help_text)
    p.add_argument("--tiny", action="store_true", default=None, help="smallest model and data (seconds)")
    p.add_argument("--settings", metavar="FILE", help="start from a settings JSON file; flags override it")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    add_data_dir(p)
    p.set_defaults(func=main, dry_run=False)


def main(args) -> int:
    from workbench.sweeps import curve_rows, sweep
    apply_data_dir(args)
    results = sweep(settings_from_args(args), args.field, args.values)
    rows = curve_rows(results, args.field)
    if args.json:
        print(json.dumps(rows))
    else:
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0
