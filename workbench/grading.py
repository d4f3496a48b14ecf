"""Grade lesson notebooks offline with otter-grader's autograder archives.

    notebook -> its lesson (metadata otter.assignment_name) -> lessons/autograder/<lesson>.zip
             -> otter.api.grade_submission (runs the notebook in a fresh kernel, then every
                public and hidden test) -> a score per exercise

otter reports failed tests in its results and exits 0 whatever the score, so we read the
results object. A notebook that cannot be graded at all (not JSON, not a lesson notebook, no
archive for its lesson, a kernel that fails) raises GradingError.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError


class GradingError(WorkbenchError):
    """A notebook could not be graded."""


@contextlib.contextmanager
def quiet_otter():
    """Silence otter (its prints and INFO logs) for a call; yields the captured text."""
    sink = io.StringIO()
    otter_log = logging.getLogger("otter")
    level = otter_log.level
    otter_log.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield sink
    finally:
        otter_log.setLevel(level)


@dataclass(frozen=True)
class CaseResult:
    name: str
    points: float
    passed: bool
    hidden: bool
    message: str             # the test's failure message (empty if it passed)


@dataclass
class QuestionScore:
    name: str                # e.g. q1_sigmoid
    score: float
    possible: float
    cases: list[CaseResult] = field(default_factory=list)


@dataclass
class GradeReport:
    notebook: str
    lesson: str = ""
    score: float = 0.0
    possible: float = 0.0
    questions: list[QuestionScore] = field(default_factory=list)
    error: str = ""          # set when the notebook could not be graded

    @property
    def graded(self) -> bool:
        return not self.error

    def to_dict(self) -> dict:
        return {"notebook": self.notebook, "lesson": self.lesson, "score": self.score, "possible": self.possible,
                "error": self.error,
                "questions": [{"name": q.name, "score": q.score, "possible": q.possible,
                               "cases": [c.__dict__ for c in q.cases]} for q in self.questions]}


def lesson_of(notebook: Path) -> str:
    """The otter assignment name stored in a lesson notebook (e.g. 01_sigmoid_to_gradient_descent)."""
    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradingError(f"notebook {str(notebook)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GradingError(f"{str(notebook)!r} is not a readable notebook ({type(exc).__name__}); give an .ipynb file") from None
    name = (nb.get("metadata", {}).get("otter") or {}).get("assignment_name") if isinstance(nb, dict) else None
    if not name:
        raise GradingError(f"{str(notebook)!r} is not a lesson notebook (no otter metadata); "
                           "grade a copy of a notebook from lessons/student/")
    return name


def find_autograder(lesson: str, autograder_dir: Path | None = None) -> Path:
    from workbench.lessons import lessons_dir
    folder = Path(autograder_dir) if autograder_dir else lessons_dir() / "autograder"
    path = folder / f"{lesson}.zip"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in folder.glob("*.zip"))) or "none"
        raise GradingError(f"no autograder archive for lesson {lesson!r} in {folder} (have: {have}); run `./workbench.sh lessons`")
    return path


def _report(notebook: Path, lesson: str, results) -> GradeReport:
    questions = []
    for name, res in results.results.items():
        cases = []
        for tcr in res.test_case_results:
            tc = tcr.test_case
            cases.append(CaseResult(tc.name, float(tc.points or 0), bool(tcr.passed), bool(tc.hidden),
                                    "" if tcr.passed else (tc.failure_message or tcr.message.splitlines()[0])))
        questions.append(QuestionScore(name, float(res.score), float(res.possible), cases))
    questions.sort(key=lambda q: q.name)
    return GradeReport(str(notebook), lesson, float(sum(q.score for q in questions)),
                       float(sum(q.possible for q in questions)), questions)


def grade_notebook(notebook: str | Path, autograder: str | Path | None = None, debug: bool = False) -> GradeReport:
    """Run one notebook and all its tests (public and hidden); GradingError if it cannot be graded.

    debug=True makes any error in a cell fail the grading (otter's debug mode), which tests use to
    prove a notebook runs cleanly; a class is graded with debug=False, where a cell that raises
    only costs the points of the tests that depend on it.
    """
    notebook = Path(notebook)
    lesson = lesson_of(notebook)
    archive = Path(autograder) if autograder else find_autograder(lesson)
    from otter.api import grade_submission
    try:
        with quiet_otter():
            results = grade_submission(str(notebook.resolve()), str(archive.resolve()), quiet=True, debug=debug)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise GradingError(f"grading {notebook.name} failed: {first}") from exc
    return _report(notebook, lesson, results)


def notebooks_in(folder: Path) -> list[Path]:
    """Every .ipynb under folder (recursively), skipping checkpoints."""
    return sorted(p for p in Path(folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def grade_many(paths: list[Path], autograder_dir: Path | None = None) -> list[GradeReport]:
    """Grade each notebook; one that cannot be graded gets a report with `error` set."""
    reports = []
    for path in paths:
        try:
            archive = find_autograder(lesson_of(path), autograder_dir)
            reports.append(grade_notebook(path, archive))
        except GradingError as exc:
            reports.append(GradeReport(str(path), error=str(exc)))
    return reports


def format_table(reports: list[GradeReport]) -> str:
    """Plain-text table: notebook, lesson, score/possible, then one column per exercise."""
    qnames = sorted({q.name for r in reports for q in r.questions})
    head = ["notebook", "lesson", "total"] + qnames
    rows = []
    for r in reports:
        if r.error:
            rows.append([Path(r.notebook).name, r.lesson or "-", "ERROR"] + ["-"] * len(qnames) + [r.error])
            continue
        by = {q.name: q for q in r.questions}
        rows.append([Path(r.notebook).name, r.lesson, f"{r.score:g}/{r.possible:g}"] +
                    [f"{by[n].score:g}/{by[n].possible:g}" if n in by else "" for n in qnames])
    widths = [max(len(str(x[i])) for x in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        line = "  ".join(str(c).ljust(w) for c, w in zip(row, widths))
        lines.append(line + ("  " + row[-1] if len(row) > len(widths) else ""))
    return "\n".join(line.rstrip() for line in lines)


def failure_lines(report: GradeReport) -> list[str]:
    """One line per failed test case: which exercise, public or hidden, and the explanation."""
    return [f"{q.name} [{'hidden' if c.hidden else 'public'}, {c.points:g} pt]: {c.message}"
            for q in report.questions for c in q.cases if not c.passed]


def write_csv(reports: list[GradeReport], path: str | Path) -> Path:
    """One row per notebook: notebook, lesson, score, possible, error, then score per exercise."""
    qnames = sorted({q.name for r in reports for q in r.questions})
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["notebook", "lesson", "score", "possible", "error"] + qnames)
        for r in reports:
            by = {q.name: q.score for q in r.questions}
            w.writerow([r.notebook, r.lesson, r.score, r.possible, r.error] + [by.get(n, "") for n in qnames])
    return path
