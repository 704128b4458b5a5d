"""The Xen xlat.lst audit, on a committed slice of Xen's newest public headers and the real
lines of its xlat.lst for them (tests/fixtures/xen-public, MIT: COPYING kept).

Every verdict abiscope gives is checked against GCC's own layouts (i686 and x86_64 DWARF):
each `?` entry that agrees is laid out identically by GCC on both, and each entry reported
as `differs` shows, in GCC's layouts, the very offsets and sizes abiscope names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli_captured, skip_or_fail
from oracle.gcc_dwarf import CompileResult, compile_layouts, find_gcc, flatten

FIXTURE = Path(__file__).parent / "fixtures" / "xen-public"
HEADERS = ("xen.h", "vcpu.h", "arch-x86/xen-mca.h")
PAIR = ("x86_64", "i386")


@pytest.fixture(scope="module")
def audit() -> tuple[int, dict[str, object]]:
    res = run_cli_captured("compat", *(str(FIXTURE / h) for h in HEADERS), "-I", str(FIXTURE),
                         "-D", "__XEN_TOOLS__", "--include", "stdint.h", "--include", "xen.h",
                         "--all-files", "--native", "x86_64", "--compat", "i386",
                         "--verify-list", str(FIXTURE / "xlat.lst"), "-f", "json")
    assert res.code in (0, 1), res.err
    return res.code, json.loads(res.out)


@pytest.fixture(scope="module")
def gcc() -> dict[str, CompileResult]:
    src = "#include <stdint.h>\n" + "".join(f'#include "{FIXTURE / h}"\n' for h in HEADERS)
    out = {}
    for target in PAIR:
        if find_gcc(target) is None:
            skip_or_fail(f"no gcc for {target} (make deps)")
        out[target] = compile_layouts({"xen": src}, target, include_dirs=[str(FIXTURE)],
                                      defines=["__XEN_TOOLS__"])["xen"]
        assert out[target].ok, out[target].stderr
    return out


def test_every_entry_is_judged(audit: tuple[int, dict[str, object]]) -> None:
    code, doc = audit
    entries = doc["entries"]
    assert isinstance(entries, list) and len(entries) == 29
    status = {e["name"]: e["status"] for e in entries}
    assert {n for n, s in status.items() if s == "differs"} == {"mc", "mcinfo_logical_cpu"}
    assert "not_found" not in status.values()
    assert code == 1  # a `?` entry whose layouts differ fails the run


def test_identical_entries_are_identical_in_gcc(audit: tuple[int, dict[str, object]],
                                                gcc: dict[str, CompileResult]) -> None:
    checked = 0
    for e in audit[1]["entries"]:  # type: ignore[attr-defined]
        if e["listed"] != "identical" or e["status"] != "agrees":
            continue
        a, b = (gcc[t].records[e["record"]] for t in PAIR)
        assert a.size == b.size, e["name"]
        assert flatten(a.members) == flatten(b.members), e["name"]
        checked += 1
    assert checked >= 20


def test_differs_claims_are_gccs_offsets(audit: tuple[int, dict[str, object]],
                                          gcc: dict[str, CompileResult]) -> None:
    for e in audit[1]["entries"]:  # type: ignore[attr-defined]
        if e["status"] != "differs":
            continue
        recs = {t: gcc[t].records[e["record"]] for t in PAIR}
        shapes = {t: {p: (off, size) for p, off, size, _ in flatten(recs[t].members)}
                  for t in PAIR}
        confirmed = 0
        for r in e["reasons"]:
            got = {t: (r[side]["offset_bits"], r[side]["size_bits"])
                   for t, side in zip(PAIR, ("native", "compat"), strict=True)}
            if not r["member"]:
                assert {t: recs[t].size * 8 for t in PAIR} == \
                    {t: got[t][1] for t in PAIR}, e["name"]
                confirmed += 1
            elif all(r["member"] in shapes[t] for t in PAIR):
                assert {t: shapes[t][r["member"]] for t in PAIR} == got, (e["name"], r)
                confirmed += 1
        assert confirmed, f"no reason of {e['name']} could be checked against gcc"
