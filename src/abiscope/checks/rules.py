"""The rules ABI001 to ABI014 (RULES.md), one small class each.

A rule looks at one record across every selected target and yields one finding per root
cause, listing all targets it affects. Wording lives here; rendering lives in the reporters;
the long documentation of each rule is its page, ``pages/<ID>.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import CType, Member, Model, Record, RecordLayout, byte_size, iter_members
from ..sameness import (
    Comparison,
    TargetComparison,
    compare_records,
    compare_targets,
    covered,
    record_index,
)
from . import (
    CheckContext,
    Evidence,
    Finding,
    Rule,
    bytes_text,
    grouped,
    members_by_path,
    target_list,
)
from .fixes import is_flexible, padded_record, padding_decl, padding_fix

# Typedef names whose width the data model decides, and names whose width is fixed.
WIDTH_DEPENDENT = frozenset({
    "long", "unsigned long", "long double", "size_t", "ssize_t", "ptrdiff_t", "intptr_t",
    "uintptr_t", "time_t", "off_t", "wchar_t", "clock_t", "suseconds_t", "xen_ulong_t",
    "__kernel_long_t", "__kernel_ulong_t", "__kernel_size_t", "__kernel_ssize_t",
    "__kernel_ptrdiff_t", "__kernel_time_t", "__kernel_off_t", "__kernel_clock_t",
    "__kernel_suseconds_t", "__kernel_old_time_t",
})
FIXED_WIDTH = frozenset(
    {f"{p}int{n}_t" for p in ("", "u") for n in (8, 16, 32, 64)}
    | {f"__{p}{n}" for p in ("u", "s", "le", "be") for n in (8, 16, 32, 64)}
    | {"__aligned_u64", "__aligned_s64", "__aligned_le64", "__aligned_be64",
       "uint64_aligned_t", "int64_aligned_t", "__kernel_loff_t", "__kernel_long_long_t"}
)
IMPLICIT_INTS = frozenset({"int", "unsigned int", "short", "unsigned short", "long long",
                           "unsigned long long", "signed char"})
FIXED_FOR = {(True, 1): "int8_t", (False, 1): "uint8_t", (True, 2): "int16_t",
             (False, 2): "uint16_t", (True, 4): "int32_t", (False, 4): "uint32_t",
             (True, 8): "int64_t", (False, 8): "uint64_t"}


def _base(t: CType) -> CType:
    """The element type of an array, else the type itself."""
    return t.element if t.kind == "array" and t.element is not None else t


def _unqualified(spelling: str) -> str:
    return spelling.replace("const ", "").replace("volatile ", "")


def _width_dependent(t: CType) -> str | None:
    """The name that makes a type's width depend on the data model, or None."""
    t = _base(t)
    if t.kind == "pointer":
        return t.spelling
    for name in t.typedefs:
        if name in FIXED_WIDTH:
            return None
        if name in WIDTH_DEPENDENT:
            return name
    canonical = _unqualified(t.canonical)
    return canonical if canonical in WIDTH_DEPENDENT else None


def _present(record: Record, ctx: CheckContext) -> list[str]:
    return [t for t in ctx.model.targets if t in record.layouts]


_EachMember = tuple[tuple[str, Member, dict[str, Member]], ...]
_EACH: dict[tuple[int, tuple[str, ...]], tuple[Record, _EachMember]] = {}


def _each_member(record: Record, targets: Iterable[str]) -> _EachMember:
    """(path, member on the first target having it, {target: member}) in declaration order.

    Made once per record and targets, since every member rule asks (175,000 times on the
    UAPI tree), in a bounded table keyed by identity that holds the record: the dicts are
    shared by the rules, which only read them."""
    key = (id(record), tuple(targets))
    known = _EACH.get(key)
    if known is not None and known[0] is record:
        return known[1]
    seen: dict[str, dict[str, Member]] = {}
    for t in key[1]:
        for path, m in members_by_path(record, t).items():
            seen.setdefault(path, {})[t] = m
    out = tuple((path, next(iter(by_target.values())), by_target)
                for path, by_target in seen.items())
    if len(_EACH) >= 65536:
        _EACH.clear()
    _EACH[key] = (record, out)
    return out


def _pairs(model: Model, record: Record, targets: Iterable[str]) -> TargetComparison:
    """The one comparison between every pair of targets having the record, as ``compat``
    makes it for each pair: ABI003, ABI004 and ABI013 read it, so ``check`` and ``compat``
    cannot disagree."""
    return compare_targets(model, record, targets)


def _offset_text(m: Member) -> str:
    off = m.offset_bits
    return f"{off // 8}" if off % 8 == 0 else f"{off // 8}:{off % 8}"


class MemberRule(Rule):
    """A rule about single members: ``describe`` says what is wrong with one (message,
    cause, fix) or returns None; the base walks the members and builds the findings."""

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        raise NotImplementedError

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        for path, first, by_target in _each_member(record, _present(record, ctx)):
            described = self.describe(path, first, by_target)
            if described is not None:
                message, cause, fix = described
                yield self.finding(
                    record, path, by_target, message, cause, fix, location=first.location,
                    evidence=[Evidence(t, m.offset_bits, m.size_bits)
                              for t, m in by_target.items()])


class InteriorPadding(Rule):
    id, name, severity = "ABI001", "interior-padding", "warning"
    summary = "an implicit hole between two members on some target"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        if record.kind != "struct":
            return
        by_after: dict[str, dict[str, tuple[int, int]]] = {}
        for t in _present(record, ctx):
            for h in record.layouts[t].holes:
                by_after.setdefault(h.after, {})[t] = (h.offset_bits, h.size_bits)
        for after, holes in by_after.items():
            t0 = ctx.reference if ctx.reference in holes else next(iter(holes))
            off, size = holes[t0]
            nxt = _member_at(record.layouts[t0], off + size)
            cause = f"{nxt.type.spelling} (aligned to {nxt.align})" if nxt else "alignment"
            text = grouped({t: f"{bytes_text(s)} at offset {o // 8}" + (
                f":{o % 8}" if o % 8 else "") for t, (o, s) in holes.items()})
            where = f"after `{after}`" if after else "before the first member"
            members = members_by_path(record, t0)
            loc = members[after].location if after in members else None
            pad = padding_fix(record, t0).get(after) or padding_decl(size // 8, record, off // 8)
            yield self.finding(
                record, after, holes, f"implicit hole {where}: {text}", cause,
                f"make the padding explicit: add `{pad}` "
                f"{where} (see --fix-preview)",
                location=loc,
                evidence=[Evidence(t, o, s) for t, (o, s) in holes.items()],
                fix_preview=padded_record(record, ctx.reference if ctx.reference in
                                          record.layouts else t0),
            )


def _member_at(layout: RecordLayout, offset_bits: int) -> Member | None:
    for _, m in iter_members(layout.members):
        if m.offset_bits == offset_bits and m.name:
            return m
    return None


class TailPadding(Rule):
    id, name, severity = "ABI002", "tail-padding", "warning"
    summary = "implicit padding after the last member"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        tails = {t: record.layouts[t] for t in _present(record, ctx)
                 if record.layouts[t].tail_padding > 0}
        if not tails:
            return
        text = grouped({t: f"size {lay.size}, members end at "
                           f"{bytes_text(lay.size * 8 - lay.tail_padding_bits)}, "
                           f"{bytes_text(lay.tail_padding * 8)} of tail padding"
                        for t, lay in tails.items()})
        t0 = ctx.reference if ctx.reference in tails else next(iter(tails))
        lay = tails[t0]
        last = lay.members[-1] if lay.members else None
        tail_decl = padding_fix(record, t0).get(None) or padding_decl(lay.tail_padding, record)
        yield self.finding(
            record, "", tails,
            f"tail padding changes the array stride ({text}): an array of "
            f"{record.name} is laid out with stride {lay.size}, not the "
            f"{byte_size((lay.size * 8 - lay.tail_padding_bits + 7) // 8 * 8, long=True)} "
            "its members use",
            f"{record.name} (aligned to {lay.align})",
            (f"add `{tail_decl}` as a member as large as the union (see --fix-preview)"
             if lay.kind == "union" else
             f"the padding follows the flexible array member `{last.name}`, where no member "
             "can declare it: end the members before it at a multiple of the record's "
             "alignment (a new layout), or document that those bytes are undefined"
             if last is not None and is_flexible(last) else f"add `{tail_decl}` after "
             f"`{last.name if last else 'the last member'}` (see --fix-preview)"),
            evidence=[Evidence(t, lay.size * 8 - lay.tail_padding_bits, lay.tail_padding_bits,
                               f"size {lay.size}") for t, lay in tails.items()],
            fix_preview=padded_record(record, t0),
        )


class LayoutDiffers(Rule):
    id, name, severity = "ABI003", "layout-differs", "warning"
    summary = "size, alignment or member offsets/widths differ across the selected targets"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        targets = [t for t in ctx.real_targets if t in record.layouts]
        if len(targets) < 2:
            return  # a record declared on one target only has no layout to differ from
        lays = {t: record.layouts[t] for t in targets}
        found = _pairs(ctx.model, record, targets)
        size_text = grouped({t: f"{byte_size(lay.size * 8, long=True)} (align {lay.align})"
                             for t, lay in lays.items()})
        if found.same:
            if len({lay.align for lay in lays.values()}) > 1:
                yield self.finding(
                    record, "", targets,
                    f"alignment differs across targets ({size_text}); sizes and offsets "
                    "agree, so this matters only where the record is embedded", "alignment",
                    "give it one alignment everywhere (an explicitly aligned member or "
                    "`__attribute__((aligned(N)))`)", severity="note")
            return
        shapes: dict[str, dict[str, tuple[int, int] | None]] = {}
        resized: set[str] = set()
        for (a, b), c in found.pairs.items():
            for d in c.deltas:
                if not d.member:
                    continue
                per = shapes.setdefault(d.member, {})
                for t in found.groups[a]:
                    per.setdefault(t, d.native)
                for t in found.groups[b]:
                    per.setdefault(t, d.compat)
                if d.native is not None and d.compat is not None and d.native[1] != d.compat[1]:
                    resized.add(d.member)
        differing = list(shapes)
        root = next((p for p in differing if p in resized), differing[0] if differing else "")
        details = [f"`{path}` " + grouped({t: _shape_text(shapes[path][t])
                                           for t in targets if t in shapes[path]})
                   for path in differing[:6]]
        more = f" and {len(differing) - 6} more" if len(differing) > 6 else ""
        cause_member = next((m for t in targets
                             if (m := members_by_path(record, t).get(root)) is not None), None) \
            if root else None
        cause = cause_member.type.spelling if cause_member else "size"
        yield self.finding(
            record, root, targets,
            f"layout differs across targets: {size_text}"
            + ("; " + "; ".join(details) + more if details else ""),
            cause,
            "use fixed-width types with explicit alignment and padding so one layout serves "
            "every target, or translate between the layouts (a compat layer)",
            location=cause_member.location if cause_member else None,
            evidence=[Evidence(t, 0, lay.size * 8, f"align {lay.align}")
                      for t, lay in lays.items()],
        )


def _shape_text(shape: tuple[int, int] | None) -> str:
    if shape is None:
        return "absent"
    off, size = shape
    return (f"{off // 8}" if off % 8 == 0 else f"{off // 8}:{off % 8}") + f"+{bytes_text(size)}"


class WidthDependentType(MemberRule):
    id, name, severity = "ABI004", "width-dependent-type", "warning"
    summary = "a member whose type's size depends on the data model"

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        cause = None if member.members else _width_dependent(member.type)
        if cause is None:
            return None
        sizes = grouped({t: bytes_text(m.size_bits) for t, m in by_target.items()})
        return (f"`{path}` has type {member.type.spelling}, whose width depends on the data "
                f"model ({sizes})", cause,
                "use a fixed-width type (uint32_t/uint64_t, or a 64-bit handle for pointers) "
                "or translate the record per width")

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        """As every member rule, but a member the one comparison compares as a whole with
        the same bytes on the real targets (a 64-bit handle: the idiom that makes a pointer
        8 bytes everywhere) is not width-dependent, unless some pair finds it differs."""
        findings = list(super().check(ctx, record))
        if not findings:
            return
        real = [t for t in ctx.real_targets if t in record.layouts]
        found = _pairs(ctx.model, record, real)
        index = record_index(ctx.model)
        compared = [*found.pairs.values(), *(  # a handle on one side is a handle to itself
            compare_records((record, t), (record, t), (index, index)) for t in found.groups)]
        wholes = [w for c in compared for w in c.wholes]
        differs = [d.member for c in found.pairs.values() for d in c.deltas if d.member]
        for f in findings:
            if not wholes or not covered(f.member, wholes) or covered(f.member, differs):
                yield f


class Unaligned64(Rule):
    id, name, severity = "ABI005", "unaligned-64bit", "warning"
    summary = "a 64-bit member aligned below 8 on some target while 8 elsewhere"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        if any(lay.packed for lay in record.layouts.values()):
            return  # every member of a packed record is 1-aligned: ABI010's business
        for path, first, by_target in _each_member(record, _present(record, ctx)):
            base = _base(first.type)
            if first.bitfield or base.size != 8 or base.kind not in ("int", "float", "enum"):
                continue
            aligns = {t: max(m.type.element.align or 1, m.align_attr or 0)
                      if m.type.kind == "array" and m.type.element else m.declared_align
                      for t, m in by_target.items()}
            low = {t: a for t, a in aligns.items() if a is not None and a < 8}
            if not low or all(a is not None and a < 8 for a in aligns.values()):
                continue
            offsets = {m.offset_bits for m in by_target.values()}
            consequence = (
                "so its offset differs between targets ("
                + grouped({t: _offset_text(m) for t, m in by_target.items()}) + ")"
                if len(offsets) > 1 else
                "its offset agrees today only because what precedes it happens to keep it "
                "8-aligned; the record's alignment still differs")
            yield self.finding(
                record, path, low,
                f"`{path}` ({first.type.spelling}) is 64-bit but aligned to "
                + grouped({t: str(a) for t, a in low.items()})
                + f" (8 elsewhere): {consequence}",
                f"{first.type.spelling} aligned {min(low.values())} on {target_list(list(low))}",
                "use an explicitly aligned type: `__aligned_u64` (Linux UAPI), "
                "`uint64_aligned_t` (Xen), or `_Alignas(8) uint64_t`",
                location=first.location,
                evidence=[Evidence(t, by_target[t].offset_bits, by_target[t].size_bits,
                                   f"align {a}") for t, a in low.items()])


class NonPowerOfTwoSize(Rule):
    id, name, severity = "ABI006", "non-power-of-two-size", "note"
    summary = "a record whose size is not a power of two"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        odd = {t: record.layouts[t].size for t in _present(record, ctx)
               if record.layouts[t].size & (record.layouts[t].size - 1)}
        if not odd:
            return
        in_array = record.name in ctx.array_elements
        yield self.finding(
            record, "", odd,
            f"size is not a power of two ({grouped({t: str(s) for t, s in odd.items()})})"
            + ("; it is used as an array element" if in_array else ""),
            record.name,
            "pad it to the next power of two with explicit reserved space, if the interface "
            "uses it in arrays or rings",
            severity="warning" if in_array else None,
            evidence=[Evidence(t, 0, s * 8) for t, s in odd.items()])


class Bitfield(MemberRule):
    id, name, severity = "ABI007", "bitfield", "note"
    summary = "a bitfield member"

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        if not member.bitfield:
            return None
        return (f"`{path}` is a {member.bit_width}-bit bitfield of {member.type.spelling}: "
                "allocation order and unit are implementation-defined",
                member.type.spelling, "use a fixed-width integer with explicit masks and shifts")


class EnumMember(MemberRule):
    id, name, severity = "ABI008", "enum-member", "note"
    summary = "a member of enum type"

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        if _base(member.type).kind != "enum":
            return None
        return (f"`{path}` has enum type {member.type.spelling}, whose size is "
                "implementation-defined (-fshort-enums, MSVC, C23 underlying types)",
                member.type.spelling,
                "store the value in a fixed-width integer (uint32_t) and document the enum")


class BoolOrPlainChar(MemberRule):
    id, name, severity = "ABI009", "bool-or-plain-char", "note"
    summary = "_Bool/bool, or plain char used as a number"

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        t = member.type
        if t.kind == "bool" or _base(t).kind == "bool":
            return f"`{path}` is _Bool ({t.spelling})", t.spelling, "use uint8_t (0 or 1)"
        if t.kind == "int" and _unqualified(t.canonical) == "char":
            signs = grouped({tg: "signed" if m.type.signed else "unsigned"
                             for tg, m in by_target.items()})
            return (f"`{path}` is plain char ({t.spelling}): signedness differs by target "
                    f"({signs})", t.spelling, "use int8_t or uint8_t, whichever the value needs")
        return None


class PackedMisaligned(Rule):
    id, name, severity = "ABI010", "packed-misaligned", "warning"
    summary = "a member at a misaligned offset inside a packed record"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        for path, first, by_target in _each_member(record, _present(record, ctx)):
            bad = {t: m for t, m in by_target.items()
                   if not m.bitfield and m.size_bits and m.offset_bits % (m.align * 8)}
            if not bad:
                continue
            yield self.finding(
                record, path, bad,
                f"`{path}` ({first.type.spelling}, alignment {first.align}) sits at offset "
                + grouped({t: _offset_text(m) for t, m in bad.items()})
                + ": misaligned access is slow or traps on strict-alignment targets and "
                "cannot be atomic",
                first.type.spelling,
                "reorder the members or add explicit padding so every member is naturally "
                "aligned, then drop `packed` if nothing else needs it",
                location=first.location,
                evidence=[Evidence(t, m.offset_bits, m.size_bits) for t, m in bad.items()])


class FlexibleArray(MemberRule):
    id, name, severity = "ABI011", "flexible-array", "note"
    summary = "a flexible or zero-length array member"

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        t = member.type
        if t.kind != "array" or not t.dims or t.dims[0]:
            return None
        kind = "flexible" if t.dims[0] is None else "zero-length"
        return (f"`{path}` is a {kind} array ({t.spelling}): sizeof excludes it, and its "
                "alignment may still add tail padding", t.spelling,
                "document the element count field and check sizes against it on both sides")


class IoctlSizeDiffers(Rule):
    id, name, severity = "ABI012", "ioctl-size-differs", "error"
    summary = "an ioctl request number that encodes sizeof of a record whose size differs"

    def check_model(self, ctx: CheckContext) -> Iterable[Finding]:
        records = {r.name: r for r in ctx.model.records}
        for macro in ctx.model.macros:
            for name in macro.records:
                rec = records.get(name)
                if rec is None:
                    continue
                sizes = {t: rec.layouts[t].size for t in macro.values if t in rec.layouts}
                if len(set(sizes.values())) < 2:
                    continue
                values = grouped({t: f"{macro.values[t]:#x} (sizeof {sizes[t]})"
                                  for t in sizes})
                yield Finding(
                    rule=self.id, name=self.name, severity=self.severity, record=name,
                    member=macro.name, targets=tuple(sizes),
                    message=f"ioctl {macro.name} encodes sizeof({name}), which differs by "
                            f"target, so the request number itself changes: {values}",
                    cause=name,
                    fix=f"make {name} the same size on every target (fixed-width types, "
                        "explicit padding), or give the kernel a compat handler for the "
                        "other number",
                    location=macro.location,
                    evidence=tuple(Evidence(t, 0, s * 8, f"{macro.values[t]:#x}")
                                   for t, s in sizes.items()))


class NotFutureproof(Rule):
    id, name, severity = "ABI013", "not-futureproof", "note"
    summary = "one layout on every real target that a 128-bit data model changes"

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        real = [t for t in ctx.real_targets if t in record.layouts]
        if not real or not _pairs(ctx.model, record, real).same:
            return  # absent, or already one layout per width (ABI003/ABI004 say so)
        base = record.layouts[real[0]]
        ours = record_index(ctx.model)
        changed: dict[str, tuple[RecordLayout, Comparison]] = {}
        for name, model in {**ctx.hypothetical, **{
                t: ctx.model for t, i in ctx.model.targets.items() if i.hypothetical}}.items():
            rec = model.record(record.name)
            if rec is None or name not in rec.layouts:
                continue
            c = compare_records((record, real[0]), (rec, name), (ours, record_index(model)))
            if c.deltas:
                changed[name] = (rec.layouts[name], c)
        if not changed:
            return
        grown = []
        cause = ""
        for name, (lay, c) in changed.items():
            members = dict(iter_members(lay.members))
            for d in c.deltas:
                if not d.member:
                    continue
                new = members.get(d.member)
                if not cause and new is not None and d.native is not None and \
                        d.compat is not None and d.native[1] != d.compat[1]:
                    cause = f"{new.type.spelling} (member `{d.member}`)"
                grown.append(f"`{d.member}` {_shape_text(d.native)} -> {_shape_text(d.compat)} "
                             f"on {name}")
        sizes = grouped({t: f"{byte_size(lay.size * 8, long=True)}, align {lay.align}"
                         for t, (lay, _) in changed.items()})
        yield self.finding(
            record, "", changed,
            f"one layout ({byte_size(base.size * 8, long=True)}, align {base.align}) on every "
            "real target, but a "
            f"128-bit data model changes it ({sizes})"
            + (": " + "; ".join(grown[:4]) if grown else ""),
            cause or "alignment of a pointer-sized member",
            "use a plain uint64_t address (or a pointer + size_t translated per width) "
            "rather than a fixed-width union with a pointer in it",
            evidence=[Evidence(t, 0, lay.size * 8) for t, (lay, _) in changed.items()])


class ImplicitIntWidth(MemberRule):
    id, name, severity = "ABI014", "implicit-int-width", "note"
    summary = "plain int/short/long long rather than fixed-width types"

    def describe(self, path: str, member: Member,
                 by_target: dict[str, Member]) -> tuple[str, str, str] | None:
        base = _base(member.type)
        canonical = _unqualified(base.canonical)
        if member.bitfield or base.typedefs or canonical not in IMPLICIT_INTS:
            return None
        fixed = FIXED_FOR.get((bool(base.signed), base.size or 0), "a fixed-width type")
        return (f"`{path}` uses {canonical}: its size is fixed on today's targets but not by "
                "the C standard", canonical, f"use {fixed}")


RULES: tuple[type[Rule], ...] = (
    InteriorPadding, TailPadding, LayoutDiffers, WidthDependentType, Unaligned64,
    NonPowerOfTwoSize, Bitfield, EnumMember, BoolOrPlainChar, PackedMisaligned, FlexibleArray,
    IoctlSizeDiffers, NotFutureproof, ImplicitIntWidth,
)


class PathMismatch(Rule):
    """Raised by ``abiscope paths`` (``abiscope.paths``), not by ``check``: the path comes
    from the configuration or the command line, not from the header."""

    id, name, severity = "ABI015", "path-mismatch", "error"
    summary = ("a layered path passes a record unchanged between two ABIs whose layouts of it "
               "differ, with no declared translator")


PATH_RULES: tuple[type[Rule], ...] = (PathMismatch,)

# The whole catalogue as `abiscope rules` lists it: what `check` runs, then what other
# commands raise (ABI015 from `abiscope paths`).
CATALOGUE: tuple[type[Rule], ...] = RULES + PATH_RULES
