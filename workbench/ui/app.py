"""The web app: four tabs over the engine, built by apps/workbench.ipynb and served by Voila.

    from workbench.ui import app
    ui = app.build_app()          # widgets, the ledger, the first figures (done while preheated)
    ui                            # shows it
    ui.pin(app.request_settings())   # the page's ?query / --settings file, once the page asks
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets

from workbench.ledger import Ledger
from workbench.settings import Settings
from workbench.ui import theme
from workbench.ui.energy_explorer import EnergyModelView
from workbench.ui.formula_explorer import FormulaView
from workbench.ui.live import LiveConfig, LiveRunView, default_run, gpu_devices, warm_up
from workbench.ui.results import ResultsView
from workbench.ui.share import Pinned, pinned_settings, request_query

TAB_TITLES = ("Live run", "Results", "Energy model", "Formulas")


@dataclass
class WorkbenchApp:
    """The four views and the widget that holds them."""

    live: LiveRunView
    results: ResultsView
    energy: EnergyModelView
    formulas: FormulaView
    tabs: widgets.Tab
    widget: widgets.VBox

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def pin(self, pinned: Pinned) -> None:
        """Show pinned settings (from a link or a settings file) in the live controls."""
        self.live.pin(pinned)
        if pinned.messages:
            self.live._say_error(" · ".join(pinned.messages))
        elif pinned.origin != "defaults":
            self.live._say_status(f"Ready. Settings from the {pinned.origin}.")

    @property
    def views(self) -> tuple:
        return (self.live, self.results, self.energy, self.formulas)

    def show_tab(self, index: int) -> None:
        """Select a tab (what a click on its title does)."""
        self.tabs.selected_index = index

    def _tab_changed(self, change) -> None:
        view = self.views[change["new"]] if change["new"] is not None else None
        if hasattr(view, "activate"):
            view.activate()

    def after_run(self, result) -> None:
        """A run finished: the results and the energy fit are stale; redraw the one shown."""
        for view in (self.results, self.energy):
            view.stale = True
        self._tab_changed({"new": self.tabs.selected_index})


def request_settings() -> Pinned:
    """Settings pinned by the page's URL query and/or the --settings file (see share.py)."""
    return pinned_settings(request_query())


def build_app(pinned: Pinned | Settings | None = None, ledger_factory: Callable[[], Ledger] = Ledger,
              run_fn: Callable = default_run, live_config: LiveConfig | None = None,
              warm: bool = True, lazy: bool = True) -> WorkbenchApp:
    """Build the app. pinned: starting settings (default: the --settings file, if any).
    warm: import torch and the workloads in a background thread and list the GPUs.
    lazy: draw the Results, Energy model and Formulas tabs when first shown (faster page)."""
    if isinstance(pinned, Settings):
        pinned = Pinned(settings=pinned, origin="caller")
    pinned = pinned or pinned_settings("")
    live = LiveRunView(pinned, run_fn=run_fn, config=live_config)
    results = ResultsView(ledger_factory, lazy=lazy)
    energy = EnergyModelView(ledger_factory, lazy=lazy)
    formulas = FormulaView(lazy=lazy)
    tabs = widgets.Tab(children=[live.widget(), results.widget(), energy.widget(), formulas.widget()])
    tabs.titles = TAB_TITLES
    header = widgets.HTML(f"{theme.CSS}<h1>Green LLM Workbench</h1><div class='wb-sub'>What does a language "
                          "model cost in energy, and what does compression save? Every figure says whether it "
                          "is " + theme.badge("measured:") + ", " + theme.badge("estimated:") + " or "
                          + theme.badge("modelled:") + ".</div>")
    root = widgets.VBox([header, tabs], layout=widgets.Layout(padding="6px 14px"))
    root.add_class("wb-app")
    app = WorkbenchApp(live, results, energy, formulas, tabs, root)
    live.on_finished = app.after_run
    tabs.observe(app._tab_changed, names="selected_index")
    if warm:
        threading.Thread(target=_warm, args=(live,), name="workbench-warm-up", daemon=True).start()
    return app


WARM_UP_DELAY_S = 2.0   # let a cold page get its widgets first; a preheated kernel has time anyway


def _warm(live: LiveRunView) -> None:
    time.sleep(WARM_UP_DELAY_S)
    warm_up()
    devices = gpu_devices()
    if len(devices) > 1:
        live.controls.set_devices(devices)
