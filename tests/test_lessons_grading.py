"""Every lesson executes headless and grades as it should (otter.api, in this process).

Each grading runs the whole notebook in a fresh kernel (live runs included, recorded to the
test's own data folder) in otter's debug mode, so any cell that raises fails the test:
  * the worked solutions score full marks;
  * the student notebook, blank except for one deliberately wrong answer that passes the public
    tests, scores 0 on every blank exercise and loses exactly the hidden points the wrong answer
    is built to fail — so the blank student version runs cleanly and hidden tests have teeth.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench import grading
from workbench.lessons import LESSONS, lessons_dir

ROOT = lessons_dir()
STEMS = [s for s, _ in LESSONS]

# lesson -> (exercise, marker in its answer cell, wrong answer passing the public tests, expected score)
WRONG = {
    "01_sigmoid_to_gradient_descent": ("q2_bce", "def my_bce", '''def my_bce(p, y, eps=1e-12):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))   # no clipping''', 2),
    "02_toy_language_model": ("q3_perplexity", "def my_perplexity", '''def my_perplexity(nll):
    return float(np.exp(np.sum(nll)))   # sum instead of mean''', 1),
    "03_lstm_language_model": ("q1_entropy", "def entropy_nats", '''def entropy_nats(probs):
    p = np.asarray(probs, dtype=float)
    return float(-(p * np.log(p)).sum())   # 0 log 0 gives nan''', 2),
    "04_compressing_bert": ("q3_prune", "def keep_top_k", '''def keep_top_k(theta, k):
    theta = np.asarray(theta, dtype=float)
    out = np.zeros_like(theta)
    idx = np.argsort(-theta)[:k]   # by value, not magnitude
    out[idx] = theta[idx]
    return out''', 2),
    "05_energy_model": ("q1_units", "def fixed_compute_energy", '''e1_units = "c"

def fixed_compute_energy(C, W, L):
    return C * W * L   # the seed's E1, unfixed''', 2),
    "06_parallelism_and_temperature": ("q2_governor", "def my_governor", '''def my_governor(temps, t_min, t_max):
    return [t > t_max for t in temps]   # no hysteresis''', 1),
}


def _public_points(report: grading.GradeReport, question: str) -> float:
    q = next(q for q in report.questions if q.name == question)
    return sum(c.points for c in q.cases if not c.hidden)


def _student_with_wrong_answer(stem: str, folder: Path) -> Path:
    question, marker, wrong, _ = WRONG[stem]
    nb = json.loads((ROOT / "student" / f"{stem}.ipynb").read_text())
    cells = [c for c in nb["cells"] if "otter_answer_cell" in c["metadata"].get("tags", []) and marker in c["source"]]
    assert len(cells) == 1, f"{stem}: the answer cell of {question} should be unique"
    cells[0]["source"] = wrong
    path = folder / f"{stem}.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_worked_solutions_score_full_marks(stem, tmp_path):
    path = tmp_path / f"{stem}.ipynb"
    shutil.copy(ROOT / "solutions" / f"{stem}.ipynb", path)
    report = grading.grade_notebook(path, debug=True)
    assert report.possible > 0 and report.score == report.possible, grading.failure_lines(report)
    assert len(report.questions) >= 3


def _check_blank_and_wrong(stem: str, report: grading.GradeReport) -> None:
    question, _, _, expected = WRONG[stem]
    scores = {q.name: q.score for q in report.questions}
    assert len(scores) >= 3
    assert {n: s for n, s in scores.items() if n != question} == {n: 0 for n in scores if n != question}, \
        "blank exercises must score 0"
    wrong = next(q for q in report.questions if q.name == question)
    assert all(c.passed for c in wrong.cases if not c.hidden), "the wrong answer passes every public test"
    assert any(not c.passed for c in wrong.cases if c.hidden)
    assert wrong.score == expected < wrong.possible
    assert wrong.score >= _public_points(report, question)


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS[1:])   # the first lesson goes through the CLI below
def test_blank_student_scores_zero_and_wrong_answer_loses_hidden_points(stem, tmp_path):
    _check_blank_and_wrong(stem, grading.grade_notebook(_student_with_wrong_answer(stem, tmp_path), debug=True))


@pytest.mark.slow
def test_cli_grades_a_folder_and_writes_csv(tmp_path, capsys):
    """`python -m workbench grade DIR --json`: lesson 1, blank but for one wrong answer, plus a broken file."""
    from workbench.cli import main
    stem = STEMS[0]
    subs = tmp_path / "submissions"
    (subs / "alice").mkdir(parents=True)
    _student_with_wrong_answer(stem, subs / "alice")
    (subs / "bob.ipynb").write_text("{broken")
    assert main(["grade", str(subs), "--json"]) == 1          # bob's file cannot be graded
    out = json.loads(capsys.readouterr().out)
    alice, bob = sorted(out, key=lambda r: r["notebook"])
    assert "not a readable notebook" in bob["error"] and not alice["error"]
    report = grading.GradeReport(alice["notebook"], alice["lesson"], alice["score"], alice["possible"], [
        grading.QuestionScore(q["name"], q["score"], q["possible"], [grading.CaseResult(**c) for c in q["cases"]])
        for q in alice["questions"]])
    _check_blank_and_wrong(stem, report)
    rows = (subs / "grades.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("notebook,lesson,score,possible,error,q1_sigmoid")
