"""The run ledger: every Result with its Settings and samples, in SQLite (WAL).

Several kernels (two browser tabs, a notebook beside the app) and worker processes may write at
once. WAL lets readers run beside one writer; each write is one short IMMEDIATE transaction,
and a busy database is waited for (busy_timeout) rather than failing, so no row is lost.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from workbench.paths import data_dir
from workbench.result import Result

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    workload TEXT NOT NULL,
    status TEXT NOT NULL,
    settings TEXT NOT NULL,      -- JSON of Settings
    result TEXT NOT NULL         -- JSON of Result without samples
);
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    t_s REAL, power_w REAL, energy_j REAL, temp_c REAL, work REAL,
    source TEXT, temp_source TEXT, paused INTEGER
);
CREATE INDEX IF NOT EXISTS samples_run ON samples(run_id);
"""
SAMPLE_COLUMNS = ("t_s", "power_w", "energy_j", "temp_c", "work", "source", "temp_source", "paused")
# Flat columns of the table view / CSV export, in order.
TABLE_COLUMNS = ("run_id", "started_at", "workload", "status", "bits", "prune_ratio", "prune_kind",
                 "parallelism", "steps", "duration_s", "paused_s", "energy_j", "energy_source",
                 "mean_power_w", "peak_temp_c", "temp_source", "eta_flop_per_j", "eta_tokens_per_j",
                 "co2_g", "tokens", "flops", "params")


def default_path() -> Path:
    return data_dir() / "ledger.sqlite"


class Ledger:
    """A handle on one ledger file. Cheap to create; each call opens its own connection."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        con.execute("PRAGMA busy_timeout=60000")
        return con

    def append(self, result: Result) -> None:
        """Store a Result and its samples in one transaction (all or nothing)."""
        row = (result.run_id, result.started_at, result.settings["workload"], result.status,
               json.dumps(result.settings), result.to_json(samples=False))
        samples = [tuple(s.get(c) for c in SAMPLE_COLUMNS) for s in result.samples]
        for attempt in range(20):
            try:
                with closing(self._connect()) as con:
                    con.execute("BEGIN IMMEDIATE")
                    con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?)", row)
                    con.executemany(f"INSERT INTO samples (run_id,{','.join(SAMPLE_COLUMNS)}) VALUES "
                                    f"({','.join('?' * (1 + len(SAMPLE_COLUMNS)))})",
                                    [(result.run_id, *s) for s in samples])
                    con.execute("COMMIT")
                return
            except sqlite3.OperationalError as exc:  # "database is locked" beyond busy_timeout
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise sqlite3.OperationalError(f"ledger {self.path} stayed locked; run {result.run_id} not recorded")

    def results(self, limit: int | None = None) -> list[Result]:
        """Results, newest first, without samples (see samples())."""
        sql = "SELECT result FROM runs ORDER BY started_at DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with closing(self._connect()) as con:
            return [Result.from_dict(json.loads(r)) for (r,) in con.execute(sql)]

    def get(self, run_id: str) -> Result | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT result FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if row is None:
            return None
        result = Result.from_dict(json.loads(row[0]))
        result.samples = self.samples(run_id)
        return result

    def samples(self, run_id: str) -> list[dict]:
        with closing(self._connect()) as con:
            rows = con.execute(f"SELECT {','.join(SAMPLE_COLUMNS)} FROM samples WHERE run_id=? ORDER BY t_s",
                               (run_id,)).fetchall()
        return [dict(zip(SAMPLE_COLUMNS, r)) for r in rows]

    def count(self) -> int:
        with closing(self._connect()) as con:
            return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def rows(self, limit: int | None = None) -> list[dict]:
        """Flat dicts (TABLE_COLUMNS plus quality_*), newest first: for tables and CSV."""
        out = []
        for r in self.results(limit):
            d = r.to_dict(samples=False)
            row = {c: d.get(c, d["settings"].get(c)) for c in TABLE_COLUMNS}
            row.update({f"quality_{k}": v for k, v in r.quality.items()})
            out.append(row)
        return out

    def dataframe(self, limit: int | None = None):
        """The ledger as a pandas DataFrame, newest first."""
        import pandas as pd
        return pd.DataFrame(self.rows(limit))

    def to_csv(self, path_or_buf=None, limit: int | None = None):
        """CSV of rows(); returns the text when no path is given."""
        return self.dataframe(limit).to_csv(path_or_buf, index=False)
