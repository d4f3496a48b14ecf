"""`python -m workbench grade NB|DIR`: grade lesson notebooks offline, a score per exercise.

One notebook: a table (or --json) and one line per failed test with its explanation; exit 2 when
it cannot be graded. A folder: every notebook under it, a table, and a CSV (grades.csv in the
folder unless --csv says otherwise); exit 1 if any notebook could not be graded.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.cli.common import add_data_dir, apply_data_dir
from workbench.errors import WorkbenchError


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("grade", help="grade lesson notebooks with their autograder (offline)",
                       description="Run a lesson notebook (or every notebook in a folder) with all its "
                                   "public and hidden tests and print the score per exercise.")
    p.add_argument("path", type=Path, help="a lesson notebook (.ipynb) or a folder of submissions")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    p.add_argument("--csv", type=Path, default=None,
                   help="where to write the CSV for a folder (default: grades.csv inside the folder)")
    p.add_argument("--autograder-dir", type=Path, default=None,
                   help="folder of <lesson>.zip archives (default: the repository's lessons/autograder)")
    add_data_dir(p)
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    from workbench import grading

    apply_data_dir(args)
    path: Path = args.path
    if not path.exists():
        raise WorkbenchError(f"{str(path)!r} does not exist; give a lesson notebook (.ipynb) or a folder of them")
    if path.is_dir():
        notebooks = grading.notebooks_in(path)
        if not notebooks:
            raise WorkbenchError(f"no .ipynb files under {str(path)!r}")
        reports = grading.grade_many(notebooks, args.autograder_dir)
        csv_path = grading.write_csv(reports, args.csv or path / "grades.csv")
        _print(reports, args.json)
        print(f"CSV: {csv_path}", file=sys.stderr)
        return 1 if any(not r.graded for r in reports) else 0
    archive = None
    if args.autograder_dir:
        archive = grading.find_autograder(grading.lesson_of(path), args.autograder_dir)
    report = grading.grade_notebook(path, archive)   # GradingError -> one line, exit 2
    if args.csv:
        grading.write_csv([report], args.csv)
    _print([report], args.json)
    return 0


def _print(reports, as_json: bool) -> None:
    from workbench import grading

    if as_json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
        return
    print(grading.format_table(reports))
    for r in reports:
        lines = grading.failure_lines(r)
        if lines:
            print(f"\n{r.notebook}:")
            print("\n".join(f"  {line}" for line in lines))
