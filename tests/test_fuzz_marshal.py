"""marshal ``unpack`` and ``convert`` on random and truncated buffers (hypothesis).

For every record of ``marshal_headers/shapes.h`` and the seed headers, on a 64-bit and a
32-bit, a big-endian and a little-endian target: a buffer of the wrong length is always a
``BufferSizeError`` (never accepted, never read short), any buffer of the right length
either unpacks or is a ``MarshalError`` naming the member, and a converted buffer has the
destination's exact size and unpacks there again. No other exception may escape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abiscope import frontend, marshal
from abiscope.model import Model
from abiscope.targets import TARGETS
from conftest import SEED_DIR

SHAPES = Path(__file__).parent / "marshal_headers" / "shapes.h"
PAIRS = (("x86_64", "i386"), ("i386", "x86_64"), ("ppc64", "x86_64"), ("x86_64", "s390x"))
TARGET_SET = tuple(sorted({t for p in PAIRS for t in p}))


@pytest.fixture(scope="module")
def model() -> Model:
    shapes = frontend.parse([str(SHAPES)], [TARGETS[t] for t in TARGET_SET],
                            frontend.ParseOptions(system_dirs=False), jobs=1)
    seed = frontend.parse([str(SEED_DIR / "privcmd_dm_op.h")], [TARGETS[t] for t in TARGET_SET],
                          frontend.ParseOptions(all_files=True), jobs=1)
    return Model(shapes.targets, shapes.records + tuple(
        r for r in seed.records if r.name not in {s.name for s in shapes.records}),
        shapes.enums + seed.enums, (), shapes.inputs + seed.inputs, ())


def _records(model: Model, src: str, dst: str) -> list[str]:
    return [r.name for r in model.records if src in r.layouts and dst in r.layouts
            and r.layouts[src].size > 0]


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.mark.parametrize(("src", "dst"), PAIRS)
@SETTINGS
@given(data=st.data())
def test_random_buffers(model: Model, src: str, dst: str, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_records(model, src, dst)))
    rec = next(r for r in model.records if r.name == name)
    size = rec.layouts[src].size
    length = data.draw(st.one_of(st.just(size), st.integers(0, size * 2 + 8)))
    buf = data.draw(st.binary(min_size=length, max_size=length))
    kind = data.draw(st.sampled_from([bytes, bytearray, memoryview]))
    if length != size:
        with pytest.raises(marshal.BufferSizeError):
            marshal.unpack(rec, src, kind(buf), model)
        with pytest.raises(marshal.BufferSizeError):
            marshal.convert(rec, kind(buf), src, dst, model)
        return
    try:
        marshal.unpack(rec, src, kind(buf), model)
    except marshal.MarshalError as exc:
        assert exc.path, exc  # names what it could not read
    try:
        out = marshal.convert(rec, kind(buf), src, dst, model)
    except marshal.MarshalError as exc:
        assert str(exc)
        return
    assert len(out) == rec.layouts[dst].size
    marshal.unpack(rec, dst, out, model)


@pytest.mark.parametrize(("src", "dst"), PAIRS[:2])
def test_every_truncation_is_refused(model: Model, src: str, dst: str) -> None:
    cases = 0
    for name in _records(model, src, dst):
        rec = next(r for r in model.records if r.name == name)
        good = marshal.pack(rec, src, {}, model)
        for cut in range(len(good)):
            with pytest.raises(marshal.BufferSizeError):
                marshal.unpack(rec, src, good[:cut], model)
            cases += 1
        with pytest.raises(marshal.BufferSizeError):
            marshal.convert(rec, good + b"\0", src, dst, model)
    assert cases > 100
