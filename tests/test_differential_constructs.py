"""Constructs of ABI headers, laid out by abiscope and by every Debian gcc: identical.

``tests/data/constructs/abi_constructs.h`` holds what interface headers write beyond plain
members: packed enums and enum bitfields, ``_Complex`` and ``long double``, zero-size
structs and zero-length or flexible arrays, a transparent union, ``mode(DI)``, bitfield
corner cases (zero-width, ``_Bool``, ``long long`` on 32-bit targets), ``#pragma pack``
with aligned and packed records. One compile per target, every record compared.

``vectors.h`` is the known exception (README "Known limitations"): clang aligns vector
members otherwise than GCC on three targets, and abiscope reports clang's. The test pins
exactly those differences, so that a fix or a new difference is seen. (Where abiscope
follows GCC over clang: ``tests/test_gcc_over_clang.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.targets import TARGETS
from conftest import skip_or_fail
from differential import Tally, compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc

DATA = Path(__file__).parent / "data" / "constructs"
GCC_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available]
# (target -> records where clang's vector alignment is not GCC's)
VECTOR_DIFFERS = {"i386": {"struct v2"}, "mips": {"struct v1"}, "s390x": {"struct v1"}}


def _compare(header: Path, target: str) -> tuple[Tally, frontend.Model]:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    model = frontend.parse([str(header)], [TARGETS[target]],
                           frontend.ParseOptions(system_dirs=False), jobs=1)
    gcc = gcc_layouts({"h": header.read_text()}, target, {"h": probes_for(model, target)})["h"]
    assert gcc.ok, gcc.stderr
    return compare_model(model, target, gcc.records, header.name), model


@pytest.mark.parametrize("target", GCC_TARGETS)
def test_abi_constructs_match_gcc(target: str) -> None:
    tally, model = _compare(DATA / "abi_constructs.h", target)
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert not model.failures, model.failures[0].summary()
    assert tally.records == 35


@pytest.mark.parametrize("target", GCC_TARGETS)
def test_vector_members_differ_from_gcc_only_where_known(target: str) -> None:
    tally, model = _compare(DATA / "vectors.h", target)
    if TARGETS[target].engine:  # (m68k: the engine says it cannot, for each record)
        assert len(model.failures) == 3 and not model.records
        assert all("cannot be laid out" in f.summary() for f in model.failures)
        return
    assert not model.failures, model.failures[0].summary()  # clang's layout, not a failure
    differing = {m.split("] ", 1)[1].split(" (", 1)[0] for m in tally.mismatches}
    assert differing == VECTOR_DIFFERS.get(target, set()), tally.mismatches
