"""``abiscope ioctls``: the ioctl request macros of the inputs (found by the one rule,
:func:`.macro_values.discover_requests`), decoded per target with their argument types.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..errors import InputError, SourceLocation
from ..model import (
    CType,
    IoctlRequest,
    IoctlScan,
    IoctlSkip,
)
from ..targets import Target
from . import sandbox
from .bindings import evaluate_cursor, load_cindex, relpath
from .driver import merge
from .macro_values import PROBE_PREFIX, discover_requests
from .options import ParseOptions, clang_args
from .tokens import LazyMacros
from .walker import TargetResult, TargetWalker

# ---------------------------------------------------------------------------------------
# ioctl request macros with their argument types (``abiscope ioctls``)

_IOCTL_PRELUDE = """\
#if __has_include(<linux/ioctl.h>)
#include <linux/ioctl.h>
#endif
#include <stddef.h>
"""
_ARG_PREFIX = "__abiscope_arg_"


def _scan_header(index: Any, header: str, target: Target, options: ParseOptions,
                 walker: TargetWalker) -> tuple[list[IoctlRequest], list[IoctlSkip]]:
    """The ioctl request macros one header defines, evaluated on one target."""
    ci = load_cindex()
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
    wanted = [(r.name, SourceLocation(where, r.cursor.location.line, r.cursor.location.column),
               r.arg, r.alias_of)
              for r in discover_requests(tu, {main}, walker.fast)]
    if not wanted:
        return [], []
    lines = [head]
    line = head.count("\n")  # probe lines follow the prelude and the #include
    value_line: dict[int, int] = {}
    type_line: dict[int, int] = {}
    for i, (name, _, arg, _) in enumerate(wanted):
        lines.append(f"static const unsigned long long {PROBE_PREFIX}{i} = "
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
    walker.macros = LazyMacros(tu)  # (a body read when an attribute needs it)
    for cursor in tu.cursor.get_children():
        spelling = cursor.spelling
        if cursor.kind == ci.CursorKind.VAR_DECL and spelling.startswith(PROBE_PREFIX):
            value = evaluate_cursor(cursor)
            if value is not None:
                numbers[int(spelling[len(PROBE_PREFIX):])] = value
        elif cursor.kind == ci.CursorKind.TYPEDEF_DECL and spelling.startswith(_ARG_PREFIX):
            i = int(spelling[len(_ARG_PREFIX):])
            if type_line.get(i) not in probe_errors:
                arg_types[i] = walker.ctype(cursor.underlying_typedef_type)
    walker.drain_pending()
    requests: list[IoctlRequest] = []
    skipped: list[IoctlSkip] = []
    for i, (name, loc, arg, alias_of) in enumerate(wanted):
        if i in numbers and value_line[i] not in probe_errors:
            requests.append(IoctlRequest(name, where, loc, numbers[i], arg, arg_types.get(i),
                                         alias_of))
            continue
        reason = probe_errors.get(value_line[i]) or "clang could not fold it to a constant"
        if header_errors:
            reason += f" (the header itself has errors: {header_errors[0]})"
        skipped.append(IoctlSkip(name, where, loc, reason))
    return requests, skipped


def _scan_target(job: tuple[Sequence[str], Target, ParseOptions]) -> tuple[
        TargetResult, list[IoctlRequest], list[IoctlSkip]]:
    headers, target, options = job
    index = load_cindex().Index.create()
    walker = TargetWalker(target.name, relpath)
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
