"""``abiscope diff``: what changed in an ABI between two snapshots, header sets or revisions."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from ..cliutil import (
    EXIT_FAIL,
    EXIT_OK,
    add_output_options,
    add_parse_options,
    add_target_option,
    load_model,
    words,
    write,
)
from ..config import Config, load_config
from ..diff import FAIL_ON, DiffOptions, DiffResult, diff_models, fails
from ..errors import InputError, UsageError
from ..frontend import relpath
from ..model import Model
from ..report.changes import render_json, render_sarif, render_text
from ..report.width import output_console
from ..snapshot import is_snapshot, load_snapshot, relocate, restrict
from ..targets import resolve


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "diff", help="compare two ABIs: breaking, compatible and informational changes",
        description="Compare the ABI of OLD with NEW per record and per target. Each side is "
                    "a snapshot ('abiscope snapshot', a .json file) or a header; several "
                    "headers on a side: --old H --old H2 --new H --new H2. With --git REV the "
                    "headers given are compared with themselves at revision REV.",
        epilog="exit status: 0 no change at or above --fail-on, 1 there is one, 2 usage or "
               "input error (also when the two sides cover different targets). examples: "
               "abiscope diff abi/kvm.json include/uapi/linux/kvm.h -I include/uapi; "
               "abiscope diff --git HEAD~1 include/uapi/linux/kvm.h -I include/uapi")
    p.add_argument("sides", nargs="*", metavar="OLD NEW",
                   help="old side and new side (snapshot or header); with --git: headers")
    p.add_argument("--old", action="append", default=[], metavar="FILE",
                   help="a header (repeatable) or one snapshot for the old side")
    p.add_argument("--new", action="append", default=[], metavar="FILE",
                   help="a header (repeatable) or one snapshot for the new side")
    p.add_argument("--git", metavar="REV",
                   help="old side: the headers as of git revision REV (their directories and "
                        "the -I directories in the repository, from git archive); "
                        "new side: the headers in the working tree")
    add_target_option(p)
    p.add_argument("--extensible", action="append", default=[], metavar="PATTERN",
                   help="records that may grow at the end (the consumer takes the caller's "
                        "size), besides those with their own size field; globs allowed")
    p.add_argument("--fail-on", choices=FAIL_ON, default="breaking",
                   help="exit 1 when a change is at or above this class (default: breaking)")
    add_output_options(p, tuple(RENDERERS))
    add_parse_options(p)
    p.set_defaults(func=run)


def _split(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    if args.git:
        if args.old or args.new:
            raise UsageError("--git takes the headers once, as arguments; not --old/--new")
        if not args.sides:
            raise UsageError("--git REV needs the headers to compare")
        return list(args.sides), list(args.sides)
    if args.old or args.new:
        if args.sides or not (args.old and args.new):
            raise UsageError("give both --old and --new (and no OLD NEW arguments)")
        return list(args.old), list(args.new)
    if len(args.sides) != 2:
        raise UsageError("give two sides, OLD NEW (each a snapshot or a header); several "
                         f"headers per side with --old/--new (got {len(args.sides)} arguments)")
    return [args.sides[0]], [args.sides[1]]


def _snapshot(paths: Sequence[str]) -> str | None:
    for path in paths:
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file")
    snaps = [p for p in paths if is_snapshot(p)]
    if snaps and len(paths) > 1:
        raise UsageError(f"{snaps[0]}: a side is one snapshot or some headers, not both")
    return snaps[0] if snaps else None


def _parse(headers: Sequence[str], targets: Sequence[str], args: argparse.Namespace,
           config: Config, include_dirs: Sequence[str] | None = None) -> Model:
    ns = argparse.Namespace(**vars(args))
    ns.headers, ns.target = list(headers), list(targets)
    if include_dirs is not None:
        ns.include_dirs = list(include_dirs)
    return load_model(ns, config, macros=True)


def _git(cmd: Sequence[str], cwd: str) -> bytes:
    try:
        done = subprocess.run(["git", *cmd], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError("--git: git is not installed") from None
    if done.returncode:
        msg = done.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(f"--git: git {' '.join(cmd)}: {msg[-1] if msg else 'failed'}")
    return done.stdout


def _at_revision(rev: str, headers: Sequence[str], targets: Sequence[str],
                 args: argparse.Namespace, config: Config) -> Model:
    """Parse the headers as they were at ``rev``: the directories of the headers and the -I
    directories inside the repository are taken from git into a temporary tree."""
    for h in headers:
        if not os.path.isfile(h):
            raise InputError(f"{h}: no such file")
    first = os.path.dirname(os.path.abspath(headers[0]))
    root = _git(["rev-parse", "--show-toplevel"], first).decode().strip()
    _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)

    def inside(path: str) -> str | None:
        rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
        return None if rel.startswith("..") else rel

    dirs = sorted({d for d in (inside(os.path.dirname(os.path.abspath(h)) or ".")
                               for h in headers) if d is not None}
                  | {d for d in (inside(i) for i in args.include_dirs) if d is not None})
    tmp = tempfile.mkdtemp(prefix="abiscope-git-")
    try:
        archive = os.path.join(tmp, "rev.tar")
        with open(archive, "wb") as fh:
            paths = [d for d in dirs if d != "."] or ["."]
            fh.write(_git(["archive", "--format=tar", rev, "--", *paths], root))
        tree = os.path.join(tmp, "tree")
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tree, filter="data")
            else:  # pragma: no cover (Python before 3.10.12)
                tar.extractall(tree)  # our own git archive

        def moved(path: str) -> str:
            rel = inside(path)
            return os.path.join(tree, rel) if rel is not None else path

        old_headers = [moved(h) for h in headers]
        for h, m in zip(headers, old_headers, strict=True):
            if not os.path.isfile(m):
                raise InputError(f"{h}: not in revision {rev}")
        model = _parse(old_headers, targets, args, config,
                       [moved(i) if os.path.isdir(moved(i)) else i for i in args.include_dirs])
        return relocate(model, tree, relpath(root))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    old_paths, new_paths = _split(args)
    old_snap = None if args.git else _snapshot(old_paths)
    new_snap = _snapshot(new_paths) if not args.git else None
    old = load_snapshot(old_snap) if old_snap else None
    new = load_snapshot(new_snap) if new_snap else None
    if args.target:
        selection = resolve(args.target)
        targets = [t.name for t in selection.targets]
        old = restrict(old, targets, old_snap or "") if old is not None else None
        new = restrict(new, targets, new_snap or "") if new is not None else None
    elif old is not None or new is not None:
        targets = list((old or new).targets)  # type: ignore[union-attr]
    else:
        targets = [t.name for t in resolve(list(config.targets) or ["default"]).targets]
    if args.git:
        old = _at_revision(args.git, old_paths, targets, args, config)
    elif old is None:
        old = _parse(old_paths, targets, args, config)
    if new is None:
        new = _parse(new_paths, targets, args, config)
    options = DiffOptions(extensible=words(args.extensible), records=words(args.record),
                          all_files=args.all_files)
    result = diff_models(old, new, options)
    RENDERERS[args.format](result, old, new, args.output)
    return EXIT_FAIL if fails(result, args.fail_on) else EXIT_OK


def _text(result: DiffResult, old: Model, new: Model, output: str | None) -> None:
    with output_console(output) as console:
        render_text(result, console)


RENDERERS: dict[str, Callable[[DiffResult, Model, Model, str | None], None]] = {
    "text": _text,
    "json": lambda result, old, new, output: write(
        render_json(result, old.failures, new.failures), output),
    "sarif": lambda result, old, new, output: write(render_sarif(result), output),
}
"""``--format`` -> renderer of the changes (the old and new models for their failures)."""
