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
def nice_ceil(x: float) -> float:
    """Smallest of 1, 2, 2.5, 5 × 10^k that is >= x (x > 0)."""
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** k >= x * (1 - 1e-12):
            return m * 10 ** k
    return 10 ** (k + 1)


def grow(limit: float, data_max: float, headroom: float = 2.0) -> float:
    """Keep an axis limit until the data passes it, then jump to a nice value with headroom:
    limits change rarely, so the static background of the live figure is redrawn rarely."""
    if not math.isfinite(data_max) or data_max <= limit:
        return limit
    return nice_ceil(data_max * headroom)


def _max(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else -math.inf


def _min(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.min()) if a.size else math.inf


class LiveFigure:
    """Six panels: power, energy, temperature (band + pauses), η, loss, and how figures are obtained.

    Drawn by blitting: the axes, ticks, labels and source tags are drawn once into a cached
    background (again only when a limit, a source or a setting changes, which `grow` keeps
    rare); each frame restores it and draws only the data lines and the pause shading. This
    keeps a frame at tens of milliseconds, so the plots can update several times a second.
    """

    def __init__(self):
        with rc_context(MPL_RC):
            self.fig = new_figure(LIVE_SIZE_IN)
            axs = self.fig.subplots(2, 3)
            self.fig.subplots_adjust(left=0.055, right=0.985, top=0.95, bottom=0.085, wspace=0.27, hspace=0.45)
            (self.ax_p, self.ax_e, self.ax_t), (self.ax_eta, self.ax_loss, self.ax_info) = axs
            self.time_axes = (self.ax_p, self.ax_e, self.ax_t, self.ax_eta)
            self.line_p, = self.ax_p.plot([], [], color=VERMILION, animated=True)
            self.line_e, = self.ax_e.plot([], [], color=BLUE, animated=True)
            self.line_t, = self.ax_t.plot([], [], color=ORANGE, animated=True)
            self.line_eta, = self.ax_eta.plot([], [], color=GREEN, animated=True)
            self.line_loss, = self.ax_loss.plot([], [], color=PURPLE, animated=True)
            self.lines = (self.line_p, self.line_e, self.line_t, self.line_eta, self.line_loss)
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
            self.info = self.ax_info.text(-0.02, 1.04, "", va="top", ha="left", transform=self.ax_info.transAxes,
                                          fontsize=MPL_RC["font.size"] - 1, linespacing=1.3)
            # static pieces rebuilt only when the background key changes
            self.band = None
            self.band_key = None
            self.tags: list = []
            self.pause_art: list = []
            self.limits = self._initial_limits(60.0, 85.0)
            self._bg = None
            self._bg_key = None
            self._bg_cache: dict = {}   # key -> background; the run's first key is the idle one

    @staticmethod
    def _initial_limits(t_min_c: float, t_max_c: float) -> dict:
        return {"t": 10.0, "p": 10.0, "e": 10.0, "eta": 100.0, "loss": 5.0, "steps": 1,
                "temp": (min(20.0, t_min_c - 5.0), t_max_c + 5.0)}

    def reset(self, t_min_c: float, t_max_c: float) -> None:
        """Start a new run: limits back to their small initial values."""
        self.limits = self._initial_limits(t_min_c, t_max_c)

    def update(self, snap: LiveSnapshot, t_min_c: float, t_max_c: float, preview=None, note: str = "") -> None:
        """Put the snapshot's data into the panels (no drawing). preview: a live.MeterPreview
        (labels and details of the meters, known before the first sample)."""
        t = snap.t_s
        eta = snap.eta_tokens_per_j
        loss = snap.metrics.get("loss")
        loss = loss if loss is not None else np.full(len(snap.steps), np.nan)
        self.line_p.set_data(t, snap.power_w)
        self.line_e.set_data(t, snap.energy_j)
        self.line_t.set_data(t, snap.temp_c)
        self.line_eta.set_data(t, eta)
        self.line_loss.set_data(snap.steps, loss)
        L = self.limits
        L["t"] = grow(L["t"], _max(t))
        L["p"] = grow(L["p"], _max(snap.power_w), 1.5)
        L["e"] = grow(L["e"], _max(snap.energy_j), 3.0)
        L["eta"] = grow(L["eta"], _max(eta), 2.5)
        L["loss"] = grow(L["loss"], _max(loss), 1.1)
        # the step axis shows the whole run when it is short, else grows with the steps done
        total = snap.total_steps or 1
        L["steps"] = total if total <= 500 else min(total, grow(max(L["steps"], 100), _max(snap.steps), 2.5))
        lo, hi = L["temp"]
        lo = min(lo, t_min_c - 5.0, math.floor(_min(snap.temp_c) / 5.0) * 5.0 - 5.0 if snap.n else lo)
        hi = max(hi, t_max_c + 5.0, math.ceil(_max(snap.temp_c) / 5.0) * 5.0 + 5.0 if snap.n else hi)
        L["temp"] = (lo, hi)
        source = snap.source or getattr(preview, "source", "")
        temp_source = snap.temp_source or getattr(preview, "temp_source", "")
        self._static = (round(t_min_c, 3), round(t_max_c, 3), source, temp_source,
                        self._info_text(source, temp_source, getattr(preview, "detail", ""),
                                        getattr(preview, "temp_detail", ""), note))
        self._paused = (t, snap.paused)

    def _background_key(self) -> tuple:
        L = self.limits
        return (L["t"], L["p"], L["e"], L["eta"], L["loss"], L["steps"], L["temp"], self._static)

    def _apply_limits(self) -> None:
        """Set the axes to the current limits (the lines are clipped and placed by them)."""
        L = self.limits
        for ax in self.time_axes:
            ax.set_xlim(0, L["t"])
        self.ax_p.set_ylim(0, L["p"])
        self.ax_e.set_ylim(0, L["e"])
        self.ax_eta.set_ylim(0, L["eta"])
        self.ax_t.set_ylim(*L["temp"])
        self.ax_loss.set_ylim(0, L["loss"])
        self.ax_loss.set_xlim(0, L["steps"])

    def _draw_background(self) -> None:
        t_min_c, t_max_c, source, temp_source, info = self._static
        self._apply_limits()
        if (t_min_c, t_max_c) != self.band_key:
            if self.band is not None:
                self.band.remove()
            self.band = self.ax_t.axhspan(t_min_c, t_max_c, color=GREEN, alpha=0.13, lw=0)
            self.band_text = getattr(self, "band_text", None)
            if self.band_text is not None:
                self.band_text.remove()
            self.band_text = self.ax_t.text(0.01, t_max_c, f" governor band {t_min_c:g}–{t_max_c:g} °C",
                                            transform=self.ax_t.get_yaxis_transform(), va="top", ha="left",
                                            color="#1d5f46", fontsize=MPL_RC["font.size"] - 2)
            self.band_key = (t_min_c, t_max_c)
        for art in self.tags:
            art.remove()
        self.tags = [source_tag(self.ax_p, source or None), source_tag(self.ax_e, source or None),
                     source_tag(self.ax_t, temp_source or None), source_tag(self.ax_eta, source or None),
                     source_tag(self.ax_loss, "measured:training")]
        self.info.set_text(info)
        self.fig.canvas.draw()
        self._bg = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def _draw_pauses(self) -> None:
        for art in self.pause_art:
            art.remove()
        self.pause_art = []
        t, paused = self._paused
        if not paused.any():
            return
        for ax in self.time_axes:
            art = ax.fill_between(t, 0, 1, where=paused, step="post", color=GREY, alpha=0.3, lw=0,
                                  transform=ax.get_xaxis_transform(), animated=True)
            self.pause_art.append(art)
            ax.draw_artist(art)

    @staticmethod
    def _info_text(source: str, temp_source: str, energy_detail: str, temp_detail: str, note: str) -> str:
        lines = ["How these figures are obtained", ""]
        lines.append(f"Energy, power, η: {kind_of(source) if source else 'waiting for the meter'}")
        if energy_detail:
            lines.append(wrap(energy_detail, 44))
        lines.append("")
        lines.append(f"Temperature: {kind_of(temp_source) if temp_source else 'waiting for the meter'}")
        if temp_detail:
            lines.append(wrap(temp_detail, 44))
        lines.append("")
        lines.append("Grey spans: the governor held the work")
        lines.append("(above t_max until below t_min).")
        if note:
            lines += ["", wrap(note, 44)]
        return "\n".join(lines)

    def png(self) -> bytes:
        """Draw (blit) and encode the current state as PNG bytes."""
        with rc_context(MPL_RC):
            key = self._background_key()
            if key != self._bg_key and key in self._bg_cache:
                self._apply_limits()
                self._bg, self._bg_key = self._bg_cache[key], key
            if key != self._bg_key or self._bg is None:
                self._draw_background()
                self._bg_key = key
                if len(self._bg_cache) >= 4:
                    self._bg_cache.pop(next(iter(self._bg_cache)))
                self._bg_cache[key] = self._bg
            else:
                self.fig.canvas.restore_region(self._bg)
            self._draw_pauses()
            for line in self.lines:
                line.axes.draw_artist(line)
            return encode_rgba(self.fig)


def encode_rgba(fig: Figure) -> bytes:
    """PNG of what the Agg canvas holds now (without redrawing it), reduced to 64 colours:
    about 2.5 times smaller and quicker to encode, which matters at several frames a second
    for every learner of a classroom on one network."""
    from PIL import Image
    buf = fig.canvas.buffer_rgba()
    img = Image.frombuffer("RGBA", (buf.shape[1], buf.shape[0]), buf, "raw", "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    q = img.quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    pal = q.getpalette()[: 64 * 3]
    i = max(range(len(pal) // 3), key=lambda k: sum(pal[3 * k: 3 * k + 3]))   # the page's white stays white
    pal[3 * i: 3 * i + 3] = [255, 255, 255]
    q.putpalette(pal)
    q.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def empty_live_png() -> bytes:
    """The live panels before any run: axes with units."""
    from workbench.ui.live_data import LiveData
    fig = LiveFigure()
    fig.update(LiveData().snapshot(), 60.0, 85.0)
    return fig.png()


# -- results: frontier and comparison ---------------------------------------------------------
QUALITY_METRICS = (  # (quality key, lower is better, axis label)
    ("perplexity", True, "perplexity (lower is better)"),
    ("cosine_mean", False, "embedding cosine to fp32 (higher is better)"),
    ("accuracy", False, "accuracy (higher is better)"),
    ("loss", True, "loss (nats/token, lower is better)"),
)


def quality_metric(rows: list[dict]) -> tuple[str, bool, str] | None:
    """The first quality metric all rows share (rows as in Ledger.rows(): quality_* keys)."""
    for key, lower, label in QUALITY_METRICS:
        if rows and all(isinstance(r.get(f"quality_{key}"), (int, float)) for r in rows):
            return key, lower, label
    return None


def message_png(text: str, size_in: tuple[float, float] = (12, 3.2)) -> bytes:
    """A figure-sized note where a plot cannot be drawn yet (e.g. no runs)."""
    with rc_context(MPL_RC):
        fig = new_figure(size_in)
        fig.text(0.5, 0.5, wrap(text, 60), ha="center", va="center", fontsize=MPL_RC["font.size"] + 5, color="#444")
        return to_png(fig)


def frontier_png(rows: list[dict], workload: str) -> bytes:
    """Energy (J, log) against quality for the ledger's runs of one workload, the Pareto
    frontier joined, each point labelled with its compression."""
    rows = [r for r in rows if r.get("workload") == workload and r.get("status") == "ok"
            and isinstance(r.get("energy_j"), (int, float)) and r["energy_j"] > 0]
    metric = quality_metric(rows)
    if not rows or metric is None:
        return message_png(f"No finished {workload} runs with energy and quality in the ledger yet: run a few "
                           "in the Live run tab with different bits and pruning ratios.")
    key, lower, label = metric
    e = np.array([r["energy_j"] for r in rows], dtype=float)
    q = np.array([r[f"quality_{key}"] for r in rows], dtype=float)
    bits = np.array([r.get("bits") or 32 for r in rows], dtype=float)
    from workbench.compress.compare import pareto_mask
    front = np.array(pareto_mask([{"energy_j": x, "q": -y if lower else y} for x, y in zip(e, q)],
                                 cost="energy_j", quality="q"), dtype=bool)
    sources = sorted({r.get("energy_source") or "" for r in rows})
    with rc_context(MPL_RC):
        fig = new_figure((12, 6.4))
        ax = fig.subplots()
        fig.subplots_adjust(left=0.1, right=0.9, top=0.88, bottom=0.13)
        sc = ax.scatter(e, q, c=bits, cmap="viridis", s=130, edgecolor="black", zorder=3, vmin=1, vmax=32)
        order = np.argsort(e[front])
        ax.plot(e[front][order], q[front][order], color=VERMILION, lw=2.5, zorder=2, label="frontier (no run is better in both)")
        for r, x, y in zip(rows, e, q):
            tag = f"{r.get('bits')}b" + (f" p{r.get('prune_ratio'):g}" if r.get("prune_ratio") else "")
            ax.annotate(tag, (x, y), textcoords="offset points", xytext=(8, 6), fontsize=MPL_RC["font.size"] - 3)
        ax.set_xscale("log")
        ax.set_xlabel("energy of the run (J, log scale)")
        ax.set_ylabel(label)
        ax.set_title(f"Energy–quality frontier · {workload} · {len(rows)} runs", loc="left")
        ax.legend(loc="best", frameon=False)
        cb = fig.colorbar(sc, ax=ax, pad=0.02)
        cb.set_label("bits")
        source_tag(ax, sources[0] if len(sources) == 1 else (sorted(sources, key=kind_of)[-1] if sources else None))
        return to_png(fig)


def compare_png(runs: list[tuple[str, list[dict], str]]) -> bytes:
    """Power and cumulative energy over time for a few runs: (label, samples, energy source)."""
    if not runs:
        return message_png("Select two or more runs in the list, then press Compare.")
    colours = (BLUE, VERMILION, GREEN, ORANGE, PURPLE, SKY, GREY)
    with rc_context(MPL_RC):
        fig = new_figure((16, 5.6))
        ax_p, ax_e = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.06, right=0.98, top=0.86, bottom=0.14, wspace=0.22)
        for i, (label, samples, _source) in enumerate(runs):
            t = np.array([s["t_s"] for s in samples], dtype=float)
            p = np.array([np.nan if s["power_w"] is None else s["power_w"] for s in samples], dtype=float)
            e = np.array([s["energy_j"] for s in samples], dtype=float)
            c = colours[i % len(colours)]
            ax_p.plot(t, p, color=c, label=label)
            ax_e.plot(t, e, color=c, label=label)
        for ax, title, ylabel in ((ax_p, "Power", "power (W)"), (ax_e, "Energy so far", "energy (J)")):
            ax.set_title(title, loc="left")
            ax.set_xlabel("time (s)")
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            sources = sorted({src for _, _, src in runs if src}, key=kind_of)
            source_tag(ax, sources[-1] if sources else None)
        ax_e.legend(loc="upper left", frameon=False)
        return to_png(fig)


# -- energy model explorer --------------------------------------------------------------------
def model_vs_measured_png(records: list[dict], consistent: list[float] | None, seed: list[float],
                          measured_source: str) -> bytes:
    """Measured energy of ledger runs (x) against what each model gives (y), log–log, y = x line."""
    if not records:
        return message_png("No finished runs with energy in the ledger yet: run a few in the Live run tab "
                           "(vary steps, parallelism and the temperature band) to fit the consistent model.",
                           (8.4, 2.4))
    m = np.array([r["energy_j"] for r in records], dtype=float)
    with rc_context(MPL_RC):
        fig = new_figure((10.5, 7.2))
        ax = fig.subplots()
        fig.subplots_adjust(left=0.14, right=0.97, top=0.86, bottom=0.12)
        if consistent is not None:
            ax.scatter(m, consistent, s=110, color=GREEN, edgecolor="black", zorder=3,
                       label="consistent model (MODELLED: fit)")
        ax.scatter(m, np.maximum(seed, 1e-30), s=110, marker="s", color=PURPLE, edgecolor="black", zorder=3,
                   label="seed E3 as written (MODELLED: seed)")
        ys = np.concatenate([m, np.asarray(consistent if consistent is not None else [], dtype=float),
                             np.asarray(seed, dtype=float)])
        ys = ys[np.isfinite(ys) & (ys > 0)]
        lo, hi = ys.min() / 3, ys.max() * 3
        ax.plot([lo, hi], [lo, hi], color=GREY, ls="--", lw=1.8, label="model = measurement")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("energy of the run, from the meter (J)")
        ax.set_ylabel("energy the model gives (J)")
        ax.set_title(f"Models against the ledger's {len(records)} runs", loc="left")
        ax.legend(loc="upper left", frameon=False)
        source_tag(ax, measured_source or None)
        return to_png(fig)


# -- formula explorer -------------------------------------------------------------------------
class FormulaFigure:
    """Four panels: F1 sigmoid and F3 per-sample loss at z; the F3 loss over F4/F5 steps; the
    data with the decision boundary at a step; the path of θ over the loss surface.

    set_fit() (new η, λ or number of steps) redraws everything; png(step, z) only moves the
    step's markers, boundary and path (blitted), so stepping or playing is quick.
    """

    def __init__(self):
        with rc_context(MPL_RC):
            self.fig = new_figure((17.5, 9.6))
            (self.a1, self.a2), (self.a3, self.a4) = self.fig.subplots(2, 2)
            self.fig.subplots_adjust(left=0.06, right=0.98, top=0.95, bottom=0.07, wspace=0.2, hspace=0.38)
        self._bg = None
        self._key = None

    def set_fit(self, X: np.ndarray, y: np.ndarray, thetas: np.ndarray, losses: np.ndarray,
                losses_no_decay: np.ndarray | None, lr: float, weight_decay: float) -> None:
        self.X, self.y, self.thetas, self.losses = X, y, thetas, losses
        self.losses_no_decay, self.lr, self.weight_decay = losses_no_decay, lr, weight_decay
        self._key = None

    def _draw_static(self, z: float) -> None:
        from workbench.formulas import log_sigmoid, sigmoid
        X, y, thetas, losses = self.X, self.y, self.thetas, self.losses
        fs = MPL_RC["font.size"]
        for ax in (self.a1, self.a2, self.a3, self.a4):
            ax.clear()
        a1, a2, a3, a4 = self.a1, self.a2, self.a3, self.a4
        zs = np.linspace(-8, 8, 400)
        a1.plot(zs, sigmoid(zs), color=BLUE)
        a1.plot(zs, -np.log(np.clip(sigmoid(zs), 1e-300, 1)), color=GREEN)
        a1.plot(zs, -np.log(np.clip(1 - sigmoid(zs), 1e-300, 1)), color=VERMILION)
        a1.text(7.8, 1.12, "F1  σ(z) = 1 / (1 + e^(−z))", color=BLUE, ha="right", va="bottom", fontsize=fs - 1)
        a1.text(-7.8, 2.6, "F3 loss if y = 1:\n−log σ(z)", color=GREEN, ha="left", va="top", fontsize=fs - 1)
        a1.text(7.8, 2.6, "F3 loss if y = 0:\n−log(1 − σ(z))", color=VERMILION, ha="right", va="top", fontsize=fs - 1)
        pz = float(sigmoid(z))
        a1.plot([z], [pz], "o", color=BLUE, ms=12)
        a1.annotate(f"σ({z:g}) = {pz:.3f}", (z, pz), xytext=(10, -26), textcoords="offset points", fontsize=fs - 1)
        a1.set_ylim(-0.1, 4)
        a1.set_xlim(-8, 8)
        a1.set_xlabel("z = x·θ (logit)")
        a1.set_ylabel("probability / loss (nats)")
        a1.set_title("Sigmoid and cross-entropy", loc="left")

        steps = np.arange(len(losses))
        if self.losses_no_decay is not None:
            a2.plot(steps, self.losses_no_decay, color=GREY, ls="--", label="same η, λ = 0")
        a2.plot(steps, losses, color=PURPLE, label=f"η = {self.lr:.3g}, λ = {self.weight_decay:g}")
        a2.set_xlabel("gradient step")
        a2.set_ylabel("F3 loss J(θ) (nats)")
        a2.set_title("Loss over the steps", loc="left")
        a2.legend(loc="upper right", frameon=False)

        pos, neg = y == 1, y == 0
        a3.scatter(X[pos, 0], X[pos, 1], marker="o", s=60, color=BLUE, edgecolor="black", label="y = 1")
        a3.scatter(X[neg, 0], X[neg, 1], marker="^", s=60, color=ORANGE, edgecolor="black", label="y = 0")
        self.xlim = np.array([X[:, 0].min() - 0.5, X[:, 0].max() + 3.4])   # room on the right for the legend
        th = thetas[-1]
        if abs(th[1]) > 1e-9:
            a3.plot(self.xlim, -(th[0] * self.xlim + th[2]) / th[1], lw=2.2, color=GREY, ls=":",
                    label="boundary at the last step")
        a3.plot([], [], color=VERMILION, lw=2.6, label="boundary at the step shown")
        a3.set_xlim(*self.xlim)
        a3.set_ylim(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5)
        a3.set_xlabel("feature x₁")
        a3.set_ylabel("feature x₂")
        a3.set_title("Data and decision boundary σ(x·θ) = 0.5", loc="left")
        a3.legend(loc="center right", frameon=False, fontsize=fs - 3)

        t1 = np.linspace(min(-0.5, thetas[:, 0].min() - 0.5), max(3.0, thetas[:, 0].max() + 0.5), 60)
        t2 = np.linspace(min(-2.5, thetas[:, 1].min() - 0.5), max(1.0, thetas[:, 1].max() + 0.5), 60)
        T1, T2 = np.meshgrid(t1, t2)
        grid = np.stack([T1.ravel(), T2.ravel(), np.full(T1.size, thetas[-1, 2])], axis=1)    # (3600, 3)
        Z = X @ grid.T                                                                         # (m, 3600)
        J = -(y[:, None] * log_sigmoid(Z) + (1 - y[:, None]) * log_sigmoid(-Z)).mean(axis=0).reshape(T1.shape)
        cs = a4.contour(T1, T2, J, levels=14, cmap="Greys", linewidths=1.2)
        a4.clabel(cs, fontsize=fs - 5, fmt="%.2f")
        a4.plot(thetas[:, 0], thetas[:, 1], ":", color=GREY, lw=1.6)
        a4.plot(thetas[0, 0], thetas[0, 1], "s", color="black", ms=9)
        a4.annotate("start θ₀", (thetas[0, 0], thetas[0, 1]), xytext=(-12, 10), textcoords="offset points",
                    ha="right", fontsize=fs - 1)
        a4.set_xlabel("θ₁")
        a4.set_ylabel("θ₂")
        a4.set_title(f"Path of θ over the loss J (bias at its last value {thetas[-1, 2]:.2f})", loc="left")
        # the moving parts, drawn per frame
        self.m_loss, = a2.plot([], [], "o", color=PURPLE, ms=12, animated=True)
        self.t_loss = a2.text(0.02, 0.04, "", transform=a2.transAxes, fontsize=fs, animated=True)
        self.l_bound, = a3.plot([], [], color=VERMILION, lw=2.6, animated=True)
        self.l_path, = a4.plot([], [], "-", color=VERMILION, lw=2.4, animated=True)
        self.m_path, = a4.plot([], [], "o", color=VERMILION, ms=12, animated=True)
        self.fig.canvas.draw()
        self._bg = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def png(self, step: int, z: float) -> bytes:
        with rc_context(MPL_RC):
            key = (round(float(z), 6),)
            if key != self._key:
                self._draw_static(z)
                self._key = key
            else:
                self.fig.canvas.restore_region(self._bg)
            k = int(min(max(step, 0), len(self.thetas) - 1))
            th = self.thetas[k]
            self.m_loss.set_data([k], [self.losses[k]])
            self.t_loss.set_text(f"step {k}: J = {self.losses[k]:.4f} nats")
            if abs(th[1]) > 1e-9:
                self.l_bound.set_data(self.xlim, -(th[0] * self.xlim + th[2]) / th[1])
            else:
                self.l_bound.set_data([], [])
            self.l_path.set_data(self.thetas[: k + 1, 0], self.thetas[: k + 1, 1])
            self.m_path.set_data([th[0]], [th[1]])
            for art in (self.m_loss, self.t_loss, self.l_bound, self.l_path, self.m_path):
                art.axes.draw_artist(art)
            return encode_rgba(self.fig)
