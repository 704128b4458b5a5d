"""One comparison: whether two layouts of a record are the same, for every command.

:func:`compare_layouts` compares a record on one target with a record on another (the same
record, or two records crossing one boundary) and is the only place that decides it: ``compat``
verdicts, ``check``'s ABI003/ABI004/ABI013, the xlat list and ``--verify-list``, layered
``paths`` and the ``ioctls`` classification all read its :class:`Comparison`. The rules
(ARCHITECTURE.md's "Compat JSON" section; docs/comparison.md):

- members are paired by name at every depth (anonymous members are looked through), and a
  pair whose offset or size differs is a :class:`MemberDelta`;
- a nested record declared differently on the two sides (its member names differ: Xen's
  64-bit guest handle is a union of a pointer and a ``uint64_aligned_t`` on x86_32 and a
  struct of one pointer on x86_64) is compared as a whole: same offset, size and alignment
  is the same, with a note naming both definitions;
- the 64-bit handle union (pointers and an integer spanning the union), named or not, is
  compared as a whole: the address travels in the integer;
- a difference in alignment alone is no delta, only a note;
- a member of size 0 present on one side only, at an offset inside the record, changes no
  byte: a note, no delta (``__DECLARE_FLEX_ARRAY``'s empty struct beside a flexible array).

Transitivity (a record containing or pointing to a record that differs) is the caller's:
:class:`Comparison` lists the ``edges``. Reads the model only.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .model import CType, Member, Model, Record, RecordLayout


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
class Edge:
    """A record named by another: contained by value (``pointer`` False) or pointed to."""

    path: str
    record: str
    pointer: bool


@dataclass(frozen=True)
class Comparison:
    """What comparing two layouts of a record found: deltas, notes, and the records it
    contains or points to (whose own verdicts make this one transitive). ``wholes`` are the
    member paths compared as a whole and found the same bytes (a 64-bit handle, a record
    declared differently per side; ``""`` is the record itself, a handle on both sides)."""

    deltas: tuple[MemberDelta, ...]
    notes: tuple[str, ...]
    edges: tuple[Edge, ...]
    wholes: tuple[str, ...] = ()

    @property
    def same(self) -> bool:
        """Every byte agrees (notes aside)."""
        return not self.deltas


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


def _handle_members(members: Sequence[Member], size_bits: int, at: int = 0) -> bool:
    """Pointers and at least one integer spanning ``size_bits``, all at offset ``at``."""
    if not members or any(m.offset_bits != at for m in members):
        return False
    kinds = {m.type.kind for m in members}
    spans = [m for m in members if m.type.kind == "int" and not m.bitfield
             and m.size_bits == size_bits]
    return kinds == {"pointer", "int"} and bool(spans) and all(
        m.type.kind == "pointer" or m in spans for m in members)


def _unwrap(members: Sequence[Member], size_bits: int) -> Sequence[Member]:
    """Look through unnamed single-member wrappers spanning the whole (``struct { union {
    ... }; }``)."""
    while len(members) == 1 and members[0].members and members[0].size_bits == size_bits:
        members = members[0].members
    return members


def handle_union(lay: RecordLayout) -> bool:
    """Xen's 64-bit handle idiom: a union of pointers and an integer spanning the whole union
    (``union { T *p; uint64_aligned_t q; }``), or a struct wrapping only such a union (x86_32's
    ``struct { union { T *p; uint64_aligned_t q; }; }``). The address travels in the integer,
    written zero-extended, so the pointer's own width on each side does not change the
    bytes."""
    inner = _unwrap(lay.members, lay.size * 8)
    return (lay.kind == "union" or inner is not lay.members) and \
        _handle_members(inner, lay.size * 8)


def handle_member(m: Member) -> bool:
    """The same idiom written inline: a member of unnamed union type (possibly wrapped in
    unnamed single-member structs, as ``struct { union { T *p; uint64_t q; }; }``) whose
    members are pointers and an integer spanning it."""
    inner = _unwrap(m.members, m.size_bits)
    return _handle_members(inner, m.size_bits, m.offset_bits)


def handle_wrapper(rec: Record) -> bool:
    """A guest-handle wrapper record: tagless (known by its typedef name), on every target
    either the 64-bit handle union or a struct of pointers only (``typedef struct { T *p; }
    __guest_handle_T``). Such records cross a boundary as the handles a compat layer
    converts, not as records of their own."""
    if not rec.layouts or rec.name.startswith(("struct ", "union ")):
        return False
    return all(handle_union(lay) or (
        bool(lay.members) and all(m.type.kind == "pointer" for m in lay.members))
        for lay in rec.layouts.values())


def _handle_pair(la: RecordLayout, lb: RecordLayout) -> bool:
    return handle_union(la) and handle_union(lb) and (la.size, la.align) == (lb.size, lb.align)


def _contained(t: CType) -> str | None:
    """The record a member holds by value (itself or as array elements)."""
    t = t.innermost
    return t.record if t.kind == "record" and t.record else None


def _leaves(members: Iterable[Member], prefix: str = "") -> Iterator[tuple[str, Member]]:
    for m in members:
        path = f"{prefix}.{m.name}" if prefix and m.name else (m.name or prefix)
        yield path, m
        yield from _leaves(m.members, path)


class _Walker:
    """Pairs members by name at every depth and collects deltas, notes, edges and wholes."""

    def __init__(self, records: tuple[Mapping[str, Record], Mapping[str, Record]],
                 a: str, b: str, sizes: tuple[int, int], descend: bool = True) -> None:
        self.records = records  # where each side's nested records are looked up
        self.a, self.b = a, b  # target names of the two sides (native, compat)
        self.sizes = sizes  # bits of the two records compared
        self.descend = descend  # look inside named records held by value
        self.deltas: list[MemberDelta] = []
        self.notes: list[str] = []
        self.edges: list[Edge] = []
        self.wholes: list[str] = []

    def layout(self, name: str | None, side: int) -> RecordLayout | None:
        rec = self.records[side].get(name) if name else None
        return rec.layouts.get((self.a, self.b)[side]) if rec is not None else None

    def edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            self.edges.append(edge)

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

    def one_side(self, path: str, m: Member, side: int, base: tuple[int, int]) -> None:
        """A member present on one side only: a delta, unless it has no bytes and sits
        inside the record (a zero-size member changes no byte)."""
        target = (self.a, self.b)[side]
        shape = (m.offset_bits + base[side], m.size_bits)
        if m.size_bits == 0 and 0 <= shape[0] <= self.sizes[side]:
            self.notes.append(f"`{path}` at {_bytes(shape[0])} (0 bytes) only on {target}: "
                              "a member of size 0 changes no byte")
            return
        self.deltas.append(MemberDelta(path, shape if side == 0 else None,
                                       shape if side == 1 else None, f"only on {target}"))

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
                self.one_side(path, mb if ma is None else ma,  # type: ignore[arg-type]
                              1 if ma is None else 0, base)
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
                self.edge(Edge(path, target, True))
        if ma.members or mb.members:  # unnamed struct/union types (anonymous ones: _named)
            sub_base = (at[0] - ma.offset_bits, at[1] - mb.offset_bits)
            if handle_member(ma) and handle_member(mb):
                self.whole(path, ma, mb, ma.type.spelling, mb.type.spelling, handle=True)
                self.pointees(path, ma.members, mb.members)
            elif _names(ma.members) == _names(mb.members):
                self.members(ma.members, mb.members, path, sub_base, path, at)
            else:
                self.whole(path, ma, mb, ma.type.spelling, mb.type.spelling)
                self.pointees(path, ma.members, mb.members)
            return
        ra, rb = _contained(ma.type), _contained(mb.type)
        if ra is None or rb is None:
            return
        la, lb = self.layout(ra, 0), self.layout(rb, 1)
        if la is None or lb is None:
            return
        if _handle_pair(la, lb):
            self.whole(path, ma, mb, ra, rb, handle=True)
            self.pointees(path, la.members, lb.members)
            return
        if _names(la.members) != _names(lb.members):
            self.whole(path, ma, mb, ra, rb)
            self.pointees(path, la.members, lb.members)
            return
        if ra == rb:
            self.edge(Edge(path, ra, False))
        if self.descend:
            inner = f"{path}[0]" if ma.type.kind == "array" else path
            self.members(la.members, lb.members, inner, at, inner, at)

    def pointees(self, path: str, *sides: Sequence[Member]) -> None:
        """Records the members of a member compared as a whole point to."""
        for members in sides:
            for _, inner in _leaves(members):
                for pointee in _pointees(inner.type):
                    self.edge(Edge(path, pointee, True))

    def whole(self, path: str, ma: Member, mb: Member, da: str, db: str,
              handle: bool = False) -> None:
        """A nested record declared differently per target, or a 64-bit handle union:
        compared as a whole."""
        same = (ma.offset_bits, ma.size_bits, ma.declared_align) == \
            (mb.offset_bits, mb.size_bits, mb.declared_align)
        if (ma.offset_bits, ma.size_bits) == (mb.offset_bits, mb.size_bits):
            self.wholes.append(path)
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


_INDEX: dict[int, tuple[Model, Mapping[str, Record]]] = {}


def record_index(model: Model) -> Mapping[str, Record]:
    """A model's records by name, made once per model (in a bounded table keyed by identity
    that holds the model, so a key is never reused)."""
    known = _INDEX.get(id(model))
    if known is not None and known[0] is model:
        return known[1]
    if len(_INDEX) >= 16:
        _INDEX.clear()
    index = {r.name: r for r in model.records}
    _INDEX[id(model)] = (model, index)
    return index


def compare_records(a: tuple[Record, str], b: tuple[Record, str],
                    records: tuple[Mapping[str, Record], Mapping[str, Record]],
                    descend: bool = True) -> Comparison:
    """Compare record ``a[0]`` on target ``a[1]`` with ``b[0]`` on ``b[1]``, looking nested
    records up in ``records`` (one mapping per side: the two may come from two models, as
    ABI013 compares a real target with a hypothetical one)."""
    (ra, ta), (rb, tb) = a, b
    la, lb = ra.layouts.get(ta), rb.layouts.get(tb)
    if la is None or lb is None:
        shape_a = (0, la.size * 8) if la else None
        shape_b = (0, lb.size * 8) if lb else None
        where = ta if la is not None else tb
        return Comparison((MemberDelta("", shape_a, shape_b, f"declared only on {where}"),),
                          (), ())
    if _handle_pair(la, lb):
        handle_note = (f"a 64-bit handle (a union of a pointer and an integer spanning it, "
                       f"{la.size} bytes, aligned {la.align}): compared as a whole",)
        edges = [Edge(path, p, True) for path, m in _leaves(la.members)
                 for p in _pointees(m.type)]
        return Comparison((), handle_note, tuple(dict.fromkeys(edges)), ("",))
    walker = _Walker(records, ta, tb, (la.size * 8, lb.size * 8), descend)
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
    return Comparison(tuple(deltas), tuple(notes), tuple(walker.edges), tuple(walker.wholes))


def compare_layouts(model: Model, a: tuple[Record, str], b: tuple[Record, str],
                    descend: bool = True) -> Comparison:
    """Compare record ``a[0]`` on target ``a[1]`` with ``b[0]`` on ``b[1]`` (the native side
    first), both of ``model``. ``descend=False`` compares named records held by value as
    single members only (the non-transitive core, as GCC's DWARF shows one record)."""
    index = record_index(model)
    return compare_records(a, b, (index, index), descend)


def covered(path: str, wholes: Iterable[str]) -> bool:
    """Whether ``path`` lies in (or is) a member compared as a whole."""
    return any(w == "" or path == w or path.startswith(w + ".") or path.startswith(w + "[")
               for w in wholes)


_SIGNATURES: dict[tuple[int, int], tuple[RecordLayout, Mapping[str, Record], Hashable]] = {}


def signature(lay: RecordLayout, target: str, records: Mapping[str, Record],
              depth: int = 0) -> Hashable:
    """Everything :func:`compare_records` reads of one side to find deltas and wholes: two
    layouts with equal signatures differ from any third layout in the same members, by the
    same offsets and sizes (only the wording of causes and notes may differ). ``check`` groups
    targets by it so that it compares each pair of distinct layouts once, not each pair of
    targets. Made once per layout (a bounded table keyed by identity that holds it)."""
    key = (id(lay), id(records))
    known = _SIGNATURES.get(key)
    if known is not None and known[0] is lay and known[1] is records:
        return known[2]

    def members(ms: Sequence[Member]) -> Hashable:
        out = []
        for m in ms:
            inner: Hashable = None
            name = _contained(m.type)
            rec = records.get(name) if name and depth < 16 else None
            if rec is not None and target in rec.layouts:
                inner = (name, signature(rec.layouts[target], target, records, depth + 1))
            out.append((m.name, m.offset_bits, m.size_bits, m.bitfield, m.type.kind,
                        m.type.innermost.kind, inner, members(m.members)))
        return tuple(out)

    sig = (lay.kind, lay.size, lay.align, members(lay.members))
    if len(_SIGNATURES) >= 65536:
        _SIGNATURES.clear()
    _SIGNATURES[key] = (lay, records, sig)
    return sig


@dataclass(frozen=True)
class TargetComparison:
    """A record compared between every pair of some targets: ``groups`` maps a
    representative target to every target whose layout has the same :func:`signature` (the
    same comparison with any other target), ``pairs`` compares the representatives two by
    two, so each pair of distinct layouts is compared once."""

    groups: Mapping[str, tuple[str, ...]]
    pairs: Mapping[tuple[str, str], Comparison]

    @property
    def same(self) -> bool:
        """No pair of the targets differs in any byte."""
        return not any(c.deltas for c in self.pairs.values())


_BY_TARGETS: dict[tuple[int, int, tuple[str, ...]], tuple[Record, TargetComparison]] = {}


def compare_targets(model: Model, record: Record, targets: Iterable[str]) -> TargetComparison:
    """:func:`compare_records` of ``record`` between every pair of ``targets`` having it (a
    target without it is left out: a record declared on one side only is no layout
    difference here). Made once per record and targets (a bounded table keyed by identity
    that holds the record)."""
    present = tuple(t for t in targets if t in record.layouts)
    key = (id(record), id(model), present)
    known = _BY_TARGETS.get(key)
    if known is not None and known[0] is record:
        return known[1]
    index = record_index(model)
    groups: dict[Hashable, list[str]] = {}
    for t in present:
        groups.setdefault(signature(record.layouts[t], t, index), []).append(t)
    reps = [ts[0] for ts in groups.values()]
    out = TargetComparison(
        {ts[0]: tuple(ts) for ts in groups.values()},
        {(a, b): compare_records((record, a), (record, b), (index, index))
         for a, b in itertools.combinations(reps, 2)})
    if len(_BY_TARGETS) >= 65536:
        _BY_TARGETS.clear()
    _BY_TARGETS[key] = (record, out)
    return out
