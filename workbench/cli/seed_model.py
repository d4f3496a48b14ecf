"""`python -m workbench seed-model`: seed 004's energy model E1–E5 as written, and its faults."""
from __future__ import annotations

import argparse
import json

from workbench.energy.seed_model import SeedInputs, seed_model

_DEFAULTS = SeedInputs()


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "seed-model", help="compute seed 004's energy model (E1-E5) exactly as written",
        description="Seed 004's energy model exactly as written (EC = C*W*L, ES = K*(Tmax-Tmin), "
                    "eta = C*W/E) and the unit problems that make it unphysical. With no flags: "
                    "the seed's own example.")
    p.add_argument("--C", type=float, metavar="FLOP_PER_S", default=_DEFAULTS.C,
                   help=f"compute intensity C in FLOP/s (default {_DEFAULTS.C:g}, the seed's arithmetic)")
    p.add_argument("--W", type=float, metavar="SECONDS", default=_DEFAULTS.W,
                   help=f"workload W in seconds (default {_DEFAULTS.W:g})")
    p.add_argument("--L", type=float, metavar="FLOP_PER_J", default=_DEFAULTS.L,
                   help=f"'energy-efficiency ratio' L in FLOP/J (default {_DEFAULTS.L:g})")
    p.add_argument("--K", type=float, metavar="W_PER_K", default=_DEFAULTS.K,
                   help=f"cooling coefficient K = H*T_c in W/K (default {_DEFAULTS.K:g})")
    p.add_argument("--t-max", dest="t_max_c", type=float, default=_DEFAULTS.t_max_c, metavar="DEG_C",
                   help=f"highest allowed temperature in °C (default {_DEFAULTS.t_max_c:g})")
    p.add_argument("--t-min", dest="t_min_c", type=float, default=_DEFAULTS.t_min_c, metavar="DEG_C",
                   help=f"lowest allowed temperature in °C (default {_DEFAULTS.t_min_c:g})")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (EC, ES, E, eta, eta_e5, stated_eta, "
                        "unit_problems, sources) instead of text")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    inputs = SeedInputs(C=args.C, W=args.W, L=args.L, K=args.K,
                        t_max_c=args.t_max_c, t_min_c=args.t_min_c)
    res = seed_model(inputs)
    d = res.to_dict()
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    print(f"Seed 004 energy model, as written (C={inputs.C:g} FLOP/s, W={inputs.W:g} s, "
          f"L={inputs.L:g}, K={inputs.K:g}, T_max={inputs.t_max_c:g} °C, T_min={inputs.t_min_c:g} °C)")
    for key in ("EC", "ES", "E", "eta", "eta_e5", "stated_eta"):
        print(f"  {key:<10} = {d[key]:<16.12g} [{d['sources'][key]}]")
    print("Unit problems:")
    for line in d["unit_problems"]:
        print(f"  - {line}")
    return 0
