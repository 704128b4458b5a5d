"""One width policy for every text table abiscope prints.

A terminal gets its own width (rich reads the size, or ``COLUMNS``) and tables are laid out
to fit it: wide tables are split into blocks, long text is wrapped, and no verdict or number
is ever cut. A file (``-o FILE``) or a pipe has no width: it gets the full content on one
line per row, whatever ``COLUMNS`` says, so what a script reads never depends on the
terminal the command was started from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

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
