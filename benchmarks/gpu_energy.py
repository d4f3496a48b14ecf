"""NVML on a real GPU: the energy counter against integrated power polls, long and short windows,
and the thermal governor on the GPU's own temperature.

  1. ~10 s of matmuls: energy from nvmlDeviceGetTotalEnergyConsumption (counter) and from
     nvmlDeviceGetPowerUsage polled at --poll-hz and integrated; ratio power/counter.
  2. short windows (10 ms .. 1 s), each repeated with a random phase shift against NVML's
     ~100 ms update period: the counter's reading over the window against the expected
     energy (the long run's mean power × window, smaller matmuls so they fit: a lower power
     draw shows as ratios below 1), the share of windows that read 0, and the same for the
     polled power. On A100/H100 power averages ~25 ms of each 100 ms.
  3. the Governor on the real GPU temperature, with a band a few °C above where it starts.
Without a GPU (or NVML) it says so and exits with status 0 ("skipped"): nothing to measure.

    python benchmarks/gpu_energy.py [--quick] [--device cuda:0]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time


def gpu_missing(device: str) -> str | None:
    """Why this benchmark cannot run here, or None when a CUDA GPU and NVML are both usable."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"no CUDA GPU visible to torch {torch.__version__} (CPU build or no driver)"
    from workbench.energy.nvml import NvmlMeter
    from workbench.errors import MeterError
    try:
        NvmlMeter(device).close()
    except MeterError as exc:
        return str(exc)
    return None


class Poller:
    """Reads a meter in a thread at `hz`; energy_j() gives its latest cumulative reading (J)."""

    def __init__(self, meter, hz: float):
        self.meter, self.period = meter, 1.0 / hz
        self.lock, self.stop_event = threading.Lock(), threading.Event()
        self.meter.start()
        self.last = self.meter.read()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop_event.wait(self.period):
            self._read()

    def _read(self):
        with self.lock:
            self.last = self.meter.read()
            return self.last

    def energy_j(self, fresh: bool = True) -> float:
        return (self._read() if fresh else self.last).energy_j

    def stop(self) -> float:
        self.stop_event.set()
        self.thread.join(timeout=2.0)
        e = self._read().energy_j
        self.meter.close()
        return e


def matmuls(a, b, seconds: float) -> int:
    """Back-to-back (n, n) @ (n, n) on the GPU for `seconds` of wall time, synchronised."""
    import torch
    t0, count = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b)
        count += 1
        if count % 4 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    return count


def long_run(args, a, b) -> float:
    """Part 1. Returns the mean power (W) by the counter (or the polls if no counter)."""
    from workbench.energy.nvml import NvmlMeter
    from workbench.errors import MeterError
    try:
        counter = NvmlMeter(args.device, mode="counter")
    except MeterError as exc:
        counter = None
        print(f"counter: not available ({exc})")
    polls = Poller(NvmlMeter(args.device, mode="power"), args.poll_hz)
    if counter:
        counter.start()
    t0 = time.perf_counter()
    n = matmuls(a, b, args.seconds)
    wall = time.perf_counter() - t0
    e_power = polls.stop()
    print(f"\n1. {args.seconds:g} s of {n} matmuls ({args.n}x{args.n}) on {args.device}")
    print(f"   power polls at {args.poll_hz:g} Hz, integrated: {e_power:9.1f} J  ({e_power / wall:6.1f} W)")
    if counter is None:
        return e_power / wall
    e_counter = counter.read().energy_j
    counter.close()
    print(f"   energy counter:                 {e_counter:9.1f} J  ({e_counter / wall:6.1f} W)")
    print(f"   ratio polls / counter: {e_power / e_counter:.3f}")
    return e_counter / wall


def short_windows(args, a, b, mean_power_w: float) -> None:
    """Part 2: windows of args.windows seconds, each repeated with random phase shifts."""
    from workbench.energy.nvml import NVML_UPDATE_PERIOD_S, NvmlMeter
    from workbench.errors import MeterError
    try:
        counter = NvmlMeter(args.device, mode="counter")
        counter.start()
    except MeterError:
        counter = None
    polls = Poller(NvmlMeter(args.device, mode="power"), args.poll_hz)
    rng = random.Random(0)
    print(f"\n2. short windows, {args.repeats} repeats each, random phase in [0, {NVML_UPDATE_PERIOD_S * 1000:.0f}) ms;"
          f" expected = {mean_power_w:.1f} W × window")
    print("   window    counter/expected (median, min-max)   zero reads   polls/expected (median)")
    for w in args.windows:
        ratios_c, ratios_p, zeros = [], [], 0
        for _ in range(args.repeats):
            time.sleep(rng.uniform(0, NVML_UPDATE_PERIOD_S))  # shift the phase against the updates
            c0 = counter.read().energy_j if counter else 0.0
            p0 = polls.energy_j()
            t0 = time.perf_counter()
            matmuls(a, b, w)
            dt = time.perf_counter() - t0
            expected = mean_power_w * dt
            if counter:
                dc = counter.read().energy_j - c0
                zeros += dc == 0
                ratios_c.append(dc / expected)
            ratios_p.append((polls.energy_j() - p0) / expected)
        med = statistics.median
        c_text = (f"{med(ratios_c):6.2f} ({min(ratios_c):.2f}-{max(ratios_c):.2f})" if ratios_c else "   n/a")
        print(f"   {w * 1000:6.0f} ms  {c_text:<36} {zeros:4d}/{args.repeats:<4d}  {med(ratios_p):6.2f}")
    polls.stop()
    if counter:
        counter.close()


def governor_run(args, a, b) -> None:
    """Part 3: pause above t_max, resume below t_min, on the GPU's own temperature."""
    from workbench.energy.nvml import NvmlMeter
    from workbench.energy.sampler import Sampler
    from workbench.energy.thermal import Governor
    meter = NvmlMeter(args.device)
    meter.start()
    temp0 = meter.read().temp_c
    if temp0 is None:
        print("\n3. governor: NVML gives no temperature for this GPU: skipped")
        meter.close()
        return
    t_max = temp0 + args.t_rise
    t_min = temp0 + args.t_rise / 2
    events = []
    sampler = Sampler(meter, hz=10.0, governor=Governor(t_min, t_max),
                      on_pause_change=lambda p: events.append((time.perf_counter(), p)))
    sampler.start()
    end = time.perf_counter() + args.governor_seconds
    work_s = 0.0
    while time.perf_counter() < end:
        sampler.wait_while_paused(lambda: time.perf_counter() >= end)
        t0 = time.perf_counter()
        matmuls(a, b, 0.05)
        work_s += time.perf_counter() - t0
    summary = sampler.stop()
    pauses = sum(1 for _, p in events if p)
    print(f"\n3. governor on {summary.temp_source} temperature: start {temp0:.0f} °C, band {t_min:.1f}-{t_max:.1f} °C,"
          f" {args.governor_seconds:g} s")
    print(f"   peak {summary.peak_temp_c:.0f} °C, {pauses} pause(s), paused {summary.paused_s:.1f} s,"
          f" working {work_s:.1f} s, energy {summary.energy_j:.0f} J ({summary.energy_paused_j:.0f} J while paused)")
    if pauses == 0:
        print(f"   the GPU never passed {t_max:.1f} °C: raise --governor-seconds or lower --t-rise")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda:0", help="GPU to measure: cuda or cuda:N")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the long matmul run (s)")
    p.add_argument("--n", type=int, default=8192, help="matrix size (n x n, float32)")
    p.add_argument("--short-n", type=int, default=2048, help="matrix size for the short windows (small: many matmuls fit in 10 ms)")
    p.add_argument("--poll-hz", type=float, default=100.0, help="rate of the power polls (Hz)")
    p.add_argument("--windows", type=lambda s: [float(x) for x in s.split(",")], default=[0.01, 0.03, 0.1, 0.3, 1.0],
                   help="short window lengths in s, comma-separated")
    p.add_argument("--repeats", type=int, default=20, help="repeats of each short window")
    p.add_argument("--t-rise", type=float, default=4.0, help="governor t_max = start temperature + this (°C); t_min halfway")
    p.add_argument("--governor-seconds", type=float, default=30.0, help="length of the governor run (s)")
    p.add_argument("--quick", action="store_true", help="short run: 3 s long run, 5 repeats, 10 s governor")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats, args.governor_seconds = 3.0, 5, 10.0
    why = gpu_missing(args.device)
    if why:
        print(f"gpu_energy: skipped, nothing to measure: {why}")
        return 0
    import torch
    a = torch.randn(args.n, args.n, device=args.device)
    b = torch.randn(args.n, args.n, device=args.device)
    matmuls(a, b, 1.0)  # warm-up: clocks up, kernels loaded
    mean_power_w = long_run(args, a, b)
    sa = torch.randn(args.short_n, args.short_n, device=args.device)
    sb = torch.randn(args.short_n, args.short_n, device=args.device)
    short_windows(args, sa, sb, mean_power_w)
    governor_run(args, a, b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
