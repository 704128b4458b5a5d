"""``abiscope gen compat`` and ``abiscope gen asserts``: C code generated from the model.

``gen compat`` writes a C99 header translating records between a native and a compat ABI
(compat structs, layout locks, translation functions); ``gen asserts`` a layout-lock header
for a project's own build. Exit 0 when written, 2 on bad input. See docs/codegen.md.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from ..cliutil import (
    EXIT_OK,
    add_parse_options,
    err,
    input_headers,
    load_model,
    parse_options,
    select_records,
    write,
)
from ..codegen import generate_asserts, generate_compat, include_line, needs_translation
from ..config import Config, load_config
from ..errors import UsageError
from ..frontend.options import system_include_dirs
from ..targets import resolve
from ..variants import lookup


def register(sub: argparse._SubParsersAction[Any]) -> None:
    gen = sub.add_parser(
        "gen", help="generate code: C compat translation, C layout-lock asserts, Rust",
        description="Generate code from the layouts: 'gen compat' (C) translates records "
                    "between a native and a compat ABI, 'gen asserts' pins layouts with "
                    "_Static_assert, 'gen rust' writes #[repr(C)] Rust with per-target layout "
                    "assertions.")
    gsub = gen.add_subparsers(dest="gen_command", metavar="WHAT")
    gsub.required = True

    cp = gsub.add_parser(
        "compat", help="C99 header: compat structs, layout locks, translation functions",
        description="Write one self-contained C99 header for a native build: for every record "
                    "whose layout differs between --native and --compat (and the records they "
                    "contain) a compat struct with the compat target's exact layout, "
                    "_Static_assert locks, and translation functions both ways that check "
                    "every narrowing and return the failing member's path.",
        epilog="example: abiscope gen compat include/public/vcpu.h -I include "
               "--native x86_64 --compat i386 -o compat.h")
    cp.add_argument("headers", nargs="*", metavar="HEADER",
                    help="headers (default: `headers` of the configuration)")
    cp.add_argument("--native", required=True, metavar="TARGET",
                    help="the target the generated code is compiled for (e.g. x86_64)")
    cp.add_argument("--compat", required=True, metavar="TARGET",
                    help="the target whose layout the compat structs reproduce (e.g. i386)")
    _common(cp)
    cp.add_argument("--prefix", default="compat_",
                    help="prefix of compat types and functions (default: compat_)")
    cp.set_defaults(func=cmd_gen_compat)

    asr = gsub.add_parser(
        "asserts", help="layout-lock header: _Static_assert per target on sizes and offsets",
        description="Write a header of _Static_asserts on the size, alignment and every member "
                    "offset of each record, one block per target selected by the compiler's "
                    "predefined macros; include it in your build to pin the ABI.",
        epilog="example: abiscope gen asserts include/uapi/foo.h --target default "
               "-o foo-abi-locks.h")
    asr.add_argument("headers", nargs="*", metavar="HEADER",
                     help="headers (default: `headers` of the configuration)")
    asr.add_argument("-t", "--target", action="append", default=[],
                     help="targets, groups or triples, comma-separated (default: default)")
    _common(asr)
    asr.add_argument("--unknown-target", choices=("error", "ignore"), default="error",
                     help="a build for a target not listed: #error (default; a macro "
                          "ABISCOPE_LOCKS_ALLOW_UNKNOWN_TARGET lets it through) or nothing")
    asr.set_defaults(func=cmd_gen_asserts)

    from .gen_rust import register_gen  # gen rust: its own module (issue 31)
    register_gen(gsub)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-r", "--record", action="append", default=[], metavar="PATTERN",
                   help="records to generate for: tag or full name, globs allowed")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--include-as", action="append", default=[], metavar="PATH",
                   help="how the generated header includes each input header, in order "
                        "(default: relative to the -I dir holding it, else as given)")
    add_parse_options(p)


def _includes(args: argparse.Namespace, config: Config, headers: list[str],
              targets: Sequence[str]) -> list[str]:
    """The generated header's ``#include`` lines: forced includes, then the inputs, each as
    the build's -I or system dirs reach it (see :func:`abiscope.codegen.include_line`)."""
    if args.include_as and len(args.include_as) != len(headers):
        raise UsageError(f"--include-as given {len(args.include_as)} times for "
                         f"{len(headers)} headers: give it once per header, in order")
    options = parse_options(args, config)
    system: list[str] = []
    for name in targets:
        target = lookup(name)  # (a variant target: its base's dirs)
        if target is not None:
            system += [d for d in system_include_dirs(target, options) if d not in system]
    names = args.include_as or [None] * len(headers)
    return [include_line(h, options.include_dirs, a, system, args.output)
            for h, a in [*((f, None) for f in args.force_includes),
                         *zip(headers, names, strict=True)]]


def _preamble(args: argparse.Namespace) -> list[str]:
    flags = [f"-D{d}" for d in args.defines] + [f"-U{u}" for u in args.undefines]
    return [f"/* Parsed with {' '.join(flags)}: build with the same. */"] if flags else []


def _guard(output: str | None) -> str | None:
    """The include guard of a generated header: named after the file it is written to
    (``-o foo-compat.h`` -> ``FOO_COMPAT_H``), as one written by hand would be."""
    return os.path.basename(output) if output and output != "-" else None


def cmd_gen_compat(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    native = resolve([args.native]).targets
    compat = resolve([args.compat]).targets
    if len(native) != 1 or len(compat) != 1:
        raise UsageError("--native and --compat each take one target, not a group")
    args.target = [native[0].name, compat[0].name]
    model = load_model(args, config)
    chosen = {r.name for r in select_records(model, args.record, args.all_files)}
    translate = [n for n in needs_translation(model, native[0].name, compat[0].name)
                 if n in chosen]
    headers = input_headers(args, config)
    includes = _preamble(args) + _includes(args, config, headers, list(model.targets))
    result = generate_compat(model, native[0].name, compat[0].name, translate, includes,
                             prefix=args.prefix, guard=_guard(args.output))
    for note in result.notes:
        err(f"note: {note}")
    if not result.records:
        err(f"note: no selected record needs translation between {native[0].name} and "
            f"{compat[0].name}; the header holds no translation functions")
    if result.hooks:
        err("note: define these hooks yourself: " + ", ".join(result.hooks))
    write(result.text, args.output)
    return EXIT_OK


def cmd_gen_asserts(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    model = load_model(args, config)
    records = select_records(model, args.record, args.all_files)
    headers = input_headers(args, config)
    includes = _preamble(args) + _includes(args, config, headers, list(model.targets))
    guard = _guard(args.output) or \
        "ABISCOPE_LOCKS_" + "_".join(os.path.basename(h) for h in headers[:1])
    result = generate_asserts(model, records, includes, unknown=args.unknown_target,
                              guard=guard)
    for note in result.notes:
        err(f"note: {note}")
    write(result.text, args.output)
    return EXIT_OK
