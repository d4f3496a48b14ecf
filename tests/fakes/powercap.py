"""Build a fake /sys/class/powercap tree in a temporary folder."""
from __future__ import annotations

from pathlib import Path


def zone(root: Path, folder: str, name: str, energy_uj: int, max_uj: int) -> Path:
    """One powercap zone folder with its name, energy_uj and max_energy_range_uj files."""
    d = root / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return d


def set_energy(root: Path, folder: str, energy_uj: int) -> None:
    (root / folder / "energy_uj").write_text(f"{energy_uj}\n")


def intel_laptop(root: Path) -> Path:
    """package-0 with core/uncore/dram, a psys zone, and an MMIO duplicate of package-0."""
    zone(root, "intel-rapl:0", "package-0", 999_000, 1_000_000)
    zone(root, "intel-rapl:0:0", "core", 5_000, 1_000_000)
    zone(root, "intel-rapl:0:1", "uncore", 7_000, 1_000_000)
    zone(root, "intel-rapl:0:2", "dram", 100, 500)
    zone(root, "intel-rapl:1", "psys", 42, 1_000_000)
    zone(root, "intel-rapl-mmio:0", "package-0", 3, 1_000_000)
    (root / "intel-rapl").mkdir(exist_ok=True)  # the control-type folder, not a zone
    return root
