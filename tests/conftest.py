"""Shared fixtures: paths to bundled and real headers, the CLI runner, CI strictness."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from abiscope import cli

SEED_DIR = Path(__file__).resolve().parents[1] / "src" / "abiscope" / "data" / "seed"
SEED_HEADERS = ("dm_op_v3.h", "dm_op.h", "privcmd_dm_op.h")
IN_CI = os.environ.get("CI") == "true"
# The unit cache of the CLI and frontend writes to the user cache dir by default: the tests
# get a private one (a cached result is never stale, but tests should not touch $HOME).
# The process that makes it (pytest itself, not an xdist worker, which inherits the
# variable) removes it at exit, so test sessions leave nothing in /tmp.
if "ABISCOPE_CACHE_DIR" not in os.environ:
    os.environ["ABISCOPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="abiscope-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ABISCOPE_CACHE_DIR"], ignore_errors=True)


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI (CI=true) a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: every prerequisite must be installed)")
    pytest.skip(reason)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli_captured(*args: str) -> CliResult:
    """Run ``abiscope ARGS`` in-process, capturing its output without pytest's capsys (for
    module-scoped fixtures that run a command once)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``abiscope ARGS`` in-process; returns exit code, stdout, stderr."""

    def run(*args: str) -> CliResult:
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
