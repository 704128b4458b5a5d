"""`abiscope ioctls`: request numbers and argument layouts equal gcc's, classes follow.

Numbers come from programs gcc builds from the same headers (x86_64 native, i386 static:
both run here); argument records are compared with gcc's DWARF. One compile per (headers,
target) per session.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import jsonschema
import pytest

from abiscope.frontend import ParseOptions, parse, scan_ioctls
from abiscope.ioctls import audit
from abiscope.model import IoctlRequest, IoctlScan
from abiscope.report.ioctls import report_to_json
from abiscope.targets import resolve
from conftest import CliResult, skip_or_fail
from differential import Tally, compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import find_gcc, system_include_dirs

SAMPLE = str(Path(__file__).parent / "data" / "ioctls" / "sample.h")
ALIASES = str(Path(__file__).parent / "data" / "ioctls" / "aliases.h")
SCHEMA = Path(__file__).parents[1] / "src" / "abiscope" / "schema" / "ioctls-1.schema.json"
UAPI = ["linux/kvm.h", "linux/fs.h", "linux/vfio.h", "linux/usbdevice_fs.h",
        "linux/videodev2.h", "linux/btrfs.h", "linux/if_tun.h", "linux/fb.h",
        "linux/watchdog.h", "linux/perf_event.h", "linux/soundcard.h", "linux/fd.h"]
PAIR = ("x86_64", "i386")


def _uapi() -> list[str]:
    return [f"/usr/include/{h}" for h in UAPI if os.path.exists(f"/usr/include/{h}")]


@pytest.fixture(scope="module")
def scan() -> IoctlScan:
    return scan_ioctls([SAMPLE, ALIASES, *_uapi()], resolve(list(PAIR)).targets, ParseOptions(),
                       jobs=2)


@functools.lru_cache(maxsize=8)
def _gcc_numbers(target: str, headers: tuple[str, ...], macros: tuple[str, ...]
                 ) -> dict[str, int]:
    """Each macro's value as a program built by gcc for the target prints it (one build
    per (headers, target) per session)."""
    gcc = find_gcc(target)
    if gcc is None:
        skip_or_fail(f"no gcc for {target} (make deps)")
        raise AssertionError  # unreachable
    src = "#include <linux/ioctl.h>\n#include <stddef.h>\n#include <stdio.h>\n"
    src += "".join(f'#include "{h}"\n' for h in headers)
    src += "int main(void) {\n" + "".join(
        f'  printf("{m} %llu\\n", (unsigned long long)({m}));\n' for m in macros) + "}\n"
    with tempfile.TemporaryDirectory() as tmp:
        c, exe = os.path.join(tmp, "n.c"), os.path.join(tmp, "n")
        Path(c).write_text(src)
        flags = ["-static"] if target == "i386" else []
        subprocess.run([gcc, *flags, "-w", "-o", exe, c], check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()}


def test_numbers_equal_gcc(scan: IoctlScan) -> None:
    for target in PAIR:
        requests = scan.requests[target]
        assert len(requests) > 300, f"only {len(requests)} requests on {target}"
        # A header whose requests all evaluate alone; SMP_BROKEN is skipped, as gcc would fail.
        gcc = _gcc_numbers(target, *_program(requests))
        wrong = [f"{r.name}: abiscope {r.number:#x}, gcc {gcc[r.name]:#x}"
                 for r in requests if gcc[r.name] != r.number]
        assert not wrong, "\n".join(wrong[:20])


def _program(requests: Sequence[IoctlRequest]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    headers = sorted({r.header for r in requests})
    return tuple(os.path.abspath(h) for h in headers), tuple(r.name for r in requests)


# every alias of the headers scanned, and the request it is defined as
ALIASES_FOUND = {
    "ALS_ALIAS": "ALS_BASE", "ALS_ALIAS2": "ALS_ALIAS", "ALS_EARLY": "ALS_LATE",
    "ALS_WALIAS": "ALS_WRAPPED", "ALS_FDPRM": "FDDEFPRM",
    "FDSETMEDIAPRM": "FDSETPRM", "FDDEFMEDIAPRM": "FDDEFPRM", "FDGETMEDIAPRM": "FDGETPRM",
    "KVM_TRACE_ENABLE": "__KVM_DEPRECATED_MAIN_W_0x06",
    "KVM_TRACE_PAUSE": "__KVM_DEPRECATED_MAIN_0x07",
    "KVM_TRACE_DISABLE": "__KVM_DEPRECATED_MAIN_0x08",
    "KVM_ASSIGN_IRQ": "__KVM_DEPRECATED_VM_R_0x70",
    "KVM_DEBUG_GUEST": "__KVM_DEPRECATED_VCPU_W_0x87",
    "SOUND_PCM_WRITE_BITS": "SNDCTL_DSP_SETFMT", "SOUND_PCM_SETFMT": "SNDCTL_DSP_SETFMT",
    "SNDCTL_DSP_SAMPLESIZE": "SNDCTL_DSP_SETFMT", "SOUND_PCM_MAPINBUF": "SNDCTL_DSP_MAPINBUF",
    "SOUND_PCM_GETOSPACE": "SNDCTL_DSP_GETOSPACE", "SOUND_PCM_GETIPTR": "SNDCTL_DSP_GETIPTR"}


def test_aliases_and_wrappers_equal_gcc(scan: IoctlScan) -> None:
    """An alias is found under its own name, with the request it stands for, its number
    and argument; a wrapper's requests too (aliases.h, fd.h, kvm.h, soundcard.h); and every
    alias's number is gcc's on both targets."""
    checked = 0
    for target in PAIR:
        requests = scan.requests[target]
        by_name = {r.name: r for r in requests}
        aliases = {r.name: r.alias_of for r in requests if r.alias_of}
        wanted = {n: a for n, a in ALIASES_FOUND.items()
                  if by_name.get(a) is not None or n.startswith("ALS_")}
        assert {n: aliases.get(n) for n in wanted} == wanted
        for name, of in aliases.items():
            assert by_name[name].number == by_name[of].number, name
            assert by_name[name].arg == by_name[of].arg, name
        assert {"ALS_WRAPPED", "ALS_CALLED", "SNDCTL_DSP_SETFMT"} <= by_name.keys()
        assert by_name["ALS_WRAPPED"].arg == "struct als_arg"
        assert not {"ALS_NOT", "ALS_SELF", "ALS_LOOP1", "ALS_LOOP2", "ALS_MAKER",
                    "ALS_UNKNOWN", "_ALS_IOWR", "ALS_COUNT"} & by_name.keys()
        gcc = _gcc_numbers(target, *_program(requests))
        wrong = [f"{n}: abiscope {by_name[n].number:#x}, gcc {gcc[n]:#x}"
                 for n in aliases if gcc[n] != by_name[n].number]
        assert not wrong, "\n".join(wrong)
        checked += len(aliases)
    print(f"{checked} alias numbers equal gcc's")
    assert checked >= 2 * 30


def test_check_and_ioctls_find_the_same_requests(scan: IoctlScan) -> None:
    """Model.macros (check, ABI012, snapshot, diff) and ioctls find requests by one rule:
    read as ioctls reads a header (<linux/ioctl.h> and <stddef.h> first), the same set."""
    headers = [SAMPLE, ALIASES, *_uapi()]
    model = parse(headers, resolve(list(PAIR)).targets,
                  ParseOptions(macros=True, force_includes=("linux/ioctl.h", "stddef.h")),
                  jobs=2)
    macros = {m.name: dict(m.values) for m in model.macros}
    numbers = {t: {r.name: r.number for r in scan.requests[t]} for t in PAIR}
    requests = {n: {t: numbers[t][n] for t in PAIR if n in numbers[t]}
                for n in numbers[PAIR[0]].keys() | numbers[PAIR[1]].keys()}
    assert macros == requests
    assert len(macros) > 400


def test_argument_records_equal_gcc(scan: IoctlScan) -> None:
    tally = Tally()
    for target in PAIR:
        if find_gcc(target) is None:
            skip_or_fail(f"no gcc for {target}")
        src = "#include <linux/ioctl.h>\n#include <stddef.h>\n" + "".join(
            f'#include "{os.path.abspath(h)}"\n' for h in [SAMPLE, ALIASES, *_uapi()])
        gcc = gcc_layouts({"all": src}, target, {"all": probes_for(scan.model, target)},
                          include_dirs=system_include_dirs(target))["all"]
        assert gcc.ok, gcc
        tally.add(compare_model(scan.model, target, gcc.records, "ioctl arguments"))
    assert tally.records > 200
    assert not tally.mismatches, "\n".join(tally.mismatches[:20])


def test_sample_classes(scan: IoctlScan) -> None:
    report = audit(scan, *PAIR)
    got = {e.macro: (e.klass, e.flags) for e in report.ioctls if e.header.endswith("sample.h")}
    assert got["SMP_NONE"][0] == got["SMP_SAME"][0] == got["SMP_INT"][0] == "same"
    for m in ("SMP_LONG", "SMP_U64", "SMP_NESTED", "SMP_ULONG", "SMP_IOC", "SMP_SIZE_T"):
        assert got[m][0] == "number_differs", m
    assert got["SMP_PTR_UNION"] == ("layout_differs", ("layout_differs", "pointer"))
    assert got["SMP_LONG_BITS"] == ("pointer", ("pointer",))
    assert "pointer" in got["SMP_NESTED"][1] and "layout_differs" in got["SMP_NESTED"][1]
    (broken,) = [s for s in report.skipped if s.macro == "SMP_BROKEN"]
    assert "smp_missing" in broken.reason


def test_layout_reasons_name_members_with_gcc_offsets(scan: IoctlScan) -> None:
    """The offsets a layout_differs reason prints are the record's own (checked vs gcc
    above): here the pointer half of the union, 64 bits on x86_64 and 32 on i386."""
    report = audit(scan, *PAIR)
    (entry,) = [e for e in report.ioctls if e.macro == "SMP_PTR_UNION"]
    (reason,) = [r for r in entry.reasons if r.member == "bitmap" and r.flag == "layout_differs"]
    rec = scan.model.record("struct smp_ptr_union")
    assert rec is not None
    lay = {t: next(m for m in rec.layouts[t].members if m.name == "") for t in PAIR}
    bitmap = {t: next(m for m in lay[t].members if m.name == "bitmap") for t in PAIR}
    assert reason.native == (bitmap["x86_64"].offset_bits, bitmap["x86_64"].size_bits)
    assert reason.compat == (bitmap["i386"].offset_bits, bitmap["i386"].size_bits)


def test_json_validates_and_fail_on(run_cli: Callable[..., CliResult]) -> None:
    res = run_cli("ioctls", SAMPLE, "-f", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["schema"] == "abiscope.ioctls/1" and doc["native"] == "x86_64"
    assert all(isinstance(e["native_number"], int) for e in doc["ioctls"])
    assert report_to_json(audit(scan_ioctls([SAMPLE], resolve(list(PAIR)).targets), *PAIR)) \
        == doc
    assert run_cli("ioctls", SAMPLE, "--fail-on", "needs-compat").code == 1
    text = run_cli("ioctls", SAMPLE, "--only", "pointer")
    assert "SMP_LONG_BITS" in text.out and "SMP_SAME" not in text.out
    assert "skipped SMP_BROKEN" in text.out


def test_arm_pair(run_cli: Callable[..., CliResult]) -> None:
    res = run_cli("ioctls", SAMPLE, "--native", "aarch64", "--compat", "arm", "-f", "json")
    assert res.code == 0, res.err
    classes = {e["macro"]: e["class"] for e in json.loads(res.out)["ioctls"]}
    assert classes["SMP_U64"] == "same"  # __u64 is 8-aligned on both Arm ABIs
    assert classes["SMP_LONG"] == "number_differs"


@pytest.mark.parametrize("args, words", [
    (("ioctls", "/nonexistent.h"), "no such file"),
    (("ioctls", "SEED", "--native", "x86_64", "--compat", "x86_64"), "two different"),
    (("ioctls", "SEED", "--compat", "vax"), "vax"),
    (("ioctls", "SEED"), "no ioctl request macro"),
])
def test_bad_input(run_cli: Callable[..., CliResult], args: tuple[str, ...],
                   words: str) -> None:
    seed = str(Path(__file__).parents[1] / "src/abiscope/data/seed/dm_op_v3.h")
    res = run_cli(*[seed if a == "SEED" else a for a in args])
    assert res.code == 2 and words in res.err, res.err
    assert "Traceback" not in res.err


def test_snapshot(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """``ioctls --snapshot`` reads a snapshot as ``convert`` does: the same requests and
    numbers as from the headers, and the same class wherever the argument is the record
    the request mentions."""
    snap = str(tmp_path / "abi.json")
    res = run_cli("snapshot", SAMPLE, ALIASES, "-t", "x86_64,i386", "--include",
                  "linux/ioctl.h", "--include", "stddef.h", "--no-cache", "-o", snap)
    assert res.code == 0, res.err
    res = run_cli("ioctls", "--snapshot", snap, "-f", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    direct = run_cli("ioctls", SAMPLE, ALIASES, "-f", "json")
    assert direct.code == 0, direct.err
    heads = {e["macro"]: e for e in json.loads(direct.out)["ioctls"]}
    got = {e["macro"]: e for e in doc["ioctls"]}
    # (struct floppy_struct is linux/fd.h's: a snapshot without --all-files has no layout)
    (fd,) = [s for s in doc["skipped"] if s["macro"] == "ALS_FDPRM"]
    assert "struct floppy_struct" in fd["reason"] and "--all-files" in fd["reason"]
    assert got.keys() == heads.keys() - {"ALS_FDPRM"}
    for name, e in got.items():
        h = heads[name]
        assert (e["native_number"], e["compat_number"], e["class"]) == (
            h["native_number"], h["compat_number"], h["class"]), name
        if e["arg_type"] is not None:
            assert (e["arg_type"], e["flags"]) == (h["arg_type"], h["flags"]), name
    assert got["SMP_PTR_UNION"]["class"] == "layout_differs"
    assert got["ALS_ALIAS"]["arg_type"] == "struct als_arg"
    assert run_cli("ioctls", "--snapshot", snap, "--fail-on", "needs-compat").code == 1
    for args, words in ((("--snapshot", snap, SAMPLE), "not both"),
                        (("--snapshot", snap, "--compat", "arm"), "no layouts for arm"),
                        (("--snapshot", str(tmp_path / "none.json")), "no such file")):
        res = run_cli("ioctls", *args)
        assert res.code == 2 and words in res.err and "Traceback" not in res.err, res.err


def test_alias_of_only_on_aliases(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    res = run_cli("ioctls", ALIASES, "-f", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    aliases = {e["macro"]: e["alias_of"] for e in doc["ioctls"] if "alias_of" in e}
    assert aliases == {n: a for n, a in ALIASES_FOUND.items() if n.startswith("ALS_")}
    assert all(e.get("alias_of") is None for e in doc["ioctls"] if e["macro"] not in aliases)
    assert not any("alias_of" in e for e in json.loads(
        run_cli("ioctls", SAMPLE, "-f", "json").out)["ioctls"])
    out = tmp_path / "ioctls.txt"
    text = run_cli("ioctls", ALIASES, "-o", str(out))
    assert text.code == 0, text.err
    assert "ALS_ALIAS2 (= ALS_ALIAS)" in out.read_text()


@pytest.mark.slow
def test_every_uapi_alias_found_with_gccs_number() -> None:
    """On the whole UAPI tree (``linux/**/*.h``, x86_64 and i386): every ``#define A B`` whose
    B is a request of the same header (read from the text, independently of clang) is found
    as an alias of B, and every alias found has gcc's number on both targets."""
    root = "/usr/include/linux"
    if not os.path.isdir(root):
        pytest.skip("no /usr/include/linux (linux-libc-dev)")
    headers = sorted(str(p) for p in Path(root).rglob("*.h"))
    scan = scan_ioctls(headers, resolve(list(PAIR)).targets, ParseOptions(), jobs=2)
    alias_re = re.compile(r"^\s*#\s*define\s+(\w+)\s+\(?\s*(\w+)\s*\)?\s*(?:/\*.*)?$", re.M)
    for target in PAIR:
        requests = scan.requests[target]
        mine = {(r.header, r.name) for r in requests}
        found = {r.name: r.alias_of for r in requests if r.alias_of}
        written = {}
        for header in {r.header for r in requests}:
            for m in alias_re.finditer(Path(header).read_text(errors="replace")):
                if (header, m.group(2)) in mine:
                    written[m.group(1)] = m.group(2)
        assert {n: found.get(n) for n in written} == written
        with_aliases = [r for r in requests if r.alias_of or r.name in found.values()]
        gcc = _gcc_numbers(target, *_program(with_aliases))
        wrong = [n for n in found if gcc[n] != next(r.number for r in requests if r.name == n)]
        assert not wrong
        print(f"{target}: {len(requests)} requests, {len(found)} aliases, "
              f"{len(written)} written in the same header")
        assert len(found) >= 30


def test_snapshot_reads_13_bit_size_fields(run_cli: Callable[..., CliResult],
                                           tmp_path: Path) -> None:
    """PowerPC's and MIPS's request numbers hold the size in 13 bits (14 elsewhere): from a
    snapshot, the argument records and classes are still the headers'."""
    snap = str(tmp_path / "abi.json")
    res = run_cli("snapshot", SAMPLE, "-t", "ppc64,ppc,mips64,mips", "--include",
                  "linux/ioctl.h", "--include", "stddef.h", "--no-cache", "-o", snap)
    assert res.code == 0, res.err
    for native, compat in (("ppc64", "ppc"), ("mips64", "mips")):
        pair = ("--native", native, "--compat", compat, "-f", "json")
        got = json.loads(run_cli("ioctls", "--snapshot", snap, *pair).out)["ioctls"]
        heads = {e["macro"]: e for e in json.loads(run_cli("ioctls", SAMPLE, *pair).out)["ioctls"]}
        assert {e["macro"]: e["class"] for e in got} == {n: e["class"] for n, e in heads.items()}
        records = {e["macro"]: e["arg_type"] for e in got if e["arg_type"]}
        assert records == {n: e["arg_type"] for n, e in heads.items()
                           if (e["arg_type"] or "").startswith("struct ")}, native
