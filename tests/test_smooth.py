"""SmoothQuant: exact in fp32, less int8 error on outlier activations, wired into the quantization policy."""
import copy

import pytest
import torch
from torch import nn

from workbench.compress.quantize import KIND_INT8, apply_quantization, int8_dynamic, int8_module_count
from workbench.compress.smooth import SmoothedLinear, input_absmax, smooth_linears, smoothing_scale
from workbench.errors import SettingsError
from workbench.settings import Settings


def outlier_inputs(n=256, d=32, seed=0):
    """(n, d) activations whose channels 3 and 17 are 60× the others, like a transformer's."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    x[:, [3, 17]] *= 60.0
    return x


def mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 16)).eval()


def test_smoothed_linear_is_exact_in_fp32():
    lin = nn.Linear(32, 8)
    x = outlier_inputs()
    ref = lin(x)
    s = torch.rand(32) * 10 + 0.1
    smoothed = SmoothedLinear(copy.deepcopy(lin), s)
    torch.testing.assert_close(smoothed(x), ref, rtol=1e-5, atol=1e-4)
    # the weight columns really carry s: the layer is not left unchanged
    torch.testing.assert_close(smoothed.linear.weight, lin.weight * s)


def test_scale_formula_by_hand():
    w = torch.tensor([[1.0, -4.0], [0.5, 2.0]])              # max |W_j| = 1, 4
    x_max = torch.tensor([16.0, 1.0])
    s = smoothing_scale(x_max, w, alpha=0.5)                # sqrt(16)/sqrt(1) = 4, sqrt(1)/sqrt(4) = 0.5
    torch.testing.assert_close(s, torch.tensor([4.0, 0.5]))
    torch.testing.assert_close(smoothing_scale(x_max, w, 1.0), x_max)   # α = 1: all range into the weights


def test_input_absmax_matches_by_hand():
    model = mlp()
    x = outlier_inputs()
    got = input_absmax(model, [x[:128], x[128:]])
    assert set(got) == {"0", "2"}
    torch.testing.assert_close(got["0"], x.abs().amax(0))
    torch.testing.assert_close(got["2"], nn.functional.gelu(model[0](x)).abs().amax(0))


def test_smoothing_keeps_fp32_and_cuts_int8_error():
    x = outlier_inputs()
    ref = mlp()(x)
    plain = int8_dynamic(mlp())
    smoothed = mlp()
    info = smooth_linears(smoothed, [x[:128]], alpha=0.85)  # calibrated on half, measured on all
    assert info.layers == 2 and info.batches == 1 and info.max_ratio > 20
    torch.testing.assert_close(smoothed(x), ref, rtol=1e-4, atol=1e-4)
    smoothed = int8_dynamic(smoothed)
    assert int8_module_count(smoothed) == 2                 # the inner Linears run int8 kernels
    err_plain = (plain(x) - ref).pow(2).mean() / ref.pow(2).mean()
    err_smooth = (smoothed(x) - ref).pow(2).mean() / ref.pow(2).mean()
    assert err_smooth < 0.5 * err_plain, (float(err_plain), float(err_smooth))


def test_policy_smooths_only_real_int8():
    x = outlier_inputs()
    model, info = apply_quantization(mlp(), 8, smooth_alpha=0.85, calibration=[x])
    assert info.kind == KIND_INT8 and "SmoothQuant α=0.85 on 2 Linear layers" in info.detail
    assert any(isinstance(m, SmoothedLinear) for m in model.modules())
    model, info = apply_quantization(mlp(), 4, smooth_alpha=0.85, calibration=[x])   # weights only
    assert not any(isinstance(m, SmoothedLinear) for m in model.modules())
    model, info = apply_quantization(mlp(), 8, smooth_alpha=0.85)                   # no calibration: none
    assert "SmoothQuant" not in info.detail


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_bad_alpha_is_one_line(alpha):
    with pytest.raises(SettingsError, match="smooth_alpha"):
        Settings(smooth_alpha=alpha)
    with pytest.raises(SettingsError, match="smooth_alpha"):
        apply_quantization(mlp(), 8, smooth_alpha=alpha, calibration=[outlier_inputs()])
    with pytest.raises(ValueError):
        smooth_linears(mlp(), [outlier_inputs()], alpha=alpha)


def test_minilm_smoothquant_beats_plain_int8():
    from workbench.compress.compare import bert_calibration
    from workbench.data.sentences import eval_sentences
    from workbench.models.bert import bert_flops, count_params, embed, load_bert
    from workbench.quality import embedding_quality
    bundle = load_bert()
    sentences = eval_sentences(tiny=True)
    ref = embed(bundle.model, bundle.tokenizer, sentences)
    calibration = bert_calibration(bundle.tokenizer)
    plain, _ = apply_quantization(copy.deepcopy(bundle.model), 8)
    smooth, _ = apply_quantization(copy.deepcopy(bundle.model), 8, smooth_alpha=0.85, calibration=calibration)
    q_plain = embedding_quality(embed(plain, bundle.tokenizer, sentences), ref)["cosine_mean"]
    q_smooth = embedding_quality(embed(smooth, bundle.tokenizer, sentences), ref)["cosine_mean"]
    assert int8_module_count(smooth) == int8_module_count(plain) == 6 * 6 + 1   # 6 blocks + pooler
    assert bert_flops(smooth, 320, 10) == bert_flops(plain, 320, 10)             # same arithmetic counted
    assert count_params(smooth) == count_params(plain)
    assert q_smooth > q_plain + 0.005 and q_smooth >= 0.99, (q_plain, q_smooth)


def test_a_run_smooths_on_training_batches_and_says_so():
    """Settings.smooth_alpha reaches the LM workloads: the GPT's Linears are smoothed before int8."""
    from workbench.runs import run
    r = run(Settings(workload="gpt", tiny=True, steps=5, bits=8, smooth_alpha=0.85))
    assert any("SmoothQuant α=0.85" in n and "calibrated on 4 batches" in n for n in r.notes), r.notes
    plain = run(Settings(workload="gpt", tiny=True, steps=5, bits=8))
    assert not any("SmoothQuant" in n for n in plain.notes)
