#!/usr/bin/env python3
"""Benchmark abiscope's own phases: cold, warm, one header touched, one header x many targets,
``check`` against ``layout``, peak RSS, and how the cost grows with headers and targets.

Each measurement is one ``abiscope layout`` process (``--format json -o``) timed from outside
with its peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``), over Linux UAPI
(``/usr/include/linux/**/*.h``). The cache lives in a fresh temporary directory. Compare the
cold figure with ``bench/layout_corpus.py``'s baselines (gcc+DWARF, gcc+pahole -a,
clang -fdump-record-layouts-complete) measured on the same machine.

Python may write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped, and one ``--version`` run
writes it first): otherwise every process recompiles abiscope, about 0.15 s that no
installed copy pays. Warm and touched runs are repeated (``--repeat``, median reported, each
touched run appends another comment to the header) and every output is compared with the
cold run's bytes.

    /tmp/venv/bin/python bench/speed.py                      # i386,x86_64 whole corpus
    /tmp/venv/bin/python bench/speed.py --targets default --scaling
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTERFACE = "/usr/include/linux/kvm.h"


_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], capture_output=True).returncode\n"
    "print(time.perf_counter() - t0, code,"
    " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(wall seconds, exit code, peak RSS in MiB of the largest process of this run: the
    abiscope process or one of its workers), measured by a fresh intermediate process."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *argv], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def median(figures: list[tuple[float, int, int]]) -> tuple[float, int, int]:
    """The run of median wall time."""
    return sorted(figures)[len(figures) // 2]


def abiscope(headers: list[str], targets: str, out: str, cache: str | None,
             extra: tuple[str, ...] = ()) -> list[str]:
    argv = [sys.executable, "-m", "abiscope", "layout", *headers, "-t", targets,
            "-f", "json", "-o", out, *extra]
    return argv + (["--cache-dir", cache] if cache else ["--no-cache"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="i386,x86_64")
    ap.add_argument("--limit", type=int, default=None, help="first N headers only")
    ap.add_argument("--scaling", action="store_true", help="also the headers x targets table")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--repeat", type=int, default=3, help="warm and touched runs (median)")
    args = ap.parse_args()
    headers = sorted(glob.glob("/usr/include/linux/**/*.h", recursive=True))[:args.limit]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "abiscope", "--version"], env=env,
                   capture_output=True, check=True)  # writes the bytecode
    work = Path(tempfile.mkdtemp(prefix="abiscope-bench-"))
    figures: dict[str, object] = {"headers": len(headers), "targets": args.targets,
                                  "nproc": os.cpu_count()}
    try:
        copy = work / "tree"
        shutil.copytree("/usr/include/linux", copy / "linux")
        hs = [str(copy / Path(h).relative_to("/usr/include")) for h in headers]
        inc = ("-I", str(copy))
        cache = str(work / "cache")
        out = str(work / "out.json")
        cold = run(abiscope(hs, args.targets, out, cache, inc), env)
        expected = Path(out).read_bytes()
        records = len(json.loads(expected)["records"])

        def again() -> tuple[float, int, int]:
            figure = run(abiscope(hs, args.targets, out, cache, inc), env)
            if Path(out).read_bytes() != expected:
                raise SystemExit("a cached run wrote other bytes than the cold run")
            return figure

        warm = [again() for _ in range(args.repeat)]
        touched_file = copy / "linux" / "vhost.h"
        touched = []
        for i in range(args.repeat):
            touched_file.write_text(touched_file.read_text() + f"\n/* touched {i} */\n")
            touched.append(again())
        # and the worst case: a header of the largest unit the cache keeps (the unit holding
        # a header is content-defined, so vhost.h's is not the typical one)
        sys.path.insert(0, str(ROOT / "src"))
        from abiscope.frontend import batches

        largest = max(batches(hs), key=len)
        worst_file = Path(largest[len(largest) // 2])
        worst = []
        for i in range(args.repeat):
            worst_file.write_text(worst_file.read_text() + f"\n/* touched {i} */\n")
            worst.append(again())
        figures.update(records=records, cold=cold, warm=median(warm),
                       touched=median(touched), warm_runs=warm, touched_runs=touched,
                       touched_largest_unit=median(worst), touched_largest_runs=worst,
                       largest_unit=len(largest))
        # `check` (CI's command): the parse with ioctl macros, ABI013's hypothetical
        # targets and the rules, cold, as a multiple of the cold `layout` without a cache
        plain = run(abiscope(hs, args.targets, out, None, inc), env)
        check = run([sys.executable, "-m", "abiscope", "check", *hs, "-t", args.targets,
                     *inc, "-f", "json", "-o", out, "--no-cache"], env)
        figures.update(layout_cold_no_cache=plain, check_cold_no_cache=check,
                       check_over_layout=round(check[0] / plain[0], 2))
        one_targets = "all,future"  # 19 real targets + lp128, cheri128
        one_cache = str(work / "cache1")
        figures["one_header_cold"] = run(abiscope([INTERFACE], one_targets, out, one_cache),
                                         env)
        figures["one_header_warm"] = run(abiscope([INTERFACE], one_targets, out, one_cache),
                                         env)
        if args.scaling:
            table = []
            for n in (50, 200, len(hs)):
                for targets in ("x86_64", "i386,x86_64", "default"):
                    s, _, rss = run(abiscope(hs[:n], targets, out, None, inc), env)
                    table.append({"headers": n, "targets": targets, "seconds": s, "rss": rss})
            figures["scaling"] = table
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
