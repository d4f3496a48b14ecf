"""`python -m workbench claims`: the seeds' claims C1–C4, C7 next to measurements made now."""
from __future__ import annotations

import argparse
import json
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "claims", help="check the seeds' BERT compression claims (C1-C4, C7) on this machine",
        description="Measure fp32, int8, structured and unstructured pruning and a distilled student of "
                    "all-MiniLM-L6-v2 (interleaved), and print each seed claim next to the measurement "
                    "with source labels. The first run distills a student (about 2-4 minutes on 2 cores) "
                    "and caches it in the data folder.")
    p.add_argument("--quick", action="store_true",
                   help="16 sentences, 2 repeats and a briefly trained student (about a minute)")
    p.add_argument("--json", action="store_true", help="print one JSON object {claims, variants} instead of text")
    p.add_argument("--retrain", action="store_true", help="distill the student again even if one is cached")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    from workbench.claims import check_claims, format_claims

    def progress(step, steps, **_):
        print(f"\rmeasuring {step}/{steps}", end="", file=sys.stderr, flush=True)

    claims, rows = check_claims(quick=args.quick, retrain=args.retrain,
                                progress=None if args.json else progress)
    if args.json:
        print(json.dumps({"claims": [c.to_dict() for c in claims], "variants": [r.to_dict() for r in rows]}, indent=1))
    else:
        print("", file=sys.stderr)
        print(format_claims(claims))
    return 0
