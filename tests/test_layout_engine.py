"""abiscope's own layout engine: the documented m68k/lp128/cheri128 facts, and GCC as judge.

(a) hand-built declarations for the facts ARCHITECTURE.md ("Target names") and the seed
claims state; (b) generated C programs (``cgen.cstructs``) compiled by GCC for i386, x86_64,
x32 and m68k and read back from DWARF: the engine, given clang's parse of the same program
(``frontend.parse_decls``) and the matching data model, must lay out every record exactly as
GCC does: size, alignment, and every member's offset and size, to the bit.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.checks import CheckConfig, run_checks
from abiscope.datamodels import MODELS, DataModel
from abiscope.decls import SCALARS, DeclSet, FieldDecl, RecordDecl, TypeDecl
from abiscope.errors import InputError
from abiscope.layout_engine import LayoutEngine, layout_record
from abiscope.model import Member, RecordLayout
from abiscope.targets import TARGETS
from cgen.cstructs import CProgram, c_programs
from conftest import skip_or_fail
from differential import Tally, clang_refuses
from oracle.gcc_dwarf import GCC_FOR_TARGET, OracleRecord, compile_layouts, find_gcc, flatten

GCC_TARGETS = ("i386", "x86_64", "x32", "m68k")
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

# --------------------------------------------------------------------------- (a) facts


def scalar(name: str, *typedefs: str, align_attr: int | None = None) -> TypeDecl:
    spelling = typedefs[0] if typedefs else name
    return TypeDecl("scalar", spelling, scalar=name, typedefs=typedefs, align_attr=align_attr,
                    signed=not name.startswith("unsigned"))


VOID_P = TypeDecl("pointer", "void *", pointee=TypeDecl("void", "void"))
CHAR = scalar("char")
INT = scalar("int")
SIZE_T = scalar("unsigned long", "size_t")
UINT64 = scalar("unsigned long", "uint64_t", "__uint64_t")
INTPTR = scalar("long", "intptr_t")


def field(name: str, t: TypeDecl, bits: int | None = None, **kw: Any) -> FieldDecl:
    return FieldDecl(name, t, bit_width=bits, **kw)


def lay(model: str, *fields: FieldDecl, kind: str = "struct", **kw: Any) -> RecordLayout:
    rec = RecordDecl("struct s", kind, fields, **kw)
    return layout_record(DeclSet({"struct s": rec}), "struct s", MODELS[model])


def offsets(layout: RecordLayout) -> dict[str, int]:
    return {m.name: m.offset_bits for m in layout.members}


def test_models_size_every_scalar() -> None:
    assert set(MODELS) >= {"m68k", "lp128", "cheri128", "x86_64", "i386", "x32", "arm",
                           "aarch64", "riscv64", "riscv32", "ppc", "ppc64", "ppc64le", "s390x",
                           "mips", "mips64", "sparc64", "loongarch64", "win32", "win64"}
    assert all(TARGETS[name].model is model for name, model in MODELS.items())
    for model in MODELS.values():
        assert set(SCALARS) <= set(model.scalars), model.name
        for name in ("uint64_t", "__u64", "__le64", "__be32", "int8_t"):
            size = model.width_names[name][0]
            assert size == MODELS["x86_64"].width_names[name][0], (model.name, name)
        assert model.width_names["__aligned_u64"][:2] == (8, 8)


def test_lp128_handle_and_size_t_no_padding() -> None:
    """Seed claim: ``struct { void *h; size_t size; }`` is 32 bytes, no padding, on lp128."""
    got = lay("lp128", field("h", VOID_P), field("size", SIZE_T))
    assert (got.size, got.align, got.holes, got.tail_padding_bits) == (32, 16, (), 0)
    assert offsets(got) == {"h": 0, "size": 128}


def test_cheri128_handle_and_size_t_tail_padding() -> None:
    """Seed claim: the same struct on cheri128 is 24 bytes used + 8 bytes tail padding."""
    got = lay("cheri128", field("h", VOID_P), field("size", SIZE_T))
    assert (got.size, got.align, got.tail_padding) == (32, 16, 8)
    assert [m.size_bits for m in got.members] == [128, 64]


def test_fixed_width_names_keep_their_width() -> None:
    """``uint64_t`` stays 8 bytes under lp128 although clang's canonical type is ``long``;
    ``intptr_t`` is 16 under cheri128 although ``long`` stays 8 there."""
    got = lay("lp128", field("u", UINT64), field("l", scalar("long")))
    assert [m.size_bits for m in got.members] == [64, 128]
    assert got.members[0].type.size == 8 and got.members[0].type.signed is False
    got = lay("cheri128", field("p", INTPTR), field("l", scalar("long")))
    assert [(m.size_bits, m.align) for m in got.members] == [(128, 16), (64, 8)]
    assert got.size == 32


def test_m68k_caps_natural_alignment_at_two() -> None:
    """ARCHITECTURE.md: ``struct { char c; uint64_t u; short h; }`` is 12 bytes with u at 2."""
    got = lay("m68k", field("c", CHAR), field("u", UINT64), field("h", scalar("short")))
    assert (got.size, got.align) == (12, 2)
    assert offsets(got) == {"c": 0, "u": 16, "h": 80}
    ld = lay("m68k", field("c", CHAR), field("d", scalar("long double")))
    assert (ld.size, ld.members[1].offset_bits, ld.members[1].size_bits) == (14, 16, 96)
    for t in (scalar("double"), scalar("float"), VOID_P, scalar("long long")):
        assert lay("m68k", field("c", CHAR), field("x", t)).align == 2


def test_m68k_explicit_alignment_still_raises() -> None:
    got = lay("m68k", field("c", CHAR), field("x", INT, align_attr=8))
    assert (got.size, got.align, offsets(got)["x"]) == (16, 8, 64)
    got = lay("m68k", field("c", CHAR), field("x", scalar("int", "t8", align_attr=8)))
    assert (got.size, got.align) == (16, 8)


def test_m68k_bitfields() -> None:
    """GCC m68k has no PCC_BITFIELD_TYPE_MATTERS: the next free bit, and no type alignment."""
    got = lay("m68k", field("c", CHAR), field("a", INT, 3), field("b", INT, 30))
    assert (got.size, got.align, offsets(got)) == (6, 1, {"c": 0, "a": 8, "b": 11})
    got = lay("m68k", field("a", CHAR), field("b", INT, 3))
    assert (got.size, got.align) == (2, 1)
    # a zero-width bit-field aligns to EMPTY_FIELD_BOUNDARY (2), even under #pragma pack(1)
    for pack in (None, 1):
        got = lay("m68k", field("a", CHAR), field("", INT, 0), field("b", CHAR), pack=pack)
        assert (got.size, got.align, offsets(got)) == (4, 2, {"a": 0, "b": 16})
    # a bit-field that fills an integer mode at that mode's alignment takes it
    assert lay("m68k", field("a", INT, 32)).align == 2
    assert lay("m68k", field("a", INT, 31)).align == 1
    got = lay("m68k", field("c", CHAR), field("a", INT, 16))
    assert (got.size, got.align) == (3, 1)


def test_sysv_bitfields_and_zero_width() -> None:
    got = lay("x86_64", field("a", CHAR), field("", INT, 0), field("b", CHAR))
    assert (got.size, got.align, offsets(got)) == (5, 1, {"a": 0, "b": 32})
    assert [m.name for m in got.members] == ["a", "b"]  # unnamed bit-fields are not members
    got = lay("x86_64", field("c", CHAR), field("a", INT, 3))
    assert (got.size, got.align, got.tail_padding_bits) == (4, 4, 21)
    got = lay("i386", field("c", CHAR), field("x", scalar("long long"), 60))
    assert (got.size, got.align, offsets(got)["x"]) == (12, 4, 32)


def test_aapcs_unnamed_bitfields_raise_the_record_alignment() -> None:
    """arm/aarch64 (GCC TARGET_ALIGN_ANONYMOUS_BITFIELD): an unnamed bit-field's type counts
    for the record's alignment; a zero-width one even under #pragma pack (GCC-checked in
    tests/test_engine_targets.py)."""
    unnamed = (field("a", CHAR), field("", INT, 3))
    zero = (field("a", CHAR), field("", INT, 0), field("b", CHAR))
    for model, want in (("x86_64", (2, 1, 5, 1)), ("arm", (4, 4, 8, 4)),
                        ("aarch64", (4, 4, 8, 4)), ("riscv64", (2, 1, 5, 1))):
        a, b = lay(model, *unnamed), lay(model, *zero)
        assert (a.size, a.align, b.size, b.align) == want, model
    for pack in (1, 2):
        got = lay("arm", *zero, pack=pack)
        assert (got.size, got.align, offsets(got)) == (8, 4, {"a": 0, "b": 32})
        got = lay("arm", *unnamed, field("b", CHAR), pack=pack)
        assert (got.size, got.align) == (3 if pack == 1 else 4, pack)
    got = lay("arm", *zero, packed=True)
    assert (got.size, got.align) == (8, 4)
    got = lay("arm", field("a", CHAR), field("", INT, 0), kind="union")
    assert (got.size, got.align) == (4, 4)


def test_typedef_alignment_replaces_the_types() -> None:
    """``typedef long long t __attribute__((aligned(2)))``: exactly 2, lowering included."""
    got = lay("x86_64", field("c", CHAR), field("x", scalar("long long", "a2", align_attr=2)))
    assert (got.size, got.align, offsets(got)["x"], got.members[1].align) == (10, 2, 16, 2)


def test_bare_aligned_is_the_biggest_alignment() -> None:
    """``align_attr == 0`` is a bare ``aligned``: GCC's BIGGEST_ALIGNMENT (m68k 2, x86 16)."""
    got = lay("m68k", field("c", CHAR), field("x", INT, align_attr=0))
    assert (got.size, got.align) == (6, 2)
    got = lay("x86_64", field("c", CHAR), field("x", INT, align_attr=0))
    assert (got.size, got.align) == (32, 16)


def test_pragma_pack_caps_explicit_alignment() -> None:
    """GCC: ``#pragma pack(M)`` caps aligned(N) on members (not on the record)."""
    got = lay("x86_64", field("c", CHAR), field("x", INT, align_attr=8), pack=4)
    assert (got.size, got.align, offsets(got)["x"]) == (8, 4, 32)
    got = lay("x86_64", field("c", CHAR), field("x", INT), pack=4, align_attr=8)
    assert (got.size, got.align) == (8, 8)
    got = lay("x86_64", field("c", CHAR), field("b", INT, 3, align_attr=4), pack=2)
    assert (got.size, offsets(got)["b"]) == (4, 16)


def test_packed_member_with_alignment_is_exactly_that() -> None:
    got = lay("x86_64", field("c", CHAR), field("x", INT, packed=True, align_attr=2))
    assert (got.size, got.align, offsets(got)["x"]) == (6, 2, 16)
    got = lay("x86_64", field("c", CHAR), field("x", INT), packed=True)
    assert (got.size, got.align, got.packed) == (5, 1, True)
    assert got.members[1].align == 4  # the type's alignment, not reduced by packed


def test_unions_nested_and_anonymous_members() -> None:
    inner = RecordDecl("struct s::(anonymous at x.h:1:1)", "struct",
                       (field("p", CHAR), field("q", INT)))
    outer = RecordDecl("union u", "union", (
        field("a", CHAR), field("", TypeDecl("record", inner.key, record=inner.key))))
    decls = DeclSet({r.key: r for r in (inner, outer)})
    got = layout_record(decls, "union u", MODELS["i386"])
    assert (got.size, got.align, got.kind, got.tail_padding_bits) == (8, 4, "union", 0)
    anon = got.members[1]
    assert anon.name == "" and [(m.name, m.offset_bits) for m in anon.members] == [
        ("p", 0), ("q", 32)]


def test_unsupported_input_names_record_and_member() -> None:
    with pytest.raises(InputError, match=r"struct s: member 'z'.*_Complex"):
        lay("x86_64", field("z", TypeDecl("other", "_Complex double")))
    with pytest.raises(InputError, match=r"struct s: member 'w'.*_Decimal64"):
        lay("m68k", field("w", TypeDecl("scalar", "_Decimal64", scalar="_Decimal64")))
    with pytest.raises(InputError, match="not declared"):
        layout_record(DeclSet({}), "struct nowhere", MODELS["x86_64"])


# --------------------------------------------------------------------------- (b) GCC


def compare(target: str, name: str, ours: RecordLayout, theirs: OracleRecord) -> list[str]:
    a = (ours.size, ours.align, ours.kind, flatten(ours.members))
    b = (theirs.size, theirs.align, theirs.kind, flatten(theirs.members))
    if a == b:
        return []
    diff = [f"{x} != {y}" for x, y in zip(a[3], b[3], strict=False) if x != y][:3]
    return [f"[{target}] {name}: engine size/align {a[:3]}, gcc {b[:3]}; {'; '.join(diff)}"]


def check_programs(programs: list[CProgram], targets: tuple[str, ...] = GCC_TARGETS) -> Tally:
    """Lay out every record of every program with the engine and with GCC; tally the rest."""
    for target in targets:
        if find_gcc(target) is None:
            skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tally = Tally()
    sources = {str(i): p.source for i, p in enumerate(programs)}
    with tempfile.TemporaryDirectory(prefix="abiscope-engine-") as tmp:
        paths = []
        for sid, text in sources.items():
            path = Path(tmp) / f"gen{sid}.h"
            path.write_text(text)
            paths.append(str(path))
        for target in targets:
            gcc = compile_layouts(sources, target,
                                  align_probes={str(i): p.probes for i, p in enumerate(programs)})
            model = MODELS[target]
            for i, (prog, header) in enumerate(zip(programs, paths, strict=True)):
                res = gcc[str(i)]
                assert res.ok, f"generator produced invalid C for {target}:\n{res.stderr}"
                try:
                    decls = frontend.parse_decls(header, TARGETS[target],
                                                 frontend.ParseOptions(system_dirs=False))
                except InputError as exc:
                    if clang_refuses(exc):
                        continue
                    raise
                engine = LayoutEngine(decls, model)
                found: list[str] = []
                for name in prog.records:
                    tally.records += 1
                    ours = engine.layout(name)
                    tally.members += len(flatten(ours.members))
                    found += compare(target, name, ours, res.records[name])
                if found:
                    tally.mismatches += [*found, f"program:\n{prog.source}"]
    return tally


def assert_programs_match(programs: list[CProgram]) -> None:
    tally = check_programs(programs)
    assert tally.records > 0
    assert not tally.mismatches, "\n".join(tally.mismatches)


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(atomic=True), min_size=7, max_size=7))
def test_engine_matches_gcc_quick(programs: list[CProgram]) -> None:
    assert_programs_match(programs)


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(atomic=True), min_size=10, max_size=10))
def test_engine_matches_gcc(programs: list[CProgram]) -> None:
    assert_programs_match(programs)


# --------------------------------------------------------------------------- clang's model

# clang 22 ignores aligned(N) on a bit-field for its offset under #pragma pack; GCC does not
# (cstructs.KNOWN_HARD "aligned_bitfield_in_pack"), and the engine follows GCC.
ALIGNED_BITFIELD = re.compile(r":\s*\d+\s+__attribute__\(\(aligned")

# Known gaps between the engine's CType and the frontend's, both from what DeclSet carries:
# a function type's canonical spelling (parameters are spelled as written: size_t, not
# unsigned long) and the name of an enum reached through a typedef (TypeDecl.record unset).


def _normalise(m: Member) -> Member:
    t = m.type
    if t.kind == "pointer" and t.pointee is not None and t.pointee.kind == "function":
        t = dataclasses.replace(t, canonical="", pointee=None)
    if t.kind == "enum" and t.typedefs:
        t = dataclasses.replace(t, record=None)
    return dataclasses.replace(m, type=t, members=tuple(_normalise(c) for c in m.members))


def assert_engine_builds_the_frontends_members(sources: list[tuple[str, set[str]]]) -> None:
    """On x86_64 and i386 the engine's layouts of the named records of each source equal
    the frontend's (clang's), CTypes too."""
    opts = frontend.ParseOptions(system_dirs=False)
    with tempfile.TemporaryDirectory(prefix="abiscope-engine-") as tmp:
        for i, (source, names) in enumerate(sources):
            path = Path(tmp) / f"gen{i}.h"
            path.write_text(source)
            for target in ("x86_64", "i386"):
                model = frontend.parse([str(path)], [TARGETS[target]], opts, jobs=1)
                engine = LayoutEngine(frontend.parse_decls(str(path), TARGETS[target], opts),
                                      MODELS[target])
                for rec in model.records:
                    if rec.name not in names or ALIGNED_BITFIELD.search(source):
                        continue
                    clang, ours = rec.layouts[target], engine.layout(rec.name)
                    assert dataclasses.replace(
                        ours, members=tuple(_normalise(m) for m in ours.members)
                    ) == dataclasses.replace(
                        clang, members=tuple(_normalise(m) for m in clang.members)
                    ), f"{target} {rec.name}\n{source}"


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(atomic=True), min_size=6, max_size=6))
def test_engine_builds_the_frontends_members(programs: list[CProgram]) -> None:
    assert_engine_builds_the_frontends_members([(p.source, set(p.records)) for p in programs])


def test_engine_spells_qualified_pointers_as_clang() -> None:
    """A pointer's own qualifiers come after its star in clang's canonical spelling, also
    when a typedef of the pointer is qualified (found by the generated programs above)."""
    source = (
        "typedef char *t0;\ntypedef const t0 t1;\n"
        "struct q { const t0 a; char *const b; char *const *c; char *const d[2];\n"
        "  volatile t0 e; const char *f; char *volatile const g; t1 h; const t1 *i;\n"
        "  char *restrict j; };\n")
    # and a pointer to a function or an array, whose own qualifiers are in parentheses
    functions = (
        "typedef char *(*f0)(const char *, int (*)(void));\ntypedef int (*a0)[4];\n"
        "typedef int (*(*f1)(int))(double);\n"
        "struct p { const f0 a; const f0 *b[2]; volatile a0 c; const f1 d; f0 e;\n"
        "  int (*const volatile g)(int); };\n")
    assert_engine_builds_the_frontends_members([(source, {"struct q"}),
                                                (functions, {"struct p"})])


def test_data_model_is_the_only_parameter() -> None:
    """Same declarations, different models: only the numbers change."""
    fields = (field("c", CHAR), field("p", VOID_P), field("n", SIZE_T))
    sizes = {name: lay(name, *fields).size for name in MODELS}
    odd = {"m68k": 10, "avr": 5, "lp128": 48, "cheri128": 48}  # (2-aligned; 16-bit; 128)
    assert sizes == {name: odd.get(name, 12 if MODELS[name].pointer[0] == 4 else 24)
                     for name in MODELS}
    assert sizes["i386"] == sizes["sh4"] == 12 and sizes["alpha"] == 24
    assert isinstance(MODELS["m68k"], DataModel) and MODELS["m68k"].endian == "big"


def test_an_aligned_macro_after_the_declarator_matches_gcc(tmp_path: Path) -> None:
    """``int x A8;`` with ``A8`` defined in another file: clang's extent of the member ends
    at ``x``, so the attribute is read from the tokens after it; after a struct's body, the
    struct's own (not a member's, inside the body). m68k is laid out by the engine
    (``frontend.parse``), which must then agree with m68k's gcc, member by member."""
    if find_gcc("m68k") is None:
        skip_or_fail(f"{GCC_FOR_TARGET['m68k']} not installed (make deps)")
    (tmp_path / "align.h").write_text("#define A8 __attribute__((aligned(8)))\n"
                                      "#define A16 __attribute__ ((__aligned__ (16)))\n")
    header = tmp_path / "user.h"
    header.write_text('#include "align.h"\n'
                      "struct member { char c; int x A8; char d; };\n"
                      "typedef int t16 A16;\n"
                      "struct typedefed { char c; t16 v; };\n"
                      "struct nested { char c; struct { char a; short b A8; } in; };\n"
                      "struct body { char c; int x A8; } A16;\n"
                      "struct outer { char c; struct body in; };\n"
                      "struct both { char c; int x A8 A16; };\n")
    names = ("struct member", "struct typedefed", "struct nested", "struct body",
             "struct outer", "struct both")
    gcc = compile_layouts({"u": header.read_text()}, "m68k", include_dirs=[str(tmp_path)],
                          align_probes={"u": names})["u"]
    assert gcc.ok, gcc.stderr
    model = frontend.parse([str(header)], [TARGETS["m68k"]],
                           frontend.ParseOptions(system_dirs=False), jobs=1)
    ours = {r.name: r.layouts["m68k"] for r in model.records}
    for name in names:
        theirs = gcc.records[name]
        assert (ours[name].size, ours[name].align) == (theirs.size, theirs.align), name
        assert flatten(ours[name].members) == flatten(theirs.members), name
    assert ours["struct member"].members[1].offset_bits == 64  # (not m68k's natural 16)


def test_an_aligned_function_like_macro_matches_gcc(tmp_path: Path) -> None:
    """The kernel's ``#define __aligned(x) __attribute__((__aligned__(x)))``, from another
    file: the argument is read through the macro's parameters. Before, ``align_attr`` was
    absent on clang's targets (and ABI005 called an ``aligned(8)`` ``uint64_t`` 4-aligned
    on i386); the engine (m68k) took clang's alignment on the parse target."""
    targets = [t for t in ("i386", "x86_64", "m68k") if find_gcc(t) is not None]
    if len(targets) < 3:
        skip_or_fail("the i386, x86_64 and m68k gccs are needed (make deps)")
    (tmp_path / "compiler.h").write_text(
        "#define __aligned(x) __attribute__((__aligned__(x)))\n#define EIGHT 8\n"
        "#define __pair(a, b) __attribute__((aligned((a) * (b))))\n")
    header = tmp_path / "user.h"
    header.write_text('#include "compiler.h"\n'
                      "struct fm { unsigned int a; unsigned long long b __aligned(8); };\n"
                      "struct fm2 { char c; short s __aligned(EIGHT); char d __pair(2, 8); };\n")
    probes = [f"((struct {r} *)0)->{m}" for r, m in (("fm", "b"), ("fm2", "s"), ("fm2", "d"))]
    for target in targets:
        gcc = compile_layouts({"u": header.read_text()}, target, include_dirs=[str(tmp_path)],
                              align_probes={"u": ["struct fm", "struct fm2", *probes]})["u"]
        assert gcc.ok, gcc.stderr
        model = frontend.parse([str(header)], [TARGETS[target]],
                               frontend.ParseOptions(system_dirs=False), jobs=1)
        ours = {r.name: r.layouts[target] for r in model.records}
        members = {f"((struct {n.split()[1]} *)0)->{m.name}": m
                   for n, lay in ours.items() for m in lay.members}
        for name in ("struct fm", "struct fm2"):
            theirs = gcc.records[name]
            assert (ours[name].size, ours[name].align) == (theirs.size, theirs.align), target
            assert flatten(ours[name].members) == flatten(theirs.members), target
        for probe in probes:  # (GCC's _Alignof of a member: its declared alignment)
            assert members[probe].declared_align == gcc.aligns[probe], (target, probe)
        assert [m.align_attr for m in ours["struct fm2"].members] == [None, 8, 16], target
    both = frontend.parse([str(header)], [TARGETS["i386"], TARGETS["x86_64"]],
                          frontend.ParseOptions(system_dirs=False), jobs=1)
    assert not run_checks(both, both.records, CheckConfig(select=("ABI005",)))


@pytest.mark.parametrize(("define", "argument", "value"), [
    ("#define A 4 + 2", "A * 2", 8),  # text is put in: not 12, A's value times two
    ("#define Q (-17 / 4)", "-Q * 4", 16),  # C truncates: Python's floor division gave 20
])
def test_an_alignment_expression_is_read_as_the_compiler_reads_it(
        define: str, argument: str, value: int) -> None:
    """An ``aligned(...)`` argument through a macro, as the preprocessor and C's arithmetic
    read it; checked with gcc's ``_Alignof`` of the member."""
    if find_gcc("x86_64") is None:
        skip_or_fail(f"{GCC_FOR_TARGET['x86_64']} not installed (make deps)")
    source = (f"{define}\n"
              f"struct t {{ char c; int x __attribute__((aligned({argument}))); }};\n")
    gcc = compile_layouts({"u": source}, "x86_64",
                          align_probes={"u": ["((struct t *)0)->x"]})["u"]
    assert gcc.ok, gcc.stderr
    with tempfile.TemporaryDirectory(prefix="abiscope-text-") as tmp:
        header = Path(tmp) / "t.h"
        header.write_text(source)
        model = frontend.parse([str(header)], [TARGETS["x86_64"]],
                               frontend.ParseOptions(system_dirs=False), jobs=1)
    (record,) = model.records
    member = record.layouts["x86_64"].members[1]
    assert member.align_attr == member.declared_align \
        == gcc.aligns["((struct t *)0)->x"] == value


def test_a_redefined_macro_is_read_with_the_definition_in_force() -> None:
    """``aligned(A)`` reads the definition of ``A`` in force where the attribute is (the
    last one before it), through a function-like macro and another macro's body too; not
    the unit's last one, nor one that comes only after it (there the name is an
    enumerator, negative too, or one declared inside a struct). Checked with gcc's sizes,
    offsets and ``_Alignof`` of each member on a clang target and on the engine's m68k."""
    targets = _gcc_targets("x86_64", "m68k")
    source = ("#define A 4\n#define AL(n) __attribute__((aligned(n)))\n#define W (A * 2)\n"
              "struct early { char c; int x __attribute__((aligned(A))); int y AL(W); };\n"
              "#undef A\n#define A 16\n#undef AL\n#define AL(n) __attribute__((aligned(2 * n)))\n"
              "struct late { char c; int x __attribute__((aligned(A))); int y AL(W); };\n"
              "enum { B = 8, M = -2 };\n"
              "struct before { char c; int x __attribute__((aligned(B))); "
              "int y __attribute__((aligned(-M * B))); };\n#define B 32\n"
              "struct inner { char c; enum { I = 16 } e; int x __attribute__((aligned(I))); "
              "int y __attribute__((aligned(I * -M))); };\n")
    probes = [f"((struct {r} *)0)->{m}" for r in ("early", "late", "before", "inner")
              for m in "xy"]
    with tempfile.TemporaryDirectory(prefix="abiscope-redefined-") as tmp:
        header = Path(tmp) / "r.h"
        header.write_text(source)
        for target in targets:
            records = ["struct early", "struct late", "struct before", "struct inner"]
            gcc = compile_layouts({"u": source}, target,
                                  align_probes={"u": [*records, *probes]})["u"]
            assert gcc.ok, gcc.stderr
            model = frontend.parse([str(header)], [TARGETS[target]],
                                   frontend.ParseOptions(system_dirs=False), jobs=1)
            assert not model.failures, model.failures[0].summary()
            members = {}
            for record in model.records:
                ours, theirs = record.layouts[target], gcc.records[record.name]
                assert (ours.size, ours.align) == (theirs.size, theirs.align), target
                assert flatten(ours.members) == flatten(theirs.members), target
                members.update({f"(({record.name} *)0)->{m.name}": m for m in ours.members})
            for probe in probes:
                assert members[probe].align_attr == gcc.aligns[probe], (target, probe)


def _expressions(rng: Any, depth: int) -> str:
    """A random C integer constant expression of small literals (no overflow in 64 bits)."""
    if depth == 0 or rng.random() < 0.25:
        return str(rng.randint(0, 40))
    kind = rng.random()
    if kind < 0.15:
        return f"{rng.choice('-~!+')}({_expressions(rng, depth - 1)})"
    if kind < 0.25:
        return (f"({_expressions(rng, depth - 1)} ? {_expressions(rng, depth - 1)} : "
                f"{_expressions(rng, depth - 1)})")
    if kind < 0.35:
        return f"(({_expressions(rng, depth - 1)}) << {rng.randint(0, 8)})"
    op = rng.choice(["+", "-", "*", "/", "%", "/", "%", ">>", "<", ">", "<=", ">=", "==",
                     "!=", "&", "|", "^", "&&", "||"])
    return f"({_expressions(rng, depth - 1)} {op} {_expressions(rng, depth - 1)})"


def test_constant_expressions_evaluate_as_gcc() -> None:
    """The evaluator of alignment expressions (``tokens._eval_tokens``) against gcc's own
    values of 400 random expressions: division truncates toward zero, ``%`` takes the
    dividend's sign (Python's ``eval`` floored: ``-17 / 4`` was -5)."""
    import random
    import subprocess

    from abiscope.frontend.tokens import _eval_tokens

    gcc = find_gcc("x86_64")
    if gcc is None:
        skip_or_fail(f"{GCC_FOR_TARGET['x86_64']} not installed (make deps)")
    rng = random.Random(20261126)
    expressions = [_expressions(rng, 4) for _ in range(400)]
    token = re.compile(r"\d+|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()<>|&~^!?:]")
    ours = [_eval_tokens(token.findall(e), {}) for e in expressions]
    # (gcc's: the values that are defined, as 64-bit integers; ours is None only where C
    # divides by zero)
    defined = [(e, v) for e, v in zip(expressions, ours, strict=True) if v is not None]
    assert len(defined) > 300
    program = "long long v[] = {\n" + ",\n".join(
        "(long long)(" + re.sub(r"\d+", r"\g<0>LL", e) + ")" for e, _ in defined) + "};\n"
    program += ("#include <stdio.h>\nint main(void) { for (unsigned i = 0; i < sizeof v / "
                "sizeof *v; i++) printf(\"%lld\\n\", v[i]); return 0; }\n")
    with tempfile.TemporaryDirectory(prefix="abiscope-eval-") as tmp:
        source, binary = Path(tmp) / "v.c", Path(tmp) / "v"
        source.write_text(program)
        subprocess.run([gcc, "-w", "-o", str(binary), str(source)], check=True)
        values = subprocess.run([str(binary)], capture_output=True, text=True,
                                check=True).stdout.split()
    mismatches = [(e, v, int(g)) for (e, v), g in zip(defined, values, strict=True)
                  if v != int(g)]
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize(("expression", "value"), [
    ("0 && 1 / 0", 0), ("1 || 1 << 70", 1), ("1 ? 8 : 1 / 0", 8), ("0 ? 1 / 0 : 4", 4),
    ("0 && (1 / 0 || 1 % 0) ? 2 : 16", 16), ("1 && 1 / 0", None), ("0 || 1 / 0", None),
    ("(0 && 1 / 0) + 1 / 0", None), ("0 ? 1 : 1 << 64", None), ("0 && (1", None)])
def test_the_operand_c_does_not_evaluate_has_no_say(expression: str,
                                                     value: int | None) -> None:
    """``&&``, ``||`` and ``?:`` skip an operand as C does: what is undefined there (a
    division by zero, a shift past 64 bits) does not make the expression unreadable, and
    what is evaluated still does; a syntax error anywhere does."""
    from abiscope.frontend.tokens import _eval_tokens

    token = re.compile(r"\d+|<<|>>|&&|\|\||[-+*/%()?:]")
    assert _eval_tokens(token.findall(expression), {}) == value


def _gcc_targets(*names: str) -> list[str]:
    """The targets, when each has its gcc (else a skip, or a failure under CI)."""
    missing = [t for t in names if find_gcc(t) is None]
    if missing:
        skip_or_fail(f"the gccs of {', '.join(missing)} are needed (make deps)")
    return list(names)


def test_an_alignment_naming_a_tag_matches_gcc_on_clangs_targets() -> None:
    """``aligned(__alignof__(struct T))`` (Linux's ebtables), ``_Alignas(union U)`` and an
    enum's: the member's declared alignment is the tag's on the target, as gcc's
    ``_Alignof`` of the member says on i386, x86_64 and arm. Before, ``align_attr`` was
    absent on clang's targets while the engine's targets had it."""
    targets = _gcc_targets("i386", "x86_64", "arm")
    source = ("struct big { long long x; void *p; double d; };\n"
              "union u { char c; long l; };\nenum e { E0, E1 = 1000 };\n"
              "struct t { char c;\n"
              "  char data[0] __attribute__((aligned(__alignof__(struct big))));\n"
              "  char d; _Alignas(union u) char k;\n"
              "  char f; short s __attribute__((aligned(_Alignof(enum e)))); };\n")
    probes = [f"((struct t *)0)->{m}" for m in ("data", "k", "s")]
    with tempfile.TemporaryDirectory(prefix="abiscope-alignof-tag-") as tmp:
        header = Path(tmp) / "t.h"
        header.write_text(source)
        for target in targets:
            gcc = compile_layouts({"u": source}, target, align_probes={"u": probes})["u"]
            assert gcc.ok, gcc.stderr
            model = frontend.parse([str(header)], [TARGETS[target]],
                                   frontend.ParseOptions(system_dirs=False), jobs=1)
            layout = next(r for r in model.records if r.name == "struct t").layouts[target]
            members = {f"((struct t *)0)->{m.name}": m for m in layout.members}
            for probe in probes:
                assert members[probe].align_attr is not None, (target, probe)
                assert members[probe].declared_align == gcc.aligns[probe], (target, probe)


def test_an_alignment_naming_a_base_type_matches_gcc_on_clangs_targets() -> None:
    """``aligned(__alignof__(long long))`` (clang's own ``max_align_t``), ``_Alignof`` and
    ``_Alignas(T)`` on clang's targets: the member's alignment is T's under the target's
    data model, GNU ``__alignof__`` taking i386's 8 for ``long long`` and ``double``. Before,
    ``align_attr`` was absent and ABI005 called ``max_align_t``'s first member 4-aligned on
    i386 (``--all-files``)."""
    targets = _gcc_targets("i386", "x86_64", "arm")
    source = ("struct ao { char c;\n"
              "  long long a __attribute__((__aligned__(__alignof__(long long))));\n"
              "  char d; double b __attribute__((aligned(__alignof__(double))));\n"
              "  char e; int i __attribute__((aligned(_Alignof(long long))));\n"
              "  char f; _Alignas(long long) int j; char g;\n"
              "  long double l __attribute__((aligned(__alignof(long double)))); };\n")
    probes = [f"((struct ao *)0)->{m}" for m in "abijl"]
    with tempfile.TemporaryDirectory(prefix="abiscope-alignof-") as tmp:
        header = Path(tmp) / "ao.h"
        header.write_text(source)
        for target in targets:
            gcc = compile_layouts({"u": source}, target,
                                  align_probes={"u": ["struct ao", *probes]})["u"]
            assert gcc.ok, gcc.stderr
            model = frontend.parse([str(header)], [TARGETS[target]],
                                   frontend.ParseOptions(system_dirs=False), jobs=1)
            (record,) = model.records
            ours, theirs = record.layouts[target], gcc.records["struct ao"]
            assert (ours.size, ours.align) == (theirs.size, theirs.align), target
            assert flatten(ours.members) == flatten(theirs.members), target
            members = {f"((struct ao *)0)->{m.name}": m for m in ours.members}
            for probe in probes:
                assert members[probe].declared_align == gcc.aligns[probe], (target, probe)
        both = frontend.parse([str(header)], [TARGETS["i386"], TARGETS["x86_64"]],
                              frontend.ParseOptions(system_dirs=False), jobs=1)
        assert not run_checks(both, both.records, CheckConfig(select=("ABI005",)))
        (Path(tmp) / "ma.h").write_text("#include <stddef.h>\nstruct uses { max_align_t m; };\n")
        clangs = frontend.parse([str(Path(tmp) / "ma.h")], [TARGETS["i386"], TARGETS["x86_64"]],
                                frontend.ParseOptions(all_files=True), jobs=1)
        assert clangs.record("max_align_t") is not None
        assert not run_checks(clangs, clangs.records, CheckConfig(select=("ABI005",)))


ALIGN_OF_TYPE = """\
typedef struct { int x; void *p; } T;
struct ptrs { void *a; long b; };
#define PTRS_ALIGN __attribute__((aligned(__alignof__(struct ptrs))))
struct g1 { char c; _Alignas(long double) char d; };
struct g2 { char c; char d __attribute__((aligned(__alignof__(long long)))); };
struct g3 { char c; char d __attribute__((aligned(__alignof__(struct ptrs)))); };
struct g4 { char c; _Alignas(T) char e; };
struct g5 { int n; char data[0] PTRS_ALIGN; };
struct g6 { char c; long long x __attribute__((aligned(__alignof__(long long)))); };
struct g7 { char c; _Alignas(8) char d; _Alignas(double) char e; };
struct g8 { char c; _Alignas(unsigned long long int) short d; };
struct g9 { char c; _Alignas(_Complex double) char d; };
"""


@pytest.mark.parametrize("target", ["m68k", "i386", "x86_64", "arm"])
def test_an_alignment_naming_a_type_is_that_types_under_the_model(target: str,
                                                                 tmp_path: Path) -> None:
    """``_Alignas(T)`` and ``aligned(__alignof__(T))``: the engine aligns to T under its
    model (a base type, a tag, a typedef), not to clang's value on the parse target nor to
    the member's type. GNU ``__alignof__`` is T's own alignment (i386: 8 for ``long long``,
    which ``_Alignas`` and a member take as 4). Every target is laid out by the engine here
    and compared with its gcc; lp128's 16-byte pointers raise Linux's ``ebt_entries``."""
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    header = tmp_path / "alignof.h"
    header.write_text(ALIGN_OF_TYPE)
    names = tuple(f"struct g{i}" for i in range(1, 10))
    gcc = compile_layouts({"u": ALIGN_OF_TYPE}, target, align_probes={"u": names})["u"]
    assert gcc.ok, gcc.stderr
    engine = dataclasses.replace(TARGETS[target], engine=True)
    model = frontend.parse([str(header)], [engine],
                           frontend.ParseOptions(system_dirs=False), jobs=1)
    assert not model.failures, model.failures[0].summary()
    ours = {r.name: r.layouts[target] for r in model.records}
    for name in names:
        theirs = gcc.records[name]
        assert (ours[name].size, ours[name].align) == (theirs.size, theirs.align), name
        assert flatten(ours[name].members) == flatten(theirs.members), name
    if target == "m68k":
        lp128 = frontend.parse([str(header)], [TARGETS["lp128"]],
                               frontend.ParseOptions(system_dirs=False), jobs=1)
        assert {r.name: r.layouts["lp128"].align for r in lp128.records}["struct g5"] == 16


def test_glibc_thread_types_on_m68k_match_gcc(tmp_path: Path) -> None:
    """glibc aligns its lock words with a macro after the declarator
    (``int __lock __LOCK_ALIGNMENT;``, ``__ONCE_ALIGNMENT``): 4 on m68k, where ``int`` alone
    is 2-aligned. Every record ``<pthread.h>`` and ``<threads.h>`` reach, from m68k's own
    tree, laid out by the engine: equal to m68k's gcc (mutexes and condition variables were
    2-aligned before the attribute was read)."""
    from differential import Tally, compare_model, gcc_layouts, probes_for

    tree = "/usr/m68k-linux-gnu/include"
    if find_gcc("m68k") is None or not Path(tree, "pthread.h").is_file():
        skip_or_fail("m68k gcc or libc6-dev-m68k-cross missing (make deps)")
    header = tmp_path / "threads_m68k.h"
    header.write_text("#include <pthread.h>\n#include <threads.h>\n")
    model = frontend.parse([str(header)], [TARGETS["m68k"]],
                           frontend.ParseOptions(all_files=True), jobs=1)
    assert not model.failures, model.failures
    gcc = gcc_layouts({"t": header.read_text()}, "m68k", {"t": probes_for(model, "m68k")},
                      include_dirs=[tree])["t"]
    assert gcc.ok, gcc.stderr
    tally = Tally()
    tally.add(compare_model(model, "m68k", gcc.records, "threads_m68k.h"))
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records > 20
    mutex = next(r for r in model.records if r.name == "pthread_mutex_t")
    assert mutex.layouts["m68k"].align == 4
