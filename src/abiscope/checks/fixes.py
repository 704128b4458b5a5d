"""Concrete fixes as C text: a record rewritten with its implicit padding made explicit.

Written from the model (member types and names), on one reference target; the cli verifies
each rewrite by laying it out again. Padding members are named in the header's own style.
"""

from __future__ import annotations

import functools
import linecache
import os
import re
from collections import Counter

from ..model import Member, Record

_PAD_NAME_RE = re.compile(r"\b(_{0,2}(?:pad|padding|reserved|rsvd|spare))\d*\b")


def padding_style(record: Record) -> str:
    """The padding name the record's header uses most (``pad``, ``__reserved``, …)."""
    path = record.location.file
    if not path:
        return "pad"
    try:
        st = os.stat(path)
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return _file_padding_style(path, stamp)


@functools.lru_cache(maxsize=256)
def _file_padding_style(path: str, stamp: tuple[int, int] | None) -> str:
    """The style of one header, read once per version of the file (``stamp``) instead of
    once per record: scanning every record's file line by line was 18 of 26 s of a warm
    ``check`` on Linux UAPI."""
    linecache.checkcache(path)
    counts: Counter[str] = Counter()
    for text in linecache.getlines(path)[:4999]:
        if text.lstrip().startswith(("#", "/*", "*", "//")):
            continue
        counts.update(m.group(1) for m in _PAD_NAME_RE.finditer(text))
    return counts.most_common(1)[0][0] if counts else "pad"


def padding_decl(size_bytes: int, record: Record, offset_bytes: int = 0,
                 name: str | None = None) -> str:
    """``uint32_t pad;`` or ``uint8_t pad[3];``: a padding member for a hole."""
    name = name or padding_style(record)
    for width, ctype in ((1, "uint8_t"), (2, "uint16_t"), (4, "uint32_t")):
        if size_bytes == width and offset_bytes % width == 0:
            return f"{ctype} {name};"
    return f"uint8_t {name}[{size_bytes}];"


def _declarator(m: Member) -> str:
    """C declaration of one member (without the trailing ``;``)."""
    t = m.type
    if m.members:
        kind = "union" if t.canonical.startswith("union") else "struct"
        body = "".join(f"    {line}\n" for mm in m.members
                       for line in (_declarator(mm) + ";").splitlines())
        return f"{kind} {{\n{body}}}" + (f" {m.name}" if m.name else "")
    if m.bitfield:
        return f"{t.spelling} {m.name} : {m.bit_width}"
    if t.kind == "array" and t.element is not None:
        dims = "".join(f"[{d if d is not None else ''}]" for d in t.dims)
        return f"{t.element.spelling} {m.name}{dims}"
    if "(*)" in t.spelling:
        return t.spelling.replace("(*)", f"(*{m.name})", 1)
    return f"{t.spelling} {m.name}"


def padded_record(record: Record, target: str) -> str:
    """The record as C with every byte-level hole and the tail padding explicit on
    ``target``; existing members keep their offsets there."""
    lay = record.layouts[target]
    style = padding_style(record)
    used = {m.name for m in lay.members}
    counter = 0

    def next_name() -> str:
        nonlocal counter
        while True:
            counter += 1
            candidate = style if counter == 1 and style not in used else f"{style}{counter}"
            if candidate not in used:
                used.add(candidate)
                return candidate

    holes = {h.after: h for h in lay.holes if h.offset_bits % 8 == 0 and h.size_bits % 8 == 0}
    lines = []
    for m in lay.members:
        lines.append(f"    {_declarator(m)};".replace("\n", "\n    "))
        hole = holes.get(m.name)
        if hole is not None and m.name:
            decl = padding_decl(hole.size_bits // 8, record, hole.offset_bits // 8, next_name())
            lines.append(f"    {decl}  /* was implicit */")
    if lay.tail_padding:
        end = lay.size - lay.tail_padding
        lines.append(f"    {padding_decl(lay.tail_padding, record, end, next_name())}"
                     "  /* was implicit tail padding */")
    attrs = " __attribute__((packed))" if lay.packed else ""
    keyword = record.name if record.name.startswith(("struct ", "union ")) else \
        f"typedef {lay.kind}"
    tail = f" {record.name};" if keyword.startswith("typedef") else ";"
    return f"{keyword} {{\n" + "\n".join(lines) + f"\n}}{attrs}{tail}\n"
