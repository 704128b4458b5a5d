"""Anonymous types named the way C readers know them, for human output only.

clang spells an anonymous record ``union (unnamed at /usr/i686-linux-gnu/include/asm/kvm.h:91:2)``
(or ``struct (anonymous at f.h:3:5)``, ``(unnamed union at …)``); text output says
``(anonymous union at asm/kvm.h:91)``: the path relative to the include directory that
found the file, so one header reads the same on every target's tree. The JSON
(``abiscope.layout/1``, snapshots) keeps clang's names: snapshots and diffs do not churn.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache

_ANONYMOUS = re.compile(
    r"(?:\b(struct|union|enum) )?(?:[A-Za-z_]\w*::)?\((?:unnamed|anonymous)"
    r"(?: (struct|union|enum))? at ([^()]+?):(\d+):\d+\)")


def include_path(path: str, dirs: Sequence[str] = ()) -> str:
    """``path`` relative to the deepest of ``dirs`` holding it, else to the working
    directory when below it, else as it is."""
    return _include_path(path, tuple(dirs))


@lru_cache(maxsize=4096)
def _include_path(path: str, dirs: tuple[str, ...]) -> str:
    norm = os.path.normpath(path)
    best = ""
    for d in dirs:
        base = os.path.normpath(os.path.abspath(d))
        if norm.startswith(base.rstrip(os.sep) + os.sep) and len(base) > len(best):
            best = base
    if best:
        return os.path.relpath(norm, best)
    if os.path.isabs(norm):
        rel = os.path.relpath(norm)
        return norm if rel.startswith("..") else rel
    return norm


def human_names(text: str, dirs: Sequence[str] = ()) -> str:
    """``text`` with every clang spelling of an anonymous type replaced by
    ``(anonymous KIND at FILE:LINE)``, FILE as :func:`include_path` gives it."""
    if "(unnamed" not in text and "(anonymous" not in text:
        return text
    dirs = tuple(dirs)

    def one(m: re.Match[str]) -> str:
        kind = m.group(2) or m.group(1)
        what = f"anonymous {kind}" if kind else "anonymous"
        return f"({what} at {_include_path(m.group(3), dirs)}:{m.group(4)})"

    return _ANONYMOUS.sub(one, text)
