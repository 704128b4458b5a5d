"""Which ioctl requests need a compat handler: the same request seen by two ABIs.

For each request macro of the headers, its number on the native and the compat target and
its argument's layout decide one class, the first that applies in this order:

``number_differs``  the number differs (``sizeof`` of the argument differs: ABI012);
``layout_differs``  same number, but some member of the argument sits elsewhere or has
                    another size: the handler must translate;
``pointer``         the argument holds a pointer or a ``long`` somewhere: the handler must
                    convert it even where the sizes happen to agree;
``same``            same number and identical bytes: no compat handler needed.

``flags`` lists every class that applies. Reads an :class:`~abiscope.model.IoctlScan`; no
clang here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from .model import (
    CType,
    IoctlRequest,
    IoctlScan,
    IoctlSkip,
    Member,
    Model,
    byte_position,
    byte_size,
    iter_members,
)
from .sameness import compare_layouts

SCHEMA_ID = "abiscope.ioctls/1"
IoctlClass = Literal["number_differs", "layout_differs", "pointer", "same"]
CLASSES: tuple[IoctlClass, ...] = ("number_differs", "layout_differs", "pointer", "same")
LONG_TYPES = frozenset({"long", "unsigned long", "long int", "unsigned long int"})


@dataclass(frozen=True)
class Reason:
    """Why a class applies: a message, and for a member its (offset, size) bits per side."""

    flag: IoctlClass
    message: str
    member: str | None = None
    native: tuple[int, int] | None = None
    compat: tuple[int, int] | None = None


@dataclass(frozen=True)
class IoctlEntry:
    macro: str
    header: str
    line: int
    native_number: int
    compat_number: int
    arg_type: str | None
    klass: IoctlClass
    flags: tuple[IoctlClass, ...]
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...] = ()  # the layout comparison's notes (a zero-size member, ...)
    alias_of: str | None = None  # the request macro this one is defined as


@dataclass(frozen=True)
class Skipped:
    macro: str
    header: str
    line: int
    reason: str


@dataclass(frozen=True)
class IoctlReport:
    native: str
    compat: str
    ioctls: tuple[IoctlEntry, ...]
    skipped: tuple[Skipped, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {c: 0 for c in CLASSES}
        for e in self.ioctls:
            out[e.klass] += 1
        return out


def _leaf_types(t: CType, model: Model, target: str, depth: int = 0) -> Iterator[
        tuple[str, CType]]:
    """(member path, type) of every scalar the type holds, looking into records and arrays."""
    if depth > 64:
        return
    if t.kind == "array" and t.element is not None:
        yield from _leaf_types(t.element, model, target, depth + 1)
    elif t.kind == "record":
        record = model.record(t.record) if t.record else None
        layout = record.layouts.get(target) if record else None
        if layout is not None:
            yield from _member_types(layout.members, model, target, depth + 1)
    else:
        yield "", t


def _member_types(members: tuple[Member, ...], model: Model, target: str,
                  depth: int) -> Iterator[tuple[str, CType]]:
    for path, m in iter_members(members):
        if m.members:
            continue  # its members follow
        for sub, t in _leaf_types(m.type, model, target, depth):
            yield (f"{path}.{sub}" if sub else path), t


def _pointer_reasons(t: CType, model: Model, target: str) -> list[Reason]:
    out: list[Reason] = []
    for path, leaf in _leaf_types(t, model, target):
        if leaf.kind == "pointer":
            what = "a pointer"
        elif leaf.canonical in LONG_TYPES:
            what = f"a {leaf.canonical}"
        else:
            continue
        where = f"member {path}" if path else "the argument"
        out.append(Reason("pointer", f"{where} is {what} ({leaf.spelling})", path or None))
    return out


def _shape(bits: tuple[int, int] | None) -> str:
    if bits is None:
        return "absent"
    return f"byte {byte_position(bits[0])} ({byte_size(bits[1], long=True)})"


def _layout_reasons(t: CType, model: Model, native: str, compat: str
                    ) -> tuple[list[Reason], tuple[str, ...]]:
    """The argument record's members whose offset or size differs, and the notes, by the one
    comparison (``abiscope.sameness``: paired by name at every depth, a 64-bit handle compared
    whole, a zero-size member on one side no byte difference)."""
    core = t.element if t.kind == "array" and t.element is not None else t
    if core.kind != "record" or not core.record:
        return [], ()
    record = model.record(core.record)
    if record is None or native not in record.layouts or compat not in record.layouts:
        return [], ()
    found = compare_layouts(model, (record, native), (record, compat))
    out: list[Reason] = []
    for d in found.deltas:
        if not d.member:
            a, b = record.layouts[native].size, record.layouts[compat].size
            out.append(Reason("layout_differs", f"{record.name} is "
                                                f"{byte_size(a * 8, long=True)} on {native}, "
                                                f"{b} on {compat} ({d.cause})"))
            continue
        out.append(Reason("layout_differs", f"{record.name}: {d.member} at "
                          f"{_shape(d.native)} on {native}, {_shape(d.compat)} on {compat} "
                          f"({d.cause})", d.member, d.native, d.compat))
    return out, tuple(f"{record.name}: {n}" for n in found.notes)


def _classify(a: IoctlRequest, b: IoctlRequest, model: Model, native: str,
              compat: str) -> IoctlEntry:
    reasons: list[Reason] = []
    if a.number != b.number:
        size_a, size_b = (a.arg_type.size if a.arg_type else None,
                          b.arg_type.size if b.arg_type else None)
        what = f"sizeof({a.arg}) is {size_a} on {native}, {size_b} on {compat}" \
            if a.arg and size_a != size_b else "the request macro expands differently"
        reasons.append(Reason("number_differs", f"{a.number:#x} on {native}, {b.number:#x} "
                                                f"on {compat}: {what} (ABI012)"))
    notes: tuple[str, ...] = ()
    if a.arg_type is not None:
        layout, notes = _layout_reasons(a.arg_type, model, native, compat)
        reasons += layout
        reasons += _pointer_reasons(a.arg_type, model, native)
    flags = tuple(c for c in CLASSES if any(r.flag == c for r in reasons)) or ("same",)
    return IoctlEntry(a.name, a.header, a.location.line, a.number, b.number, a.arg, flags[0],
                      flags, tuple(reasons), notes)


# the size field of a Linux request number: 13 bits on these, 14 elsewhere (_IOC_SIZEBITS)
_SIZE_BITS_13 = ("powerpc", "mips", "sparc", "alpha")


def _size_field(number: int, triple: str) -> int:
    bits = 13 if triple.startswith(_SIZE_BITS_13) else 14
    return (number >> 16) & ((1 << bits) - 1)


def scan_of_model(model: Model, targets: tuple[str, ...]) -> IoctlScan:
    """The requests of a model's macros (``abiscope ioctls --snapshot``), without clang.

    A snapshot keeps each request's number per target and the records its definition
    mentions, not the argument as written nor whether a request is an alias. The argument
    is taken to be the one record a request mentions when the size in its number is that
    record's size on every target (``_IOW('f', 1, struct foo)``); otherwise (a pointer to
    it, a scalar, ``_IO``) the request has no argument type here, and only its numbers
    are compared. A request that mentions a record the snapshot has no layout of (made
    without ``--all-files``, the record is another header's) is skipped, saying so.
    """
    records = {r.name: r for r in model.records}
    requests: dict[str, list[IoctlRequest]] = {t: [] for t in targets}
    skipped: dict[str, list[IoctlSkip]] = {t: [] for t in targets}
    for m in sorted(model.macros, key=lambda m: (m.location.file, m.location.line, m.name)):
        if not all(t in m.values for t in targets):
            continue
        missing = [n for n in m.records
                   if n not in records or not all(t in records[n].layouts for t in targets)]
        if missing:
            for t in targets:
                skipped[t].append(IoctlSkip(
                    m.name, m.location.file, m.location,
                    f"the snapshot has no layout of {missing[0]} on {t} (make the snapshot "
                    "with --all-files)"))
            continue
        record = records.get(m.records[0]) if len(m.records) == 1 else None
        if record is not None and not all(
                t in record.layouts and record.layouts[t].size
                == _size_field(m.values[t], model.targets[t].triple) for t in targets):
            record = None
        for t in targets:
            arg_type = None if record is None else CType(
                record.name, "record", record.layouts[t].size, record.layouts[t].align,
                record.name, record=record.name)
            requests[t].append(IoctlRequest(m.name, m.location.file, m.location, m.values[t],
                                            record.name if record else None, arg_type))
    return IoctlScan(model, {t: tuple(r) for t, r in requests.items()},
                     {t: tuple(s) for t, s in skipped.items()})


def audit(scan: IoctlScan, native: str, compat: str) -> IoctlReport:
    """Classify every request macro found on both targets; the rest goes to ``skipped``."""
    ours = {(r.header, r.name): r for r in scan.requests.get(native, ())}
    theirs = {(r.header, r.name): r for r in scan.requests.get(compat, ())}
    entries = [replace(_classify(r, theirs[key], scan.model, native, compat),
                       alias_of=r.alias_of)
               for key, r in ours.items() if key in theirs]
    skipped: dict[tuple[str, str], Skipped] = {}
    for target, other in ((native, compat), (compat, native)):
        for s in scan.skipped.get(target, ()):
            skipped.setdefault((s.header, s.name), Skipped(
                s.name, s.header, s.location.line, f"on {target}: {s.reason}"))
        mine = ours if target == native else theirs
        rest = theirs if target == native else ours
        for key, r in mine.items():
            if key not in rest and key not in skipped:
                skipped[key] = Skipped(r.name, r.header, r.location.line,
                                       f"defined on {target} only, not on {other}")
    entries.sort(key=lambda e: (e.header, e.line, e.macro))
    return IoctlReport(native, compat, tuple(entries),
                       tuple(sorted(skipped.values(), key=lambda s: (s.header, s.line))))
