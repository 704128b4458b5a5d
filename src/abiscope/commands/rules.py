"""``abiscope rules``: the rule catalogue, or one rule's page."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..cliutil import EXIT_OK, terminal, write
from ..errors import UsageError
from ..model import dumps

if TYPE_CHECKING:
    from ..checks import Rule


def register(sub: argparse._SubParsersAction[Any]) -> None:
    rl = sub.add_parser("rules", help="list the rules, or print one rule's documentation",
                        description="Without an argument, list every rule; with a rule id or "
                                    "name, print its page (what it does, why it is bad, an "
                                    "example, the fix).")
    rl.add_argument("rule", nargs="?", help="rule id (ABI002) or name (tail-padding)")
    rl.add_argument("-f", "--format", choices=tuple(LIST), default="text")
    rl.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..checks.rules import CATALOGUE as RULES

    if args.rule:
        wanted = args.rule.upper()
        match = [r for r in RULES if r.id == wanted or r.name == args.rule]
        if not match:
            raise UsageError(f"unknown rule {args.rule!r}; known: "
                             + ", ".join(f"{r.id} {r.name}" for r in RULES))
        PAGE[args.format](match[0])
    else:
        LIST[args.format](RULES)
    return EXIT_OK


def _page_json(rule: type[Rule]) -> None:
    write(dumps({"id": rule.id, "name": rule.name, "severity": rule.severity,
                 "summary": rule.summary, "page": rule.page()}), None)


def _list_json(rules: Sequence[type[Rule]]) -> None:
    write(dumps([{"id": r.id, "name": r.name, "severity": r.severity,
                  "summary": r.summary} for r in rules]), None)


def _list_text(rules: Sequence[type[Rule]]) -> None:
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for col in ("id", "name", "default", "detects"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.name, r.severity, r.summary)
    terminal().print(table)


PAGE: dict[str, Callable[[type[Rule]], None]] = {
    "text": lambda rule: write(rule.page(), None), "json": _page_json}
"""``--format`` -> renderer of one rule's page."""

LIST: dict[str, Callable[[Sequence[type[Rule]]], None]] = {"text": _list_text,
                                                            "json": _list_json}
"""``--format`` -> renderer of the catalogue."""
