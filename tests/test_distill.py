"""Distillation: F10 against a hand computation, an LM student learns through the Trainer, the BERT
losses against hand computations on a small random BERT, a real MiniLM student beats itself untrained."""
import math
from functools import partial

import pytest
import torch
from torch.nn import functional as F

import fakes.models
from workbench.compress.distill import (BertDistillConfig, bert_distill_loss_fn, distill_bert, distill_lm,
                                        distillation_loss, embedding_loss, hidden_loss, lm_distill_loss_fn,
                                        teacher_layer_map)


def test_loss_matches_hand_computation():
    s = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = torch.tensor([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    y = torch.tensor([1, 2])
    T, alpha = 2.0, 0.3
    kl = 0.0
    for i in range(2):                        # KL(p_t || p_s) row by row, then mean over rows
        pt = [math.exp(v / T) for v in t[i].tolist()]
        ps = [math.exp(v / T) for v in s[i].tolist()]
        pt = [v / sum(pt) for v in pt]
        ps = [v / sum(ps) for v in ps]
        kl += sum(a * math.log(a / b) for a, b in zip(pt, ps)) / 2
    ce = 0.0
    for i in range(2):
        ce += -(s[i, y[i]].item() - math.log(sum(math.exp(v) for v in s[i].tolist()))) / 2
    expected = alpha * T * T * kl + (1 - alpha) * ce
    assert distillation_loss(s, t, y, T=T, alpha=alpha).item() == pytest.approx(expected, rel=1e-6)
    assert distillation_loss(s, t, None, T=T).item() == pytest.approx(T * T * kl, rel=1e-6)


def test_loss_matches_torch_formula_on_3d_logits():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 5, 7, generator=g), torch.randn(2, 5, 7, generator=g)
    y = torch.randint(0, 7, (2, 5), generator=g)
    T = 3.0
    p_t = F.softmax(t / T, -1)
    kl = (p_t * (p_t.log() - F.log_softmax(s / T, -1))).sum(-1).mean()
    ref = 0.5 * T * T * kl + 0.5 * F.cross_entropy(s.reshape(-1, 7), y.reshape(-1))
    assert torch.allclose(distillation_loss(s, t, y, T=T), ref, atol=1e-6)


def test_loss_zero_when_student_equals_teacher_and_grad_flows():
    s = torch.randn(4, 6, requires_grad=True)
    loss = distillation_loss(s, s.detach().clone())
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    distillation_loss(s, torch.randn(4, 6)).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0


def test_bad_temperature():
    with pytest.raises(ValueError, match="T must be > 0"):
        distillation_loss(torch.zeros(1, 2), torch.zeros(1, 2), T=0)


TinyLSTM = partial(fakes.models.TinyLSTM, V=12, h=32)


def test_distill_lm_student_approaches_teacher():
    torch.manual_seed(0)
    teacher, student = TinyLSTM(h=32), TinyLSTM(h=8)
    g = torch.Generator().manual_seed(1)
    xs = [torch.randint(0, 12, (8, 10), generator=g) for _ in range(4)]

    def gap():
        with torch.no_grad():
            return distillation_loss(student(xs[0]), teacher(xs[0])).item()

    before = gap()
    seen = []
    hist = distill_lm(teacher, student, xs, steps=60, lr=1e-2, progress=lambda **m: seen.append(m))
    assert len(hist) == 60 and seen[-1]["step"] == 60 and seen[-1]["steps"] == 60
    assert gap() < 0.5 * before
    assert not student.training


def test_distill_lm_stops_on_checkpoint_and_takes_targets():
    torch.manual_seed(0)
    teacher, student = TinyLSTM(), TinyLSTM(h=8)
    batches = [(torch.randint(0, 12, (2, 5)), torch.randint(0, 12, (2, 5)))]
    calls = iter([True, True, False])
    hist = distill_lm(teacher, student, batches, steps=10, checkpoint=lambda: next(calls))
    assert len(hist) == 2


def test_embedding_loss_zero_for_identical():
    e = torch.randn(3, 5)
    assert embedding_loss(e, e).item() == pytest.approx(0.0, abs=1e-6)


def test_lm_loss_fn_is_f10_and_counts():
    torch.manual_seed(0)
    teacher, student = TinyLSTM(), TinyLSTM(h=8)
    x, y = torch.randint(0, 12, (2, 5)), torch.randint(0, 12, (2, 5))
    loss, n, correct = lm_distill_loss_fn(teacher, T=3.0, alpha=0.2)(student, (x, y))
    with torch.no_grad():
        ref = distillation_loss(student(x), teacher(x), y, T=3.0, alpha=0.2)
        hits = int((student(x).argmax(-1) == y).sum())
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6) and n == 10 and correct == hits
    loss, n, correct = lm_distill_loss_fn(teacher)(student, x)          # no targets: soft term only
    assert n == 10 and correct == 0 and loss.item() == pytest.approx(distillation_loss(student(x), teacher(x)).item(), rel=1e-6)


def test_distill_lm_is_the_trainer(monkeypatch):
    import workbench.compress.distill as d
    made = []
    real = d.Trainer

    class Spy(real):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)
    monkeypatch.setattr(d, "Trainer", Spy)
    teacher, student = TinyLSTM(), TinyLSTM(h=8)
    hist = distill_lm(teacher, student, [torch.randint(0, 12, (2, 5))], steps=3, lr=1e-3)
    assert len(made) == 1 and made[0].step == 3 and hist is made[0].history and made[0].config.grad_clip == 1.0


def test_hidden_loss_hand_values_and_padding():
    t = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [9.0, 9.0]]])          # (1, 3, 2), last token is padding
    s = torch.tensor([[[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert hidden_loss(s, t, mask).item() == pytest.approx((1 + 4) / (1 + 4))
    assert hidden_loss(t, t, mask).item() == 0.0
    assert hidden_loss(10 * s, 10 * t, mask).item() == pytest.approx(1.0)     # relative: scale-free


@pytest.fixture(scope="module")
def small_bert():
    """A 4-block random BERT without dropout, its vocabulary the size of MiniLM's tokenizer's."""
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                     intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return BertModel(cfg).eval()


def _batch():
    ids = torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 102, 0, 0]])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def test_bert_loss_fn_against_hand_sum(small_bert):
    from workbench.models.bert import make_student, mean_pool
    student = make_student(small_bert, 2)
    assert student.kept_layers == [0, 3] and teacher_layer_map(student, small_bert) == [0, 3]
    batch = _batch()
    stats = {}
    cfg = BertDistillConfig(hidden_weight=0.5, mse_weight=2.0)
    loss, n_tokens, _ = bert_distill_loss_fn(small_bert, [0, 3], cfg, stats)(student, batch)
    with torch.no_grad():
        t = small_bert(**batch, output_hidden_states=True).hidden_states
        s = student(**batch, output_hidden_states=True).hidden_states
    m = batch["attention_mask"]
    emb = embedding_loss(mean_pool(s[-1], m), mean_pool(t[-1], m), 2.0)
    blocks = (hidden_loss(s[1], t[1], m) + hidden_loss(s[2], t[4], m)) / 2
    assert loss.item() == pytest.approx((emb + 0.5 * blocks).item(), rel=1e-5)
    assert n_tokens == 8 and stats["tokens"] == 10 and 0 < stats["cosine"] <= 1
    assert blocks.item() > 0 and hidden_loss(s[1], t[1], m).item() == pytest.approx(0.0, abs=1e-10)   # block 0 is a copy


def test_bert_loss_zero_for_full_copy_and_layer_map_fallback(small_bert):
    import copy
    student = copy.deepcopy(small_bert)                 # no kept_layers: matched to the last blocks
    assert teacher_layer_map(student, small_bert) == [0, 1, 2, 3]
    loss, _, _ = bert_distill_loss_fn(small_bert, [0, 1, 2, 3], BertDistillConfig(), {})(student, _batch())
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    student.encoder.layer = student.encoder.layer[2:]
    assert teacher_layer_map(student, small_bert) == [2, 3]


def test_distill_bert_trains_small_bert_and_stops(small_bert):
    from workbench.models.bert import load_bert, make_student
    tok = load_bert().tokenizer
    sentences = [f"sentence number {w} about the {v}." for w in ("one", "two", "three", "four") for v in ("cat", "rain")]
    student = make_student(small_bert, 2)
    w0 = student.encoder.layer[1].output.dense.weight.detach().clone()
    seen = []
    student, hist = distill_bert(small_bert, tok, sentences, BertDistillConfig(n_layers=2, steps=30, batch_size=4, lr=3e-3),
                                 student=student, progress=lambda **m: seen.append(m))
    assert len(hist) == 30 and [m["step"] for m in seen] == list(range(1, 31)) and not student.training
    assert sum(h["loss"] for h in hist[-5:]) < 0.5 * sum(h["loss"] for h in hist[:5])
    assert not torch.equal(student.encoder.layer[1].output.dense.weight, w0)
    assert student.embeddings.word_embeddings.weight.requires_grad is False       # frozen by default
    calls = iter([True, True, False])
    _, hist = distill_bert(small_bert, tok, sentences, BertDistillConfig(n_layers=2, steps=10, batch_size=4),
                           checkpoint=lambda: next(calls))
    assert len(hist) == 2


def test_bert_student_beats_untrained_student():
    """The real MiniLM: a few steps of block-to-block distillation beat the untrained 3-block copy on held-out text."""
    from workbench.data.sentences import distill_sentences, eval_sentences
    from workbench.models.bert import embed, load_bert, make_student
    from workbench.quality import embedding_quality
    bundle = load_bert()
    teacher = bundle.model
    ev = eval_sentences(tiny=True)
    ref = embed(teacher, bundle.tokenizer, ev)
    untrained = embedding_quality(embed(make_student(teacher, 3), bundle.tokenizer, ev), ref)["cosine_mean"]
    config = BertDistillConfig(n_layers=3, steps=8, batch_size=8, lr=3e-4, max_length=32)
    student, hist = distill_bert(teacher, bundle.tokenizer, distill_sentences(64), config)
    trained = embedding_quality(embed(student, bundle.tokenizer, ev), ref)["cosine_mean"]
    assert len(hist) == 8 and trained > untrained + 0.03


# -- training text ------------------------------------------------------------------------------
def test_library_sentences_drop_code_and_evaluation_sentences(tmp_path, monkeypatch):
    import sysconfig

    from workbench.data import sentences as ds
    (tmp_path / "mod.py").write_text('"""The cat sat on the mat. Parse the source into a tree of nodes.\n\n'
                                     'Call f(x) = 2 with care please. Short one."""\n')
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "t.py").write_text('"""Tests are never used as training text here."""\n')
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"stdlib": str(tmp_path)})
    found = ds.library_sentences.__wrapped__()
    assert found == ("Parse the source into a tree of nodes.",)        # eval sentence, code, too short, tests: out


def test_distill_sentences_deterministic_mixed_and_held_out():
    from workbench.data.sentences import EVAL_SENTENCES, distill_sentences, library_sentences
    a, b = distill_sentences(500, seed=3), distill_sentences(500, seed=3)
    assert a == b and len(a) == 500 and a != distill_sentences(500, seed=4)
    lib = set(library_sentences(max_words=16))
    assert 150 <= sum(s in lib for s in a) <= 250                       # about 40 % from docstrings
    assert not {s.lower() for s in a} & {e.lower() for e in EVAL_SENTENCES}


def test_vocabulary_sentences_replace_every_fourth():
    from workbench.data.sentences import distill_sentences
    from workbench.models.bert import load_bert, vocabulary_words
    words = vocabulary_words(load_bert().tokenizer)
    assert len(words) == 12_000 and words[:3] == ["the", "of", "and"]          # frequent words first
    assert all(w.isalpha() and w.islower() and not w.startswith("#") for w in words)
    plain, mixed = distill_sentences(400, seed=2), distill_sentences(400, seed=2, vocabulary=words)
    vocab = set(words)
    for i, (p, m) in enumerate(zip(plain, mixed)):
        if i % 4:
            assert m == p
        else:
            assert 5 <= len(m.split()) <= 14 and {w.strip(".").lower() for w in m.split()} <= vocab
    assert mixed == distill_sentences(400, seed=2, vocabulary=words)
