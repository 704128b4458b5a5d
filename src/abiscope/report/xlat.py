"""Xen ``xlat.lst`` verification rendered: text table and JSON ``abiscope.verify-list/1``.

The report comes from :func:`abiscope.xlatlist.verify` (data only). Writing a list is
:func:`abiscope.report.compat.render_xlat`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import dumps
from ..xlatlist import SCHEMA_ID, STATUSES, VerifyReport
from .compat import reason_json
from .units import shape_cell


def report_to_json(report: VerifyReport) -> dict[str, Any]:
    """The ``abiscope.verify-list/1`` document."""
    entries = []
    for r in report.entries:
        v = r.verdict
        entries.append({
            "name": r.entry.name, "listed": r.entry.listed, "header": r.entry.header,
            "line": r.entry.line, "status": r.status, "record": r.record,
            "verdict": v.verdict if v else None,
            "reasons": [reason_json(d) for d in (v.reasons if v else ())],
            "notes": list(r.notes), "duplicate_of": r.duplicate_of,
            "inside": [{"record": c.record, "member": c.member, "pointer": c.pointer,
                        "listed": c.listed} for c in r.inside]})
    return {
        "schema": SCHEMA_ID, "list": report.list_path, "native": report.native,
        "compat": report.compat, "strict": report.strict, "entries": entries,
        "missing": [{"record": m.record, "name": m.name, "verdict": m.verdict,
                     "reached_from": list(m.reached_from)} for m in report.missing],
        "summary": {**{s: report.count(s) for s in STATUSES}, "missing": len(report.missing)},
        "failures": report.failures()}


def render_json(report: VerifyReport) -> str:
    return dumps(report_to_json(report))


STYLE = {"agrees": "green", "differs": "bold red", "bytes_identical": "yellow",
         "not_found": "yellow"}


def render_text(report: VerifyReport, console: Console) -> None:
    """One row per entry, one sub-row per differing member or note; then missing records.
    On a terminal names and causes wrap to fit its width; statuses and numbers are whole."""
    from .width import columns, fitted

    table = Table(title=f"verify {report.list_path}: native {report.native}, compat "
                        f"{report.compat}", title_justify="left", header_style="bold",
                  show_edge=False)
    plain: list[list[str]] = []
    for r in report.entries:
        status = r.status if r.duplicate_of is None else f"{r.status}, duplicate"
        head_plain = [str(r.entry.line), "?", r.entry.name, status]
        subs = [[d.member or "(record)", shape_cell(d.native), shape_cell(d.compat), d.cause]
                for d in (r.verdict.reasons if r.status == "differs" and r.verdict else ())]
        plain += [[*head_plain, *s] for s in subs]
        plain += [[*head_plain, "", "", "", n] for n in r.notes] or [[*head_plain, "", "", "", ""]]
    columns(table, ("line", "listed", "name", "status", "member", report.native,
                    report.compat, "cause / note"), plain,
            (False, False, True, False, True, False, False, True), fitted(console),
            ("left",) * 5 + ("right", "right", "left"))
    for r in report.entries:
        head: list[str | Text] = [str(r.entry.line), "?" if r.entry.listed == "identical" else "!",
                r.entry.name, Text(r.status, style=STYLE[r.status]) if r.duplicate_of is None
                else Text(f"{r.status}, duplicate", style="bold red")]
        blank: list[str | Text] = ["", "", "", ""]
        rows: list[list[str | Text]] = []
        if r.status == "differs" and r.verdict is not None:
            rows += [[d.member or "(record)", shape_cell(d.native), shape_cell(d.compat), d.cause]
                     for d in r.verdict.reasons]
        rows += [["", "", "", Text(n, style="dim")] for n in r.notes]
        empty: list[list[str | Text]] = [["", "", "", ""]]
        for k, row in enumerate(rows or empty):
            table.add_row(*(head if k == 0 else blank), *row)
    console.print(table)
    if report.missing:
        console.print(f"crossing the boundary but missing from the list "
                      f"({len(report.missing)}):")
        for m in report.missing:
            mark = "?" if m.verdict == "identical" else "!"
            console.print(f"  {mark} {m.name}  ({m.record}, reached from "
                          f"{', '.join(m.reached_from)})")
    counts = ", ".join(f"{report.count(s)} {s}" for s in STATUSES)
    console.print(f"{len(report.entries)} entries: {counts}; {len(report.missing)} missing")
    fails = report.failures()
    if fails:
        console.print(Text(f"FAIL ({len(fails)}): " + "; ".join(fails), style="bold red"))
