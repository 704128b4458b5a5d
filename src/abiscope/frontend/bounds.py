"""Every unit of work bounded in time and memory: a header is untrusted input.

A header whose macros double 26 times (``#define A1 (A0+A0)`` … used once in an array
bound) is 27 lines of valid C on which clang spends a minute and 10 GB expanding 2^26
tokens. abiscope runs on headers from pull requests (CI) and on whatever an editor opens
(the language server), so each unit of work (:func:`abiscope.frontend.units.parse_unit`: a
batch of headers x a group of targets) runs in another process, forked from the one
that would have run it (the main process with ``-j 1``, else a pool worker or a Dask
worker), which watches it. That process (a *server*: one per thread that runs units) runs
the thread's units one after another, until one of them does not finish; a fork per unit
cost 10-15 ms of system time each.

- **time**: each header may take ``seconds`` of wall-clock time (the unit reports each
  header it starts on a pipe; the clock starts again at each);
- **memory**: the unit may add ``memory_mib`` MiB to the server's resident set at its
  start (read from ``/proc`` every 20 ms), with an address-space limit of twice that as a
  backstop for memory taken faster than it is polled.

Past a bound the process is killed (``SIGKILL``, then reaped: nothing is left behind; it
also dies with its parent, ``PR_SET_PDEATHSIG``), the header it was on is a
:class:`abiscope.errors.ParseFailure` on each target of the unit, naming the bound (as a
header that does not parse: the other headers' results stand), and the unit runs again
without it. A header of a batch (``--batch``) is found by running the unit again with one
translation unit per header. A unit whose process dies otherwise (libclang crashing) makes
its header a failure the same way. A unit with such a failure is not cached.

The bounds are not part of a unit's inputs: a unit that finishes within them has the
result it has without them.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Diagnostic, InputError, ParseFailure
from ..executors import die_with_parent
from . import units
from .bindings import load_cindex, relpath

POLL = 0.02  # seconds between two looks at the unit's memory and clock


@dataclass(frozen=True)
class Bounds:
    """Bounds of each unit of work; 0 is no bound."""

    seconds: float = 60.0  # wall-clock time per header of a unit
    memory_mib: int = 2048  # resident memory a unit may add to its process's

    @property
    def unbounded(self) -> bool:
        return not self.seconds and not self.memory_mib

    def describe(self, which: str) -> str:
        """The bound ``which`` ("time" or "memory") as an error message says it."""
        if which == "time":
            return (f"exceeded the time bound: still parsing after {self.seconds:g} s "
                    "(--unit-timeout SECONDS, unit_timeout in abiscope.toml; 0 = none)")
        return (f"exceeded the memory bound of {self.memory_mib} MiB "
                "(--unit-memory MIB, unit_memory in abiscope.toml; 0 = none)")


DEFAULT = Bounds()
UNBOUNDED = Bounds(0, 0)
BOUND_PREFIX = "exceeded the "  # how a bound's diagnostic begins (:func:`exceeded`)


class BoundExceeded(InputError):
    """A header exceeded a bound (:func:`parse_bounded`)."""

    def __init__(self, failures: tuple[ParseFailure, ...]) -> None:
        self.failures = failures
        grouped: dict[tuple[str, str], list[str]] = {}
        for f in failures:
            grouped.setdefault((f.header, f.summary()), []).append(f.target)
        super().__init__("; ".join(f"{header}: on {', '.join(on)}: {summary}"
                                   for (header, summary), on in grouped.items()))


def exceeded(failure: ParseFailure) -> bool:
    """Whether a failure is a header that exceeded a bound."""
    return any(d.severity == "fatal" and d.message.startswith(BOUND_PREFIX)
               for d in failure.diagnostics)


def parse_bounded(headers: list[str], targets: list[Any], options: Any = None,
                  bounds: Bounds = DEFAULT, **kwargs: Any) -> Any:
    """:func:`abiscope.frontend.parse` with every unit bounded (for a server that must
    survive any header): the model, or :class:`BoundExceeded` (an ``InputError``) naming
    each header, target and bound exceeded. Other parse failures stay in the model's
    ``failures``, as :func:`abiscope.frontend.parse` leaves them."""
    from .driver import parse

    model = parse(headers, targets, options, bounds=bounds, **kwargs)
    over = tuple(f for f in model.failures if exceeded(f))
    if over:
        raise BoundExceeded(over)
    return model


def run(func: Callable[[units.Job], Any], bounds: Bounds, job: units.Job) -> Any:
    """``func(job)`` (a unit of work) in a process of its own, within ``bounds``: its
    result, with a header that exceeded a bound (or crashed its process) left out and a
    failure in its place (see the module's text)."""
    if bounds.unbounded or not job.headers:
        return func(job)
    outcome = _in_child(func, job, bounds)
    if outcome.done:
        return outcome.result
    culprit = outcome.current
    if len(culprit) != 1 and job.batch:  # (a batch's translation unit: which header?)
        return run(func, bounds, job._replace(batch=False, standalone=False))
    if not culprit:
        culprit = job.headers
    message = bounds.describe(outcome.bound) if outcome.bound else \
        f"clang's process died parsing it ({outcome.death})"
    failures = tuple(ParseFailure(relpath(h), t.name, (Diagnostic("fatal", message, None),))
                     for h in culprit for t in job.targets)
    rest = job._replace(headers=tuple(h for h in job.headers if h not in culprit))
    return _with_failures(run(func, bounds, rest), failures)


def _with_failures(result: Any, failures: tuple[ParseFailure, ...]) -> Any:
    """A unit's result (in the shape its job function returns it) with ``failures``
    added, and not cacheable."""
    if isinstance(result, bytes):
        return pickle.dumps(_with_failures(pickle.loads(result), failures),
                            protocol=pickle.HIGHEST_PROTOCOL)
    if isinstance(result, tuple):  # (what parse_unit_given returns: gives, pickled unit)
        return result[0], _with_failures(result[1], failures)
    assert isinstance(result, units.UnitResult)
    return replace(result, cacheable=False, results=tuple(
        replace(r, failures=(*r.failures, *(f for f in failures if f.target == r.target)))
        for r in result.results))


@dataclass(frozen=True)
class _Outcome:
    done: bool
    result: Any = None
    current: tuple[str, ...] = ()  # the headers the unit was on when it ended
    bound: str = ""  # "time" or "memory" when a bound ended it
    death: str = ""  # how its process ended otherwise


_START, _RESULT, _ERROR = b"S", b"R", b"E"
_FRAME = struct.Struct("<cQ")


def _send(fd: int, kind: bytes, payload: bytes) -> None:
    data = memoryview(_FRAME.pack(kind, len(payload)) + payload)
    while data:
        data = data[os.write(fd, data):]


def _frames(buffer: bytearray) -> Iterator[tuple[bytes, bytes]]:
    """Complete frames at the start of ``buffer``, taken out of it."""
    while len(buffer) >= _FRAME.size:
        kind, size = _FRAME.unpack_from(buffer)
        if len(buffer) < _FRAME.size + size:
            return
        payload = bytes(buffer[_FRAME.size:_FRAME.size + size])
        del buffer[:_FRAME.size + size]
        yield kind, payload


def _statm(pid: int | str) -> tuple[int, int]:
    """(mapped, resident) bytes of a process, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            size, resident = fh.read().split()[:2]
    except (OSError, ValueError):
        return 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    return int(size) * page, int(resident) * page


@dataclass
class _Server:
    """The process that runs this process's units, one after another (forked once: a
    fork per unit cost 10 ms of system time each, 19 % of a cold cached UAPI run)."""

    pid: int
    jobs: int  # the pipe this process writes jobs to
    frames: int  # the pipe it reads the unit's frames from
    owner: int  # the process that forked it (a pool worker forked later has none)


# each thread's server (a Dask worker or a language server runs units in several threads;
# a forked pool worker inherits its parent's entries, which are not its own: ``owner``)
_servers: dict[int, _Server] = {}
_FORKING = threading.Lock()  # (held while a server is forked, and _servers changed)


def _in_child(func: Callable[[units.Job], Any], job: units.Job, bounds: Bounds) -> _Outcome:
    """Run one unit in this thread's server (started when there is none, or when it has
    ended: it dies with the thread that forked it) and watch it; a server whose unit did
    not finish is killed (the next unit starts another)."""
    server = _servers.get(threading.get_ident())
    if server is not None and (server.owner != os.getpid()
                               or os.waitpid(server.pid, os.WNOHANG)[0]):
        stop()
        server = None
    if server is None:
        server = _start()
    extra = bounds.memory_mib << 20
    mapped, resident = _statm(server.pid)
    done = False
    try:
        _send(server.jobs, _RESULT, pickle.dumps(
            (func, job, mapped + 2 * extra if extra else 0),
            protocol=pickle.HIGHEST_PROTOCOL))
        outcome = _watch(server.pid, server.frames, bounds,
                         resident + extra if extra else 0)
        done = outcome.done
        return outcome
    finally:
        if not done:
            stop()


def stop() -> None:
    """End this thread's server, if it has one (killed: between units it is idle, and
    nothing is lost)."""
    with _FORKING:
        server = _servers.pop(threading.get_ident(), None)
    if server is None or server.owner != os.getpid():
        return
    os.close(server.jobs)
    os.close(server.frames)
    try:
        os.kill(server.pid, signal.SIGKILL)
        os.waitpid(server.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass  # (reaped already: it ended without a result)


def _start() -> _Server:
    """Fork this thread's server. One thread forks at a time, and the server closes the
    pipes of the others' servers (else its copy of their job pipe keeps them waiting)."""
    load_cindex()  # (loaded once here, not in every server)
    for stream in (sys.stdout, sys.stderr):  # (else the child's exit may write them again)
        stream.flush()
    with _FORKING:
        job_read, job_write = os.pipe()
        frame_read, frame_write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the server; coverage does not follow it)
            try:
                for fd in (job_write, frame_read, *(f for other in _servers.values()
                                                    for f in (other.jobs, other.frames))):
                    os.close(fd)
                _servers.clear()
                _serve(job_read, frame_write, parent)
            finally:
                os._exit(0)
        os.close(job_read)
        os.close(frame_write)
        server = _servers[threading.get_ident()] = _Server(pid, job_write, frame_read,
                                                            parent)
    return server


def _read_frame(fd: int, buffer: bytearray) -> tuple[bytes, bytes] | None:
    """The next frame on a blocking pipe; None at its end."""
    while True:
        for frame in _frames(buffer):
            return frame
        data = os.read(fd, 1 << 20)
        if not data:
            return None
        buffer += data


def _serve(jobs: int, fd: int, parent: int) -> None:  # pragma: no cover (the server)
    """Run the units read from ``jobs`` one by one, each reporting on ``fd``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (the parent stops it)
    if os.getppid() != parent:
        return
    die_with_parent()  # (a pool worker terminated on Ctrl-C, the command killed)
    units.started = lambda headers: _send(
        fd, _START, "\0".join(headers).encode("utf-8", "surrogateescape"))
    buffer = bytearray()
    while (frame := _read_frame(jobs, buffer)) is not None:
        try:
            func, job, address_space = pickle.loads(frame[1])
            # (the soft limit only, never above the hard one; none without a memory bound)
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            soft = address_space or hard
            if address_space and hard != resource.RLIM_INFINITY:
                soft = min(address_space, hard)
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
            payload = _RESULT + pickle.dumps(func(job), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # (raised again in the parent)
            try:
                payload = _ERROR + pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # (an exception that does not pickle)
                payload = _ERROR + pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        _send(fd, payload[:1], payload[1:])
        sys.stderr.flush()


def _watch(pid: int, fd: int, bounds: Bounds, resident_limit: int) -> _Outcome:
    """Read the unit's frames until its result, or kill it past a bound."""
    buffer = bytearray()
    current: tuple[str, ...] = ()
    deadline = time.monotonic() + bounds.seconds if bounds.seconds else None
    while True:
        timeout = POLL if deadline is None else max(0.0, min(POLL, deadline - time.monotonic()))
        ready, _, _ = select.select([fd], [], [], timeout)
        if ready:
            data = os.read(fd, 1 << 20)
            if not data:  # its process ended without a result
                _, status = os.waitpid(pid, 0)
                return _Outcome(False, current=current, death=_death(status))
            buffer += data
            for kind, payload in _frames(buffer):
                if kind == _START:
                    current = tuple(payload.decode("utf-8", "surrogateescape").split("\0"))
                    if deadline is not None:
                        deadline = time.monotonic() + bounds.seconds
                elif kind == _RESULT:
                    return _Outcome(True, pickle.loads(payload))
                else:
                    raise pickle.loads(payload)
        if resident_limit and _statm(pid)[1] > resident_limit:
            return _Outcome(False, current=current, bound="memory")
        if deadline is not None and time.monotonic() > deadline:
            return _Outcome(False, current=current, bound="time")


def _death(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"
