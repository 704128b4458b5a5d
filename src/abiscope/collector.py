"""Python's cycle collector, paused while abiscope makes plain data in bulk.

A parse, a cache load or a JSON document allocates hundreds of thousands of objects with
no reference cycle among them (frozen dataclasses, tuples, dicts of strings). The
collector would walk them again and again as they are made, for nothing: it is paused
meanwhile (:func:`paused`).

Pausing alone moves the cost instead of removing it. The collector counts allocations
while it is off, so the first allocation after it is back on scans every object made in
the meantime as young, in one go: 0.22 s for the 330,000 objects that the results of a
cold Linux UAPI run on five targets hold (measured in the submitting process, after the
last worker's result, on a core the run then waits for). On the way out, :func:`promote`
moves them to the oldest generation instead. A full collection, rare, still reaches them,
so no cycle is kept from the collector; acyclic garbage is freed by reference counting as
always.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block; on the way out, if it was on before, what is
    tracked is promoted to the oldest generation (:func:`promote`) and it is turned back
    on. Nested blocks promote once, when the outermost ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            promote()
            gc.enable()


def promote() -> None:
    """Move every object the collector tracks to its oldest generation, without a scan
    (``gc.freeze`` then ``gc.unfreeze``: two list splices). Left alone when the process
    keeps frozen objects of its own: unfreezing would give those back to the collector."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
