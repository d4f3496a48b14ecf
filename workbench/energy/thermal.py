"""Device temperature (a sensor, or a thermal model where none exists) and the thermal governor.

Sources, each labelled:
  measured:nvml          the GPU's own sensor (hottest GPU)
  measured:hwmon         a CPU sensor chip under /sys/class/hwmon ($WORKBENCH_HWMON_ROOT)
  measured:thermal-zone  /sys/class/thermal/thermal_zone*/temp ($WORKBENCH_THERMAL_ROOT)
  modelled:thermal-rc    a first-order RC model driven by the power figure (see ThermalRC)
The Governor turns a temperature into pause/resume with hysteresis: it pauses above t_max and
resumes only below t_min, so work does not flap around one threshold.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import MeterError, SettingsError

PREFERRED_HWMON = ("k10temp", "coretemp", "zenpower")  # CPU package sensors, most trusted first
CPU_ZONE_TYPES = ("x86_pkg_temp", "cpu", "soc", "acpitz")


class TemperatureSource:
    """Gives a temperature (°C) each time it is asked; `source` labels it."""

    source: str = "unknown"
    detail: str = ""

    def read_c(self, power_w: float | None = None, t_s: float | None = None) -> float | None:
        """Temperature now (°C). power_w (W) and t_s (s since start) feed models; sensors ignore them."""
        raise NotImplementedError


def _millideg(path: Path) -> float:
    try:
        return int(path.read_text().strip()) / 1000.0
    except (OSError, ValueError) as exc:
        raise MeterError(f"temperature: cannot read {path} ({exc})") from None


class HwmonSensor(TemperatureSource):
    """The hottest temp*_input of one hwmon chip, preferring k10temp/coretemp/zenpower."""

    source = "measured:hwmon"

    def __init__(self, root: str | Path | None = None):
        root = Path(root or os.environ.get("WORKBENCH_HWMON_ROOT", "/sys/class/hwmon"))
        chips = []
        for d in sorted(root.glob("hwmon*")) if root.is_dir() else []:
            inputs = sorted(d.glob("temp*_input"))
            name = (d / "name").read_text().strip() if (d / "name").is_file() else ""
            if inputs:
                rank = PREFERRED_HWMON.index(name) if name in PREFERRED_HWMON else len(PREFERRED_HWMON)
                chips.append((rank, d.name, name, inputs))
        if not chips:
            raise MeterError(f"temperature: no hwmon temp*_input under {root}")
        _, folder, self.chip, self.inputs = min(chips)
        self.inputs = [p for p in self.inputs if self._readable(p)]
        if not self.inputs:
            raise MeterError(f"temperature: hwmon {self.chip or folder} has no readable temp*_input")
        self.detail = f"hottest of {len(self.inputs)} input(s) of hwmon chip {self.chip or folder} ({root / folder})"

    @staticmethod
    def _readable(path: Path) -> bool:
        try:
            _millideg(path)
            return True
        except MeterError:
            return False

    def read_c(self, power_w=None, t_s=None) -> float:
        return max(_millideg(p) for p in self.inputs)


class ThermalZoneSensor(TemperatureSource):
    """The hottest CPU-like thermal zone (x86_pkg_temp, cpu, soc, acpitz), else the hottest zone."""

    source = "measured:thermal-zone"

    def __init__(self, root: str | Path | None = None):
        root = Path(root or os.environ.get("WORKBENCH_THERMAL_ROOT", "/sys/class/thermal"))
        zones = [z for z in sorted(root.glob("thermal_zone*")) if (z / "temp").is_file()] if root.is_dir() else []
        zones = [z for z in zones if HwmonSensor._readable(z / "temp")]
        if not zones:
            raise MeterError(f"temperature: no readable thermal_zone*/temp under {root}")

        def kind(z: Path) -> str:
            return (z / "type").read_text().strip() if (z / "type").is_file() else ""

        cpu = [z for z in zones if any(t in kind(z).lower() for t in CPU_ZONE_TYPES)]
        self.zones = cpu or zones
        self.detail = "hottest of " + ", ".join(f"{z.name} ({kind(z) or '?'})" for z in self.zones)

    def read_c(self, power_w=None, t_s=None) -> float:
        return max(_millideg(z / "temp") for z in self.zones)


class NvmlTemperature(TemperatureSource):
    """The hottest GPU's temperature from an open NvmlMeter."""

    source = "measured:nvml"

    def __init__(self, meter):
        self.meter = meter
        self.detail = "hottest of " + ", ".join(f"GPU {i} {n}" for i, n in zip(meter.indices, meter.names))

    def read_c(self, power_w=None, t_s=None) -> float | None:
        temps = [t for t in self.meter.temperatures_c() if t is not None]
        return float(max(temps)) if temps else None


@dataclass
class ThermalRCConfig:
    """First-order thermal model: one heat capacity C behind one thermal resistance R_th.

    dT/dt = (T_amb + R_th·P − T) / τ,   τ = R_th·C
    Steady state T_amb + R_th·P; from T0 it approaches it as e^(−t/τ). The defaults are chosen
    for demos, not fitted to a machine: a 2-core CPU at full load estimated at 7 W (3.5 W/core,
    the EPYC row of cpu_power) heads for 25 + 10·7 = 95 °C and passes 70 °C after
    τ·ln(70/25) ≈ 10 s, 85 °C after ≈ 20 s; when work pauses (P ≈ 0) it falls from 85 to 60 °C in
    τ·ln(60/35) ≈ 5 s. At the 10 W/core default, 2 cores pass 70 °C in about 2.5 s.
    """

    t_ambient_c: float = 25.0   # T_amb: room / inlet temperature (°C)
    r_th_k_per_w: float = 10.0  # R_th: temperature rise per watt at steady state (K/W)
    tau_s: float = 10.0         # τ: time constant (s)
    t0_c: float | None = None   # starting temperature (°C); None = ambient


class ThermalRC(TemperatureSource):
    """The thermal RC model, stepped exactly (exponential) with power held over each step."""

    source = "modelled:thermal-rc"

    def __init__(self, config: ThermalRCConfig | None = None):
        self.config = c = config or ThermalRCConfig()
        if not (c.r_th_k_per_w >= 0 and c.tau_s > 0):
            raise SettingsError(f"thermal RC needs r_th_k_per_w >= 0 and tau_s > 0, got {c.r_th_k_per_w}, {c.tau_s}")
        self.temp_c = c.t0_c if c.t0_c is not None else c.t_ambient_c
        self._t_s: float | None = None
        self.detail = (f"dT/dt = (T_amb + R_th·P − T)/τ with T_amb {c.t_ambient_c:g} °C, "
                       f"R_th {c.r_th_k_per_w:g} K/W, τ {c.tau_s:g} s, P from the energy meter")

    def step(self, power_w: float, dt_s: float) -> float:
        """Advance dt_s seconds at constant power_w (W); returns the new temperature (°C)."""
        c = self.config
        target = c.t_ambient_c + c.r_th_k_per_w * power_w
        self.temp_c = target + (self.temp_c - target) * math.exp(-dt_s / c.tau_s)
        return self.temp_c

    def read_c(self, power_w=None, t_s=None) -> float:
        if t_s is not None:
            if self._t_s is not None and t_s > self._t_s:
                self.step(power_w or 0.0, t_s - self._t_s)
            self._t_s = t_s
        return self.temp_c


class SimulatedSensor(TemperatureSource):
    """Plays back a list of temperatures, one per read (the last repeats): for tests and lessons."""

    source = "modelled:playback"

    def __init__(self, temps_c: list[float]):
        self.temps_c = list(temps_c)
        self.i = 0

    def read_c(self, power_w=None, t_s=None) -> float:
        t = self.temps_c[min(self.i, len(self.temps_c) - 1)]
        self.i += 1
        return t


class Governor:
    """Hysteresis: paused once temp > t_max_c, resumed once temp < t_min_c (°C).

    A t_min below what the idle device can reach (a hot room, a sensor that reads high) would
    hold the work for ever; after max_pause_s in one pause the governor resumes anyway and
    says so in `gave_up`, so a run always finishes.
    """

    def __init__(self, t_min_c: float, t_max_c: float, max_pause_s: float = 60.0):
        if not t_min_c < t_max_c:
            raise SettingsError(f"t_min_c must be below t_max_c, got t_min_c={t_min_c} >= t_max_c={t_max_c}")
        self.t_min_c, self.t_max_c, self.max_pause_s = t_min_c, t_max_c, max_pause_s
        self.paused = False
        self.intervals: list[list[float | None]] = []  # [t_pause_s, t_resume_s or None]
        self.gave_up: list[str] = []                    # one line per pause ended by max_pause_s

    def update(self, t_s: float, temp_c: float | None) -> bool:
        """Feed one temperature at time t_s (s); returns whether work should be paused now."""
        if temp_c is None:
            return self.paused
        if not self.paused and temp_c > self.t_max_c:
            self.paused = True
            self.intervals.append([t_s, None])
        elif self.paused and temp_c < self.t_min_c:
            self.paused = False
            self.intervals[-1][1] = t_s
        elif self.paused and t_s - self.intervals[-1][0] >= self.max_pause_s:
            self.paused = False
            self.intervals[-1][1] = t_s
            self.gave_up.append(f"t_min {self.t_min_c:g} °C was not reached after {self.max_pause_s:g} s paused "
                                f"(temperature {temp_c:.1f} °C): work resumed; choose a t_min the idle device reaches")
        return self.paused

    def paused_s(self, now_s: float) -> float:
        """Total paused time up to now_s (s), counting an open pause up to now_s."""
        return sum((t1 if t1 is not None else now_s) - t0 for t0, t1 in self.intervals)

