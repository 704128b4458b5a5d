"""Real headers, every record, every target with a Debian gcc: abiscope must equal GCC.

Linux UAPI: every header of the target's own header tree (the cross tree
``/usr/<triple>/include`` — which can be an older kernel than the host's — or the host's
``/usr/include``) under ``linux/`` and the other exported directories (``drm/``,
``rdma/``, ``sound/``, ``mtd/``, ``misc/``, ``scsi/``, ``video/``, ``xen/``,
``asm-generic/``), given identically to gcc and to abiscope. Xen: the public headers of
``libxen-dev`` with the defines the tools use. Each (header, target) is compiled once; the
records a header declares are compared with the DWARF of that header's own object.
"""

from __future__ import annotations

import glob
import os
from collections import defaultdict

import pytest

from abiscope import frontend
from abiscope.frontend import relpath
from abiscope.model import Model, Record
from abiscope.targets import TARGETS
from conftest import skip_or_fail
from differential import Tally, compare_model, gcc_layouts, uapi_slice
from oracle.gcc_dwarf import (
    CHECKERS,
    GCC_FOR_TARGET,
    UAPI_DIRS,
    find_gcc,
    system_include_dirs,
    uapi_headers,
)

# every target whose checker has a Linux tree (bare-metal ones: generated records and seed)
CLANG_TARGETS = [t for t in GCC_FOR_TARGET if TARGETS[t].available and CHECKERS[t].uapi]
XEN_DIR = "/usr/include/xen"
XEN_DEFINES = ("__XEN_TOOLS__",)


def by_file(model: Model) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for rec in model.records:
        out[rec.location.file].append(rec)
    return out


def run_corpus(target: str, paths: dict[str, str], options: frontend.ParseOptions,
               gcc_dirs: tuple[str, ...] = (), gcc_flags: tuple[str, ...] = ()) -> tuple[
                   Tally, int, list[str]]:
    """Parse and compile every header; compare each header's own records with its object."""
    model = frontend.parse(list(paths.values()), [TARGETS[target]], options, jobs=1)
    declared = by_file(model)
    sources = {sid: f'#include "{path}"\n' for sid, path in paths.items()}
    probes = {sid: [r.name for r in declared.get(relpath(path), ())]
              for sid, path in paths.items()}
    gcc = gcc_layouts(sources, target, probes, include_dirs=gcc_dirs,
                      defines=options.defines, extra_flags=gcc_flags)
    failed = {f.header for f in model.failures}
    tally, compared, rejected = Tally(), 0, []
    for sid, path in paths.items():
        if not gcc[sid].ok:
            continue
        if relpath(path) in failed:
            rejected.append(sid)
            continue
        compared += 1
        names = [r.name for r in declared.get(relpath(path), ())]
        tally.add(compare_model(model, target, gcc[sid].records, sid, names))
    return tally, compared, rejected


@pytest.mark.slow
@pytest.mark.parametrize("target", CLANG_TARGETS)
def test_linux_uapi_matches_gcc(target: str) -> None:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    dirs = tuple(system_include_dirs(target))
    root = dirs[-1] if dirs else ""
    if not os.path.isdir(os.path.join(root, "linux")):
        skip_or_fail(f"no Linux UAPI headers for {target} (linux-libc-dev / libc6-dev-*-cross)")
    paths = {name: os.path.join(root, name)
             for name in uapi_slice(target, uapi_headers(root, UAPI_DIRS))}
    options = frontend.ParseOptions(sysroots=tuple((target, d) for d in dirs))
    tally, compared, rejected = run_corpus(target, paths, options, gcc_dirs=dirs)
    print(f"{target}: {compared} UAPI headers, {tally.records} records, "
          f"{tally.members} members compared with gcc")
    assert not rejected, f"gcc compiles, abiscope rejects: {rejected[:10]}"
    assert not tally.mismatches, "\n".join(tally.mismatches[:40])
    assert compared >= (200 if len(paths) > 400 else 80), \
        f"only {compared} UAPI headers compile for {target}"


@pytest.mark.slow
@pytest.mark.parametrize("target", CLANG_TARGETS)
def test_xen_public_headers_match_gcc(target: str) -> None:
    if find_gcc(target) is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    if not os.path.isfile(os.path.join(XEN_DIR, "xen.h")):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    headers = sorted(glob.glob(f"{XEN_DIR}/**/*.h", recursive=True))
    paths = {relpath(h): h for h in headers}
    options = frontend.ParseOptions(defines=XEN_DEFINES, force_includes=("stdint.h",),
                                    system_dirs=False)
    tally, compared, rejected = run_corpus(target, paths, options,
                                           gcc_flags=("-include", "stdint.h"))
    print(f"{target}: {compared} Xen headers, {tally.records} records, "
          f"{tally.members} members compared with gcc")
    assert not rejected, f"gcc compiles, abiscope rejects: {rejected[:10]}"
    assert not tally.mismatches, "\n".join(tally.mismatches[:40])
    if target in ("i386", "x86_64", "arm", "aarch64"):
        assert compared >= 40, f"only {compared} Xen headers compile for {target}"
