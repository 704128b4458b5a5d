"""Command modules: each adds one subcommand of ``abiscope``.

Where things go. A command is a module ``commands/NAME.py`` (named like its command) with
``register(sub)``, which adds its parser to the subparsers of ``abiscope`` and sets ``func``
(``run(args) -> exit code``) with ``set_defaults``, plus ONE line in ``MODULES`` below, in the
order its command should appear in ``abiscope --help``. Its options are added in
``register``; the options several commands share (targets, parsing, ``--format``/``-o``)
are helpers of ``abiscope.cliutil``. ``run`` loads the model, calls the analysis (which
returns data only) and hands the result to the renderer its ``--format`` names, from a
``{format: renderer}`` table of the module (``RENDERERS``), never an ``if args.format ==``
chain; the renderers themselves (text, JSON, SARIF, ...) live in ``abiscope.report``, one
module per output family, and write through ``report.width`` (``write``, ``output_console``:
the one width policy and the one ``-o`` writer). ``abiscope.cli`` only builds the parser and
maps errors to exit codes. ``check`` is ``commands/check.py: run``, ``layout`` is
``commands/layout.py: run``.

The modules are imported only when needed (:class:`LazySubParsers`): a run of one command
imports that command's module alone, not every other command's.
"""

from __future__ import annotations

import argparse
from importlib import import_module
from typing import Any

MODULES: tuple[str, ...] = (
    "layout",
    "check",
    "rules",
    "demo",
    "targets",
    "compat",
    "paths",
    "ioctls",
    "convert",
    "report",
    "gen",
    "snapshot",
    "diff",
    "verify_rust",
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

    def load(self, only: object = None) -> None:
        """Register the deferred modules: the one named ``only`` when it is one (the
        command being run), else all of them, then put the commands in ``MODULES`` order
        (a command registered alone first would otherwise be listed first)."""
        if self.loading or not self.pending:
            return
        self.loading = True
        try:
            names = [name for name, _ in self.pending]
            module = str(only).replace("-", "_")  # (verify_rust.py is `verify-rust`)
            if only is not None and module in names:
                name, sub = self.pending.pop(names.index(module))
                import_module(f"{__name__}.{name}").register(sub)
                return
            pending, self.pending = self.pending, []
            for name, sub in pending:
                import_module(f"{__name__}.{name}").register(sub)
            self._reorder(sub)
        finally:
            self.loading = False

    def _reorder(self, sub: argparse._SubParsersAction[Any]) -> None:
        rank = {name: i for i, name in enumerate(MODULES)}
        order = sorted(dict.items(self),
                       key=lambda kv: rank.get(kv[0].replace("-", "_"), len(rank)))
        dict.clear(self)
        dict.update(self, order)
        actions = sub._choices_actions
        actions.sort(key=lambda a: rank.get(a.dest.replace("-", "_"), len(rank)))

    def __contains__(self, key: object) -> bool:
        if not super().__contains__(key):
            self.load(key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> argparse.ArgumentParser:
        if not super().__contains__(key):
            self.load(key)
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
