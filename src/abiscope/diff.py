"""ABI evolution: the changes between two models (two snapshots, or headers at two revisions).

Records are paired by name, members by path (``u.create_ioreq_server.id``: anonymous levels
add no component, members of a named record type are looked into), enums by name (unnamed
enums by the header that declares them), ioctl macros by name; each target is compared on its
own and equal findings on several targets are merged into one change that lists them. Every
change is classified ``breaking``, ``compatible`` or ``informational`` with the reason.
Nothing declared in a header that did not parse on both sides (on a target) is compared
there: such headers are listed as not compared. Reads models only; imports no clang.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .errors import InputError, SourceLocation
from .functions import FunctionChange, diff_functions
from .model import CType, Enum, Macro, Member, Model, Record, RecordLayout, gaps

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
# a count or maximum, as a suffix (``__IFLA_MAX``, ``DEVCONF_MAX``, ``IO_OP_NUM``) or a
# prefix (``NUM_NL80211_ATTR``, ``MAX_NL80211_EXT_FEATURES``, ``__MAX_FOO``, ``NR_FOO``)
_SENTINEL_RE = re.compile(r"_(MAX|LAST|CNT|NUM|COUNT)$|^_*(MAX|LAST|CNT|NUM|COUNT|NR)_",
                          re.I)
_UNNAMED_RE = re.compile(r"\((unnamed|anonymous) at [^)]*\)")
_ZERO_NOTE = ("compatible only if the old ABI required these bytes to be zero (the consumer "
              "rejects a non-zero value, or every producer clears them); otherwise old "
              "binaries may pass garbage that is now read as meaning")


def is_reserved(name: str) -> bool:
    """A member name that says 'no meaning yet' (pad, reserved, rsvd, spare, unused ...)."""
    leaf = name.rsplit(".", 1)[-1]
    return bool(leaf) and bool(_RESERVED_RE.match(leaf))


def is_sentinel(name: str) -> bool:
    """An enum constant that counts the others: ``*_MAX``, ``*_LAST``, ``*_CNT``, ``*_NUM``,
    ``*_COUNT`` or the same words as a prefix (``NUM_*``, ``MAX_*``, ``__MAX_*``, ``NR_*``)."""
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
class NotCompared:
    """A header that did not parse on one side (or both) for some targets: nothing it
    declares is reported there as removed, added, renamed or changed."""

    header: str
    targets: tuple[str, ...]
    failed_on: tuple[str, ...]  # "old", "new" or both
    skipped: int  # records, enums and ioctl macros of it present on a side, not compared


@dataclass(frozen=True)
class DiffResult:
    targets: tuple[str, ...]
    changes: tuple[Change, ...]
    old_inputs: tuple[str, ...] = ()
    new_inputs: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    not_compared: tuple[NotCompared, ...] = ()
    # the functions the inputs declare (abiscope.functions; rendered by report.functions)
    functions: tuple[FunctionChange, ...] = ()

    def count(self, classification: str) -> int:
        return sum(1 for c in self.changes if c.classification == classification)


def fails(result: DiffResult, fail_on: str) -> bool:
    """Whether a change at or above ``fail_on`` is present."""
    if fail_on == "never":
        return False
    worst = CLASSES.index(fail_on)
    return any(CLASSES.index(c.classification) <= worst for c in result.changes) \
        or any(CLASSES.index(f.classification) <= worst for f in result.functions)


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


def _files(model: Model) -> set[str]:
    """Every file a model names: inputs, failed headers, where things are declared."""
    out: set[str] = set(model.inputs) | {f.header for f in model.failures}
    for loc in (*(r.location for r in model.records), *(e.location for e in model.enums),
                *(m.location for m in model.macros)):
        out.add(loc.file)
    return {os.path.abspath(f) for f in out}


def _root(model: Model) -> str:
    """The common directory of a side's inputs."""
    dirs = [os.path.dirname(os.path.abspath(f)) for f in model.inputs]
    return os.path.commonpath(dirs) if dirs else os.getcwd()


def _pair_files(old: Model, new: Model) -> dict[str, str]:
    """Old file -> the new file that is the same header: the same path below the common
    directory of the side's inputs (``linux/nfs.h`` of two trees), else the one path whose
    last components (two or more) agree best with it, so that headers match when the
    inputs of a side span more directories than the other's."""
    old_root, new_root = _root(old), _root(new)
    new_files = _files(new)
    by_rel = {os.path.relpath(f, new_root): f for f in new_files}
    by_name: dict[str, list[tuple[str, ...]]] = {}
    for f in new_files:
        parts = tuple(f.split(os.sep))
        by_name.setdefault(parts[-1], []).append(parts)
    out: dict[str, str] = {}
    for f in _files(old):
        same = by_rel.get(os.path.relpath(f, old_root))
        if same is not None:
            out[f] = same
            continue
        parts = tuple(f.split(os.sep))
        scored = []
        for cand in by_name.get(parts[-1], ()):
            n = 0
            while n < min(len(parts), len(cand)) and parts[-1 - n] == cand[-1 - n]:
                n += 1
            scored.append((n, cand))
        scored.sort(reverse=True)
        if scored and scored[0][0] >= 2 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            out[f] = os.sep.join(scored[0][1])
    return out


class _Headers:
    """The header that declares each thing, named alike on both sides, and the headers
    that did not parse, per side and target: nothing they declare is compared there."""

    def __init__(self, old: Model, new: Model) -> None:
        if len(old.inputs) == len(new.inputs) == 1:  # old.h, new.h: one header
            same = {os.path.abspath(old.inputs[0]): os.path.abspath(new.inputs[0])}
        else:
            same = _pair_files(old, new)

        def key(side: int, file: str) -> str:
            path = os.path.abspath(file)
            return path if side else same.get(path, "\0old\0" + path)

        self._key = key
        self.failed: dict[str, dict[str, set[str]]] = {}  # target -> key -> sides
        self.spelled: dict[str, str] = {}  # key -> the header as a failure spells it
        self.any_failed: dict[str, set[str]] = {"old": set(), "new": set()}
        for side, model in enumerate((old, new)):
            name = ("old", "new")[side]
            for f in model.failures:
                k = key(side, f.header)
                self.failed.setdefault(f.target, {}).setdefault(k, set()).add(name)
                self.spelled.setdefault(k, f.header)
                self.any_failed[name].add(f.target)
        self.skipped: dict[str, set[tuple[str, str]]] = {}  # key -> (what, name) not compared

    def key(self, side: int, file: str) -> str:
        return self._key(side, file)

    def uncompared(self, target: str, what: str, name: str,
                   old_file: str | None, new_file: str | None) -> bool:
        """Whether a thing declared in these files is not compared on ``target`` (its
        header did not parse there on one side or both); counted if so."""
        failed = self.failed.get(target)
        if not failed:
            return False
        for side, file in ((0, old_file), (1, new_file)):
            if file is not None and (k := self._key(side, file)) in failed:
                self.skipped.setdefault(k, set()).add((what, name))
                return True
        return False

    def uncompared_anywhere(self, side: int, file: str) -> bool:
        k = self._key(side, file)
        return any(k in failed for failed in self.failed.values())

    def report(self, targets: Sequence[str]) -> tuple[NotCompared, ...]:
        order = {t: i for i, t in enumerate(targets)}
        out = []
        for k, header in self.spelled.items():
            tgts = sorted((t for t, failed in self.failed.items() if k in failed),
                          key=lambda t: order.get(t, 99))
            sides = set().union(*(self.failed[t][k] for t in tgts))
            out.append(NotCompared(header, tuple(tgts),
                                   tuple(s for s in ("old", "new") if s in sides),
                                   len(self.skipped.get(k, ()))))
        return tuple(sorted(out, key=lambda n: n.header))


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


def _zero_or_flexible(a: CType, b: CType) -> bool:
    """``T x[0]`` and ``T x[]`` (inner dimensions equal): the same layout, no bytes."""
    return (a.kind == b.kind == "array" and bool(a.dims) and bool(b.dims)
            and a.dims[0] in (0, None) and b.dims[0] in (0, None) and a.dims[1:] == b.dims[1:]
            and a.element is not None and b.element is not None
            and clean(a.element.canonical) == clean(b.element.canonical))


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
        elif not n.member.size_bits:  # before reserved bytes: it takes none of them
            if n.member.type.kind == "array":
                yield raw("member-added", "compatible", q, "a flexible array member: no byte "
                          "of the record changes", "", desc, member=n.member)
            else:
                yield raw("member-added", "informational", q, "a member of size 0 (an empty "
                          "struct, like __DECLARE_FLEX_ARRAY's placeholder): no byte of the "
                          "record changes", "", desc, member=n.member)
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
        if not o.member.size_bits and o.member.type.kind != "array":
            yield raw("member-removed", "informational", p, "a member of size 0 (an empty "
                      "struct): no byte of the record changes",
                      _describe(o.member, o.offset_bits), "", member=o.member)
        elif is_reserved(p):
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
            if _zero_or_flexible(ta, tb) and om.size_bits == nm.size_bits:
                yield raw("member-retyped", "informational", p, "a zero-length array became "
                          "a flexible array member or the reverse: same element, offset and "
                          "size (0), no byte changes", _type(om), _type(nm), member=nm)
                continue
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


_Pool = tuple[str, Enum, dict[str, dict[str, int]]]  # shown name, an enum, constants


def _enum_constants(enums: Iterable[Enum], headers: _Headers, side: int) -> dict[str, _Pool]:
    """Enums by name; the unnamed enums of one header pooled as one, keyed by that header
    (their names hold a line number that moves). Values: the name shown, an enum of the
    group (its location) and the constants per target."""
    out: dict[str, _Pool] = {}
    for e in enums:
        if _UNNAMED_RE.search(e.name):
            key = "\0anonymous enums\0" + headers.key(side, e.location.file)
            shown = f"(anonymous enums in {e.location.file})"
        else:
            key = shown = e.name
        _, _, per_target = out.setdefault(key, (shown, e, {}))
        for t, lay in e.layouts.items():
            per_target.setdefault(t, {}).update({c.name: c.value for c in lay.constants})
    return out


def _constants_by_name(pools: dict[str, _Pool]) -> dict[str, dict[str, int]]:
    """Every constant of a side by name, per target (a constant is identified by its name)."""
    out: dict[str, dict[str, int]] = {}
    for _, _, per_target in pools.values():
        for t, constants in per_target.items():
            into = out.setdefault(t, {})
            for c, v in constants.items():
                into.setdefault(c, v)
    return out


def _value_changed(name: str, c: str, t: str, old: int, new: int,
                   loc: SourceLocation) -> _Raw:
    if is_sentinel(c) and new > old:
        return _Raw("enumerator-changed", "compatible", name, c, "a sentinel (count or "
                    "maximum) grew because constants were added: compatible, as Linux's UAPI "
                    "checker treats it", t, str(old), str(new), location=loc)
    return _Raw("enumerator-changed", "breaking", name, c, "value changed: old binaries send "
                "or expect the old number", t, str(old), str(new), location=loc)


def _compare_enums(old: Model, new: Model, targets: Sequence[str], options: DiffOptions,
                   headers: _Headers) -> Iterator[_Raw]:
    oe, ne = _enum_constants(old.enums, headers, 0), _enum_constants(new.enums, headers, 1)
    old_all, new_all = _constants_by_name(oe), _constants_by_name(ne)
    o_in, n_in = set(old.inputs), set(new.inputs)
    for key in sorted(set(oe) | set(ne)):
        po, pn = oe.get(key), ne.get(key)
        shown, e, _ = pn or po or ("", None, {})
        assert e is not None
        name, loc = shown, e.location  # the new side's, else the old's
        if options.records and not _matches(name, options.records):
            continue
        eo, en = (po[1] if po else None), (pn[1] if pn else None)
        ofile = eo.location.file if eo else None
        nfile = en.location.file if en else None
        anonymous = key.startswith("\0")
        if (po is None or pn is None) and not (
                options.all_files or e.location.file in (o_in if po else n_in)):
            continue
        if (po is None or pn is None) and not anonymous:
            for t in targets:
                if t not in e.layouts or headers.uncompared(t, "enum", name, ofile, nfile):
                    continue
                if eo is not None:
                    yield _Raw("enum-removed", "breaking", name, "", "enum removed", t, name,
                               "", location=loc)
                else:
                    yield _Raw("enum-added", "compatible", name, "", "enum added", t, "",
                               name, location=loc)
            continue
        # both sides, or every unnamed enum of a header added or removed: by constant
        co, cn = (po[2] if po else {}), (pn[2] if pn else {})
        for t in targets:
            if (t not in co and t not in cn) or (po is not None and pn is not None
                                                 and (t not in co or t not in cn)):
                continue
            if headers.uncompared(t, "enum", name, ofile, nfile):
                continue
            lo = eo.layouts.get(t) if eo else None
            ln = en.layouts.get(t) if en else None
            if lo is not None and ln is not None and lo.size != ln.size and not anonymous:
                yield _Raw("enum-size-changed", "breaking", name, "", "the enum's size changed",
                           t, f"{lo.size} bytes", f"{ln.size} bytes", location=loc)
            a, b = co.get(t, {}), cn.get(t, {})
            elsewhere_old, elsewhere_new = old_all.get(t, {}), new_all.get(t, {})
            gone = [c for c in a if c not in b]
            # a name new here but known on the old side is a constant that moved: reported
            # (if at all) where it was
            new_names = [c for c in b if c not in a and c not in elsewhere_old]
            for c in gone:
                if c in elsewhere_new:  # moved to another enum or header, same name
                    if elsewhere_new[c] != a[c]:
                        yield _value_changed(name, c, t, a[c], elsewhere_new[c], loc)
                    continue
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
                    yield _value_changed(name, c, t, a[c], b[c], loc)


_WIDE_DIR = ("ppc", "ppc64", "ppc64le", "mips", "mips64", "sparc64")


def decode_ioctl(value: int, target: str) -> str:
    """dir/type/nr/size of a Linux ioctl request number (asm-generic or 3-bit-dir layout)."""
    size_bits = 13 if target in _WIDE_DIR else 14
    size = (value >> 16) & ((1 << size_bits) - 1)
    return f"{value:#x} (type {(value >> 8) & 0xff:#x}, nr {value & 0xff}, size {size})"


def _compare_macros(old: Model, new: Model, targets: Sequence[str],
                    headers: _Headers) -> Iterator[_Raw]:
    om: dict[str, Macro] = {m.name: m for m in old.macros}
    nm: dict[str, Macro] = {m.name: m for m in new.macros}
    for name in sorted(set(om) | set(nm)):
        a, b = om.get(name), nm.get(name)
        for t in targets:
            if headers.uncompared(t, "ioctl", name, a.location.file if a else None,
                                  b.location.file if b else None):
                continue
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


def _pair_records(os_: _Side, ns: _Side, targets: Sequence[str],
                  headers: _Headers) -> dict[str, str]:
    """Old name -> new name for records that changed name: ``struct T`` that became
    ``union T``, and a tag renamed with the same members, offsets and types (one candidate).
    Records of a header that did not parse everywhere are not candidates."""
    gone = [n for n in os_.records if n not in ns.records
            and not headers.uncompared_anywhere(0, os_.records[n].location.file)]
    new = [n for n in ns.records if n not in os_.records
           and not headers.uncompared_anywhere(1, ns.records[n].location.file)]
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
    headers = _Headers(old, new)
    raws: list[_Raw] = []
    notes: set[str] = set()
    names = sorted(set(os_.records) | set(ns.records))
    pairs = _pair_records(os_, ns, targets, headers)
    for name in names:
        if options.records and not _matches(name, options.records):
            continue
        if name in pairs.values() and name not in os_.records:
            continue  # compared with its old name
        ro, rn = os_.records.get(name), ns.records.get(pairs.get(name, name))
        ofile = ro.location.file if ro is not None else None
        nfile = rn.location.file if rn is not None else None
        if name in pairs and ro is not None and rn is not None and ro.kind == rn.kind:
            raws += [_Raw("record-renamed", "compatible", rn.name, "", "same members, offsets "
                          "and types under a new tag: binary compatible, source that uses the "
                          "old name breaks", t, name, rn.name, location=rn.location)
                     for t in targets if t in rn.layouts]
        for t in targets:
            has_o = ro is not None and t in ro.layouts
            has_n = rn is not None and t in rn.layouts
            if not (has_o or has_n) or headers.uncompared(t, "record", name, ofile, nfile):
                continue
            if has_o and has_n and ro is not None and rn is not None:
                raws += _compare_record(ro, rn, t, os_, ns, options)
            elif has_o and ro is not None and (options.all_files
                                               or ro.location.file in os_.inputs):
                if ro.location.file not in os_.inputs and t in headers.any_failed["new"]:
                    notes.add(f"the new side does not parse completely for {t}: records of "
                              "headers that are not inputs, missing there, are not reported "
                              "as removed")
                    continue
                lay = ro.layouts[t]
                raws.append(_Raw("record-removed", "breaking", name, "", "removed: code that "
                                 "uses it no longer builds, binaries built with it lose it", t,
                                 f"{lay.size} bytes", "", location=ro.location))
            elif has_n and rn is not None and (options.all_files
                                               or rn.location.file in ns.inputs):
                if rn.location.file not in ns.inputs and t in headers.any_failed["old"]:
                    notes.add(f"the old side does not parse completely for {t}: records of "
                              "headers that are not inputs, missing there, are not reported "
                              "as added")
                    continue
                lay = rn.layouts[t]
                raws.append(_Raw("record-added", "compatible", name, "", "added", t, "",
                                 f"{lay.size} bytes", location=rn.location))
    raws += _compare_enums(old, new, targets, options, headers)
    if not options.records:
        raws += _compare_macros(old, new, targets, headers)
    not_compared = headers.report(targets)
    for side in ("old", "new"):
        for t in headers.any_failed[side]:
            notes.add(f"the {side} side does not parse completely for {t}: nothing declared in "
                      "a header that did not parse is compared there (listed as not compared)")
    changes = _merge(raws, targets)
    functions: tuple[FunctionChange, ...] = ()
    if bool(old.functions) != bool(new.functions):
        # (a snapshot written before models held functions has none: every function of
        # the other side would be reported added or removed)
        side = "old" if not old.functions else "new"
        notes.add(f"the {side} side holds no functions (a snapshot from an abiscope that did "
                  "not record them, or headers that declare none): functions are not "
                  "compared")
    else:
        functions = _function_changes(old, new, targets, changes)
    return DiffResult(targets, changes, tuple(old.inputs), tuple(new.inputs),
                      tuple(sorted(notes)), not_compared, functions)


def _function_changes(old: Model, new: Model, targets: Sequence[str],
                      changes: Sequence[Change]) -> tuple[FunctionChange, ...]:
    broken: dict[str, set[str]] = {}  # per target, the records with a breaking change
    for c in changes:
        if c.classification == "breaking":
            for t in c.targets:
                broken.setdefault(t, set()).add(c.record)
    return diff_functions(old, new, targets, broken)
