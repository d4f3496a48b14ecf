"""Pruning: F9 against a hand top-k, global vs per layer, structured pruning shrinks and stays exact."""
import copy

import pytest
import torch
from torch import nn

from fakes.models import TinyLSTM
from workbench.compress.prune import NO_SPEEDUP, apply_pruning
from workbench.errors import ModelError, SettingsError


class TinyMLP(nn.Module):
    def __init__(self, V=20, n=3, d=4, h=32):
        super().__init__()
        self.embed, self.hidden, self.out = nn.Embedding(V, d), nn.Linear(n * d, h), nn.Linear(h, V)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(self.embed(x).flatten(1))))


def test_unstructured_keeps_k_largest_per_layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 10), nn.Linear(10, 10))
    w0 = model[0].weight.detach().clone()
    info = apply_pruning(model, 0.3, "unstructured")
    keep = w0.abs().flatten().topk(70).indices                 # F9: the 70 largest |w| survive
    expected = torch.zeros(100)
    expected[keep] = w0.flatten()[keep]
    assert torch.equal(model[0].weight.flatten(), expected)
    assert int((model[1].weight == 0).sum()) == 30
    assert isinstance(model[0].weight, nn.Parameter) and not hasattr(model[0], "weight_orig")   # permanent
    assert info.params_before == info.params_after == 220
    assert info.nonzero_before - info.nonzero_after == 60
    assert not info.speedup_expected and NO_SPEEDUP in info.detail and "\n" not in info.detail


def test_global_prunes_small_layer_harder():
    model = nn.Sequential(nn.Linear(10, 10, bias=False), nn.Linear(10, 10, bias=False))
    with torch.no_grad():
        model[0].weight.fill_(0.01)
        model[1].weight.copy_(torch.arange(1, 101).view(10, 10).float())
    apply_pruning(model, 0.5, "global")
    assert int((model[0].weight == 0).sum()) == 100 and int((model[1].weight == 0).sum()) == 0


def test_unstructured_on_lstm_is_permanent_and_runs():
    torch.manual_seed(0)
    model = TinyLSTM()
    info = apply_pruning(model, 0.5, "unstructured")
    assert float((model.lstm.weight_hh_l0 == 0).float().mean()) == pytest.approx(0.5, abs=0.01)
    out = model(torch.randint(0, 20, (2, 5)))
    assert out.shape == (2, 5, 20) and info.nonzero_after < info.nonzero_before


@pytest.mark.parametrize("ratio", [1.0, -0.1, 1.5])
def test_bad_ratio_one_line(ratio):
    with pytest.raises(SettingsError) as exc:
        apply_pruning(nn.Linear(2, 2), ratio)
    assert "[0, 1)" in str(exc.value) and "\n" not in str(exc.value)


def test_bad_kind():
    with pytest.raises(SettingsError, match="unstructured, global, heads, neurons"):
        apply_pruning(nn.Linear(2, 2), 0.5, "rows")


def test_heads_on_non_bert_is_model_error():
    with pytest.raises(ModelError, match="BERT"):
        apply_pruning(TinyLSTM(), 0.5, "heads")
    with pytest.raises(ModelError, match="neurons"):
        apply_pruning(nn.Sequential(nn.Linear(2, 2)), 0.5, "neurons")


def test_mlp_neurons_remove_the_weakest_units_exactly():
    torch.manual_seed(0)
    model = TinyMLP()
    x = torch.randint(0, 20, (4, 3))
    with torch.no_grad():
        model.out.weight[:, :8] = 0          # 8 hidden units nobody reads: removing them is exact
    ref = model(x)
    info = apply_pruning(model, 0.25, "neurons")
    assert model.hidden.out_features == 24 and model.out.in_features == 24
    assert torch.allclose(model(x), ref, atol=1e-6)
    assert info.speedup_expected and info.params_after < info.params_before


def test_lstm_neurons_exact_when_units_are_unused():
    torch.manual_seed(0)
    model = TinyLSTM(h=16)
    with torch.no_grad():                    # units 0..3 are never read by anyone
        model.out.weight[:, :4] = 0
        model.lstm.weight_hh_l0.view(4, 16, 16)[:, :, :4] = 0
    x = torch.randint(0, 20, (2, 6))
    ref = model(x)
    apply_pruning(model, 0.25, "neurons")
    assert model.lstm.hidden_size == 12 and model.out.in_features == 12
    assert torch.allclose(model(x), ref, atol=1e-5)


# -- BERT: a small random one (no weights needed) and the real MiniLM --------------------------
@pytest.fixture(scope="module")
def small_bert():
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=64, max_position_embeddings=16))
    return model.eval()


def test_heads_pruning_exact_when_heads_are_silenced(small_bert):
    model = copy.deepcopy(small_bert)
    with torch.no_grad():                    # head 1 of each layer writes nothing to the output
        for block in model.encoder.layer:
            block.attention.output.dense.weight[:, 8:16] = 0
    ids = torch.randint(0, 50, (2, 7))
    ref = model(input_ids=ids).last_hidden_state
    info = apply_pruning(model, 0.25, "heads")
    for block in model.encoder.layer:
        att = block.attention.self
        assert att.num_attention_heads == 3 and att.all_head_size == 24
        assert att.query.weight.shape == (24, 32) and block.attention.output.dense.weight.shape == (32, 24)
    assert torch.allclose(model(input_ids=ids).last_hidden_state, ref, atol=1e-5)
    assert info.speedup_expected and "2 of 8 attention heads" in info.detail


def test_ffn_neurons_pruning_shapes(small_bert):
    model = copy.deepcopy(small_bert)
    info = apply_pruning(model, 0.5, "neurons")
    assert model.encoder.layer[0].intermediate.dense.weight.shape == (32, 32)
    assert model.encoder.layer[0].output.dense.weight.shape == (32, 32)
    assert info.params_before - info.params_after == 2 * (32 * 32 * 2 + 32)
    assert model(input_ids=torch.randint(0, 50, (1, 5))).last_hidden_state.shape == (1, 5, 32)


def test_heads_keep_at_least_one(small_bert):
    model = copy.deepcopy(small_bert)
    apply_pruning(model, 0.99, "heads")
    assert all(b.attention.self.num_attention_heads == 1 for b in model.encoder.layer)


def test_minilm_structured_vs_unstructured():
    from workbench.models.bert import load_bert
    bundle = load_bert()
    heads = apply_pruning(copy.deepcopy(bundle.model), 0.5, "heads")
    ffn = apply_pruning(copy.deepcopy(bundle.model), 0.5, "neurons")
    unst = apply_pruning(copy.deepcopy(bundle.model), 0.5, "unstructured")
    assert heads.params_after == heads.params_before - 6 * (3 * (384 * 192 + 192) + 384 * 192)
    assert ffn.params_after == ffn.params_before - 6 * (768 * 384 + 768 + 384 * 768)
    assert unst.params_after == unst.params_before and unst.nonzero_after < 0.8 * unst.nonzero_before
