"""Hypothesis-generated records (nesting, unions, arrays, bitfields, packed, aligned(N),
anonymous members, enums, function pointers, flexible arrays, #pragma pack) laid out by
abiscope and by GCC for the x86 trio: identical, to the bit.

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


def assert_batch_matches(programs: list[CProgram]) -> None:
    for target in X86:
        if find_gcc(target) is None:
            skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tally = check_batch(programs)
    assert not tally.mismatches, "\n".join(tally.mismatches)


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
