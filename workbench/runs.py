"""Settings -> run a workload under a meter -> Result -> the ledger.

    run(settings, callbacks) builds the meter, starts the sampler thread (power, energy,
    temperature, work), lets the thermal governor hold the work between t_max and t_min,
    runs the workload (in this process, or as N data-parallel worker processes), then
    assembles a Result with the source of every figure and appends it to the ledger.
"""
from __future__ import annotations

import datetime as dt
import platform
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from workbench.errors import WorkbenchError
from workbench.ledger import Ledger
from workbench.result import Result
from workbench.settings import Settings
from workbench.workloads.base import RunContext, WorkloadOutput

LM_WORKLOADS = ("mlp", "lstm", "gpt")


@dataclass
class Callbacks:
    """Optional hooks, each called from the thread that runs the work (or the sampler thread
    for on_sample). They must be quick; a view copies the data and returns."""

    on_progress: Callable[[dict], None] | None = None    # {step, steps, loss, accuracy, ...}
    on_sample: Callable[[object], None] | None = None    # energy.sampler.Sample
    on_message: Callable[[str], None] | None = None      # one line
    on_result: Callable[[Result], None] | None = None


@dataclass
class RunControl:
    """Lets another thread (a Stop button) end a run within a second."""

    _stop: threading.Event = field(default_factory=threading.Event)

    def request_stop(self):
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()


def workload_function(name: str) -> Callable[[RunContext], WorkloadOutput]:
    if name in LM_WORKLOADS:
        from workbench.workloads.lm import run_lm
        return run_lm
    if name == "lstm-distill":
        from workbench.workloads.lm_distill import run_lm_distill
        return run_lm_distill
    if name == "bert":
        from workbench.workloads.bert import run_bert
        return run_bert
    if name == "bert-distill":
        from workbench.workloads.bert import run_bert_distill
        return run_bert_distill
    raise WorkbenchError(f"unknown workload {name!r}")


def preflight(settings: Settings) -> None:
    """Check inputs that can be checked before any work, so bad input records nothing."""
    if settings.parallelism > 1 and settings.workload not in LM_WORKLOADS:
        raise WorkbenchError(f"parallelism > 1 is available for {', '.join(LM_WORKLOADS)}; "
                             f"{settings.workload} runs with parallelism 1")
    if settings.device.startswith("cuda"):
        import torch
        if not torch.cuda.is_available():
            raise WorkbenchError(f"device {settings.device} asked for but no CUDA GPU is available; use device cpu")
    if settings.corpus:
        from workbench.data.corpus import read_text_file
        read_text_file(settings.corpus)


def run(settings: Settings, callbacks: Callbacks | None = None, control: RunControl | None = None,
        ledger: Ledger | None = None, record: bool = True) -> Result:
    """Run one workload under the meter and return its Result (appended to the ledger).

    Bad input raises WorkbenchError before anything is recorded. An unexpected failure
    during the work is recorded with status "failed" and re-raised as one line.
    """
    cb = callbacks or Callbacks()
    control = control or RunControl()
    preflight(settings)
    result = Result(run_id=uuid.uuid4().hex[:12], settings=settings.to_dict(),
                    started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                    hardware=hardware_info(settings), versions=versions())
    from workbench.energy.session import EnergySession
    energy = EnergySession(settings, on_sample=cb.on_sample)
    ctx = _context(settings, cb, control, energy)
    t0 = time.perf_counter()
    energy.start()
    try:
        output = _dispatch(settings, ctx, energy)
    except WorkbenchError:
        energy.stop()
        raise
    except Exception as exc:  # recorded, then shown as one line
        energy.stop()
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        result.duration_s = time.perf_counter() - t0
        energy.fill(result)
        if record:
            (ledger or Ledger()).append(result)
        raise WorkbenchError(f"the run failed ({result.error}); it is recorded as {result.run_id}") from exc
    energy.stop()
    result.duration_s = time.perf_counter() - t0
    _fill_output(result, output)
    result.status = "stopped" if control.stop_requested else "ok"
    energy.fill(result)
    if record:
        (ledger or Ledger()).append(result)
    if cb.on_result:
        cb.on_result(result)
    return result


def _context(settings: Settings, cb: Callbacks, control: RunControl, energy) -> RunContext:
    def progress(**metrics):
        if cb.on_progress:
            cb.on_progress(metrics)

    def checkpoint() -> bool:
        energy.wait_while_paused(lambda: control.stop_requested)
        return not control.stop_requested

    return RunContext(settings=settings, progress=progress, checkpoint=checkpoint,
                      stop_requested=lambda: control.stop_requested, add_work=energy.add_work,
                      message=cb.on_message or (lambda text: None), window=energy.window)


def _dispatch(settings: Settings, ctx: RunContext, energy) -> WorkloadOutput:
    if settings.parallelism > 1:
        from workbench.parallel import WorkerGroup, run_parallel
        group = WorkerGroup(settings)
        energy.on_pause_change = group.pause
        return run_parallel(ctx, group)
    return workload_function(settings.workload)(ctx)


def _fill_output(result: Result, out: WorkloadOutput) -> None:
    result.flops, result.tokens, result.items, result.params = out.flops, out.tokens, out.items, out.params
    result.quality, result.notes = dict(out.quality), list(out.notes)
    result.compression, result.history = dict(out.compression), list(out.history)


def hardware_info(settings: Settings) -> dict:
    import os
    info = {"machine": platform.machine(), "system": platform.system(), "cpu": cpu_model(),
            "cores": os.cpu_count()}
    if settings.device.startswith("cuda"):
        import torch
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def versions() -> dict:
    """Versions of what ran (read from package metadata: importing transformers costs seconds)."""
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "green-llm-workbench"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out
