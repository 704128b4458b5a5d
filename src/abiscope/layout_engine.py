"""abiscope's own record layout: :class:`~abiscope.decls.DeclSet` + data model → RecordLayout.

Owns the layout algorithm for the targets no compiler lays out for abiscope: ``m68k``
(clang's M68k layout is not GCC's), the hypothetical ``lp128`` and ``cheri128``, and what-if
fixes. One algorithm, parameterised only by :class:`~abiscope.datamodels.DataModel`: a port of
GCC's ``stor-layout.c`` (``layout_decl``, ``update_alignment_for_field``, ``place_field``,
``finalize_record_size``) for C records, since GCC decides the Linux ABIs. Checked against GCC
through DWARF on i386, x86_64, x32 and m68k (``tests/test_layout_engine.py``) and on every
other Linux target with a Debian cross gcc (``tests/test_engine_targets.py``).

Rules, with GCC's names (alignments in bits inside the engine, bytes outside):

- A field's alignment (``DECL_ALIGN``): its type's (a typedef's ``aligned(N)`` replaces it,
  even lowering it), raised by the member's own ``aligned(N)``/``_Alignas``; ``packed`` (on the
  member or the record) drops it to 1 byte unless the member itself says ``aligned(N)``, in
  which case it is exactly N; ``#pragma pack(M)`` then caps it at M, explicit alignments
  included. Bit-fields start from 1 bit instead of their type's alignment; a bit-field whose
  width is that of an integer machine mode and that already sits at that mode's alignment
  takes the mode's alignment. A zero-width bit-field takes its type's alignment (``sysv``) or
  ``empty_field_boundary`` (``m68k``); neither ``packed`` nor ``#pragma pack`` reduces it.
- The record's alignment: the largest field alignment (``sysv``: a named bit-field counts its
  type's alignment, capped by ``#pragma pack`` or ``packed``; unnamed bit-fields count
  nothing, unless ``align_anonymous_bitfields`` (arm, aarch64) makes them count like named
  ones, a zero-width one uncapped) and the record's own ``aligned(N)``; its size is rounded
  up to it.
- ``sysv`` bit-fields, outside ``#pragma pack`` and ``packed``: a bit-field that would span
  more alignment units of its type than the type itself has starts at the next unit.

The ``ms`` family (``win32``, ``win64``) is a second algorithm, a port of clang's
``MicrosoftRecordLayoutBuilder`` (``_place_ms``), checked against clang on the
``*-pc-windows-msvc`` triples (``tests/test_engine_msvc.py``): bit-fields share a storage unit
of their declared type's size, a zero-width one only ends a unit, and explicit alignments are
"required" ones that neither ``packed`` nor ``#pragma pack`` lowers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .datamodels import DataModel
from .decls import DeclSet, FieldDecl, RecordDecl, TypeDecl
from .errors import InputError
from .model import CType, Hole, Member, RecordLayout, gaps

__all__ = ["LayoutEngine", "layout_all", "layout_record"]

_FLOATS = frozenset({"float", "double", "long double", "__float128", "_Float16", "__fp16",
                     "__bf16", "__ibm128"})
_UNNAMED_MARKERS = ("(anonymous", "(unnamed")
_QUALIFIERS = ("const", "volatile", "restrict", "_Atomic")
_INT_MODE_BITS = frozenset({8, 16, 32, 64, 128})


@dataclass(frozen=True)
class _Shape:
    """A laid-out record: size and alignment in bytes, each field's offset in bits."""

    size: int
    align: int  # as a member and for _Alignof
    offsets: tuple[int, ...]
    type_align: int = 0  # GCC's TYPE_ALIGN where ADJUST_FIELD_ALIGN lowers ``align`` (i386)
    user: bool = False  # TYPE_USER_ALIGN: an explicit alignment counted


@dataclass(frozen=True)
class _Sized:
    """What placement needs of a type: size in bits (None: flexible array), alignment in
    bytes (``_Alignof``), whether it is an integer type (has an integer machine mode)."""

    bits: int | None
    align: int
    integer: bool
    user: bool  # the alignment comes from an aligned(N) typedef (GCC TYPE_USER_ALIGN)


def _round_up(value: int, align: int) -> int:
    return -(-value // align) * align


def _lowest_bit(value: int) -> int:
    return value & -value


class LayoutEngine:
    """Lays out the records of one :class:`DeclSet` under one data model (memoised by key)."""

    def __init__(self, decls: DeclSet, model: DataModel) -> None:
        self.decls = decls
        self.model = model
        self._shapes: dict[str, _Shape] = {}
        self._required: dict[str, int] = {}  # "ms": each record's required alignment (bytes)
        self._active: set[str] = set()
        self._layouts: dict[str, RecordLayout] = {}
        self._ctypes: dict[TypeDecl, CType] = {}

    # -- public ----------------------------------------------------------------------------

    def layout(self, key: str) -> RecordLayout:
        """The layout of record ``key`` (an :class:`InputError` if unknown or unsupported)."""
        found = self._layouts.get(key)
        if found is not None:
            return found
        rec = self._record(key, key)
        shape = self._shape(key)
        members = self._members(rec, shape, 0)
        if rec.kind == "union":
            holes: tuple[Hole, ...] = ()
            end = max((m.offset_bits + m.size_bits for m in members), default=0)
            tail = shape.size * 8 - end
        else:
            holes, tail = gaps(members, shape.size)
        # (``_Alignof(T)`` of an untagged record named by an aligned typedef: raised or lowered)
        align = shape.align if rec.typedef_align is None else self._attr(rec.typedef_align) \
            or shape.align
        result = RecordLayout(shape.size, align, members, holes, max(tail, 0),
                              rec.packed, rec.kind)
        self._layouts[key] = result
        return result

    # -- records ---------------------------------------------------------------------------

    def _record(self, key: str, where: str) -> RecordDecl:
        rec = self.decls.records.get(key)
        if rec is None:
            raise InputError(f"{where}: record {key!r} is not declared in the input")
        return rec

    def _shape(self, key: str) -> _Shape:
        found = self._shapes.get(key)
        if found is not None:
            return found
        if key in self._active:
            raise InputError(f"{key}: contains itself")
        self._active.add(key)
        try:
            shape = self._place(self._record(key, key))
        finally:
            self._active.discard(key)
        self._shapes[key] = shape
        return shape

    def _place(self, rec: RecordDecl) -> _Shape:
        """GCC's ``place_field`` over every field, then ``finalize_record_size``."""
        model = self.model
        if model.bitfield_family == "ms":
            return self._place_ms(rec)
        pcc = model.bitfield_family == "sysv"
        pack = rec.pack * 8 if rec.pack else None
        record_align = 8 * max(1, self._attr(rec.align_attr) or 1)
        user_align = rec.align_attr is not None
        pos = 0  # bits (structs)
        union_size = 0  # bytes (unions)
        offsets: list[int] = []
        for f in rec.fields:
            where = f"{rec.key}: member {f.name or '(anonymous)'!r}"
            t = self._sized(f.type, where)
            packed = f.packed or rec.packed
            attr = self._field_attr(f, where)
            user = attr is not None
            width = f.bit_width
            is_bitfield = width is not None
            if t.bits is None and is_bitfield:
                raise InputError(f"{where}: bit-field of incomplete type")
            field_bits = width if width is not None else (t.bits or 0)
            known = _lowest_bit(pos) if pos else 0  # 0: any alignment
            # -- layout_decl: the field's own alignment (DECL_ALIGN)
            align = 8 * attr if attr else 1
            zero = width == 0
            if is_bitfield:
                if zero:
                    packed = False
                    if pcc:
                        if 8 * t.align > align:
                            align, user = 8 * t.align, t.user
                    elif 8 * model.empty_field_boundary > align:
                        align, user = 8 * model.empty_field_boundary, False
                still_bitfield = True
                if t.integer and width in _INT_MODE_BITS:
                    mode_align = min(width, 8 * model.mode_align_cap)
                    if not (mode_align > 8 and packed) and (known == 0 or known >= mode_align):
                        align = max(align, mode_align)
                        still_bitfield = False
            else:
                still_bitfield = False
                if not (packed and user) and 8 * t.align > align:
                    align, user = 8 * t.align, t.user
            if packed and attr is None:
                align = min(align, 8)
            if not packed and not user and t.integer and model.field_align_cap:
                align = min(align, 8 * model.field_align_cap)
            if pack is not None and not zero:
                align = min(align, pack)
            # -- update_alignment_for_field: the record's alignment (and TYPE_USER_ALIGN, which
            # an aligned(N) below the type's alignment does not set: do_type_align resets it)
            user_align = user_align or user
            if is_bitfield and pcc:
                if f.name or model.align_anonymous_bitfields:
                    type_align = 8 * t.align
                    if zero:
                        pass  # neither #pragma pack nor packed caps a zero-width one
                    elif pack is not None:
                        type_align = min(type_align, pack)
                    elif packed:
                        type_align = min(type_align, 8)
                    record_align = max(record_align, align, type_align)
            else:
                record_align = max(record_align, align)
            # -- place_field
            if rec.kind == "union":
                offsets.append(0)
                union_size = max(union_size, -(-field_bits // 8))
                continue
            if pos and _lowest_bit(pos) < align:
                pos = _round_up(pos, align)
            if (pcc and still_bitfield and width and not packed and pack is None
                    and t.bits and self._excess_unit_span(pos, width, 8 * t.align, t.bits)):
                pos = _round_up(pos, 8 * t.align)
            offsets.append(pos)
            pos += field_bits
        align_bytes = record_align // 8
        unpadded = union_size if rec.kind == "union" else -(-pos // 8)
        size = _round_up(unpadded, align_bytes)
        cap = model.field_align_cap
        if cap is not None and align_bytes > cap and size == 8 and not user_align \
                and not self._float_mode(rec) and not self._blk_mode(rec):
            # (i386: an 8-aligned record of 8 bytes has an integer or DFmode machine mode,
            # which ADJUST_FIELD_ALIGN lowers to 4 as a member and for _Alignof; only an
            # _Atomic member gives one without an explicit alignment)
            return _Shape(size, cap, tuple(offsets), align_bytes, user_align)
        return _Shape(size, align_bytes, tuple(offsets), align_bytes, user_align)

    def _blk_mode(self, rec: RecordDecl) -> bool:
        """Whether GCC gives a record ``BLKmode`` (``compute_record_mode``): a field of no
        known size (a flexible array), or an array or record of a size no integer mode has
        (3, 5, 6, 7 bytes) or of ``BLKmode`` itself, or a vector (i386's
        ``member_type_forces_blk``)."""
        for f in rec.fields:
            td = f.type
            if td.kind == "atomic" and td.element is not None:
                td = td.element
            inner = td
            while inner.kind == "array" and inner.element is not None:
                inner = inner.element
            if inner.kind == "vector":
                return True
            if td.kind not in ("array", "record"):
                continue
            sized = self._sized(td, rec.key)
            if sized.bits is None or sized.bits // 8 not in (0, 1, 2, 4, 8):
                return True
            while td.kind == "array" and td.element is not None:
                td = td.element
            if td.kind == "record" and td.record is not None \
                    and self._blk_mode(self._record(td.record, rec.key)):
                return True
        return False

    def _float_mode(self, rec: RecordDecl) -> bool:
        """Whether GCC gives a struct the machine mode of its one field, a ``_Complex
        float`` (SCmode) (or such a struct), not an integer mode or DFmode."""
        if rec.kind != "struct" or len(rec.fields) != 1 or rec.fields[0].bit_width is not None:
            return False
        td = rec.fields[0].type
        if td.kind == "atomic" and td.element is not None:
            td = td.element
        if td.kind == "record" and td.record is not None:
            return self._float_mode(self._record(td.record, rec.key))
        return td.kind == "complex" and td.scalar == "float"

    @staticmethod
    def _excess_unit_span(pos: int, width: int, align: int, type_bits: int) -> bool:
        """GCC: the bit-field would span more ``align`` units than its type has."""
        return (pos % align + width + align - 1) // align > type_bits // align

    # -- MSVC ("ms") -----------------------------------------------------------------------

    def _place_ms(self, rec: RecordDecl) -> _Shape:
        """clang's ``MicrosoftRecordLayoutBuilder`` for a C record (``layoutField``,
        ``layoutBitField``, ``layoutZeroWidthBitField``, ``finalizeLayout``); bytes, offsets
        in bits. A field's alignment is its type's natural one (a top-level typedef's
        ``aligned(N)`` does not count), capped by ``#pragma pack`` (ignored above the pointer
        size) or ``packed`` (record: 1, member: 1), then raised to its required alignment: the
        member's ``aligned(N)``/``_Alignas``, an aligned typedef's or record type's alignment,
        a nested record's required alignment. Non-bit-field required alignments raise the
        record's, which neither ``packed`` nor ``#pragma pack`` lowers."""
        model = self.model
        union = rec.kind == "union"
        max_field = 1 if rec.packed else (
            rec.pack if rec.pack and rec.pack <= model.pointer[0] else None)
        size = 0
        align = 1
        required = self._attr(rec.align_attr) or 0
        last_bitfield = False  # the previous field is a bit-field of non-zero width
        unit = remaining = 0  # that bit-field's storage unit (bytes) and its free bits
        offsets: list[int] = []
        for f in rec.fields:
            where = f"{rec.key}: member {f.name or '(anonymous)'!r}"
            natural = replace(f.type, align_attr=None) if f.type.align_attr is not None \
                else f.type
            t = self._sized(natural, where)
            width = f.bit_width
            if t.bits is None and width is not None:
                raise InputError(f"{where}: bit-field of incomplete type")
            nbytes = (t.bits or 0) // 8
            field_required = max(self._field_attr(f, where) or 0,
                                 self._ms_type_required(f.type, where))
            info = t.align
            if width is None:
                field_required = max(field_required, self._ms_nested_required(f.type))
                required = max(required, field_required)
            else:
                info = max(info, field_required)
            if max_field is not None:
                info = min(info, max_field)
            if f.packed:
                info = 1
            info = max(info, field_required)
            if width is None:  # layoutField
                last_bitfield = False
                align = max(align, info)
                offset = 0 if union else _round_up(size, info)
                offsets.append(8 * offset)
                size = max(size, offset + nbytes)
            elif width == 0:  # layoutZeroWidthBitField: only after a bit-field
                if not last_bitfield:
                    offsets.append(0 if union else 8 * size)
                    continue
                last_bitfield = False
                if union:
                    offsets.append(0)
                    size = max(size, nbytes)
                else:
                    size = _round_up(size, info)
                    offsets.append(8 * size)
                    align = max(align, info)
            else:  # layoutBitField
                width = min(width, 8 * nbytes)
                if not union and last_bitfield and unit == nbytes and width <= remaining:
                    offsets.append(8 * size - remaining)
                    remaining -= width
                    continue
                last_bitfield, unit = True, nbytes
                if union:  # MSVC: a bit-field's alignment does not count in a union
                    offsets.append(0)
                    size = max(size, nbytes)
                else:
                    offset = _round_up(size, info)
                    offsets.append(8 * offset)
                    size = offset + nbytes
                    align = max(align, info)
                    remaining = 8 * nbytes - width
        align = max(align, required)
        size = _round_up(size, align)
        if size == 0:
            size = align if required >= model.empty_record_size else model.empty_record_size
        self._required[rec.key] = required
        return _Shape(size, align, tuple(offsets))

    def _ms_type_required(self, td: TypeDecl, where: str) -> int:
        """clang ``isAlignmentRequired``: an aligned typedef's or aligned record's alignment,
        through arrays (0: none)."""
        if td.align_attr is not None:
            return self._sized(td, where).align
        if td.kind == "array" and td.element is not None:
            return self._ms_type_required(td.element, where)
        if td.kind == "record" and td.record is not None:
            rec = self.decls.records.get(td.record)
            if rec is not None and rec.align_attr is not None:
                return self._shape(td.record).align
        return 0

    def _ms_nested_required(self, td: TypeDecl) -> int:
        """The required alignment of the record a member (or its array elements) is."""
        while td.kind == "array" and td.element is not None:
            td = td.element
        if td.kind != "record" or td.record is None:
            return 0
        self._shape(td.record)
        return self._required.get(td.record, 0)

    # -- types -----------------------------------------------------------------------------

    def _width_name(self, td: TypeDecl) -> str | None:
        if td.width_name is not None and td.width_name in self.model.width_names:
            return td.width_name
        return next((n for n in td.typedefs if n in self.model.width_names), None)

    def _sized(self, td: TypeDecl, where: str) -> _Sized:
        """Size and alignment of a member type under the model."""
        model = self.model
        integer = user = False
        if td.kind in ("scalar", "enum"):
            name = self._width_name(td) if td.kind == "scalar" else None
            if name is not None:
                size, align, _ = model.width_names[name]
            elif td.scalar is not None and td.scalar in model.scalars:
                size, align = model.scalars[td.scalar]
            else:
                raise InputError(f"{where}: type {td.spelling!r} ({td.scalar}) has no size in "
                                 f"data model {model.name}")
            bits: int | None = 8 * size
            integer = td.kind == "enum" or td.scalar not in _FLOATS
        elif td.kind == "complex":  # two components, aligned as one (GCC, every target)
            if td.scalar is None or td.scalar not in model.scalars:
                raise InputError(f"{where}: type {td.spelling!r} ({td.scalar}) has no size in "
                                 f"data model {model.name}")
            size, align = model.scalars[td.scalar]
            size *= 2
            bits = 8 * size
        elif td.kind == "pointer":
            is_fn = td.pointee is not None and td.pointee.kind == "function"
            size, align = model.function_pointer if is_fn else model.pointer
            bits = 8 * size
        elif td.kind == "array":
            if td.element is None:
                raise InputError(f"{where}: array type {td.spelling!r} without element type")
            elem = self._sized(td.element, where)
            bits = elem.bits
            for d in td.dims:
                bits = None if d is None or bits is None else bits * d
            align, user = elem.align, elem.user  # (GCC: an array's TYPE_USER_ALIGN too)
            if td.element.kind == "atomic" and td.element.element is not None \
                    and model.atomic_promote is None:
                align = self._atomic_array_align(
                    td.element.element, bool(td.element.typedefs) or td.element.atomic_specifier)
        elif td.kind == "record":
            if td.record is None:
                raise InputError(f"{where}: record type {td.spelling!r} without a key")
            shape = self._shape(td.record)
            bits, align, user = 8 * shape.size, shape.align, shape.user
        elif td.kind == "vector":
            if td.scalar is None or td.scalar not in model.scalars or not td.dims:
                raise InputError(f"{where}: vector type {td.spelling!r} ({td.scalar}) has no "
                                 f"size in data model {model.name}")
            size = model.scalars[td.scalar][0] * (td.dims[0] or 0)
            bits, align = 8 * size, vector_align(model, size, td.scalar not in _FLOATS)
        elif td.kind == "atomic":
            if td.element is None:
                raise InputError(f"{where}: atomic type {td.spelling!r} without value type")
            value = self._sized(td.element, where)
            bits, align = atomic_shape(model, value.bits, value.align)
            user = value.user
        else:
            raise InputError(f"{where}: type {td.spelling!r} ({td.kind}) cannot be laid out by "
                             f"abiscope's layout engine")
        attr = self._attr(td.align_attr)
        if attr is not None:
            align = attr
            if td.kind == "atomic" and td.typedefs and _qualifiers(td.spelling):
                # (GCC qualifies an aligned atomic typedef once more, and raises it again)
                align = max(align, atomic_shape(model, bits, 1)[1])
        return _Sized(bits, align, integer, attr is not None or user)

    def _atomic_array_align(self, value: TypeDecl, qualified: bool) -> int:
        """The alignment GCC gives an array of ``_Atomic T`` (``value`` is ``T``): ``T``'s
        own (``TYPE_ALIGN``), not the atomic one, since ``grokdeclarator`` builds the array
        of the unqualified type and qualifies its elements after. ``qualified``: the element
        type came qualified (a typedef of an atomic type, or ``_Atomic(T)`` written as a
        specifier), so GCC took ``T``'s main variant and every typedef's ``aligned(N)`` is
        lost. ``ADJUST_FIELD_ALIGN`` (i386) spares an array of atomics: 8-byte scalars and
        ``_Complex double`` keep their 8."""
        if qualified:
            value = replace(value, align_attr=None)
        sized = self._sized(value, value.spelling)
        if value.kind == "record" and value.record is not None and value.align_attr is None:
            return max(sized.align, self._shape(value.record).type_align)
        if value.align_attr is None and value.kind in ("scalar", "enum", "complex"):
            return max(sized.align, gnu_alignof_floor(self.model, value.scalar or ""))
        return sized.align

    def _field_attr(self, f: FieldDecl, where: str) -> int | None:
        """A member's ``aligned``/``_Alignas`` in bytes, with the alignment of the type an
        ``_Alignas(T)``/``aligned(__alignof__(T))`` names under the model."""
        attr = self._attr(f.align_attr)
        if f.align_of is None:
            return attr
        align = self._sized(f.align_of, where).align
        if f.align_of_gnu and f.align_of.kind in ("scalar", "enum", "complex"):
            align = max(align, gnu_alignof_floor(self.model, f.align_of.scalar or ""))
        return max(attr or 0, align)

    def _attr(self, value: int | None) -> int | None:
        """An ``aligned(N)`` value in bytes; 0 stands for a bare ``aligned`` (GCC: the
        target's ``BIGGEST_ALIGNMENT``, 2 on m68k, 16 on x86)."""
        return self.model.mode_align_cap if value == 0 else value

    def ctype(self, td: TypeDecl) -> CType:
        """The model's :class:`CType` for a declared type, as the frontend builds it."""
        found = self._ctypes.get(td)
        if found is not None:
            return found
        model = self.model
        size: int | None
        align: int | None
        signed = td.signed
        element = pointee = None
        record: str | None = None
        if td.kind in ("scalar", "enum"):
            sized = self._sized(td, td.spelling)
            size, align = (sized.bits or 0) // 8, sized.align
            if td.kind == "enum":
                kind = "enum"
                record = td.record if td.record is not None else _enum_name(td)
            else:
                kind = ("bool" if td.scalar == "_Bool" else
                        "float" if td.scalar in _FLOATS else "int")
                name = self._width_name(td)
                if signed is None:
                    signed = (model.width_names[name][2] if name is not None else
                              kind == "float" or _scalar_signed(td.scalar or "", model))
        elif td.kind == "complex":
            kind = "complex"
            sized = self._sized(td, td.spelling)
            size, align = (sized.bits or 0) // 8, sized.align
        elif td.kind == "pointer":
            kind = "pointer"
            sized = self._sized(td, td.spelling)
            size, align = (sized.bits or 0) // 8, sized.align
            pointee = self.ctype(td.pointee) if td.pointee is not None else None
        elif td.kind == "array":
            kind = "array"
            assert td.element is not None
            element = self.ctype(td.element)
            sized = self._sized(td, td.spelling)
            size = None if sized.bits is None else sized.bits // 8
            align = sized.align
        elif td.kind == "record":
            kind = "record"
            key = td.record or ""
            rec = self.decls.records.get(key)
            record = "" if any(m in key for m in _UNNAMED_MARKERS) else key
            if rec is None or not rec.fields:  # incomplete (declared, not defined)
                size = align = None
            else:
                sized = self._sized(td, td.spelling)
                size, align = (sized.bits or 0) // 8, sized.align
        elif td.kind == "vector":  # (as clang's CType of one: no dims, no element)
            kind = "vector"
            sized = self._sized(td, td.spelling)
            size, align = (sized.bits or 0) // 8, sized.align
        elif td.kind == "atomic":  # (as clang's CType of one: kind "other", sized)
            kind = "other"
            sized = self._sized(td, td.spelling)
            size = None if sized.bits is None else sized.bits // 8
            align = sized.align
        elif td.kind == "function":
            kind = "function"
            size, align = model.function
        elif td.kind == "void":
            kind, size, align = "void", None, None
        else:
            kind, size, align = "other", None, None
        result = CType(
            spelling=td.spelling, kind=kind, size=size, align=align, canonical=_canonical(td),
            signed=signed if kind in ("int", "bool", "float") else None,
            typedefs=td.typedefs, dims=td.dims if kind != "vector" else (), element=element,
            pointee=pointee, record=record,
        )
        self._ctypes[td] = result
        return result

    # -- members ---------------------------------------------------------------------------

    def _members(self, rec: RecordDecl, shape: _Shape, base: int) -> tuple[Member, ...]:
        out: list[Member] = []
        for f, offset in zip(rec.fields, shape.offsets, strict=True):
            if not f.name and f.bit_width is not None:
                continue  # unnamed bit-field: placement only, not a member
            out.append(self._member(rec, f, base + offset))
        return tuple(out)

    def _member(self, rec: RecordDecl, f: FieldDecl, offset: int) -> Member:
        ct = self.ctype(f.type)
        bitfield = f.bit_width is not None
        size_bits = f.bit_width if f.bit_width is not None else (ct.size or 0) * 8
        nested: tuple[Member, ...] = ()
        # (GCC's DWARF shows the members of an atomic unnamed record, and of a tagless one a
        # typedef names when the atomic type is aligned above it: that atomic variant is of
        # the record itself; clang's CType none)
        held: TypeDecl | None = f.type
        raised = False
        if f.type.kind == "atomic" and f.type.element is not None \
                and self.model.atomic_promote is None:
            held = f.type.element
            raised = not f.type.typedefs and ct.align is not None \
                and ct.align > self._sized(held, rec.key).align
        if held is not None and held.kind == "record" and held.record is not None and (
                any(m in held.record for m in _UNNAMED_MARKERS)
                or (raised and not held.record.startswith(("struct ", "union ")))):
            inner = self._record(held.record, rec.key)
            nested = self._members(inner, self._shape(inner.key), offset)
        return Member(
            name=f.name, type=ct, offset_bits=offset, size_bits=size_bits,
            align=ct.align or 1, bitfield=bitfield, bit_width=f.bit_width,
            location=f.location, members=nested,
            align_attr=f.align_attr if f.align_of is None else self._field_attr(f, rec.key),
        )


# -- helpers ---------------------------------------------------------------------------------


def _scalar_signed(scalar: str, model: DataModel) -> bool:
    if scalar == "char":
        return model.char_signed
    return not (scalar.startswith("unsigned") or scalar == "_Bool")


def _qualifiers(spelling: str) -> str:
    words = spelling.split()
    quals = [w for w in words[:3] if w in _QUALIFIERS]
    return "".join(q + " " for q in quals)


_TRAILING_QUALIFIERS = re.compile(r"\*\s*((?:(?:const|volatile|restrict)\b\s*)+)$")
_DECLARATOR_GROUP = re.compile(r"\(((?:\s*(?:\*|const\b|volatile\b|restrict\b))+)\s*\)")


def _pointer_qualifiers(td: TypeDecl) -> str:
    """The qualifiers of a pointer itself, as clang's canonical spelling on the parse target
    writes them after the star (``char *const``, also for ``const t0`` with ``typedef char
    *t0``, or a typedef of that): qualifiers do not depend on the data model."""
    spelling = td.canonical or td.spelling
    if td.pointee is not None and td.pointee.kind in ("array", "function"):
        # its declarator is parenthesised: char *(*const)(int), int (*const)[4]; the
        # first group of stars and qualifiers alone (a parameter's comes after it)
        group = _DECLARATOR_GROUP.search(spelling)
        spelling = group.group(1) if group else ""
    trailing = _TRAILING_QUALIFIERS.search(spelling)
    return " ".join(trailing.group(1).split()) if trailing else ""


def _enum_name(td: TypeDecl) -> str:
    """``enum TAG`` from an enum's spelling when no typedef hides it ("" when unnamed)."""
    if td.typedefs:
        return ""
    name = re.sub(r"\b(const|volatile)\b\s*", "", td.spelling).strip()
    return "" if any(m in name for m in _UNNAMED_MARKERS) else name


def _join(base: str, inner: str) -> str:
    if not inner:
        return base
    if inner.startswith("[") or base.endswith("*"):
        return base + inner
    return f"{base} {inner}"


def _canonical(td: TypeDecl, inner: str = "") -> str:
    """clang's canonical spelling, rebuilt from the declaration (function parameters are
    spelled as written: a typedef there is not resolved)."""
    quals = _qualifiers(td.spelling) if td.kind in ("scalar", "complex", "enum", "record",
                                                    "void", "atomic") else ""
    if td.kind == "atomic" and td.element is not None:  # const volatile _Atomic(short)
        quals = quals.replace("_Atomic ", "")
        return _join(f"{quals}_Atomic({_canonical(td.element)})", inner)
    if td.kind == "scalar":
        return _join(quals + (td.scalar or td.spelling), inner)
    if td.kind == "complex":
        return _join(quals + "_Complex " + (td.scalar or td.spelling), inner)
    if td.kind == "enum":
        name = td.record if td.record is not None else _enum_name(td)
        return _join(quals + (name or td.spelling), inner)
    if td.kind == "record":  # unnamed records' keys carry a "#<hash>" to stay unique
        return _join(quals + (td.record or td.spelling).split("#", 1)[0], inner)
    if td.kind == "void":
        return _join(quals + "void", inner)
    if td.kind == "pointer" and td.pointee is not None:
        own = _pointer_qualifiers(td)  # (clang spells them after the star: char *const)
        inner = "*" + own + (" " if own and inner and not inner.startswith("[") else "") \
            + inner
        if td.pointee.kind in ("array", "function"):
            inner = f"({inner})"
        return _canonical(td.pointee, inner)
    if td.kind == "array" and td.element is not None:
        dims = "".join(f"[{'' if d is None else d}]" for d in td.dims)
        return _canonical(td.element, inner + dims)
    if td.kind == "vector":  # (clang's own: "__attribute__((__vector_size__(…))) int")
        return _join(td.canonical or td.spelling, inner)
    if td.kind == "function":
        spelling = td.canonical or td.spelling
        depth = 0
        for i in range(len(spelling) - 1, -1, -1):  # the last top-level "(...)": parameters
            depth += {")": 1, "(": -1}.get(spelling[i], 0)
            if depth == 0 and spelling[i] == "(":
                ret = spelling[:i].rstrip()
                return _join(ret, inner) + spelling[i:] if inner else spelling
        return spelling
    return _join(td.spelling, inner)


def vector_align(model: DataModel, size: int, integer: bool) -> int:
    """The alignment GCC lays a ``vector_size(size)`` type out with: its size, or the
    model's ``vector_align_cap`` (AAPCS); and where ``ADJUST_FIELD_ALIGN`` caps integer
    machine modes (i386: 4), an integer vector of up to 8 bytes, which i686 without MMX
    keeps in an integer mode, takes that cap (as a member, and for ``_Alignof``)."""
    align = max(size, 1)
    if model.vector_align_cap is not None:
        align = min(align, model.vector_align_cap)
    if integer and model.field_align_cap is not None and size <= 8:
        align = min(align, model.field_align_cap)
    return align


def atomic_shape(model: DataModel, bits: int | None, align: int) -> tuple[int | None, int]:
    """Size in bits and alignment in bytes of ``_Atomic T`` from ``T``'s.

    GCC (``build_qualified_type``, ``find_atomic_core_type``): a ``T`` the size of an
    integer mode (1, 2, 4, 8, 16 bytes) is aligned at least as that mode's unsigned type
    (``atomicQI``…``atomicTI``), its size capped by ``BIGGEST_ALIGNMENT``; i386's
    ``ADJUST_FIELD_ALIGN`` spares atomic fields (GCC 11 and later). Other sizes are
    unchanged, and the size never is. With ``atomic_promote`` (MSVC models: clang decides),
    clang's rule: a ``T`` of at most that many bytes is padded to the next power of two and
    aligned to it, an empty one takes a byte."""
    if bits is None:
        return None, align
    size = bits // 8
    if model.atomic_promote is not None:
        if size == 0:
            return 8, align
        if size <= model.atomic_promote:
            size = 1 << (size - 1).bit_length()
            return 8 * size, size
        return bits, align
    if size in (1, 2, 4, 8, 16):
        align = max(align, min(size, model.mode_align_cap))
    return bits, align


def gnu_alignof_floor(model: DataModel, scalar: str) -> int:
    """What GNU ``__alignof__`` of a base type adds under the model: it is ``TYPE_ALIGN``,
    which ``ADJUST_FIELD_ALIGN`` lowers for members (i386: 8 for ``long long`` and
    ``double``, which a member and ``_Alignof`` take as 4); 0 elsewhere."""
    own = model.scalars.get(scalar)
    return 8 if model.field_align_cap is not None and own is not None and own[0] == 8 else 0


def scalar_alignof(model: DataModel, scalar: str, gnu: bool) -> int | None:
    """``_Alignof`` of a base type under the model (GNU ``__alignof__`` with ``gnu``), or
    None for a type the model does not size."""
    own = model.scalars.get(scalar)
    if own is None:
        return None
    return max(own[1], gnu_alignof_floor(model, scalar)) if gnu else own[1]


def layout_record(decls: DeclSet, key: str, model: DataModel) -> RecordLayout:
    """Lay out record ``key`` of ``decls`` under ``model`` (see the module docstring)."""
    return LayoutEngine(decls, model).layout(key)


def layout_all(decls: DeclSet, model: DataModel) -> dict[str, RecordLayout]:
    """Every named record of ``decls`` (unnamed ones appear inside their users)."""
    engine = LayoutEngine(decls, model)
    return {key: engine.layout(key) for key in decls.records
            if not any(m in key for m in _UNNAMED_MARKERS)
            and engine.decls.records[key].fields}
