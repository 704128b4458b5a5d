"""The ``abiscope`` command: parse options, call the library, pick a reporter, set the exit code.

Exit codes: 0 ran and found nothing failing; 1 ran and found what fails the run; 2 usage or
input error; 70 internal error (a bug in abiscope: please report it).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import AbiscopeError, InputError, UsageError
from .frontend import ParseOptions, parse, relpath
from .model import Model, Record, dumps, model_to_json
from .report.text import render_layout
from .targets import GROUPS, TARGETS, group_members, resolve

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def _err(msg: str) -> None:
    print(f"abiscope: {msg}", file=sys.stderr)


def _add_parse_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("C preprocessor and parsing (as in cc)")
    g.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                   help="add DIR to the include search path")
    g.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                   help="define a macro")
    g.add_argument("-U", dest="undefines", action="append", default=[], metavar="NAME",
                   help="undefine a macro")
    g.add_argument("--std", default="gnu11", help="C standard (default: gnu11)")
    g.add_argument("--include", dest="force_includes", action="append", default=[],
                   metavar="FILE", help="include FILE before each header")
    g.add_argument("--sysroot", action="append", default=[], metavar="TARGET=DIR",
                   help="system include dir for one target (repeatable); default: Debian's "
                        "/usr/include/<multiarch> or /usr/<triple>/include where present")
    g.add_argument("--no-system-dirs", action="store_true",
                   help="do not add any per-target system include dir")
    g.add_argument("--all-files", action="store_true",
                   help="also show records declared in included headers")
    g.add_argument("--strict", action="store_true",
                   help="a header that fails to parse on any selected target is an error")
    g.add_argument("-j", "--jobs", type=int, default=None,
                   help="processes to spread targets over (default: all cores)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abiscope",
        description="Exact C struct layouts on every target ABI from headers alone, "
                    "and what will break.",
    )
    parser.add_argument("--version", action="version", version=f"abiscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    lay = sub.add_parser(
        "layout", help="show struct/union layouts on every selected target",
        description="Lay out every struct and union of the headers on each target, side by "
                    "side: offsets, sizes, holes, tail padding; differing cells highlighted.",
        epilog="example: abiscope layout include/public/hvm/dm_op.h -I include "
               "--target x86,arm,aarch64 --record 'xen_dm_op_*'",
    )
    lay.add_argument("headers", nargs="+", metavar="HEADER")
    lay.add_argument("-t", "--target", action="append", default=[],
                     help="targets, groups or clang triples, comma-separated "
                          "(default: default = i386,x86_64,x32,arm,aarch64); "
                          "see 'abiscope targets'")
    lay.add_argument("-r", "--record", action="append", default=[], metavar="PATTERN",
                     help="records to show: tag or full name, globs allowed "
                          "('xen_dm_op_*' or 'struct xen_dm_op_*')")
    lay.add_argument("-f", "--format", choices=("text", "json"), default="text")
    lay.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    _add_parse_options(lay)

    tg = sub.add_parser("targets", help="list the target registry and groups",
                        description="List every target name, its clang triple, groups, "
                                    "and the compiler the test-suite checks it against.")
    tg.add_argument("-f", "--format", choices=("text", "json"), default="text")
    return parser


def _parse_options(args: argparse.Namespace) -> ParseOptions:
    sysroots = []
    for item in args.sysroot:
        target, sep, directory = item.partition("=")
        if not sep or not target or not directory:
            raise UsageError(f"--sysroot wants TARGET=DIR, got {item!r}")
        if not os.path.isdir(directory):
            raise InputError(f"--sysroot {item}: {directory}: no such directory")
        sysroots.append((target, directory))
    for d in args.include_dirs:
        if not os.path.isdir(d):
            raise InputError(f"-I {d}: no such directory")
    return ParseOptions(
        include_dirs=tuple(args.include_dirs), defines=tuple(args.defines),
        undefines=tuple(args.undefines), force_includes=tuple(args.force_includes),
        std=args.std, sysroots=tuple(sysroots), system_dirs=not args.no_system_dirs,
        all_files=args.all_files,
    )


def _matches(record: Record, patterns: Sequence[str]) -> bool:
    tag = record.name.split(" ", 1)[1] if record.name.startswith(("struct ", "union ")) \
        else record.name
    return any(fnmatch.fnmatchcase(record.name, p) or fnmatch.fnmatchcase(tag, p)
               for p in patterns)


def select_records(model: Model, patterns: Sequence[str], all_files: bool) -> list[Record]:
    """Records to report: those declared in the inputs (or all), filtered by --record."""
    inputs = set(model.inputs)
    chosen = [r for r in model.records if all_files or r.location.file in inputs]
    if patterns:
        chosen = [r for r in chosen if _matches(r, patterns)]
        if not chosen:
            raise InputError(f"--record {' '.join(patterns)} matches no record"
                             + ("" if all_files else " declared in the given headers "
                                "(--all-files looks in included headers too)"))
    return chosen


def load_model(args: argparse.Namespace) -> Model:
    """Parse the headers on the selected targets, reporting failures on stderr."""
    selection = resolve(args.target or ["default"])
    if selection.left_out:
        _err("left out (not available in this build): "
             + ", ".join(f"{t.name}" for t in selection.left_out))
    options = _parse_options(args)
    headers = list(args.headers)
    model = parse(headers, selection.targets, options, jobs=args.jobs)
    failed = {(f.header, f.target) for f in model.failures}
    for f in model.failures:
        _err(f"{f.header}: does not parse for {f.target}: {f.summary()}")
    targets = [t.name for t in selection.targets]
    dead = [relpath(h) for h in headers if all((relpath(h), t) in failed for t in targets)]
    if dead and (len(dead) == len(headers) or args.strict):
        raise InputError(f"{', '.join(dead)}: parses on no selected target "
                         "(see the diagnostics above; -I, -D or --sysroot may be missing)")
    if model.failures and args.strict:
        raise InputError("--strict: some headers do not parse on some targets (see above)")
    for h in dead:
        _err(f"{h}: skipped, it parses on no selected target")
    return model


def _console() -> Console:
    """Colour and the terminal's width on a TTY; plain and wide enough when piped."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=200, no_color=True)


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def cmd_layout(args: argparse.Namespace) -> int:
    model = load_model(args)
    records = select_records(model, args.record, args.all_files)
    if args.format == "json":
        _write(dumps(model_to_json(model, records)), args.output)
    elif args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            render_layout(model, records, Console(file=fh, width=160, no_color=True))
    else:
        render_layout(model, records, _console())
    return EXIT_OK


def cmd_targets(args: argparse.Namespace) -> int:
    if args.format == "json":
        doc = {
            "targets": [
                {"name": t.name, "triple": t.triple, "pointer_bits": t.pointer_bits,
                 "endian": t.endian, "groups": list(t.groups), "checked_by": t.checked_by,
                 "hypothetical": t.hypothetical, "available": t.available}
                for t in TARGETS.values()
            ],
            "groups": {g: [t.name for t in group_members(g)] for g in GROUPS},
        }
        _write(json.dumps(doc, indent=2) + "\n", None)
        return EXIT_OK
    table = Table(show_edge=False, header_style="bold")
    for col in ("name", "clang triple", "bits", "endian", "groups", "checked by", "status"):
        table.add_column(col)
    for t in TARGETS.values():
        status = "ok" if t.available else "not in this build"
        table.add_row(t.name, t.triple, str(t.pointer_bits), t.endian, " ".join(t.groups),
                      t.checked_by, status)
    console = _console()
    console.print(table)
    console.print("groups: " + "; ".join(
        f"{g} = {','.join(t.name for t in group_members(g))}" for g in GROUPS))
    return EXIT_OK


COMMANDS = {"layout": cmd_layout, "targets": cmd_targets}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except AbiscopeError as exc:
        _err(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("ABISCOPE_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} "
             "(this is a bug in abiscope; rerun with ABISCOPE_DEBUG=1 and report it)")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
