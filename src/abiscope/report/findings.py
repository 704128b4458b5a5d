"""Findings as text (grouped, coloured on a TTY), JSON, SARIF 2.1.0 and GitHub annotations.

Reads findings and the model only; decides nothing about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from .. import __version__
from ..checks import Finding, Rule
from ..errors import ParseFailure
from ..model import TreeSkew, dumps, skews_to_json

CHECK_SCHEMA = "abiscope.check/1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def summary_counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {sev: sum(1 for f in findings if f.severity == sev)
            for sev in ("error", "warning", "note")}


def render_text(findings: Sequence[Finding], console: Console, fix_preview: bool) -> None:
    """One block per finding, grouped by record (one heading each, in the order of each
    record's first finding); with ``fix_preview`` each record's rewrite once, under its
    first finding that has one."""
    current = None
    previewed: set[str] = set()
    # one heading per record: its findings together, records in order of their first one
    first: dict[str, int] = {}
    for i, f in enumerate(findings):
        first.setdefault(f.record, i)
    for f in sorted(findings, key=lambda f: first[f.record]):
        if f.record != current:
            if current is not None:
                console.print()
            current = f.record
            console.print(Text(f.record, style="bold"))
        loc = f.location
        head = Text(f"  {loc.file}:{loc.line}:{loc.col}: ")
        head.append(f"{f.severity} ", style=_STYLE[f.severity])
        head.append(f"{f.rule} {f.name}", style="bold")
        head.append(f"  [{', '.join(f.targets)}]", style="dim")
        console.print(head)
        console.print(f"    {f.message}", highlight=False)
        console.print(f"    cause: {f.cause}", highlight=False, style="dim")
        console.print(f"    fix: {f.fix}", highlight=False)
        if fix_preview and f.fix_preview and f.record in previewed:
            console.print("    (fix preview: above, one rewrite for the record)",
                          highlight=False, style="dim")
        elif fix_preview and f.fix_preview:
            previewed.add(f.record)
            console.print(Text("".join(f"      {line}\n" for line in
                                       f.fix_preview.rstrip().splitlines())), style="green")
    counts = summary_counts(findings)
    if findings:
        console.print()
    if fix_preview and not previewed:
        console.print("--fix-preview: nothing to preview (no finding here has a rewrite: "
                      "previews are written for ABI001/ABI002 padding findings)",
                      highlight=False)
    console.print(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: "
                  f"{counts['error']} error(s), {counts['warning']} warning(s), "
                  f"{counts['note']} note(s)")


def finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule, "name": f.name, "severity": f.severity, "record": f.record,
        "member": f.member, "targets": list(f.targets), "message": f.message,
        "cause": f.cause, "fix": f.fix, "file": f.location.file, "line": f.location.line,
        "col": f.location.col, "fingerprint": f.fingerprint,
        "fingerprints": f.fingerprints,
        "evidence": [{"target": e.target, "offset_bits": e.offset_bits,
                      "size_bits": e.size_bits, "detail": e.detail} for e in f.evidence],
    }
    if f.fix_preview:
        out["fix_preview"] = f.fix_preview
    return out


def _failures_json(failures: Sequence[ParseFailure]) -> list[dict[str, Any]]:
    return [{"header": x.header, "target": x.target, "message": x.summary()} for x in failures]


def render_json(findings: Sequence[Finding], targets: Sequence[str],
                failures: Sequence[ParseFailure], skews: Sequence[TreeSkew] = ()) -> str:
    doc = {"schema": CHECK_SCHEMA, "targets": list(targets),
           "findings": [finding_json(f) for f in findings],
           "failures": _failures_json(failures), "summary": summary_counts(findings)}
    if skews:  # (absent when every target reads one version: additive)
        doc["version_skew"] = skews_to_json(skews)
    return dumps(doc)


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    page = rule.page()
    return {
        "id": rule.id, "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "help": {"text": page, "markdown": page},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {"tags": ["abi"]},
    }


def render_sarif(findings: Sequence[Finding], rules: Sequence[type[Rule]],
                 failures: Sequence[ParseFailure], skews: Sequence[TreeSkew] = ()) -> str:
    """SARIF 2.1.0: rule metadata with help, physical locations, stable fingerprints."""
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        results.append({
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.record}: {f.message} Fix: {f.fix}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.location.file},
                "region": {"startLine": max(f.location.line, 1),
                           "startColumn": max(f.location.col, 1)}}}],
            "partialFingerprints": f.fingerprints,
            "properties": {"record": f.record, "member": f.member,
                           "targets": list(f.targets), "cause": f.cause},
        })
    notifications = [{
        "level": "warning",
        "message": {"text": f"{x.header} does not parse for {x.target}: {x.summary()}"},
    } for x in failures]
    notifications += [{  # header trees read in different versions
        "level": "warning", "message": {"text": s.message},
        "descriptor": {"id": "abiscope/version-skew"},
        "properties": {"tree": s.tree, "fix": s.fix,
                       "versions": {t: {"version": v.version, "file": v.file}
                                    for t, v in s.versions}},
    } for s in skews]
    doc = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "abiscope", "version": __version__,
                "rules": [_rule_descriptor(r) for r in rules],
            }},
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }
    return dumps(doc)


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render_github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: one annotation line per finding."""
    level = {"error": "error", "warning": "warning", "note": "notice"}
    lines = []
    for f in findings:
        loc = f.location
        props = (f"file={_escape(loc.file, True)},line={loc.line},col={loc.col},"
                 f"title={_escape(f'{f.rule} {f.name}', True)}")
        lines.append(f"::{level[f.severity]} {props}::"
                     + _escape(f"{f.record}: {f.message} Fix: {f.fix}"))
    return "".join(line + "\n" for line in lines)
