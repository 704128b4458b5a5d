"""Model invariants and the JSON snapshot: schema-valid, byte-identical round trips."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.errors import InputError
from abiscope.model import (
    CType,
    Member,
    dumps,
    gaps,
    json_schema,
    model_from_json,
    model_to_json,
)
from abiscope.targets import resolve
from conftest import SEED_DIR, SEED_HEADERS


@pytest.fixture(scope="module")
def seed_model() -> frontend.Model:
    return frontend.parse([str(SEED_DIR / h) for h in SEED_HEADERS],
                          resolve("default,riscv64,s390x,win32").targets,
                          frontend.ParseOptions(all_files=True))


def test_json_validates_against_the_committed_schema(seed_model: frontend.Model) -> None:
    doc = model_to_json(seed_model)
    jsonschema.Draft202012Validator.check_schema(json_schema())
    jsonschema.validate(doc, json_schema())


def test_json_round_trip_is_byte_identical(seed_model: frontend.Model) -> None:
    text = dumps(model_to_json(seed_model))
    again = dumps(model_to_json(model_from_json(json.loads(text))))
    assert again == text


def test_loaded_model_equals_parsed_model(seed_model: frontend.Model) -> None:
    loaded = model_from_json(json.loads(dumps(model_to_json(seed_model))))
    assert loaded.records == seed_model.records
    assert loaded.enums == seed_model.enums
    assert loaded.failures == seed_model.failures


def test_wrong_schema_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"not an abiscope\.layout/1"):
        model_from_json({"schema": "abiscope.layout/0"})
    with pytest.raises(InputError, match="malformed"):
        model_from_json({"schema": "abiscope.layout/1", "targets": {}, "records": [{}]})


INT = CType("int", "int", 4, 4, "int", True)


@st.composite
def member_lists(draw: st.DrawFn) -> tuple[list[Member], int]:
    """Non-overlapping members in increasing order, and a record size covering them."""
    members, cursor = [], 0
    for i in range(draw(st.integers(0, 8))):
        cursor += draw(st.integers(0, 40))
        size = draw(st.integers(1, 64))
        members.append(Member(f"m{i}", INT, cursor, size, 4))
        cursor += size
    size_bytes = (cursor + 7) // 8 + draw(st.integers(0, 9))
    return members, size_bytes


@settings(max_examples=300, deadline=None)
@given(member_lists())
def test_holes_members_and_tail_padding_cover_every_bit(case: tuple[list[Member], int]) -> None:
    members, size = case
    holes, tail = gaps(members, size)
    covered = sum(m.size_bits for m in members) + sum(h.size_bits for h in holes) + tail
    assert covered == size * 8
    assert all(h.size_bits > 0 for h in holes)
    for h in holes:
        assert not any(m.offset_bits < h.offset_bits + h.size_bits and
                       h.offset_bits < m.offset_bits + m.size_bits for m in members)


def test_record_kind_is_per_target(seed_model: frontend.Model) -> None:
    """Xen's guest handle: a struct wrapping a pointer on x86, a union on Arm."""
    handle = seed_model.record("__guest_handle_void")
    assert handle is not None
    kinds = {t: lay.kind for t, lay in handle.layouts.items() if t != "win32"}
    assert kinds == {"i386": "struct", "x86_64": "struct", "x32": "struct",
                     "arm": "union", "aarch64": "union"}
