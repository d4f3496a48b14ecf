"""The seeds' numeric claims (seed-formulas.md C1–C4, C7) next to what this machine measures now.

One interleaved measurement of the BERT variants (workbench.compress.compare) feeds every
claim. Each row says where the claim comes from and where each measured figure comes from
(the meter's source label for energy, "measured:perf_counter" for time, counted for sizes).
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

from workbench.compress.compare import VariantRow, bert_calibration, compare_variants, compress
from workbench.compress.distill import BertDistillConfig, cached_bert_student
from workbench.compress.smooth import DEFAULT_ALPHA
from workbench.data.sentences import distill_sentences, eval_sentences
from workbench.models.bert import bert_config_params, load_bert, vocabulary_words
from workbench.paths import data_dir

# What the seeds and the DistilBERT paper say, as numbers (percent change vs the full model).
CLAIMS = {
    "C1": dict(topic="quantization", source="seed 003 §4.3", params=-20, speed=+30, energy=-40),
    "C2": dict(topic="pruning", source="seed 003 §4.3", params=-75, speed=+150, energy=-75),
    "C3": dict(topic="distillation", source="seed 003 §4.3", params=-85, speed=+150, energy=-90),
    "C4": dict(topic="BERT size", source="seed 003 §4.3", params_m=340),
    "C7": dict(topic="DistilBERT", source="Sanh et al. 2019 (DistilBERT), cited by seed 004 §1",
               params=-40, speed=+60, quality_pct=97),
}
TIME_SOURCE = "measured:perf_counter"
STUDENT_STEPS, STUDENT_STEPS_QUICK, STUDENT_LR = 2400, 150, 3e-4


@dataclass
class ClaimRow:
    id: str
    topic: str
    claimed: str               # the claim in words, with its source
    measured: str              # what was measured here, one line
    sources: list[str]         # source labels of the claim and of every measured figure
    figures: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def student_config(quick: bool = False) -> BertDistillConfig:
    """The distilled student the benchmark and the claims share (quick: fewer steps, cached apart).

    4 of 6 blocks, block-to-block hidden-state loss, short sentences, every sentence seen once:
    the full recipe takes about 8 minutes on 2 idle cores, once (then it is cached); 600 steps
    give embedding cosine 0.949, 1200 give 0.953 and 2400 give 0.959 on the evaluation set.
    """
    return BertDistillConfig(n_layers=4, steps=STUDENT_STEPS_QUICK if quick else STUDENT_STEPS, batch_size=16,
                             lr=STUDENT_LR, hidden_weight=1.0, max_length=32)


def distilled_student(bundle, quick: bool = False, retrain: bool = False, progress=None, config=None):
    """(student, info): from the data folder's cache if trained before with the same recipe.

    config (default student_config(quick)) may name a tiny recipe (tests); the training text is
    distill_sentences(): one fresh sentence per sample, never an evaluation sentence.
    """
    config = config or student_config(quick)
    sentences = distill_sentences(config.steps * config.batch_size, seed=config.seed,
                                  vocabulary=vocabulary_words(bundle.tokenizer))
    return cached_bert_student(bundle.model, bundle.tokenizer, bundle.path, sentences, config,
                               data_dir(), retrain=retrain, progress=progress)


BENCHMARK_VARIANTS = ("fp32", "int8", "int8-smooth", "pruned", "unstructured", "distilled", "best")


def build_variants(bundle, student, which=BENCHMARK_VARIANTS):
    """The named variants (deep copies) and their notes: the set the benchmark and the claims measure."""
    fp32 = bundle.model
    calibration = bert_calibration(bundle.tokenizer)
    recipes = {
        "fp32": lambda: (copy.deepcopy(fp32), []),
        "int8": lambda: compress(fp32, bits=8),
        "int8-smooth": lambda: compress(fp32, bits=8, smooth_alpha=DEFAULT_ALPHA, calibration=calibration),
        "pruned": lambda: _structured(fp32, 0.5),
        "pruned-75": lambda: _structured(fp32, 0.75),
        "unstructured": lambda: compress(fp32, prune_ratio=0.75, prune_kind="global"),
        "distilled": lambda: (copy.deepcopy(student), [f"{_layers(student)} student distilled from the "
                                                        f"{len(fp32.encoder.layer)}-layer model"]),
        "best": lambda: _best(student, calibration),
    }
    variants, notes = {}, {}
    for name in which:
        variants[name], notes[name] = recipes[name]()
    return variants, notes


def _structured(model, ratio: float):
    """Heads and FFN neurons, both at ratio: the structured pruning that shrinks matrices."""
    pruned, notes = compress(model, prune_ratio=ratio, prune_kind="heads")
    pruned, more = compress(pruned, prune_ratio=ratio, prune_kind="neurons")
    return pruned, notes + more


def _layers(student) -> str:
    kept = getattr(student, "kept_layers", None)
    return f"{len(student.encoder.layer)}-layer" + (f" (teacher blocks {', '.join(map(str, kept))})" if kept else "")


def _best(student, calibration):
    """Distilled student + SmoothQuant + real int8 kernels (per-channel weight scales)."""
    model, notes = compress(student, bits=8, granularity="per-channel", smooth_alpha=DEFAULT_ALPHA,
                            calibration=calibration)
    return model, [f"distilled {_layers(student)} student"] + notes


def _pct(new: float, old: float) -> float:
    return 100.0 * (new / old - 1.0)


def _speed_pct(row: VariantRow, ref: VariantRow) -> float:
    return 100.0 * (ref.latency_ms / row.latency_ms - 1.0)


def _fmt(x: float) -> str:
    return f"{x:+.0f} %"


def claims_from_rows(rows: list[VariantRow], model_name: str = "all-MiniLM-L6-v2") -> list[ClaimRow]:
    """Turn one compare_variants() table into the claim rows C1–C4 and C7."""
    by = {r.name: r for r in rows}
    ref = by["fp32"]
    e_src = ref.energy_source
    out = []

    def compare(cid, row, params_text, extra=""):
        c = CLAIMS[cid]
        speed, energy = _speed_pct(row, ref), _pct(row.energy_j_per_sentence, ref.energy_j_per_sentence)
        kept = f" ({100 + c['params']} % kept)" if cid == "C3" else ""
        claimed = f"parameters {_fmt(c['params'])}{kept}, speed {_fmt(c['speed'])}, energy {_fmt(c['energy'])} ({c['source']})"
        measured = (f"{params_text}, speed {_fmt(speed)} ({TIME_SOURCE}), energy {_fmt(energy)} ({e_src}), "
                    f"cosine to fp32 {row.cosine_mean:.3f}{extra}")
        out.append(ClaimRow(cid, c["topic"], claimed, measured, [c["source"], TIME_SOURCE, e_src, "counted"],
                            dict(speed_pct=speed, energy_pct=energy, params_pct=_pct(row.params, ref.params),
                                 size_pct=_pct(row.size_mb, ref.size_mb), cosine_mean=row.cosine_mean,
                                 variant=row.name)))

    q = by["int8"]
    sq = by.get("int8-smooth")
    smooth = (f"; with SmoothQuant: speed {_fmt(_speed_pct(sq, ref))}, energy "
              f"{_fmt(_pct(sq.energy_j_per_sentence, ref.energy_j_per_sentence))}, cosine {sq.cosine_mean:.3f}") if sq else ""
    compare("C1", q, f"parameters {_fmt(_pct(q.params, ref.params))} (size on disk {_fmt(_pct(q.size_mb, ref.size_mb))})",
            "; int8 keeps every parameter, it stores each in 1 byte instead of 4" + smooth)
    p = by.get("pruned-75") or by["pruned"]
    u = by.get("unstructured")
    extra = ""
    if u is not None:
        extra = (f"; unstructured 75 % of Linear weights: nonzero {_fmt(_pct(u.nonzero, ref.nonzero))} (embeddings kept), speed {_fmt(_speed_pct(u, ref))}, "
                 f"cosine {u.cosine_mean:.3f} (zeros are still multiplied)")
    compare("C2", p, f"structured ({p.name}: heads+FFN) parameters {_fmt(_pct(p.params, ref.params))}", extra)
    d = by["distilled"]
    compare("C3", d, f"parameters {_fmt(_pct(d.params, ref.params))} ({100 * d.params / ref.params:.0f} % kept)")

    base, large = bert_config_params("bert-base"), bert_config_params("bert-large")
    out.append(ClaimRow("C4", "BERT size", f"BERT has {CLAIMS['C4']['params_m']} M parameters ({CLAIMS['C4']['source']})",
                        f"BERT-large {large / 1e6:.1f} M, BERT-base {base / 1e6:.1f} M (counted from transformers "
                        f"BertConfig, meta device); the workbench's {model_name}: {ref.params / 1e6:.1f} M (counted)",
                        [CLAIMS["C4"]["source"], "counted"],
                        dict(bert_base=base, bert_large=large, model=ref.params)))
    c = CLAIMS["C7"]
    out.append(ClaimRow("C7", "DistilBERT",
                        f"{-c['params']} % smaller, {c['speed']} % faster, {c['quality_pct']} % of BERT's GLUE score ({c['source']})",
                        f"our distilled student: {-_pct(d.params, ref.params):.0f} % smaller, {_speed_pct(d, ref):.0f} % faster "
                        f"({TIME_SOURCE}), embedding cosine {d.cosine_mean:.3f} and similarity-ranking Spearman "
                        f"{d.spearman:.3f} vs the teacher (not GLUE)",
                        [c["source"], TIME_SOURCE, "counted"],
                        dict(smaller_pct=-_pct(d.params, ref.params), faster_pct=_speed_pct(d, ref),
                             cosine_mean=d.cosine_mean, spearman=d.spearman)))
    return out


def check_claims(quick: bool = False, retrain: bool = False, progress=None, meter=None,
                 sentences: list[str] | None = None, repeats: int | None = None) -> tuple[list[ClaimRow], list[VariantRow]]:
    """Measure the variants now (quick: fewer sentences and repeats) and compare with the claims.

    sentences / repeats override the evaluation set and the number of interleaved passes.
    """
    bundle = load_bert()
    student, _ = distilled_student(bundle, quick=quick, retrain=retrain)
    variants, notes = build_variants(bundle, student, ("fp32", "int8", "int8-smooth", "pruned-75", "unstructured",
                                                      "distilled"))
    sentences = sentences or eval_sentences(tiny=quick)
    rows = compare_variants(variants, bundle.tokenizer, sentences, reference="fp32",
                            repeats=repeats or (2 if quick else 5), notes=notes, meter=meter, progress=progress)
    return claims_from_rows(rows, bundle.name), rows


def format_claims(claims: list[ClaimRow]) -> str:
    lines = []
    for c in claims:
        lines += [f"{c.id} {c.topic}", f"   claimed:  {c.claimed}", f"   measured: {c.measured}"]
    return "\n".join(lines)


