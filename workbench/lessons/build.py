"""Generate the student notebooks, worked solutions and autograder archives with `otter assign`.

otter assign gives every new cell a random id and stamps the zip's name and members with the
time, so its raw output differs from run to run. We normalise what we keep: cell ids become
`cell-NNN`, outputs are cleared, editor metadata is dropped, and the archive is rewritten with
sorted members and a fixed timestamp. Two builds of the same masters are then byte-identical,
and `check` compares what matters (cell types and sources, the tests, otter's config).
"""
from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.lessons import LESSONS

OUTPUTS = ("student", "solutions", "autograder")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)                  # the earliest time a zip can hold
DROP_CELL_METADATA = ("lines_to_next_cell", "execution", "collapsed", "scrolled")
DROP_NB_METADATA = ("jupytext", "widgets", "language_info")


class LessonBuildError(WorkbenchError):
    """A master notebook could not be turned into student files."""


def stems(only: list[str] | None = None) -> list[str]:
    known = [s for s, _ in LESSONS]
    if not only:
        return known
    unknown = [s for s in only if s not in known]
    if unknown:
        raise LessonBuildError(f"unknown lesson(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return list(only)


# -- normalisation -----------------------------------------------------------------------------
def normalise_notebook(nb: dict) -> dict:
    """Deterministic ids, no outputs, no editor metadata: the form we commit."""
    for key in DROP_NB_METADATA:
        nb["metadata"].pop(key, None)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        for key in DROP_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def strip_solution_markers(nb: dict) -> dict:
    """Worked solutions read better without otter's `# BEGIN/END SOLUTION` and `# SOLUTION` comments."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = [line for line in cell["source"].split("\n") if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")]
        cell["source"] = "\n".join(re.sub(r"\s*# SOLUTION\s*$", "", line) for line in lines)
    return nb


def dumps_notebook(nb: dict) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_zip(members: dict[str, bytes], dest: "Path | io.BytesIO") -> None:
    """A zip whose bytes depend only on the members' names and contents."""
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, members[name])


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}


# -- one lesson --------------------------------------------------------------------------------
def run_otter_assign(master: Path, workdir: Path) -> Path:
    """otter assign on a copy of master inside workdir; returns the result folder."""
    from otter.assign import main as otter_assign

    from workbench.grading import quiet_otter

    copy = workdir / master.name
    shutil.copy(master, copy)
    result = workdir / "dist"
    try:
        with quiet_otter() as sink:
            otter_assign(str(copy), str(result), no_pdfs=True, no_run_tests=True)
    except Exception as exc:
        tail = sink.getvalue().strip().splitlines()[-1:] or [""]
        raise LessonBuildError(f"otter assign failed on {master.name}: {type(exc).__name__}: {exc} {tail[0]}".strip()) from exc
    return result


def generate(master: Path) -> dict[str, bytes]:
    """The generated files of one master, as {relative path: bytes} (nothing written)."""
    if not master.is_file():
        raise LessonBuildError(f"master notebook {master} does not exist")
    stem = master.stem
    with tempfile.TemporaryDirectory(prefix="wb-assign-") as tmp:
        dist = run_otter_assign(master, Path(tmp))
        student = json.loads((dist / "student" / master.name).read_text())
        solutions = json.loads((dist / "autograder" / master.name).read_text())
        zips = sorted((dist / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise LessonBuildError(f"otter assign made {len(zips)} autograder archives for {master.name}; expected 1")
        members = read_zip(zips[0])
    buf = io.BytesIO()
    write_zip(members, buf)
    return {
        f"student/{stem}.ipynb": dumps_notebook(normalise_notebook(student)).encode(),
        f"solutions/{stem}.ipynb": dumps_notebook(strip_solution_markers(normalise_notebook(solutions))).encode(),
        f"autograder/{stem}.zip": buf.getvalue(),
    }


# -- build and check ---------------------------------------------------------------------------
def build(root: Path, only: list[str] | None = None) -> list[Path]:
    """Regenerate the files of every (or the named) lesson under root; returns the paths written."""
    written = []
    for stem in stems(only):
        for rel, data in generate(root / "masters" / f"{stem}.ipynb").items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    return written


def _notebook_content(data: bytes) -> tuple:
    """What a notebook means: its cells' types, sources and tags, and otter's metadata (tests)."""
    nb = json.loads(data)
    cells = tuple((c["cell_type"], "".join(c["source"]), tuple(c.get("metadata", {}).get("tags", ())))
                  for c in nb["cells"])
    return cells, json.dumps(nb["metadata"].get("otter"), sort_keys=True)


def _zip_content(data: bytes) -> dict[str, bytes]:
    """Members by name and content; timestamps, order and compression are ignored."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def same_content(rel: str, a: bytes, b: bytes) -> bool:
    if rel.endswith(".ipynb"):
        return _notebook_content(a) == _notebook_content(b)
    if rel.endswith(".zip"):
        return _zip_content(a) == _zip_content(b)
    return a == b


def check(root: Path, only: list[str] | None = None) -> list[str]:
    """One line per generated file that is missing, stale or left over; [] when all are current."""
    problems = []
    expected = set()
    for stem in stems(only):
        for rel, fresh in generate(root / "masters" / f"{stem}.ipynb").items():
            expected.add(rel)
            path = root / rel
            if not path.exists():
                problems.append(f"missing: {path}")
            elif not same_content(rel, path.read_bytes(), fresh):
                problems.append(f"stale: {path} differs from what its master generates")
    if not only:
        for sub in OUTPUTS:
            for path in sorted((root / sub).glob("*")) if (root / sub).is_dir() else []:
                # dotfiles (.OTTER_LOG from grader.check, editor files) are not generated files
                if path.is_file() and not path.name.startswith(".") and f"{sub}/{path.name}" not in expected:
                    problems.append(f"left over: {path} has no master")
    return problems
