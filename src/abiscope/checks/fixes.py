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


def padding_names(record: Record, target: str) -> dict[str | None, str]:
    """The name each explicit padding member gets on ``target``: by the member the hole
    follows, ``None`` for the tail. The fix line and the preview both read it (one name)."""
    lay = record.layouts[target]
    style = padding_style(record)
    used = {m.name for m in lay.members}
    out: dict[str | None, str] = {}
    counter = 0

    def next_name() -> str:
        nonlocal counter
        while True:
            counter += 1
            candidate = style if counter == 1 and style not in used else f"{style}{counter}"
            if candidate not in used:
                used.add(candidate)
                return candidate

    holes = {h.after for h in lay.holes if h.offset_bits % 8 == 0 and h.size_bits % 8 == 0}
    for m in lay.members:
        if m.name in holes and m.name:
            out[m.name] = next_name()
    if lay.tail_padding:
        out[None] = next_name()
    return out


def padded_record(record: Record, target: str) -> str:
    """The record as C with every byte-level hole and the tail padding explicit on
    ``target``; existing members keep their offsets there."""
    lay = record.layouts[target]
    names = padding_names(record, target)
    holes = {h.after: h for h in lay.holes if h.offset_bits % 8 == 0 and h.size_bits % 8 == 0}
    lines = []
    for m in lay.members:
        lines.append(f"    {_declarator(m)};".replace("\n", "\n    "))
        hole = holes.get(m.name)
        if hole is not None and m.name:
            decl = padding_decl(hole.size_bits // 8, record, hole.offset_bits // 8,
                                names[m.name])
            lines.append(f"    {decl}  /* was implicit */")
    if lay.tail_padding:
        end = lay.size - lay.tail_padding
        lines.append(f"    {padding_decl(lay.tail_padding, record, end, names[None])}"
                     "  /* was implicit tail padding */")
    attrs = " __attribute__((packed))" if lay.packed else ""
    keyword = record.name if record.name.startswith(("struct ", "union ")) else \
        f"typedef {lay.kind}"
    tail = f" {record.name};" if keyword.startswith("typedef") else ";"
    return f"{keyword} {{\n" + "\n".join(lines) + f"\n}}{attrs}{tail}\n"


# How the preprocessor tells each target apart (GCC and clang predefine these), for a
# rewrite that needs one declaration per target group.
TARGET_CONDITION = {
    "i386": "defined(__i386__) && !defined(_WIN32)",
    "x86_64": "defined(__x86_64__) && defined(__LP64__)",
    "x32": "defined(__x86_64__) && defined(__ILP32__)",
    "arm": "defined(__arm__)",
    "aarch64": "defined(__aarch64__)",
    "riscv32": "defined(__riscv) && __riscv_xlen == 32",
    "riscv64": "defined(__riscv) && __riscv_xlen == 64",
    "ppc": "defined(__powerpc__) && !defined(__powerpc64__)",
    "ppc64": "defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__",
    "ppc64le": "defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__",
    "s390x": "defined(__s390x__)",
    "mips": "defined(__mips__) && !defined(__mips64)",
    "mips64": "defined(__mips64)",
    "sparc64": "defined(__sparc__) && defined(__arch64__)",
    "loongarch64": "defined(__loongarch64)",
    "m68k": "defined(__m68k__)",
    "win32": "defined(_WIN32) && !defined(_WIN64)",
    "win64": "defined(_WIN64)",
    "wasm32": "defined(__wasm32__)",
}


def per_target_record(variants: dict[str, list[str]], long_size: dict[str, int]) -> str | None:
    """One declaration per group of targets sharing a padded rewrite (``variants``: text ->
    targets), chosen by ``#if``: by ``__SIZEOF_LONG__`` when the width of long is what tells
    the groups apart, else by each target's predefined macros; any other target gets an
    ``#error`` rather than an unverified layout. None when a target has no known macro."""
    groups = list(variants.items())
    sizes = [{long_size.get(t) for t in ts} for _, ts in groups]
    if len(groups) == 2 and all(len(s) == 1 and None not in s for s in sizes) \
            and sizes[0] != sizes[1]:
        (a, ta), (b, _) = groups
        first, second = (a, b) if long_size[ta[0]] == 8 else (b, a)
        return f"#if __SIZEOF_LONG__ == 8\n{first}#else\n{second}#endif\n"
    if any(t not in TARGET_CONDITION for _, ts in groups for t in ts):
        return None
    out = []
    for i, (text, ts) in enumerate(groups):
        cond = " || ".join(f"({TARGET_CONDITION[t]})" if len(ts) > 1 and "&&" in
                           TARGET_CONDITION[t] else TARGET_CONDITION[t] for t in ts)
        out.append(f"{'#if' if i == 0 else '#elif'} {cond}  /* {', '.join(ts)} */\n{text}")
    return "".join(out) + ("#else\n#error \"abiscope: no layout verified for this target\"\n"
                           "#endif\n")
