"""Where clang lays a record out otherwise than GCC, abiscope follows GCC: on every gcc target.

Two constructs, each checked against the DWARF of every Debian cross gcc, with and without
batches (a batch of two headers is one translation unit):

- an ``aligned(N)`` bitfield under ``#pragma pack(M)``: GCC places it at a multiple of
  min(N, M) bytes, clang 22 ignores the attribute for its offset (every target), found by
  the generated-records test;
- an ``aligned`` on a ``long long`` bitfield: GCC keeps its 8-byte alignment on i386,
  clang makes it 4 (found by the generated-records test too);
- a bare ``aligned``: the target's biggest alignment, 16 bytes under clang and 8 under GCC
  on mips (o32), whether on a typedef, a member, or a record before or after its tag;
- attributes written before an anonymous member's ``struct``/``union`` keyword: GCC ignores
  them, silently, clang applies them (every target; after the keyword or the body, both
  apply them).

Records that hold such a record (as a member, an array element, inside an unnamed member)
follow it, and so do records with an array of an unnamed record that has one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.targets import MODELS, TARGETS
from conftest import skip_or_fail
from differential import compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc

# the targets with a GCC data model: the engine follows GCC there (MinGW has none yet:
# README, Known limitations)
GCC_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available and t in MODELS]

PACKED_ALIGNED_BITFIELDS = """\
#pragma pack(2)
struct p1 { char a; int b : 3 __attribute__((aligned(4))); };
struct p2 { char a; int b : 3 __attribute__((aligned(8))); char c; };
struct p3 { char a; short s; int b : 5 __attribute__((aligned(16))); int c : 7; };
#pragma pack(4)
struct p4 { char a; long long b : 33 __attribute__((aligned(16))); char z; };
struct p5 { char a; int b : 3 __attribute__((aligned(2))); };
#pragma pack(1)
struct p6 { char a; int b : 3 __attribute__((aligned(4))); char c; };
#pragma pack()
struct p7 { char a; int b : 3 __attribute__((aligned(4))); };
#pragma pack(push, 2)
struct p8 { char a; unsigned b : 1 __attribute__((aligned(8))), c : 2; };
#pragma pack(pop)
struct holds_p1 { char c; struct p1 inner[2]; };
struct holds_nested { int x; struct { char a; struct p2 p; } anon; };
"""

ALIGNED_LONG_LONG_BITFIELD = """\
typedef unsigned long long t0;
struct r1 { t0 f0 : 64 __attribute__((aligned(1))); unsigned :32; short f1 : 1;
            unsigned long long f2 : 9; };
struct r2 { char c; t0 f0 : 64 __attribute__((aligned(1))); };
struct r3 { char c; unsigned long long f0 : 60 __attribute__((aligned(2))); };
struct r4 { char c; int f0 : 20 __attribute__((aligned(1))); };
struct holds_r1 { int i; struct r1 r; };
"""

ANONYMOUS_LEADING_ATTRIBUTES = """\
struct before { char c; __attribute__((aligned(8))) struct { char d; }; int i; };
struct after_body { char c; struct { char d; } __attribute__((aligned(8))); int i; };
struct after_keyword { char c; struct __attribute__((aligned(8))) { char d; }; int i; };
struct named { char c; __attribute__((aligned(8))) struct { char d; } n; int i; };
struct packed_before { char c; __attribute__((packed)) struct { char d; int x; }; int i; };
struct union_before { char c; __attribute__((aligned(8))) union { char d; int x; }; int i; };
struct packed_named { char c; __attribute__((packed)) struct { char d; int x; } n; int i; };
struct holds_before { char c; struct before b; };
"""

BARE_ALIGNED = """\
typedef int bare_t __attribute__((aligned));
struct of_typedef { char c; bare_t x; };
struct of_member { char c; int x __attribute__((__aligned__)); };
struct on_record { char c; } __attribute__((aligned));
struct holds_record { char c; struct on_record r; };
typedef struct { char c; } bare_s __attribute__((aligned));
struct of_untagged { char c; bare_s s; };
struct __attribute__((aligned)) before_tag { short s; };
struct holds_before { char c; struct before_tag b[2]; };
union of_union { char c; bare_t x; };
struct plain { char c; long long x; };
"""

# (found by the generated-records test: the model keeps no members for an unnamed record
# that an array's elements are, so what clang lays out otherwise there went unseen)
UNNAMED_ARRAY_ELEMENTS = """\
typedef union __attribute__((packed)) {
    char c;
    struct { _Bool a : 1; unsigned long long b : 63 __attribute__((aligned(2)));
             short s : 15; unsigned long long d; } f[1];
} in_union;
struct in_struct { char c; struct { char a; int b : 3 __attribute__((aligned(8))); } f[2][2]; };
struct leading { char c; struct { char d; __attribute__((aligned(8))) struct { char e; }; } f[2]; };
struct bare { char c; struct { char d; int x __attribute__((aligned)); } f[3]; };
struct holds { int i; in_union u; struct in_struct s; };
"""


@pytest.mark.parametrize("target", GCC_TARGETS)
@pytest.mark.parametrize(("source", "count"), [(PACKED_ALIGNED_BITFIELDS, 10),
                                               (ALIGNED_LONG_LONG_BITFIELD, 5),
                                               (ANONYMOUS_LEADING_ATTRIBUTES, 8),
                                               (BARE_ALIGNED, 10),
                                               (UNNAMED_ARRAY_ELEMENTS, 5)],
                         ids=["aligned-bitfield-in-pack", "aligned-long-long-bitfield",
                              "anonymous-leading-attributes", "bare-aligned",
                              "unnamed-array-elements"])
def test_records_clang_lays_out_otherwise_follow_gcc(target: str, source: str, count: int,
                                                    tmp_path: Path) -> None:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    if target == "avr" and source == ALIGNED_LONG_LONG_BITFIELD:
        pytest.skip("its int bit-fields are wider than avr's 16-bit int")
    header, other = tmp_path / "case.h", tmp_path / "other.h"
    header.write_text(source)
    other.write_text("struct other { int x; };\n")
    gcc = None
    for batch in (False, True):
        model = frontend.parse([str(other), str(header)], [TARGETS[target]],
                               frontend.ParseOptions(system_dirs=False), jobs=1, batch=batch)
        names = [n for n in probes_for(model, target) if n != "struct other"]
        if gcc is None:
            gcc = gcc_layouts({"t": source}, target, {"t": names})["t"]
            assert gcc.ok, gcc.stderr
        tally = compare_model(model, target, gcc.records, "case.h", names)
        assert not tally.mismatches, "\n".join(tally.mismatches)
        assert tally.records == count and not model.failures
        assert "struct other" in {r.name for r in model.records}
