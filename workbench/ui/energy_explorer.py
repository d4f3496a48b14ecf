"""The energy model explorer: seed 004's E1–E6 computed live from sliders, its unit problems
flagged, beside the dimensionally consistent model fitted to the ledger's measured runs."""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets

from workbench.energy.seed_model import SEED_STATED_ETA, SeedInputs, seed_model
from workbench.errors import WorkbenchError
from workbench.ledger import Ledger
from workbench.ui import plots, theme
from workbench.ui.lazy import LazyView

STYLE = {"description_width": "13em"}


def ledger_records(ledger: Ledger) -> list[dict]:
    """Finished runs with a positive energy, as the records consistent_model.fit takes."""
    out = []
    for r in ledger.results():
        if r.status != "ok" or not r.energy_j or r.energy_j <= 0 or r.duration_s <= 0:
            continue
        out.append({"flops": r.flops, "duration_s": r.duration_s, "energy_j": r.energy_j,
                    "t_min_c": r.settings["t_min_c"], "t_max_c": r.settings["t_max_c"],
                    "energy_source": r.energy_source, "run_id": r.run_id})
    return out


def _cm():
    """workbench.energy.consistent_model, imported when first needed (it brings scipy: ~0.5 s
    that the page would otherwise wait for)."""
    from workbench.energy import consistent_model
    return consistent_model


def seed_energy_for_run(rec: dict) -> float:
    """Seed E3 'energy' with a run's own numbers: C = FLOP/s, W = s, L = measured FLOP/J, K = 0.1."""
    from workbench.energy.session import SEED_K
    C = rec["flops"] / rec["duration_s"] if rec["flops"] > 0 else 1.0
    L = rec["flops"] / rec["energy_j"] if rec["flops"] > 0 else 1.0
    return seed_model(SeedInputs(C=C, W=rec["duration_s"], L=L, K=SEED_K,
                                 t_max_c=rec["t_max_c"], t_min_c=rec["t_min_c"])).E


class EnergyModelView(LazyView):
    """Sliders for C, W, L, K, T_max, T_min; E1–E6 and unit problems; the fitted model."""

    def __init__(self, ledger_factory: Callable[[], Ledger] = Ledger, lazy: bool = False):
        self.ledger_factory = ledger_factory
        d = SeedInputs()
        lay = widgets.Layout(width="100%")
        self.C = widgets.FloatLogSlider(value=d.C, base=10, min=3, max=16, step=0.1, readout_format=".3g",
                                        description="C compute (FLOP/s)", style=STYLE, layout=lay)
        self.W = widgets.FloatLogSlider(value=d.W, base=10, min=-1, max=6, step=0.1, readout_format=".3g",
                                        description="W workload (s)", style=STYLE, layout=lay)
        self.L = widgets.FloatLogSlider(value=d.L, base=10, min=-3, max=12, step=0.1, readout_format=".3g",
                                        description="L efficiency (FLOP/J)", style=STYLE, layout=lay)
        self.K = widgets.FloatSlider(value=d.K, min=0.0, max=10.0, step=0.05, readout_format=".2f",
                                     description="K cooling (W/K)", style=STYLE, layout=lay)
        self.t_max = widgets.FloatSlider(value=d.t_max_c, min=0.0, max=150.0, step=1.0, readout_format=".0f",
                                         description="T_max (°C)", style=STYLE, layout=lay)
        self.t_min = widgets.FloatSlider(value=d.t_min_c, min=0.0, max=150.0, step=1.0, readout_format=".0f",
                                         description="T_min (°C)", style=STYLE, layout=lay)
        self.example_button = widgets.Button(description="Seed example E6", layout=widgets.Layout(width="auto"),
                                             tooltip="C=1e9, W=1000, L=0.1, K=0.1, 50/20 °C")
        self.refit_button = widgets.Button(description="Refit on the ledger", layout=widgets.Layout(width="auto"))
        self.seed_table = widgets.HTML()
        self.problems = widgets.HTML()
        self.fit_html = widgets.HTML()
        self.fit_image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="840px"))
        self.fitted = None             # consistent_model.FittedModel once fitted
        self.records: list[dict] = []
        for w in self.sliders:
            w.observe(lambda _: self.compute(), names="value")
        self.example_button.on_click(lambda _: self.seed_example())
        self.refit_button.on_click(lambda _: self.refresh())
        self.start_lazy(lazy)

    @property
    def sliders(self) -> tuple:
        return (self.C, self.W, self.L, self.K, self.t_max, self.t_min)

    def widget(self) -> widgets.HBox:
        left = widgets.VBox([widgets.HTML("<h2>Seed 004's model, as written</h2>"
                                          "<div class='wb-sub'>Move the sliders: E1–E6 follow. Red lines say why the "
                                          "formulas cannot be read as physics.</div>"),
                             *self.sliders, self.example_button, self.seed_table, self.problems],
                            layout=widgets.Layout(flex="1 1 0", min_width="520px", margin="0 24px 0 0"))
        right = widgets.VBox([widgets.HTML("<h2>A consistent model, fitted to measured runs</h2>"
                                           "<div class='wb-formula'>E [J] = j_per_flop·F + p_idle·t + "
                                           "k_thermal·t·max(0, T_mid − 25 °C)</div>"),
                              self.refit_button, self.fit_html, self.fit_image],
                             layout=widgets.Layout(flex="1 1 0", min_width="520px"))
        return widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap", width="100%"))

    def seed_example(self) -> None:
        d = SeedInputs()
        for w, v in zip(self.sliders, (d.C, d.W, d.L, d.K, d.t_max_c, d.t_min_c)):
            w.value = v

    def inputs(self) -> SeedInputs:
        return SeedInputs(C=self.C.value, W=self.W.value, L=self.L.value, K=self.K.value,
                          t_max_c=self.t_max.value, t_min_c=self.t_min.value)

    def compute(self) -> None:
        """E1–E6 for the sliders, the unit problems, and a consistent reading of the same inputs."""
        try:
            inp = self.inputs()
        except WorkbenchError as exc:
            self.seed_table.value = theme.status_html(str(exc), "error")
            self.problems.value = ""
            return
        res = seed_model(inp)
        cm = _cm()
        p_idle = self.fitted.params.p_idle_w if self.fitted else 0.0
        t_mid = (inp.t_max_c + inp.t_min_c) / 2
        consistent = inp.C * inp.W / inp.L + p_idle * inp.W + inp.K * inp.W * max(0.0, t_mid - cm.T_REF_C)
        rows = [
            ("E1", "EC = C·W·L", res.EC, "“J”, really FLOP²/J", "modelled:seed-e1"),
            ("E2", "ES = K·(T_max − T_min)", res.ES, "“J”, really W (no time)", "modelled:seed-e2"),
            ("E3", "E = EC + ES", res.E, "“J”", "modelled:seed-e3"),
            ("E4", "η = C·W / E", res.eta, "“fraction”, really J/FLOP", "modelled:seed-e4"),
            ("E5", "η = C·W / (C·W·L + K·ΔT)", res.eta_e5, "as E4", "modelled:seed-e5"),
            ("E6", "the seed's stated η", SEED_STATED_ETA, "“99.97 %”", "modelled:seed-e6"),
            ("", "consistent reading: C·W/L + p_idle·W + K·W·max(0, T_mid − 25)", consistent, "J",
             "modelled:consistent"),
        ]
        body = "".join(f"<tr><td style='text-align:left'><b>{i}</b></td><td style='text-align:left'>{html.escape(f)}</td>"
                       f"<td>{v:.6g}</td><td style='text-align:left'>{html.escape(u)}</td><td>{theme.badge(s)}</td></tr>"
                       for i, f, v, u, s in rows)
        self.seed_table.value = ('<div class="wb-table"><table><tr><th></th><th style="text-align:left">formula</th>'
                                 '<th>value</th><th style="text-align:left">units</th><th>source</th></tr>'
                                 f'{body}</table></div>')
        self.problems.value = ('<ul class="wb-list">' + "".join(
            f'<li class="wb-error" style="font-weight:normal;font-size:17px">{html.escape(p)}</li>'
            for p in res.check_units()) + "</ul>")

    def refresh(self) -> None:
        """Refit the consistent model on the ledger's finished runs; redraw the comparison."""
        cm = _cm()
        try:
            self.records = ledger_records(self.ledger_factory())
        except Exception as exc:
            self.records = []
            self.fit_html.value = theme.status_html(f"the ledger cannot be read ({type(exc).__name__})", "error")
        self.fitted = None
        text = ""
        if len(self.records) >= len(cm.PARAM_NAMES):
            try:
                self.fitted = cm.fit(self.records)
            except WorkbenchError as exc:
                text = theme.status_html(str(exc), "error")
        else:
            text = theme.status_html(f"{len(self.records)} finished run(s) in the ledger: the fit needs at least "
                                     f"{len(cm.PARAM_NAMES)}. Run a few in the Live run tab.", "status")
        if self.fitted is not None:
            f = self.fitted
            p = f.params
            text = (f'<div class="wb-table"><table>'
                    f"<tr><th style='text-align:left'>j_per_flop</th><td>{p.j_per_flop:.4g} J/FLOP</td>"
                    f"<td>= {p.flop_per_j:.4g} FLOP/J</td></tr>"
                    f"<tr><th style='text-align:left'>p_idle</th><td>{p.p_idle_w:.4g} W</td><td></td></tr>"
                    f"<tr><th style='text-align:left'>k_thermal</th><td>{p.k_thermal_w_per_k:.4g} W/K</td><td></td></tr>"
                    f"<tr><th style='text-align:left'>fit</th><td>{f.n_runs} runs</td>"
                    f"<td>RMSE {f.rmse_j:.3g} J · mean error {f.mean_rel_error_pct:.1f} %</td></tr>"
                    f"</table></div><div>{theme.badge(f.source)} fitted to measurements labelled "
                    + " ".join(sorted({theme.badge(r['energy_source']) for r in self.records})) + "</div>"
                    + "".join(f'<div class="wb-sub">⚠ {html.escape(w)}</div>' for w in f.warnings))
        self.fit_html.value = text
        consistent = [self.fitted.predict(r) for r in self.records] if self.fitted else None
        sources = sorted({r["energy_source"] for r in self.records}, key=theme.kind_of)
        self.fit_image.value = plots.model_vs_measured_png(self.records, consistent,
                                                           [seed_energy_for_run(r) for r in self.records],
                                                           sources[-1] if sources else "")
        self.compute()
