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

A run of several units also leaves a run-level entry (``.run``), keyed by the run's unit
keys, targets and inputs. It lists each unit's key, manifest and result digest (the hash of
the pickled result in its entry). The model a run makes is a function of the run key and
its units' results, so ``H(run key, unit digests)`` identifies it. A caller that renders
the model (``abiscope layout -f json``) stores the text under that identity and its view
(the options that change the text), with the part of the model that needs no layout
(targets, failures, inputs): a ``.text`` entry, :func:`keep_rendered`. While every unit's
manifest holds, a warm run of that view validates the manifests, reads the text and loads
no unit: :meth:`UnitCache.run_hit` returns a :class:`Rendered` (the text, with the model's
parts that need no layout), and only to a parse that named that view (``frontend.parse(...,
view=...)``). A :class:`Rendered` is not a :class:`~abiscope.model.Model`: no caller can
take it for a model without records. When some files changed, the units whose manifests
they break are fetched (or parsed) first; if their new digests give an identity whose
text is stored (a touched file that parses as before), that text is served the same way;
otherwise the other units are loaded and merged as without a run entry.

Entries are pickles: the cache directory must be as trusted as the user's own files (it is
the user's cache directory by default).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, replace

from . import __version__, collector
from .errors import ParseFailure
from .frontend import ParseOptions, UnitResult, clang_args, clang_version
from .model import Model, TargetInfo
from .targets import Target
from .variants import lookup

FORMAT = 9  # bump when the pickled shape of UnitResult, an entry, _Run or a text changes,
#            or what a unit yields for the same inputs (3: aligned(MACRO) after a declarator;
#            4: GCC's layout where clang's differs, _Complex in the engine;
#            5: GCC's int_fast16_t & co. on Linux targets; 6: a record's definition
#            order, the members of an array's unnamed record element;
#            8: the functions the inputs declare; 9: where unnamed bitfields end,
#            RecordLayout.unnamed_end_bits, and layout JSON's headroom)
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_SUFFIX = ".unit"
_RUN_SUFFIX = ".run"
_TEXT_SUFFIX = ".text"


def default_dir() -> str:
    """``$ABISCOPE_CACHE_DIR``, else the platform's user cache dir for abiscope."""
    env = os.environ.get("ABISCOPE_CACHE_DIR")
    if env:
        return env
    import platformdirs

    return str(platformdirs.user_cache_dir("abiscope", appauthor=False))


@dataclass(frozen=True)
class _Manifest:
    files: tuple[tuple[str, str], ...]  # (absolute path, content hash)
    absent: tuple[str, ...]  # paths that must still not exist


@dataclass(frozen=True)
class _Entry:
    format: int
    key: str
    manifest: _Manifest
    digest: str  # of data
    data: bytes  # the pickled UnitResult, loaded once the manifest holds


@dataclass(frozen=True)
class _UnitRef:
    """A unit as a run entry lists it: its result's digest while its manifest holds."""

    key: str
    digest: str
    manifest: _Manifest


@dataclass(frozen=True)
class _Run:
    format: int
    key: str
    units: tuple[_UnitRef, ...]  # in the run's order


@dataclass(frozen=True)
class _Text:
    format: int
    key: str
    targets: tuple[TargetInfo, ...]  # the model's parts that need no layout
    failures: tuple[ParseFailure, ...]
    inputs: tuple[str, ...]
    data: bytes  # the text, UTF-8

    def rendered(self, view: tuple[str, ...]) -> Rendered:
        return Rendered(view, self.data, {t.name: t for t in self.targets}, self.failures,
                        self.inputs)


@dataclass(frozen=True)
class Rendered:
    """What a warm run serves, instead of a model, to a parse that named a view: the text
    of that view stored for the model the run makes (UTF-8 ``data``), and the parts of
    the model that need no layout. Deliberately not a :class:`Model`: a caller that asked
    for a view must handle it (use the text), and one that did not never gets it."""

    view: tuple[str, ...]
    data: bytes
    targets: Mapping[str, TargetInfo]
    failures: tuple[ParseFailure, ...]
    inputs: tuple[str, ...]

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "surrogateescape")


def _model_id(run_key: str, digests: Iterable[str]) -> str:
    """The identity of the model a run makes from units with these result digests."""
    return hashlib.sha256(repr((run_key, tuple(digests))).encode()).hexdigest()


@dataclass
class _Served:
    """A model this process got from :func:`frontend.parse` with a cache: where its run
    lives and its identity (for :func:`rendered` and :func:`keep_rendered`)."""

    model: weakref.ref[Model]
    directory: str
    ident: str  # _model_id


_SERVED: dict[int, _Served] = {}  # id(model) -> _Served, dropped when the model dies


class UnitCache:
    """The on-disk cache of parsed units; see the module's documentation."""

    def __init__(self, directory: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = os.path.abspath(directory or default_dir())
        self.max_bytes = max_bytes
        self.hits = self.misses = self.writes = 0  # units (a run-level hit serves all)
        self.run_hits = self.run_misses = self.run_writes = 0
        self._hashes: dict[str, str | None] = {}  # per run: path -> content hash
        self._exists: dict[str, bool] = {}  # per run: path -> os.path.lexists
        self._view: tuple[str, ...] | None = None  # this run's
        self._key: str | None = None  # this run's run key (None: one unit, no run entry)
        self._keys: tuple[str, ...] = ()
        self._run: _Run | None = None  # the run entry read this run (valid or not)
        self._stale: list[int] | None = None  # units whose manifest no longer holds
        self._refs: dict[str, _UnitRef] = {}  # units fetched or stored this run

    def new_run(self, view: Sequence[str] | None = None) -> None:
        """Start a run: forget the file hashes of an earlier run (files may have changed
        since; one cache object serves every parse of a long-lived process). ``view``: what
        the run's caller renders the model as, for :meth:`run_hit` (this run only)."""
        self._hashes.clear()
        self._exists.clear()
        self._view = None if view is None else tuple(view)
        self._key, self._keys, self._run, self._stale = None, (), None, None
        self._refs.clear()

    # -- keys and validation -----------------------------------------------------------

    def key(self, headers: Sequence[str], targets: Sequence[str],
            options: ParseOptions, batch: object = True) -> str:
        options = _stable(options)
        h = hashlib.sha256()
        for part in (
            f"abiscope {__version__} format {FORMAT}", clang_version(), os.getcwd(),
            repr(tuple(targets)), repr(astuple(options)),
            repr([clang_args(t, options) for t in map(lookup, targets) if t is not None]),
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
                                  if not self.exists(p))
                    break
        return _Manifest(tuple(hashed), tuple(sorted(absent)))

    def valid(self, manifest: _Manifest) -> bool:
        return all(self.file_hash(p) == digest for p, digest in manifest.files) and \
            not any(self.exists(p) for p in manifest.absent)

    def exists(self, path: str) -> bool:
        """``os.path.lexists``, once per path and run (the units of a run share most of
        their absent paths)."""
        found = self._exists.get(path)
        if found is None:
            found = self._exists[path] = os.path.lexists(path)
        return found

    # -- entries -------------------------------------------------------------------------

    def path(self, key: str, suffix: str = _SUFFIX) -> str:
        return os.path.join(self.directory, key[:2], key + suffix)

    def get(self, key: str) -> UnitResult | None:
        """The unit stored under ``key`` if every file it read is unchanged, else None."""
        path = self.path(key)
        entry = self._load(path)
        if not isinstance(entry, _Entry) or entry.format != FORMAT or entry.key != key \
                or not self.valid(entry.manifest):
            self.misses += 1
            return None
        unit = self._loads(entry.data)
        if unit is None:
            self._remove(path)
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first
        self.hits += 1
        self._refs[key] = _UnitRef(key, entry.digest, entry.manifest)
        return unit

    def put(self, key: str, unit: UnitResult, search_dirs: Sequence[str] = (),
            data: bytes | None = None) -> bool:
        """Store a unit (atomically); False when it cannot be stored (never an error).
        ``data``: the unit already pickled (by the worker that made it), else pickled here."""
        manifest = self.manifest(unit.files, search_dirs)
        if manifest is None or not unit.files:
            return False
        if data is None:
            data = pickle.dumps(unit, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.blake2b(data, digest_size=20).hexdigest()
        self._refs[key] = _UnitRef(key, digest, manifest)
        if not self._write(self.path(key), _Entry(FORMAT, key, manifest, digest, data)):
            return False
        self.writes += 1
        return True

    def _write(self, path: str, entry: object) -> bool:
        """Pickle ``entry`` to a temporary file and rename it to ``path`` (atomic)."""
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(entry, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except BaseException:
                self._remove(tmp)
                raise
        except OSError:
            return False
        return True

    def _load(self, path: str) -> object | None:
        """The entry pickled at ``path``; None when absent or unloadable (then removed)."""
        try:
            with collector.paused(promote_made=True), open(path, "rb") as fh:
                entry: object = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # corrupt or foreign: ignore it, and make room for a good one
            self._remove(path)
            return None
        return entry

    @staticmethod
    def _loads(data: bytes) -> UnitResult | None:
        """Unpickle a unit with the collector paused (many objects, no cycles: 3x faster)."""
        try:
            with collector.paused(promote_made=True):
                unit: UnitResult = pickle.loads(data)
        except Exception:
            return None
        return unit

    # -- run-level entries ---------------------------------------------------------------

    def run_key(self, unit_keys: Sequence[str], targets: Sequence[Target],
                headers: Sequence[str]) -> str:
        """The key of a run: its unit keys (in order) and what merging them reads."""
        h = hashlib.sha256()
        for part in (
            f"abiscope run {__version__} format {FORMAT}", os.getcwd(),
            repr(list(unit_keys)),
            repr([(t.name, t.triple, t.pointer_bits, t.endian, t.hypothetical)
                  for t in targets]),
            repr(list(headers)),
        ):
            h.update(part.encode("utf-8", "surrogateescape"))
            h.update(b"\0")
        return h.hexdigest()

    def run_hit(self, unit_keys: Sequence[str], targets: Sequence[Target],
                headers: Sequence[str]) -> Rendered | None:
        """Look the run up (once per run, after :meth:`new_run`): the stored text to
        return instead of the model, or None (then fetch the units in :meth:`rounds`).

        Served only when :meth:`new_run` was given a view, every unit's manifest in the
        run entry holds, and the text of that view is stored for the model's identity."""
        if len(unit_keys) < 2:
            return None  # a run of one unit is its unit entry already
        self._keys = tuple(unit_keys)
        self._key = self.run_key(unit_keys, targets, headers)
        path = self.path(self._key, _RUN_SUFFIX)
        run = self._load(path)
        if not isinstance(run, _Run) or run.format != FORMAT or run.key != self._key \
                or tuple(u.key for u in run.units) != self._keys:
            self.run_misses += 1
            return None
        self._run = run
        self._stale = [i for i, u in enumerate(run.units) if not self.valid(u.manifest)]
        if self._stale:
            self.run_misses += 1
            return None
        self.run_hits += 1
        self._touch(run)
        served = self._text_of(run.units, run)
        if served is not None:
            self.hits += len(run.units)
        return served

    def _touch(self, run: _Run) -> None:
        """Refresh the run entry's mtime, and its units' (they serve the next touched run;
        least recently used goes first)."""
        for p in (self.path(run.key, _RUN_SUFFIX), *(self.path(u.key) for u in run.units)):
            with contextlib.suppress(OSError):
                os.utime(p)

    def rounds(self, count: int) -> list[list[int]]:
        """The order to fetch a run's units in: when a text may still be served, first
        those whose manifest broke, then (after :meth:`rehit`) the rest; else all."""
        if self._view is None or not self._stale or self._run is None:
            return [list(range(count))]
        stale = set(self._stale)
        return [self._stale, [i for i in range(count) if i not in stale]]

    def rehit(self) -> Rendered | None:
        """After the first of :meth:`rounds`: a text when the units fetched since give a
        model identity whose text is stored (then the run entry is updated), else None."""
        run = self._run
        if run is None or self._stale is None:
            return None
        refs = list(run.units)
        for i in self._stale:
            ref = self._refs.get(refs[i].key)
            if ref is None:
                return None  # not cacheable: neither is the run
            refs[i] = ref
        served = self._text_of(refs, run)
        if served is not None:
            self.hits += len(refs) - len(self._stale)
            if self._write(self.path(run.key, _RUN_SUFFIX), replace(run, units=tuple(refs))):
                self.run_writes += 1
            self._touch(run)
        return served

    def _text_of(self, refs: Sequence[_UnitRef], run: _Run) -> Rendered | None:
        if self._view is None:
            return None
        entry = self._load_text(_model_id(run.key, (u.digest for u in refs)), self._view)
        return None if entry is None else entry.rendered(self._view)

    def put_run(self, model: Model) -> bool:
        """Store the run entry of the model merged from this run's units (unless the one
        read is still exact) and remember the model's identity for :func:`rendered`;
        False when nothing is stored (never an error)."""
        if self._key is None:
            return False
        refs = tuple(self._refs.get(k) for k in self._keys)
        if any(r is None for r in refs):
            return False  # a unit that is not cacheable: neither is the run
        units = tuple(r for r in refs if r is not None)
        _register(model, self.directory, _model_id(self._key, (u.digest for u in units)))
        if self._run is not None and not self._stale and self._run.units == units:
            return False
        run = _Run(FORMAT, self._key, units)
        if not self._write(self.path(run.key, _RUN_SUFFIX), run):
            return False
        self.run_writes += 1
        return True

    # -- rendered texts ------------------------------------------------------------------

    def _text_path(self, ident: str, view: tuple[str, ...]) -> tuple[str, str]:
        key = hashlib.sha256(repr((f"abiscope text {__version__} format {FORMAT}", ident,
                                   view)).encode("utf-8", "surrogateescape")).hexdigest()
        return key, self.path(key, _TEXT_SUFFIX)

    def _load_text(self, ident: str, view: tuple[str, ...]) -> _Text | None:
        key, path = self._text_path(ident, view)
        entry = self._load(path)
        if not isinstance(entry, _Text) or entry.format != FORMAT or entry.key != key:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return entry

    def _put_text(self, ident: str, view: tuple[str, ...], model: Model, text: bytes
                  ) -> bool:
        key, path = self._text_path(ident, view)
        entry = _Text(FORMAT, key, tuple(model.targets.values()), model.failures,
                      model.inputs, text)
        if not self._write(path, entry):
            return False
        self.evict()
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


def _register(model: Model, directory: str, ident: str) -> None:
    key = id(model)
    _SERVED[key] = _Served(weakref.ref(model, lambda _: _SERVED.pop(key, None)),
                           directory, ident)


def _served(model: Model) -> _Served | None:
    served = _SERVED.get(id(model))
    return served if served is not None and served.model() is model else None


def rendered(model: Model | Rendered, view: Sequence[str]) -> str | None:
    """The text of ``view`` (what a caller renders the model as, with every option that
    changes the text) stored for this model by :func:`keep_rendered`, if any; a
    :class:`Rendered`'s own text for its view. Only models :func:`frontend.parse` returned
    from a run of several units with a cache have one."""
    data = rendered_data(model, view)
    return None if data is None else data.decode("utf-8", "surrogateescape")


def rendered_data(model: Model | Rendered, view: Sequence[str]) -> bytes | None:
    """:func:`rendered` as UTF-8 bytes (no decoding: 30 MB of text cost 25 ms each way)."""
    if isinstance(model, Rendered):
        return model.data if model.view == tuple(view) else None
    served = _served(model)
    if served is None:
        return None
    entry = UnitCache(served.directory)._load_text(served.ident, tuple(view))
    return None if entry is None else entry.data


def keep_rendered(model: Model, view: Sequence[str], text: str | bytes) -> bool:
    """Store ``text`` (or its UTF-8 bytes), the rendering of ``view`` of this model, for
    :func:`rendered` (and for a later warm run that names the view); False when the model has no
    identity or the text cannot be stored."""
    served = _served(model)
    if served is None:
        return False
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return UnitCache(served.directory)._put_text(served.ident, tuple(view), model, data)


def _stable(options: ParseOptions) -> ParseOptions:
    """``options`` as the key sees them: the include sandbox's overlay lives in a fresh
    private temp dir per process, so it counts by its name (a hash of its content)."""
    args = list(options.extra_args)
    for i, arg in enumerate(args[:-1]):
        if arg == "-ivfsoverlay":
            args[i + 1] = os.path.basename(args[i + 1])
    return replace(options, extra_args=tuple(args))
