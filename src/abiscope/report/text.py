"""Terminal layout tables in the spirit of pahole, every selected target side by side.

Reads the model only. Offsets are bytes (``B`` or ``B:bit`` for bitfields), sizes ``+N``
bytes or ``+Nb`` bits; cells that differ between targets are highlighted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import Member, Model, Record, RecordLayout

_DIFF_STYLE = "bold yellow"
_PAD_STYLE = "red"


def _offset(bits: int, bitfield: bool) -> str:
    return f"{bits // 8}:{bits % 8}" if bitfield or bits % 8 else str(bits // 8)


def _size(bits: int, bitfield: bool) -> str:
    return f"+{bits}b" if bitfield or bits % 8 else f"+{bits // 8}"


def _member_cell(m: Member | None) -> str:
    if m is None:
        return "—"
    return f"{_offset(m.offset_bits, m.bitfield)} {_size(m.size_bits, m.bitfield)}"


def _bytes(bits: int) -> str:
    return f"{bits // 8}-byte" if bits % 8 == 0 else f"{bits}-bit"


def record_table(record: Record, targets: Sequence[str]) -> Table:
    """One table: a row per member (path), a column per target."""
    present = [t for t in targets if t in record.layouts]
    loc = record.location
    table = Table(title=f"{record.name}  [dim]{loc.file}:{loc.line}[/dim]", title_justify="left",
                  show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("member", no_wrap=True)
    table.add_column("type", no_wrap=True, overflow="ellipsis", max_width=36)
    for t in present:
        table.add_column(t, justify="right", no_wrap=True)

    per_target: dict[str, dict[str, tuple[int, str, Member]]] = {}
    order: list[str] = []
    types: dict[str, str] = {}
    for t in present:
        rows = per_target[t] = dict(_rows(record.layouts[t].members))
        for key, (_, _, m) in rows.items():
            if key not in types:
                order.append(key)
                types[key] = m.type.spelling
    holes_after = _holes_by_member(record, present)
    first = {k: v for t in reversed(present) for k, v in per_target[t].items()}
    for key in order:
        depth, label, _ = first[key]
        cells = [_member_cell(per_target[t][key][2] if key in per_target[t] else None)
                 for t in present]
        table.add_row("  " * depth + label, types[key], *_highlight(cells))
        hole_cells = holes_after.pop(label, None)
        if hole_cells:
            table.add_row(Text("  /* XXX hole */", style=_PAD_STYLE), "",
                          *_highlight([hole_cells.get(t, "") for t in present], _PAD_STYLE))
    tails = [record.layouts[t].tail_padding_bits for t in present]
    if any(tails):
        table.add_row(Text("/* tail padding */", style=_PAD_STYLE), "",
                      *_highlight([_bytes(b) if b else "" for b in tails], _PAD_STYLE))
    table.add_row(Text("size / align", style="bold"), "",
                  *_highlight([f"{record.layouts[t].size} / {record.layouts[t].align}"
                               for t in present]))
    return table


def _rows(members: Sequence[Member], prefix: str = "",
          depth: int = 0) -> Iterator[tuple[str, tuple[int, str, Member]]]:
    """(key, (depth, label, member)) in declaration order; keys pair members across targets."""
    for i, m in enumerate(members):
        key = f"{prefix}.{m.name or i}" if prefix else (m.name or f"#{i}")
        yield key, (depth, m.name or "{anonymous}", m)
        if m.members:
            yield from _rows(m.members, key, depth + 1)


def _holes_by_member(record: Record, targets: Sequence[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for t in targets:
        for h in record.layouts[t].holes:
            out.setdefault(h.after, {})[t] = f"{_bytes(h.size_bits)} hole"
    return out


def _highlight(cells: Sequence[str], style: str = _DIFF_STYLE) -> list[Text]:
    differ = len({c for c in cells}) > 1
    return [Text(c, style=style if differ and c else "") for c in cells]


def summary(layout: RecordLayout) -> str:
    """pahole's closing line, for one target."""
    holes = sum(h.size_bits for h in layout.holes)
    return (f"size: {layout.size}, align: {layout.align}, members: {len(layout.members)}, "
            f"holes: {len(layout.holes)} ({_bytes(holes) if holes else '0-byte'}), "
            f"tail padding: {_bytes(layout.tail_padding_bits)}")


def render_layout(model: Model, records: Sequence[Record], console: Console) -> None:
    """Print every selected record as a side-by-side table."""
    targets = list(model.targets)
    for i, record in enumerate(records):
        if i:
            console.print()
        console.print(record_table(record, targets))
        missing = [t for t in targets if t not in record.layouts]
        if missing:
            console.print(Text(f"  not defined on: {', '.join(missing)}", style="dim"))
