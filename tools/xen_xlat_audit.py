#!/usr/bin/env python3
"""Verify Xen's hand-kept compat list (xen/include/xlat.lst) against its public headers.

    python tools/xen_xlat_audit.py XEN_SOURCE_TREE [COMMIT] > docs/audits/xen-xlat.md

XEN_SOURCE_TREE is a Xen checkout (or export): the list is xen/include/xlat.lst, the headers
xen/include/public. Every header the list names is read (`@arch@` as x86_64 for the native
side, as abiscope documents), with xen.h first, `-D__XEN_TOOLS__` and <stdint.h>, as Xen's own
tools build them; native x86_64, compat i386 (Xen's x86_32 compat guests).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from abiscope import __version__


def _shape(side: dict[str, int] | None) -> str:
    if side is None:
        return "absent"
    return f"{side['offset_bits'] // 8} +{side['size_bits'] // 8}"


def main(tree: str, commit: str = "") -> int:
    root = Path(tree) / "xen" / "include"
    public = root / "public"
    listing = root / "xlat.lst"
    names = sorted({line.split()[2].replace("@arch@", "x86_64")
                    for line in listing.read_text().splitlines()
                    if line[:1] in "?!" and len(line.split()) >= 3})
    headers = [str(public / h) for h in names]
    cmd = ["abiscope", "compat", "-I", str(public), "-D", "__XEN_TOOLS__", "--include",
           "stdint.h", "--include", "xen.h", "--all-files", "--native", "x86_64", "--compat",
           "i386", "--verify-list", str(listing), "-f", "json"]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        start = time.perf_counter()
        proc = subprocess.run([*cmd, "-o", out.name, *headers], capture_output=True,
                              text=True)
        seconds = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            sys.stderr.write(proc.stderr)
            return proc.returncode
        with open(out.name) as fh:
            doc = json.load(fh)
    entries, missing, summary = doc["entries"], doc["missing"], doc["summary"]
    p = print
    p("# Xen's xlat.lst, verified by abiscope\n")
    p(f"Xen source: commit `{commit or 'unknown'}` (xen/include/xlat.lst, "
      f"{len(entries)} entries; the {len(headers)} public headers it names). abiscope "
      f"{__version__}, {seconds:.0f} s. Regenerate with `python tools/xen_xlat_audit.py "
      f"XEN_TREE {commit}`; the command it runs:\n")
    shown = " ".join(shlex.quote(c) for c in cmd).replace(str(tree).rstrip("/"), "$XEN")
    p(f"```sh\n{shown} $XEN/xen/include/public/{{" + ",".join(names) + "}\n```\n")
    p("| result | entries | meaning |\n|---|---:|---|")
    meaning = {
        "agrees": "the list and the layouts agree",
        "differs": "listed `?` (identical), but the i386 and x86_64 layouts differ",
        "bytes_identical": "listed `!` (translate), but the bytes are identical",
        "not_found": "no record of that name in the headers",
        "missing": "crosses the boundary (reached from a listed record) but is not listed"}
    for key in ("agrees", "differs", "bytes_identical", "not_found", "missing"):
        p(f"| `{key}` | {summary.get(key, 0)} | {meaning[key]} |")
    p(f"\nExit status {proc.returncode} (1: an entry listed identical differs).\n")
    for status, title in (("differs", "Listed identical, layouts differ"),
                          ("bytes_identical", "Listed for translation, bytes identical"),
                          ("not_found", "Listed, not found")):
        chosen = [e for e in entries if e["status"] == status]
        if not chosen:
            continue
        p(f"## {title} ({len(chosen)})\n")
        for e in chosen:
            p(f"### `{e['name']}` (xlat.lst line {e['line']}, `{e.get('record') or ''}`)\n")
            if e["reasons"]:
                p("| member | x86_64 offset +size | i386 offset +size | cause |")
                p("|---|---|---|---|")
                for r in e["reasons"]:
                    p(f"| `{r['member'] or '(record)'}` | {_shape(r['native'])} | "
                      f"{_shape(r['compat'])} | {r['cause']} |")
                p("")
            for note in e["notes"]:
                p(f"- {note}")
            p("")
    if missing:
        p(f"## Crossing the boundary, not listed ({len(missing)})\n")
        p("| record | verdict | reached from |\n|---|---|---|")
        for m in missing:
            p(f"| `{m['record']}` | {m['verdict']} | "
              + ", ".join(f"`{r}`" for r in m["reached_from"]) + " |")
        p("")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
