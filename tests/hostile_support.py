"""Run ``abiscope`` in-process, but in a forked child bounded in time and memory.

The child calls ``abiscope.cli.main`` directly (no new interpreter: libclang and the
command's code are those of the test process), with ``RLIMIT_AS`` raised by at most
``memory`` bytes above what the process already maps, stdout/stderr in files, and a
deadline after which the parent kills it. The parent reads the exit code, both streams and
the child's peak RSS (``wait4``).
"""

from __future__ import annotations

import io
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass

from abiscope import cli
from abiscope.frontend import sandbox

EXIT_CRASH = 99  # an exception escaped cli.main (it must never)


@dataclass(frozen=True)
class Bounded:
    code: int  # exit code; -N when killed by signal N; None-like 124 on timeout
    out: str
    err: str
    seconds: float
    peak_rss_mb: float
    timed_out: bool

    def clean(self) -> bool:
        """An ordinary exit (0, 1 or 2) without a traceback or an internal error."""
        return (self.code in (0, 1, 2) and not self.timed_out
                and "Traceback" not in self.err and "internal error" not in self.err)

    def __str__(self) -> str:
        return (f"exit {self.code} in {self.seconds:.1f}s, {self.peak_rss_mb:.0f} MB"
                f"{' (TIMED OUT)' if self.timed_out else ''}\nstderr: {self.err[-2000:]}")


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def run_bounded(argv: list[str], timeout: float = 60.0, memory: int = 2 << 30,
                cwd: str | None = None) -> Bounded:
    with tempfile.TemporaryDirectory(prefix="abiscope-hostile-") as tmp:
        out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        sandbox._overlay_dir()  # made (and removed at exit) here: the child leaves via _exit
        limit = _mapped_bytes() + memory
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child
            code = EXIT_CRASH
            try:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT, 0o600)
                err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT, 0o600)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(out_fd, 1)
                os.dup2(err_fd, 2)
                sys.stdin = io.TextIOWrapper(io.FileIO(0, closefd=False))
                sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False))
                sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False))
                os.environ.pop("ABISCOPE_DEBUG", None)
                if cwd:
                    os.chdir(cwd)
                try:
                    code = cli.main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        timed_out = False
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - start > timeout:
                os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        seconds = time.monotonic() - start
        code = os.waitstatus_to_exitcode(status)
        with open(out_path, errors="replace") as fh:
            out = fh.read()
        with open(err_path, errors="replace") as fh:
            err = fh.read()
        return Bounded(code, out, err, seconds, usage.ru_maxrss / 1024, timed_out)
