"""`abiscope check`: every rule on its documented example, fixes, suppression, SARIF, config."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from abiscope.checks.rules import CATALOGUE, RULES
from conftest import SEED_DIR, CliResult, skip_or_fail

Run = Callable[..., CliResult]
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / \
    "sarif-schema-2.1.0.json"
BLOCK_RE = re.compile(r"## (Example|Use instead)\n```c\n(.*?)```", re.S)
TARGETS_RE = re.compile(r"/\* abiscope: --target (\S+) \*/")


def page_blocks(rule_id: str) -> dict[str, str]:
    page = next(r for r in RULES if r.id == rule_id).page()
    return {kind: code for kind, code in BLOCK_RE.findall(page)}


def check_json(run: Run, path: Path, *args: str) -> dict[str, object]:
    r = run("check", str(path), "--format", "json", "--fail-on", "never", *args)
    assert r.code == 0, r.err
    doc: dict[str, object] = json.loads(r.out)
    return doc


def rule_ids(doc: dict[str, object]) -> list[str]:
    return [f["rule"] for f in doc["findings"]]  # type: ignore[attr-defined, index]


@pytest.mark.parametrize("rule", [r.id for r in RULES])
def test_rule_page_example_triggers_and_fix_does_not(rule: str, run_cli: Run,
                                                      tmp_path: Path) -> None:
    """The documented example is the rule's test: it fires there and not on the fix."""
    blocks = page_blocks(rule)
    assert set(blocks) == {"Example", "Use instead"}, f"{rule}.md lacks a C block"
    for kind, code in blocks.items():
        header = tmp_path / f"{kind.replace(' ', '_')}.h"
        header.write_text(code)
        targets = TARGETS_RE.search(code)
        args = ("--target", targets.group(1)) if targets else ("--target", "default")
        ids = rule_ids(check_json(run_cli, header, *args))
        if kind == "Example":
            assert rule in ids, f"{rule}'s example does not trigger it: {ids}"
        else:
            assert rule not in ids, f"{rule}'s fix still triggers it"


def test_every_rule_has_a_page_and_rules_command_prints_it(run_cli: Run) -> None:
    listing = run_cli("rules")
    for r in CATALOGUE:
        assert r.id in listing.out and r.name in listing.out
        page = run_cli("rules", r.id)
        assert page.code == 0 and page.out.startswith(f"# {r.id} {r.name}")
        for part in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert part in page.out
    assert run_cli("rules", "tail-padding").out == run_cli("rules", "ABI002").out
    assert run_cli("rules", "ABI999").code == 2


def test_docs_rules_pages_are_the_packaged_pages() -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "rules"
    for r in CATALOGUE:
        assert (docs / f"{r.id}.md").read_text() == r.page()


def test_one_root_cause_is_one_finding_listing_every_target(run_cli: Run,
                                                            tmp_path: Path) -> None:
    header = tmp_path / "one.h"
    header.write_text("struct one { long value; };\n")
    doc = check_json(run_cli, header, "--select", "ABI004")
    (finding,) = doc["findings"]  # type: ignore[misc]
    assert finding["targets"] == ["i386", "x86_64", "x32", "arm", "aarch64"]
    assert (finding["file"], finding["line"], finding["col"]) == (str(header), 1, 19)
    assert finding["member"] == "value" and finding["cause"] == "long"


def test_seed_design_a_tail_padding_and_verified_fix(run_cli: Run) -> None:
    r = run_cli("check", str(SEED_DIR / "dm_op_v3.h"), "--select", "ABI001,ABI002",
                "--fix-preview", "--format", "json")
    assert r.code == 1  # warnings fail by default
    doc = json.loads(r.out)
    (finding,) = doc["findings"]
    assert finding["rule"] == "ABI002" and finding["record"] == "struct xen_dm_op_buf_v3"
    assert "uint32_t pad;" in finding["fix_preview"]
    assert "verified on x86_64" in finding["fix_preview"]
    for ev in finding["evidence"]:
        assert (ev["offset_bits"], ev["size_bits"]) == (96, 32)


def test_fix_preview_padding_follows_the_headers_style(run_cli: Run, tmp_path: Path) -> None:
    header = tmp_path / "styled.h"
    header.write_text("#include <stdint.h>\n"
                      "struct other { uint32_t a; uint32_t __reserved1; };\n"
                      "struct holey { uint8_t kind; uint32_t value; uint8_t last; };\n")
    r = run_cli("check", str(header), "--select", "ABI001,ABI002", "--fix-preview",
                "--format", "json", "--record", "holey")
    previews = {f["rule"]: f["fix_preview"] for f in json.loads(r.out)["findings"]}
    assert "uint8_t __reserved[3];" in previews["ABI001"]
    assert "uint8_t __reserved2[3];" in previews["ABI001"]
    assert "verified on x86_64" in previews["ABI001"]


def test_inline_suppression(run_cli: Run, tmp_path: Path) -> None:
    header = tmp_path / "quiet.h"
    header.write_text("#include <stdint.h>\n"
                      "struct quiet {  /* abiscope: ignore[ABI002] */\n"
                      "    uint64_t h;\n"
                      "    uint32_t size;\n"
                      "    long n;  /* abiscope: ignore[ABI004, ABI003] */\n"
                      "};\n")
    ids = rule_ids(check_json(run_cli, header))
    assert "ABI002" not in ids and "ABI004" not in ids
    assert "ABI005" in ids  # not suppressed


def test_ioctl_number_that_encodes_a_differing_size_is_an_error(run_cli: Run) -> None:
    r = run_cli("check", str(SEED_DIR / "privcmd_dm_op.h"), "--select", "ABI012",
                "--format", "json")
    assert r.code == 1
    (finding,) = json.loads(r.out)["findings"]
    assert finding["severity"] == "error" and finding["member"] == "IOCTL_PRIVCMD_DM_OP"
    assert "0x85005" in finding["message"] and "0x105005" in finding["message"]


def test_fail_on_and_exit_codes(run_cli: Run, tmp_path: Path) -> None:
    header = tmp_path / "n.h"
    header.write_text("#include <stdint.h>\nstruct n { uint8_t flag : 1; uint8_t rest : 7; };\n")
    assert run_cli("check", str(header)).code == 0  # only notes
    assert run_cli("check", str(header), "--fail-on", "note").code == 1
    assert run_cli("check", str(header), "--fail-on", "bogus").code == 2


def test_sarif_validates_against_the_oasis_schema(run_cli: Run) -> None:
    if not SARIF_SCHEMA.is_file():
        skip_or_fail(f"SARIF schema missing: {SARIF_SCHEMA} (../shared beside the checkout)")
    schema = json.loads(SARIF_SCHEMA.read_text())
    r = run_cli("check", *(str(SEED_DIR / h) for h in ("dm_op_v3.h", "dm_op.h",
                                                       "privcmd_dm_op.h")),
                "--target", "default,riscv64", "--format", "sarif")
    doc = json.loads(r.out)
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {r.id for r in RULES}
    fingerprints = [res["partialFingerprints"]["abiscopeFinding/v1"] for res in run["results"]]
    assert len(fingerprints) == len(set(fingerprints))
    assert run["invocations"][0]["toolExecutionNotifications"]  # riscv64 failures reported


def test_fingerprints_survive_moving_lines(run_cli: Run, tmp_path: Path) -> None:
    header = tmp_path / "moved.h"
    header.write_text("struct moved { long v; };\n")
    first = check_json(run_cli, header)["findings"]
    header.write_text("\n\n/* a comment */\nstruct moved { long v; };\n")
    second = check_json(run_cli, header)["findings"]
    assert [f["fingerprint"] for f in first] == [f["fingerprint"] for f in second]  # type: ignore[index, union-attr]


def test_github_annotations(run_cli: Run) -> None:
    r = run_cli("check", str(SEED_DIR / "dm_op.h"), "--format", "github")
    lines = r.out.splitlines()
    assert lines and all(line.startswith("::warning file=") for line in lines)
    assert "title=ABI003 layout-differs::" in r.out


def test_configuration_file(run_cli: Run, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    header = tmp_path / "cfg.h"
    header.write_text("#include <stdint.h>\nstruct cfg { uint32_t a; uint64_t b; };\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.abiscope]\nheaders = ["cfg.h"]\ntargets = ["i386", "x86_64"]\n'
        'ignore = ["ABI003"]\nfail-on = "error"\n[tool.abiscope.severity]\nABI005 = "error"\n')
    monkeypatch.chdir(tmp_path)
    r = run_cli("check", "--format", "json")
    assert r.code == 1, r.err  # ABI005 raised to error
    doc = json.loads(r.out)
    assert doc["targets"] == ["i386", "x86_64"]
    severities = {f["rule"]: f["severity"] for f in doc["findings"]}
    assert severities["ABI005"] == "error" and "ABI003" not in severities
    (tmp_path / "pyproject.toml").write_text("[tool.abiscope]\nfail_on = [\n")
    broken = run_cli("check")
    assert broken.code == 2 and "not valid TOML" in broken.err


def test_readme_configuration_pasted_into_abiscope_toml(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `[tool.abiscope]` example works as it is in abiscope.toml too (it failed
    with "unknown key(s) tool"); top-level keys still do; mixing the two forms is an error."""
    import re

    from abiscope.config import load_config
    from abiscope.errors import InputError

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = next(b for b in re.findall(r"```toml\n(.*?)```", readme, re.S)
                   if "[tool.abiscope]" in b)
    (tmp_path / "abiscope.toml").write_text(example)
    monkeypatch.chdir(tmp_path)
    pasted = load_config(None)
    assert pasted.targets == ("default", "future") and pasted.ignore == ("ABI014",)
    assert pasted.severity == {"ABI006": "warning"} and pasted.fail_on == "warning"
    (tmp_path / "pyproject.toml").write_text(example)
    from dataclasses import replace

    assert load_config(str(tmp_path / "pyproject.toml")) == replace(
        pasted, path=str(tmp_path / "pyproject.toml"))
    top = tmp_path / "top.toml"
    top.write_text(example.replace("[tool.abiscope]\n", "").replace("tool.abiscope.", ""))
    assert load_config(str(top)).severity == pasted.severity
    assert load_config(str(top)).targets == pasted.targets
    mixed = tmp_path / "mixed.toml"
    mixed.write_text('std = "gnu11"\n' + example)
    with pytest.raises(InputError, match=r"both at the top level \(std\) and in \[tool"):
        load_config(str(mixed))


def test_abi013_reads_the_same_headers_as_the_check(run_cli: Run, tmp_path: Path) -> None:
    """ABI013 parses the inputs again for the 128-bit models: through --headers-from too
    (it used to read only positional headers, and found nothing to compare with)."""
    header = tmp_path / "example.h"
    header.write_text(page_blocks("ABI013")["Example"])
    listing = tmp_path / "headers.txt"
    listing.write_text(f"{header}\n")
    direct = rule_ids(check_json(run_cli, header, "--select", "ABI013"))
    r = run_cli("check", "--headers-from", str(listing), "--format", "json",
                "--fail-on", "never", "--select", "ABI013")
    assert r.code == 0, r.err
    assert "ABI013" in direct
    assert rule_ids(json.loads(r.out)) == direct
