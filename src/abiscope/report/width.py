"""One width policy for every text table abiscope prints.

A terminal gets its own width (rich reads the size, or ``COLUMNS``) and tables are laid out
to fit it: wide tables are split into blocks, long text is wrapped, and no verdict or number
is ever cut. A file (``-o FILE``) or a pipe has no width: it gets the full content on one
line per row, whatever ``COLUMNS`` says, so what a script reads never depends on the
terminal the command was started from.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

UNBOUNDED = 100_000
"""The width of a file or pipe: no line of a table is ever that long."""

SEPARATOR = 3
"""Columns a rich table without edges spends between two columns (" │ ")."""


def terminal() -> Console:
    """Colour and the terminal's width on a TTY; plain and unbounded when piped."""
    from rich.console import Console

    probe = Console()
    return probe if probe.is_terminal else Console(width=UNBOUNDED, no_color=True)


@contextmanager
def output_console(output: str | None) -> Iterator[Console]:
    """The console a text report is printed on: ``output`` (a file) or stdout."""
    from rich.console import Console

    if not output:
        yield terminal()
        return
    try:
        fh = open(output, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"--output {output}: {exc.strerror}") from None
    with fh:
        yield Console(file=fh, width=UNBOUNDED, no_color=True)


def write(data: str | bytes, output: str | None) -> None:
    """A rendered document (text, JSON, SARIF, a list, a header) to ``output`` (a file,
    written as it is) or to stdout; the one writer of every command's ``-o``."""
    if not output:
        sys.stdout.write(data if isinstance(data, str)
                         else data.decode("utf-8", "surrogateescape"))
        return
    try:
        if isinstance(data, str):
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(data)
        else:
            with open(output, "wb") as bfh:
                bfh.write(data)
    except OSError as exc:
        raise InputError(f"--output {output}: {exc.strerror}") from None


def bounded(console: Console) -> bool:
    """Whether ``console`` has a width to fit (a terminal), not a file or a pipe."""
    return console.width < UNBOUNDED


def text_width(text: str) -> int:
    """Widest line of ``text`` in terminal cells."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def blocks(widths: Sequence[int], room: int) -> list[range]:
    """Split columns of ``widths`` (each followed by a separator) into consecutive blocks
    that fit ``room`` cells; a column wider than ``room`` makes a block of its own."""
    out: list[range] = []
    start, used = 0, 0
    for i, w in enumerate(widths):
        need = w + SEPARATOR
        if i > start and used + need > room:
            out.append(range(start, i))
            start, used = i, 0
        used += need
    if widths:
        out.append(range(start, len(widths)))
    return out


def fit(widths: Sequence[int], wraps: Sequence[bool], width: int | None,
        floor: int = 10) -> list[int | None]:
    """Widths for the columns of a table of natural ``widths``: ``None`` (natural) for
    each when there is no width to fit (a file or pipe) or the table fits. Otherwise the
    columns that must not wrap (a verdict, a number: ``wraps`` false) keep their natural
    width, and the rest share what remains: a column narrower than its share keeps its
    width, the others get equal shares, never below ``floor`` unless the width leaves less
    (a table never grows wider than ``width`` while it has room for one cell a column)."""
    total = sum(widths) + SEPARATOR * (len(widths) - 1)
    if width is None or total <= width:
        return [None] * len(widths)
    pairs = list(zip(widths, wraps, strict=True))
    room = width - SEPARATOR * (len(widths) - 1) - sum(w for w, f in pairs if not f)
    flexible = sorted((w, i) for i, (w, f) in enumerate(pairs) if f)
    if flexible:
        floor = max(1, min(floor, room // len(flexible)))
    out: list[int | None] = list(widths)
    for n, (w, i) in enumerate(flexible):
        share = max(floor, room // (len(flexible) - n))
        out[i] = min(w, share)
        room -= out[i] or 0
    return out


def columns(table: Table, headers: Sequence[str], rows: Sequence[Sequence[str]],
            wraps: Sequence[bool], width: int | None,
            justify: Sequence[str] = ()) -> None:
    """Add ``headers`` as columns of ``table``, sized by :func:`fit` for the plain-text
    ``rows`` it will hold: a column that may wrap folds what does not fit (nothing is cut
    with an ellipsis), one that may not never wraps."""
    natural = [max([text_width(h), *(text_width(r[i]) for r in rows)])
               for i, h in enumerate(headers)]
    for i, (h, w) in enumerate(zip(headers, fit(natural, wraps, width), strict=True)):
        just = justify[i] if i < len(justify) else "left"
        if w is None or not wraps[i]:
            table.add_column(h, no_wrap=True, justify=just,  # type: ignore[arg-type]
                             min_width=natural[i])
        else:
            table.add_column(h, width=w, overflow="fold", justify=just)  # type: ignore[arg-type]


def fitted(console: Console) -> int | None:
    """The width a table printed on ``console`` must fit, or None for a file or pipe."""
    return console.width if bounded(console) else None


def natural_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """The width a table of ``headers`` and plain-text ``rows`` takes unwrapped (edges
    off, as abiscope's tables are)."""
    return sum(max([text_width(h), *(text_width(r[i]) for r in rows)])
               for i, h in enumerate(headers)) + SEPARATOR * (len(headers) - 1) + 2
