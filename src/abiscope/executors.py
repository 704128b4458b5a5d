"""Where units of work run: a local process pool (default) or a Dask cluster.

A unit of work (one batch of headers x one group of targets, :func:`abiscope.frontend.
parse_unit`) is a pure function of its inputs, so any engine that maps a function over
picklable items runs it. An executor is a callable ``(func, items, tags)`` that yields
``(tag, func(item))`` as results come in, in any order; :func:`abiscope.frontend.parse`
puts them back in order. An item may be :class:`Late`: made from the results before it,
when a worker is free for it.

The Dask backend (``pip install abiscope[dask]``; ``--executor dask --scheduler ADDRESS``)
submits the units to an existing ``dask.distributed`` scheduler. Every worker needs abiscope
and the headers at the same paths (a shared file system or an identical image); the cache is
read and written by the submitting process only.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass
from typing import Any

from . import collector
from .errors import InputError, UsageError

Executor = Callable[[Callable[[Any], Any], Sequence[Any], Sequence[int]],
                    Iterator[tuple[int, Any]]]
EXECUTORS = ("process", "dask")


@dataclass(frozen=True)
class Late:
    """An item made only when a worker is free for it, from the results that came in
    before (tag -> result): a unit of work that need not repeat what earlier units did.
    The local pool keeps no more items in flight than it has workers while any is late,
    and starts the first waiting item whose ``after`` results are all in (else the first
    waiting); other executors make every late item up front, from no results."""

    make: Callable[[Mapping[int, Any]], Any]
    after: frozenset[int] = frozenset()


def _made(item: Any, results: Mapping[int, Any]) -> Any:
    return item.make(results) if isinstance(item, Late) else item


def _next(todo: list[tuple[int, Any]], results: Mapping[int, Any]) -> tuple[int, Any]:
    """Take the first of ``todo`` that is not late or whose ``after`` are all in, else the
    first."""
    for n, (_, item) in enumerate(todo):
        if not isinstance(item, Late) or item.after.issubset(results.keys()):
            return todo.pop(n)
    return todo.pop(0)


def local(jobs: int | None, count: int) -> Executor:
    """A process pool of ``jobs`` workers (all cores by default); in-process for one."""
    workers = min(jobs or os.cpu_count() or 1, count)

    def run(func: Callable[[Any], Any], items: Sequence[Any], tags: Sequence[int]
            ) -> Iterator[tuple[int, Any]]:
        results: dict[int, Any] = {}  # (kept only for late items)
        late = any(isinstance(item, Late) for item in items)
        if workers <= 1:
            for tag, item in zip(tags, items, strict=True):
                result = func(_made(item, results))
                if late:
                    results[tag] = result
                yield tag, result
            return
        # The workers are forked with this process's objects (a model loaded from the
        # cache, …); frozen, their garbage collections skip them instead of walking them
        # again and again (measured: twice the parse time on a partly cached UAPI run).
        # This process only unpickles results meanwhile (plain data, no cycles): its
        # collector is off, so that it does not walk the growing results again and again
        # on a core the workers need; each worker turns its own back on. On the way out
        # the results go to the oldest generation unscanned (collector.paused), and
        # objects the caller had frozen stay frozen.
        with collector.paused(promote_made=True):
            frozen_before = gc.get_freeze_count()
            gc.freeze()
            pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_started)
            try:
                yield from _drive(pool, workers, func, items, tags, late, results)
            except BaseException:  # Ctrl-C, the caller stopping early, a unit's error
                _stop_now(pool)
                raise
            else:
                pool.shutdown(wait=True)
            finally:
                if not frozen_before:
                    gc.unfreeze()

    return run


def _drive(pool: ProcessPoolExecutor, workers: int, func: Callable[[Any], Any],
           items: Sequence[Any], tags: Sequence[int], late: bool, results: dict[int, Any]
           ) -> Iterator[tuple[int, Any]]:
    """The pool's results as they come in: all items at once, or (any item late) one per
    free worker, made from the results in by then."""
    if not late:
        futures = {pool.submit(func, item): tag for tag, item in zip(tags, items, strict=True)}
        for future in as_completed(futures):
            yield futures[future], future.result()
        return
    todo = list(zip(tags, items, strict=True))
    running: dict[Future[Any], int] = {}
    came: list[tuple[int, Any]] = []
    while True:
        while todo and len(running) < workers:  # (before what came goes out)
            tag, item = _next(todo, results)
            running[pool.submit(func, _made(item, results))] = tag
        yield from came
        if not running:
            break
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        came = [(running.pop(f), f.result()) for f in finished]
        results.update(came)


def _worker_started() -> None:
    """A worker's start: its collector on (see :func:`local`), and Ctrl-C left to the main
    process (a terminal sends SIGINT to the whole process group), which stops the workers
    itself instead of each printing a traceback; and killed with the main process (which
    may die without stopping them: ``SIGKILL``)."""
    gc.enable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def die_with_parent() -> None:
    """Have this process killed when the one that forked it ends (Linux's
    ``PR_SET_PDEATHSIG``; elsewhere nothing), or end now if that one has ended already."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once: no new work, and the workers killed mid-unit (a unit is pure,
    nothing is lost but its result) instead of waiting seconds for the units in flight, as
    ``shutdown(wait=True)`` (the ``with`` block's exit) does."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join(timeout=1)


def dask(scheduler: Any) -> Executor:
    """Units submitted to a ``dask.distributed`` scheduler: an address (``tcp://host:8786``)
    or a ``Client``/``LocalCluster`` object."""
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError as exc:
        raise UsageError("--executor dask needs dask.distributed: "
                         "pip install 'abiscope[dask]'") from exc

    def run(func: Callable[[Any], Any], items: Sequence[Any], tags: Sequence[int]
            ) -> Iterator[tuple[int, Any]]:
        if not items:
            return
        own = not isinstance(scheduler, distributed.Client)
        try:
            client = distributed.Client(scheduler, timeout=30) if own else scheduler
        except OSError as exc:
            raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                             f"({exc})") from exc
        try:
            futures = client.map(func, [_made(item, {}) for item in items], pure=False)
            tag_of = {f.key: tag for f, tag in zip(futures, tags, strict=True)}
            for future, result in distributed.as_completed(futures, with_results=True):
                yield tag_of[future.key], result
        finally:
            if own:
                client.close()

    return run


def choose(name: str | None, scheduler: str | None, jobs: int | None, count: int
           ) -> Executor:
    """The executor the command line names."""
    if name in (None, "process"):
        if scheduler:
            raise UsageError("--scheduler goes with --executor dask")
        return local(jobs, count)
    if name == "dask":
        if not scheduler:
            raise UsageError("--executor dask needs --scheduler ADDRESS "
                             "(e.g. tcp://127.0.0.1:8786)")
        return dask(scheduler)
    raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}, not {name!r}")
