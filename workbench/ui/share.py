"""Pinned and shared settings: a settings file, the page's URL query, and the share link.

A teacher pins settings for a class with `./workbench.sh app --settings lesson.json` or with a
link such as http://host:8866/?bits=8&prune_ratio=0.5. The query wins over the file; both
start from Settings() defaults. Keys Voila itself uses (token, voila-*) are ignored.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from workbench.errors import SettingsError, WorkbenchError
from workbench.settings import Settings

SETTINGS_FILE_ENV = "WORKBENCH_SETTINGS_FILE"
SERVER_KEYS = ("token", "template", "theme")   # query keys that belong to Voila, not to Settings


@dataclass
class Pinned:
    """Settings to start from, and one line per problem met while reading them."""

    settings: Settings = field(default_factory=Settings)
    messages: list[str] = field(default_factory=list)
    origin: str = "defaults"


def settings_query(query: str) -> str:
    """The part of a URL query that names settings (drops token=, voila-*=, ...)."""
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=True)
             if k not in SERVER_KEYS and not k.startswith("voila")]
    return urlencode(pairs)


def pinned_settings(query: str | None = None, settings_file: str | None = None) -> Pinned:
    """Settings from the file (if any), then the URL query on top. A bad file or query gives a
    message and is skipped, so the app always starts."""
    pinned = Pinned()
    settings_file = settings_file if settings_file is not None else os.environ.get(SETTINGS_FILE_ENV, "")
    if settings_file:
        try:
            text = Path(settings_file).read_text(encoding="utf-8")
            pinned.settings = Settings.from_json(text)
            pinned.origin = f"settings file {Path(settings_file).name}"
        except OSError as exc:
            pinned.messages.append(f"settings file {settings_file} cannot be read ({exc.strerror}); using defaults")
        except WorkbenchError as exc:
            pinned.messages.append(f"settings file {settings_file}: {exc}; using defaults")
    q = settings_query(query or "")
    if q:
        try:
            changes = Settings.from_query(q).to_dict()
            given = {k for k, _ in parse_qsl(q)}
            pinned.settings = pinned.settings.replace(**{k: changes[k] for k in given})
            pinned.origin = "link" if pinned.origin == "defaults" else pinned.origin + " and link"
        except SettingsError as exc:
            pinned.messages.append(f"link settings ignored: {exc}")
    return pinned


def request_query() -> str:
    """The page's URL query under Voila (waits for the page when the kernel was preheated);
    '' in JupyterLab or a plain kernel."""
    if os.environ.get("VOILA_PREHEAT", "False") == "True":
        try:
            from voila.utils import get_query_string
            return get_query_string() or ""
        except Exception:   # an old Voila, or the request socket failed: start from defaults
            return ""
    return os.environ.get("QUERY_STRING", "")


def share_link(settings: Settings) -> str:
    """A link that opens the app with these settings (the server's address when known)."""
    query = settings.to_query()
    host = os.environ.get("SERVER_NAME", "")
    port = os.environ.get("SERVER_PORT", "")
    path = os.environ.get("SCRIPT_NAME", "/") or "/"
    base = f"http://{host}{':' + port if port else ''}{path}" if host else ""
    return f"{base}?{query}" if query else (base or "?")
