"""The values of a unit's object-like macros (ioctl request numbers), evaluated by clang.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import SourceLocation
from .bindings import (
    FastCalls,
    definition_text,
    evaluate_cursor,
    in_files,
    load_cindex,
    real_path,
    relpath,
)
from .facts import children_of
from .options import ParseOptions
from .tokens import is_function_like

IOCTL_MACROS = frozenset({"_IO", "_IOR", "_IOW", "_IOWR", "_IOC", "_IOR_BAD", "_IOW_BAD",
                           "_IOWR_BAD"})
IOCTL_PREFIX = "_IO"  # what each of them begins with: a text without it defines none
_PREFIX = IOCTL_PREFIX.encode()
PROBE_PREFIX = "__abiscope_macro_"


def evaluate_macros(tu: Any, headers: Sequence[str], mains: set[str],
                     options: ParseOptions, fast: FastCalls, probe: Callable[[str], Any],
                     unevaluable: frozenset[tuple[str, str]] = frozenset(),
                     ) -> list[tuple[str, SourceLocation, int, tuple[str, ...]]]:
    """Values of the header's ioctl request macros (and ``macro_names``) on this target.

    Object-like macros of the main file whose tokens use ``_IO*``/``_IOC`` are evaluated by
    clang itself: a probe translation unit (the text given to ``probe``, which parses it
    with the headers' command line) includes the headers and initialises one constant per
    macro, which ``clang_Cursor_Evaluate`` folds. The record names a macro mentions
    (``struct foo`` after ``sizeof`` or as an ``_IOW`` argument) are kept as its causes.
    """
    ci = load_cindex()
    wanted: list[tuple[str, SourceLocation, tuple[str, ...]]] = []
    definitions = children_of(tu.cursor, (ci.CursorKind.MACRO_DEFINITION,))
    names = options.macro_names
    for cursor in in_files(definitions, mains, fast):
        if is_function_like(cursor):
            continue
        spelled = definition_text(cursor)
        if spelled is not None and b"\\" not in spelled and _PREFIX not in spelled \
                and (not names or fast.cursor_spelling(cursor) not in names):
            continue  # (no token of it names an ioctl macro: its tokens are not read)
        tokens = [t.spelling for t in cursor.get_tokens()]
        if len(tokens) < 2:
            continue
        loc = cursor.location
        where = real_path(loc.file.name)
        name = tokens[0]
        if (where, name) in unevaluable:
            continue
        if name in options.macro_names or IOCTL_MACROS.intersection(tokens[1:]):
            wanted.append((name, SourceLocation(relpath(loc.file.name), loc.line, loc.column),
                           _record_mentions(tokens[1:])))
    if not wanted:
        return []
    text = "".join(f'#include "{os.path.realpath(h)}"\n' for h in headers) + "".join(
        f"static const unsigned long long {PROBE_PREFIX}{i} = "
        f"(unsigned long long)({name});\n" for i, (name, _, _) in enumerate(wanted))
    values: dict[int, int] = {}
    for cursor in probe(text).cursor.get_children():
        if cursor.kind == ci.CursorKind.VAR_DECL and cursor.spelling.startswith(PROBE_PREFIX):
            value = evaluate_cursor(cursor)
            if value is not None:
                values[int(cursor.spelling[len(PROBE_PREFIX):])] = value
    return [(name, loc, values[i], recs) for i, (name, loc, recs) in enumerate(wanted)
            if i in values]


def _record_mentions(tokens: list[str]) -> tuple[str, ...]:
    out = []
    for i, tok in enumerate(tokens[:-1]):
        if tok in ("struct", "union"):
            out.append(f"{tok} {tokens[i + 1]}")
    return tuple(dict.fromkeys(out))
