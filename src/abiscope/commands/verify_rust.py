"""``abiscope verify-rust``: check hand-written #[repr(C)] Rust mirrors against the C headers
on every target (exit 0 all match, 1 a difference, 2 bad input). See docs/rust.md."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..cliutil import (
    EXIT_OK,
    add_output_options,
    add_parse_options,
    err,
    load_model,
    write,
)
from ..codegen.rust_verify import Verdict, parse_rust, verify
from ..config import load_config
from ..errors import InputError
from ..model import Model

EXIT_DIFFERS = 1


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "verify-rust", help="check hand-written #[repr(C)] Rust against the C records",
        description="Read the #[repr(C)] structs and unions of a Rust file (paired with C "
                    "records by name, or by a '// abiscope: struct NAME' comment above the "
                    "item), lay each out as rustc does on every selected target, and report "
                    "each item whose size, alignment or a field's offset or size differs "
                    "from the C record's. Exit 1 when any differs.",
        epilog="example: abiscope verify-rust src/virtio_iommu.rs "
               "include/uapi/linux/virtio_iommu.h -t x86_64,aarch64,arm")
    p.add_argument("rust_file", metavar="FILE.rs", help="the Rust file to check")
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers (default: `headers` of the configuration)")
    p.add_argument("-t", "--target", action="append", default=[],
                   help="targets, groups or triples, comma-separated (default: default)")
    add_output_options(p, tuple(RENDERERS))
    add_parse_options(p)
    p.set_defaults(func=cmd_verify_rust)


def cmd_verify_rust(args: argparse.Namespace) -> int:
    try:
        with open(args.rust_file, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise InputError(f"{args.rust_file}: {exc.strerror}") from None
    rust = parse_rust(source, args.rust_file)
    config = load_config(args.config)
    model = load_model(args, config)
    verdict = verify(rust, model)
    for note in verdict.notes:
        err(f"note: {note}")
    write(RENDERERS[args.format](verdict, model), args.output)
    return EXIT_DIFFERS if verdict.differences else EXIT_OK


def _text(verdict: Verdict, model: Model) -> str:
    from ..report.rust_verify import render_text

    return render_text(verdict)


def _json(verdict: Verdict, model: Model) -> str:
    from ..report.rust_verify import render_json

    return render_json(verdict)


def _sarif(verdict: Verdict, model: Model) -> str:
    from ..report.rust_verify import render_sarif_verdict

    return render_sarif_verdict(verdict, model.failures)


RENDERERS: dict[str, Callable[[Verdict, Model], str]] = {
    "text": _text, "json": _json, "sarif": _sarif}
"""``--format`` -> renderer of the verdict."""
