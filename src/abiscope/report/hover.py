"""The language server's hover: one record's layout on every target, side by side, as
Markdown that fits an editor's hover box of 80 columns.

A fenced table (monospace in every client): one row per member (offset+size in bytes,
``12:3+5b`` for a bit-field), per hole and for the tail padding, then ``sizeof`` and
``alignof`` (so that no member named ``size`` is mistaken for them); a cell that differs
from the row's most common value is marked ``*``. Targets that do not fit 80 columns go
into further blocks. Under it: the compat verdict of the configured pair, the record's
findings, and its headroom (:func:`headroom_line`).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence

from ..checks import Finding
from ..compat import RecordVerdict
from ..model import Model, Record, byte_position, byte_size, iter_members
from .width import blocks

WIDTH = 80
NAME_WIDTH = 26
MARK = "*"


def _cell(offset_bits: int, size_bits: int) -> str:
    return f"{byte_position(offset_bits)}+{byte_size(size_bits)}"


def _short(name: str, width: int = NAME_WIDTH) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def layout_rows(record: Record, targets: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(label, one cell per target) rows: members, holes, tail padding, size, align."""
    on = [t for t in targets if t in record.layouts]
    members: dict[str, dict[str, str]] = {}
    holes: dict[str, dict[str, str]] = {}
    for t in on:
        lay = record.layouts[t]
        for path, m in iter_members(lay.members):
            if m.members and not m.name:
                continue  # an anonymous record: its members have rows
            members.setdefault(path or "(unnamed)", {})[t] = _cell(m.offset_bits, m.size_bits)
        for h in lay.holes:
            holes.setdefault(f"(hole after {h.after})", {})[t] = _cell(h.offset_bits,
                                                                         h.size_bits)
    rows = [(label, [cells.get(t, "-") for t in on]) for label, cells in members.items()]
    rows += [(label, [cells.get(t, "-") for t in on]) for label, cells in holes.items()]
    tails = [record.layouts[t].tail_padding_bits for t in on]
    if any(tails):
        rows.append(("(tail padding)", [byte_size(b) for b in tails]))
    rows.append(("sizeof", [str(record.layouts[t].size) for t in on]))
    rows.append(("alignof", [str(record.layouts[t].align) for t in on]))
    return rows


def _marked(cells: Sequence[str]) -> list[str]:
    common = Counter(cells).most_common(1)[0][0] if cells else ""
    return [c + MARK if c != common else c for c in cells]


def layout_table(record: Record, targets: Sequence[str], member: str = "") -> str:
    """The fenced table; ``member``: the dotted path of the row to point at (``>``)."""
    on = [t for t in targets if t in record.layouts]
    rows = [(label, _marked(cells)) for label, cells in layout_rows(record, on)]
    name_width = min(NAME_WIDTH, max(len(label) for label, _ in rows) + 2)
    widths = [max(len(t), *(len(cells[i]) for _, cells in rows)) for i, t in enumerate(on)]
    out: list[str] = []
    for block in blocks(widths, WIDTH - name_width - 2):
        lines = ["  " + "".ljust(name_width) + "  ".join(on[i].ljust(widths[i]) for i in block)]
        for label, cells in rows:
            point = "> " if member and label == member else "  "
            lines.append(point + _short(label, name_width - 1).ljust(name_width)
                         + "  ".join(cells[i].ljust(widths[i]) for i in block))
        out.append("\n".join(line.rstrip() for line in lines))
    return "```text\n" + "\n\n".join(out) + "\n```"


def headroom_line(record: Record, model: Model) -> str | None:
    """The record's headroom on the model's targets (:mod:`abiscope.headroom`), one line as
    ``layout`` prints it; None for a record on none of them."""
    from ..headroom import headroom
    from .headroom import headroom_line as line_of

    return line_of(headroom(record, model.targets)) or None


def _wrap(text: str) -> str:
    """Prose lines folded at :data:`WIDTH` (a ``- `` bullet's continuation indented)."""
    out = []
    for line in text.split("\n"):
        indent = "  " if line.startswith("- ") else ""
        out.append(textwrap.fill(line, WIDTH, subsequent_indent=indent,
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def _verdict(verdict: RecordVerdict, pair: tuple[str, str]) -> str:
    head = f"compat {pair[0]} → {pair[1]}: **{verdict.verdict}**"
    if verdict.verdict == "identical":
        return head
    lines = [head]
    for d in verdict.reasons[:4]:
        what = f"`{d.member}`" if d.member else "the record"
        sides = "; ".join(f"{t} {_cell(*s) if s else 'absent'}"
                          for t, s in zip(pair, (d.native, d.compat), strict=True))
        lines.append(f"- {what}: {sides} ({d.cause})")
    if len(verdict.reasons) > 4:
        lines.append(f"- and {len(verdict.reasons) - 4} more")
    if verdict.via:
        lines.append("- via " + ", ".join(f"`{v}`" for v in verdict.via))
    return "\n".join(lines)


def render_hover(record: Record, model: Model, member: str = "",
                 verdicts: Mapping[str, RecordVerdict] | None = None,
                 pair: tuple[str, str] | None = None,
                 findings: Sequence[Finding] = (), stale: bool = False) -> str:
    """The hover's Markdown for ``record`` (``member``: the dotted path hovered)."""
    targets = [t for t in model.targets if t in record.layouts]
    loc = record.location
    title = f"**{record.name}**" + (f" · member `{member}`" if member else "")
    parts = [title, _wrap(f"`{loc.file.rsplit('/', 1)[-1]}:{loc.line}` · offset+size in bytes "
             f"on {len(targets)} target{'s' if len(targets) != 1 else ''}; "
             f"`{MARK}` differs")]
    missing = [t for t in model.targets if t not in record.layouts]
    if missing:
        parts.append(_wrap("not laid out on " + ", ".join(missing)))
    parts.append(layout_table(record, targets, member))
    verdict = (verdicts or {}).get(record.name)
    if verdict is not None and pair is not None:
        parts.append(_wrap(_verdict(verdict, pair)))
    line = headroom_line(record, model)
    if line:
        parts.append(line)
    mine = [f for f in findings if f.record == record.name]
    if mine:
        parts.append(_wrap("findings: " + ", ".join(
            f"{f.rule} {f.name}{' `' + f.member + '`' if f.member else ''} ({f.severity})"
            for f in mine[:6]) + (f" and {len(mine) - 6} more" if len(mine) > 6 else "")))
    if stale:
        parts.append("_from the last version of the buffer that parsed_")
    return "\n\n".join(parts) + "\n"
