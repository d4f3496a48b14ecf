"""Quality and cost of compressed BERT variants side by side, and the energy–quality frontier.

Every variant runs the same tokenized batches, interleaved (variant order rotates each repeat)
so that a noisy machine slows them all alike. Per variant: embedding cosine and Spearman vs
the reference (workbench.quality), parameters, bytes on disk, median latency per batch, energy
per sentence from the meter (with its source label) and η = FLOPs per joule.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from workbench.compress.prune import apply_pruning, count_nonzero
from workbench.compress.quantize import apply_quantization
from workbench.data.sentences import distill_sentences
from workbench.models.bert import DEFAULT_MAX_LENGTH, bert_flops, count_params, embed, encode, tokenized_batches
from workbench.quality import embedding_quality, size_bytes

CALIBRATION_SEED = 1   # distill_sentences seed for calibration text: apart from the students' seed 0


@dataclass
class VariantRow:
    name: str
    params: int
    nonzero: int
    size_mb: float
    latency_ms: float              # median per batch
    latency_ratio: float           # vs the reference (1 = same)
    energy_j_per_sentence: float
    energy_ratio: float            # vs the reference
    energy_source: str             # e.g. estimated:cpu-time
    eta_flop_per_j: float          # analytic FLOPs / measured energy
    cosine_mean: float
    cosine_min: float
    spearman: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def default_meter(device: str = "cpu", core_watts: float = 0.0):
    """The workbench's meter chain (RAPL/NVML, else the CPU-time estimate), started."""
    from workbench.energy.select import make_meter
    meter = make_meter(kind="auto", device=device, core_watts=core_watts)
    meter.start()
    return meter


def compare_variants(variants: dict[str, nn.Module], tokenizer, sentences: list[str], reference: str | None = None,
                     repeats: int = 5, batch_size: int = 32, max_length: int = DEFAULT_MAX_LENGTH, meter=None,
                     notes: dict[str, list[str]] | None = None, progress=None) -> list[VariantRow]:
    """Measure every variant on the same sentences; reference (default: the first) is the yardstick.

    repeats passes over all sentences per variant, interleaved. progress(step=, steps=) after each pass.
    """
    names = list(variants)
    reference = reference or names[0]
    batches = tokenized_batches(tokenizer, sentences, batch_size, max_length)
    ref_emb = embed(variants[reference], tokenizer, sentences, batch_size, max_length)
    meter = meter or default_meter()
    lat = {n: [] for n in names}
    energy = {n: 0.0 for n in names}
    for m in variants.values():
        m.eval()
    with torch.inference_mode():
        for m in variants.values():   # warm-up: first calls allocate and pick kernels
            encode(m, batches[0])
        for r in range(repeats):
            for k in range(len(names)):
                name = names[(k + r) % len(names)]
                e0 = meter.read().energy_j
                for batch in batches:
                    t0 = time.perf_counter()
                    encode(variants[name], batch)
                    lat[name].append(time.perf_counter() - t0)
                energy[name] += meter.read().energy_j - e0
                if progress is not None:
                    progress(step=r * len(names) + k + 1, steps=repeats * len(names))
    source = meter.read().source
    n_sent = repeats * len(sentences)
    flops_per_pass = {n: sum(bert_flops(m, b["input_ids"].numel(), b["input_ids"].size(1)) for b in batches)
                      for n, m in variants.items()}
    rows = []
    for name, model in variants.items():
        q = embedding_quality(embed(model, tokenizer, sentences, batch_size, max_length), ref_emb)
        e_sent = energy[name] / n_sent
        rows.append(VariantRow(
            name=name, params=count_params(model), nonzero=count_nonzero(model) if not _is_int8(model) else count_params(model),
            size_mb=size_bytes(model) / 1e6, latency_ms=1e3 * statistics.median(lat[name]), latency_ratio=float("nan"),
            energy_j_per_sentence=e_sent, energy_ratio=float("nan"), energy_source=source,
            eta_flop_per_j=flops_per_pass[name] * repeats / energy[name] if energy[name] > 0 else float("nan"),
            cosine_mean=q["cosine_mean"], cosine_min=q["cosine_min"], spearman=q["spearman"],
            notes=list((notes or {}).get(name, []))))
    ref = next(r for r in rows if r.name == reference)
    for row in rows:
        row.latency_ratio = row.latency_ms / ref.latency_ms
        row.energy_ratio = row.energy_j_per_sentence / ref.energy_j_per_sentence if ref.energy_j_per_sentence > 0 else float("nan")
    return rows


def _is_int8(model: nn.Module) -> bool:
    from workbench.compress.quantize import int8_module_count
    return int8_module_count(model) > 0


def bert_calibration(tokenizer, n_sentences: int = 256, batch_size: int = 32,
                     max_length: int = DEFAULT_MAX_LENGTH) -> list[dict]:
    """Tokenized training sentences for SmoothQuant's calibration (never evaluation sentences)."""
    return tokenized_batches(tokenizer, distill_sentences(n_sentences, seed=CALIBRATION_SEED), batch_size, max_length)


def compress(model: nn.Module, bits: int = 32, prune_ratio: float = 0.0, prune_kind: str = "neurons",
             granularity: str = "per-channel", device: str = "cpu", smooth_alpha: float = 0.0,
             calibration=None) -> tuple[nn.Module, list[str]]:
    """A compressed deep copy: prune first (on fp32 weights), then quantize. Returns (model, notes).

    smooth_alpha > 0 with calibration batches: SmoothQuant before real int8 (see apply_quantization).
    """
    model = copy.deepcopy(model)
    notes = []
    if prune_ratio > 0:
        info = apply_pruning(model, prune_ratio, prune_kind)
        notes.append(f"prune {prune_kind} {prune_ratio:.0%}: {info.detail}")
    model, qinfo = apply_quantization(model, bits, granularity, device, smooth_alpha, calibration)
    if bits != 32:
        notes.append(f"{bits}-bit: {qinfo.kind}: {qinfo.detail}")
    return model, notes


def frontier(model: nn.Module, tokenizer, sentences: list[str], bits_list=(32, 8, 6, 4), ratios=(0.0, 0.25, 0.5),
             kind: str = "neurons", granularity: str = "per-channel", repeats: int = 3, batch_size: int = 32,
             meter=None, progress=None) -> list[dict]:
    """Every bits × prune-ratio combination of model, measured together; rows carry `pareto`.

    The first row (bits 32, ratio 0 if listed) is the reference. Rows are dicts (VariantRow
    fields plus bits, ratio, kind, pareto) ready for pandas or a plot.
    """
    combos = [(b, r) for b in bits_list for r in ratios]
    combos.sort(key=lambda c: (c != (32, 0.0)))          # the uncompressed model first: the reference
    variants, notes = {}, {}
    for b, r in combos:
        name = f"{b}-bit, {kind} {r:.0%}"
        variants[name], notes[name] = compress(model, b, r, kind, granularity)
    rows = compare_variants(variants, tokenizer, sentences, repeats=repeats, batch_size=batch_size,
                            meter=meter, notes=notes, progress=progress)
    out = [dict(row.to_dict(), bits=b, ratio=r, kind=kind) for row, (b, r) in zip(rows, combos)]
    for row, p in zip(out, pareto_mask(out)):
        row["pareto"] = p
    return out


def pareto_mask(rows: list[dict], cost: str = "energy_j_per_sentence", quality: str = "cosine_mean") -> list[bool]:
    """True for rows no other row beats: none has cost <= and quality >= with one strictly better."""
    mask = []
    for a in rows:
        dominated = any(b[cost] <= a[cost] and b[quality] >= a[quality] and (b[cost] < a[cost] or b[quality] > a[quality])
                        for b in rows if b is not a)
        mask.append(not dominated)
    return mask
