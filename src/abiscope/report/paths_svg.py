"""Layered paths drawn for the HTML report: one SVG per cell (a combination of layer targets
for one design), the layers as boxes top to bottom, each boundary as an arrow labelled with
what crosses it and whether the bytes arrive intact.

Colours: green ``identical`` (the same bytes on both sides), blue ``translated`` (layouts
differ and a translator is declared there), red ``mismatch`` (ABI015: passed through
unchanged between different layouts).
"""

from __future__ import annotations

from html import escape

from ..paths import BoundaryCheck, Cell, PathReport
from .html import Section

BOX_W, BOX_H, GAP, PAD = 220, 38, 64, 8
STATUS_COLOUR = {"identical": "#2e7d32", "translated": "#1565c0", "mismatch": "#c62828"}


def _arrow_label(check: BoundaryCheck) -> str:
    what = check.upper_record if check.upper_record == check.lower_record else \
        f"{check.upper_record} / {check.lower_record}"
    words = {"identical": "same bytes", "translated": "translated",
             "mismatch": "ABI015: passed through, layouts differ"}[check.status]
    return f"{what}: {check.mode}, {words}"


def cell_svg(cell: Cell) -> str:
    """The boxes and arrows of one cell."""
    layers = cell.targets
    height = len(layers) * BOX_H + (len(layers) - 1) * GAP + 2 * PAD
    width = BOX_W + 460
    by_boundary: dict[tuple[str, str], list[BoundaryCheck]] = {}
    for c in cell.checks:
        by_boundary.setdefault((c.upper, c.lower), []).append(c)
    parts = [f'<svg class="path" width="{width}" height="{height}" role="img" '
             f'aria-label="path {escape(cell.design)}" xmlns="http://www.w3.org/2000/svg">']
    for i, (layer, target) in enumerate(layers):
        y = PAD + i * (BOX_H + GAP)
        parts.append(f'<rect x="{PAD}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
                     'fill="#f5f5f5" stroke="#555"/>')
        parts.append(f'<text x="{PAD + 12}" y="{y + 24}" font-size="13">'
                     f'<tspan font-weight="bold">{escape(layer)}</tspan> '
                     f'({escape(target)})</text>')
        if i + 1 == len(layers):
            continue
        checks = by_boundary.get((layer, layers[i + 1][0]), [])
        worst = max((c.status for c in checks), default="identical",
                    key=("identical", "translated", "mismatch").index)
        colour = STATUS_COLOUR[worst]
        x = PAD + BOX_W // 2
        y0, y1 = y + BOX_H, y + BOX_H + GAP
        dash = ' stroke-dasharray="5 3"' if worst == "translated" else ""
        parts.append(f'<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1 - 6}" stroke="{colour}" '
                     f'stroke-width="{3 if worst == "mismatch" else 2}"{dash}/>')
        parts.append(f'<path d="M{x - 5} {y1 - 8} L{x} {y1} L{x + 5} {y1 - 8} Z" '
                     f'fill="{colour}"/>')
        for k, c in enumerate(checks):
            parts.append(f'<text class="{c.status}" x="{x + 14}" '
                         f'y="{y0 + 18 + 15 * k}" font-size="12" '
                         f'fill="{STATUS_COLOUR[c.status]}">{escape(_arrow_label(c))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def paths_section(report: PathReport) -> Section:
    """The report's "Layered paths" section: every cell drawn, uncovered boundaries first."""
    cells = sorted(report.cells, key=lambda c: (not c.uncovered(), c.design, c.targets))
    body = [f"<p>{len(report.cells)} path(s); {len(report.findings)} ABI015 finding(s). "
            '<span style="color:#2e7d32">green</span>: same bytes, '
            '<span style="color:#1565c0">blue (dashed)</span>: translated by a declared '
            'translator, <span style="color:#c62828">red</span>: passed through between '
            "different layouts (ABI015).</p>"]
    for cell in cells:
        label = " → ".join(f"{layer}={target}" for layer, target in cell.targets)
        body.append(f'<figure class="pathcell"><figcaption><b>{escape(cell.design)}</b>: '
                    f"{escape(label)}</figcaption>{cell_svg(cell)}</figure>")
    return Section("paths", "Layered paths: who must translate", "".join(body))
