"""Every test writes to its own data folder, never the user's ledger.

One torch thread per process: the tiny models gain nothing from two, and on a busy machine
two spinning OpenMP threads per process can slow a test a hundredfold. (Benchmarks, not
tests, measure speed.) Set before torch is imported, so it also reaches child processes.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    yield tmp_path / "data"


def pytest_configure(config):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
