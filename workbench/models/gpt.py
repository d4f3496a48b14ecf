"""A tiny GPT (decoder-only transformer) so the seeds' "transformer" is there too; after nanoGPT.

    x (B, T) -> token + position embeddings (B, T, d) -> n_layer × [LN -> causal attention -> +,
    LN -> MLP -> +] -> LN -> Linear -> (B, T, V) logits
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 32
    block_size: int = 32    # longest context (tokens)
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64        # must be divisible by n_head
    dropout: float = 0.0


class CausalSelfAttention(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        assert c.n_embd % c.n_head == 0
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)
        self.dropout = c.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))           # (B, T, C)


class Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.n_embd), nn.LayerNorm(c.n_embd)
        self.attn = CausalSelfAttention(c)
        self.mlp = nn.Sequential(nn.Linear(c.n_embd, 4 * c.n_embd), nn.GELU(), nn.Linear(4 * c.n_embd, c.n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T = x.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than block_size {self.config.block_size}")
        h = self.tok(x) + self.pos(torch.arange(T, device=x.device))   # (B, T, C)
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h))                                   # (B, T, V)

    def flops_per_token(self) -> float:
        """Forward FLOPs per token: 2 × non-embedding weights + attention scores (nanoGPT's count)."""
        c = self.config
        n_weights = sum(p.numel() for n, p in self.named_parameters() if p.dim() == 2 and not n.startswith(("tok", "pos")))
        return float(2 * n_weights + 2 * c.n_layer * c.block_size * c.n_embd)
