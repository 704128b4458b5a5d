"""Snapshots: the ``abiscope.layout/1`` model written to a file and read back.

A snapshot carries every record (those of included headers too, so that members of a named
record type can be looked into), the enums with their constants and the evaluated ioctl
numbers, per target. Its bytes depend only on the headers, the options and the working
directory the paths are relative to: records, enums and macros sorted, no timestamps, and the
file:line of unnamed records spelled with the same relative paths as everything else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from .errors import InputError
from .model import Model, dumps, model_from_json, model_to_json


def is_snapshot(path: str) -> bool:
    """A file that holds JSON (by its name, or by its first character) rather than C."""
    if path.endswith(".json"):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(256).lstrip()
    except OSError:
        return False
    return head.startswith("{")


def snapshot_text(model: Model) -> str:
    """The bytes of a snapshot of the whole model, paths below the working directory
    relative (clang spells an unnamed record with the path it was given)."""
    return dumps(model_to_json(relocate(model, os.getcwd(), "")))


def load_snapshot(path: str) -> Model:
    """Read a snapshot; a missing, non-JSON or non-snapshot file is an InputError."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not a JSON snapshot ({exc.msg}); "
                         "write one with 'abiscope snapshot HEADERS -o FILE'") from None
    try:
        return model_from_json(doc)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def restrict(model: Model, targets: Sequence[str], where: str) -> Model:
    """The model on these targets only; a target it lacks is an InputError."""
    missing = [t for t in targets if t not in model.targets]
    if missing:
        raise InputError(f"{where}: has no target {', '.join(missing)} (it has "
                         f"{', '.join(model.targets)})")
    doc = model_to_json(model)
    keep = set(targets)
    doc["targets"] = {t: v for t, v in doc["targets"].items() if t in keep}
    for item in (*doc["records"], *doc["enums"]):
        item["layouts"] = {t: v for t, v in item["layouts"].items() if t in keep}
    for m in doc["macros"]:
        m["values"] = {t: v for t, v in m["values"].items() if t in keep}
    doc["failures"] = [f for f in doc["failures"] if f["target"] in keep]
    for f in doc.get("functions", ()):
        f["signatures"] = {t: v for t, v in f["signatures"].items() if t in keep}
    doc["preludes"] = [{**p, "targets": [t for t in p["targets"] if t in keep]}
                       for p in doc.get("preludes", ()) if set(p["targets"]) & keep]
    return model_from_json(doc)


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    return value


def relocate(model: Model, old_prefix: str, new_prefix: str) -> Model:
    """The model with every path below ``old_prefix`` spelled below ``new_prefix`` instead
    (headers parsed from a temporary checkout, reported as the files they came from)."""
    old = os.path.join(os.path.abspath(old_prefix), "")
    new = "" if new_prefix in ("", ".") else os.path.join(new_prefix, "")
    doc = _map_strings(model_to_json(model), lambda s: s.replace(old, new))
    return model_from_json(doc)
