"""Text of the build variants ``abiscope targets`` lists (:mod:`abiscope.variants`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def render_text(listing: Sequence[Mapping[str, Any]]) -> str:
    """One line per variant: its name, what the compiler is told, where it applies."""
    lines = ["variants (TARGET+VARIANT[+VARIANT…], e.g. arm+time64; docs/variants.md):"]
    width = max((len(v["name"]) for v in listing), default=0)
    for v in listing:
        told = " ".join([*(f"-D{d}" for d in v["defines"]), *(f"-U{u}" for u in v["undefines"]),
                         *v["flags"]])
        only = f" [{', '.join(v['only'])} only]" if v["only"] else ""
        origin = "" if v["origin"] == "built-in" else f" (from {v['origin']})"
        lines.append(f"  {v['name']:<{width}}  {told}{only}: {v['description']}{origin}")
    return "\n".join(lines)
