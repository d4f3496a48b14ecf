"""Quantization: F8 vs the affine form, fake-quant against hand values, real int8 kernels, policy."""
import warnings

import pytest
import torch
from torch import nn

from fakes.models import TinyLSTM
from workbench.compress.quantize import (KIND_FP16, KIND_INT8, KIND_NONE, KIND_SIMULATED, apply_quantization,
                                         dequantize_affine, dequantize_unit, fake_quantize_symmetric,
                                         int8_dynamic, int8_module_count, quantize_affine, quantize_unit)
from workbench.errors import SettingsError, WorkbenchError


def test_f8_hand_values():
    w = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    # 2^3 - 1 = 7: 0, 0.7, 3.5, 6.3, 7 -> round half to even: 0, 1, 4, 6, 7
    assert quantize_unit(w, 3).tolist() == [0, 1, 4, 6, 7]
    assert dequantize_unit(torch.tensor([0.0, 7.0]), 3).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 16])
def test_f8_is_affine_minmax_on_unit_interval(bits):
    g = torch.Generator().manual_seed(bits)
    w = torch.cat([torch.rand(5000, generator=g), torch.linspace(0, 1, 1001), torch.tensor([0.0, 0.5, 1.0])])
    q, scale, zp = quantize_affine(w, bits, lo=0.0, hi=1.0)
    assert zp == 0 and scale == pytest.approx(1 / (2 ** bits - 1))
    assert torch.equal(q, quantize_unit(w, bits))
    assert torch.allclose(dequantize_affine(q, scale, zp), dequantize_unit(quantize_unit(w, bits), bits))
    assert (dequantize_unit(q, bits) - w).abs().max() <= 0.5 / (2 ** bits - 1) + 1e-6


def test_affine_matches_torch_quantize_per_tensor():
    w = torch.randn(4000, generator=torch.Generator().manual_seed(0)) * 3 + 1
    q, scale, zp = quantize_affine(w, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.quantize_per_tensor(w, scale, zp, torch.quint8)
    assert (q - ref.int_repr().float()).abs().max() <= 1      # a rounding tie may differ by one level
    assert (q != ref.int_repr().float()).float().mean() < 1e-3
    assert (dequantize_affine(q, scale, zp) - w).abs().max() <= scale / 2 + 1e-5


def test_symmetric_per_channel_hand_values():
    w = torch.tensor([[1.0, -0.5, 0.26], [0.1, 0.02, -0.04]])
    # bits 3: qmax 3; row scales 1/3 and 0.1/3
    out = fake_quantize_symmetric(w, 3, "per-channel")
    expected = torch.tensor([[3, -2, 1], [3, 1, -1]]) * torch.tensor([[1 / 3], [0.1 / 3]])
    assert torch.allclose(out, expected)
    per_tensor = fake_quantize_symmetric(w, 3, "per-tensor")
    assert torch.allclose(per_tensor, torch.tensor([[3, -2, 1], [0, 0, 0]]) / 3)   # small row collapses


def test_one_bit_is_sign_times_mean_abs():
    w = torch.tensor([[2.0, -1.0, 0.0], [-3.0, -3.0, 3.0]])
    out = fake_quantize_symmetric(w, 1, "per-channel")
    assert torch.allclose(out, torch.tensor([[1.0, -1.0, 1.0], [-3.0, -3.0, 3.0]]))


@pytest.mark.parametrize("bits", list(range(2, 17)))
def test_error_shrinks_with_bits_and_is_bounded(bits):
    w = torch.randn(16, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = fake_quantize_symmetric(w, bits, "per-channel")
    scale = w.abs().amax(1, keepdim=True) / (2 ** (bits - 1) - 1)
    assert ((out - w).abs() <= scale / 2 + 1e-12).all()
    assert (out / scale).sub((out / scale).round()).abs().max() < 1e-6      # on the grid


@pytest.mark.parametrize("bits", [0, 17, 33, 31, -1, 8.0, True])
def test_bad_bits_one_line_error(bits):
    with pytest.raises(SettingsError) as exc:
        apply_quantization(nn.Linear(2, 2), bits)
    assert "\n" not in str(exc.value) and "32" in str(exc.value)


def test_bad_granularity():
    with pytest.raises(WorkbenchError, match="per-channel"):
        apply_quantization(nn.Linear(2, 2), 4, "per-row")


def test_policy_kinds():
    lin = lambda: nn.Sequential(nn.Linear(4, 4))  # noqa: E731
    assert apply_quantization(lin(), 32)[1].kind == KIND_NONE
    assert apply_quantization(lin(), 8)[1].kind == KIND_INT8
    assert apply_quantization(lin(), 16, device="cpu")[1].kind == KIND_SIMULATED
    assert apply_quantization(lin(), 4)[1].kind == KIND_SIMULATED
    assert apply_quantization(lin(), 8, device="cuda")[1].kind == KIND_SIMULATED
    info = apply_quantization(lin(), 4)[1]
    assert "\n" not in info.detail and "fp32 kernels" in info.detail


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp16_on_gpu():  # pragma: no cover - no GPU in CI
    model, info = apply_quantization(nn.Linear(4, 4).cuda(), 16, device="cuda")
    assert info.kind == KIND_FP16 and model.weight.dtype == torch.float16


def test_real_int8_kernels_on_linear_and_lstm():
    torch.manual_seed(0)
    model = TinyLSTM()
    x = torch.randint(0, 20, (3, 7))
    ref = model(x).detach()
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the deprecation warning must not escape
        q, info = apply_quantization(model, 8, "per-channel")
    qd = torch.ao.nn.quantized.dynamic
    assert isinstance(q.out, qd.Linear) and isinstance(q.lstm, qd.LSTM)
    assert info.kind == KIND_INT8 and int8_module_count(q) == 2 and "2 Linear/LSTM" in info.detail
    out = q(x)
    assert out.shape == ref.shape
    assert torch.nn.functional.cosine_similarity(out.flatten(), ref.flatten(), dim=0) > 0.99


def test_fake_quant_changes_only_matmul_weights():
    torch.manual_seed(0)
    model = TinyLSTM()
    emb = model.embed.weight.detach().clone()
    bias = model.out.bias.detach().clone()
    q, info = apply_quantization(model, 2, "per-tensor")
    assert torch.equal(q.embed.weight, emb) and torch.equal(q.out.bias, bias)
    assert q.out.weight.unique().numel() <= 3                  # levels -1, 0, 1 times one scale
    assert q.lstm.weight_hh_l0.unique().numel() <= 3
    assert info.kind == KIND_SIMULATED and "3 weight tensors" in info.detail


def test_int8_dynamic_per_tensor_scheme():
    q = int8_dynamic(nn.Sequential(nn.Linear(8, 8)), "per-tensor")
    assert q[0].weight().qscheme() == torch.per_tensor_affine
    q = int8_dynamic(nn.Sequential(nn.Linear(8, 8)), "per-channel")
    assert q[0].weight().qscheme() == torch.per_channel_affine


# -- on the real MiniLM (loaded once for the module) ------------------------------------------
@pytest.fixture(scope="module")
def minilm():
    from workbench.models.bert import embed, load_bert
    bundle = load_bert()
    sentences = ["The cat sat on the mat.", "Heavy rain is expected later today.",
                 "Quantization stores weights with fewer bits.", "She baked fresh bread on Sunday.",
                 "The team won the match in the last minute.", "Our flight was delayed by three hours."]
    return bundle, sentences, embed(bundle.model, bundle.tokenizer, sentences)


def _cos(minilm, bits, granularity):
    import copy

    from workbench.models.bert import embed
    from workbench.quality import embedding_quality
    bundle, sentences, ref = minilm
    model, info = apply_quantization(copy.deepcopy(bundle.model), bits, granularity)
    return embedding_quality(embed(model, bundle.tokenizer, sentences), ref), model, info


def test_minilm_per_channel_8bit_keeps_cosine(minilm):
    q, _, info = _cos(minilm, 8, "per-channel")
    assert info.kind == KIND_INT8
    assert q["cosine_mean"] > 0.95                         # activations are quantized too
    import copy
    bundle, sentences, ref = minilm
    from workbench.compress.quantize import fake_quantize_model
    from workbench.models.bert import embed
    from workbench.quality import embedding_quality
    model = copy.deepcopy(bundle.model)
    fake_quantize_model(model, 8, "per-channel")           # weights only: F8-style 8-bit grid
    assert embedding_quality(embed(model, bundle.tokenizer, sentences), ref)["cosine_min"] >= 0.99


def test_minilm_int8_uses_int8_modules(minilm):
    _, model, _ = _cos(minilm, 8, "per-channel")
    qd = torch.ao.nn.quantized.dynamic
    assert isinstance(model.encoder.layer[0].intermediate.dense, qd.Linear)
    assert not any(isinstance(m, nn.Linear) and not isinstance(m, qd.Linear) for m in model.modules())


def test_minilm_two_bits_destroys_embedding(minilm):
    q, _, info = _cos(minilm, 2, "per-tensor")
    assert info.kind == KIND_SIMULATED and q["cosine_mean"] < 0.5


def test_int8_dynamic_skip_keeps_named_layers_fp32():
    from transformers import BertConfig, BertModel
    model = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=32))
    q = int8_dynamic(model, skip=(r"encoder\.layer\.\d+\.output\.dense",))
    qd = torch.ao.nn.quantized.dynamic
    assert type(q.encoder.layer[1].output.dense) is nn.Linear                 # FFN output: fp32
    assert isinstance(q.encoder.layer[1].attention.output.dense, qd.Linear)   # attention output: int8
    assert int8_module_count(q) == 2 * 5 + 1                                 # Q, K, V, attn out, FFN in; pooler
