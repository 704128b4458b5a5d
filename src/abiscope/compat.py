"""Compat verdicts: does one definition of a record serve a native and a compat target?

``compare(model, "x86_64", "i386")`` classifies every record ``identical`` (same size, and
every member, at every depth including inside unions, at the same offset with the same size;
members paired by name) or ``translate`` (the bytes differ, or it contains or points to a
record that does). The rules are ARCHITECTURE.md's "Compat JSON" section:

- a nested record declared differently on the two targets (its member names differ: Xen's
  64-bit guest handle is a union of a pointer and a ``uint64_aligned_t`` on x86_32 and a
  struct of one pointer on x86_64) is compared as a whole: same offset, size and alignment
  is ``identical``, with a note naming both definitions;
- a difference in alignment alone is ``identical``, with a note;
- transitivity: a record containing, or pointing to, a record that needs translation needs
  it too (``via`` names those records; a note says whether through a pointer).

:func:`compare_layouts` is the same comparison between any two (record, target) pairs, which
layered paths (``abiscope.paths``) use when different records cross one boundary. Reads the
model only; the renderers (text, JSON ``abiscope.compat/1``, Xen ``xlat.lst`` style) are here
too because they are small.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, Protocol, TypeVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .model import CType, Member, Model, Record, RecordLayout, byte_position, byte_size, dumps

SCHEMA_ID = "abiscope.compat/1"
VERDICTS = ("identical", "translate")

# Xen's names of its architectures, as `@arch@` stands for them in xlat.lst file paths.
XEN_ARCH = {"i386": "x86_32", "x86_64": "x86_64", "arm": "arm32", "aarch64": "arm64"}


@dataclass(frozen=True)
class MemberDelta:
    """One reason for ``translate``: a member whose offset or size differs (``member`` is
    the dotted path; ``""`` is the record itself, whose size differs or which exists on one
    side only)."""

    member: str
    native: tuple[int, int] | None  # (offset_bits, size_bits); None when absent
    compat: tuple[int, int] | None
    cause: str


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

    def verdict(self, name: str) -> RecordVerdict | None:
        return next((r for r in self.records if r.name == name), None)

    def translate(self) -> tuple[str, ...]:
        """Names whose verdict is ``translate``."""
        return tuple(r.name for r in self.records if r.verdict == "translate")


# ---------------------------------------------------------------------------------------
# comparing two layouts


@dataclass(frozen=True)
class Edge:
    """A record named by another: contained by value (``pointer`` False) or pointed to."""

    path: str
    record: str
    pointer: bool


@dataclass(frozen=True)
class Comparison:
    """What comparing two layouts of a record found: deltas, notes, and the records it
    contains or points to (whose own verdicts make this one transitive)."""

    deltas: tuple[MemberDelta, ...]
    notes: tuple[str, ...]
    edges: tuple[Edge, ...]


def _bytes(bits: int) -> str:
    if bits % 8:
        return f"{bits} bits"
    return f"{bits // 8} byte{'s' if bits != 8 else ''}"


class _Nested(Protocol):
    """What pairing by name reads of a member: abiscope's ``Member``, or the GCC oracle's in
    the tests (tests/test_compat.py), which pairs GCC's members by this same rule."""

    @property
    def name(self) -> str: ...

    @property
    def members(self: _M) -> tuple[_M, ...]: ...


_M = TypeVar("_M", bound=_Nested)


def _named(members: Iterable[_M]) -> dict[str, _M]:
    """Members of one level by name; anonymous members are looked through."""
    out: dict[str, _M] = {}
    for m in members:
        if m.name:
            out.setdefault(m.name, m)
        else:
            for k, v in _named(m.members).items():
                out.setdefault(k, v)
    return out


def _names(members: Iterable[_Nested]) -> frozenset[str]:
    """Every dotted path below one level (the shape of a declaration)."""
    out: set[str] = set()
    for name, m in _named(members).items():
        out.add(name)
        out.update(f"{name}.{sub}" for sub in _names(m.members))
    return frozenset(out)


def _pointees(t: CType) -> Iterator[str]:
    """Records a member's type points to (through pointers and arrays of pointers)."""
    t = t.innermost
    if t.kind != "pointer":
        return
    while t.pointee is not None:
        t = t.pointee
        if t.kind == "record" and t.record:
            yield t.record
            return
        if t.kind == "array" and t.element is not None:
            t = t.element


def handle_union(lay: RecordLayout) -> bool:
    """Xen's 64-bit handle idiom: a union of pointers and an integer spanning the whole union
    (``union { T *p; uint64_aligned_t q; }``). The address travels in the integer, written
    zero-extended, so the pointer's own width on each side does not change the bytes."""
    if lay.kind != "union" or not lay.members:
        return False
    kinds = {m.type.kind for m in lay.members}
    spans = [m for m in lay.members if m.type.kind == "int" and not m.bitfield
             and m.size_bits == lay.size * 8]
    return kinds == {"pointer", "int"} and bool(spans) and all(
        m.type.kind == "pointer" or m in spans for m in lay.members)


def _handle_pair(la: RecordLayout, lb: RecordLayout) -> bool:
    return handle_union(la) and handle_union(lb) and (la.size, la.align) == (lb.size, lb.align)


def _contained(t: CType) -> str | None:
    """The record a member holds by value (itself or as array elements)."""
    t = t.innermost
    return t.record if t.kind == "record" and t.record else None


class _Walker:
    """Pairs members by name at every depth and collects deltas, notes and edges."""

    def __init__(self, model: Model, a: str, b: str, descend: bool = True) -> None:
        self.records = {r.name: r for r in model.records}
        self.a, self.b = a, b  # target names of the two sides (native, compat)
        self.descend = descend  # look inside named records held by value
        self.deltas: list[MemberDelta] = []
        self.notes: list[str] = []
        self.edges: list[Edge] = []

    def layout(self, name: str | None, target: str) -> RecordLayout | None:
        rec = self.records.get(name) if name else None
        return rec.layouts.get(target) if rec is not None else None

    def cause(self, path: str, ma: Member, mb: Member, prev: tuple[Member, Member] | None,
              prev_path: str, container: str, rel_same: bool) -> str:
        spelling = ma.type.spelling or mb.type.spelling
        if ma.size_bits != mb.size_bits:
            return (f"{spelling} is {_bytes(mb.size_bits)} on {self.b}, "
                    f"{_bytes(ma.size_bits)} on {self.a}")
        if container and rel_same:
            return f"moves with {container}"
        if prev is not None and (prev[0].offset_bits + prev[0].size_bits
                                 != prev[1].offset_bits + prev[1].size_bits):
            return f"follows {prev_path}"
        if ma.declared_align != mb.declared_align:
            low, t = min((ma.declared_align, self.a), (mb.declared_align, self.b))
            return f"{spelling} aligned {low} on {t}"
        return "preceding layout differs (packing or explicit alignment)"

    def members(self, ms_a: Sequence[Member], ms_b: Sequence[Member], prefix: str,
                base: tuple[int, int] = (0, 0), container: str = "",
                container_at: tuple[int, int] = (0, 0)) -> None:
        na, nb = _named(ms_a), _named(ms_b)
        order = [*na, *(n for n in nb if n not in na)]
        prev: tuple[Member, Member] | None = None
        prev_path = ""
        for name in order:
            path = f"{prefix}.{name}" if prefix else name
            ma, mb = na.get(name), nb.get(name)
            if ma is None or mb is None:
                only, m, t = (self.b, mb, self.b) if ma is None else (self.a, ma, self.a)
                assert m is not None
                shape = (m.offset_bits + base[0 if t == self.a else 1], m.size_bits)
                self.deltas.append(MemberDelta(
                    path, shape if ma is not None else None, shape if mb is not None else None,
                    f"only on {only}"))
                continue
            oa, ob = ma.offset_bits + base[0], mb.offset_bits + base[1]
            if (oa, ma.size_bits) != (ob, mb.size_bits):
                rel_same = oa - container_at[0] == ob - container_at[1]
                self.deltas.append(MemberDelta(
                    path, (oa, ma.size_bits), (ob, mb.size_bits),
                    self.cause(path, ma, mb, prev, prev_path, container, rel_same)))
            self.member_type(path, ma, mb, (oa, ob))
            prev, prev_path = (ma, mb), path

    def member_type(self, path: str, ma: Member, mb: Member, at: tuple[int, int]) -> None:
        for m in (ma, mb):
            for target in _pointees(m.type):
                edge = Edge(path, target, True)
                if edge not in self.edges:
                    self.edges.append(edge)
        if ma.members or mb.members:  # unnamed struct/union types (anonymous ones: _named)
            sub_base = (at[0] - ma.offset_bits, at[1] - mb.offset_bits)
            if _names(ma.members) == _names(mb.members):
                self.members(ma.members, mb.members, path, sub_base, path, at)
            else:
                self.whole(path, ma, mb, ma.type.spelling, mb.type.spelling)
            return
        ra, rb = _contained(ma.type), _contained(mb.type)
        if ra is None or rb is None:
            return
        la, lb = self.layout(ra, self.a), self.layout(rb, self.b)
        if la is None or lb is None:
            return
        if _handle_pair(la, lb):
            self.whole(path, ma, mb, ra, rb, handle=True)
            self.pointees(path, la, lb)
            return
        if _names(la.members) != _names(lb.members):
            self.whole(path, ma, mb, ra, rb)
            self.pointees(path, la, lb)
            return
        if ra == rb:
            edge = Edge(path, ra, False)
            if edge not in self.edges:
                self.edges.append(edge)
        if self.descend:
            inner = f"{path}[0]" if ma.type.kind == "array" else path
            self.members(la.members, lb.members, inner, at, inner, at)

    def pointees(self, path: str, la: RecordLayout, lb: RecordLayout) -> None:
        """Records the members of a record compared as a whole point to."""
        for lay in (la, lb):
            for _, inner in _leaves(lay.members):
                for pointee in _pointees(inner.type):
                    edge = Edge(path, pointee, True)
                    if edge not in self.edges:
                        self.edges.append(edge)

    def whole(self, path: str, ma: Member, mb: Member, da: str, db: str,
              handle: bool = False) -> None:
        """A nested record declared differently per target, or a 64-bit handle union:
        compared as a whole."""
        same = (ma.offset_bits, ma.size_bits, ma.declared_align) == \
            (mb.offset_bits, mb.size_bits, mb.declared_align)
        if handle and same:
            self.notes.append(
                f"`{path}` ({da}) is a 64-bit handle (a union of a pointer and an integer "
                f"spanning it); compared as a whole: same offset, size "
                f"({_bytes(ma.size_bits)}) and alignment ({ma.declared_align})")
        elif same:
            self.notes.append(
                f"`{path}` is declared differently ({da} on {self.a}, {db} on {self.b}); "
                f"compared as a whole: same offset, size ({_bytes(ma.size_bits)}) and "
                f"alignment ({ma.declared_align})")
        elif (ma.offset_bits, ma.size_bits) == (mb.offset_bits, mb.size_bits):
            self.notes.append(
                f"`{path}` is declared differently ({da} on {self.a}, {db} on {self.b}); "
                f"compared as a whole: same offset and size, alignment "
                f"{ma.declared_align} on {self.a}, {mb.declared_align} on {self.b}")


def _leaves(members: Iterable[Member], prefix: str = "") -> Iterator[tuple[str, Member]]:
    for m in members:
        path = f"{prefix}.{m.name}" if prefix and m.name else (m.name or prefix)
        yield path, m
        yield from _leaves(m.members, path)


def compare_layouts(model: Model, a: tuple[Record, str], b: tuple[Record, str],
                    descend: bool = True) -> Comparison:
    """Compare record ``a[0]`` on target ``a[1]`` with ``b[0]`` on ``b[1]`` (the native side
    first). ``descend=False`` compares named records held by value as single members only
    (the non-transitive core, as GCC's DWARF shows one record)."""
    (ra, ta), (rb, tb) = a, b
    la, lb = ra.layouts.get(ta), rb.layouts.get(tb)
    if la is None or lb is None:
        shape_a = (0, la.size * 8) if la else None
        shape_b = (0, lb.size * 8) if lb else None
        where = ta if la is not None else tb
        return Comparison((MemberDelta("", shape_a, shape_b, f"declared only on {where}"),),
                          (), ())
    walker = _Walker(model, ta, tb, descend)
    if _handle_pair(la, lb):
        handle_note = (f"a 64-bit handle (a union of a pointer and an integer spanning it, "
                 f"{la.size} bytes, aligned {la.align}): compared as a whole",)
        edges = [Edge(path, p, True) for path, m in _leaves(la.members)
                 for p in _pointees(m.type)]
        return Comparison((), handle_note, tuple(dict.fromkeys(edges)))
    walker.members(la.members, lb.members, "")
    deltas = walker.deltas
    if la.size != lb.size:
        cause = ("follows its members" if deltas else
                 f"tail padding: record aligned {la.align} on {ta}, {lb.align} on {tb}"
                 if la.align != lb.align else "size differs")
        deltas.insert(0, MemberDelta("", (0, la.size * 8), (0, lb.size * 8), cause))
    notes = list(walker.notes)
    if la.align != lb.align and not deltas:
        notes.append(f"alignment alone differs ({la.align} on {ta}, {lb.align} on {tb}); "
                     "sizes and offsets agree, so it matters only where the record is "
                     "embedded, and the embedding record's verdict shows that")
    return Comparison(tuple(deltas), tuple(notes), tuple(walker.edges))


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
    return CompatReport(native, compat, tuple(out))


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


def xlat_file(path: str, roots: Sequence[str], native: str, compat: str) -> str:
    """A header path as xlat.lst writes it: relative to the first include root holding it,
    with the compat (and native) architecture's Xen name replaced by ``@arch@``."""
    norm = os.path.normpath(os.path.abspath(path))
    for root in roots:
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


def render_xlat(report: CompatReport, model: Model, roots: Sequence[str]) -> str:
    """Xen ``xlat.lst`` style: ``? NAME FILE`` identical, ``! NAME FILE`` translate,
    grouped by file and sorted within it, as Xen's own list is."""
    where = {r.name: r.location.file for r in model.records}
    lines = []
    for v in report.records:
        mark = "?" if v.verdict == "identical" else "!"
        lines.append((xlat_file(where.get(v.name, ""), roots, report.native, report.compat),
                      xlat_name(v.name), mark))
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


def render_text(report: CompatReport, console: Console) -> None:
    """A table of verdicts: one row per record, one sub-row per reason."""
    table = Table(title=f"compat verdicts: native {report.native}, compat {report.compat}",
                  title_justify="left", header_style="bold", show_edge=False)
    table.add_column("record", no_wrap=True)
    table.add_column("verdict")
    table.add_column("member")
    table.add_column(report.native, justify="right")
    table.add_column(report.compat, justify="right")
    table.add_column("cause / note")
    for v in report.records:
        style = "green" if v.verdict == "identical" else "bold yellow"
        first = True
        for d in v.reasons:
            table.add_row(v.name if first else "", Text(v.verdict, style=style) if first else "",
                          d.member or "(record)", _cell(d.native), _cell(d.compat), d.cause)
            first = False
        for n in v.notes:
            table.add_row(v.name if first else "", Text(v.verdict, style=style) if first else "",
                          "", "", "", Text(n, style="dim"))
            first = False
        if first:
            table.add_row(v.name, Text(v.verdict, style=style), "", "", "", "")
    console.print(table)
    count = len(report.translate())
    console.print(f"{len(report.records)} records: {len(report.records) - count} identical, "
                  f"{count} translate")
