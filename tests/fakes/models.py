"""A tiny language model for the compression tests: Embedding -> LSTM -> Linear, logits (B, T, V)."""
from torch import nn


class TinyLSTM(nn.Module):
    def __init__(self, V=20, d=8, h=16):
        super().__init__()
        self.embed, self.lstm, self.out = nn.Embedding(V, d), nn.LSTM(d, h, batch_first=True), nn.Linear(h, V)

    def forward(self, x):                                     # x (B, T) int64
        return self.out(self.lstm(self.embed(x))[0])          # (B, T, V)
