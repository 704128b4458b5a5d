"""Differential layout fuzzing in CI: a bounded slice of ``bench/fuzz_layout.py``, its
minimiser on a known clang-vs-GCC divergence, and a replay of every kept regression.

The slice draws programs with ``cgen.cstructs.c_programs`` and checks them on every target
that has a gcc here (the x86 trio and the Debian cross gccs): abiscope's layout (the clang
side; the engine on m68k) and the layout engine, each against GCC's DWARF. Longer runs:
``python bench/fuzz_layout.py --seconds 600`` (docs/fuzzing.md).

Each file in ``tests/data/fuzz-regressions/`` is a minimised program with a header comment
naming its ``target``, the ``side`` that differed and a ``status``: ``open`` (abiscope still
differs from gcc there: the test is an expected failure, and fails once the difference is
gone, so that the file gets ``status: fixed``) or ``fixed`` (both sides must equal gcc). The
other side must equal gcc in either case.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import skip_or_fail
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import fuzz_layout as fl

SLICE_SECONDS = float(os.environ.get("ABISCOPE_FUZZ_SECONDS", "40"))
SLICE_EXAMPLES = int(os.environ.get("ABISCOPE_FUZZ_EXAMPLES", "96"))
X86 = ("i386", "x86_64", "x32")

DIVERGENT = """\
#include <stdint.h>
#include <stddef.h>

struct r0 {
    int f0;
    char f1;
};

#pragma pack(2)
struct r1 {
    short f0;
    struct r0 f1;
    char a;
    int b : 3 __attribute__((aligned(4)));
    uint16_t f2;
};
#pragma pack()

union r2 { int f0; char f1[3]; };
"""


def require(target: str) -> None:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")


@pytest.mark.slow
def test_fuzz_slice_every_gcc_target() -> None:
    """A bounded run over every target with a gcc: no record may differ."""
    for target in X86:
        require(target)
    from differential import INEXACT_TARGETS  # (their own slices are elsewhere)

    targets, missing = fl.available(tuple(t for t in fl.GCC_TARGETS
                                          if t not in INEXACT_TARGETS))
    if missing:
        skip_or_fail(f"cross gccs not installed: {', '.join(missing)}")
    stats = fl.run(targets, SLICE_EXAMPLES, SLICE_SECONDS, batch=12, out_dir=None)
    print(f"{stats.programs} programs x {len(targets)} targets: {stats.cases} cases, "
          f"{stats.records} records, {stats.members} members, {len(stats.mismatches)} "
          f"mismatches, {len(stats.rejected)} rejected, {stats.seconds:.0f} s")
    assert stats.cases >= len(targets) * 12, "not even one batch ran"
    assert not stats.rejected, stats.rejected[0]
    assert not stats.mismatches, (
        "\n".join(f"[{m.target}] {m.side}: {m.record}: {m.detail}" for m in stats.mismatches)
        + "\nprograms:\n" + "\n----\n".join(stats.programs_differing)
        + "\nminimise with: python bench/fuzz_layout.py --seed ...")


def test_merge_keeps_programs_apart() -> None:
    """Merged programs keep their records distinct, each with its own pack state."""
    from cgen.cstructs import CProgram

    a = CProgram("typedef int t0;\nstruct r0 { t0 f0; };\nenum e0 { E0_0 };\n",
                 ("struct r0",), ("struct r0",))
    b = CProgram("#pragma pack(2)\nstruct r0 { char f0; int f1 : 3 __attribute__((aligned(4))); };"
                 "\n", ("struct r0",), ("struct r0",), frozenset({"aligned_bitfield_in_pack"}))
    batch = fl.merge([a, b])
    assert batch.records == ("struct p0_r0", "struct p1_r0")
    assert "typedef int p0_t0;" in batch.source and "enum p0_e0 { p0_E0_0 };" in batch.source
    assert batch.source.count("#pragma pack()") == 2
    assert batch.origin["struct p1_r0"] == (1, "struct r0")
    assert fl.aligned_bitfield_in_pack(b.source) and not fl.aligned_bitfield_in_pack(a.source)


def test_minimiser_on_known_divergence(tmp_path: Path) -> None:
    """A program where clang 22 lays a record out otherwise than GCC (an ``aligned(N)``
    bitfield under ``#pragma pack``, found by this harness): both of abiscope's sides now
    equal gcc. The minimiser still shrinks it to the construct, with a predicate that
    stands in for a difference (gcc accepts it and the construct is still there), and
    writes it out."""
    require("x86_64")
    verdict = fl.check_source(DIVERGENT, fl._records_in(DIVERGENT), "x86_64")
    assert not verdict.rejected, verdict.rejected
    assert not verdict.mismatches, verdict.mismatches  # the engine lays it out, as gcc does

    def differs(source: str, target: str, side: str) -> bool:
        records = fl._records_in(source)
        if not records or not fl.aligned_bitfield_in_pack(source):
            return False
        return not fl.check_source(source, records, target, sides=(side,)).rejected

    small = fl.minimise(DIVERGENT, "x86_64", "clang", differs)
    assert len(small.splitlines()) < len(DIVERGENT.splitlines()) // 2, small
    assert "aligned(4)" in small and "#pragma pack(2)" in small
    path = fl.write_regression(small, "x86_64", "clang", "demo", tmp_path)
    reg = fl.read_regression(path)
    assert (reg.target, reg.side, reg.status) == ("x86_64", "clang", "open")
    assert differs(reg.source, "x86_64", "clang")


BIG_VECTOR = """\
typedef int t0 __attribute__((vector_size(32)));
struct r0 { char f0; t0 f1; };
struct r1 { char f0; struct r0 f1; short f2; };
"""


def test_a_record_with_a_vector_above_the_cap_is_the_known_case() -> None:
    """The fuzzer draws GNU vectors. A record holding one larger than the target's
    ``BIGGEST_ALIGNMENT`` (16 on x86_64) has gcc's ``_Alignof`` at the cap, while gcc's
    layouts place it at a multiple of the vector's size, as abiscope reports: equal but
    for that alignment, it is no mismatch. The record that holds it, laid out by gcc,
    shows where gcc places it; without the cap the difference is reported."""
    require("x86_64")
    records = fl._records_in(BIG_VECTOR)
    verdict = fl.check_source(BIG_VECTOR, records, "x86_64")
    assert not verdict.rejected and not verdict.mismatches, verdict
    gcc = fl.compile_layouts({"src": BIG_VECTOR}, "x86_64",
                             align_probes={"src": records}, jobs=1)["src"]
    # r1 places r0 at 32 (size 128): at 16, the cap, it would be 96
    assert (gcc.records["struct r0"].align, gcc.records["struct r1"].size) == (16, 128)
    with tempfile.TemporaryDirectory() as tmp:
        header = Path(tmp) / "v.h"
        header.write_text(BIG_VECTOR)
        model = fl.frontend.parse([str(header)], [fl.TARGETS["x86_64"]], fl.NO_SYSTEM, jobs=1)
    ours = {r.name: r.layouts["x86_64"] for r in model.records}
    assert ours["struct r0"].align == 32
    assert "align" in fl.differ(ours["struct r0"], gcc.records["struct r0"])
    assert not fl.differ(ours["struct r1"], gcc.records["struct r1"], 16)


REGRESSIONS = sorted(fl.REGRESSIONS.glob("*.h"))


def test_regressions_are_kept() -> None:
    assert REGRESSIONS, f"no regression files in {fl.REGRESSIONS}"


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.name)
def test_replay_regression(path: Path) -> None:
    reg = fl.read_regression(path)
    assert reg.status in ("open", "fixed"), f"{path.name}: status {reg.status!r}"
    require(reg.target)
    records = fl._records_in(reg.source)
    verdict = fl.check_source(reg.source, records, reg.target)
    assert not verdict.rejected, f"{path.name}: {verdict.rejected}"
    found = {m.side for m in verdict.mismatches}
    others = [m for m in verdict.mismatches if m.side != reg.side or reg.status == "fixed"]
    assert not others, "\n".join(f"{path.name}: {m.side}: {m.record}: {m.detail}"
                                 for m in others)
    if reg.status == "open":
        assert reg.side in found, (f"{path.name}: abiscope's {reg.side} side now equals gcc: "
                                   "set 'status: fixed' in the file")
        pytest.xfail(f"{path.name}: known difference on the {reg.side} side, still open")
