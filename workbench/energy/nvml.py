"""Energy, power and temperature of NVIDIA GPUs through NVML (`import pynvml`, from nvidia-ml-py).

Two ways to get energy, per GPU:
  counter  nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver loaded (Volta and
           newer). Exact over long windows, but it changes only about every 100 ms, so a window
           shorter than that can read 0.
  power    nvmlDeviceGetPowerUsage (milliwatts) polled at each read() and integrated over time
           (trapezoid rule); for older GPUs without the counter. Only as good as the polling rate.
On A100/H100 the power reading averages only about 25 ms out of every 100 ms (Yang, Adamek,
Armour, SC'24, "Part-time Power Measurements"): a short kernel can fall between the averaging
windows. Repeat short workloads and shift their phase.
Several GPUs: energy and power are summed, temperature is the hottest GPU's.
"""
from __future__ import annotations

import os

from workbench.errors import MeterError
from workbench.energy.meter import Meter

NVML_UPDATE_PERIOD_S = 0.1   # the energy counter and power reading change about this often
NVML_POWER_WINDOW_S = 0.025  # A100/H100: power is averaged over this part of each period
PARTIAL_POWER_GPUS = ("A100", "H100", "H200", "GH200")
MODES = ("auto", "counter", "power")


def is_nvml_error(exc: BaseException) -> bool:
    """True for pynvml.NVMLError and its subclasses, without importing pynvml."""
    return any(cls.__name__ == "NVMLError" for cls in type(exc).__mro__)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _import_pynvml():
    try:
        import pynvml
    except ImportError:
        raise MeterError("NVML: the pynvml module is missing; install nvidia-ml-py (not the 'pynvml' package)") from None
    return pynvml


def gpu_indices(device: str, count: int) -> list[int]:
    """NVML indices for 'cuda' (all visible GPUs) or 'cuda:N' (the N-th visible one).

    CUDA_VISIBLE_DEVICES renumbers GPUs for CUDA, not for NVML; integer lists are honoured,
    UUID lists are not (then every GPU is counted).
    """
    visible = list(range(count))
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None and all(p.strip().isdigit() for p in env.split(",") if p.strip()):
        visible = [int(p) for p in env.split(",") if p.strip() and int(p) < count]
    if not visible:
        raise MeterError(f"NVML: no GPU visible (NVML sees {count}, CUDA_VISIBLE_DEVICES={env!r})")
    if device == "cuda":
        return visible
    n = int(device.split(":", 1)[1])
    if n >= len(visible):
        raise MeterError(f"NVML: {device} does not exist; valid: cuda, " + ", ".join(f"cuda:{i}" for i in range(len(visible))))
    return [visible[n]]


class NvmlMeter(Meter):
    """Energy of one or more NVIDIA GPUs. Source measured:nvml.

    mode: 'counter' (energy counter, mJ), 'power' (integrate power polls), 'auto' (counter
    where the GPU has one, power elsewhere). Reading.power_w is NVML's own power figure (sum of
    GPUs, W), not energy/time, because the counter moves in ~100 ms steps.
    """

    source = "measured:nvml"
    temp_source = "measured:nvml"
    update_period_s = NVML_UPDATE_PERIOD_S

    def __init__(self, device: str = "cuda", mode: str = "auto"):
        if mode not in MODES:
            raise MeterError(f"NVML: mode {mode!r} is not valid; choose one of {', '.join(MODES)}")
        self.nv = _import_pynvml()
        try:
            self.nv.nvmlInit()
        except Exception as exc:
            if is_nvml_error(exc):
                raise MeterError(f"NVML: cannot initialise ({_why(exc)}): no NVIDIA GPU or driver") from None
            raise
        try:
            self._setup(device, mode)
        except Exception as exc:
            self.nv.nvmlShutdown()
            if is_nvml_error(exc):
                raise MeterError(f"NVML: cannot query the GPUs ({_why(exc)})") from None
            raise

    def _setup(self, device: str, mode: str) -> None:
        nv = self.nv
        self.indices = gpu_indices(device, nv.nvmlDeviceGetCount())
        self.handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in self.indices]
        self.names = [_text(nv.nvmlDeviceGetName(h)) for h in self.handles]
        self.has_counter = [mode != "power" and self._counter_works(h) for h in self.handles]
        if mode == "counter" and not all(self.has_counter):
            raise MeterError(f"NVML: {', '.join(self.names)} has no energy counter (before Volta); use mode 'power'")
        self.power_limits_w = [self._try(nv.nvmlDeviceGetEnforcedPowerLimit, h, scale=1e-3) for h in self.handles]
        flags = []
        if any(self.has_counter):
            flags.append(f"energy counter updates ~every {NVML_UPDATE_PERIOD_S * 1000:.0f} ms: "
                         "windows shorter than that may read 0")
        if not all(self.has_counter):
            flags.append("power polled and integrated at the read rate (no energy counter on this GPU)")
        self.partial_power = any(g in n for n in self.names for g in PARTIAL_POWER_GPUS)
        if self.partial_power:
            flags.append(f"power averages ~{NVML_POWER_WINDOW_S * 1000:.0f} ms of each "
                         f"{NVML_UPDATE_PERIOD_S * 1000:.0f} ms on A100/H100: repeat short workloads with phase shifts")
        self.flags = tuple(flags)
        how = ", ".join(f"GPU {i} {n} ({'energy counter' if c else 'power polling'})"
                        for i, n, c in zip(self.indices, self.names, self.has_counter))
        self.detail = f"E = NVML, sum over {how}"

    def _counter_works(self, handle) -> bool:
        try:
            self.nv.nvmlDeviceGetTotalEnergyConsumption(handle)
            return True
        except Exception as exc:
            if is_nvml_error(exc):
                return False
            raise

    def _try(self, fn, handle, scale: float = 1.0, *args):
        try:
            return fn(handle, *args) * scale
        except Exception as exc:
            if is_nvml_error(exc):
                return None
            raise

    # -- Meter ----------------------------------------------------------------------------
    def _begin(self) -> None:
        self._t_last = self.clock()
        self._counter0 = [self._call(self.nv.nvmlDeviceGetTotalEnergyConsumption, h) if c else 0
                          for h, c in zip(self.handles, self.has_counter)]
        self._power_last = [None if c else self._power_one(h) for h, c in zip(self.handles, self.has_counter)]
        self._polled_j = [0.0] * len(self.handles)

    def _energy_j(self) -> float:
        now = self.clock()
        dt = now - self._t_last
        self._t_last = now
        total = 0.0
        for k, (h, c) in enumerate(zip(self.handles, self.has_counter)):
            if c:
                total += (self._call(self.nv.nvmlDeviceGetTotalEnergyConsumption, h) - self._counter0[k]) / 1e3
            else:
                p = self._power_one(h)
                self._polled_j[k] += 0.5 * (p + self._power_last[k]) * dt  # trapezoid
                self._power_last[k] = p
                total += self._polled_j[k]
        return total

    def _power_w(self, t_s: float, energy_j: float) -> float | None:
        try:
            return sum(self._power_one(h) for h in self.handles)
        except MeterError:
            return super()._power_w(t_s, energy_j)

    def _temp_c(self) -> float | None:
        temps = [self._try(self.nv.nvmlDeviceGetTemperature, h, 1.0, self.nv.NVML_TEMPERATURE_GPU)
                 for h in self.handles]
        temps = [t for t in temps if t is not None]
        return float(max(temps)) if temps else None

    def temperatures_c(self) -> list[float | None]:
        """Each GPU's temperature (°C), None where NVML cannot say."""
        return [self._try(self.nv.nvmlDeviceGetTemperature, h, 1.0, self.nv.NVML_TEMPERATURE_GPU)
                for h in self.handles]

    def _power_one(self, handle) -> float:
        return self._call(self.nv.nvmlDeviceGetPowerUsage, handle) / 1e3

    def _call(self, fn, handle):
        try:
            return fn(handle)
        except Exception as exc:
            if is_nvml_error(exc):
                raise MeterError(f"NVML: {fn.__name__} failed ({_why(exc)})") from None
            raise

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        try:
            self.nv.nvmlShutdown()
        except Exception as exc:
            if not is_nvml_error(exc):
                raise


def _text(name) -> str:
    return name.decode() if isinstance(name, bytes) else str(name)
