"""Constructs of ABI headers, laid out by abiscope and by every Debian gcc: identical.

``tests/data/constructs/abi_constructs.h`` holds what interface headers write beyond plain
members: packed enums and enum bitfields, ``_Complex`` and ``long double``, zero-size
structs and zero-length or flexible arrays, a transparent union, ``mode(DI)``, bitfield
corner cases (zero-width, ``_Bool``, ``long long`` on 32-bit targets), ``#pragma pack``
with aligned and packed records. One compile per target, every record compared.

``stdint_types.h`` holds every type of ``<stdint.h>`` and ``<stddef.h>`` (clang's own,
freestanding; abiscope gives the Linux targets GCC's fast types) and their limits.

``vectors.h``: vector members are placed as GCC places them on every target (i386's 8-byte
integer vectors by the layout engine, where clang differs); the alignment GCC's ``_Alignof``
reports for a vector above ``BIGGEST_ALIGNMENT`` is the one difference left, and the test
pins it (README "Known limitations"). (Where abiscope follows GCC over clang:
``tests/test_gcc_over_clang.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.datamodels import MODELS
from abiscope.model import Record
from abiscope.targets import TARGETS
from conftest import skip_or_fail
from differential import Tally, compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import CHECKERS, GCC_FOR_TARGET, find_gcc

DATA = Path(__file__).parent / "data" / "constructs"
GCC_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available]
# the Linux ones (GCC's and glibc's integer types; a bare-metal target's <stdint.h> is
# clang's, whose fast types are the least ones: not newlib's or picolibc's, README)
LINUX_GCC = [t for t in GCC_TARGETS if CHECKERS[t].uapi]
# the corpus's int bit-fields are wider than avr's 16-bit int; MinGW: a union of bit-fields
# (u1) is aligned by clang's -mms-bitfields rules, not gcc's (README, Known limitations)
CONSTRUCT_TARGETS = [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason="MinGW union bit-fields"))
    if t.startswith("mingw") else t for t in GCC_TARGETS if t != "avr"]


def _compare(header: Path, target: str) -> tuple[Tally, frontend.Model]:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    model = frontend.parse([str(header)], [TARGETS[target]],
                           frontend.ParseOptions(system_dirs=False), jobs=1)
    gcc = gcc_layouts({"h": header.read_text()}, target, {"h": probes_for(model, target)})["h"]
    assert gcc.ok, gcc.stderr
    return compare_model(model, target, gcc.records, header.name), model


@pytest.mark.parametrize("target", CONSTRUCT_TARGETS)
def test_abi_constructs_match_gcc(target: str) -> None:
    tally, model = _compare(DATA / "abi_constructs.h", target)
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == 35


@pytest.mark.parametrize("target", LINUX_GCC)
def test_stdint_types_match_gcc(target: str) -> None:
    """``int_fast16_t`` & co.: clang's ``<stdint.h>`` makes them short and int, GCC's long
    (LP64) or int; abiscope's Linux targets take GCC's (``data/gnu-include/stdint.h``)."""
    tally, model = _compare(DATA / "stdint_types.h", target)
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == 6


@pytest.mark.parametrize("target", LINUX_GCC)
def test_predefined_type_macros_match_gcc(target: str) -> None:
    """``__INT_FAST16_TYPE__`` & co. written directly, with their limits and widths in
    array sizes and an ``#if``: GCC's on the Linux targets, as its ``<stdint.h>`` types."""
    tally, model = _compare(DATA / "predefined_types.h", target)
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == 5


def test_a_forced_stdint_gives_gccs_fast_types_too(tmp_path: Path) -> None:
    """``--include stdint.h`` resolves to abiscope's header by its path; it still reaches
    clang's (its ``#include_next`` then searches from the start and finds itself first)."""
    body = "struct f { int_fast16_t a; uint_fast32_t b; };\n"
    (tmp_path / "own.h").write_text("#include <stdint.h>\n" + body)
    (tmp_path / "bare.h").write_text(body)
    targets = [TARGETS["x86_64"], TARGETS["i386"]]
    own = frontend.parse([str(tmp_path / "own.h")], targets,
                         frontend.ParseOptions(system_dirs=False), jobs=1)
    forced = frontend.parse([str(tmp_path / "bare.h")], targets,
                            frontend.ParseOptions(system_dirs=False,
                                                  force_includes=("stdint.h",)), jobs=1)
    assert not forced.failures, forced.failures[0].summary()
    a, b = own.record("struct f"), forced.record("struct f")
    assert a is not None and b is not None

    def shape(record: Record) -> object:  # (locations differ: two files)
        return {t: (lay.size, lay.align, [(m.name, m.type.spelling, m.offset_bits,
                                          m.size_bits) for m in lay.members])
                for t, lay in record.layouts.items()}
    assert shape(a) == shape(b)
    assert (a.layouts["x86_64"].size, a.layouts["i386"].size) == (16, 8)  # GCC's


@pytest.mark.parametrize("target", [t for t in GCC_TARGETS if t in MODELS])
def test_vector_members_are_placed_as_gcc_places_them(target: str) -> None:
    """Every vector member's offset and every record's size are gcc's (i386's 8-byte integer
    vectors at 4 included, m68k by the engine). The one difference left is the alignment
    reported for a record holding a vector larger than the target's ``BIGGEST_ALIGNMENT``:
    gcc's ``_Alignof`` answers that cap, while its layouts place the vector (and ``v9``'s
    inner record) at a multiple of its size; abiscope reports the latter."""
    tally, model = _compare(DATA / "vectors.h", target)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == 9
    cap = MODELS[target].mode_align_cap
    reported = {r.name: r.layouts[target].align for r in model.records}
    differing = set()
    for line in tally.mismatches:
        name = line.split("] ", 1)[1].split(" (", 1)[0]
        assert ": align abiscope" in line, line  # (never a size or an offset)
        assert line.endswith(f"gcc {cap}"), line
        differing.add(name)
    assert differing == {n for n, align in reported.items() if align > cap}


ATOMIC_RECORDS = 129


@pytest.mark.parametrize("target", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason="MinGW: clang's _Atomic rule"))
    if t.startswith("mingw") else t for t in GCC_TARGETS])
def test_atomic_members_match_gcc(target: str) -> None:
    """``_Atomic`` of every scalar and record kind (``atomic.h``): GCC keeps ``T``'s size and
    aligns a ``T`` of 1, 2, 4, 8 or 16 bytes at least to its size, capped by
    ``BIGGEST_ALIGNMENT``; clang pads and aligns to a power of two, so abiscope relays the
    records that hold one with the engine (m68k: the engine anyway)."""
    tally, model = _compare(DATA / "atomic.h", target)
    print(f"[{target}] atomic.h: {tally.records} records, {tally.members} members compared")
    # (as in test_vector_members_are_placed_as_gcc_places_them: a record holding a vector
    # larger than BIGGEST_ALIGNMENT, 4 on sh4 and arc, is placed at a multiple of the
    # vector's size, which abiscope reports; gcc's _Alignof answers the cap)
    cap = MODELS[target].mode_align_cap if target in MODELS else 0
    vector_cap = [m for m in tally.mismatches if "] union i_w4" in m or "] struct i_w4" in m
                  if ": align abiscope" in m and m.endswith(f"gcc {cap}")]
    assert not [m for m in tally.mismatches if m not in vector_cap], "\n".join(tally.mismatches)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == ATOMIC_RECORDS


@pytest.mark.parametrize("target", ["lp128", "cheri128"])
def test_atomic_members_on_hypothetical_targets_follow_x86_64(target: str) -> None:
    """lp128 and cheri128 have no compiler: their ``_Atomic`` rule is x86_64's GCC rule
    with their own widths (docs/targets.md). Every record of ``atomic.h`` without a pointer
    or a ``long`` equals x86_64 GCC's; an atomic pointer is 16 bytes, 16-aligned."""
    if find_gcc("x86_64") is None:
        skip_or_fail(f"{GCC_FOR_TARGET['x86_64']} not installed (make deps)")
    header = DATA / "atomic.h"
    model = frontend.parse([str(header)], [TARGETS[target]],
                           frontend.ParseOptions(system_dirs=False), jobs=1)
    assert not model.failures, model.failures[0].summary()
    gcc = gcc_layouts({"h": header.read_text()}, "x86_64",
                      {"h": probes_for(model, target)})["h"]
    assert gcc.ok, gcc.stderr
    wide = {r.name for r in model.records if " a_ptr_" in r.name}
    tally = compare_model(model, target, gcc.records, header.name,
                          names={r.name for r in model.records} - wide)
    print(f"[{target}] atomic.h: {tally.records} records, {tally.members} members compared")
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records == ATOMIC_RECORDS - len(wide) == 124
    pointers = [m for r in model.records if r.name in wide for m in r.layouts[target].members
                if m.type.canonical.startswith("_Atomic(") and "*" in m.type.canonical]
    assert len(pointers) == 3
    assert all((m.type.size, m.type.align, m.offset_bits % 128) == (16, 16, 0)
               for m in pointers)


@pytest.mark.parametrize("target", GCC_TARGETS)
def test_extended_types_match_gcc(target: str) -> None:
    """``__int128``, ``__float128``, ``_Float16``, ``__fp16``, ``__bf16``, ``__ibm128`` where
    GCC 12 accepts them (``extended_types.h``), plain, ``_Atomic`` (laid out by the engine,
    which sizes each under the target's data model) and in arrays."""
    tally, model = _compare(DATA / "extended_types.h", target)
    print(f"[{target}] extended_types.h: {tally.records} records, {tally.members} members "
          "compared")
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == 7
