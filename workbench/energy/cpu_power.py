"""Per-core power figures for the CPU-time estimate, keyed by the CPU's model name.

Each entry: a regular expression on the model name, the chip's power in W, its physical core
count, and where the figures come from. W/core = power / cores: a CPU-second on one core is
taken to cost that many joules. This is the chip's rated power (TDP) spread over its cores: a
rough, stated figure (it ignores idle and uncore power and turbo), which is why results using
it are labelled estimated:cpu-time. The first matching row wins: specific models come first.
"""
from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass

DEFAULT_W_PER_CORE = 10.0  # no row matched: a round figure between laptop and server cores


@dataclass(frozen=True)
class CpuPower:
    pattern: str      # regular expression, matched case-insensitively anywhere in the model name
    label: str        # what the row stands for, shown in the formula
    tdp_w: float      # rated power of the chip (W)
    cores: int        # physical cores of the chip
    source: str       # where the figures come from

    @property
    def w_per_core(self) -> float:
        return self.tdp_w / self.cores


TABLE: tuple[CpuPower, ...] = (
    # AMD product pages (amd.com, EPYC specifications)
    CpuPower(r"EPYC 9654", "AMD EPYC 9654", 360, 96, "AMD EPYC 9654 spec: 96 cores, 360 W default TDP"),
    CpuPower(r"EPYC 7763", "AMD EPYC 7763", 280, 64, "AMD EPYC 7763 spec: 64 cores, 280 W default TDP"),
    CpuPower(r"EPYC 7742", "AMD EPYC 7742", 225, 64, "AMD EPYC 7742 spec: 64 cores, 225 W default TDP"),
    # 7B12/7B13 are cloud-only parts without a public spec sheet; same silicon as the 7742/7713
    CpuPower(r"EPYC 7B1[23]", "AMD EPYC 7B12/7B13", 225, 64, "as EPYC 7742/7713: 64 cores, 225 W TDP (no public spec)"),
    CpuPower(r"EPYC 7713", "AMD EPYC 7713", 225, 64, "AMD EPYC 7713 spec: 64 cores, 225 W default TDP"),
    CpuPower(r"EPYC", "AMD EPYC (model unknown)", 225, 64, "typical EPYC 7002/7003 part (7742/7713): 64 cores, 225 W"),
    # Intel ARK (ark.intel.com)
    CpuPower(r"Xeon.*8480", "Intel Xeon Platinum 8480+", 350, 56, "Intel ARK: 56 cores, 350 W TDP"),
    CpuPower(r"Xeon.*8380", "Intel Xeon Platinum 8380", 270, 40, "Intel ARK: 40 cores, 270 W TDP"),
    CpuPower(r"Xeon.*6248", "Intel Xeon Gold 6248", 150, 20, "Intel ARK: 20 cores, 150 W TDP"),
    CpuPower(r"Xeon", "Intel Xeon (model unknown)", 150, 20, "typical Xeon Gold (6248): 20 cores, 150 W TDP"),
    CpuPower(r"i7-1\d{3}G7", "Intel Core i7 (Ice/Tiger Lake U)", 28, 4, "Intel ARK i7-1165G7: 4 cores, 28 W upper TDP"),
    CpuPower(r"i5-1\d{3}G7", "Intel Core i5 (Ice/Tiger Lake U)", 28, 4, "Intel ARK i5-1135G7: 4 cores, 28 W upper TDP"),
    CpuPower(r"Core.*i7", "Intel Core i7 (desktop)", 65, 8, "Intel ARK i7-10700: 8 cores, 65 W TDP"),
    CpuPower(r"Core.*i5", "Intel Core i5 (desktop)", 65, 6, "Intel ARK i5-10400: 6 cores, 65 W TDP"),
    # Apple publishes no TDP: a measured all-core CPU package power instead
    CpuPower(r"Apple M", "Apple M-series", 20, 8, "no TDP published; ~20 W CPU package at all-core load (AnandTech M1 review)"),
    CpuPower(r"Ryzen", "AMD Ryzen (desktop)", 65, 8, "AMD Ryzen 7 5700X spec: 8 cores, 65 W TDP"),
)


def cpu_model_name() -> str:
    """The CPU's model name: /proc/cpuinfo on Linux, sysctl on macOS, else platform."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                 text=True, timeout=2)
            if out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def lookup(model_name: str) -> CpuPower | None:
    """The first table row whose pattern occurs in model_name, or None."""
    for row in TABLE:
        if re.search(row.pattern, model_name, re.IGNORECASE):
            return row
    return None


def per_core_watts(core_watts: float = 0.0, model_name: str | None = None) -> tuple[float, str]:
    """(W per core, one-line explanation): the user's figure if > 0, else the table's."""
    if core_watts > 0:
        return core_watts, "set by the user (core_watts)"
    name = model_name if model_name is not None else cpu_model_name()
    row = lookup(name)
    if row is None:
        return DEFAULT_W_PER_CORE, f"{name}: not in the cpu_power table, default {DEFAULT_W_PER_CORE:g} W/core"
    return row.w_per_core, f"{name}: {row.tdp_w:g} W TDP / {row.cores} cores, cpu_power table row '{row.label}'"
