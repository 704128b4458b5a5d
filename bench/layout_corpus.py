#!/usr/bin/env python3
"""Benchmark: abiscope against gcc+DWARF, gcc+pahole and clang's record-layout dump.

Every tool lays out the structs and unions of the same corpus (the Linux UAPI headers
``linux/**/*.h`` that compile standalone on every measured target) on the same targets, with
the same per-target header tree, in the same run, each spread over all cores:

  A    abiscope, cold: ONE ``abiscope layout`` process for all targets (it spreads targets over
       processes itself), JSON written to a file; plus ``abiscope.frontend.parse`` in-process
       (same inputs) to show what the CLI adds.
  (a)  gcc ``-g -fno-eliminate-unused-debug-types -c`` per (target, header), and every
       struct/union (name, size, members with offsets) read back from DWARF with pyelftools;
       compile+extract per item over a process pool.
  (b)  the same gcc compiles + ``pahole -a`` on each object, per item over a thread pool.
       This is the named baseline: the goal is abiscope <= 0.3x of (b).
  (c)  ``clang-14 -fsyntax-only -Xclang -fdump-record-layouts-complete`` per (target, header),
       output discarded (only if clang-14 is installed).

Every tool gets, per header, a one-line wrapper file ``#include <linux/X.h>``, and per target
the header tree of that target: x86_64 -> /usr/include/x86_64-linux-gnu + /usr/include, others
-> /usr/<gnu-triple>/include. So ``linux/X.h`` itself (not only what it includes) comes from
the target's own tree for every tool. Only stdlib, pyelftools and abiscope are used.

    /tmp/venv/bin/python bench/layout_corpus.py                 # i386,x86_64, full corpus
    /tmp/venv/bin/python bench/layout_corpus.py --targets default --repeat 3
    /tmp/venv/bin/python bench/layout_corpus.py --limit 50      # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TARGETS = ("i386", "x86_64", "x32", "arm", "aarch64")
GNU_TRIPLE = {
    "i386": "i686-linux-gnu",
    "x86_64": "x86_64-linux-gnu",
    "x32": "x86_64-linux-gnux32",
    "arm": "arm-linux-gnueabihf",
    "aarch64": "aarch64-linux-gnu",
}
CLANG_TRIPLE = {
    "i386": "i386-linux-gnu",
    "x86_64": "x86_64-linux-gnu",
    "x32": "x86_64-linux-gnux32",
    "arm": "arm-linux-gnueabihf",
    "aarch64": "aarch64-linux-gnu",
}
GCC_DEBUG_FLAGS = ("-g", "-fno-eliminate-unused-debug-types", "-c")
COMMON_FLAGS = ("-ffreestanding", "-std=gnu11", "-w")
CLANG = "clang-14"


def tree(target: str) -> list[str]:
    """The header tree one target is given, identically for every tool."""
    if target == "x86_64":
        return ["/usr/include/x86_64-linux-gnu", "/usr/include"]
    return [f"/usr/{GNU_TRIPLE[target]}/include"]


def gcc_for(target: str) -> str:
    return f"{GNU_TRIPLE[target]}-gcc"


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Item:
    """One (target, header) compile job."""

    target: str
    name: str  # linux/X.h
    wrapper: str  # file holding '#include <linux/X.h>'
    obj: str  # where gcc writes the object


@dataclass
class Corpus:
    names: list[str]
    wrappers: dict[str, str]
    rejected: dict[str, list[str]] = field(default_factory=dict)  # name -> targets failing
    missing: int = 0  # names not present in every tree


def _gcc_include(gcc: str) -> str:
    out = subprocess.run([gcc, "-print-file-name=include"], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def gcc_argv(target: str, gcc_inc: str) -> list[str]:
    """gcc with only its own builtin headers, then the target's tree (no host dirs)."""
    argv = [gcc_for(target), *COMMON_FLAGS, "-nostdinc", "-isystem", gcc_inc]
    for d in tree(target):
        argv += ["-idirafter", d]
    return argv


def clang_argv(target: str) -> list[str]:
    """clang-14 as abiscope calls libclang: builtin headers, then the target's tree."""
    argv = [CLANG, "-target", CLANG_TRIPLE[target], *COMMON_FLAGS, "-nostdlibinc",
            "-fsyntax-only", "-Xclang", "-fdump-record-layouts-complete"]
    for d in tree(target):
        argv += ["-idirafter", d]
    return argv


def uapi_names(root: str) -> set[str]:
    base = Path(root)
    return {str(p.relative_to(base)) for p in (base / "linux").rglob("*.h") if p.is_file()}


def _linux_root(target: str) -> str:
    """The directory of ``tree(target)`` that holds linux/."""
    return next(d for d in tree(target) if os.path.isdir(os.path.join(d, "linux")))


def build_corpus(targets: Sequence[str], workdir: Path, jobs: int,
                 gcc_inc: dict[str, str], limit: int | None) -> Corpus:
    """Names present in every tree that compile standalone with every target's gcc."""
    sets = [uapi_names(_linux_root(t)) for t in targets]
    union: set[str] = set().union(*sets)
    common = sorted(set.intersection(*sets))
    wrap_dir = workdir / "wrap"
    wrap_dir.mkdir()
    wrappers: dict[str, str] = {}
    for name in common:
        w = wrap_dir / (name.replace("/", "--"))
        w.write_text(f"#include <{name}>\n")
        wrappers[name] = str(w)

    def check(job: tuple[str, str]) -> tuple[str, str, bool]:
        target, name = job
        argv = [*gcc_argv(target, gcc_inc[target]), "-fsyntax-only", "-x", "c",
                wrappers[name]]
        ok = subprocess.run(argv, capture_output=True).returncode == 0
        return target, name, ok

    rejected: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for target, name, ok in pool.map(check, [(t, n) for n in common for t in targets]):
            if not ok:
                rejected.setdefault(name, []).append(target)
    names = [n for n in common if n not in rejected]
    if limit is not None:
        names = names[:limit]
    return Corpus(names, {n: wrappers[n] for n in names}, rejected, len(union) - len(common))


def items_for(corpus: Corpus, targets: Sequence[str], obj_dir: Path) -> list[Item]:
    out = []
    for t in targets:
        (obj_dir / t).mkdir(parents=True, exist_ok=True)
        for n in corpus.names:
            out.append(Item(t, n, corpus.wrappers[n],
                            str(obj_dir / t / (n.replace("/", "--") + ".o"))))
    return out


# --------------------------------------------------------------------------- (A) abiscope


@dataclass
class AbiscopeRun:
    seconds: float
    returncode: int
    records: int
    layouts: int
    failures: list[tuple[str, str, str]]  # (header, target, first diagnostic)
    stderr: str


def abiscope_cli_argv(abiscope: str, corpus: Corpus, targets: Sequence[str], out: str,
                      jobs: int, batch: bool = False) -> list[str]:
    argv = [abiscope, "layout", *(corpus.wrappers[n] for n in corpus.names),
            "--target", ",".join(targets), "--no-system-dirs"]
    for t in targets:
        for d in tree(t):
            argv += ["--sysroot", f"{t}={d}"]
    argv += ["--batch"] if batch else []
    return [*argv, "--all-files", "--format", "json", "-o", out, "-j", str(jobs), "--no-cache"]


def byte_compile() -> None:
    """Byte-compile abiscope and the clang bindings before anything is timed, as
    ``pip install`` does: an editable install under ``PYTHONDONTWRITEBYTECODE`` (set in some
    sandboxes and CI images) would otherwise compile every module again in every process
    of every run, about 0.3 s each, which no installed copy pays."""
    import compileall
    import importlib.util

    for package in ("abiscope", "clang"):
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(location, quiet=1)


def settle() -> None:
    """Before each timed run: write back what the run before wrote (1,500 objects, a 30 MB
    document), so that its writeback does not land in the next tool's time."""
    os.sync()
    time.sleep(0.5)


def run_abiscope_cli(argv: Sequence[str], out: str) -> AbiscopeRun:
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    records = layouts = 0
    failures: list[tuple[str, str, str]] = []
    if os.path.exists(out):
        doc = json.loads(Path(out).read_text())
        records = len(doc["records"])
        layouts = sum(len(r["layouts"]) for r in doc["records"])
        for f in doc["failures"]:
            diags = f["diagnostics"]
            failures.append((f["header"], f["target"], diags[0]["message"] if diags else ""))
    return AbiscopeRun(seconds, proc.returncode, records, layouts, failures, proc.stderr)


def run_abiscope_inprocess(corpus: Corpus, targets: Sequence[str],
                           jobs: int, batch: bool = False) -> tuple[float, int]:
    """``abiscope.frontend.parse`` on the same inputs: (seconds, records)."""
    from abiscope.frontend import ParseOptions, parse
    from abiscope.targets import resolve

    selected = resolve(",".join(targets)).targets
    options = ParseOptions(
        sysroots=tuple((t, d) for t in targets for d in tree(t)),
        system_dirs=False, all_files=True,
    )
    headers = [corpus.wrappers[n] for n in corpus.names]
    t0 = time.perf_counter()
    model = parse(headers, selected, options, jobs=jobs, batch=batch)
    return time.perf_counter() - t0, len(model.records)


# --------------------------------------------------------------------------- (a) gcc + DWARF


def _compile(item: Item, gcc_inc: str) -> subprocess.CompletedProcess[bytes]:
    argv = [*gcc_argv(item.target, gcc_inc), *GCC_DEBUG_FLAGS, "-x", "c", item.wrapper,
            "-o", item.obj]
    return subprocess.run(argv, capture_output=True)


DwarfRecord = tuple[str, str, int, tuple[tuple[str, int, int | None], ...]]


def _member_offset_bits(die: Any) -> int:
    attrs = die.attributes
    if "DW_AT_data_bit_offset" in attrs:
        return int(attrs["DW_AT_data_bit_offset"].value)
    loc = attrs.get("DW_AT_data_member_location")
    if loc is None:
        return 0  # union members
    value = loc.value
    if isinstance(value, int):
        return value * 8
    # DWARF 2/3 location expression: DW_OP_plus_uconst ULEB128
    result, shift = 0, 0
    for byte in value[1:]:
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return result * 8


def dwarf_records(path: str) -> list[DwarfRecord]:
    """Every complete struct/union of an object: (kind, name, size, members)."""
    from elftools.elf.elffile import ELFFile

    out: list[DwarfRecord] = []
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                if die.tag not in ("DW_TAG_structure_type", "DW_TAG_union_type"):
                    continue
                attrs = die.attributes
                if "DW_AT_declaration" in attrs or "DW_AT_byte_size" not in attrs:
                    continue
                name_attr = attrs.get("DW_AT_name")
                name = name_attr.value.decode() if name_attr is not None else ""
                members = []
                for child in die.iter_children():
                    if child.tag != "DW_TAG_member":
                        continue
                    cname = child.attributes.get("DW_AT_name")
                    bits = child.attributes.get("DW_AT_bit_size")
                    members.append((cname.value.decode() if cname is not None else "",
                                    _member_offset_bits(child),
                                    int(bits.value) if bits is not None else None))
                kind = "struct" if die.tag == "DW_TAG_structure_type" else "union"
                out.append((kind, name, int(attrs["DW_AT_byte_size"].value), tuple(members)))
    return out


def _gcc_dwarf_job(job: tuple[Item, str]) -> tuple[str, list[DwarfRecord] | None, str]:
    item, gcc_inc = job
    proc = _compile(item, gcc_inc)
    if proc.returncode != 0:
        return item.target, None, proc.stderr.decode(errors="replace")
    return item.target, dwarf_records(item.obj), ""


@dataclass
class BaselineRun:
    seconds: float
    failed: list[str]
    units: int = 0  # DWARF: named (target, record) pairs; pahole: output bytes


def run_gcc_dwarf(items: Sequence[Item], gcc_inc: dict[str, str], jobs: int) -> BaselineRun:
    jobs_in = [(i, gcc_inc[i.target]) for i in items]
    seen: set[tuple[str, str, str]] = set()
    failed: list[str] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = pool.map(_gcc_dwarf_job, jobs_in, chunksize=4)
        for (target, recs, err), item in zip(results, items, strict=True):
            if recs is None:
                failed.append(f"{item.target} {item.name}: {err.strip()[:200]}")
                continue
            seen.update((target, k, n) for k, n, _, _ in recs if n)
    return BaselineRun(time.perf_counter() - t0, failed, len(seen))


def run_gcc_pahole(items: Sequence[Item], gcc_inc: dict[str, str], jobs: int) -> BaselineRun:
    def job(item: Item) -> tuple[int, str]:
        proc = _compile(item, gcc_inc[item.target])
        if proc.returncode != 0:
            return -1, f"{item.target} {item.name}: gcc: {proc.stderr.decode()[:200]}"
        pa = subprocess.run(["pahole", "-a", item.obj], capture_output=True)
        if pa.returncode != 0 and b"no supported type information" in pa.stderr:
            return 0, ""  # a header of macros only: its object holds no types
        if pa.returncode != 0:
            return -1, f"{item.target} {item.name}: pahole: {pa.stderr.decode()[:200]}"
        return len(pa.stdout), ""

    failed: list[str] = []
    total = 0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for n, err in pool.map(job, items):
            if n < 0:
                failed.append(err)
            else:
                total += n
    return BaselineRun(time.perf_counter() - t0, failed, total)


def run_clang_dump(items: Sequence[Item], jobs: int) -> BaselineRun:
    def job(item: Item) -> str:
        argv = [*clang_argv(item.target), "-x", "c", item.wrapper]
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return "" if proc.returncode == 0 else f"{item.target} {item.name}: " \
            f"{proc.stderr.decode(errors='replace')[:200]}"

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        failed = [e for e in pool.map(job, items) if e]
    return BaselineRun(time.perf_counter() - t0, failed)


# --------------------------------------------------------------------------- driver


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True)
    except OSError:
        return "not installed"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def round_ratios(cli_runs: Sequence[AbiscopeRun], pahole_runs: Sequence[BaselineRun]
                 ) -> list[float]:
    """abiscope's CLI over gcc + pahole in each round (the two ran one after the other)."""
    return [a.seconds / b.seconds for a, b in zip(cli_runs, pahole_runs, strict=True)]


def best(runs: Sequence[Any], key: Callable[[Any], float]) -> Any:
    return min(runs, key=key)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    p.add_argument("--targets", default="i386,x86_64",
                   help=f"comma-separated, or 'default' (= {','.join(DEFAULT_TARGETS)})")
    p.add_argument("--limit", type=int, default=None, help="only the first N headers")
    p.add_argument("--repeat", type=int, default=1, help="best of N runs")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="parallelism for every tool (default: nproc)")
    p.add_argument("--abiscope", default=None, help="abiscope executable (default: the one "
                   "next to this Python, else on PATH)")
    p.add_argument("--no-inprocess", action="store_true",
                   help="skip the in-process abiscope.frontend.parse measurement")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--batch", action="store_true",
                   help="run abiscope with --batch (headers share translation units)")
    p.add_argument("--skip", default="", metavar="TOOLS",
                   help="comma-separated tools not to run: dwarf, pahole, clang")
    args = p.parse_args(argv)

    targets = list(DEFAULT_TARGETS) if args.targets == "default" else \
        [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in GNU_TRIPLE]
    if unknown:
        p.error(f"unknown targets {unknown}; known: {', '.join(GNU_TRIPLE)}")
    for t in targets:
        if shutil.which(gcc_for(t)) is None:
            p.error(f"{gcc_for(t)} is not installed")
        for d in tree(t):
            if not os.path.isdir(d):
                p.error(f"{d}: header tree of {t} missing")
    abiscope = args.abiscope or str(Path(sys.executable).with_name("abiscope"))
    if not os.path.exists(abiscope):
        abiscope = shutil.which("abiscope") or p.error("abiscope not found")
    skip = {w.strip() for w in args.skip.split(",") if w.strip()}
    have_clang = shutil.which(CLANG) is not None and "clang" not in skip
    have_pahole = shutil.which("pahole") is not None and "pahole" not in skip
    jobs: int = args.jobs

    gcc_inc = {t: _gcc_include(gcc_for(t)) for t in targets}
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="abiscope-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        corpus = build_corpus(targets, work, jobs, gcc_inc, args.limit)
        print(f"corpus: {len(corpus.names)} headers x {len(targets)} targets "
              f"({', '.join(targets)}); {len(corpus.rejected)} rejected by gcc on some target, "
              f"{corpus.missing} not in every tree; selected in "
              f"{time.perf_counter() - t0:.1f}s", flush=True)
        items = items_for(corpus, targets, work / "obj")
        out_json = str(work / "abiscope.json")
        cli = abiscope_cli_argv(abiscope, corpus, targets, out_json, jobs, args.batch)

        cli_runs: list[AbiscopeRun] = []
        inproc: list[tuple[float, int]] = []
        dwarf_runs: list[BaselineRun] = []
        pahole_runs: list[BaselineRun] = []
        clang_runs: list[BaselineRun] = []
        for r in range(args.repeat):
            settle()
            cli_runs.append(run_abiscope_cli(cli, out_json))
            print(f"[{r + 1}] abiscope CLI      {cli_runs[-1].seconds:8.2f}s", flush=True)
            if not args.no_inprocess:
                settle()
                inproc.append(run_abiscope_inprocess(corpus, targets, jobs, args.batch))
                print(f"[{r + 1}] abiscope parse()  {inproc[-1][0]:8.2f}s", flush=True)
            if "dwarf" not in skip:
                settle()
                dwarf_runs.append(run_gcc_dwarf(items, gcc_inc, jobs))
                print(f"[{r + 1}] gcc + pyelftools  {dwarf_runs[-1].seconds:8.2f}s",
                      flush=True)
            if have_pahole:
                settle()
                pahole_runs.append(run_gcc_pahole(items, gcc_inc, jobs))
                print(f"[{r + 1}] gcc + pahole -a   {pahole_runs[-1].seconds:8.2f}s",
                      flush=True)
            if have_clang:
                settle()
                clang_runs.append(run_clang_dump(items, jobs))
                print(f"[{r + 1}] clang-14 dump     {clang_runs[-1].seconds:8.2f}s",
                      flush=True)

    a_cli: AbiscopeRun = best(cli_runs, lambda x: x.seconds)
    a_in = min(inproc) if inproc else None
    d_best: BaselineRun | None = best(dwarf_runs, lambda x: x.seconds) if dwarf_runs else None
    p_best: BaselineRun | None = best(pahole_runs, lambda x: x.seconds) if pahole_runs else None
    c_best: BaselineRun | None = best(clang_runs, lambda x: x.seconds) if clang_runs else None

    print()
    print(f"machine: {os.cpu_count()} cpus, {cpu_model()}; jobs={jobs}; best of {args.repeat}")
    print(f"tools: {_version([gcc_for(targets[0]), '--version'])}; "
          f"{_version(['pahole', '--version'])}; {_version([CLANG, '--version'])}")
    print(f"corpus: {len(corpus.names)} headers, {len(targets)} targets, "
          f"{len(items)} (target, header) units; abiscope reported {a_cli.records} records "
          f"({a_cli.layouts} record x target layouts); gcc DWARF held "
          f"{d_best.units if d_best else '?'} named (target, record) pairs")
    print()
    base = p_best.seconds if p_best else None
    rows: list[tuple[str, float | None]] = [
        ("A   abiscope CLI (one process, -j)", a_cli.seconds),
        ("A'  abiscope.frontend.parse in-process", a_in[0] if a_in else None),
        ("(a) gcc -g + pyelftools DWARF", d_best.seconds if d_best else None),
        ("(b) gcc -g + pahole -a  [baseline]", base),
        ("(c) clang-14 -fdump-record-layouts-complete", c_best.seconds if c_best else None),
    ]
    print(f"{'tool':46} {'wall s':>8} {'A / tool':>9}")
    for label, secs in rows:
        if secs is None:
            print(f"{label:46} {'n/a':>8}")
            continue
        print(f"{label:46} {secs:8.2f} {a_cli.seconds / secs:9.2f}")
    if base:
        verdict = "meets" if a_cli.seconds <= 0.3 * base else "misses"
        print(f"\nabiscope / (b) = {a_cli.seconds / base:.2f} -> {verdict} the <= 0.3 target")
        if len(pahole_runs) > 1:  # (neighbours on a shared machine move both tools alike)
            ratios = round_ratios(cli_runs, pahole_runs)
            print("per round, each run against the (b) run beside it: "
                  + ", ".join(f"{r:.2f}" for r in ratios)
                  + f"; median {statistics.median(ratios):.2f}")

    print(f"\nabiscope exit code {a_cli.returncode}; {len(a_cli.failures)} (header, target) "
          f"parse failures")
    for header, target, msg in sorted(a_cli.failures):
        print(f"  {header} [{target}]: {msg}")
    if a_cli.stderr.strip() and not a_cli.failures:
        print("abiscope stderr:\n" + a_cli.stderr.strip())
    for label, run in (("gcc+DWARF", d_best), ("gcc+pahole", p_best), ("clang-14", c_best)):
        if run and run.failed:
            print(f"{label}: {len(run.failed)} failures")
            for line in run.failed[:20]:
                print("  " + line)
    if corpus.rejected:
        print("left out (gcc rejects it standalone on some target): "
              + ", ".join(n + "[" + ",".join(ts) + "]"
                          for n, ts in sorted(corpus.rejected.items())))

    if args.json:
        doc = {
            "targets": targets, "jobs": jobs, "repeat": args.repeat,
            "nproc": os.cpu_count(), "cpu": cpu_model(),
            "headers": len(corpus.names), "units": len(items),
            "rejected": corpus.rejected, "not_in_every_tree": corpus.missing,
            "abiscope_records": a_cli.records, "abiscope_layouts": a_cli.layouts,
            "dwarf_named_pairs": d_best.units if d_best else None,
            "seconds": {
                "abiscope_cli": a_cli.seconds,
                "abiscope_inprocess": a_in[0] if a_in else None,
                "gcc_dwarf": d_best.seconds if d_best else None,
                "gcc_pahole": base,
                "clang_dump": c_best.seconds if c_best else None,
            },
            "all_runs": {
                "abiscope_cli": [r.seconds for r in cli_runs],
                "abiscope_inprocess": [r[0] for r in inproc],
                "gcc_dwarf": [r.seconds for r in dwarf_runs],
                "gcc_pahole": [r.seconds for r in pahole_runs],
                "clang_dump": [r.seconds for r in clang_runs],
            },
            "round_ratios": round_ratios(cli_runs, pahole_runs) if pahole_runs else [],
            "abiscope_failures": a_cli.failures,
            "abiscope_cli": [*cli[:2], f"<{len(corpus.names)} wrapper headers>",
                             *cli[2 + len(corpus.names):]],
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
