"""hypothesis over whole ``abiscope`` command lines: never a traceback, never a crash.

The commands and their options are read from abiscope's own argument parser (what
``abiscope --help`` and ``abiscope COMMAND --help`` print), so a new command or option is
fuzzed as soon as it exists. Each example is one command line: a command (``gen compat``,
``diff``, ...), a random subset of its options, each with a valid or invalid value (targets
incl. unknown names, groups and raw triples; existing, missing, empty, binary-garbage and
truncated headers; good and broken config files; good and corrupt snapshots; bad numbers),
and random positional files. It runs in-process (``cli.main``) with stdin holding garbage,
and must end with exit code 0, 1 or 2, with no ``Traceback`` and no ``internal error`` on
stderr, within a time bound.

``ABISCOPE_FUZZ_CLI_EXAMPLES`` sets the number of examples (default 100, about 25 s here).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope import cli
from conftest import SEED_DIR, run_cli_captured

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("ABISCOPE_FUZZ_CLI_EXAMPLES", "100"))
SECONDS_PER_RUN = 30.0


def commands() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every (sub)command with its parser, from abiscope's own parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, (*path, name))
        if path and not subs:
            found[path] = parser

    walk(cli.build_parser(), ())
    return found


COMMANDS = commands()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Pools of paths: good and bad headers, configs, snapshots, lists, outputs."""
    tmp = tmp_path_factory.mktemp("fuzz-cli")
    dm_op = SEED_DIR / "dm_op.h"
    nested = ROOT / "tests" / "codegen_data" / "nested.h"
    text = dm_op.read_text()

    def put(name: str, data: str | bytes) -> str:
        path = tmp / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
        return str(path)

    snap = str(tmp / "snap.json")
    res = run_cli_captured("snapshot", str(dm_op), "-t", "i386,x86_64", "-o", snap, "-j", "1")
    assert res.code == 0, res.err
    snap_text = Path(snap).read_text()
    headers = [
        str(dm_op), str(nested), str(SEED_DIR / "xen-arch.h"),
        put("truncated.h", text[: len(text) // 2]),
        put("garbage.h", bytes(range(256)) * 4),
        put("empty.h", ""),
        put("error.h", "#error nope\nstruct s { int a; };\n"),
        put("broken.h", "struct s { int a; \n"),
        put("huge_array.h", "struct big { char c[1ULL << 62]; };\n"),
        put("recursive.h", "struct n { struct n *next; struct n *prev; int v; };\n"),
        put("nul.h", "struct s {\0 int a; };\n"),
        str(tmp / "missing.h"),
        str(tmp),
    ]
    configs = [
        put("good.toml", '[tool.abiscope]\ntarget = ["x86_64"]\n'),
        put("abiscope.toml", 'target = ["i386", "x86_64"]\n'),
        put("broken.toml", "target = [\n"),
        put("wrongtype.toml", "target = 5\njobs = 'many'\n"),
        put("unknown.toml", "frobnicate = true\n"),
        put("binary.toml", b"\xff\xfe\x00garbage"),
        str(tmp / "missing.toml"),
    ]
    snapshots = [
        snap,
        put("corrupt.json", snap_text[: len(snap_text) // 3]),
        put("wrongschema.json", snap_text.replace("abiscope.layout/1", "abiscope.layout/99")),
        put("notjson.json", "not json at all"),
        put("list.json", "[1, 2, 3]\n"),
    ]
    data = [
        put("buf.bin", bytes(16)), put("short.bin", b"\x01"),
        put("buf.hex", "00" * 16 + "\n"), put("bad.hex", "zz\n"),
        put("value.json", '{"h": 0, "size": 4294967296}\n'), put("bad.json", "{"),
        put("xlat.lst", "? dm_op_buf xen/dm_op.h\n! nothing here.h\n"),
        put("badlist.lst", "\x00\x01 garbage\n"),
    ]
    base = str(tmp / "base.sarif")
    res = run_cli_captured("check", str(dm_op), "-t", "i386,x86_64", "-f", "sarif", "-o", base,
                           "--fail-on", "never", "-j", "1")
    assert res.code == 0, res.err
    base_text = Path(base).read_text()
    baselines = [  # check --baseline: a real one, then broken and foreign ones
        base,
        put("corrupt.sarif", base_text[: len(base_text) // 2]),
        put("foreign.sarif", base_text.replace('"name": "abiscope"', '"name": "other"')),
        put("nofp.sarif", base_text.replace("abiscopeFinding", "somethingElse")),
    ]
    (tmp / "out").mkdir()
    # Unwritable outputs too (a directory, a missing directory): exit 2, not a traceback.
    outputs = [str(tmp / "out" / "o.txt"), str(tmp / "o2.json"), "-", str(tmp / "out"),
               str(tmp / "nodir" / "o.txt")]
    dirs = [str(SEED_DIR), str(tmp), str(tmp / "nodir"), str(ROOT / "tests" / "codegen_data")]
    return {"headers": headers, "configs": configs, "snapshots": snapshots, "data": data,
            "outputs": outputs, "dirs": dirs, "baselines": baselines}


GOOD_TARGETS = ["i386", "x86_64", "x32", "arm", "aarch64", "ppc", "m68k", "lp128", "win64",
                "x86", "default", "i386,x86_64", "x86_64,i386"]
BAD_TARGETS = ["cheri128", "future", "riscv64-unknown-elf", "vax", "", ",", "x86_64,nope",
               "-1", "all-the-things"]
WORDS = ["xen_dm_op_buf", "struct xen_dm_op_buf", "cg_*", "*", "nomatch", "[", "", "ABI001",
         "ABI999", "x", "struct", "--", "\u00e9", "a" * 300, "HEAD", "compat_", "1bad-",
         "x86_64:i386", "x86_64", "i386", "x86_64=i386", "=", "ABI002,ABI003"]


def pools(files: dict[str, list[str]]) -> dict[str, tuple[list[str], list[str]]]:
    """Per option dest: (valid values, invalid values)."""
    headers = files["headers"]
    targets = (GOOD_TARGETS, BAD_TARGETS)
    return {
        "target": targets, "native": (["x86_64", "aarch64", "ppc64"], BAD_TARGETS),
        "compat": (["i386", "x32", "arm"], BAD_TARGETS), "from_": targets, "to": targets,
        "layer": (["x86_64", "i386", "x86_64:i386"], BAD_TARGETS), "translate": targets,
        "headers": (headers[:3], headers[3:] + files["snapshots"][1:]),
        "sides": (headers[:2] + files["snapshots"][:1], headers[3:] + files["snapshots"][1:]),
        "old": (headers[:2], headers[3:]), "new": (headers[:2], headers[3:]),
        "include": (["stdint.h", "stddef.h"], headers[3:]),
        "include_as": (["dm_op.h", "xen/dm_op.h"], ["", "/abs.h", "../x.h"]),
        "config": (files["configs"][:2], files["configs"][2:]),
        "reference": (files["snapshots"][:1], files["snapshots"][1:] + headers[-2:]),
        "snapshot": (files["snapshots"][:1], files["snapshots"][1:] + headers[-2:]),
        "input": (files["data"][:1] + files["data"][2:3] + files["data"][4:5],
                  files["data"] + headers[-2:]),
        "verify_list": (files["data"][-2:-1], files["data"][-1:] + headers[-2:]),
        "output": (files["outputs"][:2], files["outputs"]),
        "baseline": (files["baselines"][:1],
                     files["baselines"][1:] + files["snapshots"][1:] + headers[-2:]),
        "I": (files["dirs"][:1] + files["dirs"][-1:], files["dirs"][1:3]),
        "sysroot": (["x86_64=" + files["dirs"][0]], ["i386=/nonexistent", "bad", "=",
                                                      "vax=/tmp"]),
        "D": (["FOO", "FOO=1", "__XEN_TOOLS__"], ["=", "1BAD", "-", "A=B=C"]),
        "U": (["FOO", "__XEN_TOOLS__"], ["=", "1BAD", "-"]),
        "std": (["gnu11", "c99", "c11"], ["c++17", "nonsense"]),
        "jobs": (["1"], ["0", "-1", "x", "2"]),
        "record": (["xen_dm_op_buf", "struct xen_dm_op_buf", "cg_*", "*"], WORDS),
        "select": (["ABI001", "ABI002,ABI003"], WORDS), "ignore": (["ABI001"], WORDS),
        "rule": (["ABI001", "ABI015"], WORDS), "prefix": (["compat_", "c32_"], WORDS),
    }


def values(dest: str, files: dict[str, list[str]], valid: bool) -> st.SearchStrategy[str]:
    good, bad = pools(files).get(dest, (WORDS, WORDS))
    return st.sampled_from(good if valid and good else bad)


@st.composite
def command_lines(draw: st.DrawFn, files: dict[str, list[str]]) -> list[str]:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    parser = COMMANDS[path]
    argv = list(path)
    valid = st.integers(0, 5).map(bool)  # five valid values in six
    options = [a for a in parser._actions
               if a.option_strings and not isinstance(a, (argparse._HelpAction,
                                                           argparse._VersionAction))]
    chosen = draw(st.lists(st.sampled_from(options), max_size=4, unique_by=id)) if options \
        else []
    for action in chosen:
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        elif action.choices is not None and draw(st.integers(0, 6)):
            argv += [flag, draw(st.sampled_from(sorted(map(str, action.choices))))]
        else:
            argv += [flag, draw(values(action.dest, files, draw(valid)))]
    if "-j" not in argv and "--jobs" not in argv and any(
            "--jobs" in a.option_strings for a in options):
        argv += ["-j", "1"]  # keep process pools out of most examples (bounded CI time)
    for action in parser._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            count = draw(st.sampled_from([1, 1, 1, 0, 2] if action.nargs in ("*", "+")
                                         else [0, 1]))
            argv += [draw(values(action.dest, files, draw(valid))) for _ in range(count)]
    if draw(st.integers(0, 30)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(
            ["--bogus", "-z", "--help", "--version", "--target=", "--"])))
    return argv


# Bugs this fuzzer found (all fixed since; each has a regression test below): the command
# line that triggers one and the words on stderr. Such a run would be counted, not failed.
KNOWN_BUGS: dict[str, tuple[Callable[[list[str]], bool], str]] = {}


def known_bug(argv: list[str], stderr: str) -> str | None:
    for name, (matches, words) in KNOWN_BUGS.items():
        if words in stderr and matches(argv):
            return name
    return None


@contextlib.contextmanager
def garbage_stdin() -> Iterator[None]:
    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(b"\x00\xffgarbage\n"), encoding="utf-8")
    try:
        yield
    finally:
        sys.stdin = old


def test_every_command_is_fuzzed() -> None:
    names = {path[0] for path in COMMANDS}
    assert {"layout", "check", "compat", "diff", "gen", "convert", "snapshot"} <= names
    assert ("gen", "compat") in COMMANDS and ("gen", "asserts") in COMMANDS


@pytest.mark.slow
def test_cli_never_tracebacks(files: dict[str, list[str]], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative outputs and discovered configs stay in here
    monkeypatch.delenv("ABISCOPE_DEBUG", raising=False)
    seen: dict[int, int] = {}
    known: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @given(command_lines(files))
    def run(argv: list[str]) -> None:
        start = time.monotonic()
        with garbage_stdin():
            res = run_cli_captured(*argv)
        took = time.monotonic() - start
        seen[res.code] = seen.get(res.code, 0) + 1
        bug = known_bug(argv, res.err)
        if bug is not None:
            known[bug] = known.get(bug, 0) + 1
            return
        shown = " ".join(repr(a) if not a or " " in a else a for a in argv)
        assert res.code in (0, 1, 2), f"abiscope {shown}: exit {res.code}\n{res.err[-2000:]}"
        assert "Traceback" not in res.err, f"abiscope {shown}:\n{res.err[-3000:]}"
        assert "internal error" not in res.err, f"abiscope {shown}:\n{res.err[-3000:]}"
        assert took < SECONDS_PER_RUN, f"abiscope {shown}: {took:.1f} s"

    run()
    print(f"{sum(seen.values())} command lines, exit codes {dict(sorted(seen.items()))}, "
          f"known bugs hit: {known}")


@pytest.mark.parametrize("where", ["missing-dir/out.json", "."])
def test_unwritable_output_is_an_input_error(where: str, tmp_path: Path) -> None:
    res = run_cli_captured("layout", str(SEED_DIR / "dm_op.h"), "-t", "x86_64", "-j", "1",
                           "-o", str(tmp_path / where))
    assert res.code == 2 and "internal error" not in res.err, res.err


def test_fix_preview_on_hypothetical_targets_only() -> None:
    res = run_cli_captured("check", "-t", "cheri128", "--fix-preview", "-j", "1",
                           str(SEED_DIR / "dm_op.h"))
    assert res.code in (0, 1, 2) and "internal error" not in res.err, res.err


def test_config_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    config = tmp_path / "abiscope.toml"
    config.write_bytes(b"\xff\xfe\x00garbage")
    res = run_cli_captured("layout", str(SEED_DIR / "dm_op.h"), "-t", "x86_64", "-j", "1",
                           "--config", str(config))
    assert res.code == 2 and "internal error" not in res.err, res.err
