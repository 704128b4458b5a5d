"""Verify a suggested rewrite by laying it out again with clang.

The rewrite is parsed after the original header (so every type it uses resolves), under a
fresh name; it holds when its padding findings vanish and every existing member keeps its
offset on the reference target.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from .checks import Finding
from .frontend import ParseOptions, parse
from .model import Model, Record, iter_members
from .targets import Target

_FIX_TAG = "__abiscope_fix_"


def _renamed(preview: str, record: Record) -> tuple[str, str]:
    """The preview with the record renamed; returns (text, new model name)."""
    if record.name.startswith(("struct ", "union ")):
        kind, tag = record.name.split(" ", 1)
        new = f"{kind} {_FIX_TAG}{tag}"
        return preview.replace(record.name + " {", new + " {", 1), new
    new = f"{_FIX_TAG}{record.name}"
    return re.sub(rf"\b{re.escape(record.name)};\s*$", f"{new};", preview.rstrip()) + "\n", new


def verify(finding: Finding, record: Record, model: Model, target: Target,
           options: ParseOptions) -> Finding:
    """The finding with its preview marked verified, or marked as failing and why."""
    if not finding.fix_preview or target.name not in record.layouts:
        return finding
    original = record.layouts[target.name]
    header = os.path.abspath(record.location.file)
    text, new_name = _renamed(finding.fix_preview, record)
    probe = header + ".abiscope-fix.h"
    source = f'#include "{header}"\n#include <stdint.h>\n{text}'
    fixed_model = parse([probe], [target], replace(
        options, unsaved=(*options.unsaved, (probe, source)), all_files=True), jobs=1,
        check_files=False)
    fixed = fixed_model.record(new_name)
    if fixed is None or target.name not in fixed.layouts:
        why = fixed_model.failures[0].summary() if fixed_model.failures else "not found"
        return replace(finding, fix_preview=finding.fix_preview
                       + f"/* abiscope: could NOT verify this rewrite: {why} */\n")
    lay = fixed.layouts[target.name]
    before = {p: m.offset_bits for p, m in iter_members(original.members) if m.name}
    after = {p: m.offset_bits for p, m in iter_members(lay.members) if m.name}
    moved = [p for p, off in before.items() if after.get(p) != off]
    if moved or lay.holes or lay.tail_padding or lay.size != original.size:
        problem = f"members moved: {', '.join(moved)}" if moved else "padding remains"
        note = f"/* abiscope: this rewrite does NOT hold on {target.name}: {problem} */\n"
    else:
        note = (f"/* abiscope: verified on {target.name}: same size ({lay.size}), every "
                "member at its old offset, no implicit padding */\n")
    return replace(finding, fix_preview=finding.fix_preview + note)
