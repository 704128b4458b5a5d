"""The include sandbox (``abiscope.frontend.sandbox``): a header from an untrusted patch cannot make
clang read, and so echo into a public log, anything outside the trees abiscope was given.

Each refused include must give exit 2 and a message naming the header, the line and the
include, and must not reach the file at all: checked with a secret whose text must never
appear in the output, with a FIFO (opening it would block the parse forever) and, where
strace is installed, by tracing every ``open`` of the process tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.frontend import sandbox
from abiscope.targets import TARGETS
from conftest import CliResult, skip_or_fail

SECRET = "ABISCOPE_SECRET_TOKEN_0xC0FFEE"
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """repo/ (a git work tree) holding inc/, next to outside/ (secrets) and trusted/."""
    root = tmp_path_factory.mktemp("sandbox")
    repo = root / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "inc" / "sub").mkdir(parents=True)
    (repo / "common").mkdir()
    (repo / "common" / "types.h").write_text("typedef unsigned int u32;\n")
    (repo / "inc" / "sub" / "inner.h").write_text("struct inner { char c; };\n")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.h").write_text(f"{SECRET} leaked here\n")
    (outside / "ok.h").write_text("struct ok { int v; };\n")
    os.mkfifo(outside / "pipe.h")
    os.symlink(outside / "secret.h", repo / "inc" / "evil.h")
    os.symlink(outside, repo / "inc" / "evil_dir")
    os.symlink(repo / "common" / "types.h", repo / "inc" / "good_link.h")
    return root


def header(tree: Path, include: str, name: str = "a.h") -> str:
    path = tree / "repo" / "inc" / name
    path.write_text(f"struct first {{ int a; }};\n#include {include}\nstruct last {{ int b; }};\n")
    return str(path)


REFUSED = {
    "absolute": lambda t: f'"{t}/outside/secret.h"',
    "dotdot": lambda t: '"../../outside/secret.h"',
    "deep_dotdot": lambda t: '"' + "../" * 40 + f'{str(t)[1:]}/outside/secret.h"',
    "dev_zero": lambda t: '"/dev/zero"',
    "proc_environ": lambda t: '"/proc/self/environ"',
    "etc_passwd": lambda t: "</etc/passwd>",
    "symlink_file": lambda t: '"evil.h"',
    "symlink_dir": lambda t: '"evil_dir/secret.h"',
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_include_outside_is_refused(case: str, tree: Path,
                                    run_cli: Callable[..., CliResult]) -> None:
    include = REFUSED[case](tree)
    path = header(tree, include, f"{case}.h")
    r = run_cli("layout", path, "-t", "x86_64", "-j", "1")
    assert r.code == 2, r
    assert SECRET not in r.out + r.err
    assert "Traceback" not in r.err and "internal error" not in r.err
    assert f"{case}.h:2:10" in r.err, r.err  # the header and the line of the include
    if case not in ("etc_passwd",):  # <...> is searched for, not resolved from the includer
        assert "refused" in r.err and "--allow-include-outside" in r.err, r.err


def test_inside_the_tree_and_given_dirs_is_allowed(tree: Path,
                                                   run_cli: Callable[..., CliResult]) -> None:
    path = header(tree, '"../common/types.h"\n#include "sub/inner.h"\n#include "good_link.h"\n'
                        '#include <stdint.h>\n#include "ok.h"', "allowed.h")
    r = run_cli("layout", path, "-t", "x86_64,arm", "-j", "1", "-I", str(tree / "outside"),
                "--format", "json")
    assert r.code == 0, r.err
    assert '"struct last"' in r.out


def test_opt_out_reads_outside(tree: Path, run_cli: Callable[..., CliResult]) -> None:
    path = header(tree, '"../../outside/ok.h"', "optout.h")
    assert run_cli("layout", path, "-t", "x86_64", "-j", "1").code == 2
    r = run_cli("layout", path, "-t", "x86_64", "-j", "1", "--allow-include-outside")
    assert r.code == 0, r.err
    # and this is the leak the sandbox prevents: the diagnostic echoes the secret's text
    leak = header(tree, '"../../outside/secret.h"', "leak.h")
    r = run_cli("layout", leak, "-t", "x86_64", "-j", "1", "--allow-include-outside")
    assert r.code == 2 and SECRET in r.err


def test_fifo_is_never_opened(tree: Path) -> None:
    """Opening a FIFO with no writer blocks: a parse that returns never opened it."""
    path = header(tree, '"../../outside/pipe.h"', "fifo.h")
    proc = subprocess.run([sys.executable, "-m", "abiscope", "layout", path, "-t", "x86_64",
                           "-j", "1"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert proc.returncode == 2, proc.stderr
    assert "refused" in proc.stderr and "fifo.h:2:10" in proc.stderr


@pytest.mark.parametrize("case", ["absolute", "symlink_file", "symlink_dir", "proc_environ"])
def test_strace_shows_no_open(case: str, tree: Path) -> None:
    """No process of the run opens (or has clang stat) the refused file."""
    if shutil.which("strace") is None:
        skip_or_fail("strace not installed (apt-get install strace)")
    if subprocess.run(["strace", "-qq", "-o", os.devnull, "true"]).returncode != 0:
        pytest.skip("strace is installed but may not trace here (ptrace not permitted)")
    path = header(tree, REFUSED[case](tree), f"trace_{case}.h")
    log = tree / f"strace_{case}.txt"
    proc = subprocess.run(["strace", "-f", "-qq", "-e", "trace=%file", "-o", str(log),
                           sys.executable, "-m", "abiscope", "layout", path, "-t", "x86_64",
                           "-j", "1"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert proc.returncode == 2, proc.stderr
    target = {"proc_environ": "/proc/self/environ"}.get(case, f"{tree}/outside/secret.h")
    # (the syscall's name, not the line: pytest-xdist's temp dirs are named "popen-gw0")
    opened = [line for line in log.read_text().splitlines()
              if ("secret.h" in line or target in line)
              and "open" in line.split("(", 1)[0]]
    assert not opened, opened


def test_library_default_is_confined(tree: Path) -> None:
    path = header(tree, f'"{tree}/outside/secret.h"', "lib.h")
    model = frontend.parse([path], [TARGETS["x86_64"]], jobs=1)
    assert model.failures and "refused" in model.failures[0].summary()
    opened = frontend.parse([path], [TARGETS["x86_64"]],
                            frontend.ParseOptions(allow_include_outside=True), jobs=1)
    assert SECRET in opened.failures[0].summary()


def test_overlay_plan(tree: Path) -> None:
    repo = str(tree / "repo")
    assert sandbox.own_tree(str(tree / "repo" / "inc" / "sub" / "inner.h")) == repo
    assert sandbox.own_tree(str(tree / "outside" / "ok.h")) == str(tree / "outside")
    plan = sandbox.plan([repo], ["/usr/include"])
    assert plan.shadows == (f"{repo}/inc/evil.h", f"{repo}/inc/evil_dir")
    assert repo in plan.roots and "/usr/include" in plan.roots
    assert '"redirecting-with": "redirect-only"' in plan.overlay()


def test_the_overlay_maps_its_own_dir_and_is_named_by_what_it_allows(tree: Path) -> None:
    """The overlay's private directory (where a precompiled header goes) is mapped, but
    the file is named by what the plan allows: the unit cache keys by that name, and the
    directory is new in every process."""
    plan = sandbox.plan([str(tree / "repo")], ["/usr/include"])
    path = sandbox.write_overlay(plan)
    own = os.path.dirname(path)
    digest = hashlib.sha256(plan.overlay().encode()).hexdigest()[:16]
    assert os.path.basename(path) == f"{digest}.json"
    roots = [e["name"] for e in json.loads(Path(path).read_text())["roots"]]
    assert own in roots and own not in plan.roots
    assert sandbox.own_dir(["-x", "c", "-ivfsoverlay", path]) == own
    assert sandbox.own_dir(["-x", "c", "-I", own]) is None


def test_huge_tree_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    run_cli: Callable[..., CliResult]) -> None:
    monkeypatch.setattr(sandbox, "MAX_WALK", 5)
    for i in range(10):
        (tmp_path / f"f{i}.h").write_text("")
    (tmp_path / "a.h").write_text("struct a { int x; };\n")
    r = run_cli("layout", str(tmp_path / "a.h"), "-t", "x86_64", "-j", "1")
    assert r.code == 2 and "--allow-include-outside" in r.err, r.err
