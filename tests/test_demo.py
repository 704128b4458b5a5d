"""`abiscope demo`: every claim of the seed review, each asserted on abiscope's own analysis.

The layouts behind these claims are proven equal to GCC's for every target with a Debian
gcc by tests/test_differential_seed.py; here each claim's evidence is re-derived from the
model (sizes from the targets' pointer widths, not typed in) and must hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from abiscope import demo, paths
from abiscope.compat import compare
from abiscope.demo import A_PAD, A, B, C
from conftest import CliResult


@pytest.fixture(scope="module")
def analysis() -> demo.Analysis:
    return demo.analyse()


def test_every_claim_holds(analysis: demo.Analysis) -> None:
    results = demo.claims(analysis)
    assert [c.number for c in results] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
                                              "11", "+", "+"]
    failing = [f"{c.number}: {c.evidence}" for c in results if not c.holds]
    assert not failing, failing


def test_claim_1_tail_padding_changes_the_stride_on_every_real_target(
        analysis: demo.Analysis) -> None:
    real = analysis.real(A)
    assert set(real) == {t for t, i in analysis.model.targets.items() if not i.hypothetical}
    for lay in real.values():
        last = lay.members[-1]
        assert lay.size * 8 - (last.offset_bits + last.size_bits) == lay.tail_padding_bits > 0
    (finding,) = analysis.rules(A, "ABI002")
    assert set(real) <= set(finding.targets)


def test_claim_2_explicit_padding_leaves_one_layout(analysis: demo.Analysis) -> None:
    real = analysis.real(A_PAD)
    assert not [f for f in analysis.rules(A_PAD, "ABI001", "ABI002", "ABI003")
                if set(f.targets) & set(real)]
    assert len({lay.size for lay in real.values()}) == 1
    assert all(not lay.holes and not lay.tail_padding_bits for lay in real.values())


def test_claim_3_and_5_the_128_bit_future(analysis: demo.Analysis) -> None:
    a_lp = analysis.record(A).layouts["lp128"]
    b_lp = analysis.record(B).layouts["lp128"]
    pointer = analysis.model.targets["lp128"].pointer_bits
    assert a_lp.members[0].size_bits == pointer  # the handle's pointer half grew
    assert analysis.rules(A, "ABI013")
    assert b_lp.size * 8 == 2 * pointer and not b_lp.holes and not b_lp.tail_padding_bits


def test_claim_4_b_follows_the_pointer_width(analysis: demo.Analysis) -> None:
    for target, lay in analysis.real(B).items():
        width = analysis.model.targets[target].pointer_bits
        assert lay.size * 8 == 2 * width
        assert not lay.holes and not lay.tail_padding_bits


def test_claim_6_power_of_two_except_for_cheri_tail_padding(analysis: demo.Analysis) -> None:
    assert not analysis.rules(B, "ABI006")
    cheri = analysis.record(B).layouts["cheri128"]
    pointer, size_t = (m.size_bits for m in cheri.members)
    assert cheri.tail_padding_bits == pointer - size_t > 0


def test_claim_9_a_needs_no_compat_c_does(analysis: demo.Analysis) -> None:
    for name in (A, A_PAD):
        rec = analysis.record(name)
        assert rec.layouts["i386"] == rec.layouts["x86_64"] or \
            not [f for f in analysis.rules(name, "ABI003")]
    (c,) = analysis.rules(C, "ABI003")
    assert "`h`" in c.message and "`size`" in c.message


def _path(analysis: demo.Analysis, layers: tuple[str, ...], translate: tuple[str, ...],
          records: tuple[str, ...]) -> paths.PathReport:
    spec = paths.spec_from(layers, translate, records, analysis.model)
    return paths.check(analysis.model, spec)


def test_claim_7_the_kernel_translates_b(analysis: demo.Analysis) -> None:
    layers = ("user=i386", "kernel=x86_64", "hypervisor=x86_64")
    design = ("user:kernel=privcmd_dm_op_buf;kernel:hypervisor=xen_dm_op_buf",)
    covered = _path(analysis, layers, ("user:kernel",), design)
    assert [c.status for c in covered.cells[0].checks] == ["translated", "identical"]
    assert not covered.findings
    (fired,) = _path(analysis, layers, (), design).findings
    assert fired.rule == "ABI015" and fired.record == B and fired.targets == ("i386", "x86_64")


def test_claim_8_a_32_bit_kernel_is_covered_by_the_hypervisor(
        analysis: demo.Analysis) -> None:
    one = _path(analysis, ("user=i386", "kernel=i386", "hypervisor=x86_64"),
                ("kernel:hypervisor",), (C,))
    assert [c.status for c in one.cells[0].checks] == ["identical", "translated"]
    grid = _path(analysis, ("user=i386,x86_64", "kernel=i386,x86_64", "hypervisor=x86_64"),
                 ("user:kernel", "kernel:hypervisor"), (A, B, C))
    assert len(grid.cells) == 12 and not grid.findings
    width = {t: analysis.model.targets[t].pointer_bits for t in ("i386", "x86_64")}
    for cell in grid.cells:
        t = dict(cell.targets)
        expected = [] if cell.design == A else [
            b for b in (("user", "kernel"), ("kernel", "hypervisor"))
            if width[t[b[0]]] != width[t[b[1]]]]
        assert list(cell.must_translate()) == expected, (cell.targets, cell.design)


def test_claim_9_through_compat_verdicts(analysis: demo.Analysis) -> None:
    report = compare(analysis.model, "x86_64", "i386")
    assert report.verdict(A).verdict == report.verdict(A_PAD).verdict == "identical"  # type: ignore[union-attr]
    c = report.verdict(C)
    assert c is not None and c.verdict == "translate"
    assert {"h", "size"} <= {d.member for d in c.reasons}


def test_claim_10_privcmd_passthrough(analysis: demo.Analysis) -> None:
    (fired,) = _path(analysis, ("user=i386", "kernel=x86_64"), (), (C,)).findings
    lay = {t: analysis.record(C).layouts[t] for t in ("i386", "x86_64")}
    for m in lay["i386"].members:
        assert f"`{m.name}` at {m.offset_bits // 8}, {m.size_bits // 8} bytes on i386" \
            in fired.message


def test_claim_11_arm_has_one_layout(analysis: demo.Analysis) -> None:
    rec = analysis.record(C)
    arm, aarch64 = rec.layouts["arm"], rec.layouts["aarch64"]
    assert (arm.size, [(m.offset_bits, m.size_bits) for m in arm.members]) == \
        (aarch64.size, [(m.offset_bits, m.size_bits) for m in aarch64.members])


def test_demo_command(run_cli: Callable[..., CliResult]) -> None:
    r = run_cli("demo", "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert all(c["holds"] for c in doc["claims"])
    text = run_cli("demo")
    assert text.code == 0 and "xen_dm_op_buf" in text.out


def test_generated_translation_for_c_compiles_and_names_the_record(
        analysis: demo.Analysis, tmp_path: Path) -> None:
    """The demo's codegen line is backed by a header gcc accepts (-Werror, C99)."""
    import shutil
    import subprocess

    from abiscope.codegen import generate_compat

    text = generate_compat(analysis.model, "x86_64", "i386", [C],
                           [f'#include "{demo.seed_dir() / "dm_op.h"}"']).text
    src = tmp_path / "t.c"
    src.write_text(text + "\nint main(void) { return 0; }\n")
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc")
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(src), "-o",
                    str(tmp_path / "t.o")], check=True)
    assert "compat_xen_dm_op_buf_to_native" in text
