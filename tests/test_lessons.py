"""Lessons: generated files are current and deterministic, masters are complete, grading plumbing.

The slow tests that execute and grade every notebook are in test_lessons_grading.py.
"""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from workbench import grading
from workbench.lessons import LESSONS, lessons_dir
from workbench.lessons.build import check, generate, same_content

ROOT = lessons_dir()
STEMS = [s for s, _ in LESSONS]
SEED_ITEMS = [f"F{i}" for i in range(1, 11)] + [f"E{i}" for i in range(1, 7)] + [f"C{i}" for i in range(1, 8)]


def _nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _zip_tests(stem: str) -> dict[str, str]:
    with zipfile.ZipFile(ROOT / "autograder" / f"{stem}.zip") as zf:
        return {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/")}


# -- generated files -----------------------------------------------------------------------------
def test_generated_files_are_current():
    """CI's guard: `./workbench.sh lessons` was run after the last change to a master."""
    assert check(ROOT) == []


def test_generation_is_deterministic():
    master = ROOT / "masters" / f"{STEMS[0]}.ipynb"
    assert generate(master) == generate(master)   # byte-identical, zip included


def test_check_reports_stale_and_missing(tmp_path):
    stem = STEMS[0]
    for sub in ("masters", "student", "solutions", "autograder"):
        (tmp_path / sub).mkdir()
    shutil.copy(ROOT / "masters" / f"{stem}.ipynb", tmp_path / "masters")
    for rel in (f"student/{stem}.ipynb", f"solutions/{stem}.ipynb"):
        shutil.copy(ROOT / rel, tmp_path / rel)
    assert check(tmp_path, [stem]) == [f"missing: {tmp_path / 'autograder' / f'{stem}.zip'}"]

    nb = _nb(tmp_path / "student" / f"{stem}.ipynb")
    answer = next(c for c in nb["cells"] if "otter_answer_cell" in c["metadata"].get("tags", []))
    answer["source"] += "\n# edited by hand"
    (tmp_path / "student" / f"{stem}.ipynb").write_text(json.dumps(nb))
    problems = check(tmp_path, [stem])
    assert any(p.startswith("stale:") and p.endswith("differs from what its master generates") and "student" in p
               for p in problems)


def test_same_content_ignores_ids_and_zip_timestamps():
    stem = STEMS[0]
    data = (ROOT / "student" / f"{stem}.ipynb").read_bytes()
    nb = json.loads(data)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"random-{i}"
    assert same_content("x.ipynb", data, json.dumps(nb).encode())
    z = (ROOT / "autograder" / f"{stem}.zip").read_bytes()
    with zipfile.ZipFile(ROOT / "autograder" / f"{stem}.zip") as src:
        import io
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as dst:
            for name in reversed(src.namelist()):
                info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10))
                dst.writestr(info, src.read(name))
    assert same_content("x.zip", z, buf.getvalue())
    with zipfile.ZipFile(buf, "a") as dst:
        dst.writestr("tests/extra.py", "test = {}")
    assert not same_content("x.zip", z, buf.getvalue())


# -- what the lessons contain ----------------------------------------------------------------------
@pytest.mark.parametrize("stem", STEMS)
def test_student_notebook_has_no_solutions_or_hidden_tests(stem):
    nb = _nb(ROOT / "student" / f"{stem}.ipynb")
    text = "\n".join(c["source"] for c in nb["cells"])
    assert "SOLUTION" not in text and "BEGIN TEST" not in text
    answers = [c for c in nb["cells"] if "otter_answer_cell" in c["metadata"].get("tags", [])]
    assert answers and all("..." in c["source"] for c in answers)
    tests = nb["metadata"]["otter"]["tests"]
    cases = [case for t in tests.values() for suite in t["suites"] for case in suite["cases"]]
    assert cases and not any(case["hidden"] for case in cases)
    assert nb["metadata"]["otter"]["assignment_name"] == stem


@pytest.mark.parametrize("stem", STEMS)
def test_every_exercise_has_public_and_hidden_tests_with_explanations(stem):
    tests = _zip_tests(stem)
    assert len(tests) >= 3, "each lesson has at least three exercises"
    for name, source in tests.items():
        ns: dict = {}
        exec(source, ns)
        cases = [c for suite in ns["test"]["suites"] for c in suite["cases"]]
        assert any(c["hidden"] for c in cases) and any(not c["hidden"] for c in cases), name
        assert all(c.get("failure_message") for c in cases), f"{name}: every case explains its failure"
        assert sum(c["points"] for c in cases) == ns["test"]["points"], name


@pytest.mark.parametrize("stem", STEMS)
def test_solutions_notebook_is_the_master_without_markers(stem):
    sol = _nb(ROOT / "solutions" / f"{stem}.ipynb")
    code = "\n".join(c["source"] for c in sol["cells"] if c["cell_type"] == "code")
    assert "grader.check(" in code and "SOLUTION" not in code and "BEGIN TEST CONFIG" not in code
    assert "..." not in code.replace("...]", "")   # every answer is filled in
    assert not any(c["cell_type"] == "raw" for c in sol["cells"])


def test_every_seed_item_is_taught():
    text = "\n".join(c["source"] for stem in STEMS for c in _nb(ROOT / "masters" / f"{stem}.ipynb")["cells"]
                     if c["cell_type"] == "markdown")
    missing = [item for item in SEED_ITEMS if not re.search(rf"\b{item}\b", text)]
    assert missing == []
    for phrase in ("MirroredStrategy", "asynchronous", "distributed inference", "low-rank", "parameter sharing",
                   "Adam", "AdaGrad", "dropout", "batch normalisation", "transfer learning", "NVML", "RAPL",
                   "TPU", "learning-rate schedule"):
        assert phrase.lower() in text.lower(), phrase


@pytest.mark.parametrize("stem", STEMS)
def test_lessons_stay_thin(stem):
    """Logic lives in workbench/: no widgets, no long code cells outside exercises and their tests."""
    nb = _nb(ROOT / "student" / f"{stem}.ipynb")
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert "ipywidgets" not in cell["source"]
        if "otter_answer_cell" not in cell["metadata"].get("tags", []):
            assert len(cell["source"].splitlines()) <= 12, cell["source"][:80]


# -- grading plumbing (no notebook is run here) -------------------------------------------------
def test_grading_rejects_what_it_cannot_grade(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    with pytest.raises(grading.GradingError, match="not a readable notebook"):
        grading.grade_notebook(bad)
    plain = tmp_path / "plain.ipynb"
    plain.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(grading.GradingError, match="not a lesson notebook"):
        grading.grade_notebook(plain)
    with pytest.raises(grading.GradingError, match="does not exist"):
        grading.grade_notebook(tmp_path / "nope.ipynb")
    with pytest.raises(grading.GradingError, match="no autograder archive"):
        grading.find_autograder("99_unknown", tmp_path)


def test_cli_exits_nonzero_for_an_ungradable_notebook(tmp_path, capsys):
    from workbench.cli import main
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    assert main(["grade", str(bad)]) == 2
    assert "not a readable notebook" in capsys.readouterr().err


def _report(name, scores):
    qs = [grading.QuestionScore(q, s, p, [grading.CaseResult(f"{q} - 1", p, s == p, True, "" if s == p else "why")])
          for q, (s, p) in scores.items()]
    return grading.GradeReport(name, "01_x", sum(s for s, _ in scores.values()), sum(p for _, p in scores.values()), qs)


def test_table_and_csv(tmp_path):
    reports = [_report("a.ipynb", {"q1": (3, 3), "q2": (1, 2)}), grading.GradeReport("b.ipynb", error="cannot read")]
    table = grading.format_table(reports)
    assert "4/5" in table and "3/3" in table and "1/2" in table and "ERROR" in table and "cannot read" in table
    assert grading.failure_lines(reports[0]) == ["q2 [hidden, 2 pt]: why"]
    path = grading.write_csv(reports, tmp_path / "g.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "notebook,lesson,score,possible,error,q1,q2"
    assert lines[1] == "a.ipynb,01_x,4,5,,3,1" and lines[2].startswith("b.ipynb,,0.0,0.0,cannot read")
