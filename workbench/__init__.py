"""Green LLM Workbench: the engine (no widgets here; see workbench.ui for the views)."""
__version__ = "0.1.0"
