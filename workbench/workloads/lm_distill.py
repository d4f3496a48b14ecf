"""lstm-distill: an LSTM teacher taught to a smaller LSTM student (seed 003/004's distillation).

The teacher trains on the corpus; the student (half the width) learns from the teacher's
temperature-softened predictions plus the true next tokens (F10, T = 2). The student's
perplexity and size are reported beside the teacher's.
"""
from __future__ import annotations

from workbench.compress.distill import lm_distill_loss_fn
from workbench.data.corpus import load_corpus
from workbench.models.lstm import LSTMConfig, LSTMLM
from workbench.train import Trainer, TrainerConfig
from workbench.workloads.base import RunContext, WorkloadOutput
from workbench.workloads.lm import build_model, count_params, evaluate, lm_loss, train_batches

TEMPERATURE = 2.0   # the seed code's temperature
ALPHA = 0.5         # weight of the soft (teacher) term


def run_lm_distill(ctx: RunContext) -> WorkloadOutput:
    s = ctx.settings
    corpus = load_corpus(s.corpus, s.tokenizer, s.tiny, s.seed)
    teacher, r = build_model("lstm", s.tiny, corpus.vocab_size, s.seed)
    c = r.model
    student = LSTMLM(LSTMConfig(vocab_size=corpus.vocab_size, n_embd=c.n_embd // 2, n_hidden=c.n_hidden // 2))
    total = 2 * s.steps   # teacher steps, then as many student steps
    done, flops_done = [0], [0.0]

    def phase(name, model, loss_fn):
        tok = s.batch_size * r.seq_len
        flops = 3.0 * tok * model.flops_per_token() + (tok * teacher.flops_per_token() if name == "student" else 0)
        t = Trainer(TrainerConfig(steps=s.steps, optimizer="adam", lr=s.lr or r.lr), model, loss_fn,
                    train_batches(corpus, "lstm", r.seq_len, s.batch_size, s.seed), gate=ctx.checkpoint)

        def report(tr):
            done[0] += 1
            ctx.add_work(tok, flops)
            flops_done[0] += flops
            ctx.progress(step=done[0], steps=total, loss=tr.loss, phase=name)
        t.add_callback("on_batch_end", report)
        ctx.message(f"{name}: {count_params(model):,} parameters, {s.steps} steps")
        with ctx.window(name):
            t.run()
        return t

    t_teacher = phase("teacher", teacher, lm_loss)
    teacher.reset_state()
    t_student = phase("student", student, lm_distill_loss_fn(teacher, T=TEMPERATURE, alpha=ALPHA))
    q_teacher = evaluate(teacher, corpus, "lstm", r.seq_len)
    q_student = evaluate(student, corpus, "lstm", r.seq_len)
    quality = {"perplexity": q_student["perplexity"], "teacher_perplexity": q_teacher["perplexity"],
               "accuracy": q_student["accuracy"], "unigram_perplexity": corpus.unigram_perplexity(),
               "student_params_fraction": count_params(student) / count_params(teacher)}
    if corpus.optimal_perplexity is not None:
        quality["optimal_perplexity"] = corpus.optimal_perplexity
    notes = [f"student has {count_params(student):,} parameters, "
             f"{100 * quality['student_params_fraction']:.0f} % of the teacher's {count_params(teacher):,}; "
             f"F10 loss at T = {TEMPERATURE:g}, α = {ALPHA:g}"]
    eval_tokens = q_teacher["eval_tokens"] + q_student["eval_tokens"]
    eval_flops = q_teacher["eval_tokens"] * teacher.flops_per_token() + q_student["eval_tokens"] * student.flops_per_token()
    return WorkloadOutput(quality=quality, flops=flops_done[0] + eval_flops, tokens=t_teacher.tokens + t_student.tokens + eval_tokens,
                          items=(t_teacher.step + t_student.step) * s.batch_size, params=count_params(student),
                          notes=notes, history=t_teacher.history + t_student.history)
