"""Units of work on a Dask cluster give the same model as the local process pool."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import pytest

from abiscope import frontend
from abiscope.executors import dask
from abiscope.frontend import ParseOptions
from abiscope.targets import TARGETS
from conftest import SEED_DIR, SEED_HEADERS, CliResult, skip_or_fail


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    try:
        from distributed import LocalCluster
    except ImportError:
        skip_or_fail("dask.distributed is not installed (pip install 'abiscope[dask]')")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:
        yield c


def test_dask_executor_equals_local(cluster: Any) -> None:
    headers = [str(SEED_DIR / h) for h in SEED_HEADERS]
    targets = [TARGETS[t] for t in ("i386", "x86_64", "arm", "lp128")]
    opts = ParseOptions(macros=True)
    local = frontend.parse(headers, targets, opts, jobs=1)
    remote = frontend.parse(headers, targets, opts, executor=dask(cluster.scheduler_address))
    assert remote == local


def test_cli_dask(cluster: Any, run_cli: Callable[..., CliResult]) -> None:
    seed = str(SEED_DIR / "dm_op.h")
    local = run_cli("layout", seed, "-t", "default", "-f", "json", "--no-cache")
    r = run_cli("layout", seed, "-t", "default", "-f", "json", "--no-cache",
                "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert r.code == 0, r.err
    assert json.loads(r.out) == json.loads(local.out)


def test_cli_dask_usage(run_cli: Callable[..., CliResult]) -> None:
    r = run_cli("layout", str(SEED_DIR / "dm_op.h"), "--executor", "dask")
    assert r.code == 2 and "--scheduler" in r.err
    r = run_cli("layout", str(SEED_DIR / "dm_op.h"), "--scheduler", "tcp://x:1")
    assert r.code == 2 and "--executor dask" in r.err


def _collector_on(_item: int) -> bool:
    import gc

    return gc.isenabled()


def test_local_pool_workers_collect_and_the_caller_gets_its_collector_back() -> None:
    """The submitting process pauses its cycle collector while results come in; the
    forked workers must not inherit that (their units allocate freely), and the caller's
    setting comes back when the pool is done."""
    import gc

    from abiscope.executors import local

    assert gc.isenabled()
    run = local(2, 2)
    results = run(_collector_on, [0, 1], [0, 1])
    assert dict(results) == {0: True, 1: True}
    assert gc.isenabled()
    # (and what the caller froze stays frozen: the pool freezes and unfreezes only its own)
    gc.freeze()
    try:
        assert dict(local(2, 2)(_collector_on, [0, 1], [0, 1])) == {0: True, 1: True}
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    finally:
        gc.unfreeze()


def _same(item: Any) -> Any:
    return item


def _made_from(i: int, results: Mapping[int, Any]) -> tuple[int, tuple[int, ...]]:
    return i, tuple(sorted(results))


@pytest.mark.parametrize("workers", [1, 2])
def test_late_items_are_made_from_the_results_before_them(workers: int) -> None:
    """A :class:`Late` item is made when a worker is free for it, from the results that
    came in by then: in one process from all before it, in a pool of N from all but at
    most the N - 1 still running."""
    from abiscope.executors import Late, local

    run = local(workers, 8)
    out = dict(run(_same, [Late(partial(_made_from, i)) for i in range(8)], list(range(8))))
    assert sorted(out) == list(range(8))
    for tag, (i, before) in out.items():
        assert i == tag
        assert set(before) <= set(range(i))
        assert len(before) >= i - (workers - 1)


def _nap(item: Any) -> Any:
    import time

    if isinstance(item, float):
        time.sleep(item)
    return item


def test_a_late_item_whose_results_are_in_goes_first() -> None:
    """Of the items waiting, the pool starts the first whose ``after`` results are in."""
    from abiscope.executors import Late, local

    made: list[int] = []

    def make(i: int, results: Mapping[int, Any]) -> int:
        made.append(i)
        return i

    items = [0.0, 1.0, Late(partial(make, 2), frozenset({1})),
             Late(partial(make, 3), frozenset({0}))]
    assert dict(local(2, 4)(_nap, items, [0, 1, 2, 3])) == {0: 0.0, 1: 1.0, 2: 2, 3: 3}
    assert made == [3, 2]


SLOW_UNITS = """
import os, sys, time
from abiscope.executors import local

def slow(x):
    # one write(2) per line: print() makes two under PYTHONUNBUFFERED, and two workers'
    # halves interleave in the pipe
    os.write(1, f"{os.getpid()}\\n".encode())
    time.sleep(60)
    return x

if __name__ == "__main__":
    try:
        for _ in local(2, 2)(slow, [1, 2], [0, 1]):
            pass
    except KeyboardInterrupt:
        sys.exit(130)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_the_workers_at_once(tmp_path: Any) -> None:
    """SIGINT to the main process while two units of 60 s run: it exits 130 at once and its
    workers are gone (the pool used to wait for the units in flight: 2-5 s on real
    headers, 60 s here)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "slow.py"
    script.write_text(SLOW_UNITS)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    assert proc.stdout is not None
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=20)
    finally:
        proc.kill()
    took = time.monotonic() - start
    assert code == 130 and took < 3, took
    deadline = time.monotonic() + 3
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)]


def _fails(x: int) -> int:
    if x == 1:
        raise ValueError("unit 1 failed")
    return x


def test_a_units_error_and_an_early_stop_leave_no_workers() -> None:
    import multiprocessing

    from abiscope.executors import local

    # (only the pool's own workers count: a Dask cluster of another test in this session
    # may still be winding down its processes)
    before = {p.pid for p in multiprocessing.active_children()}
    with pytest.raises(ValueError, match="unit 1 failed"):
        list(local(2, 3)(_fails, [0, 1, 2], [0, 1, 2]))
    run = local(2, 3)(_fails, [0, 2, 4], [0, 1, 2])
    next(run)
    run.close()  # (the caller stops reading)
    assert not [p for p in multiprocessing.active_children()
                if p.is_alive() and p.pid not in before]
