"""Seed 001's language model: Embedding -> LSTM -> Linear (softmax in the loss).

    x (B, T) ids -> (B, T, d) -> LSTM -> (B, T, h) -> Linear -> (B, T, V) logits
The hidden state is carried from one chunk to the next (detached), as in PyTorch's
word_language_model example, so the model sees context beyond one chunk.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LSTMConfig:
    vocab_size: int = 32
    n_embd: int = 64        # embedding width
    n_hidden: int = 128     # LSTM state width
    n_layers: int = 1
    dropout: float = 0.0


class LSTMLM(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.lstm = nn.LSTM(config.n_embd, config.n_hidden, config.n_layers, batch_first=True,
                            dropout=config.dropout if config.n_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.n_hidden, config.vocab_size)
        self.state = None   # (h, c) carried between chunks; reset_state() at a new stream

    def reset_state(self):
        self.state = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.state is not None and self.state[0].size(1) != x.size(0):
            self.state = None  # batch size changed (e.g. evaluation): start afresh
        h, state = self.lstm(self.drop(self.embed(x)), self.state)   # (B, T, h)
        self.state = tuple(s.detach() for s in state)
        return self.out(self.drop(h))                                # (B, T, V)

    def flops_per_token(self) -> float:
        """Forward FLOPs per token: 4 gates × (input + recurrent) matmuls per layer, plus the head."""
        c = self.config
        lstm = sum(2 * 4 * c.n_hidden * ((c.n_embd if i == 0 else c.n_hidden) + c.n_hidden)
                   for i in range(c.n_layers))
        return float(lstm + 2 * c.n_hidden * c.vocab_size)
