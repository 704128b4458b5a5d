"""The walk's bulk reads (``abiscope.frontend.facts``): the C helper reads the same facts as
``clang.cindex`` does, one call at a time, and the model made with it is the same."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from abiscope import frontend
from abiscope.frontend import facts
from abiscope.frontend.bindings import FastCalls, load_cindex
from abiscope.frontend.units import ParseOptions
from abiscope.targets import TARGETS
from conftest import IN_CI, skip_or_fail

# what makes the helper's buffers grow, and what its readings must get right
EDGES = """
#include <stdint.h>
struct many { %(many)s };
enum wide { %(constants)s };
enum big { BIG_MIN = -9223372036854775807LL - 1, BIG_MAX = 9223372036854775807LL };
enum ubig { UBIG = 18446744073709551615ULL, UHALF = 0x8000000000000000ULL };
enum neg { NEG = -3, POS = 3 };
enum : unsigned char { SMALL = 255 };
typedef int (*long_pointer)(%(params)s);
struct forward;
struct holder {
    struct forward *later;
    struct inner_tagged { int i; } __attribute__((packed)) inner;
    long_pointer f;
    int : 3;
    int a : 5, : 0, b : 7;
    struct { int x; union { char y; long z; }; };
    union { struct { short p, q; } pair; int whole; } u[2];
    __attribute__((aligned(16))) int aligned;
    char caf\u00e9;
    char tail[];
};
"""


def _edges(tmp: Path) -> Path:
    text = EDGES % {
        "many": " ".join(f"int member_with_a_rather_long_name_{i} : {1 + i % 31};"
                         for i in range(300)),
        "constants": ", ".join(f"CONSTANT_{i} = {i * 7 - 500}" for i in range(200)),
        "params": ", ".join(f"struct holder_param_type_{i} *" for i in range(40)),
    }
    path = tmp / "edges.h"
    path.write_text(text, encoding="utf8")
    return path


def _inputs(tmp: Path) -> list[str]:
    headers = [str(_edges(tmp))]
    root = "/usr/include/linux"
    if os.path.isdir(root):
        headers += sorted(glob.glob(f"{root}/*.h"))[:40]
    xen = "/usr/include/xen"
    if os.path.isdir(xen):
        headers += sorted(glob.glob(f"{xen}/*.h"))[:6]
    return headers


def _unit(header: str, extra: list[str]) -> Any:
    ci = load_cindex()
    return ci.Index.create().parse(header, args=["-x", "c", "-std=gnu11", *extra])


def _cursors(cursor: Any) -> Iterator[Any]:
    yield cursor
    for child in cursor.get_children():
        yield from _cursors(child)


def _cursor_id(cursor: Any) -> tuple[Any, ...]:
    return (cursor._kind_id, cursor.xdata, *cursor.data)  # (no padding bytes)


def _readings(units: list[Any]) -> list[Any]:
    """Everything the walk reads in bulk, of every record, enum and declaration in the
    units, as plain values."""
    ci = load_cindex()
    ck = ci.CursorKind
    fast = FastCalls()
    out: list[Any] = []
    kinds = [(ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL), (ck.TYPEDEF_DECL,),
             (ck.FIELD_DECL, ck.PACKED_ATTR, ck.ALIGNED_ATTR), (ck.MACRO_DEFINITION,)]
    for tu in units:
        for wanted in kinds:
            out.append([_cursor_id(c) for c in facts.children_of(tu.cursor, wanted)])
            out.append([(_cursor_id(c), name)
                        for c, name in facts.definitions(tu.cursor, wanted, fast)])
        for cursor in _cursors(tu.cursor):
            if cursor.kind in (ck.STRUCT_DECL, ck.UNION_DECL) and cursor.is_definition():
                out.append([
                    (f.name, _cursor_id(f.cursor), facts.type_key(f.type), f.type_key,
                     f.offset_bits, f.bit_width, f.has_attrs, f.anonymous_record, f.file,
                     f.line, f.column, f.cursor._tu is tu, f.type._tu is tu)
                    for f in facts.fields(cursor.type, fast)])
                out.append([_cursor_id(c) for c in facts.children_of(cursor, kinds[0])])
                out.append([(_cursor_id(c), name) for c, name
                            in facts.definitions(cursor, (*kinds[0], ck.PACKED_ATTR), fast)])
            if cursor.kind == ck.ENUM_DECL and cursor.is_definition():
                out.append(facts.enum_constants(cursor, fast))
            if cursor.kind.is_declaration():
                out.append((facts.canonical_spelling(cursor, fast),
                            facts.type_spelling(cursor.type, fast)))
    return out


@pytest.fixture
def without_helper(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def absent() -> None:
        return None
    monkeypatch.setattr(facts, "_native", absent)
    yield


def test_the_helper_is_built() -> None:
    if not facts.native():
        skip_or_fail("abiscope.frontend._facts is not built (a C compiler at install time: "
                     "pip install -e . builds it)")


def test_the_helper_reads_what_the_bindings_read(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if not facts.native():
        pytest.skip("the C helper is not built")
    units = [_unit(h, ["-D_GNU_SOURCE"]) for h in _inputs(tmp_path)]
    edges = units[0]
    assert not [d for d in edges.diagnostics if d.severity >= 3], list(edges.diagnostics)
    units.append(_unit(str(_edges(tmp_path)), ["-target", "i686-linux-gnu"]))
    units.append(_unit(str(_edges(tmp_path)), ["-target", "aarch64-linux-gnu"]))
    with_helper = _readings(units)
    monkeypatch.setattr(facts, "_native", lambda: None)
    assert with_helper == _readings(units)
    # and the readings cover what they must: a buffer's growth, every kind of value
    flat = repr(with_helper)
    for needle in ("member_with_a_rather_long_name_299", "CONSTANT_199",
                   "holder_param_type_39", "'BIG_MIN', ", "'UBIG', ", "caf\u00e9",
                   "'struct inner_tagged'", "'struct forward'"):
        assert needle in flat, needle


def test_the_model_is_the_same_with_the_helper_and_without(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not facts.native() and not IN_CI:
        pytest.skip("the C helper is not built")
    headers = _inputs(tmp_path)
    targets = [TARGETS["i386"], TARGETS["x86_64"], TARGETS["m68k"]]
    opts = ParseOptions(all_files=True, macros=True)
    with_helper = frontend.parse(headers, targets, opts, jobs=1)
    assert any(r.name == "struct many" for r in with_helper.records)
    monkeypatch.setattr(facts, "_native", lambda: None)
    assert frontend.parse(headers, targets, opts, jobs=1) == with_helper
