"""Batches for language models, from a 1-D stream of token ids.

    stream  a b c d e f g h i j k l      batchify(stream, B=2) ->  a g
                                                                    b h      (T_total, B)
                                                                    c i
                                                                    ...
Sequential chunks of that (for the LSTM, whose hidden state runs across chunks), or random
windows (for the MLP and GPT, as nanoGPT does).
"""
from __future__ import annotations

import torch


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(N,) -> (B, N // B): B parallel streams, the tail dropped."""
    n = ids.numel() // batch_size
    return ids[: n * batch_size].view(batch_size, n)


def sequential_chunks(streams: torch.Tensor, seq_len: int):
    """Yield (x, y), each (B, T), walking the streams left to right forever."""
    n = streams.size(1)
    while True:
        for i in range(0, n - 1 - seq_len, seq_len):
            yield streams[:, i:i + seq_len], streams[:, i + 1:i + 1 + seq_len]


def random_windows(ids: torch.Tensor, batch_size: int, seq_len: int, generator: torch.Generator):
    """Yield (x, y), each (B, T): windows at random offsets and the same windows shifted by one."""
    while True:
        ix = torch.randint(ids.numel() - seq_len - 1, (batch_size,), generator=generator)
        x = torch.stack([ids[i:i + seq_len] for i in ix])
        y = torch.stack([ids[i + 1:i + 1 + seq_len] for i in ix])
        yield x, y
