"""``abiscope targets``: the target registry, its aliases and groups."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import variants
from ..cliutil import EXIT_OK, terminal, write
from ..model import dumps
from ..targets import ALIASES, GROUPS, TARGETS, aliases_of, group_members


def register(sub: argparse._SubParsersAction[Any]) -> None:
    tg = sub.add_parser("targets", help="list the target registry and groups",
                        description="List every target name, its clang triple, groups, "
                                    "and the compiler the test-suite checks it against.")
    tg.add_argument("-f", "--format", choices=tuple(RENDERERS), default="text")
    tg.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    RENDERERS[args.format]()
    return EXIT_OK


def _json() -> None:
    doc = {
        "targets": [
            {"name": t.name, "triple": t.triple, "pointer_bits": t.pointer_bits,
             "endian": t.endian, "groups": list(t.groups), "checked_by": t.checked_by,
             "hypothetical": t.hypothetical, "available": t.available,
             "aliases": aliases_of(t.name)}
            for t in TARGETS.values()
        ],
        "aliases": dict(ALIASES),
        "groups": {g: [t.name for t in group_members(g)] for g in GROUPS},
        "variants": variants.listing(),
    }
    write(dumps(doc), None)


def _text() -> None:
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for col in ("name", "aliases", "clang triple", "bits", "endian", "groups", "checked by",
                "status"):
        table.add_column(col)
    for t in TARGETS.values():
        status = "ok" if t.available else "not in this build"
        table.add_row(t.name, " ".join(aliases_of(t.name)), t.triple, str(t.pointer_bits),
                      t.endian, " ".join(t.groups), t.checked_by, status)
    console = terminal()
    console.print(table)
    console.print("groups: " + "; ".join(
        f"{g} = {','.join(t.name for t in group_members(g))}" for g in GROUPS))
    from ..report.variants import render_text as render_variants

    console.print(render_variants(variants.listing()), highlight=False, markup=False)


RENDERERS: dict[str, Callable[[], None]] = {"text": _text, "json": _json}
"""``--format`` -> renderer of the registry."""
