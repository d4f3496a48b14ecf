"""The live run tab: settings controls, Run / Stop / Reset, a status line and live plots.

    Run ──► worker thread: workbench.runs.run(settings, callbacks, control)
                 │ on_sample (sampler thread, ~10 Hz) ─┐
                 │ on_progress (work thread)   ────────┴─► LiveData
                 ▼                                           │
            Result / one-line error                renderer thread (≤ MAX_FPS): LiveFigure PNG
                                                             ─► Image.value, status HTML

Both threads only set widget traits; the kernel's main thread stays free for clicks, so Stop
works while a run is going (RunControl.request_stop ends it within a second).
"""
from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets

from workbench.errors import WorkbenchError
from workbench.settings import Settings
from workbench.ui import theme
from workbench.ui.controls import RunControls
from workbench.ui.live_data import LiveData, LiveSnapshot
from workbench.ui.plots import LiveFigure
from workbench.ui.share import Pinned, share_link


IDLE_TITLE = "No run yet: choose the settings and press Run"


@dataclass
class LiveConfig:
    max_fps: float = 8.0          # live figure renders per second, at most
    join_timeout_s: float = 5.0   # how long Stop / Reset wait for threads when asked to wait


def default_run(settings, callbacks, control):
    from workbench.runs import run
    return run(settings, callbacks=callbacks, control=control)


@dataclass(frozen=True)
class MeterPreview:
    """How energy and temperature will be obtained, told before a run (labels and details)."""

    source: str = ""
    detail: str = ""
    temp_source: str = ""
    temp_detail: str = ""


def meter_preview(settings: Settings) -> MeterPreview:
    """Build (not start) the meters these settings would use; empty if that cannot be told."""
    try:
        from workbench.energy.select import make_meter, make_temperature
        meter = make_meter(settings.meter, settings.device, core_watts=settings.core_watts)
        temperature, _ = make_temperature(settings.device)
        preview = MeterPreview(meter.source, meter.detail, getattr(temperature, "source", ""),
                               getattr(temperature, "detail", ""))
        meter.close()
        return preview
    except Exception:
        return MeterPreview()


def gpu_devices() -> list[tuple[str, str]]:
    """('cpu', 'cpu') plus one ('cuda:N · name', 'cuda:N') per GPU torch can see."""
    options = [("cpu", "cpu")]
    try:
        import torch
        if torch.cuda.is_available():
            options += [(f"cuda:{i} · {torch.cuda.get_device_name(i)}", f"cuda:{i}")
                        for i in range(torch.cuda.device_count())]
    except Exception:
        pass
    return options


def warm_up() -> None:
    """Import what the first run needs (torch, the workloads, the meters), so a Run click
    reaches its first live point fast. Runs in a background thread after the app is shown."""
    try:
        import workbench.runs  # noqa: F401
        import workbench.energy.session  # noqa: F401
        import workbench.workloads.lm  # noqa: F401
        import transformers  # noqa: F401  (runs.versions() reads its version)
    except Exception:
        pass


class LiveRunView:
    """Controls, buttons, status and live figure of one run at a time."""

    def __init__(self, pinned: Pinned | None = None, run_fn: Callable = default_run,
                 config: LiveConfig | None = None, on_finished: Callable | None = None):
        self.pinned = pinned or Pinned()
        self.run_fn, self.config = run_fn, config or LiveConfig()
        self.on_finished = on_finished           # called with the Result (or None) after a run
        self.controls = RunControls(self.pinned.settings)
        self.run_button = widgets.Button(description="Run", tooltip="start a run with these settings")
        self.stop_button = widgets.Button(description="Stop", tooltip="end the run within a second", disabled=True)
        self.reset_button = widgets.Button(description="Reset", tooltip="stop, clear the plots, restore the settings")
        self.run_button.add_class("wb-run")
        self.stop_button.add_class("wb-stop")
        self.message = widgets.HTML()            # one-line refusals and failures
        self.status = widgets.HTML()
        self.readout = widgets.HTML()
        self.notes = widgets.HTML()
        self.share = widgets.Text(description="share link", style={"description_width": "9.5em"},
                                  layout=widgets.Layout(width="100%"))
        self.plot_title = widgets.HTML()         # above the figure: what runs (kept out of the PNG
        self.plot_title.add_class("wb-plot-title")  # so the figure's background stays cached)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1400px"))
        self.image.add_class("wb-live-plot")
        for w, name in ((self.message, "wb-message"), (self.status, "wb-status-line"), (self.readout, "wb-readout"),
                        (self.share, "wb-share"), (self.reset_button, "wb-reset")):
            w.add_class(name)
        self.data = LiveData()
        self.figure_lock = threading.Lock()
        self.figure = LiveFigure()
        self.state = "idle"                      # idle | running | stopping
        self.frames = 0                          # renders pushed to the image (tests, benchmark)
        self.result = None
        self.error = ""
        self.control = None
        self._thread: threading.Thread | None = None
        self._renderer: threading.Thread | None = None
        self._done = threading.Event()
        self._settings: Settings | None = None
        self.preview = meter_preview(self.pinned.settings)
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.controls.observe(self._controls_changed)
        self._controls_changed()
        self._render_idle(IDLE_TITLE)
        self._say_status("Ready." + (f" Settings from the {self.pinned.origin}." if self.pinned.origin != "defaults" else ""))
        if self.pinned.messages:
            self._say_error(" · ".join(self.pinned.messages))

    def pin(self, pinned: Pinned) -> None:
        """New starting settings (a link, a settings file): shown, and restored by Reset."""
        self.pinned = pinned
        self.controls.show(pinned.settings)
        if not self.running:
            self.preview = meter_preview(pinned.settings)
            self._render_idle(IDLE_TITLE)

    # -- layout ---------------------------------------------------------------------------
    def widget(self) -> widgets.VBox:
        for b in (self.run_button, self.stop_button, self.reset_button):
            b.layout.margin = "8px 12px 8px 0"
        buttons = widgets.HBox([self.run_button, self.stop_button, self.reset_button])
        return widgets.VBox([self.controls.panel(), buttons, self.message, self.status, self.readout,
                             self.plot_title, self.image, self.notes, self.share])

    # -- messages -------------------------------------------------------------------------
    def _say_error(self, text: str) -> None:
        self.error = text
        self.message.value = theme.status_html(text, "error") if text else ""

    def _say_status(self, text: str) -> None:
        self.status.value = theme.status_html(text, "status")

    def _controls_changed(self, change=None) -> None:
        """Validate on every change: an impossible combination is refused inline, at once."""
        try:
            s = self.controls.settings()
        except WorkbenchError as exc:
            self._say_error(str(exc))
            return
        if self.error and self.state == "idle":
            self._say_error("")
        self.share.value = share_link(s)
        if change is not None and self.state == "idle" and change["owner"] in (
                self.controls.t_min, self.controls.t_max, self.controls.device, self.controls.steps):
            self.preview = meter_preview(s)
            self._render_idle(IDLE_TITLE, s)

    # -- run ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Validate and start a run in a worker thread. False (with a message) if refused."""
        if self.running:
            self._say_error("a run is already going: press Stop first")
            return False
        try:
            settings = self.controls.settings()
        except WorkbenchError as exc:
            self._say_error(str(exc))
            return False
        self._say_error("")
        self._settings, self.result, self.error = settings, None, ""
        from workbench.runs import Callbacks, RunControl
        self.control = RunControl()
        self.data.clear(settings.steps)
        with self.figure_lock:              # clear the last run's lines now (a cached background)
            self.figure.reset(settings.t_min_c, settings.t_max_c)
            self.figure.update(self.data.snapshot(), settings.t_min_c, settings.t_max_c, preview=self.preview)
            self.image.value = self.figure.png()
        self.data.changed.clear()
        self.state = "running"
        self._done.clear()
        self._set_buttons()
        self.notes.value = ""
        self.readout.value = ""
        self.plot_title.value = f"<h2>{html.escape(self._title(settings))}</h2>"
        self._say_status(f"Starting {settings.workload} ({settings.steps} steps)…")
        callbacks = Callbacks(on_progress=self.data.add_progress, on_sample=self.data.add_sample,
                              on_message=self._on_message)
        self._thread = threading.Thread(target=self._work, args=(settings, callbacks, self.control),
                                        name="workbench-run", daemon=True)
        self._renderer = threading.Thread(target=self._render_loop, name="workbench-render", daemon=True)
        self._thread.start()
        self._renderer.start()
        return True

    def _on_message(self, text: str) -> None:
        """One line from the engine (what it is doing): shown under the figure while running."""
        self.notes.value = f'<div class="wb-sub">{html.escape(text.splitlines()[0] if text else "")}</div>'

    def _work(self, settings: Settings, callbacks, control) -> None:
        self.preview = meter_preview(settings)
        try:
            self.result = self.run_fn(settings, callbacks, control)
        except WorkbenchError as exc:
            self.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except Exception as exc:   # an engine bug: one friendly line, the app stays usable
            self.error = f"the run failed unexpectedly ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        finally:
            self._done.set()

    def stop(self, wait: bool = False) -> None:
        """Ask the run to end (within a second); optionally wait for the threads."""
        if self.control is not None and self.running:
            self.control.request_stop()
            self.state = "stopping"
            self._set_buttons()
            self._say_status("Stopping…")
        if wait:
            self.wait()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker and renderer threads (bounded). True if both ended."""
        timeout = self.config.join_timeout_s if timeout is None else timeout
        t_end = time.monotonic() + timeout
        for th in (self._thread, self._renderer):
            if th is not None:
                th.join(max(0.0, t_end - time.monotonic()))
        return not any(th is not None and th.is_alive() for th in (self._thread, self._renderer))

    def reset(self) -> None:
        """Stop any run, clear the plots and messages, put the pinned settings back."""
        self.stop(wait=True)
        self.data.clear(0)
        self.result, self.error = None, ""
        self.controls.show(self.pinned.settings)
        self._say_error("")
        self.notes.value = self.readout.value = ""
        self._render_idle(IDLE_TITLE)
        self._say_status("Ready.")

    def _set_buttons(self) -> None:
        busy = self.state != "idle"
        self.run_button.disabled = busy
        self.stop_button.disabled = self.state != "running"
        self.controls.disable(busy)

    # -- rendering ------------------------------------------------------------------------
    def _render_loop(self) -> None:
        """Render when new data came, at most max_fps times a second: the first sample after
        a quiet spell is drawn at once (a quick first live point), a stream is throttled."""
        period = 1.0 / self.config.max_fps
        seen, last = -1, -period
        while not self._done.is_set():
            if not self.data.changed.wait(0.25):
                continue
            wait = last + period - time.monotonic()
            if wait > 0 and self._done.wait(wait):
                break
            self.data.changed.clear()
            if self.data.version != seen and self.data.snapshot().n:
                seen, last = self.data.version, time.monotonic()
                self._render_live()
        if self._thread is not None:
            self._thread.join()
        self._render_live()
        self._finish()

    def _title(self, s: Settings) -> str:
        parts = [s.workload, s.device, f"{s.bits} bits" + (f" {s.quant_granularity}" if s.bits < 32 else ""),
                 f"pruning {s.prune_ratio:g} {s.prune_kind}" if s.prune_ratio else "no pruning",
                 f"parallelism {s.parallelism}"]
        return " · ".join(parts)

    def _render_live(self) -> None:
        s = self._settings
        snap = self.data.snapshot()
        try:
            with self.figure_lock:
                self.figure.update(snap, s.t_min_c, s.t_max_c, preview=self.preview)
                png = self.figure.png()
        except Exception as exc:   # a plot bug must not kill the run
            self.error = self.error or f"the plot failed ({type(exc).__name__}: {exc})"
            return
        self.image.value = png
        self.frames += 1
        self.readout.value = readout_html(snap)
        if self.state == "running":
            self._say_status(progress_line(snap, "Running"))

    def _render_idle(self, title: str, settings: Settings | None = None) -> None:
        """The empty figure with the band and sources the next run will have, so the run's
        first frame reuses its cached background (a quick first live point)."""
        s = settings or self.pinned.settings
        self.plot_title.value = f"<h2>{html.escape(title)}</h2>"
        with self.figure_lock:
            self.figure.reset(s.t_min_c, s.t_max_c)
            self.figure.update(LiveData(total_steps=s.steps).snapshot(), s.t_min_c, s.t_max_c, preview=self.preview)
            self.image.value = self.figure.png()

    def _finish(self) -> None:
        r = self.result
        snap = self.data.snapshot()
        if self.error:
            self._say_error(self.error)
            self._say_status(progress_line(snap, "Failed") + " — the app is ready for another run.")
        elif r is not None:
            word = {"ok": "Done", "stopped": "Stopped"}.get(r.status, r.status.capitalize())
            self._say_status(f"{word}: run {r.run_id} · step {snap.step}/{snap.total_steps} · "
                             f"{r.duration_s:.1f} s · {r.energy_j or 0:.1f} J — recorded in the ledger (Results tab).")
            self.readout.value = result_html(r)
            self.notes.value = notes_html(r)
        self.state = "idle"
        self._set_buttons()
        if self.on_finished is not None:
            try:
                self.on_finished(r)
            except Exception:
                pass


# -- small HTML pieces --------------------------------------------------------------------------
def progress_line(snap: LiveSnapshot, word: str) -> str:
    t = snap.t_s[-1] if snap.n else 0.0
    e = snap.energy_j[-1] if snap.n else 0.0
    paused = " · paused by the governor" if snap.n and snap.paused[-1] else ""
    return f"{word}: step {snap.step}/{snap.total_steps} · {t:.1f} s · {e:.1f} J{paused}"


def _cell(label: str, value: str, source: str | None = None) -> str:
    tag = f"<br>{theme.badge(source)}" if source else ""
    return (f'<div style="padding:4px 18px 4px 0;min-width:10em"><div class="wb-sub">{html.escape(label)}</div>'
            f'<div style="font-size:26px;font-weight:bold">{html.escape(value)}</div>{tag}</div>')


def readout_html(snap: LiveSnapshot) -> str:
    import numpy as np
    if not snap.n:
        return ""
    p = snap.power_w[np.isfinite(snap.power_w)]
    temp = snap.temp_c[np.isfinite(snap.temp_c)]
    eta = snap.eta_tokens_per_j[np.isfinite(snap.eta_tokens_per_j)]
    cells = [_cell("energy so far", f"{snap.energy_j[-1]:.1f} J", snap.source),
             _cell("power now", f"{p[-1]:.1f} W" if p.size else "—", snap.source),
             _cell("temperature", f"{temp[-1]:.1f} °C" if temp.size else "—", snap.temp_source),
             _cell("η so far", f"{eta[-1]:.3g} tokens/J" if eta.size else "—", snap.source)]
    return f'<div style="display:flex;flex-wrap:wrap">{"".join(cells)}</div>'


def result_html(r) -> str:
    q = r.quality or {}
    qname, qval = next(((k, q[k]) for k in ("perplexity", "cosine_mean", "accuracy", "loss") if k in q), ("", None))
    cells = [_cell("energy", f"{r.energy_j or 0:.1f} J", r.energy_source),
             _cell("mean power", f"{r.mean_power_w or 0:.1f} W", r.energy_source),
             _cell("peak temperature", f"{r.peak_temp_c:.1f} °C" if r.peak_temp_c is not None else "—", r.temp_source),
             _cell("η", f"{r.eta_tokens_per_j:.3g} tokens/J" if r.eta_tokens_per_j else "—", r.energy_source),
             _cell("CO₂", f"{r.co2_g:.3g} g" if r.co2_g is not None else "—", "modelled:grid-intensity"),
             _cell(qname or "quality", f"{qval:.4g}" if isinstance(qval, (int, float)) else "—", None)]
    return f'<div style="display:flex;flex-wrap:wrap">{"".join(cells)}</div>'


def notes_html(r) -> str:
    lines = [f"<b>How the energy was obtained:</b> {html.escape(r.energy_detail)}"] if r.energy_detail else []
    lines += [html.escape(n) for n in r.notes]
    if not lines:
        return ""
    return '<ul class="wb-list wb-sub">' + "".join(f"<li>{x}</li>" for x in lines) + "</ul>"
