"""libclang through ``clang.cindex``: loading it, the bindings' fast paths, and what is read
off a translation unit (inclusions, skipped blocks, diagnostics) as plain data.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from ..errors import Diagnostic, InputError, SourceLocation

# ---------------------------------------------------------------------------------------
# libclang access (lazily imported so that snapshot-only commands never load it)


@lru_cache(maxsize=1)
def load_cindex() -> Any:
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
    # libclang runs every parse and reparse on a new thread with an 8 MiB stack, for its
    # crash recovery, unless this is set (it asks getenv on each call; crash recovery stays,
    # on the calling thread): 0.3 ms less of a UAPI header's 2-4 ms reparse, and a warmer
    # cache for the walk after it (one target over Linux UAPI: 5.7-6.3 s -> 5.3 s).
    os.environ.setdefault("LIBCLANG_NOTHREADS", "1")
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


def _guarded(func: Any) -> Any:
    """The function a ``cursor_null_guard`` wrapper wraps, or None."""
    if getattr(func, "__name__", "") != "inner" or not getattr(func, "__closure__", None):
        return None
    inner = [c.cell_contents for c in func.__closure__ if callable(c.cell_contents)]
    return inner[0] if len(inner) == 1 else None


@lru_cache(maxsize=1)
def type_kinds() -> dict[Any, tuple[str, bool | None]]:
    tk = load_cindex().TypeKind
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


UNNAMED_MARKERS = ("(anonymous", "(unnamed")


def known_size(value: int) -> int | None:
    """libclang reports errors (incomplete, dependent, …) as negative sizes."""
    return value if value >= 0 else None


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def clang_version() -> str:
    """libclang's version string (``clang_getClangVersion``), "unknown" for a binding
    without the call."""
    ci = load_cindex()
    try:
        return str(ci._CXString.from_result(ci.conf.lib.clang_getClangVersion()))
    except Exception:  # pragma: no cover - a binding without the call
        return "unknown"


def builtin_include_dir() -> str | None:
    """clang's builtin-header dir (``stddef.h`` & co. in the libclang wheel), as libclang
    itself finds ``<stddef.h>``."""
    ci = load_cindex()
    tu = ci.Index.create().parse("abiscope-probe.c", args=["-x", "c", "-ffreestanding"],
                                 unsaved_files=[("abiscope-probe.c", "#include <stddef.h>\n")])
    for name, _ in included_files(tu):
        if os.path.basename(name) == "stddef.h":
            return os.path.dirname(os.path.abspath(name))
    return None


class _RangeList(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint), ("ranges", ctypes.c_void_p)]


@lru_cache(maxsize=1)
def _range_functions() -> Any:
    """libclang with the skipped-range calls declared (the bindings do not declare them)."""
    ci = load_cindex()
    lib = ci.conf.lib
    lib.clang_getAllSkippedRanges.argtypes = [ci.TranslationUnit]
    lib.clang_getAllSkippedRanges.restype = ctypes.POINTER(_RangeList)
    lib.clang_disposeSourceRangeList.argtypes = [ctypes.POINTER(_RangeList)]
    lib.clang_disposeSourceRangeList.restype = None
    return lib


def skipped_blocks(tu: Any) -> dict[str, tuple[tuple[int, int], ...]]:
    """The byte ranges of each file (real path) that the preprocessor skipped (inactive
    conditional blocks, their directives included), from the preprocessing record."""
    ci = load_cindex()
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
                names[key] = real_path(ci.File(handle).name)
            out.setdefault(names[key], []).append((start.value, end.value))
    finally:
        lib.clang_disposeSourceRangeList(found)
    return {f: tuple(sorted(v)) for f, v in out.items()}


def real_path(path: str) -> str:
    """``os.path.realpath``, remembered (per working directory: a path may be relative)."""
    return _realpath_in(os.getcwd(), path)


def _abspath(path: str) -> str:
    """``os.path.abspath``, remembered (per working directory)."""
    return abspath_in(os.getcwd(), path)


@lru_cache(maxsize=65536)
def _realpath_in(_cwd: str, path: str) -> str:
    return os.path.realpath(path)


@lru_cache(maxsize=65536)
def abspath_in(_cwd: str, path: str) -> str:
    return os.path.abspath(path)


def included_files(tu: Any) -> Iterator[tuple[str, str]]:
    """(included file, includer) of every inclusion clang made. A file given with
    ``-include`` counts as included by the translation unit itself; an ``#include`` that
    found nothing is left out (its diagnostic names the includer)."""
    cached: list[tuple[str, str]] | None = getattr(tu, "_abiscope_includes", None)
    if cached is None:  # read once per translation unit (several callers ask)
        ci = load_cindex()
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


class _RawString(ctypes.Structure):
    """libclang's ``CXString``, read and disposed of at once (no finalizer)."""

    _fields_ = [("data", ctypes.c_void_p), ("private_flags", ctypes.c_uint)]


class FastCalls:
    """The walk's most frequent libclang calls on prototypes of their own (new function
    objects: the bindings' declarations stay as they are), without the bindings' Python
    layers: a spelling is three foreign calls and a decode instead of ten frames
    (``_CXString.from_result``, ``c_interop_string``, a finalizer per string), and an
    expansion location writes into out-parameters made once, read as plain integers.
    One instance per walker: the out-parameters are its own (a Dask worker runs units in
    threads)."""

    def __init__(self) -> None:
        ci = load_cindex()
        lib = ci.conf.lib

        def prototype(name: str, argtypes: list[Any], restype: Any) -> Any:
            function = lib[name]  # (a new function object each time)
            function.argtypes = argtypes
            function.restype = restype
            return function

        self._text = prototype("clang_getCString", [_RawString], ctypes.c_char_p)
        self._dispose = prototype("clang_disposeString", [_RawString], None)
        self._cursor_spelling = prototype("clang_getCursorSpelling", [ci.Cursor], _RawString)
        self._type_spelling = prototype("clang_getTypeSpelling", [ci.Type], _RawString)
        self._cursor_location = prototype("clang_getCursorLocation", [ci.Cursor],
                                          ci.SourceLocation)
        self._expansion = prototype("clang_getInstantiationLocation",
                                    [ci.SourceLocation, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_void_p, ctypes.c_void_p], None)
        self._file = ctypes.c_void_p()
        self._line = ctypes.c_uint()
        self._column = ctypes.c_uint()
        self._out = (ctypes.addressof(self._file), ctypes.addressof(self._line),
                     ctypes.addressof(self._column), None)

    def _string(self, raw: _RawString) -> str:
        data: bytes | None = self._text(raw)
        self._dispose(raw)
        return data.decode("utf8") if data is not None else ""

    def cursor_spelling(self, cursor: Any) -> str:
        """``Cursor.spelling`` (not remembered on the cursor)."""
        return self._string(self._cursor_spelling(cursor))

    def type_spelling(self, type_: Any) -> str:
        """``Type.spelling``."""
        return self._string(self._type_spelling(type_))

    def expansion(self, cursor: Any) -> tuple[int | None, int, int]:
        """The file handle (an integer; None outside any file), line and column of the
        cursor's expansion location."""
        self._expansion(self._cursor_location(cursor), *self._out)
        return self._file.value, self._line.value, self._column.value


class Locations:
    """Expansion locations of one translation unit's cursors, each file named once (by
    libclang's file handle) instead of once per cursor. The handles are the unit's own,
    and change when it is parsed again: :meth:`clear` before the next one."""

    def __init__(self, fast: FastCalls, relpath: Callable[[str], str]) -> None:
        self.ci = load_cindex()
        self.fast = fast
        self.relpath = relpath
        self.names: dict[int, str] = {}  # file handle -> its name as reports show it

    def clear(self) -> None:
        self.names.clear()

    def __call__(self, cursor: Any) -> SourceLocation:
        return self.at(*self.fast.expansion(cursor))

    def at(self, key: int | None, line: int, column: int) -> SourceLocation:
        """The location of a file handle (None: in no file), line and column."""
        if key is None:
            return SourceLocation("", line, column)
        name = self.names.get(key)
        if name is None:
            handle = ctypes.cast(key, self.ci.c_object_p)
            name = self.names[key] = self.relpath(self.ci.File(handle).name)
        return SourceLocation(name, line, column)


def in_files(cursors: Iterable[Any], files: set[str], fast: FastCalls) -> Iterator[Any]:
    """The ``cursors`` expanded in one of ``files`` (real paths): each file handle is
    named once, not each cursor's location (a macro record holds thousands of them, most
    of other files or of none, the predefined ones)."""
    ci = load_cindex()
    hits: dict[int, bool] = {}  # file handle -> is one of them
    for cursor in cursors:
        key = fast.expansion(cursor)[0]
        if key is None:
            continue
        hit = hits.get(key)
        if hit is None:
            name = ci.File(ctypes.cast(key, ci.c_object_p)).name
            hit = hits[key] = real_path(name) in files
        if hit:
            yield cursor


@lru_cache(maxsize=1)
def _inclusion_functions() -> tuple[Any, Any]:
    """``clang_getInclusions`` with a visitor that receives plain integers (its own
    prototype, so that the bindings' declaration is left as it is)."""
    ci = load_cindex()
    visitor_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint,
                                    ctypes.c_void_p)
    function = ci.conf.lib["clang_getInclusions"]  # a new function object
    function.argtypes = [ci.TranslationUnit, visitor_type, ctypes.c_void_p]
    function.restype = None
    return function, visitor_type


@lru_cache(maxsize=1)
def macro_function_like() -> Any:
    """``clang_Cursor_isMacroFunctionLike`` (a prototype of its own: the bindings do not
    declare it)."""
    ci = load_cindex()
    function = ci.conf.lib["clang_Cursor_isMacroFunctionLike"]  # a new function object
    function.argtypes = [ci.Cursor]
    function.restype = ctypes.c_uint
    return function


@lru_cache(maxsize=1)
def _spelling_functions() -> tuple[Any, Any]:
    """``clang_getSpellingLocation`` and ``clang_getFileContents`` (prototypes of their
    own: the bindings declare neither)."""
    ci = load_cindex()
    spelling = ci.conf.lib["clang_getSpellingLocation"]  # a new function object
    spelling.argtypes = [ci.SourceLocation, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                         ctypes.c_void_p]
    spelling.restype = None
    contents = ci.conf.lib["clang_getFileContents"]
    contents.argtypes = [ci.TranslationUnit, ctypes.c_void_p,
                         ctypes.POINTER(ctypes.c_size_t)]
    contents.restype = ctypes.c_void_p
    return spelling, contents


def _spelled_at(location: Any) -> tuple[int | None, int]:
    """The file handle (None outside any file) and byte offset where ``location`` is
    spelled."""
    spelling, _ = _spelling_functions()
    handle, offset = ctypes.c_void_p(), ctypes.c_uint()
    spelling(location, ctypes.byref(handle), None, None, ctypes.byref(offset))
    return handle.value, offset.value


def _buffer(tu: Any, handle: int) -> tuple[int, int]:
    """The address and size of the buffer clang read for a file (0, 0 when none)."""
    _, contents = _spelling_functions()
    size = ctypes.c_size_t()
    data = contents(tu, ctypes.c_void_p(handle), ctypes.byref(size))
    return (data or 0), size.value


def spelled_text(cursor: Any, length: int) -> str:
    """Up to ``length`` characters of the source where ``cursor``'s extent starts as
    spelled: inside a macro's body when the cursor comes from an expansion (its own tokens
    are then none when the macro is defined in another file), from the buffer clang read."""
    handle, offset = _spelled_at(cursor.extent.start)
    if handle is None:
        return ""
    data, size = _buffer(cursor.translation_unit, handle)
    if not data or offset >= size:
        return ""
    raw = ctypes.string_at(data + offset, min(length, size - offset))
    return raw.decode("utf-8", "replace")


def definition_text(cursor: Any) -> bytes | None:
    """The source bytes of a macro definition as spelled (its name, its body, and what
    follows on the line of its last token: clang's range ends where that token begins),
    from the buffer clang read; None when they are not in one file's buffer."""
    extent = cursor.extent
    handle, start = _spelled_at(extent.start)
    end_handle, end = _spelled_at(extent.end)
    if handle is None or handle != end_handle or end < start:
        return None
    data, size = _buffer(cursor._tu, handle)
    if not data or end > size:
        return None
    line_end = ctypes.string_at(data + end, size - end).find(b"\n")
    return ctypes.string_at(data + start, (size if line_end < 0 else end + line_end) - start)


def error_diagnostics(tu: Any, relpath: Callable[[str], str]) -> list[Diagnostic]:
    ci = load_cindex()
    if not ci.conf.lib.clang_getNumDiagnostics(tu):
        return []  # (the usual case: no diagnostic objects made)
    out: list[Diagnostic] = []
    after_end = []  # in the one-line main file that includes a header alone
    for d in tu.diagnostics:
        if d.severity < ci.Diagnostic.Error:
            continue
        loc = d.location
        level = "fatal" if d.severity >= ci.Diagnostic.Fatal else "error"
        if loc.file is not None and os.path.basename(loc.file.name) == ALONE_NAME:
            # (an unclosed struct "expects '}'" there): no place to show in the header
            after_end.append(Diagnostic(level, f"at the end of the header: {d.spelling}", None))
            continue
        where = SourceLocation(relpath(loc.file.name), loc.line, loc.column) if loc.file else None
        message = explain(d.spelling, loc.file and loc.file.name)
        if _GLIBC_USE in message and not any(_GLIBC_USE in o.message for o in out):
            message += _shadowed_features(tu)
        elif _STDINT_RE.search(message) and not any(STDINT_HINT in o.message for o in out):
            message += STDINT_HINT
        out.append(Diagnostic(level, message, where))
    return out or after_end  # the header's own errors say what is wrong, when it has some


_GLIBC_USE = "'__GLIBC_USE' is not defined"


def _shadowed_features(tu: Any) -> str:
    """Why glibc's ``__GLIBC_USE`` is missing: another ``features.h`` came first on the
    include path (Xen's public headers have one: ``-I /usr/include/xen``)."""
    shadow = next((f for f, _ in included_files(tu) if os.path.basename(f) == "features.h"),
                  None)
    which = f" resolved to {shadow}," if shadow else ""
    return (f" [hint: <features.h>{which} not glibc's: an -I dir holding a features.h of its "
            "own shadows glibc's, which <stdint.h> and every libc header include; Xen's "
            "public dir does (/usr/include/xen): pass its parent instead (-I /usr/include; "
            "Xen's headers include each other by relative paths), or --no-system-dirs]")


_STDINT_RE = re.compile(r"unknown type name 'u?int(8|16|32|64)_t'")
STDINT_HINT = (" [hint: the header expects its includer to provide <stdint.h>, as Xen's "
               "public headers do: --include stdint.h]")


_NOT_FOUND_RE = re.compile(r"^'(?P<name>[^']*)' file not found")
HINT = ("abiscope reads only the header's own tree, the -I/--sysroot dirs, the target's "
        "system dirs and clang's builtin headers; pass -I for a directory you trust, or "
        "--allow-include-outside")


def explain(message: str, includer: str | None) -> str:
    """clang's "'X' file not found" said as a refusal when X exists outside the include
    sandbox (:mod:`abiscope.frontend.sandbox`)."""
    m = _NOT_FOUND_RE.match(message)
    if not m or not includer:
        return message
    name = m["name"]
    candidate = name if os.path.isabs(name) else os.path.join(
        os.path.dirname(os.path.abspath(includer)), name)
    if not os.path.lexists(candidate):  # lstat only: never opens or reads it
        return message
    return (f"#include '{name}' refused: it resolves to {os.path.normpath(candidate)}, outside "
            f"the trees abiscope may read ({HINT})")


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


BATCH_NAME = "<abiscope batch>.c"
ALONE_NAME = "<abiscope header>.c"
PROBE_NAME = "<abiscope probe>.c"


@lru_cache(maxsize=1)
def _eval_functions() -> Any:
    import ctypes

    lib = load_cindex().conf.lib
    lib.clang_Cursor_Evaluate.restype = ctypes.c_void_p
    lib.clang_Cursor_Evaluate.argtypes = [load_cindex().Cursor]
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


def evaluate_cursor(cursor: Any) -> int | None:
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
