"""ABI evolution: the changes between two models (two snapshots, or headers at two revisions).

Records are paired by name, members by path (``u.create_ioreq_server.id``: anonymous levels
add no component, members of a named record type are looked into), enums by name, ioctl
macros by name; each target is compared on its own and equal findings on several targets are
merged into one change that lists them. Every change is classified ``breaking``,
``compatible`` or ``informational`` with the reason. Reads models only; imports no clang.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .errors import InputError, SourceLocation
from .model import Enum, Macro, Member, Model, Record, RecordLayout, gaps

CLASSES = ("breaking", "compatible", "informational")
FAIL_ON = ("breaking", "compatible", "informational", "never")

#: Every change kind, with what it means (the rule list of the SARIF output).
KINDS: dict[str, str] = {
    "record-added": "a struct or union was added",
    "record-removed": "a struct or union was removed",
    "record-renamed": "a struct or union changed its tag, with the same members",
    "record-kind-changed": "a struct became a union or the reverse",
    "record-size-changed": "the size of a struct or union changed",
    "record-align-changed": "the alignment of a struct or union changed",
    "member-added": "a member was added",
    "member-removed": "a member was removed",
    "member-renamed": "a member was renamed (same offset, size and type)",
    "member-moved": "a member's offset or path changed",
    "member-retyped": "a member's type changed",
    "member-resized": "a member's size changed (an array grew or shrank)",
    "bitfield-width-changed": "a bitfield's width changed",
    "reserved-used": "a reserved or padding member was given a meaning",
    "padding-used": "bytes that were implicit padding were given a meaning",
    "padding-explicit": "implicit padding was made an explicit reserved member",
    "enum-added": "an enum was added",
    "enum-removed": "an enum was removed",
    "enum-size-changed": "the size of an enum changed",
    "enumerator-added": "an enum constant was added",
    "enumerator-removed": "an enum constant was removed",
    "enumerator-renamed": "an enum constant was renamed (same value)",
    "enumerator-changed": "an enum constant's value changed",
    "ioctl-added": "an ioctl request number was added",
    "ioctl-removed": "an ioctl request number was removed",
    "ioctl-changed": "an ioctl request number changed",
}

_RESERVED_RE = re.compile(
    r"^_*(pad|padding|reserved|resv|rsvd|rsv|spare|unused|res|zero|mbz)(_?\d+)?(_.*)?$",
    re.I)
_SIZE_FIELD_RE = re.compile(r"^(size|argsz|argsize|struct_size|size_bytes|cbsize|sz|"
                            r"[a-z0-9_]*_size|hdr_?size)$", re.I)
_SENTINEL_RE = re.compile(r"(_MAX|_LAST|_CNT|_NUM|_COUNT)$|^__?MAX_|^NR_", re.I)
_UNNAMED_RE = re.compile(r"\((unnamed|anonymous) at [^)]*\)")
_ZERO_NOTE = ("compatible only if the old ABI required these bytes to be zero (the consumer "
              "rejects a non-zero value, or every producer clears them); otherwise old "
              "binaries may pass garbage that is now read as meaning")


def is_reserved(name: str) -> bool:
    """A member name that says 'no meaning yet' (pad, reserved, rsvd, spare, unused ...)."""
    leaf = name.rsplit(".", 1)[-1]
    return bool(leaf) and bool(_RESERVED_RE.match(leaf))


def is_sentinel(name: str) -> bool:
    """An enum constant that counts the others (``*_MAX``, ``*_LAST``, ``*_CNT``, ``*_NUM``)."""
    return bool(_SENTINEL_RE.search(name))


def clean(spelling: str) -> str:
    """A type spelling without the file:line of an unnamed record (it moves between
    versions)."""
    return _UNNAMED_RE.sub("(unnamed)", spelling)


@dataclass(frozen=True)
class Values:
    """The old and new value of a change on some targets."""

    targets: tuple[str, ...]
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    """One change between the two sides, on the targets it shows on."""

    kind: str
    classification: str  # breaking | compatible | informational
    record: str  # the record, enum or macro it is about
    member: str  # member path or enum constant; "" for the whole entity
    reason: str
    targets: tuple[str, ...]
    values: tuple[Values, ...] = ()
    note: str = ""
    location: SourceLocation | None = None

    @property
    def fingerprint(self) -> str:
        key = "\0".join((self.kind, self.record, self.member))
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DiffOptions:
    """What the comparison may assume: which records are extensible, which to look at."""

    extensible: tuple[str, ...] = ()  # record patterns declared extensible (tag or name)
    records: tuple[str, ...] = ()  # only these records (patterns); empty: all
    all_files: bool = False  # also records/enums declared outside the inputs


@dataclass(frozen=True)
class DiffResult:
    targets: tuple[str, ...]
    changes: tuple[Change, ...]
    old_inputs: tuple[str, ...] = ()
    new_inputs: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def count(self, classification: str) -> int:
        return sum(1 for c in self.changes if c.classification == classification)


def fails(result: DiffResult, fail_on: str) -> bool:
    """Whether a change at or above ``fail_on`` is present."""
    if fail_on == "never":
        return False
    worst = CLASSES.index(fail_on)
    return any(CLASSES.index(c.classification) <= worst for c in result.changes)


# ---------------------------------------------------------------------------------------
# Per-target raw changes, merged across targets at the end


@dataclass(frozen=True)
class _Raw:
    kind: str
    classification: str
    record: str
    member: str
    reason: str
    target: str
    old: str
    new: str
    note: str = ""
    location: SourceLocation | None = None


@dataclass(frozen=True)
class _Leaf:
    path: str
    member: Member
    offset_bits: int  # from the start of the compared record
    in_union: bool  # some enclosing container is a union


def _bits(n: int) -> str:
    if n % 8:
        return f"{n} bit" + ("s" if n != 1 else "")
    return f"{n // 8} byte" + ("s" if n != 8 else "")


def _at(bits: int) -> str:
    return f"offset {bits // 8}" if bits % 8 == 0 else f"bit offset {bits}"


def _type(m: Member) -> str:
    t = clean(m.type.spelling)
    return f"{t} :{m.bit_width}" if m.bitfield and m.bit_width is not None else t


def _describe(m: Member, offset: int) -> str:
    return f"{_type(m)} at {_at(offset)}, {_bits(m.size_bits)}"


class _Side:
    """One model, with records by name for looking into named member types."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.records = {r.name: r for r in model.records}
        self.inputs = set(model.inputs)

    def leaves(self, layout: RecordLayout, target: str) -> dict[str, _Leaf]:
        out: dict[str, _Leaf] = {}
        self._walk(layout.members, target, "", 0, layout.kind == "union", out, 0)
        return out

    def _walk(self, members: Iterable[Member], target: str, prefix: str, base: int,
              in_union: bool, out: dict[str, _Leaf], depth: int) -> None:
        for m in members:
            path = f"{prefix}.{m.name}" if prefix and m.name else (m.name or prefix)
            offset = base + m.offset_bits
            if m.name:
                out.setdefault(path, _Leaf(path, m, offset, in_union))
            if m.members:
                union = in_union or clean(m.type.spelling).startswith("union") \
                    or m.type.canonical.startswith("union")
                # nested offsets already count from the named record
                self._walk(m.members, target, path, base, union, out, depth)
            elif m.type.kind == "record" and m.type.record and depth < 8:
                nested = self.records.get(m.type.record)
                lay = nested.layouts.get(target) if nested else None
                if lay is not None and m.name:
                    self._walk(lay.members, target, path, offset, in_union
                               or lay.kind == "union", out, depth + 1)


def _extensible(record: Record, layout: RecordLayout, patterns: Sequence[str]) -> str:
    """Why the record may grow at its end ("" if it may not)."""
    tag = record.name.split(" ", 1)[-1]
    if any(fnmatch.fnmatchcase(record.name, p) or fnmatch.fnmatchcase(tag, p)
           for p in patterns):
        return "declared extensible (--extensible)"
    if layout.kind != "struct":
        return ""
    for m in layout.members:
        # a size field in the header of the struct (VFIO argsz at 0, perf_event_attr.size
        # at 4); a 'size' further in is a payload (acrn_mmio_request.size: the access size)
        if m.name and _SIZE_FIELD_RE.match(m.name) and m.type.kind == "int" \
                and m.offset_bits < 64 and m.size_bits >= 16:
            return f"extensible: it carries its own size field '{m.name}'"
    return ""


def _same_type(a: Member, b: Member) -> bool:
    return (clean(a.type.canonical or a.type.spelling) == clean(b.type.canonical
                                                                 or b.type.spelling)
            and a.size_bits == b.size_bits and a.bit_width == b.bit_width)


def _retype_class(a: Member, b: Member) -> tuple[str, str]:
    ta, tb = a.type, b.type
    if a.size_bits != b.size_bits:
        return "breaking", "the type's size changed"
    if clean(ta.canonical) == clean(tb.canonical):
        return "informational", "same underlying type (only the typedef or spelling changed)"
    if ta.kind != tb.kind:
        return "breaking", f"a {ta.kind} became a {tb.kind}"
    if ta.kind in ("int", "enum", "bool"):
        if ta.signed != tb.signed:
            return "breaking", "signedness changed: values with the top bit set read " \
                               "differently"
        return "compatible", "different integer type of the same size and signedness on " \
                             "this target: the bytes mean the same"
    if ta.kind == "array" and ta.element is not None and tb.element is not None \
            and clean(ta.element.canonical) == clean(tb.element.canonical):
        return "breaking", "array dimensions changed"
    if ta.kind == "pointer":
        return "compatible", "pointer to another type, same size: callers' pointers still " \
                             "fit, but check what they point to"
    return "breaking", "a different type of the same size: the bytes are read differently"


def _inside(path: str, paths: Iterable[str]) -> bool:
    """Whether a proper prefix of ``path`` is in ``paths`` (report the container only)."""
    return any(path.startswith(p + ".") for p in paths)


def _compare_members(name: str, old: RecordLayout, new: RecordLayout, target: str,
                     os_: _Side, ns: _Side, extensible: str) -> Iterator[_Raw]:
    ol, nl = os_.leaves(old, target), ns.leaves(new, target)
    removed = [p for p in ol if p not in nl]
    added = [p for p in nl if p not in ol]

    def raw(kind: str, cls: str, path: str, reason: str, o: str, n: str, note: str = "",
            member: Member | None = None) -> _Raw:
        return _Raw(kind, cls, name, path, reason, target, o, n, note,
                    member.location if member is not None else None)

    # reserved space: old reserved members, by extent
    reserved = [(lf.offset_bits, lf.offset_bits + lf.member.size_bits, p)
                for p, lf in ol.items() if is_reserved(p) and not lf.member.members]

    def within_reserved(lf: _Leaf) -> str:
        end = lf.offset_bits + lf.member.size_bits
        return next((p for s, e, p in reserved if s <= lf.offset_bits and end <= e), "")

    # moves to another path: same leaf name, unique partner
    moved: dict[str, str] = {}
    for p in removed:
        leaf = p.rsplit(".", 1)[-1]
        cands = [q for q in added if q not in moved.values() and q.rsplit(".", 1)[-1] == leaf]
        if len(cands) == 1:
            moved[p] = cands[0]
    # renames: same offset, size and type, unique partner
    renamed: dict[str, str] = {}
    for p in removed:
        if p in moved:
            continue
        o = ol[p]
        cands = [q for q in added if q not in renamed.values() and q not in moved.values()
                 and nl[q].offset_bits == o.offset_bits and _same_type(o.member, nl[q].member)
                 and bool(o.member.members) == bool(nl[q].member.members)]
        if len(cands) == 1:
            renamed[p] = cands[0]
    paired = set(renamed.values()) | set(moved.values())

    reused: set[str] = set()  # old reserved members whose bytes were given a meaning
    old_holes, old_tail = gaps(old.members, old.size)
    free = [(h.offset_bits, h.offset_bits + h.size_bits) for h in old_holes]
    free.append((old.size * 8 - old_tail, old.size * 8))

    for p, q in renamed.items():
        o, n = ol[p], nl[q]
        if is_reserved(p) and not is_reserved(q):
            reused.add(p)
            yield raw("reserved-used", "compatible", q, f"reserved member '{p}' is now '{q}'",
                      f"{p}: {_describe(o.member, o.offset_bits)}",
                      f"{q}: {_describe(n.member, n.offset_bits)}", _ZERO_NOTE, n.member)
        else:
            yield raw("member-renamed", "compatible", q,
                      "same offset, size and type: binary compatible, but source that uses "
                      "the old name no longer compiles", p, q, member=n.member)
    for p, q in moved.items():
        o, n = ol[p], nl[q]
        same = o.offset_bits == n.offset_bits and _same_type(o.member, n.member)
        yield raw("member-moved", "compatible" if same else "breaking", q,
                  f"'{p}' is now '{q}'" + (": same offset, size and type (source change "
                                           "only)" if same else ""),
                  f"{p}: {_describe(o.member, o.offset_bits)}",
                  f"{q}: {_describe(n.member, n.offset_bits)}", member=n.member)

    for q in added:
        if q in paired or _inside(q, added):
            continue
        n = nl[q]
        start, end = n.offset_bits, n.offset_bits + n.member.size_bits
        res = within_reserved(n)
        desc = _describe(n.member, start)
        inner = [x for x in nl if x.startswith(q + ".")]
        if inner and all(x in paired or _inside(x, paired) for x in inner if x in added):
            yield raw("member-added", "informational", q,
                      "a named wrapper around members that were there before (their moves are "
                      "listed)", "", desc, member=n.member)
        elif res:
            reused.add(res)
            yield raw("reserved-used", "compatible", q,
                      f"'{q}' takes bytes of the reserved member '{res}'", res, f"{q}: {desc}",
                      _ZERO_NOTE, n.member)
        elif n.member.size_bits and any(s <= start and end <= e for s, e in free):
            if is_reserved(q):
                yield raw("padding-explicit", "informational", q,
                          "implicit padding made an explicit reserved member; no byte moves",
                          "(padding)", desc, member=n.member)
            else:
                yield raw("padding-used", "compatible", q,
                          "a member in bytes that were padding; no other member moves",
                          "(padding)", desc, _ZERO_NOTE, n.member)
        elif not n.member.size_bits:
            yield raw("member-added", "compatible", q, "a flexible array member: no byte "
                      "of the record changes", "", desc, member=n.member)
        elif start >= old.size * 8:
            if extensible:
                yield raw("member-added", "compatible", q, f"appended at the end; the struct "
                          f"is {extensible}", "", desc, member=n.member)
            else:
                yield raw("member-added", "breaking", q,
                          "appended at the end of a struct that is not declared extensible "
                          "(no size field): its size grows, which breaks arrays of it, records "
                          "that embed it and ioctl numbers that encode its size",
                          "", desc, member=n.member)
        elif n.in_union and end <= old.size * 8:
            yield raw("member-added", "compatible", q,
                      "a union member within the union's old size: existing members keep "
                      "their bytes", "", desc, member=n.member)
        else:
            yield raw("member-added", "breaking", q,
                      "inserted among existing members: it overlaps bytes that had a meaning "
                      "or pushes the following members", "", desc, member=n.member)

    for p in removed:
        if p in renamed or p in moved:
            continue
        o = ol[p]
        if p in reused or (is_reserved(p) and any(p.startswith(r + ".") for r in reused)):
            continue
        if _inside(p, removed):
            continue
        if is_reserved(p):
            yield raw("member-removed", "compatible", p,
                      "reserved member removed: its bytes become implicit padding",
                      _describe(o.member, o.offset_bits), "", member=o.member)
        else:
            yield raw("member-removed", "breaking", p,
                      "removed: its bytes lose their meaning and source that uses it breaks",
                      _describe(o.member, o.offset_bits), "", member=o.member)

    for p in ol:
        if p not in nl:
            continue
        o, n = ol[p], nl[p]
        om, nm = o.member, n.member
        if p in reused and is_reserved(p) and n.offset_bits >= o.offset_bits and \
                n.offset_bits + nm.size_bits <= o.offset_bits + om.size_bits:
            if (n.offset_bits, nm.size_bits) != (o.offset_bits, om.size_bits):
                yield raw("reserved-used", "compatible", p,
                          f"the reserved member '{p}' shrank to make room",
                          _describe(om, o.offset_bits), _describe(nm, n.offset_bits),
                          _ZERO_NOTE, nm)
            continue
        if o.offset_bits != n.offset_bits:
            yield raw("member-moved", "breaking", p, "its offset changed",
                      _at(o.offset_bits), _at(n.offset_bits), member=nm)
        if om.bitfield and nm.bitfield and om.bit_width != nm.bit_width:
            yield raw("bitfield-width-changed", "breaking", p,
                      "bitfield width changed: the bits of this and following fields move or "
                      "values no longer fit", f"{_type(om)}", f"{_type(nm)}", member=nm)
        elif om.bitfield != nm.bitfield:
            yield raw("member-retyped", "breaking", p, "bitfield became a whole member or "
                      "the reverse", _type(om), _type(nm), member=nm)
        elif clean(om.type.spelling) != clean(nm.type.spelling) or \
                clean(om.type.canonical) != clean(nm.type.canonical):
            ta, tb = om.type, nm.type
            if ta.kind == tb.kind == "array" and ta.element and tb.element and \
                    clean(ta.element.spelling) == clean(tb.element.spelling):
                yield raw("member-resized", "breaking", p, "array dimensions changed",
                          f"{_type(om)} ({_bits(om.size_bits)})",
                          f"{_type(nm)} ({_bits(nm.size_bits)})", member=nm)
                continue
            cls, why = _retype_class(om, nm)
            yield raw("member-retyped", cls, p, why, f"{_type(om)} ({_bits(om.size_bits)})",
                      f"{_type(nm)} ({_bits(nm.size_bits)})", member=nm)
        elif om.size_bits != nm.size_bits:
            yield raw("member-resized", "breaking", p, "its size changed",
                      _bits(om.size_bits), _bits(nm.size_bits), member=nm)


def _compare_record(old: Record, new: Record, target: str, os_: _Side, ns: _Side,
                    options: DiffOptions) -> Iterator[_Raw]:
    lo, ln = old.layouts[target], new.layouts[target]
    name = new.name
    loc = new.location
    if lo.kind != ln.kind:
        yield _Raw("record-kind-changed", "breaking", name, "", "a struct became a union or "
                   "the reverse: every member but the first moves or overlaps", target,
                   lo.kind, ln.kind, location=loc)
    extensible = _extensible(old, lo, options.extensible)
    if lo.size != ln.size:
        if ln.size > lo.size and extensible and lo.kind == ln.kind == "struct":
            yield _Raw("record-size-changed", "compatible", name, "", f"grew at the end; the "
                       f"struct is {extensible}: old callers pass the old size and the "
                       "consumer must zero-fill the rest", target, f"{lo.size} bytes",
                       f"{ln.size} bytes", location=loc)
        else:
            yield _Raw("record-size-changed", "breaking", name, "", "size changed: arrays of "
                       "it, records that embed it and sizeof-based ioctl numbers change",
                       target, f"{lo.size} bytes", f"{ln.size} bytes", location=loc)
    if lo.align != ln.align:
        yield _Raw("record-align-changed", "breaking", name, "", "alignment changed: records "
                   "that embed it may move it, arrays of it may change stride", target,
                   str(lo.align), str(ln.align), location=loc)
    yield from _compare_members(name, lo, ln, target, os_, ns, extensible)


def _enum_constants(enums: Iterable[Enum]) -> dict[str, tuple[Enum, dict[str, dict[str, int]]]]:
    """Enums by name; unnamed enums pooled as one (their names hold a moving line number)."""
    out: dict[str, tuple[Enum, dict[str, dict[str, int]]]] = {}
    for e in enums:
        key = "(anonymous enums)" if _UNNAMED_RE.search(e.name) else e.name
        _, per_target = out.setdefault(key, (e, {}))
        for t, lay in e.layouts.items():
            per_target.setdefault(t, {}).update({c.name: c.value for c in lay.constants})
    return out


def _compare_enums(old: Model, new: Model, targets: Sequence[str],
                   options: DiffOptions) -> Iterator[_Raw]:
    oe, ne = _enum_constants(old.enums), _enum_constants(new.enums)
    o_in, n_in = set(old.inputs), set(new.inputs)
    for name in sorted(set(oe) | set(ne)):
        if options.records and not _matches(name, options.records):
            continue
        if name not in ne:
            e = oe[name][0]
            if options.all_files or e.location.file in o_in:
                for t in targets:
                    if t in e.layouts:
                        yield _Raw("enum-removed", "breaking", name, "", "enum removed",
                                   t, name, "", location=e.location)
            continue
        if name not in oe:
            e = ne[name][0]
            if options.all_files or e.location.file in n_in:
                for t in targets:
                    if t in e.layouts:
                        yield _Raw("enum-added", "compatible", name, "", "enum added", t, "",
                                   name, location=e.location)
            continue
        (eo, co), (en, cn) = oe[name], ne[name]
        loc = en.location
        for t in targets:
            if t not in co or t not in cn:
                continue
            lo, ln = eo.layouts.get(t), en.layouts.get(t)
            if lo is not None and ln is not None and lo.size != ln.size \
                    and name != "(anonymous enums)":
                yield _Raw("enum-size-changed", "breaking", name, "", "the enum's size changed",
                           t, f"{lo.size} bytes", f"{ln.size} bytes", location=loc)
            a, b = co[t], cn[t]
            gone = [c for c in a if c not in b]
            new_names = [c for c in b if c not in a]
            for c in gone:
                partner = [x for x in new_names if b[x] == a[c]]
                if len(partner) == 1:
                    new_names.remove(partner[0])
                    yield _Raw("enumerator-renamed", "compatible", name, partner[0],
                               "same value under a new name: binary compatible, source "
                               "using the old name breaks", t, c, partner[0], location=loc)
                else:
                    yield _Raw("enumerator-removed", "breaking", name, c, "constant removed",
                               t, f"{c} = {a[c]}", "", location=loc)
            for c in new_names:
                yield _Raw("enumerator-added", "compatible", name, c, "constant added", t, "",
                           f"{c} = {b[c]}", location=loc)
            for c in a:
                if c in b and a[c] != b[c]:
                    if is_sentinel(c) and b[c] > a[c]:
                        yield _Raw("enumerator-changed", "compatible", name, c,
                                   "a sentinel (count or maximum) grew because constants were "
                                   "added: compatible, as Linux's UAPI checker treats it", t,
                                   str(a[c]), str(b[c]), location=loc)
                    else:
                        yield _Raw("enumerator-changed", "breaking", name, c, "value changed: "
                                   "old binaries send or expect the old number", t, str(a[c]),
                                   str(b[c]), location=loc)


_WIDE_DIR = ("ppc", "ppc64", "ppc64le", "mips", "mips64", "sparc64")


def decode_ioctl(value: int, target: str) -> str:
    """dir/type/nr/size of a Linux ioctl request number (asm-generic or 3-bit-dir layout)."""
    size_bits = 13 if target in _WIDE_DIR else 14
    size = (value >> 16) & ((1 << size_bits) - 1)
    return f"{value:#x} (type {(value >> 8) & 0xff:#x}, nr {value & 0xff}, size {size})"


def _compare_macros(old: Model, new: Model, targets: Sequence[str]) -> Iterator[_Raw]:
    om: dict[str, Macro] = {m.name: m for m in old.macros}
    nm: dict[str, Macro] = {m.name: m for m in new.macros}
    for name in sorted(set(om) | set(nm)):
        a, b = om.get(name), nm.get(name)
        for t in targets:
            va = a.values.get(t) if a else None
            vb = b.values.get(t) if b else None
            if va is None and vb is not None:
                yield _Raw("ioctl-added", "compatible", name, "", "ioctl request added", t, "",
                           decode_ioctl(vb, t), location=b.location if b else None)
            elif va is not None and vb is None:
                yield _Raw("ioctl-removed", "breaking", name, "", "ioctl request removed: old "
                           "binaries send a number that is no longer handled", t,
                           decode_ioctl(va, t), "", location=a.location if a else None)
            elif va is not None and vb is not None and va != vb:
                why = "the request number changed (the size it encodes" + (
                    f": {', '.join(b.records)}" if b and b.records else "") + \
                    " or its type/nr/direction): old binaries send the old number"
                yield _Raw("ioctl-changed", "breaking", name, "", why, t, decode_ioctl(va, t),
                           decode_ioctl(vb, t), location=b.location if b else None)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    tag = name.split(" ", 1)[1] if name.startswith(("struct ", "union ", "enum ")) else name
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(tag, p) for p in patterns)


def _merge(raws: Iterable[_Raw], targets: Sequence[str]) -> tuple[Change, ...]:
    order = {t: i for i, t in enumerate(targets)}
    groups: dict[tuple[str, ...], list[_Raw]] = {}
    for r in raws:
        key = (r.kind, r.record, r.member, r.classification, r.reason, r.note)
        groups.setdefault(key, []).append(r)
    changes = []
    for (kind, record, member, cls, reason, note), rs in groups.items():
        tgts = tuple(sorted({r.target for r in rs}, key=lambda t: order.get(t, 99)))
        by_value: dict[tuple[str, str], list[str]] = {}
        for r in rs:
            by_value.setdefault((r.old, r.new), []).append(r.target)
        values = tuple(
            Values(tuple(sorted(set(ts), key=lambda t: order.get(t, 99))), o, n)
            for (o, n), ts in sorted(by_value.items(),
                                     key=lambda kv: min(order.get(t, 99) for t in kv[1])))
        loc = next((r.location for r in rs if r.location is not None), None)
        changes.append(Change(kind, cls, record, member, reason, tgts, values, note, loc))
    rank = {c: i for i, c in enumerate(CLASSES)}
    kinds = list(KINDS)
    changes.sort(key=lambda c: (c.record, rank[c.classification], c.member,
                                kinds.index(c.kind), c.targets))
    return tuple(changes)


def _shape(side: _Side, record: Record, targets: Sequence[str]) -> tuple[object, ...]:
    out: list[object] = []
    for t in targets:
        lay = record.layouts.get(t)
        if lay is None:
            out.append(None)
            continue
        leaves = side.leaves(lay, t)
        out.append((lay.size, lay.align, tuple(
            (p, lf.offset_bits, lf.member.size_bits, clean(lf.member.type.canonical))
            for p, lf in sorted(leaves.items()))))
    return tuple(out)


def _pair_records(os_: _Side, ns: _Side, targets: Sequence[str]) -> dict[str, str]:
    """Old name -> new name for records that changed name: ``struct T`` that became
    ``union T``, and a tag renamed with the same members, offsets and types (one candidate)."""
    gone = [n for n in os_.records if n not in ns.records]
    new = [n for n in ns.records if n not in os_.records]
    pairs: dict[str, str] = {}
    for n in gone:
        kind, _, tag = n.partition(" ")
        other = {"struct": "union", "union": "struct"}.get(kind)
        if other and f"{other} {tag}" in new:
            pairs[n] = f"{other} {tag}"
    shapes = {n: _shape(ns, ns.records[n], targets) for n in new if n not in pairs.values()
              and ns.records[n].location.file in ns.inputs}
    for n in gone:
        if n in pairs or os_.records[n].location.file not in os_.inputs:
            continue
        shape = _shape(os_, os_.records[n], targets)
        cands = [m for m, sh in shapes.items() if sh == shape
                 and ns.records[m].kind == os_.records[n].kind]
        if len(cands) == 1 and _UNNAMED_RE.search(n) is None:
            pairs[n] = cands[0]
            del shapes[cands[0]]
    return pairs


def diff_models(old: Model, new: Model, options: DiffOptions | None = None) -> DiffResult:
    """Every change from ``old`` to ``new``; both must cover the same targets."""
    options = options or DiffOptions()
    if set(old.targets) != set(new.targets):
        only_old = sorted(set(old.targets) - set(new.targets))
        only_new = sorted(set(new.targets) - set(old.targets))
        raise InputError(
            "the two sides cover different targets (old: " + ",".join(old.targets)
            + "; new: " + ",".join(new.targets) + ")"
            + (f"; only old: {','.join(only_old)}" if only_old else "")
            + (f"; only new: {','.join(only_new)}" if only_new else "")
            + ". Snapshot or parse both sides with the same --target.")
    targets = tuple(new.targets)
    os_, ns = _Side(old), _Side(new)
    raws: list[_Raw] = []
    notes: set[str] = set()
    failed = {"old": {f.target for f in old.failures}, "new": {f.target for f in new.failures}}
    names = sorted(set(os_.records) | set(ns.records))
    pairs = _pair_records(os_, ns, targets)
    for name in names:
        if options.records and not _matches(name, options.records):
            continue
        if name in pairs.values() and name not in os_.records:
            continue  # compared with its old name
        ro, rn = os_.records.get(name), ns.records.get(pairs.get(name, name))
        if name in pairs and ro is not None and rn is not None and ro.kind == rn.kind:
            raws += [_Raw("record-renamed", "compatible", rn.name, "", "same members, offsets "
                          "and types under a new tag: binary compatible, source that uses the "
                          "old name breaks", t, name, rn.name, location=rn.location)
                     for t in targets if t in rn.layouts]
        for t in targets:
            has_o = ro is not None and t in ro.layouts
            has_n = rn is not None and t in rn.layouts
            if has_o and has_n and ro is not None and rn is not None:
                raws += _compare_record(ro, rn, t, os_, ns, options)
            elif has_o and ro is not None and t in failed["new"]:
                notes.add(f"the new side does not parse completely for {t}: records missing "
                          "there are not reported as removed")
            elif has_n and rn is not None and t in failed["old"]:
                notes.add(f"the old side does not parse completely for {t}: records missing "
                          "there are not reported as added")
            elif has_o and ro is not None and (options.all_files
                                               or ro.location.file in os_.inputs):
                lay = ro.layouts[t]
                raws.append(_Raw("record-removed", "breaking", name, "", "removed: code that "
                                 "uses it no longer builds, binaries built with it lose it", t,
                                 f"{lay.size} bytes", "", location=ro.location))
            elif has_n and rn is not None and (options.all_files
                                               or rn.location.file in ns.inputs):
                lay = rn.layouts[t]
                raws.append(_Raw("record-added", "compatible", name, "", "added", t, "",
                                 f"{lay.size} bytes", location=rn.location))
    raws += _compare_enums(old, new, targets, options)
    if not options.records:
        raws += _compare_macros(old, new, targets)
    return DiffResult(targets, _merge(raws, targets), tuple(old.inputs), tuple(new.inputs),
                      tuple(sorted(notes)))
