"""``abiscope layout --format pahole``: one target's layouts as pahole (dwarves 1.24) prints them.

A pahole user should read this without surprise: the same ``/* offset size */`` columns,
``/* XXX N bytes hole, try to pack */`` and bit-hole comments, the bitfield
``/* byte:bit size */`` form (byte = the start of the bitfield's storage unit),
``/* Bitfield combined with previous fields */``, cacheline boundaries, and the closing
``/* size: …, cachelines: …, members: … */``, ``/* sum members: … */``, ``/* padding: N */``
summaries. Holes and padding follow pahole's own accounting (``class__find_holes``): a gap
inside a bitfield's storage unit is a bit hole, the rest a byte hole; padding is the size
minus the end of the last member's storage unit. Reads the model only.

Like pahole, it infers ``__attribute__((__packed__))`` (a member off its natural
alignment, or a size that is not a multiple of the largest one, with no hole or padding)
and prints ``__attribute__((__aligned__(N)))`` where GCC records the user's alignment (a
member's or record's own ``aligned(N)``, an aligned typedef, and a record holding such a
member); records come in GCC's debug-information order (:func:`_definition_order`), and a
record known only by a typedef prints as ``typedef struct { ... } NAME;`` (a full listing
leaves it out, as pahole's does). Remaining differences: docs/report.md, "pahole parity".
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UsageError
from ..model import CType, EnumConstant, Member, Model, Record, RecordLayout

CACHELINE = 64
TYPE_SPACING = 26
NAME_SPACING = 23
UNION_NAME_SPACING = 21

# GCC's DWARF names for the builtin integer types, as pahole prints them.
_GCC_NAMES = {
    "long": "long int", "signed long": "long int", "long int": "long int",
    "unsigned long": "long unsigned int", "unsigned long int": "long unsigned int",
    "short": "short int", "signed short": "short int", "short int": "short int",
    "unsigned short": "short unsigned int", "unsigned short int": "short unsigned int",
    "long long": "long long int", "signed long long": "long long int",
    "unsigned long long": "long long unsigned int", "unsigned": "unsigned int",
    "signed": "int", "signed int": "int",
}
_UNNAMED = re.compile(r"^enum \((?:unnamed|anonymous) at (.*):(\d+):(\d+)\)$")
_TAGS = re.compile(r"\b(?:struct|union) \w+")
_POINTERS = re.compile(r"^(.*?) ?(\*\*+)$")
_CONST_POINTER = re.compile(r"^(const .*?) \*$")
_BUILTIN = re.compile(r"^(?P<q>(?:const |volatile )*)(?P<base>[a-z ]+?)(?P<ptr>\s*\**)$")


def _gcc_spelling(spelling: str) -> str:
    stars = _POINTERS.match(spelling)
    if stars:  # pahole: `struct sem_queue * *`
        return f"{_gcc_spelling(stars[1] + ' *')}" + " *" * (len(stars[2]) - 1)
    const = _CONST_POINTER.match(spelling)
    if const:  # pahole: `const char  *`
        return f"{_gcc_spelling(const[1])}  *"
    m = _BUILTIN.match(spelling)
    if not m or m["base"] not in _GCC_NAMES:
        return spelling
    ptr = m["ptr"].strip()
    return f"{m['q']}{_GCC_NAMES[m['base']]}" + (f" {ptr}" if ptr else "")


@dataclass
class _View:
    """One member as pahole sees it: offsets relative to its enclosing record."""

    member: Member
    bit_offset: int  # from the start of the enclosing (possibly nested) record
    byte_offset: int  # pahole's: the storage unit's first byte for a bitfield
    bitfield_offset: int
    byte_size: int
    bitfield_size: int
    hole: int = 0
    bit_hole: int = 0

    @property
    def bit_size(self) -> int:
        return self.byte_size * 8


def _view(m: Member, base_bits: int) -> _View:
    rel = m.offset_bits - base_bits
    if not m.bitfield:
        return _View(m, rel, rel // 8, 0, m.size_bits // 8, 0)
    byte_size = m.type.size or max((m.size_bits + 7) // 8, 1)
    bit_size = byte_size * 8
    byte_offset = rel // 8
    bitfield_offset = rel - byte_offset * 8 + (byte_offset % byte_size) * 8
    byte_offset = rel // bit_size * bit_size // 8
    if bitfield_offset >= bit_size:
        bitfield_offset -= bit_size
        byte_offset += byte_size
    return _View(m, rel, byte_offset, bitfield_offset, byte_size, m.size_bits)


@dataclass
class _Holes:
    pre_hole: int = 0
    pre_bit_hole: int = 0
    nr_holes: int = 0
    nr_bit_holes: int = 0
    padding: int = 0
    bit_padding: int = 0


def _find_holes(views: Sequence[_View], size: int) -> _Holes:
    """pahole's hole accounting for a struct (fills ``hole``/``bit_hole`` of each view)."""
    out = _Holes()
    cur_end, cur_size, last_seen = size * 8, 0, 0
    in_bitfield = False
    last: _View | None = None
    for pos in views:
        start = pos.bit_offset
        end = start + (pos.bitfield_size or pos.byte_size * 8)
        bit_holes = byte_holes = 0
        if in_bitfield:
            bitfield_end = min(start, cur_end)
            bit_holes = bitfield_end - last_seen
            last_seen = bitfield_end
        if pos.bitfield_size:
            aligned_start = pos.byte_offset * 8
            if last_seen < aligned_start <= start:
                byte_holes = pos.byte_offset - last_seen // 8
                last_seen = aligned_start
            bit_holes += start - last_seen
        else:
            byte_holes = start // 8 - last_seen // 8
        last_seen = end
        if pos.bitfield_size:
            in_bitfield = True
            if end > cur_end or pos.bit_size > cur_size:
                cur_size = pos.bit_size
                cur_end = pos.byte_offset * 8 + cur_size
                if end > cur_end:
                    cur_end += cur_size
        else:
            in_bitfield, cur_size, cur_end = False, 0, end
        if last is not None:
            last.hole, last.bit_hole = byte_holes, bit_holes
        else:
            out.pre_hole, out.pre_bit_hole = byte_holes, bit_holes
        out.nr_bit_holes += bit_holes != 0
        out.nr_holes += byte_holes != 0
        last = pos
    if in_bitfield:
        bitfield_end = min(size * 8, cur_end)
        out.bit_padding = bitfield_end - last_seen
        last_seen = bitfield_end
    out.padding = size - last_seen // 8
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _is_union(t: CType) -> bool:
    return t.spelling.startswith("union ") or (t.record or "").startswith("union ")


def _inline(m: Member) -> bool:
    """A member whose type is an unnamed struct/union, or an array of one, printed in place
    as pahole does."""
    if m.type.kind == "array":
        return bool(m.element_members)
    return m.type.kind == "record" and m.type.record == "" and not m.type.typedefs


def _dims(t: CType) -> str:
    return "".join(f"[{d or 0}]" for d in t.dims)


class _Printer:
    def __init__(self, model: Model, target: str) -> None:
        self.model = model
        self.target = target
        self.out: list[str] = []
        self.cacheline = 0
        self._record_aligns: dict[str, int | None] = {}
        self.packed = False  # declared packed: the record being printed

    def w(self, text: str) -> None:
        self.out.append(text)

    def type_text(self, t: CType, name: str, trailing: bool = False) -> str:
        """What pahole's ``type__fprintf`` prints for a non-inline type: ``TYPE NAME``.

        ``trailing``: the last of several members of a struct, where pahole writes a
        zero-length array as ``[]`` (DWARF does not tell ``[0]`` from ``[]``)."""
        if t.kind == "array" and t.element is not None and not t.typedefs:
            dims = "".join("[]" if not d and trailing else f"[{d or 0}]" for d in t.dims)
            return self.type_text(t.element, name + dims)
        spelling = t.spelling
        if "(*)" in spelling:  # pointer to function: the name goes inside, after the
            ret, rest = spelling.split("(*)", 1)  # return type in the type column
            return f"{_gcc_spelling(ret.strip()):<{abs(self.type_spacing)}} (*{name}){rest}"
        # C's printf takes a negative field width as left-adjusted: deep nesting does that
        return f"{_gcc_spelling(spelling):<{abs(self.type_spacing)}} {name}"

    type_spacing = TYPE_SPACING

    def padding_of(self, t: CType) -> int:
        """Padding of a named struct member's type (pahole's ``XXX last struct`` note)."""
        if t.kind != "record" or t.typedefs or not t.spelling.startswith("struct "):
            return 0
        record = self.model.record(t.record or t.spelling)
        if record is None or self.target not in record.layouts:
            return 0
        lay = record.layouts[self.target]
        if lay.kind != "struct":
            return 0
        return _find_holes([_view(m, 0) for m in lay.members], lay.size).padding

    def unnamed_enum(self, t: CType) -> tuple[EnumConstant, ...] | None:
        """The constants of an unnamed enum type (``enum { A, B } f;``), which pahole prints
        in place; None for any other type."""
        where = _UNNAMED.search(t.spelling) if t.kind == "enum" and not t.typedefs else None
        if where is None:
            return None
        place = (os.path.abspath(where[1]), int(where[2]), int(where[3]))
        for enum in self.model.enums:
            loc = enum.location  # (its file may be relative to the current directory)
            if (os.path.abspath(loc.file), loc.line, loc.col) == place:
                lay = enum.layouts.get(self.target)
                return lay.constants if lay is not None else None
        return None

    def member_align(self, m: Member) -> int | None:
        """The alignment GCC's debug information gives member ``m`` as asked for by the
        user (``DW_AT_alignment``, pahole's ``__aligned__(N)``): the member's own
        ``aligned(N)``, or a type declared aligned: a typedef (``uint64_aligned_t``), a
        record declared aligned or holding such a member (GCC passes it on)."""
        if m.align_attr:
            return m.align_attr
        if self.packed and self.type_align(m.type):
            return 1  # (a packed record's members are aligned to 1 byte, GCC says so)
        if _inline(m):
            t = m.type.innermost
            if t.user_align is not None:
                return t.align or t.user_align
            return self.record_align(m.element_members or m.members, t.align or 1, False)
        return self.type_align(m.type)

    def type_align(self, t: CType) -> int | None:
        """The alignment of ``t`` when the user asked for it (see :meth:`member_align`)."""
        while True:
            if t.user_align is not None:
                return t.align or t.user_align
            if t.kind != "array" or t.element is None:
                break
            t = t.element
        if t.kind != "record" or not t.record:
            return None
        if t.record not in self._record_aligns:
            record = self.model.record(t.record)
            lay = record.layouts.get(self.target) if record is not None else None
            self._record_aligns[t.record] = None if lay is None else (
                lay.align if lay.user_align is not None else self.record_align(
                    lay.members, lay.align, lay.packed))
        return self._record_aligns[t.record]

    def record_align(self, members: Sequence[Member], align: int,
                     packed: bool) -> int | None:
        """A record's ``__aligned__(N)`` as pahole shows it on the closing brace: declared
        aligned above what its members ask for, or holding a member aligned by the user."""
        members_align = max((m.align_attr or 1 if packed else m.declared_align
                             for m in members), default=1)
        if align > members_align:
            return align
        return align if any(self.member_align(m) for m in members) else None

    def natural_alignment(self, t: CType) -> int:
        """pahole's ``tag__natural_alignment``: a scalar's size, a record's largest member's
        (not the ABI alignment: ``uint64_t`` is 8 on i386 too)."""
        t = t.innermost
        if t.kind == "record":
            record = self.model.record(t.record or t.spelling) if t.record else None
            lay = record.layouts.get(self.target) if record is not None else None
            return self._members_alignment(lay.members) if lay is not None else 1
        if t.kind in ("int", "bool", "float", "enum", "pointer", "vector"):
            return t.size or 1
        return 1

    def _members_alignment(self, members: Sequence[Member]) -> int:
        return max((self._member_alignment(m) for m in members), default=1)

    def _member_alignment(self, m: Member) -> int:
        if m.members:
            return self._members_alignment(m.members)
        if m.element_members:
            return self._members_alignment(m.element_members)
        return self.natural_alignment(m.type)

    def inferred_packed(self, members: Sequence[Member], size: int, base_bits: int,
                        union_size: int = 0) -> bool:
        """pahole's ``class__infer_packed_attributes``: a struct is shown packed when a
        member is off its natural alignment (a scalar's size), or the size is not a multiple
        of the largest natural alignment, unless it has a hole or tail padding. A struct
        that is a member of a union (``union_size``) is also shown packed when the union's
        size is not such a multiple (pahole 1.24 checks that too: ptrace_syscall_info)."""
        if not members:
            return False
        largest, misaligned = 1, False
        for m in members:
            natural = self._member_alignment(m)
            if natural == 1:
                continue
            largest = max(largest, natural)
            misaligned |= _view(m, base_bits).byte_offset % natural != 0
        if union_size and union_size % largest:
            return True
        holes = _find_holes([_view(m, base_bits) for m in members], size)
        if holes.padding > 0 or holes.nr_holes or holes.pre_hole:
            return False  # (a hole or tail padding: pahole does not take it for packed)
        return misaligned or size % largest != 0

    def boundary(self, offset: int, indent: int) -> None:
        line = offset // CACHELINE
        if line > self.cacheline:
            pos = offset % CACHELINE
            start = offset - pos
            if pos == 0:
                self.w(f"/* --- cacheline {line} boundary ({start} bytes) --- */\n")
            else:
                self.w(f"/* --- cacheline {line} boundary ({start} bytes) was "
                       f"{_plural(pos, 'byte')} ago --- */\n")
            self.w("\t" * indent)
            self.cacheline = line

    def member(self, v: _View, base: int, indent: int, type_spacing: int, name_spacing: int,
               in_union: bool, trailing: bool = False, union_size: int = 0) -> None:
        """One member (pahole's ``class_member__fprintf``); the caller printed the tabs."""
        m = v.member
        offset = base + v.byte_offset
        self.boundary(offset, indent)
        forced = self.member_align(m)
        aligned = f" __attribute__((__aligned__({forced})))" if forced else ""
        constants = None if v.bitfield_size else self.unnamed_enum(m.type)
        if _inline(m) or constants is not None:
            packed = False
            if constants is not None:  # an unnamed enum's constants, in place
                width = max((len(c.name) for c in constants), default=0)
                self.w("enum {\n" + "".join(f"{chr(9) * (indent + 1)}{c.name:<{width}} = "
                                            f"{c.value},\n" for c in constants)
                       + "\t" * indent + "}" + (f" {m.name}" if m.name else ""))
            else:
                packed = self.inline(m, offset, indent, type_spacing - 8, name_spacing,
                                     trailing and not in_union, union_size)
            self.w(aligned)
            slen = len(aligned) + (len(m.name) if m.name else -1) + (28 if packed else 0)
            # (pahole counts an array's whole printed element in: one space; a negative
            # field width is C's printf's left adjustment)
            gap = 1 if m.type.kind == "array" else abs(type_spacing + name_spacing - slen - 3)
            self.w(";" + " " * max(gap, 1))
            self.w(f"/* {offset:5d} {v.byte_size:5d} */")
            return
        saved, self.type_spacing = self.type_spacing, type_spacing
        text = self.type_text(m.type, m.name, trailing and not in_union)
        self.type_spacing = saved
        if v.bitfield_size:
            text += f":{v.bitfield_size}"
        text += aligned + ";"
        self.w(text + " " * max(type_spacing + name_spacing - len(text), 1))
        if v.bitfield_size:
            self.w(f"/* {offset:5d}:{v.bitfield_offset:2d} {v.byte_size:2d} */")
        else:
            self.w(f"/* {offset:5d} {v.byte_size:5d} */")

    def inline(self, m: Member, offset: int, indent: int, type_spacing: int,
               name_spacing: int, tail: bool = False, union_size: int = 0) -> bool:
        """An unnamed struct/union member printed in place, closed by ``} name``; whether
        it was shown packed (pahole counts that in its column arithmetic). ``tail``: the
        member ends its record, through structs only (a last ``x[0]`` in it prints ``[]``).
        ``union_size``: the size of the union it is a member of (see
        :meth:`inferred_packed`)."""
        base_bits = offset * 8
        t, members, dims = m.type, m.members, ""
        if t.kind == "array":  # its first element, closed by `} name[N]`
            t, members, dims = t.innermost, m.element_members, _dims(t)
        packed, aligned = False, None
        if _is_union(t):
            self.union_body(members, base_bits, indent + 1, type_spacing, name_spacing,
                            t.size or m.size_bits // 8)
        else:
            size = (t.size or m.size_bits // 8)
            self.struct_body(members, size, base_bits, indent + 1, type_spacing,
                             name_spacing, stats=False, tail=tail and not dims)
            packed = self.inferred_packed(members, size, base_bits, union_size)
            # (a struct's closing brace says its alignment, a union's does not)
            aligned = self.record_align(members, t.align or 1, False)
        if dims:  # (pahole 1.24 puts an element's attributes between name and [N])
            self.w("\t" * indent + "}" + f" {m.name}" + _decorations(packed, aligned) + dims)
        else:
            self.w("\t" * indent + "}" + _decorations(packed, aligned)
                   + (f" {m.name}" if m.name else ""))
        return packed

    def union_body(self, members: Sequence[Member], base_bits: int, indent: int,
                   type_spacing: int, name_spacing: int, size: int) -> None:
        self.w("union {\n")
        start = self.cacheline
        for m in members:
            self.w("\t" * indent)
            self.member(_view(m, base_bits), base_bits // 8, indent, type_spacing,
                        name_spacing, True, union_size=size)
            self.w("\n")
            self.cacheline = start

    def struct_body(self, members: Sequence[Member], size: int, base_bits: int, indent: int,
                    type_spacing: int, name_spacing: int, stats: bool,
                    header: str = "struct", tail: bool = True) -> None:
        """pahole's ``__class__fprintf`` from ``{`` to just before the closing ``}``."""
        tabs = "\t" * indent
        views = [_view(m, base_bits) for m in members]
        holes = _find_holes(views, size)
        self.w(f"{header} {{\n")
        newline = 0
        sum_bytes = sum_bits = sum_holes = sum_bit_holes = nr_paddings = sum_paddings = 0
        nr_forced = nr_forced_holes = sum_forced_holes = 0

        def soft_newline() -> None:
            nonlocal newline
            if not newline:
                self.w("\n")
            newline += 1

        if holes.pre_bit_hole > 0:
            soft_newline()
            self.w(f"{tabs}/* XXX {_plural(holes.pre_bit_hole, 'bit')} hole, try to pack */\n")
            sum_bit_holes += holes.pre_bit_hole
        if holes.pre_hole > 0:
            soft_newline()
            self.w(f"{tabs}/* XXX {_plural(holes.pre_hole, 'byte')} hole, try to pack */\n")
            sum_holes += holes.pre_hole
        last: _View | None = None
        last_size = 0
        for pos in views:
            if self.member_align(pos.member):
                forced_hole = last.hole if last is not None else holes.pre_hole
                nr_forced += 1
                nr_forced_holes += forced_hole != 0
                sum_forced_holes += forced_hole
            if last is not None and last_size != 0:
                if last.bit_hole != 0 and pos.bitfield_size:
                    width = last.bit_hole
                    if last.byte_offset != pos.byte_offset:
                        self.w(f"\n{tabs}/* Force alignment to the next boundary: */\n")
                        width = 0
                    self.w(tabs + self._anon_bitfield(pos, type_spacing, width))
                if pos.byte_offset < last.byte_offset or (
                        pos.byte_offset == last.byte_offset and last.bitfield_size == 0
                        and pos.bitfield_size != 0):
                    soft_newline()
                    self.w(f"{tabs}/* Bitfield combined with previous fields */\n")
                elif 0 < pos.byte_offset - last.byte_offset < last_size:
                    soft_newline()
                    self.w(f"{tabs}/* Bitfield combined with next fields */\n")
            if newline:
                self.w("\n")
                newline = 0
            self.w(tabs)
            self.member(pos, base_bits // 8, indent, type_spacing, name_spacing, False,
                        trailing=tail and pos is views[-1] and len(views) > 1)
            padding = self.padding_of(pos.member.type) if not _inline(pos.member) else (
                0 if _is_union(pos.member.type) or pos.member.type.kind == "array"
                else self._inline_padding(pos.member))
            if padding > 0:
                nr_paddings += 1
                sum_paddings += padding
                soft_newline()
                self.w(f"\n{tabs}/* XXX last struct has {_plural(padding, 'byte')} of "
                       "padding */")
            if pos.bit_hole:
                soft_newline()
                self.w(f"\n{tabs}/* XXX {_plural(pos.bit_hole, 'bit')} hole, try to pack */")
                sum_bit_holes += pos.bit_hole
            if pos.hole > 0:
                soft_newline()
                self.w(f"\n{tabs}/* XXX {_plural(pos.hole, 'byte')} hole, try to pack */")
                sum_holes += pos.hole
            self.w("\n")
            if pos.bitfield_size:
                sum_bits += pos.bitfield_size
            else:
                sum_bytes += pos.byte_size
            if last is None or last_size == 0 or last.byte_offset != pos.byte_offset or (
                    last.bitfield_size == 0 and pos.bitfield_size != 0):
                last_size = pos.byte_size
            last = pos
        if not stats:
            return
        self.w(f"\n{tabs}/* size: {size}, cachelines: {-(-size // CACHELINE)}, "
               f"members: {len(members)} */\n")
        if sum_holes > 0 or sum_bit_holes > 0:
            if sum_bytes > 0:
                self.w(f"{tabs}/* sum members: {sum_bytes}"
                       + (f", holes: {holes.nr_holes}, sum holes: {sum_holes}"
                          if sum_holes > 0 else "") + " */\n")
            if sum_bits > 0:
                self.w(f"{tabs}/* sum bitfield members: {sum_bits} bits"
                       + (f", bit holes: {holes.nr_bit_holes}, sum bit holes: "
                          f"{sum_bit_holes} bits" if sum_bit_holes > 0
                          else f" ({sum_bits // 8} bytes)") + " */\n")
        if holes.padding > 0:
            self.w(f"{tabs}/* padding: {holes.padding} */\n")
        if nr_paddings > 0:
            self.w(f"{tabs}/* paddings: {nr_paddings}, sum paddings: {sum_paddings} */\n")
        if holes.bit_padding > 0:
            self.w(f"{tabs}/* bit_padding: {holes.bit_padding} bits */\n")
        if nr_forced:
            self.w(f"{tabs}/* forced alignments: {nr_forced}"
                   + (f", forced holes: {nr_forced_holes}, sum forced holes: "
                      f"{sum_forced_holes}" if nr_forced_holes else "") + " */\n")
        last_line = size % CACHELINE
        if last_line:
            self.w(f"{tabs}/* last cacheline: {last_line} bytes */\n")

    def _inline_padding(self, m: Member) -> int:
        size = m.type.size or m.size_bits // 8
        return _find_holes([_view(c, m.offset_bits) for c in m.members], size).padding

    def _anon_bitfield(self, pos: _View, type_spacing: int, width: int) -> str:
        saved, self.type_spacing = self.type_spacing, type_spacing
        text = self.type_text(pos.member.type, "")
        self.type_spacing = saved
        return f"{text}:{width};\n"


def _decorations(packed: bool, aligned: int | None) -> str:
    """A closing brace's attributes: pahole shows one, ``__packed__`` first."""
    if packed:
        return " __attribute__((__packed__))"
    return f" __attribute__((__aligned__({aligned})))" if aligned else ""


def _typedef_only(record: Record) -> bool:
    """A record C knows only by a typedef (``typedef struct { ... } NAME;``)."""
    return not record.name.startswith(("struct ", "union "))


def render_record(model: Model, record: Record, target: str) -> str:
    """One record on one target, as ``pahole -C NAME`` prints it (ends with ``};``, or
    ``} NAME;`` for a record known only by a typedef)."""
    lay: RecordLayout = record.layouts[target]
    printer = _Printer(model, target)
    typedef = _typedef_only(record)
    printer.packed = lay.packed
    name = f"typedef {lay.kind}" if typedef else record.name
    packed = False
    if lay.kind == "union":
        printer.w(name + " {\n")
        for m in lay.members:
            printer.w("\t")
            printer.member(_view(m, 0), 0, 1, TYPE_SPACING, UNION_NAME_SPACING, True,
                           union_size=lay.size)
            printer.w("\n")
            printer.cacheline = 0
    else:
        printer.struct_body(lay.members, lay.size, 0, 1, TYPE_SPACING, NAME_SPACING,
                            stats=True, header=name)
        packed = printer.inferred_packed(lay.members, lay.size, 0)
    # (a union's closing brace never says it)
    aligned = None if lay.kind == "union" else lay.align if lay.user_align is not None \
        else printer.record_align(lay.members, lay.align, lay.packed)
    printer.w("}" + _decorations(packed, aligned) + (f" {record.name}" if typedef else "")
              + ";\n")
    return "".join(printer.out)


def render_pahole(model: Model, records: Sequence[Record], listing: bool = False) -> str:
    """The selected records on the model's single target, in the order the headers define
    them (as pahole lists a compiler's debug information). ``listing`` (no ``--record``):
    like pahole's full listing, leave out the records known only by a typedef, which
    ``pahole -C NAME`` (and ``--record NAME``) prints as ``typedef struct { ... } NAME;``."""
    targets = list(model.targets)
    if len(targets) != 1:
        raise UsageError(
            f"--format pahole shows one target at a time, and {len(targets)} are selected "
            f"({', '.join(targets)}); pick one with --target, e.g. --target {targets[0]}"
            if targets else "--format pahole needs one target (--target)")
    target = targets[0]
    chosen = [r for r in records if target in r.layouts
              and not (listing and _typedef_only(r))]
    chunks = [render_record(model, r, target) for r in _definition_order(chosen, target)]
    return "".join(chunks)


def _definition_order(records: Sequence[Record], target: str) -> list[Record]:
    """``records`` in the order GCC's debug information lists them: the order of their
    definitions, except that records a record names and that come later are listed before
    it: one defined inside it (``struct a { struct b { ... } m; };``), and one that a member
    of an unnamed struct/union inside it points to (``union { struct c *p; ... };``,
    Linux's ``__bpf_md_ptr``), defined further down. GCC makes their entries as it
    describes those types, and the definition fills in the entry made then. (A pointer
    member of the record itself does not: its entry comes after the record's.)"""
    by_name = {r.name: r for r in records}
    out: list[Record] = []
    done: set[str] = set()

    def member_records(members: Sequence[Member], nested: bool) -> list[str]:
        names: list[str] = []
        for m in members:
            inner = m.type.innermost
            while nested and inner.kind == "pointer" and inner.pointee is not None:
                inner = inner.pointee.innermost
            if inner.kind == "record" and inner.record:
                names.append(inner.record)
            elif nested and "(*)" in m.type.spelling:  # a function pointer's parameters
                names += _TAGS.findall(m.type.spelling)
            names += member_records(m.members, True) + member_records(m.element_members,
                                                                      True)
        return names

    def visit(record: Record) -> None:
        if record.name in done:
            return
        done.add(record.name)
        for name in member_records(record.layouts[target].members, False):
            nested = by_name.get(name)
            if nested is not None and nested.order > record.order:
                visit(nested)
        out.append(record)

    for record in sorted(records, key=lambda r: r.order):
        visit(record)
    return out
