"""Pruning (F9): θ' = Prune(θ, k) keeps the k largest-magnitude weights.

Two families, and the difference is the lesson:
  unstructured / global  zero the smallest |w| (torch.nn.utils.prune, made permanent with
                         prune.remove). The matrices keep their shape and dense kernels still
                         multiply the zeros: fewer nonzeros, same time and energy.
  heads / neurons        remove whole attention heads or FFN neurons (the least important by the
                         L1 norm of their slice of the output projection). The matrices shrink:
                         less arithmetic, so less time and energy.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import prune

from workbench.compress.quantize import quantizable_weights
from workbench.errors import ModelError, SettingsError
from workbench.settings import PRUNE_KINDS   # one list for Settings and here

NO_SPEEDUP = "zeros are still multiplied: dense kernels do not skip them"


@dataclass(frozen=True)
class PruneInfo:
    """What apply_pruning did, with counts over all parameters of the model."""

    kind: str
    ratio: float
    params_before: int
    params_after: int
    nonzero_before: int
    nonzero_after: int
    speedup_expected: bool     # True only when matrices shrank
    detail: str                # one line


def count_nonzero(model: nn.Module) -> int:
    return sum(int(torch.count_nonzero(p)) for p in model.parameters())


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def apply_pruning(model: nn.Module, ratio: float, kind: str = "unstructured") -> PruneInfo:
    """Prune a model in place (pass a copy). ratio in [0, 1): fraction of weights/heads/neurons removed."""
    if kind not in PRUNE_KINDS:
        raise SettingsError(f"prune kind {kind!r} is not valid; choose one of {', '.join(PRUNE_KINDS)}")
    if not isinstance(ratio, (int, float)) or not 0.0 <= ratio < 1.0:
        raise SettingsError(f"prune ratio must be in [0, 1), got {ratio!r}")
    before = count_parameters(model), count_nonzero(model)
    if ratio == 0.0:
        detail, speedup = "nothing pruned (ratio 0)", False
    elif kind in ("unstructured", "global"):
        detail, speedup = magnitude_prune(model, ratio, per_layer=(kind == "unstructured")), False
    elif kind == "heads":
        detail, speedup = prune_heads(model, ratio), True
    else:
        detail, speedup = prune_neurons(model, ratio), True
    return PruneInfo(kind, float(ratio), before[0], count_parameters(model), before[1], count_nonzero(model),
                     speedup, detail)


# -- unstructured (F9) ------------------------------------------------------------------------
def magnitude_prune(model: nn.Module, ratio: float, per_layer: bool = True) -> str:
    """Zero the ratio smallest |w| of each Linear/LSTM weight (per layer) or of all of them (global)."""
    targets = quantizable_weights(model)
    if not targets:
        raise ModelError(f"{type(model).__name__} has no Linear or LSTM weights to prune")
    if per_layer:
        for module, name in targets:
            prune.l1_unstructured(module, name, amount=ratio)
    else:
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=ratio)
    for module, name in targets:
        prune.remove(module, name)   # bake the mask into the weight: a plain dense tensor again
    if any(isinstance(m, nn.RNNBase) for m, _ in targets):
        for m in {id(m): m for m, _ in targets if isinstance(m, nn.RNNBase)}.values():
            m.flatten_parameters()   # keep cuDNN's packed weight buffer in step
    scope = "of each Linear/LSTM weight" if per_layer else "of all Linear/LSTM weights together"
    return (f"magnitude pruning (F9): smallest {ratio:.0%} {scope} set to zero; {NO_SPEEDUP}, "
            "so expect no speed-up or energy saving")


# -- structured: BERT attention heads and FFN neurons -----------------------------------------
def _bert_blocks(model: nn.Module) -> nn.ModuleList:
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList) or not hasattr(layers[0], "attention"):
        raise ModelError(f"{type(model).__name__} has no BERT attention heads; 'heads' pruning needs a "
                         "BERT model (use unstructured, global or neurons)")
    return layers


def _keep_count(n: int, ratio: float) -> int:
    """How many of n units survive removing the fraction ratio (at least one)."""
    return max(1, n - int(n * ratio))


def _slice_importance(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """L1 norm of each group of input columns of an output projection (out, groups·g) -> (groups,)."""
    return weight.abs().view(weight.size(0), groups, -1).sum(dim=(0, 2))


@torch.no_grad()
def prune_heads(model: nn.Module, ratio: float) -> str:
    """Remove the fraction ratio of attention heads in every layer (lowest L1 of the output slice).

    transformers 5 has no prune_heads: query/key/value lose the heads' rows, the output dense
    loses their columns (transformers.pytorch_utils.prune_linear_layer), and each self-attention
    module's num_attention_heads / all_head_size are updated.
    """
    from transformers.pytorch_utils import prune_linear_layer

    removed = total = 0
    for block in _bert_blocks(model):
        att, out = block.attention.self, block.attention.output
        n_heads, d = att.num_attention_heads, att.attention_head_size
        keep_n = _keep_count(n_heads, ratio)
        heads = torch.topk(_slice_importance(out.dense.weight, n_heads), keep_n).indices.sort().values
        index = (heads[:, None] * d + torch.arange(d)).reshape(-1)           # kept columns of Q/K/V rows
        att.query = prune_linear_layer(att.query, index, dim=0)
        att.key = prune_linear_layer(att.key, index, dim=0)
        att.value = prune_linear_layer(att.value, index, dim=0)
        out.dense = prune_linear_layer(out.dense, index, dim=1)
        att.num_attention_heads, att.all_head_size = keep_n, keep_n * d
        removed, total = removed + n_heads - keep_n, total + n_heads
    return (f"removed {removed} of {total} attention heads (lowest L1 of their output-projection slice): "
            "Q/K/V/output matrices shrink, so less arithmetic")


@torch.no_grad()
def prune_neurons(model: nn.Module, ratio: float) -> str:
    """Remove the fraction ratio of hidden units: BERT FFN neurons, or the hidden layer of an MLP/LSTM LM.

    Importance of a unit = L1 norm of its column in the layer that reads it (the output projection).
    """
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if isinstance(layers, nn.ModuleList) and hasattr(layers[0], "intermediate"):
        return _prune_bert_ffn(layers, ratio)
    if isinstance(getattr(model, "out", None), nn.Linear) and isinstance(getattr(model, "hidden", None), nn.Linear):
        return _prune_mlp_hidden(model, ratio)
    if isinstance(getattr(model, "out", None), nn.Linear) and isinstance(getattr(model, "lstm", None), nn.LSTM):
        return _prune_lstm_hidden(model, ratio)
    raise ModelError(f"{type(model).__name__} has no neurons this workbench can remove; 'neurons' works on "
                     "BERT (FFN), the MLP LM (hidden layer) and a 1-layer LSTM LM (use unstructured or global)")


def _prune_bert_ffn(layers: nn.ModuleList, ratio: float) -> str:
    from transformers.pytorch_utils import prune_linear_layer

    removed = total = 0
    for block in layers:
        up, down = block.intermediate.dense, block.output.dense             # (I, H), (H, I)
        keep = torch.topk(down.weight.abs().sum(0), _keep_count(up.out_features, ratio)).indices.sort().values
        removed, total = removed + up.out_features - keep.numel(), total + up.out_features
        block.intermediate.dense = prune_linear_layer(up, keep, dim=0)
        block.output.dense = prune_linear_layer(down, keep, dim=1)
    return (f"removed {removed} of {total} FFN neurons (lowest L1 of their output-projection column): "
            "the FFN matrices shrink, so less arithmetic")


def _shrink_linear(layer: nn.Linear, keep: torch.Tensor, dim: int) -> nn.Linear:
    new = nn.Linear(layer.in_features if dim == 0 else keep.numel(),
                    layer.out_features if dim == 1 else keep.numel(), bias=layer.bias is not None)
    new.weight.copy_(layer.weight.index_select(dim, keep))
    if layer.bias is not None:
        new.bias.copy_(layer.bias[keep] if dim == 0 else layer.bias)
    return new.to(layer.weight.device)


def _prune_mlp_hidden(model: nn.Module, ratio: float) -> str:
    n = model.hidden.out_features
    keep = torch.topk(model.out.weight.abs().sum(0), _keep_count(n, ratio)).indices.sort().values
    model.hidden = _shrink_linear(model.hidden, keep, dim=0)
    model.out = _shrink_linear(model.out, keep, dim=1)
    if hasattr(getattr(model, "config", None), "n_hidden"):
        model.config.n_hidden = keep.numel()
    return f"removed {n - keep.numel()} of {n} hidden neurons (lowest L1 of their output column): matrices shrink"


def _prune_lstm_hidden(model: nn.Module, ratio: float) -> str:
    lstm: nn.LSTM = model.lstm
    if lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size:
        raise ModelError("'neurons' pruning of an LSTM needs a 1-layer, unidirectional LSTM without projection")
    h = lstm.hidden_size
    keep = torch.topk(model.out.weight.abs().sum(0), _keep_count(h, ratio)).indices.sort().values
    rows = (torch.arange(4)[:, None] * h + keep).reshape(-1)     # the kept unit in each of the 4 gates
    new = nn.LSTM(lstm.input_size, keep.numel(), 1, bias=lstm.bias, batch_first=lstm.batch_first)
    new.weight_ih_l0.copy_(lstm.weight_ih_l0[rows])
    new.weight_hh_l0.copy_(lstm.weight_hh_l0[rows][:, keep])
    if lstm.bias:
        new.bias_ih_l0.copy_(lstm.bias_ih_l0[rows])
        new.bias_hh_l0.copy_(lstm.bias_hh_l0[rows])
    model.lstm = new.to(lstm.weight_ih_l0.device)
    model.out = _shrink_linear(model.out, keep, dim=1)
    if hasattr(model, "state"):
        model.state = None
    if hasattr(getattr(model, "config", None), "n_hidden"):
        model.config.n_hidden = keep.numel()
    return f"removed {h - keep.numel()} of {h} LSTM units (lowest L1 of their output column): matrices shrink"
