"""``abiscope gen rust``: ``#[repr(C)]`` Rust whose layout is the C compiler's on every target.

For each record (and the records and enums its members use by value), per Rust-known target
(:data:`abiscope.codegen.rust_layout.RUST_TARGETS`): a struct or union with fixed-width Rust
types for fixed-width C types (``uint32_t``, ``__u32`` -> ``u32``) and ``core::ffi`` types
where C's width follows the target (``long`` -> ``c_long``); anonymous members as bindgen
names them (``__bindgen_anon_1``, type ``NAME__bindgen_ty_1``); runs of bitfields as byte
storage units ``_bitfield_N: [u8; K]`` with getter/setter methods (memory bit order: from
the least significant bit of the first byte on little-endian targets, from the most
significant on big-endian ones, as GCC allocates them); a flexible array as bindgen's
``__IncompleteArrayField<T>``.

Every definition is laid out as rustc will (:func:`abiscope.codegen.rust_layout.layout`) and
compared with the model (equal to GCC): when plain ``#[repr(C)]`` does not give C's layout
(m68k's 2-byte alignment of 64-bit and floating types, a member's ``aligned`` attribute,
``packed`` records, ``long double``) the definition gets explicit padding fields
(``__pad_N``) and ``align(N)`` or ``packed(N)``; when neither reproduces C, that record is
refused for that target with the reason, in a comment and a note — never written wrong.

Targets whose definitions are the same text share one definition (no ``#[cfg]`` when all
agree); others get one per group under ``#[cfg(any(...))]``. Layout assertions in the
form tools read (``const _: () = assert!(::core::mem::size_of::<NAME>() == SIZE);``, the
same with ``align_of`` and ``::core::mem::offset_of!(NAME, FIELD)``) sit in one
``#[cfg]``-selected module per target. Needs edition 2021 and Rust 1.82 (``offset_of!``
with nested field paths).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..model import CType, Enum, Member, Model, Record
from .common import CodegenError, is_nameable, tag
from .rust_layout import RUST_TARGETS, Repr, RLayout, RType, RustTarget, layout

MIN_RUST = "1.82"

RUST_KEYWORDS = frozenset((
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do",
    "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    "gen", "union",
))

_FIXED = re.compile(r"(?:__)?(u?)int(8|16|32|64)_t|__([us])(8|16|32|64)|([us])(8|16|32|64)"
                    r"|__(?:le|be)(16|32|64)")
_SIZED = {"size_t": "usize", "uintptr_t": "usize", "ssize_t": "isize", "ptrdiff_t": "isize",
          "intptr_t": "isize", "__kernel_size_t": "usize", "__kernel_ssize_t": "isize"}
_CANONICAL = {
    "char": "c_char", "signed char": "c_schar", "unsigned char": "c_uchar",
    "short": "c_short", "unsigned short": "c_ushort", "int": "c_int", "unsigned int": "c_uint",
    "long": "c_long", "unsigned long": "c_ulong", "long long": "c_longlong",
    "unsigned long long": "c_ulonglong",
}
_PLAIN = {"float": "f32", "double": "f64", "_Bool": "bool", "bool": "bool",
          "__int128": "i128", "unsigned __int128": "u128"}


def rust_ident(name: str) -> str:
    """A C identifier as a Rust one: keywords as raw identifiers (``r#type``); the four
    that cannot be raw (``self``, ``Self``, ``super``, ``crate``) and ``_`` get a trailing
    ``_``."""
    if name in ("self", "Self", "super", "crate", "_"):
        return name + "_"
    return f"r#{name}" if name in RUST_KEYWORDS else name


def rust_name(record_name: str) -> str:
    """The Rust name of a record or enum: its tag, or the typedef name of an untagged one."""
    name = record_name.split(" ", 1)[1] if record_name.startswith("enum ") else \
        tag(record_name)
    return rust_ident(name)


class Refused(Exception):
    """rustc's repr(C) cannot reproduce this record's C layout on a target."""


@dataclass
class _Field:
    name: str
    spelling: str
    rtype: RType
    offset: int  # bytes from the start of this (possibly nested) type


@dataclass
class _Accessor:
    name: str
    spelling: str  # the Rust type the getter returns
    storage: str
    bit: int  # from the start of the storage
    width: int
    signed: bool
    boolean: bool


@dataclass
class _Built:
    items: list[str] = field(default_factory=list)  # Rust items, nested types first
    asserts: list[tuple[str, int]] = field(default_factory=list)  # (offset_of path, offset)


class _TargetGen:
    """Rust text for the records of one target."""

    def __init__(self, model: Model, target: str, rt: RustTarget, ffi: str,
                 layout_only: bool, plain: bool, writable: set[str]) -> None:
        self.model = model
        self.target = target
        self.rt = rt
        self.ffi = ffi
        self.layout_only = layout_only
        self.plain = plain
        self.writable = writable  # records written for this target: pointers may name them
        # types with align(N) in them: rustc refuses them inside a packed type (E0588)
        self.aligned: set[str] = set()
        self.enums: dict[str, Enum] = {e.name: e for e in model.enums}
        self.used_enums: set[str] = set()
        self.used_records: set[str] = set()
        self.refused: dict[str, str] = {}
        self.uses_incomplete = False
        self.uses_bitfields = False
        self.nested: dict[str, tuple[int, int]] = {}

    # -- types ---------------------------------------------------------------------------

    def prim_of(self, t: CType) -> tuple[str, RType] | None:
        """(Rust spelling, type) of an integer, boolean or floating C type."""
        bits = (t.size or 0) * 8
        for name in t.typedefs:
            if name in _SIZED and bits == self.rt.pointer_bits:
                return _SIZED[name], RType("prim", _SIZED[name])
            m = _FIXED.fullmatch(name)
            if m:
                sign = m.group(1) if m.group(2) else (m.group(3) or m.group(5) or "u")
                width = next(g for g in (m.group(2), m.group(4), m.group(6), m.group(7)) if g)
                if int(width) == bits:
                    prim = f"{'i' if sign in ('', 's') else 'u'}{width}"
                    return prim, RType("prim", prim)
        canon = " ".join(w for w in t.canonical.split() if w not in ("const", "volatile"))
        canon = {"short int": "short", "long int": "long", "long long int": "long long",
                 "unsigned short int": "unsigned short", "unsigned long int": "unsigned long",
                 "signed int": "int", "signed": "int", "unsigned": "unsigned int"
                 }.get(canon, canon)
        if canon in _CANONICAL:
            return f"{self.ffi}::{_CANONICAL[canon]}", RType("prim", _CANONICAL[canon])
        if canon in _PLAIN and bits in (8, 16, 32, 64, 128):
            return _PLAIN[canon], RType("prim", _PLAIN[canon])
        return None

    def rtype(self, t: CType) -> tuple[str, RType]:
        """(Rust spelling, layout type) of a member's C type on this target."""
        if t.kind == "array" and t.element is not None:
            spelling, inner = self.rtype(t.element)
            for d in reversed(t.dims):
                if d is None:
                    self.uses_incomplete = True
                    spelling, inner = (f"__IncompleteArrayField<{spelling}>",
                                       RType("incomplete", elem=inner))
                else:
                    spelling, inner = f"[{spelling}; {d}]", RType("array", elem=inner, count=d)
            return spelling, inner
        if t.kind == "pointer":
            return self.pointer(t), RType("prim", "ptr")
        if t.kind == "record" and t.record and is_nameable(t.record):
            if self.model.record(t.record) is None:
                raise Refused(f"member type {t.record} is not complete in the headers")
            if t.record in self.refused:
                raise Refused(f"member type {rust_name(t.record)} is not generated here")
            other = self.model.record(t.record)
            lay = other.layouts.get(self.target) if other is not None else None
            if lay is None or lay.size != t.size:
                raise Refused(f"a member of type {t.record} is {t.size} bytes, the "
                              f"{t.record} of the headers {lay.size if lay else 'undefined'}"
                              " here: two declarations of one tag (include the headers "
                              "of one target only)")
            self.used_records.add(t.record)
            return rust_name(t.record), RType("named", t.record)
        if t.kind == "enum" and t.record and t.record in self.enums \
                and self.target in self.enums[t.record].layouts:
            self.used_enums.add(t.record)
            elay = self.enums[t.record].layouts[self.target]
            prim = f"{'i' if elay.signed else 'u'}{elay.size * 8}"
            return rust_name(t.record), RType("prim", prim)
        if t.kind == "enum" and t.size:
            prim = f"{'i' if t.signed else 'u'}{t.size * 8}"
            return prim, RType("prim", prim)
        got = self.prim_of(t) if t.kind in ("int", "bool", "float") else None
        if got is not None:
            return got
        if t.size is None:
            raise Refused(f"member type {t.spelling} has no size")
        # long double, vectors, _Complex: bytes (the placement below restores the alignment)
        if self.plain:
            raise Refused(f"member type {t.spelling} has no Rust equivalent")
        return f"[u8; {t.size}]", RType("array", elem=RType("prim", "u8"), count=t.size)

    def pointer(self, t: CType) -> str:
        p = t.pointee
        if p is None or p.kind in ("function", "void", "other"):
            inner = f"{self.ffi}::c_void"
        elif p.kind == "pointer":
            inner = self.pointer(p)
        elif p.kind == "record" and p.record in self.writable:
            inner = rust_name(p.record)
        else:
            got = self.prim_of(p) if p.kind in ("int", "bool", "float") else None
            inner = got[0] if got else f"{self.ffi}::c_void"
        const = p is not None and re.match(r"\s*const\b", p.spelling) is not None
        return f"*{'const' if const else 'mut'} {inner}"

    def resolve(self, name: str) -> tuple[int, int]:
        rec = self.model.record(name)
        if rec is None or self.target not in rec.layouts:
            raise Refused(f"{name} is not defined on {self.target}")
        if name in self.refused:
            raise Refused(f"member type {rust_name(name)} is refused here")
        lay = rec.layouts[self.target]
        return lay.size, lay.align

    # -- records -------------------------------------------------------------------------

    def record(self, rec: Record) -> _Built:
        lay = rec.layouts[self.target]
        if self.plain and (lay.packed or lay.user_align or lay.align != max(
                (m.declared_align for m in lay.members if not m.bitfield), default=1)):
            raise Refused("packed, #pragma pack or aligned(N) record")
        out = _Built()
        self._type(rust_name(rec.name), lay.kind, lay.size, lay.align, lay.members, 0, "",
                   out, [0], rec.name)
        return out

    def _type(self, name: str, kind: str, size: int, align: int, members: Sequence[Member],
              base_bits: int, path: str, out: _Built, counter: list[int], key: str) -> None:
        if self.plain and not _natural(kind == "union", size, align, members, base_bits):
            raise Refused("not laid out by C's plain rules (packed, aligned(N), #pragma "
                          "pack, unnamed bitfields)")
        fields: list[_Field] = []
        accessors: list[_Accessor] = []
        run: list[Member] = []
        anon = 0

        def flush() -> None:
            named = [m for m in run if m.name and m.size_bits]
            if self.plain and run:
                raise Refused("bitfields")
            run.clear()
            if not named:
                return
            start = min(m.offset_bits for m in named) // 8 * 8
            end = max(m.offset_bits + m.size_bits for m in named)
            n = (end - start + 7) // 8
            storage = f"_bitfield_{sum(1 for f in fields if f.name.startswith('_bitfield_')) + 1}"
            self.uses_bitfields = True
            fields.append(_Field(storage, f"[u8; {n}]",
                                 RType("array", elem=RType("prim", "u8"), count=n),
                                 (start - base_bits) // 8))
            for m in named:
                if (m.type.size or 0) > 8:
                    continue
                spelling, _ = self.rtype(m.type)
                boolean = spelling == "bool"
                signed = bool(m.type.signed) if m.type.kind != "enum" else \
                    spelling.startswith("i") or bool(m.type.signed)
                accessors.append(_Accessor(rust_ident(m.name), spelling, storage,
                                           m.offset_bits - start, m.size_bits, signed, boolean))

        for m in members:
            if m.bitfield:
                run.append(m)
                continue
            flush()
            off = (m.offset_bits - base_bits) // 8
            if self.plain and (m.align_attr or m.type.user_align or m.type.innermost.user_align):
                raise Refused("aligned(N) member or typedef")
            if m.members or m.element_members:
                counter[0] += 1
                sub = f"{name}__bindgen_ty_{counter[0]}"
                if m.name:
                    fname = rust_ident(m.name)
                else:
                    anon += 1
                    fname = f"__bindgen_anon_{anon}"
                sub_path = f"{path}{fname}"
                t = m.type
                sub_kind = "union" if re.match(r"\s*(?:const\s+)?union\b",
                                               (t.innermost.canonical or t.innermost.spelling)
                                               ) else "struct"
                inner = m.members or m.element_members
                if t.kind == "array" and t.dims and all(d is not None for d in t.dims):
                    el = t.innermost
                    # offset_of! cannot index an array: the element's members get no asserts
                    element = _Built()
                    self._type(sub, sub_kind, el.size or 0, el.align or 1, inner,
                               m.offset_bits, sub_path + ".", element, [0], "\0" + sub)
                    out.items += element.items
                    spelling = sub
                    rt = RType("named", "\0" + sub)
                    for d in reversed(t.dims):
                        spelling, rt = f"[{spelling}; {d}]", RType("array", elem=rt,
                                                                   count=d or 0)
                    self.nested[sub] = (el.size or 0, el.align or 1)
                    fields.append(_Field(fname, spelling, rt, off))
                else:
                    self._type(sub, sub_kind, m.size_bits // 8, m.align, inner,
                               m.offset_bits, sub_path + ".", out, [0], "\0" + sub)
                    self.nested[sub] = (m.size_bits // 8, m.align)
                    fields.append(_Field(fname, sub, RType("named", "\0" + sub), off))
                if m.name:
                    out.asserts.append((sub_path, m.offset_bits // 8))
                continue
            if not m.name:
                continue
            spelling, rt = self.rtype(m.type)
            fields.append(_Field(rust_ident(m.name), spelling, rt, off))
            out.asserts.append((f"{path}{rust_ident(m.name)}", m.offset_bits // 8))
        flush()
        tainted = any(self.has_align(f.rtype) for f in fields)
        repr_, placed = self.place(name, fields, kind == "union", size, align, tainted)
        if tainted or repr_.align is not None:
            self.aligned.add(key)
        out.items.append(self.definition(name, kind, repr_, placed))
        if accessors and not self.layout_only:
            out.items.append(self.accessors(name, accessors, kind == "union"))

    def has_align(self, t: RType) -> bool:
        """Whether ``t`` is or holds a type with ``align(N)``."""
        while t.elem is not None:
            t = t.elem
        return t.kind == "named" and t.name in self.aligned

    def resolve_any(self, name: str) -> tuple[int, int]:
        if name.startswith("\0"):
            return self.nested[name[1:]]
        return self.resolve(name)

    def place(self, name: str, fields: list[_Field], union: bool, size: int,
              align: int, holds_aligned: bool) -> tuple[Repr, list[_Field]]:
        """The repr and fields (with explicit padding) that give C's layout, or Refused."""
        def fits(repr_: Repr, fs: list[_Field]) -> RLayout | None:
            got = layout([f.rtype for f in fs], repr_, union, self.rt, self.resolve_any)
            ok = got.size == size and got.align == align and all(
                f.name.startswith("__pad_") or o == f.offset
                for f, o in zip(fs, got.offsets, strict=True))
            return got if ok else None

        natural = Repr()
        if self.plain or fits(natural, fields):
            return natural, fields
        first_bad = ""
        # a packed type cannot hold an align(N) type (rustc E0588)
        for packed in (None,) if holds_aligned else (None, align):
            for raise_align in (None, align):
                repr_ = Repr(packed=packed, align=raise_align if packed is None else None)
                padded = self.pad(fields, union, size, repr_)
                if padded is not None and fits(repr_, padded):
                    return repr_, padded
        got = layout([f.rtype for f in fields], natural, union, self.rt, self.resolve_any)
        for f, o in zip(fields, got.offsets, strict=True):
            if o != f.offset:
                first_bad = f"{f.name} at {o}, C at {f.offset}"
                break
        raise Refused(f"rustc's repr(C) places {name} with size {got.size}, align "
                      f"{got.align} ({first_bad or 'fields in place'}) where C has size "
                      f"{size}, align {align}, and no explicit padding, packed(N) or "
                      "align(N) reproduces it")

    def pad(self, fields: list[_Field], union: bool, size: int, repr_: Repr
            ) -> list[_Field] | None:
        """``fields`` with ``__pad_N: [u8; K]`` where rustc would place one too early."""
        out: list[_Field] = []
        end = 0
        n = 0

        def padding(k: int, at: int) -> _Field:
            nonlocal n
            n += 1
            return _Field(f"__pad_{n}", f"[u8; {k}]",
                          RType("array", elem=RType("prim", "u8"), count=k), at)

        for f in fields:
            if not union:
                got = layout([x.rtype for x in out] + [f.rtype], repr_, False, self.rt,
                             self.resolve_any)
                if got.offsets[-1] > f.offset:
                    return None
                if got.offsets[-1] < f.offset:
                    end = max((o + s for o, s in zip(got.offsets[:-1], got.sizes[:-1],
                                                      strict=True)), default=0)
                    out.append(padding(f.offset - end, end))
            out.append(f)
        got = layout([x.rtype for x in out], repr_, union, self.rt, self.resolve_any)
        end = max((o + s for o, s in zip(got.offsets, got.sizes, strict=True)), default=0)
        if got.size < size:
            k = size - end if not union else size
            out.append(padding(k, end if not union else 0))
        return out

    def definition(self, name: str, kind: str, repr_: Repr, fields: list[_Field]) -> str:
        lines = [repr_.attribute()]
        if not self.layout_only:
            lines.append("#[derive(Clone, Copy)]")
        lines.append(f"pub {'union' if kind == 'union' else 'struct'} {name} {{")
        lines += [f"    pub {f.name}: {f.spelling}," for f in fields]
        lines.append("}")
        if self.layout_only:
            lines.append(f"impl Copy for {name} {{}}")
        return "\n".join(lines)

    def accessors(self, name: str, accessors: list[_Accessor], union: bool) -> str:
        lines = [f"impl {name} {{"]
        # a union's fields are read in unsafe code: the storage is plain bytes, any is valid
        wrap = (lambda e: f"unsafe {{ {e} }}") if union else (lambda e: e)
        for a in accessors:
            get = f"__abiscope_bitfield_get(&self.{a.storage}, {a.bit}, {a.width})"
            if a.boolean:
                value = f"{get} != 0"
            elif a.signed:
                value = f"(((({get}) << {64 - a.width}) as i64) >> {64 - a.width}) as {a.spelling}"
            else:
                value = f"{get} as {a.spelling}"
            plain = a.name.removeprefix("r#")
            lines += ["    #[inline]",
                      f"    pub fn {a.name}(&self) -> {a.spelling} {{ {wrap(value)} }}",
                      "    #[inline]",
                      f"    pub fn set_{plain}(&mut self, value: {a.spelling}) {{ " +
                      wrap(f"__abiscope_bitfield_set(&mut self.{a.storage}, {a.bit}, "
                           f"{a.width}, value as u64)") + " }"]
        lines.append("}")
        return "\n".join(lines)

    def enum(self, enum: Enum) -> str:
        lay = enum.layouts[self.target]
        name = rust_name(enum.name)
        prim = f"{'i' if lay.signed else 'u'}{lay.size * 8}"
        lines = [f"pub type {name} = {prim};"]
        plain = name.removeprefix("r#")
        lines += [f"pub const {plain}_{c.name}: {name} = {c.value};" for c in lay.constants]
        return "\n".join(lines)


@dataclass(frozen=True)
class RustFile:
    text: str
    targets: tuple[str, ...]  # targets with a layout module
    notes: tuple[str, ...] = ()
    refused: tuple[tuple[str, str, str], ...] = ()  # (record, target, reason)


_BITFIELD_HELPERS = """\
/// Bit `bit` of a storage unit counts in memory order: from the least significant bit of
/// its first byte on little-endian targets, from the most significant on big-endian ones
/// (as GCC allocates bitfields).
#[inline]
fn __abiscope_bitfield_get(bytes: &[u8], bit: usize, width: usize) -> u64 {
    let mut value: u64 = 0;
    let mut i = 0;
    while i < width {
        let b = bit + i;
        if cfg!(target_endian = "big") {
            value |= (((bytes[b / 8] >> (7 - b % 8)) & 1) as u64) << (width - 1 - i);
        } else {
            value |= (((bytes[b / 8] >> (b % 8)) & 1) as u64) << i;
        }
        i += 1;
    }
    value
}

#[inline]
fn __abiscope_bitfield_set(bytes: &mut [u8], bit: usize, width: usize, value: u64) {
    let mut i = 0;
    while i < width {
        let b = bit + i;
        let (shift, v) = if cfg!(target_endian = "big") {
            (7 - b % 8, (value >> (width - 1 - i)) & 1)
        } else {
            (b % 8, (value >> i) & 1)
        };
        bytes[b / 8] = (bytes[b / 8] & !(1u8 << shift)) | ((v as u8) << shift);
        i += 1;
    }
}
"""

_INCOMPLETE = """\
/// A C flexible array member (bindgen's convention): zero-sized, aligned as `T`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct __IncompleteArrayField<T>(::core::marker::PhantomData<T>, [T; 0]);
impl<T> __IncompleteArrayField<T> {
    #[inline]
    pub const fn new() -> Self {
        __IncompleteArrayField(::core::marker::PhantomData, [])
    }
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self as *const _ as *const T
    }
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self as *mut _ as *mut T
    }
    /// # Safety
    /// `len` elements must follow the record in memory.
    #[inline]
    pub unsafe fn as_slice(&self, len: usize) -> &[T] {
        ::core::slice::from_raw_parts(self.as_ptr(), len)
    }
}
"""


def _closure(model: Model, records: Sequence[Record]) -> list[Record]:
    """``records`` and every nameable record they contain by value, in model order."""
    want = {r.name for r in records if is_nameable(r.name)}
    todo = list(want)
    while todo:
        rec = model.record(todo.pop())
        if rec is None:
            continue
        for lay in rec.layouts.values():
            stack = list(lay.members)
            while stack:
                m = stack.pop()
                stack += m.members + m.element_members
                t = m.type.innermost
                if t.kind == "record" and t.record and is_nameable(t.record) \
                        and t.record not in want and model.record(t.record) is not None:
                    want.add(t.record)
                    todo.append(t.record)
    out: list[Record] = []
    for r in model.records:  # the first of a name, as Model.record finds it
        if r.name in want:
            want.discard(r.name)
            out.append(r)
    return out


def generate_rust(model: Model, records: Sequence[Record], *, layout_only: bool = False,
                  ffi: str = "::core::ffi", command: str = "", plain: bool = False
                  ) -> RustFile:
    """The Rust file for ``records`` on the model's Rust-known targets.

    ``layout_only`` leaves out methods, derives and assertions (for rustc's layout dump
    under ``#![no_core]``); ``ffi`` is the path of the C types (``::core::ffi``). ``plain``
    writes every record as a hand-written mirror would be, plain ``#[repr(C)]`` with no
    correction (and leaves out records with bitfields or types Rust lacks): what the rustc
    oracle compares with GCC to find where rustc's repr(C) differs from C.
    """
    notes: list[str] = []
    chosen = _closure(model, records)
    names = [r.name for r in model.records if is_nameable(r.name)]
    for name in sorted({n for n in names if names.count(n) > 1}):
        if any(r.name == name for r in chosen):
            kept = model.record(name)
            assert kept is not None
            notes.append(f"{name}: declared more than once in the headers; written as "
                         f"declared at {kept.location}")
    for r in records:
        if not is_nameable(r.name):
            notes.append(f"{r.name or '(unnamed record)'}: skipped, it has no name")
    targets = [t for t in model.targets if t in RUST_TARGETS]
    for t in model.targets:
        if t not in RUST_TARGETS:
            notes.append(f"{t}: left out, Rust has no target for it")
    if not targets:
        raise CodegenError("none of the selected targets is known to Rust "
                           f"(known: {', '.join(RUST_TARGETS)})")
    # item key -> target -> text; per target: asserts
    texts: dict[str, dict[str, str]] = {}
    asserts: dict[str, list[str]] = {}
    refused: list[tuple[str, str, str]] = []
    uses_incomplete = uses_bitfields = False
    enum_names: list[str] = []
    for target in targets:
        order = _dependency_order(chosen, target)
        # a first pass finds the records refused here: pointers to them are c_void
        first = _TargetGen(model, target, RUST_TARGETS[target], ffi, layout_only, plain,
                           {r.name for r in order})
        for rec in order:
            try:
                first.record(rec)
            except Refused as why:
                first.refused[rec.name] = str(why)
        gen = _TargetGen(model, target, RUST_TARGETS[target], ffi, layout_only, plain,
                         {r.name for r in order} - set(first.refused))
        lines: list[str] = []
        # contained records first, so that a refusal propagates to their containers
        for rec in order:
            name = rust_name(rec.name)
            try:
                built = gen.record(rec)
            except Refused as why:
                gen.refused[rec.name] = str(why)
                refused.append((rec.name, target, str(why)))
                continue
            texts.setdefault(rec.name, {})[target] = "\n\n".join(built.items)
            lay = rec.layouts[target]
            lines += [f"    const _: () = assert!(::core::mem::size_of::<{name}>() == "
                      f"{lay.size});",
                      f"    const _: () = assert!(::core::mem::align_of::<{name}>() == "
                      f"{lay.align});"]
            lines += [f"    const _: () = assert!(::core::mem::offset_of!({name}, {path}) == "
                      f"{off});" for path, off in built.asserts]
        asserts[target] = lines
        for e in sorted(gen.used_enums):
            texts.setdefault(e, {})[target] = gen.enum(gen.enums[e])
            if e not in enum_names:
                enum_names.append(e)
        uses_incomplete |= gen.uses_incomplete
        uses_bitfields |= gen.uses_bitfields
    out = [f"// Generated by abiscope gen rust{': ' + command if command else ''}. Do not edit.",
           f"// Rust edition 2021, Rust {MIN_RUST} or later (nested offset_of! paths).",
           "// Layouts are GCC's for: " + ", ".join(
               f"{t} ({RUST_TARGETS[t].triple})" for t in targets) + ".",
           "// A build for one of them checks rustc's layout against these numbers at "
           "compile time."]
    out += [f"// {n}" for n in notes if "left out" in n]
    if not layout_only:
        out += ["", "#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, "
                "dead_code, clippy::all)]"]
    if uses_bitfields and not layout_only:
        out += ["", _BITFIELD_HELPERS.rstrip()]
    if uses_incomplete:
        out += ["", _INCOMPLETE.rstrip() if not layout_only else
                "#[repr(C)]\npub struct __IncompleteArrayField<T>([T; 0]);\n"
                "impl<T: Copy> Copy for __IncompleteArrayField<T> {}"]
    for key in enum_names + [r.name for r in chosen]:
        by_target = texts.get(key, {})
        for rec_name, target, reason in refused:
            if rec_name == key:
                out += ["", f"// {rust_name(key)}: not generated for {target}: {reason}"]
        groups: dict[str, list[str]] = {}
        for target, text in by_target.items():
            groups.setdefault(text, []).append(target)
        if not groups:
            continue
        everywhere = len(groups) == 1 and len(next(iter(groups.values()))) == len(targets)
        if not everywhere and len(groups) > 1:
            out += ["", f"// {rust_name(key)}: declared or laid out differently per target: "
                    "one definition per group of targets"]
        for text, ts in groups.items():
            out.append("")
            if everywhere:
                out.append(text)
                continue
            cfg = _cfg_any(ts)
            out.append(f"// {', '.join(ts)}")
            out.append(_with_cfg(text, cfg))
    if not layout_only:
        for target in targets:
            out += ["", f"#[cfg({RUST_TARGETS[target].cfg})]",
                    f"mod __abiscope_layout_{target} {{", "    #[allow(unused_imports)]",
                    "    use super::*;", *asserts[target], "}"]
    return RustFile("\n".join(out) + "\n", tuple(targets), tuple(notes), tuple(refused))


def _natural(union: bool, size: int, align: int, members: Sequence[Member],
             base_bits: int) -> bool:
    """Whether C laid these members out by the plain rules (each at the next multiple of its
    type's alignment, the record aligned as its most aligned member and sized to a multiple
    of that): the records a plain repr(C) mirror can express when alignments agree."""
    end = 0
    most = 1
    for m in members:
        if m.bitfield or m.align_attr:
            return False
        a = m.align
        off = 0 if union else (end + a - 1) // a * a
        if (m.offset_bits - base_bits) != off * 8:
            return False
        end = max(end, off + m.size_bits // 8)
        most = max(most, a)
    return align == most and size == (end + most - 1) // most * most


def _cfg_any(targets: Sequence[str]) -> str:
    preds = [RUST_TARGETS[t].cfg for t in targets]
    return preds[0] if len(preds) == 1 else f"any({', '.join(preds)})"


def _with_cfg(text: str, cfg: str) -> str:
    """``#[cfg(...)]`` before every top-level item of ``text``."""
    out = []
    depth = 0
    in_attrs = False
    for line in text.split("\n"):
        if depth == 0 and line and not line.startswith(("}", "//", " ")) and not in_attrs:
            out.append(f"#[cfg({cfg})]")
        in_attrs = depth == 0 and line.startswith("#[")
        depth += line.count("{") - line.count("}")
        out.append(line)
    return "\n".join(out)


def _dependency_order(records: Sequence[Record], target: str) -> list[Record]:
    """The records defined on ``target``, each after the records it contains by value."""
    by_name = {r.name: r for r in records}
    done: list[Record] = []
    seen: set[str] = set()

    def visit(rec: Record) -> None:
        if rec.name in seen or target not in rec.layouts:
            return
        seen.add(rec.name)
        stack = list(rec.layouts[target].members)
        while stack:
            m = stack.pop()
            stack += m.members + m.element_members
            t = m.type.innermost
            if t.kind == "record" and t.record in by_name:
                visit(by_name[t.record])
        done.append(rec)

    for r in records:
        visit(r)
    return done
