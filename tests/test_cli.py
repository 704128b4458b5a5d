"""The `abiscope layout` command: output formats, record selection, and clear errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from abiscope.model import json_schema
from conftest import SEED_DIR, CliResult, skip_or_fail

Run = Callable[..., CliResult]
DM_OP = str(SEED_DIR / "dm_op.h")
V3 = str(SEED_DIR / "dm_op_v3.h")


def assert_clean_error(result: CliResult, *needles: str) -> None:
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert result.err.startswith("abiscope: ")
    for needle in needles:
        assert needle in result.err


def test_text_layout_shows_every_target_side_by_side(run_cli: Run) -> None:
    r = run_cli("layout", V3, "--target", "x86,arm,aarch64", "--record", "xen_dm_op_buf_v3")
    assert r.code == 0, r.err
    header = next(line for line in r.out.splitlines() if line.startswith("member"))
    for target in ("i386", "x86_64", "x32", "arm", "aarch64"):
        assert target in header
    assert "tail padding" in r.out and "4-byte" in r.out
    assert "struct xen_dm_op_buf_v3_pad" not in r.out


def test_record_glob_matches_tag_or_full_name(run_cli: Run) -> None:
    by_tag = run_cli("layout", V3, "--record", "xen_dm_op_*", "--format", "json")
    by_name = run_cli("layout", V3, "--record", "struct xen_dm_op_*", "--format", "json")
    names = [r["name"] for r in json.loads(by_tag.out)["records"]]
    assert names == ["struct xen_dm_op_buf_v3", "struct xen_dm_op_buf_v3_pad"]
    assert by_tag.out == by_name.out


def test_json_is_schema_valid_sorted_and_holds_only_the_inputs_records(run_cli: Run) -> None:
    r = run_cli("layout", V3, DM_OP, "--format", "json", "--target", "default")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    jsonschema.validate(doc, json_schema())
    names = [rec["name"] for rec in doc["records"]]
    assert names == sorted(names)
    assert "__guest_handle_void" not in names  # declared in the included xen-arch.h
    everything = json.loads(run_cli("layout", DM_OP, "--format", "json", "--all-files").out)
    assert "__guest_handle_void" in [rec["name"] for rec in everything["records"]]


def test_output_file(run_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "layout.json"
    r = run_cli("layout", V3, "--format", "json", "-o", str(out))
    assert r.code == 0 and r.out == ""
    jsonschema.validate(json.loads(out.read_text()), json_schema())


def test_header_failing_on_some_targets_reports_the_others(run_cli: Run) -> None:
    r = run_cli("layout", DM_OP, "--target", "x86_64,riscv64", "--format", "json")
    assert r.code == 0
    assert "does not parse for riscv64" in r.err and "xen-arch.h:" in r.err
    doc = json.loads(r.out)
    assert list(doc["records"][0]["layouts"]) == ["x86_64"]
    assert doc["failures"][0]["target"] == "riscv64"
    strict = run_cli("layout", DM_OP, "--target", "x86_64,riscv64", "--strict")
    assert_clean_error(strict, "--strict")


def test_header_failing_everywhere_is_exit_2_with_compiler_words(run_cli: Run) -> None:
    r = run_cli("layout", DM_OP, "--target", "riscv64,s390x")
    lines = (SEED_DIR / "xen-arch.h").read_text().splitlines()
    error_line = next(i for i, line in enumerate(lines, 1) if line.startswith("#error"))
    assert_clean_error(r, "parses on no selected target", f"xen-arch.h:{error_line}:2",
                       "support x86 and Arm only")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("layout", "no/such/header.h"), ("no/such/header.h", "no such file")),
        (("layout", DM_OP, "--target", "vax"), ("unknown target 'vax'", "x86_64")),
        (("layout", DM_OP, "--record", "nope_*"), ("matches no record",)),
        (("layout", DM_OP, "--sysroot", "i386"), ("TARGET=DIR",)),
        (("layout", DM_OP, "-I", "/no/such/dir"), ("/no/such/dir",)),
        (("layout", DM_OP, "--format", "xml"), ("invalid choice",)),
        (("frobnicate",), ("invalid choice",)),
        (("layout", DM_OP, "-j", "0"), ("-j/--jobs", "at least 1, not 0")),
        (("layout", DM_OP, "--jobs=-2"), ("-j/--jobs", "at least 1, not -2")),
        (("compat", DM_OP, "-j", "-1"), ("-j/--jobs", "at least 1, not -1")),
        (("demo", "-j", "0"), ("-j/--jobs", "at least 1, not 0")),
        (("layout", DM_OP, "-j", "many"), ("-j/--jobs", "invalid int value: 'many'")),
    ],
)
def test_bad_input_is_one_clear_message_and_exit_2(
        run_cli: Run, args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    r = run_cli(*args)
    assert r.code == 2
    assert "Traceback" not in r.err
    for needle in needles:
        assert needle in r.err


def test_syntax_error_names_file_line_col(run_cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.h"
    bad.write_text("struct ok { int a; };\nstruct broken { int a; unknown_t b; };\n")
    r = run_cli("layout", str(bad), "--target", "x86_64")
    assert_clean_error(r, "bad.h:2:24", "unknown type name")


def test_binary_garbage_is_a_clear_error(run_cli: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.h"
    junk.write_bytes(bytes(range(256)) * 4)
    assert_clean_error(run_cli("layout", str(junk), "--target", "x86_64"))


def test_engine_targets_lay_out_where_clang_cannot(run_cli: Run) -> None:
    r = run_cli("layout", V3, "--target", "m68k,lp128,cheri128", "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["targets"]["lp128"]["hypothetical"] is True
    layouts = doc["records"][0]["layouts"]
    assert layouts["m68k"]["size"] == 16 and layouts["lp128"]["size"] == 32
    jsonschema.validate(doc, json_schema())


def test_targets_command_lists_registry(run_cli: Run) -> None:
    r = run_cli("targets", "--format", "json")
    doc = json.loads(r.out)
    assert doc["groups"]["default"] == ["i386", "x86_64", "x32", "arm", "aarch64"]
    assert {t["name"] for t in doc["targets"]} >= {"i386", "m68k", "lp128", "win64"}


@pytest.mark.parametrize("text, where", [
    ("struct x { int a\n", "x.h:1:17"),            # a member without ';', struct unclosed
    ("struct x { int a;\n", "x.h:1:18"),           # unclosed: clang's '}' is past the end
    ("#if 1\nstruct x { int a; };\n", "x.h:1:2"),  # unterminated conditional
])
def test_a_broken_header_is_named_not_the_file_that_includes_it(
        run_cli: Run, tmp_path: Path, text: str, where: str) -> None:
    """A header has a translation unit of its own through a one-line main file that
    includes it; its errors are the header's, never that file's (exit 2, one message)."""
    (tmp_path / "x.h").write_text(text)
    r = run_cli("layout", str(tmp_path / "x.h"), "-t", "x86_64")
    assert r.code == 2
    assert where in r.err and "<abiscope" not in r.err


def test_layout_of_a_header_without_records_says_so(run_cli: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty.h"
    empty.write_text("/* nothing */\n#define ANSWER 42\ntypedef int handle_t;\n")
    for fmt in ("text", "pahole", "json"):
        r = run_cli("layout", str(empty), "--target", "x86_64", "--format", fmt, "--no-cache")
        assert r.code == 0, r.err
        assert r.out == "" if fmt != "json" else json.loads(r.out)["records"] == []
        assert f"no records in {empty}" in r.err
    warm = run_cli("layout", str(empty), "--target", "x86_64", "--format", "json")
    assert f"no records in {empty}" in run_cli(
        "layout", str(empty), "--target", "x86_64", "--format", "json").err
    assert warm.code == 0
    full = run_cli("layout", V3, "--target", "x86_64", "--format", "json")
    assert full.code == 0 and "no records" not in full.err
    r = run_cli("layout", str(empty), "--target", "x86_64", "--all-files", "--no-cache")
    assert r.code == 0 and r.err.strip() == f"abiscope: no records in {empty}"


def test_layout_without_own_records_points_at_all_files(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "inner.h").write_text("struct inner { int a; };\n")
    wrapper = tmp_path / "wrapper.h"
    wrapper.write_text('#include "inner.h"\n')
    r = run_cli("layout", str(wrapper), "--target", "x86_64", "--no-cache")
    assert r.code == 0 and r.out == ""
    assert "no records in" in r.err and "--all-files" in r.err


XEN_DIR = "/usr/include/xen"
XEN_SLICE = Path(__file__).parent / "fixtures" / "xen-public"  # a Xen source tree's slice


def _readme_xen_commands() -> list[str]:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    tour = readme.split("## A short tour", 1)[1].split("```", 2)[1]
    return [line for line in tour.splitlines() if line.startswith("abiscope ") and "$XEN" in line]


def test_readme_xen_commands_work_as_printed(run_cli: Run, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The tour's Xen commands, as printed, on Debian's libxen-dev and (the ones a committed
    slice of Xen's tree can serve) on a Xen source tree: they parse and exit 0."""
    import shlex

    if not os.path.isfile(f"{XEN_DIR}/xen.h"):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    commands = _readme_xen_commands()
    assert len(commands) >= 4
    monkeypatch.chdir(tmp_path)  # (gen compat writes compat.h here)
    ran = 0
    for xen in (XEN_DIR, str(XEN_SLICE)):
        for command in commands:
            words = shlex.split(command.replace("$XEN", xen))[1:]
            if not os.path.isfile(next(w for w in words if w.startswith(xen))):
                continue  # (the slice has vcpu.h, not hvm/dm_op.h)
            r = run_cli(*words)
            assert r.code == 0, (command, xen, r.err)
            assert "does not parse" not in r.err and "error" not in r.err, r.err
            ran += 1
    assert ran >= 6


def test_xen_parse_errors_explain_what_is_missing(run_cli: Run) -> None:
    """Without <stdint.h> the error says to --include it; -I /usr/include/xen shadows glibc's
    features.h, and the error says so (was: "'__GLIBC_USE' is not defined" alone)."""
    if not os.path.isfile(f"{XEN_DIR}/xen.h"):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    header = f"{XEN_DIR}/vcpu.h"
    bare = run_cli("layout", header, "--target", "x86_64", "--no-cache")
    assert_clean_error(bare, "unknown type name", "--include stdint.h")
    shadowed = run_cli("layout", header, "-I", XEN_DIR, "--include", "stdint.h",
                       "--target", "x86_64", "--no-cache")
    assert_clean_error(shadowed, "'__GLIBC_USE' is not defined",
                       f"<features.h> resolved to {XEN_DIR}/features.h, not glibc's",
                       "-I /usr/include", "--no-system-dirs")
    assert shadowed.err.count("[hint:") == 1
