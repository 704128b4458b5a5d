"""Verify a hand-kept compat list (Xen's ``xlat.lst``) against the headers' layouts.

Two list formats, told apart line by line:

- Xen's: ``? NAME HEADER`` (identical: Xen generates compile-time size/offset checks) or
  ``! NAME HEADER`` (needs translation: Xen generates translation macros), fields separated
  by blanks or tabs, ``#`` starts a comment. NAME matches the C tag ``NAME`` or ``xen_NAME``;
  HEADER is relative to the include dir and may hold ``@arch@``, which Xen replaces with
  ``x86_32`` (the compat architecture); abiscope accepts the native one (``x86_64``) too.
- plain: ``NAME VERDICT`` with VERDICT ``identical`` or ``translate``.

:func:`verify` checks every entry against :func:`abiscope.compat.compare` and finds the
records that cross the boundary (reachable, by value or through pointers, from a listed
record) but are missing from the list. Reads the model only and returns data; the renderers
(text, JSON ``abiscope.verify-list/1``) are in :mod:`abiscope.report.xlat`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

from . import compat
from .errors import InputError
from .model import Model
from .sameness import handle_wrapper

SCHEMA_ID = "abiscope.verify-list/1"
Listed = Literal["identical", "translate"]
Status = Literal["agrees", "differs", "bytes_identical", "not_found"]
STATUSES: tuple[Status, ...] = ("agrees", "differs", "bytes_identical", "not_found")
MARKS: dict[str, Listed] = {"?": "identical", "!": "translate"}


@dataclass(frozen=True)
class ListEntry:
    """One line of a list: ``header`` is None in the plain format."""

    name: str
    listed: Listed
    header: str | None
    line: int


@dataclass(frozen=True)
class Container:
    """A record that translates and holds (``pointer`` False) or points to a listed one."""

    record: str
    member: str
    pointer: bool
    listed: bool


@dataclass(frozen=True)
class EntryResult:
    entry: ListEntry
    status: Status
    record: str | None  # the C record the NAME matched
    verdict: compat.RecordVerdict | None
    notes: tuple[str, ...]
    inside: tuple[Container, ...]  # for bytes_identical: records that translate around it
    duplicate_of: int | None = None  # the line of an earlier entry for the same record


@dataclass(frozen=True)
class Missing:
    """A record reachable from a listed one, absent from the list."""

    record: str
    name: str  # as the list would spell it
    verdict: Literal["identical", "translate"]
    reached_from: tuple[str, ...]  # the listed or crossing records naming it directly


@dataclass(frozen=True)
class VerifyReport:
    list_path: str
    native: str
    compat: str
    entries: tuple[EntryResult, ...]
    missing: tuple[Missing, ...]
    strict: bool

    def count(self, status: Status) -> int:
        return sum(1 for e in self.entries if e.status == status)

    def failures(self) -> list[str]:
        """Why the run fails (empty: exit 0)."""
        out = [f"{e.entry.name}: listed identical, layouts differ"
               for e in self.entries if e.status == "differs"]
        out += [f"{e.entry.name}: listed twice (lines {e.duplicate_of} and {e.entry.line})"
                for e in self.entries if e.duplicate_of is not None]
        if self.strict:
            out += [f"{e.entry.name}: listed translate, bytes identical"
                    for e in self.entries if e.status == "bytes_identical"]
            out += [f"{e.entry.name}: listed, not found"
                    for e in self.entries if e.status == "not_found"]
            out += [f"{m.name}: crosses the boundary, missing from the list"
                    for m in self.missing]
        return out


# ---------------------------------------------------------------------------------------
# reading a list


def parse_list(text: str, path: str) -> tuple[ListEntry, ...]:
    """The entries of a list in either format; a line neither format reads is an InputError
    naming the file and line."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if fields[0] in MARKS:
            if len(fields) not in (2, 3):
                raise InputError(
                    f"{path}:{number}: expected `{fields[0]} NAME HEADER` (Xen's xlat.lst "
                    f"format), got {raw.strip()!r}")
            out.append(ListEntry(fields[1], MARKS[fields[0]],
                                 fields[2] if len(fields) == 3 else None, number))
        elif len(fields) == 2 and fields[1] in ("identical", "translate"):
            listed: Listed = "identical" if fields[1] == "identical" else "translate"
            out.append(ListEntry(fields[0], listed, None, number))
        else:
            raise InputError(
                f"{path}:{number}: cannot read {raw.strip()!r}: a line is `? NAME HEADER` "
                "(identical) or `! NAME HEADER` (translate), as in Xen's xlat.lst, or "
                "`NAME identical` / `NAME translate`; `#` starts a comment")
    return tuple(out)


def read_list(path: str) -> tuple[ListEntry, ...]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the list: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    return parse_list(text, path)


def header_matches(listed: str, actual: str, native: str, compat_target: str) -> bool:
    """Whether a list's HEADER (perhaps with ``@arch@``) names the header a record is in
    (``actual`` as :func:`abiscope.compat.xlat_file` writes it)."""
    def norm(path: str) -> str:
        for t in (compat_target, native):
            arch = compat.XEN_ARCH.get(t)
            if arch:
                path = path.replace(arch, "@arch@")
        return path

    a, b = norm(listed), norm(actual)
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


# ---------------------------------------------------------------------------------------
# verifying


def _edges(model: Model, native: str, compat_target: str) -> dict[str, tuple[compat.Edge, ...]]:
    """Every record's direct containment and pointer edges (as compat's comparison sees them)."""
    out = {}
    for rec in model.records:
        if native in rec.layouts or compat_target in rec.layouts:
            c = compat.compare_layouts(model, (rec, native), (rec, compat_target))
            out[rec.name] = tuple(e for e in c.edges if e.record != rec.name)
    return out


def _handle(model: Model, name: str) -> bool:
    """A guest-handle wrapper (``abiscope.sameness.handle_wrapper``): such records cross the
    boundary as the handles a list's machinery converts (Xen's ``compat_handle_t``), not as
    list entries; the records they point to are followed and reported instead."""
    rec = model.record(name)
    return rec is not None and handle_wrapper(rec)


def verify(model: Model, entries: Sequence[ListEntry], native: str, compat_target: str,
           roots: Sequence[str] = (), list_path: str = "", strict: bool = False,
           xlat_root: str | None = None) -> VerifyReport:
    """Check each entry against the verdicts, and find crossing records missing from it;
    HEADERs are read as :func:`abiscope.compat.xlat_file` writes them (``xlat_root``)."""
    report = compat.compare(model, native, compat_target)
    verdicts = {v.name: v for v in report.records}
    where = {r.name: r.location.file for r in model.records}
    edges = _edges(model, native, compat_target)
    matched: dict[int, str] = {}
    for i, e in enumerate(entries):
        hits = sorted(n for n in verdicts if compat.xlat_matches(e.name, n))
        if hits:  # a struct and a union of one tag cannot both exist; prefer struct
            matched[i] = hits[0]
    listed = set(matched.values())
    parents: dict[str, list[tuple[str, compat.Edge]]] = {}
    for src, es in edges.items():
        for edge in es:
            parents.setdefault(edge.record, []).append((src, edge))

    results = []
    for i, e in enumerate(entries):
        name = matched.get(i)
        if name is None:
            results.append(EntryResult(e, "not_found", None, None, (
                f"no struct or union tagged `{e.name}` or `xen_{e.name}` in the records "
                "analysed (declared in a header included but not given? --all-files "
                "analyses those too)",), ()))
            continue
        v = verdicts[name]
        notes: list[str] = []
        if e.header is not None:
            actual = compat.xlat_file(where.get(name, ""), roots, native, compat_target,
                                      xlat_root)
            if not header_matches(e.header, actual, native, compat_target):
                notes.append(f"listed in {e.header}, declared in {actual}")
        inside: tuple[Container, ...] = ()
        status: Status = "agrees"
        if e.listed == "identical" and v.reasons:
            status = "differs"
        elif e.listed == "identical" and v.verdict == "translate":
            notes.append(f"its own bytes agree, but it reaches {', '.join(v.via)}, which "
                         "needs translation")
        elif e.listed == "translate" and v.verdict == "identical":
            status = "bytes_identical"
            inside = tuple(Container(src, edge.path, edge.pointer, src in listed)
                           for src, edge in parents.get(name, ())
                           if verdicts.get(src) is not None
                           and verdicts[src].verdict == "translate")
            if inside:
                notes.append("sits inside records that translate: " + ", ".join(
                    f"{c.record} (member `{c.member}`{', by pointer' if c.pointer else ''})"
                    for c in inside) + "; it may be listed for them")
            else:
                notes.append("no record that translates contains it or points to it")
        results.append(EntryResult(e, status, name, v, tuple(notes), inside))

    results = _flag_duplicates(results)

    # reverse: records reachable from listed ones, missing from the list
    reached: dict[str, set[str]] = {}
    todo = sorted(listed)
    seen = set(todo)
    while todo:
        src = todo.pop()
        for edge in edges.get(src, ()):
            if edge.record not in verdicts:
                continue
            if edge.record not in listed:
                reached.setdefault(edge.record, set()).add(src)
            if edge.record not in seen:
                seen.add(edge.record)
                todo.append(edge.record)
    missing = tuple(Missing(r, compat.xlat_name(r), verdicts[r].verdict,
                            tuple(sorted(reached[r]))) for r in sorted(reached)
                    if not _handle(model, r))
    return VerifyReport(list_path, native, compat_target, tuple(results), missing, strict)


def _flag_duplicates(results: Sequence[EntryResult]) -> list[EntryResult]:
    """Mark every entry for a record an earlier entry already lists (``foo`` twice, or
    ``foo`` and ``xen_foo``; an unfound NAME twice): Xen would generate its checks or
    translation macros twice."""
    first: dict[str, ListEntry] = {}
    out = []
    for r in results:
        key = r.record or f"name {r.entry.name}"
        earlier = first.setdefault(key, r.entry)
        if earlier is not r.entry:
            what = "" if earlier.name == r.entry.name else f" (as `{earlier.name}`)"
            r = replace(r, duplicate_of=earlier.line, notes=(
                f"duplicate: line {earlier.line} already lists it{what}", *r.notes))
        out.append(r)
    return out


def json_schema() -> dict[str, Any]:
    """The committed JSON Schema of ``abiscope.verify-list/1``."""
    text = resources.files("abiscope").joinpath("schema/verify-list-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema
