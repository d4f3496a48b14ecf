"""Small matplotlib figures for the lesson notebooks (no widgets: those live in workbench.ui).

Every figure that shows energy, power or temperature puts the figure's source label
(measured:/estimated:/modelled:) in its axis label or legend, so a projected plot never
passes off an estimate as a measurement. Each function returns the matplotlib Figure (closed, so a notebook shows it once: as the value
of the cell).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, legend: bool = True):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig


def curves(x: Sequence[float], ys: Mapping[str, Sequence[float]], title: str = "", xlabel: str = "x",
           ylabel: str = "y", logy: bool = False, hlines: Mapping[str, float] | None = None):
    """One line per entry of ys (label -> values over x); hlines draws labelled reference levels."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, y in ys.items():
        ax.plot(list(x), list(y), label=label)
    for label, level in (hlines or {}).items():
        ax.axhline(level, linestyle="--", color="grey", linewidth=1)
        ax.annotate(label, (ax.get_xlim()[0], level), textcoords="offset points", xytext=(4, 3), fontsize=8)
    if logy:
        ax.set_yscale("log")
    return _finish(fig, ax, title, xlabel, ylabel)


def history(results: Mapping[str, object], key: str = "loss", title: str = "", hline: float | None = None,
            hline_label: str = ""):
    """A per-step metric of one or more runs (label -> Result), e.g. the training loss."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, res in results.items():
        pts = [(h["step"], h[key]) for h in res.history if key in h and h[key] is not None]
        if pts:
            ax.plot(*zip(*pts), label=label)
    if hline is not None:
        ax.axhline(hline, linestyle="--", color="grey", label=hline_label or None)
    return _finish(fig, ax, title or f"{key} per step", "step", key)


def samples(result, title: str = ""):
    """Power and temperature over one run's time, each axis labelled with its source."""
    rows = result.samples
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    t = [r["t_s"] for r in rows if r.get("power_w") is not None]
    p = [r["power_w"] for r in rows if r.get("power_w") is not None]
    ax.plot(t, p, color="tab:blue", label=f"power [{result.energy_source}]")
    ax.set_ylabel(f"power (W) [{result.energy_source}]", color="tab:blue")
    temps = [(r["t_s"], r["temp_c"]) for r in rows if r.get("temp_c") is not None]
    if temps:
        ax2 = ax.twinx()
        ax2.plot(*zip(*temps), color="tab:red")
        ax2.set_ylabel(f"temperature (°C) [{result.temp_source}]", color="tab:red")
        for label, level in (("t_max", result.settings["t_max_c"]), ("t_min", result.settings["t_min_c"])):
            ax2.axhline(level, color="tab:red", linestyle=":", linewidth=1)
            ax2.annotate(label, (0, level), textcoords="offset points", xytext=(2, 2), fontsize=8, color="tab:red")
    paused = [r["t_s"] for r in rows if r.get("paused")]
    if paused:
        ax.scatter(paused, [0] * len(paused), marker="|", color="black", label="governor paused")
    return _finish(fig, ax, title or f"run {result.run_id}", "time (s)", ax.get_ylabel())


def bars(labels: Sequence[str], values: Sequence[float], title: str = "", ylabel: str = "",
         reference: float | None = None, reference_label: str = ""):
    """A bar per label, with an optional dashed reference level (e.g. 1.0 for 'no change')."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.bar(list(labels), list(values), color="tab:green")
    for i, v in enumerate(values):
        ax.annotate(f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=8)
    if reference is not None:
        ax.axhline(reference, linestyle="--", color="grey", label=reference_label or None)
    ax.tick_params(axis="x", labelrotation=20)
    return _finish(fig, ax, title, "", ylabel)


def scatter(points: Mapping[str, tuple[float, float]], title: str = "", xlabel: str = "", ylabel: str = "",
            connect: bool = False):
    """Labelled points (label -> (x, y)), e.g. the energy/time trade-off of several settings."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    xs, ys = zip(*points.values()) if points else ((), ())
    if connect:
        ax.plot(xs, ys, color="lightgrey", zorder=0)
    ax.scatter(xs, ys, color="tab:purple")
    for label, (x, y) in points.items():
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    return _finish(fig, ax, title, xlabel, ylabel, legend=False)
