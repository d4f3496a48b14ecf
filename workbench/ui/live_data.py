"""What a live run has produced so far, filled from the engine's threads, read by the renderer.

    sampler thread ──add_sample(Sample)──►  LiveData  ──snapshot()──► renderer thread ─► PNG
    work thread ────add_progress(dict)───►  (a lock, a version counter)

No widgets here: the buffer is plain data, testable alone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LiveSnapshot:
    """A consistent copy of the run so far. Arrays are float64 (NaN where a value is missing)."""

    t_s: np.ndarray          # (n,) seconds since the sampler started
    power_w: np.ndarray      # (n,) W
    energy_j: np.ndarray     # (n,) J since start
    temp_c: np.ndarray       # (n,) °C
    work: np.ndarray         # (n,) tokens done so far
    paused: np.ndarray       # (n,) bool: the governor held the work
    source: str              # energy/power label of the latest sample
    temp_source: str         # temperature label of the latest sample
    steps: np.ndarray        # (k,) optimisation step of each progress report
    metrics: dict            # name -> (k,) array, e.g. loss, accuracy
    step: int                # latest step
    total_steps: int         # steps asked for
    version: int             # increases with every change

    @property
    def n(self) -> int:
        return len(self.t_s)

    @property
    def eta_tokens_per_j(self) -> np.ndarray:
        """(n,) tokens per joule so far (NaN until energy > 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.energy_j > 0, self.work / self.energy_j, np.nan)


def _f(x) -> float:
    return np.nan if x is None else float(x)


@dataclass
class LiveData:
    """Thread-safe accumulator of samples and progress reports for one run."""

    total_steps: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    changed: threading.Event = field(default_factory=threading.Event, repr=False)   # set on every change

    def __post_init__(self):
        self.clear(self.total_steps)

    def clear(self, total_steps: int = 0) -> None:
        with self._lock:
            self.total_steps = total_steps
            self._rows: list[tuple] = []          # (t, P, E, T, work, paused)
            self._source, self._temp_source = "", ""
            self._steps: list[int] = []
            self._metrics: dict[str, list[float]] = {}
            self._version = getattr(self, "_version", 0) + 1
        self.changed.set()

    @property
    def version(self) -> int:
        return self._version

    def add_sample(self, s) -> None:
        """Called from the sampler thread with a workbench.energy.sampler.Sample."""
        row = (float(s.t_s), _f(s.power_w), float(s.energy_j), _f(s.temp_c), _f(s.work), bool(s.paused))
        with self._lock:
            self._rows.append(row)
            self._source = s.source or self._source
            self._temp_source = s.temp_source or self._temp_source
            self._version += 1
        self.changed.set()

    def add_progress(self, p: dict) -> None:
        """Called from the work thread with {step, steps, loss, accuracy, ...}."""
        with self._lock:
            step = int(p.get("step", len(self._steps) + 1))
            if p.get("steps"):
                self.total_steps = int(p["steps"])
            k = len(self._steps)
            self._steps.append(step)
            for name, value in p.items():
                if name in ("step", "steps") or not isinstance(value, (int, float)):
                    continue
                column = self._metrics.setdefault(name, [np.nan] * k)   # late metric: pad
                column.append(float(value))
            for column in self._metrics.values():
                if len(column) < k + 1:
                    column.append(np.nan)
            self._version += 1
        self.changed.set()

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            rows = np.array(self._rows, dtype=np.float64).reshape(-1, 6)    # (n, 6)
            return LiveSnapshot(
                t_s=rows[:, 0], power_w=rows[:, 1], energy_j=rows[:, 2], temp_c=rows[:, 3],
                work=rows[:, 4], paused=rows[:, 5].astype(bool), source=self._source,
                temp_source=self._temp_source, steps=np.array(self._steps, dtype=np.float64),
                metrics={k: np.array(v) for k, v in self._metrics.items()},
                step=self._steps[-1] if self._steps else 0, total_steps=self.total_steps,
                version=self._version)
