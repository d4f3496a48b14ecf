"""The lesson notebooks: masters (with solutions and hidden tests) and what is generated from them.

    lessons/masters/NN_slug.ipynb      source of truth: otter-grader master, edited in JupyterLab
    lessons/student/NN_slug.ipynb      generated: solutions replaced by `...`, public tests inside
    lessons/solutions/NN_slug.ipynb    generated: worked solutions for self-study (no hidden tests)
    lessons/autograder/NN_slug.zip     generated: otter autograder archive with the hidden tests

`python -m workbench.lessons build` regenerates the last three; `check` says whether they are
current. Plots used by the lessons live in workbench.lessons.plots.
"""
from __future__ import annotations

import os
from pathlib import Path

# (file stem, title): the order a class follows.
LESSONS = (
    ("01_sigmoid_to_gradient_descent", "From sigmoid to gradient descent"),
    ("02_toy_language_model", "A toy language model"),
    ("03_lstm_language_model", "The LSTM language model"),
    ("04_compressing_bert", "Compressing BERT"),
    ("05_energy_model", "The energy model"),
    ("06_parallelism_and_temperature", "Parallelism and temperature limits"),
)


def lessons_dir() -> Path:
    """$WORKBENCH_LESSONS_DIR, else the repository's lessons/ folder beside the package."""
    env = os.environ.get("WORKBENCH_LESSONS_DIR")
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "lessons"
