"""A stand-in for the `pynvml` module (nvidia-ml-py) with scriptable GPUs.

Insert with monkeypatch.setitem(sys.modules, "pynvml", make_module(gpus)). Each FakeGpu holds
its counter (mJ, None = no counter, as before Volta), power (mW), temperature (°C), and an
error to raise from every call once `fail` is set (e.g. NVMLError_GpuIsLost).
"""
from __future__ import annotations

import types
from dataclasses import dataclass

NVML_TEMPERATURE_GPU = 0
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_GPU_IS_LOST = 15


class NVMLError(Exception):
    def __init__(self, value):
        super().__init__(value)
        self.value = value

    def __str__(self):
        return {3: "Not Supported", 12: "NVML Shared Library Not Found", 15: "GPU is lost"}.get(self.value, "Unknown")


class NVMLError_NotSupported(NVMLError):
    def __init__(self):
        super().__init__(NVML_ERROR_NOT_SUPPORTED)


class NVMLError_LibraryNotFound(NVMLError):
    def __init__(self):
        super().__init__(NVML_ERROR_LIBRARY_NOT_FOUND)


class NVMLError_GpuIsLost(NVMLError):
    def __init__(self):
        super().__init__(NVML_ERROR_GPU_IS_LOST)


@dataclass
class FakeGpu:
    name: str = "NVIDIA H100 80GB HBM3"
    energy_mj: int | None = 1_000_000   # None: no energy counter (pre-Volta)
    power_mw: int = 300_000
    temp_c: int = 50
    limit_mw: int = 700_000
    fail: type | None = None            # exception class raised by every call once set

    def check(self):
        if self.fail is not None:
            raise self.fail()


def make_module(gpus: list[FakeGpu], init_error: type | None = None) -> types.ModuleType:
    nv = types.ModuleType("pynvml")
    nv.NVMLError = NVMLError
    nv.NVMLError_NotSupported = NVMLError_NotSupported
    nv.NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    nv.NVMLError_GpuIsLost = NVMLError_GpuIsLost
    nv.NVML_TEMPERATURE_GPU = NVML_TEMPERATURE_GPU
    nv.gpus = gpus
    nv.calls = {"init": 0, "shutdown": 0}

    def nvmlInit():
        if init_error is not None:
            raise init_error()
        nv.calls["init"] += 1

    def nvmlShutdown():
        nv.calls["shutdown"] += 1

    def nvmlDeviceGetCount():
        return len(gpus)

    def nvmlDeviceGetHandleByIndex(i):
        return gpus[i]

    def nvmlDeviceGetName(g):
        g.check()
        return g.name

    def nvmlDeviceGetTotalEnergyConsumption(g):
        g.check()
        if g.energy_mj is None:
            raise NVMLError_NotSupported()
        return g.energy_mj

    def nvmlDeviceGetPowerUsage(g):
        g.check()
        return g.power_mw

    def nvmlDeviceGetTemperature(g, sensor):
        g.check()
        assert sensor == NVML_TEMPERATURE_GPU
        return g.temp_c

    def nvmlDeviceGetEnforcedPowerLimit(g):
        g.check()
        return g.limit_mw

    for fn in (nvmlInit, nvmlShutdown, nvmlDeviceGetCount, nvmlDeviceGetHandleByIndex, nvmlDeviceGetName,
               nvmlDeviceGetTotalEnergyConsumption, nvmlDeviceGetPowerUsage, nvmlDeviceGetTemperature,
               nvmlDeviceGetEnforcedPowerLimit):
        setattr(nv, fn.__name__, fn)
    return nv
