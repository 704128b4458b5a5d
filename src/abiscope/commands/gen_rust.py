"""``abiscope gen rust``: #[repr(C)] Rust mirrors of C records with per-target layout
assertions (registered by ``commands/gen.py``; the generator is ``codegen/rust.py``)."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from ..cliutil import EXIT_OK, add_parse_options, err, load_model, select_records, write
from ..codegen.rust import generate_rust
from ..config import load_config


def register_gen(gsub: argparse._SubParsersAction[Any]) -> None:
    """Add ``gen rust`` to the ``gen`` subcommands."""
    rs = gsub.add_parser(
        "rust", help="Rust: #[repr(C)] structs/unions with per-target layout assertions",
        description="Write #[repr(C)] Rust for every record (and the records and enums it "
                    "uses) whose layout equals the C compiler's on every selected target that "
                    "Rust knows: explicit padding, packed(N) or align(N) where rustc's repr(C) "
                    "would differ, a refusal with the reason where nothing reproduces C; "
                    "one definition where all targets agree, per-target ones under #[cfg]; "
                    "size_of/align_of/offset_of! assertions per target. See docs/rust.md.",
        epilog="example: abiscope gen rust include/uapi/linux/virtio_iommu.h "
               "--target x86_64,aarch64,arm,m68k -o virtio_iommu.rs")
    rs.add_argument("headers", nargs="*", metavar="HEADER",
                    help="headers (default: `headers` of the configuration)")
    rs.add_argument("-t", "--target", action="append", default=[],
                    help="targets, groups or triples, comma-separated (default: default)")
    rs.add_argument("-r", "--record", action="append", default=[], metavar="PATTERN",
                    help="records to generate: tag or full name, globs allowed")
    rs.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    add_parse_options(rs)
    rs.set_defaults(func=cmd_gen_rust)


def cmd_gen_rust(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    model = load_model(args, config)
    records = select_records(model, args.record, args.all_files)
    command = "abiscope " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if sys.argv[1:2] == ["gen"] else ""
    result = generate_rust(model, records, command=command)
    for note in result.notes:
        err(f"note: {note}")
    for rec, target, why in result.refused:
        err(f"note: {rec}: not generated for {target}: {why}")
    write(result.text, args.output)
    return EXIT_OK
