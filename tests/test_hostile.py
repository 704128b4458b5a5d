"""Hostile inputs through the CLI: every one ends in a clear error (exit 2) or an ordinary
result (0/1), in bounded time and memory, and never in a traceback or exit 70.

Each case runs ``abiscope`` in-process in a forked child (``hostile_support.run_bounded``):
``RLIMIT_AS`` at most 2 GiB above the test process, killed after its deadline; the peak RSS
is checked too. Found by these cases and fixed: libclang 22 overflowed its stack on 10,000
nested braces or parentheses (segfault; now ``-fbracket-depth=256``), a 10,000-deep pointer
chain was a RecursionError (exit 70), a binary or mistyped snapshot was a UnicodeDecodeError
or a TypeError deep in marshal (exit 70), and an ``aligned(N)`` whose macro names itself
(``#define N (N + N + ...)``, valid C) or expands exponentially hung the reading of its
value.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SEED_DIR
from hostile_support import Bounded, run_bounded

MB = 1 << 20
SEED = str(SEED_DIR / "dm_op.h")
PRIVCMD = str(SEED_DIR / "privcmd_dm_op.h")


def _nest(n: int) -> str:
    return "".join(f"struct a{i} {{ " for i in range(n)) + "int x; " + "} m; " * (n - 1) + "};\n"


HEADERS: dict[str, Callable[[], bytes | str]] = {
    "truncated": lambda: (SEED_DIR / "dm_op.h").read_text()[:700],
    "truncated_mid_token": lambda: "struct s { unsigned lo",
    "binary_garbage": lambda: random.Random(1).randbytes(64 * 1024),
    "nul_bytes": lambda: b"struct s { int x; \0\0\0 };\n\xff\xfe",
    "utf16": lambda: "struct s { int x; };\n".encode("utf-16"),
    "nested_10000": lambda: _nest(10_000),
    "parens_10000": lambda: "struct s { char x[" + "(" * 10_000 + "1" + ")" * 10_000 + "]; };\n",
    "if_10000": lambda: "#if 1\n" * 10_000 + "struct s { int x; };\n" + "#endif\n" * 10_000,
    "pointer_chain_10000": lambda: "struct s { int " + "*" * 10_000 + "p; };\n",
    "pointer_recursion": lambda: "struct a { struct a *n; struct b *b; struct a **pp; };\n"
                                 "struct b { struct a *a; struct b *self[3]; };\n",
    "array_2_62": lambda: "struct s { char x[1ULL << 62]; };\n",
    "array_2_62_of_int": lambda: "struct s { int x[1ULL << 62]; };\n",
    "array_2_58": lambda: "struct s { char x[1ULL << 58]; int y; };\n"
                          "struct t { struct s a[4]; };\n",
    "bitfield_too_wide": lambda: "struct s { int x : 1000000000000; };\n",
    "aligned_2_28": lambda: "struct s { int x __attribute__((aligned(1 << 28))); };\n",
    "enum_2_63": lambda: "enum e { A = 1ULL << 63, B = -1 }; struct s { enum e v; };\n",
    "macro_cycle": lambda: "#define A B\n#define B A\nint y = A;\nstruct s { int x; };\n",
    # valid C (N is not expanded again inside N): abiscope's reading of the alignment once
    # expanded it 8^20 times; and an alignment of 4^8 macro expansions, past its budget
    "macro_bomb_self": lambda: "enum { N = 8 };\n#define N (N + N + N + N + N + N + N + N)\n"
                               "struct s { int x __attribute__((aligned(N))); int y; };\n",
    "macro_bomb_chain": lambda: "".join(f"#define A{i} (A{i + 1} + A{i + 1} + A{i + 1} + "
                                        f"A{i + 1})\n" for i in range(1, 9))
                                + "#define A9 (1)\n"
                                "struct s { int x __attribute__((aligned(A1 / 8192))); };\n",
    # the macro in force is 8; its last definition, which abiscope's table keeps, is a
    # product of two 2^2000000000: C's arithmetic stops past 64 bits; Python's eval made
    # numbers of 250 MB (4 s, then a MemoryError under this test's 2 GiB)
    "alignment_past_64_bits": lambda: "#define A 8\nstruct s { int x __attribute__(("
                                      "aligned(A))); };\n#undef A\n"
                                      "#define A ((1 << 2000000000) * (1 << 2000000000))\n",
    "self_include": lambda: '#include "self_include.h"\nstruct s { int x; };\n',
    "error_directive": lambda: "#error no\n",
    "empty": lambda: "",
    "long_name_100k": lambda: "struct " + "a" * 100_000 + " { int x; };\n",
    "huge_10mb_comment": lambda: "/*" + "x" * (10 * MB) + "*/\nstruct s { int x; };\n",
    "huge_10mb_macros": lambda: "".join(f"#define M{i} {i}\n" for i in range(600_000))
                                + "struct s { int x; };\n",
}
SLOW = {"huge_10mb_macros"}


def _write(tmp: Path, name: str) -> str:
    data = HEADERS[name]()
    path = tmp / f"{name}.h"
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return str(path)


def assert_clean(r: Bounded, max_seconds: float = 60, max_mb: float = 1500) -> None:
    assert r.clean(), str(r)
    assert r.seconds < max_seconds, str(r)
    assert r.peak_rss_mb < max_mb, str(r)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in sorted(HEADERS)])
def test_hostile_header(name: str, tmp_path: Path) -> None:
    path = _write(tmp_path, name)
    r = run_bounded(["layout", path, "-t", "x86_64,i386", "-j", "1"], timeout=120)
    assert_clean(r, max_seconds=110)
    if name in ("binary_garbage", "nested_10000", "parens_10000", "array_2_62",
                "self_include", "error_directive", "truncated", "bitfield_too_wide",
                "macro_cycle"):
        assert r.code == 2, str(r)
        assert "error" in r.err
    if name == "pointer_chain_10000":  # valid C: laid out (the pointer is a pointer)
        assert r.code == 0 and "8 / 8" in r.out and "4 / 4" in r.out, str(r)


def _doubling(n: int) -> str:
    """The issue's bomb: ``A{n}`` is 2^n tokens, used once in an array bound (valid C).
    Unbounded, n = 26 took 62 s and 10 GB (clang itself expands it); n = 24, 14 s, 2.5 GB."""
    return ("#define A0 1\n" + "".join(f"#define A{i} (A{i - 1}+A{i - 1})\n"
                                       for i in range(1, n + 1))
            + f"struct s {{ char x[A{n}]; }};\n")


@pytest.mark.parametrize("bound", ["memory", "time"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_doubling_macros_exceed_a_bound(bound: str, jobs: str, tmp_path: Path) -> None:
    """A unit past its bound is an input error naming the header, the targets and the
    bound (exit 2), in seconds; with another header, that one's records stand (exit 0,
    as for a header that does not parse)."""
    (tmp_path / "bomb.h").write_text(_doubling(26))
    (tmp_path / "fine.h").write_text("struct fine { int a; long b; };\n")
    bounds = ["--unit-memory", "150", "--unit-timeout", "0"] if bound == "memory" \
        else ["--unit-timeout", "1", "--unit-memory", "0"]
    argv = ["layout", "-t", "x86_64,i386", "-j", jobs, "--no-cache", *bounds]
    r = run_bounded([*argv, str(tmp_path / "bomb.h")], timeout=60)
    assert_clean(r, max_seconds=20)
    assert r.code == 2, str(r)
    line = next(x for x in r.err.splitlines() if "bomb.h: does not parse for" in x)
    assert "i386, x86_64" in line and f"exceeded the {bound} bound" in line, r.err
    both = run_bounded([*argv, str(tmp_path / "fine.h"), str(tmp_path / "bomb.h")],
                       timeout=60)
    assert_clean(both, max_seconds=20)
    assert both.code == 0 and "struct fine" in both.out and "16 / 8" in both.out, str(both)
    assert f"exceeded the {bound} bound" in both.err and "bomb.h: skipped" in both.err


@pytest.mark.slow
def test_doubling_macros_fail_with_the_default_bounds(tmp_path: Path) -> None:
    """The issue's header under the default bounds (2 GiB per unit): clean, exit 2; the
    test lets the CLI's own bound stop it before the harness's limits would."""
    (tmp_path / "bomb.h").write_text(_doubling(26))
    r = run_bounded(["layout", str(tmp_path / "bomb.h"), "-t", "x86_64", "-j", "1",
                     "--no-cache"], timeout=90, memory=4 << 30)
    # (the peak counts the main process too, and the bound is read every 20 ms: a parse
    # that doubles its memory that fast overshoots; CI measured 2,772 MB)
    assert_clean(r, max_seconds=60, max_mb=3500)
    assert r.code == 2 and "exceeded the memory bound of 2048 MiB" in r.err, str(r)


def test_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.h").write_text('#include "b.h"\nstruct a { int x; };\n')
    (tmp_path / "b.h").write_text('#include "a.h"\nstruct b { int y; };\n')
    r = run_bounded(["check", str(tmp_path / "a.h"), "-t", "x86_64", "-j", "1"])
    assert_clean(r)
    assert r.code == 2 and "a.h" in r.err


@pytest.mark.parametrize("command", [
    ["check", "-f", "sarif"], ["check", "-f", "github"], ["layout", "-f", "json"],
    ["layout", "-f", "pahole"], ["gen", "asserts"], ["report", "-o", "{tmp}/r.html"],
    ["compat", "--native", "x86_64", "--compat", "i386", "-f", "xlat"],
    ["gen", "compat", "--native", "x86_64", "--compat", "i386"],
])
@pytest.mark.parametrize("name", ["array_2_58", "pointer_recursion", "enum_2_63",
                                  "aligned_2_28"])
def test_hostile_header_every_command(command: list[str], name: str, tmp_path: Path) -> None:
    """Valid but extreme records (a 2^58-byte array, 2^28 alignment) through every output."""
    path = _write(tmp_path, name)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command] + [path, "-j", "1"]
    if command[0] in ("check", "layout", "report") or command[:2] == ["gen", "asserts"]:
        argv += ["-t", "x86_64,i386"]
    assert_clean(run_bounded(argv, timeout=90))


USAGE = {
    "unknown_target": ["layout", SEED, "-t", "vax"],
    "triple_garbage": ["layout", SEED, "-t", "foo-bar-baz-qux"],
    "empty_target": ["layout", SEED, "-t", ","],
    "missing_header": ["layout", "/nonexistent/x.h"],
    "directory_without_headers": ["layout", str(SEED_DIR.parents[1] / "schema")],
    "no_header": ["layout"],
    "record_matches_nothing": ["layout", SEED, "-r", "nothing_*"],
    "jobs_word": ["layout", SEED, "-j", "many"],
    "bad_std": ["layout", SEED, "--std", "c9000", "-t", "x86_64"],
    "sysroot_no_equals": ["layout", SEED, "--sysroot", "x86_64"],
    "sysroot_missing_dir": ["layout", SEED, "--sysroot", "x86_64=/nonexistent"],
    "include_dir_missing": ["layout", SEED, "-I", "/nonexistent"],
    "force_include_missing": ["layout", SEED, "--include", "/nonexistent.h", "-t", "x86_64"],
    "define_garbage": ["layout", SEED, "-D", "=", "-t", "x86_64"],
    "compat_same_target": ["compat", PRIVCMD, "--native", "x86_64", "--compat", "x86_64"],
    "compat_unknown": ["compat", PRIVCMD, "--native", "x86_64", "--compat", "pdp11"],
    "fail_on_bogus": ["check", SEED, "--fail-on", "bogus"],
    "select_unknown_rule": ["check", SEED, "--select", "ABI999", "-t", "x86_64"],
    "unknown_command": ["frobnicate"],
    "rules_unknown": ["rules", "ABI999"],
    "convert_snapshot_and_header": ["convert", SEED, "--snapshot", "x.json", "-r", "x",
                                    "--from", "x86_64", "--to", "i386"],
    "convert_missing_snapshot": ["convert", "--snapshot", "/nonexistent.json", "-r", "x",
                                 "--from", "x86_64", "--to", "i386"],
    "gen_asserts_unknown_target": ["gen", "asserts", SEED, "-t", "vax"],
    "ioctls_engine_target": ["ioctls", SEED, "--native", "m68k", "--compat", "i386"],
    "output_unwritable": ["layout", SEED, "-t", "x86_64", "-o", "/nonexistent/dir/out.txt"],
    "unit_timeout_negative": ["layout", SEED, "--unit-timeout", "-1"],
    "unit_memory_word": ["layout", SEED, "--unit-memory", "lots"],
}


@pytest.mark.parametrize("name", sorted(USAGE))
def test_usage_errors(name: str) -> None:
    r = run_bounded(USAGE[name], timeout=60)
    assert_clean(r)
    assert r.code == 2, str(r)


CONFIGS: dict[str, bytes] = {
    "not_toml": b"targets = [x86_64\n",
    "binary": bytes(range(256)) * 4,
    "wrong_type": b"targets = 5\n",
    "wrong_list_type": b"include = [1, 2]\n",
    "unknown_key": b"frobnicate = true\n",
    "unknown_target": b'targets = ["vax"]\n',
    "missing_header": b'headers = ["/nonexistent/h.h"]\n',
    "bad_sysroot": b'sysroot = "nonsense"\n',
    "section_not_table": b'check = "yes"\n',
    "empty": b"",
    "deep_tables": b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "unit_timeout_negative": b"unit_timeout = -1\n",
    "unit_memory_string": b'unit-memory = "2G"\n',
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("how", ["--config", "discovered", "pyproject"])
def test_broken_config(name: str, how: str, tmp_path: Path) -> None:
    if how == "pyproject":
        body = CONFIGS[name]
        (tmp_path / "pyproject.toml").write_bytes(b"[tool.abiscope]\n" + body)
    else:
        (tmp_path / "abiscope.toml").write_bytes(CONFIGS[name])
    argv = ["check", SEED, "-t", "x86_64", "-j", "1"]
    if how == "--config":
        argv += ["--config", str(tmp_path / "abiscope.toml")]
    r = run_bounded(argv, cwd=str(tmp_path))
    assert_clean(r)
    if name not in ("empty", "missing_header", "unknown_target"):  # the command line wins
        assert r.code == 2, str(r)


# --------------------------------------------------------------------------- snapshots

@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("snap")
    r = run_bounded(["layout", SEED, "--all-files", "-t", "x86_64,i386", "-f", "json",
                     "-j", "1", "-o", str(tmp / "s.json")])
    assert r.code == 0, str(r)
    doc: dict[str, object] = json.loads((tmp / "s.json").read_text())
    return doc


def _convert(snap: Path, tmp: Path, size: int = 16) -> Bounded:
    (tmp / "in.bin").write_bytes(bytes(size))
    return run_bounded(["convert", "--snapshot", str(snap), "-r", "xen_dm_op_buf",
                        "--from", "x86_64", "--to", "i386", "-i", str(tmp / "in.bin"),
                        "-o", str(tmp / "out.bin")], timeout=30)


def _mutations(doc: object) -> dict[str, Callable[[str], bytes]]:
    del doc  # each mutation takes the snapshot's text
    return {
        "truncated_half": lambda t: t[: len(t) // 2].encode(),
        "truncated_one": lambda t: t[:-1].encode(),
        "binary": lambda t: random.Random(2).randbytes(4096),
        "empty": lambda t: b"",
        "wrong_schema": lambda t: t.replace("abiscope.layout/1", "abiscope.layout/2").encode(),
        "other_schema": lambda t: t.replace("abiscope.layout/1", "abiscope.compat/1").encode(),
        "no_schema": lambda t: t.replace('"schema"', '"schemx"').encode(),
        "array": lambda t: b"[1, 2, 3]",
        "null": lambda t: b"null",
        "sizes_strings": lambda t: t.replace('"size": ', '"size": "').replace(
            ', "align"', '", "align"').encode(),
        "sizes_negative": lambda t: t.replace('"size": ', '"size": -').encode(),
        "sizes_huge": lambda t: t.replace('"size": ', '"size": 1' + "0" * 30).encode(),
        "offsets_float": lambda t: t.replace('"offset_bits": ', '"offset_bits": 0.5 + ').encode()
        if False else t.replace('"offset_bits": 0', '"offset_bits": 0.5').encode(),
        "members_null": lambda t: t.replace('"members": [', '"members": null, "x": [').encode(),
        "deep_nesting": lambda t: b'{"schema": "abiscope.layout/1", "records": '
                                  + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "bom": lambda t: b"\xef\xbb\xbf" + t.encode(),
    }


@pytest.mark.parametrize("mutation", [
    "truncated_half", "truncated_one", "binary", "empty", "wrong_schema", "other_schema",
    "no_schema", "array", "null", "sizes_strings", "sizes_negative", "sizes_huge",
    "offsets_float", "members_null", "deep_nesting", "bom"])
def test_corrupt_snapshot(mutation: str, snapshot: dict[str, object], tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_bytes(_mutations(snapshot)[mutation](json.dumps(snapshot)))
    r = _convert(snap, tmp_path)
    assert_clean(r)
    assert r.code == 2, str(r)


def test_snapshot_round_trip_still_converts(snapshot: dict[str, object], tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(snapshot))
    r = _convert(snap, tmp_path)
    assert r.code == 0, str(r)
    short = _convert(snap, tmp_path, size=15)
    assert short.code == 2 and "short" in short.err, str(short)
