"""A background thread that samples a meter (and a temperature) at a fixed rate.

    meter.read() ──► Sample(t, P, E, T, work, source, temp_source, paused) ──► on_sample(...)
                          │                        │
                          │                        └─► Governor: pause above t_max, resume below t_min
                          └─► named windows: begin_window / end_window read the meter at the edges

The sampler owns the meter's life: start() starts it, stop() takes a last sample and closes it.
Calls to meter.read() are serialised with a lock, so windows may be opened from the work
thread while the sampler thread runs.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from workbench.errors import MeterError
from workbench.energy.meter import Meter, Reading, weakest_source
from workbench.energy.nvml import NVML_UPDATE_PERIOD_S
from workbench.energy.thermal import Governor, TemperatureSource

log = logging.getLogger(__name__)
SHORT_NVML_FLAG = "shorter than NVML's ~100 ms update period: energy may read 0"


@dataclass(frozen=True)
class Sample:
    t_s: float               # seconds since the sampler started
    power_w: float | None    # W (see the meter for how it is obtained)
    energy_j: float          # J since start
    temp_c: float | None     # °C
    work: float | None       # work_fn() at this instant (e.g. tokens done so far)
    source: str              # label of power_w / energy_j
    temp_source: str | None  # label of temp_c
    paused: bool             # the governor holds the work


@dataclass(frozen=True)
class Window:
    name: str
    t0: float                # s since the sampler started
    t1: float
    duration_s: float
    energy_j: float
    flags: tuple[str, ...] = ()
    source: str = ""         # label of energy_j (the weakest if the meter changed inside)


@dataclass
class EnergySummary:
    """What a run's Result copies from its sampler."""

    energy_j: float
    energy_source: str
    energy_detail: str
    mean_power_w: float | None
    peak_temp_c: float | None
    temp_source: str | None
    paused_s: float
    energy_paused_j: float
    source_changes: list[dict] = field(default_factory=list)
    n_samples: int = 0
    duration_s: float = 0.0
    reasons: list[str] = field(default_factory=list)   # one line per fallback (meter, temperature)
    flags: list[str] = field(default_factory=list)     # caveats of the meter used (e.g. NVML's 100 ms)


class Sampler:
    """Samples `meter` at `hz` in a daemon thread; see the module docstring."""

    def __init__(self, meter: Meter, hz: float = 10.0, work_fn: Callable[[], float] | None = None,
                 on_sample: Callable[[Sample], None] | None = None,
                 temperature: TemperatureSource | None = None, governor: Governor | None = None,
                 on_pause_change: Callable[[bool], None] | None = None, reasons: list[str] | None = None):
        if not hz > 0:
            raise MeterError(f"sampler rate must be > 0 Hz, got {hz!r}")
        self.meter, self.period_s = meter, 1.0 / hz
        self.work_fn, self.on_sample = work_fn, on_sample
        self.temperature, self.governor, self.on_pause_change = temperature, governor, on_pause_change
        self.reasons = list(reasons or [])
        self.windows: list[Window] = []
        self.errors: list[str] = []        # one line per kind of failure, logged once
        self.cpu_s = 0.0                   # CPU time the sampler thread itself used (s)
        self.paused_s = 0.0
        self.energy_paused_j = 0.0
        self._samples: list[Sample] = []
        self._open: dict[str, tuple[float, float, str]] = {}  # name -> (t0, E0, source)
        self._lock = threading.Lock()      # guards meter.read() and the lists
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False
        self._temp_sources: list[str] = []

    # -- life -----------------------------------------------------------------------------
    def start(self) -> "Sampler":
        """Start the meter, take the first sample at t = 0, start the thread."""
        self.meter.start()
        self._running = True
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="workbench-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> EnergySummary:
        """Stop the thread (joins within about one period), take a last sample, close the meter."""
        if not self._running:
            return self.summary()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(1.0, 2 * self.period_s))
        try:
            self._sample()
        except Exception as exc:
            self._once(f"sampling failed: {type(exc).__name__}: {exc}", exc)
        finally:
            self._running = False
            self.meter.close()
        return self.summary()

    def _loop(self) -> None:
        cpu0 = time.thread_time()
        next_t = time.monotonic() + self.period_s
        while not self._stop.wait(max(0.0, next_t - time.monotonic())):
            next_t += self.period_s
            if next_t < time.monotonic():  # fell behind (suspended laptop, busy machine): skip
                next_t = time.monotonic() + self.period_s
            try:
                self._sample()
            except Exception as exc:  # the thread must outlive any failure; say it once
                self._once(f"sampling failed: {type(exc).__name__}: {exc}", exc)
            self.cpu_s = time.thread_time() - cpu0

    def _once(self, message: str, exc: BaseException | None = None) -> None:
        key = message.split(":", 1)[0]
        if not any(e.startswith(key) for e in self.errors):
            self.errors.append(message)
            log.warning(message, exc_info=exc)

    # -- one sample -----------------------------------------------------------------------
    def _read(self) -> Reading:
        with self._lock:
            return self.meter.read()

    def _sample(self) -> Sample:
        r = self._read()
        temp_c, temp_source = r.temp_c, r.temp_source
        if temp_c is None and self.temperature is not None:
            temp_c, temp_source = self.temperature.read_c(r.power_w, r.t_s), self.temperature.source
        paused = self._govern(r, temp_c)
        s = Sample(r.t_s, r.power_w, r.energy_j, temp_c, self._work(), r.source,
                   temp_source if temp_c is not None else None, paused)
        with self._lock:
            prev = self._samples[-1] if self._samples else None
            if prev is not None and prev.paused:
                self.paused_s += s.t_s - prev.t_s
                self.energy_paused_j += s.energy_j - prev.energy_j
            self._samples.append(s)
            if s.temp_source and s.temp_source not in self._temp_sources:
                self._temp_sources.append(s.temp_source)
        if self.on_sample is not None:
            try:
                self.on_sample(s)
            except Exception as exc:
                self._once(f"on_sample raised: {type(exc).__name__}: {exc}", exc)
        return s

    def _work(self) -> float | None:
        if self.work_fn is None:
            return None
        try:
            return self.work_fn()
        except Exception as exc:
            self._once(f"work_fn raised: {type(exc).__name__}: {exc}", exc)
            return None

    def _govern(self, r: Reading, temp_c: float | None) -> bool:
        if self.governor is None:
            return False
        was = self.governor.paused
        now = self.governor.update(r.t_s, temp_c)
        if now != was and self.on_pause_change is not None:
            try:
                self.on_pause_change(now)
            except Exception as exc:
                self._once(f"on_pause_change raised: {type(exc).__name__}: {exc}", exc)
        return now

    # -- what others read -----------------------------------------------------------------
    @property
    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    @property
    def source_changes(self) -> list[dict]:
        return list(getattr(self.meter, "source_changes", []))

    @property
    def peak_temp_c(self) -> float | None:
        temps = [s.temp_c for s in self.samples if s.temp_c is not None]
        return max(temps) if temps else None

    @property
    def paused(self) -> bool:
        return self.governor is not None and self.governor.paused

    def wait_while_paused(self, stop_requested: Callable[[], bool] = lambda: False, poll_s: float = 0.05) -> float:
        """Block while the governor says paused; returns the seconds waited (early on stop)."""
        t0 = time.monotonic()
        while self.paused and self._running and not stop_requested():
            time.sleep(poll_s)
        return time.monotonic() - t0

    # -- windows --------------------------------------------------------------------------
    def begin_window(self, name: str) -> None:
        """Open a named window (windows nest; names must be unique while open)."""
        if not self._running:
            raise MeterError("sampler is not running: call start() before opening a window")
        if name in self._open:
            raise MeterError(f"window {name!r} is already open; open windows: {', '.join(self._open)}")
        r = self._read()
        self._open[name] = (r.t_s, r.energy_j, r.source)

    def end_window(self, name: str) -> Window:
        """Close a named window: its duration (s), energy (J) and caveats."""
        if name not in self._open:
            raise MeterError(f"no open window {name!r}; open windows: {', '.join(self._open) or 'none'}")
        r = self._read()
        t0, e0, source0 = self._open.pop(name)
        flags = []
        duration = r.t_s - t0
        if "nvml" in (source0 + r.source) and duration < NVML_UPDATE_PERIOD_S:
            flags.append(SHORT_NVML_FLAG)
        if source0 != r.source:
            flags.append(f"meter changed inside the window: {source0} -> {r.source}")
        w = Window(name, t0, r.t_s, duration, r.energy_j - e0, tuple(flags), weakest_source([source0, r.source]))
        with self._lock:
            self.windows.append(w)
        return w

    @contextmanager
    def window(self, name: str):
        """`with sampler.window("forward"):` ... ; the Window is in sampler.windows afterwards."""
        self.begin_window(name)
        try:
            yield self
        finally:
            self.end_window(name)

    # -- the figure a Result keeps ----------------------------------------------------------
    def summary(self) -> EnergySummary:
        samples = self.samples
        last = samples[-1] if samples else None
        duration = last.t_s if last else 0.0
        energy = last.energy_j if last else 0.0
        sources = [self.meter.source] + [c["from"] for c in self.source_changes]
        temp_source = weakest_source(self._temp_sources) if self._temp_sources else None
        return EnergySummary(
            energy_j=energy,
            energy_source=weakest_source(sources),
            energy_detail=self.meter.detail,
            mean_power_w=energy / duration if duration > 0 else None,
            peak_temp_c=self.peak_temp_c,
            temp_source=temp_source,
            paused_s=self.paused_s,
            energy_paused_j=self.energy_paused_j,
            source_changes=self.source_changes,
            n_samples=len(samples),
            duration_s=duration,
            reasons=list(dict.fromkeys(list(getattr(self.meter, "reasons", [])) + self.reasons)),
            flags=list(getattr(self.meter, "flags", ())),
        )
