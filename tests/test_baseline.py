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
