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
import time

try:
    import resource   # POSIX only
except ImportError:   # Windows: psutil's figures alone
    resource = None
from typing import Callable, Iterable

import psutil

from workbench.errors import MeterError
from workbench.energy.cpu_power import per_core_watts
from workbench.energy.meter import Meter


def _own_time_s() -> float:
    """This process's CPU seconds and its reaped children's, to the microsecond.

    /proc/<pid>/stat (psutil) counts in 10 ms clock ticks: a 50 ms window on 2 cores could read
    ±20 %. getrusage reads the scheduler's exact runtime for the caller, so windows this short
    (a BERT batch) are measured, not rounded.
    """
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _tree_time_s(proc: psutil.Process) -> float:
    if proc.pid == os.getpid() and resource is not None:
        return _own_time_s()
    t = proc.cpu_times()
    return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)


class ProcessTreeClock:
    """Cumulative CPU seconds of a set of process trees, robust to children exiting."""

    def __init__(self, root_pid: int | None = None, pids_fn: Callable[[], Iterable[int]] | None = None,
                 rescan_s: float = 1.0):
        self.root_pid = root_pid if root_pid is not None else os.getpid()
        self.pids_fn = pids_fn
        # finding children scans every process on the machine (~1.5 ms for 80, more on a
        # desktop): do it once a second, and between scans re-read only the processes known
        # (~0.03 ms each). A child found late still counts in full: its CPU time is cumulative.
        self.rescan_s = rescan_s
        self._last_scan = -float("inf")
        # (pid, create_time) -> (process, CPU s at last sight, parent pid at last sight)
        self._known: dict[tuple[int, float], tuple[psutil.Process, float, int]] = {}
        self._departed_s = 0.0

    def _roots(self) -> list[int]:
        extra = list(self.pids_fn()) if self.pids_fn else []
        return [self.root_pid] + [p for p in extra if p != self.root_pid]

    def _live(self) -> dict[tuple[int, float], psutil.Process]:
        live = {}
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
        for key, (proc, _, _) in self._known.items():  # orphans: left the tree, still running
            if key not in live and proc.is_running():
                live[key] = proc
        return live

    def cpu_s(self, rescan: bool = False) -> float:
        """CPU seconds (user + system) of every process seen in the trees so far."""
        now = time.monotonic()
        if rescan or now - self._last_scan >= self.rescan_s:
            self._last_scan = now
            live = self._live()
        else:
            live = {key: proc for key, (proc, _, _) in self._known.items()}
        seen = {}
        for key, proc in live.items():
            try:
                with proc.oneshot():
                    seen[key] = (proc, _tree_time_s(proc), proc.ppid())
            except psutil.Error:
                pass
        pids = {pid for pid, _ in seen} | {pid for pid, _ in self._known}
        for key, (_, last_s, ppid) in self._known.items():
            # gone, and its parent is not one we follow: nobody in the tree reaped it, so its
            # time shows up in no cutime we read; keep its last seen figure
            if key not in seen and ppid not in pids:
                self._departed_s += last_s
        self._known = seen
        return sum(s for _, s, _ in seen.values()) + self._departed_s


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
        self._cpu0 = self.clock_tree.cpu_s(rescan=True)
        self._last_j = 0.0

    def cpu_seconds(self, rescan: bool = False) -> float:
        """CPU seconds of the tree since start(); rescan=True looks for new children now."""
        return self.clock_tree.cpu_s(rescan) - self._cpu0

    def _energy_j(self) -> float:
        # max(): a process that leaves the tree unseen can make the sum dip; energy never falls
        self._last_j = max(self._last_j, self.cpu_seconds() * self.w_per_core)
        return self._last_j
