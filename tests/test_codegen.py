"""Generated C (``abiscope gen compat``, ``abiscope gen asserts``) checked against real compilers.

Byte for byte: a struct filled by an i386 program built from the original header with
``i686-linux-gnu-gcc -static`` translates into exactly what an x86_64 build of the same header
holds, and back; values that do not fit are refused with the member's path; native -> compat
-> native round-trips. The translator is built with ``-std=c99 -Wall -Wextra -Werror`` and
``-fsanitize=address,undefined``. Values come from hypothesis, many per process launch.
Layout-lock headers compile with every installed (cross) gcc and stop a build when a member
moves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import prod
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from abiscope.codegen import generate_asserts, generate_compat, needs_translation
from abiscope.frontend import ParseOptions, parse
from abiscope.model import Member, Model
from abiscope.targets import resolve
from conftest import SEED_DIR, CliResult, skip_or_fail
from oracle.gcc_dwarf import CHECKERS, GCC_FOR_TARGET, find_gcc

DATA = Path(__file__).parent / "codegen_data"
XEN_VCPU = Path("/usr/include/xen/vcpu.h")
C99 = ["-std=c99", "-Wall", "-Wextra", "-Werror"]


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    name: str
    header: Path
    records: tuple[str, ...]  # records whose bytes the test compares
    defines: tuple[str, ...] = ()
    force: tuple[str, ...] = ()
    hooks: str = ""  # C definitions of the hooks the case needs
    own_dir: bool = True  # -I the header's directory (not for /usr/include/xen: it would
    #                       shadow libc's headers with Xen's own features.h and the like)

    @property
    def flags(self) -> list[str]:
        return [f"-I{self.header.parent}"] if self.own_dir else []


CASES = (
    Case("nested", DATA / "nested.h",
         ("struct cg_outer", "struct cg_inner", "struct cg_point", "cg_handle_u32")),
    Case("hooks", DATA / "hooks.h", ("struct cg_req",), hooks="""
const char *compat_cg_diverge_to_native_hook(union cg_diverge *dst,
                                             const union compat_cg_diverge *src)
{ dst->q = src->q; return NULL; }
const char *compat_cg_diverge_from_native_hook(union compat_cg_diverge *dst,
                                               const union cg_diverge *src)
{ dst->q = src->q; return NULL; }
"""),
    Case("dm_op", SEED_DIR / "dm_op.h", ("struct xen_dm_op_buf",)),
    Case("vcpu", XEN_VCPU,
         ("struct vcpu_runstate_info", "struct vcpu_set_singleshot_timer",
          "struct vcpu_register_runstate_memory_area"),
         defines=("__XEN_TOOLS__",), force=("stdint.h",), own_dir=False, hooks="""
const char *compat_vcpu_register_runstate_memory_area_to_native_hook(
    struct vcpu_register_runstate_memory_area *dst,
    const struct compat_vcpu_register_runstate_memory_area *src)
{ dst->addr.p = src->addr.p; return NULL; }
const char *compat_vcpu_register_runstate_memory_area_from_native_hook(
    struct compat_vcpu_register_runstate_memory_area *dst,
    const struct vcpu_register_runstate_memory_area *src)
{ dst->addr.p = src->addr.p; return NULL; }
"""),
)


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True)
class Leaf:
    """One scalar the filler program sets: its lvalue, the translator's error path for it,
    and its range on each side."""

    lvalue: str
    errpath: str
    kind: str  # "int", "ptr", "float"
    signed: bool
    nbits: int
    cbits: int
    in_union: bool

    def range(self, bits: int) -> tuple[int, int]:
        if self.kind == "float":
            return -(1 << 20), 1 << 20
        if self.signed:
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 1

    def fits(self) -> tuple[int, int]:
        (a, b), (c, d) = self.range(self.nbits), self.range(self.cbits)
        return max(a, c), min(b, d)


def _signed(model: Model, m: Member, target: str) -> bool:
    if m.type.kind == "enum":
        enum = next(e for e in model.enums if e.name == m.type.record)
        return enum.layouts[target].signed
    return bool(m.type.signed)


def _children(model: Model, m: Member, target: str) -> tuple[str, tuple[Member, ...]]:
    if m.members:
        return ("union" if m.type.spelling.startswith("union") else "struct"), m.members
    rec = model.record(m.type.record or "")
    assert rec is not None, m.type.record
    return rec.layouts[target].kind, rec.layouts[target].members


def leaves(model: Model, nm: tuple[Member, ...], cm: tuple[Member, ...], kind: str,
           lv: str, err: str, in_union: bool) -> Iterator[Leaf]:
    pairs = list(zip(nm, cm, strict=True))
    if kind == "union":
        pairs = pairs[-1:]  # the member the test hooks copy; any one for same-shape unions
        in_union = True
    for n, c in pairs:
        yield from _member_leaves(model, n, c, lv, err, in_union)


def _member_leaves(model: Model, n: Member, c: Member, lv: str, err: str,
                   in_union: bool) -> Iterator[Leaf]:
    if not n.name:  # anonymous struct/union: its members belong to the enclosing object
        kind, nmem = _children(model, n, "x86_64")
        _, cmem = _children(model, c, "i386")
        yield from leaves(model, nmem, cmem, kind, lv, err, in_union)
        return
    yield from _value_leaves(model, n, c, f"{lv}{n.name}", f"{err}.{n.name}", in_union)


def _value_leaves(model: Model, n: Member, c: Member, lv: str, err: str,
                  in_union: bool) -> Iterator[Leaf]:
    t = n.type
    if n.bitfield:
        assert n.bit_width and c.bit_width
        yield Leaf(lv, err, "int", _signed(model, n, "x86_64"), n.bit_width, c.bit_width,
                   in_union)
    elif n.members or t.kind == "record":
        kind, nmem = _children(model, n, "x86_64")
        _, cmem = _children(model, c, "i386")
        yield from leaves(model, nmem, cmem, kind, f"{lv}.", err, in_union)
    elif t.kind == "array":
        assert t.element is not None and c.type.element is not None
        count = prod(d or 0 for d in t.dims)
        en = Member("", t.element, 0, n.size_bits // count, 1)
        ec = Member("", c.type.element, 0, c.size_bits // count, 1)
        for flat in range(count):
            idx, rest = [], flat
            for d in reversed(t.dims):
                idx.insert(0, rest % (d or 1))
                rest //= d or 1
            sub = "".join(f"[{i}]" for i in idx)
            yield from _value_leaves(model, en, ec, f"{lv}{sub}", err + "[]" * len(idx),
                                     in_union)
    elif t.kind == "pointer":
        yield Leaf(lv, err, "ptr", False, n.size_bits, c.size_bits, in_union)
    elif t.kind == "float":
        yield Leaf(lv, err, "float", True, n.size_bits, c.size_bits, in_union)
    else:
        yield Leaf(lv, err, "int", _signed(model, n, "x86_64"), n.size_bits, c.size_bits,
                   in_union)


# --------------------------------------------------------------------------- C programs


_C_IO = r"""
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char tok[512];
static inline long long S(void)
{ if (scanf("%511s", tok) != 1) exit(3); return strtoll(tok, 0, 10); }
static inline unsigned long long U(void)
{ if (scanf("%511s", tok) != 1) exit(3); return strtoull(tok, 0, 10); }
static void hex(const void *p, size_t n)
{ const unsigned char *b = p; for (size_t i = 0; i < n; i++) printf("%02x", b[i]); }
static void unhex(void *p, size_t n)
{
    unsigned char *b = p;
    if (scanf("%511s", tok) != 1 || strlen(tok) != 2 * n) exit(4);
    for (size_t i = 0; i < n; i++)
        { unsigned v; sscanf(tok + 2 * i, "%2x", &v); b[i] = (unsigned char)v; }
}
"""


def _assign(leaf: Leaf) -> str:
    if leaf.kind == "ptr":
        return f"s.{leaf.lvalue} = (void *)(uintptr_t)U();"
    if leaf.kind == "float":
        return f"s.{leaf.lvalue} = (double)S();"
    return f"s.{leaf.lvalue} = {'S' if leaf.signed else 'U'}();"


def filler_source(includes: str, records: list[tuple[str, list[Leaf]]]) -> str:
    """A program reading ``INDEX v1 v2 …`` lines and printing each filled struct's bytes."""
    cases = []
    for i, (name, lvs) in enumerate(records):
        body = "\n".join(f"        {_assign(x)}" for x in lvs)
        cases.append(f"    case {i}: {{ {name} s; memset(&s, 0, sizeof s);\n{body}\n"
                     f"        hex(&s, sizeof s); break; }}")
    return (includes + _C_IO + "int main(void)\n{\n    int idx;\n"
            "    while (scanf(\"%d\", &idx) == 1) {\n        switch (idx) {\n"
            + "\n".join(cases) + "\n        default: return 5;\n        }\n"
            "        printf(\"\\n\");\n    }\n    return 0;\n}\n")


def translator_source(includes: str, hooks: str, records: list[str], prefix: str) -> str:
    """``INDEX c HEX`` (compat bytes -> native), ``INDEX n HEX`` (native -> compat),
    ``INDEX r HEX`` (native -> compat -> native): prints ``OK HEX`` or ``ERR path``."""
    cases = []
    for i, name in enumerate(records):
        tag = name.split(" ", 1)[-1]
        kind = name.split(" ", 1)[0] if " " in name else "struct"
        ct = f"{kind} {prefix}{tag}"
        cases.append(f"""    case {i}: {{
        {name} n, n2; {ct} c; const char *e;
        if (dir == 'c') {{ unhex(&c, sizeof c); e = {prefix}{tag}_to_native(&n, &c);
            if (e) printf("ERR %s", e); else {{ printf("OK "); hex(&n, sizeof n); }} }}
        else if (dir == 'n') {{ unhex(&n, sizeof n); e = {prefix}{tag}_from_native(&c, &n);
            if (e) printf("ERR %s", e); else {{ printf("OK "); hex(&c, sizeof c); }} }}
        else {{ unhex(&n, sizeof n); e = {prefix}{tag}_from_native(&c, &n);
            if (!e) e = {prefix}{tag}_to_native(&n2, &c);
            if (e) printf("ERR %s", e); else {{ printf("OK "); hex(&n2, sizeof n2); }} }}
        break; }}""")
    return (includes + '#include "compat.h"\n' + _C_IO + hooks
            + "int main(void)\n{\n    int idx; char dir;\n"
            "    while (scanf(\"%d %c\", &idx, &dir) == 2) {\n        switch (idx) {\n"
            + "\n".join(cases) + "\n        default: return 5;\n        }\n"
            "        printf(\"\\n\");\n    }\n    return 0;\n}\n")


def _compile(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"


def _run(exe: Path, stdin: str) -> list[str]:
    proc = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{exe} exited {proc.returncode}\n{proc.stderr[-3000:]}"
    return proc.stdout.splitlines()


@dataclass
class Built:
    case: Case
    model: Model
    records: list[tuple[str, list[Leaf]]]
    fill_i386: Path
    fill_x86_64: Path
    translator: Path


def _parse(case: Case, targets: list[str]) -> Model:
    options = ParseOptions(defines=case.defines, force_includes=case.force,
                           include_dirs=tuple(f[2:] for f in case.flags))
    model = parse([str(case.header)], resolve(targets).targets, options, jobs=1)
    assert not model.failures, model.failures
    return model


def _includes(case: Case) -> str:
    lines = [f"#define {d}" for d in case.defines]
    lines += [f"#include <{f}>" for f in case.force]
    return "\n".join([*lines, f'#include "{case.header}"', ""])


@pytest.fixture(scope="module")
def tools() -> None:
    for target in ("i386", "x86_64"):
        if find_gcc(target) is None:
            skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, tools: None) -> dict[str, Built]:
    """Per case: the compat header, two fillers (i386 static, x86_64), the translator."""
    out: dict[str, Built] = {}
    for case in CASES:
        if not case.header.exists():
            skip_or_fail(f"{case.header} missing (apt-get install libxen-dev)")
        d = tmp_path_factory.mktemp(case.name)
        model = _parse(case, ["x86_64", "i386"])
        translate = needs_translation(model, "x86_64", "i386")
        for r in case.records:
            assert r in translate, f"{r} should need translation"
        header = generate_compat(model, "x86_64", "i386", translate,
                                 [f"#include <{f}>" for f in case.force]
                                 + [f'#include "{case.header}"'])
        (d / "compat.h").write_text(header.text)
        records = []
        for name in case.records:
            rec = model.record(name)
            assert rec is not None
            lay_n, lay_c = rec.layouts["x86_64"], rec.layouts["i386"]
            records.append((name, list(leaves(model, lay_n.members, lay_c.members,
                                              lay_n.kind, "", name, False))))
        inc = _includes(case)
        (d / "fill.c").write_text(filler_source(inc, records))
        (d / "xlat.c").write_text(translator_source(
            inc, case.hooks, list(case.records), "compat_"))
        flags = case.flags
        _compile(["i686-linux-gnu-gcc", "-static", "-O1", *flags, str(d / "fill.c"),
                  "-o", str(d / "fill-i386")])
        _compile(["gcc", "-O1", *flags, str(d / "fill.c"), "-o", str(d / "fill-x86_64")])
        _compile(["gcc", *C99, "-g", "-fsanitize=address,undefined",
                  "-fno-sanitize-recover=all", *flags, f"-I{d}", str(d / "xlat.c"),
                  "-o", str(d / "xlat")])
        out[case.name] = Built(case, model, records, d / "fill-i386", d / "fill-x86_64",
                               d / "xlat")
    return out


# --------------------------------------------------------------------------- values


def _vector(leaves_: list[Leaf]) -> st.SearchStrategy[list[int]]:
    def one(leaf: Leaf) -> st.SearchStrategy[int]:
        lo, hi = leaf.fits()
        edges = sorted({lo, hi, 0 if lo <= 0 <= hi else lo, min(hi, lo + 1)})
        return st.one_of(st.sampled_from(edges), st.integers(lo, hi))

    return st.tuples(*(one(x) for x in leaves_)).map(list)


def _overflows(leaves_: list[Leaf]) -> list[tuple[int, int]]:
    """(leaf index, value) pairs that fit native but not compat (outside unions)."""
    out = []
    for i, leaf in enumerate(leaves_):
        if leaf.in_union or leaf.kind == "float":
            continue
        nlo, nhi = leaf.range(leaf.nbits)
        lo, hi = leaf.fits()
        if nhi > hi:
            out.append((i, nhi))
            out.append((i, hi + 1))
        if nlo < lo:
            out.append((i, nlo))
    return out


def _line(idx: int, values: list[int]) -> str:
    return f"{idx} " + " ".join(str(v) for v in values)


@st.composite
def _batches(draw: st.DrawFn, built: Built) -> list[list[list[int]]]:
    return [draw(st.lists(_vector(lvs), min_size=20, max_size=20))
            for _, lvs in built.records]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_bytes_match_real_compilers(built: dict[str, Built], case: str) -> None:
    """i386 bytes -> native equals the x86_64 build's bytes, and back; round trip holds."""
    b = built[case]

    # No shrinking: each step relaunches three programs; the failure shows the values.
    @settings(max_examples=10, deadline=None, derandomize=True,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=list(HealthCheck))
    @given(_batches(b))
    def check(batches: list[list[list[int]]]) -> None:
        lines = [_line(i, v) for i, vectors in enumerate(batches) for v in vectors]
        stdin = "\n".join(lines) + "\n"
        compat_bytes = _run(b.fill_i386, stdin)
        native_bytes = _run(b.fill_x86_64, stdin)
        idxs = [i for i, vectors in enumerate(batches) for _ in vectors]
        script = []
        for i, cb, nb in zip(idxs, compat_bytes, native_bytes, strict=True):
            script += [f"{i} c {cb}", f"{i} n {nb}", f"{i} r {nb}"]
        got = _run(b.translator, "\n".join(script) + "\n")
        for k, (cb, nb) in enumerate(zip(compat_bytes, native_bytes, strict=True)):
            name = b.records[idxs[k]][0]
            assert got[3 * k] == f"OK {nb}", f"{name}: i386 -> x86_64, values {lines[k]}"
            assert got[3 * k + 1] == f"OK {cb}", f"{name}: x86_64 -> i386, values {lines[k]}"
            assert got[3 * k + 2] == f"OK {nb}", f"{name}: round trip, values {lines[k]}"

    check()


@pytest.mark.parametrize("case", [c.name for c in CASES if c.name != "vcpu"])
def test_narrowing_names_the_member(built: dict[str, Built], case: str) -> None:
    """Every value that fits native but not compat is refused, naming its member path."""
    b = built[case]
    lines, expected = [], []
    for i, (_, lvs) in enumerate(b.records):
        base = [max(min(0, x.fits()[1]), x.fits()[0]) for x in lvs]
        for leaf_index, value in _overflows(lvs):
            vec = list(base)
            vec[leaf_index] = value
            lines.append(_line(i, vec))
            expected.append((i, lvs[leaf_index].errpath))
    assert lines, "the case should have members that narrow"
    native = _run(b.fill_x86_64, "\n".join(lines) + "\n")
    got = _run(b.translator, "\n".join(f"{i} n {nb}" for (i, _), nb in
                                        zip(expected, native, strict=True)) + "\n")
    assert got == [f"ERR {path}" for _, path in expected]


def test_compat_header_compiles_warning_free(built: dict[str, Built], tmp_path: Path) -> None:
    """Optimised too (more warnings surface at -O2), with gcc and clang."""
    for b in built.values():
        src = tmp_path / f"{b.case.name}.c"
        src.write_text(_includes(b.case) + f'#include "{b.translator.parent}/compat.h"\n'
                       "int main(void) { return 0; }\n")
        flags = [*b.case.flags, "-c", str(src), "-o", str(tmp_path / "x.o")]
        _compile(["gcc", *C99, "-O2", *flags])
        if shutil.which("clang-14"):
            _compile(["clang-14", *C99, "-O2", *flags])


def test_compat_header_refuses_other_targets(built: dict[str, Built], tmp_path: Path) -> None:
    b = built["nested"]
    src = tmp_path / "t.c"
    src.write_text(f'#include "{b.translator.parent}/compat.h"\n')
    proc = subprocess.run(["i686-linux-gnu-gcc", "-fsyntax-only", f"-I{DATA}", str(src)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "generated for a x86_64 build" in proc.stderr


def test_hooks_declared_for_diverging_unions() -> None:
    case = CASES[1]
    model = _parse(case, ["x86_64", "i386"])
    header = generate_compat(model, "x86_64", "i386", ["struct cg_req"], [])
    assert header.hooks == ("compat_cg_diverge_to_native_hook",
                            "compat_cg_diverge_from_native_hook")
    assert "union cg_diverge: needs a hook" in " ".join(header.notes)
    assert "points to struct cg_req, which needs translation too" in header.text


@pytest.mark.parametrize("native, compat", [
    ("aarch64", "arm"), ("ppc64", "ppc"), ("mips64", "mips"), ("i386", "x86_64"),
    ("x86_64", "x32"),
])
def test_compat_header_locks_hold_on_other_natives(native: str, compat: str,
                                                   tmp_path: Path) -> None:
    """The packed compat structs reproduce the compat layout under other native compilers
    (their _Static_asserts hold), big-endian bitfield access included."""
    gcc = find_gcc(native)
    if gcc is None:
        skip_or_fail(f"{GCC_FOR_TARGET[native]} not installed")
        return
    case = CASES[0]
    model = _parse(case, [native, compat])
    translate = needs_translation(model, native, compat)
    header = generate_compat(model, native, compat, translate, [f'#include "{case.header}"'])
    assert "struct cg_outer" in header.records
    (tmp_path / "compat.h").write_text(header.text)
    (tmp_path / "t.c").write_text('#include "compat.h"\n')
    _compile([gcc, *C99, "-fsyntax-only", f"-I{tmp_path}", str(tmp_path / "t.c")])


# --------------------------------------------------------------------------- layout locks


LOCK_TARGETS = sorted(GCC_FOR_TARGET)


@pytest.fixture(scope="module")
def locks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Model]:
    d = tmp_path_factory.mktemp("locks")
    for sub in ("orig", "moved"):
        (d / sub).mkdir()
    shutil.copy(DATA / "locks.h", d / "orig" / "locks.h")
    model = parse([str(DATA / "locks.h")], resolve(LOCK_TARGETS).targets, ParseOptions(),
                  jobs=1)
    assert not model.failures
    header = generate_asserts(model, model.records, ['#include "locks.h"'])
    assert set(header.targets) == set(LOCK_TARGETS)
    (d / "locks-abi.h").write_text(header.text)
    (d / "t.c").write_text('#include "locks-abi.h"\n')
    text = (DATA / "locks.h").read_text()
    moved = text.replace("    uint8_t kind;\n    uint64_t stamp;\n",
                         "    uint64_t stamp;\n    uint8_t kind;\n")
    assert moved != text
    (d / "moved" / "locks.h").write_text(moved)
    return d, model


def _syntax(target: str, gcc: str, d: Path,
            *include_first: Path) -> subprocess.CompletedProcess[str]:
    inc = [f"-I{p}" for p in include_first]
    checker = CHECKERS[target]  # (its ABI flags; a bare-metal gcc has no libc headers here)
    flags = [*checker.flags, *([] if checker.uapi else ["-ffreestanding"])]
    return subprocess.run([gcc, *flags, "-std=c99", "-Wall", "-Wextra", "-Werror",
                           "-fsyntax-only", *inc, f"-I{d}", str(d / "t.c")],
                          capture_output=True, text=True)


@pytest.mark.parametrize("target", LOCK_TARGETS)
def test_locks_hold_with_gcc(locks: tuple[Path, Model], target: str) -> None:
    gcc = find_gcc(target)
    if gcc is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed")
        return
    d, _ = locks
    ok = _syntax(target, gcc, d, d / "orig")
    assert ok.returncode == 0, ok.stderr
    moved = _syntax(target, gcc, d, d / "moved")
    assert moved.returncode != 0
    assert "struct lk_msg.stamp is not at offset" in moved.stderr


def test_locks_unknown_target(locks: tuple[Path, Model], tmp_path: Path) -> None:
    d, model = locks
    clang = shutil.which("clang-14")
    if clang is None:
        skip_or_fail("clang-14 not installed")
        return
    cmd = [clang, "--target=bpfel-unknown-none", "-ffreestanding", "-fsyntax-only",
           f"-I{d / 'orig'}", f"-I{d}", str(d / "t.c")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode != 0 and "no layout recorded for this target" in proc.stderr
    proc = subprocess.run([*cmd, "-DABISCOPE_LOCKS_ALLOW_UNKNOWN_TARGET"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    quiet = generate_asserts(model, model.records, ['#include "locks.h"'], unknown="ignore")
    (tmp_path / "q.h").write_text(quiet.text)
    (tmp_path / "t.c").write_text('#include "q.h"\n')
    proc = subprocess.run([*cmd[:-2], f"-I{tmp_path}", str(tmp_path / "t.c")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_locks_say_bitfields_are_not_locked(locks: tuple[Path, Model]) -> None:
    d, _ = locks
    text = (d / "locks-abi.h").read_text()
    assert "bitfields flags not locked" in text
    assert "offsetof(struct lk_msg, span.hi)" in text
    assert "offsetof(struct lk_msg, f)" in text  # through the anonymous union


# --------------------------------------------------------------------------- CLI


def test_cli_gen_compat(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    res = run_cli("gen", "compat", str(SEED_DIR / "dm_op.h"), "--native", "x86_64",
                  "--compat", "i386")
    assert res.code == 0, res.err
    out = res.out
    assert "struct compat_xen_dm_op_buf {" in out
    assert "compat_xen_dm_op_buf_from_native" in out
    assert '#include "' in out and "dm_op.h" in out
    target = tmp_path / "compat.h"
    res = run_cli("gen", "compat", str(SEED_DIR / "dm_op.h"), "--native", "x86_64",
                  "--compat", "i386", "-I", str(SEED_DIR), "-o", str(target))
    assert str(SEED_DIR) not in out  # (stdout: relative to the working directory)
    assert res.code == 0 and target.read_text() == out.replace(
        f'#include "{os.path.relpath(SEED_DIR / "dm_op.h")}"', '#include "dm_op.h"').replace(
        "ABISCOPE_COMPAT_X86_64_I386_H", "COMPAT_H")  # (the guard: after the output file)


def test_cli_gen_asserts(run_cli: Callable[..., CliResult]) -> None:
    res = run_cli("gen", "asserts", str(DATA / "locks.h"), "--target", "x86,arm",
                  "--record", "lk_*")
    assert res.code == 0, res.err
    out = res.out
    assert out.count("#if") >= 1 and "/* x32 */" in out and "/* arm */" in out
    assert "sizeof(lk_pair) == 8" in out


def test_cli_gen_asserts_includes_as_a_build_reaches_it(
        run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """No absolute path of this machine in a header meant to be committed: relative to the
    -I dir, else to the output file; the guard is named after the output file."""
    (tmp_path / "include").mkdir()
    (tmp_path / "gen").mkdir()
    header = tmp_path / "include" / "lk.h"
    header.write_text("struct lk { int a; char b; };\n")
    out = tmp_path / "gen" / "lk-abi-locks.h"
    res = run_cli("gen", "asserts", str(header), "--target", "x86_64", "-o", str(out),
                  "--no-cache")
    assert res.code == 0, res.err
    text = out.read_text()
    assert '#include "../include/lk.h"' in text and str(tmp_path) not in text
    assert "#ifndef LK_ABI_LOCKS_H" in text and "#endif /* LK_ABI_LOCKS_H */" in text
    (tmp_path / "use.c").write_text('#include "gen/lk-abi-locks.h"\n')
    proc = subprocess.run(["gcc", "-fsyntax-only", str(tmp_path / "use.c")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    res = run_cli("gen", "asserts", str(header), "--target", "x86_64", "-o", str(out),
                  "-I", str(tmp_path / "include"), "--no-cache")
    assert res.code == 0 and '#include "lk.h"' in out.read_text()


def test_gen_asserts_includes_a_system_header_with_angle_brackets(
        run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    ethtool = Path("/usr/include/linux/ethtool.h")
    if not ethtool.exists():
        skip_or_fail("linux-libc-dev is not installed (no /usr/include/linux/ethtool.h)")
    out = tmp_path / "ethtool-locks.h"
    res = run_cli("gen", "asserts", str(ethtool), "--target", "x86_64", "--record",
                  "ethtool_cmd", "-o", str(out))
    assert res.code == 0, res.err
    text = out.read_text()
    assert "#include <linux/ethtool.h>" in text and "/usr/include" not in text
    assert "#ifndef ETHTOOL_LOCKS_H" in text


def test_include_line_forms(tmp_path: Path) -> None:
    from abiscope.codegen import include_line

    (tmp_path / "sys" / "linux").mkdir(parents=True)
    h = tmp_path / "sys" / "linux" / "x.h"
    h.write_text("")
    assert include_line(str(h), [], "as/told.h") == '#include "as/told.h"'
    assert include_line(str(h), [str(tmp_path / "sys")], None) == '#include "linux/x.h"'
    assert include_line(str(h), [], None, [str(tmp_path / "sys")]) == "#include <linux/x.h>"
    assert include_line(str(h), [], None, (), str(tmp_path / "o" / "l.h")) == \
        '#include "../sys/linux/x.h"'
    assert include_line("stdint.h", [], None, (), str(tmp_path / "l.h")) == \
        '#include "stdint.h"'


@pytest.mark.parametrize("args, words", [
    (["gen", "compat", "nope.h", "--native", "x86_64", "--compat", "i386"], "nope.h"),
    (["gen", "compat", str(DATA / "nested.h"), "--native", "x86_65", "--compat", "i386"],
     "x86_65"),
    (["gen", "compat", str(DATA / "nested.h"), "--native", "x86_64", "--compat", "x86_64"],
     "both x86_64"),
    (["gen", "compat", str(DATA / "nested.h"), "--native", "x86_64", "--compat", "ppc"],
     "endian"),
    (["gen", "compat", str(DATA / "nested.h"), "--native", "x86_64", "--compat", "i386",
      "--record", "nothing_*"], "matches no record"),
    (["gen", "compat", str(DATA / "nested.h"), "--native", "x86_64", "--compat", "i386",
      "--include-as", "a.h", "--include-as", "b.h"], "--include-as"),
    (["gen", "asserts", str(DATA / "locks.h"), "--target", "vax"], "vax"),
])
def test_cli_bad_input(run_cli: Callable[..., CliResult], args: list[str], words: str) -> None:
    res = run_cli(*args)
    assert res.code == 2
    assert words in res.err and "Traceback" not in res.err


def test_unlaid_nested_record_is_a_clear_error() -> None:
    """A contained record missing on the compat side is an input error, not a traceback."""
    from abiscope.codegen import CodegenError
    from abiscope.errors import SourceLocation
    from abiscope.model import CType, Record, RecordLayout, TargetInfo

    inner = CType("struct b", "record", 8, 8, record="struct b")
    u64 = CType("uint64_t", "int", 8, 8, signed=False)
    outer = {t: RecordLayout(8, 8, (Member("x", inner, 0, 64, 8),), (), 0)
             for t in ("x86_64", "i386")}
    model = Model(
        {"x86_64": TargetInfo("x86_64", "x86_64-linux-gnu", 64, "little"),
         "i386": TargetInfo("i386", "i386-linux-gnu", 32, "little")},
        (Record("struct a", "struct", SourceLocation("a.h", 1, 1), outer),
         Record("struct b", "struct", SourceLocation("a.h", 2, 1),
                {"x86_64": RecordLayout(8, 8, (Member("v", u64, 0, 64, 8),), (), 0)})))
    with pytest.raises(CodegenError, match="struct b has no layout on i386"):
        generate_compat(model, "x86_64", "i386", ["struct a"], [])
