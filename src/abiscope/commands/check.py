"""``abiscope check``: the rule catalogue run over every record on the selected targets."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..checks import FAIL_ON, CheckConfig, Finding, fails, run_checks, selected_rules
from ..cliutil import (
    EXIT_FAIL,
    EXIT_OK,
    add_output_options,
    add_parse_options,
    add_target_option,
    input_headers,
    load_with_futures,
    parse_options,
    select_records,
    words,
    write,
)
from ..config import Config, load_config
from ..errors import UsageError
from ..model import Model
from ..report.width import output_console
from ..targets import resolve
from . import _baseline as check_baseline

if TYPE_CHECKING:
    from ..checks import Rule


def register(sub: argparse._SubParsersAction[Any]) -> None:
    chk = sub.add_parser(
        "check", help="find ABI hazards (rules ABI001-ABI014), with fixes",
        description="Check every struct/union of the headers on the selected targets against "
                    "the rule catalogue ('abiscope rules'); one finding per root cause, listing "
                    "every target it affects, with the fix.",
        epilog="exit status: 0 nothing at or above --fail-on, 1 something is, 2 usage or input "
               "error. Suppress a finding with a comment 'abiscope: ignore[ABI002]' on the "
               "record's or member's line.",
    )
    chk.add_argument("headers", nargs="*", metavar="HEADER",
                     help="headers to check (default: `headers` of the configuration)")
    add_target_option(chk)
    add_output_options(chk, tuple(RENDERERS))
    chk.add_argument("--select", action="append", default=[], metavar="RULES",
                     help="only these rules: ids, id prefixes or names, comma-separated")
    chk.add_argument("--ignore", action="append", default=[], metavar="RULES",
                     help="skip these rules: ids, id prefixes or names, comma-separated")
    chk.add_argument("--fail-on", choices=FAIL_ON, default=None,
                     help="exit 1 when a finding is at or above this severity "
                          "(default: warning)")
    chk.add_argument("--fix-preview", action="store_true",
                     help="print each padding fix as the rewritten struct, verified by "
                          "laying it out again")
    chk.add_argument("--reference", metavar="TARGET",
                     help="target whose offsets fixes keep (default: x86_64 if selected, "
                          "else the first target)")
    check_baseline.add_options(chk)
    add_parse_options(chk)
    chk.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    check_config = CheckConfig(
        select=words(args.select) or config.select, ignore=(*config.ignore,
                                                             *words(args.ignore)),
        severities=dict(config.severity), reference=args.reference or config.reference)
    rules = selected_rules(check_config)  # unknown rule names fail before any parsing
    fail_on = args.fail_on or config.fail_on or "warning"
    if fail_on not in FAIL_ON:
        raise UsageError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    baseline = check_baseline.load(args)
    model, hypothetical = load_with_futures(args, config, rules)
    records = select_records(model, args.record, args.all_files)
    findings = run_checks(model, records, check_config, hypothetical=hypothetical)
    if args.fix_preview:
        findings = _verified(findings, model, args, config)
    if baseline is not None:
        return check_baseline.report(args, baseline, findings, rules, model, fail_on)
    RENDERERS[args.format](findings, rules, model, args)
    return EXIT_FAIL if fails(findings, fail_on) else EXIT_OK


def _text(findings: Sequence[Finding], rules: Sequence[type[Rule]], model: Model,
          args: argparse.Namespace) -> None:
    from ..report.findings import render_text  # (rich only for the format asked for)

    with output_console(args.output) as console:
        render_text(findings, console, args.fix_preview)


def _json(findings: Sequence[Finding], rules: Sequence[type[Rule]], model: Model,
          args: argparse.Namespace) -> None:
    from ..report.findings import render_json

    write(render_json(findings, list(model.targets), model.failures, model.skews),
          args.output)


def _sarif(findings: Sequence[Finding], rules: Sequence[type[Rule]], model: Model,
           args: argparse.Namespace) -> None:
    from ..report.findings import render_sarif

    write(render_sarif(findings, rules, model.failures, model.skews), args.output)


def _github(findings: Sequence[Finding], rules: Sequence[type[Rule]], model: Model,
            args: argparse.Namespace) -> None:
    from ..report.findings import render_github

    write(render_github(findings), args.output)


RENDERERS: dict[str, Callable[[Sequence[Finding], Sequence[type[Rule]], Model, argparse.Namespace],
                              None]] = {
    "text": _text, "json": _json, "sarif": _sarif, "github": _github}
"""``--format`` -> renderer of the findings (its order is the order ``--help`` lists)."""


def _verified(findings: Sequence[Finding], model: Model, args: argparse.Namespace,
              config: Config) -> list[Finding]:
    """Each record's padding fix laid out again on every real target (reference first)."""
    from ..fixcheck import verify

    options = parse_options(args, config)
    real = [t for t in model.targets if not model.targets[t].hypothetical]
    ref = args.reference or config.reference or ("x86_64" if "x86_64" in real else
                                                 real[0] if real else None)
    if ref is None:
        raise UsageError("--fix-preview lays each fix out again on a real target: add one to "
                         "--target, or name it with --reference")
    first = resolve(ref).targets[0]
    targets = [first, *(resolve(t).targets[0] for t in real if t != first.name)]
    return verify(findings, model, targets, options, input_headers(args, config))
