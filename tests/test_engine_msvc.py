"""abiscope's layout engine on the MSVC ABI (``win32``, ``win64``): clang is the judge.

No MSVC runs here, so clang's ``MicrosoftRecordLayoutBuilder`` (``--target=i686-pc-windows-msvc``
and ``x86_64-pc-windows-msvc``) is the authority. (a) one hand-written case per MSVC layout
fact, (b) the data models' scalars, (c) generated C programs (``cgen.cstructs``): for every
record, the engine given clang's declarations (``frontend.parse_decls``) and the ``win32`` /
``win64`` data model must equal clang's own layout (``frontend.parse``): size, alignment and
every member's offset and size, to the bit. No expected number is typed in: each case states
its fact as a relation over clang's layout, then requires the engine to agree.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope import frontend
from abiscope.datamodels import MODELS
from abiscope.decls import SCALARS
from abiscope.layout_engine import LayoutEngine
from abiscope.model import RecordLayout
from abiscope.targets import TARGETS
from cgen.cstructs import CProgram, c_programs
from differential import Tally
from oracle.gcc_dwarf import flatten

WIN = ("win32", "win64")
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
OPTS = frontend.ParseOptions(system_dirs=False)

# Feature tags whose programs are skipped in the differential, with the reason (none today).
SKIP_FEATURES: dict[str, str] = {}


def both(source: str, target: str, tmp: Path, name: str = "case"
         ) -> dict[str, tuple[RecordLayout, RecordLayout]]:
    """clang's and the engine's layout of every record of ``source`` on ``target``."""
    path = tmp / f"{name}.h"
    path.write_text(source)
    model = frontend.parse([str(path)], [TARGETS[target]], OPTS, jobs=1)
    assert not model.failures, model.failures
    engine = LayoutEngine(frontend.parse_decls(str(path), TARGETS[target], OPTS), MODELS[target])
    return {r.name: (r.layouts[target], engine.layout(r.name)) for r in model.records}


def shape(layout: RecordLayout) -> tuple[int, int, str, list[tuple[str, int, int, bool]]]:
    return layout.size, layout.align, layout.kind, flatten(layout.members)


def off(layout: RecordLayout, name: str) -> int:
    return next(m.offset_bits for m in layout.members if m.name == name)


# --------------------------------------------------------------------------- (a) facts

Fact = Callable[[RecordLayout], bool]

# (fact, C record named ``struct s`` / ``union s``, the fact as a relation over clang's layout)
FACTS: tuple[tuple[str, str, Fact], ...] = (
    ("bit-fields of one declared type share a unit",
     "struct s { int a:3; int b:5; };",
     lambda s: off(s, "b") == 3 and s.size == 4),
    ("a bit-field of another declared size starts a new unit",
     "struct s { char a:3; int b:5; };",
     lambda s: off(s, "b") == 32 and s.size == 8),
    ("declared types of the same size share a unit (int, long, unsigned)",
     "struct s { int a:3; long b:3; unsigned c:3; };",
     lambda s: (off(s, "b"), off(s, "c"), s.size) == (3, 6, 4)),
    ("_Bool and char bit-fields share a 1-byte unit",
     "struct s { _Bool a:1; _Bool b:1; char c:1; };",
     lambda s: (off(s, "c"), s.size) == (2, 1)),
    ("a bit-field that does not fit the unit's remaining bits starts a new one",
     "struct s { int a:30; int b:5; };",
     lambda s: off(s, "b") == 32 and s.size == 8),
    ("the unit is aligned to the declared type",
     "struct s { char c; int a:3; };",
     lambda s: off(s, "a") == 32 and (s.size, s.align) == (8, 4)),
    ("a long long unit is 8-aligned and 8 bytes, also on win32",
     "struct s { char c; long long a:3; };",
     lambda s: off(s, "a") == 64 and (s.size, s.align) == (16, 8)),
    ("a non-bit-field member ends the unit",
     "struct s { int a:3; char c; int b:3; };",
     lambda s: (off(s, "c"), off(s, "b"), s.size) == (32, 64, 12)),
    ("a zero-width bit-field after a bit-field ends the unit and aligns to its type",
     "struct s { int a:3; int :0; char d; };",
     lambda s: off(s, "d") == 32 and s.size == 8),
    ("a zero-width bit-field of another type after a bit-field: its own type's alignment",
     "struct s { int a:3; char :0; char d; };",
     lambda s: off(s, "d") == 32),
    ("a zero-width bit-field after a non-bit-field is ignored (no alignment)",
     "struct s { char c; int :0; char d; };",
     lambda s: off(s, "d") == 8 and (s.size, s.align) == (2, 1)),
    ("a leading zero-width bit-field is ignored",
     "struct s { int :0; char c; };",
     lambda s: (s.size, s.align) == (1, 1)),
    ("an unnamed bit-field takes a unit and raises the record's alignment",
     "struct s { char c; int :3; char d; };",
     lambda s: off(s, "d") == 64 and (s.size, s.align) == (12, 4)),
    ("an unnamed bit-field continues the unit of a named one",
     "struct s { int a:3; int :3; int b:3; };",
     lambda s: off(s, "b") == 6 and s.size == 4),
    ("#pragma pack caps the unit's alignment but units stay whole",
     "#pragma pack(2)\nstruct s { char c; int a:3; char e; };\n#pragma pack()",
     lambda s: (off(s, "a"), off(s, "e"), s.size, s.align) == (16, 48, 8, 2)),
    ("#pragma pack(1): a zero-width bit-field's alignment is capped too",
     "#pragma pack(1)\nstruct s { char a:3; int :0; char b; };\n#pragma pack()",
     lambda s: off(s, "b") == 8 and s.size == 2),
    ("packed record: byte-aligned whole units",
     "struct __attribute__((packed)) s { char c; int a:3; char d; int x; };",
     lambda s: (off(s, "a"), off(s, "d"), off(s, "x"), s.size) == (8, 40, 48, 10)),
    ("packed bit-field member: byte-aligned whole unit",
     "struct s { char c; int a:3 __attribute__((packed)); };",
     lambda s: off(s, "a") == 8 and s.size == 5),
    ("aligned(N) on a bit-field survives #pragma pack",
     "#pragma pack(2)\nstruct s { char c; int b:3 __attribute__((aligned(8))); char z; };\n"
     "#pragma pack()",
     lambda s: off(s, "b") == 64 and s.align == 8),
    ("aligned(N) on a member survives #pragma pack",
     "#pragma pack(2)\nstruct s { char c; int x __attribute__((aligned(8))); };\n"
     "#pragma pack()",
     lambda s: off(s, "x") == 64 and s.align == 8),
    ("a nested record's required alignment survives #pragma pack(1)",
     "struct __attribute__((aligned(4))) in { short s; char c[3]; };\n"
     "#pragma pack(1)\nstruct s { char c; struct in x; };\n#pragma pack()",
     lambda s: off(s, "x") == 32 and s.align == 4),
    ("a member's required alignment propagates through the record into #pragma pack(1)",
     "struct in { char c; int x __attribute__((aligned(8))); };\n"
     "#pragma pack(1)\nstruct s { char c; struct in y; };\n#pragma pack()",
     lambda s: off(s, "y") == 64 and s.align == 8),
    ("packed + aligned(4) record: members packed, alignment 4",
     "struct __attribute__((packed, aligned(4))) s { char c; int x; };",
     lambda s: (off(s, "x"), s.size, s.align) == (8, 8, 4)),
    ("a lowering typedef aligned(2) does not lower a member of that type",
     "typedef long long ll2 __attribute__((aligned(2)));\nstruct s { char c; ll2 x; };",
     lambda s: off(s, "x") == 64 and s.align == 8),
    ("... but does lower an array of it",
     "typedef long long ll2 __attribute__((aligned(2)));\nstruct s { char c; ll2 x[2]; };",
     lambda s: off(s, "x") == 16 and s.align == 2),
    ("__declspec(align(N)) is aligned(N): on a record, and on a member under pack(1)",
     "struct __declspec(align(16)) in { char c; };\n#pragma pack(1)\n"
     "struct s { char c; __declspec(align(8)) int x; struct in y; };\n#pragma pack()",
     lambda s: (off(s, "x"), off(s, "y"), s.align) == (64, 128, 16)),
    ("aligned(N) on a member does not lower it",
     "struct s { char c; long long x __attribute__((aligned(2))); };",
     lambda s: off(s, "x") == 64 and s.align == 8),
    ("a bare aligned is 16",
     "struct s { char c; int x __attribute__((aligned)); };",
     lambda s: off(s, "x") == 128 and s.align == 16),
    ("a record without data is 4 bytes",
     "struct s { char c[0]; };",
     lambda s: (s.size, s.align) == (4, 1)),
    ("union: a bit-field's alignment does not count",
     "union s { char c; int a:3; };",
     lambda s: (s.size, s.align) == (4, 1)),
    ("union: zero-width bit-field after a bit-field",
     "union s { char c; int a:3; long long :0; };",
     lambda s: (s.size, s.align) == (8, 1)),
    ("enums are int-sized, packed ones too",
     "enum __attribute__((packed)) p { P1 = 1 };\nstruct s { char c; enum p e; };",
     lambda s: off(s, "e") == 32 and s.size == 8),
    ("enum bit-fields share a unit with int ones",
     "enum e { E1 = 1 };\nstruct s { int a:3; enum e b:3; };",
     lambda s: off(s, "b") == 3 and s.size == 4),
)


@pytest.mark.parametrize("target", WIN)
@pytest.mark.parametrize(("fact", "source", "holds"), FACTS, ids=[f[0] for f in FACTS])
def test_msvc_fact(target: str, fact: str, source: str, holds: Fact, tmp_path: Path) -> None:
    layouts = both(f"#include <stddef.h>\n{source}\n", target, tmp_path)
    clang, ours = next(v for k, v in layouts.items() if k.endswith(" s"))
    assert holds(clang), f"{target}: clang no longer says: {fact}: {shape(clang)}"
    assert shape(ours) == shape(clang), target
    for name, (c, o) in layouts.items():
        assert shape(o) == shape(c), f"{target} {name}"


# --------------------------------------------------------------------------- (b) scalars

EXTRA_TYPES = ("void *", "void (*)(void)", "size_t", "ptrdiff_t", "intptr_t", "wchar_t",
               "int64_t", "enum big")


@pytest.mark.parametrize("target", WIN)
def test_scalars_match_clang(target: str, tmp_path: Path) -> None:
    """``struct { char c; T x; }`` for every scalar clang accepts on the target: LLP64,
    8-aligned long long/double on win32, long double = double, wchar_t, enums."""
    checked = 0
    for i, spelling in enumerate((*SCALARS, *EXTRA_TYPES)):
        typedef = ("typedef void (*T)(void);" if spelling == "void (*)(void)" else
                   "enum big { BIG = 0x100000000 };\ntypedef enum big T;"
                   if spelling == "enum big" else f"typedef {spelling} T;")
        source = (f"#include <stddef.h>\n#include <stdint.h>\n{typedef}\n"
                  "struct s { char c; T x; };\n")
        path = tmp_path / f"t{i}.h"
        path.write_text(source)
        model = frontend.parse([str(path)], [TARGETS[target]], OPTS, jobs=1)
        if model.failures:  # e.g. __int128 on win32, __float128
            continue
        clang = next(r for r in model.records if r.name == "struct s").layouts[target]
        ours = LayoutEngine(frontend.parse_decls(str(path), TARGETS[target], OPTS),
                            MODELS[target]).layout("struct s")
        assert shape(ours) == shape(clang), (target, spelling)
        checked += 1
    assert checked >= len(SCALARS) - 2
    model = MODELS[target]
    assert 8 * model.pointer[0] == TARGETS[target].pointer_bits
    assert model.scalars["long"] == (4, 4) and model.bitfield_family == "ms"


# --------------------------------------------------------------------------- (c) programs


def check_programs(programs: list[CProgram], targets: tuple[str, ...] = WIN) -> Tally:
    """Lay out every record of every program with the engine and with clang."""
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="abiscope-msvc-") as tmp:
        for i, prog in enumerate(programs):
            path = Path(tmp) / f"gen{i}.h"
            path.write_text(prog.source)
            for target in targets:
                model = frontend.parse([str(path)], [TARGETS[target]], OPTS, jobs=1)
                if model.failures:
                    # Valid GNU C that the MSVC ABI rejects (an array of a record whose size
                    # is not a multiple of its alignment): nothing to compare.
                    assert "isn't a multiple of its alignment" in str(model.failures) or \
                        "not supported on this target" in str(model.failures), \
                        f"{target}: {model.failures}\n{prog.source}"
                    continue
                engine = LayoutEngine(frontend.parse_decls(str(path), TARGETS[target], OPTS),
                                      MODELS[target])
                found = []
                for rec in model.records:
                    if rec.name not in prog.records:
                        continue
                    tally.records += 1
                    clang, ours = rec.layouts[target], engine.layout(rec.name)
                    tally.members += len(flatten(ours.members))
                    if shape(ours) != shape(clang):
                        diff = [f"{x} != {y}" for x, y in zip(
                            flatten(ours.members), flatten(clang.members), strict=False)
                            if x != y][:3]
                        found.append(f"[{target}] {rec.name}: engine "
                                     f"{shape(ours)[:3]}, clang {shape(clang)[:3]}; "
                                     + "; ".join(diff))
                if found:
                    tally.mismatches += [*found, f"program:\n{prog.source}"]
    return tally


def assert_programs_match(programs: list[CProgram]) -> None:
    programs = [p for p in programs if not SKIP_FEATURES.keys() & p.features]
    if not programs:
        return
    tally = check_programs(programs)
    assert tally.records > 0
    assert not tally.mismatches, "\n".join(tally.mismatches)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(), min_size=5, max_size=5))
def test_engine_matches_clang_msvc_quick(programs: list[CProgram]) -> None:
    """~20 generated programs, each on win32 and win64."""
    assert_programs_match(programs)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(), min_size=10, max_size=10))
def test_engine_matches_clang_msvc(programs: list[CProgram]) -> None:
    """~200 generated programs, each on win32 and win64."""
    assert_programs_match(programs)
