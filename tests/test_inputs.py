"""Inputs beyond single headers: directories, globs, list files, compile_commands.json."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from abiscope.errors import InputError
from abiscope.inputs import expand, read_compile_commands
from conftest import CliResult


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "inc" / "sub").mkdir(parents=True)
    (tmp_path / "inc" / "a.h").write_text("struct a { char c; int i; };\n")
    (tmp_path / "inc" / "sub" / "b.h").write_text("struct b { long l; char c; };\n")
    (tmp_path / "inc" / "notes.txt").write_text("not a header\n")
    (tmp_path / "broken.h").write_text("struct broken { undeclared_t x; };\n")
    return tmp_path


def test_directory_glob_and_list(tree: Path) -> None:
    inc = tree / "inc"
    both = [str(inc / "a.h"), str(inc / "sub" / "b.h")]
    assert expand([str(inc)]) == both
    assert expand([str(inc / "**" / "*.h")]) == both
    assert expand([str(inc / "*.h")]) == [str(inc / "a.h")]
    listing = tree / "list.txt"
    listing.write_text("# headers\n\ninc/sub/b.h\ninc/a.h\ninc/sub/b.h\n")
    assert expand([f"@{listing}"]) == list(reversed(both))  # relative to the list, no repeats
    assert expand([], [str(listing)]) == list(reversed(both))


def test_bad_inputs_are_clear_errors(tree: Path) -> None:
    with pytest.raises(InputError, match="matches no file"):
        expand([str(tree / "nothing*.h")])
    with pytest.raises(InputError, match="cannot read the header list"):
        expand([f"@{tree / 'missing.txt'}"])
    (tree / "bad.txt").write_text("inc/a.h\nnope/*.h\n")
    with pytest.raises(InputError, match=r"bad.txt:2: nope/\*.h: the pattern matches no file"):
        expand([f"@{tree / 'bad.txt'}"])
    (tree / "empty").mkdir()
    with pytest.raises(InputError, match="without any"):
        expand([str(tree / "empty")])


def test_compile_commands(tree: Path) -> None:
    db = tree / "compile_commands.json"
    db.write_text(json.dumps([
        {"directory": str(tree / "build"), "file": "x.c",
         "arguments": ["cc", "-I../inc", "-I", "/opt/x", "-DA=1", "-D", "B", "-UC",
                       "-isystem", "sys", "-include", "pre.h", "-O2", "-c", "x.c"]},
        {"directory": str(tree / "build"), "file": "y.c",
         "command": "cc -I../inc -DA=2 -DD -c y.c"},
    ]))
    flags = read_compile_commands(str(tree))  # the directory holding it works too
    assert flags.include_dirs == [str(tree / "inc"), "/opt/x", str(tree / "build" / "sys")]
    assert flags.defines == ["A=1", "B", "D"]
    assert flags.undefines == ["C"]
    assert flags.force_includes == [str(tree / "build" / "pre.h")]
    assert flags.conflicts == ["A"]
    db.write_text("[{")
    with pytest.raises(InputError, match="not valid JSON"):
        read_compile_commands(str(db))


def test_cli_directory_skips_broken_header_once(tree: Path, run_cli: Callable[..., CliResult],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    (tree / "inc" / "broken.h").write_text((tree / "broken.h").read_text())
    r = run_cli("layout", "inc", "-t", "i386,x86_64", "-f", "json", "--no-cache")
    assert r.code == 0, r.err
    names = {rec["name"] for rec in json.loads(r.out)["records"]}
    assert names == {"struct a", "struct b"}
    lines = [ln for ln in r.err.splitlines() if "broken.h" in ln]
    # one line for the diagnostic (both targets named) and one saying it was skipped
    assert len(lines) == 2, r.err
    assert "does not parse for i386, x86_64" in lines[0]
    assert "skipped" in lines[1]


def test_cli_headers_from_and_compile_commands(tree: Path, run_cli: Callable[..., CliResult],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    (tree / "inc" / "c.h").write_text('#include "dep.h"\nstruct c { dep_t d; char x; };\n')
    (tree / "deps").mkdir()
    (tree / "deps" / "dep.h").write_text("typedef long long dep_t;\n")
    (tree / "compile_commands.json").write_text(json.dumps(
        [{"directory": str(tree), "file": "x.c", "command": "cc -Ideps -c x.c"}]))
    (tree / "list.txt").write_text("inc/c.h\n")
    r = run_cli("layout", "--headers-from", "list.txt", "--compile-commands", ".",
                "-t", "i386", "-f", "json", "--no-cache")
    assert r.code == 0, r.err
    rec = json.loads(r.out)["records"][0]
    assert rec["name"] == "struct c" and rec["layouts"]["i386"]["size"] == 12
    r = run_cli("layout", "--headers-from", "nope.txt", "--no-cache")
    assert r.code == 2 and "nope.txt: cannot read the header list" in r.err
    assert os.path.exists(tree / "list.txt")


def test_every_command_that_names_headers_expands_them(tree: Path, monkeypatch: pytest.MonkeyPatch,
                                                       run_cli: Callable[..., CliResult]) -> None:
    """`ioctls` and `gen` took a directory, a glob or --headers-from as a file name: `ioctls`
    said "no such file", `gen` wrote `#include "inc/*.h"` into the header it generated."""
    monkeypatch.chdir(tree)
    (tree / "inc" / "io.h").write_text(
        "#define _IOC(d, t, n, s) (((d) << 30) | ((t) << 8) | (n) | ((s) << 16))\n"
        "#define _IOW(t, n, a) _IOC(1U, (t), (n), sizeof(a))\n"
        "struct arg { long l; };\n#define REQ _IOW('x', 1, struct arg)\n")
    (tree / "list.txt").write_text("inc/io.h\n")
    for given in (["inc/io.h"], ["inc/i*.h"], ["--headers-from", "list.txt"]):
        r = run_cli("ioctls", *given, "-f", "json", "--no-cache")
        assert r.code == 0, (given, r.err)
        assert [e["macro"] for e in json.loads(r.out)["ioctls"]] == ["REQ"], given
    r = run_cli("gen", "asserts", "inc/*.h", "-t", "x86_64", "--no-cache")
    assert r.code == 0, r.err
    assert '#include "inc/a.h"' in r.out and '#include "inc/io.h"' in r.out
    assert "*" not in "".join(ln for ln in r.out.splitlines() if ln.startswith("#include"))
