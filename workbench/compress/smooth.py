"""SmoothQuant: move activation outliers into the weights before int8 (Xiao et al. 2023).

Dynamic int8 quantizes a Linear's input with one scale per batch. A few input channels of a
transformer carry values 10–100× larger than the rest, so that one scale leaves the other
channels with only a handful of int8 steps. Dividing each input channel j by s_j and
multiplying weight column j by s_j leaves X·Wᵀ exactly unchanged in fp32,

    y = (X · diag(s)⁻¹) · (W · diag(s))ᵀ,   s_j = max|X_j|^α / max|W_j|^(1 − α),

but flattens the activations (α = 1 moves all the range into the weights, α = 0 none). The
weights are then quantized per output channel, where the larger columns cost little. max|X_j|
comes from calibration batches (training text, never the evaluation set). BERT normalises
after the residual, so 1/s cannot be folded into a LayerNorm: the division runs as one
element-wise multiply before each int8 matmul, ~0.2 % of the arithmetic but, being bound by
memory, about 5 % of the int8 model's CPU time (profiled on MiniLM).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import torch
from torch import nn

DEFAULT_ALPHA = 0.85   # best of 0.3–0.95 for MiniLM and its students with 256 calibration sentences


class SmoothedLinear(nn.Module):
    """linear(x / s) with the linear's weight columns already multiplied by s: same output in fp32."""

    def __init__(self, linear: nn.Linear, scale: torch.Tensor):
        super().__init__()
        if scale.shape != (linear.in_features,) or not bool((scale > 0).all()):
            raise ValueError(f"scale must be ({linear.in_features},) and positive, got {tuple(scale.shape)}")
        self.register_buffer("inv_scale", (1.0 / scale).to(linear.weight.dtype))
        self.linear = linear
        with torch.no_grad():
            linear.weight.mul_(scale.to(linear.weight.dtype))        # (out, in) · (in,) per column

    @property
    def in_features(self) -> int:     # read by FLOP counters and pruning, as on nn.Linear
        return self.linear.in_features

    @property
    def out_features(self) -> int:
        return self.linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:             # x (..., in) -> (..., out)
        return self.linear(x * self.inv_scale)


@dataclass(frozen=True)
class SmoothInfo:
    alpha: float
    layers: int          # Linear layers smoothed
    batches: int         # calibration batches seen
    max_ratio: float     # largest max|X_j| / median max|X_j| before smoothing (how outlier-heavy)

    @property
    def detail(self) -> str:
        return (f"SmoothQuant α={self.alpha:g} on {self.layers} Linear layers, calibrated on {self.batches} "
                f"batches (largest input channel {self.max_ratio:.0f}× the median)")


@torch.no_grad()
def input_absmax(model: nn.Module, batches: Iterable, pattern: str = ".*") -> dict[str, torch.Tensor]:
    """max |x_j| over calibration batches for each input channel j of every matching nn.Linear.

    A batch is a dict (called as model(**batch)) or a tensor / tuple (model(batch) / model(*batch)).
    Returns {module name: (in_features,) tensor}.
    """
    names = {m: n for n, m in model.named_modules() if isinstance(m, nn.Linear) and re.fullmatch(pattern, n)}
    absmax: dict[str, torch.Tensor] = {}

    def hook(module, inputs, _out):
        x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)      # (in,)
        name = names[module]
        absmax[name] = torch.maximum(absmax[name], x) if name in absmax else x

    handles = [m.register_forward_hook(hook) for m in names]
    was_training = model.training
    model.eval()
    try:
        for batch in batches:
            if isinstance(batch, dict):
                model(**batch)
            elif isinstance(batch, (tuple, list)):
                model(*batch)
            else:
                model(batch)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return absmax


def smoothing_scale(x_absmax: torch.Tensor, weight: torch.Tensor, alpha: float) -> torch.Tensor:
    """s_j = max|X_j|^α / max|W_j|^(1 − α) for weight (out, in); clamped away from 0."""
    w_absmax = weight.detach().abs().amax(0).clamp(min=1e-5)                          # (in,)
    return (x_absmax.clamp(min=1e-5) ** alpha / w_absmax ** (1 - alpha)).clamp(min=1e-5)


@torch.no_grad()
def smooth_linears(model: nn.Module, batches: Iterable, alpha: float = DEFAULT_ALPHA,
                   pattern: str = ".*") -> SmoothInfo:
    """Replace every matching nn.Linear by a SmoothedLinear, in place; the fp32 output is unchanged.

    batches: calibration inputs (see input_absmax); they must not be the evaluation data.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    batches = list(batches)
    absmax = input_absmax(model, batches, pattern)
    ratios = []
    for name, x_max in absmax.items():
        linear = model.get_submodule(name)
        ratios.append(float(x_max.max() / x_max.median().clamp(min=1e-9)))
        parent, _, child = name.rpartition(".")
        holder = model.get_submodule(parent) if parent else model
        setattr(holder, child, SmoothedLinear(linear, smoothing_scale(x_max, linear.weight, alpha)))
    return SmoothInfo(alpha, len(absmax), len(batches), max(ratios, default=1.0))
