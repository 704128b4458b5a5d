"""Function verdicts (``compat``) and function changes (``diff``) as JSON entries and as a
short text section after the records. Reads :mod:`abiscope.functions` results only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from ..functions import FunctionChange, FunctionVerdict
from ..model import Model, functype_to_json

_STYLE = {"breaking": "bold red", "compatible": "yellow", "informational": "cyan",
          "identical": "green", "translate": "bold yellow"}


def compat_json(verdicts: Sequence[FunctionVerdict], model: Model | None = None
                ) -> list[dict[str, Any]]:
    """The ``functions`` list of ``abiscope.compat/1``."""
    places = {f.name: f.location for f in model.functions} if model is not None else {}
    out = []
    for v in verdicts:
        entry: dict[str, Any] = {
            "name": v.name, "verdict": v.verdict,
            "reasons": [{"param": d.param,
                         "native": None if d.native is None else functype_to_json(d.native),
                         "compat": None if d.compat is None else functype_to_json(d.compat),
                         "cause": d.cause} for d in v.reasons],
            "notes": list(v.notes), "via": list(v.via),
            "symbols": {"native": v.symbols[0], "compat": v.symbols[1]},
            "renamed": v.renamed}
        loc = places.get(v.name)
        if loc is not None:
            entry.update(file=loc.file, line=loc.line)
        out.append(entry)
    return out


def render_compat_text(verdicts: Sequence[FunctionVerdict], console: Console) -> None:
    """One line per function that needs translation or is renamed, its reasons and notes
    under it, then the counts."""
    if not verdicts:
        return
    console.print()
    console.print(Text("functions", style="bold"))
    for v in verdicts:
        if v.verdict == "identical" and not v.renamed:
            continue
        line = Text(f"  {v.name}  ")
        line.append(v.verdict, style=_STYLE[v.verdict])
        if v.renamed:
            line.append(f"  renamed: {v.symbols[0]} / {v.symbols[1]}", style="cyan")
        console.print(line)
        for d in v.reasons:
            console.print(f"      {d.param or '(function)'}: {d.cause}", highlight=False)
        for n in v.notes:
            console.print(f"      {n}", highlight=False, style="dim")
    translate = sum(1 for v in verdicts if v.verdict == "translate")
    renamed = sum(1 for v in verdicts if v.renamed)
    console.print(f"{len(verdicts)} functions: {len(verdicts) - translate} identical, "
                  f"{translate} translate, {renamed} renamed", highlight=False)


def diff_json(changes: Sequence[FunctionChange]) -> list[dict[str, Any]]:
    """The ``functions`` list of ``abiscope.diff/1``."""
    out = []
    for c in changes:
        entry: dict[str, Any] = {
            "kind": c.kind, "classification": c.classification, "function": c.function,
            "param": c.param, "targets": list(c.targets), "reason": c.reason,
            "old": c.old, "new": c.new}
        if c.file:
            entry.update(file=c.file, line=c.line)
        out.append(entry)
    return out


def render_diff_text(changes: Sequence[FunctionChange], console: Console) -> None:
    """The function changes, grouped by function, after the records'."""
    if not changes:
        return
    console.print(Text("functions", style="bold"))
    current = None
    for c in changes:
        if c.function != current:
            current = c.function
            console.print(Text(f"  {c.function}", style="bold"))
        head = Text("    ")
        head.append(f"{c.classification:<13}", style=_STYLE[c.classification])
        head.append(f" {c.kind}", style="bold")
        if c.param:
            head.append(f" {c.param}")
        head.append(f"  [{', '.join(c.targets)}]", style="dim")
        console.print(head)
        if c.old or c.new:
            console.print(f"        {c.old or '-'} -> {c.new or '-'}", highlight=False)
        console.print(f"        {c.reason}", highlight=False, style="dim")
    counts = ", ".join(f"{sum(1 for c in changes if c.classification == k)} {k}"
                       for k in ("breaking", "compatible", "informational"))
    console.print(f"{len(changes)} function change{'s' if len(changes) != 1 else ''}: "
                  f"{counts}", highlight=False)
    console.print()
