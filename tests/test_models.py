"""The three language models learn for real on the built-in grammar, in tiny mode."""
import math

import pytest
import torch

from workbench.data.corpus import grammar_corpus
from workbench.models.gpt import GPT, GPTConfig
from workbench.models.lstm import LSTMConfig, LSTMLM
from workbench.models.mlp import MLPConfig, MLPLM
from workbench.settings import Settings
from workbench.train import Trainer, TrainerConfig
from workbench.workloads.base import RunContext
from workbench.workloads.lm import lm_loss, run_lm


def test_lstm_reaches_within_25_percent_of_the_optimum():
    out = run_lm(RunContext(Settings(workload="lstm", tiny=True, steps=300)))
    q = out.quality
    assert q["perplexity"] < 1.25 * q["optimal_perplexity"], q
    assert q["perplexity"] >= q["optimal_perplexity"] * 0.98   # no model beats the true source
    assert out.flops > 0 and out.tokens > 300 * 32


@pytest.mark.parametrize("workload, steps", [("mlp", 400), ("gpt", 200)])
def test_mlp_and_gpt_learn_well_below_the_unigram_baseline(workload, steps):
    q = run_lm(RunContext(Settings(workload=workload, tiny=True, steps=steps))).quality
    assert q["perplexity"] < 0.4 * q["unigram_perplexity"], q


def test_gpt_is_causal():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16)).eval()
    x = torch.randint(11, (2, 8))
    y = x.clone()
    y[:, 5:] = (y[:, 5:] + 1) % 11          # change only the future
    with torch.no_grad():
        assert torch.allclose(model(x)[:, :5], model(y)[:, :5], atol=1e-6)
        assert not torch.allclose(model(x)[:, 5:], model(y)[:, 5:])


def test_lstm_carries_state_across_chunks():
    torch.manual_seed(0)
    m = LSTMLM(LSTMConfig(vocab_size=7, n_embd=8, n_hidden=8)).eval()
    x = torch.randint(7, (1, 10))
    with torch.no_grad():
        whole = m(x)
        m.reset_state()
        parts = torch.cat([m(x[:, :4]), m(x[:, 4:])], dim=1)
    assert torch.allclose(whole, parts, atol=1e-6)


def test_flop_counts_are_analytic():
    mlp = MLPLM(MLPConfig(vocab_size=10, context=3, n_embd=4, n_hidden=5))
    assert mlp.flops_per_token() == 2 * (3 * 4 * 5 + 5 * 10)
    lstm = LSTMLM(LSTMConfig(vocab_size=10, n_embd=4, n_hidden=5))
    assert lstm.flops_per_token() == 2 * 4 * 5 * (4 + 5) + 2 * 5 * 10


def test_trainer_callbacks_and_gate():
    c = grammar_corpus(2000, 500)
    model = MLPLM(MLPConfig(vocab_size=c.vocab_size))
    seen = []
    calls = iter(range(100))

    def batches():
        while True:
            yield c.train[:96].view(32, 3), c.train[1:97].view(32, 3)

    t = Trainer(TrainerConfig(steps=50, optimizer="sgd", lr=0.1), model, lm_loss, batches(),
                gate=lambda: next(calls) < 7)
    t.add_callback("on_batch_end", lambda tr: seen.append(tr.step))
    t.run()
    assert seen == list(range(1, 8)) and t.stopped_early and t.step == 7
    assert math.isfinite(t.loss)
