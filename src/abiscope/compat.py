"""Compat verdicts: does one definition of a record serve a native and a compat target?

``compare(model, "x86_64", "i386")`` classifies every record ``identical`` (same size, and
every member, at every depth including inside unions, at the same offset with the same size;
members paired by name) or ``translate`` (the bytes differ, or it contains or points to a
record that does). The rules are ARCHITECTURE.md's "Compat JSON" section:

- a nested record declared differently on the two targets (its member names differ: Xen's
  64-bit guest handle is a union of a pointer and a ``uint64_aligned_t`` on x86_32 and a
  struct of one pointer on x86_64) is compared as a whole: same offset, size and alignment
  is ``identical``, with a note naming both definitions;
- the pointer+integer 64-bit handle union is compared as a whole;
- a difference in alignment alone is ``identical``, with a note;
- a member of size 0 on one side only, inside the record, changes no byte: a note;
- transitivity: a record containing, or pointing to, a record that needs translation needs
  it too (``via`` names those records; a note says whether through a pointer).

:func:`compare_layouts` (``abiscope.sameness``, the one comparison every command uses; see
docs/comparison.md) compares any two (record, target) pairs; this module adds transitivity
and the verdict words. Reads the model only and returns data; the renderers (text, JSON
``abiscope.compat/1``, Xen ``xlat.lst`` style) are in :mod:`abiscope.report.compat`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from .functions import FunctionVerdict, compare_functions
from .model import Model, Record
from .sameness import Comparison as Comparison  # re-exported: compat's comparison is
from .sameness import Edge as Edge  # sameness's, callable from here as before
from .sameness import MemberDelta as MemberDelta
from .sameness import _named as _named
from .sameness import _names as _names
from .sameness import compare_layouts as compare_layouts
from .sameness import handle_union as handle_union

SCHEMA_ID = "abiscope.compat/1"
VERDICTS = ("identical", "translate")

# Xen's names of its architectures, as `@arch@` stands for them in xlat.lst file paths.
XEN_ARCH = {"i386": "x86_32", "x86_64": "x86_64", "arm": "arm32", "aarch64": "arm64"}


@dataclass(frozen=True)
class RecordVerdict:
    name: str
    verdict: Literal["identical", "translate"]
    reasons: tuple[MemberDelta, ...]
    notes: tuple[str, ...]
    via: tuple[str, ...]  # records it contains or points to that need translation


@dataclass(frozen=True)
class CompatReport:
    native: str
    compat: str
    records: tuple[RecordVerdict, ...]
    # the functions the inputs declare (abiscope.functions; rendered by report.functions)
    functions: tuple[FunctionVerdict, ...] = ()

    def verdict(self, name: str) -> RecordVerdict | None:
        return next((r for r in self.records if r.name == name), None)

    def translate(self) -> tuple[str, ...]:
        """Names whose verdict is ``translate``."""
        return tuple(r.name for r in self.records if r.verdict == "translate")


# ---------------------------------------------------------------------------------------
# verdicts


def compare(model: Model, native: str, compat: str,
            records: Sequence[Record] | None = None) -> CompatReport:
    """Verdicts for ``records`` (default: every record of the model on either target)."""
    for t in (native, compat):
        if t not in model.targets:
            raise ValueError(f"target {t!r} is not in the model "
                             f"(it has {', '.join(model.targets)})")
    everything = [r for r in model.records if native in r.layouts or compat in r.layouts]
    core = {r.name: compare_layouts(model, (r, native), (r, compat)) for r in everything}
    needs = {name for name, c in core.items() if c.deltas}
    changed = True
    while changed:  # transitive closure over containment and pointers (cycles allowed)
        changed = False
        for name, c in core.items():
            if name not in needs and any(e.record in needs for e in c.edges):
                needs.add(name)
                changed = True
    chosen = everything if records is None else [r for r in records if r.name in core]
    out = []
    for rec in sorted(chosen, key=lambda r: r.name):
        c = core[rec.name]
        via_edges = [e for e in c.edges if e.record in needs and e.record != rec.name]
        notes = list(c.notes)
        for e in via_edges:
            if e.pointer:
                notes.append(f"points to {e.record} (member `{e.path}`), which needs "
                             "translation: what it points to must be translated too")
            else:
                notes.append(f"contains {e.record} (member `{e.path}`), which needs "
                             "translation")
        if rec.name in needs and not c.deltas and any(e.record == rec.name for e in c.edges):
            notes.append("points to itself")
        via = tuple(sorted({e.record for e in via_edges}))
        verdict: Literal["identical", "translate"] = \
            "translate" if rec.name in needs else "identical"
        out.append(RecordVerdict(rec.name, verdict, c.deltas, tuple(notes), via))
    return CompatReport(native, compat, tuple(out),
                        compare_functions(model, native, compat, needs))


# ---------------------------------------------------------------------------------------
# Xen list names and paths (data: the renderers are in abiscope.report.compat)


def json_schema() -> dict[str, Any]:
    """The committed JSON Schema of ``abiscope.compat/1``."""
    text = resources.files("abiscope").joinpath("schema/compat-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def xlat_name(record: str) -> str:
    """The name xlat.lst gives a record: the tag, without ``struct``/``union`` and a leading
    ``xen_`` (``struct xen_dm_op_buf`` -> ``dm_op_buf``)."""
    tag = record.split(" ", 1)[1] if record.startswith(("struct ", "union ")) else record
    return tag[4:] if tag.startswith("xen_") and len(tag) > 4 else tag


def xlat_matches(entry: str, record: str) -> bool:
    """Whether an xlat.lst NAME names this record: the C tag ``NAME`` or ``xen_NAME``."""
    tag = record.split(" ", 1)[1] if record.startswith(("struct ", "union ")) else record
    return tag in (entry, f"xen_{entry}")


def xen_public_dir(path: str) -> str | None:
    """Xen's ``include/public`` holding a header: the outermost directory above it that holds
    ``xen.h`` (``/usr/include/xen`` on Debian; outermost, as ``arch-x86/`` has a ``xen.h``
    of its own); None outside Xen."""
    here = os.path.dirname(os.path.normpath(os.path.abspath(path)))
    found = None
    while True:
        if _holds_xen_h(here):
            found = here
        parent = os.path.dirname(here)
        if parent == here:
            return found
        here = parent


@functools.lru_cache(maxsize=256)
def _holds_xen_h(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "xen.h"))


def xlat_file(path: str, roots: Sequence[str], native: str, compat: str,
              xlat_root: str | None = None) -> str:
    """A header path as xlat.lst writes it: relative to ``xlat_root`` (``--xlat-root``) when
    it holds the header, else to Xen's ``include/public`` holding it (the directory of
    ``xen.h``: ``hvm/dm_op.h``, as Xen's list writes it), else to the first include root
    holding it; with the compat (and native) architecture's Xen name replaced by
    ``@arch@``."""
    norm = os.path.normpath(os.path.abspath(path))
    xen = xen_public_dir(norm) if xlat_root is None else None
    for root in ([xlat_root] if xlat_root is not None else []) + ([xen] if xen else []) \
            + list(roots):
        base = os.path.normpath(os.path.abspath(root))
        if norm.startswith(base + os.sep):
            rel = os.path.relpath(norm, base)
            break
    else:
        rel = os.path.basename(norm)
    for target in (compat, native):
        arch = XEN_ARCH.get(target)
        if arch and arch in rel:
            return rel.replace(arch, "@arch@")
    return rel
