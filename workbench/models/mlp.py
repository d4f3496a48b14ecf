"""Seed 000's "LLM": a multilayer perceptron that predicts the next token from a fixed window.

    x (B, n) ids -> Embedding -> (B, n*d) -> Linear -> ReLU -> Linear -> (B, V) logits

An Embedding is a one-hot vector times a weight matrix, done as a lookup: the same maths as the
seed's one-hot input into a Linear layer, without multiplying by zeros.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class MLPConfig:
    vocab_size: int = 32
    context: int = 3        # n: tokens of context the model sees
    n_embd: int = 32        # d: embedding width per token
    n_hidden: int = 128     # width of the hidden ReLU layer


class MLPLM(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.hidden = nn.Linear(config.context * config.n_embd, config.n_hidden)
        self.out = nn.Linear(config.n_hidden, config.vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embed(x).flatten(1)              # (B, n*d)
        return self.out(torch.relu(self.hidden(e)))  # (B, V)

    def flops_per_token(self) -> float:
        """Forward multiply-adds × 2 for one prediction (the embedding lookup is free)."""
        c = self.config
        return 2.0 * (c.context * c.n_embd * c.n_hidden + c.n_hidden * c.vocab_size)
