"""A stochastic grammar in the "the cat sat on the mat" world, with an exactly known entropy rate.

The grammar is a probabilistic finite automaton: in each state it emits one word and moves to
the state that the (state, word) pair names. No state has two edges with the same word, so the
words seen so far always determine the state. Hence the entropy rate of the word stream is

    H = sum_s pi(s) * H(edges out of s)        (nats per token)

with pi the stationary distribution of the state chain, and no model can beat a perplexity of
exp(H) on a long sample. That is the yardstick a learner holds a trained model against.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# state -> list of (word, probability, next state). "." ends a sentence.
CAT_WORLD: dict[str, list[tuple[str, float, str]]] = {
    "start":    [("the", 0.7, "subj_det"), ("a", 0.3, "subj_det")],
    "subj_det": [("cat", 0.35, "subj"), ("dog", 0.3, "subj"), ("bird", 0.15, "subj"),
                 ("big", 0.12, "subj_adj"), ("small", 0.08, "subj_adj")],
    "subj_adj": [("cat", 0.5, "subj"), ("dog", 0.5, "subj")],
    "subj":     [("sat", 0.45, "verb_loc"), ("slept", 0.15, "verb_loc"),
                 ("saw", 0.25, "verb_obj"), ("chased", 0.15, "verb_obj")],
    "verb_loc": [("on", 0.6, "prep"), ("under", 0.3, "prep"), (".", 0.1, "start")],
    "prep":     [("the", 0.8, "loc_det"), ("a", 0.2, "loc_det")],
    "loc_det":  [("mat", 0.5, "end"), ("rug", 0.2, "end"), ("sofa", 0.2, "end"), ("bed", 0.1, "end")],
    "verb_obj": [("the", 0.6, "obj_det"), ("a", 0.4, "obj_det")],
    "obj_det":  [("cat", 0.3, "end"), ("dog", 0.3, "end"), ("bird", 0.2, "end"), ("mouse", 0.2, "end")],
    "end":      [(".", 1.0, "start")],
}


@dataclass(frozen=True)
class Grammar:
    """A deterministic probabilistic finite automaton over words."""

    rules: dict
    start: str = "start"

    def __post_init__(self):
        for state, edges in self.rules.items():
            words = [w for w, _, _ in edges]
            if len(set(words)) != len(words):
                raise ValueError(f"state {state!r} has two edges with the same word")
            if abs(sum(p for _, p, _ in edges) - 1.0) > 1e-9:
                raise ValueError(f"probabilities out of state {state!r} do not sum to 1")

    @property
    def states(self) -> list[str]:
        return list(self.rules)

    @property
    def vocab(self) -> list[str]:
        return sorted({w for edges in self.rules.values() for w, _, _ in edges})

    def transition_matrix(self) -> np.ndarray:
        """(S, S) matrix of state-to-state probabilities."""
        index = {s: i for i, s in enumerate(self.states)}
        m = np.zeros((len(index), len(index)))
        for s, edges in self.rules.items():
            for _, p, nxt in edges:
                m[index[s], index[nxt]] += p
        return m

    def stationary(self) -> np.ndarray:
        """Stationary distribution pi (pi P = pi), by solving the linear system exactly."""
        p = self.transition_matrix()
        n = len(p)
        a = np.vstack([p.T - np.eye(n), np.ones(n)])
        b = np.concatenate([np.zeros(n), [1.0]])
        pi, *_ = np.linalg.lstsq(a, b, rcond=None)
        return pi

    def entropy_rate(self) -> float:
        """Entropy rate of the word stream, nats per token."""
        pi = self.stationary()
        h_state = [-sum(p * math.log(p) for _, p, _ in edges if p > 0) for edges in self.rules.values()]
        return float(np.dot(pi, h_state))

    def optimal_perplexity(self) -> float:
        """The lowest perplexity any model can reach on a long sample: exp(entropy rate)."""
        return math.exp(self.entropy_rate())

    def sample(self, n_tokens: int, seed: int = 0) -> list[str]:
        """A stream of n_tokens words, sentences one after another, from the start state."""
        rng = np.random.default_rng(seed)
        state, out = self.start, []
        while len(out) < n_tokens:
            edges = self.rules[state]
            k = rng.choice(len(edges), p=[p for _, p, _ in edges])
            word, _, state = edges[k]
            out.append(word)
        return out

    def next_word_distribution(self, prefix: list[str]) -> dict[str, float]:
        """P(next word | words of the current sentence so far); exact, from the automaton."""
        state = self._walk(prefix)
        return {w: p for w, p, _ in self.rules[state]}

    def sequence_probability(self, words: list[str]) -> float:
        """P(w_1..w_n) for a sentence starting at the start state (0 if impossible)."""
        state, prob = self.start, 1.0
        for w in words:
            edge = next((e for e in self.rules[state] if e[0] == w), None)
            if edge is None:
                return 0.0
            prob *= edge[1]
            state = edge[2]
        return prob

    def _walk(self, words: list[str]) -> str:
        state = self.start
        for w in words:
            edge = next((e for e in self.rules[state] if e[0] == w), None)
            if edge is None:
                raise ValueError(f"{' '.join(words)!r} cannot be produced by the grammar")
            state = edge[2]
        return state


CAT_GRAMMAR = Grammar(CAT_WORLD)
