"""abiscope paths: the seed's layered paths, the matrix, ABI015 output, config and bad input.

The layouts behind every boundary are proven equal to GCC's by the differential tests; here
the ABI015 offsets are also read back from GCC's DWARF for the seed's design C.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from abiscope.checks.rules import PathMismatch
from conftest import SEED_DIR, SEED_HEADERS, CliResult
from oracle.gcc_dwarf import compile_layouts, require_gcc

Run = Callable[..., CliResult]
SEED = [str(SEED_DIR / h) for h in SEED_HEADERS]
THREE = ("--layer", "user=i386", "--layer", "kernel=x86_64", "--layer", "hypervisor=x86_64")
B_THEN_C = "user:kernel=privcmd_dm_op_buf;kernel:hypervisor=xen_dm_op_buf"


def paths_json(run_cli: Run, *args: str, code: int = 0) -> dict[str, object]:
    r = run_cli("paths", *SEED, *args, "--format", "json")
    assert r.code == code, r.err
    doc: dict[str, object] = json.loads(r.out)
    assert doc["schema"] == "abiscope.paths/1"
    return doc


def test_translator_declared_silences_abi015(run_cli: Run) -> None:
    doc = paths_json(run_cli, *THREE, "--translate", "user:kernel", "--record", B_THEN_C)
    (cell,) = doc["cells"]  # type: ignore[misc]
    status = {(b["upper"], b["lower"]): b["status"] for b in cell["boundaries"]}
    assert status == {("user", "kernel"): "translated", ("kernel", "hypervisor"): "identical"}
    assert doc["findings"] == []
    bare = paths_json(run_cli, *THREE, "--record", B_THEN_C, code=1)
    (finding,) = bare["findings"]  # type: ignore[misc]
    assert finding["rule"] == "ABI015" and finding["severity"] == "error"
    assert finding["record"] == "struct privcmd_dm_op_buf"


def test_passthrough_of_c_names_members_and_offsets(run_cli: Run) -> None:
    doc = paths_json(run_cli, "--layer", "user=i386", "--layer", "kernel=x86_64",
                     "--record", "xen_dm_op_buf", code=1)
    (finding,) = doc["findings"]  # type: ignore[misc]
    assert "`size` at 4, 4 bytes on i386, at 8, 8 bytes on x86_64" in finding["message"]
    assert "`h` at 0, 4 bytes on i386, at 0, 8 bytes on x86_64" in finding["message"]


def test_abi015_offsets_are_gccs(run_cli: Run) -> None:
    """The offsets ABI015 reports for design C are the ones GCC lays out."""
    doc = paths_json(run_cli, "--layer", "user=i386", "--layer", "kernel=x86_64",
                     "--record", "xen_dm_op_buf", code=1)
    (finding,) = doc["findings"]  # type: ignore[misc]
    for target in ("i386", "x86_64"):
        require_gcc(target)
        gcc = compile_layouts({"c": f'#include "{SEED_DIR / "dm_op.h"}"\n'}, target)["c"]
        rec = gcc.records["struct xen_dm_op_buf"]
        truth = {m.name: (m.offset_bits, m.size_bits) for m in rec.members}
        for e in finding["evidence"]:
            if e["target"] == target and e["detail"] in truth:
                assert (e["offset_bits"], e["size_bits"]) == truth[e["detail"]]


def test_matrix_of_widths_and_designs(run_cli: Run) -> None:
    r = run_cli("paths", *SEED, "--layer", "user=i386,x86_64", "--layer", "kernel=i386,x86_64",
                "--layer", "hypervisor=x86_64", "--translate", "kernel:hypervisor",
                "--record", "xen_dm_op_buf_v3", "--record", "privcmd_dm_op_buf",
                "--record", "xen_dm_op_buf", "--format", "json")
    assert r.code == 1  # B and C with a 32-bit user on a 64-bit kernel: no translator there
    doc = json.loads(r.out)
    cells = {(c["targets"]["user"], c["targets"]["kernel"], c["design"]): c
             for c in doc["cells"]}
    assert len(cells) == 12
    a = [c for k, c in cells.items() if k[2] == "struct xen_dm_op_buf_v3"]
    assert all(not c["must_translate"] for c in a)
    c32 = cells[("i386", "i386", "struct xen_dm_op_buf")]
    assert c32["must_translate"] == [["kernel", "hypervisor"]] and not c32["uncovered"]
    c_mixed = cells[("i386", "x86_64", "struct xen_dm_op_buf")]
    assert c_mixed["uncovered"] == [["user", "kernel"]]
    text = run_cli("paths", *SEED, "--layer", "user=i386,x86_64", "--layer",
                   "kernel=i386,x86_64", "--translate", "user:kernel", "--record",
                   "xen_dm_op_buf")
    assert text.code == 0 and "user:kernel translated" in text.out


def test_config_declares_the_path(run_cli: Run, tmp_path: Path) -> None:
    cfg = tmp_path / "abiscope.toml"
    cfg.write_text('[paths]\nlayers = ["user=i386", "kernel=x86_64", "hypervisor=x86_64"]\n'
                   'translate = ["user:kernel"]\n'
                   f'records = ["{B_THEN_C}"]\n')
    r = run_cli("paths", *SEED, "--config", str(cfg))
    assert r.code == 0, r.err
    assert "translated" in r.out and "0 ABI015 findings" in r.out


def test_sarif_and_github_carry_abi015(run_cli: Run) -> None:
    args = ("paths", *SEED, "--layer", "user=i386", "--layer", "kernel=x86_64", "--record",
            "xen_dm_op_buf")
    sarif = json.loads(run_cli(*args, "--format", "sarif").out)
    (run,) = sarif["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["ABI015"]
    assert run["results"][0]["ruleId"] == "ABI015"
    assert run_cli(*args, "--format", "github").out.startswith("::error ")


def _page_block(kind: str) -> str:
    page = PathMismatch.page()
    match = re.search(rf"## {kind}\n```c\n(.*?)```", page, re.S)
    assert match, kind
    return match.group(1)


@pytest.mark.parametrize(("kind", "code"), [("Example", 1), ("Use instead", 0)])
def test_rule_page_example(run_cli: Run, tmp_path: Path, kind: str, code: int) -> None:
    header = tmp_path / "abi015.h"
    header.write_text(_page_block(kind))
    r = run_cli("paths", str(header), "--layer", "user=i386", "--layer", "kernel=x86_64",
                "--layer", "hypervisor=x86_64", "--record", "abi015_example")
    assert r.code == code, r.out + r.err


@pytest.mark.parametrize(("args", "words"), [
    (("--layer", "user=i386", "--layer", "kernel=x86_64", "--translate", "user:kern",
      "--record", "xen_dm_op_buf"), "unknown layer 'kern'"),
    (("--layer", "user=i386", "--layer", "kernel=x86_64", "--layer", "hv=x86_64",
      "--translate", "user:hv", "--record", "xen_dm_op_buf"), "not adjacent"),
    (("--layer", "user=i386", "--layer", "kernel=vax", "--record", "xen_dm_op_buf"),
     "unknown target 'vax'"),
    (("--layer", "user=i386", "--layer", "kernel=x86_64", "--record", "no_such_thing"),
     "matches no record"),
    (("--layer", "user=i386", "--record", "xen_dm_op_buf"), "at least two layers"),
    (("--layer", "user=i386", "--layer", "kernel=x86_64"), "--record"),
    (("--layer", "user", "--layer", "kernel=x86_64", "--record", "x"), "NAME=TARGET"),
])
def test_bad_input_is_exit_2(run_cli: Run, args: tuple[str, ...], words: str) -> None:
    r = run_cli("paths", *SEED, *args)
    assert r.code == 2 and words in r.err and "Traceback" not in r.err, r.err
