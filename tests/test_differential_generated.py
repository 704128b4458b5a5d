"""Hypothesis-generated records (nesting, unions, arrays, bitfields, packed, aligned(N),
anonymous members, enums, function pointers, flexible arrays, #pragma pack) laid out by
abiscope and by GCC: identical, to the bit. The x86 trio in one batch, and every other
target whose registry entry names a checking gcc (``Target.checker``) in a bounded slice of
its own: a target is tested because it has a checker.

Each example is a batch of programs so that gcc runs in parallel and hypothesis still
shrinks a failure to the smallest batch. The slow variant runs a few hundred programs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.targets import TARGETS
from cgen.cstructs import CProgram, c_programs
from conftest import skip_or_fail
from differential import Tally, compare_model, gcc_layouts
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc

X86 = ("i386", "x86_64", "x32")
CHECKED = tuple(t.name for t in TARGETS.values() if t.checker is not None and t.name not in X86)
# What gcc refuses on a target and the generator writes (avr: int is 16 bits, a wider
# int bit-field is an error): such a program is not compared there, and counted.
GCC_REFUSES = ("width of '", "exceeds its type")
# Where clang's layout is known to differ from the checking gcc and abiscope has no engine
# model of that target to follow gcc instead: programs with these features are not
# compared there (counted; README "Known limitations" and docs/targets.md say so).
# - aligned(N) on a bit-field under #pragma pack (cstructs.KNOWN_HARD): a target with a
#   data model is laid out by the engine there; armv7m, mingw32, mingw64 have none;
# - MinGW's -mms-bitfields: clang's packed bit-fields (both), and the alignment of a union
#   of long long bit-fields (both: a CI run drew `union { long long a:1; unsigned b:1; }`,
#   align 1 where mingw64's gcc says 8), are not GCC's (measured: 13 of 40 programs on
#   mingw64, 10 of 40 on mingw32, every one with a bit-field).
CLANG_DIFFERS = {
    **{t.name: ("aligned_bitfield_in_pack",) for t in TARGETS.values()
       if t.checker is not None and t.model is None},
    "mingw32": ("aligned_bitfield_in_pack", "bitfield"),
    "mingw64": ("aligned_bitfield_in_pack", "bitfield"),
}
BATCH = 8
# Shrinking a batch of compiled programs takes many minutes; a failure prints every program
# of its batch in full instead.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

# ``aligned(N)`` on a bitfield under ``#pragma pack(M)`` (feature
# ``aligned_bitfield_in_pack``) is where clang and GCC differ; this test found it, and
# abiscope lays such records out with its engine, as GCC does (tests/test_gcc_over_clang.py).
# Those programs are compared like every other.


def check_batch(programs: list[CProgram], targets: tuple[str, ...] = X86) -> Tally:
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="abiscope-gen-") as tmp:
        paths = []
        for i, prog in enumerate(programs):
            path = Path(tmp) / f"gen{i}.h"
            path.write_text(prog.source)
            paths.append(str(path))
        for target in targets:
            gcc = gcc_layouts({str(i): p.source for i, p in enumerate(programs)}, target,
                              {str(i): list(p.probes) for i, p in enumerate(programs)})
            for i, (prog, path) in enumerate(zip(programs, paths, strict=True)):
                if prog.features.intersection(CLANG_DIFFERS.get(target, ())):
                    tally.refused += 1
                    continue
                if not gcc[str(i)].ok and any(m in gcc[str(i)].stderr for m in GCC_REFUSES):
                    tally.refused += 1
                    continue
                assert gcc[str(i)].ok, f"generator produced invalid C:\n{gcc[str(i)].stderr}"
                model = frontend.parse([path], [TARGETS[target]],
                                       frontend.ParseOptions(system_dirs=False), jobs=1)
                assert not model.failures, model.failures[0].summary()
                found = {r.name for r in model.records}
                missing = set(prog.records) - found
                assert not missing, f"abiscope missed {missing} in\n{prog.source}"
                part = compare_model(model, target, gcc[str(i)].records, f"gen{i}", prog.records)
                if part.mismatches:
                    part.mismatches.append(f"program:\n{prog.source}")
                tally.add(part)
    return tally


def assert_batch_matches(programs: list[CProgram], targets: tuple[str, ...] = X86) -> None:
    for target in targets:
        if find_gcc(target) is None:
            skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tally = check_batch(programs, targets)
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records or tally.refused == len(programs)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(), min_size=BATCH, max_size=BATCH))
def test_generated_records_match_gcc_quick(programs: list[CProgram]) -> None:
    assert_batch_matches(programs)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(), min_size=BATCH, max_size=BATCH))
def test_generated_records_match_gcc(programs: list[CProgram]) -> None:
    assert_batch_matches(programs)


# The bounded slice of every other checked target (3 x 8 programs each, the first of them
# hypothesis's minimal one; the full run is
# bench/fuzz_layout.py --target NAME).
@pytest.mark.parametrize("target", CHECKED)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(programs=st.lists(c_programs(), min_size=BATCH, max_size=BATCH))
def test_generated_records_match_each_targets_gcc(target: str,
                                                  programs: list[CProgram]) -> None:
    assert_batch_matches(programs, (target,))
