"""One Trainer for every model, with callbacks (after minGPT): the loop knows nothing of meters,
plots or widgets; they subscribe to events.

Events: "on_batch_end" (trainer) after every step, "on_train_end" (trainer) once.
The gate is called before every step: it may block (the thermal governor pauses work there)
and returns False to stop early (a Stop button, Ctrl-C).
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import nn


@dataclass
class TrainerConfig:
    steps: int = 200
    optimizer: str = "adam"      # "adam" or "sgd" (seed 000 uses SGD, seed 001 Adam)
    lr: float = 3e-3
    weight_decay: float = 0.0    # L2 (seed 003's λ)
    grad_clip: float = 1.0       # max gradient norm; 0 = off


# loss_fn(model, batch) -> (loss, n_tokens, n_correct)
LossFn = Callable[[nn.Module, tuple], tuple[torch.Tensor, int, int]]


def make_optimizer(config: TrainerConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer {config.optimizer!r} is not valid; choose adam or sgd")


class Trainer:
    def __init__(self, config: TrainerConfig, model: nn.Module, loss_fn: LossFn,
                 batches: Iterator[tuple], gate: Callable[[], bool] = lambda: True):
        self.config = config
        self.model = model
        self.loss_fn = loss_fn
        self.batches = batches
        self.gate = gate
        self.optimizer = make_optimizer(config, model.parameters())
        self.callbacks: dict[str, list[Callable]] = defaultdict(list)
        self.step = 0
        self.loss = float("nan")
        self.tokens = 0
        self.correct = 0
        self.stopped_early = False
        self.history: list[dict] = []

    def add_callback(self, event: str, fn: Callable[["Trainer"], None]):
        self.callbacks[event].append(fn)

    def trigger(self, event: str):
        for fn in self.callbacks[event]:
            fn(self)

    def run(self) -> "Trainer":
        self.model.train()
        t0 = time.perf_counter()
        while self.step < self.config.steps:
            if not self.gate():
                self.stopped_early = True
                break
            loss, n_tokens, n_correct = self.loss_fn(self.model, next(self.batches))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.grad_clip > 0:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            self.step += 1
            self.loss = loss.item()
            self.tokens += n_tokens
            self.correct += n_correct
            self.history.append({"step": self.step, "loss": self.loss, "accuracy": n_correct / max(n_tokens, 1),
                                 "elapsed_s": time.perf_counter() - t0})
            self.trigger("on_batch_end")
        self.trigger("on_train_end")
        return self
