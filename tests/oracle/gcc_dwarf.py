"""GCC/DWARF layout oracle: compile C with a (cross) gcc and read record layouts back.

Independent of abiscope's layout code (stdlib + pyelftools), so the differential tests
compare abiscope against an independent source of truth: the layouts GCC itself emits into
DWARF for each target ABI. Which gcc checks a target, with which flags, and on which UAPI
tree, is the one thing it reads from abiscope: the target registry's ``Target.checker``
(:mod:`abiscope.targets`, plain data): a target with a checker is tested because it has one.
"""

from __future__ import annotations

import dataclasses
import io
import os
import posixpath
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from elftools.dwarf.die import DIE
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from abiscope.targets import TARGETS, Checker

__all__ = [
    "CHECKERS",
    "GCC_FOR_TARGET",
    "UAPI_DIRS",
    "CompileResult",
    "OracleMember",
    "OracleRecord",
    "compile_layouts",
    "find_gcc",
    "flatten",
    "read_layouts",
    "require_gcc",
    "system_include_dirs",
    "uapi_headers",
]

CHECKERS: dict[str, Checker] = {
    t.name: t.checker for t in TARGETS.values() if t.checker is not None}
GCC_FOR_TARGET: dict[str, str] = {name: c.gcc for name, c in CHECKERS.items()}

_PROBE_PREFIX = "__abiscope_alignof_"
_PROCESS_POOL_MIN_JOBS = 32
_BASE_FLAGS = ("-g", "-fno-eliminate-unused-debug-types", "-c", "-O0", "-ffreestanding")


# --------------------------------------------------------------------------- toolchain


def _checker(target: str) -> Checker:
    try:
        return CHECKERS[target]
    except KeyError:
        known = ", ".join(sorted(CHECKERS))
        raise ValueError(f"unknown target {target!r} (known: {known})") from None


def find_gcc(target: str) -> str | None:
    """Path of the gcc for ``target``, or None if not installed (ValueError if unknown)."""
    return shutil.which(_checker(target).gcc)


def system_include_dirs(target: str) -> list[str]:
    """Existing Linux UAPI/libc header dirs for ``target`` (its ``/usr/<triple>/include``;
    none for a bare-metal target)."""
    return [d for d in _checker(target).uapi if os.path.isdir(d)]


def require_gcc(target: str) -> str:
    """Return the target's gcc for a test; skip if missing (fail instead when CI=true)."""
    import pytest

    gcc = find_gcc(target)
    if gcc is not None:
        return gcc
    checker = _checker(target)
    msg = f"{checker.gcc} not installed (apt-get install {checker.package})"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@cache
def _gcc_include_dir(gcc: str, flags: tuple[str, ...] = ()) -> str:
    out = subprocess.run(
        [gcc, *flags, "-print-file-name=include"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


# Every top-level directory of Linux's exported headers (linux-libc-dev, and each
# libc6-dev-<arch>-cross tree) besides the architecture's ``asm``.
UAPI_DIRS = ("linux", "asm-generic", "drm", "misc", "mtd", "rdma", "scsi", "sound", "video",
             "xen")


def uapi_headers(include_root: str, dirs: tuple[str, ...] = ("linux",)) -> list[str]:
    """Sorted ``linux/…/*.h`` names (relative to ``include_root``) under
    ``include_root/linux``, or under each of ``dirs``."""
    found: list[str] = []
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(os.path.join(include_root, top)):
            dirnames.sort()
            rel = os.path.relpath(dirpath, include_root).replace(os.sep, "/")
            found.extend(f"{rel}/{f}" for f in filenames if f.endswith(".h"))
    return sorted(found)


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class OracleMember:
    """One member as GCC laid it out.

    Offsets are in bits from the start of the outermost named record (like ``offsetof``).
    ``members`` is filled only for anonymous members (``name == ""``) and for members whose
    type is an unnamed (tagless) struct/union; for everything else it is empty.
    """

    name: str
    offset_bits: int
    size_bits: int
    bitfield: bool
    type_name: str
    members: tuple[OracleMember, ...] = ()


@dataclass(frozen=True)
class OracleRecord:
    """A complete struct/union: ``struct TAG``/``union TAG``, or a typedef name if tagless."""

    name: str
    kind: Literal["struct", "union"]
    size: int
    align: int | None
    members: tuple[OracleMember, ...]
    file: str
    line: int


@dataclass(frozen=True)
class CompileResult:
    """Outcome of compiling one source: records by name, probe alignments by spelling."""

    ok: bool
    stderr: str
    records: dict[str, OracleRecord] = field(default_factory=dict)
    aligns: dict[str, int] = field(default_factory=dict)


def flatten(members: Sequence[OracleMember]) -> list[tuple[str, int, int, bool]]:
    """Canonical form compared by the differential tests.

    Depth-first, in declaration order, one ``(path, offset_bits, size_bits, bitfield)`` per
    member. ``path`` joins member names with ``"."``; an anonymous struct/union member is
    its own entry named ``"<anon>"`` and its children follow it (``"<anon>.x"``). Members of
    an unnamed-struct-typed member follow it the same way (``"m.x"``). Offsets are from the
    start of the outermost record. Unnamed bitfields (``int :3;``) never appear.
    """
    out: list[tuple[str, int, int, bool]] = []

    def walk(ms: Sequence[OracleMember], prefix: str) -> None:
        for m in ms:
            path = prefix + (m.name or "<anon>")
            out.append((path, m.offset_bits, m.size_bits, m.bitfield))
            if m.members:
                walk(m.members, path + ".")

    walk(members, "")
    return out


# --------------------------------------------------------------------------- relocation

# Absolute data relocations per e_machine: reloc type -> (width in bytes, sign).  An object
# file's DWARF refers to .debug_str & co. through these; pyelftools only knows some
# machines, so they are applied here (generically: S + A, or S + addend-in-place for REL).
_RELOCS: dict[str, dict[int, tuple[int, int]]] = {
    "EM_386": {1: (4, 1)},  # R_386_32
    "EM_X86_64": {1: (8, 1), 10: (4, 1), 11: (4, 1)},  # R_X86_64_64, _32, _32S
    "EM_ARM": {2: (4, 1)},  # R_ARM_ABS32
    "EM_AARCH64": {257: (8, 1), 258: (4, 1)},  # R_AARCH64_ABS64, ABS32
    # R_RISCV_32, _64, then ADD8..ADD64 (33-36) and SUB8..SUB64 (37-40): label differences
    "EM_RISCV": {
        1: (4, 1),
        2: (8, 1),
        **{33 + i: (1 << i, 1) for i in range(4)},
        **{37 + i: (1 << i, -1) for i in range(4)},
    },
    "EM_PPC": {1: (4, 1)},  # R_PPC_ADDR32
    "EM_PPC64": {1: (4, 1), 38: (8, 1)},  # R_PPC64_ADDR32, ADDR64
    "EM_S390": {4: (4, 1), 22: (8, 1)},  # R_390_32, R_390_64
    "EM_MIPS": {2: (4, 1), 18: (8, 1)},  # R_MIPS_32, R_MIPS_64
    "EM_SPARCV9": {3: (4, 1), 23: (4, 1), 32: (8, 1), 54: (8, 1)},  # R_SPARC_32/UA32/64/UA64
    "EM_SPARC": {3: (4, 1), 23: (4, 1)},
    "EM_68K": {1: (4, 1)},  # R_68K_32
    "EM_AVR": {1: (4, 1)},  # R_AVR_32
    "EM_ALPHA": {1: (4, 1), 2: (8, 1)},  # R_ALPHA_REFLONG, REFQUAD
    "EM_PARISC": {1: (4, 1)},  # R_PARISC_DIR32
    "EM_SH": {1: (4, 1)},  # R_SH_DIR32
    "EM_ARC_COMPACT2": {4: (4, 1)},  # R_ARC_32
    "EM_XTENSA": {1: (4, 1)},  # R_XTENSA_32
}
# e_machine values pyelftools has no name for
_MACHINE_NAMES = {0x9026: "EM_ALPHA"}
_ADDITIVE = {"EM_RISCV"}  # ADD/SUB pairs combine with the value in place
# RELA whose relocations still add the value in place too (binutils: partial_inplace)
_INPLACE_RELA = {"EM_SH", "EM_XTENSA"}
_NEEDED_SECTIONS = (".debug_info", ".debug_line", ".debug_str_offsets")


def _relocate(elf: ELFFile, stream: io.BytesIO) -> None:
    """Apply the DWARF relocations of a relocatable object to ``stream`` (its bytes)."""
    machine = elf["e_machine"]
    machine = _MACHINE_NAMES.get(machine, machine)
    recipes = _RELOCS.get(machine)
    if recipes is None:
        raise NotImplementedError(f"DWARF relocation for {machine} not supported")
    end = "<" if elf.little_endian else ">"
    is64 = elf.elfclass == 64
    mips64el = is64 and machine == "EM_MIPS" and elf.little_endian
    image = stream.getbuffer()
    sections = list(elf.iter_sections())
    sym_values: dict[tuple[int, int], int] = {}
    for sec in sections:
        sh = sec.header
        if sh["sh_type"] not in ("SHT_REL", "SHT_RELA"):
            continue
        target = sections[sh["sh_info"]]
        if target.name not in _NEEDED_SECTIONS:
            continue
        rela = sh["sh_type"] == "SHT_RELA"
        fmt = end + ("QQ" if is64 else "II") + (("q" if is64 else "i") if rela else "")
        symtab = sections[sh["sh_link"]]
        base, limit = target.header["sh_offset"], target.header["sh_size"]
        for entry in struct.iter_unpack(fmt, sec.data()):
            offset, info = entry[0], entry[1]
            addend = entry[2] if rela else 0
            if mips64el:  # r_sym:32 r_ssym:8 r_type3:8 r_type2:8 r_type:8, stored LE
                sym, rtype = info & 0xFFFFFFFF, (info >> 56) & 0xFF
            elif is64:
                sym, rtype = info >> 32, info & (0xFF if machine == "EM_MIPS" else 0xFFFFFFFF)
            else:
                sym, rtype = info >> 8, info & 0xFF
            recipe = recipes.get(rtype)
            if recipe is None or offset >= limit:
                if target.name == ".debug_info":  # elsewhere: line-program addresses, unused
                    raise NotImplementedError(f"{machine} relocation type {rtype} in .debug_info")
                continue
            width, sign = recipe
            key = (sh["sh_link"], sym)
            if key not in sym_values:
                assert isinstance(symtab, SymbolTableSection)
                sym_values[key] = symtab.get_symbol(sym)["st_value"]
            wfmt = end + {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
            pos = base + offset
            (old,) = struct.unpack_from(wfmt, image, pos)
            value = sym_values[key] + addend
            if machine in _ADDITIVE and (sign < 0 or rtype not in (1, 2)):
                value = old + sign * value
            elif not rela or machine in _INPLACE_RELA:
                value += old
            struct.pack_into(wfmt, image, pos, value % (1 << (8 * width)))
    image.release()


# --------------------------------------------------------------------------- DWARF reading

_RECORD_TAGS = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union"}
_QUALIFIERS = {
    "DW_TAG_const_type": "const",
    "DW_TAG_volatile_type": "volatile",
    "DW_TAG_restrict_type": "restrict",
    "DW_TAG_atomic_type": "_Atomic",
}
_TRANSPARENT = {"DW_TAG_typedef", "DW_TAG_packed_type", "DW_TAG_shared_type", *_QUALIFIERS}
_REF_FORMS = {"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata"}
_SCOPES = {"DW_TAG_compile_unit", "DW_TAG_partial_unit", *_RECORD_TAGS}
_DW_OP_PLUS_UCONST = 0x23


def _uleb(data: Sequence[int], pos: int) -> int:
    result = shift = 0
    for byte in data[pos:]:
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    return result


class _Node:
    """A DIE reduced to what layout reading needs."""

    __slots__ = ("attrs", "children", "forms", "parent_tag", "tag")

    def __init__(self, tag: str, attrs: dict[str, Any], forms: dict[str, str], parent: str):
        self.tag = tag
        self.attrs = attrs
        self.forms = forms
        self.parent_tag = parent
        self.children: list[int] = []


class _CUReader:
    """Reads records out of one compile unit in a single pass over its DIEs."""

    def __init__(self, dwarf: Any, cu: Any, little_endian: bool, main: Mapping[str, str]):
        self.little_endian = little_endian
        self.addr_size: int = cu["address_size"]
        self.nodes: dict[int, _Node] = {}
        self.typedef_of: dict[int, str] = {}
        self.typedefs: dict[str, int] = {}
        self._size: dict[int, int] = {}
        self._name: dict[int, str] = {}
        self._files: list[str] | None = None
        self._dwarf, self._cu, self._main = dwarf, cu, main
        cu_off: int = cu.cu_offset
        stack: list[int] = []
        for die, descend in self._walk(dwarf, cu):
            if die.tag is None:
                if stack:
                    stack.pop()
                continue
            attrs: dict[str, Any] = {}
            forms: dict[str, str] = {}
            for name, av in die.attributes.items():
                value = av.value
                if av.form in _REF_FORMS:
                    value += cu_off
                attrs[name] = value
                forms[name] = av.form
            parent = self.nodes[stack[-1]] if stack else None
            node = _Node(die.tag, attrs, forms, parent.tag if parent else "")
            self.nodes[die.offset] = node
            if parent is not None:
                parent.children.append(die.offset)
            if die.tag == "DW_TAG_typedef" and "DW_AT_name" in attrs:
                tname = attrs["DW_AT_name"].decode("utf-8", "replace")
                self.typedefs.setdefault(tname, die.offset)
                if "DW_AT_type" in attrs:
                    self.typedef_of.setdefault(attrs["DW_AT_type"], tname)
            if descend:
                stack.append(die.offset)

    @staticmethod
    def _walk(dwarf: Any, cu: Any) -> Iterator[tuple[Any, bool]]:
        """(DIE, descend) in order, null DIEs included; enumerators are skipped (sibling)."""
        stream = dwarf.debug_info_sec.stream
        pos: int = cu.cu_die_offset
        end: int = cu.cu_offset + cu.size
        while pos < end:
            die = DIE(cu, stream, pos)
            if die.tag == "DW_TAG_enumeration_type" and die.has_children:
                sibling = die.attributes.get("DW_AT_sibling")
                if sibling is not None and sibling.form in _REF_FORMS:
                    yield die, False
                    pos = sibling.value + cu.cu_offset
                    continue
            yield die, bool(die.has_children)
            pos += die.size

    # -- types

    def strip(self, off: int | None, keep_typedefs: bool = False) -> int | None:
        """Follow typedefs/qualifiers (qualifiers only if ``keep_typedefs``)."""
        while off is not None:
            node = self.nodes[off]
            if node.tag not in _TRANSPARENT or (keep_typedefs and node.tag == "DW_TAG_typedef"):
                return off
            off = node.attrs.get("DW_AT_type")
        return None

    def count(self, sub: _Node) -> int | None:
        """Element count of an array subrange; None when unknown (flexible array)."""
        a = sub.attrs
        if isinstance(a.get("DW_AT_count"), int):
            return int(a["DW_AT_count"])
        upper = a.get("DW_AT_upper_bound")
        if not isinstance(upper, int):
            return None
        width = {"DW_FORM_data4": 32, "DW_FORM_data8": 64}.get(sub.forms["DW_AT_upper_bound"])
        if width is not None and upper == (1 << width) - 1:  # -1: an old encoding of [0]
            upper = -1
        lower = a.get("DW_AT_lower_bound", 0)
        return max(upper - (lower if isinstance(lower, int) else 0) + 1, 0)

    def size_bits(self, off: int | None) -> int:
        """Size of a type in bits (0 for void, functions, flexible arrays)."""
        if off is None:
            return 0
        cached = self._size.get(off)
        if cached is not None:
            return cached
        node = self.nodes[off]
        tag, a = node.tag, node.attrs
        if tag in _TRANSPARENT:
            bits = self.size_bits(a.get("DW_AT_type"))
        elif tag == "DW_TAG_array_type":
            bits = self.size_bits(a.get("DW_AT_type"))
            for child in node.children:
                sub = self.nodes[child]
                if sub.tag == "DW_TAG_subrange_type":
                    bits *= self.count(sub) or 0
            if not node.children and isinstance(a.get("DW_AT_byte_size"), int):
                bits = 8 * int(a["DW_AT_byte_size"])
        elif tag in ("DW_TAG_pointer_type", "DW_TAG_reference_type", "DW_TAG_ptr_to_member_type"):
            bits = 8 * int(a.get("DW_AT_byte_size", self.addr_size))
        else:
            size = a.get("DW_AT_byte_size")
            bits = 8 * size if isinstance(size, int) else 0
        self._size[off] = bits
        return bits

    def type_name(self, off: int | None, depth: int = 0) -> str:
        """Readable C spelling of a type (informational only)."""
        if off is None:
            return "void"
        cached = self._name.get(off)
        if cached is not None:
            return cached
        node = self.nodes[off]
        tag, a = node.tag, node.attrs
        name = a["DW_AT_name"].decode("utf-8", "replace") if "DW_AT_name" in a else ""
        inner = a.get("DW_AT_type")
        if depth > 20:
            text = "..."
        elif tag in ("DW_TAG_base_type", "DW_TAG_typedef", "DW_TAG_unspecified_type"):
            text = name
        elif tag in _RECORD_TAGS or tag == "DW_TAG_enumeration_type":
            kw = _RECORD_TAGS.get(tag, "enum")
            text = f"{kw} {name}" if name else f"{kw} {{...}}"
        elif tag in _QUALIFIERS:
            base = self.type_name(inner, depth + 1)
            q = _QUALIFIERS[tag]
            text = f"{base} {q}" if base.endswith("*") else f"{q} {base}"
        elif tag == "DW_TAG_pointer_type":
            target = self.strip(inner, keep_typedefs=True)
            if target is not None and self.nodes[target].tag == "DW_TAG_subroutine_type":
                text = self._fn_name(target, "(*)", depth)
            else:
                base = self.type_name(inner, depth + 1)
                text = base + ("*" if base.endswith("*") else " *")
        elif tag == "DW_TAG_array_type":
            dims = ""
            for child in node.children:
                sub = self.nodes[child]
                if sub.tag == "DW_TAG_subrange_type":
                    n = self.count(sub)
                    dims += f"[{'' if n is None else n}]"
            text = f"{self.type_name(inner, depth + 1)} {dims}"
        elif tag == "DW_TAG_subroutine_type":
            text = self._fn_name(off, "", depth)
        else:
            text = name or tag.removeprefix("DW_TAG_")
        self._name[off] = text
        return text

    def _fn_name(self, off: int, declarator: str, depth: int) -> str:
        node = self.nodes[off]
        params = [
            self.type_name(self.nodes[c].attrs.get("DW_AT_type"), depth + 1)
            for c in node.children
            if self.nodes[c].tag == "DW_TAG_formal_parameter"
        ]
        if any(self.nodes[c].tag == "DW_TAG_unspecified_parameters" for c in node.children):
            params.append("...")
        ret = self.type_name(node.attrs.get("DW_AT_type"), depth + 1)
        return f"{ret} {declarator}({', '.join(params) or 'void'})"

    # -- records

    def members(self, off: int, base_bits: int) -> tuple[OracleMember, ...]:
        """Members of the record at ``off`` with offsets shifted by ``base_bits``."""
        out: list[OracleMember] = []
        union = self.nodes[off].tag == "DW_TAG_union_type"
        for child in self.nodes[off].children:
            node = self.nodes[child]
            if node.tag != "DW_TAG_member":
                continue
            a = node.attrs
            name = a["DW_AT_name"].decode("utf-8", "replace") if "DW_AT_name" in a else ""
            mtype = a.get("DW_AT_type")
            loc = self.location(a.get("DW_AT_data_member_location"))
            bit_size = a.get("DW_AT_bit_size")
            if isinstance(bit_size, int):
                bits = int(bit_size)
                if isinstance(a.get("DW_AT_data_bit_offset"), int):
                    offset = int(a["DW_AT_data_bit_offset"])
                elif isinstance(a.get("DW_AT_bit_offset"), int):  # DWARF 2-4
                    storage = a.get("DW_AT_byte_size")
                    storage_bits = 8 * storage if isinstance(storage, int) else None
                    if storage_bits is None:
                        storage_bits = self.size_bits(mtype)
                    bit_off = int(a["DW_AT_bit_offset"])
                    if union and "DW_AT_data_member_location" not in a:
                        # every union member starts at bit 0; GCC falls back to DWARF 2's
                        # bit_offset where the declared type's unit does not fit the union
                        # (sh4: a long long :1 in a 4-byte union: bit_offset -1, its
                        # negative location omitted)
                        offset = 0
                    elif self.little_endian:
                        offset = 8 * loc + storage_bits - bit_off - bits
                    else:
                        offset = 8 * loc + bit_off
                else:
                    offset = 8 * loc
                bitfield = True
            else:
                offset, bits, bitfield = 8 * loc, self.size_bits(mtype), False
            offset += base_bits
            nested: tuple[OracleMember, ...] = ()
            # anonymous member: any record (even via typedef, -fms-extensions); named member:
            # only a tagless struct/union spelled in place (not through a typedef)
            target = self.strip(mtype, keep_typedefs=bool(name))
            if not bitfield and target is not None:
                tnode = self.nodes[target]
                if tnode.tag in _RECORD_TAGS and (not name or "DW_AT_name" not in tnode.attrs):
                    nested = self.members(target, offset)
            out.append(OracleMember(name, offset, bits, bitfield, self.type_name(mtype), nested))
        return tuple(out)

    @staticmethod
    def location(value: Any) -> int:
        """``DW_AT_data_member_location`` as a byte offset (absent in unions -> 0)."""
        if isinstance(value, int):
            return value
        if isinstance(value, list) and value and value[0] == _DW_OP_PLUS_UCONST:
            return _uleb(value, 1)
        return 0

    def file_name(self, index: Any) -> str:
        """Path of a ``DW_AT_decl_file`` index (main source mapped to its source id)."""
        if self._files is None:
            self._files = []
            prog = self._dwarf.line_program_for_CU(self._cu)
            if prog is not None:
                hdr = prog.header
                legacy = hdr["version"] < 5  # (gas may write v3 tables under a v5 CU)
                dirs = [self._text(d) for d in hdr["include_directory"]]
                comp_dir = self._text(self._cu.get_top_DIE().attributes.get("DW_AT_comp_dir"))
                if legacy:  # index 0 is the compilation dir, file indexes are 1-based
                    dirs.insert(0, comp_dir)
                    self._files.append("")
                for entry in hdr["file_entry"]:
                    name, di = self._text(entry.name), entry.dir_index
                    d = dirs[di] if 0 <= di < len(dirs) else ""
                    path = posixpath.normpath(posixpath.join(comp_dir, d, name))
                    self._files.append(self._main.get(path, path))
        if isinstance(index, int) and 0 <= index < len(self._files):
            return self._files[index]
        return ""

    @staticmethod
    def _text(value: Any) -> str:
        if value is None:
            return ""
        if hasattr(value, "value"):
            value = value.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    def records(self) -> Iterator[OracleRecord]:
        """Every complete named struct/union (tagged or typedef-named) of the unit."""
        for off, node in self.nodes.items():
            kind = _RECORD_TAGS.get(node.tag)
            if kind is None or node.parent_tag not in _SCOPES:
                continue
            a = node.attrs
            size = a.get("DW_AT_byte_size")
            if not isinstance(size, int) or a.get("DW_AT_declaration"):
                continue
            if "DW_AT_name" in a:
                name = f"{kind} {a['DW_AT_name'].decode('utf-8', 'replace')}"
            elif off in self.typedef_of:
                name = self.typedef_of[off]
            else:
                continue
            yield OracleRecord(
                name=name,
                kind="struct" if kind == "struct" else "union",
                size=int(size),
                align=None,
                members=self.members(off, 0),
                file=self.file_name(a.get("DW_AT_decl_file")),
                line=int(a.get("DW_AT_decl_line", 0)),
            )

    def probe(self, typedef: str) -> int | None:
        """Array length behind a probe typedef (``typedef char T[N];``)."""
        off = self.typedefs.get(typedef)
        if off is None:
            return None
        arr = self.nodes[off].attrs.get("DW_AT_type")
        if arr is None or self.nodes[arr].tag != "DW_TAG_array_type":
            return None
        subs = [self.nodes[c] for c in self.nodes[arr].children]
        return self.count(subs[0]) if subs else None


def read_layouts(
    obj: str | bytes,
    *,
    probes: Sequence[str] = (),
    main_files: Mapping[str, str] | None = None,
) -> tuple[dict[str, OracleRecord], dict[str, int]]:
    """Records and probe alignments from an object file (path or bytes).

    ``probes[i]`` is the spelling whose ``_Alignof`` is in typedef ``__abiscope_alignof_<i>``.
    ``main_files`` maps source paths to the names reported in ``OracleRecord.file``.
    """
    if isinstance(obj, str):
        with open(obj, "rb") as fh:
            obj = fh.read()
    stream = io.BytesIO(obj)
    elf = ELFFile(stream)
    if elf["e_type"] == "ET_REL":
        _relocate(elf, stream)
    records: dict[str, OracleRecord] = {}
    aligns: dict[str, int] = {}
    if not elf.has_dwarf_info():
        return records, aligns
    dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
    for cu in dwarf.iter_CUs():
        reader = _CUReader(dwarf, cu, elf.little_endian, main_files or {})
        for rec in reader.records():
            records.setdefault(rec.name, rec)  # same name, other layout: keep the first
        for i, spelling in enumerate(probes):
            value = reader.probe(f"{_PROBE_PREFIX}{i}")
            if value is not None:
                aligns.setdefault(spelling, value)
    for spelling, value in aligns.items():
        found = records.get(spelling)
        if found is not None:
            records[spelling] = dataclasses.replace(found, align=value)
    return records, aligns


# --------------------------------------------------------------------------- compiling


@dataclass(frozen=True)
class _Job:
    source_id: str
    text: str
    probes: tuple[str, ...]
    argv: tuple[str, ...]
    src: str
    obj: str
    to_elf: tuple[str, ...] = ()  # objcopy argv making a COFF object ELF (MinGW)


_ERROR_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?:fatal )?error:", re.M)


def _probe_source(text: str, probes: Sequence[str | None]) -> tuple[str, int]:
    """Source with the probe typedefs appended, and the line number of probe 0."""
    body = text if text.endswith("\n") or not text else text + "\n"
    first = body.count("\n") + 2
    lines = [
        f"typedef char {_PROBE_PREFIX}{i}[_Alignof({p})];" if p is not None else ""
        for i, p in enumerate(probes)
    ]
    return body + "\n" + "\n".join(lines) + "\n", first


def _run_gcc(job: _Job, text: str) -> subprocess.CompletedProcess[str]:
    with open(job.src, "w", encoding="utf-8") as fh:
        fh.write(text)
    return subprocess.run(
        [*job.argv, "-o", job.obj, job.src], capture_output=True, text=True, check=False
    )


def _compile(job: _Job) -> tuple[bool, str, tuple[str | None, ...]]:
    """Compile ``job``; probes that do not compile are dropped (and retried without)."""
    probes: tuple[str | None, ...] = job.probes
    text, first = _probe_source(job.text, probes)
    proc = _run_gcc(job, text)
    if proc.returncode == 0 or not probes:
        return proc.returncode == 0, proc.stderr, probes
    stderr = proc.stderr
    bad = {
        int(m["line"]) - first
        for m in _ERROR_LINE.finditer(stderr)
        if os.path.basename(m["file"]) == os.path.basename(job.src)
    }
    if bad and min(bad) >= 0:
        probes = tuple(None if i in bad else p for i, p in enumerate(probes))
        proc = _run_gcc(job, _probe_source(job.text, probes)[0])
        if proc.returncode == 0:
            return True, stderr, probes
    proc = _run_gcc(job, job.text)
    return proc.returncode == 0, stderr if proc.returncode == 0 else proc.stderr, ()


def _build(job: _Job) -> CompileResult:
    ok, stderr, probes = _compile(job)
    if not ok:
        return CompileResult(False, stderr)
    if job.to_elf:  # (DWARF in a PE/COFF object: binutils rewrites it as ELF, relocations too)
        subprocess.run([*job.to_elf, job.obj], capture_output=True, check=True)
    names = [p if p is not None else "" for p in probes]
    records, aligns = read_layouts(job.obj, probes=names, main_files={job.src: job.source_id})
    aligns.pop("", None)
    return CompileResult(True, stderr, records, aligns)


def compile_layouts(
    sources: Mapping[str, str],
    target: str,
    *,
    include_dirs: Sequence[str] = (),
    defines: Sequence[str] = (),
    align_probes: Mapping[str, Sequence[str]] | None = None,
    extra_flags: Sequence[str] = (),
    jobs: int | None = None,
    workdir: str | None = None,
) -> dict[str, CompileResult]:
    """Compile each C source (id -> text) with the target's gcc and read its layouts.

    Hermetic: ``-nostdinc`` plus gcc's own include dir; headers come only from
    ``include_dirs`` (``-isystem``). ``align_probes[id]`` lists C type spellings whose
    ``_Alignof`` is measured (``aligns``, and ``OracleRecord.align`` when the spelling is a
    record name). A probe that does not compile is dropped (its error stays in ``stderr``)
    and the source is compiled again without it. Objects go to ``workdir`` if given (kept),
    else to a temporary directory.
    """
    gcc = find_gcc(target)
    if gcc is None:
        raise FileNotFoundError(f"{GCC_FOR_TARGET[target]} not installed")
    flags = _checker(target).flags  # (what selects the target's ABI: -m32, -mmcu=...)
    argv = [gcc, *_BASE_FLAGS, "-nostdinc", "-isystem", _gcc_include_dir(gcc, flags),
            "-std=gnu11", "-w", *flags]
    for d in [*include_dirs, *_checker(target).libc]:
        argv += ["-isystem", d]
    argv += [f"-D{d}" for d in defines]
    argv += list(extra_flags)
    probes = align_probes or {}
    to_elf = (gcc.removesuffix("gcc") + "objcopy", "-O", _checker(target).elf_format) \
        if _checker(target).elf_format else ()
    with tempfile.TemporaryDirectory(prefix="abiscope-oracle-") as tmp:
        out_dir = workdir or tmp
        os.makedirs(out_dir, exist_ok=True)
        work = [
            _Job(
                source_id=sid,
                text=text,
                probes=tuple(probes.get(sid, ())),
                argv=tuple(argv),
                src=os.path.join(out_dir, f"src{i:05d}.c"),
                obj=os.path.join(out_dir, f"src{i:05d}.o"),
                to_elf=to_elf,
            )
            for i, (sid, text) in enumerate(sources.items())
        ]
        workers = max(1, min(jobs or os.cpu_count() or 1, len(work)))
        results = _run_all(work, workers)
    return {job.source_id: res for job, res in zip(work, results, strict=True)}


def _run_all(work: list[_Job], workers: int) -> list[CompileResult]:
    """Compile+read every job: worker processes for big batches, threads otherwise.

    Reading DWARF is pure Python (GIL-bound); on 2 cores processes beat threads by ~15%
    on the UAPI corpus, while a process pool's start-up dominates small batches. Forking a
    multi-threaded process (e.g. a pytest-xdist worker) risks deadlocks: threads then.
    """
    if workers > 1 and len(work) >= _PROCESS_POOL_MIN_JOBS and threading.active_count() == 1:
        try:
            with ProcessPoolExecutor(workers) as procs:
                return list(procs.map(_build, work, chunksize=4))
        except (OSError, NotImplementedError, BrokenProcessPool):
            pass  # no usable multiprocessing here (e.g. no /dev/shm): use threads
    with ThreadPoolExecutor(workers) as threads:
        return list(threads.map(_build, work))
