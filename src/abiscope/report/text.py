"""Terminal layout tables in the spirit of pahole, every selected target side by side.

Reads the model only. Offsets are bytes (``B`` or ``B:bit`` for bitfields), sizes ``+N``
bytes or ``+Nb`` bits; cells that differ between targets are highlighted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..headroom import headroom
from ..model import Member, Model, Record, RecordLayout
from .headroom import headroom_line
from .naming import human_names
from .width import SEPARATOR, blocks, bounded, text_width

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


@dataclass(frozen=True)
class _Row:
    """One line of a layout table: a label, a type and a cell per target."""

    label: str
    path: str  # the member's full path (what --only-differing shows)
    type: str
    cells: tuple[str, ...]
    style: str = _DIFF_STYLE
    kind: str = "member"  # member, hole, tail, size

    @property
    def differs(self) -> bool:
        return len(set(self.cells)) > 1


def table_rows(record: Record, targets: Sequence[str]) -> list[_Row]:
    """The rows of ``record``'s table on ``targets`` (those that define it), as data."""
    present = [t for t in targets if t in record.layouts]
    per_target: dict[str, dict[str, tuple[int, str, str, Member]]] = {}
    order: list[str] = []
    types: dict[str, str] = {}
    for t in present:
        rows = per_target[t] = dict(_rows(record.layouts[t].members))
        for key, (_, _, _, m) in rows.items():
            if key not in types:
                order.append(key)
                types[key] = m.type.spelling
    holes_after = _holes_by_member(record, present)
    first = {k: v for t in reversed(present) for k, v in per_target[t].items()}
    out: list[_Row] = []
    for key in order:
        depth, label, path, _ = first[key]
        cells = tuple(_member_cell(per_target[t][key][3] if key in per_target[t] else None)
                      for t in present)
        out.append(_Row("  " * depth + label, path, types[key], cells))
        hole_cells = holes_after.pop(label, None)
        if hole_cells:
            out.append(_Row("  /* XXX hole */", f"/* XXX hole after {path} */", "",
                            tuple(hole_cells.get(t, "") for t in present), _PAD_STYLE, "hole"))
    tails = [record.layouts[t].tail_padding_bits for t in present]
    if any(tails):
        out.append(_Row("/* tail padding */", "/* tail padding */", "",
                        tuple(_bytes(b) if b else "" for b in tails), _PAD_STYLE, "tail"))
    out.append(_Row("size / align", "size / align", "",
                    tuple(f"{record.layouts[t].size} / {record.layouts[t].align}"
                          for t in present), kind="size"))
    return out


def record_tables(record: Record, targets: Sequence[str], width: int | None = None,
                  only_differing: bool = False, dirs: Sequence[str] = ()) -> list[Table]:
    """``record`` as tables of a row per member (path) and a column per target: one table
    when ``width`` is None (a file or pipe), else as many blocks of target columns as it
    takes to fit ``width``, each repeating the member and type columns. With
    ``only_differing``, only the rows whose cells differ between targets, each member
    named by its full path. No cell is ever cut: a type too long for its column wraps.
    Anonymous types are named as :func:`naming.human_names` does, paths relative to
    ``dirs``."""
    present = [t for t in targets if t in record.layouts]
    rows = [replace(r, type=human_names(r.type, dirs)) for r in table_rows(record, present)]
    if only_differing:
        rows = [replace(r, label=r.path) for r in rows if r.differs]
    member_w = max((text_width(r.label) for r in rows), default=0)
    member_w = max(member_w, len("member"))
    type_w = max((text_width(r.type) for r in rows), default=0)
    type_w = max(type_w, len("type"))
    col_w = [max([len(t), *(len(r.cells[i]) for r in rows)]) for i, t in enumerate(present)]
    groups = [range(len(present))]
    if width is not None and present:
        fixed = member_w + SEPARATOR
        type_w = min(type_w, max(16, (width - fixed) // 3))
        type_w = max(8, min(type_w, width - fixed - SEPARATOR - max(col_w)))
        groups = blocks(col_w, width - fixed - type_w)
    loc = record.location
    tables = []
    for group in groups:
        part = ""
        if len(groups) > 1:
            part = f"  (targets {group.start + 1}-{group.stop} of {len(present)})"
        # (a file or pipe: the title on one line, however narrow the table under it)
        title = Text(f"{human_names(record.name, dirs)}  ", no_wrap=width is None,
                     overflow="ignore" if width is None else None)
        title.append(f"{loc.file}:{loc.line}{part}", style="dim")
        if record.prelude:  # (laid out only after other headers: --prelude)
            title.append(f"  with prelude {', '.join(record.prelude)}", style="yellow")
        table = Table(title=title,
                      title_justify="left", show_edge=False, pad_edge=False,
                      header_style="bold")
        table.add_column("member", no_wrap=width is None, overflow="fold")
        table.add_column("type", overflow="fold",
                         width=type_w if width is not None else None,
                         no_wrap=width is None)
        for i in group:
            table.add_column(present[i], justify="right", no_wrap=True, min_width=col_w[i])
        for r in rows:
            cells = _highlight([r.cells[i] for i in group], r.style, r.differs)
            if r.kind == "member":
                table.add_row(r.label, r.type, *cells)
            elif r.kind == "size":
                table.add_row(Text(r.label, style="bold"), "", *cells)
            else:
                table.add_row(Text(r.label, style=_PAD_STYLE), "", *cells)
        tables.append(table)
    return tables


def record_table(record: Record, targets: Sequence[str]) -> Table:
    """One table: a row per member (path), a column per target (every one, unbounded)."""
    return record_tables(record, targets)[0]


def _rows(members: Sequence[Member], prefix: str = "", depth: int = 0, path: str = ""
          ) -> Iterator[tuple[str, tuple[int, str, str, Member]]]:
    """(key, (depth, label, path, member)) in declaration order; keys pair members across
    targets, paths name them for a reader (``u.{anonymous}.x``)."""
    for i, m in enumerate(members):
        key = f"{prefix}.{m.name or i}" if prefix else (m.name or f"#{i}")
        label = m.name or "{anonymous}"
        full = f"{path}.{label}" if path else label
        yield key, (depth, label, full, m)
        if m.members:
            yield from _rows(m.members, key, depth + 1, full)


def _holes_by_member(record: Record, targets: Sequence[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for t in targets:
        for h in record.layouts[t].holes:
            out.setdefault(h.after, {})[t] = f"{_bytes(h.size_bits)} hole"
    return out


def _highlight(cells: Sequence[str], style: str = _DIFF_STYLE,
               differ: bool | None = None) -> list[Text]:
    if differ is None:
        differ = len(set(cells)) > 1
    return [Text(c, style=style if differ and c else "") for c in cells]


def summary(layout: RecordLayout) -> str:
    """pahole's closing line, for one target."""
    holes = sum(h.size_bits for h in layout.holes)
    return (f"size: {layout.size}, align: {layout.align}, members: {len(layout.members)}, "
            f"holes: {len(layout.holes)} ({_bytes(holes) if holes else '0-byte'}), "
            f"tail padding: {_bytes(layout.tail_padding_bits)}")


def render_layout(model: Model, records: Sequence[Record], console: Console,
                  only_differing: bool = False, dirs: Sequence[str] = ()) -> None:
    """Print every selected record as a side-by-side table, split into blocks of targets
    that fit a terminal (the width policy of ``report.width``)."""
    targets = list(model.targets)
    width = console.width if bounded(console) else None
    for i, record in enumerate(records):
        if i:
            console.print()
        tables = record_tables(record, targets, width, only_differing, dirs)
        if only_differing and not tables[0].row_count:
            loc = record.location
            console.print(Text(f"{human_names(record.name, dirs)}  "
                               f"{loc.file}:{loc.line}: the same on every target", style="dim"))
        else:
            for j, table in enumerate(tables):
                if j:
                    console.print()
                console.print(table)
        missing = [t for t in targets if t not in record.layouts]
        if missing:
            console.print(Text(f"  not defined on: {', '.join(missing)}", style="dim"))
        room = headroom_line(headroom(record, targets))
        if room:
            console.print(Text(f"  {room}", style="dim"))
