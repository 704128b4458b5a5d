"""A baseline for CI: which findings are ``new``, ``unchanged`` or ``absent`` against a
previous SARIF output of ``abiscope check``.

Data in, states out: :func:`parse_baseline` reads the SARIF text (any malformed or foreign
file is an :class:`~abiscope.errors.InputError` naming it), :func:`compare` matches the
findings of this run with it. A finding is ``unchanged`` when the baseline holds a result
with its ``abiscopeFinding/v2`` fingerprint; a baseline written before v2 (only
``abiscopeFinding/v1``) is matched by rule, record and member path instead. Each baseline
result matches at most one finding (equal fingerprints are counted, not merged). Results of
the baseline that no finding matched are ``absent``, among the rules this run selected.
The promise behind it: docs/baseline.md.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .checks import FINGERPRINT_V1, FINGERPRINT_V2, Finding
from .errors import InputError

NEW, UNCHANGED, ABSENT = "new", "unchanged", "absent"  # SARIF 2.1.0 baselineState values
_HINT = "--baseline takes a previous `abiscope check --format sarif` output"


@dataclass(frozen=True)
class BaselineResult:
    """One finding of the baseline run: what matching reads, and the SARIF result as it
    was written (re-emitted, marked ``absent``, when nothing matches it)."""

    rule: str
    record: str
    member: str
    v1: str
    v2: str  # "" in a baseline written before abiscopeFinding/v2
    sarif: Mapping[str, Any]


@dataclass(frozen=True)
class Baseline:
    path: str
    results: tuple[BaselineResult, ...]


@dataclass(frozen=True)
class Comparison:
    """``states[i]`` is finding ``i``'s state (``new`` or ``unchanged``); ``absent``: the
    baseline's results no finding matched."""

    states: tuple[str, ...]
    absent: tuple[BaselineResult, ...]

    def count(self, state: str) -> int:
        return len(self.absent) if state == ABSENT else self.states.count(state)


def read_baseline(path: str) -> Baseline:
    """The baseline in the SARIF file ``path``."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InputError(f"--baseline {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"--baseline {path}: not a text file; {_HINT}") from None
    return parse_baseline(text, path)


def parse_baseline(text: str, path: str) -> Baseline:
    """The baseline in SARIF ``text`` (read from ``path``, named in errors)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); "
                         f"{_HINT}") from None
    runs = doc.get("runs") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0" or not isinstance(runs, list):
        raise InputError(f"{path}: not a SARIF 2.1.0 log (no \"version\": \"2.1.0\" with "
                         f"\"runs\"); {_HINT}")
    out: list[BaselineResult] = []
    for r, run in enumerate(runs):
        tool = _get(run, "tool", "driver", "name")
        if tool != "abiscope":
            raise InputError(f"{path}: run {r} is {_tool_text(tool)}, not abiscope's; {_HINT}")
        results = run.get("results") if isinstance(run, dict) else None
        if results is None:
            continue
        if not isinstance(results, list):
            raise InputError(f"{path}: run {r}: \"results\" is not a list; {_HINT}")
        for i, res in enumerate(results):
            entry = _result(res, f"{path}: run {r}, result {i}")
            if entry is not None:
                out.append(entry)
    return Baseline(path, tuple(out))


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _tool_text(tool: Any) -> str:
    return f"the output of {tool!r}" if isinstance(tool, str) else "without a tool name"


def _result(res: Any, where: str) -> BaselineResult | None:
    """One baseline result; None for a result the baseline run itself marked ``absent``
    (a run with --baseline: not a finding of that run)."""
    if not isinstance(res, dict):
        raise InputError(f"{where}: not an object; {_HINT}")
    if res.get("baselineState") == ABSENT:
        return None
    prints = res.get("partialFingerprints")
    prints = prints if isinstance(prints, dict) else {}
    v1, v2 = prints.get(FINGERPRINT_V1), prints.get(FINGERPRINT_V2)
    props = res.get("properties")
    props = props if isinstance(props, dict) else {}
    rule, record, member = res.get("ruleId"), props.get("record"), props.get("member", "")
    if not isinstance(v2, str) and not isinstance(v1, str):
        raise InputError(f"{where}: no {FINGERPRINT_V2} or {FINGERPRINT_V1} fingerprint "
                         f"(a SARIF of `abiscope diff`, or of another tool?); {_HINT}")
    if not (isinstance(rule, str) and isinstance(record, str) and isinstance(member, str)):
        raise InputError(f"{where}: no ruleId, or no record/member in its properties; "
                         f"{_HINT}")
    return BaselineResult(rule, record, member, v1 if isinstance(v1, str) else "",
                          v2 if isinstance(v2, str) else "", res)


def compare(findings: Sequence[Finding], baseline: Baseline,
            rules: Collection[str]) -> Comparison:
    """Each finding ``new`` or ``unchanged``; the baseline results of ``rules`` (the rule
    ids this run selected) that no finding matched, ``absent``."""
    by_v2: dict[str, list[int]] = {}
    by_key: dict[tuple[str, str, str], list[int]] = {}  # results with v1 only
    for i, b in enumerate(baseline.results):
        if b.v2:
            by_v2.setdefault(b.v2, []).append(i)
        else:
            by_key.setdefault((b.rule, b.record, b.member), []).append(i)
    matched: set[int] = set()
    states: list[str] = []
    for f in findings:
        pool = by_v2.get(f.stable_fingerprint) or by_key.get((f.rule, f.record, f.member))
        if pool:
            matched.add(pool.pop(0))
            states.append(UNCHANGED)
        else:
            states.append(NEW)
    absent = tuple(b for i, b in enumerate(baseline.results)
                   if i not in matched and b.rule in rules)
    return Comparison(tuple(states), absent)
