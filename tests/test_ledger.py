import io
import multiprocessing as mp

import pandas as pd

from workbench.ledger import Ledger
from workbench.result import Result
from workbench.settings import Settings


def _result(run_id: str, energy: float = 1.5) -> Result:
    r = Result(run_id=run_id, settings=Settings(tiny=True).to_dict(), started_at=f"2026-01-01T00:00:{run_id[-2:]}",
               energy_j=energy, energy_source="estimated:cpu-time", quality={"perplexity": 2.5})
    r.samples = [{"t_s": 0.1 * i, "power_w": 10.0, "energy_j": i * 1.0, "temp_c": 40.0, "work": i,
                  "source": "estimated:cpu-time", "temp_source": "modelled:thermal-rc", "paused": 0}
                 for i in range(5)]
    return r


def _writer(path: str, worker: int, n: int):
    ledger = Ledger(path)
    for i in range(n):
        ledger.append(_result(f"w{worker}-{i:02d}"))


def test_four_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    Ledger(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    ledger = Ledger(path)
    assert ledger.count() == 160
    assert {r.run_id for r in ledger.results()} == {f"w{w}-{i:02d}" for w in range(4) for i in range(40)}
    assert len(ledger.samples("w3-39")) == 5


def test_round_trip_and_exports(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.append(_result("a-01", 1.0))
    ledger.append(_result("b-02", 2.0))
    newest = ledger.results()
    assert [r.run_id for r in newest] == ["b-02", "a-01"]
    got = ledger.get("a-01")
    assert got.energy_j == 1.0 and got.energy_source == "estimated:cpu-time" and len(got.samples) == 5
    df = ledger.dataframe()
    assert list(df["run_id"]) == ["b-02", "a-01"] and df["quality_perplexity"].tolist() == [2.5, 2.5]
    back = pd.read_csv(io.StringIO(ledger.to_csv()))
    assert back["energy_j"].tolist() == [2.0, 1.0]


def test_default_location_follows_the_environment(_data_dir):
    assert Ledger().path.parent == _data_dir
