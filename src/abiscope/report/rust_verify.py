"""``abiscope verify-rust`` results as text, JSON (``abiscope.verify-rust/1``) and SARIF
(the SARIF writer of ``check``, with one rule: RUST001)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..checks import Finding, Rule
from ..codegen.rust_verify import Difference, Verdict
from ..errors import ParseFailure
from ..model import dumps
from .findings import render_sarif

SCHEMA = "abiscope.verify-rust/1"


class RustMirrorRule(Rule):
    """A hand-written #[repr(C)] Rust item whose layout differs from its C record."""

    id: ClassVar[str] = "RUST001"
    name: ClassVar[str] = "rust-mirror-layout"
    severity: ClassVar[str] = "error"
    summary: ClassVar[str] = ("A #[repr(C)] Rust item's size, alignment or a field's offset "
                              "or size differs from its C record on a target")

    @classmethod
    def page(cls) -> str:
        return ("# RUST001 rust-mirror-layout\n\nrustc lays the item out differently from the "
                "C compiler's layout of the record it mirrors, on the targets listed: FFI "
                "through it reads or writes the wrong bytes. Fix the Rust item (field types, "
                "array lengths, padding, repr) or regenerate it with `abiscope gen rust`.\n")


def _grouped(diffs: Sequence[Difference]) -> list[tuple[Difference, list[str]]]:
    """Differences equal but for the target, with their targets (in order)."""
    out: dict[tuple[Any, ...], tuple[Difference, list[str]]] = {}
    for d in diffs:
        key = (d.item, d.record, d.field, d.what, d.rust, d.c)
        out.setdefault(key, (d, []))[1].append(d.target)
    return list(out.values())


def render_text(verdict: Verdict) -> str:
    lines = []
    for d, targets in _grouped(verdict.differences):
        lines.append(f"{d.location.file}:{d.location.line}: {d.message} "
                     f"[{', '.join(targets)}]")
    compared = len(verdict.items)
    bad = len({d.item for d in verdict.differences})
    lines.append(f"{compared} item(s) compared on {len(verdict.targets)} target(s) "
                 f"({', '.join(verdict.targets)}): "
                 + (f"{bad} differ from C" if bad else "all match C"))
    return "\n".join(lines) + "\n"


def render_json(verdict: Verdict) -> str:
    doc = {
        "schema": SCHEMA,
        "targets": list(verdict.targets),
        "items": [{"item": i.name, "record": rec, "kind": i.kind,
                   "file": i.location.file, "line": i.location.line,
                   "layouts": {t: {"size": s, "align": a}
                               for t, (s, a) in verdict.layouts.get(i.name, {}).items()}}
                  for i, rec in verdict.items],
        "differences": [{"item": d.item, "record": d.record, "field": d.field,
                         "what": d.what, "rust": d.rust, "c": d.c, "targets": targets,
                         "file": d.location.file, "line": d.location.line,
                         "message": d.message}
                        for d, targets in _grouped(verdict.differences)],
        "notes": list(verdict.notes),
    }
    return dumps(doc)


def render_sarif_verdict(verdict: Verdict, failures: Sequence[ParseFailure]) -> str:
    rule = RustMirrorRule
    findings = [Finding(rule=rule.id, name=rule.name, severity=rule.severity,
                        record=d.record, member=d.field, targets=tuple(targets),
                        message=d.message, cause=f"{d.item}:{d.what}",
                        fix="make the Rust item match the C layout, or regenerate it with "
                            "`abiscope gen rust`",
                        location=d.location)
                for d, targets in _grouped(verdict.differences)]
    return render_sarif(findings, [rule], failures)
