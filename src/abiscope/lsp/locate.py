"""Finding things in a buffer's text: the word under the cursor, the record it names, the
span of a record's definition. Plain text and the model; no protocol types.

Positions are 0-based (line, character) as in the protocol, characters counted in code
points (abiscope's server negotiates nothing else; ASCII headers are the same in UTF-16).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

from ..model import Model, Record, iter_members

_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPEDEF_RE = re.compile(r"\btypedef\s+(struct|union)\s+([A-Za-z_]\w*)\s+([A-Za-z_]\w*)\s*;")
_CLOSING_TYPEDEF_RE = re.compile(r"\}\s*([A-Za-z_]\w*)\s*;")


def word_at(text: str, line: int, character: int) -> tuple[str, int] | None:
    """The identifier at a position and the character it starts at."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    for m in _WORD_RE.finditer(lines[line]):
        if m.start() <= character <= m.end():
            return m.group(), m.start()
    return None


def _is_this_file(record: Record, path: str) -> bool:
    file = record.copy_of or record.location.file
    return bool(file) and os.path.abspath(file) == os.path.abspath(path)


def record_at(model: Model, text: str, path: str, line: int, character: int
              ) -> tuple[Record, str] | None:
    """The record the identifier at a position names, and the member path it names in
    that record (``""``: the record itself): a ``struct``/``union`` tag, a typedef of one
    (declared anywhere the buffer shows it), or a member of a record of this file whose
    definition holds the position."""
    found = word_at(text, line, character)
    if found is None:
        return None
    word, start = found
    before = text.splitlines()[line][:start].rstrip()
    by_name = {r.name: r for r in model.records}
    for kind in ("struct", "union"):
        if before.endswith(kind) and f"{kind} {word}" in by_name:
            return by_name[f"{kind} {word}"], ""
    if word in by_name:  # a typedef of an anonymous record
        return by_name[word], ""
    for m in _TYPEDEF_RE.finditer(text):
        if m.group(3) == word and f"{m.group(1)} {m.group(2)}" in by_name:
            return by_name[f"{m.group(1)} {m.group(2)}"], ""
    for kind in ("struct", "union"):  # a tag spelled without its keyword (a comment)
        if f"{kind} {word}" in by_name:
            return by_name[f"{kind} {word}"], ""
    return _member_at(model, text, path, line, word)


def _member_at(model: Model, text: str, path: str, line: int, word: str
               ) -> tuple[Record, str] | None:
    best: tuple[int, Record, str] | None = None
    for record in model.records:
        if not _is_this_file(record, path):
            continue
        span = definition_span(text, record)
        if span is None or not span[0][0] <= line <= span[1][0]:
            continue
        layout = next(iter(record.layouts.values()), None)
        if layout is None:
            continue
        paths = [p for p, m in iter_members(layout.members) if m.name == word]
        if paths and (best is None or span[0][0] > best[0]):  # the innermost definition
            best = (span[0][0], record, paths[0])
    return (best[1], best[2]) if best else None


def _code_chars(text: str, start: int) -> Iterator[tuple[int, str]]:
    """(offset, char) of ``text`` from ``start`` with comments and literals left out."""
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        yield i, c
        i += 1


def _offset(lines: Sequence[str], line: int, col: int) -> int:
    return sum(len(s) for s in lines[:line]) + col


def _position(lines: Sequence[str], offset: int) -> tuple[int, int]:
    total = 0
    for n, s in enumerate(lines):
        if offset < total + len(s):
            return n, offset - total
        total += len(s)
    return len(lines), 0


def definition_span(text: str, record: Record) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where the record's definition is in ``text``: from its ``struct``/``union`` keyword
    (``typedef`` for a record named by a typedef) to the ``;`` after its closing brace, as
    0-based (line, character) start and end (end exclusive); None when the text does not
    hold it there (an edit moved it)."""
    loc = record.location
    lines = text.splitlines(keepends=True)
    if not 1 <= loc.line <= len(lines):
        return None
    line_text = lines[loc.line - 1]
    col = max(0, min(loc.col - 1, len(line_text)))
    head = line_text[:col + 1]
    keyword = "typedef" if not record.name.startswith(("struct ", "union ")) else record.kind
    at = head.rfind(keyword) if keyword in head else line_text.find(keyword)
    if at < 0 and keyword == "typedef":
        at = head.rfind(record.kind)
    if at < 0:
        return None
    start = _offset(lines, loc.line - 1, at)
    depth, opened, end = 0, False, -1
    for i, c in _code_chars(text, start):
        if c == "{":
            depth, opened = depth + 1, True
        elif c == "}":
            depth -= 1
        elif c == ";" and opened and depth == 0:
            end = i + 1
            break
    if end < 0:
        return None
    return (loc.line - 1, at), _position(lines, end)


def fix_text(preview: str) -> str:
    """A verified rewrite as it goes into the header: without abiscope's own comments."""
    kept = [s for s in preview.splitlines(keepends=True)
            if not s.lstrip().startswith("/* abiscope:")]
    return "".join(kept).rstrip("\n")
