"""``check`` and ``compat`` agree: one comparison decides whether two layouts are the same.

For every pair of the selected real targets, ABI003 fires (as a warning) on a record exactly
when ``compat`` for that pair says ``translate`` because of the record's own members (its
``reasons``; not only ``via`` a contained or pointed-to record); a record declared on one
side only is no ABI003 layout difference. Checked on generated handle idioms (inline via a
macro, typedef'd, one union everywhere, arrays of handles, unions of handles, nested two
deep), on every record of Xen's public headers (x86_64/i386 and aarch64/arm) and on the
Linux UAPI corpus (i386/x86_64), each corpus parsed once per module. Each prints the count
of records compared. Also the issue's example (issue 26): ``struct a``/``struct apad``.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from abiscope import compat, frontend
from abiscope.checks import CheckConfig, run_checks
from abiscope.model import Model
from abiscope.targets import TARGETS
from conftest import CliResult, skip_or_fail
from oracle.gcc_dwarf import UAPI_DIRS, uapi_headers

Run = Callable[..., CliResult]
REAL4 = ("i386", "x86_64", "arm", "aarch64")


def disagreements(model: Model) -> tuple[int, list[str]]:
    """(records compared, records where ABI003 and compat disagree, with why)."""
    inputs = set(model.inputs)
    records = [r for r in model.records if r.location.file in inputs]
    real = [t for t, info in model.targets.items() if not info.hypothetical]
    warned = {f.record for f in run_checks(model, records, CheckConfig(select=("ABI003",)))
              if f.severity == "warning"}
    reports = {(a, b): compat.compare(model, a, b) for a, b in itertools.combinations(real, 2)}
    out = []
    for rec in records:
        own = [f"{a}/{b}: {v.reasons[0].member or '(record)'} {v.reasons[0].cause}"
               for (a, b), rep in reports.items()
               if a in rec.layouts and b in rec.layouts
               and (v := rep.verdict(rec.name)) is not None and v.reasons]
        if bool(own) != (rec.name in warned):
            out.append(f"{rec.name}: ABI003 {'fires' if rec.name in warned else 'silent'}, "
                       f"compat {own or 'identical by own members'}")
    return len(records), out


# ---------------------------------------------------------------------------------------
# generated handle idioms

PRELUDE = """\
#include <stdint.h>
#if __SIZEOF_POINTER__ == 4
#define H64(T) struct { union { T *p; uint64_t __attribute__((aligned(8))) q; }; }
#define DEF_HANDLE(N, T) typedef union { T *p; uint64_t __attribute__((aligned(8))) q; } N
#else
#define H64(T) struct { T *p; }
#define DEF_HANDLE(N, T) typedef struct { T *p; } N
#endif
#define U64(T) union { T *p; uint64_t __attribute__((aligned(8))) q; }
struct payload { uint32_t x; long y; };
struct plain { uint32_t x; };
DEF_HANDLE(h_void, void);
DEF_HANDLE(h_payload, struct payload);
DEF_HANDLE(h_plain, struct plain);
typedef U64(char) u_char_handle;
"""

# How a handle member is written (`%s` is the member name).
HANDLES = {
    "macro": "H64(void) %s;",
    "macro_payload": "H64(struct payload) %s;",
    "typedef": "h_void %s;",
    "typedef_payload": "h_payload %s;",
    "typedef_plain": "h_plain %s;",
    "union_everywhere": "u_char_handle %s;",
    "inline_union": "U64(int) %s;",
    "array": "h_void %s[3];",
    "array_macro": "H64(void) %s[2];",
    "union_of_handles": "union { h_void a; u_char_handle b; } %s;",
    "raw_pointer": "void *%s;",
}
# What surrounds it: (before, after) members.
TAILS = {
    "alone": ("", ""),
    "size": ("", "uint32_t size;"),
    "size_pad": ("", "uint32_t size; uint32_t pad;"),
    "after_u32": ("uint32_t n;", "uint64_t v;"),
    "long_after": ("", "long l;"),
}


def generated_header() -> tuple[str, int]:
    """Every handle style in every surrounding, directly, nested one and two deep (anonymous
    and named), and in a union; returns (C text, number of records defined)."""
    out = [PRELUDE]
    count = 0
    for (hname, handle), (tname, (before, after)) in itertools.product(
            HANDLES.items(), TAILS.items()):
        body = f"{before} {handle % 'h'} {after}"
        tag = f"{hname}__{tname}"
        out.append(f"struct d_{tag} {{ {body} }};")
        out.append(f"struct n1_{tag} {{ uint32_t k; struct {{ {body} }} in; }};")
        out.append(f"struct n2_{tag} {{ struct {{ struct {{ {body} }} deep; }} in; "
                   "uint16_t t; };")
        out.append(f"struct named_{tag} {{ struct d_{tag} d; uint32_t t; }};")
        out.append(f"union u_{tag} {{ struct {{ {body} }} s; uint64_t raw; }};")
        count += 5
    return "\n".join(out) + "\n", count


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Model:
    text, _ = generated_header()
    path = tmp_path_factory.mktemp("agreement") / "handles.h"
    path.write_text(text)
    return frontend.parse([str(path)], [TARGETS[t] for t in REAL4], jobs=1)


def test_generated_handle_idioms_agree(generated: Model) -> None:
    assert not generated.failures, [f.summary() for f in generated.failures]
    compared, bad = disagreements(generated)
    _, expected = generated_header()
    print(f"generated handle idioms: {compared} records compared, {len(bad)} disagreements")
    assert compared >= expected
    assert not bad, "\n".join(bad[:20])


def test_generated_handles_are_not_width_dependent(generated: Model) -> None:
    """ABI004 does not flag the pointer inside a handle that is 8 bytes everywhere; it still
    flags a raw pointer."""
    inputs = set(generated.inputs)
    records = [r for r in generated.records if r.location.file in inputs]
    flagged = {f.record for f in run_checks(generated, records, CheckConfig(select=("ABI004",)))}
    assert "struct d_macro__size" not in flagged
    assert "struct n2_macro__size" not in flagged
    assert "struct d_inline_union__size" not in flagged
    assert "struct d_raw_pointer__size" in flagged
    assert "struct d_macro__long_after" in flagged  # the long, not the handle


# ---------------------------------------------------------------------------------------
# the issue's example

EXAMPLE = """\
#include <stdint.h>
#if __SIZEOF_POINTER__ == 4
#define H64(T) struct { union { T *p; uint64_t __attribute__((aligned(8))) q; }; }
#else
#define H64(T) struct { T *p; }
#endif
struct a    { H64(void) h; uint32_t size; };
struct apad { H64(void) h; uint32_t size; uint32_t pad; };
"""


def test_issue_example(run_cli: Run, tmp_path: Path) -> None:
    header = tmp_path / "a.h"
    header.write_text(EXAMPLE)
    r = run_cli("check", str(header), "--target", ",".join(REAL4), "-r", "apad", "--no-cache")
    assert r.code == 0, r.out
    r = run_cli("check", str(header), "--target", ",".join(REAL4) + ",lp128,cheri128",
                "-r", "struct a", "--format", "json", "--fail-on", "never", "--no-cache")
    rules = sorted({f["rule"] for f in json.loads(r.out)["findings"]})
    assert rules == ["ABI002", "ABI013"], r.out
    r = run_cli("compat", str(header), "--native", "x86_64", "--compat", "i386",
                "--format", "json", "--no-cache")
    assert {v["name"]: v["verdict"] for v in json.loads(r.out)["records"]} == {
        "struct a": "identical", "struct apad": "identical"}


def test_zero_size_member_on_one_side(run_cli: Run, tmp_path: Path) -> None:
    """``__DECLARE_FLEX_ARRAY`` beside a plain flexible array: every byte is the same."""
    header = tmp_path / "kvm.h"
    header.write_text(
        "typedef unsigned int __u32;\n#ifdef __x86_64__\n"
        "struct kvm_msr_list { __u32 nmsrs; "
        "struct { struct { } __empty_indices; __u32 indices[]; }; };\n#else\n"
        "struct kvm_msr_list { __u32 nmsrs; __u32 indices[]; };\n#endif\n")
    r = run_cli("compat", str(header), "--native", "x86_64", "--compat", "i386",
                "--format", "json", "--no-cache")
    (rec,) = json.loads(r.out)["records"]
    assert rec["verdict"] == "identical" and not rec["reasons"]
    assert any("__empty_indices" in n and "size 0" in n for n in rec["notes"])
    r = run_cli("check", str(header), "--target", "i386,x86_64", "--select", "ABI003",
                "--no-cache")
    assert r.code == 0, r.out


def test_zero_size_member_ioctl_is_same(run_cli: Run, tmp_path: Path) -> None:
    """``ioctls`` reads the same comparison: the request is ``same``, with the note."""
    header = tmp_path / "kvmio.h"
    header.write_text(
        "#include <linux/ioctl.h>\n#include <linux/types.h>\n#ifdef __x86_64__\n"
        "struct kvm_msr_list { __u32 nmsrs; "
        "struct { struct { } __empty_indices; __u32 indices[]; }; };\n#else\n"
        "struct kvm_msr_list { __u32 nmsrs; __u32 indices[]; };\n#endif\n"
        "#define KVM_GET_MSR_INDEX_LIST _IOWR(0xAE, 0x02, struct kvm_msr_list)\n")
    r = run_cli("ioctls", str(header), "--native", "x86_64", "--compat", "i386", "-f", "json",
                "--no-cache")
    if r.code == 2 and "linux/ioctl.h" in r.err:
        skip_or_fail("Linux UAPI headers missing (apt-get install linux-libc-dev)")
    doc = json.loads(r.out)
    schema = Path(__file__).parents[1] / "src/abiscope/schema/ioctls-1.schema.json"
    jsonschema.validate(doc, json.loads(schema.read_text()))
    (entry,) = doc["ioctls"]
    assert entry["class"] == "same" and not entry["reasons"], entry
    assert any("__empty_indices" in n for n in entry["notes"])
    text = run_cli("ioctls", str(header), "--native", "x86_64", "--compat", "i386",
                   "--no-cache", "-o", str(tmp_path / "out.txt"))
    assert text.code == 0, text.err
    assert "note: " in (tmp_path / "out.txt").read_text()  # (the text shows it too)


# ---------------------------------------------------------------------------------------
# real corpora

XEN_DIR = "/usr/include/xen"


def xen_model(targets: tuple[str, str]) -> Model:
    if not os.path.isfile(os.path.join(XEN_DIR, "xen.h")):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    headers = sorted(glob.glob(f"{XEN_DIR}/**/*.h", recursive=True))
    options = frontend.ParseOptions(defines=("__XEN_TOOLS__",), force_includes=("stdint.h",))
    return frontend.parse(headers, [TARGETS[t] for t in targets], options, jobs=1)


@pytest.mark.slow
@pytest.mark.parametrize("pair", [("x86_64", "i386"), ("aarch64", "arm")])
def test_xen_public_headers_agree(pair: tuple[str, str]) -> None:
    model = xen_model(pair)
    compared, bad = disagreements(model)
    print(f"Xen {'/'.join(pair)}: {compared} records compared, {len(bad)} disagreements")
    assert compared >= 500
    assert not bad, "\n".join(bad[:20])


@pytest.mark.slow
def test_linux_uapi_agrees() -> None:
    names = uapi_headers("/usr/include", UAPI_DIRS)
    if len(names) < 100:
        skip_or_fail("Linux UAPI headers missing (apt-get install linux-libc-dev)")
    model = frontend.parse([f"/usr/include/{n}" for n in names],
                           [TARGETS[t] for t in ("i386", "x86_64")], jobs=1)
    compared, bad = disagreements(model)
    print(f"Linux UAPI i386/x86_64: {compared} records compared, {len(bad)} disagreements")
    assert compared >= 2000
    assert not bad, "\n".join(bad[:20])


def test_handle_forms_compare_whole(tmp_path: Path) -> None:
    """x86_32's ``struct { union { T *p; uint64_aligned_t q; }; }`` and Arm's ``union { T *p;
    uint64_aligned_t q; }`` are both the 64-bit handle: the same bytes, compared whole, at the
    top and held by value; a union of a pointer and a narrower integer is not a handle."""
    from abiscope.sameness import compare_layouts, handle_union

    header = tmp_path / "h.h"
    header.write_text(
        "#include <stdint.h>\n#ifdef __i386__\n"
        "typedef struct { union { int *p; uint64_t __attribute__((aligned(8))) q; }; } g64;\n"
        "#else\ntypedef union { int *p; uint64_t __attribute__((aligned(8))) q; } g64;\n#endif\n"
        "union narrow { int *p; uint32_t q; };\n"
        "struct holder { g64 h; uint32_t n; uint32_t pad; };\n")
    model = frontend.parse([str(header)], [TARGETS[t] for t in ("i386", "aarch64")], jobs=1)
    g64, narrow, holder = (model.record(n) for n in ("g64", "union narrow", "struct holder"))
    assert g64 is not None and narrow is not None and holder is not None
    assert all(handle_union(lay) for lay in g64.layouts.values())
    assert not handle_union(narrow.layouts["aarch64"])
    top = compare_layouts(model, (g64, "aarch64"), (g64, "i386"))
    assert not top.deltas and top.wholes == ("",)
    held = compare_layouts(model, (holder, "aarch64"), (holder, "i386"))
    assert not held.deltas and held.wholes == ("h",), held
    assert compare_layouts(model, (narrow, "aarch64"), (narrow, "i386")).deltas
