"""``check --baseline``: the options and the output of a check run against a baseline.

Not a command of its own (not in ``MODULES``): ``abiscope check`` adds these options and
hands its findings here when ``--baseline`` is given. The matching is
:mod:`abiscope.baseline`, the rendering :mod:`abiscope.report.baseline`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..baseline import NEW, Baseline, compare, read_baseline
from ..checks import Finding, Rule, fails
from ..cliutil import EXIT_FAIL, EXIT_OK, write
from ..errors import ParseFailure, UsageError
from ..model import Model


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", metavar="OLD.sarif",
                        help="a previous `check --format sarif` output: mark each finding "
                             "new or unchanged (and the baseline's findings not found now "
                             "absent); --fail-on counts only new ones")
    parser.add_argument("--show-unchanged", action="store_true",
                        help="with --baseline, text and github: list the unchanged (and "
                             "absent) findings too, after the new ones")


def load(args: argparse.Namespace) -> Baseline | None:
    """The baseline named by ``--baseline`` (read before any parsing: a bad file fails
    fast, exit 2), or None."""
    if args.show_unchanged and not args.baseline:
        raise UsageError("--show-unchanged lists the findings a --baseline already has: "
                         "give --baseline OLD.sarif")
    return read_baseline(args.baseline) if args.baseline else None


def report(args: argparse.Namespace, baseline: Baseline, findings: Sequence[Finding],
           rules: Sequence[type[Rule]], model: Model, fail_on: str) -> int:
    """Write the findings marked against ``baseline`` in ``args.format``; the exit status
    counts only new findings."""
    from ..report import baseline as out
    from ..report.findings import render_json, render_sarif
    from ..report.width import output_console

    comparison = compare(findings, baseline, {r.id for r in rules})
    failures: Sequence[ParseFailure] = model.failures
    if args.format == "json":
        write(out.json_doc(render_json(findings, list(model.targets), failures, model.skews),
                           comparison, baseline.path), args.output)
    elif args.format == "sarif":
        write(out.sarif(render_sarif(findings, rules, failures, model.skews), findings,
                        comparison, rules), args.output)
    elif args.format == "github":
        write(out.render_github(findings, comparison, baseline.path, args.show_unchanged),
              args.output)
    else:
        with output_console(args.output) as console:
            out.render_text(findings, comparison, baseline.path, console, args.fix_preview,
                            args.show_unchanged)
    new = [f for f, s in zip(findings, comparison.states, strict=True) if s == NEW]
    return EXIT_FAIL if fails(new, fail_on) else EXIT_OK
