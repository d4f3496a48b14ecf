"""Which meter and which temperature source a run uses: the whole fallback chain lives here.

    auto, device cuda[:N]  NVML                     -> estimated:cpu-time
    auto, device cpu       RAPL                     -> estimated:cpu-time
    nvml / rapl            the one asked for        -> estimated:cpu-time (strict=True: error)
    estimated              estimated:cpu-time

Every meter that cannot be used leaves a one-line reason ending in what was used instead.
The chain is wrapped in a FallbackMeter, which also falls back mid-run: if the active meter's
read() fails, the next one takes over and the cumulative energy continues from where it was.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

from workbench.errors import MeterError
from workbench.energy.estimated import CpuTimeMeter
from workbench.energy.meter import Meter, Reading
from workbench.energy.nvml import NvmlMeter, is_nvml_error
from workbench.energy.rapl import RaplMeter
from workbench.energy.thermal import (HwmonSensor, TemperatureSource, ThermalRC, ThermalRCConfig,
                                      ThermalZoneSensor)

KINDS = ("auto", "nvml", "rapl", "estimated")
log = logging.getLogger(__name__)


def is_meter_failure(exc: BaseException) -> bool:
    """Failures that mean 'this sensor is gone', as opposed to bugs in our code."""
    return isinstance(exc, (MeterError, OSError, ValueError)) or is_nvml_error(exc)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class FallbackMeter(Meter):
    """A chain of meters: the first one works, the others wait to take over if it fails.

    source / detail / flags / update_period_s are the active meter's. `source_changes` lists
    each mid-run switch as {t_s, from, to, why}; `reasons` holds every one-line fallback note
    (at selection and mid-run).
    """

    def __init__(self, meters: list[Meter], reasons: list[str] | None = None):
        if not meters:
            raise MeterError("no meter to use; valid kinds: " + ", ".join(KINDS))
        self.meters = list(meters)
        self.reasons = list(reasons or [])
        self.source_changes: list[dict] = []
        self._i = 0
        self._offset_j = 0.0
        self._last_j = 0.0
        self._t0 = time.monotonic()

    @property
    def active(self) -> Meter:
        return self.meters[self._i]

    source = property(lambda self: self.active.source)
    detail = property(lambda self: self.active.detail)
    temp_source = property(lambda self: self.active.temp_source)
    flags = property(lambda self: tuple(self.active.flags))
    update_period_s = property(lambda self: self.active.update_period_s)

    def start(self) -> None:
        self._t0 = self.clock()
        self._offset_j = self._last_j = 0.0
        try:
            self.active.start()
        except Exception as exc:
            if not is_meter_failure(exc):
                raise
            self._switch(exc)

    def read(self) -> Reading:
        while True:
            try:
                r = self.active.read()
                break
            except Exception as exc:
                if not is_meter_failure(exc):
                    raise
                self._switch(exc)
        self._last_j = self._offset_j + r.energy_j
        return Reading(self.clock() - self._t0, self._last_j, r.power_w, r.temp_c, r.source, r.temp_source)

    def _switch(self, exc: BaseException) -> None:
        """Hand over to the next meter that starts; energy so far becomes its offset."""
        why = _one_line(exc)
        old = self.active.source
        while self._i + 1 < len(self.meters):
            self._close(self.active)
            self._i += 1
            try:
                self.active.start()
            except Exception as exc2:
                if not is_meter_failure(exc2):
                    raise
                why = f"{why}; {self.active.source}: {_one_line(exc2)}"
                continue
            t_s = self.clock() - self._t0
            self._offset_j = self._last_j
            self.source_changes.append({"t_s": t_s, "from": old, "to": self.active.source, "why": why})
            self.reasons.append(f"{why} — switched to {self.active.source} at {t_s:.1f} s")
            log.warning("%s — switched to %s", why, self.active.source)
            return
        raise MeterError(f"every meter failed, last: {why}")

    @staticmethod
    def _close(meter: Meter) -> None:
        try:
            meter.close()
        except Exception as exc:
            if not is_meter_failure(exc):
                raise

    def close(self) -> None:
        for m in self.meters:
            self._close(m)


def _factories(device: str, pids_fn, core_watts: float) -> dict[str, Callable[[], Meter]]:
    gpu = device if device.startswith("cuda") else "cuda"
    return {
        "nvml": lambda: NvmlMeter(gpu),
        "rapl": lambda: RaplMeter(),
        "estimated": lambda: CpuTimeMeter(core_watts=core_watts, pids_fn=pids_fn, device=device),
    }


def meter_chain(kind: str, device: str) -> list[str]:
    """The meter kinds tried, in order, for this kind and device."""
    if kind not in KINDS:
        raise MeterError(f"meter {kind!r} is not valid; choose one of {', '.join(KINDS)}")
    if kind == "auto":
        kind = "nvml" if device.startswith("cuda") else "rapl"
    return [kind] if kind == "estimated" else [kind, "estimated"]


def make_meter(kind: str = "auto", device: str = "cpu", pids_fn: Callable[[], Iterable[int]] | None = None,
               core_watts: float = 0.0, strict: bool = False) -> FallbackMeter:
    """The meter for a run (not started). Reasons for each fallback are in `.reasons`.

    kind: auto | nvml | rapl | estimated. device: cpu | cuda | cuda:N. pids_fn: extra process
    ids (with their children) the CPU-time estimate follows. core_watts: W per core for the
    estimate (0 = from the cpu_power table). strict: a kind named explicitly must work, else
    MeterError (instead of falling back).
    """
    chain = meter_chain(kind, device)
    factories = _factories(device, pids_fn, core_watts)
    meters, failed = [], []
    for name in chain:
        try:
            meters.append(factories[name]())
        except MeterError as exc:
            if strict and kind != "auto" and name == kind:
                raise
            failed.append(_one_line(exc))
    if not meters:
        raise MeterError(f"no meter can be read: {'; '.join(failed)}")
    reasons = [f"{why} — falling back to {meters[0].source}" for why in failed]
    return FallbackMeter(meters, reasons)


def make_temperature(device: str = "cpu", rc: ThermalRCConfig | None = None) -> tuple[TemperatureSource, list[str]]:
    """A temperature source for when the meter's reading has none, and the reasons for it.

    cpu: hwmon, else thermal zone, else the thermal RC model. cuda: the RC model (the GPU's
    own temperature comes with the NVML meter's readings; a CPU sensor would measure the wrong
    chip).
    """
    failed: list[str] = []
    chosen: TemperatureSource | None = None
    if not device.startswith("cuda"):
        for sensor in (HwmonSensor, ThermalZoneSensor):
            try:
                chosen = sensor()
                break
            except MeterError as exc:
                failed.append(_one_line(exc))
    chosen = chosen or ThermalRC(rc)
    return chosen, [f"{'; '.join(failed)} — using {chosen.source}"] if failed else []
