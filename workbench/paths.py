"""Where the workbench keeps its data: a per-user folder, overridable."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "green-llm-workbench"


def data_dir() -> Path:
    """$WORKBENCH_DATA_DIR, else the platform's per-user data folder; created if missing."""
    if os.environ.get("WORKBENCH_DATA_DIR"):
        path = Path(os.environ["WORKBENCH_DATA_DIR"]).expanduser()
    elif sys.platform == "win32":
        path = Path(os.environ.get("APPDATA", Path.home())) / APP
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / APP
    else:
        path = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP
    path.mkdir(parents=True, exist_ok=True)
    return path
