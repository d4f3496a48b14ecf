"""The web app's logic without a browser: set widget values, click, check state and messages.

Runs use a fake engine (fast, deterministic, can fail on purpose) except one real tiny run.
Worker threads are waited for with a bounded join; nothing here asserts on time.
"""
from __future__ import annotations

import base64
import re
import threading
import time
import uuid

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from workbench.energy.sampler import Sample  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402
from workbench.ledger import Ledger  # noqa: E402
from workbench.result import Result  # noqa: E402
from workbench.settings import Settings  # noqa: E402
from workbench.ui import app as app_module  # noqa: E402
from workbench.ui.live import LiveConfig  # noqa: E402
from workbench.ui.share import Pinned  # noqa: E402

JOIN_S = 30.0   # bound for every wait on a worker thread


class FakeEngine:
    """Stands in for workbench.runs.run: emits samples and progress; stops on request; may fail."""

    def __init__(self, steps_per_sample: int = 1, fail: Exception | None = None, forever: bool = False,
                 paused_from: int | None = None):
        self.fail, self.forever, self.paused_from = fail, forever, paused_from
        self.calls: list[Settings] = []
        self.started = threading.Event()

    def __call__(self, settings, callbacks, control):
        self.calls.append(settings)
        self.started.set()
        if self.fail is not None:
            raise self.fail
        step, energy = 0, 0.0
        while self.forever or step < settings.steps:
            if control.stop_requested:
                break
            step += 1
            energy += 0.5
            paused = self.paused_from is not None and step >= self.paused_from
            callbacks.on_sample(Sample(t_s=0.1 * step, power_w=5.0, energy_j=energy, temp_c=40.0 + step,
                                       work=100.0 * step, source="estimated:cpu-time",
                                       temp_source="modelled:thermal-rc", paused=paused))
            callbacks.on_progress({"step": step, "steps": settings.steps, "loss": 3.0 / step})
            time.sleep(0.02)
        result = Result(run_id=uuid.uuid4().hex[:12], settings=settings.to_dict(), started_at="2026-01-01T00:00:00Z",
                        status="stopped" if control.stop_requested else "ok", duration_s=0.1 * step,
                        tokens=100 * step, flops=1e6 * step, energy_j=energy, energy_source="estimated:cpu-time",
                        energy_detail="E = fake", quality={"perplexity": 2.0 + 1.0 / settings.bits},
                        notes=["a fake run"])
        Ledger().append(result)
        return result


def make_app(engine=None, settings: Settings | None = None):
    pinned = Pinned(settings or Settings(workload="mlp", tiny=True, steps=20), origin="test")
    return app_module.build_app(pinned, run_fn=engine or FakeEngine(), live_config=LiveConfig(max_fps=20),
                                warm=False, lazy=False)


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


# -- live run tab -------------------------------------------------------------------------------
def test_controls_show_pinned_settings_and_round_trip():
    s = Settings(workload="gpt", bits=6, quant_granularity="per-tensor", smooth_alpha=0.6, prune_ratio=0.3,
                 prune_kind="global", parallelism=2, t_min_c=40.0, t_max_c=70.0, steps=7, tiny=True, seed=3)
    ui = make_app(settings=s)
    c = ui.live.controls
    assert (c.workload.value, c.bits.value, c.granularity.value, c.smooth.value, c.prune_kind.value) == (
        "gpt", 6, "per-tensor", 0.6, "global")
    assert c.settings() == s          # fields without a control (seed) are kept from the pinned settings


@pytest.mark.parametrize("change, expected", [
    ({"t_min": 90.0}, "t_min_c must be below t_max_c"),
    ({"t_min": 85.0}, "t_min_c must be below t_max_c"),
    ({"steps": 0}, "steps must be an integer from 1 to 1000000"),
])
def test_impossible_combination_refused_inline_and_run_refused(change, expected):
    engine = FakeEngine()
    ui = make_app(engine)
    for name, value in change.items():
        setattr(getattr(ui.live.controls, name), "value", value)
    assert expected in text(ui.live.message.value)          # shown at once, before any click
    assert "\n" not in text(ui.live.message.value).strip()
    ui.live.run_button.click()
    assert not ui.live.running and engine.calls == []
    assert Ledger().count() == 0
    setattr(getattr(ui.live.controls, "t_min"), "value", 10.0)
    ui.live.controls.steps.value = 5
    assert ui.live.message.value == ""                       # fixed: message gone


def test_run_updates_plots_status_and_results():
    engine = FakeEngine()
    ui = make_app(engine)
    images = []
    ui.live.image.observe(lambda ch: images.append(ch["new"]), names="value")
    ui.live.run_button.click()
    assert ui.live.run_button.disabled and not ui.live.stop_button.disabled
    assert ui.live.wait(JOIN_S)
    assert len(set(images)) >= 2 and ui.live.frames >= 2
    assert all(img[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    status = text(ui.live.status.value)
    assert status.startswith("Done: run ") and "step 20/20" in status
    assert "ESTIMATED · cpu-time" in text(ui.live.readout.value)
    assert "E = fake" in text(ui.live.notes.value)
    assert not ui.live.run_button.disabled and ui.live.stop_button.disabled
    # the result reached the results tab (on_finished marks it stale; showing it re-reads the ledger)
    ui.show_tab(1)
    assert len(ui.results.rows) == 1 and ui.live.result.run_id in ui.results.table.value
    assert engine.calls[0].steps == 20


def test_stop_ends_the_run():
    engine = FakeEngine(forever=True)
    ui = make_app(engine)
    ui.live.run_button.click()
    assert engine.started.wait(JOIN_S)
    ui.live.stop_button.click()
    assert ui.live.wait(JOIN_S)
    assert ui.live.result.status == "stopped"
    assert text(ui.live.status.value).startswith("Stopped: run ")
    assert ui.live.state == "idle" and not ui.live.run_button.disabled


def test_failing_run_shows_one_line_and_app_stays_usable():
    ui = make_app(FakeEngine(fail=RuntimeError("boom\nsecond line of a traceback")))
    ui.live.run_button.click()
    assert ui.live.wait(JOIN_S)
    msg = text(ui.live.message.value)
    assert msg == "the run failed unexpectedly (RuntimeError: boom)"
    assert "Failed" in text(ui.live.status.value)
    ui.live.run_fn = FakeEngine()                      # the next run works
    ui.live.run_button.click()
    assert ui.live.wait(JOIN_S)
    assert ui.live.message.value == "" and ui.live.result.status == "ok"


def test_engine_refusal_is_shown_as_its_line():
    ui = make_app(FakeEngine(fail=WorkbenchError("parallelism > 1 is available for mlp, lstm, gpt; bert runs with parallelism 1")))
    ui.live.run_button.click()
    assert ui.live.wait(JOIN_S)
    assert text(ui.live.message.value).startswith("parallelism > 1 is available")


def test_reset_restores_pinned_settings_and_clears():
    ui = make_app()
    idle_png = ui.live.image.value
    ui.live.controls.bits.value = 4
    ui.live.run_button.click()
    assert ui.live.wait(JOIN_S)
    ui.live.reset_button.click()
    assert ui.live.controls.bits.value == 32
    assert ui.live.readout.value == "" and ui.live.message.value == ""
    assert text(ui.live.status.value) == "Ready."
    assert ui.live.image.value == idle_png


def test_governor_pause_is_drawn():
    from workbench.ui.live_data import LiveData
    from workbench.ui.plots import LiveFigure
    data = LiveData(total_steps=10)
    for i in range(10):
        data.add_sample(Sample(0.1 * i, 5.0, float(i), 50.0, 10.0 * i, "estimated:cpu-time", "modelled:thermal-rc", i >= 5))
    fig = LiveFigure()
    fig.update(data.snapshot(), 60.0, 85.0)
    fig.png()
    assert len(fig.pause_art) == 4                    # one grey span per time panel
    data.clear(10)
    fig.update(data.snapshot(), 60.0, 85.0)
    fig.png()
    assert fig.pause_art == []


def test_tabs_draw_when_first_shown_and_refresh_after_a_run():
    ui = app_module.build_app(Pinned(Settings(workload="mlp", tiny=True, steps=5)), run_fn=FakeEngine(),
                              warm=False, lazy=True)
    assert ui.formulas.image.value == b"" and ui.results.table.value == ""
    ui.show_tab(3)
    assert ui.formulas.image.value[:4] == b"\x89PNG"
    ui.show_tab(1)
    assert "The ledger is empty" in ui.results.table.value
    ui.show_tab(0)
    ui.live.run_button.click()
    assert ui.live.wait(JOIN_S)
    assert ui.results.stale and ui.energy.stale          # not shown: redrawn later
    ui.show_tab(1)
    assert not ui.results.stale and ui.live.result.run_id in ui.results.table.value


def test_share_link_round_trips():
    ui = make_app()
    ui.live.controls.bits.value = 8
    ui.live.controls.prune_ratio.value = 0.5
    assert [v for _, v in ui.live.controls.bits.options] == [*range(1, 17), 32]
    query = ui.live.share.value.split("?", 1)[1]
    assert Settings.from_query(query) == ui.live.controls.settings()
    assert "bits=8" in query and "prune_ratio=0.5" in query


def test_real_tiny_run_lands_in_the_ledger():
    from workbench.ui.live import default_run
    ui = make_app(default_run, Settings(workload="mlp", tiny=True, steps=3))
    ui.live.run_button.click()
    assert ui.live.wait(120.0)
    r = ui.live.result
    assert ui.live.error == "" and r is not None and r.status == "ok"
    ui.show_tab(1)
    assert Ledger().count() == 1 and r.run_id in ui.results.table.value
    assert r.energy_source and r.energy_source.split(":")[0] in ("measured", "estimated")
    assert ui.live.data.snapshot().n >= 1


# -- pinned settings ---------------------------------------------------------------------------
def test_pinned_settings_from_query_ignore_voila_keys():
    from workbench.ui.share import pinned_settings
    p = pinned_settings("token=abc&voila-template=lab&bits=8&tiny=1", settings_file="")
    assert p.messages == [] and p.settings == Settings(bits=8, tiny=True) and p.origin == "link"


def test_pinned_settings_bad_query_gives_message_and_defaults():
    from workbench.ui.share import pinned_settings
    from workbench.errors import SettingsError
    p = pinned_settings("bits=40", settings_file="")
    with pytest.raises(SettingsError) as refused:
        Settings(bits=40)
    assert p.settings == Settings()
    assert p.messages == [f"link settings ignored: {refused.value}"] and "bits" in p.messages[0]
    p = pinned_settings("bogus=1", settings_file="")
    assert p.messages[0].startswith("link settings ignored: unknown setting(s) bogus")


def test_pinned_settings_file_then_query(tmp_path):
    from workbench.ui.share import pinned_settings
    f = tmp_path / "lesson.json"
    f.write_text(Settings(bits=4, steps=50).to_json())
    p = pinned_settings("steps=9", settings_file=str(f))
    assert p.settings == Settings(bits=4, steps=9) and p.origin == "settings file lesson.json and link"
    f.write_text("{not json")
    p = pinned_settings("", settings_file=str(f))
    assert p.settings == Settings() and "not valid JSON" in p.messages[0]
    p = pinned_settings("", settings_file=str(tmp_path / "missing.json"))
    assert "cannot be read" in p.messages[0]


def test_app_pin_shows_link_settings_and_messages():
    from workbench.ui.share import pinned_settings
    ui = make_app()
    ui.pin(pinned_settings("bits=3&t_min_c=30", settings_file=""))
    assert ui.live.controls.bits.value == 3 and ui.live.controls.t_min.value == 30.0
    ui.pin(pinned_settings("t_min_c=99", settings_file=""))
    assert "t_min_c must be below t_max_c" in text(ui.live.message.value)


# -- results tab -------------------------------------------------------------------------------
def _add_runs(n: int) -> list[Result]:
    out = []
    for i in range(n):
        r = Result(run_id=f"run{i:03d}", settings=Settings(workload="lstm", bits=[32, 8, 4, 2][i % 4], steps=10 + i,
                                                           t_min_c=30.0 + 10 * i, t_max_c=50.0 + 10 * i).to_dict(),
                   started_at=f"2026-01-0{i + 1}T00:00:00.000+00:00", duration_s=1.0 + i, flops=1e9 * (1 + i * i),
                   tokens=1000, energy_j=10.0 + 3 * i + 0.1 * i * i, energy_source="estimated:cpu-time",
                   quality={"perplexity": [2.0, 2.1, 3.0, 9.0][i % 4] + 0.01 * i})
        Ledger().append(r)
        out.append(r)
    return out


def test_results_table_newest_first_and_csv_link():
    _add_runs(3)
    ui = make_app()
    html = ui.results.table.value
    assert html.index("run002") < html.index("run001") < html.index("run000")
    m = re.search(r'href="data:text/csv;base64,([^"]+)"', ui.results.download.value)
    assert base64.b64decode(m.group(1)).decode() == Ledger().to_csv()


def test_compare_selected_runs():
    _add_runs(3)
    ui = make_app()
    ui.results.compare_button.click()
    assert "select one or more runs" in text(ui.results.compare_table.value)
    ui.results.select.value = ("run000", "run002")
    ui.results.compare_button.click()
    table = ui.results.compare_table.value
    assert "run000" in table and "run002" in table and "run001" not in table
    assert ui.results.compare_image.value[:4] == b"\x89PNG"


def test_frontier_joins_the_runs_no_other_run_beats(monkeypatch):
    from workbench.ui import plots
    seen = {}
    real = plots.to_png
    monkeypatch.setattr(plots, "to_png", lambda fig: seen.setdefault("fig", fig) and real(fig))
    rows = [{"workload": "lstm", "status": "ok", "energy_j": e, "quality_perplexity": q, "bits": 8,
             "prune_ratio": 0.0, "energy_source": "estimated:cpu-time"}
            for e, q in ((1.0, 5.0), (2.0, 3.0), (3.0, 1.0), (2.5, 4.0), (1.0, 6.0))]
    assert plots.frontier_png(rows, "lstm")[:4] == b"\x89PNG"
    frontier_line = seen["fig"].axes[0].lines[0]
    assert frontier_line.get_xdata().tolist() == [1.0, 2.0, 3.0]
    assert frontier_line.get_ydata().tolist() == [5.0, 3.0, 1.0]


class FakeClaim:
    id, topic, claimed, measured = "C1", "quantization", "energy -40 % (seed 003)", "energy -12 % (estimated:cpu-time)"
    sources = ["seed 003 §4.3", "estimated:cpu-time"]


def test_claims_button_runs_in_a_thread_and_shows_the_table(monkeypatch):
    import workbench.claims
    calls = []

    def fake_check(quick=False, retrain=False, progress=None, meter=None):
        calls.append(quick)
        progress(step=1, steps=2)
        return [FakeClaim()], []

    monkeypatch.setattr(workbench.claims, "check_claims", fake_check)
    ui = make_app()
    assert "C6" in ui.results.claims_table.value and "GPT-3" in ui.results.claims_table.value
    ui.results.claims_button.click()
    ui.results._claims_thread.join(JOIN_S)
    assert calls == [True] and not ui.results.claims_button.disabled
    assert "energy -12 %" in ui.results.claims_table.value and "ESTIMATED · cpu-time" in text(ui.results.claims_table.value)
    assert text(ui.results.claims_status.value) == "Claims checked."


def test_claims_failure_is_one_line(monkeypatch):
    import workbench.claims

    def fail(**kw):
        raise OSError("no model\nmore")

    monkeypatch.setattr(workbench.claims, "check_claims", fail)
    ui = make_app()
    ui.results.claims_button.click()
    ui.results._claims_thread.join(JOIN_S)
    assert text(ui.results.claims_status.value) == "the claims could not be checked (OSError: no model)"


# -- energy model explorer ---------------------------------------------------------------------
def test_energy_explorer_seed_example_and_unit_problems():
    from workbench.energy.seed_model import SeedInputs, eta_e5
    ui = make_app()
    ui.energy.seed_example()
    table = text(ui.energy.seed_table.value)
    assert f"{eta_e5(SeedInputs()):.6g}" in table            # E5 on the seed's numbers (≈ 10, not 0.9997)
    assert "0.9997" in table
    assert "FLOP²/J" in text(ui.energy.problems.value)
    ui.energy.L.value = 10.0
    assert f"{1e9 * 1000 * 10:.6g}" in text(ui.energy.seed_table.value)   # E1 follows the slider
    ui.energy.t_min.value = 60.0                              # above T_max = 50
    assert "t_max_c must be >= t_min_c" in text(ui.energy.seed_table.value)


def test_energy_explorer_fits_the_ledger_runs():
    from workbench.energy.consistent_model import ConsistentParams, consistent_energy
    truth = ConsistentParams(j_per_flop=2e-9, p_idle_w=3.0, k_thermal_w_per_k=0.05)
    for i in range(5):
        s = Settings(t_min_c=30.0 + 8 * i, t_max_c=50.0 + 9 * i)
        rec = {"flops": 1e9 * (1 + 3 * i * i), "duration_s": 2.0 + i, "t_min_c": s.t_min_c, "t_max_c": s.t_max_c}
        Ledger().append(Result(run_id=f"fit{i}", settings=s.to_dict(), started_at=f"2026-01-0{i + 1}T00:00:00Z",
                               duration_s=rec["duration_s"], flops=rec["flops"], energy_j=consistent_energy(truth, rec),
                               energy_source="estimated:cpu-time"))
    ui = make_app()
    f = ui.energy.fitted
    assert f is not None and f.n_runs == 5
    np.testing.assert_allclose(f.params.as_vector(), truth.as_vector(), rtol=1e-6)
    assert "W/K" in ui.energy.fit_html.value and ui.energy.fit_image.value[:4] == b"\x89PNG"


def test_energy_explorer_too_few_runs_says_so():
    ui = make_app()
    assert "needs at least 3" in text(ui.energy.fit_html.value)


# -- formula explorer --------------------------------------------------------------------------
def test_formula_step_readout_matches_fit_logistic_and_torch():
    import torch
    from workbench import formulas as F
    ui = make_app()
    fv = ui.formulas
    fv.lr.value = 0.3
    fv.weight_decay.value = 0.1
    fv.step.value = 5
    X, y = fv.X, fv.y
    theta = torch.tensor(fv.thetas[5], requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(X) @ theta, torch.tensor(y))
    loss.backward()
    expected_next = (theta - 0.3 * theta.grad - 0.3 * 0.1 * theta).detach().numpy()
    np.testing.assert_allclose(fv.thetas[6], expected_next, rtol=1e-10)
    readout = text(fv.readout.value)
    assert "(" + ", ".join(f"{v:+.3f}" for v in fv.thetas[6]) + ")" in readout
    assert f"{float(loss.detach()):.4f}" in readout
    _, losses = F.fit_logistic(X, y, lr=0.3, weight_decay=0.1, steps=fv.steps.value)
    np.testing.assert_allclose(fv.losses, losses)
    fv.steps.value = 10
    assert fv.step.max == 10 and fv.step.value <= 10


# -- plumbing ----------------------------------------------------------------------------------
def test_grow_and_nice_ceil():
    from workbench.ui.plots import grow, nice_ceil
    assert [nice_ceil(x) for x in (0.7, 1.0, 1.01, 2.2, 3.0, 7.0, 0.013)] == [1.0, 1.0, 2.0, 2.5, 5.0, 10.0, 0.02]
    assert grow(10.0, 9.0) == 10.0 and grow(10.0, 11.0) == 25.0 and grow(10.0, 11.0, 1.5) == 20.0
    assert grow(10.0, float("nan")) == 10.0


def test_live_data_pads_late_metrics():
    from workbench.ui.live_data import LiveData
    d = LiveData()
    d.add_progress({"step": 1, "steps": 3, "loss": 2.0})
    d.add_progress({"step": 2, "steps": 3, "loss": 1.5, "cosine": 0.9})
    snap = d.snapshot()
    assert snap.steps.tolist() == [1.0, 2.0] and snap.total_steps == 3
    assert snap.metrics["loss"].tolist() == [2.0, 1.5]
    assert np.isnan(snap.metrics["cosine"][0]) and snap.metrics["cosine"][1] == 0.9


def test_only_the_ui_package_imports_ipywidgets():
    from pathlib import Path
    import workbench
    root = Path(workbench.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "ui" not in p.relative_to(root).parts[:1] and re.search(r"^\s*(import|from)\s+ipywidgets",
                                                                              p.read_text(), re.M)]
    assert offenders == []


def test_serve_command_has_the_safety_flags(tmp_path, monkeypatch):
    from workbench.ui import serve
    f = tmp_path / "s.json"
    f.write_text(Settings(bits=8).to_json())
    monkeypatch.setenv("WORKBENCH_HOST", "0.0.0.0")
    monkeypatch.setenv("WORKBENCH_PORT", "9123")
    cfg = serve.parse_args(["--settings", str(f), "--cull-idle-timeout", "30"])
    args = serve.voila_args(cfg)
    assert cfg.host == "0.0.0.0" and cfg.port == 9123 and len(cfg.token) >= 16
    for flag in ("--Voila.ip=0.0.0.0", "--port=9123", f"--token={cfg.token}", "--preheat_kernel=True", "--pool_size=1",
                 "--show_tracebacks=False", "--MappingKernelManager.cull_idle_timeout=30", "--no-browser"):
        assert flag in args
    env = serve.kernel_env(cfg)
    assert env["WORKBENCH_SETTINGS_FILE"] == str(f.resolve()) and env["VOILA_APP_IP"] == "127.0.0.1"
    assert serve.app_urls(cfg)[0] == f"http://127.0.0.1:9123/?token={cfg.token}"
    f.write_text('{"bits": 99}')
    with pytest.raises(SystemExit):
        serve.parse_args(["--settings", str(f)])
