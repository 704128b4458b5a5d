"""``abiscope lsp``: the language server for C headers, over stdio (docs/editors.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..cliutil import EXIT_OK
from ..errors import UsageError


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "lsp", help="language server for C headers (hover layouts, check diagnostics, fixes)",
        description="Serve the Language Server Protocol over stdin/stdout: hover on a "
                    "struct, union, member or typedef shows its layout on the configured "
                    "targets side by side and its compat verdict; check's findings are "
                    "diagnostics; verified padding fixes are code actions. Configuration "
                    "comes from abiscope.toml / [tool.abiscope] and compile_commands.json "
                    "found from each header's directory. See docs/editors.md.",
        epilog="exit status: 0 when the client shuts the server down, 2 when the language "
               "server extra is missing (pip install 'abiscope[lsp]')")
    p.add_argument("--stdio", action="store_true",
                   help="accepted for clients that pass it; stdio is the only transport")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="stop an analysis running longer than this (default: 60)")
    p.add_argument("--debounce", type=float, default=0.4, metavar="SECONDS",
                   help="quiet time after a change before it is analysed (default: 0.4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from ..lsp.server import make_server
        from ..lsp.worker import Worker
    except ImportError as exc:
        raise UsageError(f"abiscope lsp needs the lsp extra ({exc.name} is missing): "
                         "pip install 'abiscope[lsp]'") from None
    if args.timeout <= 0 or args.debounce < 0:
        raise UsageError("--timeout must be positive and --debounce not negative")
    # the protocol owns stdout: keep it for the server, send every other write to stderr
    try:
        out = sys.stdout
        real = out is sys.__stdout__ and sys.__stdout__ is not None \
            and sys.__stdout__.fileno() == 1 and sys.stdin.fileno() == 0
    except (AttributeError, OSError, ValueError):
        real = False
    if not real:
        raise UsageError("abiscope lsp speaks the protocol over the process's own stdin and "
                         "stdout: start it as a process (the editor does), not in-process")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    server = make_server(Worker(timeout=args.timeout), debounce=args.debounce)
    try:
        server.start_io(sys.stdin.buffer, protocol_out)
    finally:
        server.worker.close()
    return EXIT_OK
