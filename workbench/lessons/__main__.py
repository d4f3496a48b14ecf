"""`python -m workbench.lessons build|check`: generate the lesson files, or verify they are current."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.lessons import LESSONS, lessons_dir
from workbench.lessons.build import build, check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.lessons",
                                     description="Generate student notebooks, worked solutions and "
                                                 "autograder archives from the lesson masters.")
    parser.add_argument("command", choices=("build", "check"),
                        help="build: regenerate lessons/student, lessons/solutions, lessons/autograder; "
                             "check: exit 1 if any generated file is missing or stale")
    parser.add_argument("--lessons-dir", type=Path, default=None,
                        help="folder holding masters/ (default: the repository's lessons/)")
    parser.add_argument("--only", action="append", default=None, metavar="STEM",
                        help=f"only this lesson (repeatable), e.g. {LESSONS[0][0]}")
    args = parser.parse_args(argv)
    root = args.lessons_dir or lessons_dir()
    if args.command == "build":
        for path in build(root, args.only):
            print(f"wrote {path}")
        return 0
    problems = check(root, args.only)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"{len(problems)} generated file(s) are stale: run `./workbench.sh lessons`", file=sys.stderr)
        return 1
    print(f"lessons up to date ({len(args.only or LESSONS)} checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
