"""A fixed amount of work under the thermal governor, simulated with the thermal RC model.

Real governed runs on a machine without a temperature sensor use the same ThermalRC and Governor
(workbench.energy.thermal), but wait in real time; this steps them in simulated time so a lesson
can sweep temperature limits in milliseconds. Every figure it returns is MODELLED
(label modelled:thermal-rc), never a measurement.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.energy.thermal import Governor, ThermalRC, ThermalRCConfig

SOURCE = "modelled:thermal-rc"


@dataclass
class GovernedRun:
    """What the simulation gives: totals and the traces (one entry per step)."""

    t_min_c: float
    t_max_c: float
    duration_s: float          # wall time to finish the work (s), pauses included
    paused_s: float            # time the governor held the work (s)
    energy_j: float            # busy_w × working time + idle_w × paused time (J)
    peak_temp_c: float
    source: str = SOURCE
    t_s: list[float] = field(default_factory=list)
    temp_c: list[float] = field(default_factory=list)
    paused: list[bool] = field(default_factory=list)


def simulate(work_s: float, busy_w: float, idle_w: float, t_min_c: float, t_max_c: float,
             config: ThermalRCConfig | None = None, dt_s: float = 0.05, max_s: float = 3600.0) -> GovernedRun:
    """Run `work_s` seconds of work drawing busy_w (W); while paused the device draws idle_w (W).

    The governor sees the modelled temperature every dt_s. Stops at max_s (s) even if the work is
    unfinished, so a band the device cannot cool into (idle temperature above t_min) still ends.
    """
    rc = ThermalRC(config or ThermalRCConfig())
    gov = Governor(t_min_c, t_max_c, max_pause_s=max_s)   # simulated time: no give-up before max_s
    out = GovernedRun(t_min_c, t_max_c, 0.0, 0.0, 0.0, rc.temp_c)
    t = done = 0.0
    while done < work_s and t < max_s:
        paused = gov.update(t, rc.temp_c)
        power = idle_w if paused else busy_w
        rc.step(power, dt_s)
        t += dt_s
        out.energy_j += power * dt_s
        if paused:
            out.paused_s += dt_s
        else:
            done += dt_s
        out.t_s.append(t)
        out.temp_c.append(rc.temp_c)
        out.paused.append(paused)
        out.peak_temp_c = max(out.peak_temp_c, rc.temp_c)
    out.duration_s = t
    return out
