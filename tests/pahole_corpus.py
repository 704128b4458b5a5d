"""pahole parity over whole header corpora: per-header wrappers, gcc + pahole vs abiscope.

For each header a one-line wrapper (``#include <HEADER>``; Xen's public headers expect the
includer to provide ``<stdint.h>``, so theirs include it first) is compiled by the target's
gcc with ``-g -fno-eliminate-unused-debug-types -c`` and printed by ``pahole -F dwarf``;
``abiscope layout WRAPPER --all-files --format pahole --target T`` prints the same wrapper.
Both outputs are split into records (``struct NAME {`` .. ``};``, ``typedef struct {`` ..
``} NAME;``) and compared record for record by name, line for line, and for the order of the
records both print.

Order: one wrapper per header, so pahole's order is the order the translation unit defines
the records (GCC emits DWARF type DIEs in definition order, included headers first).

Usage: python tests/pahole_corpus.py [--target x86_64] [--corpus linux|xen] [--limit N]
prints the mismatch count per category and a sample of each.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

XEN_DIR = Path("/usr/include/xen")
LINUX_DIR = Path("/usr/include/linux")
GCC = {"x86_64": "gcc", "i386": "i686-linux-gnu-gcc"}
_HEAD = re.compile(r"^(?:(struct|union) (\S+)|typedef (?:struct|union)) \{$")
_TYPEDEF_END = re.compile(r"^\}(?: __attribute__\(\(.*\)\))? (\w+);$")


def corpus(name: str) -> list[str]:
    """Headers as a wrapper includes them: ``linux/x.h``, ``xen/x.h``."""
    if name == "linux":
        root, base = LINUX_DIR, "linux"
    else:
        root, base = XEN_DIR, "xen"
    return sorted(f"{base}/{p.relative_to(root)}" for p in root.rglob("*.h"))


def wrapper_text(header: str) -> str:
    pre = "#include <stdint.h>\n" if header.startswith("xen/") else ""
    return f"{pre}#include <{header}>\n"


def blocks(text: str) -> dict[str, list[str]]:
    """pahole-format text split into records, by name, in the order printed (first wins)."""
    out: dict[str, list[str]] = {}
    name: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        head = _HEAD.match(line)
        if name is None and head:
            name, lines = (f"{head[1]} {head[2]}" if head[1] else "typedef"), [line]
        elif name is not None:
            lines.append(line)
            if line.startswith("}"):
                end = _TYPEDEF_END.match(line)
                if name == "typedef" and end:
                    name = end[1]
                out.setdefault(name, lines)
                name = None
    return out


@dataclass
class Result:
    headers: int = 0
    skipped: list[str] = field(default_factory=list)  # gcc cannot compile the wrapper alone
    records: int = 0
    identical: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=dict)  # category -> records/headers

    def add(self, category: str, sample: str, name: str = "") -> None:
        self.categories[category] += 1
        self.names.setdefault(category, set()).add(name or sample)
        self.samples.setdefault(category, [])
        if len(self.samples[category]) < 3:
            self.samples[category].append(sample)


def classify(ours: list[str], theirs: list[str]) -> str:
    """The category of a record's first differing line."""
    for a, b in zip(ours, theirs, strict=False):
        if a == b:
            continue
        both = a + b
        for word, cat in (("__packed__", "packed"), ("(unnamed at", "anonymous array"),
                          ("__aligned__", "aligned"), ("forced alignments", "aligned"),
                          ("Force padding", "force padding")):
            if word in both:
                return cat
        if a.split("/*")[-1] == b.split("/*")[-1] and "/*" in a:
            return "type spelling"
        return "numbers"
    return "length"


def pahole_text(gcc: str, wrapper: Path, obj: Path) -> str | None:
    cc = subprocess.run([gcc, "-g", "-O0", "-c", "-fno-eliminate-unused-debug-types",
                         "-D__XEN_TOOLS__", "-x", "c", str(wrapper), "-o", str(obj)],
                        capture_output=True, text=True)
    if cc.returncode:
        return None
    # (exit 1 and no output: a header that defines no record)
    ph = subprocess.run(["pahole", "-F", "dwarf", str(obj)], capture_output=True, text=True)
    return ph.stdout


def abiscope_text(wrapper: Path, target: str) -> tuple[int, str, str]:
    from abiscope import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(["layout", str(wrapper), "--all-files", "--format", "pahole",
                             "--target", target, "-D", "__XEN_TOOLS__", "--no-cache"])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def compare(target: str, headers: Sequence[str], tmp: Path, result: Result) -> None:
    for i, header in enumerate(headers):
        wrapper = tmp / f"w{i}.c"
        wrapper.write_text(wrapper_text(header))
        theirs_text = pahole_text(GCC[target], wrapper, tmp / f"w{i}.o")
        if theirs_text is None:
            result.skipped.append(header)
            continue
        result.headers += 1
        code, ours_text, err = abiscope_text(wrapper, target)
        if code:
            result.add("abiscope failed", f"{header}: {err[-300:]}", header)
            continue
        ours, theirs = blocks(ours_text), blocks(theirs_text)
        for name in theirs.keys() - ours.keys():
            result.add("missing", f"{header}: {name}", name)
        for name in ours.keys() - theirs.keys():
            result.add("extra", f"{header}: {name}", name)
        common = [n for n in theirs if n in ours]
        if [n for n in ours if n in theirs] != common:
            result.add("order", f"{header}", header)
        for name in common:
            result.records += 1
            if ours[name] == theirs[name]:
                result.identical += 1
                continue
            cat = classify(ours[name], theirs[name])
            result.add(cat, "\n".join([f"{header} {name}", "pahole:", *theirs[name],
                                       "abiscope:", *ours[name]]), name)


def run(target: str, headers: Sequence[str]) -> Result:
    result = Result()
    with tempfile.TemporaryDirectory() as tmp:
        compare(target, headers, Path(tmp), result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", default="x86_64", choices=tuple(GCC))
    ap.add_argument("--corpus", default="linux", choices=("linux", "xen"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=())
    ap.add_argument("--samples", action="store_true")
    args = ap.parse_args(argv)
    headers = list(args.only) or corpus(args.corpus)
    if args.limit:
        headers = headers[:args.limit]
    os.environ.setdefault("ABISCOPE_CACHE_DIR", tempfile.mkdtemp())
    res = run(args.target, headers)
    print(f"{args.target} {args.corpus}: {res.headers} headers ({len(res.skipped)} gcc cannot "
          f"compile alone), {res.records} records compared, {res.identical} identical")
    for cat, n in res.categories.most_common():
        print(f"  {cat}: {n}")
    if args.samples:
        for cat, samples in res.samples.items():
            print(f"=== {cat}")
            print("\n---\n".join(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
