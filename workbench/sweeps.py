"""Run the same Settings over several values of one setting: the curves lessons and the app plot
(energy and time over parallelism N, quality over bits, ...)."""
from __future__ import annotations

from dataclasses import fields

from workbench.errors import SettingsError
from workbench.result import Result
from workbench.runs import Callbacks, RunControl, run
from workbench.settings import Settings


def sweep(settings: Settings, field: str, values: list, callbacks: Callbacks | None = None,
          control: RunControl | None = None, record: bool = True) -> list[Result]:
    """One run per value of `field` (all validated before the first run starts)."""
    names = {f.name for f in fields(Settings)}
    if field not in names:
        raise SettingsError(f"cannot sweep {field!r}; choose one of {', '.join(sorted(names))}")
    variants = [settings.replace(**{field: v}) for v in values]
    results = []
    for s in variants:
        if control is not None and control.stop_requested:
            break
        results.append(run(s, callbacks, control, record=record))
    return results


def curve_rows(results: list[Result], field: str) -> list[dict]:
    """Flat rows for a table or plot, with ratios against the first run."""
    base = results[0] if results else None
    rows = []
    for r in results:
        rows.append({field: r.settings[field], "duration_s": r.duration_s, "energy_j": r.energy_j,
                     "energy_source": r.energy_source, "eta_tokens_per_j": r.eta_tokens_per_j,
                     "time_ratio": r.duration_s / base.duration_s if base.duration_s else None,
                     "energy_ratio": (r.energy_j / base.energy_j) if base.energy_j else None,
                     **{f"quality_{k}": v for k, v in r.quality.items()}})
    return rows
