"""``abiscope paths``: layered paths (user -> kernel -> hypervisor) and their boundaries."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import paths
from ..checks.rules import PATH_RULES
from ..cliutil import (
    EXIT_FAIL,
    EXIT_OK,
    add_output_options,
    add_parse_options,
    load_model,
    write,
)
from ..config import load_config
from ..errors import UsageError
from ..model import Model, dumps
from ..report import paths as render
from ..report.findings import render_github, render_sarif
from ..report.width import output_console


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "paths", help="layered paths: are the bytes one layer writes read right by the next "
                      "(ABI015)",
        description="Follow records across a layered path (e.g. user -> kernel -> "
                    "hypervisor), each layer with a target ABI and each boundary passthrough "
                    "or translate, and say per boundary whether the bytes one side writes are "
                    "read correctly by the other. A passthrough boundary whose layouts differ "
                    "is ABI015 (error). With several targets per layer, print the matrix.",
        epilog="example: abiscope paths privcmd.h --layer user=i386 --layer kernel=x86_64 "
               "--layer hypervisor=x86_64 --translate user:kernel --record "
               "'user:kernel=privcmd_dm_op_buf;kernel:hypervisor=xen_dm_op_buf'. "
               "--record SPEC[;SPEC], SPEC = [UPPER:LOWER=]NAME[/NAME] (NAME/NAME: a different "
               "record on each side). Also [paths] layers/translate/records in abiscope.toml. "
               "exit status: 0 no ABI015, 1 ABI015 (in any cell), 2 usage or input error.")
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers declaring the records (default: `headers` of the config)")
    p.add_argument("--layer", action="append", default=[], metavar="NAME=TARGET[,TARGET]",
                   help="a layer, top first (repeat; several targets: the --matrix axis)")
    p.add_argument("--translate", action="append", default=[], metavar="UPPER:LOWER",
                   help="a boundary with a declared translator (repeatable)")
    p.add_argument("-r", "--record", action="append", default=[], metavar="SPEC",
                   help="a design: the record(s) crossing the path (repeatable)")
    p.add_argument("--matrix", action="store_true",
                   help="print the matrix of every combination of the layers' targets "
                        "(implied when a layer lists several)")
    add_output_options(p, tuple(RENDERERS))
    add_parse_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    table = paths.config_values(config.sections.get("paths", {}), config.path)
    layer_values = args.layer or table["layers"]
    layers = paths.parse_layers(layer_values)  # bad layers fail before parsing
    translate = args.translate or table["translate"]
    paths.parse_translate(translate, layers)
    records = args.record or table["records"]
    if not records:
        raise UsageError("no record crosses the path: name one with --record")
    targets = sorted({t for layer in layers for t in layer.targets})
    if len(targets) == 1:
        targets.append(targets[0])
    args.target = [",".join(dict.fromkeys(targets))]
    model = load_model(args, config)
    inputs = set(model.inputs)
    candidates = [r for r in model.records if args.all_files or r.location.file in inputs]
    spec = paths.spec_from(layer_values, translate, records, model, candidates)
    report = paths.check(model, spec)
    if args.matrix and not report.matrix:
        report = paths.PathReport(report.spec, report.cells, report.findings, True)
    RENDERERS[args.format](report, model, args.output)
    return EXIT_FAIL if report.findings else EXIT_OK


def _text(report: paths.PathReport, model: Model, output: str | None) -> None:
    with output_console(output) as console:
        render.render_text(report, console)


RENDERERS: dict[str, Callable[[paths.PathReport, Model, str | None], None]] = {
    "text": _text,
    "json": lambda report, model, output: write(dumps(render.report_to_json(report)), output),
    "sarif": lambda report, model, output: write(
        render_sarif(report.findings, PATH_RULES, model.failures), output),
    "github": lambda report, model, output: write(render_github(report.findings), output),
}
"""``--format`` -> the renderer of a path report."""
