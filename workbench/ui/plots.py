"""Figures of the app, drawn with matplotlib's Agg backend into PNG bytes (no widgets here).

Every figure names its axes with units and shows the source kind of its numbers
(MEASURED / ESTIMATED / MODELLED). Figures are built with explicit Figure objects (no pyplot
state), so renderer threads never share a global figure.
"""
from __future__ import annotations

import io
import math
import textwrap

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from workbench.ui.live_data import LiveSnapshot
from workbench.ui.theme import (BLUE, DPI, GREEN, GREY, KIND_COLOURS, MPL_RC, ORANGE, PURPLE, SKY,
                                VERMILION, kind_of)

LIVE_SIZE_IN = (17.5, 8.6)   # 1400 × 688 px at DPI 80


def new_figure(size_in: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size_in, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (compression level 1: fast, and the images are mostly flat colour)."""
    buf = io.BytesIO()
    fig.canvas.draw()
    fig.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def source_tag(ax, source: str | None, loc: str = "right"):
    """Write the source kind (and its name) in a coloured box at the top of an axes."""
    kind = kind_of(source)
    name = source.split(":", 1)[1] if source and ":" in source else ""
    text = f"{kind}: {name}" if name else kind
    x, ha = (1.0, "right") if loc == "right" else (0.0, "left")
    return ax.text(x, 1.015, text, transform=ax.transAxes, ha=ha, va="bottom", fontsize=MPL_RC["font.size"] - 2,
            color="white", fontweight="bold",
            bbox=dict(boxstyle="round,pad=0.25", fc=KIND_COLOURS.get(kind, GREY), ec="none"))


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines() if line.strip())


# -- the live run -----------------------------------------------------------------------------
class LiveFigure:
    """Six panels updated in place: power, energy, temperature (band + pauses), η, loss, sources.

    update(snapshot, ...) moves line data and rescales; png() draws. Only the pause shading is
    rebuilt each time (its spans change). One LiveFigure per renderer thread.
    """

    def __init__(self):
        with rc_context(MPL_RC):
            self.fig = new_figure(LIVE_SIZE_IN)
            axs = self.fig.subplots(2, 3)
            self.fig.subplots_adjust(left=0.055, right=0.985, top=0.925, bottom=0.085, wspace=0.27, hspace=0.48)
            (self.ax_p, self.ax_e, self.ax_t), (self.ax_eta, self.ax_loss, self.ax_info) = axs
            self.line_p, = self.ax_p.plot([], [], color=VERMILION)
            self.line_e, = self.ax_e.plot([], [], color=BLUE)
            self.line_t, = self.ax_t.plot([], [], color=ORANGE, label="temperature")
            self.line_eta, = self.ax_eta.plot([], [], color=GREEN)
            self.line_loss, = self.ax_loss.plot([], [], color=PURPLE, label="training loss")
            self.band = None
            self._time_axes = (self.ax_p, self.ax_e, self.ax_t, self.ax_eta)
            self._pause_art: list = []
            self._tags: list = []
            for ax, title, ylabel in ((self.ax_p, "Power", "power (W)"),
                                      (self.ax_e, "Energy so far", "energy (J)"),
                                      (self.ax_t, "Temperature", "temperature (°C)"),
                                      (self.ax_eta, "Efficiency η", "tokens per joule")):
                ax.set_title(title, loc="left")
                ax.set_xlabel("time (s)")
                ax.set_ylabel(ylabel)
            self.ax_loss.set_title("Training loss", loc="left")
            self.ax_loss.set_xlabel("step")
            self.ax_loss.set_ylabel("loss (nats/token)")
            self.ax_info.axis("off")
            self.info = self.ax_info.text(0.0, 1.0, "", va="top", ha="left", fontsize=MPL_RC["font.size"] - 1,
                                          transform=self.ax_info.transAxes, linespacing=1.35)
            self.title = self.fig.suptitle("", x=0.01, ha="left", fontsize=MPL_RC["font.size"] + 3,
                                           fontweight="bold")

    def update(self, snap: LiveSnapshot, t_min_c: float, t_max_c: float, title: str = "",
               energy_detail: str = "", temp_detail: str = "", note: str = "") -> None:
        """Put the snapshot's data into the panels (no drawing)."""
        with rc_context(MPL_RC):
            t = snap.t_s
            self.line_p.set_data(t, snap.power_w)
            self.line_e.set_data(t, snap.energy_j)
            self.line_t.set_data(t, snap.temp_c)
            self.line_eta.set_data(t, snap.eta_tokens_per_j)
            loss = snap.metrics.get("loss")
            self.line_loss.set_data(snap.steps, loss if loss is not None else np.full(len(snap.steps), np.nan))
            if self.band is not None:
                self.band.remove()
            self.band = self.ax_t.axhspan(t_min_c, t_max_c, color=GREEN, alpha=0.12, lw=0,
                                          label=f"governor band {t_min_c:g}–{t_max_c:g} °C")
            self._shade_pauses(t, snap.paused)
            for ax in (*self._time_axes, self.ax_loss):
                ax.relim()
                ax.autoscale_view()
            t_end = max(1.0, float(t[-1]) if len(t) else 1.0)
            for ax in self._time_axes:
                ax.set_xlim(0, t_end * 1.02)
            finite_t = snap.temp_c[np.isfinite(snap.temp_c)]
            lo = min(t_min_c, finite_t.min()) if finite_t.size else t_min_c
            hi = max(t_max_c, finite_t.max()) if finite_t.size else t_max_c
            self.ax_t.set_ylim(lo - 3, hi + 3)
            for ax in (self.ax_p, self.ax_e, self.ax_eta):
                ax.set_ylim(bottom=0)
            self.ax_loss.set_xlim(0, max(1, snap.total_steps or (snap.steps.max() if snap.steps.size else 1)))
            self._tag_sources(snap.source, snap.temp_source)
            self.ax_t.legend(loc="upper left", frameon=False)
            self.title.set_text(title)
            self.info.set_text(self._info_text(snap, energy_detail, temp_detail, note))

    def _shade_pauses(self, t: np.ndarray, paused: np.ndarray) -> None:
        for art in self._pause_art:
            art.remove()
        self._pause_art = []
        if not paused.any():
            return
        for ax in self._time_axes:
            self._pause_art.append(ax.fill_between(t, 0, 1, where=paused, step="post", color=GREY, alpha=0.25,
                                                   lw=0, transform=ax.get_xaxis_transform(),
                                                   label="governor paused the work"))

    def _tag_sources(self, source: str, temp_source: str) -> None:
        for art in self._tags:
            art.remove()
        self._tags = [source_tag(self.ax_p, source or None), source_tag(self.ax_e, source or None),
                      source_tag(self.ax_t, temp_source or None), source_tag(self.ax_eta, source or None),
                      source_tag(self.ax_loss, "measured:training")]

    @staticmethod
    def _info_text(snap: LiveSnapshot, energy_detail: str, temp_detail: str, note: str) -> str:
        lines = ["How these figures are obtained"]
        energy = snap.energy_j[-1] if snap.n else 0.0
        work = snap.work[-1] if snap.n and np.isfinite(snap.work[-1]) else 0.0
        lines.append(f"energy {energy:.1f} J, {int(work):,} tokens")
        lines.append(f"Energy, power, η: {kind_of(snap.source) if snap.source else '—'}")
        if energy_detail:
            lines.append(wrap(energy_detail, 52))
        lines.append(f"Temperature: {kind_of(snap.temp_source) if snap.temp_source else '—'}")
        if temp_detail:
            lines.append(wrap(temp_detail, 52))
        if snap.paused.any():
            lines.append(f"Grey: governor held the work ({snap.paused.mean() * 100:.0f} % of samples)")
        if note:
            lines.append(wrap(note, 52))
        return "\n".join(lines)

    def png(self) -> bytes:
        with rc_context(MPL_RC):
            return to_png(self.fig)


def empty_live_png() -> bytes:
    """The live panels before any run: axes with units, a hint to press Run."""
    from workbench.ui.live_data import LiveData
    fig = LiveFigure()
    fig.update(LiveData().snapshot(), 60.0, 85.0, title="No run yet: choose settings and press Run")
    return fig.png()
