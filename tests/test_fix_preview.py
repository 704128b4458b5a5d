"""``check --fix-preview``: each record's rewrite holds on every target the findings name.

Three witnesses of "no implicit padding left, every member where it was": abiscope's own
verification note, abiscope laying the rewrite out again (clang, and the layout engine via
``whatif``), and the real gcc of every target reading the compiled rewrite's DWARF. Over the
seed headers, a generated set of padded records, and (slow) Linux UAPI records.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from abiscope import whatif
from abiscope.frontend import ParseOptions, parse
from abiscope.frontend.declarations import parse_decls
from abiscope.model import Record, gaps, iter_members
from abiscope.targets import resolve
from conftest import SEED_DIR, CliResult, run_cli_captured, skip_or_fail
from oracle.gcc_dwarf import (
    OracleMember,
    OracleRecord,
    compile_layouts,
    find_gcc,
    system_include_dirs,
)

Run = Callable[..., CliResult]
DEFAULT = ("i386", "x86_64", "x32", "arm", "aarch64")
# every target with a gcc here (riscv32 and loongarch64 are checked against clang only)
GCC_TARGETS = (*DEFAULT, "riscv64", "ppc", "ppc64", "ppc64le", "s390x", "mips", "mips64",
               "sparc64", "m68k")
SUFFIX = "__fixed"
ISSUE_RECORD = ("#include <stdint.h>\n"
                "struct rec { uint8_t kind; uint64_t addr; uint16_t flags; long cookie; };\n")


def previews(header: Path | str | list[str], targets: Sequence[str],
             *args: str) -> dict[str, list[dict]]:
    """Record -> its ABI001/ABI002 findings (JSON) from ``check --fix-preview``."""
    headers = header if isinstance(header, list) else [str(header)]
    r = run_cli_captured("check", *headers, "--select", "ABI001,ABI002", "--fix-preview",
                         "--format", "json", "--fail-on", "never", "-t", ",".join(targets),
                         "-j", "1", *args)
    assert r.code == 0, r.err
    out: dict[str, list[dict]] = {}
    for f in json.loads(r.out)["findings"]:
        out.setdefault(f["record"], []).append(f)
    return out


def renamed(text: str, record: str) -> str:
    """The preview with its record renamed (``struct x`` -> ``struct x__fixed``)."""
    if record.startswith(("struct ", "union ")):
        return text.replace(record + " {", record + SUFFIX + " {")
    return re.sub(rf"^(\}}[^\n]*) {re.escape(record)};$", rf"\1 {record}{SUFFIX};", text,
                  flags=re.M)


def verified_on(preview: str) -> set[str]:
    """The targets a preview's closing note says it was verified on."""
    m = re.search(r"verified on ([^:]*):", preview)
    return set(m.group(1).split(", ")) if m else set()


def offered(findings: dict[str, list[dict]]) -> dict[str, str]:
    """Record -> its one preview; asserts every finding of a record carries the same one."""
    out = {}
    for record, fs in findings.items():
        texts = {f["fix_preview"] for f in fs}
        assert len(texts) == 1, f"{record}: {len(texts)} different previews"
        out[record] = texts.pop()
    return out


# --------------------------------------------------------------------------- the issue


def test_issue_record_verified_on_every_target_of_the_finding(tmp_path: Path) -> None:
    header = tmp_path / "pad.h"
    header.write_text(ISSUE_RECORD)
    (preview,) = offered(previews(header, ["default"])).values()
    assert "no single declaration serves x86_64, i386, x32, arm, aarch64" in preview
    assert "verified on x86_64, i386, x32, arm, aarch64" in preview
    assert "#if" in preview and "NOT" not in preview and "no rewrite offered" not in preview


def test_per_width_alternative_by_sizeof_long(tmp_path: Path) -> None:
    header = tmp_path / "pad.h"
    header.write_text(ISSUE_RECORD)
    (preview,) = offered(previews(header, ["x86_64", "x32", "arm", "aarch64"])).values()
    assert "#if __SIZEOF_LONG__ == 8" in preview and "#else" in preview
    assert "verified on x86_64, x32, arm, aarch64" in preview


def test_single_declaration_when_one_serves_all(tmp_path: Path) -> None:
    header = tmp_path / "one.h"
    header.write_text("#include <stdint.h>\nstruct one { uint8_t a; uint32_t b; uint16_t c; };\n")
    (preview,) = offered(previews(header, ["default"])).values()
    assert "#if" not in preview
    assert preview.count("struct one {") == 1
    assert "verified on x86_64, i386, x32, arm, aarch64" in preview


def test_fix_line_names_the_pads_the_preview_declares(tmp_path: Path) -> None:
    header = tmp_path / "pad.h"
    header.write_text(ISSUE_RECORD)
    for f in previews(header, ["x86_64"])["struct rec"]:
        decl = re.search(r"add `([^`]*)`", f["fix"])
        assert decl is not None
        for one in decl.group(1).split(";"):
            if one.strip():
                assert one.strip() + ";" in f["fix_preview"], (f["fix"], f["fix_preview"])
    fixes = [f["fix"] for f in previews(header, ["x86_64"])["struct rec"]]
    assert any("pad2[6]" in x for x in fixes) and not any("`uint8_t pad[6];`" in x for x in fixes)


def test_text_prints_each_record_preview_once(tmp_path: Path) -> None:
    header = tmp_path / "pad.h"
    header.write_text(ISSUE_RECORD)
    r = run_cli_captured("check", str(header), "--fix-preview", "-t", "x86_64", "-j", "1")
    assert r.out.count("struct rec {") == 1, r.out
    assert r.out.count("verified on") == 1
    assert "fix preview: above" in r.out


def test_nothing_to_preview_is_said(tmp_path: Path) -> None:
    header = tmp_path / "ok.h"
    header.write_text("#include <stdint.h>\nstruct ok { uint32_t a; uint32_t b; };\n")
    r = run_cli_captured("check", str(header), "--fix-preview", "-j", "1")
    assert r.code == 0
    assert "nothing to preview" in r.out


def test_readme_tour_fix_preview_example_shows_a_preview() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (line,) = [x for x in readme.splitlines() if "--fix-preview" in x and x.startswith("abi")]
    argv = line.split("#")[0].split()[1:]
    root = Path(__file__).resolve().parents[1]
    argv = [str(root / a) if a.endswith(".h") and a != "stdint.h" else a for a in argv]
    missing = [a for a in argv if a.endswith(".h") and a != "stdint.h" and not Path(a).exists()]
    if missing:
        skip_or_fail(f"{missing[0]} missing (Debian: libxen-dev)")
    r = run_cli_captured(*argv, "-j", "1")
    assert r.code in (0, 1), r.err
    assert "verified on x86_64, i386, x32" in r.out and "nothing to preview" not in r.out
    assert "no single declaration serves" in r.out


# --------------------------------------------------------------------------- generators


_SCALARS = ("uint8_t", "uint16_t", "uint32_t", "uint64_t", "char", "short", "int", "long",
            "long long", "void *", "double", "float")


def _member(rng: random.Random, i: int, depth: int) -> str:
    roll = rng.random()
    if roll < 0.08 and depth == 0:
        inner = "".join(_member(rng, j, 1) for j in range(rng.randint(1, 3)))
        kind = rng.choice(("struct", "struct", "union"))
        return f"    {kind} {{{inner}}}{' n' + str(i) if rng.random() < 0.5 else ''};"
    if roll < 0.16:
        return f" uint{rng.choice((8, 16, 32))}_t b{depth}_{i} : {rng.randint(1, 7)};"
    ctype = rng.choice(_SCALARS)
    dims = f"[{rng.randint(1, 3)}]" if rng.random() < 0.15 else ""
    return f" {ctype} m{depth}_{i}{dims};"


def generated_header(seed: int, count: int) -> str:
    """``count`` structs and unions of random scalars, arrays, bit-fields and anonymous
    records, most of them with holes or tail padding on some target."""
    rng = random.Random(seed)
    out = ["#include <stdint.h>"]
    for n in range(count):
        kind = "union" if n % 7 == 3 else "struct"
        body = "".join(_member(rng, i, 0) for i in range(rng.randint(2, 6)))
        if n % 5 == 4:
            out.append(f"typedef {kind} {{{body} }} gen{n}_t;")
        else:
            out.append(f"{kind} gen{n} {{{body} }};")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- witnesses


def _leaves(members: Sequence[OracleMember]) -> Iterator[tuple[int, int]]:
    for m in members:
        if m.members:
            yield from _leaves(m.members)
        elif m.size_bits:
            yield m.offset_bits, m.offset_bits + m.size_bits


def gcc_padding(rec: OracleRecord) -> str | None:
    """GCC's own word on implicit padding in a record: a hole or tail, else None."""
    covered = 0
    for start, end in sorted(_leaves(rec.members)):
        if start > covered:
            return f"hole at bit {covered}"
        covered = max(covered, end)
    return f"tail at bit {covered}" if covered < rec.size * 8 else None


def _named_offsets(members: Sequence[OracleMember], prefix: str = "") -> dict[str, int]:
    out = {}
    for m in members:
        path = prefix + (m.name or "<anon>")
        if m.name:
            out[path] = m.offset_bits
        out.update(_named_offsets(m.members, path + "."))
    return out


def gcc_differential(header: Path, texts: dict[str, str], targets: Sequence[str],
                     include_dirs: Callable[[str], list[str]] = lambda t: [],
                     prelude: str = "") -> list[str]:
    """Compile the header and every renamed preview with each target's gcc (one compile
    per target); every problem GCC shows: padding left, a member moved, the size changed."""
    source = (f"{prelude}#include <stdint.h>\n#include \"{header}\"\n"
              + "\n".join(renamed(text, name) for name, text in texts.items()))
    problems = []
    for t in targets:
        if find_gcc(t) is None:
            skip_or_fail(f"no gcc for {t}")
        (res,) = compile_layouts({"fix": source}, t, include_dirs=[
            str(header.parent), *include_dirs(t)]).values()
        assert res.ok, f"{t}: {res.stderr[:2000]}"
        for name in texts:
            old, new = res.records.get(name), res.records.get(name + SUFFIX)
            if old is None or new is None:
                problems.append(f"[{t}] {name}: not compiled ({old is None}, {new is None})")
                continue
            pad = gcc_padding(new)
            if pad:
                problems.append(f"[{t}] {name}: {pad}")
            if new.size != old.size:
                problems.append(f"[{t}] {name}: size {new.size}, was {old.size}")
            before, after = _named_offsets(old.members), _named_offsets(new.members)
            moved = [p for p, off in before.items() if after.get(p) != off]
            if moved:
                problems.append(f"[{t}] {name}: moved {moved}")
    return problems


RELAYOUT = ParseOptions(all_files=True)


def relayout_problems(header: Path, texts: dict[str, str], targets: Sequence[str],
                      options: ParseOptions = RELAYOUT) -> list[str]:
    """abiscope lays the renamed previews out again: clang's layout (``parse``) and the
    layout engine's (``whatif.layout``) both without holes or tail, members unmoved."""
    probe = header.parent / (header.stem + "-fixed.h")
    probe.write_text(f'#include <stdint.h>\n#include "{header.name}"\n'
                     + "\n".join(renamed(text, name) for name, text in texts.items()))
    sel = [resolve(t).targets[0] for t in targets]
    model = parse([str(probe)], sel, options, jobs=1, check_files=False)
    problems = [f.summary() for f in model.failures]
    for name in texts:
        old, new = model.record(name), model.record(name + SUFFIX)
        assert old is not None and new is not None, name
        problems += _compare(old, new, targets, "clang")
    for target in sel:
        if target.name not in whatif.MODELS:
            continue
        decls = parse_decls(str(probe), target, options)
        for name in texts:
            lay = whatif.layout(decls, name + SUFFIX, target.name)
            holes, tail = gaps(lay.members, lay.size)
            if holes or tail:
                problems.append(f"[{target.name}] {name}: engine finds {holes} / {tail}")
    return problems


def _compare(old: Record, new: Record, targets: Sequence[str], who: str) -> list[str]:
    out = []
    for t in targets:
        a, b = old.layouts[t], new.layouts[t]
        if b.holes or b.tail_padding or a.size != b.size:
            out.append(f"[{t}] {old.name}: {who} finds {b.holes} / tail {b.tail_padding}")
        before = {p: m.offset_bits for p, m in iter_members(a.members) if m.name}
        after = {p: m.offset_bits for p, m in iter_members(b.members) if m.name}
        if any(after.get(p) != off for p, off in before.items()):
            out.append(f"[{t}] {old.name}: {who}: members moved")
    return out


def _check_corpus(header: Path, targets: Sequence[str], *args: str,
                  include_dirs: Callable[[str], list[str]] = lambda t: [],
                  prelude: str = "", some: bool = True,
                  refusals: bool = False) -> tuple[int, int]:
    """Every preview of the header offered, verified on all ``targets`` by abiscope's
    note, its re-layout and gcc; returns (records, single-declaration previews). With
    ``refusals``, a record may get no rewrite, if the preview says so and why (and has no
    C declaration in it)."""
    texts = offered(previews(header, targets, *args))
    refused = {n: t for n, t in texts.items() if "no rewrite offered" in t}
    assert refusals or not refused, refused
    assert all(" {" not in t for t in refused.values()), refused
    if refused:
        print(f"{header.name}: no rewrite for {len(refused)}: {sorted(refused)}")
    texts = {n: t for n, t in texts.items() if n not in refused}
    refused = {n: t for n, t in texts.items() if verified_on(t) != set(targets)}
    assert not refused, refused
    assert all("NOT" not in t and "no rewrite offered" not in t for t in texts.values())
    if not texts:
        assert not some, "no padding finding in the corpus"
        return 0, 0
    assert relayout_problems(header, texts, targets) == []
    assert gcc_differential(header, texts, targets, include_dirs, prelude) == []
    return len(texts), sum("#if" not in t for t in texts.values())


@pytest.mark.parametrize("targets", [DEFAULT, GCC_TARGETS], ids=["default", "all-gcc"])
def test_issue_record_differential(tmp_path: Path, targets: Sequence[str]) -> None:
    header = tmp_path / "pad.h"
    header.write_text(ISSUE_RECORD)
    assert _check_corpus(header, targets, "-t", ",".join(targets)) == (1, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_records_differential(tmp_path: Path, seed: int) -> None:
    header = tmp_path / f"gen{seed}.h"
    header.write_text(generated_header(seed, 30))
    records, single = _check_corpus(header, GCC_TARGETS if seed == 1 else DEFAULT)
    print(f"seed {seed}: {records} records previewed, {single} as one declaration")
    assert records >= 15


def test_seed_headers_differential(tmp_path: Path) -> None:
    for seed in SEED_DIR.glob("*.h"):
        (tmp_path / seed.name).write_text(seed.read_text())
    counts = [_check_corpus(tmp_path / name, DEFAULT)
              for name in ("dm_op_v3.h", "privcmd_dm_op.h")]
    assert counts == [(1, 1), (1, 0)]  # privcmd_dm_op: a pad on 64-bit only


# UAPI headers whose records have ABI001/ABI002 findings on x86 (and a few without)
UAPI_HEADERS = ("linux/ethtool.h", "linux/perf_event.h", "linux/kvm.h", "linux/bpf.h",
                "linux/if_link.h", "linux/input.h", "linux/usbdevice_fs.h",
                "linux/videodev2.h", "linux/virtio_net.h", "linux/btrfs.h", "linux/fuse.h",
                "linux/cdrom.h", "linux/vfio.h", "linux/v4l2-controls.h",
                "linux/netfilter/x_tables.h", "linux/mmc/ioctl.h", "linux/fb.h",
                "linux/cec.h", "sound/asound.h")


@pytest.mark.slow
@pytest.mark.parametrize("name", UAPI_HEADERS)
def test_uapi_records_differential(tmp_path: Path, name: str) -> None:
    targets = ("i386", "x86_64", "x32")
    if not os.path.exists(f"/usr/include/{name}"):
        skip_or_fail(f"/usr/include/{name} missing (linux-libc-dev)")
    header = tmp_path / "uapi.h"
    header.write_text(f"#include <{name}>\n")
    records, single = _check_corpus(header, targets, "--all-files", some=False, refusals=True,
                                    include_dirs=lambda t: system_include_dirs(t))
    print(f"{name}: {records} records previewed, {single} as one declaration")


@pytest.mark.slow
def test_uapi_corpus_every_preview_verified_or_refused_with_reason() -> None:
    """Every top-level Linux UAPI header on x86_64 and i386, as one ``check`` run: each
    record with a padding finding gets a rewrite verified on both, or none, and then only
    where tail padding follows a flexible array member (no member can declare it)."""
    headers = sorted(str(p) for p in Path("/usr/include/linux").glob("*.h"))
    if len(headers) < 100:
        skip_or_fail("Linux UAPI headers missing (linux-libc-dev)")
    found = previews(headers, ["x86_64", "i386"])
    texts = offered(found)
    refused = {n: t for n, t in texts.items() if "no rewrite offered" in t}
    assert all("flexible array member" in t for t in refused.values()), refused
    assert all(verified_on(t) == {"x86_64", "i386"} for n, t in texts.items()
               if n not in refused)
    print(f"UAPI: {len(texts)} records, {len(texts) - len(refused)} verified, "
          f"{len(refused)} refused")
    assert len(texts) > 300 and len(refused) < 20
