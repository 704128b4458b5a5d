"""ioctl request macros: which object-like macros of a unit make a request number
(:func:`discover_requests`, the one rule of ``Model.macros``, ABI012, snapshot, diff and
``abiscope ioctls``), and their values, evaluated by clang (:func:`evaluate_macros`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
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
# A body that is one name (an alias: ``#define FDDEFMEDIAPRM FDDEFPRM``) or starts with a
# call (soundcard.h's ``_SIOWR('P', 5, int)``), perhaps in parentheses: the only macros
# without ``_IO`` in their text that can make a request. (The text starts at the name.)
_ALIAS_OR_CALL = re.compile(
    rb"\A\w+[\s\\]+\(?\s*([A-Za-z_]\w*)\s*(\(|\)?\s*(?:/[*/]|\Z))")
_NAME = re.compile(rb"\w+")
_DEPTH = 16  # aliases of aliases, wrappers of wrappers followed at most


@dataclass(frozen=True)
class RequestMacro:
    """An object-like macro of an input that makes an ioctl request number.

    ``arg`` is the argument type as written in the request macro's call (``struct foo`` of
    ``_IOW('f', 1, struct foo)``; ``None`` for ``_IO``, a numeric size or a wrapper whose
    arguments are its own), read from ``call``; ``records`` the records the definition
    mentions, those of the request it stands for when it is an alias; ``alias_of`` the
    request macro an alias is defined as (``FDDEFMEDIAPRM`` → ``FDDEFPRM``), ``None`` for
    the others.
    """

    name: str
    cursor: Any
    call: tuple[str, ...]  # the body that calls the request macro (an alias's: its request's)
    records: tuple[str, ...]
    alias_of: str | None = None
    wrappers: Mapping[str, str] = field(default_factory=dict, compare=False)  # _SIOWR: _IOWR

    @property
    def arg(self) -> str | None:
        """The argument type as written (:func:`ioctl_argument`; read when asked: ``check``
        never asks)."""
        found = ioctl_argument(self.call, self.wrappers)
        return found[1] if found else None


def discover_requests(tu: Any, mains: Collection[str], fast: FastCalls,
                      names: Collection[str] = ()) -> list[RequestMacro]:
    """The ioctl request macros that the files ``mains`` (real paths) define, in order.

    A request macro is an object-like macro whose body calls ``_IO``/``_IOR``/``_IOW``/
    ``_IOWR``/``_IOC`` (or a ``*_BAD`` form), a wrapper of one (a function-like macro, or an
    object-like one that is just the name, as soundcard.h's ``_SIOWR``), or an alias: a body
    that is another request macro's name (``#define SOUND_PCM_WRITE_BITS
    SNDCTL_DSP_SETFMT``), followed through aliases of aliases and into other files of the
    unit. ``names`` are further macros to keep whatever they hold (``--macro``). Only the
    tokens of a definition whose text names ``_IO``, starts with a name or a call, or is in
    ``names`` are read.
    """
    ci = load_cindex()
    definitions = children_of(tu.cursor, (ci.CursorKind.MACRO_DEFINITION,))
    # (the files' own macros by name: most names a definition gives are theirs, and the
    # unit's index of names, all its macros', is then not made)
    local: dict[str, Any] = {}
    objects: list[tuple[Any, bytes | None, bool]] = []
    for cursor in in_files(definitions, set(mains), fast):
        if is_function_like(cursor):
            local[fast.cursor_spelling(cursor)] = cursor
            continue
        spelled = definition_text(cursor)
        name = _NAME.match(spelled) if spelled is not None else None
        local[name.group().decode() if name else fast.cursor_spelling(cursor)] = cursor
        named = bool(names) and fast.cursor_spelling(cursor) in names
        objects.append((cursor, spelled, named))
    unit = _Unit(definitions, fast, local)
    found: list[RequestMacro] = []
    for cursor, spelled, named in objects:
        if spelled is not None and b"\\" not in spelled and _PREFIX not in spelled \
                and not named:
            start = _ALIAS_OR_CALL.match(spelled)
            if start is None or not unit.may_make(start.group(1).decode(),
                                                  call=start.group(2) == b"("):
                continue  # (no token of it names a request: its tokens are not read)
        tokens = [t.spelling for t in cursor.get_tokens()]
        if len(tokens) < 2:
            continue
        request = unit.request(tokens[0], tokens[1:], cursor)
        if request is not None:
            found.append(request)
        elif named:
            found.append(RequestMacro(tokens[0], cursor, (), _record_mentions(tokens[1:])))
    return found


class _Unit:
    """One unit's macros, looked up by name when a definition names them (the unit's index
    of names is made on the first look-up), and what each is: a request maker, a request."""

    def __init__(self, definitions: list[Any], fast: FastCalls,
                 local: dict[str, Any]) -> None:
        self.definitions = definitions
        self.fast = fast
        self.local = local
        self._index: dict[str, Any] | None = None
        self._bodies: dict[str, tuple[bool, list[str]] | None] = {}
        self._makers: dict[str, str | None] = {m: m for m in IOCTL_MACROS}
        self.wrappers: dict[str, str] = {}  # other names of _IO* macros (``_SIOWR``: ``_IOWR``)
        self._requests: dict[str, RequestMacro | None] = {}

    def body(self, name: str) -> tuple[bool, list[str]] | None:
        """Whether the unit's (last) definition of ``name`` is function-like, and its body
        (after the parameters); None when the unit defines no such macro."""
        if name not in self._bodies:
            cursor = self.local.get(name)
            if cursor is None:
                if self._index is None:
                    spelling = self.fast.cursor_spelling
                    self._index = {spelling(c): c for c in self.definitions}
                cursor = self._index.get(name)
            found = None
            if cursor is not None:
                tokens = [t.spelling for t in cursor.get_tokens()]
                if is_function_like(cursor, tokens):
                    close = tokens.index(")") if ")" in tokens else len(tokens) - 1
                    found = (True, tokens[close + 1:])
                else:
                    found = (False, tokens[1:])
            self._bodies[name] = found
        return self._bodies[name]

    def may_make(self, name: str, call: bool) -> bool:
        """Whether a definition that starts with ``name`` (called, when ``call``) can
        make a request: ``name`` makes requests, or is one (an alias's target)."""
        if call:
            return self.maker(name) is not None
        return self.maker(name) is None and self._request_named(name, 1) is not None

    def maker(self, name: str, depth: int = 0) -> str | None:
        """The ``_IO*`` macro that ``name`` stands for when it makes request numbers
        (``_IOW`` for soundcard.h's ``_SIOW``, defined as ``_IOW``; the wrapper's own name
        for a function-like macro that calls one, whose arguments are its own); None when
        it makes none."""
        if name in self._makers:
            return self._makers[name]
        self._makers[name] = None  # (a macro that names itself makes none)
        found = self.body(name) if depth < _DEPTH else None
        made: str | None = None
        if found is not None and found[0]:
            body = found[1]
            if any(t in IOCTL_MACROS or (body[i + 1:i + 2] == ["("] and t.isidentifier()
                                         and self.maker(t, depth + 1))
                   for i, t in enumerate(body)):
                made = name
        elif found is not None and len(found[1]) == 1 and found[1][0].isidentifier():
            made = self.maker(found[1][0], depth + 1)
            if made in IOCTL_MACROS:
                self.wrappers[name] = made
        self._makers[name] = made
        return made

    def request(self, name: str, body: list[str], cursor: Any,
                depth: int = 0) -> RequestMacro | None:
        """What the object-like macro ``name`` defined as ``body`` is: a request, an alias
        of one, or None."""
        if any(t in IOCTL_MACROS for t in body):
            if len(body) == 1:
                return None  # (a request maker: ``#define _SIO _IO``)
            return RequestMacro(name, cursor, tuple(body), _record_mentions(body),
                                wrappers=self.wrappers)
        inner = body
        while len(inner) > 2 and inner[0] == "(" and inner[-1] == ")":
            inner = inner[1:-1]
        if len(inner) == 1 and inner[0].isidentifier():
            other = inner[0]
            if depth >= _DEPTH or self.maker(other) is not None:
                return None  # (``#define _SIOWR _IOWR``: a maker, not a request)
            target = self._request_named(other, depth + 1)
            if target is None:
                return None
            return RequestMacro(name, cursor, target.call, target.records, other,
                                self.wrappers)
        for i, t in enumerate(body[:-1]):
            if body[i + 1] == "(" and t.isidentifier() and self.maker(t) is not None:
                return RequestMacro(name, cursor, tuple(body), _record_mentions(body),
                                    wrappers=self.wrappers)
        return None

    def _request_named(self, name: str, depth: int) -> RequestMacro | None:
        """The request the object-like macro ``name`` is (an alias's target), if any."""
        if name not in self._requests:
            self._requests[name] = None  # (``#define A B`` and ``#define B A``)
            found = self.body(name)
            self._requests[name] = None if found is None or found[0] or not found[1] \
                else self.request(name, found[1], None, depth)
        return self._requests[name]


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
        if tok not in IOCTL_MACROS or tokens[i + 1] != "(":
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


def evaluate_macros(tu: Any, headers: Sequence[str], mains: set[str],
                    options: ParseOptions, fast: FastCalls, probe: Callable[[str], Any],
                    unevaluable: frozenset[tuple[str, str]] = frozenset(),
                    ) -> list[tuple[str, SourceLocation, int, tuple[str, ...]]]:
    """Values of the header's ioctl request macros (:func:`discover_requests`, and
    ``options.macro_names``) on this target.

    They are evaluated by clang itself: a probe translation unit (the text given to
    ``probe``, which parses it with the headers' command line) includes the headers and
    initialises one constant per macro, which ``clang_Cursor_Evaluate`` folds. The record
    names a macro mentions (``struct foo`` after ``sizeof`` or as an ``_IOW`` argument;
    for an alias, those of the request it stands for) are kept as its causes.
    """
    ci = load_cindex()
    wanted: list[tuple[str, SourceLocation, tuple[str, ...]]] = []
    for request in discover_requests(tu, mains, fast, options.macro_names):
        loc = request.cursor.location
        if (real_path(loc.file.name), request.name) in unevaluable:
            continue
        wanted.append((request.name, SourceLocation(relpath(loc.file.name), loc.line,
                                                    loc.column), request.records))
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
