"""The include sandbox: clang may read only the trees abiscope was pointed at.

abiscope runs on headers from pull requests, and compiler diagnostics echo the lines they
complain about into public CI logs. A hostile header could ``#include "/proc/self/environ"``,
``"../../../../home/ci/.ssh/id_rsa"`` or ``"/dev/zero"``; a hostile tree could hold a symlink
``evil.h -> /etc/shadow``. By default every parse is therefore confined: clang gets a VFS
overlay (``-ivfsoverlay``, ``"redirecting-with": "redirect-only"``, i.e. no fallthrough to
the real file system) that maps only the allowed trees. A path outside them is "not found"
by clang *without being opened or even stat'ed* (checked with strace and with a FIFO in the
tests), and :func:`explain` turns clang's "file not found" into a refusal naming the include.

Allowed trees:

* each input header's **own tree**: the git work tree that holds it (the nearest parent
  directory with a ``.git``), else the header's directory and everything below it;
* the ``-I`` dirs, the ``--sysroot`` dirs and the directories of ``--include`` files;
* the system dirs abiscope adds per target (``frontend.system_include_dirs``: Debian's
  ``/usr/include/<multiarch>`` + ``/usr/include`` or ``/usr/<triple>/include``) and clang's
  builtin-header dir (the resource dir inside the libclang-ng wheel);
* abiscope's own private temp dir (mode 0700, removed at exit), which holds the overlay and
  the precompiled empty header each unit is parsed behind (``frontend.units.empty_pch``).

The user-given trees (the first two items) are walked once for symlinks: a symlink whose
target lies outside every allowed tree is shadowed by an overlay entry that cannot be opened
(a symlinked directory shadowed the same way refuses everything below it). System and
builtin dirs are trusted as installed. ``--allow-include-outside`` (``ParseOptions.
allow_include_outside``) turns all of this off.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

from ..errors import InputError
from ..targets import Target
from .bindings import HINT, builtin_include_dir, explain
from .options import ParseOptions, gnu_include_dirs, system_include_dirs

__all__ = ["HINT", "MAX_WALK", "Plan", "confine", "explain", "own_dir", "own_tree", "own_trees",
           "plan", "shared_tree", "write_overlay"]

MAX_WALK = 200_000  # directory entries vetted per tree before giving up with a clear error
_OVERLAY_PREFIX = "abiscope-vfs-"  # the private temp dir of the overlay and own files
_REFUSED = "/nonexistent/abiscope-include-refused"  # a shadow entry's target: never opens


@dataclass(frozen=True)
class Plan:
    """What the overlay maps: directories remapped onto themselves, and shadowed paths."""

    roots: tuple[str, ...]
    shadows: tuple[str, ...]

    def overlay(self, own: str | None = None) -> str:
        """The overlay's text; ``own``: a private directory of abiscope's own files for
        clang (:func:`own_dir`), mapped too unless a root holds it already."""
        roots = list(self.roots)
        if own is not None and not _under(own, roots):
            roots.append(own)
        entries: list[dict[str, str]] = [
            {"type": "file", "name": s, "external-contents": _REFUSED} for s in self.shadows]
        entries += [{"type": "directory-remap", "name": r, "external-contents": r}
                    for r in roots]
        doc = {"version": 0, "case-sensitive": "true", "redirecting-with": "redirect-only",
               "roots": entries}
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def own_tree(header: str) -> str:
    """The tree a header may include from: its git work tree, else its directory."""
    return _tree_of(os.path.dirname(os.path.abspath(header)))


def own_trees(headers: Sequence[str]) -> list[str]:
    """:func:`own_tree` of each header, each directory looked at once (763 UAPI headers
    share 40 directories)."""
    trees: dict[str, str] = {}
    out = []
    for h in headers:
        d = os.path.dirname(os.path.abspath(h))
        if d not in trees:
            trees[d] = _tree_of(d)
        out.append(trees[d])
    return out


def _tree_of(start: str) -> str:
    d = start
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return start
        d = parent


def shared_tree(headers: Sequence[str]) -> list[str]:
    """The directory that holds every input header outside a git work tree (their common
    ancestor: ``abiscope layout /usr/include/xen/**/*.h`` may include ``../xen.h`` from
    ``arch-x86/``), unless that is ``/`` or a directory right below it."""
    dirs = [os.path.dirname(os.path.abspath(h)) for h in headers]
    loose = [d for d, t in zip(dirs, own_trees(headers), strict=True) if t == d]
    if len(set(loose)) < 2:
        return []
    common = os.path.commonpath(loose)
    return [common] if common.count(os.sep) >= 2 else []


def _forms(path: str) -> list[str]:
    """A directory as written (absolute) and as resolved: clang may see either."""
    a = os.path.normpath(os.path.abspath(path))
    r = os.path.realpath(path)
    return [a] if a == r else [a, r]


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _escaping_symlinks(tree: str, allowed: Sequence[str]) -> list[str]:
    """Symlinks below ``tree`` (not followed) whose target is outside ``allowed``, in no
    particular order (:func:`plan` sorts them; sorting each directory cost 60 % of a walk of
    ``/usr/include``)."""
    out: list[str] = []
    seen = 0
    stack = [tree]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as found:
                entries = list(found)
        except OSError:
            continue  # unreadable: clang cannot read it either
        seen += len(entries)
        if seen > MAX_WALK:
            raise InputError(
                f"{tree}: more than {MAX_WALK:,} files to vet for the include sandbox; "
                "put the header in a smaller directory (or a git work tree of its own), "
                "or pass --allow-include-outside")
        for e in entries:
            if e.is_symlink():
                if not _under(os.path.realpath(e.path), allowed):
                    out.append(os.path.normpath(os.path.abspath(e.path)))
            elif e.is_dir(follow_symlinks=False) and e.name != ".git":
                stack.append(e.path)
    return out


def plan(given: Iterable[str], trusted: Iterable[str]) -> Plan:
    """The overlay for user-given trees (walked for symlinks) and trusted dirs."""
    # (each directory once: the own trees of 763 UAPI headers are 40 directories)
    trusted_forms = sorted({f for d in dict.fromkeys(trusted) if os.path.isdir(d)
                            for f in _forms(d)})
    given_forms = sorted({f for d in dict.fromkeys(given) if os.path.isdir(d)
                          for f in _forms(d)})
    allowed = [*trusted_forms, *given_forms]
    shadows: set[str] = set()
    for tree in given_forms:
        if _under(tree, trusted_forms) or _under(tree, [g for g in given_forms if g != tree]):
            continue  # vetted (or trusted) as part of an enclosing tree
        shadows.update(_escaping_symlinks(tree, allowed))
    # One remap per tree: libclang 22 crashes on a remapped directory nested in another
    # (/usr/include/xen and /usr/include/xen/arch-x86), so keep only the outermost.
    unique = sorted(set(allowed))
    roots = [r for r in unique if not _under(r, [o for o in unique if o != r])]
    return Plan(tuple(roots), tuple(sorted(shadows)))


@lru_cache(maxsize=1)
def _overlay_dir() -> str:
    d = tempfile.mkdtemp(prefix=_OVERLAY_PREFIX)  # private (0700): nobody else can swap it
    atexit.register(shutil.rmtree, d, True)
    return d


@lru_cache(maxsize=64)
def write_overlay(plan: Plan) -> str:
    """The overlay of ``plan`` written once per process under a private temp dir, which
    it maps too (:func:`own_dir`); its path. The file is named after what the plan allows
    (a hash of the text without that directory, which is new in every process), so that
    the name says the same thing in every run: the unit cache keys by it."""
    own = _overlay_dir()
    path = os.path.join(own, hashlib.sha256(plan.overlay().encode()).hexdigest()[:16] + ".json")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(plan.overlay(own))
    return path


def own_dir(args: Sequence[str]) -> str | None:
    """The private directory the sandbox's overlay in the clang command line ``args``
    maps for abiscope's own files (a precompiled header: ``frontend.units``); None
    without the sandbox. The process that made it removes it at exit."""
    for flag, value in pairwise(args):
        if flag == "-ivfsoverlay" and os.path.basename(
                os.path.dirname(value)).startswith(_OVERLAY_PREFIX):
            return os.path.dirname(value)
    return None


def confine(options: ParseOptions, headers: Sequence[str],
            targets: Sequence[Target]) -> ParseOptions:
    """``options`` with the sandbox's ``-ivfsoverlay`` added (unless the user opted out)."""
    if options.allow_include_outside:
        return options
    given = own_trees(headers)
    given += shared_tree(headers)
    given += list(options.include_dirs) + [d for _, d in options.sysroots]
    discovered = replace(options, sysroots=())
    trusted = [d for t in targets for d in system_include_dirs(t, discovered)]
    trusted += sorted({d for t in targets for d in gnu_include_dirs(t)})
    builtin = builtin_include_dir()
    trusted += [builtin] if builtin else []
    search = [*options.include_dirs, *[d for _, d in options.sysroots], *trusted]
    forced = tuple(_force_include(f, search) for f in options.force_includes)
    given += [os.path.dirname(f) for f in forced]
    # (a --prelude FILE given by the user is as trusted as an --include FILE)
    given += [os.path.dirname(os.path.abspath(f)) for f in options.prelude
              if os.path.isfile(f)]
    path = write_overlay(plan(given, trusted))
    return replace(options, force_includes=forced,
                   extra_args=(*options.extra_args, "-ivfsoverlay", path))


def _force_include(name: str, search: Sequence[str]) -> str:
    """``--include NAME`` as an absolute path, found as clang would (the working directory,
    then the include dirs): clang must not look a relative name up in a working directory
    the overlay does not map (libclang 22 crashes there)."""
    if os.path.isabs(name):
        return name
    for d in ("", *search):
        candidate = os.path.join(d, name)
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    raise InputError(f"--include {name}: not found in the working directory, the -I or "
                     "--sysroot dirs, the target's system dirs or clang's builtin headers")
