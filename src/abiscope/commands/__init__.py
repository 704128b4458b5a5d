"""Command modules: each adds one subcommand of ``abiscope``.

A command module defines ``register(sub)``, which adds its parser to the subparsers of the
``abiscope`` command and sets ``func`` (``args -> exit code``) with ``set_defaults``. Shared
option helpers live in ``abiscope.cliutil``. List a new module in ``MODULES`` below (one line),
in the order its command should appear in ``abiscope --help``.
"""

from __future__ import annotations

import argparse
from importlib import import_module
from typing import Any

MODULES: tuple[str, ...] = (
    "compat",
    "paths",
    "ioctls",
    "convert",
    "report",
    "gen",
    "snapshot",
    "diff",
)


def register_all(sub: argparse._SubParsersAction[Any]) -> None:
    """Add every command module's subcommand."""
    for name in MODULES:
        import_module(f"{__name__}.{name}").register(sub)
