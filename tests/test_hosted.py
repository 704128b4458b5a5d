"""Hosted system headers, as each target's gcc sees them (issue 27, section 2).

A Linux target with a libc tree is parsed hosted: clang's ``<stdint.h>`` hands over to
glibc's, which pulls in ``<features.h>`` (``__flexarr``, ``__BEGIN_DECLS``), and
``max_align_t`` is GCC's (48 bytes, 16-aligned on i386, where clang's is 24 and 8). The
directories are searched in the order of the target's Debian gcc, the host's
``/usr/include`` last. Each case is compared with every Debian gcc's DWARF, compiled hosted.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.frontend.options import clang_args, hosted
from abiscope.targets import TARGETS
from conftest import CliResult, skip_or_fail
from differential import compare_model, gcc_layouts, probes_for
from oracle.gcc_dwarf import CHECKERS, GCC_FOR_TARGET, find_gcc, system_include_dirs

# every target whose checker has a Linux tree (bare-metal ones: generated records and seed)
GCC_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available and CHECKERS[t].uapi]

# Each header alone: abiscope parses each in its own translation unit, as gcc would
CASES = {
    "flexarr.h": "#include <stdint.h>\nstruct ev { uint32_t len; char name __flexarr; };\n",
    "inotify.h": "#include <sys/inotify.h>\n",
    "fanotify.h": "#include <sys/fanotify.h>\n",
    "signalfd.h": "#include <sys/signalfd.h>\n",
    "max_align.h": "#include <stddef.h>\n"
                   "struct holds_max_align { char c; max_align_t m; };\n"
                   "struct after_max_align { max_align_t m; char c; };\n",
}
RECORDS = {"struct ev", "struct inotify_event", "struct fanotify_event_metadata",
           "struct signalfd_siginfo", "max_align_t", "struct holds_max_align",
           "struct after_max_align"}


def _headers(tmp_path: Path) -> list[str]:
    for name, text in CASES.items():
        (tmp_path / name).write_text(text)
    return [str(tmp_path / name) for name in CASES]


@pytest.mark.parametrize("target", GCC_TARGETS)
def test_hosted_headers_parse_and_match_gcc(target: str, tmp_path: Path) -> None:
    """Each case parses alone on every gcc target and equals gcc's DWARF (hosted)."""
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    tree = system_include_dirs(target)
    if not any(Path(d, "sys/inotify.h").is_file() for d in tree):
        skip_or_fail(f"no libc headers for {target} (libc6-dev cross package; make deps)")
    model = frontend.parse(_headers(tmp_path), [TARGETS[target]],
                           frontend.ParseOptions(all_files=True), jobs=1)
    assert not model.failures, [f.summary() for f in model.failures]
    source = "".join(CASES.values())
    gcc = gcc_layouts({"hosted": source}, target, {"hosted": probes_for(model, target)},
                      include_dirs=tree, extra_flags=("-fhosted",))["hosted"]
    assert gcc.ok, gcc.stderr
    tally = compare_model(model, target, gcc.records, "hosted cases", names=RECORDS)
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records == len(RECORDS)
    print(f"hosted cases {target}: {tally.records} records compared with gcc")
    if target == "i386":  # GCC 12's max_align_t has a __float128 member there
        ours = {r.name: r.layouts[target] for r in model.records}
        assert (ours["max_align_t"].size, ours["max_align_t"].align) == (48, 16)
        assert (ours["struct holds_max_align"].size,
                ours["struct holds_max_align"].members[1].offset_bits) == (64, 128)


def test_freestanding_keeps_clangs_headers(tmp_path: Path) -> None:
    """``--freestanding`` (and a target without a libc tree) parse as before: clang's own
    ``<stdint.h>`` alone, so glibc's ``__flexarr`` is unknown; clang's ``max_align_t``
    is replaced by GCC's on every Linux target all the same."""
    i386 = TARGETS["i386"]
    if not frontend.system_include_dirs(i386, frontend.ParseOptions()):
        skip_or_fail("no i386 libc tree (libc6-dev-i386-cross; make deps)")
    free = frontend.ParseOptions(freestanding=True)
    assert hosted(i386, frontend.ParseOptions()) and not hosted(i386, free)
    assert "-ffreestanding" in clang_args(i386, free)
    assert "-ffreestanding" not in clang_args(i386, frontend.ParseOptions())
    assert not hosted(TARGETS["riscv32"], frontend.ParseOptions())  # no libc tree
    assert not hosted(TARGETS["wasm32"], frontend.ParseOptions())
    headers = _headers(tmp_path)
    model = frontend.parse(headers[:1], [i386], free, jobs=1)
    assert model.failures  # __flexarr needs <features.h>
    model = frontend.parse(headers[-1:], [i386], free, jobs=1)
    ours = {r.name: r.layouts["i386"] for r in model.records}
    assert (ours["struct holds_max_align"].size, ours["struct holds_max_align"].align) == (64, 16)


def test_cross_targets_search_the_hosts_include_dir_last(tmp_path: Path) -> None:
    """Debian's cross gccs search ``/usr/<triple>/include`` then the host's ``/usr/include``
    (``arm-linux-gnueabihf-gcc -xc -E -v /dev/null``): a ``-dev`` package's header there
    (``zlib.h``) is found for arm, as gcc finds it, and laid out as gcc does."""
    if find_gcc("arm") is None:
        skip_or_fail(f"{GCC_FOR_TARGET['arm']} not installed (make deps)")
    if not os.path.isfile("/usr/include/zlib.h"):
        skip_or_fail("zlib1g-dev not installed (make deps)")
    arm = TARGETS["arm"]
    dirs = frontend.system_include_dirs(arm, frontend.ParseOptions())
    assert dirs == ["/usr/arm-linux-gnueabihf/include", "/usr/include"]
    header = tmp_path / "z.h"
    header.write_text("#include <zlib.h>\nstruct zz { z_stream s; gz_header h; };\n")
    model = frontend.parse([str(header)], [arm], frontend.ParseOptions(all_files=True), jobs=1)
    assert not model.failures, [f.summary() for f in model.failures]
    gcc = gcc_layouts({"z": header.read_text()}, "arm", {"z": probes_for(model, "arm")},
                      include_dirs=[*system_include_dirs("arm"), "/usr/include"],
                      extra_flags=("-fhosted",))["z"]
    assert gcc.ok, gcc.stderr
    tally = compare_model(model, "arm", gcc.records, "z.h")
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records >= 4


# Headers of Debian library packages (-dev), which live in the host's /usr/include for
# every architecture: (header, package, extra -I dirs)
DEV_HEADERS = (
    ("zlib.h", "zlib1g-dev", ()),
    ("lzma.h", "liblzma-dev", ()),
    ("png.h", "libpng-dev", ()),
    ("uuid/uuid.h", "uuid-dev", ()),
    ("brotli/decode.h", "libbrotli-dev", ()),
    ("brotli/encode.h", "libbrotli-dev", ()),
    ("nettle/sha2.h", "nettle-dev", ()),
    ("nettle/aes.h", "nettle-dev", ()),
    ("libxml/tree.h", "libxml2-dev", ("/usr/include/libxml2",)),
    ("libxml/parser.h", "libxml2-dev", ("/usr/include/libxml2",)),
    ("libxml/xmlreader.h", "libxml2-dev", ("/usr/include/libxml2",)),
)


def _gcc_compiles(target: str, name: str, dirs: list[str], extra: tuple[str, ...]) -> bool:
    import subprocess

    gcc = find_gcc(target)
    assert gcc is not None
    builtin = subprocess.run([gcc, "-print-file-name=include"], capture_output=True,
                             text=True, check=True).stdout.strip()
    argv = [gcc, "-nostdinc", *(f"-I{d}" for d in extra), "-isystem", builtin,
            *(a for d in dirs for a in ("-isystem", d)), "-std=gnu11", "-w", "-fsyntax-only",
            "-x", "c", "-"]
    return subprocess.run(argv, input=f"#include <{name}>\n", capture_output=True,
                          text=True).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("target", GCC_TARGETS)
def test_debian_library_headers_match_gcc(target: str, tmp_path: Path) -> None:
    """Headers of Debian library packages, found where each target's gcc finds them (its
    cross tree, then the host's ``/usr/include``), each parsed alone: every one gcc compiles
    parses, and every record they reach equals gcc's DWARF."""
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    missing = sorted({pkg for name, pkg, extra in DEV_HEADERS
                      if not any(os.path.isfile(os.path.join(d, name))
                                 for d in ("/usr/include", *extra))})
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed (make deps)")
    dirs = system_include_dirs(target)
    if target != "x86_64":
        dirs = [*dirs, "/usr/include"]  # (the oracle's x86_64 dirs end with it already)
    extra = tuple(sorted({d for _, _, e in DEV_HEADERS for d in e}))
    chosen = [name for name, _, _ in DEV_HEADERS if _gcc_compiles(target, name, dirs, extra)]
    assert len(chosen) >= 8, chosen
    wrappers = []
    for i, name in enumerate(chosen):
        (tmp_path / f"dev_{i:02d}.h").write_text(f"#include <{name}>\n")
        wrappers.append(str(tmp_path / f"dev_{i:02d}.h"))
    model = frontend.parse(wrappers, [TARGETS[target]],
                           frontend.ParseOptions(all_files=True, include_dirs=extra), jobs=1)
    assert not model.failures, [f.summary() for f in model.failures]
    source = "".join(f"#include <{n}>\n" for n in chosen)
    gcc = gcc_layouts({"dev": source}, target, {"dev": probes_for(model, target)},
                      include_dirs=[*extra, *dirs], extra_flags=("-fhosted",))["dev"]
    assert gcc.ok, gcc.stderr
    tally = compare_model(model, target, gcc.records, "Debian library headers")
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.records > 90
    print(f"Debian library headers {target}: {len(chosen)} headers, {tally.records} records "
          f"({tally.members} members) compared with gcc")


def test_freestanding_flag_on_the_command_line(tmp_path: Path,
                                               run_cli: Callable[..., CliResult]) -> None:
    """``--freestanding``: the minimal case no longer parses on i386 (exit 2, the reason
    said); without it, it does."""
    if not frontend.system_include_dirs(TARGETS["i386"], frontend.ParseOptions()):
        skip_or_fail("no i386 libc tree (libc6-dev-i386-cross; make deps)")
    header = tmp_path / "flexarr.h"
    header.write_text(CASES["flexarr.h"])
    hosted_run = run_cli("layout", str(header), "--target", "i386", "--no-cache")
    assert hosted_run.code == 0, hosted_run.err
    free = run_cli("layout", str(header), "--target", "i386", "--no-cache", "--freestanding")
    assert free.code == 2 and "parses on no selected target" in free.err
