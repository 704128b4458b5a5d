#!/usr/bin/env python3
"""The parse phase alone (``abiscope.frontend.parse`` in-process, no CLI, no output): cold
without a cache, cold filling a fresh cache, warm, and two headers touched.

Over a copy of ``/usr/include/linux`` (so that touching a header is harmless), given with
``-I COPY``; prints one JSON object. ``--src DIR`` measures another checkout's ``src`` (only
the cold figure when it has no cache), to compare before and after a change.

    /tmp/venv/bin/python bench/parse_phases.py --targets i386,x86_64
    /tmp/venv/bin/python bench/parse_phases.py --src /path/to/old/checkout/src
"""

from __future__ import annotations

import argparse
import glob
import importlib
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="i386,x86_64")
    ap.add_argument("--src", default=str(ROOT / "src"))
    args = ap.parse_args()
    sys.path.insert(0, args.src)
    frontend: Any = importlib.import_module("abiscope.frontend")
    targets = importlib.import_module("abiscope.targets").resolve(args.targets).targets
    work = tempfile.mkdtemp(prefix="abiscope-phases-")
    try:
        shutil.copytree("/usr/include/linux", work + "/linux")
        headers = sorted(glob.glob(work + "/linux/**/*.h", recursive=True))
        opts = frontend.ParseOptions(include_dirs=(work,))
        out: dict[str, Any] = {"headers": len(headers), "targets": args.targets}
        t0 = time.perf_counter()
        model = frontend.parse(headers, targets, opts)
        out["cold_no_cache"] = time.perf_counter() - t0
        try:
            cache_mod = importlib.import_module("abiscope.cache")
        except ImportError:
            cache_mod = None
        if cache_mod is not None:
            cdir = work + "/cache"
            for label in ("cold_filling_cache", "warm"):
                t0 = time.perf_counter()
                again = frontend.parse(headers, targets, opts,
                                       cache=cache_mod.UnitCache(cdir))
                out[label] = time.perf_counter() - t0
                assert again == model
            for name in ("vhost.h", "kvm.h"):
                with open(f"{work}/linux/{name}", "a") as fh:
                    fh.write("\n/* touched */\n")
            cache = cache_mod.UnitCache(cdir)
            t0 = time.perf_counter()
            frontend.parse(headers, targets, opts, cache=cache)
            out["two_headers_touched"] = time.perf_counter() - t0
            out["touched_units_hit_miss"] = [cache.hits, cache.misses]
        out["records"] = len(model.records)
        out["failures"] = len(model.failures)
        out["peak_rss_mib_main"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        out["peak_rss_mib_worker"] = \
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
