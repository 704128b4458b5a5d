"""``abiscope snapshot``: write the ABI of some headers to a file that ``abiscope diff`` reads."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from ..cliutil import (
    EXIT_OK,
    add_parse_options,
    add_target_option,
    load_model,
    select_records,
    write,
)
from ..config import load_config
from ..model import Model, iter_members
from ..snapshot import snapshot_text


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "snapshot", help="save the ABI of headers (layouts, enums, ioctl numbers) as JSON",
        description="Parse the headers on every selected target and write the abiscope.layout/1 "
                    "model with enum values and evaluated ioctl numbers, byte-deterministic, "
                    "for committing and for 'abiscope diff'. Paths are relative to the "
                    "working directory: run it from the repository root.",
        epilog="example: abiscope snapshot include/uapi/linux/kvm.h -I include/uapi "
               "--target default -o abi/kvm.json")
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers (default: `headers` of the configuration)")
    add_target_option(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    add_parse_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_model(args, load_config(args.config), macros=True)
    if args.record:
        chosen = {r.name for r in select_records(model, args.record, args.all_files)}
        keep = _embedded(model, chosen)
        inputs = set(model.inputs)
        model = replace(model, records=tuple(
            r for r in model.records if r.name in keep or r.location.file not in inputs))
    write(snapshot_text(model), args.output)
    return EXIT_OK


def _embedded(model: Model, names: set[str]) -> set[str]:
    """The records named and those they contain by value, transitively (diff looks into
    them)."""
    keep, todo = set(names), list(names)
    while todo:
        record = model.record(todo.pop())
        for lay in record.layouts.values() if record else ():
            for _, m in iter_members(lay.members):
                t = m.type.element if m.type.kind == "array" and m.type.element else m.type
                if t.record and t.record not in keep:
                    keep.add(t.record)
                    todo.append(t.record)
    return keep
