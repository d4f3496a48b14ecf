"""The energy side of one run: meter + temperature + governor + sampler, and the figures a
Result gets from them (energy with its source, η measured, η by the seed model, CO₂).

runs.run() owns one EnergySession per run; the workload sees it only through RunContext
(add_work, window, and the checkpoint that waits while the governor holds the work).
"""
from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Callable

from workbench.energy.co2 import co2_grams
from workbench.energy.sampler import Sample, Sampler
from workbench.energy.seed_model import SeedInputs, seed_model
from workbench.energy.select import make_meter, make_temperature
from workbench.energy.thermal import Governor
from workbench.settings import Settings

SEED_K = 0.1   # the seed example's cooling coefficient, used for η by the seed model


class EnergySession:
    def __init__(self, settings: Settings, on_sample: Callable[[Sample], None] | None = None):
        self.settings = settings
        self.tokens = 0
        self.flops = 0.0
        self._lock = threading.Lock()
        self.on_pause_change: Callable[[bool], None] | None = None   # set by the parallel launcher
        meter = make_meter(settings.meter, settings.device, core_watts=settings.core_watts)
        temperature, temp_reasons = make_temperature(settings.device)
        self.governor = Governor(settings.t_min_c, settings.t_max_c)
        self.sampler = Sampler(meter, hz=settings.sample_hz, work_fn=lambda: self.tokens, on_sample=on_sample,
                               temperature=temperature, governor=self.governor,
                               on_pause_change=self._pause_changed, reasons=meter.reasons + temp_reasons)

    def _pause_changed(self, paused: bool):
        if self.on_pause_change is not None:
            self.on_pause_change(paused)

    def start(self):
        self.sampler.start()

    def stop(self):
        self.sampler.stop()
        if self.on_pause_change is not None:
            self.on_pause_change(False)   # never leave worker processes stopped

    def add_work(self, tokens: int, flops: float):
        with self._lock:
            self.tokens += tokens
            self.flops += flops

    def window(self, name: str):
        return self.sampler.window(name)

    def wait_while_paused(self, stop_requested: Callable[[], bool]) -> float:
        return self.sampler.wait_while_paused(stop_requested)

    def fill(self, result) -> None:
        """Copy the energy figures into a Result, each with its source label."""
        s = self.sampler.summary()
        result.energy_j, result.energy_source, result.energy_detail = s.energy_j, s.energy_source, s.energy_detail
        result.mean_power_w = s.energy_j / result.duration_s if result.duration_s > 0 else None
        result.peak_temp_c, result.temp_source = s.peak_temp_c, s.temp_source or ""
        result.paused_s, result.energy_paused_j = s.paused_s, s.energy_paused_j
        result.source_changes = s.source_changes
        result.notes = list(dict.fromkeys(list(result.notes) + s.reasons + s.flags))
        if s.paused_s > 0:
            result.notes.append(f"the governor paused the work {len(self.governor.intervals)} time(s), "
                                f"{s.paused_s:.1f} s in all, above t_max {self.settings.t_max_c:g} °C "
                                f"until below t_min {self.settings.t_min_c:g} °C ({s.temp_source})")
        result.notes += self.governor.gave_up
        result.samples = [asdict(x) for x in self.sampler.samples]
        result.windows = [asdict(w) for w in self.sampler.windows]
        if s.energy_j > 0:
            flops = result.flops or self.flops
            result.eta_flop_per_j = flops / s.energy_j
            result.eta_tokens_per_j = result.tokens / s.energy_j
            result.co2_g = co2_grams(s.energy_j, self.settings.grid_g_per_kwh, self.settings.pue)
            result.eta_seed = seed_eta_for_run(flops, result.duration_s, result.eta_flop_per_j, self.settings)


def seed_eta_for_run(flops: float, duration_s: float, eta_flop_per_j: float, settings: Settings) -> float | None:
    """η of seed E4 with this run's numbers: C = FLOP/s, W = s, L = the measured FLOP/J,
    K = the seed's 0.1 and the run's temperature limits (modelled:seed-e4). It is shown beside
    η measured so the learner sees that the seed formula does not give an efficiency."""
    if duration_s <= 0 or flops <= 0:
        return None
    inputs = SeedInputs(C=flops / duration_s, W=duration_s, L=eta_flop_per_j, K=SEED_K,
                        t_max_c=settings.t_max_c, t_min_c=settings.t_min_c)
    return seed_model(inputs).eta
