"""`python -m workbench runs`: list and export the run ledger."""
from __future__ import annotations

import json
import sys

from workbench.cli.common import add_data_dir, apply_data_dir


def add_parser(sub):
    p = sub.add_parser("runs", help="list or export the run ledger",
                       description="List the recorded runs, newest first, as a table, CSV or JSON.")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="table (human), csv (spreadsheets) or json (one object per run); default table")
    p.add_argument("--limit", type=int, default=None, help="only the newest N runs")
    add_data_dir(p)
    p.set_defaults(func=main)


def main(args) -> int:
    from workbench.ledger import Ledger
    apply_data_dir(args)
    ledger = Ledger()
    if args.format == "csv":
        sys.stdout.write(ledger.to_csv(limit=args.limit))
    elif args.format == "json":
        print(json.dumps([r.to_dict(samples=False) for r in ledger.results(args.limit)], indent=1))
    else:
        df = ledger.dataframe(args.limit)
        if df.empty:
            print(f"no runs recorded yet in {ledger.path}")
            return 0
        cols = ["run_id", "workload", "status", "bits", "prune_ratio", "parallelism", "duration_s",
                "energy_j", "energy_source", "eta_tokens_per_j"] + [c for c in df.columns if c in
                ("quality_perplexity", "quality_cosine_mean")]
        print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0
