"""Preludes: what to include before a header that does not parse alone (``--prelude``).

Many library headers expect another one first (``off_t`` from ``sys/types.h``, a
package's ``config.h`` or main header). With ``--prelude auto`` a header with errors is
tried again with, in this order, stopping at the first that parses without errors:

1. each other header of its directory (its package's), one at a time: those whose names
   share the longest prefix with its name first (``jpegint.h``: ``jpeglib.h``;
   ``z3_fpa.h``: ``z3.h``, in ``/usr/include``'s one flat directory of many packages),
   then by name; at most :data:`MAX_SIBLINGS` (in a directory of more, only those whose
   names start as its name does);
2. ``sys/types.h``, ``stdint.h``, ``stddef.h``, ``stdio.h`` (:data:`SYSTEM`), one at a
   time, then the four together;
3. the four, then each header of its directory tried in 1 (``jpegint.h`` needs
   ``stdio.h`` for ``jpeglib.h``, which it needs).

``--prelude FILE,FILE`` names the headers to include, in that order (one try). What was
added is kept on every record laid out from that unit (``prelude`` in
``abiscope.layout/1``); a header that fails with every prelude is a failure as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

SYSTEM = ("sys/types.h", "stdint.h", "stddef.h", "stdio.h")
MAX_SIBLINGS = 24
_HEADER_SUFFIXES = (".h", ".hh", ".hpp")


def siblings(header: str) -> list[str]:
    """The other headers of ``header``'s directory, those whose names share the longest
    prefix with its name first, then by name (at most :data:`MAX_SIBLINGS`)."""
    directory = os.path.dirname(os.path.abspath(header))
    own = os.path.basename(header)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    stem = own.rsplit(".", 1)[0]
    names = sorted((n for n in names if n != own and n.endswith(_HEADER_SUFFIXES)
                    and os.path.isfile(os.path.join(directory, n))),
                   key=lambda n: (-_shared(stem, n), n))
    if len(names) > MAX_SIBLINGS:  # (many packages' headers: only those named like it)
        names = [n for n in names if _shared(stem, n)]
    return [os.path.join(directory, n) for n in names[:MAX_SIBLINGS]]


def _shared(a: str, b: str) -> int:
    """How many leading characters two names share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def attempts(header: str, prelude: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """The preludes to try for ``header``, in order (each a tuple of headers: a path, or a
    name to include as ``<name>``)."""
    if tuple(prelude) != ("auto",):
        yield tuple(prelude)
        return
    near = siblings(header)
    for path in near:
        yield (path,)
    for name in SYSTEM:
        yield (name,)
    yield SYSTEM
    for path in near:
        yield (*SYSTEM, path)


def include_lines(added: Sequence[str]) -> str:
    """The ``#include`` lines of a prelude: a file that exists by its path, a name as a
    system header."""
    return "".join(f'#include "{os.path.abspath(h)}"\n' if os.path.isfile(h)
                   else f"#include <{h}>\n" for h in added)
