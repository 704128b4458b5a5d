"""Compare abiscope's layouts with GCC's DWARF, in bulk: one compile per (source, target).

Both sides are reduced to the oracle's canonical form (``oracle.gcc_dwarf.flatten``):
declaration-ordered ``(path, offset_bits, size_bits, bitfield)`` plus record size and
alignment (from ``_Alignof`` probes compiled into the same object).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from abiscope.model import Model, Record
from oracle.gcc_dwarf import CompileResult, OracleRecord, compile_layouts, flatten

_COMPILER_HEADER = "native/resource/include/"  # clang's builtin headers inside the wheel


# What clang 22 refuses and GCC 12 compiles in generated programs: an array of an atomic
# record type whose size is not a multiple of the alignment clang gives the atomic type
# (clang aligns `_Atomic(T)` to T's size rounded up to a power of two; GCC keeps T's own
# alignment for an array's element). The header then fails to parse on that target, as
# README's "Known limitations" says of types clang does not parse; nothing to compare.
CLANG_REFUSES = ("isn't a multiple of its alignment",)

# Targets whose layouts are known not to equal their gcc's on every generated program or
# corpus (README "Known limitations"): MinGW (no engine model; clang's packed and union
# bit-field and _Atomic rules are not its gcc's) and avr (one _Atomic construct; its gcc
# refuses int bit-fields wider than 16 bits). Their differential slices are
# test_differential_generated's and test_differential_constructs', which leave the known
# features out (counted) or mark them xfail; whole-corpus and whole-fuzzer runs leave them
# out, and bench/fuzz_layout.py --target measures them.
INEXACT_TARGETS = ("mingw32", "mingw64", "avr")


def clang_refuses(exc: Exception) -> bool:
    """Whether ``exc`` (a parse's InputError) is one of :data:`CLANG_REFUSES`."""
    return any(s in str(exc) for s in CLANG_REFUSES)


@dataclass
class Tally:
    """What a differential run compared, and every disagreement, human-readable."""

    records: int = 0
    members: int = 0
    mismatches: list[str] = field(default_factory=list)
    # programs not compared: the target's gcc refuses them (avr: a 20-bit int bit-field),
    # or clang is known to differ there (test_differential_generated.CLANG_DIFFERS)
    refused: int = 0

    def add(self, other: Tally) -> None:
        self.records += other.records
        self.members += other.members
        self.mismatches += other.mismatches
        self.refused += other.refused


def compare_record(target: str, ours: Record, theirs: OracleRecord, where: str) -> Tally:
    tally = Tally(records=1)
    lay = ours.layouts[target]
    label = f"[{target}] {ours.name} ({where})"
    if (lay.size, lay.kind) != (theirs.size, theirs.kind):
        tally.mismatches.append(
            f"{label}: size/kind abiscope {lay.size}/{lay.kind}, gcc {theirs.size}/{theirs.kind}")
    if theirs.align is not None and lay.align != theirs.align:
        tally.mismatches.append(f"{label}: align abiscope {lay.align}, gcc {theirs.align}")
    elif theirs.align is None:
        tally.mismatches.append(f"{label}: gcc alignment probe missing")
    # Member and OracleMember share the fields flatten reads: one canonical form for both.
    a, b = flatten(lay.members), flatten(theirs.members)
    tally.members += len(a)
    if a != b:
        diff = [f"{x} != {y}" for x, y in zip(a, b, strict=False) if x != y][:3]
        tally.mismatches.append(
            f"{label}: members differ ({len(a)} vs {len(b)}): {'; '.join(diff)}")
    return tally


def compare_model(model: Model, target: str, oracle: Mapping[str, OracleRecord],
                  where: str, names: Iterable[str] | None = None) -> Tally:
    """Every record of the model on ``target`` (or the named ones) against gcc's."""
    tally = Tally()
    wanted = set(names) if names is not None else None
    for rec in model.records:
        if target not in rec.layouts or (wanted is not None and rec.name not in wanted):
            continue
        if _COMPILER_HEADER in rec.location.file:
            continue  # max_align_t & co.: each compiler's own stddef.h, member names differ
        theirs = oracle.get(rec.name)
        if theirs is None:
            tally.mismatches.append(f"[{target}] {rec.name} ({where}): not in gcc's DWARF")
            continue
        tally.add(compare_record(target, rec, theirs, where))
    return tally


def gcc_layouts(sources: Mapping[str, str], target: str, probes: Mapping[str, Sequence[str]],
                include_dirs: Sequence[str] = (), defines: Sequence[str] = (),
                extra_flags: Sequence[str] = ()) -> dict[str, CompileResult]:
    """The oracle, with alignment probes for the records abiscope found."""
    return compile_layouts(sources, target, include_dirs=include_dirs, defines=defines,
                           align_probes=probes, extra_flags=extra_flags)


def probes_for(model: Model, target: str) -> list[str]:
    return [r.name for r in model.records if target in r.layouts]


# The targets the full Linux UAPI corpus is compared on in the suite (those before issue
# 29); a target added since gets every UAPI_STRIDE-th header there, bounding CI time, and
# the whole corpus with ABISCOPE_FULL_UAPI=1 (the closing note's figures).
FULL_UAPI_TARGETS = ("i386", "x86_64", "x32", "arm", "aarch64", "riscv32", "riscv64", "ppc",
                     "ppc64", "ppc64le", "s390x", "mips", "mips64", "sparc64", "loongarch64",
                     "m68k")
UAPI_STRIDE = 8


def uapi_slice(target: str, names: Sequence[str]) -> list[str]:
    """The UAPI headers ``target`` is compared on in the suite (see FULL_UAPI_TARGETS)."""
    import os

    if target in FULL_UAPI_TARGETS or os.environ.get("ABISCOPE_FULL_UAPI") == "1":
        return list(names)
    return list(names[::UAPI_STRIDE])
