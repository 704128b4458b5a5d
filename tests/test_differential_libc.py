"""glibc's own headers, laid out by abiscope and by every Debian cross gcc: identical.

Thirty common libc headers (threads, signals, sockets, stat, time, IPC, ELF, ...) from each
target's own tree (``/usr/<triple>/include``, from ``libc6-dev-<arch>-cross``), one
translation unit per target, every record they reach compared with gcc's DWARF: size,
``_Alignof``, every member's offset and width. In the slow run, every public glibc header
that the target's gcc compiles alone with ``-D_GNU_SOURCE`` (234 to 245 per target: the top
level, ``sys/``, ``net*/``, ``arpa/``, ``rpc/``, ...; on the 32-bit targets with a 32-bit
``time_t`` also with ``-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64``) is parsed in its own
translation unit, hosted as gcc compiles it (none may fail: ``sys/inotify.h`` needs
``<stdint.h>`` to pull in ``<features.h>``), and every record they reach is compared with
the DWARF of one gcc translation unit holding them all.
glibc is where a typedef's ``aligned`` names an untagged struct (``siginfo_t`` on x32,
``__pthread_unwind_buf_t``), where lock words are aligned by a macro after the declarator
(``__LOCK_ALIGNMENT``), and where a predefined CPU macro changes a layout (m68k's
``jmp_buf``).
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.targets import TARGETS
from conftest import skip_or_fail
from differential import Tally, compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import CHECKERS, GCC_FOR_TARGET, find_gcc, system_include_dirs

# every target whose checker has a Linux tree (bare-metal ones: generated records and seed)
GCC_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available and CHECKERS[t].uapi]

LIBC_HEADERS = (
    "pthread.h", "threads.h", "setjmp.h", "signal.h", "ucontext.h", "sys/stat.h",
    "sys/socket.h", "netinet/in.h", "sys/epoll.h", "termios.h", "sys/time.h",
    "sys/resource.h", "sys/uio.h", "dirent.h", "fcntl.h", "time.h", "stdio.h", "sys/statfs.h",
    "sys/sem.h", "sys/msg.h", "sys/shm.h", "sys/ipc.h", "poll.h", "sched.h", "sys/utsname.h",
    "sys/sysinfo.h", "link.h", "elf.h", "glob.h", "wchar.h",
)
SOURCE = "".join(f"#include <{h}>\n" for h in LIBC_HEADERS)


def _libc_tree(target: str) -> list[str]:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tree = system_include_dirs(target)
    if not any(Path(d, "pthread.h").is_file() for d in tree):
        skip_or_fail(f"no libc headers for {target} (libc6-dev cross package; make deps)")
    return tree


def _compare(target: str, source: str, tree: list[str], tmp_path: Path) -> Tally:
    """One translation unit of ``source`` on ``target``: abiscope against gcc's DWARF."""
    header = tmp_path / "libc_headers.h"
    header.write_text(source)
    model = frontend.parse([str(header)], [TARGETS[target]],
                           frontend.ParseOptions(all_files=True), jobs=1)
    assert not model.failures, model.failures
    gcc = gcc_layouts({"libc": source}, target, {"libc": probes_for(model, target)},
                      include_dirs=tree, extra_flags=("-fhosted",))["libc"]
    assert gcc.ok, gcc.stderr
    tally = Tally()
    tally.add(compare_model(model, target, gcc.records, "libc_headers.h"))
    assert not tally.mismatches, "\n".join(tally.mismatches)
    return tally


@pytest.mark.parametrize("target", GCC_TARGETS)
def test_libc_headers_match_gcc(target: str, tmp_path: Path) -> None:
    tally = _compare(target, SOURCE, _libc_tree(target), tmp_path)
    assert tally.records > 100


GLIBC_DIRS = ("", "sys", "net", "netinet", "arpa", "netpacket", "netash", "netax25", "netipx",
              "netrose", "netrom", "neteconet", "scsi", "protocols", "rpc", "nfs")
NOT_STANDALONE = {"regexp.h", "sys/elf.h"}  # (an #error; a #warning that it is obsolete)


# Each form of the glibc corpus: its -D macros, and the targets it is compiled for (the
# 64-bit time forms on the 32-bit targets whose time_t is 32 bits by default)
FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gnu": (("_GNU_SOURCE",), tuple(GCC_TARGETS)),
    "time64": (("_GNU_SOURCE", "_TIME_BITS=64", "_FILE_OFFSET_BITS=64"),
               tuple(t for t in GCC_TARGETS
                     if TARGETS[t].pointer_bits == 32 and t != "x32")),
}
# glibc's transparent unions (``_GNU_SOURCE``): GCC's DWARF gives the typedef's union no
# members (``typedef union { int *a; } tu __attribute__((__transparent_union__));``)
NO_DWARF_MEMBERS = {"__SOCKADDR_ARG", "__CONST_SOCKADDR_ARG"}
FORM_CASES = [(form, t) for form, (_, targets) in FORMS.items() for t in targets]


def glibc_headers(target: str, tree: list[str], defines: tuple[str, ...] = ()) -> list[str]:
    """Every public glibc header of the target's tree that its gcc compiles alone, hosted,
    with ``defines``. The host's ``/usr/include`` also holds other packages' headers: for
    x86_64 only the names i386's cross tree (glibc and Linux only) has are taken."""
    names = {os.path.join(d, f) if d else f
             for root in tree for d in GLIBC_DIRS if os.path.isdir(os.path.join(root, d))
             for f in os.listdir(os.path.join(root, d)) if f.endswith(".h")}
    if target == "x86_64":
        pure = "/usr/i686-linux-gnu/include"
        if not os.path.isdir(pure):
            skip_or_fail("libc6-dev-i386-cross missing: it tells glibc's headers apart (make deps)")
        names = {n for n in names if os.path.isfile(os.path.join(pure, n))}
    gcc = find_gcc(target)
    assert gcc is not None
    builtin = subprocess.run([gcc, "-print-file-name=include"], capture_output=True,
                             text=True, check=True).stdout.strip()
    argv = [gcc, "-nostdinc", "-isystem", builtin, *(a for d in tree for a in ("-isystem", d)),
            *(f"-D{d}" for d in defines), "-std=gnu11", "-w", "-fsyntax-only", "-x", "c", "-"]

    def alone(name: str) -> bool:
        return subprocess.run(argv, input=f"#include <{name}>\n", capture_output=True,
                              text=True).returncode == 0

    candidates = sorted(names - NOT_STANDALONE)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return [n for n, ok in zip(candidates, pool.map(alone, candidates), strict=True) if ok]


@dataclass
class GlibcRun:
    """One (form, target) of the glibc corpus: the headers gcc compiles alone, abiscope's
    parse of each alone (its failures), and the comparison with gcc's DWARF."""

    names: list[str]
    failures: list[str]
    tally: Tally


_GLIBC_RUNS: dict[tuple[str, str], GlibcRun] = {}


def glibc_run(form: str, target: str, workdir: Path) -> GlibcRun:
    """Compiled once per session: every header in its own translation unit on abiscope's
    side (a header that does not parse alone is a failure), one translation unit holding
    them all, compiled hosted, on gcc's."""
    if (form, target) in _GLIBC_RUNS:
        return _GLIBC_RUNS[form, target]
    tree = _libc_tree(target)
    defines = FORMS[form][0]
    names = glibc_headers(target, tree, defines)
    wrappers = []
    for i, name in enumerate(names):
        wrapper = workdir / f"glibc_{i:03d}.h"
        wrapper.write_text(f"#include <{name}>\n")
        wrappers.append(str(wrapper))
    model = frontend.parse(wrappers, [TARGETS[target]],
                           frontend.ParseOptions(all_files=True, defines=defines), jobs=1)
    named = {os.path.basename(w): n for w, n in zip(wrappers, names, strict=True)}
    failures = [f"{named.get(os.path.basename(f.header), f.header)}: {f.summary()}"
                for f in model.failures]
    source = "".join(f"#include <{n}>\n" for n in names)
    gcc = gcc_layouts({"libc": source}, target, {"libc": probes_for(model, target)},
                      include_dirs=tree, defines=defines, extra_flags=("-fhosted",))["libc"]
    assert gcc.ok, gcc.stderr
    where = f"glibc, {form}"
    tally = compare_model(model, target, gcc.records, where,
                          names=[r.name for r in model.records if r.name not in NO_DWARF_MEMBERS])
    for rec in model.records:  # these: size and alignment only
        theirs = gcc.records.get(rec.name)
        if rec.name in NO_DWARF_MEMBERS and target in rec.layouts and theirs is not None:
            lay = rec.layouts[target]
            tally.records += 1
            if (lay.size, lay.align) != (theirs.size, theirs.align):
                tally.mismatches.append(f"[{target}] {rec.name} ({where}): size/align "
                                        f"{lay.size}/{lay.align}, gcc {theirs.size}/{theirs.align}")
    print(f"glibc {form} {target}: {len(names)} headers, {len(failures)} do not parse, "
          f"{tally.records} records ({tally.members} members) compared, "
          f"{len(tally.mismatches)} differ")
    _GLIBC_RUNS[form, target] = run = GlibcRun(names, failures, tally)
    return run


@pytest.mark.slow
@pytest.mark.parametrize(("form", "target"), FORM_CASES)
def test_every_glibc_header_parses_alone_and_matches_gcc(
        form: str, target: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every public glibc header gcc compiles alone (``-D_GNU_SOURCE``; on the 32-bit
    targets also with 64-bit ``time_t`` and ``off_t``) parses alone, hosted as gcc compiles
    it (``sys/inotify.h``, ``sys/fanotify.h``, ``sys/signalfd.h`` rely on ``<stdint.h>``
    pulling in ``<features.h>``), and every record they reach equals gcc's DWARF."""
    run = glibc_run(form, target, tmp_path_factory.mktemp(f"glibc-{form}-{target}"))
    assert len(run.names) > 200
    assert not run.failures, "\n".join(run.failures)
    assert not run.tally.mismatches, "\n".join(run.tally.mismatches)
    assert run.tally.records > 400


def test_an_aligned_typedef_gives_its_untagged_struct_its_alignment(tmp_path: Path) -> None:
    """``typedef struct { … } T __attribute__((aligned(N)));``: ``_Alignof(T)`` is N, raised
    or lowered, and the size stays the struct's; a bare ``aligned`` is GCC's biggest
    alignment (8 on mips, where clang says 16). Checked against each target's gcc."""
    source = ("typedef struct { int a, b, c; } up __attribute__((aligned(16)));\n"
              "typedef struct { long long x; int y; } down __attribute__((aligned(2)));\n"
              "typedef struct { char c; } bare __attribute__((__aligned__));\n"
              "typedef struct { int a; } plain;\n")
    header = tmp_path / "typedefs.h"
    header.write_text(source)
    for target in ("x86_64", "i386", "mips", "arm", "m68k"):
        if find_gcc(target) is None:
            skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
        model = frontend.parse([str(header)], [TARGETS[target]],
                               frontend.ParseOptions(system_dirs=False), jobs=1)
        gcc = gcc_layouts({"t": source}, target, {"t": probes_for(model, target)})["t"]
        assert gcc.ok, gcc.stderr
        tally = compare_model(model, target, gcc.records, "typedefs.h")
        assert not tally.mismatches, "\n".join(tally.mismatches)
        assert tally.records == 4
        ours = {r.name: r.layouts[target] for r in model.records}
        assert (ours["up"].size, ours["up"].align) == (12, 16)
