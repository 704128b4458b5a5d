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

from ..model import Member, Record, iter_members
from . import bytes_text

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


def _declarator(m: Member, body: str | None = None) -> str:
    """C declaration of one member (without the trailing ``;``); ``body``: the lines of an
    anonymous or unnamed record member, already indented."""
    t = m.type
    attr = f" __attribute__((aligned({m.align_attr})))" if m.align_attr else ""
    if m.members:
        kind = "union" if t.canonical.startswith("union") else "struct"
        return f"{kind} {{\n{body or ''}}}" + (f" {m.name}" if m.name else "") + attr
    if m.bitfield:
        return f"{t.spelling} {m.name} : {m.bit_width}"
    if t.kind == "array" and t.element is not None:
        dims = "".join(f"[{d if d is not None else ''}]" for d in t.dims)
        return f"{t.element.spelling} {m.name}{dims}{attr}"
    if "(*)" in t.spelling:
        return t.spelling.replace("(*)", f"(*{m.name})", 1) + attr
    return f"{t.spelling} {m.name}{attr}"


def is_flexible(m: Member) -> bool:
    """A flexible array member (``T name[];``, or the old ``[0]``)."""
    return m.type.kind == "array" and not m.size_bits and not m.bitfield


class _Padder:
    """Walks a record's members in declaration order and writes them with every gap made
    explicit where it is: between members, inside anonymous records (their own tail too),
    in the bits a bit-field leaves; a union gets one member as large as itself."""

    def __init__(self, record: Record, target: str) -> None:
        self.record = record
        self.lay = record.layouts[target]
        self.style = padding_style(record)
        self.used = {name for _, m in iter_members(self.lay.members) for name in (m.name,)}
        self.counter = 0
        self.last = ""  # the last data member written: a pad is named by what it follows
        self.names: dict[str | None, str] = {}
        self.decls: dict[str | None, list[str]] = {}
        self.lines = self._body(self.lay.members, 0, self.lay.size * 8,
                                self.lay.kind == "union", outer=True)

    def _name(self) -> str:
        while True:
            self.counter += 1
            candidate = self.style if self.counter == 1 and self.style not in self.used \
                else f"{self.style}{self.counter}"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def _pads(self, start: int, end: int, prev: Member | None, tail: bool) -> list[str]:
        """Declarations filling bits [start, end); named after ``self.last``."""
        name = self._name()
        key = None if tail else self.last
        first = key not in self.names
        self.names.setdefault(key, name)
        note = "  /* was implicit tail padding */" if tail else "  /* was implicit */"
        out = []
        if start % 8:  # the rest of a bit-field's byte: a bit-field of the same type
            bits = min(end - start, 8 - start % 8)
            spelling = prev.type.spelling if prev is not None and prev.bitfield else "uint8_t"
            out.append(f"{spelling} {name} : {bits};{note}")
            start += bits
            name = self._name() if end > start else name
        if end - start >= 8:
            size = (end - start) // 8
            out.append(padding_decl(size, self.record, start // 8, name) + note)
            start += size * 8
            name = self._name() if end > start else name
        if end > start:
            out.append(f"uint8_t {name} : {end - start};{note}")
        if first:
            self.decls[key] = [line.split("  /*")[0] for line in out]
        return out

    def _body(self, members: tuple[Member, ...], base: int, size: int, union: bool,
              outer: bool = False) -> list[str]:
        lines: list[str] = []
        cursor = base
        prev: Member | None = None
        for m in members:
            if not union and m.offset_bits > cursor and (m.size_bits or not m.bitfield):
                # (a flexible array member has no size: the gap before it is padding too)
                lines += self._pads(cursor, m.offset_bits, prev, tail=False)
            if m.members:
                inner = self._body(m.members, m.offset_bits, m.size_bits,
                                   m.type.canonical.startswith("union"))
                text = _declarator(m, "".join(f"    {line}\n" for line in inner))
            else:
                text = _declarator(m)
                if m.size_bits and m.name:
                    self.last = m.name
            lines += (text + ";").splitlines()
            end = m.offset_bits + m.size_bits
            cursor = max(cursor, end)
            prev = m
        if cursor < base + size and prev is not None and is_flexible(prev):
            lines.append(f"/* abiscope: {bytes_text(base + size - cursor)} of tail padding "
                         "follow the flexible array member: no member can declare them */")
        elif cursor < base + size:
            lines += self._pads(base, base + size, None, tail=outer) if union else \
                self._pads(cursor, base + size, prev, tail=outer)
        return lines


def padding_names(record: Record, target: str) -> dict[str | None, str]:
    """The name each explicit padding member gets on ``target``: by the member the hole
    follows, ``None`` for the tail. The fix line and the preview both read it (one name)."""
    return _Padder(record, target).names


def padding_fix(record: Record, target: str) -> dict[str | None, str]:
    """The declarations the preview adds for each hole on ``target`` (by the member the
    hole follows, ``None`` for the tail), as the fix line quotes them."""
    return {k: " ".join(v) for k, v in _Padder(record, target).decls.items()}


def padded_record(record: Record, target: str) -> str:
    """The record as C with every hole and the tail padding explicit on ``target``;
    existing members keep their offsets there (the cli verifies it on every target)."""
    lay = record.layouts[target]
    lines = _Padder(record, target).lines
    attrs = " __attribute__((packed))" if lay.packed else ""
    keyword = record.name if record.name.startswith(("struct ", "union ")) else \
        f"typedef {lay.kind}"
    tail = f" {record.name};" if keyword.startswith("typedef") else ";"
    return f"{keyword} {{\n" + "".join(f"    {line}\n" for line in lines) + f"}}{attrs}{tail}\n"


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
