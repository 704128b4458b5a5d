"""GCC oracle for functions: the symbol each function binds to and the sizes of its
return and parameter types, as a (cross) gcc sees them.

A probe program takes every function's address, each into a section of its own: the
relocation of that section names the symbol GCC calls (an asm label's, ``stat`` ->
``__stat64_time64``), and GCC's DWARF declares every function whose address is taken
(DW_TAG_subprogram with its formal parameters, array parameters already decayed). Like
:mod:`gcc_dwarf`, it does not import abiscope.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from elftools.dwarf.die import DIE
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from .gcc_dwarf import _relocate, require_gcc

_SECTION = ".data.abiscope_fn_"
_QUALIFIERS = ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type",
               "DW_TAG_restrict_type", "DW_TAG_atomic_type")


@dataclass(frozen=True)
class GccType:
    size: int | None  # None: void or incomplete
    pointee_size: int | None = None  # of a pointer to an object type of known size


@dataclass(frozen=True)
class GccFunction:
    name: str
    symbol: str
    returns: GccType
    params: tuple[GccType, ...]


def _strip(die: DIE | None) -> DIE | None:
    while die is not None and die.tag in _QUALIFIERS:
        die = die.get_DIE_from_attribute("DW_AT_type") if "DW_AT_type" in die.attributes \
            else None
    return die


def _size(die: DIE | None) -> int | None:
    die = _strip(die)
    if die is None or die.tag == "DW_TAG_subroutine_type":
        return None
    if "DW_AT_byte_size" in die.attributes:
        return int(die.attributes["DW_AT_byte_size"].value)
    if die.tag == "DW_TAG_array_type":
        element = _size(die.get_DIE_from_attribute("DW_AT_type"))
        if element is None:
            return None
        for sub in die.iter_children():
            if sub.tag != "DW_TAG_subrange_type":
                continue
            if "DW_AT_count" in sub.attributes:
                element *= int(sub.attributes["DW_AT_count"].value)
            elif "DW_AT_upper_bound" in sub.attributes:
                element *= int(sub.attributes["DW_AT_upper_bound"].value) + 1
            else:
                return None
        return element
    return None


def _type(die: DIE | None) -> GccType:
    core = _strip(die)
    if core is not None and core.tag == "DW_TAG_pointer_type":
        target = core.get_DIE_from_attribute("DW_AT_type") if "DW_AT_type" in core.attributes \
            else None
        return GccType(_size(core), _size(target))
    return GccType(_size(core))


_UNDECLARED = re.compile(r"[\u2018'`](\w+)[\u2019'] undeclared")  # (gcc quotes per locale)


def gcc_functions(target: str, include: str, names: Sequence[str],
                  defines: Sequence[str] = (), include_dirs: Sequence[str] = ()
                  ) -> dict[str, GccFunction]:
    """Every function of ``names`` as the target's gcc compiles a file that includes
    ``include`` (text of ``#include`` lines) and takes their addresses; a name gcc finds
    undeclared (a header that declares it only for some compilers: glibc's pthread.h
    declares ``__sigsetjmp`` only before GCC 11) is left out, the others probed again."""
    names = list(names)
    for _ in range(10):
        try:
            return _probe(target, include, names, defines, include_dirs)
        except _Undeclared as exc:
            names = [n for n in names if n not in exc.names]
    return _probe(target, include, names, defines, include_dirs)


class _Undeclared(Exception):
    def __init__(self, names: set[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names


def _probe(target: str, include: str, names: Sequence[str], defines: Sequence[str],
           include_dirs: Sequence[str]) -> dict[str, GccFunction]:
    gcc = require_gcc(target)
    probe = include + "".join(
        f'__attribute__((used, section("{_SECTION}{i}"))) static void *abiscope_fn_{i} = '
        f"(void *)&{name};\n" for i, name in enumerate(names))
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe.o")
        with open(src, "w") as fh:
            fh.write(probe)
        run = subprocess.run([gcc, "-c", "-g", "-O0", "-w", *defines,
                              *(f"-I{d}" for d in include_dirs), src, "-o", obj],
                             capture_output=True, text=True, check=False)
        if run.returncode:
            undeclared = set(_UNDECLARED.findall(run.stderr)) & set(names)
            if undeclared:
                raise _Undeclared(undeclared)
            raise RuntimeError(f"{gcc} failed on the probe:\n{run.stderr[-3000:]}")
        with open(obj, "rb") as fh:
            stream = io.BytesIO(fh.read())
        elf = ELFFile(stream)
        _relocate(elf, stream)  # (the DWARF relocations pyelftools lacks: ppc, riscv, m68k)
        symtab = elf.get_section_by_name(".symtab")
        symbols: dict[int, str] = {}
        for section in elf.iter_sections():
            if isinstance(section, RelocationSection) and _SECTION in section.name:
                index = int(section.name.rsplit("_", 1)[1])
                for rel in section.iter_relocations():
                    symbols[index] = symtab.get_symbol(rel["r_info_sym"]).name
        declared: dict[str, DIE] = {}
        for cu in elf.get_dwarf_info(relocate_dwarf_sections=False).iter_CUs():
            for die in cu.get_top_DIE().iter_children():
                if die.tag == "DW_TAG_subprogram" and "DW_AT_name" in die.attributes:
                    declared.setdefault(die.attributes["DW_AT_name"].value.decode(), die)
        out = {}
        for i, name in enumerate(names):
            die = declared.get(name)
            if die is None or i not in symbols:
                continue
            ret = _type(die.get_DIE_from_attribute("DW_AT_type")) \
                if "DW_AT_type" in die.attributes else GccType(None)
            params = tuple(_type(p.get_DIE_from_attribute("DW_AT_type"))
                           for p in die.iter_children()
                           if p.tag == "DW_TAG_formal_parameter")
            out[name] = GccFunction(name, symbols[i], ret, params)
    return out
