"""``abiscope layout``: every struct and union of the headers laid out on each target."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from ..cache import Rendered, keep_rendered, rendered_data
from ..cliutil import (
    EXIT_OK,
    add_output_options,
    add_parse_options,
    add_target_option,
    err,
    header_dirs,
    input_headers,
    load_model,
    load_view,
    select_records,
    write,
)
from ..config import Config, load_config
from ..errors import UsageError
from ..model import Model, Record, dumps_bytes, model_to_json
from ..report.width import output_console
from ..targets import resolve


def register(sub: argparse._SubParsersAction[Any]) -> None:
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
    lay.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.format in ONE_TARGET:
        _one_target(args.target or list(config.targets) or ["default"])
    if args.format in BYTES:
        data = BYTES[args.format](args, config)
        write(data, args.output)
        if b'\n  "records": [],\n' in data:  # (the document of a warm run too, unparsed)
            _say_no_records(input_headers(args, config), args.all_files)
        return EXIT_OK
    model = load_model(args, config)
    records = select_records(model, args.record, args.all_files)
    if not records:
        _say_no_records(input_headers(args, config), args.all_files)
    RENDERERS[args.format](model, records, args, config)
    return EXIT_OK


def _text(model: Model, records: Sequence[Record], args: argparse.Namespace,
          config: Config) -> None:
    from ..report.text import render_layout  # (rich only for the format asked for)

    with output_console(args.output) as console:
        render_layout(model, records, console, args.only_differing,
                      header_dirs(args, config, model))


def _pahole(model: Model, records: Sequence[Record], args: argparse.Namespace,
            config: Config) -> None:
    from ..report.pahole import render_pahole

    write(render_pahole(model, records, listing=not args.record), args.output)


RENDERERS: dict[str, Callable[[Model, Sequence[Record], argparse.Namespace, Config], None]] = {
    "text": _text, "pahole": _pahole}
"""``--format`` -> renderer of a parsed model (the formats not in :data:`BYTES`)."""

ONE_TARGET = frozenset({"pahole"})
"""Formats that show one target: more is a usage error, said before any parsing."""


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


BYTES: dict[str, Callable[[argparse.Namespace, Config], bytes]] = {"json": _layout_json}
"""``--format`` -> the document's bytes, from the cache's rendered bytes when a warm run
holds them (no model is parsed)."""


def _one_target(spec: Sequence[str]) -> None:
    """--format pahole: exactly one target, said before any parsing."""
    chosen = resolve(spec).targets
    if len(chosen) != 1:
        names = ", ".join(t.name for t in chosen)
        raise UsageError(f"--format pahole shows one target at a time, and {len(chosen)} are "
                         f"selected ({names}); pick one, e.g. --target "
                         f"{chosen[0].name if chosen else 'x86_64'}")
