"""The set-up stays honest: README, CI, pyproject.toml and environment.yml agree."""
import json
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def _env_pip() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    return [line.strip()[2:] for line in lines[start + 1:] if line.strip().startswith("- ")]


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    env = [r for r in _env_pip() if r != "-e ."]
    assert {_name(r) for r in env} == {_name(r) for r in wanted}
    # same version bounds, except torch which both pin to the tested CPU wheel
    pins = {_name(r): r.replace(" ", "") for r in wanted}
    for r in env:
        if _name(r) != "torch":
            assert r.replace(" ", "") == pins[_name(r)], r
    assert "torch==2.13.0" in env
    assert "pynvml" not in {_name(r) for r in env}, "nvidia-ml-py provides pynvml; never the pynvml package"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "./workbench.sh app" in readme and "./workbench.sh test" in readme
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines()
          if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert ci == ["./workbench.sh test"]


def test_setup_installs_pinned_torch_before_the_rest():
    script = (ROOT / "workbench.sh").read_text()
    assert script.index("torch==2.13.0") < script.index('-e ".[test]"')
    assert "playwright install" not in script.replace("never `playwright install`", "")


def test_committed_notebooks_have_no_outputs():
    files = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    for f in files:
        nb = json.loads((ROOT / f).read_text())
        dirty = [c for c in nb["cells"] if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{f} is committed with outputs"


def test_no_model_is_fetched_from_a_hub():
    hub = re.compile(r"from_pretrained\(\s*['\"](bert|distilbert|gpt2|sentence-transformers|microsoft|google)")
    for path in list(ROOT.glob("workbench/**/*.py")) + list(ROOT.glob("apps/*.ipynb")) + list(ROOT.glob("lessons/**/*.ipynb")):
        assert not hub.search(path.read_text(errors="ignore")), path
