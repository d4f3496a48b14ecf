"""`python -m workbench run`: one run from the command line, summary or JSON."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.common import add_data_dir, apply_data_dir
from workbench.errors import SettingsError
from workbench.settings import (METERS, PRUNE_KINDS, QUANT_GRANULARITIES, TOKENIZERS, WORKLOADS, Settings)

# flag -> (Settings field, type, help)
FLAGS = {
    "--workload": ("workload", str, f"what to run: {', '.join(WORKLOADS)} (default lstm)"),
    "--bits": ("bits", int, "weight precision in bits, 1-16, or 32 = none, 8 = real int8 kernels on CPU (default 32)"),
    "--granularity": ("quant_granularity", str, f"quantization scale per {' or '.join(QUANT_GRANULARITIES)} (default per-channel)"),
    "--smooth": ("smooth_alpha", float, "SmoothQuant strength α in [0, 1] before real int8 kernels; 0 = off (default 0)"),
    "--prune": ("prune_ratio", float, "fraction of weights/heads/neurons removed, in [0, 1) (default 0)"),
    "--prune-kind": ("prune_kind", str, f"pruning kind: {', '.join(PRUNE_KINDS)} (default unstructured)"),
    "--parallelism": ("parallelism", int, "data-parallel worker processes, >= 1 (default 1)"),
    "--t-min": ("t_min_c", float, "governor resumes work below this temperature, °C (default 60)"),
    "--t-max": ("t_max_c", float, "governor pauses work above this temperature, °C (default 85)"),
    "--device": ("device", str, "cpu, cuda or cuda:N (default cpu)"),
    "--steps": ("steps", int, "training steps or inference batches (default 200)"),
    "--seed": ("seed", int, "random seed (default 0)"),
    "--corpus": ("corpus", str, "UTF-8 text file to train on (default: the built-in cat grammar)"),
    "--tokenizer": ("tokenizer", str, f"tokens of a user corpus: {', '.join(TOKENIZERS)} (default word)"),
    "--batch-size": ("batch_size", int, "sequences per step (default 32)"),
    "--lr": ("lr", float, "learning rate; 0 = the workload's default"),
    "--model-path": ("model_path", str, "BERT folder (default: the packaged all-MiniLM-L6-v2)"),
    "--meter": ("meter", str, f"energy meter: {', '.join(METERS)} (default auto)"),
    "--sample-hz": ("sample_hz", float, "sampler rate in Hz (default 10)"),
    "--core-watts": ("core_watts", float, "per-core power for the CPU-time estimate, W (default: from the CPU table)"),
    "--grid": ("grid_g_per_kwh", float, "grid carbon intensity, g CO2 per kWh (default 400)"),
    "--pue": ("pue", float, "power usage effectiveness of the room, >= 1 (default 1.0)"),
}


def add_parser(sub):
    p = sub.add_parser("run", help="run one workload under the energy meter and record it",
                       description="Run one workload (train, compress, evaluate) under the energy meter; "
                                   "the Result is printed and appended to the ledger.")
    for flag, (_, typ, help_text) in FLAGS.items():
        p.add_argument(flag, type=typ, default=None, help=help_text)
    p.add_argument("--tiny", action="store_true", default=None, help="smallest model and data (seconds)")
    p.add_argument("--dry-run", action="store_true", help="smoke test: tiny mode, 2 steps, nothing recorded")
    p.add_argument("--settings", metavar="FILE", help="start from a settings JSON file; flags override it")
    p.add_argument("--json", action="store_true", help="print the Result as JSON (samples included) on stdout")
    p.add_argument("--no-record", action="store_true", help="do not append the Result to the ledger")
    add_data_dir(p)
    p.set_defaults(func=main)


def settings_from_args(args: argparse.Namespace) -> Settings:
    base = {}
    if args.settings:
        try:
            base = Settings.from_json(Path(args.settings).read_text(encoding="utf-8")).to_dict()
        except OSError as exc:
            raise SettingsError(f"settings file {args.settings!r} cannot be read ({exc.strerror})") from None
    for flag, (name, _, _) in FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            base[name] = value
    if args.tiny:
        base["tiny"] = True
    if args.dry_run:
        base.update(tiny=True, steps=2)
    return Settings.from_dict(base)


def main(args: argparse.Namespace) -> int:
    from workbench.runs import Callbacks, run
    settings = settings_from_args(args)
    apply_data_dir(args)
    quiet = args.json
    cb = Callbacks(on_progress=None if quiet else _progress_printer(),
                   on_message=None if quiet else (lambda text: print(f"· {text}", file=sys.stderr)))
    result = run(settings, cb, record=not (args.no_record or args.dry_run))
    if not quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    print(result.to_json(indent=None) if args.json else result.summary())
    return 0


def _progress_printer():
    """Progress on stderr: a rewritten line on a terminal, a line every 10 % otherwise."""
    tty = sys.stderr.isatty()
    last = [-1]

    def show(m: dict):
        step, steps = m.get("step", 0), m.get("steps", 1)
        loss = m.get("loss")
        text = f"step {step}/{steps}" + (f"  loss {loss:.4f}" if loss is not None else "")
        if tty:
            print("\r" + text, end="", file=sys.stderr, flush=True)
        elif step * 10 // max(steps, 1) > last[0]:
            last[0] = step * 10 // max(steps, 1)
            print(text, file=sys.stderr, flush=True)
    return show
