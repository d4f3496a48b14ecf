"""`python -m workbench calibrate`: fit the consistent energy model to the ledger's runs."""
from __future__ import annotations

import json

from workbench.cli.common import add_data_dir, apply_data_dir


def add_parser(sub):
    p = sub.add_parser("calibrate", help="fit the consistent energy model to the recorded runs",
                       description="Fit E = F/eff + P_idle·t + k·t·ΔT (modelled:consistent-fit) to the ledger's "
                                   "runs and print the parameters with the fit's error.")
    p.add_argument("--source", default=None,
                   help="only runs whose energy has this source label (default: that of the newest run)")
    p.add_argument("--json", action="store_true", help="print parameters, error and per-run predictions as JSON")
    add_data_dir(p)
    p.set_defaults(func=main)


def main(args) -> int:
    from workbench.calibrate import fit_ledger
    apply_data_dir(args)
    model, records = fit_ledger(source=args.source)
    rows = [{"run_id": r["run_id"], "workload": r["workload"], "energy_j": r["energy_j"],
             "predicted_j": model.predict(r)} for r in records]
    if args.json:
        print(json.dumps({"params": model.params_dict, "n_runs": model.n_runs, "rmse_j": model.rmse_j,
                          "mean_rel_error_pct": model.mean_rel_error_pct, "warnings": model.warnings,
                          "source": model.source, "fitted_on": records[0]["energy_source"], "runs": rows}))
        return 0
    p = model.params_dict
    print(f"consistent model [MODELLED:CONSISTENT-FIT] fitted on {model.n_runs} runs measured as "
          f"{records[0]['energy_source']}")
    print(f"  compute   {p['j_per_flop']:.3g} J/FLOP  (= {1 / p['j_per_flop'] if p['j_per_flop'] else float('inf'):.3g} FLOP/J)")
    print(f"  idle      {p['p_idle_w']:.3g} W")
    print(f"  thermal   {p['k_thermal_w_per_k']:.3g} W/K above {model.params.t_ref_c:g} °C")
    print(f"  error     RMSE {model.rmse_j:.3g} J, mean {model.mean_rel_error_pct:.1f} %")
    for w in model.warnings:
        print(f"  warning   {w}")
    return 0
