"""rustc against GCC: lay out what ``gen rust`` writes with rustc (tests/oracle/rustc_layout)
and compare every record's size, alignment and field offsets with GCC's DWARF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from abiscope.codegen.rust import RUST_KEYWORDS, generate_rust, rust_ident
from abiscope.codegen.rust_layout import RUST_TARGETS
from abiscope.model import Model
from oracle.gcc_dwarf import OracleMember, OracleRecord
from oracle.rustc_layout import RustcLayout, rustc_layouts


@dataclass
class RustTally:
    records: int = 0
    fields: int = 0
    refused: int = 0
    mismatches: list[str] = field(default_factory=list)

    def add(self, other: RustTally) -> None:
        self.records += other.records
        self.fields += other.fields
        self.refused += other.refused
        self.mismatches += other.mismatches


def _plain(name: str) -> str:
    return name.removeprefix("r#")


def gcc_paths(members: Sequence[OracleMember], prefix: str = "") -> dict[str, int]:
    """GCC's members as ``gen rust`` names them: offset (bytes) of every named non-bitfield
    member and anonymous member (``__bindgen_anon_N``, counted per level)."""
    out: dict[str, int] = {}
    anon = 0
    for m in members:
        if m.bitfield:
            continue
        if not m.name:
            if not m.members:
                continue
            anon += 1
            name = f"__bindgen_anon_{anon}"
        else:
            name = rust_ident(m.name).removeprefix("r#")
        path = prefix + name
        out[path] = m.offset_bits // 8
        if m.members:
            out.update(gcc_paths(m.members, path + "."))
    return out


def rust_paths(layouts: Mapping[str, RustcLayout], name: str, base: int = 0,
               prefix: str = "") -> dict[str, int]:
    """rustc's offsets of the same paths (padding and bitfield storage left out)."""
    out: dict[str, int] = {}
    lay = layouts[name]
    for (fname, off), ftype in zip(lay.fields, lay.types, strict=True):
        if fname.startswith(("__pad_", "_bitfield_")):
            continue
        path = prefix + fname
        out[path] = base + off
        nested = ftype.removeprefix("r#")
        if "__bindgen_ty_" in nested and nested in layouts:
            out.update(rust_paths(layouts, nested, base + off, path + "."))
    return out


def compare_rust(model: Model, target: str, gcc: Mapping[str, OracleRecord], where: str,
                 plain: bool = False) -> RustTally:
    """Generate Rust for every record of ``model`` on ``target``, lay it out with rustc for
    the target's Rust triple, compare with GCC. ``plain``: uncorrected repr(C) mirrors."""
    tally = RustTally()
    records = [r for r in model.records if target in r.layouts]
    gen = generate_rust(model, records, layout_only=True, ffi="crate::ffi", plain=plain)
    tally.refused = sum(1 for _, t, _ in gen.refused if t == target)
    refused = {r for r, t, _ in gen.refused if t == target}
    body = "\n".join(line for line in gen.text.split("\n") if not line.startswith("//"))
    got, stderr = rustc_layouts(body, RUST_TARGETS[target].triple)
    wanted = [r for r in records if r.name in gcc and r.name not in refused
              and _plain(r.name.split(" ")[-1]) in got]
    if records and not got and len(refused) < len(records):
        tally.mismatches.append(f"{where} {target}: rustc laid nothing out:\n{stderr[:3000]}")
        return tally
    for rec in wanted:
        theirs = gcc[rec.name]
        name = _plain(rec.name.split(" ")[-1])
        ours = got[name]
        tally.records += 1
        if ours.size != theirs.size or (theirs.align is not None and ours.align != theirs.align):
            tally.mismatches.append(
                f"{where} {target} {rec.name}: rustc size {ours.size} align {ours.align}, "
                f"gcc size {theirs.size} align {theirs.align}")
        want = gcc_paths(theirs.members)
        have = rust_paths(got, name)
        for path, off in want.items():
            rpath = ".".join(f"{p}" for p in path.split("."))
            tally.fields += 1
            if have.get(rpath) != off:
                tally.mismatches.append(
                    f"{where} {target} {rec.name}.{path}: rustc offset {have.get(rpath)}, "
                    f"gcc {off}")
    return tally


__all__ = ["RUST_KEYWORDS", "RustTally", "compare_rust", "gcc_paths", "rust_paths"]
