"""``abiscope ioctls``: every ioctl request of the headers, and which need a compat handler."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

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
from ..ioctls import CLASSES, IoctlReport, audit, scan_of_model
from ..model import TreeSkew, dumps, skews_to_json
from ..report.ioctls import render_text, report_to_json
from ..snapshot import load_snapshot
from ..targets import resolve

FAIL_ON = ("needs-compat", "never")


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
    add_output_options(p, tuple(RENDERERS))
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
    RENDERERS[args.format](report, skews, args, dirs)
    failing = any(e.klass != "same" for e in report.ioctls)
    return EXIT_FAIL if failing and args.fail_on == "needs-compat" else EXIT_OK


def _json(report: IoctlReport, skews: Sequence[TreeSkew], args: argparse.Namespace,
          dirs: Sequence[str]) -> None:
    doc = report_to_json(report)
    if skews:  # (absent when both targets read one version: additive)
        doc["version_skew"] = skews_to_json(skews)
    write(dumps(doc), args.output)


def _text(report: IoctlReport, skews: Sequence[TreeSkew], args: argparse.Namespace,
          dirs: Sequence[str]) -> None:
    render_text(report, args.only, args.output, dirs)


RENDERERS: dict[str, Callable[[IoctlReport, Sequence[TreeSkew], argparse.Namespace,
                               Sequence[str]], None]] = {"text": _text, "json": _json}
"""``--format`` -> renderer of the audit (with the version skews, the header dirs)."""
