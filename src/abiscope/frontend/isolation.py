"""Which headers of a batch could see something a translation unit of their own would not.

A batch is one translation unit that includes several input headers in order, so that what
they share (``linux/types.h``, ``asm/*``) is parsed once. Its records equal those of one
translation unit per header only if no header reads a name that only the batch gave it: a
macro, typedef, enumerator, variable or tag of a file that, alone, the header would not have
included (Xen's ``foreign/arm32.h`` tests ``XEN_HAVE_PV_UPCALL_MASK``, which ``xen.h``
defines), or would have included only after the use; or a tag that a header it does not
reach completes (clang lays records out at the end of the unit: a pointee is complete in the
batch and not alone).

The frontend reads plain data off the batch's unit (:class:`BatchFacts`: the include graph
with the includes an include guard skipped, the order files were first entered, the names
each file declares at file scope, the blocks the preprocessor skipped); this module adds the
text of each file (:func:`scan`: the identifiers it mentions, the macros it defines and
``#undef``s, the tags it defines) and decides, for each input ``H`` and every file ``F``
that ``H`` reaches: every name ``F`` mentions that a file ``D`` entered before ``F`` in the
batch provides must be one ``H`` alone would have seen there — ``D`` is entered before ``F``
in a depth-first walk of ``H``'s includes, or ``F`` includes it before the mention — and
every tag ``F`` mentions must be completed only by files ``H`` reaches. A macro's
replacement counts where the macro is defined when the macro is used anywhere.

It is conservative: an identifier that merely shares its spelling with another file's macro
or declaration (a struct member named like a macro) counts as a use, so a header is sent to
a translation unit of its own more often than needed, never less. Files are compared by
real path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

_NOISE = re.compile(
    r"/\*.*?\*/|//(?:[^\n\\]|\\.)*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'", re.S)
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*")
_UNDEF = re.compile(r"^[ \t]*#[ \t]*undef[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_DEFINE = re.compile(
    r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)(\([^)\n]*\))?([^\n]*)$", re.M)
_TAG_DEFINITION = re.compile(r"\b(?:struct|union|enum)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{")


@dataclass(frozen=True)
class FileNames:
    """What one file's text mentions and provides (its blocks that the batch's
    preprocessor skipped left out, see :func:`scan`).

    ``mentions``: every identifier outside comments, literals and ``#define`` lines
    (:meth:`first` finds where); ``bodies`` maps each macro it defines to the offset of its
    first ``#define`` and the identifiers of its replacement lists (parameters left out);
    ``undefs``: the macros it ``#undef``s; ``tags``: the struct, union and enum tags it
    defines (one defined inside a struct is file-scope in C, and the translation unit's
    top-level declarations do not show it). Its other file-scope declarations come from
    the translation unit (:class:`BatchFacts`).
    """

    mentions: frozenset[str]
    bodies: Mapping[str, tuple[int, frozenset[str]]]
    undefs: frozenset[str]
    tags: frozenset[str]
    code: str = ""  # the text with comments, literals and #define lines blanked

    @cached_property
    def names(self) -> frozenset[str]:
        """Every identifier it uses, in code or in a macro's replacement."""
        return self.mentions.union(*(body for _, body in self.bodies.values()))

    @cached_property
    def _firsts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in _IDENT.finditer(self.code):
            out.setdefault(m.group(0), m.start())
        return out

    def first(self, name: str) -> int:
        """Byte offset of the first mention of ``name`` outside ``#define`` lines."""
        return self._firsts.get(name, 0)


_EMPTY = FileNames(frozenset(), {}, frozenset(), frozenset())


def scan(path: str, skipped: tuple[tuple[int, int], ...] = ()) -> FileNames:
    """The names of one file's active text, read once per version of it (path, mtime,
    size) and set of ``skipped`` byte ranges: the conditional blocks the preprocessor
    skipped in the batch. A skipped block neither provides nor mentions anything, but its
    conditional directives (``#if``, ``#ifdef``, …) count as mentions wherever they are:
    they decide what is skipped."""
    try:
        st = os.stat(path)
    except OSError:
        return _EMPTY
    return _scan(path, st.st_mtime_ns, st.st_size, skipped)


_NOT_NEWLINE = re.compile(r"[^\n]")
_CONDITIONAL = re.compile(r"^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|elifdef|elifndef)\b[^\n]*$",
                          re.M)


def _blank(match: re.Match[str]) -> str:
    """A comment, literal or directive as spaces, its newlines kept: offsets and lines
    stay clang's."""
    text = match.group(0)
    return _NOT_NEWLINE.sub(" ", text) if "\n" in text else " " * len(text)


@lru_cache(maxsize=4096)
def _code(path: str, _mtime_ns: int, _size: int) -> str:
    """The file's text with comments and literals blanked (same offsets as clang's)."""
    try:
        with open(path, encoding="latin-1") as fh:  # one character per byte: offsets
            text = fh.read()
    except OSError:
        return ""
    return _NOISE.sub(_blank, text.replace("\\\n", "  "))  # a spliced line continues


@lru_cache(maxsize=16384)
def _scan(path: str, mtime_ns: int, size: int,
          skipped: tuple[tuple[int, int], ...]) -> FileNames:
    code = _code(path, mtime_ns, size)
    conditions: set[str] = set()
    if skipped:
        parts = []
        done = 0
        for begin, end in sorted(skipped):
            begin, end = max(begin, done), min(max(end, begin), len(code))
            if begin >= end:
                continue
            parts.append(code[done:begin])
            hidden = code[begin:end]
            for m in _CONDITIONAL.finditer(hidden):
                conditions.update(_IDENT.findall(m.group(0)))
            parts.append(_NOT_NEWLINE.sub(" ", hidden))
            done = end
        parts.append(code[done:])
        code = "".join(parts)
    bodies: dict[str, tuple[int, set[str]]] = {}
    for m in _DEFINE.finditer(code):
        params = set(_IDENT.findall(m.group(2) or ""))
        bodies.setdefault(m.group(1), (m.start(), set()))[1].update(
            n for n in _IDENT.findall(m.group(3)) if n not in params)
    outside = _DEFINE.sub(_blank, code)
    return FileNames(frozenset(_IDENT.findall(outside)) | conditions,
                     {k: (at, frozenset(v)) for k, (at, v) in bodies.items()},
                     frozenset(_UNDEF.findall(code)), frozenset(_TAG_DEFINITION.findall(code)),
                     outside)


@dataclass(frozen=True)
class BatchFacts:
    """What the frontend read off a batch's translation unit (real paths throughout).

    ``roots``: the input headers in batch order. ``entered``: every file the preprocessor
    entered, in the order it first did. ``includes``: every ``#include`` of every entered
    file, in source order, as (byte offset of the directive, included file), whether it
    entered the file or an include guard skipped it. ``declared``: the names each file
    declares at file scope (typedefs, enumerators, variables); ``tags``: the struct, union
    and enum tags it defines; ``skipped``: the byte ranges of each file that the
    preprocessor skipped; ``reentered``: the files it entered more than once (no include
    guard).
    """

    roots: tuple[str, ...]
    entered: tuple[str, ...]
    includes: Mapping[str, tuple[tuple[int, str], ...]]
    declared: Mapping[str, frozenset[str]]
    tags: Mapping[str, frozenset[str]]
    skipped: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    reentered: frozenset[str] = frozenset()


class _Graph:
    """The batch's include graph: what each file reaches, and from which directive on."""

    def __init__(self, includes: Mapping[str, tuple[tuple[int, str], ...]]) -> None:
        self.includes = includes
        self._reach: dict[str, frozenset[str]] = {}

    def reach(self, start: str) -> frozenset[str]:
        """Every file ``start`` includes, directly or not (``start`` too)."""
        if start not in self._reach:
            seen = {start}
            stack = [start]
            while stack:
                for _, nxt in self.includes.get(stack.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            self._reach[start] = frozenset(seen)
        return self._reach[start]

    def reached_at(self, f: str, target: str) -> int | None:
        """Offset of the first directive of ``f`` through which ``target`` is reached."""
        for offset, nxt in self.includes.get(f, ()):
            if target in self.reach(nxt):
                return offset
        return None

    def preorder(self, root: str) -> dict[str, int]:
        """Position of each file in the order a translation unit of ``root`` alone enters
        it (depth first, directives in source order)."""
        order: dict[str, int] = {}
        stack = [root]
        while stack:
            f = stack.pop()
            if f in order:
                continue
            order[f] = len(order)
            stack.extend(reversed([g for _, g in self.includes.get(f, ()) if g not in order]))
        return order


@dataclass(frozen=True)
class Verdict:
    """What a batch would change: ``leaky``, the indices of the inputs that need a
    translation unit of their own; ``unevaluable``, the (file, macro) pairs of inputs'
    macros whose value, evaluated at the end of the batch, would use what the input alone
    does not have (their header alone leaves them unevaluated); ``reach``, for each input
    that is not leaky, the files it reaches (itself too): a translation unit of its own
    enters exactly these, and in the batch they read what they would read there."""

    leaky: frozenset[int]
    unevaluable: frozenset[tuple[str, str]]
    reach: Mapping[int, frozenset[str]] = field(default_factory=dict)


def check(facts: BatchFacts, names: Mapping[str, FileNames] | None = None) -> Verdict:
    """Which inputs of a batch read a name the batch gave them (see the module's text)."""
    entry: dict[str, int] = {}
    for f in facts.entered:
        entry.setdefault(f, len(entry))
    files = set(entry) | set(facts.roots)
    found = dict(names) if names is not None else {
        f: scan(f, facts.skipped.get(f, ())) for f in files}
    providers: dict[str, list[str]] = {}  # macros, typedefs, enumerators, variables, tags
    completers: dict[str, list[str]] = {}  # tags (a type is complete at the unit's end)
    for f in files:
        fn = found[f]
        tags = fn.tags | facts.tags.get(f, frozenset())
        for name in fn.undefs | fn.bodies.keys() | facts.declared.get(f, frozenset()) | tags:
            providers.setdefault(name, []).append(f)
        for name in tags:
            completers.setdefault(name, []).append(f)
    # every name mentioned anywhere, in code or in a macro's body: a macro that is not
    # is never expanded
    used = frozenset().union(*(found[f].names for f in files)).__contains__
    graph = _Graph(facts.includes)
    memo: dict[str, _Uses] = {}

    def uses(f: str) -> _Uses:
        if f not in memo:
            fn = found[f] if f in found else scan(f)
            at_define: dict[str, int] = {}
            for macro, (at, body) in fn.bodies.items():
                for name in body & providers.keys():
                    if at < at_define.get(name, at + 1) and used(macro):
                        at_define[name] = at  # expanded somewhere: read where defined
            mine = entry.get(f, len(entry))
            earlier = []
            for name in (fn.mentions & providers.keys()) | at_define.keys():
                for d in providers[name]:
                    if d != f and entry.get(d, len(entry)) < mine:
                        earlier.append((name, d, fn, at_define.get(name)))
            memo[f] = _Uses(earlier, sorted(
                {d for name in (fn.mentions | at_define.keys()) & completers.keys()
                 for d in completers[name] if d != f}))
        return memo[f]

    leaky = frozenset(i for i, root in enumerate(facts.roots)
                      if _reads_foreign(root, graph, uses))
    unevaluable: set[tuple[str, str]] = set()
    for i, root in enumerate(facts.roots):
        if i in leaky:
            continue
        closure = graph.reach(root)
        fn = found[root] if root in found else scan(root)
        read = set().union(*(body for _, body in fn.bodies.values()))
        foreign = {name for name in read
                   if any(d not in closure for d in (*providers.get(name, ()),
                                                      *completers.get(name, ())))}
        unevaluable.update((root, m) for m in _tainted(fn.bodies, foreign))
    # (a file entered more than once was entered in several contexts: its includes and
    # tags may be another context's, so what reaches one that has either has no exact reach)
    unclear = {f for f in facts.reentered if facts.includes.get(f) or found[f].tags
               or facts.tags.get(f)}
    reach = {i: r for i, root in enumerate(facts.roots) if i not in leaky
             and unclear.isdisjoint(r := graph.reach(root))}
    return Verdict(leaky, frozenset(unevaluable), reach)


@dataclass(frozen=True)
class _Uses:
    # (name, a file entered before that provides it, the user, the offset of the #define
    # whose replacement reads it if that comes first)
    earlier: list[tuple[str, str, FileNames, int | None]]
    completers: list[str]  # files that define a tag the file mentions


def _tainted(bodies: Mapping[str, tuple[int, frozenset[str]]],
             foreign: set[str]) -> set[str]:
    """The macros whose replacement reads a foreign name, directly or through another
    macro of the same file."""
    out = {m for m, (_, body) in bodies.items() if body & foreign}
    grew = True
    while grew:
        grew = False
        for m, (_, body) in bodies.items():
            if m not in out and body & out:
                out.add(m)
                grew = True
    return out


def _reads_foreign(root: str, graph: _Graph, uses: Callable[[str], _Uses]) -> bool:
    """Whether a file ``root`` reaches mentions a name that, in the batch, a file entered
    before it provides, where ``root`` alone would not have provided it yet; or a tag
    that a file ``root`` does not reach completes."""
    order = graph.preorder(root)
    for f, at in order.items():
        u = uses(f)
        if any(d not in order for d in u.completers):
            return True
        for name, d, fn, at_define in u.earlier:
            if order.get(d, len(order)) < at:
                continue  # alone, d is entered before f
            offset = graph.reached_at(f, d)
            if offset is None:
                return True  # alone, d comes after f
            if at_define is not None and at_define < offset:
                return True
            if name in fn.mentions and fn.first(name) < offset:
                return True  # alone, d comes after this mention
    return False


def group_names(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """``{file: names}`` from (file, name) pairs."""
    out: dict[str, set[str]] = {}
    for f, name in pairs:
        out.setdefault(f, set()).add(name)
    return {f: frozenset(n) for f, n in out.items()}
