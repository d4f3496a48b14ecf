"""The run settings as widgets, and back: Settings <-> controls, with one-line refusals.

The controls hold what the learner chose; `settings()` turns them into a validated Settings
(raising SettingsError with one line) and `show(settings)` puts a Settings back.
"""
from __future__ import annotations

import os

import ipywidgets as widgets

from workbench.settings import PRUNE_KINDS, QUANT_GRANULARITIES, WORKLOADS, Settings

WORKLOAD_LABELS = {
    "mlp": "mlp (toy MLP language model)",
    "lstm": "lstm (LSTM language model)",
    "gpt": "gpt (tiny GPT)",
    "bert": "bert (MiniLM inference)",
    "bert-distill": "bert-distill (MiniLM student)",
    "lstm-distill": "lstm-distill (LSTM student)",
}
LABEL_WIDTH = "9.5em"
BITS_OPTIONS = [(str(b), b) for b in range(1, 17)] + [("32 (fp32)", 32)]


def _style() -> dict:
    return {"description_width": LABEL_WIDTH}


def _layout(width: str = "100%") -> widgets.Layout:
    return widgets.Layout(width=width)


class RunControls:
    """Workload, device, bits, granularity, SmoothQuant α, pruning, parallelism, temperature band, steps."""

    def __init__(self, settings: Settings):
        kw = dict(style=_style(), layout=_layout())
        self.workload = widgets.Dropdown(options=[(WORKLOAD_LABELS.get(w, w), w) for w in WORKLOADS],
                                         description="workload", **kw)
        self.device = widgets.Dropdown(options=[("cpu", "cpu")], description="device", **kw)
        # Settings allow 1–16 bits or 32 (no quantization): the slider offers exactly those.
        self.bits = widgets.SelectionSlider(options=BITS_OPTIONS, value=32, description="bits",
                                            continuous_update=False, **kw)
        self.granularity = widgets.Dropdown(options=list(QUANT_GRANULARITIES), description="granularity", **kw)
        self.smooth = widgets.FloatSlider(min=0.0, max=1.0, step=0.05, description="SmoothQuant α (int8)",
                                          readout_format=".2f", continuous_update=False, **kw)
        self.prune_ratio = widgets.FloatSlider(min=0.0, max=0.95, step=0.05, description="pruning ratio",
                                               readout_format=".2f", continuous_update=False, **kw)
        self.prune_kind = widgets.Dropdown(options=list(PRUNE_KINDS), description="pruning kind", **kw)
        self.parallelism = widgets.IntSlider(min=1, max=max(4, os.cpu_count() or 1), description="parallelism",
                                             continuous_update=False, **kw)
        self.t_min = widgets.FloatSlider(min=0.0, max=120.0, step=1.0, description="t_min (°C)",
                                         readout_format=".0f", continuous_update=False, **kw)
        self.t_max = widgets.FloatSlider(min=0.0, max=120.0, step=1.0, description="t_max (°C)",
                                         readout_format=".0f", continuous_update=False, **kw)
        self.steps = widgets.IntText(description="steps", **kw)
        self.tiny = widgets.Checkbox(description="tiny model (seconds)", indent=True, **kw)
        for name in ("workload", "device", "bits", "granularity", "smooth", "prune_ratio", "prune_kind", "parallelism",
                     "t_min", "t_max", "steps", "tiny"):
            getattr(self, name).add_class(f"wb-{name.replace('_', '-')}")   # stable hooks for browser tests
        self._base = settings
        self.show(settings)

    @property
    def all(self) -> tuple:
        return (self.workload, self.device, self.bits, self.granularity, self.smooth, self.prune_ratio, self.prune_kind,
                self.parallelism, self.t_min, self.t_max, self.steps, self.tiny)

    def observe(self, fn) -> None:
        for w in self.all:
            w.observe(fn, names="value")

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Options as (label, value), e.g. ('cuda:0 · NVIDIA H100', 'cuda:0'); keeps the choice."""
        keep = self.device.value
        self.device.options = devices
        if keep in [v for _, v in devices]:
            self.device.value = keep

    def show(self, s: Settings) -> None:
        """Put a Settings into the controls (values outside a slider's range are clamped)."""
        self._base = s
        if s.device not in [v for _, v in self.device.options]:
            self.device.options = list(self.device.options) + [(s.device, s.device)]
        self.workload.value = s.workload
        self.device.value = s.device
        if s.bits not in [v for _, v in self.bits.options]:   # a value a newer Settings allows
            self.bits.options = sorted(set(self.bits.options) | {(str(s.bits), s.bits)}, key=lambda o: o[1])
        self.bits.value = s.bits
        self.granularity.value = s.quant_granularity
        self.smooth.value = s.smooth_alpha
        self.prune_ratio.value = s.prune_ratio
        self.prune_kind.value = s.prune_kind
        self.parallelism.max = max(self.parallelism.max, s.parallelism)
        self.parallelism.value = s.parallelism
        self.t_min.value, self.t_max.value = s.t_min_c, s.t_max_c
        self.steps.value = s.steps
        self.tiny.value = s.tiny

    def settings(self) -> Settings:
        """The chosen Settings; raises SettingsError (one line) for an impossible combination."""
        return self._base.replace(
            workload=self.workload.value, device=self.device.value, bits=int(self.bits.value),
            quant_granularity=self.granularity.value, smooth_alpha=round(float(self.smooth.value), 4),
            prune_ratio=round(float(self.prune_ratio.value), 4),
            prune_kind=self.prune_kind.value, parallelism=int(self.parallelism.value),
            t_min_c=float(self.t_min.value), t_max_c=float(self.t_max.value), steps=int(self.steps.value),
            tiny=bool(self.tiny.value))

    def disable(self, disabled: bool) -> None:
        for w in self.all:
            w.disabled = disabled

    def panel(self) -> widgets.HBox:
        """Three columns: what runs, how it is compressed, the temperature band."""
        def column(title: str, items: list) -> widgets.VBox:
            return widgets.VBox([widgets.HTML(f"<h2>{title}</h2>"), *items],
                                layout=widgets.Layout(flex="1 1 0", min_width="330px", margin="0 18px 0 0"))
        return widgets.HBox([
            column("What runs", [self.workload, self.device, self.steps, self.parallelism, self.tiny]),
            column("Compression", [self.bits, self.granularity, self.smooth, self.prune_ratio, self.prune_kind]),
            column("Thermal governor", [self.t_min, self.t_max,
                                        widgets.HTML('<div class="wb-sub">The work pauses above t_max and '
                                                     'resumes below t_min.</div>')]),
        ], layout=widgets.Layout(width="100%", flex_flow="row wrap"))
