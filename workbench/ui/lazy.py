"""Tabs that do their work (read the ledger, fit, draw) only when first shown: the app opens fast."""


class LazyView:
    """Subclasses implement refresh(); call start_lazy(lazy) at the end of __init__."""

    stale = True

    def start_lazy(self, lazy: bool) -> None:
        self.stale = True
        if not lazy:
            self.activate()

    def activate(self) -> None:
        """The tab is shown: refresh once if nothing was drawn (or something changed) since."""
        if self.stale:
            self.stale = False
            self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError
