"""The ``abiscope`` command: parse options, call the library, pick a reporter, set the exit code.

Exit codes: 0 ran and found nothing failing; 1 ran and found what fails the run; 2 usage or
input error; 70 internal error (a bug in abiscope: please report it).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__, variants
from .cache import Rendered, keep_rendered, rendered_data
from .checks import FAIL_ON, CheckConfig, Finding, fails, run_checks, selected_rules
from .cliutil import (
    EXIT_FAIL,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    add_output_options,
    add_parse_options,
    add_target_option,
    err,
    header_dirs,
    input_headers,
    job_count,
    load_model,
    load_view,
    load_with_futures,
    parse_options,
    select_records,
    terminal,
    words,
    write,
)
from .commands import LazySubParsers, register_all
from .commands import _baseline as check_baseline
from .config import Config, load_config
from .errors import AbiscopeError, InputError, UsageError
from .model import Model, dumps, dumps_bytes, model_to_json
from .report.variants import render_text as render_variants
from .report.width import output_console
from .targets import ALIASES, GROUPS, TARGETS, aliases_of, group_members, resolve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abiscope",
        description="Exact C struct layouts on every target ABI from headers alone, "
                    "and what will break.",
    )
    parser.add_argument("--version", action="version", version=f"abiscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=LazySubParsers)
    sub.required = True

    lay = sub.add_parser(
        "layout", help="show struct/union layouts on every selected target",
        description="Lay out every struct and union of the headers on each target, side by "
                    "side: offsets, sizes, holes, tail padding; differing cells highlighted.",
        epilog="example: abiscope layout include/public/hvm/dm_op.h -I include "
               "--target x86,arm,aarch64 --record 'xen_dm_op_*'",
    )
    lay.add_argument("headers", nargs="*", metavar="HEADER",
                     help="headers to analyse (default: `headers` of the configuration)")
    add_target_option(lay)
    add_output_options(lay, ("text", "json", "pahole"),
                       "text: side-by-side table; json: abiscope.layout/1; pahole: one target "
                       "as pahole prints it")
    lay.add_argument("--only-differing", action="store_true",
                     help="text: only the rows (members, holes, padding, size) that differ "
                          "between the targets")
    add_parse_options(lay)

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
    add_output_options(chk, ("text", "json", "sarif", "github"))
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

    rl = sub.add_parser("rules", help="list the rules, or print one rule's documentation",
                        description="Without an argument, list every rule; with a rule id or "
                                    "name, print its page (what it does, why it is bad, an "
                                    "example, the fix).")
    rl.add_argument("rule", nargs="?", help="rule id (ABI002) or name (tail-padding)")
    rl.add_argument("-f", "--format", choices=("text", "json"), default="text")

    dm = sub.add_parser(
        "demo", help="the seed case: the claims of the Xen dm_op review, measured",
        description="Analyse the four bundled struct xen_dm_op_buf designs of the xen-devel "
                    "review that started abiscope on every real target and the 128-bit "
                    "models, and print each claim of the thread with abiscope's evidence and "
                    "whether it holds. Exit 1 if a claim does not hold.")
    dm.add_argument("-f", "--format", choices=("text", "json"), default="text")
    dm.add_argument("-j", "--jobs", type=job_count, default=None,
                    help="processes to spread targets over (default: all cores)")

    tg = sub.add_parser("targets", help="list the target registry and groups",
                        description="List every target name, its clang triple, groups, "
                                    "and the compiler the test-suite checks it against.")
    tg.add_argument("-f", "--format", choices=("text", "json"), default="text")
    register_all(sub)
    return parser


def cmd_layout(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.format == "pahole":
        _one_target(args.target or list(config.targets) or ["default"])
    if args.format == "json":
        data = _layout_json(args, config)
        _write_data(data, args.output)
        if b'\n  "records": [],\n' in data:  # (the document of a warm run too, unparsed)
            _say_no_records(input_headers(args, config), args.all_files)
        return EXIT_OK
    # (the reporters, and rich under them, are imported only for the format asked for:
    # a warm `layout -f json` starts faster without them)
    from .report.pahole import render_pahole
    from .report.text import render_layout

    model = load_model(args, config)
    records = select_records(model, args.record, args.all_files)
    if not records:
        _say_no_records(input_headers(args, config), args.all_files)
    if args.format == "pahole":
        write(render_pahole(model, records, listing=not args.record), args.output)
    else:
        with output_console(args.output) as console:
            render_layout(model, records, console, args.only_differing,
                          header_dirs(args, config, model))
    return EXIT_OK


def _say_no_records(headers: Sequence[str], all_files: bool) -> None:
    """An empty layout is said on stderr (exit 0), as `check` says "0 findings"."""
    where = " ".join(headers) or "the input"
    hint = "" if all_files else " (--all-files shows the records of the headers it includes)"
    err(f"no records in {where}{hint}")


def _layout_json(args: argparse.Namespace, config: Config) -> bytes:
    """The abiscope.layout/1 document's bytes, from the cache when a run-level entry
    holds them for this selection (see abiscope.cache)."""
    view = ("layout-json", str(args.all_files), *args.record)
    model = load_view(args, config, view)
    if isinstance(model, Rendered):
        return model.data
    data = rendered_data(model, view)
    if data is not None:
        return data
    text = dumps_bytes(model_to_json(model, select_records(model, args.record,
                                                          args.all_files)))
    keep_rendered(model, view, text)
    return text


def _write_data(text: bytes, output: str | None) -> None:
    """cliutil.write for bytes: written to a file as they are."""
    if not output:
        write(text.decode("utf-8", "surrogateescape"), output)
        return
    try:
        with open(output, "wb") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"--output {output}: {exc.strerror}") from None


def _one_target(spec: Sequence[str]) -> None:
    """--format pahole: exactly one target, said before any parsing."""
    chosen = resolve(spec).targets
    if len(chosen) != 1:
        names = ", ".join(t.name for t in chosen)
        raise UsageError(f"--format pahole shows one target at a time, and {len(chosen)} are "
                         f"selected ({names}); pick one, e.g. --target "
                         f"{chosen[0].name if chosen else 'x86_64'}")


def cmd_targets(args: argparse.Namespace) -> int:
    if args.format == "json":
        doc = {
            "targets": [
                {"name": t.name, "triple": t.triple, "pointer_bits": t.pointer_bits,
                 "endian": t.endian, "groups": list(t.groups), "checked_by": t.checked_by,
                 "hypothetical": t.hypothetical, "available": t.available,
                 "aliases": aliases_of(t.name)}
                for t in TARGETS.values()
            ],
            "aliases": dict(ALIASES),
            "groups": {g: [t.name for t in group_members(g)] for g in GROUPS},
            "variants": variants.listing(),
        }
        write(dumps(doc), None)
        return EXIT_OK
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for col in ("name", "aliases", "clang triple", "bits", "endian", "groups", "checked by",
                "status"):
        table.add_column(col)
    for t in TARGETS.values():
        status = "ok" if t.available else "not in this build"
        table.add_row(t.name, " ".join(aliases_of(t.name)), t.triple, str(t.pointer_bits),
                      t.endian, " ".join(t.groups), t.checked_by, status)
    console = terminal()
    console.print(table)
    console.print("groups: " + "; ".join(
        f"{g} = {','.join(t.name for t in group_members(g))}" for g in GROUPS))
    console.print(render_variants(variants.listing()), highlight=False, markup=False)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    check_config = CheckConfig(
        select=words(args.select) or config.select, ignore=(*config.ignore,
                                                             *words(args.ignore)),
        severities=dict(config.severity), reference=args.reference or config.reference)
    rules = selected_rules(check_config)  # unknown rule names fail before any parsing
    fail_on = args.fail_on or config.fail_on or "warning"
    if fail_on not in FAIL_ON:
        raise UsageError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    from .report.findings import render_github, render_json, render_sarif, render_text

    baseline = check_baseline.load(args)
    model, hypothetical = load_with_futures(args, config, rules)
    records = select_records(model, args.record, args.all_files)
    findings = run_checks(model, records, check_config, hypothetical=hypothetical)
    if args.fix_preview:
        findings = _verified(findings, model, args, config)
    if baseline is not None:
        return check_baseline.report(args, baseline, findings, rules, model, fail_on)
    targets = list(model.targets)
    if args.format == "json":
        write(render_json(findings, targets, model.failures, model.skews), args.output)
    elif args.format == "sarif":
        write(render_sarif(findings, rules, model.failures, model.skews), args.output)
    elif args.format == "github":
        write(render_github(findings), args.output)
    else:
        with output_console(args.output) as console:
            render_text(findings, console, args.fix_preview)
    return EXIT_FAIL if fails(findings, fail_on) else EXIT_OK


def _verified(findings: Sequence[Finding], model: Model, args: argparse.Namespace,
              config: Config) -> list[Finding]:
    """Each record's padding fix laid out again on every real target (reference first)."""
    from .fixcheck import verify

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


def cmd_rules(args: argparse.Namespace) -> int:
    from .checks.rules import CATALOGUE as RULES

    if args.rule:
        wanted = args.rule.upper()
        match = [r for r in RULES if r.id == wanted or r.name == args.rule]
        if not match:
            raise UsageError(f"unknown rule {args.rule!r}; known: "
                             + ", ".join(f"{r.id} {r.name}" for r in RULES))
        rule = match[0]
        if args.format == "json":
            write(dumps({"id": rule.id, "name": rule.name, "severity": rule.severity,
                         "summary": rule.summary, "page": rule.page()}), None)
        else:
            write(rule.page(), None)
        return EXIT_OK
    if args.format == "json":
        write(dumps([{"id": r.id, "name": r.name, "severity": r.severity,
                      "summary": r.summary} for r in RULES]), None)
        return EXIT_OK
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for col in ("id", "name", "default", "detects"):
        table.add_column(col)
    for r in RULES:
        table.add_row(r.id, r.name, r.severity, r.summary)
    terminal().print(table)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import analyse, claims, seed_dir

    results = claims(analyse(args.jobs))
    if args.format == "json":
        write(dumps({"schema": "abiscope.demo/1", "headers": str(seed_dir()),
                     "claims": [{"claim": c.number, "quote": c.quote,
                                 "evidence": c.evidence, "holds": c.holds}
                                for c in results]}), None)
    else:
        console = terminal()
        from rich.table import Table

        table = Table(title="The xen-devel dm_op review, measured by abiscope",
                      title_justify="left", header_style="bold", show_lines=True)
        table.add_column("#", justify="right")
        table.add_column("claim in the thread", max_width=34)
        table.add_column("what abiscope measured")
        table.add_column("holds", justify="center")
        for c in results:
            table.add_row(c.number, c.quote, c.evidence,
                          "[green]yes[/green]" if c.holds else "[bold red]NO[/bold red]")
        console.print(table)
        console.print(f"designs: A = struct xen_dm_op_buf_v3 (v3 as posted), A+pad = "
                      f"struct xen_dm_op_buf_v3_pad, B = struct privcmd_dm_op_buf, C = struct "
                      f"xen_dm_op_buf (as merged); headers in {seed_dir()}")
    return EXIT_OK if all(c.holds for c in results) else EXIT_FAIL


COMMANDS = {"demo": cmd_demo, "layout": cmd_layout, "check": cmd_check, "rules": cmd_rules,
            "targets": cmd_targets}


def _quiet_recursion(hook: Any) -> Any:
    """An unraisable-exception hook that drops RecursionErrors: raised inside libclang's
    cursor-visitor callbacks on absurdly deep inputs, ctypes can only print them; the run
    then ends with one clear error instead."""

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, RecursionError):
            hook(unraisable)

    return quiet


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = sys.unraisablehook
    sys.unraisablehook = _quiet_recursion(previous)
    try:
        return _run(args)
    finally:
        sys.unraisablehook = previous


def _run(args: argparse.Namespace) -> int:
    try:
        func = COMMANDS.get(args.command) or args.func
        return int(func(args))
    except AbiscopeError as exc:
        err(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug, reported below
            return _internal(exc)
        err(f"error: {exc.filename}: {exc.strerror}")
        return EXIT_USAGE
    except (RecursionError, ctypes.ArgumentError) as exc:
        # a pointer/array/typedef chain nested hundreds of levels deep (ctypes wraps the
        # RecursionError when it strikes inside a libclang call)
        if not isinstance(exc, RecursionError) and "RecursionError" not in str(exc):
            return _internal(exc)
        err("error: the input nests types too deeply for abiscope (a pointer, array or typedef "
            "chain hundreds of levels deep); simplify the header")
        return EXIT_USAGE
    except Exception as exc:
        return _internal(exc)


def _internal(exc: Exception) -> int:
    if os.environ.get("ABISCOPE_DEBUG"):
        raise exc
    err(f"internal error: {type(exc).__name__}: {exc} "
         "(this is a bug in abiscope; rerun with ABISCOPE_DEBUG=1 and report it)")
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
