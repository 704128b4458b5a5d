"""``abiscope ioctls``: every ioctl request of the headers, and which need a compat handler."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from ..cliutil import (
    EXIT_FAIL,
    EXIT_OK,
    add_output_options,
    add_parse_options,
    input_headers,
    parse_options,
    warn_version_skew,
    write,
)
from ..config import load_config
from ..errors import InputError, UsageError
from ..frontend import relpath, scan_ioctls
from ..frontend.options import search_dirs
from ..frontend.versions import files_read
from ..ioctls import CLASSES, IoctlReport, audit, report_to_json, scan_of_model
from ..model import TreeSkew, dumps, skews_to_json
from ..report.naming import human_names
from ..report.width import columns, fitted, natural_width, output_console
from ..snapshot import load_snapshot
from ..targets import resolve

FAIL_ON = ("needs-compat", "never")
STYLE = {"number_differs": "bold red", "layout_differs": "red", "pointer": "yellow",
         "same": "green"}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "ioctls", help="find every ioctl request that needs a compat handler",
        description="Evaluate every ioctl request macro (_IO, _IOR, _IOW, _IOWR, _IOC) of the "
                    "headers on a native and a compat target, resolve its argument type and "
                    "classify it: number_differs (sizeof differs: ABI012), layout_differs (same "
                    "number, members elsewhere), pointer (holds a pointer or long), same. "
                    "Headers are read with <linux/ioctl.h> and <stddef.h> included first, as "
                    "their includers see them; a macro that cannot be evaluated is listed "
                    "under 'skipped' with clang's reason.",
        epilog="examples: abiscope ioctls /usr/include/linux/kvm.h --native x86_64 --compat "
               "i386; abiscope ioctls --snapshot abi.json --native aarch64 --compat arm. "
               "exit status: 0, or 1 with --fail-on needs-compat when an entry is not "
               "'same'; 2 usage or input error.")
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers to scan (default: `headers` of the configuration)")
    p.add_argument("--snapshot", metavar="FILE.json",
                   help="read the requests from an abiscope.layout/1 snapshot instead of "
                        "headers (no clang needed; see docs/ioctls.md for what a snapshot "
                        "does not keep)")
    p.add_argument("--native", default="x86_64", help="the wider, native ABI (default x86_64)")
    p.add_argument("--compat", default="i386", help="the compat ABI (default i386)")
    add_output_options(p, ("text", "json"))
    p.add_argument("--fail-on", choices=FAIL_ON, default="never",
                   help="exit 1 when any entry is not 'same' (needs-compat); default never")
    p.add_argument("--only", action="append", default=[], choices=CLASSES,
                   help="show only these classes (repeatable)")
    add_parse_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    skews: tuple[TreeSkew, ...] = ()
    dirs: list[str] = []
    if args.snapshot:
        if args.headers:
            raise UsageError("give headers or --snapshot, not both")
        if args.native == args.compat:
            raise UsageError("--native and --compat must name two different targets")
        model = load_snapshot(args.snapshot)
        missing = [t for t in (args.native, args.compat) if t not in model.targets]
        if missing:
            raise InputError(f"--snapshot {args.snapshot} has no layouts for "
                             f"{', '.join(missing)} (it has: {', '.join(model.targets)})")
        native, compat = args.native, args.compat
        scan = scan_of_model(model, (native, compat))
        where = args.snapshot
    else:
        config = load_config(args.config)
        headers = input_headers(args, config)
        if not headers:
            raise UsageError("no header given (name one, or set `headers` in abiscope.toml, "
                             "or give --snapshot)")
        pair = resolve([args.native, args.compat]).targets
        if len(pair) != 2 or args.native == args.compat:
            raise UsageError("--native and --compat must name two different targets")
        native, compat = pair[0].name, pair[1].name
        options = parse_options(args, config)
        scan = scan_ioctls(headers, pair, options, jobs=args.jobs)
        dirs = [d for t in pair for d in search_dirs(t, options)]
        files = [*headers, *files_read(scan.model),
                 *(r.location.file for reqs in scan.requests.values() for r in reqs)]
        skews = warn_version_skew(pair, options, files)
        where = ", ".join(relpath(h) for h in headers)
    report = audit(scan, native, compat)
    if not report.ioctls and not report.skipped:
        raise InputError(f"{where}: no ioctl request macro (_IO, _IOR, _IOW, _IOWR, _IOC) "
                         "defined here")
    if args.format == "json":
        doc = report_to_json(report)
        if skews:  # (absent when both targets read one version: additive)
            doc["version_skew"] = skews_to_json(skews)
        write(dumps(doc), args.output)
    else:
        _text(report, args.only, args.output, dirs)
    failing = any(e.klass != "same" for e in report.ioctls)
    return EXIT_FAIL if failing and args.fail_on == "needs-compat" else EXIT_OK


def _text(report: IoctlReport, only: list[str], output: str | None,
          dirs: Sequence[str] = ()) -> None:
    """A table of the requests; on a terminal too narrow for it, each request on a line of
    its own with its numbers and cause under it (wrapped, never cut)."""
    from rich.padding import Padding
    from rich.text import Text

    headers = ("request", "where", report.native, report.compat, "argument", "class", "why")
    rows: list[tuple[str, ...]] = []
    for e in report.ioctls:
        if only and e.klass not in only:
            continue
        why = "; ".join(r.message for r in e.reasons[:3])
        if len(e.reasons) > 3:
            why += f"; … {len(e.reasons) - 3} more"
        if e.notes:  # (the layout comparison's: a zero-size member on one side, ...)
            why = "; ".join(filter(None, (why, *(f"note: {n}" for n in e.notes))))
        name = e.macro if e.alias_of is None else f"{e.macro} (= {e.alias_of})"
        rows.append((name, f"{e.header}:{e.line}", f"{e.native_number:#x}",
                     f"{e.compat_number:#x}", human_names(e.arg_type or "", dirs), e.klass,
                     human_names(why, dirs)))
    counts = report.counts()
    summary = ", ".join(f"{counts[c]} {c}" for c in CLASSES)
    with output_console(output) as console:
        width = fitted(console)
        if width is not None and natural_width(headers, rows) > width:
            for name, where, native, compat, arg, klass, why in rows:
                line = Text(f"{name}  {where}  ")
                line.append(klass, style=STYLE[klass])
                console.print(line)
                detail = f"{report.native} {native}, {report.compat} {compat}"
                detail += f", argument {arg}" if arg else ""
                detail += f"\n{why}" if why else ""
                console.print(Padding(Text(detail), (0, 0, 0, 4)))
        else:
            table = Table(header_style="bold", show_edge=False)
            columns(table, headers, rows, (True, True, False, False, True, False, True),
                    width)
            for row in rows:
                table.add_row(*row[:5], Text(row[5], style=STYLE[row[5]]), row[6])
            console.print(table)
        console.print(f"{len(report.ioctls)} requests on {report.native} vs "
                      f"{report.compat}: {summary}; {len(report.skipped)} skipped")
        for s in report.skipped:
            console.print(f"skipped {s.macro} ({s.header}:{s.line}): {s.reason}",
                          markup=False, highlight=False)
