"""BERT loading offline, mean pooling, quality metrics, the bert workloads."""
import math
import socket

import pytest
import torch

from workbench.errors import ModelError
from workbench.models import bert as mb
from workbench.quality import embedding_quality, pairwise_similarities, rankdata, size_bytes, spearman
from workbench.settings import Settings
from workbench.workloads.base import RunContext


@pytest.fixture(scope="module")
def bundle():
    return mb.load_bert()


def test_loads_with_network_off(monkeypatch):
    mb._load_fp32.cache_clear()

    def no_network(*a, **k):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    b = mb.load_bert()
    assert type(b.model).__name__ == "BertModel" and len(b.model.encoder.layer) == 6
    assert mb.count_params(b.model) == 22_713_216 and b.name == "all-MiniLM-L6-v2"


def test_copies_are_private(bundle):
    other = mb.load_bert()
    with torch.no_grad():
        other.model.embeddings.word_embeddings.weight.zero_()
    assert bundle.model.embeddings.word_embeddings.weight.abs().sum() > 0
    assert mb.load_bert().model.embeddings.word_embeddings.weight.abs().sum() > 0


@pytest.mark.parametrize("path", ["/no/such/folder", "./missing-model", "."])
def test_bad_model_path_is_one_line(path):
    with pytest.raises(ModelError) as exc:
        mb.load_bert(path)
    assert "\n" not in str(exc.value) and "all-MiniLM-L6-v2" in str(exc.value)


def test_broken_model_folder(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError) as exc:
        mb.load_bert(str(tmp_path))
    assert "\n" not in str(exc.value) and str(tmp_path) in str(exc.value)


def test_uncached_hub_name_is_model_error():
    with pytest.raises(ModelError, match="cannot load"):
        mb.load_bert("nobody/no-such-bert-model")


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(mb.mean_pool(hidden, mask), torch.tensor([[2.0, 3.0]]))


def test_embeddings_match_hand_mean_pool_and_padding(bundle):
    sents = ["The cat sat on the mat.", "A much longer sentence about the weather in the mountains today."]
    emb = mb.embed(bundle.model, bundle.tokenizer, sents)
    single = mb.embed(bundle.model, bundle.tokenizer, sents[:1])          # no padding at all
    assert emb.shape == (2, 384)
    assert torch.allclose(emb[0], single[0], atol=1e-5)
    with torch.no_grad():
        enc = bundle.tokenizer(sents[:1], return_tensors="pt")
        hand = bundle.model(**enc).last_hidden_state.mean(1)
    assert torch.allclose(single, hand, atol=1e-5)


def test_similar_sentences_are_closer(bundle):
    e = mb.embed(bundle.model, bundle.tokenizer, ["It is raining heavily this afternoon.",
                                                  "Heavy rain is expected later today.",
                                                  "The chess player resigned after losing her queen."])
    sim = torch.nn.functional.cosine_similarity(e[:, None], e[None], dim=-1)
    assert sim[0, 1] > sim[0, 2] + 0.2


def test_student_keeps_first_and_last_layers(bundle):
    student = mb.make_student(bundle.model, 3)
    assert len(student.encoder.layer) == 3 and student.config.num_hidden_layers == 3
    assert student.kept_layers == [0, 4, 5] and mb.student_layers(6, 4) == [0, 3, 4, 5] and mb.student_layers(6, 1) == [5]
    assert torch.equal(student.encoder.layer[2].output.dense.weight, bundle.model.encoder.layer[5].output.dense.weight)
    assert torch.equal(student.encoder.layer[0].output.dense.weight, bundle.model.encoder.layer[0].output.dense.weight)
    assert student.encoder.layer[0].output.dense.weight.data_ptr() != bundle.model.encoder.layer[0].output.dense.weight.data_ptr()
    chosen = mb.make_student(bundle.model, 2, keep=[4, 1])
    assert chosen.kept_layers == [1, 4] and torch.equal(chosen.encoder.layer[0].output.dense.weight,
                                                         bundle.model.encoder.layer[1].output.dense.weight)
    with pytest.raises(ModelError, match="from 1 to 6"):
        mb.make_student(bundle.model, 7)
    with pytest.raises(ModelError, match="different teacher blocks from 0 to 5"):
        mb.make_student(bundle.model, 2, keep=[1, 1])


def test_bert_config_counts():
    assert mb.bert_config_params("bert-base") == 109_482_240
    assert mb.bert_config_params("bert-large") == 335_141_888


def test_flops_formula_on_small_bert():
    from transformers import BertConfig, BertModel
    m = BertModel(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                             intermediate_size=64))
    per_layer = 4 * 32 * 32 + 2 * 32 * 64
    expected = 10 * (2 * 2 * per_layer + 2 * 2 * 2 * 5 * 32)   # 10 tokens, seq 5, 2 layers
    assert mb.bert_flops(m, 10, 5) == expected


# -- quality metrics --------------------------------------------------------------------------
def test_rankdata_and_spearman_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 10, (200,), generator=g).double()          # many ties
    b = a + torch.randn(200, generator=g, dtype=torch.float64) * 3
    assert torch.allclose(rankdata(a), torch.tensor(stats.rankdata(a.numpy())))
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a.numpy(), b.numpy()).statistic, abs=1e-12)
    assert spearman(a, -a) == pytest.approx(-1.0)


def test_quality_of_identical_and_noisy():
    ref = torch.randn(10, 8, generator=torch.Generator().manual_seed(0))
    q = embedding_quality(ref.clone(), ref)
    assert q["cosine_mean"] == pytest.approx(1.0) and q["cosine_min"] == pytest.approx(1.0) and q["spearman"] == pytest.approx(1.0)
    noisy = embedding_quality(ref + 0.5 * torch.randn(10, 8, generator=torch.Generator().manual_seed(1)), ref)
    assert noisy["cosine_min"] < noisy["cosine_mean"] < 1.0 and noisy["spearman"] < 1.0
    assert pairwise_similarities(ref).shape == (45,)


def test_size_bytes_int8_smaller():
    from workbench.compress.quantize import int8_dynamic
    lin = torch.nn.Sequential(torch.nn.Linear(256, 256))
    fp = size_bytes(lin)
    assert fp > 256 * 256 * 4
    assert size_bytes(int8_dynamic(lin)) < 0.4 * fp


# -- workloads --------------------------------------------------------------------------------
def _ctx(**changes):
    seen = {"progress": [], "work": [], "messages": []}
    ctx = RunContext(Settings(**{"workload": "bert", "tiny": True, "steps": 2, "batch_size": 4, **changes}),
                     progress=lambda **m: seen["progress"].append(m),
                     add_work=lambda t, f: seen["work"].append((t, f)),
                     message=seen["messages"].append)
    return ctx, seen


def test_run_bert_int8():
    from workbench.workloads.bert import run_bert
    ctx, seen = _ctx(bits=8)
    out = run_bert(ctx)
    assert len(seen["work"]) == 2 and out.tokens == sum(t for t, _ in seen["work"]) and out.items == 8
    assert out.flops == pytest.approx(sum(f for _, f in seen["work"]))
    assert 0.9 < out.quality["cosine_mean"] <= 1.0 and 0.8 < out.quality["spearman"] <= 1.0
    assert any("real-int8" in n for n in out.notes) and seen["progress"][-1] == {"step": 2, "steps": 2}


def test_run_bert_stops_and_prunes():
    from workbench.workloads.bert import run_bert
    ctx, seen = _ctx(prune_ratio=0.5, prune_kind="neurons", steps=5)
    ctx.checkpoint = iter([True, False, False, False, False]).__next__
    out = run_bert(ctx)
    assert len(seen["work"]) == 1 and out.params < 22_713_216
    assert math.isfinite(out.quality["cosine_mean"]) and out.quality["cosine_mean"] < 0.99


def test_run_bert_distill_tiny():
    from workbench.workloads.bert import run_bert_distill
    ctx, seen = _ctx(workload="bert-distill", steps=3, batch_size=8)
    out = run_bert_distill(ctx)
    assert len(out.history) == 3 and [p["step"] for p in seen["progress"]] == [1, 2, 3]
    assert "loss" in seen["progress"][0] and out.tokens > 0 and out.flops > 0
    assert {"cosine_before", "cosine_mean", "spearman"} <= set(out.quality)
