"""The seed formulas F1–F7 (seed-formulas.md), exact and numerically stable.

Every function accepts numpy arrays and torch tensors and returns the same kind it got
(python floats give python floats / numpy scalars). Torch inputs stay differentiable, so the
lessons can check these formulas with torch.autograd. torch is never imported here: a tensor
is recognised only if the caller already imported torch.

Logs are natural logs, so losses are in nats.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

# Probabilities are clipped to [EPS, 1] before a log so p = 0 or 1 gives a finite loss:
# the largest loss one sample can contribute is -log(1e-12) = 27.63 nats.
EPS = 1e-12


# -- numpy / torch dispatch --------------------------------------------------------------------
def _is_torch(x) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _lib(x):
    """The array library of x: torch for tensors, numpy for everything else."""
    return sys.modules["torch"] if _is_torch(x) else np


def _as_array(x):
    """Tensors pass through; anything else becomes a float numpy array."""
    return x if _is_torch(x) else np.asarray(x, dtype=np.float64)


def _like(result, x):
    """Give python scalars back for python scalar inputs."""
    if isinstance(x, (int, float)) and not _is_torch(result):
        return float(result)
    return result


def _clip_low(x, low: float):
    return x.clamp(min=low) if _is_torch(x) else np.maximum(x, low)


# -- F1 ----------------------------------------------------------------------------------------
def _neg_abs(a):
    """-|a| written with `where`, so its gradient at 0 is -1 (that of the x >= 0 branch).

    torch's abs has gradient 0 at 0, which would silently zero d/dx of the formulas below there.
    """
    return _lib(a).where(a >= 0, -a, a)


def sigmoid(x):
    """F1: f(x) = 1 / (1 + e^(-x)), stable for any x (x = ±1000 gives exactly 1 and 0).

    e^(-|x|) is always in (0, 1], so nothing overflows: for x >= 0 use 1/(1+e^(-x)), for x < 0
    the algebraically equal e^x/(1+e^x). Both branches are finite, so gradients are too.
    """
    a = _as_array(x)
    e = _lib(a).exp(_neg_abs(a))
    out = _lib(a).where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return _like(out, x)


def log_sigmoid(x):
    """log σ(x): -log1p(e^(-x)) for x >= 0, x - log1p(e^x) for x < 0; finite for any finite x."""
    a = _as_array(x)
    lib = _lib(a)
    soft = lib.log1p(lib.exp(_neg_abs(a)))
    out = lib.where(a >= 0, -soft, a - soft)
    return _like(out, x)


# -- F3 ----------------------------------------------------------------------------------------
def binary_cross_entropy(p, y, eps: float = EPS):
    """F3: J = -(1/m) Σ_i [y_i log p_i + (1 - y_i) log(1 - p_i)]  (nats, mean over samples).

    p: predicted probabilities of class 1, shape (m,); y: labels 0/1 (or soft), shape (m,).
    p and 1 - p are clipped below at `eps` before the log, so p = 0 or 1 gives a finite loss
    (at most -log(eps) per sample). Clipping 1 - p rather than p keeps this true in float32,
    where 1 - 1e-12 rounds to 1. Prefer binary_cross_entropy_with_logits where logits exist.
    """
    p, y = _as_array(p), _as_array(y)
    lib = _lib(p)
    log_p = lib.log(_clip_low(p, eps))
    log_q = lib.log(_clip_low(1.0 - p, eps))
    return -(y * log_p + (1.0 - y) * log_q).mean()


def binary_cross_entropy_with_logits(z, y):
    """F3 from logits z (p = σ(z)), exact and stable, mean over samples (nats).

    Per sample -[y log σ(z) + (1-y) log σ(-z)] = (1 - y) z - log σ(z), using log σ(-z) =
    log σ(z) - z and the stable log_sigmoid: the log-sum-exp form, no clipping needed
    (z = -1000 with y = 1 costs exactly 1000 nats).
    """
    z, y = _as_array(z), _as_array(y)
    return ((1.0 - y) * z - log_sigmoid(z)).mean()


# -- F2 ----------------------------------------------------------------------------------------
def _is_integer_labels(y) -> bool:
    if _is_torch(y):
        return not (y.is_floating_point() or y.is_complex())
    return np.issubdtype(np.asarray(y).dtype, np.integer)


def _pick_or_weight(log_p, y):
    """Σ_j y_ij log p_ij for one-hot/soft y (m, k), or log p_{i, y_i} for integer labels (m,)."""
    if _is_integer_labels(y):
        if _is_torch(log_p):
            return log_p.gather(1, y.long().unsqueeze(1)).squeeze(1)      # (m,)
        idx = np.asarray(y)
        return log_p[np.arange(len(idx)), idx]                               # (m,)
    return (_as_array(y) * log_p).sum(-1)                                    # (m,)


def cross_entropy(p, y, eps: float = EPS):
    """F2: J(θ) = -(1/m) Σ_i Σ_j y_ij log p_ij  (nats, mean over samples).

    p: class probabilities, shape (m, k), rows summing to 1.
    y: one-hot (or soft) targets of shape (m, k), or integer class labels of shape (m,).
    p is clipped below at `eps` so a zero probability gives a finite loss.
    """
    p = _as_array(p)
    log_p = _lib(p).log(_clip_low(p, eps))            # (m, k)
    return -_pick_or_weight(log_p, y).mean()


def log_softmax(logits):
    """log softmax over the last axis, stable: z - max(z) - log Σ e^(z - max(z))."""
    z = _as_array(logits)
    if _is_torch(z):
        shifted = z - z.amax(dim=-1, keepdim=True).detach()
        return shifted - shifted.exp().sum(-1, keepdim=True).log()
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits):
    """Softmax over the last axis, stable (exp of log_softmax)."""
    return _lib(_as_array(logits)).exp(log_softmax(logits))


def cross_entropy_from_logits(logits, targets):
    """F2 from logits (m, k): -(1/m) Σ_i log softmax(z_i)[target], via a stable log-softmax.

    targets: integer class labels (m,) or one-hot/soft targets (m, k). Equals
    torch.nn.functional.cross_entropy(logits, targets).
    """
    return -_pick_or_weight(log_softmax(logits), targets).mean()


# -- F4, F5 ------------------------------------------------------------------------------------
def sgd_step(theta, grad, lr: float, weight_decay: float = 0.0):
    """F4/F5: one gradient step with weight decay, as seed 003 writes it:

        θ ← θ - η ∇θ E - η λ θ        (η = lr, λ = weight_decay; λ = 0 gives F4: θ - α ∇θ J)

    Returns a new array/tensor (theta is not modified). This is exactly what
    torch.optim.SGD(lr=η, weight_decay=λ) does: θ - η (∇ + λ θ).

    Name clash: seed 003 calls the learning rate η; seed 004 uses η for energy efficiency
    (C·W/E). Here η is the learning rate; the energy modules call theirs `eta`.
    """
    return theta - lr * grad - lr * weight_decay * theta


# -- F7 ----------------------------------------------------------------------------------------
def perplexity(nll):
    """F7: perplexity = exp(mean negative log-likelihood per token).

    nll: one mean NLL (nats/token) or the per-token NLLs (any shape); a float for a float,
    a 0-d tensor for a tensor. Perplexity 1 is a perfect model; uniform over V tokens gives V.
    """
    a = _as_array(nll)
    out = _lib(a).exp(a.mean())
    return out if _is_torch(out) else float(out)


# -- F6 ----------------------------------------------------------------------------------------
def conditional_probability(p_joint, p_prefix):
    """F6: P(w_t | w_1..w_{t-1}) = P(w_1..w_t) / P(w_1..w_{t-1}).

    Works with floats, Fractions, arrays or tensors. P(prefix) = 0 has no conditional.
    """
    if np.any(np.asarray(p_prefix == 0)):
        raise ValueError("P(prefix) must be > 0: a conditional on an impossible prefix is undefined")
    return p_joint / p_prefix


def tokenize(text: str) -> list[str]:
    """Lower-cased whitespace tokens: 'The cat sat on the mat' -> ['the', 'cat', ...]."""
    return text.lower().split()


def ngram_count(tokens: Sequence[str], ngram: Sequence[str], followed: bool = False) -> int:
    """How often `ngram` occurs contiguously in tokens.

    followed=True counts only occurrences with a token after them: the right denominator for
    a conditional, so that P(w | context) summed over all w is exactly 1.
    """
    n, end = len(ngram), len(tokens) - (1 if followed else 0)
    return sum(1 for i in range(end - n + 1) if list(tokens[i:i + n]) == list(ngram))


def chain_rule_from_counts(tokens: Sequence[str], context, word: str) -> Fraction:
    """F6 with counts: P(word | context) = count(context + word) / count(context), exact.

    This is P(context word)/P(context) with maximum-likelihood probabilities from the counts
    (the normalising totals cancel). `context` is a string or a list of tokens.

    Seed 001's example, lower-cased:
    >>> toks = tokenize("The cat sat on the mat")
    >>> chain_rule_from_counts(toks, "the", "cat")      # count(the cat)=1 / count(the)=2
    Fraction(1, 2)
    >>> chain_rule_from_counts(toks, "the cat", "sat")
    Fraction(1, 1)
    """
    ctx = tokenize(context) if isinstance(context, str) else list(context)
    denom = ngram_count(tokens, ctx, followed=True)
    if denom == 0:
        raise ValueError(f"context {' '.join(ctx)!r} never occurs followed by a token: "
                         "choose a context that appears in the text before its last word")
    return Fraction(ngram_count(tokens, ctx + [word]), denom)


def sequence_probability(cond_probs):
    """Chain rule: P(w_1..w_t) = Π_i P(w_i | w_1..w_{i-1}). Exact for Fractions."""
    out = 1 if all(isinstance(p, (int, Fraction)) for p in cond_probs) else 1.0
    for p in cond_probs:
        out = out * p
    return out


def sequence_log_probability(cond_probs) -> float:
    """log P(w_1..w_t) = Σ_i log P(w_i | ...) (nats): the sum does not underflow like the product."""
    return float(sum(math.log(p) if p > 0 else -math.inf for p in cond_probs))


# -- the logistic-regression example of seeds 000/003 ------------------------------------------
def make_binary_example(m: int = 100, n_params: int = 3, seed: int = 0):
    """Seed 000's example: m samples, binary labels, sigmoid output, n_params parameters.

    Returns X of shape (m, n_params): n_params - 1 standard-normal features plus a last column
    of ones (the bias), and y of shape (m,) with labels 0.0/1.0 drawn from σ(X θ*), where the
    true θ* = linspace(2, -1, n_params - 1) followed by a bias of 0.5. Deterministic per seed.
    """
    if m < 1 or n_params < 1:
        raise ValueError(f"m and n_params must be >= 1, got m={m}, n_params={n_params}")
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((m, n_params - 1))
    X = np.hstack([features, np.ones((m, 1))])                                  # (m, n_params)
    theta_true = np.append(np.linspace(2.0, -1.0, n_params - 1), 0.5)
    y = (rng.random(m) < sigmoid(X @ theta_true)).astype(np.float64)            # (m,)
    return X, y


def logistic_gradient(theta, X, y):
    """∇θ of F3 for p = σ(Xθ): X^T (σ(Xθ) - y) / m. Shapes: θ (n,), X (m, n), y (m,) -> (n,)."""
    return X.T @ (sigmoid(X @ theta) - y) / X.shape[0]


def fit_logistic(X, y, lr: float = 0.5, weight_decay: float = 0.0, steps: int = 100,
                 theta0=None):
    """Fit θ by `steps` full-batch F5 steps on the F3 loss of p = σ(Xθ).

    Returns (theta_history of shape (steps + 1, n), loss_history of shape (steps + 1,)),
    row 0 being the start θ0 (zeros by default). The loss is the data term F3 only, computed
    stably from the logits Xθ; weight decay acts through the step (F5), not the loss.
    """
    is_t = _is_torch(X)
    if theta0 is None:
        theta = X.new_zeros(X.shape[1]) if is_t else np.zeros(X.shape[1])
    else:
        theta = theta0
    thetas, losses = [theta], [binary_cross_entropy_with_logits(X @ theta, y)]
    for _ in range(steps):
        theta = sgd_step(theta, logistic_gradient(theta, X, y), lr, weight_decay)
        thetas.append(theta)
        losses.append(binary_cross_entropy_with_logits(X @ theta, y))
    lib = _lib(X)
    return lib.stack(thetas), lib.stack(losses)
