"""Command modules: each adds one subcommand of ``abiscope``.

A command module defines ``register(sub)``, which adds its parser to the subparsers of the
``abiscope`` command and sets ``func`` (``args -> exit code``) with ``set_defaults``. Shared
option helpers live in ``abiscope.cliutil``. List a new module in ``MODULES`` below (one line),
in the order its command should appear in ``abiscope --help``; its command must be named
like the module.

The modules are imported only when needed (:class:`LazySubParsers`): a run of a command of
``abiscope.cli`` (``layout``, ``check``, ...) does not pay for importing every other command.
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
    "lsp",
)


class _Commands(dict[str, argparse.ArgumentParser]):
    """The name -> parser map of :class:`LazySubParsers`: reading the list of commands, or
    looking up one it lacks, first registers every deferred module (in order, so that
    help and error messages list the commands exactly as when registered eagerly)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[str, argparse._SubParsersAction[Any]]] = []
        self.loading = False

    def load(self) -> None:
        if self.loading or not self.pending:
            return
        self.loading = True
        try:
            pending, self.pending = self.pending, []
            for name, sub in pending:
                import_module(f"{__name__}.{name}").register(sub)
        finally:
            self.loading = False

    def __contains__(self, key: object) -> bool:
        if not super().__contains__(key):
            self.load()
        return super().__contains__(key)

    def __getitem__(self, key: str) -> argparse.ArgumentParser:
        if not super().__contains__(key):
            self.load()
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.load()
        return super().get(key, default)

    def __iter__(self) -> Any:
        self.load()
        return super().__iter__()

    def __len__(self) -> int:
        self.load()
        return super().__len__()

    def keys(self) -> Any:
        self.load()
        return super().keys()

    def values(self) -> Any:
        self.load()
        return super().values()

    def items(self) -> Any:
        self.load()
        return super().items()


class LazySubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subparsers whose command modules are registered on first need: when their command
    is chosen or unknown, or when the commands are listed (help, ``choices``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = _Commands()

    def defer(self, names: tuple[str, ...]) -> None:
        commands = self._name_parser_map
        assert isinstance(commands, _Commands)
        commands.pending += [(name, self) for name in names]

    def _get_subactions(self) -> list[argparse.Action]:
        commands = self._name_parser_map
        assert isinstance(commands, _Commands)
        commands.load()
        return super()._get_subactions()


def register_all(sub: argparse._SubParsersAction[Any]) -> None:
    """Add every command module's subcommand (on first need, with :class:`LazySubParsers`)."""
    if isinstance(sub, LazySubParsers):
        sub.defer(MODULES)
        return
    for name in MODULES:
        import_module(f"{__name__}.{name}").register(sub)
