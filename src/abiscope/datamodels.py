"""Data models: the sizes, alignments and layout rules that :mod:`abiscope.layout_engine` follows.

Owns every number the engine uses for a target it lays out itself (``m68k``, the
hypothetical ``lp128`` and ``cheri128``) and for the x86 trio it is validated against:
scalar sizes and alignments, pointer widths, the widths of typedef names a model decides or
keeps fixed, and the few GCC layout parameters that differ between targets. Plain frozen
data; no layout arithmetic here.

The GCC parameters, with the name GCC's target headers give them:

- ``bitfield_family``: ``"sysv"`` is ``PCC_BITFIELD_TYPE_MATTERS`` (x86: a bit-field may not
  straddle more alignment units of its declared type than the type itself has, and a named
  bit-field's type raises the record's alignment); ``"m68k"`` is GCC without it (bit-fields
  are placed at the next free bit and only their own alignment counts); ``"ms"`` is MSVC's
  (``ms_struct``), which the engine does not implement.
- ``max_natural_align`` (``BIGGEST_ALIGNMENT``): caps the natural alignment of every type
  and of the integer machine modes (m68k: 2).
- ``empty_field_boundary`` (``EMPTY_FIELD_BOUNDARY``): the alignment a zero-width bit-field
  imposes where the declared type does not count (m68k: 2).
- ``field_align_cap`` (``ADJUST_FIELD_ALIGN``): the alignment of an integer or ``double``
  field without an explicit alignment (i386: 4). Already reflected in ``scalars``; the engine
  applies it where GCC derives an alignment from a machine mode.
"""

from __future__ import annotations

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

MODELS: dict[str, DataModel] = {m.name: m for m in (M68K, LP128, CHERI128, X86_64, I386, X32)}
