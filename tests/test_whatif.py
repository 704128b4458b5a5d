"""What-if layouts equal what clang gives for the same rewrite written as C."""

from __future__ import annotations

from pathlib import Path

import pytest

from abiscope import frontend, whatif
from abiscope.errors import InputError, UsageError
from abiscope.model import RecordLayout
from abiscope.targets import TARGETS
from conftest import SEED_DIR

OPTIONS = frontend.ParseOptions(system_dirs=False)


def shape(lay: RecordLayout) -> tuple[object, ...]:
    return (lay.size, lay.align, lay.tail_padding_bits, len(lay.holes),
            [(m.name, m.offset_bits, m.size_bits) for m in lay.members])


def clang(tmp_path: Path, text: str, name: str, target: str) -> RecordLayout:
    header = tmp_path / f"{target}.h"
    header.write_text("#include <stdint.h>\n" + text)
    rec = frontend.parse([str(header)], [TARGETS[target]], OPTIONS, jobs=1).record(name)
    assert rec is not None
    return rec.layouts[target]


@pytest.mark.parametrize("target", ["x86_64", "i386", "x32"])
def test_reorder_pad_and_retype_match_clang(tmp_path: Path, target: str) -> None:
    header = tmp_path / "base.h"
    header.write_text("#include <stdint.h>\n"
                      "struct s { char a; uint64_t b; char c; long d; };\n")
    decls = frontend.parse_decls(str(header), TARGETS[target], OPTIONS)
    reordered = whatif.reorder(decls, "struct s", ["b", "d", "a", "c"])
    assert shape(whatif.layout(reordered, "struct s", target)) == shape(clang(
        tmp_path, "struct s { uint64_t b; long d; char a; char c; };\n", "struct s", target))
    padded = whatif.insert_padding(decls, "struct s", "a", 3, "pad1")
    assert shape(whatif.layout(padded, "struct s", target)) == shape(clang(
        tmp_path, "struct s { char a; uint8_t pad1[3]; uint64_t b; char c; long d; };\n",
        "struct s", target))
    retyped = whatif.replace_type(decls, "struct s", "d", whatif.fixed_width(64))
    assert shape(whatif.layout(retyped, "struct s", target)) == shape(clang(
        tmp_path, "struct s { char a; uint64_t b; char c; uint64_t d; };\n", "struct s",
        target))


def test_padding_the_seed_design_a_removes_its_tail_padding_everywhere() -> None:
    decls = frontend.parse_decls(str(SEED_DIR / "dm_op_v3.h"), TARGETS["x86_64"], OPTIONS)
    key = "struct xen_dm_op_buf_v3"
    before = whatif.layout(decls, key, "x86_64")
    fixed = whatif.insert_padding(decls, key, "", before.tail_padding, "pad")
    for target in ("x86_64", "i386", "m68k"):
        after = whatif.layout(fixed, key, target)
        assert after.size == before.size and not after.tail_padding_bits and not after.holes
        assert [m.offset_bits for m in after.members[:2]] == \
            [m.offset_bits for m in before.members]
    grown = whatif.layout(fixed, key, "lp128")  # the future still breaks it (claim 3)
    assert grown.size > before.size


def test_bad_what_ifs_are_clear_errors(tmp_path: Path) -> None:
    header = tmp_path / "e.h"
    header.write_text("struct e { int a; int b; };\n")
    decls = frontend.parse_decls(str(header), TARGETS["x86_64"], OPTIONS)
    with pytest.raises(UsageError, match="each of a, b once"):
        whatif.reorder(decls, "struct e", ["a"])
    with pytest.raises(InputError, match="no member 'z'"):
        whatif.insert_padding(decls, "struct e", "z", 4)
    with pytest.raises(InputError, match="not declared"):
        whatif.layout(decls, "struct nope", "x86_64")
    with pytest.raises(UsageError, match="no data model"):
        whatif.layout(decls, "struct e", "wasm32")
