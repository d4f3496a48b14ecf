"""RAPL energy of Intel and AMD CPUs, read from the Linux powercap sysfs tree.

Layout (the root is $WORKBENCH_POWERCAP_ROOT, default /sys/class/powercap):

    intel-rapl:0/        name = package-0   energy_uj   max_energy_range_uj
    intel-rapl:0:0/      name = core        (inside package-0's figure)
    intel-rapl:0:1/      name = uncore      (inside package-0's figure)
    intel-rapl:0:2/      name = dram        (NOT inside package-0's figure on Intel)
    intel-rapl:1/        name = psys        (whole SoC: contains the packages, so not added)
    intel-rapl-mmio:0/   name = package-0   (the same package through MMIO: a duplicate)

AMD Zen exposes the same `intel-rapl:*` names (newer kernels may say `amd-rapl:*`).
The total is the sum of the packages plus the dram domains. Counters are microjoules that
wrap at max_energy_range_uj: a read below the previous one means one wrap, so
delta = (now - prev) mod (max_energy_range_uj + 1). Reading at least once per wrap period
(tens of minutes at full load) keeps this exact; the Sampler reads 10 times a second.
Since 2020 (CVE-2020-8694) energy_uj is readable by root only on most distributions.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from workbench.errors import MeterError
from workbench.energy.meter import Meter

DEFAULT_ROOT = "/sys/class/powercap"
PREFIXES = ("intel-rapl", "amd-rapl", "intel-rapl-mmio")  # preference order for duplicates
_ZONE = re.compile(r"^(intel-rapl|amd-rapl|intel-rapl-mmio):(\d+(?::\d+)*)$")
GRANT = ("grant access with `sudo chmod o+r /sys/class/powercap/*/energy_uj` "
         "(or a udev rule)")


def powercap_root() -> Path:
    return Path(os.environ.get("WORKBENCH_POWERCAP_ROOT", DEFAULT_ROOT))


def read_text(path: Path) -> str:
    """The reader hook: tests replace it to inject PermissionError (root ignores chmod)."""
    with open(path) as f:
        return f.read()


@dataclass
class Domain:
    path: Path        # the zone folder
    name: str         # package-0, dram, core, ...
    max_uj: int       # counter wraps after this value
    prev_uj: int = 0  # last raw counter value
    total_uj: int = 0  # accumulated since start, wraps unfolded


def find_domains(root: Path, reader: Callable[[Path], str]) -> tuple[list[Domain], list[str]]:
    """The domains to sum (packages + dram) and the ones left out, as one-line notes."""
    if not root.is_dir():
        raise MeterError(f"RAPL: {root} does not exist (no powercap driver: not Linux, a VM or a container)")
    zones = []
    for entry in sorted(os.listdir(root)):
        m = _ZONE.match(entry)
        if m:
            zones.append((PREFIXES.index(m.group(1)), m.group(2), root / entry))
    if not zones:
        raise MeterError(f"RAPL: no intel-rapl/amd-rapl zones under {root} (CPU or kernel without RAPL)")
    chosen, skipped, seen = [], [], set()
    for _, index, path in sorted(zones):
        name = _read_str(path / "name", reader)
        depth = index.count(":")
        parent = None if depth == 0 else _read_str(path.parent / path.name.rsplit(":", 1)[0] / "name", reader)
        if (parent, name) in seen:
            skipped.append(f"{path.name} ({name}): duplicate of a zone already read")
            continue
        seen.add((parent, name))
        if (depth == 0 and name.startswith("package")) or name == "dram":
            chosen.append(Domain(path, name, _read_int(path / "max_energy_range_uj", reader)))
        else:
            why = "contained in its package" if depth > 0 else "contains the packages"
            skipped.append(f"{path.name} ({name}): {why}")
    if not any(d.name.startswith("package") for d in chosen):
        raise MeterError(f"RAPL: no package domain under {root} (found: {', '.join(p.name for *_, p in zones)})")
    return chosen, skipped


def _read_str(path: Path, reader: Callable[[Path], str]) -> str:
    try:
        return reader(path).strip()
    except PermissionError:
        raise MeterError(f"RAPL: {path} is readable by root only; {GRANT}") from None
    except FileNotFoundError:
        raise MeterError(f"RAPL: {path} vanished (powercap driver unloaded?)") from None
    except OSError as exc:
        raise MeterError(f"RAPL: cannot read {path} ({exc.strerror or exc})") from None


def _read_int(path: Path, reader: Callable[[Path], str]) -> int:
    text = _read_str(path, reader)
    try:
        return int(text)
    except ValueError:
        raise MeterError(f"RAPL: {path} holds {text[:20]!r}, not an integer") from None


def unwrap_delta(now_uj: int, prev_uj: int, max_uj: int) -> int:
    """Microjoules spent between two raw counter values, allowing one wraparound."""
    return (now_uj - prev_uj) % (max_uj + 1)


class RaplMeter(Meter):
    """Energy of all CPU packages (+ DRAM) from the powercap counters. Source measured:rapl."""

    source = "measured:rapl"

    def __init__(self, root: str | Path | None = None, reader: Callable[[Path], str] | None = None):
        self.root = Path(root) if root is not None else powercap_root()
        self.reader = reader or read_text
        self.domains, self.skipped = find_domains(self.root, self.reader)
        self._read_all()  # fail now, not mid-run, when energy_uj is root-only
        names = " + ".join(f"{d.path.name} ({d.name})" for d in self.domains)
        self.detail = f"E = sum of RAPL counters {names} under {self.root}, wraparound unfolded"

    def _read_all(self) -> list[int]:
        return [_read_int(d.path / "energy_uj", self.reader) for d in self.domains]

    def _begin(self) -> None:
        for d, now in zip(self.domains, self._read_all()):
            d.prev_uj, d.total_uj = now, 0

    def _energy_j(self) -> float:
        for d, now in zip(self.domains, self._read_all()):
            d.total_uj += unwrap_delta(now, d.prev_uj, d.max_uj)
            d.prev_uj = now
        return sum(d.total_uj for d in self.domains) / 1e6
