"""The one small interface every energy meter implements, and the labels figures carry.

A source label says where a figure comes from:
  measured:nvml, measured:rapl      a hardware counter
  estimated:cpu-time                a stated model from measured quantities
  modelled:<name>                   a formula (e.g. modelled:thermal-rc, modelled:seed-e1)
The kind (MEASURED / ESTIMATED / MODELLED) is the part before the colon, upper-cased.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

KIND_RANK = {"MEASURED": 0, "ESTIMATED": 1, "MODELLED": 2}  # lower = stronger evidence


def source_kind(source: str) -> str:
    """'measured:nvml' -> 'MEASURED'."""
    return source.split(":", 1)[0].upper()


def weakest_source(sources: list[str]) -> str:
    """The label a figure built from several sources must carry: the weakest kind wins.

    A total that is part measured, part estimated is an estimate.
    """
    return max(sources, key=lambda s: KIND_RANK.get(source_kind(s), len(KIND_RANK)))


@dataclass(frozen=True)
class Reading:
    """What a meter says at one instant, cumulative since its start()."""

    t_s: float                 # seconds since start() (monotonic clock)
    energy_j: float            # joules since start()
    power_w: float | None      # mean power since the previous reading (W), None before the second
    temp_c: float | None       # device temperature (°C) if the meter has a sensor, else None
    source: str                # label of energy_j / power_w, e.g. 'measured:rapl'
    temp_source: str | None = None  # label of temp_c, e.g. 'measured:nvml'


class Meter:
    """Base class. Subclasses set `source` and `detail` and implement `_energy_j`.

    The base read() turns the subclass's cumulative `_energy_j()` (J since `_begin()`) into a
    Reading, with power = energy difference / time difference since the previous read().
    Subclasses may override `_power_w` (e.g. NVML's own power figure) and `_temp_c`.
    Meters are not thread-safe: the Sampler serialises calls to read().
    """

    source: str = "unknown"
    detail: str = ""           # one line: how the figure is obtained (formula, inputs, their origin)
    temp_source: str | None = None
    flags: tuple[str, ...] = ()  # one-line caveats that apply to every figure of this meter
    update_period_s: float = 0.0  # how often the underlying counter changes (0 = continuous)
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def start(self) -> None:
        """Zero the meter: later readings count from here."""
        self._begin()
        self._t0 = self.clock()
        self._prev: tuple[float, float] | None = None

    def read(self) -> Reading:
        """Cumulative reading since start(). May raise MeterError if the sensor fails."""
        energy_j = self._energy_j()
        t_s = self.clock() - self._t0  # after the read: a slow read must not inflate power
        power_w = self._power_w(t_s, energy_j)
        self._prev = (t_s, energy_j)
        temp_c = self._temp_c()
        return Reading(t_s, energy_j, power_w, temp_c, self.source,
                       self.temp_source if temp_c is not None else None)

    def close(self) -> None:
        pass

    # -- what subclasses fill in ----------------------------------------------------------
    def _begin(self) -> None:
        """Take the baseline of the underlying counter."""

    def _energy_j(self) -> float:
        raise NotImplementedError

    def _power_w(self, t_s: float, energy_j: float) -> float | None:
        if self._prev is None or t_s <= self._prev[0]:
            return None
        return (energy_j - self._prev[1]) / (t_s - self._prev[0])

    def _temp_c(self) -> float | None:
        return None
