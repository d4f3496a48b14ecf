"""Data-parallel training with torch.distributed: N worker processes, one model replica each.

The worker reads the standard torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR, MASTER_PORT), so the same code runs on one machine, launched by the workbench:

    python -m workbench run --workload lstm --parallelism 2

or on several machines under torchrun (one line per machine):

    torchrun --nnodes=2 --nproc_per_node=4 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \\
        -m workbench.parallel --settings '{"workload": "lstm", "parallelism": 8}'

Strong scaling: the global batch stays Settings.batch_size, split across the workers, so the
same total work is done whatever N is, and the energy/time curve over N compares like with like.
Gradients are averaged by DistributedDataParallel (gloo on CPU, nccl on GPUs). Rank 0 prints
progress and the final output as JSON lines that the launcher (WorkerGroup) reads.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict

from workbench.settings import Settings

PROGRESS, OUTPUT, MESSAGE = "@@progress ", "@@output ", "@@message "


def threads_per_worker(n_workers: int) -> int:
    """Share the cores: N workers × threads each should not exceed the cores (oversubscription
    makes every worker slower and the energy figure worse)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // n_workers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerGroup:
    """Launches the workers on this machine the way torchrun --standalone would."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.procs: list[subprocess.Popen] = []
        self.paused = False
        self.stderr_tail: list[str] = []

    def start(self):
        n = self.settings.parallelism
        base = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
                "WORLD_SIZE": str(n), "LOCAL_WORLD_SIZE": str(n),
                "OMP_NUM_THREADS": str(threads_per_worker(n)), "PYTHONUNBUFFERED": "1"}
        for rank in range(n):
            env = {**base, "RANK": str(rank), "LOCAL_RANK": str(rank)}
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "workbench.parallel", "--settings", self.settings.to_json()],
                env=env, stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True))
        for p in self.procs:   # drain stderr so a chatty worker never blocks on a full pipe
            threading.Thread(target=self._drain, args=(p,), daemon=True).start()

    def _drain(self, proc: subprocess.Popen):
        for line in proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.rstrip()])[-20:]

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.poll() is None]

    def pause(self, on: bool):
        """The thermal governor holds the workers with SIGSTOP and releases them with SIGCONT."""
        if on == self.paused or not hasattr(signal, "SIGSTOP"):
            return
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP if on else signal.SIGCONT)
        self.paused = on

    def stop(self):
        self.pause(False)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()

    def lines(self):
        """Rank 0's JSON lines as (kind, payload)."""
        for line in self.procs[0].stdout:
            for tag in (PROGRESS, OUTPUT, MESSAGE):
                if line.startswith(tag):
                    yield tag, json.loads(line[len(tag):])

    def wait(self) -> list[int]:
        return [p.wait() for p in self.procs]


def run_parallel(ctx, group: WorkerGroup):
    """Run the workers, relay rank 0's progress into ctx, return its WorkloadOutput."""
    from workbench.workloads.base import WorkloadOutput
    from workbench.errors import WorkbenchError

    group.start()
    output, last_tokens, last_flops = None, 0, 0.0
    watcher = threading.Thread(target=_stop_watch, args=(ctx, group), daemon=True)
    watcher.start()
    try:
        for tag, payload in group.lines():
            if tag == PROGRESS:
                ctx.add_work(payload["tokens"] - last_tokens, payload["flops"] - last_flops)
                last_tokens, last_flops = payload["tokens"], payload["flops"]
                ctx.progress(step=payload["step"], steps=payload["steps"], loss=payload["loss"],
                             accuracy=payload["accuracy"])
            elif tag == MESSAGE:
                ctx.message(payload)
            else:
                output = WorkloadOutput(**payload)
        codes = group.wait()
    finally:
        group.stop()
    if output is None:
        if ctx.stop_requested():
            return WorkloadOutput(quality={}, flops=last_flops, tokens=last_tokens,
                                  notes=["stopped: the workers were ended before they finished"])
        raise WorkbenchError(f"parallel workers failed (exit codes {codes}): "
                             f"{group.stderr_tail[-1] if group.stderr_tail else 'no message'}")
    return output


def _stop_watch(ctx, group: WorkerGroup):
    """End the workers within a second of a stop request (the loop lives in other processes)."""
    import time
    while any(p.poll() is None for p in group.procs):
        if ctx.stop_requested():
            group.stop()
            return
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# The worker (one per rank).

def _emit(tag: str, payload):
    print(tag + json.dumps(payload), flush=True)


def worker(settings: Settings) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    from workbench.data.corpus import load_corpus
    from workbench.train import Trainer, TrainerConfig
    from workbench.workloads.base import RunContext
    from workbench.workloads.lm import build_model, finish_lm, lm_loss, train_batches

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or threads_per_worker(world)))
    cuda = settings.device.startswith("cuda")
    dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}") if cuda else torch.device("cpu")
    s = settings
    corpus = load_corpus(s.corpus, s.tokenizer, s.tiny, s.seed)          # same seed: same vocab
    model, r = build_model(s.workload, s.tiny, corpus.vocab_size, s.seed)  # same init on every rank
    model.to(device)
    ddp = DDP(model, device_ids=[device.index] if cuda else None)
    per_rank = max(1, s.batch_size // world)
    fwd_flops = model.flops_per_token()
    batches = train_batches(corpus, s.workload, r.seq_len, per_rank * world, s.seed + rank)
    if s.workload == "lstm":   # take this rank's share of the parallel streams
        batches = ((x[rank::world].to(device), y[rank::world].to(device)) for x, y in batches)
    else:
        batches = ((x[:per_rank].to(device), y[:per_rank].to(device)) for x, y in batches)
    trainer = Trainer(TrainerConfig(steps=s.steps, optimizer=r.optimizer, lr=s.lr or r.lr), ddp, lm_loss, batches)
    tok_per_step = per_rank * world * (1 if s.workload == "mlp" else r.seq_len)

    def report(t):
        if rank == 0:
            _emit(PROGRESS, {"step": t.step, "steps": s.steps, "loss": t.loss, "accuracy": t.history[-1]["accuracy"],
                             "tokens": t.step * tok_per_step, "flops": 3.0 * t.step * tok_per_step * fwd_flops})

    trainer.add_callback("on_batch_end", report)
    trainer.run()
    trainer.tokens *= world   # the Result covers all workers
    same = _replicas_identical(model)
    if rank == 0:
        model.to("cpu")
        ctx = RunContext(settings=s.replace(device="cpu"), message=lambda text: _emit(MESSAGE, text))
        out = finish_lm(ctx, model, corpus, r, trainer, fwd_flops)
        out.notes.append(f"{world} data-parallel workers ({'nccl' if cuda else 'gloo'}), "
                         f"{per_rank} sequences each per step, {os.environ.get('OMP_NUM_THREADS')} threads each; "
                         f"parameters identical across workers: {'yes' if same else 'NO'}")
        out.quality["replicas_identical"] = 1.0 if same else 0.0
        _emit(OUTPUT, asdict(out))
    dist.destroy_process_group()


def _replicas_identical(model) -> bool:
    """Compare every rank's parameters with rank 0's (DDP keeps them in step)."""
    import torch
    import torch.distributed as dist
    flat = torch.cat([p.detach().flatten().float() for p in model.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    diff = torch.tensor([float((flat - ref).abs().max())], device=flat.device)
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    return diff.item() == 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m workbench.parallel",
                                     description="One data-parallel worker (reads RANK/WORLD_SIZE like torchrun).")
    parser.add_argument("--settings", required=True, help="Settings as JSON (see workbench.settings.Settings)")
    args = parser.parse_args(argv)
    worker(Settings.from_json(args.settings))


if __name__ == "__main__":
    main()
