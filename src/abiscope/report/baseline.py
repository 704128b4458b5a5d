"""Findings against a baseline (``check --baseline``): SARIF ``baselineState``, the JSON
fields, and text and GitHub output that show new findings first and count the rest.

Reads findings and a :class:`~abiscope.baseline.Comparison`; decides nothing about them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from ..baseline import ABSENT, NEW, UNCHANGED, BaselineResult, Comparison
from ..checks import Finding, Rule
from ..model import dumps
from .findings import render_github as github_findings
from .findings import render_text as render_text_plain


def _split(findings: Sequence[Finding], comparison: Comparison
           ) -> tuple[list[Finding], list[Finding]]:
    new = [f for f, s in zip(findings, comparison.states, strict=True) if s == NEW]
    return new, [f for f, s in zip(findings, comparison.states, strict=True) if s == UNCHANGED]


def summary_line(comparison: Comparison, path: str, show_unchanged: bool) -> str:
    """``baseline B: 2 new, 40 unchanged (not shown: --show-unchanged), 1 absent``."""
    unchanged = comparison.count(UNCHANGED)
    hidden = " (not shown: --show-unchanged lists them)" if unchanged and not show_unchanged \
        else ""
    return (f"baseline {path}: {comparison.count(NEW)} new, {unchanged} unchanged{hidden}, "
            f"{comparison.count(ABSENT)} absent (in the baseline, not found now)")


def _absent_text(b: BaselineResult) -> str:
    member = f" `{b.member}`" if b.member else ""
    return f"  {b.rule} {b.record}{member}"


def render_text(findings: Sequence[Finding], comparison: Comparison, path: str,
                console: Console, fix_preview: bool, show_unchanged: bool) -> None:
    """The new findings (as ``check`` prints findings), then with ``show_unchanged`` the
    unchanged ones and the absent ones, then one line of counts."""
    new, unchanged = _split(findings, comparison)
    console.print("new findings (not in the baseline):", style="bold", highlight=False)
    render_text_plain(new, console, fix_preview)
    if show_unchanged and unchanged:
        console.print()
        console.print("unchanged findings (in the baseline):", style="bold", highlight=False)
        render_text_plain(unchanged, console, fix_preview)
    if show_unchanged and comparison.absent:
        console.print()
        console.print("absent (in the baseline, not found now):", style="bold",
                      highlight=False)
        for b in comparison.absent:
            console.print(_absent_text(b), highlight=False)
    console.print(summary_line(comparison, path, show_unchanged), highlight=False)


def render_github(findings: Sequence[Finding], comparison: Comparison, path: str,
                  show_unchanged: bool) -> str:
    """One annotation per new finding (then per unchanged one with ``show_unchanged``),
    and a notice with the counts."""
    new, unchanged = _split(findings, comparison)
    shown = new + unchanged if show_unchanged else new
    return github_findings(shown) + \
        f"::notice title=abiscope baseline::{summary_line(comparison, path, show_unchanged)}\n"


def sarif(text: str, findings: Sequence[Finding], comparison: Comparison,
          rules: Sequence[type[Rule]]) -> str:
    """``render_sarif``'s log with each result's ``baselineState``, and the baseline's
    absent results appended (``baselineState: absent``, as the baseline wrote them)."""
    doc = json.loads(text)
    run = doc["runs"][0]
    results = run["results"]
    for res, state in zip(results, comparison.states, strict=True):
        res["baselineState"] = state
    index = {r.id: i for i, r in enumerate(rules)}
    for b in comparison.absent:
        res = dict(b.sarif)
        res.pop("ruleIndex", None)
        if b.rule in index:
            res["ruleIndex"] = index[b.rule]
        res["baselineState"] = ABSENT
        results.append(res)
    return dumps(doc)


def json_doc(text: str, comparison: Comparison, path: str) -> str:
    """``render_json``'s document with each finding's ``baseline_state`` and a
    ``baseline`` object: the file, the counts, the absent findings."""
    doc = json.loads(text)
    for f, state in zip(doc["findings"], comparison.states, strict=True):
        f["baseline_state"] = state
    doc["baseline"] = {
        "file": path,
        "new": comparison.count(NEW), "unchanged": comparison.count(UNCHANGED),
        "absent": comparison.count(ABSENT),
        "absent_findings": [_absent_json(b) for b in comparison.absent],
    }
    return dumps(doc)


def _absent_json(b: BaselineResult) -> dict[str, Any]:
    loc = b.sarif.get("locations") or [{}]
    phys = loc[0].get("physicalLocation", {}) if isinstance(loc[0], dict) else {}
    region = phys.get("region", {})
    message = b.sarif.get("message", {})
    return {"rule": b.rule, "record": b.record, "member": b.member,
            "message": message.get("text", "") if isinstance(message, dict) else "",
            "file": phys.get("artifactLocation", {}).get("uri", ""),
            "line": region.get("startLine", 0), "col": region.get("startColumn", 0),
            "fingerprints": {k: v for k, v in (("abiscopeFinding/v1", b.v1),
                                               ("abiscopeFinding/v2", b.v2)) if v}}
