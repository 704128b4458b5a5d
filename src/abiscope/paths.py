"""Layered paths: are the bytes one layer writes read correctly by the next?

A path is an ordered list of layers (``user``, ``kernel``, ``hypervisor``), each with one
target (or several, for ``--matrix``); each boundary between neighbouring layers is
``passthrough`` (the record's bytes are handed on as they are) or ``translate`` (a translator
is declared there). Records cross the boundaries: the same record on both sides, or a
different one per side (``struct privcmd_dm_op_buf`` above the kernel, ``struct
xen_dm_op_buf`` below it). A passthrough boundary whose two layouts differ is an ABI015
finding (``checks.Finding``), naming members and offsets; a translate boundary covers it.

Specs, on the command line and in ``[paths]`` of abiscope.toml alike:

- layer: ``NAME=TARGET[,TARGET...]`` (top layer first);
- translate: ``UPPER:LOWER`` (two adjacent layers);
- design (``--record``): ``SPEC[;SPEC...]``, SPEC = ``[UPPER:LOWER=]NAME[/NAME]``; without a
  boundary the record crosses every boundary; ``A/B`` is A on the upper side, B on the lower.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .checks import Evidence, Finding
from .checks.rules import PathMismatch
from .compat import CompatReport, compare
from .errors import InputError, UsageError
from .model import Model, Record, shape_words
from .sameness import MemberDelta, compare_layouts
from .targets import resolve

SCHEMA_ID = "abiscope.paths/1"
Boundary = tuple[str, str]


@dataclass(frozen=True)
class Layer:
    name: str
    targets: tuple[str, ...]  # one for a path; several for a matrix


@dataclass(frozen=True)
class Crossing:
    """A record crossing one boundary (or every boundary: ``boundary`` None)."""

    boundary: Boundary | None
    upper: str  # record name on the upper side
    lower: str  # record name on the lower side


@dataclass(frozen=True)
class Design:
    label: str
    crossings: tuple[Crossing, ...]


@dataclass(frozen=True)
class PathSpec:
    layers: tuple[Layer, ...]
    translate: frozenset[Boundary]
    designs: tuple[Design, ...]

    @property
    def boundaries(self) -> tuple[Boundary, ...]:
        names = [layer.name for layer in self.layers]
        return tuple(itertools.pairwise(names))


@dataclass(frozen=True)
class BoundaryCheck:
    """One record crossing one boundary: its shapes on both sides compared (``deltas``:
    ``native`` holds the upper side's (offset, size), ``compat`` the lower side's)."""

    upper: str
    lower: str
    upper_target: str
    lower_target: str
    upper_record: str
    lower_record: str
    mode: Literal["passthrough", "translate"]
    deltas: tuple[MemberDelta, ...]
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> Literal["identical", "translated", "mismatch"]:
        if not self.deltas and not self.notes_translate:
            return "identical"
        return "translated" if self.mode == "translate" else "mismatch"

    @property
    def notes_translate(self) -> bool:
        return any(n.startswith("needs translation") for n in self.notes)


@dataclass(frozen=True)
class Cell:
    """One combination of layer targets for one design."""

    targets: tuple[tuple[str, str], ...]  # (layer, target) top first
    design: str
    checks: tuple[BoundaryCheck, ...]

    def must_translate(self) -> tuple[Boundary, ...]:
        out = [(c.upper, c.lower) for c in self.checks if c.status != "identical"]
        return tuple(dict.fromkeys(out))

    def uncovered(self) -> tuple[Boundary, ...]:
        out = [(c.upper, c.lower) for c in self.checks if c.status == "mismatch"]
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class PathReport:
    spec: PathSpec
    cells: tuple[Cell, ...]
    findings: tuple[Finding, ...]
    matrix: bool


# ---------------------------------------------------------------------------------------
# specs


def parse_layers(values: Iterable[str]) -> tuple[Layer, ...]:
    layers: list[Layer] = []
    for value in values:
        name, sep, targets = value.partition("=")
        name = name.strip()
        if not sep or not name or not targets.strip():
            raise UsageError(f"--layer wants NAME=TARGET[,TARGET...], got {value!r}")
        if any(layer.name == name for layer in layers):
            raise UsageError(f"--layer {name} given twice")
        chosen = tuple(t.name for t in resolve(targets).targets)
        layers.append(Layer(name, chosen))
    if len(layers) < 2:
        raise UsageError("a path needs at least two layers (--layer user=i386 "
                         "--layer kernel=x86_64 ...)")
    return tuple(layers)


def _boundary(text: str, layers: Sequence[Layer], what: str) -> Boundary:
    upper, sep, lower = text.partition(":")
    names = [layer.name for layer in layers]
    if not sep:
        raise UsageError(f"{what} wants UPPER:LOWER (two adjacent layers), got {text!r}")
    for name in (upper, lower):
        if name not in names:
            raise UsageError(f"{what} {text}: unknown layer {name!r}; the layers are "
                             f"{', '.join(names)}")
    if names.index(lower) != names.index(upper) + 1:
        raise UsageError(f"{what} {text}: {upper} and {lower} are not adjacent layers, "
                         f"upper first (the path is {' -> '.join(names)})")
    return upper, lower


def parse_translate(values: Iterable[str], layers: Sequence[Layer]) -> frozenset[Boundary]:
    return frozenset(_boundary(v.strip(), layers, "--translate")
                     for value in values for v in value.split(",") if v.strip())


def _tag(name: str) -> str:
    return name.split(" ", 1)[1] if name.startswith(("struct ", "union ")) else name


def _find(model: Model, pattern: str, candidates: Sequence[Record]) -> list[Record]:
    import fnmatch

    pattern = pattern.strip()
    return [r for r in candidates if fnmatch.fnmatchcase(r.name, pattern)
            or fnmatch.fnmatchcase(_tag(r.name), pattern)]


def parse_designs(values: Iterable[str], layers: Sequence[Layer], model: Model,
                  candidates: Sequence[Record] | None = None) -> tuple[Design, ...]:
    """``--record`` values as designs; a glob without a boundary gives one design per
    record it matches."""
    pool = list(model.records if candidates is None else candidates)
    designs: list[Design] = []
    for value in values:
        specs = [s.strip() for s in value.split(";") if s.strip()]
        if not specs:
            raise UsageError(f"--record {value!r}: no record named")
        if len(specs) == 1 and "=" not in specs[0] and "/" not in specs[0]:
            found = _find(model, specs[0], pool)
            if not found:
                raise InputError(f"--record {specs[0]} matches no record declared in the "
                                 "given headers (--all-files looks in included headers too)")
            designs += [Design(r.name, (Crossing(None, r.name, r.name),)) for r in found]
            continue
        crossings = []
        for spec in specs:
            where, sep, names = spec.rpartition("=") if "=" in spec else ("", "", spec)
            boundary = _boundary(where.strip(), layers, "--record") if sep else None
            upper, _, lower = names.partition("/")
            resolved = []
            for pattern in (upper, lower or upper):
                found = _find(model, pattern, pool)
                if len(found) != 1:
                    raise InputError(
                        f"--record {spec}: {pattern.strip()!r} matches "
                        + (f"{len(found)} records ({', '.join(r.name for r in found[:5])})"
                           if found else "no record declared in the given headers")
                        + "; a boundary record must name exactly one")
                resolved.append(found[0].name)
            crossings.append(Crossing(boundary, resolved[0], resolved[1]))
        designs.append(Design(value.strip(), tuple(crossings)))
    if not designs:
        raise UsageError("no record crosses the path: name one with --record (or `records` "
                         "in [paths] of abiscope.toml)")
    return tuple(designs)


def spec_from(layers: Iterable[str], translate: Iterable[str], records: Iterable[str],
              model: Model, candidates: Sequence[Record] | None = None) -> PathSpec:
    parsed = parse_layers(layers)
    return PathSpec(parsed, parse_translate(translate, parsed),
                    parse_designs(records, parsed, model, candidates))


def config_values(table: Mapping[str, Any], path: str | None) -> dict[str, list[str]]:
    """``layers``, ``translate``, ``records`` (lists of spec strings) from ``[paths]``."""
    known = ("layers", "translate", "records")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise InputError(f"{path}: unknown key(s) in [paths]: {', '.join(unknown)}; "
                         f"known: {', '.join(known)}")
    out: dict[str, list[str]] = {}
    for key in known:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{path}: [paths] {key} must be a list of strings")
        out[key] = list(value)
    return out


# ---------------------------------------------------------------------------------------
# checking


class _Verdicts:
    """compat reports per (upper target, lower target), computed once each."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.cache: dict[tuple[str, str], CompatReport] = {}

    def get(self, a: str, b: str) -> CompatReport:
        if (a, b) not in self.cache:
            self.cache[(a, b)] = compare(self.model, a, b)
        return self.cache[(a, b)]


def _crossing_check(model: Model, verdicts: _Verdicts, spec: PathSpec, boundary: Boundary,
                    targets: Mapping[str, str], crossing: Crossing) -> BoundaryCheck:
    upper, lower = boundary
    ta, tb = targets[upper], targets[lower]
    mode: Literal["passthrough", "translate"] = \
        "translate" if boundary in spec.translate else "passthrough"
    ra, rb = model.record(crossing.upper), model.record(crossing.lower)
    assert ra is not None and rb is not None
    if ta == tb and ra.name == rb.name:
        deltas: tuple[MemberDelta, ...] = ()
        notes: tuple[str, ...] = ()
    elif ra.name == rb.name:
        v = verdicts.get(ta, tb).verdict(ra.name)
        assert v is not None
        deltas, notes = v.reasons, v.notes
        if v.verdict == "translate" and not deltas:
            notes = (f"needs translation through {', '.join(v.via)}", *notes)
    else:
        c = compare_layouts(model, (ra, ta), (rb, tb))
        deltas, notes = c.deltas, c.notes
    return BoundaryCheck(upper, lower, ta, tb, ra.name, rb.name, mode, deltas, notes)


def finding(check: BoundaryCheck, model: Model) -> Finding:
    """The ABI015 finding for a passthrough boundary whose layouts differ."""
    rec = model.record(check.upper_record)
    assert rec is not None
    members = [d for d in check.deltas if d.member] or list(check.deltas)
    shown = "; ".join(
        f"`{d.member or '(size)'}` {shape_words(d.native)} on {check.upper_target}, "
        f"{shape_words(d.compat)} on {check.lower_target}" for d in members[:6])
    more = f" and {len(members) - 6} more" if len(members) > 6 else ""
    same = check.upper_record == check.lower_record
    record = check.upper_record if same else f"{check.upper_record} / {check.lower_record}"
    message = (f"{check.upper} ({check.upper_target}) -> {check.lower} ({check.lower_target}) "
               f"passes {record} through untranslated, but its layout differs: "
               + (shown + more if shown else "; ".join(check.notes)))
    first = members[0] if members else None
    return PathMismatch().finding(
        rec, first.member if first else "", (check.upper_target, check.lower_target), message,
        first.cause if first else "layout differs",
        f"declare a translator at {check.upper}:{check.lower} (--translate "
        f"{check.upper}:{check.lower}) and write it ('abiscope gen compat'), or make the "
        "record identical on both sides (fixed-width types, 64-bit handles)",
        evidence=[Evidence(t, s[0], s[1], d.member) for d in members
                  for t, s in ((check.upper_target, d.native), (check.lower_target, d.compat))
                  if s is not None])


def check(model: Model, spec: PathSpec) -> PathReport:
    """Every combination of layer targets (one, unless a layer lists several) for every
    design; ABI015 for each passthrough boundary whose layouts differ."""
    verdicts = _Verdicts(model)
    cells: list[Cell] = []
    findings: list[Finding] = []
    combos = itertools.product(*(layer.targets for layer in spec.layers))
    for combo in combos:
        targets = {layer.name: t for layer, t in zip(spec.layers, combo, strict=True)}
        for design in spec.designs:
            checks = []
            for boundary in spec.boundaries:
                for crossing in design.crossings:
                    if crossing.boundary not in (None, boundary):
                        continue
                    result = _crossing_check(model, verdicts, spec, boundary, targets, crossing)
                    checks.append(result)
                    if result.status == "mismatch":
                        findings.append(finding(result, model))
            cells.append(Cell(tuple(targets.items()), design.label, tuple(checks)))
    matrix = any(len(layer.targets) > 1 for layer in spec.layers)
    return PathReport(spec, tuple(cells), tuple(dict.fromkeys(findings)), matrix)
