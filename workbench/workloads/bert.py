"""BERT workloads: compressed inference ("bert") and distilling a smaller student ("bert-distill").

Both load the model named by Settings.model_path ('' = all-MiniLM-L6-v2, offline) and report
quality against the uncompressed fp32 model on the built-in evaluation sentences.
"""
from __future__ import annotations

import itertools

import torch

from workbench.compress.compare import bert_calibration, compress
from workbench.compress.distill import BertDistillConfig, distill_bert
from workbench.data.sentences import corpus_sentences, distill_sentences, eval_sentences
from workbench.models.bert import (bert_flops, count_params, embed, encode, load_bert, make_student, tokenize,
                                   vocabulary_words)
from workbench.quality import embedding_quality
from workbench.workloads.base import RunContext, WorkloadOutput


def _max_length(tiny: bool) -> int:
    return 32 if tiny else 64


def run_bert(ctx: RunContext) -> WorkloadOutput:
    """settings.steps inference batches of settings.batch_size sentences through the compressed BERT.

    Compression follows the settings: prune (prune_ratio, prune_kind) then quantize (bits,
    quant_granularity, smooth_alpha). Quality: cosine_mean / cosine_min / spearman vs the fp32 model.
    """
    s = ctx.settings
    bundle = load_bert(s.model_path)
    reference = bundle.model
    if s.device != "cpu":
        reference = reference.to(s.device)
    calibration = bert_calibration(bundle.tokenizer) if s.smooth_alpha > 0 and s.bits == 8 else None
    model, notes = compress(reference, s.bits, s.prune_ratio, s.prune_kind, s.quant_granularity, s.device,
                            s.smooth_alpha, calibration)
    for line in notes:
        ctx.message(line)
    sentences = eval_sentences(s.tiny)
    max_len = _max_length(s.tiny)
    stream = itertools.cycle(sentences)
    tokens = flops = items = 0
    model.eval()
    with ctx.window("inference"), torch.inference_mode():
        for step in range(1, s.steps + 1):
            if not ctx.checkpoint():
                break
            batch = tokenize(bundle.tokenizer, [next(stream) for _ in range(s.batch_size)], max_len)
            encode(model, batch)
            n = batch["input_ids"].numel()
            f = bert_flops(model, n, batch["input_ids"].size(1))
            tokens, flops, items = tokens + n, flops + f, items + s.batch_size
            ctx.add_work(n, f)
            ctx.progress(step=step, steps=s.steps)
    quality = embedding_quality(embed(model, bundle.tokenizer, sentences, max_length=max_len),
                                embed(reference, bundle.tokenizer, sentences, max_length=max_len))
    return WorkloadOutput(quality=quality, flops=flops, tokens=tokens, items=items, params=count_params(model),
                          notes=notes, compression={"bits": s.bits, "granularity": s.quant_granularity, "smooth_alpha": s.smooth_alpha,
                                                    "prune_ratio": s.prune_ratio, "prune_kind": s.prune_kind,
                                                    "model": bundle.name})


def run_bert_distill(ctx: RunContext) -> WorkloadOutput:
    """Distill a 3-layer student from the BERT for settings.steps steps; quality before/after training.

    Training text: built-in sentences (templates, standard-library docstrings; distill_sentences)
    and the lines of settings.corpus if given;
    evaluation: the built-in evaluation sentences, never trained on.
    """
    s = ctx.settings
    bundle = load_bert(s.model_path)
    teacher = bundle.model
    config = BertDistillConfig(n_layers=3, steps=s.steps, batch_size=s.batch_size, lr=s.lr or 3e-4,
                               max_length=_max_length(s.tiny), seed=s.seed)
    n_train = min(s.steps * s.batch_size, 4000)
    train = corpus_sentences(s.corpus)[:n_train] if s.corpus else []
    train += distill_sentences(max(0, n_train - len(train)), seed=s.seed,
                               vocabulary=vocabulary_words(bundle.tokenizer))
    ev = eval_sentences(s.tiny)
    ref = embed(teacher, bundle.tokenizer, ev, max_length=config.max_length)
    student = make_student(teacher, config.n_layers)
    before = embedding_quality(embed(student, bundle.tokenizer, ev, max_length=config.max_length), ref)
    ctx.message(f"student: {config.n_layers} of {len(teacher.encoder.layer)} layers, "
                f"{count_params(student) / 1e6:.1f} M of {count_params(teacher) / 1e6:.1f} M parameters; "
                f"cosine to teacher before training {before['cosine_mean']:.3f}")
    work = {"tokens": 0, "flops": 0.0}

    def progress(step, steps, loss, cosine, tokens):
        seq = max(1, tokens // s.batch_size)
        f = 3 * bert_flops(student, tokens, seq)      # forward + backward ≈ 3 × forward
        work["tokens"] += tokens
        work["flops"] += f
        ctx.add_work(tokens, f)
        ctx.progress(step=step, steps=steps, loss=loss, cosine=cosine)

    # the teacher embeds every training sentence once, before the first step
    teacher_flops = 0.0
    for i in range(0, len(train), config.batch_size):
        ids = tokenize(bundle.tokenizer, train[i:i + config.batch_size], config.max_length)["input_ids"]
        teacher_flops += bert_flops(teacher, ids.numel(), ids.size(1))
    ctx.add_work(0, teacher_flops)
    with ctx.window("distill"):
        student, history = distill_bert(teacher, bundle.tokenizer, train, config, student=student,
                                        progress=progress, checkpoint=ctx.checkpoint)
    work["flops"] += teacher_flops
    after = embedding_quality(embed(student, bundle.tokenizer, ev, max_length=config.max_length), ref)
    quality = {"cosine_before": before["cosine_mean"], "cosine_mean": after["cosine_mean"],
               "cosine_min": after["cosine_min"], "spearman": after["spearman"],
               "spearman_before": before["spearman"],
               "final_loss": history[-1]["loss"] if history else float("nan")}
    return WorkloadOutput(quality=quality, flops=work["flops"], tokens=work["tokens"], items=len(history) * s.batch_size,
                          params=count_params(student), history=history,
                          notes=[f"distilled {len(history)} steps: cosine {before['cosine_mean']:.3f} -> {after['cosine_mean']:.3f}"],
                          compression={"student_layers": config.n_layers, "teacher_layers": len(teacher.encoder.layer),
                                       "model": bundle.name})
