"""The C frontend: the one place that touches libclang (``clang.cindex``, libclang-ng wheel).

Parses headers once per target, hermetically (``-nostdlibinc -ffreestanding``: clang's own
builtin headers, never the host's, plus the per-target system dirs given or discovered), and
turns what clang lays out into the plain data of :mod:`abiscope.model`. Nothing downstream
sees a clang object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import Diagnostic, InputError, ParseFailure, SourceLocation
from .model import (
    CType,
    Enum,
    EnumConstant,
    EnumLayout,
    Member,
    Model,
    Record,
    RecordLayout,
    TargetInfo,
    gaps,
)
from .targets import Target


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
    extra_args: tuple[str, ...] = field(default=())


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


def clang_args(target: Target, options: ParseOptions) -> list[str]:
    """The full, hermetic clang command line for one target (without the input file)."""
    args = ["-x", "c", f"--target={target.triple}", f"-std={options.std}",
            "-nostdlibinc", "-ffreestanding", "-fno-spell-checking", "-Wno-everything"]
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
    return ci


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

    # -- locations -------------------------------------------------------------------------

    def location(self, cursor: Any) -> SourceLocation:
        loc = cursor.location
        return SourceLocation(self.relpath(loc.file.name) if loc.file else "", loc.line,
                              loc.column)

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

    def ctype(self, t: Any) -> CType:
        spelling: str = t.spelling
        canon = t.get_canonical()
        key = (spelling, canon.spelling)
        cached = self.types.get(key)
        if cached is not None:
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
            element = self.ctype(_element_sugared(core, len(dims), tk))
        elif kind == "pointer":
            pointee = self.ctype(core.get_pointee())
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
        return result

    # -- records and enums -----------------------------------------------------------------

    def note_decl(self, decl: Any) -> None:
        """Queue a record/enum reached from an input so that its layout is collected too."""
        ck = self.ci.CursorKind
        if decl.kind in (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL):
            self.pending.append(decl)

    def members(self, record_type: Any, base_bits: int) -> tuple[Member, ...]:
        out: list[Member] = []
        for f in record_type.get_fields():
            anonymous = bool(f.is_anonymous_record_decl())
            if not anonymous and not f.spelling:
                continue  # unnamed bitfield (`int :3;`, `int :0;`): padding, not a member
            t = f.type
            ct = self.ctype(t)
            offset = base_bits + f.get_field_offsetof()
            bitfield = bool(f.is_bitfield())
            width = f.get_bitfield_width() if bitfield else None
            size_bits = width if width is not None else (ct.size or 0) * 8
            nested: tuple[Member, ...] = ()
            if ct.kind == "record" and not ct.record:
                nested = self.members(t.get_canonical(), offset)
            out.append(Member(
                name="" if anonymous else f.spelling, type=ct, offset_bits=offset,
                size_bits=size_bits, align=ct.align or 1, bitfield=bitfield, bit_width=width,
                location=self.location(f), members=nested,
            ))
        return tuple(out)

    def add_record(self, cursor: Any) -> None:
        name = self.record_name(cursor)
        if not name or name in self.records:
            return
        t = cursor.type
        size = _size(t.get_size())
        align = _size(t.get_align())
        if size is None or align is None:
            return
        members = self.members(t, 0)
        holes, tail = gaps(members, size) if cursor.kind == self.ci.CursorKind.STRUCT_DECL \
            else ((), size * 8 - max((m.offset_bits + m.size_bits for m in members), default=0))
        packed = any(c.kind == self.ci.CursorKind.PACKED_ATTR for c in cursor.get_children())
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
        constants = tuple(EnumConstant(c.spelling, c.enum_value) for c in cursor.get_children()
                          if c.kind == self.ci.CursorKind.ENUM_CONSTANT_DECL)
        size, align = _size(t.get_size()), _size(t.get_align())
        if size is None or align is None:
            return
        self.enums[name] = (loc, EnumLayout(size, align, underlying.spelling, bool(signed),
                                            constants))

    def visit(self, cursor: Any) -> None:
        """Collect a definition and the tagged records defined inside it."""
        ck = self.ci.CursorKind
        if cursor.kind in (ck.STRUCT_DECL, ck.UNION_DECL):
            definition = cursor.get_definition()
            if definition is None or definition != cursor:
                return
            self.add_record(cursor)
            for child in cursor.get_children():
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


def _diagnostics(tu: Any, relpath: Callable[[str], str]) -> list[Diagnostic]:
    ci = _cindex()
    out = []
    for d in tu.diagnostics:
        if d.severity < ci.Diagnostic.Error:
            continue
        loc = d.location
        where = SourceLocation(relpath(loc.file.name), loc.line, loc.column) if loc.file else None
        out.append(Diagnostic("fatal" if d.severity >= ci.Diagnostic.Fatal else "error",
                              d.spelling, where))
    return out


@lru_cache(maxsize=4096)
def relpath(path: str) -> str:
    """A path as reports show it: relative to the working directory when below it."""
    norm = os.path.normpath(path)
    if not os.path.isabs(norm):
        return norm
    rel = os.path.relpath(norm)
    return norm if rel.startswith("..") else rel


def parse_target(headers: Sequence[str], target: Target, options: ParseOptions) -> TargetResult:
    """Parse every header for one target, one translation unit per header."""
    ci = _cindex()
    index = ci.Index.create()
    args = clang_args(target, options)
    flags = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES | ci.TranslationUnit.PARSE_INCOMPLETE
    walker = _TargetWalker(target.name, relpath)
    failures: list[ParseFailure] = []
    for header in headers:
        try:
            tu = index.parse(header, args=args, options=flags)
        except ci.TranslationUnitLoadError as exc:
            failures.append(ParseFailure(relpath(header), target.name, (
                Diagnostic("fatal", f"clang could not parse it ({exc})", None),)))
            continue
        errors = _diagnostics(tu, relpath)
        if errors:
            failures.append(ParseFailure(relpath(header), target.name, tuple(errors)))
            continue
        walker.seen_decls.clear()
        main = os.path.realpath(header)
        for cursor in _top_level(tu, main, options.all_files):
            walker.visit(cursor)
        walker.drain_pending()
    return TargetResult(
        target.name,
        tuple((n, k, loc, lay) for n, (k, loc, lay) in walker.records.items()),
        tuple((n, loc, lay) for n, (loc, lay) in walker.enums.items()),
        tuple(failures),
    )


def _top_level(tu: Any, main: str, all_files: bool) -> Iterator[Any]:
    ck = _cindex().CursorKind
    wanted = (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL)
    same_file: dict[str, bool] = {}
    for cursor in tu.cursor.get_children():
        if cursor.kind not in wanted:
            continue
        if all_files:
            yield cursor
            continue
        f = cursor.location.file
        if f is None:
            continue
        name = f.name
        hit = same_file.get(name)
        if hit is None:
            hit = same_file[name] = os.path.realpath(name) == main
        if hit:
            yield cursor


def _parse_target_star(job: tuple[Sequence[str], Target, ParseOptions]) -> TargetResult:
    return parse_target(*job)


def parse(
    headers: Sequence[str],
    targets: Sequence[Target],
    options: ParseOptions | None = None,
    jobs: int | None = None,
) -> Model:
    """Parse headers for every target (targets spread over processes) into one model."""
    options = options or ParseOptions()
    for header in headers:
        if not os.path.isfile(header):
            raise InputError(f"{header}: no such file")
    work = [(tuple(headers), t, options) for t in targets]
    workers = min(jobs or os.cpu_count() or 1, len(work))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_parse_target_star, work))
    else:
        results = [_parse_target_star(w) for w in work]
    return merge(results, targets, headers)


def merge(results: Iterable[TargetResult], targets: Sequence[Target],
          headers: Sequence[str]) -> Model:
    """Combine per-target results: one record per name, one layout per target."""
    kinds: dict[str, tuple[str, SourceLocation]] = {}
    layouts: dict[str, dict[str, RecordLayout]] = {}
    enum_locs: dict[str, SourceLocation] = {}
    enum_layouts: dict[str, dict[str, EnumLayout]] = {}
    failures: list[ParseFailure] = []
    for res in results:
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
    return Model(infos, records, enums, tuple(failures),
                 tuple(relpath(h) for h in headers))
