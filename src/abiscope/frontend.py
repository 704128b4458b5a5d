"""The C frontend: the one place that touches libclang (``clang.cindex``, libclang-ng wheel).

Parses headers once per target, hermetically (``-nostdlibinc -ffreestanding``: clang's own
builtin headers, never the host's, plus the per-target system dirs given or discovered), and
turns what clang lays out into the plain data of :mod:`abiscope.model`. Nothing downstream
sees a clang object.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import isolation, sandbox
from .datamodels import MODELS, DataModel
from .decls import DeclSet, FieldDecl, RecordDecl, TypeDecl
from .errors import Diagnostic, InputError, ParseFailure, SourceLocation
from .executors import Executor
from .executors import local as local_executor
from .layout_engine import LayoutEngine
from .model import (
    CType,
    Enum,
    EnumConstant,
    EnumLayout,
    IoctlRequest,
    IoctlScan,
    IoctlSkip,
    Macro,
    Member,
    Model,
    Record,
    RecordLayout,
    TargetInfo,
    gaps,
)
from .targets import Target

if TYPE_CHECKING:
    from .cache import UnitCache


@dataclass(frozen=True)
class ParseOptions:
    """What a C compiler would be told, besides the target."""

    include_dirs: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    undefines: tuple[str, ...] = ()
    force_includes: tuple[str, ...] = ()
    std: str = "gnu11"
    sysroots: tuple[tuple[str, str], ...] = ()  # (target name, include dir) from --sysroot
    system_dirs: bool = True  # discover per-target system include dirs
    all_files: bool = False  # collect every record, not only the inputs' and what they use
    macros: bool = False  # evaluate the inputs' ioctl request macros (_IO, _IOR, _IOW, …)
    macro_names: tuple[str, ...] = ()  # further object-like macros to evaluate
    unsaved: tuple[tuple[str, str], ...] = ()  # (path, text): parse this text for that file
    extra_args: tuple[str, ...] = field(default=())
    allow_include_outside: bool = False  # no include sandbox (see abiscope.sandbox)


def system_include_dirs(target: Target, options: ParseOptions) -> list[str]:
    """Per-target system include dirs: ``--sysroot`` first, else Debian's where they exist.

    The host's multiarch layout (``/usr/include/<multiarch>`` + ``/usr/include``) serves the
    target it was made for; any other Linux target uses its cross tree
    ``/usr/<gnu-triple>/include`` (from ``libc6-dev-<arch>-cross``), which holds ``asm/``,
    ``linux/`` and libc headers of that target. Nothing is added for a target without one.
    """
    given = [d for t, d in options.sysroots if t in (target.name, target.triple)]
    if given or not options.system_dirs:
        return given
    dirs: list[str] = []
    if target.multiarch and os.path.isdir(f"/usr/include/{target.multiarch}"):
        dirs += [f"/usr/include/{target.multiarch}", "/usr/include"]
    elif target.gnu_triple and os.path.isdir(f"/usr/{target.gnu_triple}/include"):
        dirs.append(f"/usr/{target.gnu_triple}/include")
    return dirs


def search_dirs(target: Target, options: ParseOptions) -> list[str]:
    """The ``-I`` and system include directories of one target's clang, in search order
    (clang's builtin headers come from libclang itself, named by its version)."""
    return [*options.include_dirs, *system_include_dirs(target, options)]


def clang_args(target: Target, options: ParseOptions) -> list[str]:
    """The full, hermetic clang command line for one target (without the input file)."""
    args = ["-x", "c", f"--target={target.triple}", *target.clang_flags, f"-std={options.std}",
            "-nostdlibinc", "-ffreestanding", "-fno-spell-checking", "-Wno-everything",
            "-fbracket-depth=256"]  # clang's default; without it libclang 22 overflows its stack
    args += [f"-I{d}" for d in options.include_dirs]
    args += [f"-D{d}" for d in options.defines]
    args += [f"-U{u}" for u in options.undefines]
    for inc in options.force_includes:
        args += ["-include", inc]
    for d in system_include_dirs(target, options):
        args += ["-idirafter", d]
    return args + list(options.extra_args)


# ---------------------------------------------------------------------------------------
# libclang access (lazily imported so that snapshot-only commands never load it)


@lru_cache(maxsize=1)
def _cindex() -> Any:
    try:
        import clang.cindex as ci
    except ImportError as exc:  # pragma: no cover - packaging problem
        raise InputError(
            "clang.cindex is not importable: install the libclang-ng wheel "
            f"(pip install libclang-ng) ({exc})"
        ) from exc
    # The wheel adds '-isystem <wheel>/native/libcxx' to every parse unless told not to;
    # for C that only routes stddef.h through libc++'s wrapper and slows parsing by ~40 %.
    ci.Config.libcxx_dir = None
    _unguard(ci)
    return ci


def _unguard(ci: Any) -> None:
    """Make the bindings' per-call null-cursor check cheap (it dominated the walk).

    Every ``Cursor`` method is wrapped in ``cursor_null_guard``, which asks libclang
    (``clang_equalCursors`` against ``clang_getNullCursor()``) whether the cursor is null,
    and every cursor-returning call asks again to map a null cursor to ``None``. The bindings
    never hand out a null cursor, so the guard is dropped, and ``is_null`` compares the
    cursor's bytes with the null cursor's instead of a foreign call: same answers, about a
    third of the walk's time saved (measured with cProfile on Linux UAPI headers).
    """
    cursor = ci.Cursor
    if getattr(cursor, "_abiscope_unguarded", False):
        return
    null = bytes(ci.conf.lib.clang_getNullCursor())

    def is_null(self: Any) -> bool:
        return bytes(self) == null

    for name, attr in list(vars(cursor).items()):
        if isinstance(attr, property) and _guarded(attr.fget):
            setattr(cursor, name, property(_guarded(attr.fget), attr.fset, attr.fdel,
                                           attr.__doc__))
        elif _guarded(attr) is not None:
            setattr(cursor, name, _guarded(attr))
    cursor.is_null = is_null
    cursor.kind = property(_kind_getter(ci.CursorKind))
    ci.Type.kind = property(_kind_getter(ci.TypeKind))
    cursor._abiscope_unguarded = True


def _kind_getter(enum: Any) -> Callable[[Any], Any]:
    """``Cursor.kind`` / ``Type.kind`` as a dictionary look-up: the bindings call the enum
    class (``CursorKind(id)``) on every access, a million times on Linux UAPI (about a
    tenth of the walk under cProfile). Same members; an unknown id still raises."""
    members = dict(enum._value2member_map_)
    from_id = enum.from_id

    def kind(self: Any) -> Any:
        member = members.get(self._kind_id)
        return member if member is not None else from_id(self._kind_id)
    return kind


def _children(cursor: Any, kinds: Iterable[Any]) -> list[Any]:
    """The children of ``cursor`` of the given kinds, in order (``get_children`` filtered).

    A translation unit parsed with the detailed preprocessing record has every macro
    definition and expansion among its top-level children (about 700,000 on Linux UAPI),
    and the walk looks at them several times; this visitor drops the unwanted ones by
    their kind id before any Python object is made of them.
    """
    ci = _cindex()
    ids = frozenset(k.value for k in kinds)
    tu = cursor._tu
    out: list[Any] = []

    def visitor(child: Any, _parent: Any, _data: Any) -> int:
        if child._kind_id in ids:
            child._tu = tu
            out.append(child)
        return 1  # CXChildVisit_Continue

    ci.conf.lib.clang_visitChildren(cursor, ci.cursor_visit_callback(visitor), None)
    return out


def _guarded(func: Any) -> Any:
    """The function a ``cursor_null_guard`` wrapper wraps, or None."""
    if getattr(func, "__name__", "") != "inner" or not getattr(func, "__closure__", None):
        return None
    inner = [c.cell_contents for c in func.__closure__ if callable(c.cell_contents)]
    return inner[0] if len(inner) == 1 else None


@lru_cache(maxsize=1)
def _kinds() -> dict[Any, tuple[str, bool | None]]:
    tk = _cindex().TypeKind
    out: dict[Any, tuple[str, bool | None]] = {tk.BOOL: ("bool", False)}
    for name in ("CHAR_U", "UCHAR", "CHAR16", "CHAR32", "USHORT", "UINT", "ULONG",
                 "ULONGLONG", "UINT128"):
        out[getattr(tk, name)] = ("int", False)
    for name in ("CHAR_S", "SCHAR", "WCHAR", "SHORT", "INT", "LONG", "LONGLONG", "INT128"):
        out[getattr(tk, name)] = ("int", True)
    for name in ("HALF", "FLOAT", "DOUBLE", "LONGDOUBLE", "FLOAT128", "IBM128", "FLOAT16",
                 "BFLOAT16"):
        if hasattr(tk, name):
            out[getattr(tk, name)] = ("float", True)
    for kinds, label in (
        (("COMPLEX",), "complex"), (("POINTER", "BLOCKPOINTER"), "pointer"),
        (("CONSTANTARRAY", "INCOMPLETEARRAY", "VARIABLEARRAY", "DEPENDENTSIZEDARRAY"), "array"),
        (("RECORD",), "record"), (("ENUM",), "enum"),
        (("FUNCTIONPROTO", "FUNCTIONNOPROTO"), "function"), (("VOID",), "void"),
        (("VECTOR", "EXTVECTOR"), "vector"),
    ):
        for name in kinds:
            if hasattr(tk, name):
                out[getattr(tk, name)] = (label, None)
    return out


_UNNAMED_MARKERS = ("(anonymous", "(unnamed")


def _size(value: int) -> int | None:
    """libclang reports errors (incomplete, dependent, …) as negative sizes."""
    return value if value >= 0 else None


class _TargetWalker:
    """Walks one translation unit of one target into model pieces."""

    def __init__(self, target: str, relpath: Callable[[str], str]) -> None:
        self.ci = _cindex()
        self.target = target
        self.relpath = relpath
        self.types: dict[tuple[str, str], CType] = {}
        self.records: dict[str, tuple[str, SourceLocation, RecordLayout]] = {}
        self.enums: dict[str, tuple[SourceLocation, EnumLayout]] = {}
        self.pending: list[Any] = []
        self.seen_decls: set[str] = set()
        # records with an anonymous member whose attributes GCC ignores (_gcc_ignores)
        self.ignored_attrs: set[str] = set()
        self._ignoring = False
        self.macros: Mapping[str, list[str]] | None = None  # read when an attribute needs it
        self.type_ids: dict[tuple[int, int | None, int | None], CType] = {}  # of the unit
        tk = self.ci.TypeKind
        self._enum_kind_id = tk.ENUM.value
        self._unsigned_kind_ids = frozenset(  # (as Cursor.enum_value decides)
            getattr(tk, n).value for n in ("CHAR_U", "UCHAR", "CHAR16", "CHAR32", "USHORT",
                                           "UINT", "ULONG", "ULONGLONG", "UINT128"))
        self.files: dict[int | None, str] = {}  # file handle -> relpath, of the unit walked
        # (the out-parameters of clang_getInstantiationLocation, made once)
        self._location_out = (self.ci.c_object_p(), ctypes.c_uint(), ctypes.c_uint())
        self._location_refs = tuple(ctypes.byref(o) for o in self._location_out)

    # -- locations -------------------------------------------------------------------------

    def location(self, cursor: Any) -> SourceLocation:
        """The cursor's expansion location; file names are looked up once per file of the
        translation unit (``files``, keyed by libclang's file handle, emptied by
        :func:`_walk` for every unit) instead of once per cursor."""
        lib = self.ci.conf.lib
        handle, line, column = self._location_out
        lib.clang_getInstantiationLocation(lib.clang_getCursorLocation(cursor),
                                           *self._location_refs, None)
        if not handle:
            return SourceLocation("", line.value, column.value)
        key = ctypes.cast(handle, ctypes.c_void_p).value
        name = self.files.get(key)
        if name is None:
            name = self.files[key] = self.relpath(self.ci.File(handle).name)
        return SourceLocation(name, line.value, column.value)

    # -- types -----------------------------------------------------------------------------

    def record_name(self, decl: Any) -> str:
        """``struct TAG``, the typedef name of an untagged record, or "" if unnamed."""
        spelling: str = decl.type.get_canonical().spelling
        if any(m in spelling for m in _UNNAMED_MARKERS):
            return ""
        return spelling

    def desugar(self, t: Any) -> tuple[Any, list[str]]:
        """Strip elaboration, typedefs and attributes; return the core type and the chain."""
        tk = self.ci.TypeKind
        chain: list[str] = []
        while True:
            if t.kind == tk.ELABORATED:
                t = t.get_named_type()
            elif t.kind == tk.TYPEDEF:
                chain.append(t.get_typedef_name())
                t = t.get_declaration().underlying_typedef_type
            elif t.kind == tk.ATTRIBUTED and hasattr(t, "get_modified_type"):
                t = t.get_modified_type()
            else:
                return t, chain

    MAX_TYPE_DEPTH = 100  # pointer/array chains deeper than this are described as "other"

    def _nested(self, t: Any) -> CType:
        """The pointee or element type, one level deeper; past MAX_TYPE_DEPTH levels (a
        hostile 10,000-deep pointer chain) only its spelling and size are kept, so the walk
        never recurses inside libclang's callbacks until Python's stack gives out."""
        depth = getattr(self, "_depth", 0)
        if depth >= self.MAX_TYPE_DEPTH:
            return CType(spelling=t.spelling, kind="other", size=_size(t.get_size()),
                         align=_size(t.get_align()), canonical=t.get_canonical().spelling)
        self._depth = depth + 1
        try:
            return self.ctype(t)
        finally:
            self._depth = depth

    def ctype(self, t: Any) -> CType:
        # libclang's handle of the (sugared) type first: the same handle is the same type,
        # spelled the same, without asking for two spellings per member
        ident = (t._kind_id, t.data[0], t.data[1])
        cached = self.type_ids.get(ident)
        if cached is not None:
            return cached
        spelling: str = t.spelling
        canon = t.get_canonical()
        key = (spelling, canon.spelling)
        cached = self.types.get(key)
        if cached is not None:
            self.type_ids[ident] = cached
            return cached
        kind, signed = _kinds().get(canon.kind, ("other", None))
        core, chain = self.desugar(t)
        dims: list[int | None] = []
        element = pointee = None
        record = None
        tk = self.ci.TypeKind
        if kind == "array":
            inner = core
            while inner.kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY, tk.VARIABLEARRAY):
                dims.append(inner.get_array_size() if inner.kind == tk.CONSTANTARRAY else None)
                inner, _ = self.desugar(inner.get_array_element_type())
            element = self._nested(_element_sugared(core, len(dims), tk))
        elif kind == "pointer":
            pointee = self._nested(core.get_pointee())
            self.note_decl(core.get_pointee().get_canonical().get_declaration())
        elif kind in ("record", "enum"):
            decl = canon.get_declaration()
            record = self.record_name(decl)
            self.note_decl(decl)
        result = CType(
            spelling=spelling, kind=kind, size=_size(t.get_size()), align=_size(t.get_align()),
            canonical=canon.spelling, signed=signed, typedefs=tuple(chain), dims=tuple(dims),
            element=element, pointee=pointee, record=record,
        )
        self.types[key] = result
        self.type_ids[ident] = result
        return result

    def align_attr(self, cursor: Any) -> int | None:
        """The declaration's ``aligned(...)``; raises :class:`NeedsMacros` when it is written
        in a macro of another file and the unit has no macro record (the walk stops there:
        :meth:`_GroupParser.collect` walks a unit with the record instead)."""
        return align_attr(cursor, macros=self.macros)

    # -- records and enums -----------------------------------------------------------------

    def note_decl(self, decl: Any) -> None:
        """Queue a record/enum reached from an input so that its layout is collected too."""
        ck = self.ci.CursorKind
        if decl.kind in (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL):
            self.pending.append(decl)

    def members(self, record_type: Any, base_bits: int) -> tuple[Member, ...]:
        out: list[Member] = []
        for f in record_type.get_fields():
            # a named field's spelling is its identifier; an anonymous struct/union member
            # is spelled after its type ('struct s::(anonymous at f.h:1:12)') or not at all
            spelling = f.spelling
            anonymous = (not spelling.isidentifier()) and bool(f.is_anonymous_record_decl())
            if not anonymous and not f.spelling:
                continue  # unnamed bitfield (`int :3;`, `int :0;`): padding, not a member
            t = f.type
            ct = self.ctype(t)
            offset = base_bits + f.get_field_offsetof()
            width = f.get_bitfield_width()  # (-1: not a bitfield)
            bitfield = width >= 0
            if not bitfield:
                width = None
            size_bits = width if width is not None else (ct.size or 0) * 8
            nested: tuple[Member, ...] = ()
            if ct.kind == "record" and not ct.record:
                nested = self.members(t.get_canonical(), offset)
            ignored = anonymous and _gcc_ignores(f)
            self._ignoring |= ignored
            out.append(Member(
                name="" if anonymous else spelling, type=ct, offset_bits=offset,
                size_bits=size_bits, align=ct.align or 1, bitfield=bitfield, bit_width=width,
                location=self.location(f), members=nested,
                align_attr=self.align_attr(f) if f.has_attrs() and not ignored else None,
            ))
        return tuple(out)

    def add_record(self, cursor: Any, children: Sequence[Any], name: str) -> None:
        """``children``: the cursor's struct/union/enum and packed-attribute children;
        ``name``: its :meth:`record_name`."""
        if not name or name in self.records:
            return
        t = cursor.type
        size = _size(t.get_size())
        align = _size(t.get_align())
        if size is None or align is None:
            return
        named_by = _naming_typedef(cursor, name)
        if named_by is not None and named_by.has_attrs():
            align = self.typedef_align(named_by) or align
        self._ignoring = False
        members = self.members(t, 0)
        if self._ignoring:
            self.ignored_attrs.add(name)
        holes, tail = gaps(members, size) if cursor.kind == self.ci.CursorKind.STRUCT_DECL \
            else ((), size * 8 - max((m.offset_bits + m.size_bits for m in members), default=0))
        packed = any(c.kind == self.ci.CursorKind.PACKED_ATTR for c in children)
        kind = "struct" if cursor.kind == self.ci.CursorKind.STRUCT_DECL else "union"
        self.records[name] = (kind, self.location(cursor), RecordLayout(
            size, align, members, holes, max(tail, 0), packed, kind))

    def add_enum(self, cursor: Any) -> None:
        name = self.record_name(cursor)
        loc = self.location(cursor)
        if not name:
            name = f"enum (anonymous at {loc.file}:{loc.line})"
        if name in self.enums:
            return
        t = cursor.type
        underlying = cursor.enum_type
        signed = _kinds().get(underlying.get_canonical().kind, ("int", True))[1]
        constants = tuple(EnumConstant(c.spelling, self.enum_value(c, underlying))
                          for c in _children(cursor, (self.ci.CursorKind.ENUM_CONSTANT_DECL,)))
        size, align = _size(t.get_size()), _size(t.get_align())
        if size is None or align is None:
            return
        self.enums[name] = (loc, EnumLayout(size, align, underlying.spelling, bool(signed),
                                            constants))

    def typedef_align(self, typedef: Any) -> int | None:
        """``_Alignof`` of a typedef with attributes (an ``aligned`` on a typedef may raise
        or lower it). A bare ``aligned`` is GCC's biggest alignment of the target: clang's
        differs on mips (16 bytes, GCC 8)."""
        if self.align_attr(typedef) == 0 and self.target in MODELS:
            return MODELS[self.target].mode_align_cap
        return _size(typedef.type.get_align())

    def enum_value(self, constant: Any, underlying: Any) -> int:
        """``Cursor.enum_value`` without its look-ups per constant: a constant's type is
        its enum's (``underlying``, the enum's integer type) or its own integer type;
        unsigned types read the unsigned value."""
        lib = self.ci.conf.lib
        t = lib.clang_getCursorType(constant)
        kind_id = underlying._kind_id if t._kind_id == self._enum_kind_id else t._kind_id
        if kind_id in self._unsigned_kind_ids:
            return int(lib.clang_getEnumConstantDeclUnsignedValue(constant))
        return int(lib.clang_getEnumConstantDeclValue(constant))

    def visit(self, cursor: Any) -> None:
        """Collect a definition and the tagged records defined inside it."""
        ck = self.ci.CursorKind
        if cursor.kind in (ck.STRUCT_DECL, ck.UNION_DECL):
            if not cursor.is_definition():
                return
            name = self.record_name(cursor)
            if name and name in self.records:
                return  # walked already, with the records defined inside it
            children = _children(cursor, (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL,
                                          ck.PACKED_ATTR))
            self.add_record(cursor, children, name)
            for child in children:
                if child.kind in (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL):
                    self.visit(child)
        elif cursor.kind == ck.ENUM_DECL and cursor.is_definition():
            self.add_enum(cursor)

    def drain_pending(self) -> None:
        while self.pending:
            decl = self.pending.pop()
            definition = decl.get_definition()
            if definition is None:
                continue
            key = definition.hash
            if key in self.seen_decls:
                continue
            self.seen_decls.add(key)
            self.visit(definition)


def _element_sugared(array_type: Any, depth: int, tk: Any) -> Any:
    """The innermost element type of an array, keeping its typedef spelling."""
    t = array_type
    for _ in range(depth):
        while t.kind in (tk.ELABORATED, tk.TYPEDEF):
            t = t.get_named_type() if t.kind == tk.ELABORATED else \
                t.get_declaration().underlying_typedef_type
        t = t.get_array_element_type()
    return t


@dataclass(frozen=True)
class TargetResult:
    """What parsing the inputs for one target produced (picklable, plain data)."""

    target: str
    records: tuple[tuple[str, str, SourceLocation, RecordLayout], ...]
    enums: tuple[tuple[str, SourceLocation, EnumLayout], ...]
    failures: tuple[ParseFailure, ...]
    macros: tuple[tuple[str, SourceLocation, int, tuple[str, ...]], ...] = ()


@lru_cache(maxsize=1)
def builtin_include_dir() -> str | None:
    """clang's builtin-header dir (``stddef.h`` & co. in the libclang wheel), as libclang
    itself finds ``<stddef.h>``."""
    ci = _cindex()
    tu = ci.Index.create().parse("abiscope-probe.c", args=["-x", "c", "-ffreestanding"],
                                 unsaved_files=[("abiscope-probe.c", "#include <stddef.h>\n")])
    for name, _ in _includes(tu):
        if os.path.basename(name) == "stddef.h":
            return os.path.dirname(os.path.abspath(name))
    return None


def _batch_facts(tu: Any, headers: Sequence[str]) -> isolation.BatchFacts:
    """The include graph and file-scope names of a batch's translation unit, as plain data
    for :func:`abiscope.isolation.check` (real paths).

    Every top-level child is looked at (with the detailed preprocessing record, every macro
    definition and expansion is one: about 2,000 per batch on Linux UAPI), so the visitor
    asks libclang directly for what it needs instead of making Python objects of it; the
    struct, union and enum cursors it meets are kept for the walk (:func:`_top_level`).
    """
    ci = _cindex()
    ck = ci.CursorKind
    lib = ci.conf.lib
    real = _realpath
    entered = tuple(dict.fromkeys(real(name) for name, _ in _includes(tu)))  # first entries
    include_id = ck.INCLUSION_DIRECTIVE.value
    tag_ids = {ck.STRUCT_DECL.value, ck.UNION_DECL.value, ck.ENUM_DECL.value}
    enum_id = ck.ENUM_DECL.value
    # (functions are left out: no layout reads one, and their bodies are not parsed)
    # (macros come from each file's text, without the blocks clang skipped: _skipped)
    wanted = {include_id, *tag_ids, ck.TYPEDEF_DECL.value, ck.VAR_DECL.value}
    files: dict[int | None, str | None] = {}
    includes: dict[str, list[tuple[int, str]]] = {}
    declared: list[tuple[str, str]] = []
    tags: list[tuple[str, str]] = []
    enums: list[tuple[str, Any]] = []
    records: list[Any] = []  # every top-level struct, union and enum: the walk's too
    handle, offset = ci.c_object_p(), ctypes.c_uint()
    tu_ref = tu.cursor._tu

    def visitor(child: Any, _parent: Any, _data: Any) -> int:
        kind = child._kind_id
        if kind not in wanted:
            return 1
        if kind in tag_ids:
            child._tu = tu_ref
            records.append(child)
        lib.clang_getInstantiationLocation(lib.clang_getCursorLocation(child),
                                           ctypes.byref(handle), None, None,
                                           ctypes.byref(offset))
        key = ctypes.cast(handle, ctypes.c_void_p).value
        where = files.get(key, "")
        if where == "":
            where = files[key] = real(ci.File(handle).name) if handle else None
        if where is None:
            return 1
        if kind == include_id:
            included = lib.clang_getIncludedFile(child)
            if included:
                includes.setdefault(where, []).append(
                    (offset.value, real(ci.File(included).name)))
            return 1
        spelling = ci._CXString.from_result(lib.clang_getCursorSpelling(child))
        if kind in tag_ids:
            if spelling and lib.clang_isCursorDefinition(child):
                tags.append((where, spelling))
                if kind == enum_id:
                    enums.append((where, child))
        elif spelling:
            declared.append((where, spelling))
        return 1

    lib.clang_visitChildren(tu.cursor, ci.cursor_visit_callback(visitor), None)
    tu._abiscope_records = records  # _top_level need not visit every child again
    for where, enum in enums:
        declared += [(where, c.spelling) for c in _children(enum, (ck.ENUM_CONSTANT_DECL,))]
    return isolation.BatchFacts(
        tuple(real(h) for h in headers), entered, {f: tuple(v) for f, v in includes.items()},
        isolation.group_names(declared), isolation.group_names(tags), _skipped(tu))


class _RangeList(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint), ("ranges", ctypes.c_void_p)]


@lru_cache(maxsize=1)
def _range_functions() -> Any:
    """libclang with the skipped-range calls declared (the bindings do not declare them)."""
    ci = _cindex()
    lib = ci.conf.lib
    lib.clang_getAllSkippedRanges.argtypes = [ci.TranslationUnit]
    lib.clang_getAllSkippedRanges.restype = ctypes.POINTER(_RangeList)
    lib.clang_disposeSourceRangeList.argtypes = [ctypes.POINTER(_RangeList)]
    lib.clang_disposeSourceRangeList.restype = None
    return lib


def _skipped(tu: Any) -> dict[str, tuple[tuple[int, int], ...]]:
    """The byte ranges of each file (real path) that the preprocessor skipped (inactive
    conditional blocks, their directives included), from the preprocessing record."""
    ci = _cindex()
    lib = _range_functions()
    found = lib.clang_getAllSkippedRanges(tu)
    out: dict[str, list[tuple[int, int]]] = {}
    if not found:
        return {}
    try:
        ranges = ctypes.cast(found.contents.ranges, ctypes.POINTER(ci.SourceRange))
        handle, start, end = ci.c_object_p(), ctypes.c_uint(), ctypes.c_uint()
        names: dict[int | None, str] = {}
        for i in range(found.contents.count):
            r = ranges[i]
            lib.clang_getInstantiationLocation(lib.clang_getRangeStart(r), ctypes.byref(handle),
                                               None, None, ctypes.byref(start))
            key = ctypes.cast(handle, ctypes.c_void_p).value
            lib.clang_getInstantiationLocation(lib.clang_getRangeEnd(r), None, None, None,
                                               ctypes.byref(end))
            if not handle:
                continue
            if key not in names:
                names[key] = _realpath(ci.File(handle).name)
            out.setdefault(names[key], []).append((start.value, end.value))
    finally:
        lib.clang_disposeSourceRangeList(found)
    return {f: tuple(sorted(v)) for f, v in out.items()}


def _realpath(path: str) -> str:
    """``os.path.realpath``, remembered (per working directory: a path may be relative)."""
    return _realpath_in(os.getcwd(), path)


def _abspath(path: str) -> str:
    """``os.path.abspath``, remembered (per working directory)."""
    return _abspath_in(os.getcwd(), path)


@lru_cache(maxsize=65536)
def _realpath_in(_cwd: str, path: str) -> str:
    return os.path.realpath(path)


@lru_cache(maxsize=65536)
def _abspath_in(_cwd: str, path: str) -> str:
    return os.path.abspath(path)


def _includes(tu: Any) -> Iterator[tuple[str, str]]:
    """(included file, includer) of every inclusion clang made. A file given with
    ``-include`` counts as included by the translation unit itself; an ``#include`` that
    found nothing is left out (its diagnostic names the includer)."""
    cached: list[tuple[str, str]] | None = getattr(tu, "_abiscope_includes", None)
    if cached is None:  # read once per translation unit (several callers ask)
        ci = _cindex()
        get_inclusions, visitor_type = _inclusion_functions()
        location_at = ci.SourceLocation.from_address
        instantiation = ci.conf.lib.clang_getInstantiationLocation
        names: dict[int, str] = {}
        handle = ci.c_object_p()
        found: list[tuple[str, str]] = []
        failed: list[BaseException] = []  # (ctypes would print and drop it)

        def name(key: int) -> str:
            known = names.get(key)
            if known is None:
                known = names[key] = ci.File(ctypes.cast(key, ci.c_object_p)).name
            return known

        def visitor(included: int | None, stack: int | None, depth: int,
                    _data: Any) -> None:
            # (TranslationUnit.get_includes with plain integers for the file and the stack:
            # no Python object per location)
            if depth > 0 and included and stack and not failed:
                try:
                    instantiation(location_at(stack), ctypes.byref(handle), None, None, None)
                    includer = ctypes.cast(handle, ctypes.c_void_p).value
                    found.append((name(included),
                                  name(includer) if includer else tu.spelling))
                except BaseException as exc:
                    failed.append(exc)

        get_inclusions(tu, visitor_type(visitor), None)
        if failed:
            raise failed[0]
        cached = tu._abiscope_includes = found
    yield from cached


@lru_cache(maxsize=1)
def _inclusion_functions() -> tuple[Any, Any]:
    """``clang_getInclusions`` with a visitor that receives plain integers (its own
    prototype, so that the bindings' declaration is left as it is)."""
    ci = _cindex()
    visitor_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint,
                                    ctypes.c_void_p)
    function = ci.conf.lib["clang_getInclusions"]  # a new function object
    function.argtypes = [ci.TranslationUnit, visitor_type, ctypes.c_void_p]
    function.restype = None
    return function, visitor_type


def _diagnostics(tu: Any, relpath: Callable[[str], str]) -> list[Diagnostic]:
    ci = _cindex()
    out = []
    after_end = []  # in the one-line main file that includes a header alone
    for d in tu.diagnostics:
        if d.severity < ci.Diagnostic.Error:
            continue
        loc = d.location
        level = "fatal" if d.severity >= ci.Diagnostic.Fatal else "error"
        if loc.file is not None and os.path.basename(loc.file.name) == _ALONE_NAME:
            # (an unclosed struct "expects '}'" there): no place to show in the header
            after_end.append(Diagnostic(level, f"at the end of the header: {d.spelling}", None))
            continue
        where = SourceLocation(relpath(loc.file.name), loc.line, loc.column) if loc.file else None
        out.append(Diagnostic(level, sandbox.explain(d.spelling, loc.file and loc.file.name),
                              where))
    return out or after_end  # the header's own errors say what is wrong, when it has some


def relpath(path: str) -> str:
    """A path as reports show it: relative to the working directory when below it."""
    return _relpath_in(os.getcwd(), path)


@lru_cache(maxsize=4096)
def _relpath_in(_cwd: str, path: str) -> str:
    norm = os.path.normpath(path)
    if not os.path.isabs(norm):
        return norm
    rel = os.path.relpath(norm)
    return norm if rel.startswith("..") else rel


def parse_target(headers: Sequence[str], target: Target, options: ParseOptions) -> TargetResult:
    """Parse every header for one target, one translation unit per header."""
    return parse_group(headers, [target], options)[0]


def parse_group(headers: Sequence[str], targets: Sequence[Target],
                options: ParseOptions) -> list[TargetResult]:
    """Parse every header once for targets that share one clang command line.

    The first target is the one clang lays out (or, if all are engine targets, the one
    whose parse they borrow); every engine target of the group is laid out by the engine
    from the same declarations (x86_64, lp128 and cheri128 share one parse).
    One translation unit per header; :func:`parse_unit` puts several in one.
    """
    group = _GroupParser(targets, options)
    for header in headers:
        group.parse_one(header)
    return group.results()


@dataclass(frozen=True)
class UnitResult:
    """One unit of work (a batch of headers x a group of targets): its results per target
    and every file its translation units read (absolute paths; empty when unknown)."""

    results: tuple[TargetResult, ...]
    files: tuple[str, ...]
    cacheable: bool = True


def parse_unit(headers: Sequence[str], targets: Sequence[Target],
               options: ParseOptions, batch: bool = True,
               standalone: bool = False, files: bool = True) -> UnitResult:
    """Parse a batch of headers in as few translation units as possible (a pure function).

    The batch is first parsed as one translation unit that includes every header in order,
    so that what they share (``linux/types.h``, …) is parsed once. When that unit has
    errors, each error is traced (through clang's inclusion tree) to the header under which
    it occurred; those headers are parsed alone, and the headers between them as batches
    again, in input order, so that records are taken from the same header as one
    translation unit per header would (the first declaration of a name wins). A header that
    fails alone is a failure exactly as in :func:`parse_group`. A header that would read
    what only the batch gave it (:mod:`abiscope.isolation`: a macro, typedef or tag of a
    header it does not include) is parsed alone too, so the result equals
    :func:`parse_group`'s. ``standalone`` also parses each header alone first (one more
    parse per header; no longer needed for that). With ``batch`` false, every header has a
    translation unit of its own (exactly :func:`parse_group`). ``files=False`` leaves the
    files read out of the result (no cache will validate it): the same layouts, sooner.
    """
    with _collector_paused():
        group = _GroupParser(targets, options, files)
        if batch:
            group.parse_batches(headers, standalone)
        else:
            for header in headers:
                group.parse_one(header)
        return UnitResult(tuple(group.results()), tuple(sorted(group.files)),
                          group.cacheable)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a unit is parsed: the walk allocates hundreds of
    thousands of short-lived binding objects, none in a reference cycle, and the collector
    ran about 500 times per target on Linux UAPI for nothing (5 % of the CPU). A unit's
    garbage is bounded by the unit; the caller's setting is restored after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_BATCH_NAME = "<abiscope batch>.c"
_ALONE_NAME = "<abiscope header>.c"


def _alone_main(header: str) -> tuple[str, str]:
    """The main file (path, text) of one header's own translation unit."""
    return os.path.join(os.getcwd(), _ALONE_NAME), f'#include "{os.path.abspath(header)}"\n'

_SKIP_MARK = "__abiscope_guard_defined_"
_GUARD_RE = re.compile(r"\A(?:\s|/\*.*?\*/|//[^\n]*\n)*#\s*(?:ifndef\s+(\w+)|if\s+!\s*defined"
                       r"\s*\(?\s*(\w+)\s*\)?)\s*\n\s*#\s*define\s+(\w+)", re.S)


def _include_guard(header: str) -> str | None:
    """The include-guard macro of a header (``#ifndef X`` / ``#define X`` first), if any."""
    try:
        st = os.stat(header)
    except OSError:
        return None
    return _include_guard_of(header, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=65536)
def _include_guard_of(header: str, mtime_ns: int, size: int) -> str | None:
    try:
        with open(header, encoding="utf-8", errors="replace") as fh:
            m = _GUARD_RE.match(fh.read(8192))
    except OSError:
        return None
    if m is None or (m.group(1) or m.group(2)) != m.group(3):
        return None
    return m.group(3)


def _batch_include(i: int, header: str) -> str:
    """One header's lines in a batch: its include, preceded by an ``#error`` marker that
    fires when its include guard is already defined (see :meth:`_GroupParser.culprits`)."""
    line = f'#include "{os.path.abspath(header)}"\n'
    guard = _include_guard(header)
    if guard is None:
        return line
    return f"#ifdef {guard}\n#error {_SKIP_MARK}{i}\n#endif\n{line}"


class _GroupParser:
    """Parses translation units for one group of targets, accumulating model pieces."""

    def __init__(self, targets: Sequence[Target], options: ParseOptions,
                 files: bool = True) -> None:
        ci = self.ci = _cindex()
        self.targets = targets
        self.options = options
        self.index = ci.Index.create()
        self.args = clang_args(targets[0], options)
        flags = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES \
            | ci.TranslationUnit.PARSE_INCOMPLETE
        self.engines = [(t, MODELS[t.name]) for t in targets if t.engine and t.name in MODELS]
        self.clang_target = next((t for t in targets if not t.engine), None)
        self.want_macros = self.clang_target is not None and bool(
            options.macros or options.macro_names)
        # Always with the macro record: an aligned(...) from a macro of another file
        # (__aligned_u64) is then read from it when met, not by parsing again (as cheap).
        self.flags = flags | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
        self.builder = _DeclBuilder() if self.engines else None
        self.walker = _TargetWalker(targets[0].name, relpath)
        self.failures: list[ParseFailure] = []
        self.macros: list[tuple[str, SourceLocation, int, tuple[str, ...]]] = []
        self.files: set[str] = set()
        self.want_files = files  # (only a cache reads them: 4 % of a target's CPU)
        self.cacheable = True
        self._alone: Any = None  # the translation unit parse_one parses again per header
        # A header's own unit records macros only when they are read for sure (ioctl
        # values, the engine's attribute arguments): without the record its unit has a
        # tenth of the top-level children and parses faster; a walk that meets an
        # aligned(MACRO) from another file parses it again with the record (collect).
        self.alone_flags = self.flags if (self.want_macros or self.builder is not None) \
            else flags
        # Where clang's bare ``aligned`` is larger than GCC's biggest alignment (mips o32:
        # 16 bytes, GCC 8), a layout that holds more than GCC's biggest is the engine's.
        self.gcc_align_cap = None if self.clang_target is None \
            else _gcc_align_cap(self.clang_target)
        # and records with an aligned bitfield, where the engine is checked against GCC
        self.gcc_bitfields = self.clang_target is not None \
            and self.clang_target.name in MODELS \
            and self.clang_target.checked_by.startswith("gcc")
        self.relaid: set[str] = set()  # records the engine laid out instead of clang

    def parse(self, path: str, text: str | None, flags: int | None = None) -> Any:
        unsaved = list(self.options.unsaved)
        if text is not None:
            unsaved.append((path, text))
        return self.index.parse(path, args=self.args, unsaved_files=unsaved,
                                options=self.flags if flags is None else flags)

    def parse_alone(self, header: str) -> Any:
        """``header`` in a translation unit of its own: a main file that includes it.

        The unit of the header before is parsed again with the new main file
        (``clang_reparseTranslationUnit``), which skips the clang driver and the set-up of
        a new unit: 40 % less CPU per header on Linux UAPI (2.7 instead of 4.5 ms). The
        header's text is what a unit of its own reads; a unit that does not reparse is
        dropped and a new one made."""
        path, text = _alone_main(header)
        unsaved = [*self.options.unsaved, (path, text)]
        if self._alone is not None:
            try:
                self._alone.reparse(unsaved_files=unsaved)
            except self.ci.TranslationUnitLoadError:
                self._alone = None
            else:
                for attr in ("_abiscope_includes", "_abiscope_records"):
                    self._alone.__dict__.pop(attr, None)  # read off the unit before
                return self._alone
        self._alone = self.index.parse(path, args=self.args, unsaved_files=unsaved,
                                       options=self.alone_flags)
        return self._alone

    def note_files(self, tu: Any, headers: Sequence[str]) -> None:
        if not self.want_files:
            return
        cwd = os.getcwd()  # (once, not per file: a system call)
        self.files.update(_abspath_in(cwd, h) for h in headers)
        self.files.update(_abspath_in(cwd, name) for name, _ in _includes(tu))

    def parse_one(self, header: str, walk: bool = True) -> bool:
        """One header in its own translation unit; False (and a failure recorded, not
        raised) when it does not parse. ``walk=False`` only checks that it parses."""
        plain = self.flags & ~self.ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
        try:
            tu = self.parse_alone(header) if walk else self.parse(header, None, plain)
        except self.ci.TranslationUnitLoadError as exc:
            self.cacheable = False
            self.failures.append(ParseFailure(relpath(header), "", (
                Diagnostic("fatal", f"clang could not parse it ({exc})", None),)))
            return False
        self.note_files(tu, [header])
        errors = _diagnostics(tu, relpath)
        if errors:
            if tu is self._alone:
                # its error count would carry over into the next reparse ("too many
                # errors emitted" on a clean header): the next header gets a new unit
                self._alone = None
            self.failures.append(ParseFailure(relpath(header), "", tuple(errors)))
            return False
        if walk:
            record = self.ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
            self.collect(tu, [header], *_alone_main(header),
                         detailed=bool(self.alone_flags & record))
        return True

    def parse_batches(self, headers: Sequence[str], standalone: bool = False) -> None:
        """The headers in batches (see :func:`parse_unit`); with ``standalone``, only those
        that parse alone (each is parsed alone first, without walking it)."""
        if standalone:
            headers = [h for h in headers if self.parse_one(h, walk=False)]
        self.parse_batch(list(headers))

    def parse_batch(self, headers: list[str]) -> None:
        if len(headers) == 1:
            self.parse_one(headers[0])
            return
        if not headers:
            return
        path = os.path.join(os.getcwd(), _BATCH_NAME)
        text = "".join(_batch_include(i, h) for i, h in enumerate(headers))
        try:
            tu = self.parse(path, text)
        except self.ci.TranslationUnitLoadError:
            culprits: set[int] | None = set()
        else:
            culprits = self.culprits(tu, headers)
            if culprits is not None and not culprits:
                culprits = self.shared_guards(tu, headers)
            if culprits is not None and not culprits:
                verdict = isolation.check(_batch_facts(tu, headers))
                culprits = set(verdict.leaky)
            if culprits is not None and not culprits:
                self.note_files(tu, headers)
                self.collect(tu, headers, path, text, verdict.unevaluable)
                return
        if not culprits:  # errors that no header explains: split in halves
            half = len(headers) // 2
            self.parse_batch(headers[:half])
            self.parse_batch(headers[half:])
            return
        segment: list[str] = []
        for i, header in enumerate(headers):
            if i in culprits:
                self.parse_batch(segment)
                segment = []
                self.parse_one(header)
            else:
                segment.append(header)
        self.parse_batch(segment)

    def culprits(self, tu: Any, headers: Sequence[str]) -> set[int] | None:
        """Indices of the headers under which the batch's errors occurred: empty if it has
        none, None if an error is not inside any header's inclusion tree."""
        errors = [d for d in tu.diagnostics if d.severity >= self.ci.Diagnostic.Error]
        if not errors:
            return set()
        parent: dict[str, str] = {}
        entered: set[str] = set()  # files included by an input header (not by the batch)
        for name, source in _includes(tu):
            parent.setdefault(name, source)
            if source != tu.spelling:
                entered.add(_realpath(name))
        top = {os.path.abspath(h): i for i, h in enumerate(headers)}
        found: set[int] = set()

        def root(name: str | None) -> int | None:
            for _ in range(200):
                if name is None or (name in top and parent.get(name) == tu.spelling):
                    break
                name = parent.get(name)
            return top.get(name) if name is not None else None

        for d in errors:
            if d.spelling.startswith(_SKIP_MARK):
                # the header's include guard was defined before it: by itself, included
                # through an earlier header (fine), or by another copy of it (parse alone)
                i = int(d.spelling[len(_SKIP_MARK):])
                if _realpath(headers[i]) not in entered:
                    found.add(i)
                continue
            i_root = root(d.location.file.name if d.location.file else None)
            if i_root is None:
                return None
            found.add(i_root)
        return found

    def shared_guards(self, tu: Any, headers: Sequence[str]) -> set[int]:
        """Headers of a batch under which a file was included whose include guard another
        file, included under another header, also uses (``ip6t_hl.h`` and ``ip6t_HL.h``
        both use ``_IP6T_HL_H``): in one translation unit the later one's text is skipped,
        so each of them is parsed alone."""
        parent: dict[str, str] = {}
        by_guard: dict[str, dict[str, str]] = {}  # guard -> realpath -> a name of it
        for name, source in _includes(tu):
            parent.setdefault(name, source)
            guard = _include_guard(name)
            if guard is not None:
                by_guard.setdefault(guard, {}).setdefault(_realpath(name), name)
        top = {os.path.abspath(h): i for i, h in enumerate(headers)}
        found: set[int] = set()
        for files in by_guard.values():
            if len(files) < 2:
                continue
            roots = set()
            for name in files.values():
                for _ in range(200):
                    if name in top and parent.get(name) == tu.spelling:
                        roots.add(top[name])
                        break
                    if name not in parent:
                        break
                    name = parent[name]
            if len(roots) > 1:
                found |= roots
        return found

    def collect(self, tu: Any, headers: Sequence[str], path: str, text: str | None,
                unevaluable: frozenset[tuple[str, str]] = frozenset(),
                detailed: bool = True) -> None:
        """Walk a translation unit that parsed without errors (``unevaluable``: the
        (file, macro) pairs of a batch's inputs that their header alone cannot evaluate;
        ``detailed``: the unit has the macro record)."""
        ci = self.ci
        mains = {_realpath(h) for h in headers}
        macro_table: Mapping[str, list[str]] | None = LazyMacros(tu) if detailed else None
        walker = self.walker
        known = set(walker.records)
        try:
            _walk(walker, tu, mains, self.options.all_files, macro_table)
        except NeedsMacros:
            # An aligned(...) comes from a macro of another file: read the macro table (a
            # detailed parse) and walk this unit again (the enums found stay: the same).
            for name in set(walker.records) - known:
                del walker.records[name]
            tu = self.parse(path, text, self.flags
                            | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
            macro_table = LazyMacros(tu)
            _walk(walker, tu, mains, self.options.all_files, macro_table)
        if self.builder is not None:
            self.builder.macros = macro_table if macro_table is not None else LazyMacros(tu)
            _collect_decls(self.builder, tu.cursor)
        if self.clang_target is not None:
            self.relayout_gcc(tu, set(walker.records) - known, path, text, macro_table)
        if self.want_macros:
            # (engine targets get none: clang's sizeof there is not the target's)
            self.macros += _evaluate_macros(self.index, tu, headers, path, mains, self.args,
                                            self.options, unevaluable)

    def relayout_gcc(self, tu: Any, names: set[str], path: str, text: str | None,
                     macros: Mapping[str, list[str]] | None) -> None:
        """Lay out with the engine, which follows GCC, the records just walked that clang
        may lay out otherwise, and every record that holds one (at any depth):

        - a record with an ``aligned(N)`` bitfield, on a target whose engine model is
          checked against a gcc: under ``#pragma pack(M)`` GCC places the bitfield at a
          multiple of min(N, M) and clang ignores the attribute for its offset (every
          target); on i386 GCC keeps a ``long long`` bitfield's 8-byte alignment when an
          ``aligned`` is written on it, clang makes it 4 (both found by generated records);
        - where clang's bare ``aligned`` is larger than GCC's biggest alignment
          (:attr:`gcc_align_cap`; mips o32: 16 bytes, GCC 8), a layout that holds an
          alignment above GCC's biggest: only a bare ``aligned`` gives one there;
        - a record with an anonymous member whose attributes are written before its
          keyword, which GCC ignores (:func:`_gcc_ignores`; every GNU target).
        """
        target, cap, records = self.clang_target, self.gcc_align_cap, self.walker.records
        assert target is not None
        if target.name not in MODELS or target.triple.endswith("msvc"):
            return
        suspects = {n for n in names if n in self.walker.ignored_attrs
                    or _clang_differs(records[n][2], cap, self.gcc_bitfields)}
        if not suspects and not self.relaid:
            return
        holds = {n: _records_held(records[n][2].members) for n in names - suspects}
        grown = True
        while grown:  # (and what holds them)
            bad = suspects | self.relaid
            held = [n for n, inner in holds.items() if n not in suspects
                    and not bad.isdisjoint(inner)]
            suspects.update(held)
            grown = bool(held)
        if not suspects:
            return
        builder = self.builder  # (the group's engine targets collected this unit already)
        if builder is None:
            if macros is None:  # (the engine reads attribute arguments from the macro record)
                tu = self.parse(path, text, self.flags
                                | self.ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
                macros = LazyMacros(tu)
            builder = _DeclBuilder()
            builder.macros = macros
            _collect_decls(builder, tu.cursor)
        laid = {n: records[n] for n in suspects}
        # (what the engine cannot lay out, a vector member, keeps clang's layout)
        _relayout(laid, DeclSet(builder.records), MODELS[target.name], target, [])
        records.update(laid)
        self.relaid |= set(laid)

    def results(self) -> list[TargetResult]:
        enums = tuple((n, loc, lay) for n, (loc, lay) in self.walker.enums.items())
        out = []
        for target in self.targets:
            failed = [replace(f, target=target.name) for f in self.failures]
            records = dict(self.walker.records)
            if target.engine and self.builder is not None:
                _relayout(records, DeclSet(self.builder.records), MODELS[target.name], target,
                          failed)
            out.append(TargetResult(
                target.name, tuple((n, k, loc, lay) for n, (k, loc, lay) in records.items()),
                enums, tuple(failed),
                tuple(self.macros) if target is self.clang_target else ()))
        return out


@lru_cache(maxsize=64)
def _gcc_align_cap(target: Target) -> int | None:
    """GCC's biggest alignment on ``target`` where clang's bare ``aligned`` is larger (asked
    of clang once per process: 16 bytes on mips o32, where GCC's is 8), else None."""
    model = MODELS.get(target.name)
    if model is None or target.engine:
        return None
    ci = _cindex()
    probe = "<abiscope probe>.c"
    tu = ci.Index.create().parse(
        probe, args=["-x", "c", f"--target={target.triple}", *target.clang_flags],
        unsaved_files=[(probe, "struct s { char c; } __attribute__((aligned));\n")])
    aligns = [c.type.get_align() for c in _children(tu.cursor, (ci.CursorKind.STRUCT_DECL,))]
    return model.mode_align_cap if aligns and aligns[0] > model.mode_align_cap else None


_ALIGNOF = frozenset({"__alignof__", "__alignof", "_Alignof", "alignof"})
_BASE_TYPE_WORDS = frozenset({"char", "short", "int", "long", "float", "double", "signed",
                              "unsigned", "_Bool", "__int128", "_Complex", "__float128",
                              "_Float16", "const", "volatile"})


def _alignof_names(tokens: list[str]) -> tuple[list[str], bool] | None:
    """The type-name tokens of the first ``_Alignas(T)`` or ``__alignof__(T)`` inside an
    ``aligned(...)`` of a declaration's tokens, if one names a type (not a number), and
    whether it is GNU ``__alignof__``."""
    for i, tok in enumerate(tokens[:-2]):
        if tokens[i + 1] != "(" or not (tok == "_Alignas" or tok in _ALIGNOF):
            continue
        depth, end = 0, None
        for j in range(i + 1, len(tokens)):
            depth += {"(": 1, ")": -1}.get(tokens[j], 0)
            if depth == 0:
                end = j
                break
        inner = [t for t in tokens[i + 2:end] if t not in ("const", "volatile")] \
            if end is not None else []
        if inner and (inner[0] in _BASE_TYPE_WORDS or inner[0] in ("struct", "union", "enum")
                      or (len(inner) == 1 and inner[0].isidentifier())):
            return inner, tok in ("__alignof__", "__alignof")
    return None


def _literal_alignments(tokens: list[str]) -> bool:
    """Whether a declaration's tokens spell an ``aligned``/``_Alignas`` and every one of
    them has an integer literal argument (nothing to expand)."""
    at = [i for i, tok in enumerate(tokens) if tok in ("aligned", "__aligned__", "_Alignas")]
    return bool(at) and all(_attr_argument(tokens[i:], None) is not None for i in at)


def _scalar_name(words: list[str]) -> str | None:
    """clang's canonical name of a base type written as keywords (``unsigned long long
    int`` -> ``unsigned long long``), or None if the words are not all keywords."""
    if not words or any(w not in _BASE_TYPE_WORDS for w in words):
        return None
    unsigned, longs = "unsigned" in words, words.count("long")
    for base in ("_Bool", "__float128", "_Float16", "float"):
        if base in words:
            return base
    if "double" in words:
        return "long double" if longs else "double"
    if "char" in words:
        return "unsigned char" if unsigned else "signed char" if "signed" in words else "char"
    if "__int128" in words:
        return "unsigned __int128" if unsigned else "__int128"
    name = "short" if "short" in words else "long long" if longs >= 2 else \
        "long" if longs else "int"
    return f"unsigned {name}" if unsigned else name


def _gcc_ignores(field: Any) -> bool:
    """Whether an anonymous struct/union member has attributes written before its keyword
    (``__attribute__((aligned(8))) struct { … };``): GCC ignores them, silently, and
    clang applies them. (Written after the keyword or the body, they are the type's.)"""
    if not field.has_attrs():
        return False
    ck = _cindex().CursorKind
    children = _children(field, (ck.STRUCT_DECL, ck.UNION_DECL, ck.ALIGNED_ATTR,
                                 ck.PACKED_ATTR))
    body = next((c.extent.start.offset for c in children
                 if c.kind in (ck.STRUCT_DECL, ck.UNION_DECL)), None)
    return body is not None and any(
        c.kind in (ck.ALIGNED_ATTR, ck.PACKED_ATTR) and c.extent.start.offset < body
        for c in children)


def _clang_differs(layout: RecordLayout, cap: int | None, bitfields: bool) -> bool:
    """Whether clang may lay this record out otherwise than GCC (:meth:`_GroupParser.
    relayout_gcc`)."""
    return (cap is not None and _overaligned(layout, cap)) \
        or (bitfields and _aligned_bitfield(layout.members))


def _aligned_bitfield(members: Sequence[Member]) -> bool:
    return any((m.bitfield and m.align_attr is not None) or _aligned_bitfield(m.members)
               for m in members)


def _records_held(members: Sequence[Member]) -> set[str]:
    """The records that members (at any depth, through arrays) are of."""
    out: set[str] = set()
    for m in members:
        t = m.type
        while t.kind == "array" and t.element is not None:
            t = t.element
        if t.record:
            out.add(t.record)
        out |= _records_held(m.members)
    return out


def _overaligned(layout: RecordLayout, cap: int) -> bool:
    """Whether a layout, or a member's type at any depth, is aligned above ``cap``, or a
    member has a bare ``aligned`` of its own."""
    def over(members: Sequence[Member]) -> bool:
        return any(m.align > cap or (m.type.align or 0) > cap or m.align_attr == 0
                   or over(m.members) for m in members)
    return layout.align > cap or over(layout.members)


_IOCTL_MACROS = frozenset({"_IO", "_IOR", "_IOW", "_IOWR", "_IOC", "_IOR_BAD", "_IOW_BAD",
                           "_IOWR_BAD"})
_PROBE_PREFIX = "__abiscope_macro_"


def _evaluate_macros(index: Any, tu: Any, headers: Sequence[str], path: str,
                     mains: set[str], args: list[str], options: ParseOptions,
                     unevaluable: frozenset[tuple[str, str]] = frozenset(),
                     ) -> list[tuple[str, SourceLocation, int, tuple[str, ...]]]:
    """Values of the header's ioctl request macros (and ``macro_names``) on this target.

    Object-like macros of the main file whose tokens use ``_IO*``/``_IOC`` are evaluated by
    clang itself: a probe translation unit includes the header and initialises one constant
    per macro, which ``clang_Cursor_Evaluate`` folds. The record names a macro mentions
    (``struct foo`` after ``sizeof`` or as an ``_IOW`` argument) are kept as its causes.
    """
    ci = _cindex()
    wanted: list[tuple[str, SourceLocation, tuple[str, ...]]] = []
    for cursor in _children(tu.cursor, (ci.CursorKind.MACRO_DEFINITION,)):
        loc = cursor.location
        if loc.file is None:
            continue
        where = _realpath(loc.file.name)
        if where not in mains:
            continue
        tokens = [t.spelling for t in cursor.get_tokens()]
        if len(tokens) < 2 or _is_function_like(cursor, tokens):
            continue
        name = tokens[0]
        if (where, name) in unevaluable:
            continue
        if name in options.macro_names or _IOCTL_MACROS.intersection(tokens[1:]):
            wanted.append((name, SourceLocation(relpath(loc.file.name), loc.line, loc.column),
                           _record_mentions(tokens[1:])))
    if not wanted:
        return []
    probe_path = (os.path.realpath(headers[0]) if len(headers) == 1 else path) \
        + ".abiscope-probe.c"
    text = "".join(f'#include "{os.path.realpath(h)}"\n' for h in headers) + "".join(
        f"static const unsigned long long {_PROBE_PREFIX}{i} = "
        f"(unsigned long long)({name});\n" for i, (name, _, _) in enumerate(wanted))
    probe = index.parse(probe_path, args=args, unsaved_files=[
        *options.unsaved, (probe_path, text)],
        options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    values: dict[int, int] = {}
    for cursor in probe.cursor.get_children():
        if cursor.kind == ci.CursorKind.VAR_DECL and cursor.spelling.startswith(_PROBE_PREFIX):
            value = _evaluate(cursor)
            if value is not None:
                values[int(cursor.spelling[len(_PROBE_PREFIX):])] = value
    return [(name, loc, values[i], recs) for i, (name, loc, recs) in enumerate(wanted)
            if i in values]


def _is_function_like(cursor: Any, tokens: list[str]) -> bool:
    if hasattr(cursor, "is_macro_function_like"):
        return bool(cursor.is_macro_function_like())
    ext = list(cursor.get_tokens())
    return len(ext) > 1 and ext[1].spelling == "(" and \
        ext[1].extent.start.offset == ext[0].extent.end.offset


def _record_mentions(tokens: list[str]) -> tuple[str, ...]:
    out = []
    for i, tok in enumerate(tokens[:-1]):
        if tok in ("struct", "union"):
            out.append(f"{tok} {tokens[i + 1]}")
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _eval_functions() -> Any:
    import ctypes

    lib = _cindex().conf.lib
    lib.clang_Cursor_Evaluate.restype = ctypes.c_void_p
    lib.clang_Cursor_Evaluate.argtypes = [_cindex().Cursor]
    lib.clang_EvalResult_getKind.restype = ctypes.c_int
    lib.clang_EvalResult_getKind.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_isUnsignedInt.restype = ctypes.c_uint
    lib.clang_EvalResult_isUnsignedInt.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_getAsUnsigned.restype = ctypes.c_ulonglong
    lib.clang_EvalResult_getAsUnsigned.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_getAsLongLong.restype = ctypes.c_longlong
    lib.clang_EvalResult_getAsLongLong.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_dispose.restype = None
    lib.clang_EvalResult_dispose.argtypes = [ctypes.c_void_p]
    return lib


def _evaluate(cursor: Any) -> int | None:
    """clang's constant folding of a variable's initialiser, or None."""
    lib = _eval_functions()
    result = lib.clang_Cursor_Evaluate(cursor)
    if not result:
        return None
    try:
        if lib.clang_EvalResult_getKind(result) != 1:  # CXEval_Int
            return None
        if lib.clang_EvalResult_isUnsignedInt(result):
            return int(lib.clang_EvalResult_getAsUnsigned(result))
        return int(lib.clang_EvalResult_getAsLongLong(result))
    finally:
        lib.clang_EvalResult_dispose(result)


def _walk(walker: _TargetWalker, tu: Any, mains: set[str], all_files: bool,
          macros: Mapping[str, list[str]] | None) -> None:
    walker.seen_decls.clear()
    walker.pending.clear()  # (left by a walk that stopped: NeedsMacros)
    walker.macros = macros
    walker.types.clear()  # a CType's align depends on the TU's macros only through members
    walker.files.clear()  # file handles are the unit's own
    walker.type_ids.clear()
    for cursor in _top_level(tu, mains, all_files):
        walker.visit(cursor)
    walker.drain_pending()


def _top_level(tu: Any, mains: set[str], all_files: bool) -> Iterator[Any]:
    ck = _cindex().CursorKind
    wanted = (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL)
    same_file: dict[int | None, bool] = {}  # file handle -> is an input
    found = getattr(tu, "_abiscope_records", None)  # read by _batch_facts already
    ci = _cindex()
    lib = ci.conf.lib
    handle = ci.c_object_p()
    for cursor in found if found is not None else _children(tu.cursor, wanted):
        if all_files:
            yield cursor
            continue
        lib.clang_getInstantiationLocation(lib.clang_getCursorLocation(cursor),
                                           ctypes.byref(handle), None, None, None)
        if not handle:
            continue
        key = ctypes.cast(handle, ctypes.c_void_p).value
        hit = same_file.get(key)
        if hit is None:
            hit = same_file[key] = _realpath(ci.File(handle).name) in mains
        if hit:
            yield cursor


def _parse_unit_star(job: tuple[tuple[str, ...], list[Target], ParseOptions, bool, bool,
                                bool]) -> UnitResult:
    return parse_unit(*job)


BATCH_SIZE = 32  # headers per unit of work (and translation unit), on average: batches()


def batches(headers: Sequence[str], size: int = BATCH_SIZE) -> list[tuple[str, ...]]:
    """Split the inputs, in order, into batches of about ``size`` headers.

    Boundaries are content-defined (after a header whose path hashes to 0 modulo ``size``,
    or at twice ``size``): adding or removing one header changes one batch, not every batch
    after it, so the cache keeps serving the others.
    """
    if size <= 1:
        return [(h,) for h in headers]
    out: list[tuple[str, ...]] = []
    current: list[str] = []
    for h in headers:
        current.append(h)
        digest = hashlib.blake2b(os.path.abspath(h).encode(), digest_size=4).digest()
        if int.from_bytes(digest, "big") % size == 0 or len(current) >= 2 * size:
            out.append(tuple(current))
            current = []
    if current:
        out.append(tuple(current))
    return out


def chunks(headers: Sequence[str], groups: int, jobs: int | None) -> list[tuple[str, ...]]:
    """The inputs, in order, in even chunks of at least :data:`BATCH_SIZE` headers: about
    four units of work per worker in all (``groups`` target groups each), so that every
    worker stays busy to the end while as few units as that walk again what their headers
    share (units no cache keeps need no stable boundaries: :func:`batches`)."""
    workers = jobs or os.cpu_count() or 1
    per_group = max(1, -(-4 * workers // max(groups, 1)))
    count = max(1, min(per_group, len(headers) // BATCH_SIZE))
    size, extra = divmod(len(headers), count)
    out: list[tuple[str, ...]] = []
    start = 0
    for i in range(count):
        end = start + size + (i < extra)
        out.append(tuple(headers[start:end]))
        start = end
    return [c for c in out if c]


def parse(
    headers: Sequence[str],
    targets: Sequence[Target],
    options: ParseOptions | None = None,
    jobs: int | None = None,
    check_files: bool = True,
    *,
    batch: bool | None = None,
    standalone: bool = False,
    cache: UnitCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Model:
    """Parse headers for every target into one model.

    The work is cut into units, one batch of about :data:`BATCH_SIZE` headers times one
    group of targets that share a clang command line. Each header has its own translation
    unit (exact: what a compiler sees for that header alone). With ``batch`` (opt-in) a
    unit's headers share one where they do not conflict and no header would read what
    only the batch gave it (:func:`parse_unit`): the same model; ``standalone`` also
    parses each header alone first. Units are served from ``cache``
    when it holds them and every file they read is unchanged; the rest are spread over
    ``jobs`` processes (or ``executor``). ``progress(done, total)`` is called as units
    finish. The model does not depend on ``jobs``, ``cache`` or ``executor``. A header may
    also be a directory, a glob or ``@LIST`` (:func:`abiscope.inputs.expand`).
    """
    options = options or ParseOptions()
    if check_files:
        from .inputs import expand

        headers = [f for h in headers for f in ([h] if os.path.isfile(h) else expand([h]))]
        for header in headers:
            if not os.path.isfile(header):
                raise InputError(f"{header}: no such file")
    options = sandbox.confine(options, headers, targets)
    if cache is None:
        cache = _SESSION.cache
    if progress is None:
        progress = _SESSION.progress
    groups: dict[tuple[str, ...], list[Target]] = {}
    for t in sorted(targets, key=lambda t: t.engine):  # a clang target leads its group
        groups.setdefault(tuple(clang_args(t, options)), []).append(t)
    # Batches are opt-in: exact (abiscope.isolation), but on Linux UAPI the check that keeps
    # them exact costs about what sharing translation units saves (docs/performance.md).
    combine = bool(batch)
    # Without a cache, no unit is ever reused: fewer, larger units (:func:`chunks`), each
    # walking once the records its headers share (linux/types.h, …), and no file list.
    kept = cache is not None or combine or executor is not None
    work = [(chunk, group, options, combine, standalone and combine, kept)
            for group in groups.values()
            for chunk in (batches(headers) if kept else chunks(headers, len(groups), jobs))]
    units: list[UnitResult | None] = [None] * len(work)
    keys: list[str] = []
    if cache is not None:
        cache.new_run()
        keys = [cache.key(b, [t.name for t in g], o, (c, a)) for b, g, o, c, a, _ in work]
        frame = cache.run_hit(keys, targets, headers)  # a frame only for a caller's view
        rounds = cache.rounds(len(work))  # changed units first, if the view may still hold
    else:
        frame, rounds = None, [list(range(len(work)))]
    done = 0
    for n, indices in enumerate(rounds):
        if cache is not None:
            if n:  # the changed units are in: their new results may give a stored view
                frame = cache.rehit()
            if frame is not None:
                if progress is not None:
                    progress(len(work), len(work))
                return frame
            for i in indices:
                units[i] = cache.get(keys[i])
        todo = [i for i in indices if units[i] is None]
        done += len(indices) - len(todo)
        if progress is not None:
            progress(done, len(work))
        runner = executor or local_executor(jobs, len(todo))
        for i, unit in runner(_parse_unit_star, [work[i] for i in todo], todo):
            units[i] = unit
            if cache is not None and unit.cacheable:
                cache.put(keys[i], unit, search_dirs(work[i][1][0], options))
            done += 1
            if progress is not None:
                progress(done, len(work))
        if cache is not None and todo:
            cache.evict()
    per_target: dict[str, list[TargetResult]] = {}
    for unit in units:
        assert unit is not None
        for res in unit.results:
            per_target.setdefault(res.target, []).append(res)
    with _collector_paused():  # (it allocates a record per name: no cycles)
        model = merge([_combine(rs) for rs in per_target.values()], targets, headers)
    if cache is not None:
        cache.put_run(model)
    return model


@dataclass
class _Session:
    cache: UnitCache | None = None
    progress: Callable[[int, int], None] | None = None


_SESSION = _Session()


def set_session(cache: UnitCache | None,
                progress: Callable[[int, int], None] | None = None) -> None:
    """The cache (and progress callback) every later :func:`parse` of this process uses
    when not given one: the command line sets it once, so that every parse a command makes
    (its targets, ABI013's hypothetical targets, …) shares the cache. A cache is never
    stale, so a library caller that finds one set gets the same model, only sooner."""
    _SESSION.cache = cache
    _SESSION.progress = progress


def _combine(results: Sequence[TargetResult]) -> TargetResult:
    """One target's results of several batches, in input order: the first record or enum
    of a name wins, as in one walk over every header."""
    if len(results) == 1:
        return results[0]
    records: dict[str, tuple[str, str, SourceLocation, RecordLayout]] = {}
    enums: dict[str, tuple[str, SourceLocation, EnumLayout]] = {}
    for res in results:
        for rec in res.records:
            records.setdefault(rec[0], rec)
        for en in res.enums:
            enums.setdefault(en[0], en)
    return TargetResult(
        results[0].target, tuple(records.values()), tuple(enums.values()),
        tuple(f for r in results for f in r.failures),
        tuple(m for r in results for m in r.macros))


def merge(results: Iterable[TargetResult], targets: Sequence[Target],
          headers: Sequence[str]) -> Model:
    """Combine per-target results: one record per name, one layout per target."""
    kinds: dict[str, tuple[str, SourceLocation]] = {}
    layouts: dict[str, dict[str, RecordLayout]] = {}
    enum_locs: dict[str, SourceLocation] = {}
    enum_layouts: dict[str, dict[str, EnumLayout]] = {}
    failures: list[ParseFailure] = []
    macro_locs: dict[str, tuple[SourceLocation, tuple[str, ...]]] = {}
    macro_values: dict[str, dict[str, int]] = {}
    for res in results:
        for name, loc, value, recs in res.macros:
            macro_locs.setdefault(name, (loc, recs))
            macro_values.setdefault(name, {})[res.target] = value
        for name, kind, loc, lay in res.records:
            kinds.setdefault(name, (kind, loc))
            layouts.setdefault(name, {})[res.target] = lay
        for name, loc, el in res.enums:
            enum_locs.setdefault(name, loc)
            enum_layouts.setdefault(name, {})[res.target] = el
        failures += res.failures
    records = tuple(Record(n, kinds[n][0], kinds[n][1], layouts[n]) for n in sorted(kinds))
    enums = tuple(Enum(n, enum_locs[n], enum_layouts[n]) for n in sorted(enum_locs))
    infos = {t.name: TargetInfo(t.name, t.triple, t.pointer_bits, t.endian, t.hypothetical)
             for t in targets}
    failures.sort(key=lambda f: (f.header, f.target))
    macros = tuple(Macro(n, macro_locs[n][0], macro_values[n], macro_locs[n][1])
                   for n in sorted(macro_locs))
    return Model(infos, records, enums, tuple(failures),
                 tuple(relpath(h) for h in headers), macros)


# ---------------------------------------------------------------------------------------
# Declarations for the layout engine (targets whose layout clang gets wrong or cannot know)

_QUALIFIER_RE = re.compile(r"\b(const|volatile|restrict|_Atomic)\b\s*")
_PRAGMA_PACK_RE = re.compile(r"^\s*#\s*pragma\s+pack\s*\(([^)]*)\)", re.M)
_INT_LITERAL_RE = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")


def _int_literal(token: str) -> int | None:
    m = _INT_LITERAL_RE.match(token)
    return int(m.group(1), 0) if m else None


@lru_cache(maxsize=256)
def _pack_pragmas(path: str) -> tuple[tuple[int, int | None], ...]:
    """(line, pack in force after it) for each ``#pragma pack`` of a file, in order.

    Read from the text: a pragma inside ``#if`` is taken as written, and a pack state
    inherited from another file is not seen.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return ()
    stack: list[int | None] = []
    current: int | None = None
    out: list[tuple[int, int | None]] = []
    for m in _PRAGMA_PACK_RE.finditer(text):
        args = [a.strip() for a in m.group(1).split(",") if a.strip()]
        numbers = [n for n in (_int_literal(a) for a in args) if n is not None]
        if args and args[0] == "push":
            stack.append(current)
            current = numbers[0] if numbers else current
        elif args and args[0] == "pop":
            current = stack.pop() if stack else None
        else:
            current = numbers[0] if numbers else None
        out.append((text.count("\n", 0, m.start()) + 1, current))
    return tuple(out)


def _pack_at(path: str, line: int) -> int | None:
    state: int | None = None
    for at, pack in _pack_pragmas(path):
        if at >= line:
            break
        state = pack
    return state


_ARITH_TOKEN_RE = re.compile(r"^(\d+[uUlL]*|0[xX][0-9a-fA-F]+[uUlL]*|[-+*/%()<>|&~^]{1,2})$")


def _eval_tokens(tokens: list[str], macros: Mapping[str, list[str]], depth: int = 0
                 ) -> int | None:
    """An integer constant expression of literals, arithmetic and object-like macros."""
    if depth > 20:
        return None
    out: list[str] = []
    for tok in tokens:
        if tok in macros:
            value = _eval_tokens(macros[tok], macros, depth + 1)
            if value is None:
                return None
            out.append(str(value))
        elif _ARITH_TOKEN_RE.match(tok):
            literal = _int_literal(tok)
            out.append(str(literal) if literal is not None else tok.replace("/", "//"))
        else:
            return None
    try:
        # Safe: every token is a number, an operator or a parenthesis (checked above).
        value = eval(" ".join(out), {"__builtins__": {}}, {})
    except Exception:
        return None
    return value if isinstance(value, int) else None


def read_macros(tu: Any) -> dict[str, list[str]]:
    """Object-like macro bodies of a translation unit parsed with a detailed record."""
    ck = _cindex().CursorKind
    macros: dict[str, list[str]] = {}
    for cursor in _children(tu.cursor, (ck.MACRO_DEFINITION,)):
        tokens = [t.spelling for t in cursor.get_tokens()]
        if len(tokens) > 1 and not _is_function_like(cursor, tokens):
            macros[tokens[0]] = tokens[1:]
    return macros


class LazyMacros(Mapping[str, list[str]]):
    """:func:`read_macros` of a translation unit, read one macro at a time when asked.

    A batch of Linux headers defines tens of thousands of macros, and reading every body
    (``get_tokens``) took longer than walking the records; an attribute argument needs a
    handful. The index of definitions by name is built on the first lookup; as in
    :func:`read_macros`, the last object-like definition of a name wins.
    """

    def __init__(self, tu: Any) -> None:
        self.tu = tu
        self._index: dict[str, list[Any]] | None = None
        self._bodies: dict[str, list[str] | None] = {}

    def _definitions(self) -> dict[str, list[Any]]:
        if self._index is None:
            kind = _cindex().CursorKind.MACRO_DEFINITION
            index: dict[str, list[Any]] = {}
            for cursor in _children(self.tu.cursor, (kind,)):
                index.setdefault(cursor.spelling, []).append(cursor)
            self._index = index
        return self._index

    def _body(self, name: str) -> list[str] | None:
        if name not in self._bodies:
            body = None
            for cursor in reversed(self._definitions().get(name, ())):
                tokens = [t.spelling for t in cursor.get_tokens()]
                if len(tokens) > 1 and not _is_function_like(cursor, tokens):
                    body = tokens[1:]
                    break
            self._bodies[name] = body
        return self._bodies[name]

    def __getitem__(self, name: str) -> list[str]:
        body = self._body(name)
        if body is None:
            raise KeyError(name)
        return body

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._body(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (n for n in list(self._definitions()) if self._body(n) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class NeedsMacros(Exception):
    """An attribute argument comes from a macro and the macro table was not read."""


def _attr_argument(tokens: list[str], macros: Mapping[str, list[str]] | None) -> int | None:
    """The value of ``aligned ( EXPR )`` at the start of ``tokens``."""
    if len(tokens) >= 4 and tokens[1] == "(" and tokens[3] == ")":
        literal = _int_literal(tokens[2])
        if literal is not None:
            return literal
    if len(tokens) > 3 and tokens[1] == "(" and macros is not None:
        depth, end = 0, len(tokens)
        for i, tok in enumerate(tokens[1:], 1):
            depth += {"(": 1, ")": -1}.get(tok, 0)
            if depth == 0:
                end = i
                break
        return _eval_tokens(tokens[2:end], macros)
    return None


def _expand(tokens: list[str], macros: Mapping[str, list[str]], depth: int = 0) -> list[str]:
    """Object-like macros in ``tokens`` replaced by their bodies (bounded)."""
    if depth > 10:
        return tokens
    out: list[str] = []
    for tok in tokens:
        out += _expand(macros[tok], macros, depth + 1) if tok in macros else [tok]
    return out


def _spelled_tokens(cursor: Any) -> list[str]:
    """The tokens of a declaration as written, also when it starts with a macro (libclang's
    own ``get_tokens`` gives none for an extent that begins inside a macro expansion)."""
    tokens = [t.spelling for t in cursor.get_tokens()]
    extent, where = cursor.extent, cursor.location.file
    if tokens or where is None:
        return tokens
    ci = _cindex()
    tu = cursor.translation_unit
    span = ci.SourceRange.from_locations(
        ci.SourceLocation.from_position(tu, where, extent.start.line, extent.start.column),
        ci.SourceLocation.from_position(tu, where, extent.end.line, extent.end.column))
    return [t.spelling for t in tu.get_tokens(extent=span)]


def _tokens_after(cursor: Any, last_line: int | None = None) -> Iterator[Any]:
    """The tokens that follow a declaration's extent in its file (up to ``last_line``, else
    eight lines on): an attribute macro after a declarator or a struct's body, a typedef's
    name. None when the cursor has no file."""
    extent, where = cursor.extent, cursor.location.file
    if where is None:
        return iter(())
    ci = _cindex()
    tu = cursor.translation_unit
    span = ci.SourceRange.from_locations(
        ci.SourceLocation.from_position(tu, where, extent.end.line, extent.end.column),
        ci.SourceLocation.from_position(tu, where, last_line or extent.end.line + 8, 1 << 16))
    return iter(tu.get_tokens(extent=span))


def _declaration_tokens(cursor: Any) -> list[str]:
    """The tokens of a declaration as written, without the bodies in braces (a struct's
    members, with attributes of their own), and with what follows the declaration's
    extent up to the ``;``, ``,`` or ``}`` that ends it: an attribute macro after the
    declarator (``int x A8;``) or after a struct's body is outside clang's extent."""
    tokens: list[str] = []
    braces = 0
    for text in _spelled_tokens(cursor):
        if text == "{":
            braces += 1
        elif text == "}" and braces:
            braces -= 1
        elif not braces:
            tokens.append(text)
    ck = _cindex().CursorKind
    parent = cursor.semantic_parent
    in_record = parent is not None and parent.kind in (ck.STRUCT_DECL, ck.UNION_DECL)
    depth = 0
    for token in _tokens_after(cursor, parent.extent.end.line if in_record else None):
        text = token.spelling
        if depth == 0 and text in (";", ",", "}", "{"):
            break
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
        tokens.append(text)
    return tokens


def _naming_typedef(record: Any, name: str) -> Any | None:
    """The typedef that names an untagged struct or union (``typedef struct { … } T;``,
    ``name`` being ``T``), found at its name after the body; None for a tagged record or
    when a macro spells the name. An ``aligned`` on it sets ``_Alignof(T)`` (raised or
    lowered), not the struct's size."""
    if name.startswith(("struct ", "union ")) or record.spelling != name:
        return None
    ci = _cindex()
    for token in _tokens_after(record):
        if token.spelling == name:
            found = ci.Cursor.from_location(record.translation_unit, token.location)
            return found if found.kind == ci.CursorKind.TYPEDEF_DECL else None
        if token.spelling in (";", "{", "}"):
            break
    return None


def align_attr(cursor: Any, strict: bool = False,
               macros: Mapping[str, list[str]] | None = None) -> int | None:
    """The largest ``aligned(N)``/``_Alignas(N)`` on a declaration, if it has any.

    Read from the attribute's tokens: an integer literal, or arithmetic over object-like
    macros; a bare ``aligned`` is 0 ("the target's biggest alignment", which the data model
    resolves). An attribute written inside a macro defined in another file (Linux's
    ``__aligned_u64``) has no tokens of its own: the declaration's tokens are expanded
    through ``macros`` instead, and :class:`NeedsMacros` is raised when no table was read.
    What still cannot be read takes, when ``strict``, clang's alignment of the declaration
    on the parse target, and otherwise counts as absent.
    """
    ck = _cindex().CursorKind
    found: int | None = None
    for child in cursor.get_children():
        if child.kind != ck.ALIGNED_ATTR:
            continue
        tokens = [t.spelling for t in child.get_tokens()]
        if tokens[:1] == ["_Alignas"]:
            tokens = [t.spelling for t in cursor.get_tokens()]
            tokens = tokens[tokens.index("_Alignas"):] if "_Alignas" in tokens else tokens
        value = 0 if tokens in (["aligned"], ["__aligned__"]) else \
            _attr_argument(tokens, macros) if tokens[:1] in (
                ["aligned"], ["__aligned__"], ["_Alignas"], ["align"]) else None
        if value is None:
            if macros is None:
                if not strict:
                    raise NeedsMacros(str(cursor.spelling))
            else:
                # (every alignment of the declaration, the largest: the attribute
                # cursors of two macros cannot be told apart)
                expanded = _expand(_declaration_tokens(cursor), macros)
                values = [0 if expanded[i + 1:i + 2] != ["("] else
                          _attr_argument(expanded[i:], macros)
                          for i, tok in enumerate(expanded)
                          if tok in ("aligned", "__aligned__", "_Alignas", "align")]
                value = max((v for v in values if v is not None), default=None)
        if value is None:
            if not strict:
                continue
            value = _size(cursor.type.get_align()) or 1
        found = max(found or 0, value)
    return found


class _DeclBuilder:
    """Builds :class:`~abiscope.decls.RecordDecl` for every record a translation unit uses."""

    def __init__(self) -> None:
        self.ci = _cindex()
        self.records: dict[str, RecordDecl] = {}
        self.building: set[str] = set()
        self.macros: Mapping[str, list[str]] = {}  # object-like macros of the current TU
        self._named_tu: Any = None  # the unit _named was read from (named_decls)
        self._named: dict[str, Any] = {}

    def read_macros(self, tu: Any) -> None:
        """Object-like macro bodies of a translation unit, for attribute arguments."""
        self.macros = read_macros(tu)

    def location(self, cursor: Any) -> SourceLocation:
        loc = cursor.location
        return SourceLocation(relpath(loc.file.name) if loc.file else "", loc.line, loc.column)

    def align_attr(self, cursor: Any) -> int | None:
        """The value of an ``aligned(N)``/``_Alignas(N)`` on a declaration, if any."""
        return align_attr(cursor, strict=True, macros=self.macros)

    def align_of(self, cursor: Any) -> tuple[TypeDecl | None, bool]:
        """The type an ``_Alignas(T)`` or ``aligned(__alignof__(T))`` on a declaration
        names, when it is a base type, a tag or a typedef of the translation unit (Linux's
        ``aligned(__alignof__(struct ebt_replace))``), for the engine to align it under its
        data model (clang's alignment on the parse target would be another target's); and
        whether GNU ``__alignof__`` names it."""
        ck = self.ci.CursorKind
        if not any(c.kind == ck.ALIGNED_ATTR for c in cursor.get_children()):
            return None, False
        tokens = _declaration_tokens(cursor)
        found = _alignof_names(tokens)
        if found is None and not _literal_alignments(tokens):
            # (an argument or the attribute itself is a macro's: reading the unit's macro
            # index costs a visit of every definition, so only then)
            found = _alignof_names(_expand(tokens, self.macros))
        if found is None:
            return None, False
        names, gnu = found
        scalar = _scalar_name(names)
        if scalar is not None:
            kind = "complex" if "_Complex" in names else "scalar"
            return TypeDecl(kind, spelling=" ".join(names), scalar=scalar), gnu
        decl = self.named_decls(cursor).get(" ".join(names))
        return (None, False) if decl is None else (self.type_decl(decl.type), gnu)

    def named_decls(self, cursor: Any) -> dict[str, Any]:
        """The translation unit's tags (``struct x``) and typedefs, by name (read once per
        unit, when an alignment names one)."""
        tu = cursor.translation_unit
        if self._named_tu is not tu:
            ck = self.ci.CursorKind
            tags = {ck.STRUCT_DECL: "struct", ck.UNION_DECL: "union", ck.ENUM_DECL: "enum"}
            found: dict[str, Any] = {}
            for c in _children(tu.cursor, (*tags, ck.TYPEDEF_DECL)):
                if c.kind == ck.TYPEDEF_DECL:
                    found.setdefault(c.spelling, c)
                elif c.spelling and (c.is_definition() or f"{tags[c.kind]} {c.spelling}"
                                     not in found):
                    found[f"{tags[c.kind]} {c.spelling}"] = c
            self._named_tu, self._named = tu, found
        return self._named

    def has_packed(self, cursor: Any) -> bool:
        return any(c.kind == self.ci.CursorKind.PACKED_ATTR for c in cursor.get_children())

    def type_decl(self, t: Any) -> TypeDecl:
        tk = self.ci.TypeKind
        chain: list[str] = []
        align: int | None = None
        cur = t
        while True:
            if cur.kind == tk.ELABORATED:
                cur = cur.get_named_type()
            elif cur.kind == tk.TYPEDEF:
                decl = cur.get_declaration()
                chain.append(cur.get_typedef_name())
                a = self.align_attr(decl)
                if a is not None and align is None:
                    align = a  # GCC: the outermost aligned typedef decides
                cur = decl.underlying_typedef_type
            elif cur.kind == tk.ATTRIBUTED and hasattr(cur, "get_modified_type"):
                cur = cur.get_modified_type()
            else:
                break
        canon = t.get_canonical()
        kind, signed = _kinds().get(canon.kind, ("other", None))
        common = {"spelling": t.spelling, "typedefs": tuple(chain), "align_attr": align,
                  "signed": signed, "canonical": canon.spelling}
        if kind in ("int", "bool", "float", "complex"):
            scalar = _QUALIFIER_RE.sub("", canon.spelling).strip()
            if kind == "complex":  # (the component type: "_Complex double" -> "double")
                return TypeDecl("complex", scalar=scalar.removeprefix("_Complex").strip(),
                                **common)
            return TypeDecl("scalar", scalar=scalar, **common)
        if kind == "enum":
            underlying = canon.get_declaration().enum_type.get_canonical().spelling
            name = canon.spelling if not any(m in canon.spelling for m in _UNNAMED_MARKERS) \
                else ""
            return TypeDecl("enum", scalar=_QUALIFIER_RE.sub("", underlying).strip(),
                            record=_QUALIFIER_RE.sub("", name).strip(), **common)
        if kind == "pointer":
            return TypeDecl("pointer", pointee=self.type_decl(cur.get_pointee()), **common)
        if kind == "array":
            dims: list[int | None] = []
            inner = cur
            while inner.kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY, tk.VARIABLEARRAY):
                dims.append(inner.get_array_size() if inner.kind == tk.CONSTANTARRAY else None)
                inner = inner.get_array_element_type()
                while inner.kind in (tk.ELABORATED, tk.TYPEDEF) and \
                        inner.get_canonical().kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY):
                    inner = inner.get_named_type() if inner.kind == tk.ELABORATED else \
                        inner.get_declaration().underlying_typedef_type
            return TypeDecl("array", dims=tuple(dims), element=self.type_decl(inner), **common)
        if kind == "record":
            return TypeDecl("record", record=self.record(canon.get_declaration()), **common)
        if kind in ("function", "void"):
            return TypeDecl(kind, **common)
        return TypeDecl("other", **common)

    def record(self, cursor: Any) -> str:
        """Build (once) the declaration of a record; returns its key."""
        definition = cursor.get_definition()
        complete = definition is not None
        definition = definition or cursor
        key: str = definition.type.get_canonical().spelling
        if any(m in key for m in _UNNAMED_MARKERS):
            # Unnamed records from one macro expansion share their spelling location.
            key = f"{key}#{definition.hash}"
        known = self.records.get(key)
        if key in self.building or (known is not None and (known.complete or not complete)):
            return key
        self.building.add(key)
        ck = self.ci.CursorKind
        fields = []
        for f in definition.type.get_fields():
            anonymous = bool(f.is_anonymous_record_decl())
            bitfield = bool(f.is_bitfield())
            ignored = anonymous and _gcc_ignores(f)  # (GCC ignores its attributes)
            align_of, gnu = (None, False) if ignored or not f.has_attrs() \
                else self.align_of(f)
            if ignored:
                align = None
            elif align_of is None:
                align = self.align_attr(f)
            else:  # (the numbers only; FieldDecl.align_of adds the type's)
                align = align_attr(f, macros=self.macros)
            fields.append(FieldDecl(
                name="" if anonymous else f.spelling, type=self.type_decl(f.type),
                bit_width=f.get_bitfield_width() if bitfield else None,
                packed=self.has_packed(f) and not ignored, align_attr=align,
                location=self.location(f), align_of=align_of, align_of_gnu=gnu,
            ))
        loc = definition.location
        named_by = _naming_typedef(definition, key)
        self.records[key] = RecordDecl(
            key=key, kind="union" if definition.kind == ck.UNION_DECL else "struct",
            fields=tuple(fields), packed=self.has_packed(definition),
            align_attr=self.align_attr(definition),
            typedef_align=self.align_attr(named_by)
            if named_by is not None and named_by.has_attrs() else None,
            pack=_pack_at(loc.file.name, loc.line) if loc.file else None,
            location=self.location(definition), complete=complete,
        )
        self.building.discard(key)
        return key


def _collect_decls(builder: _DeclBuilder, cursor: Any) -> None:
    ck = builder.ci.CursorKind
    for child in _children(cursor, (ck.STRUCT_DECL, ck.UNION_DECL)):
        if child.kind in (ck.STRUCT_DECL, ck.UNION_DECL):
            if child.is_definition():
                builder.record(child)
            _collect_decls(builder, child)


def _relayout(records: dict[str, tuple[str, SourceLocation, RecordLayout]], decls: DeclSet,
              model: DataModel, target: Target, failures: list[ParseFailure]) -> None:
    """Replace clang's layouts by the engine's, for a target clang cannot lay out."""
    engine = LayoutEngine(decls, model)
    for name, (kind, loc, _) in list(records.items()):
        try:
            records[name] = (kind, loc, engine.layout(name))
        except (InputError, KeyError) as exc:
            del records[name]
            failures.append(ParseFailure(loc.file, target.name, (Diagnostic(
                "error", f"abiscope's layout engine cannot lay out {name}: {exc}", loc),)))


def parse_decls(header: str, target: Target, options: ParseOptions) -> DeclSet:
    """Declarations of every record defined in a header's translation unit, for the engine.

    Parsed by clang for ``target`` (its types and members), independent of clang's layout.
    Raises :class:`InputError` when the header does not parse, or when an attribute's
    argument is not an integer literal.
    """
    ci = _cindex()
    options = sandbox.confine(options, [header], [target])
    tu = ci.Index.create().parse(
        header, args=clang_args(target, options),
        options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES
        | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    errors = _diagnostics(tu, relpath)
    if errors:
        raise InputError(f"{relpath(header)}: does not parse for {target.name}: "
                         + ParseFailure(relpath(header), target.name, tuple(errors)).summary())
    builder = _DeclBuilder()
    builder.read_macros(tu)
    _collect_decls(builder, tu.cursor)
    return DeclSet(builder.records)


# ---------------------------------------------------------------------------------------
# ioctl request macros with their argument types (``abiscope ioctls``)

_IOCTL_PRELUDE = """\
#if __has_include(<linux/ioctl.h>)
#include <linux/ioctl.h>
#endif
#include <stddef.h>
"""
_ARG_PREFIX = "__abiscope_arg_"


def ioctl_argument(tokens: Sequence[str], aliases: Mapping[str, str] | None = None
                   ) -> tuple[str, str | None] | None:
    """The request macro a definition calls and its argument type as written.

    ``_IOW('f', 1, struct foo)`` gives ``("_IOW", "struct foo")``; ``_IOC(d, t, n,
    sizeof(struct foo))`` gives ``("_IOC", "struct foo")``; ``_IO`` or a numeric size gives
    ``(macro, None)``. ``None`` when the definition calls no request macro directly.
    ``aliases`` maps other names to the request macro they stand for (``_SIOWR`` → ``_IOWR``).
    """
    for i, name in enumerate(tokens[:-1]):
        tok = (aliases or {}).get(name, name)
        if tok not in _IOCTL_MACROS or tokens[i + 1] != "(":
            continue
        args: list[list[str]] = [[]]
        depth = 0
        for t in tokens[i + 2:]:
            if t in "([{":
                depth += 1
            elif t in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif t == "," and depth == 0:
                args.append([])
                continue
            args[-1].append(t)
        if tok == "_IO":
            return tok, None
        if tok == "_IOC":
            size = args[3] if len(args) > 3 else []
            if len(size) > 3 and size[0] == "sizeof" and size[1] == "(" and size[-1] == ")":
                return tok, " ".join(size[2:-1])
            return tok, None
        return tok, " ".join(args[2]) if len(args) > 2 and args[2] else None
    return None


def _scan_header(index: Any, header: str, target: Target, options: ParseOptions,
                 walker: _TargetWalker) -> tuple[list[IoctlRequest], list[IoctlSkip]]:
    """The ioctl request macros one header defines, evaluated on one target."""
    ci = _cindex()
    main = os.path.realpath(header)
    probe_path = main + ".abiscope-ioctl-probe.c"
    args = clang_args(target, options)
    flags = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES | \
        ci.TranslationUnit.PARSE_INCOMPLETE | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
    head = f'{_IOCTL_PRELUDE}#include "{main}"\n'
    unsaved = list(options.unsaved)
    where = relpath(header)
    try:
        tu = index.parse(probe_path, args=args, options=flags,
                         unsaved_files=[*unsaved, (probe_path, head)])
    except ci.TranslationUnitLoadError as exc:
        raise InputError(f"{where}: clang could not parse it ({exc})") from None
    wanted: list[tuple[str, SourceLocation, str | None]] = []
    makers = set(_IOCTL_MACROS)
    wrappers: dict[str, list[str]] = {}  # function-like macros, e.g. soundcard.h's _SIOWR
    objects: list[tuple[Any, list[str]]] = []
    for cursor in tu.cursor.get_children():
        if cursor.kind != ci.CursorKind.MACRO_DEFINITION:
            continue
        tokens = [t.spelling for t in cursor.get_tokens()]
        if len(tokens) < 2:
            continue
        if _is_function_like(cursor, tokens) or len(tokens) == 2:
            wrappers[tokens[0]] = tokens[1:]  # a wrapper, or an alias (`#define _SIO _IO`)
        if not _is_function_like(cursor, tokens) and cursor.location.file is not None and \
                os.path.realpath(cursor.location.file.name) == main:
            objects.append((cursor, tokens))
    grew = True
    while grew:  # a wrapper of a wrapper of _IOW makes requests too
        found = {n for n, body in wrappers.items() if n not in makers and makers & set(body)}
        makers |= found
        grew = bool(found)
    aliases: dict[str, str] = {}
    for name, body in wrappers.items():
        seen = {name}
        while len(body) == 1 and body[0] not in _IOCTL_MACROS and body[0] in wrappers \
                and body[0] not in seen:
            seen.add(body[0])
            body = wrappers[body[0]]
        if len(body) == 1 and body[0] in _IOCTL_MACROS:
            aliases[name] = body[0]
    for cursor, tokens in objects:
        body = tokens[1:]
        if not makers.intersection(body) or (len(body) == 1 and body[0] in makers):
            continue  # no request, or an alias of a request maker (`#define _SIO _IO`)
        loc = cursor.location
        call = ioctl_argument(body, aliases)
        wanted.append((tokens[0], SourceLocation(where, loc.line, loc.column),
                       call[1] if call else None))
    if not wanted:
        return [], []
    lines = [head]
    line = head.count("\n")  # probe lines follow the prelude and the #include
    value_line: dict[int, int] = {}
    type_line: dict[int, int] = {}
    for i, (name, _, arg) in enumerate(wanted):
        lines.append(f"static const unsigned long long {_PROBE_PREFIX}{i} = "
                     f"(unsigned long long)({name});\n")
        line += 1
        value_line[i] = line
        if arg:
            lines.append(f"typedef {arg} {_ARG_PREFIX}{i};\n")
            line += 1
            type_line[i] = line
    first_probe_line = head.count("\n") + 1
    tu = index.parse(probe_path, args=args, options=flags,
                     unsaved_files=[*unsaved, (probe_path, "".join(lines))])
    probe_errors: dict[int, str] = {}
    header_errors: list[str] = []
    for d in tu.diagnostics:
        if d.severity < ci.Diagnostic.Error:
            continue
        f = d.location.file
        if f is not None and f.name == probe_path and d.location.line >= first_probe_line:
            probe_errors.setdefault(d.location.line, d.spelling)
        else:
            at = f"{relpath(f.name)}:{d.location.line}: " if f is not None else ""
            header_errors.append(f"{at}{d.spelling}")
    numbers: dict[int, int] = {}
    arg_types: dict[int, CType] = {}
    walker.seen_decls.clear()
    walker.types.clear()
    walker.macros = read_macros(tu)
    for cursor in tu.cursor.get_children():
        spelling = cursor.spelling
        if cursor.kind == ci.CursorKind.VAR_DECL and spelling.startswith(_PROBE_PREFIX):
            value = _evaluate(cursor)
            if value is not None:
                numbers[int(spelling[len(_PROBE_PREFIX):])] = value
        elif cursor.kind == ci.CursorKind.TYPEDEF_DECL and spelling.startswith(_ARG_PREFIX):
            i = int(spelling[len(_ARG_PREFIX):])
            if type_line.get(i) not in probe_errors:
                arg_types[i] = walker.ctype(cursor.underlying_typedef_type)
    walker.drain_pending()
    requests: list[IoctlRequest] = []
    skipped: list[IoctlSkip] = []
    for i, (name, loc, arg) in enumerate(wanted):
        if i in numbers and value_line[i] not in probe_errors:
            requests.append(IoctlRequest(name, where, loc, numbers[i], arg, arg_types.get(i)))
            continue
        reason = probe_errors.get(value_line[i]) or "clang could not fold it to a constant"
        if header_errors:
            reason += f" (the header itself has errors: {header_errors[0]})"
        skipped.append(IoctlSkip(name, where, loc, reason))
    return requests, skipped


def _scan_target(job: tuple[Sequence[str], Target, ParseOptions]) -> tuple[
        TargetResult, list[IoctlRequest], list[IoctlSkip]]:
    headers, target, options = job
    index = _cindex().Index.create()
    walker = _TargetWalker(target.name, relpath)
    requests: list[IoctlRequest] = []
    skipped: list[IoctlSkip] = []
    for header in headers:
        found, missed = _scan_header(index, header, target, options, walker)
        requests += found
        skipped += missed
    records = tuple((n, k, loc, lay) for n, (k, loc, lay) in walker.records.items())
    return TargetResult(target.name, records, (), ()), requests, skipped


def scan_ioctls(headers: Sequence[str], targets: Sequence[Target],
                options: ParseOptions | None = None, jobs: int | None = None) -> IoctlScan:
    """Every ioctl request macro of the headers, evaluated on each target, with its argument
    type and the records that argument reaches.

    Each header is read as its includers see it: ``<linux/ioctl.h>`` (where the target's
    system headers have it) and ``<stddef.h>`` come first, since UAPI headers often use
    ``_IOW`` or ``size_t`` without including them. A macro clang cannot fold on a target is
    returned in ``skipped`` with clang's reason, never dropped.
    """
    options = options or ParseOptions()
    for header in headers:
        if not os.path.isfile(header):
            raise InputError(f"{header}: no such file")
    options = sandbox.confine(options, headers, targets)
    real = [t for t in targets if not t.engine]
    if len(real) != len(targets):
        engine = ", ".join(t.name for t in targets if t.engine)
        raise InputError(f"ioctl numbers need clang's own layout; not available for {engine}")
    work = [(tuple(headers), t, options) for t in targets]
    workers = min(jobs or os.cpu_count() or 1, len(work))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_scan_target, work))
    else:
        results = [_scan_target(w) for w in work]
    model = merge([r[0] for r in results], targets, headers)
    return IoctlScan(model, {t.name: tuple(r[1]) for t, r in zip(targets, results, strict=True)},
                     {t.name: tuple(r[2]) for t, r in zip(targets, results, strict=True)})
