"""Language-model workloads (mlp, lstm, gpt): train on a corpus, compress, evaluate.

One function per stage so the data-parallel worker (workbench.parallel) can reuse them.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from workbench.data.batches import batchify, random_windows, sequential_chunks
from workbench.data.corpus import Corpus, load_corpus
from workbench.models.gpt import GPT, GPTConfig
from workbench.models.lstm import LSTMConfig, LSTMLM
from workbench.models.mlp import MLPConfig, MLPLM
from workbench.settings import Settings
from workbench.train import Trainer, TrainerConfig
from workbench.workloads.base import RunContext, WorkloadOutput


@dataclass
class LMRecipe:
    """Model config, optimiser and sequence length of one workload at one size."""

    model: object          # MLPConfig | LSTMConfig | GPTConfig (vocab_size filled in later)
    optimizer: str
    lr: float
    seq_len: int           # T per chunk (MLP: its context window)


def recipe(workload: str, tiny: bool) -> LMRecipe:
    """Sizes that train in seconds on 2 CPU cores (tiny) or in a minute or two (full)."""
    if workload == "mlp":
        cfg = MLPConfig(context=3, n_embd=16 if tiny else 32, n_hidden=64 if tiny else 256)
        return LMRecipe(cfg, "sgd", 0.5, cfg.context)
    if workload == "lstm":
        return LMRecipe(LSTMConfig(n_embd=32 if tiny else 128, n_hidden=64 if tiny else 256), "adam", 1e-2 if tiny else 3e-3, 20 if tiny else 35)
    if workload == "gpt":
        cfg = GPTConfig(block_size=16 if tiny else 64, n_layer=1 if tiny else 2, n_head=2 if tiny else 4,
                        n_embd=32 if tiny else 128)
        return LMRecipe(cfg, "adam", 1e-2 if tiny else 3e-3, cfg.block_size)
    raise ValueError(f"workload {workload!r} is not a language model; choose mlp, lstm or gpt")


def build_model(workload: str, tiny: bool, vocab_size: int, seed: int) -> tuple[nn.Module, LMRecipe]:
    r = recipe(workload, tiny)
    r.model.vocab_size = vocab_size
    torch.manual_seed(seed)
    model = {"mlp": MLPLM, "lstm": LSTMLM, "gpt": GPT}[workload](r.model)
    return model, r


def lm_loss(model: nn.Module, batch: tuple) -> tuple[torch.Tensor, int, int]:
    """Cross-entropy of next-token predictions; works for (B, V) and (B, T, V) logits."""
    x, y = batch
    logits = model(x)
    if logits.dim() == 2:        # MLP: predict the token after the window
        y = y[:, -1]
    logits, y = logits.reshape(-1, logits.size(-1)), y.reshape(-1)
    loss = F.cross_entropy(logits, y)
    return loss, y.numel(), int((logits.argmax(-1) == y).sum())


def train_batches(corpus: Corpus, workload: str, seq_len: int, batch_size: int, seed: int):
    """LSTM: sequential chunks (its state runs on); MLP and GPT: random windows."""
    if workload == "lstm":
        return sequential_chunks(batchify(corpus.train, batch_size), seq_len)
    return random_windows(corpus.train, batch_size, seq_len, torch.Generator().manual_seed(seed))


@torch.no_grad()
def evaluate(model: nn.Module, corpus: Corpus, workload: str, seq_len: int, max_tokens: int = 20_000) -> dict:
    """Mean NLL per token on the validation stream -> perplexity (F7) and accuracy."""
    model.eval()
    ids = corpus.valid[:max_tokens]
    if workload == "mlp":   # every window of `context` tokens predicts the next one
        x = ids.unfold(0, seq_len, 1)[:-1]                  # (N - n, n)
        y = ids[seq_len:]                                   # (N - n,)
        logits = model(x)
    else:
        if hasattr(model, "reset_state"):
            model.reset_state()
        streams = batchify(ids, 1 if workload == "lstm" else 16)
        ys, outs = [], []
        for i in range(0, streams.size(1) - 1 - seq_len, seq_len):
            x, yy = streams[:, i:i + seq_len], streams[:, i + 1:i + 1 + seq_len]
            outs.append(model(x).reshape(-1, corpus.vocab_size))
            ys.append(yy.reshape(-1))
        logits, y = torch.cat(outs), torch.cat(ys)
    nll = F.cross_entropy(logits, y).item()
    model.train()
    return {"loss": nll, "perplexity": math.exp(nll), "accuracy": (logits.argmax(-1) == y).float().mean().item(),
            "eval_tokens": int(y.numel())}


def compress(model: nn.Module, settings: Settings, calibration=None) -> tuple[nn.Module, dict, list[str]]:
    """Apply the Settings' pruning then quantization; report what really ran.

    calibration: input batches for SmoothQuant (used only with smooth_alpha > 0 and real int8).
    """
    info, notes = {}, []
    if settings.prune_ratio > 0:
        from workbench.compress import apply_pruning
        p = apply_pruning(model, settings.prune_ratio, settings.prune_kind)
        info["pruning"] = p.as_dict() if hasattr(p, "as_dict") else vars(p)
        notes.append(f"pruning: {p.detail}")
    if settings.bits < 32:
        from workbench.compress import apply_quantization
        model, q = apply_quantization(model, settings.bits, settings.quant_granularity, settings.device,
                                      settings.smooth_alpha, calibration)
        info["quantization"] = q.as_dict() if hasattr(q, "as_dict") else vars(q)
        notes.append(f"quantization: {q.kind}: {q.detail}")
    return model, info, notes


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def run_lm(ctx: RunContext) -> WorkloadOutput:
    """Train, compress and evaluate one language model under the run's meter."""
    s = ctx.settings
    corpus = load_corpus(s.corpus, s.tokenizer, s.tiny, s.seed)
    model, r = build_model(s.workload, s.tiny, corpus.vocab_size, s.seed)
    lr = s.lr or r.lr
    fwd_flops = model.flops_per_token()   # counted before compression: dense kernels run them all
    trainer = Trainer(TrainerConfig(steps=s.steps, optimizer=r.optimizer, lr=lr), model, lm_loss,
                      train_batches(corpus, s.workload, r.seq_len, s.batch_size, s.seed), gate=ctx.checkpoint)

    def report(t: Trainer):
        n = s.batch_size * (1 if s.workload == "mlp" else r.seq_len)
        ctx.add_work(n, 3.0 * n * fwd_flops)   # forward + backward ≈ 3 × forward
        ctx.progress(step=t.step, steps=s.steps, loss=t.loss, accuracy=t.history[-1]["accuracy"])

    trainer.add_callback("on_batch_end", report)
    ctx.message(f"training {s.workload} ({count_params(model):,} parameters) on {corpus.name}, {s.steps} steps")
    with ctx.window("train"):
        trainer.run()
    return finish_lm(ctx, model, corpus, r, trainer, fwd_flops)


def calibration_batches(corpus: Corpus, s: Settings, r: LMRecipe, n: int = 4) -> list[torch.Tensor]:
    """The first n training inputs x (never validation text): what SmoothQuant calibrates on."""
    return [x for x, _ in itertools.islice(train_batches(corpus, s.workload, r.seq_len, s.batch_size, s.seed), n)]


def finish_lm(ctx: RunContext, model: nn.Module, corpus: Corpus, r: LMRecipe, trainer: Trainer,
              fwd_flops: float) -> WorkloadOutput:
    """Evaluate before and after compression; fill the WorkloadOutput."""
    s = ctx.settings
    quality = {}
    # a stopped run still reports quality, on a shorter stretch so Stop returns within a second
    limit = 2_000 if trainer.stopped_early else 20_000
    with ctx.window("evaluate"):
        base = evaluate(model, corpus, s.workload, r.seq_len, limit)
        calibration = calibration_batches(corpus, s, r) if s.smooth_alpha > 0 and s.bits == 8 else None
        model, comp, notes = compress(model, s, calibration)
        after = evaluate(model, corpus, s.workload, r.seq_len, limit) if comp else base
    eval_flops = (base["eval_tokens"] + (after["eval_tokens"] if comp else 0)) * fwd_flops
    ctx.add_work(0, eval_flops)
    quality.update(perplexity=after["perplexity"], loss=after["loss"], accuracy=after["accuracy"],
                   unigram_perplexity=corpus.unigram_perplexity(), train_loss=trainer.loss)
    if corpus.optimal_perplexity is not None:
        quality["optimal_perplexity"] = corpus.optimal_perplexity
    if comp:
        quality["perplexity_uncompressed"] = base["perplexity"]
    if trainer.stopped_early:
        notes.append(f"stopped early after {trainer.step} of {s.steps} steps")
    return WorkloadOutput(quality=quality, flops=trainer.tokens * 3.0 * fwd_flops + eval_flops,
                          tokens=trainer.tokens + base["eval_tokens"], items=trainer.step * s.batch_size,
                          params=count_params(model), notes=notes, compression=comp, history=trainer.history)
