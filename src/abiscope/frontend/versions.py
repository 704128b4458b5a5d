"""One version of each system header tree per run, or a warning (issue 27, section 1).

Debian's cross trees (``/usr/<triple>/include``) can hold another kernel's UAPI headers
than the host's ``/usr/include``: a run over several targets would then read
``linux/kvm.h`` of one kernel on one target and of another on the next, and report the
difference as an ABI difference. :func:`version_skew` reads the version each selected
target's search path gives (Linux: ``LINUX_VERSION_CODE`` of the first ``linux/version.h``;
glibc: ``__GLIBC__``/``__GLIBC_MINOR__`` of the first ``features.h``) and, where the
targets disagree and the run read that tree, says so, naming both trees and the
``--sysroot`` that fixes it. Plain file reading: no clang.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from ..model import Model, TreeSkew, TreeVersion
from ..targets import Target
from .options import ParseOptions, search_dirs, system_include_dirs

# Top-level directories of Linux's exported headers (``make headers_install``)
KERNEL_DIRS = ("linux", "asm", "asm-generic", "drm", "misc", "mtd", "rdma", "scsi", "sound",
               "video", "xen")
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\d+)\b", re.M)


def _defines(path: str) -> dict[str, int]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(65536)
    except OSError:
        return {}
    return {m[1]: int(m[2]) for m in _DEFINE.finditer(text)}


def tree_version(tree: str, dirs: Sequence[str]) -> TreeVersion | None:
    """The version of ``tree`` ("linux" or "glibc") the include path ``dirs`` gives: the
    first ``linux/version.h`` or ``features.h`` found, as the preprocessor would find it; a
    regular file only, that lies inside one of ``dirs`` once links are resolved."""
    name = "linux/version.h" if tree == "linux" else "features.h"
    roots = [os.path.realpath(d) + os.sep for d in dirs]
    for d in dirs:
        path = os.path.join(d, name)
        if not os.path.isfile(path):
            continue
        if not os.path.realpath(path).startswith(tuple(roots)):
            return None  # (a link out of the include path: not read, as the sandbox would)
        values = _defines(path)
        if tree == "linux" and "LINUX_VERSION_CODE" in values:
            code = values["LINUX_VERSION_CODE"]
            return TreeVersion(tree, f"{code >> 16}.{(code >> 8) & 255}.{code & 255}", path)
        if tree == "glibc" and "__GLIBC__" in values and "__GLIBC_MINOR__" in values:
            return TreeVersion(tree, f"{values['__GLIBC__']}.{values['__GLIBC_MINOR__']}",
                               path)
        return None
    return None


def _reads(tree: str, files: Iterable[str], roots: Sequence[str]) -> bool:
    """Whether any of ``files`` lies in ``tree``'s part of one of the ``roots``, or is a
    kernel header by its own path (``…/linux/kvm.h``, ``…/asm/…``)."""
    bases = [os.path.abspath(r) + os.sep for r in roots]
    for f in files:
        path = os.path.abspath(f)
        parts = path.split(os.sep)
        if tree == "linux" and any(p in ("linux", "asm", "asm-generic") for p in parts[:-1]):
            return True
        for base in bases:
            if path.startswith(base):
                rel = path[len(base):]
                if _kernel_header(rel, base, bases) == (tree == "linux"):
                    return True
    return False


def _kernel_header(rel: str, base: str, bases: Sequence[str]) -> bool:
    """Whether ``rel`` (a path below the system dir ``base``) is one of Linux's exported
    headers. ``linux/`` and ``asm*/`` are the kernel's alone; the other kernel dirs are
    shared with other packages (Debian's ``/usr/include/xen`` holds Xen's public headers from
    libxen-dev beside Linux's ``xen/privcmd.h``), so a header there is the kernel's only
    when another target's tree has it too (each cross tree carries its own kernel headers)."""
    top = rel.split(os.sep, 1)[0]
    if top in ("linux", "asm-generic") or top.startswith("asm"):
        return True
    return top in KERNEL_DIRS and any(
        b != base and os.path.isfile(os.path.join(b, rel)) for b in bases)


def version_skew(targets: Sequence[Target], options: ParseOptions,
                 files: Iterable[str] | None) -> tuple[TreeSkew, ...]:
    """Each system header tree of which the ``targets`` read different versions: the
    ``files`` the run read (inputs and where its records come from) decide whether a tree
    was read at all (None: not known, every tree counts as read). The version most
    targets read (on a tie, the first target's) is the reference of the fix."""
    files = None if files is None else list(dict.fromkeys(files))  # (once each)
    roots = sorted({d for t in targets for d in system_include_dirs(t, options)})
    out: list[TreeSkew] = []
    for tree in ("linux", "glibc"):
        found = [(t, v) for t in targets
                 if not t.hypothetical and (v := tree_version(tree, search_dirs(t, options)))]
        if len({v.version for _, v in found}) < 2 or (
                files is not None and not _reads(tree, files, roots)):
            continue
        counts = Counter(v.version for _, v in found)  # the most common, else the first
        reference = max((v for _, v in found), key=lambda v: counts[v.version])
        off = [t for t, v in found if v.version != reference.version]
        out.append(TreeSkew(tree, tuple((t.name, v) for t, v in found),
                            _fix(tree, reference, off, options)))
    return tuple(out)


def _fix(tree: str, reference: TreeVersion, off: Sequence[Target],
         options: ParseOptions) -> str:
    """The ``--sysroot`` arguments that give the ``off`` targets the reference version:
    that version's headers first (a placeholder per target), then the target's own dirs, so
    that its libc (or its kernel headers) stays its own."""
    args = []
    for t in off:
        args.append(f"--sysroot {t.name}={tree.upper()}_{t.name}")
        args += [f"--sysroot {t.name}={d}" for d in system_include_dirs(t, options)]
    what = ("Linux {v}'s headers for that architecture (make headers_install ARCH=...; x86's "
            "serve i386, x32 and x86_64 alike)" if tree == "linux"
            else "glibc {v}'s headers for that target").format(v=reference.version)
    return (f"{' '.join(args)}, each {tree.upper()}_<target> holding {what}; see "
            "docs/targets.md, 'One kernel version per run'")


def files_read(model: Model) -> list[str]:
    """Files a parse is known to have read: its inputs, and where its records, enums and
    macros are declared."""
    return [*model.inputs, *(r.location.file for r in model.records),
            *(e.location.file for e in model.enums), *(m.location.file for m in model.macros)]
