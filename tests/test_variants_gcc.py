"""Build variants checked against GCC: a variant target laid out by abiscope is what the
target's gcc lays out with the same defines and flags (``Variant.gcc_args``).

- glibc's public headers (those of ``tests/test_differential_libc.py`` and the time-keeping
  ones: ``utmp.h``, ``sys/timex.h``, ``aio.h``, ``fts.h``, …) on every 32-bit glibc target
  with a gcc here: ``T`` and ``T+time64`` each equal gcc's DWARF without and with
  ``-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64`` (``lfs``: ``-D_FILE_OFFSET_BITS=64``, on i386,
  arm and x86_64); ``compat --native T+time64 --compat T`` says
  ``translate`` exactly for the records gcc lays out differently in the two configurations
  (size, or a member of non-zero size at another offset or of another width) and the records
  that contain or point to one, ``identical`` for every other; on x86_64 and x32 none differs.
- generated records (the fuzzer of ``tests/test_differential_generated.py``) under
  ``short-enums`` (x86_64, arm, and m68k, which the engine lays out) and ``align-double``
  (i386): a bounded slice here, more in the slow run and ``bench/fuzz_layout.py``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abiscope import compat, frontend
from abiscope.model import Model
from abiscope.sameness import compare_layouts
from abiscope.variants import configure, known, lookup
from cgen.cstructs import CProgram, c_programs
from conftest import skip_or_fail
from differential import Tally, compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import GCC_FOR_TARGET, OracleRecord, find_gcc, flatten
from test_differential_generated import BATCH, NO_SHRINK
from test_differential_libc import LIBC_HEADERS, NO_DWARF_MEMBERS, _libc_tree, glibc_headers

TIME_HEADERS = ("utmp.h", "utmpx.h", "sys/timex.h", "aio.h", "sys/select.h", "mqueue.h",
                "sys/timeb.h", "fts.h", "ftw.h", "sys/mman.h", "sys/types.h", "unistd.h",
                "sys/file.h", "sys/vfs.h", "semaphore.h", "sys/timerfd.h", "sys/signalfd.h")
HEADERS = tuple(dict.fromkeys((*LIBC_HEADERS, *TIME_HEADERS)))
SOURCE = "#define _GNU_SOURCE 1\n" + "".join(f"#include <{h}>\n" for h in HEADERS)

TIME32 = ("i386", "arm", "ppc", "mips", "m68k")  # glibc targets with a 32-bit time_t
TIME64 = ("x86_64", "x32")  # (and every other 64-bit one: _TIME_BITS changes nothing)

# The records the time64 switch changes on every 32-bit target above (checked, not assumed:
# each is one gcc lays out differently; the test compares the whole sets)
CHANGED = {
    "struct _ftsent", "struct aiocb", "struct dirent", "struct flock", "struct itimerspec",
    "struct itimerval", "struct msqid_ds", "struct ntptimeval", "struct rlimit",
    "struct rusage", "struct semid_ds", "struct shmid_ds", "struct stat", "struct stat64",
    "struct statfs", "struct timeb", "struct timespec", "struct timeval", "struct timex",
    "struct utmp", "struct utmpx"}


def _bytes(rec: OracleRecord) -> tuple[int, list[tuple[str, int, int, bool]]]:
    """What compat compares of a gcc layout: the size and the members that hold bytes (a
    member of size 0, ``aio.h``'s ``__pad`` on LP64, moves nothing)."""
    return rec.size, [m for m in flatten(rec.members) if m[2]]


def _closure(model: Model, native: str, compat_target: str, changed: set[str]) -> set[str]:
    """``changed`` and every record that contains or points to one (at any depth)."""
    edges = {r.name: {e.record for e in compare_layouts(
        model, (r, native), (r, compat_target)).edges}
        for r in model.records if native in r.layouts or compat_target in r.layouts}
    out = set(changed)
    grown = True
    while grown:
        grown = False
        for name, inner in edges.items():
            if name not in out and not inner.isdisjoint(out):
                out.add(name)
                grown = True
    return out


@dataclass
class Time64Run:
    """One target's time64 comparison: records compared with gcc (both configurations),
    the records gcc lays out differently, and compat's verdicts."""

    tally: Tally
    changed: set[str]
    translate: set[str]
    records: int


def time64_run(target: str, source: str, tree: list[str], workdir: Path,
               variant_name: str = "time64") -> Time64Run:
    """``source`` on ``target`` and ``target+time64`` (or another variant): abiscope (one
    parse) against gcc without and with the variant's defines, then ``compat`` against
    gcc's changes."""
    variant = f"{target}+{variant_name}"
    header = workdir / "libc_time.h"
    header.write_text(source)
    base_t, var_t = lookup(target), lookup(variant)
    assert base_t is not None and var_t is not None
    model = frontend.parse([str(header)], [base_t, var_t],
                           frontend.ParseOptions(all_files=True), jobs=1)
    assert not model.failures, model.failures[0].summary()
    gcc = {}
    for name, extra in ((target, ()), (variant, tuple(known()[variant_name].gcc_args()))):
        res = gcc_layouts({"libc": source}, target, {"libc": probes_for(model, name)},
                          include_dirs=tree, extra_flags=("-fhosted", *extra))["libc"]
        assert res.ok, res.stderr
        gcc[name] = res.records
    tally = Tally()
    for name in (target, variant):  # each configuration as gcc lays it out
        names = [r.name for r in model.records if r.name not in NO_DWARF_MEMBERS]
        tally.add(compare_model(model, name, gcc[name], "libc_time.h", names))
    changed = {r.name for r in model.records
               if r.name in gcc[target] and r.name in gcc[variant]
               and _bytes(gcc[target][r.name]) != _bytes(gcc[variant][r.name])}
    report = compat.compare(model, variant, target)
    direct = {v.name for v in report.records if v.reasons}
    assert direct == changed, (sorted(direct - changed), sorted(changed - direct))
    translate = set(report.translate())
    assert translate == _closure(model, variant, target, changed)
    return Time64Run(tally, changed, translate, len(report.records))


@pytest.mark.parametrize("target", TIME32 + TIME64)
def test_time64_compat_matches_gcc(target: str, tmp_path: Path) -> None:
    run = time64_run(target, SOURCE, _libc_tree(target), tmp_path)
    assert not run.tally.mismatches, "\n".join(run.tally.mismatches)
    assert run.tally.records > 300
    assert run.changed == (CHANGED if target in TIME32 else set())
    if target in TIME32:  # (FTS, aiocb64, …: through a pointer or a member)
        assert len(run.translate) > len(run.changed)
    else:
        assert not run.translate


@pytest.mark.parametrize("target", ("i386", "arm", "x86_64"))
def test_lfs_compat_matches_gcc(target: str, tmp_path: Path) -> None:
    """``lfs`` (``_FILE_OFFSET_BITS=64`` alone): compat translates exactly gcc's changes, a
    part of time64's on 32-bit targets (off_t, ino_t, rlim_t, …; not time_t), none on
    x86_64."""
    run = time64_run(target, SOURCE, _libc_tree(target), tmp_path, "lfs")
    assert not run.tally.mismatches, "\n".join(run.tally.mismatches)
    if target == "x86_64":
        assert not run.translate
    else:
        assert run.changed and run.changed < CHANGED
        assert {"struct stat", "struct dirent", "struct flock"} <= run.changed
        assert not {"struct timespec", "struct timeval"} & run.changed


@pytest.mark.slow
@pytest.mark.parametrize("target", TIME32 + TIME64)
def test_time64_every_glibc_header(target: str, tmp_path: Path) -> None:
    """Every public glibc header gcc compiles alone in both configurations, in one
    translation unit: the same as the quick test, on 240-odd headers."""
    tree = _libc_tree(target)
    defines = ("_GNU_SOURCE",)
    names = sorted(set(glibc_headers(target, tree, defines)) & set(glibc_headers(
        target, tree, (*defines, *(a[2:] for a in known()["time64"].gcc_args())))))
    assert len(names) > 200
    source = "#define _GNU_SOURCE 1\n" + "".join(f"#include <{h}>\n" for h in names)
    run = time64_run(target, source, tree, tmp_path)
    print(f"time64 {target}: {len(names)} headers, {run.records} records, "
          f"{run.tally.records} layouts compared with gcc, {len(run.tally.mismatches)} "
          f"differ; gcc changes {len(run.changed)}, compat translates {len(run.translate)}")
    assert not run.tally.mismatches, "\n".join(run.tally.mismatches)
    assert run.changed >= CHANGED if target in TIME32 else not run.translate


# --------------------------------------------------------------------------- generated

SHORT_ENUMS = ("x86_64+short-enums", "arm+short-enums", "m68k+short-enums")
ALIGN_DOUBLE = ("i386+align-double",)
# [variants.NAME] with the long double flags of the allow-list (x86 only)
LONG_DOUBLE = {"ld64": {"flags": ["-mlong-double-64"]},
               "ld128": {"flags": ["-mlong-double-128"]}}
LONG_DOUBLE_TARGETS = ("i386+ld64", "x86_64+ld64", "i386+ld128", "x32+ld128",
                       "i386+align-double+ld64")


def check_variant_batch(programs: Sequence[CProgram], variant_targets: Sequence[str]) -> Tally:
    """Each program on each variant target: abiscope against the base target's gcc given
    the variant's flags."""
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="abiscope-variant-") as tmp:
        paths = []
        for i, prog in enumerate(programs):
            path = Path(tmp) / f"gen{i}.h"
            path.write_text(prog.source)
            paths.append(str(path))
        for name in variant_targets:
            target = lookup(name)
            assert target is not None
            base, *variants = name.split("+")
            flags = [a for v in variants for a in known()[v].gcc_args()]
            gcc = gcc_layouts({str(i): p.source for i, p in enumerate(programs)}, base,
                              {str(i): list(p.probes) for i, p in enumerate(programs)},
                              extra_flags=flags)
            for i, (prog, path) in enumerate(zip(programs, paths, strict=True)):
                assert gcc[str(i)].ok, f"generator produced invalid C:\n{gcc[str(i)].stderr}"
                model = frontend.parse([path], [target],
                                       frontend.ParseOptions(system_dirs=False), jobs=1)
                assert not model.failures, model.failures[0].summary()
                part = compare_model(model, name, gcc[str(i)].records, f"gen{i}",
                                     prog.records)
                if part.mismatches:
                    part.mismatches.append(f"program:\n{prog.source}")
                tally.add(part)
    return tally


def _assert_matches(programs: list[CProgram], targets: Sequence[str]) -> None:
    configure("abiscope.toml", LONG_DOUBLE)
    try:
        for name in targets:
            base = name.split("+", 1)[0]
            if find_gcc(base) is None:
                skip_or_fail(f"{GCC_FOR_TARGET[base]} not installed (make deps)")
        tally = check_variant_batch(programs, targets)
    finally:
        configure(None, {})
    assert not tally.mismatches, "\n".join(tally.mismatches)


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(), min_size=BATCH, max_size=BATCH))
def test_generated_variants_match_gcc_quick(programs: list[CProgram]) -> None:
    _assert_matches(programs, SHORT_ENUMS + ALIGN_DOUBLE + LONG_DOUBLE_TARGETS[:2])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(st.lists(c_programs(), min_size=BATCH, max_size=BATCH))
def test_generated_variants_match_gcc(programs: list[CProgram]) -> None:
    _assert_matches(programs, SHORT_ENUMS + ALIGN_DOUBLE + LONG_DOUBLE_TARGETS)


# --------------------------------------------------------------------------- gen asserts


def test_generated_locks_pick_the_variant_gcc_builds(run_cli: Any, tmp_path: Path) -> None:
    """``gen asserts --target arm,arm+time64,arm+short-enums``: each configuration of the
    arm gcc compiles the locks of its own variant (a wrong pick fails a _Static_assert:
    every record below differs between them)."""
    gcc = find_gcc("arm")
    if gcc is None:
        skip_or_fail(f"{GCC_FOR_TARGET['arm']} not installed (make deps)")
    _libc_tree("arm")
    header = tmp_path / "rec.h"
    header.write_text("#include <time.h>\nenum e { E_A, E_B };\n"
                      "struct rec { char c; enum e e; time_t t; };\n")
    locks = tmp_path / "locks.h"
    res = run_cli("gen", "asserts", str(header), "--target", "arm,arm+time64,arm+short-enums",
                  "-o", str(locks), "--no-cache")
    assert res.code == 0, res.err
    text = locks.read_text()
    assert text.index("/* arm+time64 */") < text.index("/* arm */")
    main = tmp_path / "main.c"
    main.write_text(f'#include "{locks}"\n')
    for flags in ([], known()["time64"].gcc_args(), known()["short-enums"].gcc_args()):
        done = subprocess.run([gcc, *flags, "-c", str(main), "-o", os.devnull],
                              capture_output=True, text=True)
        assert done.returncode == 0, (flags, done.stderr)
    # (and a configuration none of them is: the locks stop the build)
    done = subprocess.run([gcc, *known()["time64"].gcc_args(), "-fshort-enums", "-c",
                           str(main), "-o", os.devnull], capture_output=True, text=True)
    assert done.returncode != 0
