"""BERT compression benchmark: fp32 vs int8, structured pruning, a distilled student and the best combination.

Variants of all-MiniLM-L6-v2: int8 (torch.ao dynamic), int8-smooth (SmoothQuant α=0.85, then
int8), pruned (half the heads and FFN neurons), unstructured (75 % of weights zeroed), distilled
(a 4-layer student, trained once and cached: about 8 minutes on 2 cores) and best (the
distilled student with SmoothQuant and int8). All run the same batches, interleaved in one
process (the order rotates each repeat). Printed per variant: median latency per batch, energy per sentence (with
the meter's source label), both as ratios to fp32, and the embedding cosine to fp32.

Goal for the best combination: <= 0.5x the energy per sentence of fp32 at cosine >= 0.95.

    python benchmarks/bert_compression.py            # 64 sentences, 10 repeats
    python benchmarks/bert_compression.py --quick    # 16 sentences, 2 repeats, briefly trained student
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from workbench.claims import build_variants, distilled_student
from workbench.compress.compare import compare_variants
from workbench.compress.quantize import int8_module_count
from workbench.data.sentences import eval_sentences
from workbench.models.bert import load_bert


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="16 sentences, 2 repeats, a student trained briefly")
    ap.add_argument("--repeats", type=int, default=None, help="passes over the sentences per variant (default 10, quick 2)")
    ap.add_argument("--batch-size", type=int, default=32, help="sentences per batch (default 32)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")
    ap.add_argument("--retrain", action="store_true", help="distill the student again even if one is cached")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (2 if args.quick else 10)

    t0 = time.perf_counter()
    bundle = load_bert()
    student, info = distilled_student(
        bundle, quick=args.quick, retrain=args.retrain,
        progress=lambda step, steps, loss, cosine, **_: print(
            f"\rdistilling {step}/{steps} loss {loss:.4f} train-cosine {cosine:.3f}", end="", file=sys.stderr))
    how = f"cached {info['path']}" if info["cached"] else f"trained in {info['seconds']:.0f} s"
    print(f"\nstudent: {how}", file=sys.stderr)
    variants, notes = build_variants(bundle, student)
    sentences = eval_sentences(tiny=args.quick)
    rows = compare_variants(variants, bundle.tokenizer, sentences, reference="fp32", repeats=repeats,
                            batch_size=args.batch_size, notes=notes)

    print(f"\n{bundle.name}, {len(sentences)} sentences, batch {args.batch_size}, {repeats} interleaved repeats, "
          f"{torch.get_num_threads()} threads; energy: {rows[0].energy_source}")
    print(f"{'variant':<14}{'params M':>9}{'size MB':>9}{'ms/batch':>10}{'time x':>8}{'J/sent':>10}"
          f"{'energy x':>10}{'cos mean':>10}{'cos min':>9}{'spearman':>9}")
    for r in rows:
        print(f"{r.name:<14}{r.params / 1e6:>9.2f}{r.size_mb:>9.1f}{r.latency_ms:>10.1f}{r.latency_ratio:>8.2f}"
              f"{r.energy_j_per_sentence:>10.4f}{r.energy_ratio:>10.2f}{r.cosine_mean:>10.3f}{r.cosine_min:>9.3f}"
              f"{r.spearman:>9.3f}")
    print(f"int8 modules in 'int8': {int8_module_count(variants['int8'])}, in 'best': {int8_module_count(variants['best'])}")
    best = next(r for r in rows if r.name == "best")
    ok = best.energy_ratio <= 0.5 and best.cosine_mean >= 0.95
    print(f"goal (best: energy <= 0.5x fp32 at cosine >= 0.95): {'met' if ok else 'NOT met'} "
          f"(energy {best.energy_ratio:.2f}x, cosine {best.cosine_mean:.3f})")
    for name, lines in notes.items():
        for line in lines:
            print(f"  {name}: {line}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
