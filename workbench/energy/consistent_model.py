"""A dimensionally consistent energy model, calibrated on measured runs (label modelled:consistent-fit).

    E [J] = j_per_flop × F  +  p_idle_w × t  +  k_thermal_w_per_k × t × max(0, T_mid − T_ref)

    F           work of the run (FLOP)
    t           duration (s)
    T_mid       (t_min_c + t_max_c) / 2 (°C): the thermal governor holds the device inside
                [t_min_c, t_max_c], so its mean temperature sits near the middle of the band
    T_ref       reference temperature (°C, default 25): where the temperature term is zero

Every term is J: J/FLOP × FLOP, W × s, W/K × s × K. It fixes seed 004's model where it breaks:
compute energy divides the work by an efficiency (1/j_per_flop is FLOP/J, seed's L) instead of
multiplying, and the temperature term is a power times the run's duration, so it grows with
time (seed E2 does not).

Why the band's middle and not its width (seed E2 uses T_max − T_min): the width only sets how
often the governor toggles; what costs power is how hot the device is held. Silicon leakage
power and fan power both rise with temperature; over a few tens of kelvin a linear term is
the usual first approximation. The coefficient is non-negative (fitted by NNLS), so a hotter
band never lowers the model's energy. Meters measure the device (NVML board power, RAPL
package), not the room's cooling plant: multiply by a PUE (workbench.energy.co2) for that.

All three parameters can only be told apart if the runs vary in work per second and in
temperature band; FittedModel.warnings says when they do not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import nnls

from workbench.errors import WorkbenchError

SOURCE = "modelled:consistent-fit"
PARAM_NAMES = ("j_per_flop", "p_idle_w", "k_thermal_w_per_k")
RECORD_KEYS = ("flops", "duration_s", "energy_j", "t_min_c", "t_max_c")
T_REF_C = 25.0


class CalibrationError(WorkbenchError, ValueError):
    """The run records cannot calibrate the model (too few, missing keys, bad values)."""


@dataclass(frozen=True)
class ConsistentParams:
    """Parameters of the consistent model, each in SI units."""

    j_per_flop: float = 1e-10         # energy per FLOP (J/FLOP); 1/this is efficiency in FLOP/J
    p_idle_w: float = 10.0            # power drawn whatever the work (W)
    k_thermal_w_per_k: float = 0.2    # extra power per kelvin the band's middle sits above T_ref (W/K)
    t_ref_c: float = T_REF_C          # reference temperature (°C)

    @property
    def flop_per_j(self) -> float:
        """Compute efficiency (FLOP/J), seed 004's L read the right way round."""
        return math.inf if self.j_per_flop == 0 else 1.0 / self.j_per_flop

    def as_vector(self) -> np.ndarray:
        return np.array([self.j_per_flop, self.p_idle_w, self.k_thermal_w_per_k])


def features(record: dict, t_ref_c: float = T_REF_C) -> np.ndarray:
    """The three columns of the model for one run: [F (FLOP), t (s), t × max(0, T_mid − T_ref) (s·K)]."""
    t = float(record["duration_s"])
    t_mid = (float(record["t_min_c"]) + float(record["t_max_c"])) / 2
    return np.array([float(record["flops"]), t, t * max(0.0, t_mid - t_ref_c)])


def consistent_energy(params: ConsistentParams, record: dict) -> float:
    """Energy (J) the model gives for one run (keys flops, duration_s, t_min_c, t_max_c)."""
    return float(features(record, params.t_ref_c) @ params.as_vector())


def eta_flop_per_j(record: dict) -> float:
    """Measured efficiency of one run: FLOPs / energy (FLOP/J). A rate with units, not a fraction."""
    return float(record["flops"]) / float(record["energy_j"])


@dataclass(frozen=True)
class FittedModel:
    """A ConsistentParams fitted on runs, with how well it fits them."""

    params: ConsistentParams
    n_runs: int
    rmse_j: float                     # root-mean-square error on the fitting runs (J)
    mean_rel_error_pct: float         # mean |predicted − measured| / measured (%)
    warnings: list[str] = field(default_factory=list)
    source: str = SOURCE

    @property
    def params_dict(self) -> dict:
        return {name: float(v) for name, v in zip(PARAM_NAMES, self.params.as_vector())}

    def predict(self, record: dict) -> float:
        """Modelled energy (J) of one run; label it with `source`."""
        return consistent_energy(self.params, record)


def _validate(records: list[dict]) -> None:
    for i, rec in enumerate(records):
        missing = [k for k in RECORD_KEYS if k not in rec or rec[k] is None]
        if missing:
            raise CalibrationError(f"run {i} lacks {', '.join(missing)}; each run needs "
                                   f"{', '.join(RECORD_KEYS)}")
        vals = [float(rec[k]) for k in RECORD_KEYS]
        if not all(math.isfinite(v) for v in vals):
            raise CalibrationError(f"run {i} has a non-finite value; {', '.join(RECORD_KEYS)} "
                                   "must be finite numbers")
        if rec["flops"] < 0 or rec["duration_s"] <= 0 or rec["energy_j"] <= 0:
            raise CalibrationError(f"run {i}: flops must be >= 0, duration_s and energy_j > 0")


def fit(records: list[dict], t_ref_c: float = T_REF_C) -> FittedModel:
    """Least-squares fit with non-negative parameters (scipy NNLS) on run records.

    records: dicts with keys flops, duration_s, energy_j (J, measured), t_min_c, t_max_c (°C),
    as in the run ledger. Needs at least as many runs as parameters (3).
    """
    records = list(records)
    n_par = len(PARAM_NAMES)
    if len(records) < n_par:
        raise CalibrationError(f"need at least {n_par} runs to fit {n_par} parameters "
                               f"({', '.join(PARAM_NAMES)}); got {len(records)}")
    _validate(records)
    A = np.stack([features(r, t_ref_c) for r in records])                  # (n_runs, 3)
    e = np.array([float(r["energy_j"]) for r in records])                  # (n_runs,)
    # Columns differ by ~20 orders of magnitude (FLOP vs s): scale them to unit norm so NNLS
    # is well conditioned, then scale the solution back.
    norms = np.linalg.norm(A, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    x_scaled, _ = nnls(A / scale, e)
    x = x_scaled / scale
    pred = A @ x
    params = ConsistentParams(*x.tolist(), t_ref_c=t_ref_c)
    return FittedModel(params=params, n_runs=len(records),
                       rmse_j=float(np.sqrt(np.mean((pred - e) ** 2))),
                       mean_rel_error_pct=float(np.mean(np.abs(pred - e) / e) * 100),
                       warnings=_identifiability_warnings(A / scale, t_ref_c))


def _identifiability_warnings(A_scaled: np.ndarray, t_ref_c: float) -> list[str]:
    out = []
    if not np.any(A_scaled[:, 2] > 0):
        out.append(f"no run has its temperature band's middle above {t_ref_c:g} °C: "
                   "k_thermal_w_per_k is not determined (set to what NNLS found, usually 0)")
    elif np.linalg.matrix_rank(A_scaled, tol=1e-9) < A_scaled.shape[1]:
        out.append("the runs do not vary enough (same FLOP rate or same temperature band): "
                   "the parameters cannot be told apart; vary the work and t_min_c/t_max_c")
    return out


def synthetic_records(params: ConsistentParams, n: int = 12, noise_rel: float = 0.0,
                      seed: int = 0) -> list[dict]:
    """Runs generated by the model itself (for tests and lessons), energy × (1 + noise_rel·N(0,1)).

    Work rates 1e9–1e11 FLOP/s, durations 1–100 s, bands with middles 30–80 °C. Label any
    figure from these modelled:consistent-fit: they are not measurements.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = float(rng.uniform(1, 100))
        t_min = float(rng.uniform(25, 70))
        rec = {"flops": float(10 ** rng.uniform(9, 11) * t), "duration_s": t,
               "t_min_c": t_min, "t_max_c": t_min + float(rng.uniform(5, 20))}
        e = consistent_energy(params, rec)
        rec["energy_j"] = e * (1 + noise_rel * float(rng.standard_normal()))
        out.append(rec)
    return out
