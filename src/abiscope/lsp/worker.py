"""The worker process the server's analyses run in.

One child process (``spawn``) takes one :class:`~.analysis.Request` at a time over a pipe and
answers an :class:`~.analysis.Analysis`. The server never parses itself, so a slow or
hostile header never blocks the editor: a request whose buffer has changed since is killed
(:meth:`Worker.kill`), as is one running past the timeout; the next request starts a fresh
child. The child is also replaced every :data:`RECYCLE` analyses or when its memory passes
:data:`MAX_RSS`, so the server's footprint stays flat over a day of edits. The child's
stdout is its stderr: the protocol owns the server's stdout.
"""

from __future__ import annotations

import copyreg
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import Connection
from types import MappingProxyType
from typing import Any

from .analysis import Analysis, Problem, Request, analyze

RECYCLE = 500  # analyses per child
MAX_RSS = 384 << 20  # bytes: a child past this is replaced after its analysis (the
# server itself stays under 100 MiB: both under the 500 MiB issue 32 asks for)


def _proxy(d: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(d)


def _mappingproxy(m: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _proxy, (dict(m),)


# a model's records hold their layouts in read-only mappings: pickled as their dicts
copyreg.pickle(MappingProxyType, _mappingproxy)


def _serve(conn: Connection) -> None:
    """The child's loop: analyse each request, answer, until the pipe closes."""
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        result = analyze(request)
        try:
            conn.send(result)
        except Exception as exc:
            conn.send(Analysis(path=result.path, version=result.version, text=result.text,
                               problems=(Problem(0, 0, "error", "abiscope internal error: "
                                                 f"the analysis cannot be sent ({exc})"),)))


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 when unknown)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Worker:
    """A child process running one analysis at a time (:meth:`run` blocks; call it from a
    thread); :meth:`kill` stops the analysis running, from any thread."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self._jobs = 0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> Connection:
        with self._lock:
            if self._conn is None or self._process is None or not self._process.is_alive():
                parent, child = self._ctx.Pipe()
                self._process = self._ctx.Process(target=_serve, args=(child,), daemon=True,
                                                  name="abiscope-lsp-worker")
                self._process.start()
                child.close()
                self._conn, self._jobs = parent, 0
            return self._conn

    def run(self, request: Request) -> Analysis | None:
        """The analysis of ``request``; None when it was killed (:meth:`kill`) or its
        child died; a problem when it ran past the timeout."""
        conn = self._start()
        try:
            conn.send(request)
            if not conn.poll(self.timeout):
                self.kill()
                return Analysis(path=request.path, version=request.version, text=request.text,
                                problems=(Problem(0, 0, "error", (
                                    f"abiscope: the analysis took more than {self.timeout:g} s "
                                    "and was stopped (a header whose macros expand without "
                                    "bound?); see docs/editors.md")),))
            result: Analysis = conn.recv()
        except (EOFError, OSError):
            if conn is not self._conn:
                return None  # killed
            self.kill()
            return Analysis(path=request.path, version=request.version, text=request.text,
                            problems=(Problem(0, 0, "error", (
                                "abiscope: the analysis process died (out of memory?); "
                                "it is restarted on the next change")),))
        finally:
            if conn is not self._conn:  # killed meanwhile: this pipe is done
                conn.close()
        self._jobs += 1
        pid = self.pid
        if self._jobs >= RECYCLE or (pid is not None and rss(pid) > MAX_RSS):
            self.kill()
            conn.close()
        return result

    def kill(self) -> None:
        """Stop the child (and the analysis it runs); the next :meth:`run` starts another."""
        with self._lock:
            process, self._process, self._conn = self._process, None, None
        if process is not None:  # (a thread in run() then reads EOF and closes its pipe)
            process.kill()
            process.join(5)

    def close(self) -> None:
        conn = self._conn
        self.kill()
        if conn is not None:
            conn.close()
