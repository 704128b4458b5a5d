"""``abiscope verify-rust``: hand-written #[repr(C)] mirrors against C records.

The virtio-iommu config space (tests/data/rust/virtio_iommu.h, written from the VIRTIO
spec) with cloud-hypervisor's mirror (``_reserved: [u8; 7]``: 44 bytes, not 40) and the
fixed one; the seed records through what ``gen rust`` writes; and verify-rust's own layout
of Rust items checked against rustc's (tests/oracle/rustc_layout) on every Rust target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.codegen.rust import generate_rust
from abiscope.codegen.rust_layout import RUST_TARGETS, layout
from abiscope.codegen.rust_verify import cfg_holds, parse_rust, verify
from abiscope.errors import InputError
from abiscope.targets import TARGETS
from conftest import SEED_DIR, SEED_HEADERS, skip_or_fail
from oracle.rustc_layout import find_rustc, rustc_layouts

DATA = Path(__file__).parent / "data" / "rust"
HEADER = str(DATA / "virtio_iommu.h")
LINUX = ["x86_64", "i386", "arm", "aarch64", "ppc64", "s390x"]


def test_cloud_hypervisor_reserved_bug(run_cli) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("verify-rust", str(DATA / "virtio_iommu_ch.rs"), HEADER,
                  "-t", ",".join(LINUX), "-f", "json")
    assert res.code == 1
    doc = json.loads(res.out)
    assert doc["schema"] == "abiscope.verify-rust/1"
    size = [d for d in doc["differences"] if d["what"] == "size"]
    assert len(size) == 1 and size[0]["rust"] == 44 and size[0]["c"] == 40
    assert size[0]["targets"] == LINUX and size[0]["item"] == "VirtioIommuConfig"
    assert size[0]["record"] == "struct virtio_iommu_config" and size[0]["line"] == 22
    missing = [d for d in doc["differences"] if d["what"] == "missing"]
    assert [d["field"] for d in missing] == ["reserved"]


def test_fixed_mirror_matches_but_not_on_m68k(run_cli) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("verify-rust", str(DATA / "virtio_iommu_fixed.rs"), HEADER,
                  "-t", ",".join(LINUX))
    assert res.code == 0, res.out + res.err
    assert "3 item(s) compared on 6 target(s)" in res.out and "all match C" in res.out
    # rustc aligns u64 to 4 on m68k, GCC to 2: the plain repr(C) mirror is over-aligned
    res = run_cli("verify-rust", str(DATA / "virtio_iommu_fixed.rs"), HEADER, "-t", "m68k")
    assert res.code == 1
    assert "VirtioIommuConfig: align 4 in Rust, 2 in C" in res.out


def test_sarif(run_cli) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("verify-rust", str(DATA / "virtio_iommu_ch.rs"), HEADER, "-t", "x86_64",
                  "-f", "sarif")
    assert res.code == 1
    doc = json.loads(res.out)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"RUST001"}
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 22


def test_bad_input_is_exit_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.rs"
    bad.write_text("#[repr(C)]\nstruct S { a: u8,, }\n")
    res = run_cli("verify-rust", str(bad), HEADER, "-t", "x86_64")
    assert res.code == 2 and "bad.rs:2:" in res.err and "Traceback" not in res.err
    res = run_cli("verify-rust", str(tmp_path / "missing.rs"), HEADER, "-t", "x86_64")
    assert res.code == 2


def test_cfg_predicates() -> None:
    facts = {"target_arch": "x86_64", "target_os": "linux", "target_pointer_width": "64",
             "target_endian": "little", "target_family": "unix", "target_env": "gnu"}
    assert cfg_holds('all(target_arch = "x86_64", not(windows))', facts)
    assert not cfg_holds('any(target_arch = "arm", target_pointer_width = "32")', facts)
    assert cfg_holds("unix", facts)
    with pytest.raises(InputError):
        cfg_holds("all(", facts)


def test_cfg_items_per_target(tmp_path: Path) -> None:
    src = tmp_path / "s.rs"
    src.write_text("""
#[cfg(target_pointer_width = "64")]
#[repr(C)]
pub struct virtio_iommu_range_32 { pub start: u64, pub end: u64 }
#[cfg(target_pointer_width = "32")]
#[repr(C)]
pub struct virtio_iommu_range_32 { pub start: u32, pub end: u32 }
""")
    model = frontend.parse([HEADER], [TARGETS["x86_64"], TARGETS["arm"]],
                           frontend.ParseOptions(), jobs=1)
    verdict = verify(parse_rust(src.read_text(), str(src)), model)
    assert {d.target for d in verdict.differences} == {"x86_64"}


def test_generated_seed_mirrors_verify_clean() -> None:
    """What gen rust writes for the seed headers verifies clean on every target, m68k too
    (its corrections are what verify-rust expects rustc to do)."""
    for header in SEED_HEADERS:
        path = str(SEED_DIR / header)
        targets = ["x86_64", "i386", "x32", "arm", "aarch64"]
        model = frontend.parse([path], [TARGETS[t] for t in targets],
                               frontend.ParseOptions(all_files=True, system_dirs=False),
                               jobs=1)
        text = generate_rust(model, list(model.records)).text
        verdict = verify(parse_rust(text, header + ".rs"), model)
        assert verdict.items and not verdict.differences, verdict.differences[:5]
        assert not [n for n in verdict.notes if "not compared" in n], verdict.notes


ITEMS = """
#[repr(C)]
pub struct A { pub a: u8, pub b: u64, pub c: u16 }
#[repr(C)]
pub struct B { pub a: u8, pub b: f64, pub c: [u16; 3], pub d: *const u8, pub e: A }
#[repr(C, packed(2))]
pub struct C { pub a: u8, pub b: u64, pub c: u32 }
#[repr(C, align(16))]
pub struct D { pub a: u8, pub b: f32 }
#[repr(C)]
pub union U { pub a: u8, pub b: u64, pub c: [u8; 9] }
#[repr(C, packed)]
pub struct P { pub a: u8, pub b: u128, pub c: i16 }
#[repr(C)]
pub struct L { pub a: crate::ffi::c_char, pub b: crate::ffi::c_long, pub c: usize }
"""


def test_layout_model_is_rustc_s() -> None:
    """verify-rust's layout of these items equals rustc's on every Rust target."""
    rustc = find_rustc()
    if rustc is None:
        skip_or_fail("rustc not installed (Debian: rustc-web; or rustup)")
    spread = ITEMS.replace("{ ", "{\n    ").replace(", pub ", ",\n    pub ").replace(" }", ",\n}")
    rust = parse_rust(spread, "items.rs")
    by = {i.name: i for i in rust.items}
    for target, rt in RUST_TARGETS.items():
        got, err = rustc_layouts(spread, rt.triple, rustc)
        assert len(got) == 7, (target, err[:2000])

        def resolve(name: str, rt=rt) -> tuple[int, int]:  # type: ignore[no-untyped-def]
            it = by[name]
            lay = layout([f.rtype for f in it.fields], it.repr, it.kind == "union", rt,
                         resolve)
            return lay.size, lay.align

        for item in rust.items:
            ours = layout([f.rtype for f in item.fields], item.repr, item.kind == "union", rt,
                          resolve)
            theirs = got[item.name]
            assert (ours.size, ours.align) == (theirs.size, theirs.align), (target, item.name)
            if item.kind == "struct":
                assert ours.offsets == tuple(o for _, o in theirs.fields), (target, item.name)


def test_json_matches_schema(run_cli) -> None:  # type: ignore[no-untyped-def]
    import jsonschema
    schema = json.loads((Path(__file__).parents[1] / "src" / "abiscope" / "schema" /
                         "verify-rust-1.schema.json").read_text())
    for name in ("virtio_iommu_ch.rs", "virtio_iommu_fixed.rs"):
        res = run_cli("verify-rust", str(DATA / name), HEADER, "-t", "x86_64,m68k",
                      "-f", "json")
        jsonschema.validate(json.loads(res.out), schema)


def test_seed_mirror_64bit_only(run_cli) -> None:  # type: ignore[no-untyped-def]
    """The seed case in Rust: a mirror with u64 for void * and size_t is right on 64-bit
    targets only; the portable one (pointer, usize) everywhere."""
    res = run_cli("verify-rust", str(DATA / "privcmd_seed.rs"),
                  str(SEED_DIR / "privcmd_dm_op.h"), "-t", "x86_64,aarch64,i386,arm",
                  "-f", "json")
    assert res.code == 1
    doc = json.loads(res.out)
    assert {i["item"] for i in doc["items"]} == {"privcmd_dm_op_buf", "PrivcmdDmOp",
                                                 "PrivcmdDmOpBufPortable"}
    wrong = {(d["item"], d["field"], d["what"], d["rust"], d["c"]): d["targets"]
             for d in doc["differences"]}
    assert wrong == {
        ("privcmd_dm_op_buf", "", "size", 16, 8): ["i386", "arm"],
        ("privcmd_dm_op_buf", "", "align", 8, 4): ["arm"],  # u64: 4-aligned on i686 too
        ("privcmd_dm_op_buf", "uptr", "field size", 8, 4): ["i386", "arm"],
        ("privcmd_dm_op_buf", "size", "offset", 8, 4): ["i386", "arm"],
        ("privcmd_dm_op_buf", "size", "field size", 8, 4): ["i386", "arm"],
    }, wrong


def test_repr_int_enum_and_aliases(tmp_path: Path) -> None:
    src = tmp_path / "e.rs"
    src.write_text("""
#[repr(u8)]
pub enum Bypass { Off = 0, On = 1 }
type Le32 = u32;
const RESERVED: usize = 3;
// abiscope: struct virtio_iommu_config
#[repr(C)]
pub struct Config {
    pub page_size_mask: u64,
    pub input_range: [u64; 2],
    pub domain_range: [Le32; 2],
    pub probe_size: Le32,
    pub bypass: Bypass,
    pub reserved: [u8; RESERVED],
}
""")
    model = frontend.parse([HEADER], [TARGETS["x86_64"]], frontend.ParseOptions(), jobs=1)
    verdict = verify(parse_rust(src.read_text(), str(src)), model)
    assert [i.name for i, _ in verdict.items] == ["Config"] and not verdict.notes
    assert not verdict.differences, verdict.differences


def test_cfg_of_enclosing_module(tmp_path: Path) -> None:
    src = tmp_path / "m.rs"
    src.write_text("""
#[cfg(target_pointer_width = "32")]
mod narrow {
    #[repr(C)]
    pub struct virtio_iommu_range_32 { pub start: u16, pub end: u16 }
}
""")
    model = frontend.parse([HEADER], [TARGETS["x86_64"], TARGETS["arm"]],
                           frontend.ParseOptions(), jobs=1)
    verdict = verify(parse_rust(src.read_text(), str(src)), model)
    assert {d.target for d in verdict.differences} == {"arm"}
