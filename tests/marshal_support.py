"""Helpers for the marshal tests: random member values from a record's layout, the same
values as a C designated initialiser, and the bytes gcc gives them (run, or read from .data).

Independent of abiscope.marshal: values are generated from the model's layout alone and
written as C source, so gcc, not marshal, decides the bytes.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from abiscope.model import CType, Member, Model, Record

# --------------------------------------------------------------------------- values


class Gen:
    """Draws values that fit a record on a target, from the model's layout."""

    def __init__(self, rng: random.Random, model: Model, target: str,
                 char_signed_range: bool = False) -> None:
        self.rng = rng
        self.model = model
        self.target = target
        self.portable_chars = char_signed_range

    def record(self, record: Record) -> dict[str, Any]:
        lay = record.layouts[self.target]
        return self.members(lay.members, lay.kind == "union")

    def members(self, members: Sequence[Member], union: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        chosen = [self.rng.choice(members)] if union and members else members
        for m in chosen:
            if not m.name:
                out.update(self.members(m.members, m.type.canonical.startswith("union")))
            elif m.bitfield:
                out[m.name] = self.leaf(m.type, m.bit_width or 0)
            elif m.type.kind == "record" and m.members:
                out[m.name] = self.members(m.members, m.type.canonical.startswith("union"))
            else:
                value = self.value(m.type)
                if value is not None:
                    out[m.name] = value
        return out

    def value(self, t: CType) -> Any:
        if t.kind == "record":
            assert t.record
            rec = self.model.record(t.record)
            assert rec is not None, t.record
            return self.record(rec)
        if t.kind == "array":
            if None in t.dims:
                return None
            assert t.element is not None
            return self.array(t.dims, t.element)
        return self.leaf(t, (t.size or 0) * 8)

    def array(self, dims: tuple[int | None, ...], element: CType) -> list[Any]:
        n = dims[0] or 0
        if len(dims) > 1:
            return [self.array(dims[1:], element) for _ in range(n)]
        return [self.value(element) for _ in range(n)]

    def int_in(self, lo: int, hi: int) -> int:
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice([lo, hi, 0, min(max(lo, -1), hi), min(1, hi)])
        return self.rng.randint(lo, hi)

    def leaf(self, t: CType, width: int) -> Any:
        if t.kind == "bool":
            return self.rng.random() < 0.5
        if t.kind == "pointer":
            return self.int_in(0, (1 << width) - 1)
        if t.kind == "float":
            if (t.size or 0) == 4:
                import struct
                bits = self.rng.getrandbits(32)
                if (bits >> 23) & 0xFF == 0xFF:
                    bits &= ~(1 << 30)
                value: float = struct.unpack("<f", bits.to_bytes(4, "little"))[0]
                return value
            import struct
            bits = self.rng.getrandbits(64)
            if (bits >> 52) & 0x7FF == 0x7FF:
                bits &= ~(1 << 62)
            return float(struct.unpack("<d", bits.to_bytes(8, "little"))[0])
        if t.kind == "enum":
            enum = next(e for e in self.model.enums if e.name == t.record)
            el = enum.layouts[self.target]
            if self.rng.random() < 0.5 and el.constants:
                c = self.rng.choice(el.constants)
                lo, hi = _range(el.signed, width)
                if lo <= c.value <= hi:
                    return c.value
            lo, hi = _range(el.signed, width)
            return self.int_in(lo, hi)
        assert t.kind == "int", t
        signed = bool(t.signed)
        if self.portable_chars and t.canonical == "char":
            return self.int_in(0, 127)
        lo, hi = _range(signed, width)
        return self.int_in(lo, hi)


def _range(signed: bool, width: int) -> tuple[int, int]:
    if signed:
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


# --------------------------------------------------------------------------- C source


def _c_int(v: int) -> str:
    return f"{v}ULL" if v >= 0 else f"(-{-v - 1}LL-1)"


class CInit:
    """Writes values as a C designated initialiser for a record on a target."""

    def __init__(self, model: Model, target: str) -> None:
        self.model = model
        self.target = target

    def record(self, record: Record, values: Mapping[str, Any]) -> str:
        return self.members(record.layouts[self.target].members, values)

    def members(self, members: Sequence[Member], values: Mapping[str, Any]) -> str:
        return "{ " + ", ".join(self.fields(members, values)) + " }"

    def fields(self, members: Sequence[Member], values: Mapping[str, Any]) -> list[str]:
        parts: list[str] = []
        for m in members:
            if not m.name:
                parts.extend(self.fields(m.members, values))
            elif m.name in values:
                v = values[m.name]
                if m.type.kind == "record" and m.members:
                    parts.append(f".{m.name} = {self.members(m.members, v)}")
                else:
                    parts.append(f".{m.name} = {self.value(m.type, v)}")
        return parts

    def value(self, t: CType, v: Any) -> str:
        if t.kind == "record":
            assert t.record
            rec = self.model.record(t.record)
            assert rec is not None
            return self.record(rec, v)
        if t.kind == "array":
            assert t.element is not None
            return self.array(t.dims, t.element, v)
        return self.leaf(t, v)

    def array(self, dims: tuple[int | None, ...], element: CType, v: Sequence[Any]) -> str:
        if len(dims) > 1:
            items = [self.array(dims[1:], element, x) for x in v]
        else:
            items = [self.value(element, x) for x in v]
        return "{ " + ", ".join(f"[{i}] = {x}" for i, x in enumerate(items)) + " }"

    def leaf(self, t: CType, v: Any) -> str:
        if t.kind == "bool":
            return "1" if v else "0"
        if t.kind == "pointer":
            return f"(void *)(__UINTPTR_TYPE__){v}ULL"
        if t.kind == "float":
            suffix = "f" if t.size == 4 else "L" if t.canonical == "long double" else ""
            return f"{float(v).hex()}{suffix}"
        return _c_int(int(v))


# --------------------------------------------------------------------------- gcc bytes


def c_source(includes: Sequence[str], objects: Sequence[tuple[str, str, str]],
             with_main: bool) -> str:
    """Globals ``name`` of type ``ctype`` = ``init``, and a main that prints their bytes."""
    lines = [f'#include "{h}"' if not h.startswith("<") else f"#include {h}"
             for h in includes]
    if with_main:
        lines.insert(0, "#include <stdio.h>")
    for name, ctype, init in objects:
        lines.append(f"__attribute__((used)) {ctype} {name} = {init};")
    if with_main:
        lines.append("static void dump(const char *n, const void *p, unsigned long size) {")
        lines.append("    const unsigned char *b = p; printf(\"%s \", n);")
        lines.append("    for (unsigned long i = 0; i < size; i++) printf(\"%02x\", b[i]);")
        lines.append("    printf(\"\\n\"); }")
        lines.append("int main(void) {")
        for name, _, _ in objects:
            lines.append(f"    dump(\"{name}\", &{name}, sizeof {name});")
        lines.append("    return 0; }")
    return "\n".join(lines) + "\n"


def run_program(gcc: str, source: str, workdir: Path, flags: Sequence[str],
                static: bool) -> dict[str, bytes]:
    """Compile and run ``source``; the bytes it prints per global."""
    src = workdir / "prog.c"
    exe = workdir / "prog"
    src.write_text(source)
    cmd = [gcc, "-O0", "-w", *flags, "-o", str(exe), str(src)]
    if static:
        cmd.insert(1, "-static")
    _compile(cmd)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    result: dict[str, bytes] = {}
    for line in out.splitlines():
        name, _, hexbytes = line.partition(" ")
        result[name] = bytes.fromhex(hexbytes)
    return result


def object_bytes(gcc: str, source: str, workdir: Path,
                 flags: Sequence[str]) -> dict[str, bytes]:
    """Compile ``source`` to an object and read each global's initial bytes from it."""
    src = workdir / "obj.c"
    obj = workdir / "obj.o"
    src.write_text(source)
    _compile([gcc, "-O0", "-w", "-c", *flags, "-o", str(obj), str(src)])
    result: dict[str, bytes] = {}
    with open(obj, "rb") as fh:
        elf = ELFFile(fh)
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        rel_sections = {s.name for s in elf.iter_sections() if s.name.startswith(".rel")}
        assert not any(".data" in n for n in rel_sections), rel_sections
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] != "STT_OBJECT" or not isinstance(sym["st_shndx"], int):
                continue
            sec = elf.get_section(sym["st_shndx"])
            size = sym["st_size"]
            if sec["sh_type"] == "SHT_NOBITS":
                result[sym.name] = bytes(size)
            else:
                start = sym["st_value"]
                result[sym.name] = sec.data()[start:start + size]
    return result


def _compile(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    if proc.returncode:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
