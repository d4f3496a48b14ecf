"""Fit the consistent energy model (energy/consistent_model.py) to the runs in the ledger."""
from __future__ import annotations

from workbench.energy.consistent_model import FittedModel, fit
from workbench.ledger import Ledger


def ledger_records(ledger: Ledger | None = None, source: str | None = None, limit: int | None = None) -> list[dict]:
    """Finished runs as fit records (flops, duration_s, energy_j, t_min_c, t_max_c).

    source: keep only runs whose energy came from this meter (mixing a measured GPU and an
    estimated CPU in one fit would fit neither); None = the source of the newest run.
    """
    results = [r for r in (ledger or Ledger()).results(limit) if r.status == "ok" and r.energy_j and r.flops]
    if source is None and results:
        source = results[0].energy_source
    return [{"run_id": r.run_id, "workload": r.settings["workload"], "flops": r.flops, "duration_s": r.duration_s,
             "energy_j": r.energy_j, "energy_source": r.energy_source,
             "t_min_c": r.settings["t_min_c"], "t_max_c": r.settings["t_max_c"]}
            for r in results if r.energy_source == source]


def fit_ledger(ledger: Ledger | None = None, source: str | None = None) -> tuple[FittedModel, list[dict]]:
    """The fitted model and the records it was fitted on (CalibrationError if too few)."""
    records = ledger_records(ledger, source)
    return fit(records), records
