"""ioctl audits rendered: text table and JSON ``abiscope.ioctls/1``.

The report comes from :func:`abiscope.ioctls.audit` (data only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..ioctls import CLASSES, SCHEMA_ID, IoctlEntry, IoctlReport
from .naming import human_names
from .units import shape_json
from .width import columns, fitted, natural_width, output_console

STYLE = {"number_differs": "bold red", "layout_differs": "red", "pointer": "yellow",
         "same": "green"}


def report_to_json(report: IoctlReport) -> dict[str, Any]:
    """The ``abiscope.ioctls/1`` document."""
    return {
        "schema": SCHEMA_ID, "native": report.native, "compat": report.compat,
        "counts": report.counts(),
        "ioctls": [
            _entry_json(e) for e in report.ioctls],
        "skipped": [{"macro": s.macro, "header": s.header, "line": s.line, "reason": s.reason}
                    for s in report.skipped],
    }


def _entry_json(e: IoctlEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "macro": e.macro, "header": e.header, "line": e.line,
        "native_number": e.native_number, "compat_number": e.compat_number,
        "arg_type": e.arg_type, "class": e.klass, "flags": list(e.flags),
        "reasons": [{"flag": r.flag, "message": r.message, "member": r.member,
                     "native": shape_json(r.native), "compat": shape_json(r.compat)}
                    for r in e.reasons]}
    if e.notes:
        out["notes"] = list(e.notes)
    if e.alias_of is not None:
        out["alias_of"] = e.alias_of  # (only on an alias: absent on the others)
    return out


def render_text(report: IoctlReport, only: Sequence[str], output: str | None,
                dirs: Sequence[str] = ()) -> None:
    """A table of the requests; on a terminal too narrow for it, each request on a line of
    its own with its numbers and cause under it (wrapped, never cut)."""
    headers = ("request", "where", report.native, report.compat, "argument", "class", "why")
    rows: list[tuple[str, ...]] = []
    for e in report.ioctls:
        if only and e.klass not in only:
            continue
        why = "; ".join(r.message for r in e.reasons[:3])
        if len(e.reasons) > 3:
            why += f"; … {len(e.reasons) - 3} more"
        if e.notes:  # (the layout comparison's: a zero-size member on one side, ...)
            why = "; ".join(filter(None, (why, *(f"note: {n}" for n in e.notes))))
        name = e.macro if e.alias_of is None else f"{e.macro} (= {e.alias_of})"
        rows.append((name, f"{e.header}:{e.line}", f"{e.native_number:#x}",
                     f"{e.compat_number:#x}", human_names(e.arg_type or "", dirs), e.klass,
                     human_names(why, dirs)))
    counts = report.counts()
    summary = ", ".join(f"{counts[c]} {c}" for c in CLASSES)
    with output_console(output) as console:
        width = fitted(console)
        if width is not None and natural_width(headers, rows) > width:
            for name, where, native, compat, arg, klass, why in rows:
                line = Text(f"{name}  {where}  ")
                line.append(klass, style=STYLE[klass])
                console.print(line)
                detail = f"{report.native} {native}, {report.compat} {compat}"
                detail += f", argument {arg}" if arg else ""
                detail += f"\n{why}" if why else ""
                console.print(Padding(Text(detail), (0, 0, 0, 4)))
        else:
            table = Table(header_style="bold", show_edge=False)
            columns(table, headers, rows, (True, True, False, False, True, False, True),
                    width)
            for row in rows:
                table.add_row(*row[:5], Text(row[5], style=STYLE[row[5]]), row[6])
            console.print(table)
        console.print(f"{len(report.ioctls)} requests on {report.native} vs "
                      f"{report.compat}: {summary}; {len(report.skipped)} skipped")
        for s in report.skipped:
            console.print(f"skipped {s.macro} ({s.header}:{s.line}): {s.reason}",
                          markup=False, highlight=False)
