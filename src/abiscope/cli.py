"""The ``abiscope`` command: parse options, run the chosen command, turn errors into exit codes.

Every command is a module of :mod:`abiscope.commands` (its options, its run, its
``{format: renderer}`` table); this module only builds the parser and maps what a command
raises to the exit status.

Exit codes: 0 ran and found nothing failing; 1 ran and found what fails the run; 2 usage or
input error; 70 internal error (a bug in abiscope: please report it).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .cliutil import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, err
from .commands import LazySubParsers, register_all
from .errors import AbiscopeError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abiscope",
        description="Exact C struct layouts on every target ABI from headers alone, "
                    "and what will break.",
    )
    parser.add_argument("--version", action="version", version=f"abiscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=LazySubParsers)
    sub.required = True
    register_all(sub)
    return parser


def _quiet_recursion(hook: Any) -> Any:
    """An unraisable-exception hook that drops RecursionErrors: raised inside libclang's
    cursor-visitor callbacks on absurdly deep inputs, ctypes can only print them; the run
    then ends with one clear error instead."""

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, RecursionError):
            hook(unraisable)

    return quiet


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = sys.unraisablehook
    sys.unraisablehook = _quiet_recursion(previous)
    try:
        return _run(args)
    finally:
        sys.unraisablehook = previous


def _run(args: argparse.Namespace) -> int:
    try:
        func = args.func
        return int(func(args))
    except AbiscopeError as exc:
        err(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug, reported below
            return _internal(exc)
        err(f"error: {exc.filename}: {exc.strerror}")
        return EXIT_USAGE
    except (RecursionError, ctypes.ArgumentError) as exc:
        # a pointer/array/typedef chain nested hundreds of levels deep (ctypes wraps the
        # RecursionError when it strikes inside a libclang call)
        if not isinstance(exc, RecursionError) and "RecursionError" not in str(exc):
            return _internal(exc)
        err("error: the input nests types too deeply for abiscope (a pointer, array or typedef "
            "chain hundreds of levels deep); simplify the header")
        return EXIT_USAGE
    except Exception as exc:
        return _internal(exc)


def _internal(exc: Exception) -> int:
    if os.environ.get("ABISCOPE_DEBUG"):
        raise exc
    err(f"internal error: {type(exc).__name__}: {exc} "
         "(this is a bug in abiscope; rerun with ABISCOPE_DEBUG=1 and report it)")
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
