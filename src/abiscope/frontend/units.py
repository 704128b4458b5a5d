"""One unit of work: a batch of headers x a group of targets, parsed in as few translation
units as stay exact (:func:`parse_unit`, a pure function of its inputs).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import pickle
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple

from .. import collector
from ..decls import DeclSet
from ..errors import Diagnostic, ParseFailure, SourceLocation
from ..model import RecordLayout
from ..targets import MODELS, Target
from . import isolation, sandbox
from .bindings import (
    ALONE_NAME,
    BATCH_NAME,
    PROBE_NAME,
    abspath_in,
    error_diagnostics,
    included_files,
    load_cindex,
    real_path,
    relpath,
    skipped_blocks,
)
from .declarations import (
    DeclBuilder,
    clang_may_differ,
    collect_decls,
    gcc_bare_align_cap,
    records_held,
    relayout,
)
from .facts import children_of
from .macro_values import IOCTL_PREFIX, evaluate_macros
from .options import ParseOptions, clang_args
from .tokens import LazyMacros, NeedsMacros
from .walker import TargetResult, TargetWalker, walk_unit


def _batch_facts(tu: Any, headers: Sequence[str]) -> isolation.BatchFacts:
    """The include graph and file-scope names of a batch's translation unit, as plain data
    for :func:`abiscope.frontend.isolation.check` (real paths).

    Every top-level child is looked at (with the detailed preprocessing record, every macro
    definition and expansion is one: about 2,000 per batch on Linux UAPI), so the visitor
    asks libclang directly for what it needs instead of making Python objects of it; the
    struct, union and enum cursors it meets are kept for the walk (:func:`_top_level`).
    """
    ci = load_cindex()
    ck = ci.CursorKind
    lib = ci.conf.lib
    real = real_path
    every = [real(name) for name, _ in included_files(tu)]
    entered = tuple(dict.fromkeys(every))  # first entries
    reentered = frozenset(f for f, n in Counter(every).items() if n > 1)
    include_id = ck.INCLUSION_DIRECTIVE.value
    tag_ids = {ck.STRUCT_DECL.value, ck.UNION_DECL.value, ck.ENUM_DECL.value}
    enum_id = ck.ENUM_DECL.value
    # (functions are left out: no layout reads one, and their bodies are not parsed)
    # (macros come from each file's text, without the blocks clang skipped: skipped_blocks)
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
        declared += [(where, c.spelling) for c in children_of(enum, (ck.ENUM_CONSTANT_DECL,))]
    return isolation.BatchFacts(
        tuple(real(h) for h in headers), entered, {f: tuple(v) for f, v in includes.items()},
        isolation.group_names(declared), isolation.group_names(tags), skipped_blocks(tu),
        reentered)


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
class Given:
    """What units of the same target group before this one returned, when their results
    are merged with it (first name wins, but an input's own declaration wins over one
    met first outside the inputs: :func:`abiscope.frontend.driver.parse`): the records
    and enums its walk need not walk again (the ``weak`` ones, met outside the inputs,
    only where they are not the declarations of its own inputs), and the records the
    engine laid out instead of clang there (a record that holds one is laid out by the
    engine too)."""

    records: frozenset[str] = frozenset()
    enums: frozenset[str] = frozenset()
    relaid: frozenset[str] = frozenset()
    weak: frozenset[str] = frozenset()  # of ``records``
    weak_enums: frozenset[str] = frozenset()  # of ``enums``

    @staticmethod
    def union(given: Iterable[Given]) -> Given:
        parts = list(given)
        records = frozenset().union(*(g.records for g in parts))
        enums = frozenset().union(*(g.enums for g in parts))
        strong = frozenset().union(*(g.records - g.weak for g in parts))
        strong_enums = frozenset().union(*(g.enums - g.weak_enums for g in parts))
        return Given(records, enums, frozenset().union(*(g.relaid for g in parts)),
                     frozenset().union(*(g.weak for g in parts)) - strong,
                     frozenset().union(*(g.weak_enums for g in parts)) - strong_enums)


@dataclass(frozen=True)
class UnitResult:
    """One unit of work (a batch of headers x a group of targets): its results per target,
    every file its translation units read (absolute paths; empty when unknown) and, when
    it was given what units before it returned, what it gives the units after it."""

    results: tuple[TargetResult, ...]
    files: tuple[str, ...]
    cacheable: bool = True
    gives: Given = Given()


def parse_unit(headers: Sequence[str], targets: Sequence[Target],
               options: ParseOptions, batch: bool = True,
               standalone: bool = False, files: bool = True,
               given: Given | None = None) -> UnitResult:
    """Parse a batch of headers in as few translation units as possible (a pure function).

    The batch is first parsed as one translation unit that includes every header in order,
    so that what they share (``linux/types.h``, …) is parsed once. When that unit has
    errors, each error is traced (through clang's inclusion tree) to the header under which
    it occurred; those headers are parsed alone, and the headers between them as batches
    again, in input order, so that records are taken from the same header as one
    translation unit per header would (the first declaration of a name wins). A header that
    fails alone is a failure exactly as in :func:`parse_group`. A header that would read
    what only the batch gave it (:mod:`abiscope.frontend.isolation`: a macro, typedef or tag of a
    header it does not include) is parsed alone too, so the result equals
    :func:`parse_group`'s. ``standalone`` also parses each header alone first (one more
    parse per header; no longer needed for that). With ``batch`` false, every header has a
    translation unit of its own (exactly :func:`parse_group`). ``files=False`` leaves the
    files read out of the result (no cache will validate it): the same layouts, sooner.

    ``given`` (what units before this one returned, :class:`Given`): their records and
    enums are not walked again (about 10 % of a target's CPU on Linux UAPI, where every
    unit reaches ``linux/types.h`` and the rest), so the result holds only what it adds to
    theirs, and says what it gives the units after it (:attr:`UnitResult.gives`).
    """
    with collector.paused():
        group = _GroupParser(targets, options, files)
        if given is not None:
            group.walker.given_records = given.records
            group.walker.given_enums = given.enums
            group.walker.given_weak = given.weak
            group.walker.given_weak_enums = given.weak_enums
            group.relaid |= given.relaid
        if batch:
            group.parse_batches(headers, standalone)
        else:
            for header in headers:
                group.parse_one(header)
        walker = group.walker
        gives = Given() if given is None else Given(
            frozenset(walker.records), frozenset(walker.enums), frozenset(group.relaid),
            frozenset(walker.weak.intersection(walker.records)),
            frozenset(walker.weak_enums))
        return UnitResult(tuple(group.results()), tuple(sorted(group.files)),
                          group.cacheable, gives)


def _alone_main(header: str, cwd: str) -> tuple[str, str]:
    """The main file (path, text) of one header's own translation unit (``cwd``: the
    working directory)."""
    return os.path.join(cwd, ALONE_NAME), f'#include "{abspath_in(cwd, header)}"\n'

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


_PCH: dict[tuple[str, ...], tuple[str, ...]] = {}  # command line -> its -include-pch


def empty_pch(index: Any, args: Sequence[str], flags: int) -> tuple[str, ...]:
    """``-include-pch PATH`` of a precompiled empty header made with ``args``, or nothing
    where none can be made (no sandbox directory for it, or clang refuses it).

    Every unit builds clang's predefined macros and registers the target's builtins
    (thousands on x86 and AArch64) before it reads a line: 1.4 ms of an x86-64 UAPI
    header's 3.5 ms, 3.4 ms on AArch64. Behind a precompiled header both come from that
    file, lazily (0.7 and 1.0 ms). The header is empty, so the unit reads the same text
    with the same macros; made once per process and command line, in the sandbox's
    private directory (:func:`abiscope.frontend.sandbox.own_dir`), and tried once before use."""
    key = (*args, str(flags))
    if key in _PCH:
        return _PCH[key]
    _PCH[key] = ()
    home = sandbox.own_dir(args)
    if home is None or list(args[:2]) != ["-x", "c"]:
        return ()
    ci = load_cindex()
    name = os.path.join(home, "empty-" + hashlib.sha256("\0".join(key).encode()).hexdigest()[:16])
    header, check, path = name + ".h", name + ".c", name + ".pch"
    try:
        if not os.path.exists(path):
            made = index.parse(header, args=["-x", "c-header", *args[2:]],
                               unsaved_files=[(header, "")], options=flags)
            if ci.conf.lib.clang_getNumDiagnostics(made):
                return ()
            part = f"{path}.{os.getpid()}"  # (another worker may write it as well)
            made.save(part)
            os.replace(part, path)
        pch = ("-include-pch", path)
        tried = index.parse(check, args=[*args, *pch], unsaved_files=[(check, "")],
                            options=flags)
        if ci.conf.lib.clang_getNumDiagnostics(tried):
            return ()
    except (OSError, ci.TranslationUnitLoadError, ci.TranslationUnitSaveError):
        return ()
    _PCH[key] = pch
    return pch


class _GroupParser:
    """Parses translation units for one group of targets, accumulating model pieces."""

    def __init__(self, targets: Sequence[Target], options: ParseOptions,
                 files: bool = True) -> None:
        ci = self.ci = load_cindex()
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
        self.flags: int = flags | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
        self.builder = DeclBuilder() if self.engines else None
        # the engine targets' layouts and failures, made unit by unit (collect)
        self.engine_records: dict[str, dict[str, tuple[str, SourceLocation, RecordLayout]]] \
            = {t.name: {} for t, _ in self.engines}
        self.engine_failures: dict[str, list[ParseFailure]] = {t.name: [] for t, _ in self.engines}
        self.walker = TargetWalker(targets[0].name, relpath)
        self.failures: list[ParseFailure] = []
        self.macros: list[tuple[str, SourceLocation, int, tuple[str, ...]]] = []
        self.files: set[str] = set()
        self.want_files = files  # (only a cache reads them: 4 % of a target's CPU)
        self.cacheable = True
        self._alone: dict[int, Any] = {}  # flags -> the unit parse_one parses again
        self._alone_args: dict[int, list[str]] = {}
        self._probe: Any = None  # the unit parse_probe parses again
        self.cwd = os.getcwd()  # (asked once: a unit runs in one working directory)
        # A header's own unit records macros only when they are read for sure (the
        # engine's attribute arguments, the ioctl values of a header that may define
        # some: :meth:`flags_for`): without the record its unit has a tenth of the
        # top-level children and parses faster; a walk that meets an aligned(MACRO) from
        # another file parses it again with the record (collect).
        self.alone_flags: int = self.flags if self.builder is not None else flags
        self.macro_words = tuple(w.encode() for w in (IOCTL_PREFIX, *options.macro_names)) \
            if self.want_macros else ()
        self._names_macros: dict[str, bool] = {}  # header -> names_macros(header)
        # Where clang's bare ``aligned`` is larger than GCC's biggest alignment (mips o32:
        # 16 bytes, GCC 8), a layout that holds more than GCC's biggest is the engine's.
        self.gcc_align_cap = None if self.clang_target is None \
            else gcc_bare_align_cap(self.clang_target)
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

    def flags_for(self, header: str) -> int:
        """The flags of ``header``'s own unit: with the macro record where its macros are
        evaluated (:meth:`names_macros`). Most headers have no ioctl; their units walk no
        macro record."""
        if self.want_macros and self.names_macros(header):
            return self.flags
        return self.alone_flags

    def names_macros(self, header: str) -> bool:
        """Whether ``header``'s text holds the name of a macro that may be evaluated
        (``_IOW``, a ``--macro`` name; :attr:`want_macros`): a macro whose tokens name
        none is not evaluated, so a header without one has no macro of its own to
        evaluate, whatever its unit records."""
        known = self._names_macros.get(header)
        if known is not None:
            return known
        data = next((t.encode("utf-8", "surrogateescape") for p, t in self.options.unsaved
                     if p == header), None)
        if data is None:
            try:
                with open(header, "rb") as fh:
                    data = fh.read()
            except OSError:
                data = b"_IO"  # (clang says what is wrong with it)
        known = self._names_macros[header] = any(word in data for word in self.macro_words)
        return known

    def parse_alone(self, header: str, flags: int) -> Any:
        """``header`` in a translation unit of its own: a main file that includes it.

        The unit of the header before is parsed again with the new main file
        (``clang_reparseTranslationUnit``), which skips the clang driver and the set-up of
        a new unit: 40 % less CPU per header on Linux UAPI (2.7 instead of 4.5 ms). The
        header's text is what a unit of its own reads; a unit that does not reparse is
        dropped and a new one made."""
        path, text = _alone_main(header, self.cwd)
        unsaved = [*self.options.unsaved, (path, text)]
        unit = self._reparsed(self._alone.pop(flags, None), unsaved)
        if unit is not None:
            for attr in ("_abiscope_includes", "_abiscope_records"):
                unit.__dict__.pop(attr, None)  # read off the unit before
        else:
            unit = self.index.parse(path, args=self.alone_args(flags), unsaved_files=unsaved,
                                    options=flags)
        self._alone[flags] = unit
        return unit

    def _reparsed(self, unit: Any, unsaved: list[tuple[str, str]]) -> Any:
        """``unit`` parsed again with the main file's new text (``unsaved``), or None when
        there is no unit or it does not reparse (then a new one is made)."""
        if unit is None:
            return None
        try:
            unit.reparse(unsaved_files=unsaved)
        except self.ci.TranslationUnitLoadError:
            return None
        return unit

    def alone_args(self, flags: int) -> list[str]:
        """The command line of :meth:`parse_alone`'s units: clang's own, made cheaper.
        ``-w`` replaces ``-Wno-everything``, which maps each of clang's thousands of
        warnings in every unit; it leaves a warning that is an error by default
        (``int-conversion``, …) an error, so a unit with errors is parsed again with the
        exact command line (:meth:`parse_one`): without errors, a unit's declarations do
        not depend on which warnings are shown. Then the empty precompiled header
        (:func:`empty_pch`) provides the predefined macros and the target's builtins
        (made with the unit's flags, its macro record shows the predefined macros as
        before). An x86-64 UAPI header 3.4 → 2.9 ms, AArch64 5.4 → 2.9 ms."""
        if flags not in self._alone_args:
            args = self._alone_args[flags] = list(self.args)
            if "-Wno-everything" in args:
                args[args.index("-Wno-everything")] = "-w"
                args += empty_pch(self.index, args, flags)
        return self._alone_args[flags]

    def parse_probe(self, text: str) -> Any:
        """A probe unit of :func:`evaluate_macros` (``text``: a main file that includes the
        headers and folds their macros), parsed as a header's own unit is: the probe unit
        before parsed again, behind the cheaper command line (:meth:`alone_args`). A probe
        made anew with the exact command line took 6.6 ms, and ``check`` makes one for
        each header that defines an ioctl.

        Probes often have errors (a macro whose struct this target lacks). Those name no
        warning option and are the exact command line's too; only a warning that is an
        error by default (it names its option) sends the probe to the exact command line,
        whose unit decides. Without an error limit, no fatal "too many errors" stays in
        the unit for the next probe to read, so the unit is kept."""
        ci = self.ci
        flags = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES
        path = os.path.join(self.cwd, PROBE_NAME)
        unsaved = [*self.options.unsaved, (path, text)]
        unit = self._probe = self._reparsed(self._probe, unsaved) or self.index.parse(
            path, args=[*self.alone_args(flags), "-ferror-limit=0"], unsaved_files=unsaved,
            options=flags)
        errors = [d for d in unit.diagnostics if d.severity >= ci.Diagnostic.Error] \
            if ci.conf.lib.clang_getNumDiagnostics(unit) else []
        if any(d.severity >= ci.Diagnostic.Fatal for d in errors):
            self._probe = None  # (a fatal error would stay in the unit's next parses)
        if any(d.option for d in errors) and self.alone_args(flags) != self.args:
            unit = self.index.parse(path, args=[*self.args, "-ferror-limit=0"],
                                    unsaved_files=unsaved, options=flags)
        return unit

    def note_files(self, tu: Any, headers: Sequence[str]) -> None:
        if not self.want_files:
            return
        cwd = self.cwd
        self.files.update(abspath_in(cwd, h) for h in headers)
        self.files.update(abspath_in(cwd, name) for name, _ in included_files(tu))

    def parse_one(self, header: str, walk: bool = True) -> bool:
        """One header in its own translation unit; False (and a failure recorded, not
        raised) when it does not parse. ``walk=False`` only checks that it parses."""
        plain = self.flags & ~self.ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
        try:
            flags = self.flags_for(header) if walk else plain
            tu = self.parse_alone(header, flags) if walk else self.parse(header, None, plain)
            errors = error_diagnostics(tu, relpath)
            if errors and tu is self._alone.get(flags) and self.alone_args(flags) != self.args:
                # (errors under the cheaper command line: what the exact one says decides)
                del self._alone[flags]
                path, text = _alone_main(header, self.cwd)
                tu = self.index.parse(path, args=self.args, options=flags,
                                      unsaved_files=[*self.options.unsaved, (path, text)])
                errors = error_diagnostics(tu, relpath)
        except self.ci.TranslationUnitLoadError as exc:
            self.cacheable = False
            self.failures.append(ParseFailure(relpath(header), "", (
                Diagnostic("fatal", f"clang could not parse it ({exc})", None),)))
            return False
        self.note_files(tu, [header])
        if errors:
            if tu is self._alone.get(flags):
                # its error count would carry over into the next reparse ("too many
                # errors emitted" on a clean header): the next header gets a new unit
                del self._alone[flags]
            self.failures.append(ParseFailure(relpath(header), "", tuple(errors)))
            return False
        if walk:
            record = self.ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
            self.collect(tu, [header], *_alone_main(header, self.cwd),
                         detailed=bool(flags & record))
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
        path = os.path.join(os.getcwd(), BATCH_NAME)
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
                if culprits and len(verdict.reach) + len(culprits) == len(headers):
                    self.note_files(tu, headers)
                    self.collect_around(tu, headers, path, text, verdict)
                    return
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

    def collect_around(self, tu: Any, headers: Sequence[str], path: str, text: str,
                       verdict: isolation.Verdict) -> None:
        """The records of a batch whose ``verdict`` names leaky inputs, in input order:
        each leaky input from a translation unit of its own, and each run of inputs between
        them from the batch's unit, walking only the files that run reaches. Those files
        read there what they read in a unit of their own (:func:`.isolation.check`),
        so the run's records are its records alone, and the batch need not be parsed again
        without the leaky inputs (each such parse was checked again, and could find more)."""
        segment: list[int] = []
        for i in [*range(len(headers)), None]:
            if i is not None and i not in verdict.leaky:
                segment.append(i)
                continue
            if segment:
                reach = frozenset().union(*(verdict.reach[j] for j in segment))
                self.collect(tu, [headers[j] for j in segment], path, text,
                             verdict.unevaluable, reach=reach)
                segment = []
            if i is not None:
                self.parse_one(headers[i])

    def culprits(self, tu: Any, headers: Sequence[str]) -> set[int] | None:
        """Indices of the headers under which the batch's errors occurred: empty if it has
        none, None if an error is not inside any header's inclusion tree."""
        if not self.ci.conf.lib.clang_getNumDiagnostics(tu):
            return set()  # (the usual case: no diagnostic objects made, as error_diagnostics)
        errors = [d for d in tu.diagnostics if d.severity >= self.ci.Diagnostic.Error]
        if not errors:
            return set()
        parent: dict[str, str] = {}
        entered: set[str] = set()  # files included by an input header (not by the batch)
        for name, source in included_files(tu):
            parent.setdefault(name, source)
            if source != tu.spelling:
                entered.add(real_path(name))
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
                if real_path(headers[i]) not in entered:
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
        for name, source in included_files(tu):
            parent.setdefault(name, source)
            guard = _include_guard(name)
            if guard is not None:
                by_guard.setdefault(guard, {}).setdefault(real_path(name), name)
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
                detailed: bool = True, reach: frozenset[str] | None = None) -> None:
        """Walk a translation unit that parsed without errors (``unevaluable``: the
        (file, macro) pairs of a batch's inputs that their header alone cannot evaluate;
        ``detailed``: the unit has the macro record; ``reach``: with every file's records
        wanted, only those of these files, the ones ``headers`` reach in a batch)."""
        ci = self.ci
        # (the inputs' real paths: which top-level records to walk when not every file's
        # are, and which macros to evaluate)
        mains = {real_path(h) for h in headers} \
            if self.want_macros or not self.options.all_files else set()
        walked, all_files = mains, self.options.all_files
        if reach is not None and all_files:
            walked, all_files = set(reach), False
        macro_table: Mapping[str, list[str]] | None = LazyMacros(tu) if detailed else None
        walker = self.walker
        walker.inputs = frozenset(relpath(h) for h in headers)
        # (records are only added during a walk, in order: the new ones are those added
        # after the first ``known``; a set of every name per header was quadratic in a
        # unit's headers)
        known = len(walker.added)
        try:
            walk_unit(walker, tu, walked, all_files, macro_table)
        except NeedsMacros:
            # An aligned(...) comes from a macro of another file: read the macro table off
            # a detailed parse of the same text and walk this unit again with it. What the
            # walk completed before stays (it read no macro: the same with the table), and
            # so do the enums; the unit walked is still the one without the record (its
            # top level is not every macro expansion).
            detailed = self.parse(path, text, self.flags
                                  | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
            macro_table = LazyMacros(detailed)
            walker.forget_since(walker.complete)
            walk_unit(walker, tu, walked, all_files, macro_table)
        if self.builder is not None:
            # (the declarations of the records this walk added, and what they refer to, as
            # this unit declares them: the engine lays out those now, so that a record is
            # laid out from its own unit's declarations, as clang lays it out there, and a
            # pointee complete only in another unit stays incomplete)
            self.builder.start_unit(macro_table if macro_table is not None else LazyMacros(tu))
            new = list(dict.fromkeys(n for n in walker.added[known:] if n in walker.records))
            for name in new:
                self.builder.record(walker.cursors[name])
            decls = DeclSet(self.builder.records)
            for target, model in self.engines:
                laid = {n: walker.records[n] for n in new}
                relayout(laid, decls, model, target, self.engine_failures[target.name])
                self.engine_records[target.name].update(laid)
        if self.clang_target is not None:
            self.relayout_gcc(tu, {n for n in walker.added[known:] if n in walker.records},
                              path, text, macro_table)
        if self.want_macros and detailed and any(self.names_macros(h) for h in headers):
            # (engine targets get none: clang's sizeof there is not the target's)
            self.macros += evaluate_macros(tu, headers, mains, self.options, walker.fast,
                                           self.parse_probe, unevaluable)

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
          keyword, which GCC ignores (:func:`gcc_ignores`; every GNU target);
        - on i386, a record with an integer vector of up to 8 bytes, which GCC aligns at 4
          (an integer mode under ``ADJUST_FIELD_ALIGN``) and clang at 8.
        """
        target, cap, records = self.clang_target, self.gcc_align_cap, self.walker.records
        assert target is not None
        if target.name not in MODELS or target.triple.endswith("msvc"):
            return
        field_cap = MODELS[target.name].field_align_cap
        hidden = self.walker.hidden_layouts
        suspects = {n for n in names if n in self.walker.ignored_attrs or any(
            clang_may_differ(lay, cap, self.gcc_bitfields, field_cap)
            for lay in (records[n][2], *hidden.get(n, ())))}
        if not suspects and not self.relaid:
            return
        holds = {n: records_held(records[n][2].members) for n in names - suspects}
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
            builder = DeclBuilder()
            builder.start_unit(macros)
            collect_decls(builder, tu.cursor)
        laid = {n: records[n] for n in suspects}
        # (what the engine cannot lay out keeps clang's layout)
        relayout(laid, DeclSet(builder.records), MODELS[target.name], target, [])
        records.update(laid)
        self.relaid |= set(laid)

    def results(self) -> list[TargetResult]:
        enums = tuple((n, loc, lay) for n, (loc, lay) in self.walker.enums.items())
        out = []
        for target in self.targets:
            failed = [replace(f, target=target.name) for f in self.failures]
            records = dict(self.walker.records)
            if target.name in self.engine_records:  # (laid out unit by unit: collect)
                laid = self.engine_records[target.name]
                records = {n: laid[n] for n in records if n in laid}
                failed += self.engine_failures[target.name]
            out.append(TargetResult(
                target.name, tuple((n, k, loc, lay) for n, (k, loc, lay) in records.items()),
                enums, tuple(failed),
                tuple(self.macros) if target is self.clang_target else (),
                frozenset(self.walker.weak.intersection(records)),
                frozenset(self.walker.weak_enums)))
        return out


class Job(NamedTuple):
    """One unit of work: :func:`parse_unit`'s arguments, in its order."""

    headers: tuple[str, ...]
    targets: list[Target]
    options: ParseOptions
    batch: bool
    standalone: bool
    files: bool
    given: Given | None = None


def parse_unit_job(job: Job) -> UnitResult:
    return parse_unit(*job)


def parse_unit_pickled(job: Job) -> bytes:
    """:func:`parse_unit_job`'s result, pickled where it is made: a cache stores these very
    bytes, so the process that submitted the job does not pickle the result a second time
    (0.7 s of its CPU, next to the workers, on a cold Linux UAPI run)."""
    unit = parse_unit(*job)
    with collector.paused():  # (pickling allocates, and there is nothing to collect)
        return pickle.dumps(unit, protocol=pickle.HIGHEST_PROTOCOL)


def parse_unit_given(job: Job) -> tuple[Given, bytes]:
    """:func:`parse_unit_job`'s result, pickled where it is made, and apart from it what
    the unit gives the units after it: the submitting process makes the next unit from
    that before it unpickles this one (0.1 s a unit on Linux UAPI, while a worker waits)."""
    unit = parse_unit(*job)
    with collector.paused():
        return unit.gives, pickle.dumps(replace(unit, gives=Given()),
                                        protocol=pickle.HIGHEST_PROTOCOL)
