""":func:`parse`: the inputs cut into units of work, the units spread over processes or
served from the cache, and their results merged into one model.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .. import collector
from ..errors import InputError, ParseFailure, SourceLocation
from ..executors import Executor, Late
from ..executors import local as local_executor
from ..model import (
    Enum,
    EnumLayout,
    Function,
    Macro,
    Model,
    Prelude,
    Record,
    RecordLayout,
    Signature,
    TargetInfo,
)
from ..targets import Target
from . import sandbox
from .bindings import relpath
from .bounds import Bounds
from .bounds import run as bounded_run
from .bounds import stop as stop_bounded
from .options import ParseOptions, clang_args, search_dirs, system_include_dirs
from .units import (
    Given,
    Job,
    UnitResult,
    parse_unit_given,
    parse_unit_job,
    parse_unit_pickled,
)
from .walker import TargetResult

if TYPE_CHECKING:
    from ..cache import Rendered, UnitCache


# Headers per unit of work that a cache keeps, on average (batches()): one touched header
# re-parses its unit for each target group, and the unit holding a header is about twice
# this size (a unit of 64 took a touched run of Linux UAPI past 1 s on a slow VM; 16 keeps
# it near 0.8 s, for 7 % more cold with a cache)
BATCH_SIZE = 16
# With --batch a unit is one translation unit: larger ones share more (a unit walks again
# what the units before it walked)
SHARED_BATCH_SIZE = 32
CHUNK_SIZE = 32  # the least headers per unit of a run that keeps no unit: chunks()


def batches(headers: Sequence[str], size: int = BATCH_SIZE) -> list[tuple[str, ...]]:
    """Split the inputs, in order, into batches of about ``size`` headers.

    Boundaries are content-defined (after a header whose name hashes to 0 modulo ``size``,
    or at twice ``size``): adding or removing one header changes one batch, not every batch
    after it, so the cache keeps serving the others. The name is the path's last two
    components (``linux/vhost.h``), so that a tree cuts the same wherever it lies (a copy
    in a temporary dir put ``vhost.h`` in a unit of 1 to 64 headers from run to run).
    """
    if size <= 1:
        return [(h,) for h in headers]
    out: list[tuple[str, ...]] = []
    current: list[str] = []
    for h in headers:
        current.append(h)
        name = "/".join(os.path.abspath(h).split(os.sep)[-2:])
        digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
        if int.from_bytes(digest, "big") % size == 0 or len(current) >= 2 * size:
            out.append(tuple(current))
            current = []
    if current:
        out.append(tuple(current))
    return out


def chunks(headers: Sequence[str], groups: int, jobs: int | None) -> list[tuple[str, ...]]:
    """The inputs, in order, in chunks of decreasing size, each of at least
    :data:`CHUNK_SIZE` headers: about six units of work per worker in all (``groups``
    target groups each). Few units walk again little of what their headers share
    (linux/types.h, …); units that shrink towards the end let the workers finish close
    together, since :func:`parse` hands out the largest first (units no cache keeps need
    no stable boundaries: :func:`batches`)."""
    workers = jobs or os.cpu_count() or 1
    count = max(1, min(-(-6 * workers // max(groups, 1)), len(headers) // CHUNK_SIZE))

    def total(n: int) -> int:  # the weights n + 1, n, …, 2 of n chunks, summed
        return (n + 1) * (n + 2) // 2 - 1

    while count > 1 and len(headers) * 2 // total(count) < CHUNK_SIZE:
        count -= 1
    out: list[tuple[str, ...]] = []
    start = weight = 0
    for i in range(count):
        weight += count + 1 - i
        end = len(headers) * weight // total(count)
        out.append(tuple(headers[start:end]))
        start = end
    return [c for c in out if c]


@overload
def parse(
    headers: Sequence[str], targets: Sequence[Target], options: ParseOptions | None = None,
    jobs: int | None = None, check_files: bool = True, *, batch: bool | None = None,
    standalone: bool = False, cache: UnitCache | None = None,
    progress: Callable[[int, int], None] | None = None, executor: Executor | None = None,
    view: None = None, bounds: Bounds | None = None,
) -> Model: ...


@overload
def parse(
    headers: Sequence[str], targets: Sequence[Target], options: ParseOptions | None = None,
    jobs: int | None = None, check_files: bool = True, *, batch: bool | None = None,
    standalone: bool = False, cache: UnitCache | None = None,
    progress: Callable[[int, int], None] | None = None, executor: Executor | None = None,
    view: Sequence[str] | None, bounds: Bounds | None = None,
) -> Model | Rendered: ...


def parse(
    headers: Sequence[str],
    targets: Sequence[Target],
    options: ParseOptions | None = None,
    jobs: int | None = None,
    check_files: bool = True,
    *,
    batch: bool | None = None,
    standalone: bool = False,
    cache: UnitCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    view: Sequence[str] | None = None,
    bounds: Bounds | None = None,
) -> Model | Rendered:
    """Parse headers for every target into one model.

    The work is cut into units, one batch of about :data:`BATCH_SIZE` headers times one
    group of targets that share a clang command line. Each header has its own translation
    unit (exact: what a compiler sees for that header alone). With ``batch`` (opt-in) a
    unit's headers share one where they do not conflict and no header would read what
    only the batch gave it (:func:`parse_unit`): the same model; ``standalone`` also
    parses each header alone first. Units are served from ``cache``
    when it holds them and every file they read is unchanged; the rest are spread over
    ``jobs`` processes (or ``executor``). ``progress(done, total)`` is called as units
    finish. The model does not depend on ``jobs``, ``cache`` or ``executor``; nothing but
    the arguments decides it (no state of an earlier call). A header may also be a
    directory, a glob or ``@LIST`` (:func:`abiscope.inputs.expand`).

    ``view`` (with a ``cache``): what the caller renders the model as (every option that
    changes the text). A warm run whose text of that view the cache holds then returns a
    :class:`abiscope.cache.Rendered` (that text) instead of the model; without ``view``
    the result is always the model.

    ``bounds`` (:class:`abiscope.frontend.bounds.Bounds`; None: none, as the library
    always had): each unit runs in a process of its own, and a header past a bound is a
    failure naming it (:mod:`abiscope.frontend.bounds`). The command line's default is
    :data:`abiscope.frontend.bounds.DEFAULT`.
    """
    options = options or ParseOptions()
    if check_files:
        from ..inputs import expand

        headers = [f for h in headers for f in ([h] if os.path.isfile(h) else expand([h]))]
        for header in headers:
            if not os.path.isfile(header):
                raise InputError(f"{header}: no such file")
    options = sandbox.confine(options, headers, targets)
    groups: dict[tuple[str, ...], list[Target]] = {}
    for t in sorted(targets, key=lambda t: t.engine):  # a clang target leads its group
        groups.setdefault(tuple(clang_args(t, options)), []).append(t)
    # Batches are opt-in: exact (frontend.isolation), but on Linux UAPI the check that keeps
    # them exact costs about what sharing translation units saves (docs/performance.md).
    combine = bool(batch)
    # Without a cache, no unit is ever reused: fewer, larger units (:func:`chunks`), no
    # file list, and each unit is given what the units of its group before it walked
    # (linux/types.h, …: :func:`_given_job`), so it does not walk that again.
    kept = cache is not None or combine or executor is not None
    work = [
        Job(chunk, group, options, combine, standalone and combine, kept)
        for group in groups.values()
        for chunk in (batches(headers, SHARED_BATCH_SIZE if combine else BATCH_SIZE) if kept
                      else chunks(headers, len(groups), jobs))]
    units: list[UnitResult | None] = [None] * len(work)
    keys: list[str] = []
    if cache is not None:
        cache.new_run(view)
        keys = [cache.key(w.headers, [t.name for t in w.targets], w.options,
                          (w.batch, w.standalone)) for w in work]
        served = cache.run_hit(keys, targets, headers)  # a text only for a caller's view
        rounds = cache.rounds(len(work))  # changed units first, if the view may still hold
    else:
        served, rounds = None, [list(range(len(work)))]
    done = 0
    for n, indices in enumerate(rounds):
        if cache is not None:
            if n:  # the changed units are in: their new results may give a stored view
                served = cache.rehit()
            if served is not None:
                if progress is not None:
                    progress(len(work), len(work))
                return served
            for i in indices:
                units[i] = cache.get(keys[i])
        todo = [i for i in indices if units[i] is None]
        if not kept:  # (the largest chunks first: the last to run are the small ones)
            todo.sort(key=lambda i: -len(work[i].headers))
        done += len(indices) - len(todo)
        if progress is not None:
            progress(done, len(work))
        runner = executor or local_executor(jobs, len(todo))
        # (with a cache, results come pickled: the cache stores those bytes as they are)
        job: Callable[[Job], Any] = parse_unit_job if cache is None else parse_unit_pickled
        items: list[Any] = [work[i] for i in todo]
        if not kept:  # (each given what the units of its group before it returned)
            earlier = {i: frozenset(j for j in todo if j < i
                                    and work[j].targets is work[i].targets) for i in todo}
            job, items = parse_unit_given, [
                Late(partial(_given_job, work[i], earlier[i]), earlier[i]) for i in todo]
        if bounds is not None and not bounds.unbounded:
            job = partial(bounded_run, job, bounds)
        for i, result in runner(job, items, todo):
            if not kept:
                with collector.paused(promote_made=True):
                    units[i] = pickle.loads(result[1])
            elif cache is None:
                units[i] = result
            else:
                with collector.paused(promote_made=True):
                    unit = units[i] = pickle.loads(result)
                if unit.cacheable:
                    cache.put(keys[i], unit, search_dirs(work[i].targets[0], options),
                              result)
            done += 1
            if progress is not None:
                progress(done, len(work))
        if bounds is not None:
            stop_bounded()  # (the idle process that ran this process's units: -j 1)
        if cache is not None and todo:
            cache.evict()
    per_target: dict[str, list[TargetResult]] = {}
    for unit in units:
        assert unit is not None
        for res in unit.results:
            per_target.setdefault(res.target, []).append(res)
    with collector.paused(promote_made=True):  # (it allocates a record per name: no cycles)
        model = merge([_combine(rs) for rs in per_target.values()], targets, headers,
                      options)
    if cache is not None:
        cache.put_run(model)
    return model


def _given_job(job: Job, earlier: frozenset[int],
               done: Mapping[int, tuple[Given, bytes]]) -> Job:
    """``job`` of a run that keeps no unit, given what the ``earlier`` units of its target
    group that are done already returned (``done``: results of :func:`parse_unit_given`):
    their record of a name comes first in :func:`_combine`, so the unit need not walk it
    again."""
    return job._replace(given=Given.union(done[j][0] for j in earlier if j in done))


def _combine(results: Sequence[TargetResult]) -> TargetResult:
    """One target's results of several batches, in input order: the first record or enum
    of a name wins, as in one walk over every header, except that one declared in the
    headers of its batch wins over one met first outside them (``weak``, ``weak_enums``:
    the walk replaces those too, :class:`abiscope.frontend.walker.TargetWalker`)."""
    if len(results) == 1:
        return results[0]
    records, weak = _strongest((res.records, res.weak) for res in results)
    enums, weak_enums = _strongest((res.enums, res.weak_enums) for res in results)
    functions: dict[str, tuple[str, SourceLocation, Signature]] = {}
    for res in results:
        for fn in res.functions:
            functions.setdefault(fn[0], fn)
    return TargetResult(
        results[0].target, records, enums,
        tuple(f for r in results for f in r.failures),
        tuple(m for r in results for m in r.macros), weak, weak_enums,
        tuple(functions.values()), tuple(p for r in results for p in r.preludes),
        tuple(h for r in results for h in r.helped))


_Named = TypeVar("_Named", bound=tuple[Any, ...])


def _strongest(parts: Iterable[tuple[Sequence[_Named], frozenset[str]]]
               ) -> tuple[tuple[_Named, ...], frozenset[str]]:
    """Named items (name first) of several batches, in order: the first of a name wins,
    unless it was weak (met outside its batch's headers) and a later one is not; and the
    names whose winner is weak."""
    chosen: dict[str, _Named] = {}
    weak: set[str] = set()
    for items, weak_here in parts:
        for item in items:
            name = item[0]
            if name not in chosen or (name in weak and name not in weak_here):
                chosen[name] = item
                if name in weak_here:
                    weak.add(name)
                else:
                    weak.discard(name)
    return tuple(chosen.values()), frozenset(weak)


def _input_copies(targets: Sequence[Target], options: ParseOptions,
                  inputs: set[str]) -> Callable[[str, str], str]:
    """``copy_of(target, file)``: the input of which ``file`` (as locations name it) is
    the copy in ``target``'s system include tree, else "": the same path below one of
    its directories as an input's below its own (Debian's cross trees hold a
    ``linux/in.h`` of their own, which ``<linux/in.h>`` names there)."""
    tails: dict[str, str] = {}  # "linux/in.h", "in.h" -> the input
    for name in sorted(inputs, reverse=True):  # (the first input wins a tail)
        parts = name.split("/")
        for i in range(1, len(parts)):
            tails["/".join(parts[i:])] = name
    dirs = {t.name: [relpath(d).rstrip("/") + "/" for d in system_include_dirs(t, options)]
            for t in targets}

    def copy_of(target: str, file: str) -> str:
        for d in dirs.get(target, ()):
            if file.startswith(d):
                return tails.get(file[len(d):], "")
        return ""

    return copy_of


def merge(results: Iterable[TargetResult], targets: Sequence[Target],
          headers: Sequence[str], options: ParseOptions | None = None) -> Model:
    """Combine per-target results: one record per name, one layout per target.

    A record's one location is the first target's in an input, else the first target's
    (in the order of ``targets``); with ``options``, a record declared on no target in
    an input but on one in its own copy of an input (:func:`_input_copies`) is declared
    in the inputs (:attr:`abiscope.model.Record.copy_of`)."""
    kinds: dict[str, tuple[str, SourceLocation]] = {}
    copies: dict[str, str] = {}
    layouts: dict[str, dict[str, RecordLayout]] = {}
    enum_locs: dict[str, SourceLocation] = {}
    enum_layouts: dict[str, dict[str, EnumLayout]] = {}
    failures: list[ParseFailure] = []
    macro_locs: dict[str, tuple[SourceLocation, tuple[str, ...]]] = {}
    macro_values: dict[str, dict[str, int]] = {}
    preludes: dict[str, tuple[str, ...]] = {}  # record -> headers added, every target's
    helped: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # (header, added) -> targets
    function_locs: dict[str, SourceLocation] = {}
    signatures: dict[str, dict[str, Signature]] = {}
    inputs = {relpath(h) for h in headers}
    copy_of = None if options is None else _input_copies(targets, options, inputs)
    for res in results:
        for name, loc, value, recs in res.macros:
            macro_locs.setdefault(name, (loc, recs))
            macro_values.setdefault(name, {})[res.target] = value
        for name, kind, loc, lay in res.records:
            # (one location per record: an input's over another file's, so that a record
            # an input declares is listed whatever the order of the targets)
            known = kinds.get(name)
            if known is None or (known[1].file not in inputs and loc.file in inputs):
                kinds[name] = (kind, loc)
            if copy_of is not None and loc.file not in inputs and name not in copies:
                copy = copy_of(res.target, loc.file)
                if copy:
                    copies[name] = copy
            layouts.setdefault(name, {})[res.target] = lay
        for name, loc, el in res.enums:
            if name not in enum_locs or (enum_locs[name].file not in inputs
                                         and loc.file in inputs):
                enum_locs[name] = loc
            enum_layouts.setdefault(name, {})[res.target] = el
        for header, added in res.helped:
            helped.setdefault((header, added), []).append(res.target)
        for name, added in res.preludes:
            preludes[name] = tuple(dict.fromkeys((*preludes.get(name, ()), *added)))
        for name, loc, sig in res.functions:
            function_locs.setdefault(name, loc)
            signatures.setdefault(name, {})[res.target] = sig
        failures += res.failures
    order = {n: i for i, n in enumerate(kinds)}  # (the first target's definition order)
    records = tuple(Record(n, kinds[n][0], kinds[n][1], layouts[n],
                           "" if kinds[n][1].file in inputs else copies.get(n, ""),
                           order=order[n], prelude=preludes.get(n, ()))
                    for n in sorted(kinds))
    enums = tuple(Enum(n, enum_locs[n], enum_layouts[n]) for n in sorted(enum_locs))
    infos = {t.name: TargetInfo(t.name, t.triple, t.pointer_bits, t.endian, t.hypothetical)
             for t in targets}
    # (once each: units that walk the same record each report the engine's failure on it)
    failures = sorted(dict.fromkeys(failures), key=lambda f: (f.header, f.target))
    macros = tuple(Macro(n, macro_locs[n][0], macro_values[n], macro_locs[n][1])
                   for n in sorted(macro_locs))
    functions = tuple(Function(n, function_locs[n], signatures[n])
                      for n in sorted(function_locs))
    return Model(infos, records, enums, tuple(failures),
                 tuple(relpath(h) for h in headers), macros, functions=functions,
                 preludes=tuple(Prelude(h, added, tuple(ts))
                                for (h, added), ts in sorted(helped.items())))
