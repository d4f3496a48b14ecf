"""The engine's Trainer (callbacks, gate, progress) against a bare hand-written PyTorch loop.

Same model, same batches, same optimiser; the two ways alternate in one run so machine noise
hits both. Prints tokens/s of each (median of the repeats) and the ratio (goal >= 0.95).

    python benchmarks/train_throughput.py [--workload lstm] [--steps 60] [--repeats 5] [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

from workbench.data.corpus import grammar_corpus
from workbench.train import Trainer, TrainerConfig, make_optimizer
from workbench.workloads.lm import build_model, lm_loss, train_batches


def batches_list(corpus, workload, seq_len, batch_size, steps):
    it = train_batches(corpus, workload, seq_len, batch_size, seed=0)
    return [next(it) for _ in range(steps)]


def engine_loop(model, batches, cfg) -> float:
    seen = []
    trainer = Trainer(cfg, model, lm_loss, iter(batches), gate=lambda: True)
    trainer.add_callback("on_batch_end", lambda t: seen.append((t.step, t.loss)))   # as a view would
    t0 = time.perf_counter()
    trainer.run()
    return time.perf_counter() - t0


def bare_loop(model, batches, cfg) -> float:
    opt = make_optimizer(cfg, model.parameters())
    model.train()
    t0 = time.perf_counter()
    for x, y in batches:
        logits = model(x)
        if logits.dim() == 2:
            y = y[:, -1]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        loss.item()   # the engine reads the loss every step too
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="lstm", choices=("mlp", "lstm", "gpt"), help="model to train (default lstm)")
    ap.add_argument("--steps", type=int, default=60, help="training steps per timed repeat (default 60)")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats of each way (default 5)")
    ap.add_argument("--batch-size", type=int, default=32, help="sequences per step (default 32)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a shared machine, spinning thread pools make timings erratic)")
    ap.add_argument("--quick", action="store_true", help="short run: 20 steps, 3 repeats")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.steps, args.repeats = 20, 3
    corpus = grammar_corpus()
    model0, r = build_model(args.workload, False, corpus.vocab_size, seed=0)
    batches = batches_list(corpus, args.workload, r.seq_len, args.batch_size, args.steps)
    tokens = sum(y.numel() if model0(x[:1]).dim() == 3 else y.size(0) for x, y in batches)
    cfg = TrainerConfig(steps=args.steps, optimizer=r.optimizer, lr=r.lr)
    times = {"engine": [], "bare": []}
    for rep in range(args.repeats + 1):          # repeat 0 warms up both ways, not counted
        for way, loop in (("engine", engine_loop), ("bare", bare_loop)) if rep % 2 else (("bare", bare_loop), ("engine", engine_loop)):
            model, _ = build_model(args.workload, False, corpus.vocab_size, seed=0)
            dt = loop(model, batches, cfg)
            if rep:
                times[way].append(dt)
    rate = {w: tokens / statistics.median(ts) for w, ts in times.items()}
    print(f"{args.workload}: {sum(p.numel() for p in model0.parameters()):,} parameters, {args.steps} steps × "
          f"{args.batch_size} sequences, {torch.get_num_threads()} threads, {args.repeats} interleaved repeats")
    for w in ("bare", "engine"):
        print(f"  {w:7s} {rate[w]:10,.0f} tokens/s   (median of {', '.join(f'{t:.2f}' for t in times[w])} s)")
    print(f"  ratio engine/bare = {rate['engine'] / rate['bare']:.3f}   (goal >= 0.95)")


if __name__ == "__main__":
    main()
