"""User-facing errors: each carries one line that names what was wrong and what is valid."""


class WorkbenchError(Exception):
    """An error meant for a learner: its message is one line, shown without a traceback."""


class SettingsError(WorkbenchError, ValueError):
    """A setting is out of range or inconsistent (e.g. t_min_c >= t_max_c)."""


class CorpusError(WorkbenchError):
    """A corpus file is missing, empty, binary, not UTF-8 or too large."""


class ModelError(WorkbenchError):
    """A model path is missing or does not hold a loadable model."""


class MeterError(WorkbenchError):
    """An energy meter cannot be read (no sensor, no permission, library missing)."""
