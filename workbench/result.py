"""What one run produced: timings, work, quality, energy with its source, and where it ran."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field


@dataclass
class Result:
    """One run. Energy figures carry their source label (measured:/estimated:/modelled:)."""

    run_id: str
    settings: dict                      # Settings.to_dict()
    started_at: str                     # ISO 8601, UTC
    status: str = "ok"                  # ok | stopped | failed
    duration_s: float = 0.0             # wall-clock of the whole run
    paused_s: float = 0.0               # time the thermal governor held the work
    flops: float = 0.0                  # work, counted analytically (forward + backward)
    tokens: int = 0                     # tokens processed (training + evaluation)
    items: int = 0                      # sequences or sentences
    params: int = 0                     # parameters of the model that ran
    quality: dict = field(default_factory=dict)     # perplexity, optimal_perplexity, cosine_mean, ...
    energy_j: float | None = None       # energy of the run, all its processes (J)
    energy_source: str = ""             # e.g. estimated:cpu-time
    energy_detail: str = ""             # how the figure was obtained: formula and inputs
    energy_paused_j: float = 0.0        # energy spent while the governor held the work (J)
    mean_power_w: float | None = None   # energy_j / duration_s (W)
    peak_temp_c: float | None = None    # hottest temperature seen (°C)
    temp_source: str = ""               # e.g. modelled:thermal-rc
    eta_flop_per_j: float | None = None     # η measured: FLOP per joule
    eta_tokens_per_j: float | None = None   # tokens per joule
    eta_seed: float | None = None       # η by the seed model E4 with this run's C, W and limits (modelled:seed-e4)
    co2_g: float | None = None          # energy × PUE × grid intensity (g)
    source_changes: list = field(default_factory=list)   # [{t_s, from, to, why}]
    windows: list = field(default_factory=list)          # named measurement windows
    notes: list = field(default_factory=list)            # one line each (compression, fallbacks...)
    compression: dict = field(default_factory=dict)
    history: list = field(default_factory=list)          # per-step metrics
    samples: list = field(default_factory=list)          # sampler records as dicts
    hardware: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    error: str = ""

    def to_dict(self, samples: bool = True) -> dict:
        d = asdict(self)
        if not samples:
            d.pop("samples")
            d.pop("history")
        return _finite(d)

    def to_json(self, samples: bool = True, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(samples), indent=indent)

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    def summary(self) -> str:
        """A few human lines: what ran, how long, how much energy (with source), what quality."""
        s = self.settings
        lines = [f"run {self.run_id}: {s['workload']} · bits {s['bits']} · prune {s['prune_ratio']} "
                 f"({s['prune_kind']}) · parallelism {s['parallelism']} · {self.status}"]
        lines.append(f"  time      {self.duration_s:.2f} s (paused {self.paused_s:.2f} s)  ·  {self.tokens:,} tokens  ·  {self.flops:.3g} FLOP")
        if self.energy_j is not None:
            src = self.energy_source.upper()
            lines.append(f"  energy    {self.energy_j:.2f} J, mean {self.mean_power_w or 0:.1f} W [{src}]")
            lines.append(f"            {self.energy_detail}")
            lines.append(f"  CO2       {self.co2_g or 0:.4f} g [MODELLED: energy × PUE {s.get('pue', 1.0):g} × "
                         f"{s.get('grid_g_per_kwh', 400.0):g} g/kWh]")
        if self.eta_flop_per_j:
            lines.append(f"  η         {self.eta_flop_per_j:.3g} FLOP/J  ·  {self.eta_tokens_per_j:.3g} tokens/J "
                         f"[{self.energy_source.upper()} energy]")
            if self.eta_seed is not None:
                lines.append(f"  η seed E4 {self.eta_seed:.4g} [MODELLED:SEED-E4, the seed's formula with this run's C, W, L]")
        if self.peak_temp_c is not None:
            lines.append(f"  temp      peak {self.peak_temp_c:.1f} °C [{self.temp_source.upper()}]  limits "
                         f"{s['t_min_c']}–{s['t_max_c']} °C")
        if self.quality:
            lines.append("  quality   " + "  ·  ".join(f"{k} {_fmt(v)}" for k, v in self.quality.items()))
        lines += [f"  note      {n}" for n in self.notes]
        if self.error:
            lines.append(f"  error     {self.error}")
        return "\n".join(lines)


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _finite(obj):
    """JSON has no NaN/inf: turn them into None so every consumer can parse the Result."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
