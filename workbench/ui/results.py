"""The results tab: the ledger as a table (newest first), CSV download, compare runs, the
energy–quality frontier, and the seed's claims beside measured figures."""
from __future__ import annotations

import base64
import html
import threading
from typing import Callable

import ipywidgets as widgets

from workbench.ledger import Ledger
from workbench.ui import plots, theme
from workbench.ui.lazy import LazyView

SHOWN_COLUMNS = {  # ledger column -> table heading (with units)
    "started_at": "started (UTC)", "run_id": "run", "workload": "workload", "status": "status",
    "bits": "bits", "prune_ratio": "pruning", "prune_kind": "kind", "parallelism": "N",
    "steps": "steps", "duration_s": "time (s)", "energy_j": "energy (J)", "energy_source": "energy is",
    "mean_power_w": "power (W)", "peak_temp_c": "peak °C", "temp_source": "temp. is",
    "eta_tokens_per_j": "η (tokens/J)",
}
QUALITY_COLUMNS = {"quality_perplexity": "perplexity", "quality_cosine_mean": "cosine",
                   "quality_accuracy": "accuracy"}


def csv_link(csv_text: str, filename: str = "workbench-runs.csv") -> str:
    """An HTML download link carrying the CSV in a data: URI (works offline, no server route)."""
    b64 = base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
    return (f'<a class="wb-download" download="{filename}" href="data:text/csv;base64,{b64}" '
            f'style="font-size:19px;font-weight:bold">Download the ledger as CSV</a>')


def table_html(rows: list[dict], limit: int = 200) -> str:
    """The ledger rows as an HTML table, newest first (rows come that way from the ledger)."""
    import pandas as pd
    if not rows:
        return '<div class="wb-sub">The ledger is empty: runs appear here when they finish.</div>'
    df = pd.DataFrame(rows[:limit])
    cols = [c for c in SHOWN_COLUMNS if c in df] + [c for c in QUALITY_COLUMNS if c in df]
    df = df[cols].rename(columns={**SHOWN_COLUMNS, **QUALITY_COLUMNS})
    if "started (UTC)" in df:
        df["started (UTC)"] = df["started (UTC)"].astype(str).str.slice(5, 19).str.replace("T", " ")
    for col in ("energy is", "temp. is"):   # the kind is what matters here; the CSV has the full label
        if col in df:
            df[col] = df[col].map(lambda v: v.split(":", 1)[0].upper() if isinstance(v, str) and v else "")
    fmt = {c: (lambda v: "" if v is None or v != v else f"{v:.4g}") for c in df.columns
           if df[c].dtype.kind == "f"}
    body = df.to_html(index=False, escape=True, formatters=fmt, na_rep="", border=0)
    return f'<div class="wb-table wb-scroll wb-nowrap">{body}</div>'


def run_label(row: dict) -> str:
    e = row.get("energy_j")
    e_text = f"{e:.1f} J" if isinstance(e, (int, float)) else "no energy"
    return (f"{row['run_id']} · {row['workload']} · {row.get('bits')} bits · pruning {row.get('prune_ratio'):g} · "
            f"N {row.get('parallelism')} · {e_text} · {row['status']}")


class ResultsView(LazyView):
    """Ledger table, CSV link, compare, frontier and claims; refresh() re-reads the ledger."""

    def __init__(self, ledger_factory: Callable[[], Ledger] = Ledger, lazy: bool = False):
        self.ledger_factory = ledger_factory
        self.refresh_button = widgets.Button(description="Refresh", tooltip="read the ledger again")
        self.count = widgets.HTML()
        self.table = widgets.HTML()
        self.download = widgets.HTML()
        self.select = widgets.SelectMultiple(options=[], rows=5, description="runs",
                                             style={"description_width": "4em"}, layout=widgets.Layout(width="100%"))
        self.compare_button = widgets.Button(description="Compare", tooltip="compare the selected runs")
        self.compare_table = widgets.HTML()
        self.compare_image = widgets.Image(value=plots.message_png("Select runs in the list (Ctrl+click for "
                                                                   "several), then press Compare.", (12, 1.6)),
                                           format="png", layout=widgets.Layout(width="100%", max_width="960px"))
        self.frontier_workload = widgets.Dropdown(options=[], description="workload",
                                                  style={"description_width": "6em"})
        self.frontier_image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="960px"))
        self.claims_button = widgets.Button(description="Check the seed claims (slow: measures BERT variants)",
                                            layout=widgets.Layout(width="auto"))
        self.claims_quick = widgets.Checkbox(value=True, description="quick (fewer sentences and repeats)",
                                             indent=False, layout=widgets.Layout(width="auto", margin="0 0 0 18px"))
        self.claims_status = widgets.HTML()
        self.claims_table = widgets.HTML(value=seed_claims_html())
        self.rows: list[dict] = []
        self._claims_thread: threading.Thread | None = None
        self.refresh_button.on_click(lambda _: self.refresh())
        self.compare_button.on_click(lambda _: self.compare())
        self.claims_button.on_click(lambda _: self.check_claims())
        self.frontier_workload.observe(lambda _: self._draw_frontier(), names="value")
        self.start_lazy(lazy)

    def widget(self) -> widgets.VBox:
        return widgets.VBox([
            widgets.HBox([self.refresh_button, self.count, self.download], layout=widgets.Layout(align_items="center")),
            widgets.HTML("<h2>Runs in the ledger, newest first</h2>"), self.table,
            widgets.HTML("<h2>Compare runs</h2>"), self.select, self.compare_button, self.compare_table,
            self.compare_image,
            widgets.HTML("<h2>Energy–quality frontier</h2><div class='wb-sub'>Each point is a finished run; "
                         "the line joins the runs that no other run beats in both energy and quality.</div>"),
            self.frontier_workload, self.frontier_image,
            widgets.HTML("<h2>The seed's claims beside reference and measured figures</h2>"),
            widgets.HBox([self.claims_button, self.claims_quick]), self.claims_status, self.claims_table,
        ])

    def refresh(self) -> None:
        """Re-read the ledger: table, CSV link, run list, frontier."""
        try:
            ledger = self.ledger_factory()
            self.rows = ledger.rows()
            csv = ledger.to_csv() if self.rows else ""
        except Exception as exc:   # a broken ledger file must not break the app
            self.rows, csv = [], ""
            self.count.value = theme.status_html(f"the ledger cannot be read ({type(exc).__name__}: {exc})", "error")
        else:
            self.count.value = f'<span style="font-size:19px">{len(self.rows)} run(s)</span>'
        self.table.value = table_html(self.rows)
        self.download.value = csv_link(csv) if self.rows else ""
        keep = set(self.select.value)
        self.select.options = [(run_label(r), r["run_id"]) for r in self.rows]
        self.select.value = tuple(v for _, v in self.select.options if v in keep)
        workloads = list(dict.fromkeys(r["workload"] for r in self.rows))
        current = self.frontier_workload.value
        self.frontier_workload.options = workloads
        if workloads:
            self.frontier_workload.value = current if current in workloads else workloads[0]
        self._draw_frontier()

    def _draw_frontier(self) -> None:
        wl = self.frontier_workload.value
        self.frontier_image.value = (plots.frontier_png(self.rows, wl) if wl else
                                     plots.message_png("No runs in the ledger yet."))

    def compare(self) -> None:
        """Side-by-side table and power/energy curves of the selected runs."""
        self.compare_image.layout.max_width = "1280px"
        ids = list(self.select.value)
        if not ids:
            self.compare_table.value = theme.status_html("select one or more runs in the list first", "error")
            return
        ledger = self.ledger_factory()
        results = [r for r in (ledger.get(i) for i in ids) if r is not None]
        self.compare_table.value = compare_html(results)
        self.compare_image.value = plots.compare_png(
            [(f"{r.run_id} {r.settings['workload']} {r.settings['bits']}b", r.samples, r.energy_source) for r in results])

    def check_claims(self) -> None:
        """Run the claim checks in a thread (they run workloads); the table fills in when done."""
        if self._claims_thread is not None and self._claims_thread.is_alive():
            return
        self.claims_button.disabled = True
        self.claims_status.value = theme.status_html("Checking the seed's claims: this runs small workloads…")
        self._claims_thread = threading.Thread(target=self._claims_work, daemon=True)
        self._claims_thread.start()

    def _claims_progress(self, *args, **kwargs) -> None:
        """progress(step=, steps=) from the measurement passes."""
        done = f"pass {kwargs['step']}/{kwargs['steps']}" if "step" in kwargs and "steps" in kwargs else ""
        self.claims_status.value = theme.status_html(f"Checking the seed's claims… {done}".strip())

    def _claims_work(self) -> None:
        try:
            self.claims_table.value = measured_claims_html(self.claims_quick.value, progress=self._claims_progress)
            self.claims_status.value = theme.status_html("Claims checked.", "ok")
        except Exception as exc:
            self.claims_status.value = theme.status_html(
                f"the claims could not be checked ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                "error")
        finally:
            self.claims_button.disabled = False


def compare_html(results) -> str:
    if not results:
        return ""
    keys = [("workload", lambda r: r.settings["workload"]), ("bits", lambda r: r.settings["bits"]),
            ("pruning", lambda r: f"{r.settings['prune_ratio']:g} {r.settings['prune_kind']}"),
            ("parallelism", lambda r: r.settings["parallelism"]), ("steps", lambda r: r.settings["steps"]),
            ("time (s)", lambda r: f"{r.duration_s:.2f}"),
            ("energy (J)", lambda r: f"{r.energy_j:.2f}" if r.energy_j is not None else "—"),
            ("energy source", lambda r: r.energy_source),
            ("mean power (W)", lambda r: f"{r.mean_power_w:.2f}" if r.mean_power_w else "—"),
            ("η (tokens/J)", lambda r: f"{r.eta_tokens_per_j:.4g}" if r.eta_tokens_per_j else "—"),
            ("η (FLOP/J)", lambda r: f"{r.eta_flop_per_j:.4g}" if r.eta_flop_per_j else "—"),
            ("peak temp. (°C)", lambda r: f"{r.peak_temp_c:.1f}" if r.peak_temp_c is not None else "—")]
    qkeys = list(dict.fromkeys(k for r in results for k in r.quality))
    head = "".join(f"<th>{html.escape(r.run_id)}</th>" for r in results)
    body = "".join(f"<tr><th>{html.escape(name)}</th>" + "".join(f"<td>{html.escape(str(fn(r)))}</td>" for r in results)
                   + "</tr>" for name, fn in keys)
    body += "".join(f"<tr><th>{html.escape(k)}</th>" + "".join(
        f"<td>{plots_fmt(r.quality.get(k))}</td>" for r in results) + "</tr>" for k in qkeys)
    return f'<div class="wb-table"><table><tr><th></th>{head}</tr>{body}</table></div>'


def plots_fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else ("—" if v is None else html.escape(str(v)))


def seed_claims_html() -> str:
    """The seed's energy claims (stated) beside their reference values, from seed_model."""
    from workbench.energy.seed_model import SEED_CLAIMS_ENERGY
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(c.id)}</td><td style='text-align:left'>{html.escape(c.what)}</td>"
        f"<td>{c.stated:.6g}</td><td>{c.reference:.6g}</td><td>{html.escape(c.unit)}</td><td>{c.ratio:.3g}</td>"
        f"<td style='text-align:left'>{_label(c.reference_label)}</td></tr>" for c in SEED_CLAIMS_ENERGY)
    return ('<div class="wb-table"><table><tr><th>claim</th><th style="text-align:left">what the seed says</th>'
            '<th>stated</th><th>reference</th><th>unit</th><th>stated / reference</th>'
            f'<th style="text-align:left">reference from</th></tr>{rows}</table></div>')


def _label(text: str) -> str:
    """A source label ('modelled:...') as a badge, anything else as text."""
    kind = text.split(":", 1)[0]
    return theme.badge(text) if kind in ("measured", "estimated", "modelled") else html.escape(text)


def measured_claims_html(quick: bool = True, progress=None) -> str:
    """Run workbench.claims.check_claims (slow: loads BERT, measures its variants) and show
    each claim beside what this machine measured, with the source of every figure."""
    from workbench import claims   # imported late: heavy
    rows, _variants = claims.check_claims(quick=quick, progress=progress)
    body = "".join(
        f"<tr><td style='text-align:left'><b>{html.escape(c.id)}</b></td><td style='text-align:left'>{html.escape(c.topic)}</td>"
        f"<td style='text-align:left'>{html.escape(c.claimed)}</td><td style='text-align:left'>{html.escape(c.measured)}</td>"
        f"<td style='text-align:left'>{' '.join(_label(x) for x in c.sources)}</td></tr>"
        for c in rows)
    return (seed_claims_html() + '<h2>Checked on this machine</h2><div class="wb-table"><table><tr><th>claim</th>'
            '<th style="text-align:left">topic</th><th style="text-align:left">the seed says</th>'
            '<th style="text-align:left">measured here</th><th style="text-align:left">sources</th></tr>'
            f'{body}</table></div>')
