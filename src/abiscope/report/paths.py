"""Layered paths rendered: text (one path, or the matrix) and JSON ``abiscope.paths/1``.

The report comes from :func:`abiscope.paths.check` (data only); SARIF and GitHub
annotations of its ABI015 findings are :mod:`abiscope.report.findings`'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..paths import SCHEMA_ID, BoundaryCheck, Cell, PathReport
from ..sameness import MemberDelta
from .findings import finding_json
from .units import count, shape_json, shape_words
from .width import SEPARATOR, blocks, fitted, text_width


def _delta_json(d: MemberDelta) -> dict[str, Any]:
    return {"member": d.member, "upper": shape_json(d.native), "lower": shape_json(d.compat),
            "cause": d.cause}


def report_to_json(report: PathReport) -> dict[str, Any]:
    spec = report.spec
    return {
        "schema": SCHEMA_ID,
        "layers": [{"name": layer.name, "targets": list(layer.targets)}
                   for layer in spec.layers],
        "translate": [list(b) for b in spec.boundaries if b in spec.translate],
        "designs": [{"label": d.label, "crossings": [
            {"boundary": list(c.boundary) if c.boundary else None, "upper": c.upper,
             "lower": c.lower} for c in d.crossings]} for d in spec.designs],
        "cells": [{
            "targets": dict(cell.targets), "design": cell.design,
            "must_translate": [list(b) for b in cell.must_translate()],
            "uncovered": [list(b) for b in cell.uncovered()],
            "boundaries": [{
                "upper": c.upper, "lower": c.lower, "upper_target": c.upper_target,
                "lower_target": c.lower_target, "upper_record": c.upper_record,
                "lower_record": c.lower_record, "mode": c.mode, "status": c.status,
                "reasons": [_delta_json(d) for d in c.deltas], "notes": list(c.notes)}
                for c in cell.checks]}
            for cell in report.cells],
        "findings": [finding_json(f) for f in report.findings],
    }


_STATUS_STYLE = {"identical": "green", "translated": "cyan", "mismatch": "bold red"}


def _status_text(c: BoundaryCheck) -> Text:
    word = {"identical": "identical", "translated": "differs, translated",
            "mismatch": "differs, passthrough: ABI015"}[c.status]
    return Text(word, style=_STATUS_STYLE[c.status])


def render_text(report: PathReport, console: Console) -> None:
    if report.matrix:
        _render_matrix(report, console)
    else:
        _render_path(report, console)
    console.print(count(len(report.findings), "ABI015 finding"))


def _render_path(report: PathReport, console: Console) -> None:
    (combo, *_) = {cell.targets for cell in report.cells}
    path = " -> ".join(f"{layer} ({t})" for layer, t in combo)
    table = Table(title=f"path: {path}", title_justify="left", header_style="bold",
                  show_lines=True)
    for col in ("boundary", "mode", "record", "bytes", "members that differ"):
        table.add_column(col)
    for cell in report.cells:
        for c in cell.checks:
            record = c.upper_record if c.upper_record == c.lower_record else \
                f"{c.upper_record} / {c.lower_record}"
            detail = "; ".join(
                f"{d.member or '(size)'}: {shape_words(d.native)} vs "
                f"{shape_words(d.compat)} ({d.cause})"
                for d in c.deltas) or "; ".join(c.notes)
            table.add_row(f"{c.upper} -> {c.lower}\n{c.upper_target} -> {c.lower_target}",
                          c.mode, record, _status_text(c), detail)
    console.print(table)
    for f in report.findings:
        console.print(Text(f"error ABI015 path-mismatch: {f.message}", style="red"),
                      highlight=False)


def _render_matrix(report: PathReport, console: Console) -> None:
    """A row per combination of layer targets, a column per design. On a terminal the
    design columns are split into blocks that fit its width (as ``layout`` splits target
    columns), each block repeating the layer columns; a verdict is never wrapped nor cut.
    A file or pipe gets one table."""
    spec = report.spec
    designs = [d.label for d in spec.designs]
    rows: dict[tuple[tuple[str, str], ...], dict[str, Cell]] = {}
    for cell in report.cells:
        rows.setdefault(cell.targets, {})[cell.design] = cell
    texts = {combo: [_matrix_cell(by_design[label]) for label in designs]
             for combo, by_design in rows.items()}
    title = "path matrix: which boundary must translate, and is a translator declared there"
    groups = [range(len(designs))]
    design_w: list[int] = []
    width = fitted(console)
    if width is not None and designs:
        layer_w = [max([text_width(layer.name), *(text_width(t) for c in rows
                                                  for n, t in c if n == layer.name)])
                   for layer in spec.layers]
        # (a design's name may wrap in its header; its verdicts never do)
        design_w = [max([min(text_width(label), 16), *(text_width(t[i].plain)
                                                        for t in texts.values())])
                    for i, label in enumerate(designs)]
        # (a table with edges spends 3 cells a column, padding and rule, and 1 closing it)
        room = width - 1 - sum(w + SEPARATOR for w in layer_w)
        if max(design_w) + SEPARATOR > room:  # not even one verdict beside the layers
            _render_matrix_stacked(report, title, designs, texts, console)
            return
        groups = blocks(design_w, room)
    for group in groups:
        part = "" if len(groups) == 1 else \
            f"  (designs {group.start + 1}-{group.stop} of {len(designs)})"
        table = Table(title=title + part, title_justify="left", header_style="bold",
                      show_lines=True)
        for layer in spec.layers:
            table.add_column(layer.name, no_wrap=width is not None)
        for i in group:
            table.add_column(designs[i], overflow="fold",
                             min_width=None if width is None else design_w[i])
        for combo, cells in texts.items():
            table.add_row(*(t for _, t in combo), *(cells[i] for i in group))
        console.print(table)
    translate = ", ".join(f"{u}:{lo}" for u, lo in spec.boundaries if (u, lo) in spec.translate)
    console.print(f"declared translators: {translate or 'none'}")


def _render_matrix_stacked(report: PathReport, title: str, designs: Sequence[str],
                           texts: dict[tuple[tuple[str, str], ...], list[Text]],
                           console: Console) -> None:
    """The matrix for a terminal too narrow for one verdict beside the layer columns: each
    combination of layer targets on a line, each design under it, its verdicts under that."""
    console.print(Text(title, style="italic"))
    for combo, cells in texts.items():
        console.print(Text(", ".join(f"{layer} {t}" for layer, t in combo), style="bold"))
        for label, text in zip(designs, cells, strict=True):
            console.print(Padding(label, (0, 0, 0, 2)))
            console.print(Padding(text, (0, 0, 0, 6)))
    translate = ", ".join(f"{u}:{lo}" for u, lo in report.spec.boundaries
                          if (u, lo) in report.spec.translate)
    console.print(f"declared translators: {translate or 'none'}")


def _matrix_cell(cell: Cell) -> Text:
    """Which boundaries of one (targets, design) must translate, and whether one is
    declared there."""
    text = Text()
    must = cell.must_translate()
    if not must:
        text.append("no translation", style="green")
    for i, b in enumerate(must):
        if i:
            text.append("\n")
        uncovered = b in cell.uncovered()
        text.append(f"{b[0]}:{b[1]} ", style="bold")
        text.append("ABI015: no translator" if uncovered else "translated",
                    style="bold red" if uncovered else "cyan")
    return text
