"""What the C generators share: C names for records, include lines, static assertions."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

from ..errors import InputError
from ..model import Member, RecordLayout, iter_members


class CodegenError(InputError):
    """The generator cannot write what was asked (a model it cannot express in C)."""


def tag(record_name: str) -> str:
    """``struct foo`` -> ``foo``; a typedef name stays as it is."""
    return record_name.split(" ", 1)[1] if record_name.startswith(("struct ", "union ")) \
        else record_name


def is_nameable(record_name: str) -> bool:
    """Whether C code can name this record's type (not an unnamed record)."""
    return bool(re.fullmatch(r"(?:(?:struct|union) )?[A-Za-z_]\w*", record_name))


def c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def include_line(header: str, include_dirs: Sequence[str], include_as: str | None,
                 system_dirs: Sequence[str] = (), output: str | None = None) -> str:
    """The ``#include`` line for a header, in a form that survives being committed.

    As told (``include_as``); else relative to the first -I dir holding it
    (``#include "linux/foo.h"``); else relative to the first system include dir holding it
    (``#include <linux/ethtool.h>``); else, for an existing file, relative to the directory
    of the generated file (``output``, or the working directory for stdout); else as given
    (a name such as ``stdint.h``). Never an absolute path of this machine's tree.
    """
    if include_as:
        return f'#include "{include_as}"'
    full = os.path.abspath(header)
    for d in include_dirs:
        base = os.path.abspath(d)
        if full.startswith(base + os.sep):
            return f'#include "{os.path.relpath(full, base)}"'
    for d in system_dirs:
        base = os.path.abspath(d)
        if full.startswith(base + os.sep):
            return f"#include <{os.path.relpath(full, base)}>"
    if os.path.isfile(header):
        here = os.path.dirname(os.path.abspath(output)) if output else os.getcwd()
        return f'#include "{os.path.relpath(full, here)}"'
    return f'#include "{header}"'


def offset_paths(layout: RecordLayout) -> Iterator[tuple[str, Member]]:
    """(offsetof designator, member) of every named non-bitfield member at every depth.

    Members of named nested records are their own record's business; members of unnamed
    and anonymous records are reached through them (``un.l``; ``i`` for an anonymous one).
    """
    for path, m in iter_members(layout.members):
        if path and m.name and not m.bitfield:
            yield path, m


def guard_name(text: str) -> str:
    return re.sub(r"\W", "_", text).upper()
