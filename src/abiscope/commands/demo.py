"""``abiscope demo``: the seed case, the claims of the Xen dm_op review measured."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..cliutil import EXIT_FAIL, EXIT_OK, job_count, terminal, write
from ..model import dumps

if TYPE_CHECKING:
    from ..demo import Claim


def register(sub: argparse._SubParsersAction[Any]) -> None:
    dm = sub.add_parser(
        "demo", help="the seed case: the claims of the Xen dm_op review, measured",
        description="Analyse the four bundled struct xen_dm_op_buf designs of the xen-devel "
                    "review that started abiscope on every real target and the 128-bit "
                    "models, and print each claim of the thread with abiscope's evidence and "
                    "whether it holds. Exit 1 if a claim does not hold.")
    dm.add_argument("-f", "--format", choices=tuple(RENDERERS), default="text")
    dm.add_argument("-j", "--jobs", type=job_count, default=None,
                    help="processes to spread targets over (default: all cores)")
    dm.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import analyse, claims

    results = claims(analyse(args.jobs))
    RENDERERS[args.format](results)
    return EXIT_OK if all(c.holds for c in results) else EXIT_FAIL


def _json(results: Sequence[Claim]) -> None:
    from ..demo import seed_dir

    write(dumps({"schema": "abiscope.demo/1", "headers": str(seed_dir()),
                 "claims": [{"claim": c.number, "quote": c.quote,
                             "evidence": c.evidence, "holds": c.holds}
                            for c in results]}), None)


def _text(results: Sequence[Claim]) -> None:
    from rich.table import Table

    from ..demo import seed_dir

    console = terminal()
    table = Table(title="The xen-devel dm_op review, measured by abiscope",
                  title_justify="left", header_style="bold", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("claim in the thread", max_width=34)
    table.add_column("what abiscope measured")
    table.add_column("holds", justify="center")
    for c in results:
        table.add_row(c.number, c.quote, c.evidence,
                      "[green]yes[/green]" if c.holds else "[bold red]NO[/bold red]")
    console.print(table)
    console.print(f"designs: A = struct xen_dm_op_buf_v3 (v3 as posted), A+pad = "
                  f"struct xen_dm_op_buf_v3_pad, B = struct privcmd_dm_op_buf, C = struct "
                  f"xen_dm_op_buf (as merged); headers in {seed_dir()}")


RENDERERS: dict[str, Callable[[Sequence[Claim]], None]] = {"text": _text, "json": _json}
"""``--format`` -> renderer of the measured claims."""
