"""Diff results as text (grouped by record, coloured on a TTY), JSON ``abiscope.diff/1`` and
SARIF 2.1.0. Reads a DiffResult only; decides nothing about it."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from .. import __version__
from ..diff import CLASSES, KINDS, Change, DiffResult
from ..errors import ParseFailure
from ..model import dumps
from .functions import diff_json as functions_json
from .functions import render_diff_text as render_functions_text

DIFF_SCHEMA = "abiscope.diff/1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_STYLE = {"breaking": "bold red", "compatible": "yellow", "informational": "cyan"}
_LEVEL = {"breaking": "error", "compatible": "warning", "informational": "note"}
_NOT_COMPARED_SHOWN = 20  # text output: the first headers not compared, then a count


def _values_text(c: Change) -> str:
    parts = []
    for v in c.values:
        if not v.old and not v.new:
            continue
        arrow = f"{v.old or '-'} -> {v.new or '-'}"
        parts.append(arrow if len(c.values) == 1 else f"{','.join(v.targets)}: {arrow}")
    return "; ".join(parts)


def render_text(result: DiffResult, console: Console) -> None:
    current = None
    for c in result.changes:
        if c.record != current:
            if current is not None:
                console.print()
            current = c.record
            console.print(Text(c.record, style="bold"))
        head = Text("  ")
        head.append(f"{c.classification:<13}", style=_STYLE[c.classification])
        head.append(f" {c.kind}", style="bold")
        if c.member:
            head.append(f" {c.member}")
        head.append(f"  [{', '.join(c.targets)}]", style="dim")
        console.print(head)
        values = _values_text(c)
        if values:
            console.print(f"      {values}", highlight=False)
        console.print(f"      {c.reason}", highlight=False, style="dim")
        if c.note:
            console.print(f"      note: {c.note}", highlight=False)
    if result.changes:
        console.print()
    render_functions_text(result.functions, console)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    shown = result.not_compared[:_NOT_COMPARED_SHOWN]
    for nc in shown:
        what = f", {nc.skipped} declaration(s) not compared" if nc.skipped else ""
        sides = "both sides" if len(nc.failed_on) > 1 else f"the {nc.failed_on[0]} side"
        console.print(f"not compared: {nc.header} (does not parse on {sides} for "
                      f"{', '.join(nc.targets)}{what})", highlight=False)
    if len(result.not_compared) > len(shown):
        console.print(f"not compared: {len(result.not_compared) - len(shown)} more headers "
                      "(--format json lists them all)", highlight=False)
    n = len(result.changes)
    console.print(f"{n} change{'s' if n != 1 else ''} on {', '.join(result.targets)}: "
                  + ", ".join(f"{result.count(k)} {k}" for k in CLASSES))


def change_json(c: Change) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": c.kind, "classification": c.classification, "record": c.record,
        "member": c.member, "targets": list(c.targets), "reason": c.reason,
        "values": [{"targets": list(v.targets), "old": v.old, "new": v.new}
                   for v in c.values],
        "fingerprint": c.fingerprint,
    }
    if c.note:
        out["note"] = c.note
    if c.location is not None:
        out.update(file=c.location.file, line=c.location.line, col=c.location.col)
    return out


def _failures(failures: tuple[ParseFailure, ...]) -> list[dict[str, Any]]:
    return [{"header": f.header, "target": f.target, "message": f.summary()}
            for f in failures]


def render_json(result: DiffResult, old_failures: tuple[ParseFailure, ...] = (),
                new_failures: tuple[ParseFailure, ...] = ()) -> str:
    doc = {
        "schema": DIFF_SCHEMA, "targets": list(result.targets),
        "old": {"inputs": list(result.old_inputs), "failures": _failures(old_failures)},
        "new": {"inputs": list(result.new_inputs), "failures": _failures(new_failures)},
        "changes": [change_json(c) for c in result.changes],
        "notes": list(result.notes),
        "not_compared": [{"header": n.header, "targets": list(n.targets),
                          "failed_on": list(n.failed_on), "skipped": n.skipped}
                         for n in result.not_compared],
        "summary": {k: result.count(k) for k in CLASSES},
    }
    if result.functions:  # (absent when no function changed: additive)
        doc["functions"] = functions_json(result.functions)
    return dumps(doc)


def render_sarif(result: DiffResult) -> str:
    """SARIF 2.1.0: one rule per change kind, the classification as the level."""
    kinds = list(KINDS)
    results = []
    for c in result.changes:
        where = f" {c.member}" if c.member else ""
        values = _values_text(c)
        text = f"{c.classification}: {c.record}{where}: {KINDS[c.kind]}" \
               + (f" ({values})" if values else "") + f". {c.reason}." \
               + (f" Note: {c.note}." if c.note else "")
        item: dict[str, Any] = {
            "ruleId": c.kind, "ruleIndex": kinds.index(c.kind),
            "level": _LEVEL[c.classification], "message": {"text": text},
            "partialFingerprints": {"abiscopeChange/v1": c.fingerprint},
            "properties": {"classification": c.classification, "record": c.record,
                           "member": c.member, "targets": list(c.targets)},
        }
        if c.location is not None:
            item["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": c.location.file},
                "region": {"startLine": max(c.location.line, 1),
                           "startColumn": max(c.location.col, 1)}}}]
        results.append(item)
    doc = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "abiscope", "version": __version__,
                "rules": [{"id": k, "name": k, "shortDescription": {"text": d},
                           "properties": {"tags": ["abi", "abi-diff"]}}
                          for k, d in KINDS.items()],
            }},
            "results": results,
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
                {"level": "note", "message": {"text": n}} for n in result.notes]}],
        }],
    }
    return dumps(doc)
