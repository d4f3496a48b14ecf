"""Distillation: F10 against a hand computation, an LM student learns, a BERT student beats itself untrained."""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from workbench.compress.distill import BertDistillConfig, distill_bert, distill_lm, distillation_loss, embedding_loss


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


class TinyLSTM(nn.Module):
    def __init__(self, V=12, d=8, h=32):
        super().__init__()
        self.embed, self.lstm, self.out = nn.Embedding(V, d), nn.LSTM(d, h, batch_first=True), nn.Linear(h, V)

    def forward(self, x):
        return self.out(self.lstm(self.embed(x))[0])          # (B, T, V)


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


def test_bert_student_beats_untrained_student():
    from workbench.data.sentences import eval_sentences, training_sentences
    from workbench.models.bert import embed, load_bert, make_student
    from workbench.quality import embedding_quality
    bundle = load_bert()
    teacher = bundle.model
    assert len(make_student(teacher, 3).encoder.layer) == 3 and len(teacher.encoder.layer) == 6
    ev = eval_sentences(tiny=True)
    ref = embed(teacher, bundle.tokenizer, ev)
    untrained = embedding_quality(embed(make_student(teacher, 3), bundle.tokenizer, ev), ref)["cosine_mean"]
    config = BertDistillConfig(n_layers=3, steps=20, batch_size=16, lr=3e-4)
    student, hist = distill_bert(teacher, bundle.tokenizer, training_sentences(320), config)
    trained = embedding_quality(embed(student, bundle.tokenizer, ev), ref)["cosine_mean"]
    assert len(hist) == 20 and trained > untrained + 0.05
