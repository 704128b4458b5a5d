"""Each unit of work bounded in time and memory (``abiscope.frontend.bounds``): the API a
server calls, the configuration, the cache, and no process left behind."""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from abiscope.cliutil import unit_bounds
from abiscope.config import Config, load_config
from abiscope.errors import InputError
from abiscope.frontend import ParseOptions, parse
from abiscope.frontend.bounds import (
    DEFAULT,
    BoundExceeded,
    Bounds,
    exceeded,
    parse_bounded,
)
from abiscope.targets import TARGETS
from hostile_support import run_bounded


def _doubling(n: int) -> str:
    return ("#define A0 1\n" + "".join(f"#define A{i} (A{i - 1}+A{i - 1})\n"
                                       for i in range(1, n + 1))
            + f"struct s {{ char x[A{n}]; }};\n")


@pytest.fixture
def headers(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "fine.h").write_text("struct fine { int a; long b; };\n")
    (tmp_path / "bomb.h").write_text(_doubling(26))
    return str(tmp_path / "fine.h"), str(tmp_path / "bomb.h")


def test_parse_bounded_is_the_model_or_an_input_error(headers: tuple[str, str]) -> None:
    fine, bomb = headers
    targets = [TARGETS["x86_64"], TARGETS["i386"]]
    plain = parse([fine], targets, jobs=1)
    assert parse_bounded([fine], targets, jobs=1) == plain
    start = time.monotonic()
    with pytest.raises(BoundExceeded) as caught:
        parse_bounded([fine, bomb], targets, ParseOptions(), Bounds(0.5, 0), jobs=1)
    assert time.monotonic() - start < 15
    assert isinstance(caught.value, InputError)
    assert {(f.header.rsplit("/", 1)[-1], f.target) for f in caught.value.failures} == {
        ("bomb.h", "x86_64"), ("bomb.h", "i386")}
    assert "exceeded the time bound: still parsing after 0.5 s" in str(caught.value)
    model = parse([fine, bomb], targets, bounds=Bounds(0, 100), jobs=2)
    assert [r.name for r in model.records] == ["struct fine"]
    assert model.records == plain.records
    assert len(model.failures) == 2 and all(exceeded(f) for f in model.failures)


def test_a_bound_failure_is_not_cached(tmp_path: Path) -> None:
    small = tmp_path / "small.h"
    small.write_text(_doubling(18))  # (0.3 s, 60 MB unbounded)
    argv = ["layout", str(small), "-t", "x86_64", "-j", "1", "--cache-dir",
            str(tmp_path / "cache")]
    first = run_bounded([*argv, "--unit-timeout", "0.01"])
    assert first.code == 2 and "exceeded the time bound" in first.err, str(first)
    second = run_bounded(argv)
    assert second.code == 0 and "262144 / 1" in second.out, str(second)


def test_the_bounds_come_from_flags_then_configuration_then_defaults(tmp_path: Path) -> None:
    conf = tmp_path / "abiscope.toml"
    conf.write_text("unit_timeout = 2.5\nunit-memory = 300\n")
    config = load_config(str(conf))
    assert (config.unit_timeout, config.unit_memory) == (2.5, 300)
    none = argparse.Namespace(unit_timeout=None, unit_memory=None)
    assert unit_bounds(none, Config()) == DEFAULT == Bounds(60, 2048)
    assert unit_bounds(none, config) == Bounds(2.5, 300)
    assert unit_bounds(argparse.Namespace(unit_timeout=0.0, unit_memory=None), config) \
        == Bounds(0, 300)
    for body in ("unit_timeout = -1\n", 'unit_memory = "2G"\n', "unit_memory = 1.5\n",
                 "unit_timeout = true\n"):
        conf.write_text(body)
        with pytest.raises(InputError, match="number >= 0"):
            load_config(str(conf))


def _descendants_of(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("jobs", [1, 2])
def test_no_unit_process_outlives_its_watcher(headers: tuple[str, str], jobs: int) -> None:
    """The process running a unit dies with the process watching it (killed mid-unit:
    a pool worker terminated on Ctrl-C, or the command itself killed)."""
    _, bomb = headers
    targets = [TARGETS["x86_64"], TARGETS["i386"]]
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the watcher: parses until it is killed)
        try:
            parse([bomb], targets, bounds=Bounds(60, 0), jobs=jobs)
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 20
        while True:  # (the unit's processes: fork, and pool workers with -j 2)
            units = [p for p in _descendants_of(pid) if p.memory_info().rss > 300 << 20]
            if units or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert units, "no unit process grew"
        everything = _descendants_of(pid)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        _, alive = psutil.wait_procs(everything, timeout=5)
        assert not alive, alive
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_threads_have_servers_of_their_own(headers: tuple[str, str], tmp_path: Path) -> None:
    """Units run from several threads at once (a Dask worker, a language server) are
    watched apart: each thread forks its own server."""
    from concurrent.futures import ThreadPoolExecutor

    fine, _ = headers
    other = tmp_path / "other.h"
    other.write_text("struct other { char c; double d; };\n")
    targets = [TARGETS["x86_64"], TARGETS["i386"]]
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda h: parse([h], targets, bounds=DEFAULT, jobs=1),
                               [fine, str(other)] * 4))
    assert all(m == models[i % 2] for i, m in enumerate(models))
    assert [r.name for r in models[1].records] == ["struct other"]
