import json
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.ledger import Ledger


def _run_cli(args, tmp_path):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)


def test_run_json_is_a_parseable_result(tmp_path, _data_dir):
    p = _run_cli(["run", "--workload", "lstm", "--tiny", "--steps", "60", "--json"], tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["duration_s"] > 0 and d["energy_j"] > 0
    assert d["energy_source"] in ("estimated:cpu-time", "measured:rapl", "measured:nvml")
    assert d["quality"]["perplexity"] > d["quality"]["optimal_perplexity"] > 1
    assert d["samples"] and d["eta_tokens_per_j"] > 0
    assert Ledger().count() == 1


def _bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("déjà vu, ça".encode("latin-1") * 10)
    return [
        (["--bits", "0"], "bits must be an integer from 1 to 16, or 32"),
        (["--bits", "33"], "bits must be an integer from 1 to 16, or 32"),
        (["--prune", "1.0"], "prune_ratio must be in [0, 1)"),
        (["--parallelism", "0"], "parallelism must be an integer from 1"),
        (["--t-min", "80", "--t-max", "70"], "t_min_c must be below t_max_c"),
        (["--workload", "resnet"], "choose one of mlp, lstm"),
        (["--prune-kind", "random"], "choose one of unstructured"),
        (["--corpus", str(tmp_path / "missing.txt")], "does not exist"),
        (["--corpus", str(empty)], "is empty"),
        (["--corpus", str(binary)], "looks binary"),
        (["--corpus", str(latin)], "is not UTF-8"),
        (["--corpus", str(tmp_path)], "is a folder"),
        (["--steps", "many"], "invalid int value"),
        (["--device", "cuda:x"], "choose cpu, cuda or cuda:N"),
        (["--meter", "wattmeter"], "choose one of auto, nvml"),
    ]


def test_bad_input_exits_2_with_one_line_and_records_nothing(tmp_path, capsys):
    for args, fragment in _bad_inputs(tmp_path):
        with pytest.raises(SystemExit) as exit_info:
            code = main(["run", "--tiny", "--steps", "5", *args])
            raise SystemExit(code)
        out, err = capsys.readouterr()
        assert exit_info.value.code == 2, args
        assert fragment in err, (args, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        assert out == ""
    assert Ledger().count() == 0


def test_bad_input_through_the_real_command(tmp_path):
    p = _run_cli(["run", "--bits", "33"], tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip() == "error: bits must be an integer from 1 to 16, or 32 for full precision; got 33"


def test_runs_lists_and_exports(tmp_path, capsys):
    assert main(["run", "--workload", "mlp", "--tiny", "--steps", "20"]) == 0
    capsys.readouterr()
    assert main(["runs", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["settings"]["workload"] == "mlp"
    assert main(["runs", "--format", "csv"]) == 0
    csv = capsys.readouterr().out.splitlines()
    assert csv[0].startswith("run_id,") and len(csv) == 2
    assert main(["runs"]) == 0
    assert "mlp" in capsys.readouterr().out


def test_dry_run_records_nothing(capsys):
    assert main(["run", "--workload", "gpt", "--dry-run"]) == 0
    assert "gpt" in capsys.readouterr().out
    assert Ledger().count() == 0


def test_every_flag_has_help():
    from workbench.cli import build_parser
    parser = build_parser()
    for action in parser._subparsers._group_actions[0].choices.values():
        for a in action._actions:
            if a.dest != "help":
                assert a.help, f"{action.prog} {a.option_strings} has no help"
