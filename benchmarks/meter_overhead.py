"""What does watching cost? The sampler's own CPU use at 10 Hz, and the workload's slowdown.

Runs the same CPU workload (float32 matmuls) for a fixed time with and without the sampler
(meter + temperature + governor, as a run uses them), interleaved so machine noise hits both
alike, and prints medians:
  sampler CPU % of one core   CPU time of the sampler thread (time.thread_time inside it) / wall time
  throughput ratio            matmuls/s with the sampler / without (1.0 = no cost)
Goal: sampler < 1 % of one core.

    python benchmarks/meter_overhead.py [--quick] [--hz 10] [--meter auto]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from workbench.energy.sampler import Sampler
from workbench.energy.select import make_meter, make_temperature
from workbench.energy.thermal import Governor


def workload(seconds: float, n: int) -> float:
    """Matmuls of two (n, n) float32 matrices for `seconds`; returns matmuls per second."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b)
        count += 1
    return count / (time.perf_counter() - t0)


def with_sampler(args) -> tuple[float, float, float, int, str]:
    """(matmuls/s, sampler CPU s, process CPU s, samples, source) for one run under the sampler."""
    meter = make_meter(args.meter, "cpu")
    temperature, _ = make_temperature("cpu")
    # limits out of reach: the governor runs every sample but never pauses the work
    sampler = Sampler(meter, hz=args.hz, work_fn=lambda: 0, temperature=temperature,
                      governor=Governor(140.0, 150.0))
    cpu0 = time.process_time()
    sampler.start()
    rate = workload(args.seconds, args.n)
    summary = sampler.stop()
    return rate, sampler.cpu_s, time.process_time() - cpu0, summary.n_samples, summary.energy_source


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="workload length per measurement (s)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved pairs (with / without sampler)")
    p.add_argument("--hz", type=float, default=10.0, help="sampler rate (Hz)")
    p.add_argument("--n", type=int, default=256, help="matrix size of the matmul workload")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--meter", default="auto", choices=("auto", "nvml", "rapl", "estimated"), help="meter kind")
    p.add_argument("--quick", action="store_true", help="short run: 1 s × 2 pairs")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 1.0, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    workload(0.3, args.n)  # warm-up
    plain, watched, sampler_pct, per_sample_ms = [], [], [], []
    source = ""
    for r in range(args.repeats):
        for order in ((False, True) if r % 2 == 0 else (True, False)):
            if order:
                rate, cpu_s, proc_s, n, source = with_sampler(args)
                watched.append(rate)
                sampler_pct.append(100 * cpu_s / args.seconds)
                per_sample_ms.append(1000 * cpu_s / max(n, 1))
            else:
                plain.append(workload(args.seconds, args.n))
    med = statistics.median
    print(f"meter: {source}, {args.hz:g} Hz, {args.repeats} interleaved pairs of {args.seconds:g} s, "
          f"torch threads {torch.get_num_threads()}")
    print(f"sampler CPU: {med(sampler_pct):.3f} % of one core (median; {med(per_sample_ms):.3f} ms per sample)"
          f"  goal < 1 %: {'met' if med(sampler_pct) < 1 else 'NOT met'}")
    print(f"throughput: without {med(plain):.1f} matmuls/s, with {med(watched):.1f} matmuls/s, "
          f"ratio with/without {med(watched) / med(plain):.3f}")


if __name__ == "__main__":
    main()
