"""How rustc lays out ``#[repr(C)]`` types on each abiscope target: the Rust side of
``gen rust`` and ``verify-rust``.

One documented table (:data:`RUST_TARGETS`): per abiscope target the Rust target triple, the
``#[cfg(...)]`` predicate that is true exactly when compiling for it, and the alignment of
Rust's primitive types there where it is not their size. The alignments are rustc's own
(LLVM's data layout of the triple), measured with ``#[rustc_layout(debug)]`` under
``#![no_core]`` (see tests/oracle/rustc_layout.py, which checks this table against rustc).
They are *not* always the C compiler's: on m68k rustc aligns ``u64`` and ``f32`` to 4 and
``f64`` to 8 where GCC aligns all three to 2, so a plain ``#[repr(C)]`` mirror of
``struct {char; long long; short}`` is 16 bytes (align 4) in Rust and 12 (align 2) in C.

:func:`layout` is rustc's ``repr(C)`` algorithm (fields in declaration order, each at the
next multiple of its alignment; size rounded up to the alignment; ``packed(N)`` caps field
alignments at N; ``align(N)`` raises the alignment to N), over the small type language of
:class:`RType`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class RustTarget:
    """An abiscope target as Rust knows it."""

    triple: str  # rustc --target
    cfg: str  # the #[cfg(...)] predicate (without the cfg( ))
    pointer_bits: int
    # alignment (bytes) of the primitives whose alignment is not their size
    aligns: tuple[tuple[str, int], ...] = ()
    c_int_bits: int = 32
    c_long_bits: int | None = None  # None: the pointer width

    def align_of(self, prim: str) -> int:
        """rustc's alignment of a primitive (``u64``, ``f64``, ``ptr``...)."""
        if prim in ("usize", "isize"):  # the integer of the pointer's width
            prim = f"{prim[0]}{self.pointer_bits}"
        return dict(self.aligns).get(prim, size_of_prim(prim, self.pointer_bits))


_I686 = (("u64", 4), ("i64", 4), ("f64", 4))
_ILP32_128 = (("u128", 8), ("i128", 8))

# abiscope target -> Rust. Mutually exclusive predicates; a target missing here (lp128,
# cheri128: no compiler has them) is left out of generated files with a comment.
RUST_TARGETS: dict[str, RustTarget] = {
    "i386": RustTarget("i686-unknown-linux-gnu",
                       'all(target_arch = "x86", not(target_os = "windows"))', 32, _I686),
    "x86_64": RustTarget("x86_64-unknown-linux-gnu",
                         'all(target_arch = "x86_64", target_pointer_width = "64", '
                         'not(target_os = "windows"))', 64),
    "x32": RustTarget("x86_64-unknown-linux-gnux32",
                      'all(target_arch = "x86_64", target_pointer_width = "32")', 32),
    "arm": RustTarget("armv7-unknown-linux-gnueabihf",
                      'all(target_arch = "arm", target_os = "linux")', 32, _ILP32_128),
    "armv7m": RustTarget("thumbv7m-none-eabi",
                         'all(target_arch = "arm", target_os = "none")', 32, _ILP32_128),
    "aarch64": RustTarget("aarch64-unknown-linux-gnu",
                          'all(target_arch = "aarch64", target_pointer_width = "64", '
                          'not(target_os = "windows"))', 64),
    "riscv32": RustTarget("riscv32gc-unknown-linux-gnu", 'target_arch = "riscv32"', 32,
                          _ILP32_128),
    "riscv64": RustTarget("riscv64gc-unknown-linux-gnu", 'target_arch = "riscv64"', 64),
    "ppc": RustTarget("powerpc-unknown-linux-gnu", 'target_arch = "powerpc"', 32, _ILP32_128),
    "ppc64": RustTarget("powerpc64-unknown-linux-gnu",
                        'all(target_arch = "powerpc64", target_endian = "big")', 64),
    "ppc64le": RustTarget("powerpc64le-unknown-linux-gnu",
                          'all(target_arch = "powerpc64", target_endian = "little")', 64),
    "s390x": RustTarget("s390x-unknown-linux-gnu", 'target_arch = "s390x"', 64,
                        (("u128", 8), ("i128", 8))),
    "mips": RustTarget("mips-unknown-linux-gnu",
                       'all(target_arch = "mips", target_endian = "big")', 32, _ILP32_128),
    "mipsel": RustTarget("mipsel-unknown-linux-gnu",
                         'all(target_arch = "mips", target_endian = "little")', 32, _ILP32_128),
    "mips64": RustTarget("mips64-unknown-linux-gnuabi64",
                         'all(target_arch = "mips64", target_endian = "big")', 64),
    "mips64el": RustTarget("mips64el-unknown-linux-gnuabi64",
                           'all(target_arch = "mips64", target_endian = "little")', 64),
    "sparc64": RustTarget("sparc64-unknown-linux-gnu", 'target_arch = "sparc64"', 64),
    "loongarch64": RustTarget("loongarch64-unknown-linux-gnu", 'target_arch = "loongarch64"',
                              64),
    # rustc (LLVM): i32/ptr aligned 2, but i64/f32 4 and f64 8 where m68k GCC has 2
    "m68k": RustTarget("m68k-unknown-linux-gnu", 'target_arch = "m68k"', 32,
                       (("u32", 2), ("i32", 2), ("u64", 4), ("i64", 4), ("u128", 4),
                        ("i128", 4), ("ptr", 2))),
    "win32": RustTarget("i686-pc-windows-msvc",
                        'all(target_arch = "x86", target_os = "windows", target_env = "msvc")',
                        32),
    "mingw32": RustTarget("i686-pc-windows-gnu",
                          'all(target_arch = "x86", target_os = "windows", '
                          'target_env = "gnu")', 32),
    "win64": RustTarget("x86_64-pc-windows-msvc",
                        'all(target_arch = "x86_64", target_os = "windows", '
                        'target_env = "msvc")', 64, c_long_bits=32),
    "mingw64": RustTarget("x86_64-pc-windows-gnu",
                          'all(target_arch = "x86_64", target_os = "windows", '
                          'target_env = "gnu")', 64, c_long_bits=32),
    "wasm32": RustTarget("wasm32-unknown-unknown", 'target_arch = "wasm32"', 32),
}

PRIMS = ("u8", "i8", "bool", "u16", "i16", "u32", "i32", "u64", "i64", "u128", "i128",
         "f32", "f64", "usize", "isize", "ptr")

# core::ffi's C types: name -> (size in bits or "int"/"long"/"ptr", signed / float)
FFI_TYPES: dict[str, str] = {
    "c_char": "i8", "c_schar": "i8", "c_uchar": "u8", "c_short": "i16", "c_ushort": "u16",
    "c_int": "int", "c_uint": "uint", "c_long": "long", "c_ulong": "ulong",
    "c_longlong": "i64", "c_ulonglong": "u64", "c_float": "f32", "c_double": "f64",
    "c_size_t": "usize", "c_ssize_t": "isize", "c_ptrdiff_t": "isize",
}


def size_of_prim(prim: str, pointer_bits: int) -> int:
    if prim in ("usize", "isize", "ptr"):
        return pointer_bits // 8
    if prim == "bool":
        return 1
    return int(prim[1:]) // 8


def ffi_prim(name: str, target: RustTarget) -> str:
    """The fixed-width primitive a ``core::ffi`` type is on ``target`` (``c_long`` ->
    ``i64`` on x86_64, ``i32`` on win64)."""
    kind = FFI_TYPES[name]
    if kind in ("int", "uint"):
        return f"{'i' if kind == 'int' else 'u'}{target.c_int_bits}"
    if kind in ("long", "ulong"):
        bits = target.c_long_bits or target.pointer_bits
        return f"{'i' if kind == 'long' else 'u'}{bits}"
    return kind


@dataclass(frozen=True)
class RType:
    """A Rust type as layout sees it.

    ``prim``: a primitive (``u32``, ``ptr``) or a ``core::ffi`` name (``c_long``);
    ``array``: ``elem`` repeated ``count`` times; ``named``: a struct/union of the file;
    ``incomplete``: bindgen's ``__IncompleteArrayField<elem>`` (size 0, ``elem``'s alignment);
    ``zst``: a zero-sized type of alignment 1 (``PhantomData``, ``()``).
    """

    kind: str  # prim | array | named | incomplete | zst
    name: str = ""
    elem: RType | None = None
    count: int = 0


@dataclass(frozen=True)
class Repr:
    """A ``#[repr(C, ...)]`` attribute: ``packed`` N (1 for plain ``packed``), ``align`` N."""

    packed: int | None = None
    align: int | None = None

    def attribute(self) -> str:
        parts = ["C"]
        if self.packed is not None:
            parts.append("packed" if self.packed == 1 else f"packed({self.packed})")
        if self.align is not None:
            parts.append(f"align({self.align})")
        return f"#[repr({', '.join(parts)})]"


@dataclass(frozen=True)
class RLayout:
    size: int
    align: int
    offsets: tuple[int, ...]  # one per field, in declaration order
    sizes: tuple[int, ...]


# size, align of a named type on the target being laid out
Resolver = Callable[[str], tuple[int, int]]


def type_layout(t: RType, target: RustTarget, resolve: Resolver) -> tuple[int, int]:
    """(size, align) of ``t`` on ``target``."""
    if t.kind == "prim":
        prim = ffi_prim(t.name, target) if t.name in FFI_TYPES else t.name
        if prim not in PRIMS:
            raise InputError(f"unknown Rust primitive {t.name!r}")
        return size_of_prim(prim, target.pointer_bits), target.align_of(prim)
    if t.kind == "array":
        assert t.elem is not None
        size, align = type_layout(t.elem, target, resolve)
        return size * t.count, align
    if t.kind == "incomplete":
        assert t.elem is not None
        return 0, type_layout(t.elem, target, resolve)[1]
    if t.kind == "zst":
        return 0, 1
    return resolve(t.name)


def _up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def layout(fields: Sequence[RType], repr_: Repr, union: bool, target: RustTarget,
           resolve: Resolver) -> RLayout:
    """rustc's layout of a ``#[repr(C...)]`` struct or union with these field types."""
    align = 1
    offsets: list[int] = []
    sizes: list[int] = []
    end = 0
    for t in fields:
        size, a = type_layout(t, target, resolve)
        if repr_.packed is not None:
            a = min(a, repr_.packed)
        align = max(align, a)
        off = 0 if union else _up(end, a)
        offsets.append(off)
        sizes.append(size)
        end = max(end, off + size)
    if repr_.align is not None:
        align = max(align, repr_.align)
    return RLayout(_up(end, align), align, tuple(offsets), tuple(sizes))
