"""Python's cycle collector, paused while abiscope makes plain data in bulk.

A parse, a cache load or a JSON document allocates hundreds of thousands of objects with
no reference cycle among them (frozen dataclasses, tuples, dicts of strings). The
collector would walk them again and again as they are made, for nothing: it is paused
meanwhile (:func:`paused`).

Pausing alone moves the cost instead of removing it. The collector counts allocations
while it is off, so the first allocation after it is back on scans every object made in
the meantime as young, in one go: 0.22 s for the 330,000 objects that the results of a
cold Linux UAPI run on five targets hold (measured in the submitting process, after the
last worker's result, on a core the run then waits for). A block that makes data meant
to stay (results, a document) asks :func:`promote` to move them to the oldest generation
on the way out instead. A full collection, rarer, still reaches them, so no cycle is kept
from the collector; acyclic garbage is freed by reference counting as always. A block
that leaves cyclic garbage behind (a parse: libclang's objects) does not promote: its
garbage is collected young, as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused(promote_made: bool = False) -> Iterator[None]:
    """The collector off for the block, and back on after it if it was on before; with
    ``promote_made``, what is tracked then is first promoted to the oldest generation
    (:func:`promote`). Nested blocks decide nothing: the outermost does, when it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if promote_made:
                promote()
            gc.enable()


def promote() -> None:
    """Move every object the collector tracks to its oldest generation, without a scan
    (``gc.freeze`` then ``gc.unfreeze``: two list splices). Left alone when the process
    keeps frozen objects of its own: unfreezing would give those back to the collector."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
