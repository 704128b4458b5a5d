"""Data models: the sizes, alignments and layout rules that :mod:`abiscope.layout_engine` follows.

Owns every number the engine uses for a target it lays out itself (``m68k``, the
hypothetical ``lp128`` and ``cheri128``) and for every other real Linux target abiscope knows
(x86 trio, arm, aarch64, riscv32/64, ppc, ppc64, ppc64le, s390x, mips, mips64, sparc64,
loongarch64), on which it is validated against GCC and clang: scalar sizes and alignments,
pointer widths, the widths of typedef names a model decides or keeps fixed, and the few GCC
layout parameters that differ between targets. Plain frozen data; no layout arithmetic here.

The GCC parameters, with the name GCC's target headers give them:

- ``bitfield_family``: ``"sysv"`` is ``PCC_BITFIELD_TYPE_MATTERS`` (x86: a bit-field may not
  straddle more alignment units of its declared type than the type itself has, and a named
  bit-field's type raises the record's alignment); ``"m68k"`` is GCC without it (bit-fields
  are placed at the next free bit and only their own alignment counts); ``"ms"`` is MSVC's
  record layout (clang's ``MicrosoftRecordLayoutBuilder``; ``win32``, ``win64``).
- ``empty_record_size`` (``"ms"`` only): the size of a record with no data (MSVC C: 4).
- ``max_natural_align`` (``BIGGEST_ALIGNMENT``): caps the natural alignment of every type
  and of the integer machine modes (m68k: 2).
- ``empty_field_boundary`` (``EMPTY_FIELD_BOUNDARY``): the alignment a zero-width bit-field
  imposes where the declared type does not count (m68k: 2).
- ``field_align_cap`` (``ADJUST_FIELD_ALIGN``): the alignment of an integer or ``double``
  field without an explicit alignment (i386: 4). Already reflected in ``scalars``; the engine
  applies it where GCC derives an alignment from a machine mode.
- ``vector_align_cap`` (``TARGET_VECTOR_ALIGNMENT``): the most a ``vector_size`` type is
  aligned to (AAPCS: 8 on arm, 16 on aarch64). Elsewhere GCC places a vector, and a record
  holding one, at a multiple of its size, as clang does, although its ``_Alignof`` answers
  at most ``BIGGEST_ALIGNMENT`` (a 32-byte vector on x86-64: 32 in every layout, 16 from
  ``_Alignof``); the engine follows the layouts.
- ``_Atomic T`` (GCC ``build_qualified_type``: the ``atomicQI``…``atomicTI`` types, every
  GCC 12 target here): a ``T`` of 1, 2, 4, 8 or 16 bytes, scalar or record, is aligned to at
  least its size capped at ``max_natural_align`` (``mode_align_cap``; i386 too, where
  ``ADJUST_FIELD_ALIGN`` leaves atomic fields alone since GCC 11: ``_Atomic long long`` is
  8/8); any other size keeps ``T``'s alignment, and the size never changes.
  ``atomic_promote`` (``"ms"`` models, checked against clang only) is clang's rule instead:
  a ``T`` of at most that many bytes is padded to the next power of two and aligned to it.
- ``align_anonymous_bitfields`` (``TARGET_ALIGN_ANONYMOUS_BITFIELD``, ``sysv`` only): an
  unnamed bit-field's declared type raises the record's alignment as a named one's does
  (arm AAPCS, aarch64: ``struct { char a; int :3; }`` is 4/4, 2/1 on x86-64). For a
  zero-width one neither ``#pragma pack`` nor ``packed`` lowers that alignment (``struct {
  char a; int :0; char b; }`` is 8/4 on arm even under ``#pragma pack(1)``).

Each model belongs to one target's registry entry (:data:`abiscope.targets.TARGETS`,
``Target.model``), and is checked against that entry's checking compiler through DWARF
(``tests/test_layout_engine.py``, ``tests/test_engine_targets.py``); a target without one
(loongarch64) only against clang.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from .decls import SCALARS

BitfieldFamily = Literal["sysv", "m68k", "ms"]

# Typedef names whose width never changes: (size, signed). Alignment follows the model.
FIXED_WIDTHS: Mapping[str, tuple[int, bool]] = MappingProxyType({
    **{f"int{8 * n}_t": (n, True) for n in (1, 2, 4, 8)},
    **{f"uint{8 * n}_t": (n, False) for n in (1, 2, 4, 8)},
    **{f"__int{8 * n}_t": (n, True) for n in (1, 2, 4, 8)},
    **{f"__uint{8 * n}_t": (n, False) for n in (1, 2, 4, 8)},
    **{f"__s{8 * n}": (n, True) for n in (1, 2, 4, 8)},
    **{f"__u{8 * n}": (n, False) for n in (1, 2, 4, 8)},
    **{f"__le{8 * n}": (n, False) for n in (2, 4, 8)},
    **{f"__be{8 * n}": (n, False) for n in (2, 4, 8)},
    "__wsum": (4, False), "__sum16": (2, False),
})

# Fixed-width names that carry their own aligned(8): 8/8 in every model.
ALIGNED_WIDTHS: Mapping[str, tuple[int, bool]] = MappingProxyType({
    "__aligned_u64": (8, False),
    "__aligned_le64": (8, False),
    "__aligned_be64": (8, False),
    "__aligned_s64": (8, True),
})

# Typedef names whose width is the model's: name -> (model scalar it follows, signed).
MODEL_WIDTHS: Mapping[str, tuple[str, bool]] = MappingProxyType({
    "size_t": ("size", False),
    "ssize_t": ("size", True),
    "ptrdiff_t": ("ptrdiff", True),
    "intptr_t": ("intptr", True),
    "uintptr_t": ("intptr", False),
    "__kernel_size_t": ("size", False),
    "__kernel_ssize_t": ("size", True),
    "__kernel_ptrdiff_t": ("ptrdiff", True),
    "__kernel_long_t": ("long", True),
    "__kernel_ulong_t": ("long", False),
})


@dataclass(frozen=True)
class DataModel:
    """Everything the layout engine needs to know about one target ABI.

    Sizes and alignments are in bytes. ``scalars`` sizes every name of
    :data:`abiscope.decls.SCALARS` (alignment as a struct member, which is also ``_Alignof``);
    ``width_names`` maps typedef names to (size, align, signed), checked before the scalar a
    typedef chain ends in.
    """

    name: str
    endian: Literal["little", "big"]
    pointer: tuple[int, int]
    function_pointer: tuple[int, int]
    scalars: Mapping[str, tuple[int, int]]
    width_names: Mapping[str, tuple[int, int, bool]]
    bitfield_family: BitfieldFamily = "sysv"
    max_natural_align: int | None = None
    empty_field_boundary: int = 1
    field_align_cap: int | None = None
    vector_align_cap: int | None = None
    align_anonymous_bitfields: bool = False
    empty_record_size: int = 0  # "ms": a record without data is this big (MSVC C: 4)
    # clang's _Atomic rule (MaxAtomicPromoteWidth, bytes) where no GCC decides ("ms" models)
    atomic_promote: int | None = None
    char_signed: bool = True
    function: tuple[int, int] = (1, 4)  # a function type itself (GNU sizeof; clang's align)
    hypothetical: bool = False
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "scalars", MappingProxyType(dict(self.scalars)))
        object.__setattr__(self, "width_names", MappingProxyType(dict(self.width_names)))
        missing = [s for s in SCALARS if s not in self.scalars]
        if missing:
            raise ValueError(f"data model {self.name}: no size for {', '.join(missing)}")

    def __getstate__(self) -> dict[str, object]:
        """Plain dicts for pickling (a target's entry crosses to worker processes)."""
        state = dict(self.__dict__)
        state["scalars"], state["width_names"] = dict(self.scalars), dict(self.width_names)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        self.__post_init__()

    @property
    def mode_align_cap(self) -> int:
        """Largest alignment of an integer machine mode (GCC ``BIGGEST_ALIGNMENT``)."""
        return self.max_natural_align or 16


def _model(
    name: str,
    endian: Literal["little", "big"],
    *,
    pointer: int,
    long: int,
    size: int | None = None,
    intptr: int | None = None,
    kernel_long: int | None = None,
    overrides: Mapping[str, tuple[int, int]] | None = None,
    cap: int | None = None,
    **extra: object,
) -> DataModel:
    """A model from the LP64/ILP32 pattern; ``cap`` limits every natural alignment."""
    size = size or long
    intptr = intptr or pointer

    def al(n: int) -> int:
        return min(n, cap) if cap else n

    scalars: dict[str, tuple[int, int]] = {
        "_Bool": (1, 1), "char": (1, 1), "signed char": (1, 1), "unsigned char": (1, 1),
        "short": (2, al(2)), "unsigned short": (2, al(2)), "int": (4, al(4)),
        "unsigned int": (4, al(4)), "long": (long, al(long)), "unsigned long": (long, al(long)),
        "long long": (8, al(8)), "unsigned long long": (8, al(8)),
        "__int128": (16, al(16)), "unsigned __int128": (16, al(16)),
        "float": (4, al(4)), "double": (8, al(8)), "long double": (16, al(16)),
        "__float128": (16, al(16)), "_Float16": (2, al(2)),
        # (GCC 12 accepts __fp16 on aarch64 and arm, __bf16 there as a storage type, and
        # __ibm128 on ppc; the same sizes wherever clang accepts them)
        "__fp16": (2, al(2)), "__bf16": (2, al(2)), "__ibm128": (16, al(16)),
    }
    scalars.update(overrides or {})
    by_size = {s: scalars[t][1] for t, s in (("char", 1), ("short", 2), ("int", 4),
                                              ("long long", 8))}
    widths: dict[str, tuple[int, int, bool]] = {
        n: (s, by_size[s], signed) for n, (s, signed) in FIXED_WIDTHS.items()}
    widths.update({n: (s, 8, signed) for n, (s, signed) in ALIGNED_WIDTHS.items()})
    base = {"size": size, "ptrdiff": size, "intptr": intptr, "long": kernel_long or long}
    widths.update({n: (base[w], al(base[w]), signed) for n, (w, signed) in MODEL_WIDTHS.items()})
    return DataModel(
        name=name, endian=endian, pointer=(pointer, al(pointer)),
        function_pointer=(pointer, al(pointer)), function=(1, al(4)), scalars=scalars,
        width_names=widths,
        max_natural_align=cap, **extra,  # type: ignore[arg-type]
    )


X86_64 = _model("x86_64", "little", pointer=8, long=8)
X32 = _model("x32", "little", pointer=4, long=4, kernel_long=8,
             notes=("__kernel_long_t is long long (8 bytes) on x32",))
I386 = _model(
    "i386", "little", pointer=4, long=4, field_align_cap=4,
    overrides={"long long": (8, 4), "unsigned long long": (8, 4), "double": (8, 4),
               "long double": (12, 4)},
    notes=("long long, double and 64-bit enums are 4-aligned as members and by _Alignof",),
)
M68K = _model(
    "m68k", "big", pointer=4, long=4, cap=2, bitfield_family="m68k",
    empty_field_boundary=2, overrides={"long double": (12, 2)},
    notes=("GCC m68k-linux-gnu: every natural alignment capped at 2; aligned(N) still raises",
           "bit-fields without PCC_BITFIELD_TYPE_MATTERS: packed at the next free bit",
           "zero-width bit-fields align the next field to 2 (EMPTY_FIELD_BOUNDARY)"),
)
LP128 = _model(
    "lp128", "little", pointer=16, long=16, hypothetical=True,
    notes=("x86_64 SysV with 128-bit pointers, long, size_t, ptrdiff_t, intptr_t",),
)
CHERI128 = _model(
    "cheri128", "little", pointer=16, long=8, size=8, intptr=16, hypothetical=True,
    notes=("x86_64 SysV with 128-bit capabilities: pointers, intptr_t, uintptr_t",),
)

# The other Linux targets (GCC 12 cross compilers, checked through DWARF). BIGGEST_ALIGNMENT
# is 8 on arm, s390x and mips o32 (``cap``: also the bare ``aligned``), 16 elsewhere.
ARM = _model(
    "arm", "little", pointer=4, long=4, cap=8, char_signed=False, vector_align_cap=8,
    align_anonymous_bitfields=True, overrides={"long double": (8, 8)},
    notes=("arm-linux-gnueabihf (AAPCS): long long and double 8-aligned, long double = double",
           "unnamed and zero-width bit-fields raise the record alignment (AAPCS)",
           "plain char is unsigned"),
)
AARCH64 = _model(
    "aarch64", "little", pointer=8, long=8, char_signed=False, align_anonymous_bitfields=True,
    vector_align_cap=16,
    notes=("long double is binary128, 16/16",
           "unnamed and zero-width bit-fields raise the record alignment (AAPCS64)",
           "plain char is unsigned"),
)
RISCV64 = _model("riscv64", "little", pointer=8, long=8, char_signed=False,
                 notes=("long double is binary128, 16/16", "plain char is unsigned"))
RISCV32 = _model("riscv32", "little", pointer=4, long=4, char_signed=False,
                 notes=("long double is binary128, 16/16", "plain char is unsigned"))
PPC = _model("ppc", "big", pointer=4, long=4, char_signed=False,
             notes=("long double is IBM double-double, 16/16", "plain char is unsigned"))
PPC64 = _model("ppc64", "big", pointer=8, long=8, char_signed=False,
               notes=("long double is IBM double-double, 16/16", "plain char is unsigned"))
PPC64LE = _model("ppc64le", "little", pointer=8, long=8, char_signed=False,
                 notes=("long double is IBM double-double, 16/16", "plain char is unsigned"))
S390X = _model("s390x", "big", pointer=8, long=8, cap=8, char_signed=False,
               notes=("every natural alignment capped at 8: long double and __int128 are 16/8",
                      "plain char is unsigned"))
MIPS = _model("mips", "big", pointer=4, long=4, cap=8, overrides={"long double": (8, 8)},
              notes=("o32: long long and double 8-aligned, long double = double",))
MIPS64 = _model("mips64", "big", pointer=8, long=8,
                notes=("n64: long double is binary128, 16/16",))
SPARC64 = _model("sparc64", "big", pointer=8, long=8,
                 notes=("long double is binary128, 16/16",))
LOONGARCH64 = _model("loongarch64", "little", pointer=8, long=8,
                     notes=("long double is binary128, 16/16",
                            "no gcc here: checked against clang only"))

# Issue 29's Linux architectures (checked through DWARF like the above).
SPARC = _model("sparc", "big", pointer=4, long=4, cap=8, overrides={"long double": (16, 8)},
               notes=("32-bit SPARC: long double is binary128, 8-aligned (BIGGEST_ALIGNMENT 8)",))
AVR = _model(
    "avr", "little", pointer=2, long=4, size=2, cap=1, bitfield_family="m68k",
    overrides={"int": (2, 1), "unsigned int": (2, 1), "double": (4, 1),
               "long double": (4, 1)},
    notes=("gcc-avr (atmega328p): 16-bit int, size_t and pointers; double and long double "
           "are 32-bit; every alignment is 1",
           "bit-fields without PCC_BITFIELD_TYPE_MATTERS: packed at the next free bit"),
)
# Laid out by the engine (libclang lacks the target, or lays it out otherwise than its gcc)
ALPHA = _model("alpha", "little", pointer=8, long=8,
               notes=("LP64; long double is binary128, 16/16",))
HPPA = _model("hppa", "big", pointer=4, long=4, cap=8, overrides={"long double": (8, 8)},
              notes=("long long and double 8-aligned, long double = double",
                     "BIGGEST_ALIGNMENT 8"))
SH4 = _model("sh4", "little", pointer=4, long=4, cap=4, overrides={"long double": (8, 4)},
             notes=("long long, double and _Atomic 64-bit types 4-aligned (BIGGEST_ALIGNMENT "
                    "4 as a field), long double = double",))
ARC = _model("arc", "little", pointer=4, long=4, cap=4, char_signed=False,
             overrides={"long double": (8, 4)},
             notes=("ARC HS: long long, double and _Atomic 64-bit types 4-aligned, long "
                    "double = double", "plain char is unsigned",
                    "zero-width and unnamed bit-fields do not raise the record alignment "
                    "(clang's arc target says they do)"))
XTENSA = _model("xtensa", "little", pointer=4, long=4, char_signed=False,
                overrides={"long double": (8, 8)},
                notes=("long long and double 8-aligned, long double = double",
                       "wchar_t is unsigned short", "plain char is unsigned",
                       "zero-width and unnamed bit-fields do not raise the record alignment "
                       "(clang's xtensa target says they do)"))
MIPSEL = dataclasses.replace(MIPS, name="mipsel", endian="little")
# arm-none-eabi (AAPCS, as arm-linux-gnueabihf; its short enums are clang's -fshort-enums
# types, which the engine reads from the declarations)
ARMV7M = dataclasses.replace(ARM, name="armv7m", notes=(*ARM.notes, "enums are short"))
MIPS64EL = dataclasses.replace(MIPS64, name="mips64el", endian="little")

# Windows, MSVC ABI (LLP64; "ms" record layout: clang's MicrosoftRecordLayoutBuilder, the only
# authority here: checked against clang on i686/x86_64-pc-windows-msvc, tests/test_engine_msvc.py).
_MS_NOTES = (
    "LLP64: long is 4 bytes; long long and double 8-aligned also as members on win32",
    "long double = double (8/8); enums are int, packed enums too; wchar_t is unsigned short",
    "bit-fields share a unit of their declared type's size while the size stays the same and "
    "the width fits; a zero-width one ends the unit, and is ignored after anything else",
    "aligned(N)/_Alignas are required alignments: packed and #pragma pack do not lower them",
    "a record without data is 4 bytes",
)
WIN32 = _model("win32", "little", pointer=4, long=4, bitfield_family="ms",
               empty_record_size=4, atomic_promote=8, overrides={"long double": (8, 8)},
               notes=_MS_NOTES)
WIN64 = _model("win64", "little", pointer=8, long=4, size=8, bitfield_family="ms",
               empty_record_size=4, atomic_promote=16, overrides={"long double": (8, 8)},
               notes=_MS_NOTES)


def __getattr__(name: str) -> object:
    """``MODELS`` (every target's data model by target name) lives in the target registry,
    :data:`abiscope.targets.MODELS`; served here too for older imports."""
    if name == "MODELS":
        from .targets import MODELS

        return MODELS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
