"""Compat verdicts: does one definition of a record serve a native and a compat target?

``compare(model, "x86_64", "i386")`` classifies every record ``identical`` (same size, and
every member, at every depth including inside unions, at the same offset with the same size;
members paired by name) or ``translate`` (the bytes differ, or it contains or points to a
record that does). The rules are ARCHITECTURE.md's "Compat JSON" section:

- a nested record declared differently on the two targets (its member names differ: Xen's
  64-bit guest handle is a union of a pointer and a ``uint64_aligned_t`` on x86_32 and a
  struct of one pointer on x86_64) is compared as a whole: same offset, size and alignment
  is ``identical``, with a note naming both definitions;
- the pointer+integer 64-bit handle union is compared as a whole;
- a difference in alignment alone is ``identical``, with a note;
- a member of size 0 on one side only, inside the record, changes no byte: a note;
- transitivity: a record containing, or pointing to, a record that needs translation needs
  it too (``via`` names those records; a note says whether through a pointer).

:func:`compare_layouts` (``abiscope.sameness``, the one comparison every command uses; see
docs/comparison.md) compares any two (record, target) pairs; this module adds transitivity
and the verdict words. Reads the model only; the renderers (text, JSON ``abiscope.compat/1``,
Xen ``xlat.lst`` style) are here too because they are small.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .functions import FunctionVerdict, compare_functions
from .model import Model, Record, byte_position, byte_size, dumps
from .sameness import Comparison as Comparison  # re-exported: compat's comparison is
from .sameness import Edge as Edge  # sameness's, callable from here as before
from .sameness import MemberDelta as MemberDelta
from .sameness import _named as _named
from .sameness import _names as _names
from .sameness import compare_layouts as compare_layouts
from .sameness import handle_union as handle_union
from .sameness import handle_wrapper

SCHEMA_ID = "abiscope.compat/1"
VERDICTS = ("identical", "translate")

# Xen's names of its architectures, as `@arch@` stands for them in xlat.lst file paths.
XEN_ARCH = {"i386": "x86_32", "x86_64": "x86_64", "arm": "arm32", "aarch64": "arm64"}


@dataclass(frozen=True)
class RecordVerdict:
    name: str
    verdict: Literal["identical", "translate"]
    reasons: tuple[MemberDelta, ...]
    notes: tuple[str, ...]
    via: tuple[str, ...]  # records it contains or points to that need translation


@dataclass(frozen=True)
class CompatReport:
    native: str
    compat: str
    records: tuple[RecordVerdict, ...]
    # the functions the inputs declare (abiscope.functions; rendered by report.functions)
    functions: tuple[FunctionVerdict, ...] = ()

    def verdict(self, name: str) -> RecordVerdict | None:
        return next((r for r in self.records if r.name == name), None)

    def translate(self) -> tuple[str, ...]:
        """Names whose verdict is ``translate``."""
        return tuple(r.name for r in self.records if r.verdict == "translate")


# ---------------------------------------------------------------------------------------
# verdicts


def compare(model: Model, native: str, compat: str,
            records: Sequence[Record] | None = None) -> CompatReport:
    """Verdicts for ``records`` (default: every record of the model on either target)."""
    for t in (native, compat):
        if t not in model.targets:
            raise ValueError(f"target {t!r} is not in the model "
                             f"(it has {', '.join(model.targets)})")
    everything = [r for r in model.records if native in r.layouts or compat in r.layouts]
    core = {r.name: compare_layouts(model, (r, native), (r, compat)) for r in everything}
    needs = {name for name, c in core.items() if c.deltas}
    changed = True
    while changed:  # transitive closure over containment and pointers (cycles allowed)
        changed = False
        for name, c in core.items():
            if name not in needs and any(e.record in needs for e in c.edges):
                needs.add(name)
                changed = True
    chosen = everything if records is None else [r for r in records if r.name in core]
    out = []
    for rec in sorted(chosen, key=lambda r: r.name):
        c = core[rec.name]
        via_edges = [e for e in c.edges if e.record in needs and e.record != rec.name]
        notes = list(c.notes)
        for e in via_edges:
            if e.pointer:
                notes.append(f"points to {e.record} (member `{e.path}`), which needs "
                             "translation: what it points to must be translated too")
            else:
                notes.append(f"contains {e.record} (member `{e.path}`), which needs "
                             "translation")
        if rec.name in needs and not c.deltas and any(e.record == rec.name for e in c.edges):
            notes.append("points to itself")
        via = tuple(sorted({e.record for e in via_edges}))
        verdict: Literal["identical", "translate"] = \
            "translate" if rec.name in needs else "identical"
        out.append(RecordVerdict(rec.name, verdict, c.deltas, tuple(notes), via))
    return CompatReport(native, compat, tuple(out),
                        compare_functions(model, native, compat, needs))


# ---------------------------------------------------------------------------------------
# renderers


def _shape_json(shape: tuple[int, int] | None) -> dict[str, int] | None:
    return None if shape is None else {"offset_bits": shape[0], "size_bits": shape[1]}


def report_to_json(report: CompatReport, model: Model | None = None) -> dict[str, Any]:
    """The ``abiscope.compat/1`` document."""
    files = {r.name: r.location for r in model.records} if model is not None else {}
    records = []
    for v in report.records:
        entry: dict[str, Any] = {
            "name": v.name, "verdict": v.verdict,
            "reasons": [{"member": d.member, "native": _shape_json(d.native),
                         "compat": _shape_json(d.compat), "cause": d.cause}
                        for d in v.reasons],
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
        from .report.functions import compat_json
        doc["functions"] = compat_json(report.functions, model)
    return doc


def render_json(report: CompatReport, model: Model | None = None) -> str:
    return dumps(report_to_json(report, model))


def json_schema() -> dict[str, Any]:
    """The committed JSON Schema of ``abiscope.compat/1``."""
    text = resources.files("abiscope").joinpath("schema/compat-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def xlat_name(record: str) -> str:
    """The name xlat.lst gives a record: the tag, without ``struct``/``union`` and a leading
    ``xen_`` (``struct xen_dm_op_buf`` -> ``dm_op_buf``)."""
    tag = record.split(" ", 1)[1] if record.startswith(("struct ", "union ")) else record
    return tag[4:] if tag.startswith("xen_") and len(tag) > 4 else tag


def xlat_matches(entry: str, record: str) -> bool:
    """Whether an xlat.lst NAME names this record: the C tag ``NAME`` or ``xen_NAME``."""
    tag = record.split(" ", 1)[1] if record.startswith(("struct ", "union ")) else record
    return tag in (entry, f"xen_{entry}")


def xen_public_dir(path: str) -> str | None:
    """Xen's ``include/public`` holding a header: the outermost directory above it that holds
    ``xen.h`` (``/usr/include/xen`` on Debian; outermost, as ``arch-x86/`` has a ``xen.h``
    of its own); None outside Xen."""
    here = os.path.dirname(os.path.normpath(os.path.abspath(path)))
    found = None
    while True:
        if _holds_xen_h(here):
            found = here
        parent = os.path.dirname(here)
        if parent == here:
            return found
        here = parent


@functools.lru_cache(maxsize=256)
def _holds_xen_h(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "xen.h"))


def xlat_file(path: str, roots: Sequence[str], native: str, compat: str,
              xlat_root: str | None = None) -> str:
    """A header path as xlat.lst writes it: relative to ``xlat_root`` (``--xlat-root``) when
    it holds the header, else to Xen's ``include/public`` holding it (the directory of
    ``xen.h``: ``hvm/dm_op.h``, as Xen's list writes it), else to the first include root
    holding it; with the compat (and native) architecture's Xen name replaced by
    ``@arch@``."""
    norm = os.path.normpath(os.path.abspath(path))
    xen = xen_public_dir(norm) if xlat_root is None else None
    for root in ([xlat_root] if xlat_root is not None else []) + ([xen] if xen else []) \
            + list(roots):
        base = os.path.normpath(os.path.abspath(root))
        if norm.startswith(base + os.sep):
            rel = os.path.relpath(norm, base)
            break
    else:
        rel = os.path.basename(norm)
    for target in (compat, native):
        arch = XEN_ARCH.get(target)
        if arch and arch in rel:
            return rel.replace(arch, "@arch@")
    return rel


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


def _cell(shape: tuple[int, int] | None) -> str:
    if shape is None:
        return "absent"
    off, size = shape
    return f"{byte_position(off)} +{byte_size(size)}"


def render_text(report: CompatReport, console: Console, dirs: Sequence[str] = ()) -> None:
    """A table of verdicts: one row per record, one sub-row per reason. On a terminal the
    causes and names wrap to fit its width; a verdict or a number is never cut. Anonymous
    types are named as C readers know them (``report.naming``, paths relative to ``dirs``)."""
    from .report.naming import human_names
    from .report.width import columns, fitted, natural_width

    rows: list[tuple[str, str, str, str, str, str, bool]] = []  # (..., cause is a note)
    for v in report.records:
        first = True
        for d in v.reasons:
            rows.append((human_names(v.name, dirs) if first else "",
                         v.verdict if first else "", d.member or "(record)", _cell(d.native),
                         _cell(d.compat), human_names(d.cause, dirs), False))
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
    from .report.functions import render_compat_text
    render_compat_text(report.functions, console)


def _verdict_style(verdict: str) -> str:
    return "green" if verdict == "identical" else "bold yellow"


def _render_stacked(report: CompatReport, title: str,
                    rows: Sequence[tuple[str, str, str, str, str, str, bool]],
                    console: Console, width: int) -> None:
    """The verdicts for a terminal too narrow for one table: each record on a line of its
    own with its verdict, its reasons and notes in a table under it (causes wrapped)."""
    from rich.padding import Padding

    from .report.width import columns

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
