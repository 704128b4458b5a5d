"""One home for rendering, one for commands (issue 28): analyses return data, every renderer
is in ``report/``, every command in ``commands/`` with a ``{format: renderer}`` table, and
the leftovers (the paths matrix fitted to a terminal, generated include guards, anonymous
types in the HTML report, "1 byte")."""

from __future__ import annotations

import argparse
import ast
import importlib
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from abiscope import cli, frontend, paths
from abiscope.commands import MODULES
from abiscope.model import byte_size, shape_words
from abiscope.report.html import UNION_ARMS, render_html
from abiscope.report.paths import render_text as render_paths
from abiscope.report.units import count, shape_cell, shape_json
from abiscope.targets import resolve
from conftest import SEED_DIR, CliResult

SRC = Path(cli.__file__).parent
ROOT = SRC.parent.parent
Run = Callable[..., CliResult]
SEED = [str(SEED_DIR / h) for h in ("dm_op.h", "dm_op_v3.h", "privcmd_dm_op.h")]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices.items())


def _formats(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    for action in parser._actions:
        if "--format" in action.option_strings:
            return tuple(action.choices or ())
    return ()


def test_analyses_do_not_render() -> None:
    """compat, xlatlist, paths and ioctls import neither rich nor a reporter, and importing
    them in a fresh interpreter loads no rich."""
    for name in ("compat", "xlatlist", "paths", "ioctls"):
        tree = ast.parse((SRC / f"{name}.py").read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names}
        assert not {m for m in imported if m.startswith(("rich", "report", ".report"))}, name
        assert "def render_" not in (SRC / f"{name}.py").read_text(), name
    code = ("import sys, abiscope.compat, abiscope.xlatlist, abiscope.paths, abiscope.ioctls;"
            "print(sorted(m for m in sys.modules if m == 'rich' or '.report' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_no_format_chains_and_cli_is_only_main() -> None:
    """No ``args.format ==`` left anywhere; cli.py holds no command."""
    chains = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and ast.unparse(node.left) == "args.format" \
                    and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                chains.append(f"{path.name}:{node.lineno}")
    assert chains == []
    defs = {n.name for n in ast.parse((SRC / "cli.py").read_text()).body
            if isinstance(n, ast.FunctionDef)}
    assert defs == {"build_parser", "main", "_run", "_internal", "_quiet_recursion"}


def test_every_command_is_a_module_with_a_renderer_per_format() -> None:
    commands = _subcommands()
    # one module per command, in --help order (verify_rust.py is `verify-rust`)
    assert [c.replace("-", "_") for c in commands] == list(MODULES)
    for name, parser in commands.items():
        module = importlib.import_module(f"abiscope.commands.{name.replace('-', '_')}")
        assert callable(module.register)
        formats = _formats(parser)
        if formats:
            tables = {k for attr in ("RENDERERS", "BYTES", "LIST") if hasattr(module, attr)
                      for k in getattr(module, attr)}
            assert set(formats) <= tables, (name, formats, tables)


def test_help_lists_commands_in_modules_order(run_cli: Run) -> None:
    help_text = run_cli("--help").out
    names = [m.replace("_", "-") for m in MODULES]
    positions = [re.search(rf"\n    {name}\s", help_text).start()  # type: ignore[union-attr]
                 for name in names]
    assert positions == sorted(positions)
    bad = run_cli("bogus")
    assert bad.code == 2
    assert "choose from " + ", ".join(f"'{m}'" for m in names) in bad.err


def test_a_command_imports_only_its_own_module() -> None:
    code = ("import sys, contextlib, io; from abiscope import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()): cli.main(['targets', '-f', 'json'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('abiscope.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['abiscope.commands.targets']"


def test_golden_cases_cover_every_command_and_format() -> None:
    """tools/render_golden.py (the byte-for-byte check of this refactor) runs every command
    in every format it has."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        golden = importlib.import_module("render_golden")
    finally:
        sys.path.remove(str(ROOT / "tools"))
    runs = [args for args in golden.cases().values()]
    for name, parser in _subcommands().items():
        mine = [a for a in runs if a[0] == name]
        # (diff: its cases need a snapshot made first; lsp: a server, tested in test_lsp)
        if name not in ("convert", "diff", "lsp"):
            assert mine, name
        for fmt in _formats(parser):
            if fmt == "text" or name in ("convert", "diff"):
                continue
            assert any(a[a.index("-f") + 1] == fmt for a in mine if "-f" in a), (name, fmt)


def test_units_one_spelling() -> None:
    assert byte_size(8, long=True) == "1 byte" and byte_size(16, long=True) == "2 bytes"
    assert byte_size(1, long=True) == "1 bit" and byte_size(3, long=True) == "3 bits"
    assert shape_words((0, 8)) == "at 0, 1 byte" and shape_words(None) == "absent"
    assert shape_cell((67, 5)) == "8:3 +5b" and shape_cell(None) == "absent"
    assert shape_json((8, 32)) == {"offset_bits": 8, "size_bits": 32}
    assert count(1, "finding") == "1 finding" and count(0, "finding") == "0 findings"


@pytest.fixture(scope="module")
def matrix() -> paths.PathReport:
    model = frontend.parse(SEED, resolve("x86_64,i386,aarch64").targets,
                           frontend.ParseOptions(), jobs=1)
    layers = ["user=i386,x86_64", "kernel=x86_64", "hv=x86_64,aarch64"]
    records = ["privcmd_dm_op_buf", "kernel:hv=privcmd_dm_op_buf/xen_dm_op_buf",
               "xen_dm_op_buf_v3", "xen_dm_op_buf"]
    spec = paths.spec_from(layers, ["kernel:hv"], records, model, list(model.records))
    report = paths.check(model, spec)
    assert report.matrix
    return report


def _paths_text(report: paths.PathReport, width: int | None) -> str:
    out = io.StringIO()
    render_paths(report, Console(file=out, width=width or 100_000, no_color=True))
    return out.getvalue()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_paths_matrix_fits_the_terminal(matrix: paths.PathReport, width: int) -> None:
    """On a terminal the design columns are split into blocks (or, narrower still, listed);
    every line fits, and no verdict is wrapped or cut."""
    text = _paths_text(matrix, width)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    whole = _paths_text(matrix, None)
    for verdict in ("user:kernel ABI015: no translator", "kernel:hv translated",
                    "no translation"):
        assert text.count(verdict) == whole.count(verdict) > 0
    if width >= 80:  # blocks of design columns, each repeating the layer columns
        assert text.count("┃ user ") == max(1, text.count("(designs "))
    else:  # not even one verdict beside the layers: a list, each combination on a line
        assert "┃" not in text and text.count("user i386, kernel x86_64, hv x86_64\n") == 1


def test_paths_matrix_in_a_file_is_one_table(matrix: paths.PathReport) -> None:
    text = _paths_text(matrix, None)
    assert text.count("path matrix:") == 1 and "(designs" not in text


def test_gen_compat_guard_is_named_after_the_output(run_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "my-compat.h"
    r = run_cli("gen", "compat", *SEED, "--native", "x86_64", "--compat", "i386",
                "-o", str(out))
    assert r.code == 0, r.err
    text = out.read_text()
    assert "#ifndef MY_COMPAT_H\n#define MY_COMPAT_H\n" in text
    assert text.rstrip().endswith("#endif /* MY_COMPAT_H */")
    stdout = run_cli("gen", "compat", *SEED, "--native", "x86_64", "--compat", "i386")
    assert "#ifndef ABISCOPE_COMPAT_X86_64_I386_H" in stdout.out


def test_html_names_anonymous_types_as_c_readers_do(tmp_path: Path) -> None:
    inc = tmp_path / "inc" / "sub"
    inc.mkdir(parents=True)
    header = inc / "anon.h"
    arms = " ".join(f"int a{i};" for i in range(UNION_ARMS + 1))  # a big union: one box
    header.write_text(f"struct outer {{\n  int tag;\n  union {{ {arms} }} u;\n}};\n")
    model = frontend.parse([str(header)], resolve("x86_64,i386").targets,
                           frontend.ParseOptions(), jobs=1)
    html = render_html(model, list(model.records), [], dirs=[str(tmp_path / "inc")])
    assert "(unnamed" not in html
    assert "(anonymous union at sub/anon.h:3)" in html


def test_one_byte_is_said_so(run_cli: Run, tmp_path: Path) -> None:
    """Sizes in messages are spelled by model.byte_size: "1 byte", never "1 bytes"."""
    header = tmp_path / "one.h"
    header.write_text("struct one { char c; } __attribute__((aligned(4)));\n")
    r = run_cli("check", str(header), "--target", "x86_64", "-f", "json", "--no-cache")
    assert "not the 1 byte its members use" in r.out and "1 bytes" not in r.out


def test_text_names_anonymous_types_relative_to_the_input(
        run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A header outside every include dir and the working directory: its anonymous types
    are named relative to its own directory, not by an absolute path of this machine."""
    src = tmp_path / "elsewhere" / "tree"
    src.mkdir(parents=True)
    header = src / "anon.h"
    header.write_text("struct outer {\n  int tag;\n  union { int a; long b; } u;\n};\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    r = run_cli("layout", str(header), "--target", "x86_64", "--no-cache")
    assert r.code == 0, r.err
    assert "(anonymous union at anon.h:3)" in r.out
    assert f"at {src}" not in r.out


def test_layout_title_is_one_line_in_a_file(run_cli: Run, tmp_path: Path) -> None:
    """A file or pipe has no width: a record's title (name and location) stays on one line
    however narrow its table (it was wrapped to the table's width, a path cut mid-word)."""
    deep = tmp_path / ("d" * 60)
    deep.mkdir()
    header = deep / "tiny.h"
    header.write_text("struct tiny_record_with_a_rather_long_name { char c; };\n")
    out = tmp_path / "layout.txt"
    r = run_cli("layout", str(header), "--target", "x86_64", "--no-cache", "-o", str(out))
    assert r.code == 0, r.err
    first = out.read_text().splitlines()[0]
    assert first == f"struct tiny_record_with_a_rather_long_name  {header}:1"
