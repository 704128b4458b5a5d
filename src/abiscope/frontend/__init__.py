"""The C frontend: the one place that touches libclang (``clang.cindex``, libclang-ng wheel).

Parses headers once per target, hermetically (``-nostdlibinc``: clang's own builtin headers
and abiscope's, plus the per-target system dirs given or discovered; hosted where a Linux
target has a libc tree, else ``-ffreestanding``), and
turns what clang lays out into the plain data of :mod:`abiscope.model`. Nothing downstream
sees a clang object.

Its modules, in the order data flows through them:

- :mod:`.options`: what a parse is given, and the clang command line of each target;
- :mod:`.sandbox`: the include sandbox (the trees clang may read);
- :mod:`.bindings`: libclang itself, and the facts read off a translation unit;
- :mod:`.tokens`: what clang does not expose, read from tokens (``aligned(MACRO)``,
  ``#pragma pack``, macro bodies);
- :mod:`.walker`: a translation unit's records and enums as model data;
- :mod:`.declarations`: declarations for the layout engine, and the records it lays out
  where clang may differ from GCC;
- :mod:`.macro_values`: which macros are ioctl requests (one rule for all) and their values;
- :mod:`.isolation`: which headers of a batch could see something they would not alone;
- :mod:`.units`: one unit of work (a batch of headers x a group of targets);
- :mod:`.driver`: :func:`parse`, units over processes and the cache, merged into a model;
- :mod:`.ioctl_scan`: ``abiscope ioctls``;
- :mod:`.versions`: the version of Linux's and glibc's headers each target reads.
"""

from __future__ import annotations

from ..model import Model
from .bindings import builtin_include_dir, clang_version, load_cindex, relpath
from .declarations import parse_decls
from .driver import BATCH_SIZE, CHUNK_SIZE, batches, chunks, merge, parse
from .ioctl_scan import scan_ioctls
from .macro_values import ioctl_argument
from .options import ParseOptions, clang_args, search_dirs, system_include_dirs
from .tokens import LazyMacros, NeedsMacros, align_attr, read_macros
from .units import Given, UnitResult, parse_group, parse_target, parse_unit
from .walker import TargetResult

__all__ = [
    "BATCH_SIZE",
    "CHUNK_SIZE",
    "Given",
    "LazyMacros",
    "Model",
    "NeedsMacros",
    "ParseOptions",
    "TargetResult",
    "UnitResult",
    "align_attr",
    "batches",
    "builtin_include_dir",
    "chunks",
    "clang_args",
    "clang_version",
    "ioctl_argument",
    "load_cindex",
    "merge",
    "parse",
    "parse_decls",
    "parse_group",
    "parse_target",
    "parse_unit",
    "read_macros",
    "relpath",
    "scan_ioctls",
    "search_dirs",
    "system_include_dirs",
]
