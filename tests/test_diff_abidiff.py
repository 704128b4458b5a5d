"""Differential test against libabigail's abidiff (Debian abigail-tools), per the recipe of
Linux's scripts/check-uapi.sh: each catalogue case compiled old and new with gcc on x86_64 and
i686 (``-c -include HEADER -std=c90 -O0 -g -fno-eliminate-unused-debug-types`` on
``int main(void) { return 0; }``), then ``abidiff --non-reachable-types OLD.o NEW.o``.

Checked: wherever abidiff reports a changed, added or removed struct/union/enum, abiscope
reports a change to the same type on that target; wherever abidiff sets its "incompatible
change" bit (8), abiscope has a breaking change on that target, except the deliberate
disagreements listed in DELIBERATE (and in docs/diff.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, skip_or_fail

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).resolve().parent / "data" / "diff"
CASES: list[dict[str, Any]] = tomllib.loads((DATA / "manifest.toml").read_text())["case"]
COMPILERS = {"x86_64": "gcc", "i386": "i686-linux-gnu-gcc"}
ABIDIFF_CHANGE, ABIDIFF_INCOMPATIBLE = 4, 8
_TYPE_LINE = re.compile(r"^  \[([CAD])\] '((?:struct|union|enum|typedef) [^']+)'", re.M)

# Where abidiff says "incompatible" and abiscope, on purpose, does not say "breaking".
DELIBERATE: dict[str, str] = {
    "01-append-extensible-argsz": "appended to a struct with its own size field (argsz)",
    "02-append-perf-attr-size": "appended to a struct with its own size field (size)",
    "05-reserved-array-shrunk": "reserved bytes given a meaning (compatible with a note)",
    "09-enum-sentinel-max-grows": "*_MAX sentinel growing (check-uapi.sh's rule)",
    "10-enum-sentinel-num-grows": "*_NUM sentinel growing (check-uapi.sh's rule)",
    "13-padding-made-explicit": "implicit padding made explicit: no byte moves",
    "14-long-to-s64": "x86_64 only: long and __s64 are the same 8-byte signed integer",
    "33-hole-given-meaning": "implicit padding given a meaning (compatible with a note)",
    "37-member-wrapped-in-named-struct": "members wrapped in a named struct, same bytes",
    "38-flexible-array-appended": "flexible array member appended: no byte changes",
    "39-enumerator-renamed": "enumerator renamed, same value",
    "41-record-tag-renamed": "struct tag renamed, same members: compatible (source break)",
}


def _compile(cc: str, header: Path, out: Path) -> None:
    main = out.parent / "main.c"
    main.write_text("int main(void) { return 0; }\n")
    subprocess.run([cc, "-c", "-include", str(header), "-std=c90", "-O0", "-g",
                    "-fno-eliminate-unused-debug-types", str(main), "-o", str(out)],
                   check=True, capture_output=True)


def _abidiff(job: tuple[str, str, Path]) -> tuple[str, str, int, dict[str, str]]:
    case, target, work = job
    d = work / case / target
    d.mkdir(parents=True)
    for side in ("old", "new"):
        _compile(COMPILERS[target], DATA / case / f"{side}.h", d / f"{side}.o")
    done = subprocess.run(["abidiff", "--non-reachable-types", str(d / "old.o"),
                           str(d / "new.o")], capture_output=True, text=True, check=False)
    assert done.returncode & ~(ABIDIFF_CHANGE | ABIDIFF_INCOMPATIBLE) == 0, done.stderr
    return case, target, done.returncode, {n: k for k, n in _TYPE_LINE.findall(done.stdout)}


@pytest.fixture(scope="module")
def abidiff_results(tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[tuple[str, str], tuple[int, dict[str, str]]]:
    missing = [t for t in ("abidiff", *COMPILERS.values()) if shutil.which(t) is None]
    if missing:
        skip_or_fail(f"not installed: {', '.join(missing)} (abigail-tools, gcc, "
                     "gcc-i686-linux-gnu)")
    work = tmp_path_factory.mktemp("abidiff")
    jobs = [(c["dir"], t, work) for c in CASES for t in COMPILERS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {(c, t): (rc, types) for c, t, rc, types in pool.map(_abidiff, jobs)}


@pytest.fixture(scope="module")
def abiscope_results() -> dict[str, dict[str, Any]]:
    from abiscope import cli

    out: dict[str, dict[str, Any]] = {}
    for case in CASES:
        d = DATA / case["dir"]
        res = _run(cli.main, ["diff", str(d / "old.h"), str(d / "new.h"), "--target",
                              "x86_64,i386", "--format", "json", "-j", "1", "-o", "-"])
        out[case["dir"]] = res
    return out


def _run(main: Callable[[list[str]], int], argv: list[str]) -> dict[str, Any]:
    import contextlib
    import io

    buf = io.StringIO()
    argv = [a for a in argv if a not in ("-o", "-")]
    with contextlib.redirect_stdout(buf):
        code = main(argv)
    assert code in (0, 1)
    doc: dict[str, Any] = json.loads(buf.getvalue())
    return doc


def _changes_on(doc: dict[str, Any], target: str) -> list[dict[str, Any]]:
    return [c for c in doc["changes"] if target in c["targets"]]


@pytest.mark.slow
def test_abiscope_sees_every_type_abidiff_reports(
        abidiff_results: dict[tuple[str, str], tuple[int, dict[str, str]]],
        abiscope_results: dict[str, dict[str, Any]]) -> None:
    misses = []
    for (case, target), (_, types) in sorted(abidiff_results.items()):
        ours = set()
        for c in _changes_on(abiscope_results[case], target):
            ours.add(c["record"])
            if c["kind"] == "record-renamed":  # abidiff: the old tag removed, the new added
                ours.update(v["old"] for v in c["values"])
            if c["kind"] == "record-kind-changed":  # abidiff: struct T removed, union T added
                ours.update(f"{v['old']} {c['record'].split(' ', 1)[1]}" for v in c["values"])
        for name in types:
            if name.startswith("typedef "):
                continue  # abiscope reports a typedef change at the members that use it
            if "{" in name:  # an anonymous struct/union: abiscope reports it at its owner
                if not ours:
                    misses.append(f"{case} {target}: abidiff reports {name}, abiscope "
                                  "reports nothing")
                continue
            if name not in ours:
                misses.append(f"{case} {target}: abidiff reports {name}, abiscope does not")
    assert not misses, "\n".join(misses)


@pytest.mark.slow
def test_breaking_at_least_as_strict_as_abidiff(
        abidiff_results: dict[tuple[str, str], tuple[int, dict[str, str]]],
        abiscope_results: dict[str, dict[str, Any]]) -> None:
    lax, stale = [], []
    for (case, target), (rc, _) in sorted(abidiff_results.items()):
        breaking = any(c["classification"] == "breaking"
                       for c in _changes_on(abiscope_results[case], target))
        if rc & ABIDIFF_INCOMPATIBLE and not breaking and case not in DELIBERATE:
            lax.append(f"{case} {target}: abidiff incompatible, abiscope not breaking")
    for case in DELIBERATE:  # each listed disagreement still happens on some target
        if not any(abidiff_results[(case, t)][0] & ABIDIFF_INCOMPATIBLE and not any(
                c["classification"] == "breaking"
                for c in _changes_on(abiscope_results[case], t)) for t in COMPILERS):
            stale.append(case)
    assert not lax, "\n".join(lax)
    assert not stale, f"listed as deliberate but no longer disagreeing: {stale}"


@pytest.mark.slow
def test_abidiff_summary_table(
        abidiff_results: dict[tuple[str, str], tuple[int, dict[str, str]]],
        abiscope_results: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str],
        run_cli: Callable[..., CliResult]) -> None:
    """The agreement table of docs/diff.md (printed when ABISCOPE_PRINT_TABLE=1)."""
    rows = []
    for case in CASES:
        cells = []
        for t in COMPILERS:
            rc, _ = abidiff_results[(case["dir"], t)]
            summary = abiscope_results[case["dir"]]["changes"]
            worst = next((w for w in ("breaking", "compatible", "informational")
                          if any(c["classification"] == w and t in c["targets"]
                                 for c in summary)), "none")
            cells.append(f"{rc} / {worst}")
        rows.append(f"| {case['dir']} | {' | '.join(cells)} |")
    if not os.environ.get("ABISCOPE_PRINT_TABLE"):
        assert len(rows) == len(CASES)
        return
    with capsys.disabled():
        print("\n| case | x86_64 abidiff exit / abiscope | i386 abidiff exit / abiscope |")
        print("|---|---|---|")
        print("\n".join(rows))
    assert len(rows) == len(CASES)
