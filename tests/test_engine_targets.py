"""The layout engine on every real Linux target: GCC (through DWARF) and clang as judges.

abiscope's engine (:mod:`abiscope.layout_engine`) has a data model for each Linux target
(:data:`abiscope.datamodels.MODELS`). Here it is checked, per target:

- facts: each scalar's size and member alignment, the signedness of plain ``char``, the
  bare ``aligned`` (``BIGGEST_ALIGNMENT``) and the bit-field rules (unnamed and zero-width
  bit-fields, which raise the record alignment on arm/aarch64 but not elsewhere, also under
  ``#pragma pack`` and ``packed``), compiled by the target's gcc and read back from DWARF;
- (1) generated programs (``cgen.cstructs``) compiled by the target's gcc: the engine,
  given clang's declarations of the same program (``frontend.parse_decls``), must lay out
  every record exactly as GCC does (size, ``_Alignof``, every member's offset and size);
- (2) the Linux UAPI headers of the target's own tree: every record clang lays out
  (``frontend.parse``) must be laid out identically by the engine from the declarations of
  the same header. Where clang and GCC disagree, GCC decides: the engine must then equal GCC.

The targets come from the registry (a target with a model and a checker is checked by
it). loongarch64 has no gcc here: it is checked against clang only. riscv32 and loongarch64
have no cross tree of their own: a borrowed UAPI tree is parsed for them (riscv64's for
riscv32, whose ``asm/`` is ``__riscv_xlen``-driven, checked by the bare-metal
riscv64-unknown-elf-gcc where clang differs; aarch64's for loongarch64, both asm-generic).

The engine reads its declarations' ``aligned(...)`` as GCC does, also when the attribute is
written in another file's macro (``__aligned_u64`` in ``linux/types.h``) or names a type's
alignment (``aligned(__alignof__(struct ebt_replace))``): no UAPI record of any target is
excused; every one must match.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.datamodels import MODELS
from abiscope.decls import DeclSet
from abiscope.errors import InputError
from abiscope.layout_engine import LayoutEngine
from abiscope.model import Model, RecordLayout
from abiscope.targets import TARGETS
from cgen.cstructs import CProgram, c_programs
from conftest import skip_or_fail
from differential import clang_refuses, uapi_slice
from oracle.gcc_dwarf import (
    GCC_FOR_TARGET,
    OracleRecord,
    compile_layouts,
    find_gcc,
    flatten,
    system_include_dirs,
    uapi_headers,
)

X86 = ("x86_64", "i386", "x32")
# From the registry: the targets clang lays out whose entry has a data model (the engine's
# GCC-family rules, "sysv" bit-fields), checked by the entry's gcc, or by clang alone.
_MODELED = [t for t in TARGETS.values() if t.model is not None and not t.engine
            and not t.hypothetical and t.model.bitfield_family == "sysv"]
GCC_NEW = tuple(t.name for t in _MODELED if t.checker is not None and t.name not in X86)
# engine targets with GCC-family ("sysv") bit-fields and a gcc: the same facts and programs
# (their clang parse borrows a triple: only the declarations are used)
ENGINE_SYSV = tuple(t.name for t in TARGETS.values() if t.engine and not t.hypothetical
                    and t.checker is not None and t.model is not None
                    and t.model.bitfield_family == "sysv")
CLANG_ONLY = tuple(t.name for t in _MODELED if t.checker is None)
BORROWED_TREE = {"riscv32": "riscv64", "loongarch64": "aarch64"}  # no cross tree of their own
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
NO_SYSTEM = frontend.ParseOptions(system_dirs=False)
# clang 22 ignores aligned(N) on a bit-field for its offset under #pragma pack; GCC does not
# and the engine follows GCC (cstructs.KNOWN_HARD): no clang-only verdict on such programs.
# On loongarch64 clang also places some aligned(N) bit-fields where the GCC family (which the
# engine follows) would not, and no gcc here can say which is right: no verdict there either.
CLANG_DIVERGES = ("aligned_bitfield_in_pack", "aligned_bitfield")


def require_gcc(target: str) -> None:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")


@dataclass
class Tally:
    programs: int = 0
    records: int = 0
    members: int = 0
    mismatches: list[str] = field(default_factory=list)


def shape(layout: RecordLayout | OracleRecord) -> tuple[object, ...]:
    return (layout.size, layout.align, layout.kind)


def differ(target: str, name: str, ours: RecordLayout, theirs: RecordLayout | OracleRecord,
           judge: str) -> list[str]:
    """Size, alignment, kind and every member (offset, size, bit-field) of two layouts."""
    a, b = flatten(ours.members), flatten(theirs.members)
    if shape(ours) == shape(theirs) and a == b:
        return []
    diff = [f"{x} != {y}" for x, y in zip(a, b, strict=False) if x != y][:3]
    if len(a) != len(b):
        diff.append(f"{len(a)} vs {len(b)} members")
    return [f"[{target}] {name}: engine {shape(ours)}, {judge} {shape(theirs)}; "
            + "; ".join(diff)]


def write_headers(tmp: str, programs: Sequence[CProgram]) -> list[str]:
    paths = []
    for i, prog in enumerate(programs):
        path = Path(tmp) / f"gen{i}.h"
        path.write_text(prog.source)
        paths.append(str(path))
    return paths


# --------------------------------------------------------------------------- facts

SCALAR_TYPES = (
    "_Bool", "char", "signed char", "unsigned char", "short", "unsigned short", "int",
    "unsigned int", "long", "unsigned long", "long long", "unsigned long long", "__int128",
    "unsigned __int128", "float", "double", "long double", "__float128", "_Float16",
    "void *", "void (*)(void)", "size_t", "ptrdiff_t", "intptr_t", "uint64_t", "int16_t",
    "enum big",
)

FACTS_SOURCE = """\
#include <stddef.h>
#include <stdint.h>
struct sign { char c[(char)-1 < 0 ? 1 : 2]; };
struct biggest { char c __attribute__((aligned)); };
struct bf_unnamed { char a; int :3; };
struct bf_zero { char a; int :0; char b; };
struct bf_zero_end { char a; int :0; };
struct bf_named { char a; int b:3; };
struct bf_ll_zero { char a; long long :0; char b; };
struct bf_ll_unnamed { char a; long long :5; };
struct bf_short_unnamed { char a; short :5; };
struct bf_straddle { char a; int b:30; int c:4; };
union u_zero { char a; int :0; };
union u_unnamed { char a; int :5; };
struct __attribute__((packed)) p_zero { char a; int :0; char b; };
struct __attribute__((packed)) p_unnamed { char a; int :3; char b; };
struct p_member_zero { char a; int :0 __attribute__((packed)); char b; };
#pragma pack(1)
struct pk1_zero { char a; int :0; char b; };
struct pk1_unnamed { char a; int :3; char b; };
#pragma pack(2)
struct pk2_zero { char a; long long :0; char b; };
struct pk2_unnamed { char a; long long :3; char b; };
#pragma pack()
struct ld { char c; long double x; };
struct nest { char c; struct bf_unnamed s; };
"""
FACT_RECORDS = tuple(
    line.split("{")[0].replace("__attribute__((packed)) ", "").strip()
    for line in FACTS_SOURCE.splitlines() if line.startswith(("struct ", "union ")))

# (size, align) GCC 12 gives, x86-64 SysV-like targets vs arm/aarch64 AAPCS (bit-fields).
BITFIELD_FACTS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "struct bf_unnamed": ((2, 1), (4, 4)),
    "struct bf_zero": ((5, 1), (8, 4)),
    "struct bf_zero_end": ((4, 1), (4, 4)),
    "struct bf_named": ((4, 4), (4, 4)),
    "struct bf_ll_zero": ((9, 1), (16, 8)),
    "struct bf_ll_unnamed": ((2, 1), (8, 8)),
    "struct bf_short_unnamed": ((2, 1), (2, 2)),
    "union u_zero": ((1, 1), (4, 4)),
    "union u_unnamed": ((1, 1), (4, 4)),
    "struct p_zero": ((5, 1), (8, 4)),
    "struct p_unnamed": ((3, 1), (3, 1)),
    "struct pk1_zero": ((5, 1), (8, 4)),
    "struct pk1_unnamed": ((3, 1), (3, 1)),
    "struct pk2_zero": ((9, 1), (16, 8)),
    "struct pk2_unnamed": ((3, 1), (4, 2)),
}
# i386 (ADJUST_FIELD_ALIGN: long long 4-aligned as a field), and the other targets whose
# long long is 4-aligned (sh4, arc), where it differs from the above.
I386_BITFIELD_FACTS = {"struct bf_ll_zero": (5, 1), "struct pk2_zero": (5, 1)}


def target_facts(target: str) -> tuple[bool, int, tuple[int, int]]:
    """What the target's data model says of plain char's sign, the bare ``aligned``
    (``BIGGEST_ALIGNMENT``) and long double (size, align): its gcc must say the same."""
    model = MODELS[target]
    return model.char_signed, model.mode_align_cap, model.scalars["long double"]


def scalar_source(spelling: str) -> str:
    typedef = ("typedef void (*T)(void);" if spelling == "void (*)(void)" else
               "enum big { BIG = 0x100000000 };\ntypedef enum big T;" if spelling == "enum big"
               else f"typedef {spelling} T;")
    return (f"#include <stddef.h>\n#include <stdint.h>\n"
            f"{typedef}\nstruct s {{ char c; T x; }};\n")


def test_every_checked_linux_target_has_a_model() -> None:
    """A Linux target its gcc checks, and every engine target, carries a data model that
    agrees with its entry (byte order, pointer width)."""
    need = {t.name for t in TARGETS.values() if t.engine or (
        t.checker is not None and "linux" in t.groups)}
    assert need <= set(MODELS), sorted(need - set(MODELS))
    for name, model in MODELS.items():
        assert model.endian == TARGETS[name].endian, name
        assert 8 * model.pointer[0] == TARGETS[name].pointer_bits, name
    for name in (*X86, *GCC_NEW, *CLANG_ONLY):
        aapcs = name in ("arm", "armv7m", "aarch64")
        assert MODELS[name].align_anonymous_bitfields == aapcs, name


@pytest.mark.parametrize("target", (*X86, *GCC_NEW, *ENGINE_SYSV))
def test_scalar_facts_match_gcc(target: str) -> None:
    """Every scalar the target's gcc accepts: size and member alignment (``struct { char c;
    T x; }``: x's offset and the record's ``_Alignof``) equal the model's."""
    require_gcc(target)
    sources = {t: scalar_source(t) for t in SCALAR_TYPES}
    gcc = compile_layouts(sources, target, align_probes={t: ["struct s", "T"] for t in sources})
    model, checked, rejected, clang_rejects = MODELS[target], [], [], []
    with tempfile.TemporaryDirectory(prefix="abiscope-facts-") as tmp:
        for spelling, text in sources.items():
            if not gcc[spelling].ok:
                rejected.append(spelling)  # e.g. __int128 on ILP32, _Float16 on arm
                continue
            path = Path(tmp) / "scalar.h"
            path.write_text(text)
            try:
                decls = frontend.parse_decls(str(path), TARGETS[target], NO_SYSTEM)
            except InputError:
                clang_rejects.append(spelling)  # __float128 on ppc64le without -mfloat128
                continue
            ours = LayoutEngine(decls, model).layout("struct s")
            theirs = gcc[spelling].records["struct s"]
            assert not differ(target, spelling, ours, theirs, "gcc"), (spelling, ours, theirs)
            assert gcc[spelling].aligns["T"] == ours.members[1].align, spelling
            checked.append(spelling)
    assert {"long", "long long", "double", "long double", "void *"} <= set(checked)
    print(f"{target}: {len(checked)} scalars equal gcc's; gcc rejects {rejected}, "
          f"clang rejects {clang_rejects}")


@pytest.mark.parametrize("target", (*X86, *GCC_NEW, *ENGINE_SYSV))
def test_bitfield_and_target_facts_match_gcc(target: str) -> None:
    """Char signedness, bare ``aligned``, long double and the unnamed/zero-width bit-field
    rules, on a fixed program: the engine equals GCC, and GCC says what the table says."""
    require_gcc(target)
    gcc = compile_layouts({"facts": FACTS_SOURCE}, target,
                          align_probes={"facts": FACT_RECORDS})["facts"]
    assert gcc.ok, gcc.stderr
    with tempfile.TemporaryDirectory(prefix="abiscope-facts-") as tmp:
        path = Path(tmp) / "facts.h"
        path.write_text(FACTS_SOURCE)
        engine = LayoutEngine(frontend.parse_decls(str(path), TARGETS[target], NO_SYSTEM),
                              MODELS[target])
        found = [m for name in FACT_RECORDS
                 for m in differ(target, name, engine.layout(name), gcc.records[name], "gcc")]
    assert not found, "\n".join(found)
    signed, biggest, long_double = target_facts(target)
    assert gcc.records["struct sign"].size == (1 if signed else 2)
    assert gcc.records["struct biggest"].align == biggest
    ld = gcc.records["struct ld"]
    assert (ld.members[1].size_bits // 8, ld.members[1].offset_bits // 8) == long_double
    aapcs = MODELS[target].align_anonymous_bitfields  # (arm, armv7m, aarch64)
    for name, facts in BITFIELD_FACTS.items():
        ll4 = MODELS[target].scalars["long long"][1] == 4  # (i386, sh4, arc)
        want = I386_BITFIELD_FACTS.get(name, facts[0]) if ll4 else facts[aapcs]
        assert (gcc.records[name].size, gcc.records[name].align) == want, name


def test_clang_only_facts() -> None:
    """The modelled targets without a gcc here (loongarch64): clang's layouts of the facts
    program and of every scalar equal the engine's, and clang states the model's facts."""
    with tempfile.TemporaryDirectory(prefix="abiscope-facts-") as tmp:
        path = Path(tmp) / "facts.h"
        path.write_text(FACTS_SOURCE)
        for target in CLANG_ONLY:
            model = frontend.parse([str(path)], [TARGETS[target]], NO_SYSTEM, jobs=1)
            assert not model.failures, model.failures
            clang = {r.name: r.layouts[target] for r in model.records if target in r.layouts}
            engine = LayoutEngine(frontend.parse_decls(str(path), TARGETS[target], NO_SYSTEM),
                                  MODELS[target])
            found = [m for name in FACT_RECORDS
                     for m in differ(target, name, engine.layout(name), clang[name], "clang")]
            assert not found, "\n".join(found)
            signed, biggest, long_double = target_facts(target)
            assert clang["struct sign"].size == (1 if signed else 2)
            assert clang["struct biggest"].align == biggest
            ld = clang["struct ld"].members[1]
            assert (ld.size_bits // 8, ld.offset_bits // 8) == long_double
            for name, facts in BITFIELD_FACTS.items():
                assert (clang[name].size, clang[name].align) == facts[0], (target, name)
        scalar = Path(tmp) / "scalar.h"
        for target in CLANG_ONLY:
            for spelling in SCALAR_TYPES:
                scalar.write_text(scalar_source(spelling))
                model = frontend.parse([str(scalar)], [TARGETS[target]], NO_SYSTEM, jobs=1)
                if model.failures:
                    continue  # clang rejects the type on this target
                clang_s = next(r.layouts[target] for r in model.records if r.name == "struct s")
                ours = LayoutEngine(frontend.parse_decls(str(scalar), TARGETS[target],
                                                         NO_SYSTEM),
                                    MODELS[target]).layout("struct s")
                assert not differ(target, spelling, ours, clang_s, "clang")


# --------------------------------------------------------------------------- (1) GCC


def check_gcc(programs: Sequence[CProgram], target: str) -> Tally:
    """Every record of every program: the engine (from clang's declarations) vs GCC."""
    require_gcc(target)
    tally = Tally(programs=len(programs))
    sources = {str(i): p.source for i, p in enumerate(programs)}
    gcc = compile_layouts(sources, target,
                          align_probes={str(i): p.probes for i, p in enumerate(programs)})
    model = MODELS[target]
    with tempfile.TemporaryDirectory(prefix="abiscope-engine-") as tmp:
        for i, (prog, header) in enumerate(zip(programs, write_headers(tmp, programs),
                                               strict=True)):
            res = gcc[str(i)]
            assert res.ok, f"generator produced invalid C for {target}:\n{res.stderr}"
            try:
                decls = frontend.parse_decls(header, TARGETS[target], NO_SYSTEM)
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
                found += differ(target, name, ours, res.records[name], "gcc")
            if found:
                tally.mismatches += [*found, f"program:\n{prog.source}"]
    return tally


def check_clang(programs: Sequence[CProgram], target: str) -> Tally:
    """Every record of every program: the engine vs clang's own layout (frontend.parse)."""
    tally = Tally()
    model = MODELS[target]
    with tempfile.TemporaryDirectory(prefix="abiscope-engine-") as tmp:
        for prog, header in zip(programs, write_headers(tmp, programs), strict=True):
            if prog.features.intersection(CLANG_DIVERGES):
                continue
            tally.programs += 1
            parsed = frontend.parse([header], [TARGETS[target]], NO_SYSTEM, jobs=1)
            assert not parsed.failures, parsed.failures
            clang = {r.name: r.layouts[target] for r in parsed.records if target in r.layouts}
            engine = LayoutEngine(frontend.parse_decls(header, TARGETS[target], NO_SYSTEM),
                                  model)
            found: list[str] = []
            for name in prog.records:
                tally.records += 1
                ours = engine.layout(name)
                tally.members += len(flatten(ours.members))
                found += differ(target, name, ours, clang[name], "clang")
            if found:
                tally.mismatches += [*found, f"program:\n{prog.source}"]
    return tally


def assert_clean(tally: Tally, target: str, judge: str) -> None:
    print(f"{target}: {tally.programs} programs, {tally.records} records, {tally.members} "
          f"members vs {judge}, {len(tally.mismatches)} mismatching lines")
    assert not tally.mismatches, "\n".join(tally.mismatches)


QUICK = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck),
                 phases=NO_SHRINK)
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
                phases=NO_SHRINK)


@pytest.mark.parametrize("target", (*GCC_NEW, *ENGINE_SYSV))
@QUICK
@given(programs=st.lists(c_programs(atomic=True), min_size=4, max_size=4))
def test_engine_matches_gcc_quick(target: str, programs: list[CProgram]) -> None:
    tally = check_gcc(programs, target)
    assert tally.records > 0
    assert_clean(tally, target, "gcc")


@pytest.mark.slow
@pytest.mark.parametrize("target", (*GCC_NEW, *ENGINE_SYSV))
@SLOW
@given(programs=st.lists(c_programs(atomic=True), min_size=10, max_size=10))
def test_engine_matches_gcc(target: str, programs: list[CProgram]) -> None:
    assert_clean(check_gcc(programs, target), target, "gcc")


@pytest.mark.parametrize("target", CLANG_ONLY)
@QUICK
@given(programs=st.lists(c_programs(), min_size=4, max_size=4))
def test_engine_matches_clang_quick(target: str, programs: list[CProgram]) -> None:
    assert_clean(check_clang(programs, target), target, "clang")


@pytest.mark.slow
@pytest.mark.parametrize("target", CLANG_ONLY)
@SLOW
@given(programs=st.lists(c_programs(), min_size=10, max_size=10))
def test_engine_matches_clang(target: str, programs: list[CProgram]) -> None:
    assert_clean(check_clang(programs, target), target, "clang")


# --------------------------------------------------------------------------- (2) UAPI


@dataclass
class Corpus:
    headers: int = 0
    parsed: int = 0
    records: int = 0
    members: int = 0
    clang_differs: list[tuple[str, str, str]] = field(default_factory=list)  # header, record
    engine_rejects: list[str] = field(default_factory=list)


def uapi_tree(target: str) -> tuple[str, ...]:
    dirs = tuple(system_include_dirs(BORROWED_TREE.get(target, target)))
    if not dirs or not os.path.isdir(os.path.join(dirs[-1], "linux")):
        skip_or_fail(f"no Linux UAPI headers for {target} (linux-libc-dev / "
                     "libc6-dev-*-cross)")
    return dirs


def engine_vs_clang(target: str, dirs: tuple[str, ...]) -> tuple[Corpus, dict[str, DeclSet]]:
    """Parse each UAPI header once per side; compare every record clang lays out."""
    root = dirs[-1]
    options = frontend.ParseOptions(sysroots=tuple((target, d) for d in dirs))
    corpus = Corpus()
    decls_of: dict[str, DeclSet] = {}
    seen: set[tuple[str, str]] = set()
    for name in uapi_slice(target, uapi_headers(root)):
        path = os.path.join(root, name)
        corpus.headers += 1
        parsed: Model = frontend.parse([path], [TARGETS[target]], options, jobs=1)
        if parsed.failures:
            continue  # clang rejects the header for this target (gcc too, mostly)
        corpus.parsed += 1
        decls = frontend.parse_decls(path, TARGETS[target], options)
        engine = LayoutEngine(decls, MODELS[target])
        for rec in parsed.records:
            clang = rec.layouts.get(target)
            where = (rec.name, f"{rec.location.file}:{rec.location.line}")
            if clang is None or where in seen:
                continue
            seen.add(where)
            try:
                ours = engine.layout(rec.name)
            except InputError as exc:
                corpus.engine_rejects.append(f"{name}: {rec.name}: {exc}")
                continue
            corpus.records += 1
            corpus.members += len(flatten(ours.members))
            found = differ(target, rec.name, ours, clang, "clang")
            if found:
                corpus.clang_differs.append((path, rec.name, found[0]))
                decls_of[path] = decls
    return corpus, decls_of


# (the ones with a Linux tree, their own or borrowed; not bare metal)
UAPI_TARGETS = tuple(t for t in (*X86, *GCC_NEW, *CLANG_ONLY)
                     if t in BORROWED_TREE or (TARGETS[t].checker and TARGETS[t].checker.uapi))


@pytest.mark.slow
@pytest.mark.parametrize("target", UAPI_TARGETS)
def test_uapi_engine_matches_clang(target: str) -> None:
    """Every record of the target's UAPI corpus: engine == clang; where not, engine == GCC."""
    dirs = uapi_tree(target)
    corpus, decls_of = engine_vs_clang(target, dirs)
    gcc_decides: list[str] = []
    unresolved = [msg for _, _, msg in corpus.clang_differs]
    if corpus.clang_differs and target not in CLANG_ONLY:  # (riscv32: the elf gcc)
        require_gcc(target)
        headers = sorted({path for path, _, _ in corpus.clang_differs})
        wanted = {p: [r for q, r, _ in corpus.clang_differs if q == p] for p in headers}
        gcc = compile_layouts({p: f'#include "{p}"\n' for p in headers}, target,
                              include_dirs=dirs, align_probes=wanted)
        unresolved = []
        for path, rec, msg in corpus.clang_differs:
            res = gcc[path]
            theirs = res.records.get(rec) if res.ok else None
            ours = LayoutEngine(decls_of[path], MODELS[target]).layout(rec)
            if theirs is None or differ(target, rec, ours, theirs, "gcc"):
                unresolved.append(f"{msg} (gcc: {'no record' if theirs is None else theirs})")
            else:
                gcc_decides.append(f"{os.path.relpath(path, dirs[-1])}: {rec}: {msg}")
    print(f"{target}: {corpus.parsed}/{corpus.headers} UAPI headers parse, {corpus.records} "
          f"records, {corpus.members} members: engine == clang except {len(gcc_decides)} "
          f"where gcc decides for the engine")
    for line in gcc_decides:
        print(f"  gcc decides: {line}")
    for line in corpus.engine_rejects:
        print(f"  engine rejects: {line}")
    assert not unresolved, "\n".join(unresolved[:40])
    assert not corpus.engine_rejects, "\n".join(corpus.engine_rejects[:40])
    assert corpus.parsed >= (200 if corpus.headers > 400 else 80), \
        f"only {corpus.parsed} UAPI headers parse for {target}"
