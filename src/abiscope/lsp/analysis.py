"""One analysis of one header as an editor holds it: what the worker process computes.

:func:`analyze` reads the configuration as the CLI does (``abiscope.toml`` or
``[tool.abiscope]`` found from the header's directory; ``compile_commands.json`` found from
there too), parses the buffer's text in place of the file on disk (clang's unsaved files:
the include sandbox applies as for any parse), runs ``check``'s rules, and, when asked, lays
out each padding fix again on every target (``check --fix-preview``). Any error becomes a
:class:`Problem` (a diagnostic), never an exception: a header mid-edit is ordinary input.
Returns plain picklable data; never imports the language-server library.
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import re
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from ..cache import UnitCache
from ..checks import CheckConfig, Finding, run_checks, selected_rules
from ..cliutil import parse_options, select_records
from ..compat import RecordVerdict, compare
from ..config import Config, find_config, load_config
from ..errors import AbiscopeError, InputError
from ..frontend import ParseOptions, parse
from ..inputs import CompileFlags, _read_argv, read_compile_commands
from ..model import Model, restricted
from ..targets import Target, group_members, resolve

COMPAT_DEFAULT = ("x86_64", "i386")


@dataclass(frozen=True)
class Request:
    """Analyse ``path`` as ``text`` (None: as on disk); ``fixes``: verify padding fixes."""

    path: str
    text: str | None
    version: int = 0
    fixes: bool = False


@dataclass(frozen=True)
class Problem:
    """A diagnostic that is not a finding: a parse error, a refused include, bad config."""

    line: int  # 1-based; 0 = the file as a whole
    col: int
    severity: str  # "error" | "warning" | "note"
    message: str


@dataclass(frozen=True)
class Analysis:
    """What one analysis found; ``model`` is None when the header parsed on no target."""

    path: str
    version: int
    text: str | None
    model: Model | None = None
    records: tuple[str, ...] = ()  # records declared in this header, in model order
    findings: tuple[Finding, ...] = ()
    problems: tuple[Problem, ...] = ()
    compat_pair: tuple[str, str] | None = None
    verdicts: Mapping[str, RecordVerdict] = field(default_factory=dict)
    fixed: bool = False  # whether the padding fixes were verified in this analysis
    fixes: Mapping[str, str] = field(default_factory=dict)  # record -> verified C text
    fix_targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # where
    config: str | None = None
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------
# configuration, as the CLI reads it


def _namespace(path: str) -> argparse.Namespace:
    """The options a plain ``abiscope check PATH`` would have (cliutil reads these)."""
    return argparse.Namespace(
        headers=[path], sysroot=[], compile_commands=None, include_dirs=[], defines=[],
        undefines=[], force_includes=[], std=None, no_system_dirs=False, all_files=False,
        freestanding=False, allow_include_outside=False, target=[], jobs=1)


def find_compile_commands(path: str, stop: str | None) -> str | None:
    """``compile_commands.json`` (or ``build/compile_commands.json``) in the header's
    directory or the nearest parent, up to ``stop`` (the configuration's directory) or a
    repository root."""
    here = os.path.dirname(os.path.abspath(path))
    while True:
        for name in ("compile_commands.json", os.path.join("build", "compile_commands.json")):
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(here)
        if here == stop or parent == here or os.path.isdir(os.path.join(here, ".git")):
            return None
        here = parent


def compile_flags(db: str, path: str) -> CompileFlags:
    """-I, -D, -U and -include of the database's entry for ``path`` when it has one (a
    header rarely has), else of every entry (as ``--compile-commands`` takes them)."""
    try:
        with open(db, encoding="utf-8") as fh:
            entries = json.load(fh)
    except (OSError, ValueError):
        entries = None
    if isinstance(entries, list):
        real = os.path.realpath(path)
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            directory = entry.get("directory") or os.path.dirname(db)
            file = entry.get("file")
            if not isinstance(file, str) or not isinstance(directory, str) or \
                    os.path.realpath(os.path.join(directory, file)) != real:
                continue
            argv = entry.get("arguments")
            if argv is None and isinstance(entry.get("command"), str):
                import shlex

                argv = shlex.split(entry["command"])
            if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
                flags = CompileFlags()
                _read_argv(argv[1:], directory, flags, {})
                return flags
    return read_compile_commands(db)


def settings(path: str) -> tuple[Config, ParseOptions, str | None]:
    """The configuration, parse options and compilation database for ``path``."""
    found = find_config(os.path.dirname(os.path.abspath(path)))
    config = load_config(found) if found else Config()
    options = parse_options(_namespace(path), config, macros=True)
    db = find_compile_commands(path, os.path.dirname(found) if found else None)
    if db is not None:
        flags = compile_flags(db, path)
        options = replace(
            options,
            include_dirs=(*options.include_dirs,
                          *(d for d in flags.include_dirs if os.path.isdir(d))),
            defines=(*options.defines, *flags.defines),
            undefines=(*options.undefines, *flags.undefines),
            force_includes=(*options.force_includes, *flags.force_includes))
    return config, options, db


def check_config(config: Config) -> CheckConfig:
    return CheckConfig(select=config.select, ignore=config.ignore,
                       severities=dict(config.severity), reference=config.reference)


def compat_pair(config: Config) -> tuple[str, str]:
    table = config.sections.get("compat", {})
    native, compat = table.get("native"), table.get("compat")
    return (native if isinstance(native, str) else COMPAT_DEFAULT[0],
            compat if isinstance(compat, str) else COMPAT_DEFAULT[1])


# ---------------------------------------------------------------------------------------
# the analysis


@contextmanager
def _buffer_lines(path: str, text: str | None) -> Iterator[None]:
    """``linecache`` serving the buffer's text for ``path`` (suppression comments and the
    header's padding style are read through it), restored after."""
    if text is None:
        yield
        return
    names = {path, os.path.relpath(path)}
    saved = {n: linecache.cache.get(n) for n in names}
    lines = text.splitlines(keepends=True)
    for n in names:  # (mtime None: checkcache keeps the entry)
        linecache.cache[n] = (len(text), None, lines, n)
    try:
        yield
    finally:
        for n, old in saved.items():
            if old is None:
                linecache.cache.pop(n, None)
            else:
                linecache.cache[n] = old


def _same_file(a: str, b: str) -> bool:
    return os.path.abspath(a) == os.path.abspath(b) or \
        os.path.realpath(a) == os.path.realpath(b)


def _problems(model: Model, path: str, targets: Sequence[str]) -> list[Problem]:
    """Parse failures as diagnostics: one per message, naming the targets it occurs on;
    one in another file is put on the first line, naming that file."""
    grouped: dict[tuple[int, int, str, str], list[str]] = {}
    for failure in model.failures:
        if failure.target not in targets:
            continue
        for d in failure.diagnostics:
            loc = d.location
            if loc is not None and loc.file and _same_file(loc.file, path):
                key = (loc.line, loc.col, d.severity, d.message)
            else:
                where = f"{loc}: " if loc is not None else ""
                key = (0, 0, d.severity, f"{where}{d.message}")
            grouped.setdefault(key, []).append(failure.target)
    out = []
    for (line, col, severity, message), on in grouped.items():
        sev = "error" if severity in ("error", "fatal") else severity
        out.append(Problem(line, col, sev if sev in ("error", "warning", "note") else "error",
                           f"{message} (does not parse for {', '.join(on)})"))
    return out


_VERIFIED_RE = re.compile(r"verified on ([^:]+):")


def verified_fixes(findings: Sequence[Finding], model: Model, targets: Sequence[Target],
                   options: ParseOptions, path: str, reference: str | None
                   ) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Each record's verified padding rewrite and the targets it was verified on (only
    rewrites ``check --fix-preview`` offers; the others are left out)."""
    from ..fixcheck import verify

    real = [t for t in targets if t.name in model.targets]
    ref = next((t for t in real if t.name == (reference or "x86_64")), real[0] if real else None)
    if ref is None:
        return {}, {}
    ordered = [ref, *(t for t in real if t is not ref)]
    texts: dict[str, str] = {}
    where: dict[str, tuple[str, ...]] = {}
    for f in verify(findings, model, ordered, options, [path]):
        if not f.fix_preview or f.record in texts or "no rewrite offered" in f.fix_preview:
            continue
        m = _VERIFIED_RE.search(f.fix_preview)
        if m is None:
            continue
        texts[f.record] = f.fix_preview
        where[f.record] = tuple(t.strip() for t in m.group(1).split(","))
    return texts, where


def analyze(request: Request) -> Analysis:
    """Analyse one header; errors become :class:`Problem` s (see the module's doc)."""
    start = time.perf_counter()
    path = os.path.abspath(request.path)
    base = Analysis(path=path, version=request.version, text=request.text)
    try:
        result = _analyze(request, path, base)
    except AbiscopeError as exc:
        result = replace(base, problems=(Problem(0, 0, "error", str(exc)),))
    except RecursionError:
        result = replace(base, problems=(Problem(
            0, 0, "error", "the header nests types too deeply for abiscope"),))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        result = replace(base, problems=(Problem(
            0, 0, "error", f"abiscope internal error ({type(exc).__name__}: {exc}); "
            "please report it"),))
    return replace(result, seconds=time.perf_counter() - start)


def _analyze(request: Request, path: str, base: Analysis) -> Analysis:
    if request.text is None and not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    config, options, _ = settings(path)
    base = replace(base, config=config.path)
    on_disk: str | None = None
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            on_disk = fh.read()
    except OSError:
        pass
    overlay = request.text is not None and request.text != on_disk
    if overlay:
        assert request.text is not None
        options = replace(options, unsaved=((path, request.text),))
    selection = resolve(list(config.targets) or ["default"])
    targets = list(selection.targets)
    names = [t.name for t in targets]
    checks = check_config(config)
    rules = selected_rules(checks)
    future = [t for t in group_members("future")
              if any(r.id == "ABI013" for r in rules) and t.name not in names]
    cache = None if overlay else UnitCache(None)
    model = parse([path], [*targets, *future], options, jobs=1, cache=cache,
                  check_files=not overlay)
    problems = _problems(model, path, names)
    real = restricted(model, names) if future else model
    hypothetical = {t.name: restricted(model, {t.name for t in future}) for t in future}
    failed = {f.target for f in model.failures if f.target in names}
    if failed >= set(names):
        return replace(base, problems=tuple(problems))
    records = select_records(real, [], False)
    with _buffer_lines(path, request.text if overlay else None):
        findings = run_checks(real, records, checks, hypothetical=hypothetical)
        fixes: dict[str, str] = {}
        fix_targets: dict[str, tuple[str, ...]] = {}
        if request.fixes and any(f.fix_preview for f in findings):
            fixes, fix_targets = verified_fixes(findings, real, targets, options, path,
                                                checks.reference)
    pair = compat_pair(config)
    verdicts: dict[str, RecordVerdict] = {}
    if all(t in real.targets for t in pair):
        report = compare(real, pair[0], pair[1], records)
        verdicts = {v.name: v for v in report.records}
    return replace(base, model=real, records=tuple(r.name for r in records),
                   findings=tuple(findings), problems=tuple(problems),
                   compat_pair=pair if verdicts else None, verdicts=verdicts,
                   fixed=request.fixes, fixes=fixes, fix_targets=fix_targets)
