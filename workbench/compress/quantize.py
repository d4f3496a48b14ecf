"""Quantization (F8): the seed's formula, the general affine form, fake-quant, real kernels.

    F8 (seed 003), weights in [0, 1]:   w_q = round(w · (2^b − 1)),   w ≈ w_q / (2^b − 1)
    affine min-max, any range [lo, hi]: scale = (hi − lo) / (2^b − 1),  z = round(−lo / scale)
                                        q = clamp(round(w / scale) + z, 0, 2^b − 1),  w ≈ (q − z) · scale
F8 is the affine form with lo = 0, hi = 1 (then z = 0 and 1/scale = 2^b − 1).

What really runs:
  bits 32           nothing changes                                   kind "none"
  bits 8, CPU       torch.ao dynamic int8 kernels (Linear, LSTM)     kind "real-int8 (torch.ao dynamic)"
  bits 16, GPU      the whole model in half precision                kind "real-fp16"
  any other case    weights rounded to b bits and stored back as fp32 kind "simulated (fake-quant, ...)"
Simulated widths change accuracy only: the kernels that run are the fp32 ones, so their time and
energy are those of fp32.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Iterable

import torch
from torch import nn

from workbench.compress.smooth import smooth_linears
from workbench.errors import SettingsError

GRANULARITIES = ("per-channel", "per-tensor")
KIND_NONE = "none"
KIND_INT8 = "real-int8 (torch.ao dynamic)"
KIND_FP16 = "real-fp16"
KIND_SIMULATED = "simulated (fake-quant, accuracy effect only)"


# -- F8 and the affine form -------------------------------------------------------------------
def quantize_unit(w: torch.Tensor, bits: int) -> torch.Tensor:
    """F8 exactly as seed 003 writes it: integer levels round(w · (2^b − 1)) for w in [0, 1]."""
    _check_bits(bits, 1, 16)
    return torch.round(w * (2 ** bits - 1))


def dequantize_unit(q: torch.Tensor, bits: int) -> torch.Tensor:
    """Back from F8's integer levels to [0, 1]."""
    return q / (2 ** bits - 1)


def affine_qparams(lo: float, hi: float, bits: int) -> tuple[float, int]:
    """(scale, zero_point) of unsigned b-bit min-max quantization of [lo, hi], widened to hold 0."""
    _check_bits(bits, 1, 16)
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)   # 0 must be exact: padding, ReLU zeros
    scale = (hi - lo) / (2 ** bits - 1) if hi > lo else 1.0
    return scale, int(round(-lo / scale))


def quantize_affine(w: torch.Tensor, bits: int, lo: float | None = None,
                    hi: float | None = None) -> tuple[torch.Tensor, float, int]:
    """Min-max affine quantization: (q, scale, zero_point), q = clamp(round(w / scale) + z, 0, 2^b − 1).

    lo/hi default to w's min and max. w / scale is computed as w · (2^b − 1)/(hi − lo), the same
    number, so that on [0, 1] the levels are F8's bit for bit (1/scale is not exact in floats).
    """
    lo = float(w.min()) if lo is None else lo
    hi = float(w.max()) if hi is None else hi
    scale, zero_point = affine_qparams(lo, hi, bits)
    levels = 2 ** bits - 1
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    inv_scale = levels / (hi - lo) if hi > lo else 1.0
    q = torch.clamp(torch.round(w * inv_scale) + zero_point, 0, levels)
    return q, scale, zero_point


def dequantize_affine(q: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    """w ≈ (q − z) · scale."""
    return (q - zero_point) * scale


# -- symmetric fake-quantization of weights ---------------------------------------------------
def fake_quantize_symmetric(w: torch.Tensor, bits: int, granularity: str = "per-channel") -> torch.Tensor:
    """w rounded to b-bit signed levels and scaled back (same shape and dtype as w).

    Levels are −(2^(b−1) − 1) … 2^(b−1) − 1 times scale = max|w| / (2^(b−1) − 1), one scale per
    output channel (row) or one per tensor. b = 1 has no such grid (it would be {0}): weights
    become sign(w) × mean|w| (binary weights as in BinaryConnect / XNOR-Net), zero mapped to +.
    """
    _check_bits(bits, 1, 16)
    _check_granularity(granularity)
    absw = w.abs()
    if granularity == "per-channel" and w.dim() > 1:   # one scale per output row
        dims = tuple(range(1, w.dim()))
        absmean, amax = absw.mean(dim=dims, keepdim=True), absw.amax(dim=dims, keepdim=True)
    else:
        absmean, amax = absw.mean(), absw.amax()
    if bits == 1:
        return torch.where(w >= 0, 1.0, -1.0).to(w.dtype) * absmean
    qmax = 2 ** (bits - 1) - 1
    scale = (amax / qmax).clamp(min=torch.finfo(w.dtype).tiny)
    return torch.clamp(torch.round(w / scale), -qmax, qmax) * scale


def quantizable_weights(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, name) of every matmul weight: nn.Linear.weight and nn.LSTM weight_ih/hh_l*.

    Embeddings are left alone: a lookup does no arithmetic on them.
    """
    out = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            out.append((m, "weight"))
        elif isinstance(m, nn.RNNBase):
            out.extend((m, n) for n, _ in m.named_parameters() if n.startswith("weight_"))
    return out


@torch.no_grad()
def fake_quantize_model(model: nn.Module, bits: int, granularity: str = "per-channel") -> int:
    """Fake-quantize every Linear/LSTM weight in place; returns how many tensors were changed."""
    targets = quantizable_weights(model)
    for module, name in targets:
        w = getattr(module, name)
        w.copy_(fake_quantize_symmetric(w, bits, granularity))
    return len(targets)


# -- real kernels -----------------------------------------------------------------------------
def int8_dynamic(model: nn.Module, granularity: str = "per-channel", skip: tuple[str, ...] = ()) -> nn.Module:
    r"""Real int8 CPU kernels: torch.ao dynamic quantization of Linear (and LSTM) layers, in place.

    The one place the workbench calls torch.ao.quantization, so it can be swapped when PyTorch
    removes it. Weights become int8 (scale per output channel or per tensor), activations are
    quantized on the fly per batch. torch 2.13 warns that torch.ao.quantization is deprecated;
    the warning is silenced here and stated in QuantInfo.detail instead. LSTMs always get a
    per-tensor scale (torch.ao has no per-channel dynamic LSTM). Layers whose full module name
    matches one of the regular expressions in skip stay fp32 (BERT's FFN outputs:
    r"encoder\.layer\.\d+\.output\.dense").
    """
    _check_granularity(granularity)
    q = torch.ao.quantization
    linear_cfg = q.per_channel_dynamic_qconfig if granularity == "per-channel" else q.default_dynamic_qconfig
    spec = {nn.Linear: linear_cfg, nn.LSTM: q.default_dynamic_qconfig}
    if skip:   # by module name: only the layers not skipped
        spec = {name: (q.default_dynamic_qconfig if isinstance(m, nn.LSTM) else linear_cfg)
                for name, m in model.named_modules()
                if isinstance(m, (nn.Linear, nn.LSTM)) and not any(re.fullmatch(p, name) for p in skip)}
    model.to("cpu").eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization.*deprecated")
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*deprecated")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return q.quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)


def int8_module_count(model: nn.Module) -> int:
    """How many modules run torch.ao dynamic int8 kernels (proof that real kernels are in use)."""
    qd = torch.ao.nn.quantized.dynamic
    return sum(isinstance(m, (qd.Linear, qd.LSTM)) for m in model.modules())


# -- the policy -------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuantInfo:
    """What apply_quantization did: kind is one of the KIND_* strings, detail is one line."""

    bits: int
    granularity: str
    device: str
    kind: str
    detail: str

    @property
    def real(self) -> bool:
        return self.kind in (KIND_INT8, KIND_FP16)


def apply_quantization(model: nn.Module, bits: int, granularity: str = "per-channel",
                       device: str = "cpu", smooth_alpha: float = 0.0,
                       calibration: Iterable | None = None) -> tuple[nn.Module, QuantInfo]:
    """Quantize a model (changed in place: pass a copy) and say whether real kernels run.

    bits 32 -> none; 8 on CPU -> real int8; 16 on CUDA -> real fp16 (16 on CPU: simulated);
    any other width from 1 to 16 -> simulated fake-quant of Linear/LSTM weights.
    smooth_alpha > 0 with calibration batches: SmoothQuant (workbench.compress.smooth) before
    real int8, where activations are quantized; other widths quantize weights only, so it is skipped.
    """
    if not isinstance(bits, int) or isinstance(bits, bool) or not (1 <= bits <= 16 or bits == 32):
        raise SettingsError(f"bits must be an integer from 1 to 16, or 32 (no quantization), got {bits!r}")
    _check_granularity(granularity)
    if not 0.0 <= smooth_alpha <= 1.0:
        raise SettingsError(f"smooth_alpha must be in [0, 1] (0 = no smoothing), got {smooth_alpha!r}")
    on_gpu = str(device).startswith("cuda")

    if bits == 32:
        return model, QuantInfo(bits, granularity, device, KIND_NONE, "fp32 weights and kernels, unchanged")
    if bits == 8 and not on_gpu:
        smoothed = ""
        if smooth_alpha > 0 and calibration is not None:
            smoothed = "; " + smooth_linears(model, calibration, smooth_alpha).detail
        model = int8_dynamic(model, granularity)
        n = int8_module_count(model)
        return model, QuantInfo(bits, granularity, device, KIND_INT8,
                                f"{n} Linear/LSTM modules run int8 kernels ({granularity} weight scales, "
                                f"activations quantized per batch){smoothed}; torch.ao deprecation warning silenced")
    if bits == 16 and on_gpu:
        model = model.half()
        return model, QuantInfo(bits, granularity, device, KIND_FP16,
                                "all weights and activations in float16: real half-precision GPU kernels")
    n = fake_quantize_model(model, bits, granularity)
    why = ("no int8 kernel path is used on CUDA here" if bits == 8 else
           "fp16 kernels are only used on a GPU" if bits == 16 else
           f"no {bits}-bit kernels exist in PyTorch")
    how = "sign × mean|w|" if bits == 1 else f"{granularity} symmetric scales"
    return model, QuantInfo(bits, granularity, device, KIND_SIMULATED,
                            f"{n} weight tensors rounded to {bits} bits ({how}) and stored as fp32: "
                            f"{why}, so fp32 kernels run and time/energy are those of fp32")


def _check_bits(bits: int, lo: int, hi: int):
    if not isinstance(bits, int) or isinstance(bits, bool) or not lo <= bits <= hi:
        raise SettingsError(f"bits must be an integer from {lo} to {hi}, got {bits!r}")


def _check_granularity(granularity: str):
    if granularity not in GRANULARITIES:
        raise SettingsError(f"granularity {granularity!r} is not valid; choose one of {', '.join(GRANULARITIES)}")

