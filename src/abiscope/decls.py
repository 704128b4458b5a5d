"""Target-independent record declarations: what the layout engine lays out.

The frontend fills these from clang's parse (members, their types down to the first name
whose width a data model fixes, bitfield widths, ``packed``, ``aligned(N)``/``_Alignas``,
``#pragma pack``); :mod:`abiscope.layout_engine` turns them into
:class:`abiscope.model.RecordLayout` under a :class:`abiscope.datamodels.DataModel`.
Plain frozen data; no clang, no layout arithmetic here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .errors import SourceLocation

# C base types the data models size (``TypeDecl.scalar``), as clang spells canonical types.
SCALARS = (
    "_Bool", "char", "signed char", "unsigned char", "short", "unsigned short", "int",
    "unsigned int", "long", "unsigned long", "long long", "unsigned long long", "__int128",
    "unsigned __int128", "float", "double", "long double", "__float128", "_Float16",
    "__fp16", "__bf16", "__ibm128",
)


@dataclass(frozen=True)
class TypeDecl:
    """A member type, described so that any data model can size it.

    ``kind``: ``scalar`` (``scalar`` names the canonical base type), ``complex`` (``scalar``
    names the component type: ``double`` for ``_Complex double``), ``enum`` (``scalar`` is
    its underlying type), ``pointer``, ``function`` (only behind a pointer), ``array``
    (``dims`` outermost first, ``None`` for ``[]``; ``element``), ``record`` (``record`` is
    the key of a :class:`RecordDecl` in the same :class:`DeclSet`), ``vector`` (a GNU
    ``vector_size`` type: ``scalar`` names the element type, ``dims`` holds the element
    count), ``atomic`` (``_Atomic T`` or ``_Atomic(T)``: ``element`` is ``T`` as written, with
    its typedefs), ``void``, ``other``.

    ``width_name`` is left ``None`` by the frontend: the engine takes the first name of
    ``typedefs`` whose width its data model decides (``size_t``, ``intptr_t``, …) or keeps
    fixed (``uint64_t``, ``__u64``, …) and sizes by it before looking at ``scalar``.
    ``align_attr`` is the ``aligned(N)`` of the outermost typedef along the chain that has
    one (``typedef uint64_t uint64_aligned_t __attribute__((aligned(8)))``), as GCC takes it;
    ``None`` if none. In every ``align_attr``, 0 stands for a bare ``aligned`` (the target's
    biggest alignment, which the data model knows).
    """

    kind: str
    spelling: str
    scalar: str | None = None
    typedefs: tuple[str, ...] = ()
    width_name: str | None = None
    align_attr: int | None = None
    dims: tuple[int | None, ...] = ()
    element: TypeDecl | None = None
    pointee: TypeDecl | None = None
    record: str | None = None
    signed: bool | None = None
    canonical: str = ""  # clang's canonical spelling on the parse target (for messages)
    # atomic: written ``_Atomic(T)``, a specifier (GCC builds an array of it from ``T``'s
    # main variant, as for a typedef of an atomic type), not the ``_Atomic`` qualifier
    atomic_specifier: bool = False


@dataclass(frozen=True)
class FieldDecl:
    """A member as declared: ``name`` ``""`` for an anonymous struct/union member, and
    ``name`` ``""`` with ``bit_width`` set for an unnamed bitfield (``int :3;``, ``int :0;``),
    which places what follows but is not a member of the layout."""

    name: str
    type: TypeDecl
    bit_width: int | None = None
    packed: bool = False  # __attribute__((packed)) on the member
    align_attr: int | None = None  # aligned(N) or _Alignas(N) on the member
    location: SourceLocation | None = None
    # the type an _Alignas(T) or aligned(__alignof__(T)) names: its alignment under the
    # data model counts too (align_attr then holds only the attributes read as numbers);
    # align_of_gnu: named by GNU __alignof__, the type's own alignment (i386: 8 for long
    # long and double, which _Alignof and a member take as 4)
    align_of: TypeDecl | None = None
    align_of_gnu: bool = False


@dataclass(frozen=True)
class RecordDecl:
    """A struct or union as declared. ``key`` is its model name (``struct foo``, a typedef
    name, or ``struct (unnamed at FILE:LINE:COL)`` for an unnamed one)."""

    key: str
    kind: str  # "struct" | "union"
    fields: tuple[FieldDecl, ...]
    packed: bool = False  # __attribute__((packed)) on the record
    align_attr: int | None = None  # aligned(N) on the record
    # aligned(N) on the typedef that names an untagged record: its alignment is then the
    # typedef's (``_Alignof(T)``, raised or lowered; the record's size and members stay)
    typedef_align: int | None = None
    pack: int | None = None  # #pragma pack(N) in force at the definition
    location: SourceLocation | None = None
    complete: bool = True  # False: declared, never defined in the translation unit


@dataclass(frozen=True)
class DeclSet:
    """Every record declaration of a parse, by key; the engine resolves references here."""

    records: Mapping[str, RecordDecl]

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", MappingProxyType(dict(self.records)))
