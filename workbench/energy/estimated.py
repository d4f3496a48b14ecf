"""Estimated CPU energy: CPU-seconds of the run's whole process tree × a per-core power.

Where no counter can be read, E = (user + system CPU seconds of this process and all its
descendants since start()) × W/core, with W/core from the user (core_watts) or the cpu_power
table. Children that already exited still count: for each live process we add its own CPU
time and the CPU time of the children it has reaped (cutime/cstime, the fields os.times()
shows for the caller), so a worker that exits and is waited for moves its time into its
parent's count instead of vanishing. Processes that leave the tree while still running
(orphans) are followed by pid; when they die their last seen time is kept.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

import psutil

from workbench.errors import MeterError
from workbench.energy.cpu_power import per_core_watts
from workbench.energy.meter import Meter


def _tree_time_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)


class ProcessTreeClock:
    """Cumulative CPU seconds of a set of process trees, robust to children exiting."""

    def __init__(self, root_pid: int | None = None, pids_fn: Callable[[], Iterable[int]] | None = None):
        self.root_pid = root_pid if root_pid is not None else os.getpid()
        self.pids_fn = pids_fn
        self._known: dict[tuple[int, float], tuple[psutil.Process, float]] = {}  # (pid, created) -> (proc, last s)
        self._departed_s = 0.0

    def _roots(self) -> list[int]:
        extra = list(self.pids_fn()) if self.pids_fn else []
        return [self.root_pid] + [p for p in extra if p != self.root_pid]

    def cpu_s(self) -> float:
        """CPU seconds (user + system) of every process ever seen in the trees."""
        live: dict[tuple[int, float], psutil.Process] = {}
        for pid in self._roots():
            try:
                root = psutil.Process(pid)
                procs = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            for p in procs:
                try:
                    live[(p.pid, p.create_time())] = p
                except psutil.NoSuchProcess:
                    pass
        for key, (proc, last) in self._known.items():  # orphans: left the tree, maybe running
            if key not in live and proc.is_running():
                live[key] = proc
        total = 0.0
        seen = {}
        for key, proc in live.items():
            try:
                s = _tree_time_s(proc)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            seen[key] = (proc, s)
            total += s
        for key, (proc, last) in self._known.items():
            if key not in seen and not self._reaped_by_tree(proc, seen):
                self._departed_s += last  # died outside the tree: its time is nowhere else
        self._known = seen
        return total + self._departed_s

    @staticmethod
    def _reaped_by_tree(proc: psutil.Process, seen) -> bool:
        """A process that vanished while its parent is still followed was waited for by it."""
        try:
            ppid = proc.ppid()  # cached by psutil at creation when the process is gone
        except psutil.Error:
            return False
        return any(pid == ppid for pid, _ in seen)


class CpuTimeMeter(Meter):
    """E = CPU-seconds of the process tree × W/core. Source estimated:cpu-time."""

    source = "estimated:cpu-time"

    def __init__(self, core_watts: float = 0.0, pids_fn: Callable[[], Iterable[int]] | None = None,
                 device: str = "cpu", model_name: str | None = None, root_pid: int | None = None):
        if not core_watts >= 0:
            raise MeterError(f"estimated: core_watts must be >= 0 W (0 = from the cpu_power table), got {core_watts!r}")
        self.w_per_core, why = per_core_watts(core_watts, model_name)
        self.clock_tree = ProcessTreeClock(root_pid, pids_fn)
        gpu = "; counts CPU time only, the GPU's energy is not included" if device.startswith("cuda") else ""
        self.detail = f"E = CPU-seconds of the process tree × {self.w_per_core:.3g} W/core ({why}){gpu}"
        self._cpu0 = 0.0

    def _begin(self) -> None:
        self._cpu0 = self.clock_tree.cpu_s()
        self._last_j = 0.0

    def cpu_seconds(self) -> float:
        """CPU seconds of the tree since start()."""
        return self.clock_tree.cpu_s() - self._cpu0

    def _energy_j(self) -> float:
        # max(): a process that leaves the tree unseen can make the sum dip; energy never falls
        self._last_j = max(self._last_j, self.cpu_seconds() * self.w_per_core)
        return self._last_j
