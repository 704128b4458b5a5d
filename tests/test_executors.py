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
