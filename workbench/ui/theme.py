"""Look of the app: projector-sized fonts, source-label colours, one <style> block.

Every figure and readout carries its source kind (MEASURED / ESTIMATED / MODELLED) as text,
not an icon: the page is served offline and Font Awesome may be missing.
"""
from __future__ import annotations

import html

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#777777")
KIND_COLOURS = {"MEASURED": "#007a55", "ESTIMATED": "#b35c00", "MODELLED": "#6a3d9a"}

# Figure text in points; the PNGs are rendered at DPI and shown at their width.
FONT_PT = 15
DPI = 80

MPL_RC = {
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT + 2,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_PT + 1,
    "xtick.labelsize": FONT_PT - 1,
    "ytick.labelsize": FONT_PT - 1,
    "legend.fontsize": FONT_PT - 2,
    "lines.linewidth": 2.6,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

CSS = """
<style>
.wb-app { font-size: 18px; max-width: 1500px; }
.wb-app .widget-label, .wb-app .widget-readout, .wb-app .widget-dropdown select,
.wb-app .widget-text input, .wb-app .widget-checkbox, .wb-app .widget-select select,
.wb-app .widget-select-multiple select, .wb-app .widget-html-content, .wb-app textarea
  { font-size: 18px !important; }
.wb-app .widget-label { min-width: 9.5em; }
.wb-app .widget-checkbox label, .wb-app .widget-checkbox .widget-label-basic { font-size: 18px !important; }
.wb-app .jupyter-widgets.widget-tab > .p-TabBar .p-TabBar-tab,
.wb-app .jupyter-widgets.widget-tab > .lm-TabBar .lm-TabBar-tab
  { font-size: 19px; min-width: 14em; padding: 6px 14px; height: auto; line-height: 1.6; }
.wb-app .widget-button, .wb-app .jupyter-button { font-size: 19px; height: 44px; min-width: 7em; }
.wb-app .wb-run { background: #0072B2; color: white; font-weight: bold; }
.wb-app .wb-stop { background: #D55E00; color: white; font-weight: bold; }
.wb-app h1 { font-size: 30px; margin: 4px 0 2px 0; }
.wb-app h2 { font-size: 23px; margin: 10px 0 6px 0; }
.wb-sub { color: #444; font-size: 17px; }
.wb-status { font-size: 19px; padding: 6px 10px; background: #f3f6f9; border-left: 6px solid #0072B2; }
.wb-error { color: #b00020; font-weight: bold; font-size: 19px; }
.wb-ok { color: #007a55; font-weight: bold; font-size: 19px; }
.wb-badge { display: inline-block; white-space: nowrap; padding: 1px 8px; border-radius: 4px; color: white;
            font-weight: bold; font-size: 15px; letter-spacing: 0.04em; }
.wb-table table { border-collapse: collapse; font-size: 16px; }
.wb-table th { background: #e9eef3; padding: 4px 8px; text-align: right; position: sticky; top: 0; }
.wb-table td { padding: 3px 8px; text-align: right; border-bottom: 1px solid #ddd; }
.wb-table.wb-nowrap td, .wb-table.wb-nowrap th { white-space: nowrap; }
.wb-table tr:nth-child(even) td { background: #fafbfc; }
.wb-scroll { max-height: 420px; overflow: auto; max-width: 100%; }
.wb-app .wb-download { margin-left: 18px; }
.wb-list li { margin: 4px 0; }
.wb-formula { font-family: "DejaVu Sans Mono", monospace; font-size: 18px; background: #f6f6f6;
              padding: 6px 10px; }
</style>
"""


def kind_of(source: str | None) -> str:
    """'estimated:cpu-time' -> 'ESTIMATED'; '' or None -> 'UNKNOWN'."""
    return source.split(":", 1)[0].upper() if source else "UNKNOWN"


def badge(source: str | None) -> str:
    """HTML badge with the source kind and its detail name, e.g. ESTIMATED · cpu-time."""
    kind = kind_of(source)
    name = source.split(":", 1)[1] if source and ":" in source else ""
    name = name.strip()
    colour = KIND_COLOURS.get(kind, GREY)
    text = f"{kind} · {name}" if name else kind
    return f'<span class="wb-badge" style="background:{colour}">{html.escape(text)}</span>'


def status_html(text: str, kind: str = "status") -> str:
    """One line in the status / error / ok style."""
    return f'<div class="wb-{kind}">{html.escape(text)}</div>'
