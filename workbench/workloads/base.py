"""What every workload receives (a RunContext) and returns (a WorkloadOutput).

A workload builds its model, applies the compression the Settings ask for, does its work
(training steps or inference batches) inside the run's meter, and reports quality.
The context is how it talks to the outside: progress, the stop/pause gate, work counters.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

from workbench.settings import Settings


@dataclass
class WorkloadOutput:
    quality: dict[str, float]          # e.g. perplexity, optimal_perplexity, accuracy, cosine_mean
    flops: float                       # work done, counted analytically (forward + backward)
    tokens: int                        # tokens processed
    items: int = 0                     # sequences / sentences processed
    params: int = 0                    # parameters of the model that ran (after compression)
    notes: list[str] = field(default_factory=list)       # one line each, e.g. "int8: real kernels"
    compression: dict = field(default_factory=dict)      # what was applied and how (real/simulated)
    history: list[dict] = field(default_factory=list)    # per-step metrics (step, loss, ...)


@dataclass
class RunContext:
    """Handed to a workload by runs.run(); every hook is safe to call from the work loop."""

    settings: Settings
    progress: Callable[..., None] = lambda **metrics: None   # progress(step=, steps=, loss=, ...)
    checkpoint: Callable[[], bool] = lambda: True   # blocks while paused; False = stop requested
    stop_requested: Callable[[], bool] = lambda: False  # never blocks
    add_work: Callable[[int, float], None] = lambda tokens, flops: None  # live work counters
    message: Callable[[str], None] = lambda text: None       # one-line notes for the UI / CLI
    window: Callable[[str], object] = lambda name: nullcontext()  # named measurement window
