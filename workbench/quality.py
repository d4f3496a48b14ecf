"""How much of the uncompressed model a variant keeps, and what it costs to store.

For sentence embeddings E (N, H) of a variant and R (N, H) of the fp32 reference:
  cosine      cos(E_i, R_i) per sentence: mean and min over the sentence set (1 = identical)
  spearman    Spearman rank correlation between the N(N−1)/2 pairwise similarities of E and
              those of R: does the variant still rank "which sentences are alike" the same way?
"""
from __future__ import annotations

import io

import torch
from torch import nn
from torch.nn import functional as F


def cosine_to_reference(emb: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per-sentence cosine (N,) between (N, H) embeddings and the reference's."""
    return F.cosine_similarity(emb.double(), ref.double(), dim=-1)


def pairwise_similarities(emb: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every pair i < j: (N, H) -> (N(N−1)/2,)."""
    e = F.normalize(emb.double(), dim=-1)
    sim = e @ e.T                                                       # (N, N)
    i, j = torch.triu_indices(len(e), len(e), offset=1)
    return sim[i, j]


def rankdata(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of a 1-D tensor, ties getting their average rank (as scipy.stats.rankdata)."""
    x = x.flatten()
    order = torch.argsort(x, stable=True)
    ranks = torch.empty(len(x), dtype=torch.float64)
    ranks[order] = torch.arange(1, len(x) + 1, dtype=torch.float64)
    uniq, inverse = torch.unique(x, return_inverse=True)
    if len(uniq) < len(x):   # average the ranks inside each group of equal values
        sums = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inverse, ranks)
        counts = torch.bincount(inverse, minlength=len(uniq)).double()
        ranks = (sums / counts)[inverse]
    return ranks


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation: Pearson correlation of the (tie-averaged) ranks."""
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = (ra.norm() * rb.norm()).item()
    return float((ra @ rb).item() / denom) if denom > 0 else float("nan")


def embedding_quality(emb: torch.Tensor, ref: torch.Tensor) -> dict[str, float]:
    """cosine_mean, cosine_min (per sentence) and spearman (pairwise-similarity ranking) vs ref."""
    cos = cosine_to_reference(emb, ref)
    return {"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min()),
            "spearman": spearman(pairwise_similarities(emb), pairwise_similarities(ref))}


def size_bytes(model: nn.Module) -> int:
    """Bytes of the model's state_dict as torch.save writes it (int8 modules save packed int8)."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes
