#!/usr/bin/env python3
"""Benchmark: ``abiscope diff`` of two snapshots of the Linux UAPI corpus against ``abidiff``
on the corresponding objects, in the same run.

Corpus and header trees as in ``bench/layout_corpus.py`` (``linux/**/*.h`` that compile
standalone on every target; each target gets its own header tree). The "new" side is the same
corpus with three synthetic edits, made per target in an overlay directory searched first:

  1. in the first corpus header (alphabetically) with a ``__u32 NAME;`` member line, that
     member becomes ``__u64``;
  2. in the next such header, a member ``__u32 abiscope_bench_added;`` is appended before the
     first ``};``;
  3. in the next, that member line is renamed ``NAME_renamed``.

Measured:
  A  abiscope: ``abiscope snapshot`` of each side (one process per side, all targets), then
     ``abiscope diff OLD.json NEW.json`` (the figure compared);
  B  abidiff: the recipe of Linux's scripts/check-uapi.sh: per (target, header) and side,
     gcc ``-c -std=gnu11 -O0 -g -fno-eliminate-unused-debug-types`` on
     ``#include <linux/X.h>`` + ``int main(void) { return 0; }`` (timed separately), then
     ``abidiff --non-reachable-types OLD.o NEW.o`` per pair over a thread pool (compared).

    /tmp/venv/bin/python bench/diff_corpus.py --targets default          # whole corpus
    /tmp/venv/bin/python bench/diff_corpus.py --targets i386,x86_64 --limit 100

``--debian-pair`` instead diffs a real version pair, Debian's two kernel UAPI trees as i386
(``/usr/i686-linux-gnu/include``, linux-libc-dev-i386-cross, against the host's UAPI through
a tree of symlinks with i386's glibc; see docs/diff.md), with the abiscope on ``sys.path``
(set PYTHONPATH to compare two checkouts), and prints the changes by kind and every breaking
one; ``--sandboxed`` parses the new tree inside the include sandbox, where most of its
headers fail:

    PYTHONPATH=src python bench/diff_corpus.py --debian-pair [--sandboxed] [--changes F]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import layout_corpus as lc

_U32_LINE = re.compile(r"^(\s*)__u32(\s+)([a-z_][a-z0-9_]*);", re.M)


def make_overlays(names: Sequence[str], targets: Sequence[str], work: Path
                  ) -> tuple[dict[str, Path], list[str]]:
    """Per-target overlay dirs holding the three edited headers; the edits made."""
    base = lc._linux_root(targets[0])
    chosen = []
    for n in names:
        text = Path(base, n).read_text(errors="replace")
        if _U32_LINE.search(text) and "};" in text:
            chosen.append(n)
        if len(chosen) == 3:
            break
    overlays = {}
    edits = []
    for t in targets:
        ov = work / "overlay" / t
        for i, n in enumerate(chosen):
            text = Path(lc._linux_root(t), n).read_text(errors="replace")
            m = _U32_LINE.search(text)
            if m is None:
                continue
            if i == 0:
                text = text[:m.start()] + f"{m.group(1)}__u64{m.group(2)}{m.group(3)};" \
                    + text[m.end():]
                what = f"{n}: __u32 {m.group(3)} widened to __u64"
            elif i == 1:
                end = text.index("};", m.end())
                text = text[:end] + "\t__u32 abiscope_bench_added;\n" + text[end:]
                what = f"{n}: member appended after {m.group(3)}'s struct"
            else:
                text = text[:m.start()] + f"{m.group(1)}__u32{m.group(2)}" \
                    f"{m.group(3)}_renamed;" + text[m.end():]
                what = f"{n}: {m.group(3)} renamed"
            dest = ov / n
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
            if t == targets[0]:
                edits.append(what)
        overlays[t] = ov
    return overlays, edits


def snapshot_argv(abiscope: str, corpus: lc.Corpus, targets: Sequence[str], out: str,
                  jobs: int, overlays: dict[str, Path] | None) -> list[str]:
    argv = [abiscope, "snapshot", *(corpus.wrappers[n] for n in corpus.names),
            "--target", ",".join(targets), "--no-system-dirs", "--all-files", "-o", out,
            "-j", str(jobs)]
    for t in targets:
        dirs = ([str(overlays[t])] if overlays else []) + lc.tree(t)
        for d in dirs:
            argv += ["--sysroot", f"{t}={d}"]
    return argv


def timed(argv: Sequence[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - t0, proc


I386_ROOT = Path("/usr/i686-linux-gnu/include")


def debian_pair(work: Path, sandboxed: bool, changes: str | None) -> int:
    """Snapshot ``linux/*.h`` of both UAPI trees as i386, diff, print the findings."""
    new_root = work / "new-tree"
    new_root.mkdir()
    for entry in sorted(I386_ROOT.iterdir()):
        if entry.name not in ("linux", "asm", "asm-generic"):
            (new_root / entry.name).symlink_to(entry)
    (new_root / "linux").symlink_to("/usr/include/linux")
    (new_root / "asm-generic").symlink_to("/usr/include/asm-generic")
    (new_root / "asm").symlink_to("/usr/include/x86_64-linux-gnu/asm")
    abiscope = [sys.executable, "-m", "abiscope"]
    sides = (("old", I386_ROOT, []),
             ("new", new_root, ["--sysroot", f"i386={new_root}"]
              + ([] if sandboxed else ["--allow-include-outside"])))
    for side, root, extra in sides:
        headers = sorted(str(h.relative_to(root)) for h in (root / "linux").glob("*.h"))
        seconds = time.perf_counter()
        proc = subprocess.run([*abiscope, "snapshot", *headers, "--target", "i386", "-j", "1",
                               "--no-cache", "-o", str(work / f"{side}.json"), *extra],
                              cwd=root, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        print(f"snapshot {side}: {len(headers)} headers, "
              f"{proc.stderr.count('does not parse')} do not parse, "
              f"{time.perf_counter() - seconds:.1f}s", flush=True)
    proc = subprocess.run([*abiscope, "diff", "old.json", "new.json", "--format", "json",
                           "--fail-on", "never"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if changes:
        Path(changes).write_text(proc.stdout)
    doc = json.loads(proc.stdout)
    print(f"{len(doc['changes'])} changes: {doc['summary']}; "
          f"{len(doc.get('not_compared', []))} headers not compared")
    kinds: dict[tuple[str, str], int] = {}
    for c in doc["changes"]:
        kinds[c["kind"], c["classification"]] = kinds.get((c["kind"], c["classification"]),
                                                          0) + 1
    for (kind, cls), n in sorted(kinds.items()):
        print(f"  {kind:22} {cls:13} {n:5}")
    for c in doc["changes"]:
        if c["classification"] == "breaking":
            v = c["values"][0]
            print(f"  breaking {c['kind']} {c['record']} {c['member']}: "
                  f"{v['old'] or '-'} -> {v['new'] or '-'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="abiscope diff vs abidiff on the UAPI corpus")
    p.add_argument("--debian-pair", action="store_true",
                   help="diff Debian's two kernel UAPI trees as i386 instead (see above)")
    p.add_argument("--sandboxed", action="store_true",
                   help="--debian-pair: the new tree parsed inside the include sandbox")
    p.add_argument("--targets", default="default")
    p.add_argument("--limit", type=int, default=None, help="only the first N headers")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--changes", metavar="FILE", help="also keep abiscope's diff (JSON)")
    args = p.parse_args(argv)
    if args.debian_pair:
        with tempfile.TemporaryDirectory(prefix="abiscope-diffpair-") as tmp:
            return debian_pair(Path(tmp), args.sandboxed, args.changes)
    targets = list(lc.DEFAULT_TARGETS) if args.targets == "default" else \
        [t.strip() for t in args.targets.split(",") if t.strip()]
    for tool in ("abidiff", *(lc.gcc_for(t) for t in targets)):
        if shutil.which(tool) is None:
            p.error(f"{tool} is not installed")
    abiscope = str(Path(sys.executable).with_name("abiscope"))
    if not os.path.exists(abiscope):
        abiscope = shutil.which("abiscope") or p.error("abiscope not found")
    gcc_inc = {t: lc._gcc_include(lc.gcc_for(t)) for t in targets}
    with tempfile.TemporaryDirectory(prefix="abiscope-diffbench-") as tmp:
        work = Path(tmp)
        corpus = lc.build_corpus(targets, work, args.jobs, gcc_inc, args.limit)
        overlays, edits = make_overlays(corpus.names, targets, work)
        print(f"corpus: {len(corpus.names)} headers x {len(targets)} targets "
              f"({', '.join(targets)}); edits: " + "; ".join(edits), flush=True)

        old_json, new_json = str(work / "old.json"), str(work / "new.json")
        s_old, proc = timed(snapshot_argv(abiscope, corpus, targets, old_json, args.jobs, None))
        assert proc.returncode == 0, proc.stderr[-2000:]
        s_new, proc = timed(snapshot_argv(abiscope, corpus, targets, new_json, args.jobs,
                                          overlays))
        assert proc.returncode == 0, proc.stderr[-2000:]
        a_diff, proc = timed([abiscope, "diff", old_json, new_json, "--format", "json",
                              "--all-files", "--fail-on", "never"])
        assert proc.returncode == 0, proc.stderr[-2000:]
        doc = json.loads(proc.stdout)
        if args.changes:
            Path(args.changes).write_text(proc.stdout)
        changed = sorted({c["record"] for c in doc["changes"]})
        print(f"abiscope snapshot old {s_old:8.2f}s, new {s_new:8.2f}s", flush=True)
        print(f"abiscope diff         {a_diff:8.2f}s: {len(doc['changes'])} changes "
              f"({doc['summary']}) in {len(changed)} records/enums", flush=True)

        # B: gcc objects (check-uapi.sh recipe) and abidiff per pair
        jobs = []
        for t in targets:
            for n in corpus.names:
                d = work / "obj" / t / n.replace("/", "--")
                d.mkdir(parents=True)
                (d / "main.c").write_text(f"#include <{n}>\nint main(void) {{ return 0; }}\n")
                jobs.append((t, n, d))

        def compile_pair(job: tuple[str, str, Path]) -> None:
            t, _, d = job
            for side, extra in (("old", []), ("new", ["-idirafter", str(overlays[t])])):
                base = lc.gcc_argv(t, gcc_inc[t])
                # the overlay must come before the tree: rebuild the -idirafter order
                argv = [*base[:base.index("-idirafter")], *extra,
                        *base[base.index("-idirafter"):], "-O0", "-g",
                        "-fno-eliminate-unused-debug-types", "-c", str(d / "main.c"),
                        "-o", str(d / f"{side}.o")]
                subprocess.run(argv, check=True, capture_output=True)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(compile_pair, jobs))
        b_compile = time.perf_counter() - t0

        def abidiff(job: tuple[str, str, Path]) -> int:
            d = job[2]
            return subprocess.run(["abidiff", "--non-reachable-types", str(d / "old.o"),
                                   str(d / "new.o")], capture_output=True).returncode

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            codes = list(pool.map(abidiff, jobs))
        b_diff = time.perf_counter() - t0
        flagged = sum(1 for c in codes if c)
        print(f"gcc objects (2 sides) {b_compile:8.2f}s", flush=True)
        print(f"abidiff               {b_diff:8.2f}s: {flagged} of {len(codes)} pairs "
              f"changed ({sum(1 for c in codes if c & 8)} incompatible)", flush=True)
        ratio = a_diff / b_diff
        e2e = (s_old + s_new + a_diff) / (b_compile + b_diff)
        print(f"ratio abiscope diff / abidiff: {ratio:.3f}; end to end (snapshots + diff) / "
              f"(objects + abidiff): {e2e:.3f}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({
                "headers": len(corpus.names), "targets": targets, "edits": edits,
                "abiscope": {"snapshot_old": s_old, "snapshot_new": s_new, "diff": a_diff,
                             "changes": len(doc["changes"]), "summary": doc["summary"]},
                "abidiff": {"objects": b_compile, "diff": b_diff, "pairs": len(codes),
                            "changed_pairs": flagged},
                "ratio_diff": ratio, "ratio_end_to_end": e2e}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
