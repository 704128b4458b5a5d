"""The seed-case headers, laid out by abiscope and by every Debian gcc: identical.

Each (header, target) is compiled once; every record of the header and of what it includes
(guest-handle unions, …) is compared: size, alignment, every member offset and width.
"""

from __future__ import annotations

import pytest

from abiscope import frontend
from abiscope.targets import TARGETS
from conftest import SEED_DIR, SEED_HEADERS, skip_or_fail
from differential import Tally, compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc

CLANG_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available]


@pytest.mark.parametrize("target", CLANG_TARGETS)
def test_seed_headers_match_gcc(target: str) -> None:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tally = Tally()
    compared_headers = 0
    for header in SEED_HEADERS:
        path = str(SEED_DIR / header)
        model = frontend.parse([path], [TARGETS[target]],
                               frontend.ParseOptions(all_files=True, system_dirs=False), jobs=1)
        gcc = gcc_layouts({header: f'#include "{path}"\n'}, target,
                          {header: probes_for(model, target)})[header]
        if not gcc.ok:
            # Xen's arch header #errors outside x86/Arm: abiscope must fail there too.
            assert model.failures, f"gcc rejects {header} on {target}, abiscope accepts it"
            continue
        assert not model.failures, model.failures
        compared_headers += 1
        tally.add(compare_model(model, target, gcc.records, header))
    assert not tally.mismatches, "\n".join(tally.mismatches)
    if target in ("i386", "x86_64", "x32", "arm", "aarch64"):
        assert compared_headers == len(SEED_HEADERS)
    print(f"{target}: {tally.records} records, {tally.members} members match gcc")
