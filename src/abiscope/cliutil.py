"""What every abiscope command shares: parse options, loading the model, record selection, output.

Command modules (``abiscope.commands.*``) and ``abiscope.cli`` import from here; nothing here
imports a command.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .cache import Rendered, UnitCache
from .config import Config
from .errors import InputError, UsageError
from .executors import EXECUTORS, choose
from .frontend import ParseOptions, parse, relpath
from .frontend.bounds import DEFAULT as DEFAULT_BOUNDS
from .frontend.bounds import Bounds
from .frontend.versions import files_read, version_skew
from .inputs import CompileFlags, expand, read_compile_commands
from .model import Model, Record, TreeSkew, restricted
from .targets import Selection, Target, canonical, group_members, resolve

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from .checks import Rule

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def err(msg: str) -> None:
    print(f"abiscope: {msg}", file=sys.stderr)


def job_count(text: str) -> int:
    """The argparse type of ``-j/--jobs``: a number of processes, at least 1 (argparse puts
    ``argument -j/--jobs:`` before the message)."""
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {jobs} (leave it out for "
                                         "all cores)")
    return jobs


def add_parse_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("C preprocessor and parsing (as in cc)")
    g.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                   help="add DIR to the include search path")
    g.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                   help="define a macro")
    g.add_argument("-U", dest="undefines", action="append", default=[], metavar="NAME",
                   help="undefine a macro")
    g.add_argument("--std", default=None, help="C standard (default: gnu11)")
    g.add_argument("--include", dest="force_includes", action="append", default=[],
                   metavar="FILE", help="include FILE before each header")
    g.add_argument("--prelude", default=None, metavar="auto|FILE,FILE",
                   help="for a header that does not parse alone: include FILE,FILE before it, "
                        "or (auto) the first that works of its directory's other headers, "
                        "then sys/types.h, stdint.h, stddef.h, stdio.h; records laid out so are "
                        "marked (docs/layout-json.md)")
    g.add_argument("--sysroot", action="append", default=[], metavar="TARGET=DIR",
                   help="system include dir for one target (repeatable); default: Debian's "
                        "/usr/include/<multiarch> or /usr/<triple>/include where present")
    g.add_argument("--no-system-dirs", action="store_true",
                   help="do not add any per-target system include dir")
    g.add_argument("--freestanding", action="store_true",
                   help="parse freestanding (clang's own <stdint.h>, <limits.h>, ...) even "
                        "where a target has a libc tree (default: hosted there, as its gcc)")
    g.add_argument("--all-files", action="store_true",
                   help="also show records declared in included headers")
    g.add_argument("--strict", action="store_true",
                   help="a header that fails to parse on any selected target is an error")
    g.add_argument("--allow-include-outside", action="store_true",
                   help="let headers #include files outside their own tree and the include "
                        "dirs (default: refused before they are read; see docs/reliability.md)")
    g.add_argument("-j", "--jobs", type=job_count, default=None,
                   help="processes to spread targets over (default: all cores)")
    g.add_argument("--headers-from", action="append", default=[], metavar="FILE",
                   help="read headers (files, directories, globs) from FILE, one a line "
                        "('-' = stdin); '@FILE' as a HEADER does the same")
    g.add_argument("--compile-commands", metavar="FILE",
                   help="take -I, -D, -U and -include of every entry of a "
                        "compile_commands.json (FILE, or the directory holding it)")
    g.add_argument("--batch", action=argparse.BooleanOptionalAction, default=None,
                   help="parse several headers per translation unit; a header that would "
                        "read another's macros or types is parsed alone, so the result is "
                        "the same (default: one translation unit per header)")
    g.add_argument("--standalone", action="store_true",
                   help="with batches, also parse each header alone first (slower; batches "
                        "already give each header's own verdict)")
    g.add_argument("--cache-dir", metavar="DIR",
                   help="where parsed units are cached (default: $ABISCOPE_CACHE_DIR or the "
                        "user cache dir, e.g. ~/.cache/abiscope)")
    g.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the cache")
    g.add_argument("--executor", choices=EXECUTORS, default="process",
                   help="where units of work run: a local process pool (default), or a "
                        "Dask cluster (pip install 'abiscope[dask]')")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="the Dask scheduler for --executor dask (tcp://HOST:8786)")
    g.add_argument("--unit-timeout", type=_bound(float), default=None, metavar="SECONDS",
                   help="time a header may take to parse on a target group, then it is an "
                        f"input error (default: {DEFAULT_BOUNDS.seconds:g}; 0 = none)")
    g.add_argument("--unit-memory", type=_bound(int), default=None, metavar="MIB",
                   help="memory a unit of work (headers x targets) may add, then its header "
                        f"is an input error (default: {DEFAULT_BOUNDS.memory_mib}; 0 = none)")
    g.add_argument("--config", metavar="FILE",
                   help="configuration file (default: abiscope.toml, or [tool.abiscope] in "
                        "pyproject.toml, in this directory or the nearest parent)")


def _bound(kind: type[float] | type[int]) -> Callable[[str], float]:
    """The argparse type of ``--unit-timeout`` / ``--unit-memory``: a number >= 0."""
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 (no bound) or more, not {text}")
        return value
    return convert


def unit_bounds(args: argparse.Namespace, config: Config) -> Bounds:
    """Each unit's bounds: the command line's, else the configuration's, else the
    defaults (:mod:`abiscope.frontend.bounds`)."""
    def pick(flag: str, configured: float | None, default: float) -> float:
        given = getattr(args, flag, None)
        return given if given is not None else configured if configured is not None \
            else default
    return Bounds(pick("unit_timeout", config.unit_timeout, DEFAULT_BOUNDS.seconds),
                  int(pick("unit_memory", config.unit_memory, DEFAULT_BOUNDS.memory_mib)))


def add_target_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", action="append", default=[],
                   help="targets, groups or clang triples, comma-separated "
                        "(default: default = i386,x86_64,x32,arm,aarch64), each with "
                        "optional build variants (arm+time64, i386+align-double); "
                        "see 'abiscope targets'")
    p.add_argument("-r", "--record", action="append", default=[], metavar="PATTERN",
                   help="records to report: tag or full name, globs allowed "
                        "('xen_dm_op_*' or 'struct xen_dm_op_*')")


def add_output_options(p: argparse.ArgumentParser, formats: Sequence[str],
                       format_help: str | None = None) -> None:
    """``-f/--format`` (one of ``formats``, the first by default) and ``-o/--output FILE``."""
    p.add_argument("-f", "--format", choices=formats, default=formats[0], help=format_help)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def parse_options(args: argparse.Namespace, config: Config,
                   macros: bool = False) -> ParseOptions:
    sysroots = [(canonical(t), d) for t, d in config.sysroot]
    for item in args.sysroot:
        target, sep, directory = item.partition("=")
        if not sep or not target or not directory:
            raise UsageError(f"--sysroot wants TARGET=DIR, got {item!r}")
        sysroots.append((canonical(target), directory))
    for _, directory in sysroots:
        if not os.path.isdir(directory):
            raise InputError(f"--sysroot: {directory}: no such directory")
    db = read_compile_commands(args.compile_commands) \
        if getattr(args, "compile_commands", None) else CompileFlags()
    for macro in db.conflicts:
        err(f"{args.compile_commands}: -D{macro} has different values in different entries; "
            "the first is used")
    include_dirs = [*config.include, *args.include_dirs, *db.include_dirs]
    for d in include_dirs:
        if not os.path.isdir(d):
            raise InputError(f"-I {d}: no such directory")
    return ParseOptions(
        include_dirs=tuple(include_dirs),
        defines=(*config.defines, *args.defines, *db.defines),
        undefines=(*config.undefines, *args.undefines, *db.undefines),
        force_includes=(*config.force_include, *args.force_includes, *db.force_includes),
        std=args.std or config.std or "gnu11", sysroots=tuple(sysroots),
        system_dirs=not args.no_system_dirs, all_files=args.all_files, macros=macros,
        freestanding=getattr(args, "freestanding", False),
        allow_include_outside=getattr(args, "allow_include_outside", False),
        prelude=tuple(p for p in (getattr(args, "prelude", None) or "").split(",") if p),
    )


def _matches(record: Record, patterns: Sequence[str]) -> bool:
    tag = record.name.split(" ", 1)[1] if record.name.startswith(("struct ", "union ")) \
        else record.name
    return any(fnmatch.fnmatchcase(record.name, p) or fnmatch.fnmatchcase(tag, p)
               for p in patterns)


def select_records(model: Model, patterns: Sequence[str], all_files: bool) -> list[Record]:
    """Records to report: those declared in the inputs (or all), filtered by --record; a
    record declared in a target's own copy of an input is declared in the inputs
    (:attr:`abiscope.model.Record.copy_of`)."""
    inputs = set(model.inputs)
    chosen = [r for r in model.records
              if all_files or r.location.file in inputs or r.copy_of in inputs]
    if patterns:
        chosen = [r for r in chosen if _matches(r, patterns)]
        if not chosen:
            raise InputError(f"--record {' '.join(patterns)} matches no record"
                             + ("" if all_files else " declared in the given headers "
                                "(--all-files looks in included headers too)"))
    return chosen


def load_model(args: argparse.Namespace, config: Config, macros: bool = False,
               extra: Sequence[Target] = ()) -> Model:
    """Parse the headers on the selected targets, reporting failures on stderr.

    ``extra`` targets are parsed along, in the same run, and are in the model returned,
    but their failures are not reported (:func:`load_with_futures` takes them out
    again)."""
    model = _load(args, config, macros, None, extra)
    assert isinstance(model, Model)  # (no view: always the model)
    return model


def load_view(args: argparse.Namespace, config: Config, view: Sequence[str]
              ) -> Model | Rendered:
    """:func:`load_model` for a caller that renders the model as ``view`` (every option
    that changes the text): a warm run whose text of that view the cache holds returns it
    (a :class:`abiscope.cache.Rendered`, which is not a model) instead of the model."""
    return _load(args, config, False, view, ())


def _load(args: argparse.Namespace, config: Config, macros: bool,
          view: Sequence[str] | None, extra: Sequence[Target]) -> Model | Rendered:
    headers = input_headers(args, config)
    if not headers:
        raise UsageError("no header given (name one, or set `headers` in abiscope.toml)")
    selection = _selection(args, config)
    if selection.left_out:
        err("left out (not available in this build): "
             + ", ".join(f"{t.name}" for t in selection.left_out))
    options = parse_options(args, config, macros)
    cache = unit_cache(args)
    executor = None
    if getattr(args, "executor", None) == "dask" or getattr(args, "scheduler", None):
        executor = choose(getattr(args, "executor", None), args.scheduler, args.jobs, 0)
    with progress_bar("parsing") as progress:
        model = parse(headers, [*selection.targets, *extra], options, jobs=args.jobs,
                      batch=getattr(args, "batch", None),
                      standalone=getattr(args, "standalone", False), cache=cache,
                      progress=progress, executor=executor, view=view,
                      bounds=unit_bounds(args, config))
    targets = [t.name for t in selection.targets]
    failures = [f for f in model.failures if f.target in targets] if extra else model.failures
    failed = {(f.header, f.target) for f in failures}
    grouped: dict[tuple[str, str], list[str]] = {}
    for f in failures:  # one line per header and diagnostic, listing its targets
        grouped.setdefault((f.header, f.summary()), []).append(f.target)
    for (header, summary), on in grouped.items():
        err(f"{header}: does not parse for {', '.join(on)}: {summary}")
    if isinstance(model, Model):  # (never silently: what --prelude added, per header)
        for p in model.preludes:
            err(f"{p.header}: does not parse alone for {', '.join(p.targets)}; laid out "
                f"after {', '.join(p.added)} (--prelude; its records say so)")
    dead = [name for name in map(relpath, headers) if all((name, t) in failed for t in targets)
            ] if failed else []
    if dead and (len(dead) == len(headers) or args.strict):
        raise InputError(f"{', '.join(dead)}: parses on no selected target "
                         "(see the diagnostics above; -I, -D or --sysroot may be missing)")
    if failures and args.strict:
        raise InputError("--strict: some headers do not parse on some targets (see above)")
    for h in dead:
        err(f"{h}: skipped, it parses on no selected target")
    files: Sequence[str] | None
    if isinstance(model, Rendered):  # a warm run's text: what it read is in the text
        files = None if b'"version_skew"' in model.data else headers
    else:
        files = [*headers, *files_read(model)]
    skews = warn_version_skew(selection.targets, options, files)
    if skews and isinstance(model, Model):
        # set in place: the parse cache ties its rendered text to the model's identity
        object.__setattr__(model, "skews", skews)
    return model


def warn_version_skew(targets: Sequence[Target], options: ParseOptions,
                      files: Sequence[str] | None) -> tuple[TreeSkew, ...]:
    """Header trees the targets read in different versions (:mod:`abiscope.frontend.
    versions`; ``files`` read, None when unknown), each said once on stderr; the JSON and
    SARIF outputs carry them too."""
    skews = version_skew(targets, options, files)
    for s in skews:
        err(f"warning: {s.message}")
    return skews


def input_headers(args: argparse.Namespace, config: Config) -> list[str]:
    """The input headers: the arguments (directories, globs, ``@LIST``) and
    ``--headers-from``, else the configuration's."""
    return expand(list(args.headers), getattr(args, "headers_from", ())) \
        or expand(list(config.headers))


def load_with_futures(args: argparse.Namespace, config: Config,
                      rules: Sequence[type[Rule]]) -> tuple[Model, dict[str, Model]]:
    """The model of the selected targets with ioctl macros (``check``, ``report``), and
    the hypothetical 128-bit models ABI013 compares with where the selection lacks them,
    from one parse: lp128 and cheri128 borrow x86_64's command line, so with x86_64
    selected they are laid out from its translation units instead of parsing and
    walking every header once more. The model of the selected targets is the one a
    parse of them alone makes; the hypothetical ones have the layouts of theirs
    (:func:`abiscope.model.restricted`)."""
    future = [t for t in group_members("future")
              if any(r.id == "ABI013" for r in rules)
              and t.name not in {s.name for s in _selection(args, config).targets}]
    model = load_model(args, config, macros=True, extra=future)
    if not future:
        return model, {}
    names = {t.name for t in future}
    hypothetical = restricted(model, names)
    return restricted(model, [t for t in model.targets if t not in names]), \
        {t.name: hypothetical for t in future}


def _selection(args: argparse.Namespace, config: Config) -> Selection:
    """The targets the options (or the configuration) select."""
    return resolve(args.target or list(config.targets) or ["default"])


def unit_cache(args: argparse.Namespace) -> UnitCache | None:
    """The parse cache the options ask for (None with --no-cache)."""
    if getattr(args, "no_cache", False):
        return None
    return UnitCache(getattr(args, "cache_dir", None))


@contextmanager
def progress_bar(what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr when it is a terminal; None when piped.

    The bar appears only when there is more than one unit of work left to do (a warm or
    small run stays silent) and is removed when the work is done.
    """
    if not (sys.stderr.isatty() or os.environ.get("FORCE_COLOR")
            or os.environ.get("TTY_COMPATIBLE") == "1"):
        yield None  # not a terminal for rich either (rich is not even imported: warm runs)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return

    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                   transient=True)
    task: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if not task:
            if total - done < 2:
                return
            bar.start()
            task.append(bar.add_task(what, total=total, completed=done))
        bar.update(task[0], completed=done)

    try:
        yield update
    finally:
        if task:
            bar.stop()


def terminal() -> Console:
    """Colour and the terminal's width on a TTY; plain and unbounded when piped (the one
    width policy of ``report.width``)."""
    from .report.width import terminal as width_terminal

    return width_terminal()


def write(text: str | bytes, output: str | None) -> None:
    """A rendered document to ``-o FILE`` or stdout (:func:`abiscope.report.width.write`)."""
    from .report.width import write as write_output

    write_output(text, output)


def words(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(w.strip() for v in values for w in v.split(",") if w.strip())


def header_dirs(args: argparse.Namespace, config: Config, model: Model) -> list[str]:
    """Every directory the model's targets searched for headers (``-I`` and each target's
    system dirs), then the directory of each input header none of them holds: what human
    output names a header's path relative to (never an absolute path of this machine)."""
    from .frontend.options import search_dirs
    from .variants import lookup

    options = parse_options(args, config)
    dirs: list[str] = []
    for name in model.targets:
        target = lookup(name)  # (a variant target: its base's dirs)
        if target is not None:
            dirs += [d for d in search_dirs(target, options) if d not in dirs]
    bases = [os.path.normpath(os.path.abspath(d)) + os.sep for d in dirs]
    for header in model.inputs:
        path = os.path.normpath(os.path.abspath(header))
        if not any(path.startswith(b) for b in bases):
            bases.append(os.path.dirname(path) + os.sep)
            dirs.append(os.path.dirname(path))
    return dirs
