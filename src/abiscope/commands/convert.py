"""``abiscope convert``: re-lay out a record's bytes from one target for another, or pack and
unpack them as JSON values (see docs/marshal.md).

Exit codes: 0 converted; 2 usage or input error, including a value that does not fit the
destination (the message names the member path and the value).
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from collections.abc import Mapping
from typing import Any

from ..cliutil import EXIT_OK, add_parse_options, load_model, select_records, write
from ..config import load_config
from ..errors import InputError, UsageError
from ..marshal import convert, pack, unpack
from ..model import Model, Record, model_from_json
from ..targets import canonical

VALUES_SCHEMA = "abiscope.values/1"
FORMATS = ("bin", "hex", "json")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "convert", help="convert a record's bytes between targets; pack/unpack JSON values",
        description="Read the bytes of one record as laid out on --from and write them as "
                    "laid out on --to, member by member (nested records, arrays, bitfields, "
                    "byte order). A value that does not fit the destination is an error "
                    "naming the member and the value, never silently truncated. With "
                    "--input-format json the input is member values to pack; with "
                    "--output-format json the output is the member values.",
        epilog="examples: abiscope convert vcpu.h -D__XEN_TOOLS__ --record vcpu_runstate_info "
               "--from i386 --to x86_64 --input-format hex --input rs.hex; "
               "abiscope convert --snapshot abi.json -r xen_dm_op_buf --from x86_64 "
               "--input buf.bin --output-format json. "
               "exit status: 0 converted, 2 usage or input error (a value that does not "
               "fit, a buffer of the wrong size, an unknown member).",
    )
    p.add_argument("headers", nargs="*", metavar="HEADER",
                   help="headers declaring the record (or give --snapshot)")
    p.add_argument("--snapshot", metavar="FILE.json",
                   help="read layouts from an abiscope.layout/1 snapshot instead of headers "
                        "(no clang needed)")
    p.add_argument("-r", "--record", required=True, metavar="NAME",
                   help="the record: tag or full name, globs allowed if one record matches")
    p.add_argument("--from", dest="src", metavar="TARGET",
                   help="target whose layout the input bytes have")
    p.add_argument("--to", dest="dst", metavar="TARGET",
                   help="target whose layout the output has (default: --from)")
    p.add_argument("-i", "--input", default="-", metavar="FILE",
                   help="input file, '-' for stdin (default)")
    p.add_argument("-o", "--output", default="-", metavar="FILE",
                   help="output file, '-' for stdout (default)")
    p.add_argument("--input-format", choices=FORMATS, default="bin",
                   help="bin (raw bytes, default), hex (whitespace ignored) or json "
                        "(member values to pack)")
    p.add_argument("--output-format", choices=FORMATS, default=None,
                   help="bin, hex or json (member values); default: hex on stdout, bin "
                        "into a file")
    p.add_argument("--drop", action="append", default=[], metavar="MEMBER",
                   help="do not carry this member (dotted path, e.g. u.raw): for a union "
                        "whose other view carries the value (repeatable)")
    add_parse_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.src and not args.dst:
        raise UsageError("convert needs --from (the input's target) and/or --to")
    src = canonical(args.src or args.dst)  # (amd64 is x86_64: the model's name)
    dst = canonical(args.dst or args.src)
    out_format = args.output_format or ("hex" if args.output == "-" else "bin")
    if args.input_format == "json" and args.src and args.dst and src != dst:
        raise UsageError("--input-format json packs values for one target: give --to only")
    model = _model(args, [src, dst])
    record = _record(model, args.record)
    raw = _read(args.input, binary=args.input_format == "bin")
    if args.input_format == "json":
        data = pack(record, dst, _values(raw, args.input), model)
    else:
        data = _bytes(raw, args.input_format, args.input)
        if src != dst or args.drop:
            data = convert(record, data, src, dst, model, drop=args.drop)
        else:
            unpack(record, src, data, model)  # validates size and every value
    if out_format == "json":
        doc = {"schema": VALUES_SCHEMA, "record": record.name, "target": dst,
               "values": unpack(record, dst, data, model)}
        _write(json.dumps(doc, indent=2) + "\n", args.output)
    elif out_format == "hex":
        _write(data.hex() + "\n", args.output)
    else:
        _write(data, args.output)
    return EXIT_OK


def _model(args: argparse.Namespace, targets: list[str]) -> Model:
    if args.snapshot:
        if args.headers:
            raise UsageError("give headers or --snapshot, not both")
        try:
            with open(args.snapshot, encoding="utf-8") as fh:
                doc = json.load(fh)
        except OSError as exc:
            raise InputError(f"--snapshot {args.snapshot}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"--snapshot {args.snapshot}: not JSON ({exc})") from None
        model = model_from_json(doc)
        missing = [t for t in dict.fromkeys(targets) if t not in model.targets]
        if missing:
            raise InputError(f"--snapshot {args.snapshot} has no layouts for "
                             f"{', '.join(missing)} (it has: {', '.join(model.targets)})")
        return model
    args.target = list(dict.fromkeys(targets))
    args.all_files = True  # the record may live in an included header (xen/vcpu.h)
    return load_model(args, load_config(args.config))


def _record(model: Model, pattern: str) -> Record:
    chosen = select_records(model, [pattern], True)
    if len(chosen) > 1:
        exact = [r for r in chosen if r.name == pattern or r.name.split(" ", 1)[-1] == pattern]
        if len(exact) != 1:
            raise UsageError(f"--record {pattern} matches {len(chosen)} records ("
                             f"{', '.join(r.name for r in chosen[:8])}); name one")
        chosen = exact
    return chosen[0]


def _read(path: str, binary: bool) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"--input {path}: {exc.strerror}") from None


def _bytes(raw: bytes, fmt: str, path: str) -> bytes:
    if fmt == "bin":
        return raw
    text = "".join(raw.decode("ascii", errors="replace").split())
    text = text.removeprefix("0x")
    bad = next((c for c in text if c not in string.hexdigits), None)
    if bad is not None or len(text) % 2:
        why = f"character {bad!r}" if bad is not None else "an odd number of digits"
        raise InputError(f"--input {path}: not hex ({why}); give pairs of hex digits, "
                         "whitespace ignored")
    return bytes.fromhex(text)


def _values(raw: bytes, path: str) -> Mapping[str, Any]:
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"--input {path}: not JSON ({exc})") from None
    if isinstance(doc, dict) and doc.get("schema") == VALUES_SCHEMA:
        doc = doc.get("values")
    if not isinstance(doc, dict):
        raise InputError(f"--input {path}: expects a JSON object of member values (or an "
                         f"{VALUES_SCHEMA} document)")
    return doc


def _write(data: str | bytes, path: str) -> None:
    if path == "-":
        if isinstance(data, str):
            sys.stdout.write(data)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return
    write(data.encode() if isinstance(data, str) else data, path)
