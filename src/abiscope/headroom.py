"""Headroom: how many bytes a record can still take without changing its size or any
member's offset on any selected target (data only; ``report.headroom`` renders it).

Two kinds of room count, each only where every target the record exists on has it:

- **tail padding**: a struct's whole bytes after its last member (as a whole: an anonymous
  union's padding at its end is the union's), the fewest of any target
  (a new member declared last, of up to that many bytes of alignment 1, lands there on
  every target); none after a flexible array member, and none in a struct whose members
  are all unnamed bitfields (BPF's opaque ``struct bpf_dynptr { __u64 :64; __u64 :64; }``);
  an unnamed bitfield after the last member (``__u32 :32;``, BPF's explicit padding) is
  not room either (:attr:`abiscope.model.RecordLayout.unnamed_end_bits`, which clang's
  targets know; on engine-only targets and from JSON documents it is not known). A
  union's room is its smallest size: a member of up to that many bytes keeps every size.
- **reserved members**: members named as reserved (``pad``, ``reserved``, ``__reserved``,
  ``rsvd``, ``unused``, …: :func:`abiscope.diff.is_reserved`, the policy by which ``diff``
  reports their reuse as compatible) that every target has at the same offset with the
  same size, sharing no bit with another member (a union's ``pad`` overlays the union's
  other members). A reserved member that is a struct or union is not looked into (as
  ``diff``); a union record's room is its size, and its reserved members are in it.

Interior holes do not count: a member put in one lands there on some targets only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .diff import is_reserved
from .model import Member, Record, RecordLayout, iter_members


@dataclass(frozen=True)
class Reserved:
    """A reserved member every target has at the same place with the same size."""

    member: str  # its path (``u.pad``; anonymous levels add nothing, as iter_members)
    offset_bits: int
    size_bits: int


@dataclass(frozen=True)
class Headroom:
    """One record's headroom on ``targets`` (those it exists on, in model order)."""

    record: str
    targets: tuple[str, ...]
    tail: int  # whole bytes: struct tail padding common to all targets, or a union's size
    reserved: tuple[Reserved, ...]
    union: bool = False

    @property
    def bytes(self) -> int:
        """Whole bytes in all: the tail and each reserved member's whole bytes."""
        return self.tail + sum(r.size_bits // 8 for r in self.reserved)


def _flexible_last(members: Sequence[Member]) -> bool:
    """Whether a struct ends in a flexible (or zero-length) array member."""
    return bool(members) and members[-1].size_bits == 0 and members[-1].type.kind == "array"


def _tail(layout: RecordLayout) -> int:
    if layout.kind == "union":
        return layout.size
    if _flexible_last(layout.members) or not layout.members:
        return 0  # (a struct of unnamed bitfields only, ``__u64 :64;``: its bytes are those)
    # (after the last top-level member as a whole: an anonymous union's own padding at its
    # end is inside it, where tail_padding_bits, which looks into it, counts it; and after
    # its unnamed bitfields, which are not members)
    end = max(m.offset_bits + m.size_bits for m in layout.members)
    end = max(end, layout.unnamed_end_bits or 0)
    return max(layout.size * 8 - end, 0) // 8


def _reserved(layout: RecordLayout) -> dict[str, tuple[int, int]]:
    """Reserved leaf members by path: (offset_bits, size_bits). Left out: one that shares
    a bit with another member (a union's ``pad`` overlays its other members: its bytes
    are not free), and a path met twice (two anonymous levels naming alike)."""
    leaves = [(path, m.offset_bits, m.offset_bits + m.size_bits)
              for path, m in iter_members(layout.members) if not m.members and m.size_bits]
    out: dict[str, tuple[int, int]] = {}
    seen: set[str] = set()
    for i, (path, start, end) in enumerate(leaves):
        if not path or not is_reserved(path):
            continue
        if path in seen:
            out.pop(path, None)
            continue
        seen.add(path)
        if not any(s < end and start < e for j, (_, s, e) in enumerate(leaves) if j != i):
            out[path] = (start, end - start)
    return out


def headroom(record: Record, targets: Iterable[str] | None = None) -> Headroom:
    """The record's headroom on ``targets`` (default: every target it has a layout on;
    targets it does not exist on are left out)."""
    chosen = tuple(t for t in (targets if targets is not None else record.layouts)
                   if t in record.layouts)
    layouts = [record.layouts[t] for t in chosen]
    if not layouts:
        return Headroom(record.name, (), 0, ())
    union = {lay.kind for lay in layouts} == {"union"}
    tail = min(_tail(lay) for lay in layouts) \
        if union or all(lay.kind == "struct" for lay in layouts) else 0
    # (a union's room is its size already: its reserved members are inside it)
    found = [{} if union else _reserved(lay) for lay in layouts]
    first = found[0]
    common = tuple(Reserved(p, *at) for p, at in first.items()
                   if all(other.get(p) == at for other in found[1:]))
    return Headroom(record.name, chosen, tail,
                    tuple(sorted(common, key=lambda r: (r.offset_bits, r.member))), union)


def headrooms(records: Iterable[Record], targets: Sequence[str]) -> dict[str, Headroom]:
    """Each record's headroom on the selected ``targets``, by record name."""
    return {r.name: headroom(r, targets) for r in records}


def to_json(room: Headroom) -> dict[str, object]:
    """The ``headroom`` field of a record in ``abiscope.layout/1``."""
    return {"bytes": room.bytes, "tail": room.tail,
            "reserved": [{"member": r.member, "offset_bits": r.offset_bits,
                          "size_bits": r.size_bits} for r in room.reserved]}

