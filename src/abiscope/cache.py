"""A content-addressed cache of parsed units (one batch of headers x one group of targets).

An entry's key is a hash of everything that decides the unit's result before reading any
file: abiscope's version, libclang's version, the targets, the parse options (with the full
clang command line) and the batch's header paths. The entry holds the result and a
manifest: the content hash of every file the unit's translation units read (clang's
``TranslationUnit.get_includes()`` plus the headers themselves), and the paths that did not
exist in an include directory searched before the one a file was found in. An entry is
served only when every file still hashes the same and every such path is still absent, so
it is never stale: touching any included file, or adding a header that would now shadow
one, makes it a miss and the unit is parsed again (and its entry replaced).

Entries are written to a temporary file and renamed into place (atomic on POSIX), so
concurrent runs and killed writers never leave a half-written entry; an entry that does not
load (truncated, corrupt, another version's format) is ignored and removed. Hits refresh the
entry's mtime; after a run that wrote entries, the least recently used ones are deleted
until the directory is under its size bound.

Entries are pickles: the cache directory must be as trusted as the user's own files (it is
the user's cache directory by default).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .frontend import ParseOptions, UnitResult

FORMAT = 1  # bump when the pickled shape of UnitResult changes
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_SUFFIX = ".unit"


def default_dir() -> str:
    """``$ABISCOPE_CACHE_DIR``, else the platform's user cache dir for abiscope."""
    env = os.environ.get("ABISCOPE_CACHE_DIR")
    if env:
        return env
    import platformdirs

    return str(platformdirs.user_cache_dir("abiscope", appauthor=False))


@lru_cache(maxsize=1)
def _libclang_version() -> str:
    from .frontend import _cindex

    ci = _cindex()
    lib = ci.conf.lib
    try:
        return str(ci._CXString.from_result(lib.clang_getClangVersion()))
    except Exception:  # pragma: no cover - a binding without the call
        return "unknown"


@dataclass(frozen=True)
class _Manifest:
    files: tuple[tuple[str, str], ...]  # (absolute path, content hash)
    absent: tuple[str, ...]  # paths that must still not exist


@dataclass(frozen=True)
class _Entry:
    format: int
    key: str
    manifest: _Manifest
    unit: UnitResult


class UnitCache:
    """The on-disk cache of parsed units; see the module's documentation."""

    def __init__(self, directory: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = os.path.abspath(directory or default_dir())
        self.max_bytes = max_bytes
        self.hits = self.misses = self.writes = 0
        self._hashes: dict[str, str | None] = {}  # per run: path -> content hash

    def new_run(self) -> None:
        """Forget the file hashes of an earlier run: files may have changed since (one
        cache object serves every parse of a long-lived process)."""
        self._hashes.clear()

    # -- keys and validation -----------------------------------------------------------

    def key(self, headers: Sequence[str], targets: Sequence[str],
            options: ParseOptions, batch: object = True) -> str:
        from .frontend import clang_args
        from .targets import TARGETS

        options = _stable(options)
        h = hashlib.sha256()
        for part in (
            f"abiscope {__version__} format {FORMAT}", _libclang_version(), os.getcwd(),
            repr(tuple(targets)), repr(astuple(options)),
            repr([clang_args(TARGETS[t], options) for t in targets if t in TARGETS]),
            repr([os.path.abspath(p) for p in headers]), repr(batch),
        ):
            h.update(part.encode("utf-8", "surrogateescape"))
            h.update(b"\0")
        return h.hexdigest()

    def file_hash(self, path: str) -> str | None:
        if path not in self._hashes:
            try:
                with open(path, "rb") as fh:
                    self._hashes[path] = hashlib.blake2b(fh.read(), digest_size=20).hexdigest()
            except OSError:
                self._hashes[path] = None
        return self._hashes[path]

    def manifest(self, files: Iterable[str], search_dirs: Sequence[str]) -> _Manifest | None:
        hashed = []
        absent: set[str] = set()
        dirs = [os.path.abspath(d) for d in search_dirs]
        for path in sorted(set(files)):
            digest = self.file_hash(path)
            if digest is None:
                return None  # a file read by clang is gone already: do not cache
            hashed.append((path, digest))
            for i, d in enumerate(dirs):
                if path.startswith(d + os.sep):
                    rel = path[len(d) + 1:]
                    absent.update(p for p in (os.path.join(e, rel) for e in dirs[:i])
                                  if not os.path.lexists(p))
                    break
        return _Manifest(tuple(hashed), tuple(sorted(absent)))

    def valid(self, manifest: _Manifest) -> bool:
        return all(self.file_hash(p) == digest for p, digest in manifest.files) and \
            not any(os.path.lexists(p) for p in manifest.absent)

    # -- entries -------------------------------------------------------------------------

    def path(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key + _SUFFIX)

    def get(self, key: str) -> UnitResult | None:
        """The unit stored under ``key`` if every file it read is unchanged, else None."""
        path = self.path(key)
        collecting = gc.isenabled()
        gc.disable()  # loading makes many objects and no cycles: the collector only costs (3x)
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # corrupt or foreign: ignore it, and make room for a good one
            self._remove(path)
            self.misses += 1
            return None
        finally:
            if collecting:
                gc.enable()
        if not isinstance(entry, _Entry) or entry.format != FORMAT or entry.key != key \
                or not self.valid(entry.manifest):
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first
        self.hits += 1
        return entry.unit

    def put(self, key: str, unit: UnitResult, search_dirs: Sequence[str] = ()) -> bool:
        """Store a unit (atomically); False when it cannot be stored (never an error)."""
        manifest = self.manifest(unit.files, search_dirs)
        if manifest is None or not unit.files:
            return False
        path = self.path(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(_Entry(FORMAT, key, manifest, unit), fh,
                                protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except BaseException:
                self._remove(tmp)
                raise
        except OSError:
            return False
        self.writes += 1
        return True

    def entries(self) -> list[tuple[float, int, str]]:
        """(mtime, size, path) of every entry and leftover temporary file."""
        out = []
        try:
            subdirs = os.scandir(self.directory)
        except OSError:
            return []
        with subdirs:
            for sub in subdirs:
                if not sub.is_dir():
                    continue
                for e in os.scandir(sub.path):
                    try:
                        st = e.stat()
                    except OSError:
                        continue
                    out.append((st.st_mtime, st.st_size, e.path))
        return out

    def evict(self, max_bytes: int | None = None) -> int:
        """Delete least recently used entries until the cache is under its bound (and
        temporary files older than an hour, left by killed writers); returns how many."""
        bound = self.max_bytes if max_bytes is None else max_bytes
        entries = self.entries()
        now = time.time()
        removed = 0
        kept: list[tuple[float, int, str]] = []
        for mtime, size, path in entries:
            if os.path.basename(path).startswith(".tmp-"):
                if now - mtime > 3600:
                    removed += self._remove(path)
                continue
            kept.append((mtime, size, path))
        total = sum(size for _, size, _ in kept)
        for _, size, path in sorted(kept):
            if total <= bound:
                break
            removed += self._remove(path)
            total -= size
        return removed

    @staticmethod
    def _remove(path: str) -> int:
        try:
            os.unlink(path)
            return 1
        except OSError:
            return 0


def _stable(options: ParseOptions) -> ParseOptions:
    """``options`` as the key sees them: the include sandbox's overlay lives in a fresh
    private temp dir per process, so it counts by its name (a hash of its content)."""
    args = list(options.extra_args)
    for i, arg in enumerate(args[:-1]):
        if arg == "-ivfsoverlay":
            args[i + 1] = os.path.basename(args[i + 1])
    return replace(options, extra_args=tuple(args))
