"""abiscope compat: verdicts on the seed, written cases for each rule, and GCC's own layouts.

The differential test reads GCC's i386 and x86_64 DWARF (tests/oracle/gcc_dwarf.py) for the
seed headers, Xen's public headers and a slice of Linux UAPI, decides from GCC's layouts alone
which records are identical by ARCHITECTURE.md's rule (the non-transitive core: members paired
by name at every depth GCC's DWARF shows, a nested record declared differently compared as a
whole), and checks that abiscope's core verdict agrees for every record.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import jsonschema
import pytest

from abiscope import compat, frontend
from abiscope.frontend import relpath
from abiscope.model import Model
from abiscope.targets import TARGETS
from conftest import SEED_DIR, SEED_HEADERS, CliResult, skip_or_fail
from oracle.gcc_dwarf import (
    OracleMember,
    OracleRecord,
    compile_layouts,
    find_gcc,
    system_include_dirs,
    uapi_headers,
)

Run = Callable[..., CliResult]
PAIR = ("x86_64", "i386")
SEED = [str(SEED_DIR / h) for h in SEED_HEADERS]


def compat_json(run_cli: Run, *args: str) -> dict[str, object]:
    r = run_cli("compat", *args, "--format", "json")
    assert r.code == 0, r.err
    doc: dict[str, object] = json.loads(r.out)
    jsonschema.validate(doc, compat.json_schema())
    return doc


def verdicts(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    return {r["name"]: r for r in doc["records"]}  # type: ignore[attr-defined, index]


# --------------------------------------------------------------------------- the seed


def test_seed_verdicts(run_cli: Run) -> None:
    v = verdicts(compat_json(run_cli, *SEED))
    assert v["struct xen_dm_op_buf_v3"]["verdict"] == "identical"
    assert v["struct xen_dm_op_buf_v3_pad"]["verdict"] == "identical"
    assert "64-bit handle" in v["struct xen_dm_op_buf_v3"]["notes"][0]  # type: ignore[index]
    c = v["struct xen_dm_op_buf"]
    assert c["verdict"] == "translate"
    reasons = {r["member"]: r for r in c["reasons"]}  # type: ignore[attr-defined]
    assert reasons["size"]["native"] == {"offset_bits": 64, "size_bits": 64}
    assert reasons["size"]["compat"] == {"offset_bits": 32, "size_bits": 32}
    assert "xen_ulong_t" in reasons["size"]["cause"]
    assert reasons["h"]["compat"] == {"offset_bits": 0, "size_bits": 32}
    op = v["struct privcmd_dm_op"]
    assert op["via"] == ["struct privcmd_dm_op_buf"]
    assert any("points to struct privcmd_dm_op_buf" in n for n in op["notes"])  # type: ignore


def test_xlat_format_and_fail_on(run_cli: Run, tmp_path: Path) -> None:
    r = run_cli("compat", *SEED, "--format", "xlat", "-r", "xen_dm_op_*")
    assert r.code == 0, r.err
    lines = [line.split() for line in r.out.splitlines() if not line.startswith("#")]
    assert lines == [["!", "dm_op_buf", "dm_op.h"], ["?", "dm_op_buf_v3", "dm_op_v3.h"],
                     ["?", "dm_op_buf_v3_pad", "dm_op_v3.h"]]
    assert run_cli("compat", *SEED, "--fail-on", "translate").code == 1
    assert run_cli("compat", *SEED, "-r", "xen_dm_op_buf_v3*", "--fail-on",
                   "translate").code == 0
    out = tmp_path / "v.txt"
    assert run_cli("compat", *SEED, "-o", str(out)).code == 0
    assert "translate" in out.read_text() and "identical" in out.read_text()


def test_xlat_names_and_arch() -> None:
    assert compat.xlat_name("struct xen_dm_op_buf") == "dm_op_buf"
    assert compat.xlat_name("struct vcpu_info") == "vcpu_info"
    assert compat.xlat_matches("dm_op_buf", "struct xen_dm_op_buf")
    assert compat.xlat_matches("vcpu_info", "struct vcpu_info")
    assert compat.xlat_file("/x/include/public/arch-x86/xen-x86_32.h", ["/x/include/public"],
                            "x86_64", "i386") == "arch-x86/xen-@arch@.h"


def test_xlat_file_is_relative_to_xens_include_public(tmp_path: Path) -> None:
    """xlat.lst paths are relative to the directory holding xen.h (the outermost: arch-x86/
    has a xen.h too), whatever -I reached the header by; --xlat-root chooses the base."""
    pub = tmp_path / "include" / "public"
    (pub / "hvm").mkdir(parents=True)
    (pub / "arch-x86").mkdir()
    for h in ("xen.h", "hvm/dm_op.h", "arch-x86/xen.h", "arch-x86/xen-x86_32.h"):
        (pub / h).write_text("")
    roots = [str(tmp_path / "include")]
    assert compat.xlat_file(str(pub / "hvm/dm_op.h"), roots, *PAIR) == "hvm/dm_op.h"
    assert compat.xlat_file(str(pub / "arch-x86/xen.h"), roots, *PAIR) == "arch-x86/xen.h"
    assert compat.xlat_file(str(pub / "arch-x86/xen-x86_32.h"), roots, *PAIR) == \
        "arch-x86/xen-@arch@.h"
    assert compat.xlat_file(str(pub / "hvm/dm_op.h"), roots, *PAIR,
                            xlat_root=str(tmp_path / "include")) == "public/hvm/dm_op.h"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.h").write_text("")
    assert compat.xlat_file(str(tmp_path / "other/a.h"), [str(tmp_path)], *PAIR) == "other/a.h"


def test_xlat_of_xens_headers_reads_back(run_cli: Run, tmp_path: Path) -> None:
    """On Debian's libxen-dev reached as <xen/...>: FILE as Xen's list writes it
    (hvm/dm_op.h), no __guest_handle_* typedefs, and the list written verifies as it is."""
    if not os.path.isfile("/usr/include/xen/xen.h"):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    args = ["/usr/include/xen/hvm/dm_op.h", "-I", "/usr/include", "-D", "__XEN_TOOLS__",
            "--include", "stdint.h", "--all-files", "-r", "*dm_op*", "-r", "*guest_handle*"]
    r = run_cli("compat", *args, "--format", "xlat")
    assert r.code == 0, r.err
    lines = [line.split() for line in r.out.splitlines() if not line.startswith("#")]
    assert ["!", "dm_op_buf", "hvm/dm_op.h"] in lines
    assert len(lines) > 10 and all(f == "hvm/dm_op.h" for _, _, f in lines)
    assert "guest_handle" not in r.out
    lst = tmp_path / "xlat.lst"
    lst.write_text(r.out)
    back = run_cli("compat", *args, "--verify-list", str(lst), "-f", "json")
    assert back.code == 0, back.out
    doc = json.loads(back.out)
    assert doc["summary"]["agrees"] == len(lines)
    assert not [e for e in doc["entries"] if e["notes"]]
    rooted = run_cli("compat", *args, "--format", "xlat", "--xlat-root", "/usr/include")
    assert ["!", "dm_op_buf", "xen/hvm/dm_op.h"] in [
        line.split() for line in rooted.out.splitlines()]
    lst.write_text(rooted.out)
    back = run_cli("compat", *args, "--verify-list", str(lst), "--xlat-root", "/usr/include",
                   "-f", "json")
    assert back.code == 0 and not [e for e in json.loads(back.out)["entries"] if e["notes"]]
    bad = run_cli("compat", *args, "--xlat-root", str(tmp_path / "none"))
    assert bad.code == 2 and "--xlat-root" in bad.err


def test_config_and_bad_input(run_cli: Run, tmp_path: Path) -> None:
    cfg = tmp_path / "abiscope.toml"
    cfg.write_text('[compat]\nnative = "aarch64"\ncompat = "arm"\nfail-on = "translate"\n')
    r = run_cli("compat", *SEED, "--config", str(cfg), "-r", "xen_dm_op_buf", "-f", "json")
    assert r.code == 0, r.err  # C is identical on arm/aarch64 (claim 11)
    assert json.loads(r.out)["native"] == "aarch64"
    bad = run_cli("compat", *SEED, "--native", "vax")
    assert bad.code == 2 and "unknown target 'vax'" in bad.err and "Traceback" not in bad.err
    none = run_cli("compat", *SEED, "-r", "nothing_like_this")
    assert none.code == 2 and "matches no record" in none.err
    same = run_cli("compat", *SEED, "--native", "i386")
    assert same.code == 2 and "both i386" in same.err
    cfg.write_text('[compat]\nnative = "x86_64"\nwidth = 3\n')
    unknown = run_cli("compat", *SEED, "--config", str(cfg))
    assert unknown.code == 2 and "unknown key(s) in [compat]: width" in unknown.err


# --------------------------------------------------------------------------- written cases

CASES = r"""
#include <stdint.h>
typedef uint64_t uint64_aligned_t __attribute__((aligned(8)));
struct runstate { int state; uint64_t entry; uint64_t time[4]; };
struct aligned_only { uint32_t a; uint32_t b; uint64_t c; };
struct inner { uint32_t x; uint64_t y; };
struct outer { uint32_t tag; uint32_t pad; struct inner in; };
typedef struct { struct inner *p; } __guest_handle_inner;
union handle_or_pad { __guest_handle_inner h; uint64_t pad; };
#if defined(__x86_64__)
typedef struct { struct inner *p; } __guest_handle_64_inner;
typedef struct { void *p; } __guest_handle_64_void;
#else
typedef union { struct inner *p; uint64_aligned_t q; } __guest_handle_64_inner;
typedef union { void *p; uint64_aligned_t q; } __guest_handle_64_void;
#endif
struct by_handle64 { __guest_handle_64_inner h; uint32_t n; uint32_t pad; };
struct plain_handle64 { __guest_handle_64_void h; uint64_aligned_t size; };
struct node { uint64_aligned_t value; struct node *next; };
struct anon { uint32_t op; union { struct { uint16_t a; uint64_t b; } s; uint32_t w; } u; };
"""


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> compat.CompatReport:
    header = tmp_path_factory.mktemp("compat") / "cases.h"
    header.write_text(CASES)
    model = frontend.parse([str(header)], [TARGETS[t] for t in PAIR], frontend.ParseOptions(),
                           jobs=1)
    assert not model.failures
    return compat.compare(model, *PAIR)


def _v(report: compat.CompatReport, name: str) -> compat.RecordVerdict:
    v = report.verdict(name)
    assert v is not None, name
    return v


def test_root_cause_and_follows(cases: compat.CompatReport) -> None:
    v = _v(cases, "struct runstate")
    causes = {d.member: d.cause for d in v.reasons}
    assert causes["entry"] == "uint64_t aligned 4 on i386"
    assert causes["time"] == "follows entry"


def test_alignment_alone_is_identical_with_a_note(cases: compat.CompatReport) -> None:
    v = _v(cases, "struct aligned_only")
    assert v.verdict == "identical" and "alignment alone differs" in v.notes[0]


def test_nested_record_is_compared_member_by_member(cases: compat.CompatReport) -> None:
    v = _v(cases, "struct outer")
    assert v.verdict == "translate" and v.via == ("struct inner",)
    paths = {d.member: d for d in v.reasons}
    assert paths["in.y"].native == (128, 64) and paths["in.y"].compat == (96, 64)


def test_union_whose_members_pair_is_compared_member_by_member(
        cases: compat.CompatReport) -> None:
    v = _v(cases, "union handle_or_pad")
    assert v.verdict == "translate" and "h" in {d.member for d in v.reasons}


def test_declared_differently_is_compared_as_a_whole(cases: compat.CompatReport) -> None:
    v = _v(cases, "struct plain_handle64")
    assert v.verdict == "identical" and not v.reasons
    assert "declared differently" in v.notes[0] and "__guest_handle_64_void" in v.notes[0]


def test_pointing_to_a_record_that_differs_is_transitive(cases: compat.CompatReport) -> None:
    v = _v(cases, "struct by_handle64")
    assert not v.reasons  # the bytes of by_handle64 itself are the same
    assert v.verdict == "translate" and v.via == ("struct inner",)
    assert any("points to struct inner" in n for n in v.notes)


def test_anonymous_and_unnamed_levels(cases: compat.CompatReport) -> None:
    v = _v(cases, "struct anon")
    assert {d.member for d in v.reasons} >= {"u.s.b"}
    assert _v(cases, "struct node").verdict == "translate"  # its pointer, and itself


# --------------------------------------------------------------------------- GCC differential


def _handle(r: OracleRecord) -> bool:
    ptr = [m for m in r.members if m.type_name.endswith("*")]
    span = [m for m in r.members if not m.type_name.endswith("*") and "[" not in m.type_name
            and not m.type_name.startswith(("struct", "union")) and not m.members
            and m.size_bits == r.size * 8 and not m.bitfield]
    return r.kind == "union" and bool(ptr) and bool(span) and len(ptr) + len(span) == \
        len(r.members)


def gcc_identical(a: OracleRecord, b: OracleRecord) -> bool:
    """ARCHITECTURE's rule on GCC's layouts alone (named nested records are opaque there).

    Members are paired by name, anonymous levels looked through, with compat's own helpers
    (``compat._named``, ``compat._names``): they read only ``name`` and ``members``, which
    GCC's members have too; the layouts compared are GCC's."""
    if a.size != b.size:
        return False
    if _handle(a) and _handle(b):
        return True

    def same(ma: Sequence[OracleMember], mb: Sequence[OracleMember]) -> bool:
        na, nb = compat._named(ma), compat._named(mb)
        if set(na) != set(nb):
            return False
        for k, x in na.items():
            y = nb[k]
            if (x.offset_bits, x.size_bits) != (y.offset_bits, y.size_bits):
                return False
            nested = x.members or y.members
            if nested and compat._names(x.members) == compat._names(y.members) \
                    and not same(x.members, y.members):
                return False
        return True

    return same(a.members, b.members)


def differential(paths: dict[str, str], options: dict[str, frontend.ParseOptions],
                 gcc_dirs: dict[str, list[str]], defines: Sequence[str] = (),
                 flags: Sequence[str] = ()) -> tuple[int, int, list[str]]:
    """(records compared, identical, disagreements) over headers, for PAIR."""
    for t in PAIR:
        if find_gcc(t) is None:
            skip_or_fail(f"no gcc for {t}")
    sources = {sid: f'#include "{p}"\n' for sid, p in paths.items()}
    gcc = {t: compile_layouts(sources, t, include_dirs=gcc_dirs[t], defines=defines,
                              extra_flags=flags) for t in PAIR}
    models: dict[str, Model] = {
        t: frontend.parse(list(paths.values()), [TARGETS[t]], options[t], jobs=1) for t in PAIR}
    merged = Model({t: models[t].targets[t] for t in PAIR}, tuple(
        r.__class__(r.name, r.kind, r.location,
                    {t: rec.layouts[t] for t in PAIR
                     if (rec := models[t].record(r.name)) is not None and t in rec.layouts})
        for r in models["x86_64"].records), inputs=models["x86_64"].inputs)
    compared, same, bad = 0, 0, []
    for sid, path in paths.items():
        if not all(gcc[t][sid].ok for t in PAIR):
            continue
        for rec in merged.records:
            if rec.location.file != relpath(path) or set(rec.layouts) != set(PAIR):
                continue
            theirs = [gcc[t][sid].records.get(rec.name) for t in PAIR]
            if theirs[0] is None or theirs[1] is None:
                continue
            ours = not compat.compare_layouts(merged, (rec, "x86_64"), (rec, "i386"),
                                              descend=False).deltas
            truth = gcc_identical(theirs[0], theirs[1])
            compared += 1
            same += truth
            if ours != truth:
                bad.append(f"{rec.name} ({sid}): abiscope {ours}, gcc {truth}")
    return compared, same, bad


def test_seed_core_matches_gcc() -> None:
    paths = {h: str(SEED_DIR / h) for h in SEED_HEADERS}
    opts = {t: frontend.ParseOptions() for t in PAIR}
    compared, same, bad = differential(paths, opts, {t: [str(SEED_DIR)] for t in PAIR})
    assert not bad and compared >= 5, bad
    assert same >= 2  # A and A+pad


@pytest.mark.slow
def test_xen_public_headers_core_matches_gcc() -> None:
    if not os.path.isfile("/usr/include/xen/xen.h"):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    headers = sorted(glob.glob("/usr/include/xen/**/*.h", recursive=True))
    paths = {relpath(h): h for h in headers}
    opts = {t: frontend.ParseOptions(defines=("__XEN_TOOLS__",), force_includes=("stdint.h",),
                                     system_dirs=False) for t in PAIR}
    compared, same, bad = differential(paths, opts, {t: [] for t in PAIR},
                                       defines=("__XEN_TOOLS__",),
                                       flags=("-include", "stdint.h"))
    print(f"Xen: {compared} records compared with gcc, {same} identical")
    assert not bad, "\n".join(bad[:30])
    assert compared >= 200 and 0 < same < compared


@pytest.mark.slow
def test_linux_uapi_slice_core_matches_gcc() -> None:
    dirs = {t: system_include_dirs(t) for t in PAIR}
    if not os.path.isdir("/usr/include/linux") or not all(dirs.values()):
        skip_or_fail("Linux UAPI headers missing (linux-libc-dev, libc6-dev-i386-cross)")
    names = uapi_headers("/usr/include")[::12]
    paths = {n: os.path.join("/usr/include", n) for n in names}
    opts = {t: frontend.ParseOptions(sysroots=tuple((t, d) for d in dirs[t])) for t in PAIR}
    compared, same, bad = differential(paths, opts, dirs)
    print(f"UAPI slice ({len(names)} headers): {compared} records compared, {same} identical")
    assert not bad, "\n".join(bad[:30])
    assert compared >= 100 and 0 < same < compared
