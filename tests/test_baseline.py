"""`abiscope check --baseline`: new / unchanged / absent, fingerprints that survive what
does not change a finding, --fail-on on new findings only, bad baseline files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from abiscope.checks import FINGERPRINT_V1, FINGERPRINT_V2, stable_cause
from conftest import CliResult, skip_or_fail

Run = Callable[..., CliResult]
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / \
    "sarif-schema-2.1.0.json"
TARGETS = ("--target", "i386,x86_64")

# anonymous records (their clang spelling holds file:line:col) in the causes of findings
ANON = """#include <stdint.h>
struct outer {
    uint32_t kind;
    union {
        struct { uint32_t lo; uint64_t hi; } wide;
        uint8_t raw[12];
    } u;
    struct { uint16_t a; uint32_t b; } pair;
};
"""
HOLE = "struct added { uint8_t flag; uint32_t value; };\n"


def sarif(run: Run, *args: str) -> dict[str, Any]:
    r = run("check", *args, *TARGETS, "--format", "sarif", "--fail-on", "never")
    assert r.code == 0, r.err
    doc: dict[str, Any] = json.loads(r.out)
    return doc


def results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = doc["runs"][0]["results"]
    return out


def states(doc: dict[str, Any]) -> dict[str, int]:
    count: dict[str, int] = {}
    for res in results(doc):
        count[res["baselineState"]] = count.get(res["baselineState"], 0) + 1
    return count


def validate(doc: dict[str, Any]) -> None:
    if not SARIF_SCHEMA.is_file():
        skip_or_fail(f"SARIF schema missing: {SARIF_SCHEMA} (../shared beside the checkout)")
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))


def write_baseline(tmp_path: Path, doc: dict[str, Any], name: str = "base.sarif") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_stable_cause_drops_where_an_anonymous_type_is() -> None:
    assert stable_cause("struct (unnamed at /usr/include/linux/bpf.h:1486:2)") == \
        "(anonymous struct)"
    assert stable_cause("struct (anonymous at a.h:3:5) (aligned to 8)") == \
        "(anonymous struct) (aligned to 8)"
    assert stable_cause("(unnamed union at x.h:1:2)[4]") == "(anonymous union)[4]"
    assert stable_cause("enum (anonymous at f.h:3)") == "(anonymous enum)"
    assert stable_cause("__u64 (aligned to 8)") == "__u64 (aligned to 8)"


def test_moved_lines_and_another_directory_leave_every_finding_unchanged(
        run_cli: Run, tmp_path: Path) -> None:
    """Lines moved by a comment block above, another record added before it, and the
    header in another directory (the Action's base checkout): v2 fingerprints all match,
    where v1 would not (the anonymous records' file:line:col are in their causes)."""
    (tmp_path / "base").mkdir()
    (tmp_path / "head").mkdir()
    (tmp_path / "base" / "anon.h").write_text(ANON)
    base = sarif(run_cli, str(tmp_path / "base" / "anon.h"))
    anonymous = [r for r in results(base) if "(unnamed" in r["properties"]["cause"]
                 or "(anonymous" in r["properties"]["cause"]]
    assert anonymous, "the example should have findings caused by anonymous records"
    (tmp_path / "head" / "anon.h").write_text(
        ANON.replace("struct outer", "/*\n * a comment\n * block\n */\n"
                     "struct other { uint64_t x; };\n\nstruct outer", 1))
    path = write_baseline(tmp_path, base)
    head = sarif(run_cli, str(tmp_path / "head" / "anon.h"), "--baseline", path)
    ours = [r for r in results(head) if r["properties"]["record"] == "struct outer"]
    assert {r["baselineState"] for r in ours} == {"unchanged"}
    assert len(ours) == len(results(base))
    assert not [r for r in results(head) if r["baselineState"] == "absent"]
    v1_then = {r["partialFingerprints"][FINGERPRINT_V1] for r in results(base)}
    v1_now = {r["partialFingerprints"][FINGERPRINT_V1] for r in ours}
    assert v1_then != v1_now  # why v2 exists
    validate(head)


def test_new_finding_is_new_and_fail_on_counts_only_new(run_cli: Run,
                                                          tmp_path: Path) -> None:
    header = tmp_path / "h.h"
    header.write_text(ANON)
    base = write_baseline(tmp_path, sarif(run_cli, str(header)))
    # the old findings alone: warnings, yet nothing new, so exit 0 at --fail-on warning
    same = run_cli("check", str(header), *TARGETS, "--baseline", base, "--fail-on", "warning")
    assert same.code == 0, same.out + same.err
    assert "0 new," in same.out and "unchanged (not shown: --show-unchanged" in same.out
    header.write_text(ANON + HOLE)
    r = run_cli("check", str(header), *TARGETS, "--baseline", base, "--fail-on", "warning")
    assert r.code == 1
    out = r.out
    assert out.index("struct added") < out.index("baseline ")
    assert "struct outer" not in out  # unchanged ones are not shown ...
    assert "1 new," in out or "2 new," in out  # (the hole, and maybe tail padding)
    shown = run_cli("check", str(header), *TARGETS, "--baseline", base, "--show-unchanged")
    assert shown.out.index("struct added") < shown.out.index("struct outer")  # new first
    doc = sarif(run_cli, str(header), "--baseline", base)
    added = {r["baselineState"] for r in results(doc)
             if r["properties"]["record"] == "struct added"}
    assert added == {"new"}
    assert states(doc).get("absent", 0) == 0
    gh = run_cli("check", str(header), *TARGETS, "--baseline", base, "--format", "github",
                 "--fail-on", "never")
    lines = gh.out.splitlines()
    assert all("struct added" in line for line in lines[:-1]) and len(lines) >= 2
    assert lines[-1].startswith("::notice title=abiscope baseline::")
    assert "unchanged (not shown" in lines[-1]
    js = json.loads(run_cli("check", str(header), *TARGETS, "--baseline", base,
                            "--format", "json", "--fail-on", "never").out)
    assert {f["baseline_state"] for f in js["findings"]} == {"new", "unchanged"}
    assert js["baseline"]["new"] == len([f for f in js["findings"]
                                         if f["record"] == "struct added"])
    assert js["baseline"]["absent"] == 0


def test_removed_finding_is_absent_in_sarif(run_cli: Run, tmp_path: Path) -> None:
    header = tmp_path / "h.h"
    header.write_text(ANON + HOLE)
    base_doc = sarif(run_cli, str(header))
    gone = [r for r in results(base_doc) if r["properties"]["record"] == "struct added"]
    base = write_baseline(tmp_path, base_doc)
    header.write_text(ANON)
    doc = sarif(run_cli, str(header), "--baseline", base)
    absent = [r for r in results(doc) if r["baselineState"] == "absent"]
    assert [r["partialFingerprints"] for r in absent] == \
        [r["partialFingerprints"] for r in gone]
    validate(doc)
    # a baseline that is itself a --baseline run: its absent results are not findings
    again = sarif(run_cli, str(header), "--baseline", write_baseline(tmp_path, doc, "2.sarif"))
    assert states(again) == {"unchanged": len(results(again))}
    # rules not selected now are not absent: they were not looked for
    only = sarif(run_cli, str(header), "--baseline", base, "--select", "ABI005")
    assert {r["ruleId"] for r in results(only)} <= {"ABI005"}


def test_v1_baseline_matched_by_rule_record_and_member(run_cli: Run, tmp_path: Path) -> None:
    """A baseline written before v2 (v1 fingerprints only, which moved with the anonymous
    records' lines) still matches, by rule, record and member."""
    header = tmp_path / "h.h"
    header.write_text(ANON)
    old = sarif(run_cli, str(header))
    for res in results(old):
        del res["partialFingerprints"][FINGERPRINT_V2]
    header.write_text("\n\n\n" + ANON)
    doc = sarif(run_cli, str(header), "--baseline", write_baseline(tmp_path, old))
    assert states(doc) == {"unchanged": len(results(old))}


def test_equal_fingerprints_are_counted() -> None:
    """Each baseline result matches one finding: two of the same, one in the baseline,
    leave one new."""
    from abiscope.baseline import Baseline, BaselineResult, compare
    from abiscope.checks import Finding
    from abiscope.errors import SourceLocation

    def finding(cause: str) -> Finding:
        return Finding("ABI001", "interior-padding", "warning", "struct s", "a", ("x86_64",),
                       "m", cause, "f", SourceLocation("h.h", 1, 1))

    f = finding("struct (unnamed at h.h:1:2)")
    entry = BaselineResult("ABI001", "struct s", "a", f.fingerprint, f.stable_fingerprint, {})
    got = compare([finding("struct (unnamed at h.h:9:2)")] * 2, Baseline("b", (entry,)),
                  {"ABI001"})
    assert got.states == ("unchanged", "new") and not got.absent


@pytest.mark.parametrize("content, words", [
    ("{", "not JSON"),
    ("[]", "not a SARIF 2.1.0 log"),
    ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "clang-tidy"}}}]}',
     "'clang-tidy', not abiscope's"),
    ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "abiscope"}}, "results": '
     '[{"ruleId": "breaking", "partialFingerprints": {"abiscopeChange/v1": "x"}}]}]}',
     "abiscope diff"),
    ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "abiscope"}}, "results": '
     '[{"partialFingerprints": {"abiscopeFinding/v2": "x"}}]}]}', "no ruleId"),
])
def test_bad_baseline_is_an_input_error(run_cli: Run, tmp_path: Path, content: str,
                                        words: str) -> None:
    header = tmp_path / "h.h"
    header.write_text("#include <stdint.h>\n" + HOLE)
    bad = tmp_path / "bad.sarif"
    bad.write_text(content)
    r = run_cli("check", str(header), *TARGETS, "--baseline", str(bad))
    assert r.code == 2, r.err
    assert words in r.err and str(bad) in r.err and "Traceback" not in r.err
    missing = run_cli("check", str(header), "--baseline", str(tmp_path / "none.sarif"))
    assert missing.code == 2 and "none.sarif" in missing.err
    alone = run_cli("check", str(header), "--show-unchanged")
    assert alone.code == 2 and "--baseline" in alone.err


UAPI = Path("/usr/include/linux")
COMMENT = "/*\n * A comment block inserted above the structs: every line below moves.\n */\n"
PROBE = ("struct ethtool_abiscope_probe {\n\t__u16\tcmd;\n\t__u32\tflags;\n\t__u8\ttag;\n};\n\n")


def _uapi_copy(root: Path) -> list[str]:
    import shutil

    shutil.copytree(UAPI, root / "linux", symlinks=True)
    return sorted(str(p) for p in (root / "linux").glob("*.h"))


def _keys(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["ruleId"], r["properties"]["record"], r["properties"]["member"])
            for r in results(doc)]


@pytest.mark.slow
def test_uapi_tree_baseline_yields_exactly_the_new_findings(run_cli: Run,
                                                            tmp_path: Path) -> None:
    """Linux UAPI's linux/*.h on i386 + x86_64: a baseline from the headers as they are
    (copied), then the same tree in another directory with a comment block above the
    structs of bpf.h (anonymous unions) and ethtool.h and the headers in reverse order:
    every finding unchanged; then ethtool.h patched (a new struct with a hole, a plain
    __u64 after a __u32): exactly the patched records' new findings are new."""
    if not (UAPI / "ethtool.h").is_file() or not (UAPI / "bpf.h").is_file():
        skip_or_fail("Linux UAPI headers missing (/usr/include/linux: Debian's linux-libc-dev)")
    base_headers = _uapi_copy(tmp_path / "base")
    head_headers = _uapi_copy(tmp_path / "head")
    args = ("--target", "i386,x86_64", "--format", "sarif", "--fail-on", "never",
            "--no-cache")

    def check(headers: list[str], root: Path, *extra: str) -> dict[str, Any]:
        r = run_cli("check", *headers, "-I", str(root), *args, *extra)
        assert r.code == 0, r.err[-2000:]
        doc: dict[str, Any] = json.loads(r.out)
        notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert not [n for n in notes if "bpf.h" in n["message"]["text"]
                    or "ethtool.h" in n["message"]["text"]]
        return doc

    base = check(base_headers, tmp_path / "base")
    baseline = write_baseline(tmp_path, base)
    assert len(results(base)) > 1000

    head = tmp_path / "head" / "linux"
    for name, anchor in (("bpf.h", "\nstruct bpf_"), ("ethtool.h", "\nstruct ethtool_")):
        text = (head / name).read_text()
        at = text.index(anchor) + 1
        (head / name).write_text(text[:at] + COMMENT + text[at:])
    moved = check(head_headers[::-1], tmp_path / "head", "--baseline", baseline)
    assert states(moved) == {"unchanged": len(results(base))}
    assert sorted(_keys(moved)) == sorted(_keys(base))
    v1_then = {r["partialFingerprints"][FINGERPRINT_V1] for r in results(base)}
    v1_moved = sum(r["partialFingerprints"][FINGERPRINT_V1] not in v1_then
                   for r in results(moved))
    assert v1_moved  # v1 fails here: bpf.h's anonymous unions moved

    text = (head / "ethtool.h").read_text()
    old_modinfo = "\t__u32   reserved[8];\n};"
    assert text.count(old_modinfo) == 1
    text = text.replace(old_modinfo, "\t__u32   reserved[8];\n\t__u64\tfeatures;\n};")
    text = text.replace("struct ethtool_value {", PROBE + "struct ethtool_value {", 1)
    (head / "ethtool.h").write_text(text)
    patched = check(head_headers[::-1], tmp_path / "head", "--baseline", baseline)
    validate(patched)
    before = set(_keys(base))
    touched = {"struct ethtool_abiscope_probe", "struct ethtool_modinfo"}
    expected_new = {k for k in _keys(patched) if k[1] in touched and k not in before}
    assert {("ABI001", "struct ethtool_abiscope_probe", "cmd"),
            ("ABI001", "struct ethtool_modinfo", "reserved"),
            ("ABI005", "struct ethtool_modinfo", "features")} <= expected_new
    got = {k: r["baselineState"] for k, r in zip(_keys(patched), results(patched),
                                                   strict=True)}
    assert {k for k, s in got.items() if s == "new"} == expected_new
    assert "absent" not in states(patched)
    assert states(patched)["unchanged"] == len(results(base))
    print(f"UAPI baseline: {len(results(base))} findings ({v1_moved} v1 fingerprints moved "
          f"with the lines); patched: "
          f"{states(patched)} ({sorted(expected_new)})")
