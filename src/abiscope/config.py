"""Project configuration: ``abiscope.toml`` or ``[tool.abiscope]`` in ``pyproject.toml``
(``abiscope.toml`` may hold its keys at the top level or under ``[tool.abiscope]``).

Keys (kebab-case or snake_case): ``headers``, ``targets``, ``include`` (include dirs),
``defines``, ``undefines``, ``std``, ``force-include``, ``sysroot`` (table TARGET = DIR),
``select``, ``ignore``, ``fail-on``, ``reference``, ``unit-timeout`` (seconds) and
``unit-memory`` (MiB) (:mod:`abiscope.frontend.bounds`), ``[severity]`` (rule id or name =
``error``/``warning``/``note``) and ``[variants.NAME]`` (build variants a target may carry,
registered with :func:`abiscope.variants.configure` as the file is read); the tables
``[compat]`` and ``[paths]`` are kept as they are (``Config.sections``, keys kebab-case) for
those commands to read. Relative paths count from the file's directory. Command-line options
override the file. Reads files only; knows nothing of clang or rules.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

_LIST_KEYS = ("headers", "targets", "include", "defines", "undefines", "force-include",
              "select", "ignore")
_STR_KEYS = ("std", "fail-on", "reference")
_SECTIONS = ("compat", "paths")  # tables the commands of those names read themselves
_BOUND_KEYS = ("unit-timeout", "unit-memory")  # seconds, MiB (0 = none): frontend.bounds
_KNOWN = {*_LIST_KEYS, *_STR_KEYS, "severity", "sysroot", "variants", *_SECTIONS,
          *_BOUND_KEYS}


@dataclass(frozen=True)
class Config:
    """Settings from a configuration file (empty when there is none)."""

    path: str | None = None
    headers: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    undefines: tuple[str, ...] = ()
    force_include: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    std: str | None = None
    fail_on: str | None = None
    reference: str | None = None
    severity: Mapping[str, str] = field(default_factory=dict)
    sysroot: tuple[tuple[str, str], ...] = ()
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    unit_timeout: float | None = None
    unit_memory: int | None = None


def find_config(start: str = ".") -> str | None:
    """``abiscope.toml``, or a ``pyproject.toml`` with ``[tool.abiscope]``, in ``start`` or
    the nearest parent (stopping at a repository root)."""
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, "abiscope.toml")
        if os.path.isfile(candidate):
            return candidate
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject) and "tool" in _read(pyproject) \
                and "abiscope" in _read(pyproject)["tool"]:
            return pyproject
        parent = os.path.dirname(here)
        if parent == here or os.path.isdir(os.path.join(here, ".git")):
            return None
        here = parent


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            doc: dict[str, Any] = tomllib.load(fh)
            return doc
    except OSError as exc:
        raise InputError(f"{path}: cannot read the configuration ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc


def _table(path: str, doc: dict[str, Any]) -> Any:
    """abiscope's settings in a file: ``[tool.abiscope]`` of a ``pyproject.toml``; in any
    other file (``abiscope.toml``) the top level, or ``[tool.abiscope]`` as in a
    ``pyproject.toml`` (the README's example pasted as it is), not both."""
    tool = doc.get("tool")
    if path.endswith("pyproject.toml"):
        return tool.get("abiscope", {}) if isinstance(tool, dict) else {}
    if not (isinstance(tool, dict) and "abiscope" in tool):
        return doc
    others = sorted(k for k in doc if k != "tool")
    if others:
        raise InputError(f"{path}: settings both at the top level ({', '.join(others)}) and "
                         "in [tool.abiscope]: use one form (top-level keys, or every key "
                         "under [tool.abiscope])")
    return tool["abiscope"]


def load_config(path: str | None) -> Config:
    """Read a configuration file; ``None`` → the discovered one, or an empty config."""
    from .variants import configure  # ([variants.NAME]: the names targets may carry)

    path = path or find_config()
    if path is None:
        configure(None, {})
        return Config()
    if not os.path.isfile(path):
        raise InputError(f"--config {path}: no such file")
    doc = _read(path)
    table = _table(path, doc)
    if not isinstance(table, dict):
        raise InputError(f"{path}: [tool.abiscope] must be a table")
    norm = {k.replace("_", "-"): v for k, v in table.items()}
    unknown = sorted(set(norm) - _KNOWN)
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(_KNOWN))}")
    base = os.path.dirname(os.path.abspath(path))
    configure(path, norm.get("variants", {}))

    def strings(key: str) -> tuple[str, ...]:
        value = norm.get(key, [])
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{path}: {key} must be a string or a list of strings")
        return tuple(value)

    def paths(key: str) -> tuple[str, ...]:
        return tuple(os.path.normpath(os.path.join(base, p)) for p in strings(key))

    def text(key: str) -> str | None:
        value = norm.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{path}: {key} must be a string")
        return value

    severity = norm.get("severity", {})
    sysroot = norm.get("sysroot", {})
    for key, table_value in (("severity", severity), ("sysroot", sysroot)):
        if not isinstance(table_value, dict) or not all(
                isinstance(v, str) for v in table_value.values()):
            raise InputError(f"{path}: [{key}] must map names to strings")
    return Config(
        path=path, headers=paths("headers"), targets=strings("targets"),
        include=paths("include"), defines=strings("defines"), undefines=strings("undefines"),
        force_include=strings("force-include"), select=strings("select"),
        ignore=strings("ignore"), std=text("std"), fail_on=text("fail-on"),
        reference=text("reference"), severity=dict(severity),
        sysroot=tuple((t, os.path.normpath(os.path.join(base, d)))
                      for t, d in sysroot.items()),
        sections={k: _section(path, k, norm[k]) for k in _SECTIONS if k in norm},
        unit_timeout=_bound(path, norm, "unit-timeout", float),
        unit_memory=_bound(path, norm, "unit-memory", int),
    )


def _bound(path: str, norm: Mapping[str, Any], key: str, kind: type[Any]) -> Any:
    """A unit bound (``unit-timeout`` seconds, ``unit-memory`` MiB): a number >= 0."""
    value = norm.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (kind is int and not isinstance(value, int)) or value < 0:
        raise InputError(f"{path}: {key} must be a {'whole ' if kind is int else ''}"
                         f"number >= 0 (0 = no bound), not {value!r}")
    return kind(value)


def _section(path: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{path}: [{key}] must be a table")
    return {k.replace("_", "-"): v for k, v in value.items()}
