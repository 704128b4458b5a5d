"""Offsets and sizes as every report writes them: one spelling each.

A *shape* is ``(offset_bits, size_bits)`` of a member on one target, or None where the
member is absent (a compat reason, a path boundary, an ioctl argument).
"""

from __future__ import annotations

from ..model import byte_position, byte_size
from ..model import shape_words as shape_words  # (analyses word their findings with it)


def shape_json(shape: tuple[int, int] | None) -> dict[str, int] | None:
    """A shape in a JSON document: ``{"offset_bits", "size_bits"}``, or null."""
    return None if shape is None else {"offset_bits": shape[0], "size_bits": shape[1]}


def shape_cell(shape: tuple[int, int] | None) -> str:
    """A shape in a table cell: ``8 +4`` (byte 8, 4 bytes), ``0:3 +5b``, or ``absent``."""
    if shape is None:
        return "absent"
    off, size = shape
    return f"{byte_position(off)} +{byte_size(size)}"


def count(n: int, noun: str) -> str:
    """``1 finding``, ``2 findings``: a number and its noun, singular for one."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
