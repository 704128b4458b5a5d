"""Properties of the hypothetical 128-bit models on generated records (no compiler exists):
a record with nothing pointer- or long-sized in it keeps its x86_64 layout; every pointer is
16 bytes and 16-aligned; fixed-width types keep their width."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.checks.rules import _width_dependent
from abiscope.model import CType, Member, Model, iter_members
from abiscope.targets import TARGETS
from cgen.cstructs import CProgram, c_programs

FUTURE = ("lp128", "cheri128")
MODEL_WIDTH = {"long", "unsigned long", "size_t", "ssize_t", "ptrdiff_t", "intptr_t",
               "uintptr_t", "long double"}


def depends(model: Model, t: CType, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a type's layout can change with the data model (x86_64 model as reference)."""
    base = t.element if t.kind == "array" and t.element is not None else t
    if _width_dependent(base) or base.kind == "pointer" or base.kind == "function":
        return True
    if base.kind == "enum" or (base.kind == "record" and not base.record and t.kind == "array"):
        return True  # an enum may be long-sized; the model does not look into arrays of
        # unnamed records
    if base.kind == "record" and base.record and base.record not in seen:
        rec = model.record(base.record)
        return rec is None or any(depends(model, m.type, seen | {base.record})
                                  for _, m in iter_members(rec.layouts["x86_64"].members))
    return False


# An unnamed bitfield is not a member, but its type's size decides where the next one goes
# (``long :32`` straddles a 64-bit unit at bit 42, not a 128-bit one).
_UNNAMED_MODEL_BITFIELD = re.compile(
    r"\b(?:" + "|".join(sorted(MODEL_WIDTH, key=len, reverse=True)) + r")\s*:\s*\d")


def record_depends(model: Model, members: tuple[Member, ...], source: str = "") -> bool:
    return _UNNAMED_MODEL_BITFIELD.search(source) is not None \
        or any(depends(model, m.type) for _, m in iter_members(members))


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(c_programs(), min_size=5, max_size=5))
def test_128_bit_models(programs: list[CProgram]) -> None:
    targets = [TARGETS[t] for t in ("x86_64", *FUTURE)]
    with tempfile.TemporaryDirectory() as tmp:
        for i, prog in enumerate(programs):
            path = Path(tmp) / f"p{i}.h"
            path.write_text(prog.source)
            model = frontend.parse([str(path)], targets,
                                   frontend.ParseOptions(system_dirs=False), jobs=1)
            assert not model.failures, model.failures[0].summary()
            for rec in model.records:
                if rec.name not in prog.records:
                    continue
                base = rec.layouts["x86_64"]
                for target in FUTURE:
                    lay = rec.layouts[target]
                    for _, m in iter_members(lay.members):
                        if m.type.kind == "pointer":
                            assert (m.size_bits, m.align) == (128, 16), (target, m)
                        if "uint64_t" in m.type.typedefs[:1] or "int64_t" in m.type.typedefs[:1]:
                            assert m.size_bits == 64 or m.bitfield, (target, m)
                    if not record_depends(model, base.members, prog.source):
                        assert (lay.size, lay.align, [(p, m.offset_bits, m.size_bits)
                                                      for p, m in iter_members(lay.members)]) \
                            == (base.size, base.align, [(p, m.offset_bits, m.size_bits)
                                                        for p, m in iter_members(base.members)]
                                ), (target, rec.name, prog.source)
