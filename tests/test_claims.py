"""Claims C1–C4, C7: arithmetic on a fixed table, the real (quick) measurement, the CLI, the frontier."""
import json

import pytest

from workbench.claims import CLAIMS, claims_from_rows, format_claims
from workbench.compress.compare import VariantRow, pareto_mask


def _row(name, params, lat, energy, cos=0.9, nonzero=None, size=None):
    return VariantRow(name=name, params=params, nonzero=nonzero or params, size_mb=size or params * 4e-6,
                      latency_ms=lat, latency_ratio=1.0, energy_j_per_sentence=energy, energy_ratio=1.0,
                      energy_source="estimated:cpu-time", eta_flop_per_j=1e9, cosine_mean=cos, cosine_min=cos,
                      spearman=cos)


@pytest.fixture
def table():
    return [_row("fp32", 1000, 100.0, 2.0, 1.0),
            _row("int8", 1000, 80.0, 1.6, 0.97, size=1000 * 1e-6),
            _row("pruned-75", 400, 50.0, 1.0, 0.4),
            _row("unstructured", 1000, 99.0, 2.0, 0.3, nonzero=250),
            _row("distilled", 600, 40.0, 0.8, 0.9)]


def test_claim_arithmetic(table):
    rows = {c.id: c for c in claims_from_rows(table)}
    assert list(rows) == ["C1", "C2", "C3", "C4", "C7"]
    c1 = rows["C1"].figures
    assert c1["speed_pct"] == pytest.approx(25.0) and c1["energy_pct"] == pytest.approx(-20.0)
    assert c1["params_pct"] == 0 and c1["size_pct"] == pytest.approx(-75.0)
    assert "energy -40 % (seed 003 §4.3)" in rows["C1"].claimed and "energy -20 % (estimated:cpu-time)" in rows["C1"].measured
    assert "nonzero -75 % (embeddings kept)" in rows["C2"].measured and "speed +1 %" in rows["C2"].measured
    assert rows["C2"].figures["params_pct"] == pytest.approx(-60.0)
    assert rows["C3"].figures["speed_pct"] == pytest.approx(150.0)
    assert rows["C7"].figures["smaller_pct"] == pytest.approx(40.0) and rows["C7"].figures["faster_pct"] == pytest.approx(150.0)
    assert rows["C4"].figures["bert_base"] == 109_482_240 and "335.1 M" in rows["C4"].measured
    assert all("estimated:cpu-time" in c.sources for c in rows.values() if c.id in ("C1", "C2", "C3"))
    text = format_claims(list(rows.values()))
    assert text.count("claimed:") == 5 and "340 M" in text
    assert set(CLAIMS) == set(rows)


def test_pareto_mask():
    rows = [dict(energy_j_per_sentence=1.0, cosine_mean=1.0), dict(energy_j_per_sentence=0.5, cosine_mean=0.9),
            dict(energy_j_per_sentence=0.6, cosine_mean=0.8), dict(energy_j_per_sentence=0.5, cosine_mean=0.9),
            dict(energy_j_per_sentence=2.0, cosine_mean=1.0)]
    assert pareto_mask(rows) == [True, True, False, True, False]


@pytest.fixture(scope="module")
def measured():
    """One small real measurement (4 sentences, 1 pass) with an untrained student: the plumbing, not the numbers.

    The full check, with the distilled student, is `python -m workbench claims`.
    """
    import workbench.claims as claims
    from workbench.data.sentences import eval_sentences
    from workbench.models.bert import make_student
    mp = pytest.MonkeyPatch()
    mp.setattr(claims, "distilled_student", lambda bundle, **k: (make_student(bundle.model, 4), {"cached": False}))
    try:
        result = claims.check_claims(quick=True, sentences=eval_sentences(tiny=True)[::4], repeats=1)
    finally:
        mp.undo()
    return result


def test_real_measurement(measured):
    claims, rows = measured
    by = {r.name: r for r in rows}
    assert set(by) == {"fp32", "int8", "int8-smooth", "pruned-75", "unstructured", "distilled"}
    assert by["int8-smooth"].cosine_mean > by["int8"].cosine_mean            # SmoothQuant wins back quality
    assert "with SmoothQuant" in claims[0].measured
    assert by["fp32"].cosine_mean == pytest.approx(1.0) and by["fp32"].latency_ratio == 1.0
    assert by["int8"].params == by["fp32"].params and by["int8"].size_mb < 0.7 * by["fp32"].size_mb   # embeddings stay fp32
    assert by["pruned-75"].params < 0.7 * by["fp32"].params
    assert by["unstructured"].params == by["fp32"].params and by["unstructured"].nonzero < 0.7 * by["fp32"].nonzero
    assert all(r.energy_j_per_sentence > 0 and r.energy_source for r in rows)
    assert [c.id for c in claims] == ["C1", "C2", "C3", "C4", "C7"]


def test_cli_parser_has_claims():
    from workbench.cli import build_parser
    args = build_parser().parse_args(["claims", "--json", "--quick"])
    assert args.json and args.quick and callable(args.func)


def test_cli_json(monkeypatch, capsys, measured):
    import workbench.claims as claims
    from workbench.cli import main
    monkeypatch.setattr(claims, "check_claims", lambda **k: measured)
    assert main(["claims", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in data["claims"]] == ["C1", "C2", "C3", "C4", "C7"] and len(data["variants"]) == 6


def test_frontier_small():
    from workbench.compress.compare import frontier
    from workbench.data.sentences import eval_sentences
    from workbench.models.bert import load_bert
    b = load_bert()
    rows = frontier(b.model, b.tokenizer, eval_sentences(tiny=True)[:8], bits_list=(32, 4), ratios=(0.0, 0.5),
                    kind="neurons", repeats=1, batch_size=8)
    assert len(rows) == 4 and rows[0]["bits"] == 32 and rows[0]["ratio"] == 0.0 and rows[0]["pareto"]
    assert sum(r["pareto"] for r in rows) == sum(pareto_mask(rows))    # marks agree with the rule
    four = next(r for r in rows if r["bits"] == 4 and r["ratio"] == 0.0)
    assert four["cosine_mean"] < 0.99 and any("simulated" in n for n in four["notes"])


def test_student_recipe_trains_once_then_loads_from_cache(tmp_path, monkeypatch):
    """A tiny recipe (2 steps): the first call trains and saves, the second loads the same weights."""
    import torch

    from workbench.claims import build_variants, distilled_student, student_config
    from workbench.compress.distill import BertDistillConfig
    from workbench.compress.quantize import int8_module_count
    from workbench.models.bert import load_bert
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path))
    bundle = load_bert()
    tiny = BertDistillConfig(n_layers=4, steps=2, batch_size=4, max_length=16)
    first, info1 = distilled_student(bundle, config=tiny)
    second, info2 = distilled_student(bundle, config=tiny)
    assert not info1["cached"] and info2["cached"] and info1["path"] == info2["path"]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert second.kept_layers == [0, 3, 4, 5] and student_config().n_layers == 4
    variants, notes = build_variants(bundle, second, ("distilled", "best"))
    assert len(variants["best"].encoder.layer) == 4 and int8_module_count(variants["best"]) > 0
    assert "4-layer (teacher blocks 0, 3, 4, 5)" in notes["best"][0]
    assert any("SmoothQuant α=0.85" in n for n in notes["best"])          # best = student + SmoothQuant + int8


def test_full_recipe_never_trains_on_evaluation_sentences():
    from workbench.claims import student_config
    from workbench.data.sentences import EVAL_SENTENCES, distill_sentences
    from workbench.models.bert import load_bert, vocabulary_words
    words = vocabulary_words(load_bert().tokenizer)
    for quick in (False, True):
        c = student_config(quick)
        text = {s.lower() for s in distill_sentences(c.steps * c.batch_size, seed=c.seed, vocabulary=words)}
        assert len(text) > 0.5 * c.steps * c.batch_size
        assert not text & {e.lower() for e in EVAL_SENTENCES}
