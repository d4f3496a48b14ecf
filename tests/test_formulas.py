"""F1–F7 against torch (values and autograd), at the extremes, on numpy and torch inputs."""
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from workbench import formulas as fm

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64_oracle():
    # compare in double precision, and give the default back: other modules' models are float32
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.fixture(autouse=True)
def _errors_on_numpy_warnings():
    # Overflow / divide-by-zero / invalid in any formula must fail the test (underflow to 0
    # is the intended behaviour of exp(-|x|)).
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"), \
            warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- F1 ----------------------------------------------------------------------------------------
def test_sigmoid_matches_torch_and_is_stable():
    x = np.concatenate([np.linspace(-50, 50, 101), [-1000.0, 1000.0, -745.0, 710.0]])
    ours_np = fm.sigmoid(x)
    ours_t = fm.sigmoid(torch.tensor(x))
    ref = torch.sigmoid(torch.tensor(x)).numpy()
    assert isinstance(ours_np, np.ndarray) and isinstance(ours_t, torch.Tensor)
    np.testing.assert_allclose(ours_np, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ours_t.numpy(), ref, rtol=1e-12, atol=1e-300)
    assert fm.sigmoid(1000.0) == 1.0 and fm.sigmoid(-1000.0) == 0.0
    assert isinstance(fm.sigmoid(0.0), float) and fm.sigmoid(0.0) == 0.5


def test_sigmoid_float32_tensor_extremes_and_gradient():
    x = torch.tensor([-1000.0, -3.0, 0.0, 3.0, 1000.0], dtype=torch.float32, requires_grad=True)
    y = fm.sigmoid(x)
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    y.sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    torch.sigmoid(x2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)


def test_log_sigmoid_matches_torch():
    x = torch.tensor([-1000.0, -20.0, -1.0, 0.0, 1.0, 20.0, 1000.0], requires_grad=True)
    ours = fm.log_sigmoid(x)
    x2 = x.detach().clone().requires_grad_(True)
    ref = F.logsigmoid(x2)
    torch.testing.assert_close(ours, ref)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)  # includes x = 0
    x = x.detach()
    np.testing.assert_allclose(fm.log_sigmoid(x.numpy()), F.logsigmoid(x).numpy(), rtol=1e-12)


# -- F3 ----------------------------------------------------------------------------------------
def test_bce_matches_torch_numpy_and_torch():
    p = RNG.uniform(0.01, 0.99, 100)
    y = (RNG.random(100) < 0.5).astype(np.float64)
    ref = F.binary_cross_entropy(torch.tensor(p), torch.tensor(y)).item()
    assert fm.binary_cross_entropy(p, y) == pytest.approx(ref, abs=1e-6, rel=1e-12)
    out_t = fm.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    assert isinstance(out_t, torch.Tensor) and out_t.item() == pytest.approx(ref, rel=1e-12)


def test_bce_gradient_matches_torch():
    p = torch.tensor(RNG.uniform(0.05, 0.95, 20), requires_grad=True)
    y = torch.tensor((RNG.random(20) < 0.5).astype(np.float64))
    fm.binary_cross_entropy(p, y).backward()
    p2 = p.detach().clone().requires_grad_(True)
    F.binary_cross_entropy(p2, y).backward()
    torch.testing.assert_close(p.grad, p2.grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_finite_at_p_zero_and_one(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    loss = fm.binary_cross_entropy(p, y)
    # Two samples fully wrong (capped at -log(eps) each), two exactly right (0).
    assert np.isfinite(loss)
    assert loss == pytest.approx(2 * -np.log(fm.EPS) / 4, rel=1e-5)
    loss_t = fm.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    assert torch.isfinite(loss_t)


def test_bce_with_logits_matches_torch_including_extremes():
    z = torch.tensor([-1000.0, -30.0, -2.0, 0.0, 2.0, 30.0, 1000.0, 0.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.3])
    z2 = z.detach().clone().requires_grad_(True)
    ours = fm.binary_cross_entropy_with_logits(z, y)
    ref = F.binary_cross_entropy_with_logits(z2, y)
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(z.grad, z2.grad)
    z, ref = z.detach(), ref.detach()
    ours_np = fm.binary_cross_entropy_with_logits(z.numpy(), y.numpy())
    assert ours_np == pytest.approx(ref.item(), rel=1e-12)
    # z = -1000 with y = 1 costs exactly 1000 nats: no clipping in the logit form.
    assert fm.binary_cross_entropy_with_logits(np.array([-1000.0]), np.array([1.0])) == 1000.0


# -- F2 ----------------------------------------------------------------------------------------
def test_cross_entropy_probabilities_labels_and_one_hot():
    logits = torch.tensor(RNG.standard_normal((8, 5)))
    labels = torch.tensor(RNG.integers(0, 5, 8))
    p = torch.softmax(logits, -1)
    ref = F.cross_entropy(logits, labels).item()
    one_hot = F.one_hot(labels, 5).double()
    assert fm.cross_entropy(p, labels).item() == pytest.approx(ref, abs=1e-6)
    assert fm.cross_entropy(p, one_hot).item() == pytest.approx(ref, abs=1e-6)
    assert fm.cross_entropy(p.numpy(), labels.numpy()) == pytest.approx(ref, abs=1e-6)
    assert fm.cross_entropy(p.numpy(), one_hot.numpy()) == pytest.approx(ref, abs=1e-6)


def test_cross_entropy_zero_probability_is_finite():
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert fm.cross_entropy(p, np.array([1, 1])) == pytest.approx(-np.log(fm.EPS) / 2)


def test_cross_entropy_from_logits_matches_torch_values_and_grads():
    logits = torch.tensor(RNG.standard_normal((6, 7)) * 3, requires_grad=True)
    labels = torch.tensor(RNG.integers(0, 7, 6))
    ours = fm.cross_entropy_from_logits(logits, labels)
    ours.backward()
    l2 = logits.detach().clone().requires_grad_(True)
    ref = F.cross_entropy(l2, labels)
    ref.backward()
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(logits.grad, l2.grad)
    # soft targets, numpy path
    soft = torch.softmax(torch.tensor(RNG.standard_normal((6, 7))), -1)
    ref_soft = F.cross_entropy(logits.detach(), soft).item()
    assert fm.cross_entropy_from_logits(logits.detach().numpy(), soft.numpy()) == pytest.approx(ref_soft, rel=1e-12)


def test_cross_entropy_from_logits_huge_logits_finite():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    ref = F.cross_entropy(torch.tensor(logits), torch.tensor([1, 2])).item()
    ours = fm.cross_entropy_from_logits(logits, np.array([1, 2]))
    assert np.isfinite(ours) and ours == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(fm.softmax(logits).sum(-1), 1.0)


# -- F4, F5 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_sgd_step_matches_torch_optim_sgd(weight_decay):
    theta0 = torch.tensor(RNG.standard_normal(5))
    target = torch.tensor(RNG.standard_normal(5))
    p = torch.nn.Parameter(theta0.clone())
    opt = torch.optim.SGD([p], lr=0.05, weight_decay=weight_decay)
    ours_np, ours_t = theta0.numpy().copy(), theta0.clone()
    for _ in range(10):
        opt.zero_grad()
        ((p - target) ** 2).sum().backward()
        grad_np = 2 * (ours_np - target.numpy())
        grad_t = 2 * (ours_t - target)
        opt.step()
        ours_np = fm.sgd_step(ours_np, grad_np, 0.05, weight_decay)
        ours_t = fm.sgd_step(ours_t, grad_t, 0.05, weight_decay)
    np.testing.assert_allclose(ours_np, p.detach().numpy(), atol=1e-6)
    torch.testing.assert_close(ours_t, p.detach(), atol=1e-6, rtol=0)


def test_sgd_step_is_seed003_formula_and_pure():
    theta = np.array([1.0, -2.0])
    grad = np.array([0.5, 0.5])
    out = fm.sgd_step(theta, grad, lr=0.1, weight_decay=0.2)
    np.testing.assert_allclose(out, theta - 0.1 * grad - 0.1 * 0.2 * theta)
    np.testing.assert_array_equal(theta, [1.0, -2.0])  # not modified in place


# -- F7 ----------------------------------------------------------------------------------------
def test_perplexity():
    assert fm.perplexity(0.0) == 1.0
    assert fm.perplexity(np.log(5.0)) == pytest.approx(5.0)
    nll = np.array([0.5, 1.5, 1.0])
    assert fm.perplexity(nll) == pytest.approx(np.e)
    out = fm.perplexity(torch.tensor(nll))
    assert isinstance(out, torch.Tensor) and out.item() == pytest.approx(np.e)
    # Uniform prediction over V classes has perplexity V.
    V = 13
    loss = fm.cross_entropy_from_logits(np.zeros((4, V)), np.array([0, 3, 7, 12]))
    assert fm.perplexity(loss) == pytest.approx(V)


# -- F6 ----------------------------------------------------------------------------------------
SENT = fm.tokenize("The cat sat on the mat")


def test_chain_rule_exact_fractions_on_seed_sentence():
    assert SENT == ["the", "cat", "sat", "on", "the", "mat"]
    assert fm.chain_rule_from_counts(SENT, "the", "cat") == Fraction(1, 2)
    assert fm.chain_rule_from_counts(SENT, "the", "mat") == Fraction(1, 2)
    assert fm.chain_rule_from_counts(SENT, "the", "sat") == 0
    assert fm.chain_rule_from_counts(SENT, ["the", "cat"], "sat") == 1
    assert fm.chain_rule_from_counts(SENT, "sat on", "the") == 1
    vocab = set(SENT)
    assert sum(fm.chain_rule_from_counts(SENT, "the", w) for w in vocab) == 1


def test_chain_rule_equals_ratio_of_probabilities():
    # P(the cat) / P(the) with the same (count-based) normaliser is the count ratio.
    p_joint = Fraction(fm.ngram_count(SENT, ["the", "cat"]), 5)
    p_prefix = Fraction(fm.ngram_count(SENT, ["the"], followed=True), 5)
    assert fm.conditional_probability(p_joint, p_prefix) == Fraction(1, 2)
    assert fm.conditional_probability(0.25, 0.5) == 0.5
    with pytest.raises(ValueError, match="> 0"):
        fm.conditional_probability(0.1, 0.0)


def test_chain_rule_unknown_context_raises():
    with pytest.raises(ValueError, match="never occurs"):
        fm.chain_rule_from_counts(SENT, "dog", "cat")
    with pytest.raises(ValueError):  # 'mat' is last: nothing follows it
        fm.chain_rule_from_counts(SENT, "mat", "the")


def test_sequence_probability_and_log():
    # P(w_1) from unigram counts, then P(w_i | w_1..w_{i-1}) with the whole history.
    p_first = Fraction(fm.ngram_count(SENT, ["the"]), len(SENT))
    conds = [p_first] + [fm.chain_rule_from_counts(SENT, SENT[:i], SENT[i])
                         for i in range(1, len(SENT))]
    assert conds == [Fraction(1, 3), Fraction(1, 2), 1, 1, 1, 1]
    assert fm.sequence_probability(conds) == Fraction(1, 6)
    assert fm.sequence_log_probability(conds) == pytest.approx(np.log(1 / 6))
    assert fm.sequence_log_probability([0.5, 0.0]) == -np.inf
    assert fm.sequence_probability([0.5, 0.5]) == 0.25


# -- logistic regression (seeds 000/003) -------------------------------------------------------
def test_make_binary_example():
    X, y = fm.make_binary_example()
    assert X.shape == (100, 3) and y.shape == (100,)
    np.testing.assert_array_equal(X[:, -1], 1.0)
    assert set(np.unique(y)) <= {0.0, 1.0}
    X2, y2 = fm.make_binary_example()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_logistic_gradient_matches_autograd():
    X, y = fm.make_binary_example(m=50, seed=3)
    theta = torch.tensor(RNG.standard_normal(3), requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    F.binary_cross_entropy_with_logits(Xt @ theta, yt).backward()
    analytic_np = fm.logistic_gradient(theta.detach().numpy(), X, y)
    np.testing.assert_allclose(analytic_np, theta.grad.numpy(), atol=1e-12)
    # and autograd through our own F1 + F3 agrees as well
    th2 = theta.detach().clone().requires_grad_(True)
    fm.binary_cross_entropy(fm.sigmoid(Xt @ th2), yt).backward()
    torch.testing.assert_close(th2.grad, theta.grad)
    torch.testing.assert_close(fm.logistic_gradient(theta.detach(), Xt, yt), theta.grad)


def test_fit_logistic_lowers_loss_numpy_and_torch_agree():
    X, y = fm.make_binary_example()
    thetas, losses = fm.fit_logistic(X, y, lr=0.5, steps=100)
    assert thetas.shape == (101, 3) and losses.shape == (101,)
    assert losses[0] == pytest.approx(np.log(2))  # θ = 0 predicts 0.5 everywhere
    assert losses[-1] < 0.8 * losses[0]
    assert np.all(np.diff(losses) <= 1e-12)  # small lr on a convex loss: never goes up
    thetas_t, losses_t = fm.fit_logistic(torch.tensor(X), torch.tensor(y), lr=0.5, steps=100)
    np.testing.assert_allclose(thetas_t.numpy(), thetas, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(losses_t.numpy(), losses, rtol=1e-10)


def test_fit_logistic_weight_decay_shrinks_theta():
    X, y = fm.make_binary_example()
    th_plain, _ = fm.fit_logistic(X, y, lr=0.5, steps=200)
    th_decay, _ = fm.fit_logistic(X, y, lr=0.5, weight_decay=0.5, steps=200)
    assert np.linalg.norm(th_decay[-1]) < 0.8 * np.linalg.norm(th_plain[-1])
