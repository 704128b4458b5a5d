"""Headroom (``abiscope.headroom``): what it counts, and checked against GCC: a member of
the headroom's size added in the tail padding, and each reserved member replaced by bytes
of its size, leave every record's size and every member's offset and width unchanged on
every target (each (header, target) compiled once, the original and the grown header)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.headroom import Headroom, headroom
from abiscope.model import Record, iter_members
from abiscope.targets import TARGETS
from conftest import SEED_DIR, run_cli_captured
from oracle.gcc_dwarf import compile_layouts, flatten, require_gcc, system_include_dirs

TARGETS_CHECKED = ("i386", "x86_64", "x32", "arm", "aarch64")
ADDED = "__abiscope_headroom"
UAPI_SLICE = ("linux/ethtool.h", "linux/perf_event.h", "linux/io_uring.h", "linux/vfio.h",
              "linux/fs.h", "linux/fuse.h", "linux/input.h", "linux/if_link.h",
              "linux/virtio_net.h", "linux/bpf.h")


def _layouts(text: str, tmp_path: Path) -> dict[str, Headroom]:
    (tmp_path / "h.h").write_text(text)
    model = frontend.parse([str(tmp_path / "h.h")], [TARGETS["x86_64"], TARGETS["i386"]],
                           jobs=1)
    return {r.name: headroom(r) for r in model.records}


def test_what_headroom_counts(tmp_path: Path) -> None:
    rooms = _layouts(
        "struct tail { long long a; int b; };\n"  # 4 on x86_64 and on i386 (8 / 4-aligned)
        "struct fewest { long a; char b; };\n"  # 7 on x86_64, 3 on i386: 3
        "struct flex { int n; char c; char data[]; };\n"  # nothing after a flexible array
        "struct res { int a; int __reserved[3]; unsigned char pad; char b; short rsvd; };\n"
        "struct moved { int a; long pad; };\n"  # pad at 8 on x86_64, 4 on i386: not common
        "struct ov { int a; union { int pad[4]; long x; } u; };\n"  # u.pad overlays u.x
        "union un { int a; char pad[12]; };\n",  # a union: its size
        tmp_path)
    assert (rooms["struct tail"].tail, rooms["struct tail"].bytes) == (0, 0)
    assert rooms["struct fewest"].tail == 3
    assert rooms["struct flex"].bytes == 0
    res = rooms["struct res"]
    assert [(r.member, r.offset_bits // 8, r.size_bits // 8) for r in res.reserved] == [
        ("__reserved", 4, 12), ("pad", 16, 1), ("rsvd", 18, 2)]
    assert res.bytes == 15 and res.tail == 0
    assert rooms["struct moved"].reserved == () and rooms["struct moved"].bytes == 0
    assert rooms["struct ov"].reserved == ()
    assert rooms["union un"].union and rooms["union un"].bytes == 12


def test_headroom_in_layout_text_and_json(tmp_path: Path) -> None:
    header = tmp_path / "h.h"
    header.write_text("struct s { int a; int pad; char c; };\nstruct t { long a; };\n")
    text = run_cli_captured("layout", str(header), "-t", "x86_64,i386", "-j", "1")
    assert "headroom: 7 bytes on every target: 3 of tail padding, 'pad' (4 bytes at 4)" \
        in text.out, text.out
    assert "headroom: none (no tail padding or reserved member common to every target)" \
        in text.out
    doc = json.loads(run_cli_captured("layout", str(header), "-t", "x86_64,i386", "-j", "1",
                                      "-f", "json").out)
    rooms = {r["name"]: r["headroom"] for r in doc["records"]}
    assert rooms["struct s"] == {"bytes": 7, "tail": 3, "reserved": [
        {"member": "pad", "offset_bits": 32, "size_bits": 32}]}
    assert rooms["struct t"] == {"bytes": 0, "tail": 0, "reserved": []}
    html = tmp_path / "r.html"
    run_cli_captured("report", str(header), "-t", "x86_64,i386", "-j", "1", "-o", str(html))
    assert "headroom: 7 bytes on every target: 3 of tail padding, &#x27;pad&#x27; (4 bytes " \
           "at 4)" in html.read_text()
    import jsonschema

    schema = json.loads((Path(frontend.__file__).parents[1] / "schema"
                         / "layout-1.schema.json").read_text())
    jsonschema.validate(doc, schema)


# ----------------------------------------------------------------------- against GCC

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _blank_comments(text: str) -> str:
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[:line - 1]) + col - 1


def _grown(text: str, records: list[Record], target: str) -> tuple[str, dict[str, int], int]:
    """The header with each record's headroom taken on ``target``: a member of the tail's
    size before its closing brace, and each reserved member (one declarator, not a
    bitfield) replaced by bytes of its size and alignment. Returns the text, the bytes
    added per record, and the reserved members replaced."""
    code = _blank_comments(text)
    edits: list[tuple[int, int, str]] = []
    added: dict[str, int] = {}
    replaced = 0
    for record in records:
        room = headroom(record, TARGETS_CHECKED)
        at = _offset(code, record.location.line, record.location.col)
        brace = code.find("{", at)
        if brace < 0 or ";" in code[at:brace]:
            continue
        depth, end = 0, brace
        for end in range(brace, len(code)):
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            if depth == 0:
                break
        layout = record.layouts[target]
        members = dict(iter_members(layout.members))
        for r in room.reserved:
            m = members[r.member]
            leaf = r.member.rsplit(".", 1)[-1]
            if m.location is None or m.bitfield:
                continue
            pos = _offset(code, m.location.line, m.location.col)
            if code[pos:pos + len(leaf)] != leaf:
                continue  # (named by a macro)
            start = max(code.rfind(c, 0, pos) for c in ";{}") + 1
            stop = code.find(";", pos)
            decl = code[start:stop]
            if re.sub(r"\[[^\]]*\]|\([^)]*\)", "", decl).count(",") or ":" in decl:
                continue
            align = min(m.declared_align, layout.align)
            if (m.offset_bits // 8) % align:
                align = 1
            edits.append((start, stop, f" unsigned char {leaf}[{r.size_bits // 8}] "
                                       f"__attribute__((aligned({align})))"))
            replaced += 1
        if room.tail:
            edits.append((end, end, f" unsigned char {ADDED}[{room.tail}]; "))
            added[record.name] = room.tail
    for start, stop, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[stop:]
    return text, added, replaced


def _check_header(path: str, target: str, options: frontend.ParseOptions,
                  include_dirs: list[str], prelude: str = "") -> tuple[int, int, int]:
    """(records grown, tails added, reserved members replaced) for one header on one
    target, asserting GCC keeps every size and offset."""
    model = frontend.parse([path], [TARGETS[t] for t in TARGETS_CHECKED], options, jobs=1)
    real = os.path.realpath(path)
    records = [r for r in model.records if os.path.realpath(r.location.file) == real
               and not r.name.startswith("(") and set(TARGETS_CHECKED) <= set(r.layouts)
               and headroom(r, TARGETS_CHECKED).bytes]
    text = Path(path).read_text()
    grown, added, replaced = _grown(text, records, target)
    results = compile_layouts({"original": prelude + text, "grown": prelude + grown}, target,
                              include_dirs=include_dirs)
    before, after = results["original"], results["grown"]
    assert before.ok and after.ok, (before.stderr + after.stderr)[-3000:]
    for record in records:
        old, new = before.records[record.name], after.records[record.name]
        assert old.size == record.layouts[target].size, (record.name, target)
        assert new.size == old.size, (record.name, target, "size", old.size, new.size)
        extra = [e for e in flatten(new.members) if e[0] == ADDED]
        assert [e[2] // 8 for e in extra] == ([added[record.name]] if record.name in added
                                              else [])
        assert [e for e in flatten(new.members) if e[0] != ADDED] == flatten(old.members), \
            (record.name, target)
    return len(records), len(added), replaced


SEED = [str(SEED_DIR / h) for h in ("dm_op_v3.h", "dm_op.h", "privcmd_dm_op.h",
                                     "xen-handle64.h")]


@pytest.mark.parametrize("target", TARGETS_CHECKED)
def test_headroom_holds_in_gcc_seed(target: str) -> None:
    require_gcc(target)
    totals = [0, 0, 0]
    for path in SEED:
        counts = _check_header(path, target, frontend.ParseOptions(system_dirs=False),
                               [str(SEED_DIR)])
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    assert totals[0] >= 3, totals  # (the v3 buffer's tail, its pad, the handle union)
    print(f"seed {target}: {totals[0]} records, {totals[1]} tails, {totals[2]} reserved")


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS_CHECKED)
def test_headroom_holds_in_gcc_uapi(target: str) -> None:
    require_gcc(target)
    dirs = system_include_dirs(target)
    totals = [0, 0, 0]
    for name in UAPI_SLICE:
        path = os.path.join("/usr/include", name)
        if not os.path.isfile(path):
            continue
        counts = _check_header(path, target, frontend.ParseOptions(),
                               [*dirs, os.path.dirname(path)])
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    assert totals[0] >= 50, totals
    print(f"uapi {target}: {totals[0]} records, {totals[1]} tails, {totals[2]} reserved")
