"""One Settings type drives the CLI, the app, the lessons and the tests.

Settings are validated on construction (a bad value raises SettingsError with one line naming
the valid values) and serialise to a plain dict / JSON / URL query so a teacher can share them.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from urllib.parse import parse_qsl, urlencode

from workbench.errors import SettingsError

WORKLOADS = ("mlp", "lstm", "gpt", "bert", "bert-distill", "lstm-distill")
PRUNE_KINDS = ("unstructured", "global", "heads", "neurons")
QUANT_GRANULARITIES = ("per-channel", "per-tensor")
TOKENIZERS = ("word", "char")
METERS = ("auto", "nvml", "rapl", "estimated")


@dataclass(frozen=True)
class Settings:
    """Everything one run needs. Units are in the field names (_c: °C, _hz: Hz, _w: W)."""

    workload: str = "lstm"           # one of WORKLOADS
    bits: int = 32                   # weight precision 1-16, or 32 = none; 8 = real int8 on CPU
    quant_granularity: str = "per-channel"  # scale per output channel or one per tensor
    smooth_alpha: float = 0.0        # SmoothQuant strength before real int8, 0-1 (0 = off)
    prune_ratio: float = 0.0         # fraction of weights (or heads/neurons) removed, in [0, 1)
    prune_kind: str = "unstructured"  # unstructured (per layer), global, heads, neurons
    parallelism: int = 1             # data-parallel worker processes (torch.distributed)
    t_min_c: float = 60.0            # governor resumes work below this temperature (°C)
    t_max_c: float = 85.0            # governor pauses work above this temperature (°C)
    device: str = "cpu"              # "cpu", "cuda" or "cuda:N"
    steps: int = 200                 # optimisation steps (training) or batches (inference)
    seed: int = 0                    # random seed for data, init and sampling
    tiny: bool = False               # smallest model and data: seconds, for tests and lessons
    corpus: str = ""                 # path to a UTF-8 text file; "" = built-in grammar
    tokenizer: str = "word"          # word or char tokens for a user corpus
    batch_size: int = 32             # sequences per step
    lr: float = 0.0                  # learning rate; 0 = the workload's default
    model_path: str = ""             # BERT folder; "" = packaged all-MiniLM-L6-v2
    meter: str = "auto"              # auto, nvml, rapl or estimated
    sample_hz: float = 10.0          # sampler rate (Hz)
    core_watts: float = 0.0          # per-core power for the estimate (W); 0 = from CPU table
    grid_g_per_kwh: float = 400.0    # grid carbon intensity (g CO2 per kWh)
    pue: float = 1.0                 # data-centre power usage effectiveness (>= 1)

    def __post_init__(self):
        validate(self)

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(known)}")
        return cls(**{k: _coerce(known[k].type, k, v) for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"settings are not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict):
            raise SettingsError("settings JSON must be an object of name: value")
        return cls.from_dict(data)

    def to_query(self) -> str:
        """URL query holding only the settings that differ from the defaults."""
        default = Settings()
        diff = {k: v for k, v in self.to_dict().items() if getattr(default, k) != v}
        return urlencode(diff)

    @classmethod
    def from_query(cls, query: str) -> "Settings":
        return cls.from_dict(dict(parse_qsl(query.lstrip("?"))))

    def replace(self, **changes) -> "Settings":
        return Settings.from_dict({**self.to_dict(), **changes})


def _coerce(type_name, name: str, value):
    """Turn strings (CLI, URL) into the field's type; reject what cannot be converted."""
    type_name = type_name if isinstance(type_name, str) else type_name.__name__
    try:
        if type_name == "bool":
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off", ""):
                    return False
                raise ValueError
            return bool(value)
        if type_name == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if type_name == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be of type {type_name}, got {value!r}") from None


def _check(ok: bool, message: str):
    if not ok:
        raise SettingsError(message)


def _choice(name: str, value: str, choices: tuple[str, ...]):
    _check(value in choices, f"{name} {value!r} is not valid; choose one of {', '.join(choices)}")


def _finite(name: str, value: float):
    _check(isinstance(value, (int, float)) and math.isfinite(value), f"{name} must be a finite number, got {value!r}")


def validate(s: Settings) -> None:
    """Raise SettingsError (one line, naming valid values) if any setting is invalid."""
    _choice("workload", s.workload, WORKLOADS)
    _choice("prune_kind", s.prune_kind, PRUNE_KINDS)
    _choice("quant_granularity", s.quant_granularity, QUANT_GRANULARITIES)
    _choice("tokenizer", s.tokenizer, TOKENIZERS)
    _choice("meter", s.meter, METERS)
    for name in ("smooth_alpha", "prune_ratio", "t_min_c", "t_max_c", "lr", "sample_hz", "core_watts", "grid_g_per_kwh", "pue"):
        _finite(name, getattr(s, name))
    _check(isinstance(s.bits, int) and (1 <= s.bits <= 16 or s.bits == 32),
           f"bits must be an integer from 1 to 16, or 32 for full precision; got {s.bits!r}")
    _check(0.0 <= s.smooth_alpha <= 1.0, f"smooth_alpha must be in [0, 1] (0 = off), got {s.smooth_alpha!r}")
    _check(0.0 <= s.prune_ratio < 1.0, f"prune_ratio must be in [0, 1), got {s.prune_ratio!r}")
    _check(isinstance(s.parallelism, int) and 1 <= s.parallelism <= 64,
           f"parallelism must be an integer from 1 to 64, got {s.parallelism!r}")
    _check(-50.0 <= s.t_min_c <= 150.0 and -50.0 <= s.t_max_c <= 150.0,
           f"temperature limits must be between -50 and 150 °C, got t_min_c={s.t_min_c}, t_max_c={s.t_max_c}")
    _check(s.t_min_c < s.t_max_c, f"t_min_c must be below t_max_c, got t_min_c={s.t_min_c} >= t_max_c={s.t_max_c}")
    _check(isinstance(s.steps, int) and 1 <= s.steps <= 1_000_000, f"steps must be an integer from 1 to 1000000, got {s.steps!r}")
    _check(isinstance(s.batch_size, int) and 1 <= s.batch_size <= 4096,
           f"batch_size must be an integer from 1 to 4096, got {s.batch_size!r}")
    _check(isinstance(s.seed, int) and s.seed >= 0, f"seed must be a non-negative integer, got {s.seed!r}")
    _check(0.0 <= s.lr <= 10.0, f"lr must be in [0, 10] (0 = default), got {s.lr!r}")
    _check(0.5 <= s.sample_hz <= 100.0, f"sample_hz must be from 0.5 to 100 Hz, got {s.sample_hz!r}")
    _check(0.0 <= s.core_watts <= 1000.0, f"core_watts must be from 0 to 1000 W (0 = from CPU table), got {s.core_watts!r}")
    _check(0.0 <= s.grid_g_per_kwh <= 2000.0, f"grid_g_per_kwh must be from 0 to 2000, got {s.grid_g_per_kwh!r}")
    _check(1.0 <= s.pue <= 5.0, f"pue must be from 1.0 to 5.0, got {s.pue!r}")
    _check(s.device == "cpu" or s.device == "cuda" or (s.device.startswith("cuda:") and s.device[5:].isdigit()),
           f"device {s.device!r} is not valid; choose cpu, cuda or cuda:N")
