import math

import numpy as np
import pytest

from workbench.data.corpus import grammar_corpus, load_corpus, read_text_file, text_corpus, tokenize
from workbench.data.grammar import CAT_GRAMMAR, Grammar
from workbench.errors import CorpusError


def test_entropy_rate_matches_a_long_sample():
    """The exact entropy rate equals the mean surprisal of a long sample (law of large numbers)."""
    words = CAT_GRAMMAR.sample(200_000, seed=1)
    state, total = CAT_GRAMMAR.start, 0.0
    for w in words:
        _, p, state = next(e for e in CAT_GRAMMAR.rules[state] if e[0] == w)
        total -= math.log(p)
    assert total / len(words) == pytest.approx(CAT_GRAMMAR.entropy_rate(), rel=0.01)


def test_entropy_rate_of_a_hand_computable_grammar():
    # two states alternating deterministically except a fair coin in one: H = ln2 / 2 per token
    g = Grammar({"a": [("x", 0.5, "b"), ("y", 0.5, "b")], "b": [(".", 1.0, "a")]}, start="a")
    assert g.entropy_rate() == pytest.approx(math.log(2) / 2, abs=1e-12)
    assert np.allclose(g.stationary(), [0.5, 0.5])


def test_grammar_rejects_ambiguous_or_unnormalised_states():
    with pytest.raises(ValueError, match="same word"):
        Grammar({"s": [("x", 0.5, "s"), ("x", 0.5, "s")]}, start="s")
    with pytest.raises(ValueError, match="sum to 1"):
        Grammar({"s": [("x", 0.7, "s")]}, start="s")


def test_cat_sentence_probability_and_conditional():
    g = CAT_GRAMMAR
    p = g.sequence_probability("the cat sat on the mat .".split())
    assert p == pytest.approx(0.7 * 0.35 * 0.45 * 0.6 * 0.8 * 0.5 * 1.0)
    # F6: P(cat | the) = P(the cat) / P(the)
    assert g.sequence_probability(["the", "cat"]) / g.sequence_probability(["the"]) == pytest.approx(0.35)
    assert g.next_word_distribution(["the"])["cat"] == pytest.approx(0.35)
    assert g.sequence_probability(["cat", "the"]) == 0.0


def test_grammar_corpus_ids_and_baselines():
    c = grammar_corpus(n_train=5000, n_valid=1000)
    assert c.train.max() < c.vocab_size and c.valid.numel() == 1000
    assert c.optimal_perplexity == pytest.approx(math.exp(CAT_GRAMMAR.entropy_rate()))
    assert c.unigram_perplexity() > 2 * c.optimal_perplexity


def test_user_text_corpus_word_and_char(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("Le chat est sur le tapis. " * 20, encoding="utf-8")
    words = text_corpus(f, "word")
    assert "chat" in words.vocab and words.entropy_rate is None
    chars = load_corpus(str(f), "char")
    assert chars.vocab_size < 30 and {"L", "h", " "} <= set(chars.vocab)
    assert tokenize("The cat, sat.") == ["the", "cat", ",", "sat", "."]


@pytest.mark.parametrize("make, fragment", [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(b"   \n\t "), "is empty"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00"), "looks binary"),
    (lambda p: p.write_bytes("café".encode("latin-1")), "is not UTF-8"),
    (lambda p: p.write_text("a b c"), "only 3 tokens"),
])
def test_bad_corpus_files_give_one_line(tmp_path, make, fragment):
    p = tmp_path / "corpus.txt"
    make(p)
    with pytest.raises(CorpusError) as info:
        text_corpus(p)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_over_large_corpus(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("word " * 1000)
    with pytest.raises(CorpusError, match="the limit is"):
        read_text_file(p, max_bytes=1000)
