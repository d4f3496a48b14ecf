"""Two data-parallel gloo workers: the run's energy covers both, their replicas stay identical."""
import time

from workbench.energy.cpu_power import per_core_watts
from workbench.runs import run
from workbench.settings import Settings


def test_two_gloo_workers_train_and_are_metered():
    cpu0 = time.process_time()
    r = run(Settings(workload="lstm", tiny=True, steps=60, parallelism=2, meter="estimated"))
    own_cpu_s = time.process_time() - cpu0
    assert r.status == "ok", r.error
    assert r.quality["replicas_identical"] == 1.0
    assert r.quality["perplexity"] < 0.5 * r.quality["unigram_perplexity"]
    assert any("2 data-parallel workers (gloo)" in n for n in r.notes)
    watts, _ = per_core_watts()
    metered_cpu_s = r.energy_j / watts
    # the workers (child processes) did the training: the estimate must count their CPU time
    assert metered_cpu_s > own_cpu_s + 1.0, (metered_cpu_s, own_cpu_s)
    assert r.tokens >= 60 * 32 * 20   # both workers' tokens: global batch 32 × T 20 per step


def test_stop_ends_parallel_workers():
    import threading
    from workbench.runs import RunControl
    control = RunControl()
    threading.Timer(4.0, control.request_stop).start()
    r = run(Settings(workload="gpt", tiny=True, steps=100_000, parallelism=2), control=control)
    assert r.status == "stopped"
