"""Verify suggested rewrites by laying them out again with clang, on every target.

A record's padding fix is offered only when it holds on every real target the record is laid
out on: no implicit hole, no tail padding, the same size and every existing member at its old
offset there. The padded rewrite of each target is tried as the one declaration for all;
when none serves them all, one declaration per group of targets under ``#if`` (by the width
of ``long`` where that is the difference) is verified the same way. Rewrites are parsed
after the original header (so every type they use resolves), under fresh names, every record
of a header in one translation unit per target.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace

from .checks import Finding, bytes_text
from .checks.fixes import padded_record, per_target_record
from .errors import AbiscopeError
from .frontend import ParseOptions, parse
from .model import Model, Record, iter_members
from .targets import MODELS, Target

_FIX_TAG = "__abiscope_fix_"


def _renamed(text: str, record: Record, index: int) -> tuple[str, str]:
    """Every declaration of the record in ``text`` renamed; returns (text, new model name)."""
    tag = f"{_FIX_TAG}{index}_"
    if record.name.startswith(("struct ", "union ")):
        kind, name = record.name.split(" ", 1)
        new = f"{kind} {tag}{name}"
        return text.replace(record.name + " {", new + " {"), new
    new = f"{tag}{record.name}"
    pattern = rf"^(\}}[^\n]*) {re.escape(record.name)};$"
    return re.sub(pattern, rf"\1 {new};", text, flags=re.M), new


def _problem(original: Record, fixed: Record | None, target: str) -> str | None:
    """Why the rewrite does not hold on ``target`` (None: it does)."""
    if fixed is None or target not in fixed.layouts:
        return "not laid out"
    old, new = original.layouts[target], fixed.layouts[target]
    before = {p: m.offset_bits for p, m in iter_members(old.members) if m.name}
    after = {p: m.offset_bits for p, m in iter_members(new.members) if m.name}
    moved = [p for p, off in before.items() if after.get(p) != off]
    if moved:
        return f"members moved: {', '.join(moved)}"
    if new.holes:
        return "implicit hole after " + ", ".join(f"`{h.after}`" for h in new.holes)
    if new.tail_padding:
        return f"{bytes_text(new.tail_padding_bits)} of tail padding"
    if new.size != old.size:
        return f"size {new.size}, was {old.size}"
    return None


def _layout_all(jobs: list[tuple[Record, str]], targets: Sequence[Target],
                options: ParseOptions, inputs: Sequence[str]) -> list[dict[str, str | None]]:
    """Each (record, C text) laid out on every target: per job, target -> problem or None.
    A record of an input header is parsed after that header, any other (one the inputs
    include: some headers may not be included directly) after every input; one translation
    unit per such group and target."""
    given = [os.path.abspath(h) for h in inputs]
    by_header: dict[tuple[str, ...], list[str]] = {}
    names: list[str] = []
    for i, (record, text) in enumerate(jobs):
        renamed, new = _renamed(text, record, i)
        own = os.path.abspath(record.location.file)
        key = (own,) if own in given or not given else tuple(given)
        by_header.setdefault(key, []).append(renamed)
        names.append(new)
    probes, unsaved = [], []
    for n, (headers, texts) in enumerate(by_header.items()):
        probe = f"{headers[0]}.abiscope-fix{n}.h"
        probes.append(probe)
        includes = "".join(f'#include "{h}"\n' for h in headers)
        unsaved.append((probe, f"{includes}#include <stdint.h>\n" + "\n".join(texts)))
    try:
        fixed_model = parse(probes, list(targets), replace(
            options, unsaved=(*options.unsaved, *unsaved), all_files=True), jobs=1,
            check_files=False)
    except AbiscopeError as exc:  # the rewrites do not parse at all: none is offered
        return [{t.name: f"does not parse: {exc}" for t in targets if t.name in r.layouts}
                for r, _ in jobs]
    why = "; ".join(f.summary() for f in fixed_model.failures[:1])
    out = []
    for (record, _), new in zip(jobs, names, strict=True):
        fixed = fixed_model.record(new)
        out.append({t.name: (_problem(record, fixed, t.name) if fixed is not None or not why
                             else f"does not parse: {why}")
                    for t in targets if t.name in record.layouts})
    return out


def _holds(problems: dict[str, str | None]) -> bool:
    return all(p is None for p in problems.values())


def _failures(problems: dict[str, str | None]) -> str:
    return "; ".join(f"{t}: {p}" for t, p in problems.items() if p is not None)


def fixed_previews(records: Sequence[Record], targets: Sequence[Target],
                   options: ParseOptions, inputs: Sequence[str] = ()) -> dict[str, str]:
    """Record name -> the verified rewrite as C (with a comment saying where it was
    verified), or a comment saying why no rewrite is offered. ``targets``: the reference
    first, then the other real targets."""
    candidates: list[tuple[Record, str]] = []
    spans: dict[str, tuple[int, int]] = {}
    for record in records:
        names = [t.name for t in targets if t.name in record.layouts]
        texts = list(dict.fromkeys(padded_record(record, t) for t in names))
        spans[record.name] = (len(candidates), len(candidates) + len(texts))
        candidates += [(record, text) for text in texts]
    results = _layout_all(candidates, targets, options, inputs) if candidates else []
    out: dict[str, str] = {}
    second: list[tuple[Record, str]] = []
    for record in records:
        start, end = spans[record.name]
        where = ", ".join(t.name for t in targets if t.name in record.layouts)
        ok = next((i for i in range(start, end) if _holds(results[i])), None)
        if ok is not None:
            out[record.name] = candidates[ok][1] + (
                f"/* abiscope: verified on {where}: same size, every member at its old "
                "offset, no implicit padding (ABI001/ABI002) */\n")
            continue
        variants: dict[str, list[str]] = {}
        for t in (t.name for t in targets if t.name in record.layouts):
            variants.setdefault(padded_record(record, t), []).append(t)
        long_size = {t: MODELS[t].scalars["long"][0] for ts in variants.values() for t in ts
                     if t in MODELS}
        single = _failures(results[start])
        if "flexible array member: no member" in candidates[start][1]:
            out[record.name] = ("/* abiscope: no rewrite offered: tail padding follows the "
                                f"flexible array member, no member can declare it ({single}) */\n")
            continue
        if len(variants) == 1:
            out[record.name] = f"/* abiscope: no rewrite offered: {single} */\n"
            continue
        alternative = per_target_record(variants, long_size)
        note = (f"/* abiscope: no single declaration serves {where}: the layouts differ "
                f"(the {targets[0].name} rewrite elsewhere: {single}) */\n")
        if alternative is None:
            out[record.name] = note + "/* abiscope: no rewrite offered */\n"
            continue
        out[record.name] = note + alternative
        second.append((record, alternative))
    for (record, text), problems in zip(
            second, _layout_all(second, targets, options, inputs) if second else [],
            strict=True):
        where = ", ".join(problems)
        if _holds(problems):
            out[record.name] += (f"/* abiscope: one declaration per layout, verified on "
                                 f"{where}: same size, every member at its old offset, no "
                                 "implicit padding (ABI001/ABI002) */\n")
        else:
            head = out[record.name][:len(out[record.name]) - len(text)]
            out[record.name] = head + ("/* abiscope: no rewrite offered: the per-target one "
                                       f"does not hold ({_failures(problems)}) */\n")
    return out


def verify(findings: Sequence[Finding], model: Model, targets: Sequence[Target],
           options: ParseOptions, inputs: Sequence[str] = ()) -> list[Finding]:
    """The findings with each record's fix preview replaced by its verified rewrite (the
    same text on every finding of that record)."""
    records: dict[str, Record] = {}
    for f in findings:
        record = model.record(f.record) if f.fix_preview else None
        if record is not None:
            records.setdefault(record.name, record)
    previews = fixed_previews(list(records.values()), targets, options, inputs)
    return [replace(f, fix_preview=previews[f.record]) if f.fix_preview and f.record in
            previews else f for f in findings]
