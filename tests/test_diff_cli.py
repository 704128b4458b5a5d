"""``abiscope snapshot`` and ``abiscope diff`` as a user runs them: deterministic snapshots,
snapshot/header/git sides, schemas (abiscope.layout/1, abiscope.diff/1, SARIF 2.1.0), exit
codes and clear errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from abiscope.model import json_schema
from conftest import CliResult, skip_or_fail

Run = Callable[..., CliResult]
DATA = Path(__file__).resolve().parent / "data" / "diff"
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "src" / "abiscope" / "schema"
SARIF_CANDIDATES = [Path(__file__).resolve().parents[i] / "shared" / "schemas" /
                    "sarif-schema-2.1.0.json" for i in (2, 3)]
IOCTL = DATA / "15-ioctl-iow-size-change"
DMOP = DATA / "30-nested-dm-op-member"


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Snapshots of the ioctl case, old and new, on x86_64 and i386 (one parse each)."""
    from abiscope import cli

    out = tmp_path_factory.mktemp("snaps")
    paths = {}
    for side in ("old", "new"):
        paths[side] = out / f"{side}.json"
        assert cli.main(["snapshot", str(IOCTL / f"{side}.h"), "--target", "x86_64,i386",
                         "-j", "1", "-o", str(paths[side])]) == 0
    return paths


def test_snapshot_is_deterministic_and_valid(snaps: dict[str, Path], run_cli: Run) -> None:
    res = run_cli("snapshot", str(IOCTL / "old.h"), "--target", "x86_64,i386", "-j", "1")
    assert res.code == 0, res.err
    assert res.out == snaps["old"].read_text()  # byte for byte
    doc = json.loads(res.out)
    jsonschema.validate(doc, json_schema())
    assert [m["name"] for m in doc["macros"]] == ["DM_CMD"]
    assert set(doc["macros"][0]["values"]) == {"x86_64", "i386"}
    assert str(Path.cwd()) not in res.out  # no absolute path of the checkout


def test_snapshot_side_equals_header_side(snaps: dict[str, Path], run_cli: Run) -> None:
    a = run_cli("diff", str(snaps["old"]), str(snaps["new"]), "-f", "json")
    b = run_cli("diff", str(snaps["old"]), str(IOCTL / "new.h"), "-f", "json", "-j", "1")
    assert a.code == b.code == 1, (a.err, b.err)
    strip = ("inputs",)
    da, db = json.loads(a.out), json.loads(b.out)
    jsonschema.validate(da, json.loads((SCHEMA_DIR / "diff-1.schema.json").read_text()))
    for d in (da, db):
        for side in ("old", "new"):
            for k in strip:
                d[side].pop(k)
    assert da == db
    kinds = {(c["kind"], c["record"]) for c in da["changes"]}
    assert ("ioctl-changed", "DM_CMD") in kinds


def test_sarif_validates(snaps: dict[str, Path], run_cli: Run) -> None:
    schema_path = next((p for p in SARIF_CANDIDATES if p.is_file()), None)
    if schema_path is None:
        skip_or_fail("SARIF schema missing (../shared/schemas beside the checkout)")
        return
    res = run_cli("diff", str(snaps["old"]), str(snaps["new"]), "-f", "sarif")
    assert res.code == 1
    doc = json.loads(res.out)
    jsonschema.validate(doc, json.loads(schema_path.read_text()))
    results = doc["runs"][0]["results"]
    assert {r["level"] for r in results} == {"error"}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "new.h") for r in results)


def test_fail_on_levels(run_cli: Run) -> None:
    case = DATA / "04-reserved-given-meaning"
    args = ("diff", str(case / "old.h"), str(case / "new.h"), "-t", "x86_64", "-j", "1")
    assert run_cli(*args).code == 0
    res = run_cli(*args, "--fail-on", "compatible")
    assert res.code == 1 and "reserved-used" in res.out and "zero" in res.out
    assert run_cli("diff", str(IOCTL / "old.h"), str(IOCTL / "new.h"), "-t", "x86_64",
                   "-j", "1", "--fail-on", "never").code == 0


def test_nested_path_text(run_cli: Run) -> None:
    res = run_cli("diff", str(DMOP / "old.h"), str(DMOP / "new.h"), "-t", "x86_64", "-j", "1")
    assert res.code == 1
    assert "u.create_ioreq_server.id" in res.out
    assert "__u16 (2 bytes) -> __u32 (4 bytes)" in res.out


def test_extensible_option(run_cli: Run) -> None:
    case = DATA / "03-append-not-extensible"
    args = ("diff", str(case / "old.h"), str(case / "new.h"), "-t", "x86_64", "-j", "1")
    assert run_cli(*args).code == 1
    res = run_cli(*args, "--extensible", "evt")
    assert res.code == 0, res.out
    assert "declared extensible" in res.out


def test_target_sets_must_match(snaps: dict[str, Path], tmp_path: Path, run_cli: Run) -> None:
    other = tmp_path / "x86.json"
    assert run_cli("snapshot", str(IOCTL / "new.h"), "-t", "x86_64", "-j", "1",
                   "-o", str(other)).code == 0
    res = run_cli("diff", str(snaps["old"]), str(other))
    assert res.code == 2
    assert "different targets" in res.err and "only old: i386" in res.err
    assert "Traceback" not in res.err
    # an explicit --target picks the common subset on purpose
    res = run_cli("diff", str(snaps["old"]), str(other), "-t", "x86_64")
    assert res.code == 1
    res = run_cli("diff", str(snaps["old"]), str(other), "-t", "i386")
    assert res.code == 2 and "has no target i386" in res.err


@pytest.mark.parametrize("args,words", [
    (("diff", "nope.json", "nope2.json"), "no such file"),
    (("diff", "only-one.h"), "two sides"),
    (("diff", "--git", "HEAD"), "needs the headers"),
    (("diff", "--old", "a.h"), "both --old and --new"),
])
def test_usage_errors(args: tuple[str, ...], words: str, run_cli: Run) -> None:
    res = run_cli(*args)
    assert res.code == 2
    assert words in res.err


def test_bad_snapshot_is_an_input_error(tmp_path: Path, run_cli: Run) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "abiscope.layout/1", "targets": ')
    res = run_cli("diff", str(bad), str(bad))
    assert res.code == 2 and "not a JSON snapshot" in res.err and "bad.json:1:" in res.err
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"schema": "abiscope.check/1"}')
    res = run_cli("diff", str(wrong), str(wrong))
    assert res.code == 2 and "not an abiscope.layout/1 document" in res.err


def test_git_revision(tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("git") is None:
        skip_or_fail("git is not installed")
    repo = tmp_path / "repo"
    (repo / "include").mkdir(parents=True)
    header = repo / "include" / "api.h"
    (repo / "include" / "types.h").write_text("typedef unsigned int u32;\n")
    header.write_text('#include "types.h"\nstruct api { u32 a; u32 pad; };\n')
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "v1"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
    header.write_text('#include "types.h"\nstruct api { u32 a; u32 flags; u32 b; };\n')
    (repo / "include" / "types.h").write_text("typedef unsigned long long u32;\n")
    monkeypatch.chdir(repo)
    res = run_cli("diff", "--git", "HEAD", "include/api.h", "-I", "include", "-t", "x86_64",
                  "-j", "1", "-f", "json")
    assert res.code == 1, res.err
    doc = json.loads(res.out)
    kinds = {(c["kind"], c["member"]) for c in doc["changes"]}
    assert ("member-retyped", "a") in kinds  # the included typedef changed too
    assert ("member-added", "b") in kinds
    assert doc["old"]["inputs"] == ["include/api.h"]  # not the temporary checkout
    assert all(c.get("file", "include/api.h") == "include/api.h" for c in doc["changes"])
    res = run_cli("diff", "--git", "no-such-rev", "include/api.h", "-t", "x86_64")
    assert res.code == 2 and "--git" in res.err


def test_snapshot_record_keeps_embedded_records(tmp_path: Path, run_cli: Run) -> None:
    out = tmp_path / "dm.json"
    assert run_cli("snapshot", str(DMOP / "old.h"), "-t", "x86_64", "-j", "1",
                   "--record", "xen_dm_op", "-o", str(out)).code == 0
    names = [r["name"] for r in json.loads(out.read_text())["records"]]
    assert names == ["struct xen_dm_op", "struct xen_dm_op_create_ioreq_server"]
    res = run_cli("diff", str(out), str(DMOP / "new.h"), "-j", "1", "-r", "xen_dm_op")
    assert res.code == 1 and "u.create_ioreq_server.id" in res.out


def test_a_side_failing_on_a_target_is_a_note_not_removals(tmp_path: Path,
                                                            run_cli: Run) -> None:
    old = tmp_path / "old.h"
    new = tmp_path / "new.h"
    old.write_text("struct a { int x; };\n")
    new.write_text("#ifdef __i386__\n#error not on i386\n#endif\nstruct a { int x; };\n")
    res = run_cli("diff", str(old), str(new), "-t", "x86_64,i386", "-j", "1", "-f", "json")
    assert res.code == 0, res.out
    doc = json.loads(res.out)
    assert doc["changes"] == []
    assert any("does not parse completely for i386" in n for n in doc["notes"])
    assert [(n["targets"], n["failed_on"], n["skipped"]) for n in doc["not_compared"]] == \
        [(["i386"], ["new"], 1)]
    assert doc["new"]["failures"][0]["target"] == "i386"
    assert "does not parse for i386" in res.err


def test_snapshot_bytes_do_not_depend_on_how_the_path_is_given(run_cli: Run) -> None:
    rel = os.path.relpath(DMOP / "old.h")
    a = run_cli("snapshot", str(DMOP / "old.h"), "-t", "x86_64", "-j", "1")
    b = run_cli("snapshot", rel, "-t", "x86_64", "-j", "1")
    assert a.code == b.code == 0
    assert a.out == b.out
    assert "(unnamed at tests/data/diff/30-nested-dm-op-member/old.h:" in a.out
    assert str(Path.cwd()) not in a.out


@pytest.mark.parametrize("target,cc", [("x86_64", "gcc"), ("i386", "i686-linux-gnu-gcc")])
def test_ioctl_decoding_matches_the_kernel_macros(target: str, cc: str, tmp_path: Path,
                                                  snaps: dict[str, Path]) -> None:
    """The type/nr/size abiscope prints for an ioctl number, against _IOC_* run by gcc."""
    if shutil.which(cc) is None:
        skip_or_fail(f"{cc} is not installed")
    from abiscope.diff import decode_ioctl

    prog = tmp_path / "p.c"
    prog.write_text(f'#include "{IOCTL / "new.h"}"\n#include <stdio.h>\n'
                    "int main(void) { printf(\"%#x (type %#x, nr %u, size %u)\\n\", "
                    "(unsigned)DM_CMD, (unsigned)_IOC_TYPE(DM_CMD), (unsigned)_IOC_NR(DM_CMD), "
                    "(unsigned)_IOC_SIZE(DM_CMD)); return 0; }\n")
    exe = tmp_path / "p"
    subprocess.run([cc, "-static", str(prog), "-o", str(exe)], check=True)
    expected = subprocess.run([str(exe)], capture_output=True, text=True,
                              check=True).stdout.strip()
    doc = json.loads(snaps["new"].read_text())
    value = next(m for m in doc["macros"] if m["name"] == "DM_CMD")["values"][target]
    assert decode_ioctl(value, target) == expected
