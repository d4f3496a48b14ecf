"""Knowledge distillation (F10): a student learns the teacher's temperature-softened outputs.

    L = α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(s, y)      (Hinton et al. 2015)

T² keeps the soft term's gradients the same size whatever T is. For BERT sentence embeddings
there are no logits: the student (fewer layers, initialised from the teacher's) is trained to
match the teacher's mean-pooled embeddings (1 − cosine, plus a small MSE term) and, as in
TinyBERT (Jiao et al. 2020), each student block's hidden states to those of the teacher block
it was copied from: many targets per sentence instead of one, so it generalises from less text.
Both loops are workbench.train.Trainer with a distillation loss_fn.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Iterator

import torch
from torch import nn
from torch.nn import functional as F

from workbench.models.bert import make_student, mean_pool, tokenize
from workbench.train import Trainer, TrainerConfig

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
def lm_distill_loss_fn(teacher: nn.Module, T: float = 2.0, alpha: float = 0.5):
    """A Trainer loss_fn: F10 of the student's logits against the teacher's on the same batch.

    A batch is x (B, T) int64 or (x, y); both models map x to logits (B, T, V) or (B, V). With
    y the hard cross-entropy joins with weight 1 − α (for (B, V) logits y[:, -1] is the target).
    Returns (loss, tokens, correct) as workbench.train.LossFn; correct counts argmax hits on y.
    """
    def loss_fn(student, batch):
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        with torch.no_grad():
            t_logits = teacher(x)
        s_logits = student(x)
        if y is not None and s_logits.dim() == 2 and y.dim() == 2:
            y = y[:, -1]      # (B, V) models predict the token after the window
        loss = distillation_loss(s_logits, t_logits, y, T=T, alpha=alpha)
        if y is None:
            return loss, x.numel(), 0
        return loss, y.numel(), int((s_logits.argmax(-1) == y).sum())
    return loss_fn


def _forever(batches: Iterable) -> Iterator:
    """Cycle through a re-iterable of batches without end (the Trainer decides when to stop)."""
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("distillation needs at least one batch")


def distill_lm(teacher: nn.Module, student: nn.Module, batches: Iterable, steps: int, T: float = 2.0,
               alpha: float = 0.5, lr: float = 3e-3, progress: Progress | None = None,
               checkpoint: Callable[[], bool] | None = None) -> list[dict]:
    """Train any LM student on a teacher's softened logits; returns the Trainer history (step, loss, ...).

    A thin wrapper: workbench.train.Trainer with lm_distill_loss_fn (Adam, gradient clip 1).
    batches yields x (B, T) int64 or (x, y) and is cycled. progress(step=, steps=, loss=) after
    every step; stops early when checkpoint() returns False (a Stop button).
    """
    teacher.eval()
    trainer = Trainer(TrainerConfig(steps=steps, optimizer="adam", lr=lr, grad_clip=1.0), student,
                      lm_distill_loss_fn(teacher, T, alpha), _forever(batches), gate=checkpoint or (lambda: True))
    if progress is not None:
        trainer.add_callback("on_batch_end", lambda tr: progress(step=tr.step, steps=steps, loss=tr.loss))
    trainer.run()
    student.eval()
    return trainer.history


# -- BERT sentence embeddings ------------------------------------------------------------------
@dataclass
class BertDistillConfig:
    n_layers: int = 3          # student blocks, copied from the teacher (make_student picks which)
    steps: int = 300           # optimiser steps
    batch_size: int = 32       # sentences per step
    lr: float = 1e-4           # peak Adam learning rate (20 warm-up steps, then linear decay)
    mse_weight: float = 1.0    # embedding loss = (1 − cos) + mse_weight · MSE (embeddings are ~unit scale)
    hidden_weight: float = 1.0   # weight of the per-block hidden-state loss (TinyBERT); 0 = embeddings only
    max_length: int = 64       # tokens per sentence
    freeze_embeddings: bool = True   # keep the teacher's token embeddings: fewer updates, less overfitting
    dropout: bool = False      # False: the student trains without dropout, like the (eval-mode) teacher it copies
    seed: int = 0


def embedding_loss(student_emb: torch.Tensor, teacher_emb: torch.Tensor, mse_weight: float = 1.0) -> torch.Tensor:
    """(1 − mean cosine) + mse_weight · MSE between (B, H) embeddings."""
    cos = F.cosine_similarity(student_emb, teacher_emb, dim=-1).mean()
    return (1 - cos) + mse_weight * F.mse_loss(student_emb, teacher_emb)


def hidden_loss(student_h: torch.Tensor, teacher_h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Relative squared error Σ‖s − t‖² / Σ‖t‖² over the non-padding tokens of (B, T, H) states.

    Relative, so blocks whose activations are large do not drown the others (0 = identical).
    """
    m = mask.unsqueeze(-1).to(teacher_h.dtype)                              # (B, T, 1)
    return ((student_h - teacher_h) ** 2 * m).sum() / (teacher_h ** 2 * m).sum().clamp(min=1e-9)


def teacher_layer_map(student: nn.Module, teacher: nn.Module) -> list[int]:
    """Which teacher block each student block imitates: make_student's choice, else the last ones."""
    kept = getattr(student, "kept_layers", None)
    if kept is not None:
        return list(kept)
    n_s, n_t = len(student.encoder.layer), len(teacher.encoder.layer)
    return list(range(n_t - n_s, n_t))


def bert_distill_loss_fn(teacher: nn.Module, layer_map: list[int], config: BertDistillConfig, stats: dict):
    """A Trainer loss_fn on tokenized batches: embedding loss + hidden_weight × mean block loss.

    The teacher runs on the same batch (no grad): a fresh batch every step costs one teacher
    forward, and no text is ever reused as a memorised target. stats["cosine"] gets the
    batch's mean embedding cosine (for progress), stats["tokens"] its padded token count.
    """
    def loss_fn(student, batch):
        mask = batch["attention_mask"]
        with torch.no_grad():
            t_out = teacher(**batch, output_hidden_states=config.hidden_weight > 0)
        s_out = student(**batch, output_hidden_states=config.hidden_weight > 0)
        s_emb = mean_pool(s_out.last_hidden_state, mask)                  # (B, H)
        t_emb = mean_pool(t_out.last_hidden_state, mask)
        loss = embedding_loss(s_emb, t_emb, config.mse_weight)
        if config.hidden_weight > 0:
            # hidden_states[0] is the embedding layer's output, [k + 1] block k's
            per_block = [hidden_loss(s_out.hidden_states[j + 1], t_out.hidden_states[k + 1], mask)
                         for j, k in enumerate(layer_map)]
            loss = loss + config.hidden_weight * torch.stack(per_block).mean()
        stats["cosine"] = float(F.cosine_similarity(s_emb.detach(), t_emb, dim=-1).mean())
        stats["tokens"] = batch["input_ids"].numel()
        return loss, int(mask.sum()), 0
    return loss_fn


def sentence_batches(tokenizer, sentences: list[str], batch_size: int, max_length: int, seed: int = 0) -> Iterator[dict]:
    """Tokenized batches of batch_size sentences, reshuffled every pass, without end."""
    if not sentences:
        raise ValueError("distillation needs at least one training sentence")
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(sentences), generator=g).tolist()
        for i in range(0, len(order) - batch_size + 1 if len(order) >= batch_size else 1, batch_size):
            yield tokenize(tokenizer, [sentences[j] for j in order[i:i + batch_size]], max_length)


def distill_bert(teacher: nn.Module, tokenizer, sentences: list[str], config: BertDistillConfig = BertDistillConfig(),
                 student: nn.Module | None = None, progress: Progress | None = None,
                 checkpoint: Callable[[], bool] | None = None) -> tuple[nn.Module, list[dict]]:
    """Distill a BERT student (default: make_student(teacher, config.n_layers)) on sentences.

    Returns (student in eval mode, history of {step, loss, cosine, ...}). progress(step=, steps=,
    loss=, cosine=, tokens=) is called after every step (tokens: padded tokens of that batch);
    checkpoint() returning False stops early.
    """
    torch.manual_seed(config.seed)
    student = make_student(teacher, config.n_layers) if student is None else student
    teacher.eval()
    if config.freeze_embeddings and hasattr(student, "embeddings"):
        student.embeddings.requires_grad_(False)
    if not config.dropout:       # transformers' attention reads its rate from these modules too
        for m in student.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
    stats: dict = {}
    trainer = Trainer(TrainerConfig(steps=config.steps, optimizer="adam", lr=config.lr, grad_clip=1.0), student,
                      bert_distill_loss_fn(teacher, teacher_layer_map(student, teacher), config, stats),
                      sentence_batches(tokenizer, sentences, config.batch_size, config.max_length, config.seed),
                      gate=checkpoint or (lambda: True))

    def schedule(tr):   # lr for the next step: linear warm-up over 20 steps, then linear decay to 5 %
        for group in tr.optimizer.param_groups:
            group["lr"] = config.lr * min(1.0, (tr.step + 1) / 20) * max(0.05, 1 - tr.step / config.steps)

    def record(tr):
        tr.history[-1]["cosine"] = stats["cosine"]
        if progress is not None:
            progress(step=tr.step, steps=config.steps, loss=tr.loss, cosine=stats["cosine"], tokens=stats["tokens"])

    schedule(trainer)
    trainer.add_callback("on_batch_end", schedule)
    trainer.add_callback("on_batch_end", record)
    trainer.run()
    student.eval()
    return student, trainer.history


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
