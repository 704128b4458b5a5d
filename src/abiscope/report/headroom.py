"""Headroom (:mod:`abiscope.headroom`) as a line of text, for ``layout``, the HTML report
and the language server's hover."""

from __future__ import annotations

from ..headroom import Headroom
from ..model import byte_position, byte_size


def headroom_line(room: Headroom) -> str:
    """``headroom: 20 bytes on every target: 4 of tail padding, 'reserved' (16 bytes at
    12)``; empty for a record on no selected target."""
    if not room.targets:
        return ""
    parts = []
    if room.tail:
        parts.append(f"{room.tail} {'in the union' if room.union else 'of tail padding'}")
    parts += [f"'{r.member}' ({byte_size(r.size_bits, long=True)} at "
              f"{byte_position(r.offset_bits)})" for r in room.reserved]
    if not parts:
        return "headroom: none (no tail padding or reserved member common to every target)"
    every = "on every target" if len(room.targets) > 1 else f"on {room.targets[0]}"
    unit = "byte" if room.bytes == 1 else "bytes"
    return f"headroom: {room.bytes} {unit} {every}: {', '.join(parts)}"
