"""``abiscope compat``: which records one definition serves on a native and a compat target.

Designed so that ``--verify-list`` (reading a Xen ``xlat.lst``) can join it: the verdicts
come from :func:`abiscope.compat.compare`, the list names from ``compat.xlat_name`` /
``compat.xlat_matches`` / ``compat.xlat_file``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from .. import compat, xlatlist
from ..cliutil import (
    EXIT_FAIL,
    EXIT_OK,
    add_output_options,
    add_parse_options,
    header_dirs,
    load_model,
    select_records,
    write,
)
from ..config import Config, load_config
from ..errors import InputError, UsageError
from ..model import Model, dumps, skews_to_json
from ..report import compat as render
from ..report import xlat
from ..report.width import output_console
from ..targets import resolve

FAIL_ON = ("translate", "never")
DEFAULTS = {"native": "x86_64", "compat": "i386", "fail-on": "never"}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "compat", help="which records need a compat translation (native vs compat target)",
        description="Classify every struct/union of the headers: 'identical' (one definition "
                    "serves the native and the compat target) or 'translate' (with each member "
                    "whose offset or size differs, at any depth, and its root cause; and every "
                    "record that contains or points to one that needs translation).",
        epilog="exit status: 0 ran (and, with --fail-on translate, nothing needs translation), "
               "1 a record needs translation and --fail-on translate asks, or (--verify-list) "
               "an entry listed identical differs, or with --strict-list any note of the "
               "verification, 2 usage or input error. "
               "Defaults also from [compat] in abiscope.toml (native, compat, fail-on).")
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers to analyse (default: `headers` of the configuration)")
    p.add_argument("--native", default=None,
                   help="the native target, e.g. the 64-bit kernel or hypervisor "
                        "(default: x86_64)")
    p.add_argument("--compat", default=None,
                   help="the compat target, e.g. the 32-bit caller (default: i386)")
    p.add_argument("-r", "--record", action="append", default=[], metavar="PATTERN",
                   help="records to report: tag or full name, globs allowed")
    add_output_options(p, tuple(RENDERERS),
                       "text table, JSON (abiscope.compat/1) or Xen xlat.lst style")
    p.add_argument("--fail-on", choices=FAIL_ON, default=None,
                   help="exit 1 when a record needs translation (default: never)")
    p.add_argument("--verify-list", metavar="FILE",
                   help="check a hand-kept list (Xen's xlat.lst `? NAME HEADER` / `! NAME "
                        "HEADER`, or `NAME identical|translate`) against the layouts")
    p.add_argument("--xlat-root", metavar="DIR",
                   help="--format xlat and --verify-list: FILE paths are relative to DIR "
                        "(default: Xen's include/public, the directory holding xen.h, for "
                        "Xen's headers; else the -I dir holding the header)")
    p.add_argument("--strict-list", action="store_true",
                   help="with --verify-list: a `!` entry whose bytes are identical, an entry "
                        "not found and a crossing record missing from the list fail the run "
                        "too (otherwise notes)")
    add_parse_options(p)
    p.set_defaults(func=run)


def settings(args: argparse.Namespace, config: Config) -> dict[str, str]:
    """native, compat and fail-on: the command line over [compat] of the config over defaults."""
    table = config.sections.get("compat", {})
    unknown = sorted(set(table) - set(DEFAULTS))
    if unknown:
        raise InputError(f"{config.path}: unknown key(s) in [compat]: {', '.join(unknown)}; "
                         f"known: {', '.join(DEFAULTS)}")
    out = {}
    for key, default in DEFAULTS.items():
        value = getattr(args, key.replace("-", "_")) or table.get(key) or default
        if not isinstance(value, str):
            raise InputError(f"{config.path}: [compat] {key} must be a string")
        out[key] = value
    if out["fail-on"] not in FAIL_ON:
        raise UsageError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {out['fail-on']!r}")
    for key in ("native", "compat"):
        chosen = resolve(out[key]).targets
        if len(chosen) != 1:
            raise UsageError(f"--{key} names one target, not {out[key]!r}")
        out[key] = chosen[0].name
    if out["native"] == out["compat"]:
        raise UsageError(f"--native and --compat are both {out['native']}")
    return out


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    chosen = settings(args, config)
    args.target = [f"{chosen['native']},{chosen['compat']}"]
    if args.strict_list and not args.verify_list:
        raise UsageError("--strict-list goes with --verify-list FILE")
    if args.verify_list and args.format not in VERIFY_RENDERERS:
        raise UsageError("--verify-list reports as text or json, not xlat")
    if args.xlat_root and not os.path.isdir(args.xlat_root):
        raise InputError(f"--xlat-root {args.xlat_root}: no such directory")
    entries = xlatlist.read_list(args.verify_list) if args.verify_list else None
    model = load_model(args, config)
    if entries is not None:
        return _verify(args, config, model, entries, chosen)
    records = select_records(model, args.record, args.all_files)
    report = compat.compare(model, chosen["native"], chosen["compat"], records)
    roots = [*config.include, *args.include_dirs, *_input_dirs(model.inputs)]
    RENDERERS[args.format](report, model, args, roots, header_dirs(args, config, model))
    return EXIT_FAIL if chosen["fail-on"] == "translate" and report.translate() else EXIT_OK


def _verify(args: argparse.Namespace, config: Config, model: Model,
            entries: tuple[xlatlist.ListEntry, ...], chosen: dict[str, str]) -> int:
    roots = [*config.include, *args.include_dirs, *_input_dirs(model.inputs)]
    report = xlatlist.verify(model, entries, chosen["native"], chosen["compat"], roots,
                             args.verify_list, args.strict_list, args.xlat_root)
    VERIFY_RENDERERS[args.format](report, args.output)
    translate = chosen["fail-on"] == "translate" and any(
        r.verdict is not None and r.verdict.verdict == "translate" for r in report.entries)
    return EXIT_FAIL if report.failures() or translate else EXIT_OK


def _input_dirs(inputs: tuple[str, ...]) -> list[str]:
    dirs = [os.path.dirname(os.path.abspath(h)) for h in inputs]
    return [os.path.commonpath(dirs)] if dirs else []


def _json(report: compat.CompatReport, model: Model, args: argparse.Namespace,
          roots: Sequence[str], dirs: Sequence[str]) -> None:
    doc = render.report_to_json(report, model)
    if model.skews:  # (absent when both targets read one version: additive)
        doc["version_skew"] = skews_to_json(model.skews)
    write(dumps(doc), args.output)


def _xlat(report: compat.CompatReport, model: Model, args: argparse.Namespace,
          roots: Sequence[str], dirs: Sequence[str]) -> None:
    write(render.render_xlat(report, model, roots, args.xlat_root), args.output)


def _text(report: compat.CompatReport, model: Model, args: argparse.Namespace,
          roots: Sequence[str], dirs: Sequence[str]) -> None:
    with output_console(args.output) as console:
        render.render_text(report, console, dirs)


RENDERERS: dict[str, Callable[[compat.CompatReport, Model, argparse.Namespace, Sequence[str],
                               Sequence[str]], None]] = {
    "text": _text, "json": _json, "xlat": _xlat}
"""``--format`` -> the renderer of compat verdicts (include roots, header dirs)."""


def _verify_text(report: xlatlist.VerifyReport, output: str | None) -> None:
    with output_console(output) as console:
        xlat.render_text(report, console)


VERIFY_RENDERERS: dict[str, Callable[[xlatlist.VerifyReport, str | None], None]] = {
    "text": _verify_text,
    "json": lambda report, output: write(xlat.render_json(report), output)}
"""``--format`` -> the renderer of a ``--verify-list`` report (no xlat: it reads one)."""
