"""The ABI model: plain, frozen, serialisable data describing records per target.

Everything after the frontend reads this and only this. A model loaded from its JSON
snapshot (``abiscope.layout/1``) is indistinguishable from a freshly parsed one.
This module must not import clang or any analysis.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from types import MappingProxyType
from typing import Any

from . import collector
from .errors import Diagnostic, InputError, ParseFailure, SourceLocation

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback
    _orjson = None  # type: ignore[assignment]

SCHEMA_ID = "abiscope.layout/1"

# Type kinds: what a type is once typedefs are looked through.
TYPE_KINDS = (
    "int", "bool", "float", "complex", "pointer", "array", "record", "enum",
    "function", "void", "vector", "other",
)


@dataclass(frozen=True)
class CType:
    """A C type as one target sees it.

    ``spelling`` is as written in the header (``uint32_t``, ``struct foo *``);
    ``typedefs`` is the typedef chain from the written name inwards (``uint64_t``,
    ``__uint64_t``); ``canonical`` is what remains (``unsigned long``).
    Arrays: ``dims`` outermost first (``None`` for a flexible ``[]``), ``element`` the
    innermost element type. Pointers: ``pointee``. Records and enums: ``record`` names them
    (``struct foo``, ``enum bar``; the typedef name for an untagged one; ``""`` unnamed).
    """

    spelling: str
    kind: str
    size: int | None  # bytes; None when incomplete
    align: int | None
    canonical: str = ""
    signed: bool | None = None
    typedefs: tuple[str, ...] = ()
    dims: tuple[int | None, ...] = ()
    element: CType | None = None
    pointee: CType | None = None
    record: str | None = None
    # aligned(N) on a typedef of the chain (``uint64_aligned_t``) or on the struct/union's
    # own declaration: GCC records such a type's alignment as the user's, and pahole shows
    # it on every member of the type
    user_align: int | None = field(default=None, compare=False)

    @property
    def innermost(self) -> CType:
        """The type itself or, for an array, its innermost element type."""
        t = self
        while t.kind == "array" and t.element is not None:
            t = t.element
        return t


@dataclass(frozen=True)
class Member:
    """A member of a record on one target; offsets count from the start of the named record.

    ``align`` is the ABI alignment of the member's type (``_Alignof(type)``), not reduced by
    ``packed`` and not raised by a member ``aligned`` attribute; ``packed``/``aligned_attr``
    say whether those apply. Anonymous members have ``name == ""`` and carry ``members``;
    so do members whose type is an unnamed record. An array of an unnamed record
    (``struct { ... } f[3];``) carries its first element's members in ``element_members``
    (offsets from the start of the named record, as ``members``'), which hole accounting
    does not look into.
    """

    name: str
    type: CType
    offset_bits: int
    size_bits: int
    align: int
    bitfield: bool = False
    bit_width: int | None = None
    location: SourceLocation | None = None
    members: tuple[Member, ...] = ()
    align_attr: int | None = None  # aligned(N)/_Alignas(N) on the member itself
    element_members: tuple[Member, ...] = field(default=(), compare=False)

    @property
    def declared_align(self) -> int:
        """The alignment the declaration asks for: the type's, raised by the member's own
        attribute (``packed`` and ``#pragma pack`` show in the offsets, not here)."""
        return max(self.align, self.align_attr or 0)


@dataclass(frozen=True)
class Hole:
    """An interior gap (bits), after the named member (``""``: before the first)."""

    offset_bits: int
    size_bits: int
    after: str


@dataclass(frozen=True)
class RecordLayout:
    """Size, alignment, members, holes and tail padding of one record on one target."""

    size: int
    align: int
    members: tuple[Member, ...]
    holes: tuple[Hole, ...]
    tail_padding_bits: int
    packed: bool = False
    kind: str = "struct"  # per target: Xen's guest handle is a struct on x86, a union on Arm
    # aligned(N) on the declaration (or its naming typedef)
    user_align: int | None = field(default=None, compare=False)
    # where its unnamed bitfields (``__u32 :32;``, not members) end, in bits, when it has
    # any (None: none, or not known: engine targets, documents): headroom starts after them
    unnamed_end_bits: int | None = field(default=None, compare=False)

    @property
    def tail_padding(self) -> int:
        """Whole bytes of tail padding."""
        return self.tail_padding_bits // 8


@dataclass(frozen=True)
class Record:
    """A struct or union, with one layout per target on which it exists."""

    name: str
    kind: str  # "struct" | "union"
    location: SourceLocation
    layouts: Mapping[str, RecordLayout]
    # the input header whose copy in a target's own include tree declares it, where no
    # target's declaration is in an input (Debian's i386 tree has its own
    # ``linux/hdlc/ioctl.h``): it is declared in the inputs all the same
    copy_of: str = ""
    # where the parse defined it among the model's records (0 first), as a compiler's
    # debug information lists them: included headers' records before the includer's.
    # (This and the other presentation facts below -- element_members, user_align -- are
    # not part of a layout's identity nor of abiscope.layout/1: compare=False.)
    order: int = field(default=0, compare=False)
    # the headers included before its header, which does not parse alone, for it to be laid
    # out at all (``--prelude``; empty: laid out from its header alone)
    prelude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layouts", MappingProxyType(dict(self.layouts)))


@dataclass(frozen=True)
class EnumConstant:
    name: str
    value: int


@dataclass(frozen=True)
class EnumLayout:
    size: int
    align: int
    underlying: str
    signed: bool
    constants: tuple[EnumConstant, ...]


@dataclass(frozen=True)
class Enum:
    """An enum with its size and constants per target."""

    name: str
    location: SourceLocation
    layouts: Mapping[str, EnumLayout]

    def __post_init__(self) -> None:
        object.__setattr__(self, "layouts", MappingProxyType(dict(self.layouts)))


@dataclass(frozen=True)
class Macro:
    """An object-like macro evaluated per target (ioctl request numbers), with the records
    its definition mentions (``struct foo`` in ``_IOW('f', 1, struct foo)``)."""

    name: str
    location: SourceLocation
    values: Mapping[str, int]
    records: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))


@dataclass(frozen=True)
class FuncType:
    """A function's parameter or return type on one target: as written (``type``), its
    kind (:data:`TYPE_KINDS`), size and alignment (``None``: incomplete or ``void``), the
    record or enum it is (``record``) and, for a pointer, the record it points to through
    any number of pointers and arrays (``points_to``)."""

    type: str
    kind: str
    size: int | None
    align: int | None
    canonical: str = ""
    record: str | None = None
    points_to: str | None = None
    # of a pointer: the size of what it points to (``time_t *`` changes with 64-bit
    # ``time_t`` though the pointer does not)
    pointee_size: int | None = None


@dataclass(frozen=True)
class Param:
    name: str  # "" when the prototype names none
    type: FuncType


@dataclass(frozen=True)
class Signature:
    """A function as one target declares it: the symbol a call binds to (the ``asm`` label
    when one renames it, as glibc's ``__REDIRECT`` does, else the name), its return type
    and its parameters."""

    symbol: str
    returns: FuncType
    params: tuple[Param, ...]


@dataclass(frozen=True)
class Function:
    """A function declared in the inputs (prototyped, not variadic, not ``static``), with
    its signature per target."""

    name: str
    location: SourceLocation
    signatures: Mapping[str, Signature]

    def __post_init__(self) -> None:
        object.__setattr__(self, "signatures", MappingProxyType(dict(self.signatures)))


@dataclass(frozen=True)
class Prelude:
    """A header that did not parse alone on ``targets``, and the headers included before it
    with which it did (``--prelude``)."""

    header: str
    added: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class TargetInfo:
    name: str
    triple: str
    pointer_bits: int
    endian: str
    hypothetical: bool = False


@dataclass(frozen=True)
class TreeVersion:
    """The version of a system header tree one target reads, and the file that says it."""

    tree: str  # "linux" (LINUX_VERSION_CODE) | "glibc" (__GLIBC__.__GLIBC_MINOR__)
    version: str  # "6.1.4", "2.36"
    file: str  # the linux/version.h or features.h read


@dataclass(frozen=True)
class TreeSkew:
    """Selected targets that read different versions of one header tree (a warning)."""

    tree: str
    versions: tuple[tuple[str, TreeVersion], ...]  # (target, its version), in target order
    fix: str  # the --sysroot arguments that give every target one version

    @property
    def message(self) -> str:
        by: dict[str, dict[str, list[str]]] = {}  # version -> file -> targets
        for target, v in self.versions:
            by.setdefault(v.version, {}).setdefault(v.file, []).append(target)
        read = "; ".join(
            f"{self.tree} {ver} on " + ", ".join(f"{'/'.join(ts)} ({file})"
                                                 for file, ts in files.items())
            for ver, files in by.items())
        return (f"the selected targets read different versions of {self.tree}'s headers: "
                f"{read}: differences between them may be the versions', not the ABIs'. "
                f"Fix: {self.fix}")


def skews_to_json(skews: Iterable[TreeSkew]) -> list[dict[str, Any]]:
    """The ``version_skew`` field of the JSON outputs (present only when not empty)."""
    return [{"tree": s.tree, "message": s.message, "fix": s.fix,
             "versions": [{"target": t, "version": v.version, "file": v.file}
                          for t, v in s.versions]}
            for s in skews]


@dataclass(frozen=True)
class Model:
    """Everything abiscope knows about a set of headers on a set of targets."""

    targets: Mapping[str, TargetInfo]
    records: tuple[Record, ...]
    enums: tuple[Enum, ...] = ()
    failures: tuple[ParseFailure, ...] = ()
    inputs: tuple[str, ...] = field(default=())
    macros: tuple[Macro, ...] = ()
    skews: tuple[TreeSkew, ...] = ()  # header trees read in different versions (warnings)
    functions: tuple[Function, ...] = ()  # declared in the inputs, by name
    preludes: tuple[Prelude, ...] = ()  # headers laid out only after others (--prelude)

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

    def record(self, name: str) -> Record | None:
        return next((r for r in self.records if r.name == name), None)

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)


def restricted(model: Model, targets: Collection[str]) -> Model:
    """``model`` on some of its targets only, where others were parsed along (``abiscope
    check`` parses ABI013's hypothetical targets with the selected ones). A record, enum
    or macro that exists on none of them is left out. The kind and place of a record are
    the full model's: those of the first target that has it, in the order a parse merges
    them (clang's targets first, in the order given). So the model restricted to targets
    that come first, as a selection does before the hypothetical targets appended to it,
    is the model a parse of them alone makes; the rest have their layouts, with places
    that may be another target's tree."""
    keep = [t for t in model.targets if t in targets]
    return Model(
        {t: model.targets[t] for t in keep},
        tuple(replace(r, layouts={t: r.layouts[t] for t in keep if t in r.layouts})
              for r in model.records if any(t in r.layouts for t in keep)),
        tuple(replace(e, layouts={t: e.layouts[t] for t in keep if t in e.layouts})
              for e in model.enums if any(t in e.layouts for t in keep)),
        tuple(f for f in model.failures if f.target in targets),
        model.inputs,
        tuple(replace(m, values={t: m.values[t] for t in keep if t in m.values})
              for m in model.macros if any(t in m.values for t in keep)),
        _skews_among(model.skews, keep),
        tuple(replace(f, signatures={t: f.signatures[t] for t in keep if t in f.signatures})
              for f in model.functions if any(t in f.signatures for t in keep)),
        tuple(replace(p, targets=tuple(t for t in p.targets if t in targets))
              for p in model.preludes if any(t in targets for t in p.targets)),
    )


def _skews_among(skews: Iterable[TreeSkew], targets: Collection[str]) -> tuple[TreeSkew, ...]:
    """The skews that remain among ``targets``: a tree they still read in two versions."""
    out = []
    for s in skews:
        versions = tuple((t, v) for t, v in s.versions if t in targets)
        if len({v.version for _, v in versions}) > 1:
            out.append(replace(s, versions=versions))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Derived layout facts shared by the frontend and the layout engine.


def leaf_extents(members: Iterable[Member]) -> Iterator[tuple[int, int, str]]:
    """(start, end, name) bit ranges of the members that hold data.

    Anonymous and unnamed-record members are looked into, so the gaps inside them count as
    holes of the enclosing record (as pahole shows them); named record members are opaque.
    """
    for m in members:
        if m.members:
            yield from leaf_extents(m.members)
        elif m.size_bits:
            yield m.offset_bits, m.offset_bits + m.size_bits, m.name


def gaps(members: Iterable[Member], size_bytes: int) -> tuple[tuple[Hole, ...], int]:
    """Interior holes and tail padding bits of a record with these members."""
    holes: list[Hole] = []
    covered_to = 0
    last = ""
    for start, end, name in sorted(leaf_extents(members)):
        if start > covered_to:
            holes.append(Hole(covered_to, start - covered_to, last))
        if end >= covered_to:
            covered_to = end
            last = name
    tail = max(size_bytes * 8 - covered_to, 0)
    return tuple(holes), tail


def byte_position(bits: int) -> str:
    """A bit offset as reports print it: ``12`` (a whole byte), ``12:3`` (byte 12, bit 3)."""
    return f"{bits // 8}" if bits % 8 == 0 else f"{bits // 8}:{bits % 8}"


def byte_size(bits: int, long: bool = False) -> str:
    """A size in bits as reports print it: ``4``/``3b``, or ``4 bytes``/``1 byte``/``3 bits``."""
    if bits % 8 == 0:
        n = bits // 8
        return (f"{n} byte" if n == 1 else f"{n} bytes") if long else f"{n}"
    return (f"{bits} bit" if bits == 1 else f"{bits} bits") if long else f"{bits}b"


def shape_words(shape: tuple[int, int] | None) -> str:
    """An (offset, size) in bits in a sentence: ``at 8, 4 bytes``, ``at 0, 1 byte``, or
    ``absent`` (None: the member is not there)."""
    if shape is None:
        return "absent"
    return f"at {byte_position(shape[0])}, {byte_size(shape[1], long=True)}"


def iter_members(members: Iterable[Member], prefix: str = "") -> Iterator[tuple[str, Member]]:
    """Depth-first (path, member): anonymous levels add no path component."""
    for m in members:
        path = f"{prefix}.{m.name}" if prefix and m.name else (m.name or prefix)
        yield path, m
        if m.members:
            yield from iter_members(m.members, path)


# ---------------------------------------------------------------------------------------
# JSON (abiscope.layout/1)


def _loc_json(loc: SourceLocation | None) -> dict[str, Any]:
    if loc is None:
        return {}
    return {"file": loc.file, "line": loc.line, "col": loc.col}


def ctype_to_json(t: CType, memo: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A type as JSON; with ``memo`` (id -> dict, for one document), each CType object is
    converted once and its dict shared by every member of that type."""
    if memo is not None:
        done = memo.get(id(t))
        if done is not None:
            return done
    out: dict[str, Any] = {
        "spelling": t.spelling, "kind": t.kind, "size": t.size, "align": t.align,
        "canonical": t.canonical,
    }
    if t.signed is not None:
        out["signed"] = t.signed
    if t.typedefs:
        out["typedefs"] = list(t.typedefs)
    if t.dims:
        out["dims"] = list(t.dims)
    if t.element is not None:
        out["element"] = ctype_to_json(t.element, memo)
    if t.pointee is not None:
        out["pointee"] = ctype_to_json(t.pointee, memo)
    if t.record is not None:
        out["record"] = t.record
    if memo is not None:
        memo[id(t)] = out
    return out


def ctype_from_json(d: Mapping[str, Any]) -> CType:
    return CType(
        spelling=d["spelling"], kind=d["kind"], size=d["size"], align=d["align"],
        canonical=d.get("canonical", ""), signed=d.get("signed"),
        typedefs=tuple(d.get("typedefs", ())), dims=tuple(d.get("dims", ())),
        element=ctype_from_json(d["element"]) if "element" in d else None,
        pointee=ctype_from_json(d["pointee"]) if "pointee" in d else None,
        record=d.get("record"),
    )


def member_to_json(m: Member, memo: dict[int, dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": m.name, "type": m.type.spelling, "offset_bits": m.offset_bits,
        "size_bits": m.size_bits, "align": m.align, "bitfield": m.bitfield,
    }
    if m.bit_width is not None:
        out["bit_width"] = m.bit_width
    if m.align_attr is not None:
        out["align_attr"] = m.align_attr
    out["type_info"] = ctype_to_json(m.type, memo)
    loc = m.location
    if loc is not None:
        out["file"] = loc.file
        out["line"] = loc.line
        out["col"] = loc.col
    if m.members:
        out["members"] = [member_to_json(c, memo) for c in m.members]
    return out


def member_from_json(d: Mapping[str, Any]) -> Member:
    loc = SourceLocation(d["file"], d["line"], d["col"]) if "file" in d else None
    return Member(
        name=d["name"], type=ctype_from_json(d["type_info"]), offset_bits=d["offset_bits"],
        size_bits=d["size_bits"], align=d["align"], bitfield=d["bitfield"],
        bit_width=d.get("bit_width"), location=loc, align_attr=d.get("align_attr"),
        members=tuple(member_from_json(c) for c in d.get("members", ())),
    )


def layout_to_json(lay: RecordLayout, memo: dict[int, dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    return {
        "kind": lay.kind, "size": lay.size, "align": lay.align, "packed": lay.packed,
        "tail_padding": lay.tail_padding, "tail_padding_bits": lay.tail_padding_bits,
        "holes": [
            {"offset_bits": h.offset_bits, "size_bits": h.size_bits, "after": h.after}
            for h in lay.holes
        ],
        "members": [member_to_json(m, memo) for m in lay.members],
    }


def layout_from_json(d: Mapping[str, Any]) -> RecordLayout:
    return RecordLayout(
        size=d["size"], align=d["align"], packed=d.get("packed", False),
        kind=d.get("kind", "struct"),
        tail_padding_bits=d["tail_padding_bits"],
        holes=tuple(Hole(h["offset_bits"], h["size_bits"], h["after"]) for h in d["holes"]),
        members=tuple(member_from_json(m) for m in d["members"]),
    )


def functype_to_json(t: FuncType) -> dict[str, Any]:
    out: dict[str, Any] = {"type": t.type, "kind": t.kind, "size": t.size, "align": t.align,
                           "canonical": t.canonical}
    if t.record is not None:
        out["record"] = t.record
    if t.points_to is not None:
        out["points_to"] = t.points_to
    if t.pointee_size is not None:
        out["pointee_size"] = t.pointee_size
    return out


def functype_from_json(d: Mapping[str, Any]) -> FuncType:
    return FuncType(d["type"], d["kind"], d["size"], d["align"], d.get("canonical", ""),
                    d.get("record"), d.get("points_to"), d.get("pointee_size"))


def function_to_json(f: Function, targets: Iterable[str]) -> dict[str, Any]:
    """One entry of the ``functions`` list of ``abiscope.layout/1``."""
    memo: dict[int, dict[str, Any]] = {}

    def typ(t: FuncType) -> dict[str, Any]:
        done = memo.get(id(t))
        if done is None:
            done = memo[id(t)] = functype_to_json(t)
        return done

    return {
        "name": f.name, "file": f.location.file, "line": f.location.line,
        "col": f.location.col,
        "signatures": {
            t: {"symbol": sig.symbol, "return": typ(sig.returns),
                "params": [{"name": p.name, **typ(p.type)} for p in sig.params]}
            for t, sig in ((t, f.signatures[t]) for t in targets if t in f.signatures)},
    }


def function_from_json(d: Mapping[str, Any]) -> Function:
    return Function(
        d["name"], SourceLocation(d["file"], d["line"], d.get("col", 0)),
        {t: Signature(s["symbol"], functype_from_json(s["return"]),
                      tuple(Param(p["name"], functype_from_json(p)) for p in s["params"]))
         for t, s in d["signatures"].items()})


def _diag_json(d: Diagnostic) -> dict[str, Any]:
    return {"severity": d.severity, "message": d.message, **_loc_json(d.location)}


def model_to_json(model: Model, records: Iterable[Record] | None = None) -> dict[str, Any]:
    """The ``abiscope.layout/1`` document, sorted so that it diffs cleanly.

    The ``type_info`` dicts of members whose type is one CType object are one dict (the
    model shares types heavily): copy a document before changing one in place. The
    collector is paused while it is built (many new objects, no cycles: 3x faster).
    """
    with collector.paused(promote_made=True):
        return _model_to_json(model, records)


def _model_to_json(model: Model, records: Iterable[Record] | None) -> dict[str, Any]:
    from .headroom import headroom  # (it reads the model: imported when used)
    from .headroom import to_json as headroom_json

    chosen = sorted(model.records if records is None else records, key=lambda r: r.name)
    memo: dict[int, dict[str, Any]] = {}
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "inputs": list(model.inputs),
        "targets": {
            n: {"triple": t.triple, "pointer_bits": t.pointer_bits, "endian": t.endian,
                "hypothetical": t.hypothetical}
            for n, t in model.targets.items()
        },
        "records": [
            {"name": r.name, "kind": r.kind, "file": r.location.file, "line": r.location.line,
             "col": r.location.col,
             **({"prelude": list(r.prelude)} if r.prelude else {}),  # (additive)
             "layouts": {t: layout_to_json(r.layouts[t], memo) for t in model.targets
                         if t in r.layouts},
             "headroom": headroom_json(headroom(r, model.targets))}
            for r in chosen
        ],
        "enums": [
            {"name": e.name, "file": e.location.file, "line": e.location.line,
             "col": e.location.col,
             "layouts": {
                 t: {"size": el.size, "align": el.align, "underlying": el.underlying,
                     "signed": el.signed,
                     "constants": [{"name": c.name, "value": c.value} for c in el.constants]}
                 for t, el in ((t, e.layouts[t]) for t in model.targets if t in e.layouts)
             }}
            for e in sorted(model.enums, key=lambda e: e.name)
        ],
        "macros": [
            {"name": m.name, "file": m.location.file, "line": m.location.line,
             "col": m.location.col, "records": list(m.records),
             "values": {t: m.values[t] for t in model.targets if t in m.values}}
            for m in sorted(model.macros, key=lambda m: m.name)
        ],
        "failures": [
            {"header": f.header, "target": f.target,
             "diagnostics": [_diag_json(d) for d in f.diagnostics]}
            for f in sorted(model.failures, key=lambda f: (f.header, f.target))
        ],
    }
    if model.functions:  # (absent when the inputs declare none: additive)
        doc["functions"] = [function_to_json(f, model.targets)
                            for f in sorted(model.functions, key=lambda f: f.name)]
    if model.preludes:  # (absent without --prelude's help: additive)
        doc["preludes"] = [{"header": p.header, "added": list(p.added),
                            "targets": list(p.targets)} for p in model.preludes]
    if model.skews:  # (absent when every target reads one version: additive)
        doc["version_skew"] = skews_to_json(model.skews)
    return doc


_COUNTS = frozenset({"size", "align", "offset_bits", "size_bits", "tail_padding",
                     "tail_padding_bits", "line", "col", "pointer_bits", "bit_width",
                     "align_attr", "pointee_size"})
_TEXTS = frozenset({"name", "type", "kind", "file", "triple", "endian", "after", "spelling",
                    "canonical", "severity", "message", "header", "target", "underlying",
                    "symbol", "points_to"})
_FLAGS = frozenset({"bitfield", "packed", "hypothetical", "signed"})


def _check_field_types(doc: Any) -> None:
    """Every count a non-negative int, every text a str, every flag a bool (or null), so that
    a hand-edited or corrupt snapshot is an InputError here, not a TypeError downstream."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack += node
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if value is None or not isinstance(key, str):
                    continue
                if (key in _COUNTS and (type(value) is not int or value < 0)) or \
                        (key in _TEXTS and not isinstance(value, str)) or \
                        (key in _FLAGS and not isinstance(value, bool)):
                    raise InputError(f"malformed {SCHEMA_ID} document: {key} is {value!r}")
                if isinstance(value, (list, Mapping)):
                    stack.append(value)


def model_from_json(doc: Mapping[str, Any]) -> Model:
    """Rebuild a model from its JSON document; a wrong schema is an InputError."""
    if not isinstance(doc, Mapping) or doc.get("schema") != SCHEMA_ID:
        found = doc.get("schema") if isinstance(doc, Mapping) else type(doc).__name__
        raise InputError(f"not an {SCHEMA_ID} document (schema: {found!r})")
    _check_field_types(doc)
    try:
        targets = {
            n: TargetInfo(n, t["triple"], t["pointer_bits"], t["endian"], t["hypothetical"])
            for n, t in doc["targets"].items()
        }
        records = tuple(
            Record(r["name"], r["kind"], SourceLocation(r["file"], r["line"], r.get("col", 0)),
                   {t: layout_from_json(lay) for t, lay in r["layouts"].items()},
                   prelude=tuple(r.get("prelude", ())))
            for r in doc["records"]
        )
        enums = tuple(
            Enum(e["name"], SourceLocation(e["file"], e["line"], e.get("col", 0)),
                 {t: EnumLayout(el["size"], el["align"], el["underlying"], el["signed"],
                                tuple(EnumConstant(c["name"], c["value"])
                                      for c in el["constants"]))
                  for t, el in e["layouts"].items()})
            for e in doc.get("enums", ())
        )
        failures = tuple(
            ParseFailure(f["header"], f["target"], tuple(
                Diagnostic(d["severity"], d["message"],
                           SourceLocation(d["file"], d["line"], d["col"]) if "file" in d
                           else None)
                for d in f["diagnostics"]))
            for f in doc.get("failures", ())
        )
        macros = tuple(
            Macro(m["name"], SourceLocation(m["file"], m["line"], m.get("col", 0)),
                  dict(m["values"]), tuple(m.get("records", ())))
            for m in doc.get("macros", ())
        )
        skews = tuple(
            TreeSkew(s["tree"], tuple((v["target"], TreeVersion(s["tree"], v["version"],
                                                                 v["file"]))
                                      for v in s["versions"]), s["fix"])
            for s in doc.get("version_skew", ())
        )
        functions = tuple(function_from_json(f) for f in doc.get("functions", ()))
        preludes = tuple(Prelude(p["header"], tuple(p["added"]), tuple(p["targets"]))
                         for p in doc.get("preludes", ()))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"malformed {SCHEMA_ID} document: missing or wrong field {exc}") from exc
    return Model(targets, records, enums, failures, tuple(doc.get("inputs", ())), macros,
                 skews, functions, preludes)


def json_schema() -> dict[str, Any]:
    """The committed JSON Schema of ``abiscope.layout/1``."""
    text = resources.files("abiscope").joinpath("schema/layout-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def dumps(doc: Mapping[str, Any] | list[Any]) -> str:
    """Deterministic JSON text (the bytes of a snapshot): ``json.dumps(doc, indent=2)``
    (:func:`dumps_bytes`, as text)."""
    return dumps_bytes(doc).decode("ascii")


def dumps_bytes(doc: Mapping[str, Any] | list[Any]) -> bytes:
    """:func:`dumps` as the ASCII bytes written to a file: a 30 MB document is neither
    decoded nor encoded again on its way out.

    orjson writes the same bytes about 25x faster (2.0 s -> 0.08 s for the 32 MB of Linux
    UAPI x i386,x86_64); its output is used only where it is provably the same: ASCII
    without DEL (``json`` escapes non-ASCII and DEL, orjson writes them raw). Anything
    orjson refuses (integers beyond 64 bits, non-string keys) goes to ``json``, which
    also keeps its own errors for what neither can serialise. No model field, nor any
    field of the reports written with it, is a float (where the two format differently:
    orjson writes NaN and infinities as null, 1e-07 as 1e-7); documents that can hold
    floats (``convert``'s member values) keep ``json.dumps``.
    """
    if _orjson is not None:
        try:
            raw = _orjson.dumps(doc, option=_orjson.OPT_INDENT_2 | _orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            pass
        else:
            if raw.isascii() and b"\x7f" not in raw:
                return raw  # (with its newline: no copy of 30 MB to add one)
    return (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode("ascii")


# ---------------------------------------------------------------------------------------
# ioctl request macros as one target sees them (``abiscope ioctls``)


@dataclass(frozen=True)
class IoctlRequest:
    """An ioctl request macro evaluated on one target, with its argument's type.

    ``arg`` is the argument as written (``struct kvm_run``, ``__u32``), ``None`` for
    ``_IO`` or a size given as a number; ``arg_type`` is that type on the target;
    ``alias_of`` the request macro it is defined as (``#define FDDEFMEDIAPRM FDDEFPRM``).
    """

    name: str
    header: str
    location: SourceLocation
    number: int
    arg: str | None
    arg_type: CType | None
    alias_of: str | None = None


@dataclass(frozen=True)
class IoctlSkip:
    """An ioctl request macro that could not be evaluated, and why (clang's words)."""

    name: str
    header: str
    location: SourceLocation
    reason: str


@dataclass(frozen=True)
class IoctlScan:
    """The ioctl request macros of some headers on several targets, and the records their
    arguments reach (laid out per target in ``model``)."""

    model: Model
    requests: Mapping[str, tuple[IoctlRequest, ...]]  # per target
    skipped: Mapping[str, tuple[IoctlSkip, ...]]  # per target

    def __post_init__(self) -> None:
        object.__setattr__(self, "requests", MappingProxyType(dict(self.requests)))
        object.__setattr__(self, "skipped", MappingProxyType(dict(self.skipped)))
