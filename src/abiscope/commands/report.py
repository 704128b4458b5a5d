"""``abiscope report``: one self-contained HTML file with byte maps, findings and verdicts."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..checks import CheckConfig, run_checks, selected_rules
from ..cliutil import (
    EXIT_OK,
    add_parse_options,
    add_target_option,
    err,
    header_dirs,
    load_with_futures,
    select_records,
    words,
    write,
)
from ..config import Config, load_config
from ..errors import UsageError
from ..model import Model
from ..report.html import CompatReportLike, Section, render_html


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "report", help="write a self-contained HTML report with byte maps and findings",
        description="Lay out every struct and union of the headers on each target and write "
                    "one HTML file (no network, inline CSS/SVG): a targets overview, per "
                    "record an SVG byte map with one row per target, the findings of "
                    "'abiscope check' with their fixes, and a search box.",
        epilog="example: abiscope report include/uapi/linux/*.h -I include/uapi "
               "--target default -o abi.html")
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers to report on (default: `headers` of the configuration)")
    add_target_option(p)
    p.add_argument("-o", "--output", metavar="FILE", default="abiscope-report.html",
                   help="HTML file to write ('-' for stdout; default: abiscope-report.html)")
    p.add_argument("--title", default=None, help="page title (default: abiscope report)")
    p.add_argument("--select", action="append", default=[], metavar="RULES",
                   help="only these rules for the findings (as in 'abiscope check')")
    p.add_argument("--ignore", action="append", default=[], metavar="RULES",
                   help="skip these rules (as in 'abiscope check')")
    p.add_argument("--reference", metavar="TARGET",
                   help="target whose offsets fixes keep (as in 'abiscope check')")
    p.add_argument("--native", metavar="TARGET",
                   help="with --compat: add the compat verdicts (as abiscope compat prints them)")
    p.add_argument("--compat", metavar="TARGET", help="see --native")
    g = p.add_argument_group("layered paths (as in 'abiscope paths', or [paths] in "
                             "abiscope.toml): drawn as boxes and arrows")
    g.add_argument("--layer", action="append", default=[], metavar="NAME=TARGET[,TARGET]",
                   help="a layer, top first (repeatable)")
    g.add_argument("--translate", action="append", default=[], metavar="UPPER:LOWER",
                   help="a boundary with a declared translator (repeatable)")
    g.add_argument("--path-record", action="append", default=[], metavar="SPEC",
                   help="a design crossing the path, as 'abiscope paths --record' takes it")
    add_parse_options(p)
    p.set_defaults(func=cmd_report)


def _compat(model: Model, native: str | None, compat: str | None) -> CompatReportLike | None:
    if not native and not compat:
        return None
    if not native or not compat:
        raise UsageError("--native and --compat go together")
    for t in (native, compat):
        if t not in model.targets:
            raise UsageError(f"--native/--compat {t}: not among the selected targets "
                             f"({', '.join(model.targets)}); add it to --target")
    from ..compat import compare

    result: CompatReportLike = compare(model, native, compat)
    return result


def _paths(model: Model, args: argparse.Namespace, config: Config) -> list[Section]:
    """The layered-paths section, when layers are given (flags or [paths] in the config)."""
    from .. import paths
    from ..report.paths_svg import paths_section

    table = paths.config_values(config.sections.get("paths", {}), config.path)
    layers = args.layer or table["layers"]
    if not layers:
        return []
    records = args.path_record or table["records"]
    if not records:
        raise UsageError("--layer without a design: name the record(s) crossing the path "
                         "with --path-record")
    wanted = {t for layer in paths.parse_layers(layers) for t in layer.targets}
    missing = sorted(wanted - set(model.targets))
    if missing:
        raise UsageError(f"--layer targets {', '.join(missing)} are not among the selected "
                         f"targets ({', '.join(model.targets)}); add them to --target")
    inputs = set(model.inputs)
    candidates = [r for r in model.records if args.all_files or r.location.file in inputs]
    spec = paths.spec_from(layers, args.translate or table["translate"], records, model,
                           candidates)
    return [paths_section(paths.check(model, spec))]


def cmd_report(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    check_config = CheckConfig(
        select=words(args.select) or config.select,
        ignore=(*config.ignore, *words(args.ignore)), severities=dict(config.severity),
        reference=args.reference or config.reference)
    rules = selected_rules(check_config)  # unknown rule names fail before any parsing
    model, hypothetical = load_with_futures(args, config, rules)
    records = select_records(model, args.record, args.all_files)
    compat = _compat(model, args.native, args.compat)
    findings = run_checks(model, records, check_config, hypothetical=hypothetical)
    html = render_html(model, records, findings, compat=compat,
                       sections=_paths(model, args, config),
                       title=args.title or "abiscope report",
                       dirs=header_dirs(args, config, model))
    if args.output == "-":
        write(html, None)
    else:
        write(html, args.output)
        err(f"wrote {args.output}: {len(records)} records on {len(model.targets)} targets, "
            f"{len(findings)} findings, {os.path.getsize(args.output) / 1e6:.1f} MB")
    return EXIT_OK
