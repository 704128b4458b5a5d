"""Which headers to parse, and with which flags: directories, globs, list files, and
``compile_commands.json``.

* ``DIR`` — every ``*.h`` below it (recursively), sorted.
* a glob (``include/uapi/**/*.h``, ``'linux/*.h'``) — the files it matches (``**`` recurses).
* ``@FILE`` or ``--headers-from FILE`` — one header, directory or glob a line; blank lines
  and lines starting with ``#`` are skipped; relative paths are relative to FILE's directory;
  ``-`` reads standard input (paths relative to the working directory).
* ``--compile-commands FILE`` (or the directory holding ``compile_commands.json``) — the
  include dirs (``-I``, ``-isystem``, ``-iquote``, ``-idirafter``), defines (``-D``/``-U``) and
  forced includes (``-include``) of every entry, in order, without duplicates; relative
  paths are taken relative to each entry's ``directory``.

Every expansion keeps the order given and drops repeats; nothing here parses C.
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import InputError

HEADER_SUFFIXES = (".h",)
_GLOB_CHARS = frozenset("*?[")


def expand(items: Sequence[str], headers_from: Sequence[str] = ()) -> list[str]:
    """The header files named by ``items`` (files, directories, globs, ``@list``) and by
    the list files ``headers_from``, in order, each once."""
    out: list[str] = []
    for item in items:
        if item.startswith("@") and len(item) > 1:
            out += read_list(item[1:])
        else:
            out += _expand_one(item, None)
    for name in headers_from:
        out += read_list(name)
    return list(dict.fromkeys(out))


def _expand_one(item: str, where: str | None) -> list[str]:
    path = item if where is None or os.path.isabs(item) else os.path.join(where, item)
    if os.path.isdir(path):
        found = sorted(
            os.path.join(root, f)
            for root, dirs, files in os.walk(path)
            for f in files if f.endswith(HEADER_SUFFIXES)
        )
        if not found:
            raise InputError(f"{item}: a directory without any *.h file")
        return [os.path.normpath(f) for f in found]
    if not os.path.exists(path) and _GLOB_CHARS.intersection(item):
        matches = sorted(m for m in glob.glob(path, recursive=True) if os.path.isfile(m))
        if not matches:
            raise InputError(f"{item}: the pattern matches no file")
        return [os.path.normpath(m) for m in matches]
    return [path]  # a file, or a missing one that parse() reports


def read_list(name: str) -> list[str]:
    """The headers a list file names (``-`` is standard input)."""
    if name == "-":
        text, where = sys.stdin.read(), None
    else:
        try:
            with open(name, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(f"{name}: cannot read the header list ({exc.strerror})") from exc
        where = os.path.dirname(name) or "."
    out: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            out += _expand_one(entry, where)
        except InputError as exc:
            raise InputError(f"{name}:{lineno}: {exc}") from exc
    return out


@dataclass
class CompileFlags:
    """What abiscope takes from a compilation database."""

    include_dirs: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    undefines: list[str] = field(default_factory=list)
    force_includes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # defines given different values


_WITH_PATH = {"-I": "include_dirs", "-isystem": "include_dirs", "-iquote": "include_dirs",
              "-idirafter": "include_dirs", "-include": "force_includes"}


def read_compile_commands(name: str) -> CompileFlags:
    """Include dirs, defines and forced includes of every entry of a compile_commands.json."""
    path = os.path.join(name, "compile_commands.json") if os.path.isdir(name) else name
    try:
        with open(path, encoding="utf-8") as fh:
            entries = json.load(fh)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the compilation database ({exc.strerror})") \
            from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(entries, list):
        raise InputError(f"{path}: a compilation database is a JSON list of entries")
    flags = CompileFlags()
    seen_defines: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("directory", ""), str):
            raise InputError(f"{path}: entry {i} is not an object with a 'directory'")
        directory = entry.get("directory") or os.path.dirname(os.path.abspath(path))
        argv = entry.get("arguments")
        if argv is None:
            command = entry.get("command")
            if not isinstance(command, str):
                raise InputError(f"{path}: entry {i} has neither 'arguments' nor 'command'")
            argv = shlex.split(command)
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise InputError(f"{path}: entry {i}: 'arguments' is not a list of strings")
        _read_argv(argv[1:], directory, flags, seen_defines)
    return flags


def _read_argv(argv: Sequence[str], directory: str, flags: CompileFlags,
               seen: dict[str, str]) -> None:
    it = iter(argv)
    for arg in it:
        for opt, attr in _WITH_PATH.items():
            if arg == opt or (arg.startswith(opt) and opt in ("-I",)):
                value = arg[len(opt):] if arg != opt else next(it, "")
                if value:
                    target: list[str] = getattr(flags, attr)
                    full = os.path.normpath(os.path.join(directory, value))
                    if full not in target:
                        target.append(full)
                break
        else:
            if arg in ("-D", "-U"):
                arg += next(it, "")
            if arg.startswith("-D") and len(arg) > 2:
                define = arg[2:]
                macro = define.split("=", 1)[0]
                if macro in seen:
                    if seen[macro] != define and macro not in flags.conflicts:
                        flags.conflicts.append(macro)
                    continue
                seen[macro] = define
                flags.defines.append(define)
            elif arg.startswith("-U") and len(arg) > 2 and arg[2:] not in flags.undefines:
                flags.undefines.append(arg[2:])

