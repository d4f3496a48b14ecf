"""Knowledge distillation (F10): a student learns the teacher's temperature-softened outputs.

    L = α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(s, y)      (Hinton et al. 2015)

T² keeps the soft term's gradients the same size whatever T is. For BERT sentence embeddings
there are no logits: the student (fewer layers, initialised from the teacher's) is trained to
match the teacher's mean-pooled embeddings (1 − cosine, plus a small MSE term).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable

import torch
from torch import nn
from torch.nn import functional as F

from workbench.models.bert import encode, make_student, tokenize

Progress = Callable[..., None]


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      targets: torch.Tensor | None = None, T: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    """F10 as in DistilBERT / Hinton: α·T²·KL(p_t ‖ p_s) + (1 − α)·CE(s, y), in nats per row.

    Logits are (N, V) or (B, T, V) (flattened to rows); KL is averaged over rows. With
    targets=None there is no hard term and the soft term gets weight 1 (not α).
    """
    if T <= 0:
        raise ValueError(f"temperature T must be > 0, got {T}")
    s = student_logits.reshape(-1, student_logits.size(-1))
    t = teacher_logits.reshape(-1, teacher_logits.size(-1)).detach()
    soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                    log_target=True) * T * T
    if targets is None:
        return soft
    return alpha * soft + (1 - alpha) * F.cross_entropy(s, targets.reshape(-1))


# -- language models ---------------------------------------------------------------------------
def distill_lm(teacher: nn.Module, student: nn.Module, batches: Iterable, steps: int, T: float = 2.0,
               alpha: float = 0.5, lr: float = 3e-3, progress: Progress | None = None,
               checkpoint: Callable[[], bool] | None = None) -> list[dict]:
    """Train any LM student on a teacher's softened logits; returns the history (step, loss, kl).

    batches yields x (B, T) int64 or (x, y); both models map x to logits (B, T, V) or (B, V).
    With y, the hard cross-entropy joins with weight 1 − α (for (B, V) logits y[:, -1] is used).
    Stops early when checkpoint() returns False (a Stop button).
    """
    teacher.eval()
    student.train()
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    history, it = [], iter(batches)
    for step in range(1, steps + 1):
        if checkpoint is not None and not checkpoint():
            break
        try:
            batch = next(it)
        except StopIteration:
            it = iter(batches)
            batch = next(it)
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        with torch.no_grad():
            t_logits = teacher(x)
        s_logits = student(x)
        if y is not None and s_logits.dim() == 2 and y.dim() == 2:
            y = y[:, -1]      # (B, V) models predict the token after the window
        loss = distillation_loss(s_logits, t_logits, y, T=T, alpha=alpha)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        value = loss.item()
        history.append({"step": step, "loss": value})
        if progress is not None:
            progress(step=step, steps=steps, loss=value)
    student.eval()
    return history


# -- BERT sentence embeddings ------------------------------------------------------------------
@dataclass
class BertDistillConfig:
    n_layers: int = 3          # student blocks, taken evenly from the teacher's
    steps: int = 300           # optimiser steps
    batch_size: int = 32       # sentences per step
    lr: float = 1e-4           # AdamW learning rate
    mse_weight: float = 1.0    # loss = (1 − cos) + mse_weight · MSE (embeddings are ~unit scale)
    max_length: int = 64       # tokens per sentence
    freeze_embeddings: bool = True   # keep the teacher's token embeddings: fewer updates, less overfitting
    seed: int = 0


def embedding_loss(student_emb: torch.Tensor, teacher_emb: torch.Tensor, mse_weight: float = 1.0) -> torch.Tensor:
    """(1 − mean cosine) + mse_weight · MSE between (B, H) embeddings."""
    cos = F.cosine_similarity(student_emb, teacher_emb, dim=-1).mean()
    return (1 - cos) + mse_weight * F.mse_loss(student_emb, teacher_emb)


@torch.no_grad()
def _teacher_targets(teacher, tokenizer, sentences, config) -> list[tuple[dict, torch.Tensor]]:
    """Tokenized batches with the teacher's embeddings, computed once (the teacher never changes)."""
    teacher.eval()
    out = []
    for i in range(0, len(sentences), config.batch_size):
        batch = tokenize(tokenizer, sentences[i:i + config.batch_size], config.max_length)
        out.append((batch, encode(teacher, batch)))
    return out


def distill_bert(teacher: nn.Module, tokenizer, sentences: list[str], config: BertDistillConfig = BertDistillConfig(),
                 student: nn.Module | None = None, progress: Progress | None = None,
                 checkpoint: Callable[[], bool] | None = None) -> tuple[nn.Module, list[dict]]:
    """Distill a BERT student (default: config.n_layers blocks of the teacher) on sentences.

    Returns (student in eval mode, history of {step, loss, cosine}). progress(step=, steps=,
    loss=, cosine=, tokens=) is called after every step (tokens: padded tokens of that batch);
    checkpoint() returning False stops early. The teacher's embeddings are computed once, first.
    """
    torch.manual_seed(config.seed)
    student = make_student(teacher, config.n_layers) if student is None else student
    data = _teacher_targets(teacher, tokenizer, sentences, config)
    if config.freeze_embeddings and hasattr(student, "embeddings"):
        student.embeddings.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=config.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20) * max(0.05, 1 - s / config.steps))
    order = torch.randperm(len(data))
    student.train()
    history = []
    for step in range(1, config.steps + 1):
        if checkpoint is not None and not checkpoint():
            break
        if (step - 1) % len(data) == 0 and step > 1:
            order = torch.randperm(len(data))
        batch, target = data[int(order[(step - 1) % len(data)])]
        emb = encode(student, batch)                                     # (B, H)
        loss = embedding_loss(emb, target, config.mse_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        sched.step()
        cos = float(F.cosine_similarity(emb.detach(), target, dim=-1).mean())
        value = loss.item()
        history.append({"step": step, "loss": value, "cosine": cos})
        if progress is not None:
            progress(step=step, steps=config.steps, loss=value, cosine=cos, tokens=batch["input_ids"].numel())
    student.eval()
    return student, history


def cached_bert_student(teacher: nn.Module, tokenizer, model_path: str, sentences: list[str],
                        config: BertDistillConfig, cache_dir, retrain: bool = False,
                        progress: Progress | None = None) -> tuple[nn.Module, dict]:
    """A distilled student from cache_dir if one with the same teacher, data and config exists.

    The key hashes the teacher path, the config and the sentences, so a change retrains.
    Returns (student, info) with info = {cached: bool, path, seconds, final_cosine}.
    """
    key = hashlib.sha256(repr((str(model_path), asdict(config), sentences)).encode()).hexdigest()[:16]
    path = cache_dir / f"bert-student-{config.n_layers}l-{key}.pt"
    student = make_student(teacher, config.n_layers)
    if path.exists() and not retrain:
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            student.load_state_dict(saved["state_dict"])
            student.eval()
            return student, {"cached": True, "path": str(path), "seconds": 0.0,
                             "final_cosine": saved.get("final_cosine", float("nan"))}
        except Exception:   # a corrupt or stale file: recompute below
            pass
    t0 = time.perf_counter()
    student, history = distill_bert(teacher, tokenizer, sentences, config, student=student, progress=progress)
    final = sum(h["cosine"] for h in history[-10:]) / max(1, len(history[-10:]))
    tmp = path.with_suffix(".tmp")
    torch.save({"state_dict": student.state_dict(), "final_cosine": final}, tmp)
    tmp.replace(path)
    return student, {"cached": False, "path": str(path), "seconds": time.perf_counter() - t0, "final_cosine": final}
