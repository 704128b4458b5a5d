"""Compat verdicts rendered: text table, JSON ``abiscope.compat/1``, Xen ``xlat.lst`` style.

The verdicts come from :func:`abiscope.compat.compare` (data only); the list names and
paths from ``compat.xlat_name`` / ``compat.xlat_file``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..compat import SCHEMA_ID, CompatReport, xlat_file, xlat_name
from ..model import Model, dumps
from ..sameness import MemberDelta, handle_wrapper
from .units import shape_cell, shape_json


def reason_json(d: MemberDelta) -> dict[str, Any]:
    """One member that differs, as ``abiscope.compat/1`` and ``verify-list/1`` write it."""
    return {"member": d.member, "native": shape_json(d.native),
            "compat": shape_json(d.compat), "cause": d.cause}


def report_to_json(report: CompatReport, model: Model | None = None) -> dict[str, Any]:
    """The ``abiscope.compat/1`` document."""
    files = {r.name: r.location for r in model.records} if model is not None else {}
    records = []
    for v in report.records:
        entry: dict[str, Any] = {
            "name": v.name, "verdict": v.verdict,
            "reasons": [reason_json(d) for d in v.reasons],
            "notes": list(v.notes), "via": list(v.via)}
        loc = files.get(v.name)
        if loc is not None:
            entry.update(file=loc.file, line=loc.line)
        records.append(entry)
    doc: dict[str, Any] = {"schema": SCHEMA_ID, "native": report.native,
                           "compat": report.compat, "records": records}
    if model is not None:
        doc["failures"] = [{"header": f.header, "target": f.target, "message": f.summary()}
                           for f in sorted(model.failures, key=lambda f: (f.header, f.target))]
    if report.functions:  # (absent when the inputs declare none: additive)
        from .functions import compat_json
        doc["functions"] = compat_json(report.functions, model)
    return doc


def render_json(report: CompatReport, model: Model | None = None) -> str:
    return dumps(report_to_json(report, model))


def render_xlat(report: CompatReport, model: Model, roots: Sequence[str],
                xlat_root: str | None = None) -> str:
    """Xen ``xlat.lst`` style: ``? NAME FILE`` identical, ``! NAME FILE`` translate,
    grouped by file and sorted within it, as Xen's own list is. Guest-handle wrappers
    (``__guest_handle_*``, :func:`abiscope.sameness.handle_wrapper`) are left out: Xen's
    list never names them (its machinery converts handles itself)."""
    by_name = {r.name: r for r in model.records}
    lines = []
    for v in report.records:
        rec = by_name.get(v.name)
        if rec is not None and handle_wrapper(rec):
            continue
        mark = "?" if v.verdict == "identical" else "!"
        lines.append((xlat_file(rec.location.file if rec else "", roots, report.native,
                                report.compat, xlat_root), xlat_name(v.name), mark))
    head = (f"# abiscope compat --native {report.native} --compat {report.compat}\n"
            "# ? identical layout (checked), ! needs translation\n")
    width = max((len(n) for _, n, _ in lines), default=0)
    return head + "".join(f"{mark}\t{name.ljust(width)}\t{file}\n"
                          for file, name, mark in sorted(lines))


def render_text(report: CompatReport, console: Console, dirs: Sequence[str] = ()) -> None:
    """A table of verdicts: one row per record, one sub-row per reason. On a terminal the
    causes and names wrap to fit its width; a verdict or a number is never cut. Anonymous
    types are named as C readers know them (``report.naming``, paths relative to ``dirs``)."""
    from .naming import human_names
    from .width import columns, fitted, natural_width

    rows: list[tuple[str, str, str, str, str, str, bool]] = []  # (..., cause is a note)
    for v in report.records:
        first = True
        for d in v.reasons:
            rows.append((human_names(v.name, dirs) if first else "",
                         v.verdict if first else "", d.member or "(record)", shape_cell(d.native),
                         shape_cell(d.compat), human_names(d.cause, dirs), False))
            first = False
        for n in v.notes:
            rows.append((human_names(v.name, dirs) if first else "",
                         v.verdict if first else "", "", "", "", human_names(n, dirs), True))
            first = False
        if first:
            rows.append((human_names(v.name, dirs), v.verdict, "", "", "", "", False))
    title = f"compat verdicts: native {report.native}, compat {report.compat}"
    headers = ("record", "verdict", "member", report.native, report.compat, "cause / note")
    wraps = (True, False, True, False, False, True)
    justify = ("left", "left", "left", "right", "right", "left")
    width = fitted(console)
    if width is not None and natural_width(headers, [r[:6] for r in rows]) > width:
        _render_stacked(report, title, rows, console, width)
    else:
        table = Table(title=title, title_justify="left", header_style="bold",
                      show_edge=False)
        columns(table, headers, [r[:6] for r in rows], wraps, width, justify)
        for name, verdict, member, native, compat, cause, note in rows:
            table.add_row(name, Text(verdict, style=_verdict_style(verdict)), member,
                          native, compat, Text(cause, style="dim") if note else cause)
        console.print(table)
    _render_count(report, console)
    from .functions import render_compat_text
    render_compat_text(report.functions, console)


def _verdict_style(verdict: str) -> str:
    return "green" if verdict == "identical" else "bold yellow"


def _render_stacked(report: CompatReport, title: str,
                    rows: Sequence[tuple[str, str, str, str, str, str, bool]],
                    console: Console, width: int) -> None:
    """The verdicts for a terminal too narrow for one table: each record on a line of its
    own with its verdict, its reasons and notes in a table under it (causes wrapped)."""
    from rich.padding import Padding

    from .width import columns

    console.print(Text(title, style="italic"))
    headers = ("member", report.native, report.compat, "cause / note")
    groups: list[tuple[str, str, list[tuple[str, str, str, str, bool]]]] = []
    for name, verdict, member, native, compat, cause, note in rows:
        if name:
            groups.append((name, verdict, []))
        if member or cause:
            groups[-1][2].append((member, native, compat, cause, note))
    for name, verdict, sub in groups:
        line = Text(name + "  ")
        line.append(verdict, style=_verdict_style(verdict))
        console.print(line)
        if sub:
            table = Table(show_edge=False, pad_edge=False, header_style="bold")
            columns(table, headers, [r[:4] for r in sub], (True, False, False, True),
                    width - 4, ("left", "right", "right", "left"))
            for member, native, compat, cause, note in sub:
                table.add_row(member, native, compat,
                              Text(cause, style="dim") if note else cause)
            console.print(Padding(table, (0, 0, 0, 4)))


def _render_count(report: CompatReport, console: Console) -> None:
    count = len(report.translate())
    console.print(f"{len(report.records)} records: {len(report.records) - count} identical, "
                  f"{count} translate")
