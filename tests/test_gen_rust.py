"""``abiscope gen rust`` against rustc and GCC.

rustc is the oracle for the Rust side: on the host the generated file is compiled (its
``size_of``/``align_of``/``offset_of!`` assertions run at compile time); on every other
target rustc lays the generated items out under ``#![no_core]`` (tests/oracle/rustc_layout)
and the result is compared with GCC's DWARF (tests/oracle/gcc_dwarf) on the seed headers,
the generated-record fuzzer and a batch of plain scalar records. The last one measures where
rustc's own ``repr(C)`` differs from GCC: the list published in docs/rust.md.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.codegen.rust import generate_rust, rust_ident
from abiscope.codegen.rust_layout import RUST_TARGETS
from abiscope.targets import TARGETS
from cgen.cstructs import CProgram, c_programs
from conftest import SEED_DIR, SEED_HEADERS, skip_or_fail
from differential import INEXACT_TARGETS, gcc_layouts, probes_for
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc
from oracle.rustc_layout import dump_attribute, find_rustc, rustc_layouts
from rust_support import RustTally, compare_rust

# gcc-checked abiscope targets that Rust knows
RUST_GCC_TARGETS = [t for t in GCC_FOR_TARGET if t in RUST_TARGETS and t in TARGETS]
# the whole-corpus and whole-fuzzer runs: targets whose model equals their gcc's there
# (differential.INEXACT_TARGETS), UAPI only where the target has a Linux UAPI tree (bare
# metal is checked on the seed and generated records)
RUST_EXACT_TARGETS = [t for t in RUST_GCC_TARGETS if t not in INEXACT_TARGETS]
RUST_CORPORA = [(t, c) for t in RUST_EXACT_TARGETS for c in ("xen", "uapi")
                if c == "xen" or (TARGETS[t].checker is not None and TARGETS[t].checker.uapi)]
# where plain #[repr(C)] is not GCC's layout (measured by test_plain_repr_c_differs_only_on)
REPR_C_DIFFERS = {"m68k"}

EXAMPLE = """\
#include <stdint.h>
enum color { RED, GREEN = 5 };
struct inner { uint16_t a; };
struct S { uint8_t a; uint64_t b; uint16_t c; };
struct T {
    int type;
    union { int x; float y; };
    struct { char p; long q; } named;
    unsigned f1:3, f2:7;
    signed int f3:4;
    struct inner in;
    enum color col;
    char *s;
    void (*fn)(int);
    uint32_t flex[];
};
typedef struct { long double ld; _Bool b; double d; } td_t;
struct A { char c; int x __attribute__((aligned(16))); };
struct __attribute__((packed)) P { char c; uint32_t x; uint64_t y; };
union UB { unsigned a:3; int b; };
struct __attribute__((packed)) PA { char c; struct A a; };
struct flex_of_unnamed { int n; struct { short x; } items[2]; };
"""


def _rustc() -> str:
    rustc = find_rustc()
    if rustc is None:
        skip_or_fail("rustc not installed (Debian: rustc-web; or rustup)")
        raise AssertionError
    return rustc


def _parse(path: str, targets: list[str]) -> frontend.Model:  # type: ignore[name-defined]
    return frontend.parse([path], [TARGETS[t] for t in targets],
                          frontend.ParseOptions(all_files=True, system_dirs=False), jobs=1)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("rs") / "example.h"
    path.write_text(EXAMPLE)
    return str(path)


def test_raw_identifiers() -> None:
    assert rust_ident("type") == "r#type"
    assert rust_ident("self") == "self_"
    assert rust_ident("x") == "x"


def test_m68k_packs_where_rustc_over_aligns(example: str) -> None:
    """The issue's m68k record: rustc's repr(C) gives 16/4, GCC 12/2; gen rust writes
    packed(2), and the assertions carry GCC's numbers."""
    model = _parse(example, ["x86_64", "m68k"])
    text = generate_rust(model, [model.record("struct S")]).text  # type: ignore[list-item]
    m68k = text.split('#[cfg(target_arch = "m68k")]\n#[repr(')[1]
    assert m68k.startswith("C, packed(2))]")
    assert "const _: () = assert!(::core::mem::size_of::<S>() == 12);" in text
    assert "const _: () = assert!(::core::mem::align_of::<S>() == 2);" in text
    assert "const _: () = assert!(::core::mem::offset_of!(S, c) == 10);" in text


def test_refusal_is_said_and_propagates(example: str) -> None:
    """rustc cannot put a type with align(N) inside a packed one (E0588): C's packed record
    holding an aligned(16) record is refused, in a comment and a note, never written."""
    model = _parse(example, ["x86_64"])
    out = generate_rust(model, list(model.records))
    assert [(r, t) for r, t, _ in out.refused] == [("struct PA", "x86_64")]
    assert "// PA: not generated for x86_64: rustc's repr(C) places PA" in out.text
    assert "pub struct PA" not in out.text and "size_of::<PA>" not in out.text


def test_unknown_target_left_out_with_comment(example: str) -> None:
    model = _parse(example, ["x86_64", "lp128"])
    out = generate_rust(model, list(model.records))
    assert "// lp128: left out, Rust has no target for it" in out.text
    assert out.targets == ("x86_64",)


def test_one_definition_where_targets_agree(example: str) -> None:
    model = _parse(example, ["x86_64", "aarch64"])
    text = generate_rust(model, list(model.records)).text
    assert text.count("pub struct T {") == 1 and "#[cfg(any(" not in text


def test_host_compiles_and_assertions_hold(example: str, tmp_path: Path) -> None:
    """The generated file for many targets compiles on the host (edition 2021) and the
    host's assertions hold; bitfield accessors round-trip."""
    rustc = _rustc()
    headers = [example] + [str(SEED_DIR / h) for h in SEED_HEADERS]
    for i, header in enumerate(headers):
        model = _parse(header, ["x86_64", "i386", "arm", "aarch64", "m68k", "s390x", "win64"])
        text = generate_rust(model, list(model.records)).text
        src = tmp_path / f"gen{i}.rs"
        if header == example:
            text += TEST_MAIN
        src.write_text(text)
        argv = [rustc, "--edition", "2021", "-o", str(tmp_path / f"gen{i}"), str(src)]
        if header != example:
            argv[3:3] = ["--crate-type", "lib"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[:4000]
    run = subprocess.run([str(tmp_path / "gen0")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr


TEST_MAIN = """
fn main() {
    let mut t: T = unsafe { ::core::mem::zeroed() };
    t.set_f1(5); t.set_f2(100); t.set_f3(-3);
    assert_eq!((t.f1(), t.f2(), t.f3()), (5, 100, -3));
    // x86_64 GCC: f1 is bits 0-2, f2 bits 3-9, f3 bits 10-13 of the unit (little-endian)
    let raw = u16::from_le_bytes(t._bitfield_1);
    assert_eq!(raw, 5 | (100 << 3) | ((-3i16 as u16 & 0xf) << 10));
    let mut u: UB = unsafe { ::core::mem::zeroed() };
    u.set_a(6);
    assert_eq!((u.a(), unsafe { u.b }), (6, 6));
    println!("ok");
}
"""


def test_cfg_table_selects_exactly_its_target() -> None:
    """Every #[cfg] predicate of the table is true on its own Rust target and false on
    every other one (rustc evaluates them)."""
    rustc = _rustc()
    attr = dump_attribute(rustc)
    items = "\n".join(f"#[cfg({rt.cfg})]\npub struct is_{name} {{\n    pub x: u8,\n}}"
                      for name, rt in RUST_TARGETS.items())
    assert attr in ("rustc_layout", "rustc_dump_layout")
    for name, rt in RUST_TARGETS.items():
        got, err = rustc_layouts(items, rt.triple, rustc)
        assert set(got) == {f"is_{name}"}, (name, rt.triple, sorted(got), err[:2000])


def test_primitive_alignments_are_rustc_s() -> None:
    """The table's primitive alignments are what rustc says on each triple."""
    rustc = _rustc()
    prims = ["u16", "u32", "u64", "u128", "f32", "f64", "usize"]
    items = "\n".join(f"pub struct P_{p} {{\n    pub x: {p},\n}}" for p in prims) + \
        "\npub struct P_ptr {\n    pub x: *const u8,\n}"
    for name, rt in RUST_TARGETS.items():
        got, err = rustc_layouts(items, rt.triple, rustc)
        assert got, err[:2000]
        for p in [*prims, "ptr"]:
            assert got[f"P_{p}"].align == rt.align_of(p), (name, p)


def _compare_headers(target: str, headers: list[str], plain: bool = False) -> RustTally:
    tally = RustTally()
    for header in headers:
        model = _parse(header, [target])
        if model.failures:
            continue
        gcc = gcc_layouts({header: f'#include "{header}"\n'}, target,
                          {header: probes_for(model, target)})[header]
        if not gcc.ok:
            continue
        tally.add(compare_rust(model, target, gcc.records, Path(header).name, plain=plain))
    return tally


@pytest.mark.parametrize("target", RUST_GCC_TARGETS)
def test_seed_rustc_matches_gcc(target: str, example: str) -> None:
    """What gen rust writes, laid out by rustc for the target, is GCC's layout."""
    _rustc()
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tally = _compare_headers(target, [example] + [str(SEED_DIR / h) for h in SEED_HEADERS])
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records >= 10 and tally.refused == 1  # struct PA (E0588), nothing else
    print(f"{target}: {tally.records} records, {tally.fields} fields: rustc == gcc")


_SCALARS = ["char", "signed char", "unsigned char", "short", "unsigned short", "int",
            "unsigned", "long", "unsigned long", "long long", "unsigned long long", "float",
            "double", "void *", "_Bool", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
            "int64_t"]


def plain_records(seed: int, count: int) -> str:
    """C records of scalars, arrays, nested records and unions: no attributes, no
    bitfields: the records a plain #[repr(C)] mirror can express."""
    rnd = random.Random(seed)
    out = ["#include <stdint.h>"]
    for i in range(count):
        kind = "union" if rnd.random() < 0.15 else "struct"
        fields = []
        for j in range(rnd.randint(1, 6)):
            roll = rnd.random()
            if roll < 0.15 and i:
                ty = f"{'struct' if rnd.random() < 0.8 else 'union'} p{rnd.randrange(i)}"
            else:
                ty = rnd.choice(_SCALARS)
            dim = f"[{rnd.randint(1, 3)}]" if rnd.random() < 0.15 else ""
            fields.append(f"{ty} f{j}{dim};")
        out.append(f"{kind} p{i} {{ {' '.join(fields)} }};")
    # a nested record must be of the kind it was declared with
    text = "\n".join(out)
    for i in range(count):
        declared = "union" if f"union p{i} {{" in text else "struct"
        other = "struct" if declared == "union" else "union"
        text = text.replace(f"{other} p{i} f", f"{declared} p{i} f")
    return text + "\n"


@pytest.mark.parametrize("target", RUST_GCC_TARGETS)
def test_plain_repr_c_differs_only_on(target: str, tmp_path: Path) -> None:
    """Plain #[repr(C)] mirrors of 150 scalar records: rustc's layout is GCC's on every
    gcc-checked target except those of REPR_C_DIFFERS (docs/rust.md), where it differs."""
    _rustc()
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    header = tmp_path / "plain.h"
    header.write_text(plain_records(31, 150))
    tally = _compare_headers(target, [str(header)], plain=True)
    assert tally.records == 150, tally
    if target in REPR_C_DIFFERS:
        assert tally.mismatches
    else:
        assert not tally.mismatches, "\n".join(tally.mismatches[:20])
    corrected = _compare_headers(target, [str(header)])
    assert not corrected.mismatches and corrected.records == 150, corrected.mismatches[:20]
    print(f"{target}: plain repr(C) {len(tally.mismatches)} differences in "
          f"{tally.records} records; gen rust: {corrected.records} records match gcc")


def _fuzz(programs: list[CProgram], targets: list[str]) -> RustTally:
    tally = RustTally()
    with tempfile.TemporaryDirectory(prefix="abiscope-rs-") as tmp:
        for target in targets:
            gcc = gcc_layouts({str(i): p.source for i, p in enumerate(programs)}, target,
                              {str(i): list(p.probes) for i, p in enumerate(programs)})
            for i, prog in enumerate(programs):
                path = os.path.join(tmp, f"gen{i}.h")
                Path(path).write_text(prog.source)
                if not gcc[str(i)].ok:
                    continue
                model = frontend.parse([path], [TARGETS[target]],
                                       frontend.ParseOptions(system_dirs=False), jobs=1)
                if model.failures:
                    continue
                part = compare_rust(model, target, gcc[str(i)].records, f"gen{i}")
                if part.mismatches:
                    part.mismatches.append(f"program:\n{prog.source}")
                tally.add(part)
    return tally


def _fuzz_targets(targets: list[str]) -> list[str]:
    _rustc()
    ok = [t for t in targets if find_gcc(t) is not None]
    if len(ok) < len(targets):
        skip_or_fail("cross gccs missing: " + ", ".join(sorted(set(targets) - set(ok))))
    return ok


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=(Phase.explicit, Phase.generate), derandomize=True)
@given(st.lists(c_programs(), min_size=6, max_size=6))
def test_fuzzed_records_rustc_matches_gcc_quick(programs: list[CProgram]) -> None:
    """gen rust on fuzzer records (bitfields, packed, aligned, anonymous members, flexible
    arrays...): rustc's layout of what it writes (or its refusal) is GCC's."""
    tally = _fuzz(programs, _fuzz_targets(["x86_64", "i386", "m68k"]))
    assert not tally.mismatches, "\n".join(tally.mismatches[:10])


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
          phases=(Phase.explicit, Phase.generate), derandomize=True)
@given(st.lists(c_programs(), min_size=8, max_size=8))
def test_fuzzed_records_rustc_matches_gcc(programs: list[CProgram]) -> None:
    tally = _fuzz(programs, _fuzz_targets(RUST_EXACT_TARGETS))
    assert not tally.mismatches, "\n".join(tally.mismatches[:10])


def _corpus(target: str, corpus: str) -> tuple[RustTally, RustTally]:
    """gen rust's output and plain repr(C) mirrors for a whole corpus on one target, laid
    out by rustc in one run each, against GCC's DWARF of every header (compiled once)."""
    import glob

    from abiscope.frontend import relpath
    from oracle.gcc_dwarf import UAPI_DIRS, system_include_dirs, uapi_headers
    from test_differential_corpora import XEN_DEFINES, XEN_DIR, by_file

    gcc_dirs: tuple[str, ...] = ()
    gcc_flags: tuple[str, ...] = ()
    if corpus == "uapi":
        gcc_dirs = tuple(system_include_dirs(target))
        root = gcc_dirs[-1] if gcc_dirs else ""
        if not os.path.isdir(os.path.join(root, "linux")):
            skip_or_fail(f"no Linux UAPI headers for {target}")
        paths = {n: os.path.join(root, n) for n in uapi_headers(root, UAPI_DIRS)}
        options = frontend.ParseOptions(sysroots=tuple((target, d) for d in gcc_dirs))
    else:
        if not os.path.isfile(os.path.join(XEN_DIR, "xen.h")):
            skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
        paths = {relpath(h): h
                 for h in sorted(glob.glob(f"{XEN_DIR}/**/*.h", recursive=True))}
        options = frontend.ParseOptions(defines=XEN_DEFINES, force_includes=("stdint.h",),
                                        system_dirs=False)
        gcc_flags = ("-include", "stdint.h")
    model = frontend.parse(list(paths.values()), [TARGETS[target]], options, jobs=1)
    declared = by_file(model)
    probes = {sid: [r.name for r in declared.get(relpath(p), ())] for sid, p in paths.items()}
    gcc = gcc_layouts({sid: f'#include "{p}"\n' for sid, p in paths.items()}, target, probes,
                      include_dirs=gcc_dirs, defines=options.defines, extra_flags=gcc_flags)
    # each record as compiled in the header that declares it
    merged = {name: res.records[name] for sid, res in gcc.items() if res.ok
              for name in probes[sid] if name in res.records}
    return (compare_rust(model, target, merged, corpus),
            compare_rust(model, target, merged, corpus, plain=True))


@pytest.mark.slow
@pytest.mark.parametrize(("target", "corpus"), RUST_CORPORA)
def test_corpora_rustc_matches_gcc(target: str, corpus: str) -> None:
    """Xen's public headers and Linux UAPI: rustc's layout of what gen rust writes is GCC's
    for every record it writes; plain repr(C) mirrors differ only where REPR_C_DIFFERS."""
    _rustc()
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    gen, plain = _corpus(target, corpus)
    print(f"{target} {corpus}: gen rust {gen.records} records, {gen.fields} fields, "
          f"{gen.refused} refused; plain repr(C): {plain.records} records, "
          f"{len(plain.mismatches)} differences")
    assert not gen.mismatches, "\n".join(gen.mismatches[:20])
    assert gen.records > 50
    if target in REPR_C_DIFFERS:
        assert plain.mismatches
    else:
        assert not plain.mismatches, "\n".join(plain.mismatches[:20])


def test_cli(run_cli, example: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ex.rs"
    res = run_cli("gen", "rust", example, "-t", "x86_64,m68k,lp128", "-o", str(out))
    assert res.code == 0, res.err
    text = out.read_text()
    assert text.startswith("// Generated by abiscope gen rust")
    assert "Rust 1.82 or later" in text and "edition 2021" in text
    assert "lp128: left out" in res.err and "struct PA: not generated for x86_64" in res.err
    res = run_cli("gen", "rust", example, "-t", "lp128")
    assert res.code == 2 and "none of the selected targets is known to Rust" in res.err


@pytest.mark.slow
def test_uapi_file_compiles_on_host(tmp_path: Path) -> None:
    """gen rust for every Linux UAPI header of the host on six targets, one file: it
    compiles (E0588, unsafe union fields, dangling pointer types and `_` fields were found
    this way) and the x86_64 assertions hold."""
    rustc = _rustc()
    import glob
    headers = sorted(glob.glob("/usr/include/linux/*.h"))
    if not headers:
        skip_or_fail("no Linux UAPI headers (linux-libc-dev)")
    model = frontend.parse(headers, [TARGETS[t] for t in
                                     ("x86_64", "i386", "arm", "aarch64", "m68k", "s390x")],
                           frontend.ParseOptions(), jobs=1)
    out = generate_rust(model, list(model.records))
    src = tmp_path / "uapi.rs"
    src.write_text(out.text)
    proc = subprocess.run([rustc, "--edition", "2021", "--crate-type", "lib", "-o",
                           str(tmp_path / "libuapi.rlib"), str(src)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[:4000]
    assert out.text.count("const _: () = assert!") > 20000
