"""Seed 004's energy model as written, its unit problems, the consistent model, CO2, the CLI."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from workbench.cli import main as cli_main
from workbench.energy import co2
from workbench.energy import consistent_model as cm
from workbench.energy import seed_model as sm
from workbench.errors import SettingsError, WorkbenchError

ROOT = Path(__file__).resolve().parents[1]


# -- E1–E6 as written --------------------------------------------------------------------------
def test_seed_example_reproduced_exactly():
    r = sm.seed_model()
    assert (r.inputs.C, r.inputs.W, r.inputs.L, r.inputs.K) == (1e9, 1000.0, 0.1, 0.1)
    assert (r.inputs.t_max_c, r.inputs.t_min_c) == (50.0, 20.0)
    assert r.EC == 1e11                                  # 1e9 × 1000 × 0.1
    assert r.ES == pytest.approx(3.0, rel=1e-15)         # 0.1 × (50 − 20)
    assert r.E == pytest.approx(1e11 + 3, rel=1e-15)
    assert r.eta == pytest.approx(1e12 / (1e11 + 3), rel=1e-15)
    assert r.eta_e5 == pytest.approx(r.eta, rel=1e-15)   # E5 is E4 with K = H × T_c
    assert r.eta == pytest.approx(10.0, abs=1e-9)        # not the stated 0.9997
    assert r.stated_eta == sm.SEED_STATED_ETA == 0.9997
    assert abs(r.eta - r.stated_eta) > 9


def test_seed_middle_line_and_stated_value_disagree_too():
    num, den = sm.SEED_MIDDLE_LINE
    assert num / den == pytest.approx(0.9999999997, rel=1e-12)
    assert 1 / (1 + 3e-4) == pytest.approx(0.9997, abs=1e-7)
    # Which inputs would give 0.9997 by E5: e.g. L = 1 and K ΔT = 3e-4 × C W.
    inp = sm.SeedInputs(C=1e9, W=1000, L=1.0, K=3e-4 * 1e12 / 30)
    assert sm.eta_e5(inp) == pytest.approx(0.9997, abs=1e-7)


def test_e5_formula_on_other_inputs():
    inp = sm.SeedInputs(C=2e12, W=60, L=1e-10, K=5.0, t_max_c=85, t_min_c=60)
    r = sm.seed_model(inp)
    assert r.EC == pytest.approx(2e12 * 60 * 1e-10)
    assert r.ES == pytest.approx(5.0 * 25)
    assert r.eta == pytest.approx(2e12 * 60 / (2e12 * 60 * 1e-10 + 125))
    assert r.eta_e5 == pytest.approx(r.eta, rel=1e-14)


def test_es_does_not_grow_with_run_length():
    short = sm.seed_model(sm.SeedInputs(W=1.0))
    long = sm.seed_model(sm.SeedInputs(W=1e6))
    assert short.ES == long.ES
    assert long.EC == 1e6 * short.EC


def test_delta_t_same_in_kelvin_and_celsius_but_tc_needs_kelvin():
    a = sm.SeedInputs(t_max_c=50, t_min_c=20)
    assert a.delta_t == (50 + 273.15) - (20 + 273.15) == pytest.approx(30)
    assert sm.cooling_coefficient(H=0.01, t_c_kelvin=323.15) == pytest.approx(3.2315)


def test_unit_problems_listed():
    problems = sm.seed_model().check_units()
    assert all(isinstance(p, str) and "\n" not in p for p in problems)
    text = " | ".join(problems)
    for needle in ("FLOP²/J", "no time", "never J", "0.9997", "9.999999999", "1e+12",
                   "meaningless", "must be absolute", "308.15 K"):
        assert needle in text, needle
    assert len(problems) == 7
    # numbers follow the inputs
    other = sm.seed_model(sm.SeedInputs(W=10.0)).check_units()
    assert "W = 10 s" in " ".join(other)


def test_sources_label_every_figure():
    d = sm.seed_model().to_dict()
    for key in ("EC", "ES", "E", "eta", "eta_e5", "stated_eta"):
        assert d["sources"][key].startswith("modelled:seed-e")
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize("bad", [dict(L=0.0), dict(C=-1.0), dict(W=float("nan")), dict(K=-0.1),
                                 dict(t_max_c=10.0, t_min_c=20.0), dict(t_min_c=-300.0)])
def test_seed_inputs_validated(bad):
    with pytest.raises(SettingsError):
        sm.SeedInputs(**bad)


def test_c5_c6_claims():
    gpu, tpu = sm.SEED_C5
    assert gpu.fraction_eta == pytest.approx(0.8) and gpu.stated_eta == 0.95
    assert tpu.fraction_eta == pytest.approx(0.75) and tpu.stated_eta == 0.90
    assert sm.c5_fraction_reading(200, 50) == pytest.approx(0.8)
    claims = {c.id: c for c in sm.SEED_CLAIMS_ENERGY}
    assert claims["C5-gpu"].ratio == pytest.approx(0.95 / 0.8)
    assert claims["C5-tpu"].ratio == pytest.approx(0.90 / 0.75)
    assert claims["C6"].stated == 284_000 and claims["C6"].reference == 1_287_000
    assert claims["C6"].ratio == pytest.approx(0.22067, abs=1e-5)
    assert claims["E6"].reference == pytest.approx(10.0, abs=1e-9)
    with pytest.raises(SettingsError):
        sm.c5_fraction_reading(0, 0)


# -- the consistent model ----------------------------------------------------------------------
TRUE = cm.ConsistentParams(j_per_flop=2e-10, p_idle_w=15.0, k_thermal_w_per_k=0.4)


def test_consistent_energy_units_and_time_growth():
    rec = {"flops": 1e12, "duration_s": 10.0, "t_min_c": 60.0, "t_max_c": 80.0}
    # 2e-10 J/FLOP × 1e12 + 15 W × 10 s + 0.4 W/K × 10 s × (70 − 25) K
    assert cm.consistent_energy(TRUE, rec) == pytest.approx(200 + 150 + 180)
    longer = dict(rec, duration_s=20.0)
    assert cm.consistent_energy(TRUE, longer) == pytest.approx(200 + 300 + 360)
    cool = dict(rec, t_min_c=10.0, t_max_c=20.0)  # band below T_ref: no temperature term
    assert cm.consistent_energy(TRUE, cool) == pytest.approx(350)
    assert TRUE.flop_per_j == pytest.approx(5e9)


def test_fit_recovers_exact_parameters_without_noise():
    fitted = cm.fit(cm.synthetic_records(TRUE, n=10, seed=1))
    np.testing.assert_allclose(fitted.params.as_vector(), TRUE.as_vector(), rtol=1e-6)
    assert fitted.rmse_j < 1e-6 and fitted.mean_rel_error_pct < 1e-6
    assert fitted.source == "modelled:consistent-fit" and fitted.warnings == []


def test_fit_recovers_parameters_with_noise():
    records = cm.synthetic_records(TRUE, n=60, noise_rel=0.01, seed=2)
    fitted = cm.fit(records)
    np.testing.assert_allclose(fitted.params.as_vector(), TRUE.as_vector(), rtol=0.1)
    assert fitted.params.j_per_flop == pytest.approx(TRUE.j_per_flop, rel=0.03)
    assert 0.3 < fitted.mean_rel_error_pct < 2.0  # the noise is 1 %: fit error is about that
    rec = records[0]
    assert fitted.predict(rec) == pytest.approx(rec["energy_j"], rel=0.05)
    assert set(fitted.params_dict) == set(cm.PARAM_NAMES)


def test_fit_needs_enough_runs():
    with pytest.raises(cm.CalibrationError, match="at least 3 runs .* got 2"):
        cm.fit(cm.synthetic_records(TRUE, n=2))
    assert issubclass(cm.CalibrationError, WorkbenchError)


def test_fit_rejects_bad_records():
    recs = cm.synthetic_records(TRUE, n=4)
    del recs[1]["energy_j"]
    with pytest.raises(cm.CalibrationError, match="run 1 lacks energy_j"):
        cm.fit(recs)
    recs = cm.synthetic_records(TRUE, n=4)
    recs[2]["duration_s"] = float("inf")
    with pytest.raises(cm.CalibrationError, match="non-finite"):
        cm.fit(recs)


def test_fit_warns_when_temperature_never_varies():
    recs = [dict(r, t_min_c=60.0, t_max_c=80.0) for r in cm.synthetic_records(TRUE, n=8)]
    for r in recs:
        r["energy_j"] = cm.consistent_energy(TRUE, r)
    fitted = cm.fit(recs)
    assert fitted.warnings and "cannot be told apart" in fitted.warnings[0]
    assert fitted.rmse_j < 1e-6 * np.mean([r["energy_j"] for r in recs])  # still fits the data
    cold = [dict(r, t_min_c=10.0, t_max_c=20.0) for r in recs]
    assert "not determined" in cm.fit(cold).warnings[0]


def test_fit_parameters_nonnegative():
    recs = cm.synthetic_records(cm.ConsistentParams(1e-10, 0.0, 0.0), n=10, noise_rel=0.05, seed=4)
    fitted = cm.fit(recs)
    assert np.all(fitted.params.as_vector() >= 0)


# -- CO2 ---------------------------------------------------------------------------------------
def test_co2_exact_values():
    assert co2.j_to_kwh(3.6e6) == 1.0 and co2.kwh_to_j(2.0) == 7.2e6
    assert co2.co2_grams(3.6e6) == 400.0
    assert co2.co2_grams(3.6e6, grid_g_per_kwh=200, pue=1.5) == pytest.approx(300.0)
    assert co2.co2_grams(0.0) == 0.0
    np.testing.assert_allclose(co2.co2_grams(np.array([1.8e6, 7.2e6]), 100), [50.0, 200.0])
    # C6 as a figure: 1,287 MWh at 400 g/kWh
    assert co2.co2_grams(co2.kwh_to_j(1_287_000)) == pytest.approx(514.8e6)


@pytest.mark.parametrize("kwargs", [dict(pue=0.9), dict(grid_g_per_kwh=-1)])
def test_co2_rejects_bad_inputs(kwargs):
    with pytest.raises(SettingsError):
        co2.co2_grams(1.0, **kwargs)
    with pytest.raises(SettingsError):
        co2.co2_grams(-1.0)


# -- CLI ---------------------------------------------------------------------------------------
KEYS = {"EC", "ES", "E", "eta", "eta_e5", "stated_eta", "unit_problems", "sources"}


def test_cli_json_subprocess():
    out = subprocess.run([sys.executable, "-m", "workbench", "seed-model", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    d = json.loads(out.stdout)
    assert KEYS <= set(d)
    assert d["EC"] == 1e11 and d["eta"] == pytest.approx(10.0, abs=1e-9)
    assert d["stated_eta"] == 0.9997
    assert isinstance(d["unit_problems"], list) and len(d["unit_problems"]) == 7


def test_cli_main_with_flags(capsys):
    rc = cli_main(["seed-model", "--json", "--C", "2e12", "--W", "60", "--L", "1e-10",
                   "--K", "5", "--t-max", "85", "--t-min", "60"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    expected = sm.seed_model(sm.SeedInputs(C=2e12, W=60, L=1e-10, K=5, t_max_c=85, t_min_c=60))
    assert d["eta"] == expected.eta and d["ES"] == 125.0


def test_cli_text_and_errors(capsys):
    assert cli_main(["seed-model"]) == 0
    text = capsys.readouterr().out
    assert "9.9999999997" in text and "0.9997" in text and "modelled:seed-e1" in text
    assert cli_main(["seed-model", "--L", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: L must be > 0") and err.count("\n") == 1


def test_seed_inputs_replace_keeps_validation():
    with pytest.raises(SettingsError):
        replace(sm.SeedInputs(), W=0.0)
