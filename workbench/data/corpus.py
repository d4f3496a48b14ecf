"""Corpora as token-id tensors: the built-in grammar, or a UTF-8 text file the user gives.

A bad file (missing, a folder, empty, binary, not UTF-8, too large) raises CorpusError with one
line saying what is wrong and what is accepted.
"""
from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from workbench.data.grammar import CAT_GRAMMAR, Grammar
from workbench.errors import CorpusError

MAX_CORPUS_BYTES = 50 * 1024 * 1024   # larger files would not train in a lesson anyway
MAX_VOCAB = 10_000                    # rarer words become <unk>
UNK = "<unk>"
_WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass
class Corpus:
    """Token ids split into train and validation, with what is known about the source."""

    name: str
    vocab: list[str]              # id -> token
    train: torch.Tensor           # (N_train,) int64
    valid: torch.Tensor           # (N_valid,) int64
    entropy_rate: float | None    # nats/token of the true source, when it is known exactly

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def optimal_perplexity(self) -> float | None:
        return math.exp(self.entropy_rate) if self.entropy_rate is not None else None

    def unigram_perplexity(self) -> float:
        """Perplexity on valid of the best context-free model (train unigram frequencies)."""
        counts = torch.bincount(self.train, minlength=self.vocab_size).double() + 1.0
        logp = (counts / counts.sum()).log()
        return math.exp(-logp[self.valid].mean().item())

    def decode(self, ids) -> str:
        return " ".join(self.vocab[int(i)] for i in ids)


def tokenize(text: str, tokenizer: str = "word") -> list[str]:
    """Word tokens (words and punctuation, lower-cased) or characters."""
    if tokenizer == "char":
        return list(text)
    return _WORD_RE.findall(text.lower())


def grammar_corpus(n_train: int = 20_000, n_valid: int = 4_000, seed: int = 0,
                   grammar: Grammar = CAT_GRAMMAR) -> Corpus:
    """Samples from the built-in grammar; its entropy rate is known exactly."""
    vocab = grammar.vocab
    index = {w: i for i, w in enumerate(vocab)}
    train = grammar.sample(n_train, seed=seed)
    valid = grammar.sample(n_valid, seed=seed + 10_000)
    return Corpus("built-in cat grammar", vocab,
                  torch.tensor([index[w] for w in train]), torch.tensor([index[w] for w in valid]),
                  grammar.entropy_rate())


def read_text_file(path: str | os.PathLike, max_bytes: int = MAX_CORPUS_BYTES) -> str:
    """The file's text, or CorpusError naming the problem in one line."""
    p = Path(path).expanduser()
    if not p.exists():
        raise CorpusError(f"corpus file {str(p)!r} does not exist; give a UTF-8 text file")
    if p.is_dir():
        raise CorpusError(f"corpus {str(p)!r} is a folder; give a UTF-8 text file")
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise CorpusError(f"corpus file {str(p)!r} is {size / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB")
        data = p.read_bytes()
    except PermissionError:
        raise CorpusError(f"corpus file {str(p)!r} cannot be read (permission denied)") from None
    except OSError as exc:
        raise CorpusError(f"corpus file {str(p)!r} cannot be read ({exc.strerror})") from None
    if b"\x00" in data[:65536]:
        raise CorpusError(f"corpus file {str(p)!r} looks binary (it holds NUL bytes); give a UTF-8 text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"corpus file {str(p)!r} is not UTF-8 (bad byte at offset {exc.start}); save it as UTF-8") from None
    if not text.strip():
        raise CorpusError(f"corpus file {str(p)!r} is empty; give a UTF-8 text file with some text")
    return text


def text_corpus(path: str | os.PathLike, tokenizer: str = "word", valid_fraction: float = 0.1) -> Corpus:
    """A user's text file as a corpus; the last valid_fraction of tokens is held out."""
    tokens = tokenize(read_text_file(path), tokenizer)
    if len(tokens) < 20:
        raise CorpusError(f"corpus file {str(path)!r} has only {len(tokens)} tokens; at least 20 are needed")
    n_valid = max(5, int(len(tokens) * valid_fraction))
    counts = Counter(tokens[:-n_valid])
    vocab = [UNK] + [w for w, _ in counts.most_common(MAX_VOCAB - 1)]
    index = {w: i for i, w in enumerate(vocab)}
    ids = torch.tensor([index.get(w, 0) for w in tokens])
    return Corpus(Path(path).name, vocab, ids[:-n_valid], ids[-n_valid:], None)


def load_corpus(path: str = "", tokenizer: str = "word", tiny: bool = False, seed: int = 0) -> Corpus:
    """The corpus a Settings names: a user file, or the built-in grammar ("")."""
    if path:
        return text_corpus(path, tokenizer)
    return grammar_corpus(n_train=12_000 if tiny else 40_000, n_valid=3_000 if tiny else 8_000, seed=seed)
