"""The rule catalogue: findings, the rule base class, selection, severities, suppression.

Each rule (``abiscope.checks.rules``) is one small declarative class; this module owns what
they share: the :class:`Finding` value, where findings point, inline suppression, and
running the selected rules over a model. Reads the model only; never parses C.
"""

from __future__ import annotations

import hashlib
import linecache
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from types import MappingProxyType
from typing import ClassVar

from ..errors import SourceLocation, UsageError
from ..model import Member, Model, Record, RecordLayout, iter_members

SEVERITIES = ("error", "warning", "note")
FAIL_ON = ("error", "warning", "note", "never")


@dataclass(frozen=True)
class Evidence:
    """What one target shows: the bytes involved (bits), and the size/align at stake."""

    target: str
    offset_bits: int
    size_bits: int
    detail: str = ""


@dataclass(frozen=True)
class Finding:
    """One root cause in one record (or macro), with every target it affects."""

    rule: str
    name: str
    severity: str
    record: str
    member: str  # dotted path; "" for the record itself
    targets: tuple[str, ...]
    message: str
    cause: str  # the type (or record) at the root of it
    fix: str
    location: SourceLocation
    evidence: tuple[Evidence, ...] = ()
    fix_preview: str = ""  # C text of the fixed record, where the rule can write it

    @property
    def fingerprint(self) -> str:
        """``abiscopeFinding/v1``: rule, record, member path and cause, hashed. Independent
        of line numbers and wording, except where the cause names an anonymous type (clang
        spells it with its file, line and column): :attr:`stable_fingerprint` is not."""
        return _hash(self.rule, self.record, self.member, self.cause)

    @property
    def stable_fingerprint(self) -> str:
        """``abiscopeFinding/v2``: as v1, with every anonymous type in the cause written
        ``(anonymous KIND)``, without its file, line or column (the record and the member
        path already say which one it is). Equal to v1 wherever the cause names no
        anonymous type. The promise: docs/baseline.md."""
        return _hash(self.rule, self.record, self.member, stable_cause(self.cause))

    @property
    def fingerprints(self) -> dict[str, str]:
        """Every fingerprint version, by its SARIF ``partialFingerprints`` key."""
        return {FINGERPRINT_V1: self.fingerprint, FINGERPRINT_V2: self.stable_fingerprint}


FINGERPRINT_V1 = "abiscopeFinding/v1"
FINGERPRINT_V2 = "abiscopeFinding/v2"

# clang's spellings of an anonymous type: ``struct (unnamed at f.h:3:5)``, ``struct
# (anonymous at f.h:3:5)``, ``(unnamed union at f.h:3:5)``, ``s::(anonymous at ...)``, and
# the walker's own ``enum (anonymous at f.h:3)``
_ANONYMOUS = re.compile(r"(?:\b(struct|union|enum) )?(?:[A-Za-z_]\w*::)?"
                        r"\((?:unnamed|anonymous)(?: (struct|union|enum))? at [^()]*\)")


def stable_cause(cause: str) -> str:
    """``cause`` with each anonymous type written ``(anonymous KIND)``: no path, line or
    column, so it survives an edit above it, another checkout directory, another tree."""
    if "(unnamed" not in cause and "(anonymous" not in cause:
        return cause
    return _ANONYMOUS.sub(lambda m: f"(anonymous {m.group(2) or m.group(1) or 'type'})",
                          cause)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CheckContext:
    """What every rule may look at besides the record in hand."""

    model: Model
    reference: str  # the target fixes keep offsets on
    real_targets: tuple[str, ...]
    array_elements: frozenset[str]  # record names used as array elements somewhere
    hypothetical: Mapping[str, Model] = field(default_factory=dict)


class Rule:
    """A rule: id, kebab-case name, default severity, one-line summary; ``check`` yields
    findings for one record, ``check_model`` for model-wide facts (macros)."""

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[str]
    summary: ClassVar[str]

    def check(self, ctx: CheckContext, record: Record) -> Iterable[Finding]:
        return ()

    def check_model(self, ctx: CheckContext) -> Iterable[Finding]:
        return ()

    def finding(self, record: Record, member: str, targets: Iterable[str], message: str,
                cause: str, fix: str, location: SourceLocation | None = None,
                evidence: Iterable[Evidence] = (), severity: str | None = None,
                fix_preview: str = "") -> Finding:
        return Finding(
            rule=self.id, name=self.name, severity=severity or self.severity,
            record=record.name, member=member, targets=tuple(targets), message=message,
            cause=cause, fix=fix, location=location or record.location,
            evidence=tuple(evidence), fix_preview=fix_preview,
        )

    @classmethod
    def page(cls) -> str:
        """The rule's documentation page (``docs/rules/<ID>.md``)."""
        return resources.files("abiscope.checks").joinpath(f"pages/{cls.id}.md").read_text()


# ---------------------------------------------------------------------------------------
# helpers shared by the rules


_BY_PATH: dict[int, tuple[RecordLayout, Mapping[str, Member]]] = {}  # id -> layout, its map


def members_by_path(record: Record, target: str) -> Mapping[str, Member]:
    """Every member of a record on a target, by dotted path (anonymous levels add none).

    Made once per layout (the rules ask for it some 50,000 times on the UAPI tree), in a
    bounded table keyed by identity that holds the layout, so a key is never reused."""
    layout = record.layouts[target]
    known = _BY_PATH.get(id(layout))
    if known is not None and known[0] is layout:
        return known[1]
    out: dict[str, Member] = {}
    for path, m in iter_members(layout.members):
        if m.name:
            out.setdefault(path, m)
    if len(_BY_PATH) >= 65536:
        _BY_PATH.clear()
    _BY_PATH[id(layout)] = (layout, MappingProxyType(out))
    return _BY_PATH[id(layout)][1]


def bytes_text(bits: int) -> str:
    if bits % 8:
        return f"{bits} bits"
    n = bits // 8
    return f"{n} byte{'s' if n != 1 else ''}"


def target_list(targets: Sequence[str]) -> str:
    return ", ".join(targets)


def grouped(values: Mapping[str, str]) -> str:
    """``a, b: X; c: Y`` — targets sharing a value named together, in target order."""
    order: dict[str, list[str]] = {}
    for t, v in values.items():
        order.setdefault(v, []).append(t)
    return "; ".join(f"{', '.join(ts)}: {v}" for v, ts in order.items())


# ---------------------------------------------------------------------------------------
# selection, severities, suppression, running


@dataclass(frozen=True)
class CheckConfig:
    """Which rules run and how severe they are."""

    select: tuple[str, ...] = ()  # ids, id prefixes or names; empty = all
    ignore: tuple[str, ...] = ()
    severities: Mapping[str, str] = field(default_factory=dict)
    reference: str | None = None


def _matches(rule: type[Rule], patterns: Iterable[str]) -> bool:
    return any(rule.id.startswith(p.upper()) or rule.name == p for p in patterns)


def selected_rules(config: CheckConfig) -> list[type[Rule]]:
    from .rules import RULES

    known = {r.id for r in RULES} | {r.name for r in RULES}
    for pattern in (*config.select, *config.ignore, *config.severities):
        if pattern not in known and not any(r.id.startswith(pattern.upper()) for r in RULES):
            raise UsageError(f"unknown rule {pattern!r}; see 'abiscope rules'")
    for rule, sev in config.severities.items():
        if sev not in SEVERITIES:
            raise UsageError(f"severity of {rule} must be one of {', '.join(SEVERITIES)}, "
                             f"not {sev!r}")
    chosen = [r for r in RULES if not config.select or _matches(r, config.select)]
    return [r for r in chosen if not _matches(r, config.ignore)]


_SUPPRESS_RE = re.compile(r"abiscope:\s*ignore\[([A-Za-z0-9_,\s-]+)\]")


def suppressed(finding: Finding, record: Record | None) -> bool:
    """An ``abiscope: ignore[ABI002]`` comment on the member's or the record's line."""
    lines = {finding.location}
    if record is not None:
        lines.add(record.location)
    for loc in lines:
        text = linecache.getline(loc.file, loc.line) if loc.file else ""
        for m in _SUPPRESS_RE.finditer(text):
            ids = {s.strip().upper() for s in m.group(1).split(",")}
            if finding.rule in ids or finding.name.upper() in ids:
                return True
    return False


def array_element_records(model: Model) -> frozenset[str]:
    used: set[str] = set()
    for rec in model.records:
        for lay in rec.layouts.values():
            for _, m in iter_members(lay.members):
                if m.type.kind == "array" and m.type.element is not None \
                        and m.type.element.record:
                    used.add(m.type.element.record)
    return frozenset(used)


def run_checks(model: Model, records: Sequence[Record], config: CheckConfig,
               hypothetical: Mapping[str, Model] | None = None) -> list[Finding]:
    """Every selected rule over the records (and the model's macros), sorted, suppressions
    honoured, configured severities applied."""
    real = tuple(t for t, info in model.targets.items() if not info.hypothetical)
    reference = config.reference or ("x86_64" if "x86_64" in real else (real or ("",))[0])
    if config.reference and config.reference not in model.targets:
        raise UsageError(f"--reference {config.reference}: not among the selected targets")
    ctx = CheckContext(model, reference, real, array_element_records(model),
                       dict(hypothetical or {}))
    by_name = {r.name: r for r in model.records}
    findings: list[Finding] = []
    for rule_cls in selected_rules(config):
        rule = rule_cls()
        produced: Iterator[Finding] = (f for rec in records for f in rule.check(ctx, rec))
        for f in [*produced, *rule.check_model(ctx)]:
            if suppressed(f, by_name.get(f.record)):
                continue
            sev = config.severities.get(f.rule) or config.severities.get(f.name)
            findings.append(replace(f, severity=sev) if sev else f)
    findings.sort(key=lambda f: (f.location.file, f.location.line, f.location.col, f.rule,
                                 f.record, f.member))
    return findings


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """Whether any finding is at or above ``fail_on``."""
    if fail_on == "never":
        return False
    limit = SEVERITIES.index(fail_on)
    return any(SEVERITIES.index(f.severity) <= limit for f in findings)
