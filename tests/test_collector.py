"""abiscope.collector: the cycle collector paused for bulk plain data, and what is made
meanwhile promoted instead of scanned as young when it comes back on."""

from __future__ import annotations

import gc

from abiscope import collector


def test_what_a_paused_block_makes_is_old_not_young_when_the_collector_returns() -> None:
    assert gc.isenabled()
    with collector.paused(promote_made=True):
        assert not gc.isenabled()
        made = [[i] for i in range(20_000)]
    assert gc.isenabled()
    # (gen0 would hold 20,000 objects, scanned at the next allocation, without promote)
    assert gc.get_count()[0] < 1_000
    assert any(obj is made[0] for obj in gc.get_objects(generation=2))


def test_a_block_that_leaves_garbage_does_not_promote() -> None:
    """A parse leaves cyclic garbage (libclang's objects): collected young, as before."""
    gc.collect()
    with collector.paused():
        made = [[i] for i in range(20_000)]
    assert gc.isenabled()
    # (scanned young once the collector is back; promoted, they would be old already)
    assert not any(obj is made[0] for obj in gc.get_objects(generation=2))


def test_a_cycle_made_in_a_paused_block_is_still_collected() -> None:
    class Node:
        other: object = None

    with collector.paused(promote_made=True):
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = {id(a)}
    del a, b
    assert gc.collect() >= 2
    assert not any(id(obj) in alive for obj in gc.get_objects() if isinstance(obj, Node))


def test_nested_blocks_and_a_callers_frozen_objects() -> None:
    with collector.paused(promote_made=True):
        with collector.paused(promote_made=True):
            pass
        assert not gc.isenabled()  # (the outer block still holds it off)
    assert gc.isenabled()
    kept = [[1], [2]]
    gc.freeze()
    try:
        with collector.paused(promote_made=True):
            pass
        assert gc.get_freeze_count() > 0  # (the caller's stay frozen)
        assert kept
    finally:
        gc.unfreeze()
