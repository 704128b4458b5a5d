"""Sanity tests of the GCC/DWARF oracle itself (hand-written numbers test the oracle only)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

# tests/ is not a package and conftest.py/pyproject are not ours: make `oracle` importable.
sys.path.insert(0, str(Path(__file__).parent))

from abiscope.targets import TARGETS
from oracle import gcc_dwarf
from oracle.gcc_dwarf import (
    GCC_FOR_TARGET,
    CompileResult,
    OracleMember,
    compile_layouts,
    flatten,
    require_gcc,
    system_include_dirs,
    uapi_headers,
)

MIXED = "struct mixed { char c; unsigned long long u; short h; };\n"

SNIPPETS = {
    "mixed": MIXED,
    "bitfields": "struct bf { unsigned a:3; int b:5; int :0; char c; long long d:40; int :3; };\n",
    "union": "union u { char c; int i; double d; short s[3]; };\n",
    "anon": (
        "struct an {\n"
        "  int x;\n"
        "  union { int u1; struct { char s1; short s2; }; };\n"
        "  struct { int q; char r; } named;\n"
        "  char tail;\n"
        "};\n"
    ),
    "typedef": (
        "typedef struct { int a; char b; } foo_t;\ntypedef struct tagged { int z; } tagged_t;\n"
    ),
    "flex": "struct flex { int n; char zero[0]; char big[256]; int data[]; };\n",
    "packed": "struct __attribute__((packed)) pk { char c; int i; };\n",
    "types": (
        "struct types { void (*fp)(int, char *); const char *cs; char *const pc;\n"
        "  int arr[2][3]; volatile int vi; _Atomic long al; };\n"
    ),
}


def _compile(target: str, probes: dict[str, list[str]]) -> dict[str, CompileResult]:
    require_gcc(target)
    results = compile_layouts(SNIPPETS, target, align_probes=probes)
    for sid, res in results.items():
        assert res.ok, f"{sid}: {res.stderr}"
    return results


@pytest.fixture(scope="module")
def x86_64() -> dict[str, CompileResult]:
    return _compile("x86_64", {"mixed": ["struct mixed", "unsigned long long"]})


def test_mixed_x86_64(x86_64: dict[str, CompileResult]) -> None:
    rec = x86_64["mixed"].records["struct mixed"]
    assert (rec.kind, rec.size, rec.align) == ("struct", 24, 8)
    assert flatten(rec.members) == [("c", 0, 8, False), ("u", 64, 64, False), ("h", 128, 16, False)]
    assert (rec.file, rec.line) == ("mixed", 1)


def test_mixed_i386_alignof_is_abi_alignment() -> None:
    require_gcc("i386")
    probes = ["struct mixed", "unsigned long long", "double", "__typeof__(((struct mixed *)0)->u)"]
    res = compile_layouts({"m": MIXED}, "i386", align_probes={"m": probes})["m"]
    rec = res.records["struct mixed"]
    assert (rec.size, rec.align) == (16, 4)
    assert flatten(rec.members)[1] == ("u", 32, 64, False)
    # _Alignof, not __alignof__ (which says 8 here: the preferred alignment)
    assert res.aligns == dict.fromkeys(probes, 4)


def test_mixed_m68k() -> None:
    require_gcc("m68k")
    res = compile_layouts({"m": MIXED}, "m68k", align_probes={"m": ["struct mixed"]})["m"]
    rec = res.records["struct mixed"]
    assert (rec.size, rec.align) == (12, 2)
    assert flatten(rec.members) == [("c", 0, 8, False), ("u", 16, 64, False), ("h", 80, 16, False)]


def test_bitfields(x86_64: dict[str, CompileResult]) -> None:
    rec = x86_64["bitfields"].records["struct bf"]
    assert rec.size == 16
    assert flatten(rec.members) == [
        ("a", 0, 3, True),
        ("b", 3, 5, True),
        ("c", 32, 8, False),
        ("d", 64, 40, True),
    ]


@pytest.mark.parametrize("target", ["x86_64", "ppc"])
def test_bitfields_legacy_dwarf_matches_dwarf5(target: str) -> None:
    """DWARF 4 DW_AT_bit_offset (endian-dependent) decodes like DWARF 5 data_bit_offset."""
    require_gcc(target)
    src = {"bf": SNIPPETS["bitfields"]}
    new = compile_layouts(src, target, extra_flags=["-gdwarf-5"])["bf"].records["struct bf"]
    old = compile_layouts(src, target, extra_flags=["-gdwarf-4"])["bf"].records["struct bf"]
    assert flatten(new.members) == flatten(old.members)
    assert [m[1] for m in flatten(new.members)] == [0, 3, 32, 64]


def test_union(x86_64: dict[str, CompileResult]) -> None:
    rec = x86_64["union"].records["union u"]
    assert (rec.kind, rec.size) == ("union", 8)
    assert flatten(rec.members) == [
        ("c", 0, 8, False),
        ("i", 0, 32, False),
        ("d", 0, 64, False),
        ("s", 0, 48, False),
    ]


def test_anonymous_and_unnamed_members(x86_64: dict[str, CompileResult]) -> None:
    records = x86_64["anon"].records
    assert set(records) == {"struct an"}  # unnamed inner records are not records
    rec = records["struct an"]
    assert rec.size == 20
    assert flatten(rec.members) == [
        ("x", 0, 32, False),
        ("<anon>", 32, 32, False),
        ("<anon>.u1", 32, 32, False),
        ("<anon>.<anon>", 32, 32, False),
        ("<anon>.<anon>.s1", 32, 8, False),
        ("<anon>.<anon>.s2", 48, 16, False),
        ("named", 64, 64, False),
        ("named.q", 64, 32, False),
        ("named.r", 96, 8, False),
        ("tail", 128, 8, False),
    ]
    assert rec.members[1].name == "" and rec.members[1].type_name == "union {...}"


def test_typedef_named_records(x86_64: dict[str, CompileResult]) -> None:
    records = x86_64["typedef"].records
    assert set(records) == {"foo_t", "struct tagged"}
    assert (records["foo_t"].kind, records["foo_t"].size) == ("struct", 8)
    assert flatten(records["foo_t"].members) == [("a", 0, 32, False), ("b", 32, 8, False)]


def test_flexible_and_zero_length_arrays(x86_64: dict[str, CompileResult]) -> None:
    rec = x86_64["flex"].records["struct flex"]
    assert rec.size == 260
    assert flatten(rec.members) == [
        ("n", 0, 32, False),
        ("zero", 32, 0, False),
        ("big", 32, 2048, False),  # upper bound 255 as DW_FORM_data1: not -1
        ("data", 2080, 0, False),
    ]
    assert [m.type_name for m in rec.members] == ["int", "char [0]", "char [256]", "int []"]


def test_packed(x86_64: dict[str, CompileResult]) -> None:
    rec = x86_64["packed"].records["struct pk"]
    assert rec.size == 5
    assert flatten(rec.members) == [("c", 0, 8, False), ("i", 8, 32, False)]


def test_type_names_and_sizes(x86_64: dict[str, CompileResult]) -> None:
    rec = x86_64["types"].records["struct types"]
    assert [(m.name, m.type_name, m.offset_bits, m.size_bits) for m in rec.members] == [
        ("fp", "void (*)(int, char *)", 0, 64),
        ("cs", "const char *", 64, 64),
        ("pc", "char * const", 128, 64),
        ("arr", "int [2][3]", 192, 192),
        ("vi", "volatile int", 384, 32),
        ("al", "_Atomic long int", 448, 64),
    ]


def test_probes_that_do_not_compile_are_dropped() -> None:
    require_gcc("x86_64")
    probes = {"m": ["struct mixed", "struct nowhere", "short"]}
    res = compile_layouts({"m": MIXED}, "x86_64", align_probes=probes)["m"]
    assert res.ok
    assert res.aligns == {"struct mixed": 8, "short": 2}
    assert "nowhere" in res.stderr


def test_process_pool_path_matches_threads(
    x86_64: dict[str, CompileResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcc_dwarf, "_PROCESS_POOL_MIN_JOBS", 2)
    subset = {k: SNIPPETS[k] for k in ("mixed", "anon", "bitfields")}
    res = compile_layouts(subset, "x86_64", jobs=2)
    assert {k: r.records for k, r in res.items()} == {k: x86_64[k].records for k in subset} | {
        "mixed": {"struct mixed": replace(x86_64["mixed"].records["struct mixed"], align=None)}
    }


def test_compile_error_reports_stderr() -> None:
    require_gcc("x86_64")
    res = compile_layouts({"bad": "struct oops { int x }\nint y = ;\n"}, "x86_64")["bad"]
    assert not res.ok
    assert "error" in res.stderr
    assert res.records == {} and res.aligns == {}


def test_header_records_and_hermetic_includes(tmp_path: Path) -> None:
    require_gcc("x86_64")
    (tmp_path / "linux").mkdir()
    (tmp_path / "linux" / "sub").mkdir()
    (tmp_path / "linux" / "demo.h").write_text("\n\nstruct demo { int a; };\n")
    (tmp_path / "linux" / "sub" / "x.h").write_text("/* nothing */\n")
    (tmp_path / "linux" / "notes.txt").write_text("")
    sources = {"ok": "#include <linux/demo.h>\n", "host": "#include <stdio.h>\n"}
    res = compile_layouts(sources, "x86_64", include_dirs=[str(tmp_path)])
    rec = res["ok"].records["struct demo"]
    assert (rec.file, rec.line) == (str(tmp_path / "linux" / "demo.h"), 3)
    assert not res["host"].ok  # -nostdinc: no libc headers unless include_dirs say so
    assert uapi_headers(str(tmp_path)) == ["linux/demo.h", "linux/sub/x.h"]


def test_flatten_canonical_form() -> None:
    inner = OracleMember("q", 64, 32, False, "int")
    members = (
        OracleMember("x", 0, 3, True, "int"),
        OracleMember("", 64, 32, False, "union {...}", (inner,)),
    )
    assert flatten(members) == [
        ("x", 0, 3, True),
        ("<anon>", 64, 32, False),
        ("<anon>.q", 64, 32, False),
    ]


def test_targets_and_include_dirs() -> None:
    # a target is checked by gcc because its registry entry names one
    assert set(GCC_FOR_TARGET) == {t.name for t in TARGETS.values() if t.checker}
    assert len(GCC_FOR_TARGET) >= 14
    assert GCC_FOR_TARGET["mips64"] == "mips64-linux-gnuabi64-gcc"
    with pytest.raises(ValueError, match="unknown target"):
        system_include_dirs("vax")
    dirs = system_include_dirs("aarch64")
    assert dirs in ([], ["/usr/aarch64-linux-gnu/include"])


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_require_gcc_missing(
    ci: str, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no compilers on this PATH
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"apt-get install gcc-m68k-linux-gnu\)"):
        require_gcc("m68k")
