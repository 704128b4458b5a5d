"""``check --baseline``: the options and the output of a check run against a baseline.

Not a command of its own (not in ``MODULES``): ``abiscope check`` adds these options and
hands its findings here when ``--baseline`` is given. The matching is
:mod:`abiscope.baseline`, the rendering :mod:`abiscope.report.baseline`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..baseline import NEW, Baseline, Comparison, compare, read_baseline
from ..checks import Finding, Rule, fails
from ..cliutil import EXIT_FAIL, EXIT_OK, write
from ..errors import UsageError
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
    comparison = compare(findings, baseline, {r.id for r in rules})
    RENDERERS[args.format](_Run(args, baseline, findings, rules, model, comparison))
    new = [f for f, s in zip(findings, comparison.states, strict=True) if s == NEW]
    return EXIT_FAIL if fails(new, fail_on) else EXIT_OK


@dataclass(frozen=True)
class _Run:
    """What a renderer of a check run against a baseline is given."""

    args: argparse.Namespace
    baseline: Baseline
    findings: Sequence[Finding]
    rules: Sequence[type[Rule]]
    model: Model
    comparison: Comparison


def _json(run: _Run) -> None:
    from ..report import baseline as out
    from ..report.findings import render_json

    m = run.model
    write(out.json_doc(render_json(run.findings, list(m.targets), m.failures, m.skews),
                       run.comparison, run.baseline.path), run.args.output)


def _sarif(run: _Run) -> None:
    from ..report import baseline as out
    from ..report.findings import render_sarif

    write(out.sarif(render_sarif(run.findings, run.rules, run.model.failures, run.model.skews),
                    run.findings, run.comparison, run.rules), run.args.output)


def _github(run: _Run) -> None:
    from ..report import baseline as out

    write(out.render_github(run.findings, run.comparison, run.baseline.path,
                            run.args.show_unchanged), run.args.output)


def _text(run: _Run) -> None:
    from ..report import baseline as out
    from ..report.width import output_console

    with output_console(run.args.output) as console:
        out.render_text(run.findings, run.comparison, run.baseline.path, console,
                        run.args.fix_preview, run.args.show_unchanged)


RENDERERS: dict[str, Callable[[_Run], None]] = {
    "text": _text, "json": _json, "sarif": _sarif, "github": _github}
"""``--format`` -> renderer of a check run against a baseline (``check``'s formats)."""
