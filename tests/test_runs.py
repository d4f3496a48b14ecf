"""run(): the Result's figures, callbacks, stop, failures, sweeps and calibration on real runs."""
import threading

import pytest

from workbench.calibrate import fit_ledger
from workbench.errors import WorkbenchError
from workbench.ledger import Ledger
from workbench.runs import Callbacks, RunControl, run
from workbench.settings import Settings
from workbench.sweeps import curve_rows, sweep


def test_result_carries_every_figure_with_its_source():
    seen = {"progress": 0, "samples": 0, "result": None}
    cb = Callbacks(on_progress=lambda m: seen.__setitem__("progress", seen["progress"] + 1),
                   on_sample=lambda s: seen.__setitem__("samples", seen["samples"] + 1),
                   on_result=lambda r: seen.__setitem__("result", r))
    r = run(Settings(workload="mlp", tiny=True, steps=40, meter="estimated"), cb)
    assert seen["progress"] == 40 and seen["samples"] >= 2 and seen["result"] is r
    assert r.energy_source == "estimated:cpu-time" and "W/core" in r.energy_detail
    assert r.temp_source.split(":")[0] in ("measured", "modelled")
    assert r.eta_flop_per_j == pytest.approx(r.flops / r.energy_j)
    assert r.eta_tokens_per_j == pytest.approx(r.tokens / r.energy_j)
    assert r.co2_g == pytest.approx(r.energy_j / 3.6e6 * 400)
    assert r.eta_seed is not None and [w["name"] for w in r.windows] == ["train", "evaluate"]
    stored = Ledger().get(r.run_id)
    assert stored.energy_j == r.energy_j and len(stored.samples) == len(r.samples)


def test_stop_is_honoured_and_recorded_as_stopped():
    control = RunControl()
    threading.Timer(1.5, control.request_stop).start()
    r = run(Settings(workload="gpt", tiny=True, steps=1_000_000), control=control)
    assert r.status == "stopped" and r.history and len(r.history) < 1_000_000
    assert any("stopped early" in n for n in r.notes)


def test_governor_pauses_when_t_max_is_below_the_reachable_temperature():
    control, seen = RunControl(), []

    def on_sample(s):   # stop once the governor has paused and resumed: no timing assumptions
        seen.append(s.paused)
        if True in seen and not s.paused:
            control.request_stop()
    r = run(Settings(workload="mlp", tiny=True, steps=1_000_000, t_min_c=50.0, t_max_c=55.0, core_watts=10.0),
            Callbacks(on_sample=on_sample), control)
    assert r.paused_s > 0 and r.peak_temp_c > 55.0
    assert any("the governor paused the work" in n for n in r.notes)
    assert any(s["paused"] for s in r.samples)


def test_quantized_and_pruned_lm_reports_what_ran():
    r = run(Settings(workload="lstm", tiny=True, steps=100, bits=8, prune_ratio=0.5))
    assert "perplexity_uncompressed" in r.quality
    assert "quantization" in r.compression and "pruning" in r.compression
    assert any(n.startswith("quantization:") for n in r.notes)


def test_an_unexpected_failure_is_recorded_and_reported_in_one_line(monkeypatch):
    import workbench.workloads.lm as lm

    def boom(*a, **k):
        raise RuntimeError("injected fault")
    monkeypatch.setattr(lm, "evaluate", boom)
    with pytest.raises(WorkbenchError, match="the run failed .RuntimeError: injected fault.") as info:
        run(Settings(workload="mlp", tiny=True, steps=5))
    assert "\n" not in str(info.value)
    (failed,) = Ledger().results()
    assert failed.status == "failed" and failed.energy_j is not None


def test_lstm_distillation_student_is_smaller_and_learns():
    r = run(Settings(workload="lstm-distill", tiny=True, steps=120))
    q = r.quality
    assert q["student_params_fraction"] < 0.5
    assert q["perplexity"] < 0.4 * q["unigram_perplexity"]


def test_sweep_and_calibration_on_real_runs():
    results = sweep(Settings(workload="mlp", tiny=True, steps=30), "steps", [30, 90, 150])
    rows = curve_rows(results, "steps")
    assert [row["steps"] for row in rows] == [30, 90, 150] and rows[0]["energy_ratio"] == 1.0
    model, records = fit_ledger()
    assert model.n_runs == 3 and model.source == "modelled:consistent-fit"
    assert model.rmse_j >= 0 and len(records) == 3
    with pytest.raises(WorkbenchError, match="cannot sweep"):
        sweep(Settings(), "colour", [1])
