"""Hypothesis strategy generating small, valid C translation units full of record types.

The differential tests compile each drawn :class:`CProgram` with GCC (host x86 trio and the
cross compilers; layouts read back from DWARF) and with abiscope (libclang), and compare the
layouts of every record in :attr:`CProgram.records`.

API
===

``c_programs()``
    Strategy drawing :class:`CProgram`.

``CProgram(source, records, probes, features)``
    ``source``   a complete C translation unit; it starts with ``#include <stdint.h>`` and
                 ``#include <stddef.h>`` and includes nothing else.
    ``records``  spellings of every complete top-level record the unit defines, in definition
                 order: ``struct r0``, ``union r1``, or the typedef name (``r2_t``) of a
                 ``typedef struct {...} r2_t;``.  Unnamed nested records are not listed.
    ``probes``   C type spellings whose ``_Alignof``/``sizeof`` a test can compile; these are
                 exactly the record spellings (same order as ``records``).
    ``features`` tags of the constructs the program uses (see ``FEATURES``); use them to
                 classify or ``xfail`` a mismatch against ``KNOWN_HARD``.

Names are deterministic: records ``r0, r1, ...`` (typedef-named ones ``rN_t``), members
``f0, f1, ...`` (unique within a top-level record, including through anonymous members),
typedefs ``t0, t1, ...``, enums ``e0, ...`` with enumerators ``E0_0, ...``.

Every program is meant to compile without errors under ``-std=gnu11`` with gcc for x86_64,
i686, x32 and the Debian cross gccs (aarch64, arm, powerpc, powerpc64, s390x, m68k, mips,
riscv64, sparc64), and to parse without error diagnostics with libclang
(``-x c -std=gnu11 --target=... -ffreestanding -nostdlibinc``).

Validity rules the generator keeps: every record (nested ones too) has a named member; bit-fields
never exceed their type's width (``_Bool`` at most 1; ``long`` capped at 32 bits so it is valid on
ILP32 targets); zero-width bit-fields are always unnamed; no enum bit-fields; ``_Alignas(N)`` only
with N at least the largest alignment the member type can have on any target (an upper bound is
tracked through typedefs, records and attributes); no ``_Alignas`` on bit-fields; a flexible array
member is only the last member of a top-level struct that has another direct named member, never in
a union, and such a struct is never embedded in another record or array (pointers to it are fine);
``packed`` is not put on members of char-like types (gcc warns "attribute ignored"; it still
does for members whose record type is itself packed, which is harmless); member names are unique.
Programs are not warning-free in general: gcc may print that note about packed char bit-fields,
clang on arm warns about under-aligned fields of packed records.

KNOWN_HARD
==========

Features likely to expose compiler or ABI differences (keys are feature tags; the same text is
in the ``KNOWN_HARD`` mapping):

- ``long_double``: 16/16 on x86_64 and x32, 12/4 on i386, 12/2 on m68k (96-bit extended),
  16/16 IBM double-double on powerpc (32 and 64), 16/8 on s390x, 16/16 binary128 on aarch64,
  riscv64 and sparc64, 8/8 on arm hard-float, 8/8 on mips o32.  libclang must be given exactly
  the right triple, or ``-mlong-double-*`` differences appear.
- ``i386_8byte``: on i386, ``double``, ``long long``, ``int64_t``, 64-bit enums are 8-aligned
  as complete objects but 4-aligned as struct members (GCC ``__alignof__`` says 8,
  ``_Alignof`` says 4); m68k caps every member at 2.
- ``bitfield`` / ``bitfield_packed``: packed bit-fields straddle storage units; gcc prints the
  note "offset of packed bit-field ... has changed in GCC 4.4" for char-typed ones; big-endian
  targets (powerpc, s390x, m68k, mips, sparc) allocate from the MSB, which matters when reading
  DWARF bit offsets.
- ``zero_width_bitfield`` / ``unnamed_bitfield``: whether an (unnamed / zero-width) bit-field's
  declared type raises the record alignment differs per ABI (x86-64 SysV: unnamed bit-fields do
  not; on arm/aarch64 they do: ``struct { char a; int :3; }`` is 2/1 on x86_64, 4/4 on arm;
  ``struct { char a; int :0; char b; }`` is 5/1 on x86_64, 8/4 on arm, 4/2 on m68k);
  zero-width bit-fields inside packed records and unions are a classic source of GCC/Clang
  disagreement.
- ``long_long_bitfield``: 64-bit containers on 32-bit targets (i386 aligns them to 4).
- ``aligned_bitfield``: ``__attribute__((aligned(N)))`` on a bit-field.
- ``aligned_bitfield_in_pack``: **confirmed GCC/Clang difference.**  Inside ``#pragma pack(M)``
  GCC places ``int b : 3 __attribute__((aligned(N)));`` at a multiple of ``min(N, M)`` bytes;
  Clang (libclang 22) ignores the attribute for the field offset, though it still raises the
  record alignment, so even the record size differs.  ``struct { char a; int b : 3
  __attribute__((aligned(4))); }`` under ``pack(2)``: gcc size 4, b at bit 16; clang size 2,
  b at bit 8.  With ``packed`` instead of the pragma, or without the bit-field, they agree.
  Same on x86_64, i386, aarch64, arm and powerpc. abiscope lays such records out with its
  engine, as GCC does (``tests/test_gcc_over_clang.py``).
- m68k (a target, not a tag): libclang's M68k target does **not** follow gcc's m68k-linux ABI:
  clang gives ``double``/``long long`` 8/8 and ``long double`` 8/8 where gcc has 8/2 and 12/2,
  and ``struct { char a; int b : 3; }`` is 2/2 in clang but 2/1 in gcc.  More than half of the
  generated programs differ there, so abiscope needs its own m68k rules (or must skip m68k).
- ``pragma_pack`` together with ``aligned_member`` / ``alignas``: whether ``#pragma pack``
  caps an explicitly requested member alignment.
- ``packed_record`` / ``packed_member`` with ``aligned_*`` / ``alignas``: explicit alignment
  survives packing; a packed record embedded in an unpacked one.
- ``aligned_typedef``: ``typedef int64_t __attribute__((aligned(2))) t;`` lowers (or raises) the
  alignment to exactly N wherever the typedef is used, unlike aligned(N) on a member.
- ``enum_large`` / ``enum_packed``: enums whose values do not fit ``int`` become 64-bit (with
  i386 member alignment 4); ``__attribute__((packed))`` enums shrink to 1/2/4 bytes.
- ``fam`` / ``zero_length_array``: sizes ignore the array but alignment and tail padding do not;
  gcc 12 DWARF has ``DW_AT_count 0`` for ``[0]`` and no bound at all for ``[]`` (older gccs
  used ``DW_AT_upper_bound -1``).  Unused record types only reach DWARF with
  ``-fno-eliminate-unused-debug-types``.
- ``anonymous_member`` / ``unnamed_record_member``: no DW_AT_name; nested offsets are relative
  to the inner record.
- ``x32`` (not a tag, an ABI): ``long`` and pointers are 4 bytes but ``long long`` is 8/8.
- ``atomic`` / ``atomic_typedef`` (``c_programs(atomic=True)``): ``_Atomic`` members (the
  qualifier, ``_Atomic(T)``, ``char *_Atomic p``) and atomic typedefs of scalars and records.
  GCC keeps ``T``'s size and aligns a ``T`` of 1, 2, 4, 8 or 16 bytes to its size capped at
  ``BIGGEST_ALIGNMENT`` (i386's ``_Atomic long long`` is 8/8); clang pads ``T`` to a power
  of two and aligns it to that. An array of atomics takes ``T``'s own alignment (its main
  variant's when the element type came qualified), and on i386 an 8-byte record that only an
  atomic member makes 8-aligned is 4-aligned as a member and by ``_Alignof``
  (``ADJUST_FIELD_ALIGN`` of its integer mode). No atomic bit-fields (C forbids them).
- MSVC-style layout (``ms_struct``, ``-mms-bitfields``, ``#pragma ms_struct``) is never
  generated; libclang on a ``*-windows-msvc`` triple would lay bit-fields out differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

from hypothesis import strategies as st

__all__ = ["FEATURES", "KNOWN_HARD", "CProgram", "c_programs"]

_T = TypeVar("_T")

KNOWN_HARD: Final[dict[str, str]] = {
    "long_double": "size/alignment differ on every target: x86_64/x32 16/16, i386 12/4, "
    "m68k 12/2, powerpc 16/16 (double-double), s390x 16/8, aarch64 16/16, arm 8/8",
    "i386_8byte": "double/long long/int64_t/64-bit enums are 4-aligned as i386 struct members "
    "(and 2-aligned on m68k)",
    "bitfield": "container allocation; big-endian targets number bits from the MSB",
    "bitfield_packed": "packed bit-fields straddle storage units; gcc 4.4 ABI change for char",
    "zero_width_bitfield": "affects record alignment on arm/aarch64 but not x86; packed/unions",
    "unnamed_bitfield": "an unnamed bit-field's type raises alignment on arm/aarch64, not x86",
    "long_long_bitfield": "64-bit bit-field containers on 32-bit targets",
    "aligned_bitfield": "__attribute__((aligned)) on a bit-field",
    "aligned_bitfield_in_pack": "aligned(N) bit-field under #pragma pack(M): gcc aligns it to "
    "min(N, M), clang/libclang ignores the attribute for the offset (but not the record "
    "alignment); seen on x86_64, i386, aarch64, arm and powerpc",
    "pragma_pack": "#pragma pack vs. explicit aligned/_Alignas on members",
    "packed_record": "packed records with explicitly aligned members, embedded packed records",
    "packed_member": "packed on single members, incl. bit-fields and records",
    "aligned_member": "aligned(N) on members under packed / #pragma pack",
    "alignas": "_Alignas on members under packed / #pragma pack",
    "aligned_typedef": "typedef T __attribute__((aligned(N))) sets alignment to N, even lower",
    "enum_large": "enums beyond int become 64-bit (4-aligned on i386)",
    "enum_packed": "__attribute__((packed)) enums shrink to the smallest integer",
    "fam": "flexible array member: tail padding, DWARF bound encoding",
    "zero_length_array": "GNU T x[0]: zero size but alignment counts; DWARF bound encoding",
    "anonymous_member": "C11 anonymous struct/union members have no DWARF name",
    "unnamed_record_member": "members of an unnamed record type",
    "vector": "GNU vectors (vector_size): aligned to their size up to a cap of the target's "
    "(README, Known limitations), where clang and GCC do not always agree",
    "atomic": "_Atomic T: GCC keeps T's size and aligns a T of 1, 2, 4, 8 or 16 bytes to its "
    "size up to BIGGEST_ALIGNMENT (i386 too); clang pads T to a power of two and aligns to "
    "that; an array of atomics takes T's own alignment (its main variant's when the element "
    "type came qualified: an atomic typedef, _Atomic(T))",
}

#: Every tag that can appear in :attr:`CProgram.features`.
FEATURES: Final[frozenset[str]] = frozenset(
    [
        "struct",
        "union",
        "typedef_record_def",
        "scalar",
        "long_double",
        "i386_8byte",
        "bool",
        "float",
        "stdint",
        "pointer",
        "function_pointer",
        "self_pointer",
        "typedef_chain",
        "typedef_scalar",
        "typedef_record",
        "typedef_enum",
        "enum",
        "enum_negative",
        "enum_large",
        "enum_packed",
        "array",
        "multidim_array",
        "record_array",
        "nested_record",
        "anonymous_member",
        "unnamed_record_member",
        "bitfield",
        "bitfield_packed",
        "bool_bitfield",
        "long_long_bitfield",
        "typedef_bitfield",
        "stdint_bitfield",
        "unnamed_bitfield",
        "zero_width_bitfield",
        "aligned_bitfield",
        "aligned_bitfield_in_pack",
        "packed_record",
        "packed_member",
        "aligned_record",
        "aligned_member",
        "alignas",
        "pragma_pack",
        "aligned_typedef",
        "fam",
        "zero_length_array",
        "qualifier",
        "vector",
        "atomic",
        "atomic_typedef",
    ]
)


@dataclass(frozen=True)
class CProgram:
    """One generated translation unit (see the module docstring)."""

    source: str
    records: tuple[str, ...]
    probes: tuple[str, ...]
    features: frozenset[str] = field(default_factory=frozenset)


# --------------------------------------------------------------------------------------------
# Type model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Type:
    """A C type as a declaration: ``spec`` plus a declarator template with ``{}`` for the name.

    ``align`` is an upper bound of the type's alignment over all supported targets (used to
    keep ``_Alignas`` valid); ``bits`` is the maximal bit-field width if the type may be used for
    bit-fields, else 0; ``embeddable`` is False for structs with a flexible array member.
    """

    spec: str
    decl: str = "{}"
    align: int = 1
    bits: int = 0
    embeddable: bool = True
    tags: frozenset[str] = frozenset()

    def declare(self, name: str) -> str:
        return f"{self.spec} {self.decl.replace('{}', name)}"

    def array(self, dims: Sequence[int]) -> _Type:
        suffix = "".join(f"[{d}]" if d >= 0 else "[]" for d in dims)
        return replace(self, decl=self.decl.replace("{}", "{}" + suffix), bits=0)

    def pointer(self) -> _Type:
        if self.decl == "{}" or self.decl.startswith("*"):
            decl = "*" + self.decl
        else:
            decl = self.decl.replace("{}", "(*{})")
        return _Type(self.spec, decl, 8, 0, True, frozenset({"pointer"}))


def _t(spec: str, align: int, bits: int = 0, *tags: str) -> _Type:
    return _Type(spec, "{}", align, bits, True, frozenset(("scalar", *tags)))


_SCALARS: Final[tuple[_Type, ...]] = (
    _t("int", 4, 32),
    _t("char", 1, 8),
    _t("signed char", 1, 8),
    _t("unsigned char", 1, 8),
    _t("short", 2, 16),
    _t("unsigned short", 2, 16),
    _t("unsigned int", 4, 32),
    _t("long", 8),
    _t("unsigned long", 8),
    _t("long long", 8, 64, "i386_8byte"),
    _t("unsigned long long", 8, 64, "i386_8byte"),
    _t("_Bool", 1, 1, "bool"),
    _t("float", 4, 0, "float"),
    _t("double", 8, 0, "float", "i386_8byte"),
    _t("long double", 16, 0, "long_double"),
    _t("int8_t", 1, 8, "stdint"),
    _t("uint8_t", 1, 8, "stdint"),
    _t("int16_t", 2, 16, "stdint"),
    _t("uint16_t", 2, 16, "stdint"),
    _t("int32_t", 4, 32, "stdint"),
    _t("uint32_t", 4, 32, "stdint"),
    _t("int64_t", 8, 64, "stdint", "i386_8byte"),
    _t("uint64_t", 8, 64, "stdint", "i386_8byte"),
    _t("intptr_t", 8, 0, "stdint"),
    _t("uintptr_t", 8, 0, "stdint"),
    _t("size_t", 8, 0, "stdint"),
    _t("ptrdiff_t", 8, 0, "stdint"),
)

# Bit-field container types: (type, max width, alignment upper bound, feature tags).
# ``long`` is capped at 32 bits so that the width is valid on ILP32 targets too.
_BITFIELD_TYPES: Final[tuple[tuple[str, int, int, tuple[str, ...]], ...]] = (
    ("int", 32, 4, ()),
    ("unsigned int", 32, 4, ()),
    ("signed char", 8, 1, ()),
    ("unsigned char", 8, 1, ()),
    ("short", 16, 2, ()),
    ("unsigned short", 16, 2, ()),
    ("long long", 64, 8, ("long_long_bitfield", "i386_8byte")),
    ("unsigned long long", 64, 8, ("long_long_bitfield", "i386_8byte")),
    ("_Bool", 1, 1, ("bool_bitfield",)),
    ("uint8_t", 8, 1, ("stdint_bitfield",)),
    ("uint16_t", 16, 2, ("stdint_bitfield",)),
    ("uint32_t", 32, 4, ("stdint_bitfield",)),
    ("uint64_t", 64, 8, ("stdint_bitfield", "long_long_bitfield", "i386_8byte")),
    ("signed int", 32, 4, ()),
    ("char", 8, 1, ()),
    ("long", 32, 8, ()),
    ("unsigned long", 32, 8, ()),
    ("int8_t", 8, 1, ("stdint_bitfield",)),
    ("int16_t", 16, 2, ("stdint_bitfield",)),
)

# Element types of GNU vectors, with their size on every supported target.
_VECTOR_ELEMENTS: Final[tuple[tuple[str, int], ...]] = (
    ("char", 1), ("unsigned char", 1), ("short", 2), ("int", 4), ("unsigned int", 4),
    ("long long", 8), ("float", 4), ("double", 8), ("int8_t", 1), ("uint16_t", 2),
    ("int32_t", 4), ("uint64_t", 8),
)

# Types whose size is the same on every supported target (for aligned typedefs).
_FIXED_SIZES: Final[dict[str, int]] = {
    "short": 2,
    "unsigned short": 2,
    "int16_t": 2,
    "uint16_t": 2,
    "int": 4,
    "unsigned int": 4,
    "float": 4,
    "int32_t": 4,
    "uint32_t": 4,
    "long long": 8,
    "unsigned long long": 8,
    "double": 8,
    "int64_t": 8,
    "uint64_t": 8,
}

_ALIGNS: Final[tuple[int, ...]] = (1, 2, 4, 8, 16, 32)
_PACKS: Final[tuple[int, ...]] = (1, 2, 4, 8, 16)

_PLAIN_POINTERS: Final[tuple[_Type, ...]] = (
    _Type("void", "*{}", 8, tags=frozenset({"pointer"})),
    _Type("char", "*{}", 8, tags=frozenset({"pointer"})),
    _Type("const char", "*{}", 8, tags=frozenset({"pointer"})),
    _Type("int", "*{}", 8, tags=frozenset({"pointer"})),
    _Type("double", "*{}", 8, tags=frozenset({"pointer"})),
    _Type("void", "**{}", 8, tags=frozenset({"pointer"})),
    _Type("int", "(*{})[4]", 8, tags=frozenset({"pointer"})),
)

_FN_POINTERS: Final[tuple[_Type, ...]] = tuple(
    _Type(ret, decl, 8, tags=frozenset({"function_pointer"}))
    for ret, decl in (
        ("void", "(*{})(void)"),
        ("int", "(*{})(int, double)"),
        ("char", "*(*{})(const char *, size_t)"),
        ("long double", "(*{})(void *, ...)"),
        ("void", "(*{})(int (*)(void), unsigned long)"),
    )
)


# --------------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------------


def _coin(draw: st.DrawFn, percent: int) -> bool:
    """True with ``percent`` % probability; shrinks towards False."""
    return draw(st.integers(0, 99)) >= 100 - percent


def _pick(draw: st.DrawFn, options: Sequence[tuple[_T, int]]) -> _T:
    """Weighted choice; shrinks towards the first option.  Zero weights are never chosen."""
    live = [(value, weight) for value, weight in options if weight > 0]
    total = sum(weight for _, weight in live)
    roll = draw(st.integers(0, total - 1))
    for value, weight in live:
        if roll < weight:
            return value
        roll -= weight
    raise AssertionError("unreachable")


def _one(draw: st.DrawFn, seq: Sequence[_T]) -> _T:
    return seq[draw(st.integers(0, len(seq) - 1))]


def _enum_literal(value: int) -> str:
    if -(2**31) <= value < 2**31:
        return str(value)
    if value == -(2**63):
        return "(-9223372036854775807LL - 1)"
    return f"{value}LL"


@dataclass
class _RecordCtx:
    """Per top-level record state."""

    self_spec: str | None  # ``struct r0`` while it is being defined, for self pointers
    packed: bool  # inside a packed record or #pragma pack (only for feature tagging)
    budget: int  # member declarations still allowed
    pragma: bool = False  # inside #pragma pack (only for feature tagging)
    next_field: int = 0

    def name(self) -> str:
        n = self.next_field
        self.next_field += 1
        return f"f{n}"


@dataclass
class _Body:
    lines: list[str]
    align: int  # alignment upper bound of the record
    named: int  # named members, directly or through anonymous members
    direct_named: int  # named members declared directly (FAM needs one)


class _Gen:
    def __init__(self, draw: st.DrawFn, vectors: bool = False, atomic: bool = False) -> None:
        self.draw = draw
        self.vectors = vectors
        self.atomic = atomic
        self.out: list[str] = ["#include <stdint.h>", "#include <stddef.h>", ""]
        self.records: list[str] = []
        self.record_types: list[_Type] = []  # records and typedefs of records
        self.typedefs: list[_Type] = []  # typedefs of scalars, pointers, enums
        self.enums: list[_Type] = []
        self.features: set[str] = set()
        self.n_record = 0
        self.n_typedef = 0
        self.n_enum = 0

    # ---- helpers ---------------------------------------------------------------------------

    def coin(self, percent: int) -> bool:
        return _coin(self.draw, percent)

    def pick(self, options: Sequence[tuple[_T, int]]) -> _T:
        return _pick(self.draw, options)

    def one(self, seq: Sequence[_T]) -> _T:
        return _one(self.draw, seq)

    def use(self, t: _Type) -> _Type:
        self.features |= t.tags
        return t

    def tag(self, *names: str) -> None:
        self.features.update(names)

    # ---- top-level items -------------------------------------------------------------------

    def program(self) -> CProgram:
        n_records = self.pick([(1, 10), (2, 20), (3, 25), (4, 20), (5, 15), (6, 10)])
        for _ in range(n_records):
            for _ in range(self.pick([(0, 40), (1, 35), (2, 25)])):
                self.prelude_item()
            self.record()
            if self.coin(20):
                self.record_typedef()
        source = "\n".join(self.out) + "\n"
        records = tuple(self.records)
        return CProgram(source, records, records, frozenset(self.features))

    def prelude_item(self) -> None:
        kind = self.pick(
            [
                ("scalar_typedef", 40),
                ("enum", 30),
                ("chain", 40 if self.typedefs else 0),
                ("record_typedef", 15 if self.record_types else 0),
                ("vector_typedef", 25 if self.vectors else 0),
            ]
        )
        if kind == "scalar_typedef":
            self.scalar_typedef()
        elif kind == "vector_typedef":
            self.vector_typedef()
        elif kind == "enum":
            self.enum()
        elif kind == "chain":
            self.chain_typedef()
        else:
            self.record_typedef()

    def new_typedef_name(self) -> str:
        name = f"t{self.n_typedef}"
        self.n_typedef += 1
        return name

    def scalar_typedef(self) -> None:
        source = self.pick(
            [(_SCALARS, 60), (_PLAIN_POINTERS, 10), (_FN_POINTERS, 10), (self.enums, 20)]
        )
        base = self.one(source or _SCALARS)
        name = self.new_typedef_name()
        tags = base.tags | {"typedef_scalar"}
        if "enum" in base.tags:
            tags |= {"typedef_enum"}
        size = _FIXED_SIZES.get(base.spec, 0) if base.decl == "{}" else 0
        # (an atomic typedef: never a bit-field's type; aligned up to 16 by GCC's rule)
        atomic = self.atomic and base.decl == "{}" and base.spec != "void" and self.coin(20)
        qual, bits = ("_Atomic ", 0) if atomic else ("", base.bits)
        if atomic:
            tags |= {"atomic", "atomic_typedef"}
        if size and self.coin(25):
            # A typedef's aligned(N) sets the alignment to exactly N (it may also lower it).
            # N <= size keeps arrays of it valid; no bit-fields of such typedefs.
            n = self.one([a for a in _ALIGNS if a <= size])
            self.out.append(f"typedef {qual}{base.spec} __attribute__((aligned({n}))) {name};")
            tags |= {"aligned_typedef"}
            self.typedefs.append(_Type(name, "{}", max(n, size) if atomic else n, 0, True,
                                       tags))
            return
        self.out.append(f"typedef {qual}{base.declare(name)};")
        self.typedefs.append(_Type(name, "{}", max(base.align, 16) if atomic else base.align,
                                   bits, True, tags))

    def vector_typedef(self) -> None:
        """``typedef ELEMENT t __attribute__((vector_size(N)));``: a GNU vector of 2 to 32
        bytes (no bit-fields of it; its alignment is at most its size)."""
        element, element_size = self.one(_VECTOR_ELEMENTS)
        size = self.one([n for n in (2, 4, 8, 16, 32) if n >= 2 * element_size])
        name = self.new_typedef_name()
        self.out.append(f"typedef {element} {name} __attribute__((vector_size({size})));")
        self.typedefs.append(_Type(name, "{}", size, 0, True,
                                   frozenset({"vector", "typedef_scalar"})))

    def chain_typedef(self) -> None:
        base = self.one(self.typedefs)
        name = self.new_typedef_name()
        self.out.append(f"typedef {base.spec} {name};")
        self.typedefs.append(replace(base, spec=name, tags=base.tags | {"typedef_chain"}))

    def record_typedef(self) -> None:
        base = self.one(self.record_types)
        name = self.new_typedef_name()
        tags = base.tags | {"typedef_record"}
        if self.atomic and base.embeddable and "atomic" not in base.tags and self.coin(25):
            self.out.append(f"typedef _Atomic({base.spec}) {name};")
            tags |= {"atomic", "atomic_typedef"}
            base = replace(base, align=max(base.align, 16))
        else:
            self.out.append(f"typedef {base.spec} {name};")
        if base.spec.startswith("t"):
            tags |= {"typedef_chain"}
        self.record_types.append(replace(base, spec=name, tags=tags))

    def enum(self) -> None:
        idx = self.n_enum
        self.n_enum += 1
        mode = self.pick([("small", 35), ("int", 20), ("uint", 15), ("wide", 30)])
        lo, hi = {
            "small": (-128, 255),
            "int": (-(2**31), 2**31 - 1),
            "uint": (0, 2**32 - 1),
            "wide": (-(2**63), 2**63 - 1),
        }[mode]
        count = self.draw(st.integers(1, 4))
        items: list[str] = []
        values: list[int] = []
        for j in range(count):
            # ``E = INT_MAX, F`` overflows in gcc (F's value is computed in int)
            implicit = self.coin(25) and (not values or values[-1] not in (2**31 - 1, 2**63 - 1))
            if implicit:
                value = values[-1] + 1 if values else 0
                items.append(f"E{idx}_{j}")
            else:
                edges = st.sampled_from([lo, hi, 0, -1 if lo < 0 else 1])
                value = self.draw(st.one_of(edges, st.integers(lo, hi)))
                items.append(f"E{idx}_{j} = {_enum_literal(value)}")
            values.append(value)
        packed = self.coin(10)
        attr = "__attribute__((packed)) " if packed else ""
        self.out.append(f"enum {attr}e{idx} {{ {', '.join(items)} }};")
        tags = {"enum"}
        if min(values) < 0:
            tags.add("enum_negative")
        wide = not all(-(2**31) <= v < 2**32 for v in values) or (
            min(values) < 0 and max(values) >= 2**31
        )
        if wide:
            tags |= {"enum_large", "i386_8byte"}
        if packed:
            tags.add("enum_packed")
        self.enums.append(_Type(f"enum e{idx}", "{}", 8 if wide else 4, 0, True, frozenset(tags)))

    # ---- records ---------------------------------------------------------------------------

    def record_attrs(self) -> tuple[list[str], int]:
        """Record-level attributes and the alignment they may impose."""
        attrs: list[str] = []
        align = 1
        if self.coin(15):
            attrs.append("packed")
            self.tag("packed_record")
        if self.coin(12):
            n = self.one(_ALIGNS)
            attrs.append(f"aligned({n})")
            align = n
            self.tag("aligned_record")
        return attrs, align

    def record(self) -> None:
        idx = self.n_record
        self.n_record += 1
        kind = self.pick([("struct", 70), ("union", 30)])
        self.tag(kind)
        typedef_style = self.coin(15)
        pack = self.pick([(0, 88), (1, 6), (2, 3), (3, 3)])
        pack_n = self.one(_PACKS)
        attrs, attr_align = self.record_attrs()
        name = f"r{idx}_t" if typedef_style else f"{kind} r{idx}"
        ctx = _RecordCtx(
            self_spec=None if typedef_style else name,
            packed=bool(pack) or "packed" in attrs,
            budget=12,
            pragma=bool(pack),
        )
        body = self.body(depth=0, ctx=ctx, count=self.draw(st.integers(1, 8)))
        has_fam = kind == "struct" and self.coin(10)
        if has_fam:
            if body.direct_named == 0:
                line, align = self.plain_member(ctx)
                body.lines.append("    " + line)
                body.align = max(body.align, align)
            elem = self.array_element(ctx)
            dims = [-1] + ([self.draw(st.integers(1, 3))] if self.coin(15) else [])
            fam_line, fam_align = self.member_line(elem.array(dims), ctx)
            body.lines.append("    " + fam_line)
            body.align = max(body.align, fam_align)
            self.tag("fam")
        attr = f"__attribute__(({', '.join(attrs)}))" if attrs else ""
        leading = self.coin(50)
        head = f"{kind} {attr + ' ' if attr and leading else ''}"
        tail = f" {attr}" if attr and not leading else ""
        members = "\n".join(body.lines)
        if pack == 1:
            self.out.append(f"#pragma pack(push, {pack_n})")
        elif pack == 2:
            self.out.append(f"#pragma pack({pack_n})")
        elif pack == 3:
            self.out += ["#pragma pack(push)", f"#pragma pack({pack_n})"]
        if pack:
            self.tag("pragma_pack")
        if typedef_style:
            self.tag("typedef_record_def")
            self.out.append(f"typedef {head}{{\n{members}\n}}{tail} r{idx}_t;")
        else:
            self.out.append(f"{head}r{idx} {{\n{members}\n}}{tail};")
        if pack in (1, 3):
            self.out.append("#pragma pack(pop)")
        elif pack == 2:
            self.out.append("#pragma pack()")
        self.out.append("")
        self.records.append(name)
        align = max(body.align, attr_align)
        self.record_types.append(
            _Type(name, "{}", align, 0, not has_fam, frozenset({"nested_record"}))
        )

    def body(self, depth: int, ctx: _RecordCtx, count: int) -> _Body:
        indent = "    " * (depth + 1)
        body = _Body([], 1, 0, 0)
        count = max(1, min(count, ctx.budget))
        for _ in range(count):
            if ctx.budget <= 0:
                break
            self.member(depth, ctx, body, indent)
        if body.named == 0:
            ctx.budget -= 1
            line, align = self.plain_member(ctx)
            body.lines.append(indent + line)
            body.named += 1
            body.direct_named += 1
            body.align = max(body.align, align)
        return body

    def plain_member(self, ctx: _RecordCtx) -> tuple[str, int]:
        t = self.use(self.one(_SCALARS))
        return f"{t.declare(ctx.name())};", t.align

    def member(self, depth: int, ctx: _RecordCtx, body: _Body, indent: str) -> None:
        nested_ok = depth < 2 and ctx.budget >= 2
        what = self.pick(
            [
                ("scalar", 30),
                ("bitfields", 18),
                ("array", 12),
                ("record", 10 if any(t.embeddable for t in self.record_types) else 0),
                ("pointer", 7),
                ("fnptr", 4),
                ("typedef", 10 if self.typedefs else 0),
                ("enum", 10 if self.enums else 0),
                ("anonymous", 6 if nested_ok else 0),
                ("unnamed_type", 5 if nested_ok else 0),
                ("zero_length", 4),
            ]
        )
        if what == "bitfields":
            for _ in range(min(ctx.budget, self.draw(st.integers(1, 4)))):
                line, align, named = self.bitfield(ctx)
                body.lines.append(indent + line)
                body.align = max(body.align, align)
                body.named += named
                body.direct_named += named
            return
        if what in ("anonymous", "unnamed_type"):
            ctx.budget -= 1
            inner_kind = self.pick([("struct", 60), ("union", 40)])
            attrs, attr_align = self.record_attrs()
            outer_packed = ctx.packed
            ctx.packed = outer_packed or "packed" in attrs
            inner = self.body(depth + 1, ctx, self.draw(st.integers(1, 4)))
            ctx.packed = outer_packed
            attr = f" __attribute__(({', '.join(attrs)}))" if attrs else ""
            opening = f"{inner_kind}{attr} {{"
            closing = "}"
            inner_align = max(inner.align, attr_align)
            if what == "anonymous":
                self.tag("anonymous_member")
                body.lines += [indent + opening, *inner.lines, indent + closing + ";"]
                body.named += inner.named
            else:
                self.tag("unnamed_record_member")
                t = _Type("", "{}", inner_align)
                if self.coin(20):
                    self.tag("array")
                    t = t.array([self.draw(st.integers(1, 3))])
                prefix, rest, inner_align = self.decorate(t, ctx.name(), bitfield=False)
                body.lines += [
                    indent + prefix + opening,
                    *inner.lines,
                    indent + closing + " " + rest,
                ]
                body.named += 1
                body.direct_named += 1
            body.align = max(body.align, inner_align)
            return
        ctx.budget -= 1
        if what == "scalar":
            t = self.one(_SCALARS)
        elif what == "array":
            elem = self.array_element(ctx)
            ndims = self.pick([(1, 70), (2, 20), (3, 10)])
            dims = [self.draw(st.integers(1, 4)) for _ in range(ndims)]
            t = elem.array(dims)
            self.tag("array")
            if ndims > 1:
                self.tag("multidim_array")
        elif what == "zero_length":
            elem = self.array_element(ctx)
            dims = [0] + ([self.draw(st.integers(1, 3))] if self.coin(20) else [])
            t = elem.array(dims)
            self.tag("zero_length_array")
        elif what == "record":
            t = self.one([r for r in self.record_types if r.embeddable])
        elif what == "pointer":
            t = self.pointer(ctx)
        elif what == "fnptr":
            t = self.one(_FN_POINTERS)
            if ctx.self_spec is not None and self.coin(30):
                t = _Type("void", f"(*{{}})({ctx.self_spec} *)", 8)
                self.tag("function_pointer", "self_pointer")
        elif what == "typedef":
            t = self.one(self.typedefs)
        else:
            t = self.one(self.enums)
        self.use(t)
        line, align = self.member_line(t, ctx)
        body.lines.append(indent + line)
        body.align = max(body.align, align)
        body.named += 1
        body.direct_named += 1

    def pointer(self, ctx: _RecordCtx) -> _Type:
        choice = self.pick(
            [
                ("plain", 40),
                ("self", 20 if ctx.self_spec is not None else 0),
                ("record", 20 if self.record_types else 0),
                ("typedef", 10 if self.typedefs else 0),
                ("enum", 10 if self.enums else 0),
            ]
        )
        if choice == "plain":
            return self.one(_PLAIN_POINTERS)
        if choice == "self":
            assert ctx.self_spec is not None
            self.tag("self_pointer")
            return _Type(ctx.self_spec, "*{}", 8, tags=frozenset({"pointer"}))
        if choice == "record":
            return self.one(self.record_types).pointer()
        if choice == "typedef":
            return self.one(self.typedefs).pointer()
        return self.one(self.enums).pointer()

    def array_element(self, ctx: _RecordCtx) -> _Type:
        embeddable = [r for r in self.record_types if r.embeddable]
        choice = self.pick(
            [
                ("scalar", 40),
                ("record", 25 if embeddable else 0),
                ("pointer", 10),
                ("fnptr", 5),
                ("enum", 10 if self.enums else 0),
                ("typedef", 10 if self.typedefs else 0),
            ]
        )
        if choice == "scalar":
            t = self.one(_SCALARS)
        elif choice == "record":
            t = self.one(embeddable)
            self.tag("record_array")
        elif choice == "pointer":
            t = self.pointer(ctx)
        elif choice == "fnptr":
            t = self.one(_FN_POINTERS)
        elif choice == "enum":
            t = self.one(self.enums)
        else:
            t = self.one(self.typedefs)
        return self.use(t)

    def member_line(self, t: _Type, ctx: _RecordCtx) -> tuple[str, int]:
        spec, t = self.atomic_member(t)
        prefix, rest, align = self.decorate(t, ctx.name(), bitfield=False)
        return f"{prefix}{spec} {rest}", align

    def atomic_member(self, t: _Type) -> tuple[str, _Type]:
        """The type specifier of a member, made ``_Atomic`` now and then (with ``atomic``):
        the ``_Atomic`` qualifier or ``_Atomic(T)`` (not of an atomic or qualified type,
        which C forbids) on scalars, records, enums, typedefs and arrays of them, which GCC
        may align up to 16; or the pointer itself (``char *_Atomic p``). Never a function
        pointer, a pointer to an array or a vector."""
        if not self.atomic or "(" in t.decl or t.spec in ("", "void") \
                or "vector" in t.tags or not self.coin(15):
            return t.spec, t
        self.tag("atomic")
        if t.decl.startswith("*"):
            return t.spec, replace(t, decl=t.decl.replace("*{}", "*_Atomic {}"))
        t = replace(t, align=max(t.align, 16))
        if "atomic" in t.tags or "const" in t.spec or self.coin(50):
            return f"_Atomic {t.spec}", t
        return f"_Atomic({t.spec})", t

    def decorate(
        self, t: _Type, name: str, *, bitfield: bool, width: int = 0
    ) -> tuple[str, str, int]:
        """Random member attributes for a member of type ``t`` named ``name``.

        Returns ``(prefix, rest, align)``: the declaration is ``prefix + spec + " " + rest``,
        where ``prefix`` holds ``_Alignas``/qualifiers (with a trailing space) and ``rest`` the
        declarator, bit-field width and ``__attribute__``s up to the ``;``.  ``align`` is the
        member's alignment upper bound.
        """
        align = t.align
        prefix: list[str] = []
        attrs: list[str] = []
        if not bitfield and self.coin(6):
            n = self.one([a for a in _ALIGNS if a >= t.align])
            prefix.append(f"_Alignas({n})")
            align = max(align, n)
            self.tag("alignas")
        if t.align > 1 and self.coin(8):
            attrs.append("packed")
            self.tag("packed_member")
            if bitfield:
                self.tag("bitfield_packed")
        if self.coin(4 if bitfield else 7):
            n = self.one(_ALIGNS)
            attrs.append(f"aligned({n})")
            align = max(align, n)
            self.tag("aligned_bitfield" if bitfield else "aligned_member")
        if t.spec and self.coin(3):
            prefix.append(self.one(["const", "volatile"]))
            self.tag("qualifier")
        decl = t.decl.replace("{}", name)
        if bitfield:
            decl += f" : {width}"
        if attrs:
            decl += f" __attribute__(({', '.join(attrs)}))"
        return "".join(p + " " for p in prefix), decl + ";", align

    def bitfield(self, ctx: _RecordCtx) -> tuple[str, int, int]:
        """One bit-field: (line, alignment upper bound, 1 if named else 0)."""
        ctx.budget -= 1
        self.tag("bitfield")
        if ctx.packed:
            self.tag("bitfield_packed")
        spec, width_max, align, tags = self.one(_BITFIELD_TYPES)
        usable = [t for t in self.typedefs if t.bits > 0]
        if usable and self.coin(15):
            td = self.one(usable)
            spec, width_max, align = td.spec, td.bits, td.align
            tags = (*td.tags, "typedef_bitfield")
        self.tag(*tags)
        named = self.coin(80)
        lo = 1 if named else 0
        width = self.pick(
            [
                (self.draw(st.integers(lo, width_max)), 60),
                (lo, 15),
                (width_max, 15),
                (min(width_max, 1), 10),
            ]
        )
        if not named:
            self.tag("unnamed_bitfield")
            if width == 0:
                self.tag("zero_width_bitfield")
            return f"{spec} :{width};", align, 0
        t = _Type(spec, "{}", align, width_max)
        prefix, rest, align = self.decorate(t, ctx.name(), bitfield=True, width=width)
        if ctx.pragma and "aligned(" in rest:
            self.tag("aligned_bitfield_in_pack")
        return f"{prefix}{spec} {rest}", align, 1


@st.composite
def c_programs(draw: st.DrawFn, vectors: bool = False, atomic: bool = False) -> CProgram:
    """Strategy for :class:`CProgram` (1-6 records, at most 12 member declarations each);
    ``vectors``: with GNU vector typedefs among the typedefs members use; ``atomic``: with
    ``_Atomic`` members, atomic typedefs of scalars and records."""
    return _Gen(draw, vectors, atomic).program()
