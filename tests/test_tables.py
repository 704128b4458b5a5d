"""Tables that fit a terminal and a file (issue 28): real headers rendered at 80 and 120
columns and to a file or pipe. Expected cells come from the model (every offset, size,
size/align and verdict), never typed by hand: none may be cut, each terminal line fits its
width, blocks of targets repeat the member column, ``--only-differing`` shows exactly the
rows the model says differ, and files and pipes get the same unbounded table."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from abiscope import compat, frontend
from abiscope.cliutil import select_records
from abiscope.model import Member, Model, Record, byte_position, byte_size
from abiscope.report.compat import render_text as render_compat
from abiscope.report.naming import human_names, include_path
from abiscope.report.text import render_layout
from abiscope.targets import resolve
from conftest import CliResult, run_cli_captured, skip_or_fail

ETHTOOL = "/usr/include/linux/ethtool.h"
XEN_DM_OP = "/usr/include/xen/hvm/dm_op.h"
XEN_ARGS = ["-I", "/usr/include", "-D", "__XEN_TOOLS__", "--include", "stdint.h"]
WIDTHS = (80, 120)
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def ethtool() -> Model:
    if not os.path.isfile(ETHTOOL):
        skip_or_fail(f"{ETHTOOL} missing (apt-get install linux-libc-dev)")
    model = frontend.parse([ETHTOOL], resolve("linux").targets, frontend.ParseOptions())
    ok = [t for t in model.targets if any(t in r.layouts for r in model.records)]
    assert len(ok) >= 10, model.failures  # the 14-target table of the issue
    return model


def _render(model: Model, records: Sequence[Record], width: int | None,
            only_differing: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width or 100_000, no_color=True)
    render_layout(model, records, console, only_differing)
    return out.getvalue()


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"[│┃]", line)]


def _walk(members: Sequence[Member], path: str = "") -> Iterator[tuple[str, Member]]:
    for m in members:
        full = f"{path}.{m.name or '{anonymous}'}" if path else (m.name or "{anonymous}")
        yield full, m
        yield from _walk(m.members, full)


def _member_cell(m: Member) -> str:
    if m.bitfield or m.offset_bits % 8 or m.size_bits % 8:
        return f"{m.offset_bits // 8}:{m.offset_bits % 8} +{m.size_bits}b"
    return f"{byte_position(m.offset_bits)} +{byte_size(m.size_bits)}"


def _expected_cells(record: Record) -> set[str]:
    """Every offset/size and size/align cell of ``record``'s table, from the model."""
    cells = set()
    for lay in record.layouts.values():
        cells |= {_member_cell(m) for _, m in _walk(lay.members)}
        cells.add(f"{lay.size} / {lay.align}")
    return cells


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_fits_a_terminal_in_blocks_with_no_cell_cut(ethtool: Model,
                                                           width: int) -> None:
    blocks_seen = 0
    for record in ethtool.records:
        text = _render(ethtool, [record], width)
        lines = text.splitlines()
        too_wide = [ln for ln in lines if cell_len(ln.rstrip()) > width]
        assert not too_wide, too_wide[:3]
        assert "…" not in text
        cells = {c for ln in lines for c in _cells(ln)}
        missing = _expected_cells(record) - cells
        assert not missing, (record.name, sorted(missing)[:5])
        heads = [_cells(ln) for ln in lines if ln.startswith("member ")]
        blocks_seen += len(heads) > 1
        # the blocks cover each target once, in order, and each repeats every member row
        present = [t for t in ethtool.targets if t in record.layouts]
        assert [t for h in heads for t in h[2:]] == present
        first_column = [_cells(ln)[0] for ln in lines]
        for name in {p.split(".")[0] for lay in record.layouts.values()
                     for p, _ in _walk(lay.members)}:
            assert sum(c == name for c in first_column) >= len(heads), (record.name, name)
    assert blocks_seen, "no table needed blocks: the test no longer tests splitting"


def test_layout_file_and_pipe_are_one_unbounded_table(ethtool: Model, tmp_path: Path) -> None:
    args = [ETHTOOL, "--target", "linux"]
    out = tmp_path / "layout.txt"
    to_file = run_cli_captured("layout", *args, "-o", str(out))
    piped = run_cli_captured("layout", *args)
    assert to_file.code == piped.code == 0
    text = out.read_text()
    assert text == piped.out  # one width policy for files and pipes
    assert "…" not in text
    present = [t for t in ethtool.targets if any(t in r.layouts for r in ethtool.records)]
    heads = [_cells(ln) for ln in text.splitlines() if ln.startswith("member ")]
    shown = select_records(ethtool, [], False)  # (the input's records, as the CLI shows)
    assert len(heads) == len(shown)  # one block per record: nothing split
    assert all(h[2:] == [t for t in present if t in h[2:]] for h in heads)
    cells = {c for ln in text.splitlines() for c in _cells(ln)}
    for record in shown:
        assert not _expected_cells(record) - cells, record.name
        for lay in record.layouts.values():  # types whole, never cut to 36 characters
            spelled = {m.type.spelling for _, m in _walk(lay.members)}
            named = {t for t in spelled if "(unnamed" not in t and "(anonymous" not in t}
            assert named <= cells
            anonymous = {human_names(t, ["/usr/include"]) for t in spelled - named
                         if t.startswith(("struct", "union")) and "/usr/include/" in t}
            assert anonymous <= cells  # (anonymous union at linux/ethtool.h:1182)
    assert "(anonymous union at linux/ethtool.h:" in text
    assert "(unnamed" not in text and "::(anonymous" not in text


@pytest.mark.parametrize("width", (None, 80))
def test_only_differing_shows_exactly_the_rows_that_differ(ethtool: Model,
                                                           width: int | None) -> None:
    shown_any = False
    for record in ethtool.records:
        present = [t for t in ethtool.targets if t in record.layouts]
        per_target = {t: dict(_walk(record.layouts[t].members)) for t in present}
        paths = list(dict.fromkeys(p for t in present for p in per_target[t]))
        differ = {p for p in paths
                  if len({_member_cell(per_target[t][p]) if p in per_target[t] else "—"
                          for t in present}) > 1}
        sizes = {(record.layouts[t].size, record.layouts[t].align) for t in present}
        text = _render(ethtool, [record], width, only_differing=True)
        rows = [_cells(ln)[0] for ln in text.splitlines()
                if ("│" in ln) and not ln.startswith("member ")]
        shown = {r for r in rows if r and not r.startswith("/*") and r != "size / align"}
        assert shown == differ, record.name
        assert ("size / align" in rows) == (len(sizes) > 1), record.name
        if not rows:
            assert "the same on every target" in " ".join(text.split())
        shown_any |= bool(differ)
    assert shown_any, "no record differs: the test no longer tests the filter"


@pytest.fixture(scope="module")
def dm_op() -> tuple[Model, compat.CompatReport]:
    if not os.path.isfile(XEN_DM_OP):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    options = frontend.ParseOptions(include_dirs=("/usr/include",), defines=("__XEN_TOOLS__",),
                                    force_includes=("stdint.h",))
    model = frontend.parse([XEN_DM_OP], resolve("x86_64,i386").targets, options)
    assert not model.failures, model.failures
    report = compat.compare(model, "x86_64", "i386")
    assert report.translate() and len(report.translate()) < len(report.records)
    return model, report


def _compat_text(report: compat.CompatReport, width: int | None) -> str:
    out = io.StringIO()
    render_compat(report, Console(file=out, width=width or 100_000, no_color=True),
                       ["/usr/include"])
    return out.getvalue()


def _shape(shape: tuple[int, int] | None) -> str:
    return "absent" if shape is None else f"{byte_position(shape[0])} +{byte_size(shape[1])}"


@pytest.mark.parametrize("width", (*WIDTHS, None))
def test_compat_verdicts_and_numbers_whole_causes_wrapped(
        dm_op: tuple[Model, compat.CompatReport], width: int | None) -> None:
    _, report = dm_op
    text = _compat_text(report, width)
    lines = text.splitlines()
    if width is not None:
        too_wide = [ln for ln in lines if cell_len(ln.rstrip()) > width]
        assert not too_wide, too_wide[:3]
    assert "…" not in text
    tokens = set(re.split(r"[\s│┃]+", text))
    for v in report.records:
        name = human_names(v.name, ["/usr/include"])
        assert any(re.search(rf"(^|[\s│]){re.escape(name)}[\s│]+{v.verdict}\b", ln)
                   for ln in lines), (v.name, v.verdict)
        for d in v.reasons:
            assert any(_shape(d.native) in ln and _shape(d.compat) in ln for ln in lines), d
            # wrapped, not cut: every word of the cause is there whole
            assert set(human_names(d.cause, ["/usr/include"]).split()) <= tokens, d.cause
            if width is None:  # a pipe or file: every cause on one line, whole
                assert any(human_names(d.cause, ["/usr/include"]) in ln for ln in lines)
    if width == 80:  # causes wrap, they are not set one word per line
        assert max(len(ln.split("│")[-1].strip().split()) for ln in lines) > 4


def _pty_run(args: Sequence[str], columns: int) -> CliResult:
    """``abiscope ARGS`` with stdout on a terminal of ``columns`` (as a user sees it)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": SRC, "NO_COLOR": "1",
           "TERM": "dumb"}
    proc = subprocess.Popen([sys.executable, "-m", "abiscope", *args], stdout=slave,
                            stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    _, err = proc.communicate()
    out = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode())
    return CliResult(proc.returncode, out.replace("\r\n", "\n"), err.decode())


def test_terminal_of_80_columns_end_to_end(dm_op: tuple[Model, compat.CompatReport]) -> None:
    """The issue's commands on a real terminal: `COLUMNS=80 abiscope compat …` and
    `layout ethtool.h --target linux`."""
    _, report = dm_op
    r = _pty_run(["compat", XEN_DM_OP, *XEN_ARGS, "--native", "x86_64", "--compat", "i386"],
                 80)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert all(cell_len(ln.rstrip()) <= 80 for ln in lines)
    assert "tra…" not in r.out and "…" not in r.out
    assert sum(re.search(r"\btranslate$", ln.rstrip()) is not None
               for ln in lines) == len(report.translate())
    r = _pty_run(["layout", ETHTOOL, "--target", "linux", "--record", "ethtool_cmd"], 80)
    lines = r.out.splitlines()
    assert all(cell_len(ln.rstrip()) <= 80 for ln in lines)
    assert "…" not in r.out
    assert sum(ln.startswith("member ") for ln in lines) > 1


def test_anonymous_types_named_as_c_readers_know_them() -> None:
    dirs = ["/usr/include", "/usr/i686-linux-gnu/include"]
    spelled = "union (unnamed at /usr/i686-linux-gnu/include/asm/kvm.h:91:2)"
    assert human_names(spelled, dirs) == "(anonymous union at asm/kvm.h:91)"
    assert human_names(f"{spelled}[24]", dirs) == "(anonymous union at asm/kvm.h:91)[24]"
    assert human_names("struct (anonymous at /usr/include/linux/x.h:3:5) is 4 bytes",
                       dirs) == "(anonymous struct at linux/x.h:3) is 4 bytes"
    assert human_names("union s::(anonymous at /usr/include/x.h:1:12)",
                       dirs) == "(anonymous union at x.h:1)"
    assert human_names("struct foo", dirs) == "struct foo"
    # the deepest include dir that holds the file names it
    assert include_path("/usr/include/x86_64-linux-gnu/asm/kvm.h",
                        ["/usr/include", "/usr/include/x86_64-linux-gnu"]) == "asm/kvm.h"


def test_layout_names_anonymous_records_relative_to_their_tree() -> None:
    kvm = "/usr/include/linux/kvm.h"
    if not os.path.isfile(kvm):
        skip_or_fail(f"{kvm} missing (apt-get install linux-libc-dev)")
    r = run_cli_captured("layout", kvm, "--target", "i386,x86_64", "--all-files",
                         "--record", "kvm_ioapic_state")
    assert r.code == 0, r.err
    assert "(anonymous union at asm/kvm.h:" in r.out
    assert "(unnamed" not in r.out and "/usr/i686-linux-gnu" not in r.out.split("\n", 1)[1]
    j = run_cli_captured("layout", kvm, "--target", "i386,x86_64", "--all-files",
                         "--record", "kvm_ioapic_state", "-f", "json")
    assert "(unnamed at /usr/" in j.out  # the JSON keeps clang's names
