#!/usr/bin/env python3
"""Differential layout fuzzing: abiscope's layouts against GCC's DWARF on every Linux target.

hypothesis draws C programs full of records (``tests/cgen/cstructs.py``: nesting, unions,
arrays of records, bit-fields of every width incl. zero-width, ``packed``, ``aligned(N)``,
``_Alignas``, anonymous members, enums, flexible arrays, typedef chains, ``#pragma pack``,
and here GNU vector typedefs and ``_Atomic`` members and typedefs). A batch of programs is
merged into ONE translation unit (each program's identifiers get a ``pN_`` prefix), so each
target costs one gcc run, one clang parse and one engine run per batch.
For every record of the batch and every target, two sides are compared with GCC (the truth,
read back from DWARF with ``tests/oracle/gcc_dwarf.py``):

``clang``   abiscope's layout as ``abiscope layout`` reports it (``frontend.parse``: clang's
            layout, or the engine's on ``m68k`` and where clang differs from GCC);
``engine``  abiscope's own layout engine (``frontend.parse_decls`` + ``LayoutEngine`` with the
            target's data model), which lays out m68k, lp128, cheri128 and what-if fixes.

Size, alignment (``_Alignof`` probes), kind and every member's offset, size and bit-field flag
must be equal. A mismatch is minimised (top-level declarations, then lines, deleted while the
same side still differs from gcc on the same target and both compilers still accept the
program) and written to ``tests/data/fuzz-regressions/`` with the target and the difference;
``tests/test_fuzz_layout.py`` replays every file there against gcc.

Nothing is excluded. (Programs with ``aligned(N)`` on a bit-field under ``#pragma pack``,
where clang ignores the attribute for the offset and GCC does not, were until abiscope laid
them out with its engine: ``tests/test_gcc_over_clang.py``.)

    /tmp/venv/bin/python bench/fuzz_layout.py --seconds 600            # every target with a gcc
    /tmp/venv/bin/python bench/fuzz_layout.py --targets x86_64,arm --examples 200 --seed 1
    /tmp/venv/bin/python bench/fuzz_layout.py --targets i386+align-double,arm+short-enums

A target may carry build variants (docs/variants.md): gcc is given the variant's defines and
flags, abiscope parses the variant target.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "src", ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from abiscope import frontend  # noqa: E402
from abiscope.errors import AbiscopeError, UsageError  # noqa: E402
from abiscope.layout_engine import LayoutEngine  # noqa: E402
from abiscope.model import RecordLayout  # noqa: E402
from abiscope.targets import TARGETS  # noqa: E402,F401  (the tests read fl.TARGETS)
from abiscope.variants import known, lookup, model_for  # noqa: E402
from cgen.cstructs import CProgram, c_programs  # noqa: E402
from oracle.gcc_dwarf import GCC_FOR_TARGET, OracleRecord, compile_layouts, find_gcc, flatten  # noqa: E402

#: Every target with a Debian cross gcc (the x86 trio first).
GCC_TARGETS: tuple[str, ...] = tuple(GCC_FOR_TARGET)
REGRESSIONS = ROOT / "tests" / "data" / "fuzz-regressions"
SIDES = ("clang", "engine")
NO_SYSTEM = frontend.ParseOptions(system_dirs=False)
_IDENT = re.compile(r"\b(r\d+_t|r\d+|t\d+|e\d+|E\d+_\d+)\b")


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Mismatch:
    """One record whose layout on ``target`` differs between abiscope's ``side`` and gcc."""

    target: str
    side: str  # "clang" (abiscope layout) or "engine"
    record: str
    detail: str


@dataclass
class Verdict:
    """Outcome of one (source, target) check."""

    records: int = 0
    members: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    rejected: str = ""  # gcc or clang refused the source (then nothing was compared)


def differ(ours: RecordLayout, theirs: OracleRecord, cap: int | None = None) -> str:
    """'' when equal, else a one-line description (size/align/kind and the first members).

    ``cap``: the target's ``BIGGEST_ALIGNMENT``. A record holding a vector larger than
    that is placed by GCC's layouts at a multiple of the vector's size, which abiscope
    reports, while GCC's ``_Alignof`` answers the cap (README, Known limitations;
    ``tests/test_differential_constructs.py`` pins it): an alignment above the cap where
    gcc's is the cap, with everything else equal, is that case, not a mismatch."""
    a, b = flatten(ours.members), flatten(theirs.members)
    mine = (ours.size, ours.align, ours.kind)
    gccs = (theirs.size, theirs.align, theirs.kind)
    if a == b and (mine == gccs or (
            cap is not None and theirs.align == cap < ours.align
            and (ours.size, ours.kind) == (theirs.size, theirs.kind))):
        return ""
    text = f"(size, align, kind) abiscope {mine}, gcc {gccs}"
    diffs = [f"{x} != {y}" for x, y in zip(a, b, strict=False) if x != y][:3]
    if len(a) != len(b):
        diffs.append(f"{len(a)} vs {len(b)} members")
    return text + ("; " + "; ".join(diffs) if diffs else "")


def gcc_target(target: str) -> str:
    """The gcc oracle's target of a (variant) target name: ``i386`` of
    ``i386+align-double``."""
    return target.split("+", 1)[0]


def gcc_flags(target: str) -> list[str]:
    """What gcc is told for a variant target's variants (``-malign-double``), else []."""
    variants = known()
    return [a for v in target.split("+")[1:] for a in variants[v].gcc_args()]


def checked(target: str) -> str:
    """A (variant) target name as abiscope resolves it (UsageError for a bad variant)."""
    from abiscope.targets import resolve

    (spec,) = resolve(target).targets
    return spec.name


def check_source(source: str, records: Sequence[str], target: str,
                 sides: Sequence[str] = SIDES) -> Verdict:
    """Compile ``source`` with ``target``'s gcc and compare the named records on each side.
    """
    verdict = Verdict()
    res = compile_layouts({"src": source}, gcc_target(target), extra_flags=gcc_flags(target),
                          align_probes={"src": list(records)},
                          jobs=1)["src"]
    if not res.ok:
        verdict.rejected = "gcc: " + res.stderr.strip()[:2000]
        return verdict
    spec, data_model = lookup(target), model_for(target)
    assert spec is not None  # (data_model: None where the engine has none, MinGW)
    with tempfile.TemporaryDirectory(prefix="abiscope-fuzz-") as tmp:
        header = str(Path(tmp) / "fuzz.h")
        Path(header).write_text(source)
        ours: dict[str, dict[str, RecordLayout]] = {}
        if "clang" in sides:
            model = frontend.parse([header], [spec], NO_SYSTEM, jobs=1)
            if model.failures:
                verdict.rejected = "clang: " + model.failures[0].summary()
                return verdict
            ours["clang"] = {r.name: r.layouts[target] for r in model.records
                             if target in r.layouts}
        # (on m68k the clang side IS the engine; MinGW has no model yet)
        if "engine" in sides and not spec.engine and data_model is not None:
            try:
                engine = LayoutEngine(frontend.parse_decls(header, spec, NO_SYSTEM),
                                      data_model)
            except AbiscopeError as exc:
                verdict.rejected = f"clang: {exc}"
                return verdict
            lays: dict[str, RecordLayout] = {}
            for name in records:
                try:
                    lays[name] = engine.layout(name)
                except AbiscopeError as exc:
                    verdict.mismatches.append(Mismatch(target, "engine", name,
                                                       f"engine rejects it: {exc}"))
            ours["engine"] = lays
    for name in records:
        theirs = res.records.get(name)
        verdict.records += 1
        if theirs is None:
            verdict.mismatches.append(Mismatch(target, "gcc", name, "not in gcc's DWARF"))
            continue
        verdict.members += len(flatten(theirs.members))
        for side, lays in ours.items():
            mine = lays.get(name)
            if mine is None:
                if side == "clang":
                    verdict.mismatches.append(Mismatch(target, side, name, "abiscope missed it"))
                continue  # the engine's rejection is already recorded
            detail = differ(mine, theirs,
                            data_model.mode_align_cap if data_model is not None else None)
            if detail:
                verdict.mismatches.append(Mismatch(target, side, name, detail))
    return verdict


# --------------------------------------------------------------------------- batching


@dataclass(frozen=True)
class Batch:
    """Programs merged into one translation unit; ``origin`` maps merged record names back."""

    source: str
    records: tuple[str, ...]
    origin: dict[str, tuple[int, str]]


def merge(programs: Sequence[CProgram]) -> Batch:
    """One translation unit for many programs: identifiers of program i get the prefix pi_."""
    parts: list[str] = []
    records: list[str] = []
    origin: dict[str, tuple[int, str]] = {}
    for i, prog in enumerate(programs):
        parts.append(f"/* program {i} */\n" + _IDENT.sub(rf"p{i}_\1", prog.source)
                     + "\n#pragma pack()\n")
        for name in prog.records:
            merged = _IDENT.sub(rf"p{i}_\1", name)
            records.append(merged)
            origin[merged] = (i, name)
    return Batch("".join(parts), tuple(records), origin)


# --------------------------------------------------------------------------- minimising


_PACK = re.compile(r"^\s*#\s*pragma\s+pack\s*\(\s*(\d*)\s*\)")
_ALIGNED_BITFIELD = re.compile(r":\s*\d+\s*__attribute__\(\(.*aligned\(")


def aligned_bitfield_in_pack(source: str) -> bool:
    """True when a bit-field with aligned(N) sits under an active ``#pragma pack(M)``."""
    packed = False
    for line in source.splitlines():
        m = _PACK.match(line)
        if m:
            packed = bool(m.group(1))
        elif packed and _ALIGNED_BITFIELD.search(line):
            return True
    return False


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges [start, end) of top-level declarations (a line at column 0 up to its ';')."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace() and not line.startswith("#"):
            j = i
            depth = 0
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                j += 1
                if depth <= 0 and lines[j - 1].rstrip().endswith(";"):
                    break
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _records_in(source: str) -> list[str]:
    """Complete top-level record names a (minimised) program still defines."""
    names = re.findall(r"^(struct|union)\b[^{;]*?\b(\w+)\s*\{", source, re.M)
    found = [f"{k} {n}" for k, n in names if n not in ("packed", "aligned")]
    found += re.findall(r"^\}[^;]*?\b(\w+_t)\s*;", source, re.M)
    return found


def still_differs(source: str, target: str, side: str) -> bool:
    """The predicate minimisation keeps: both compilers accept it, ``side`` differs from gcc."""
    records = _records_in(source)
    if not records:
        return False
    verdict = check_source(source, records, target, sides=(side,))
    return not verdict.rejected and any(m.side == side for m in verdict.mismatches)


def minimise(source: str, target: str, side: str,
             differs: Callable[[str, str, str], bool] = still_differs) -> str:
    """Delete top-level declarations, then single lines, while the mismatch persists."""
    lines = source.splitlines()
    progress = True
    while progress:
        progress = False
        for start, end in reversed(_blocks(lines)):
            trial = lines[:start] + lines[end:]
            if differs("\n".join(trial) + "\n", target, side):
                lines, progress = trial, True
        i = len(lines) - 1
        while i >= 0:
            if lines[i].strip() and not lines[i].startswith("#include"):
                trial = lines[:i] + lines[i + 1:]
                if differs("\n".join(trial) + "\n", target, side):
                    lines, progress = trial, True
            i -= 1
    text = "\n".join(line for line in lines if line.strip()) + "\n"  # drop blank lines
    return text if differs(text, target, side) else "\n".join(lines) + "\n"


def regression_text(source: str, target: str, side: str, detail: str) -> str:
    what = ("abiscope layout (frontend.parse)" if side == "clang"
            else "abiscope's layout engine (parse_decls + LayoutEngine)")
    return ("/* abiscope differential-fuzzing regression (bench/fuzz_layout.py)\n"
            f" * target: {target}\n"
            f" * side: {side}\n"
            " * status: open\n"
            f" * compared: {what} vs {GCC_FOR_TARGET[gcc_target(target)]} (DWARF)"
            f"{''.join(' ' + f for f in gcc_flags(target))}\n"
            f" * found: {detail.replace('*/', '* /')}\n"
            " */\n" + source)


def write_regression(source: str, target: str, side: str, detail: str,
                     out_dir: Path = REGRESSIONS) -> Path:
    digest = hashlib.sha256(f"{target}\n{side}\n{source}".encode()).hexdigest()[:10]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{target}-{side}-{digest}.h"
    if not path.exists():
        path.write_text(regression_text(source, target, side, detail))
    return path


@dataclass(frozen=True)
class Regression:
    path: Path
    target: str
    side: str
    status: str  # "open" (abiscope still differs) or "fixed"
    source: str


def read_regression(path: Path) -> Regression:
    text = path.read_text()
    head = dict(re.findall(r"^ \* (target|side|status): (\S+)", text, re.M))
    return Regression(path, head["target"], head["side"], head.get("status", "open"), text)


# --------------------------------------------------------------------------- the run


@dataclass
class Stats:
    programs: int = 0
    atomic: int = 0  # programs with an _Atomic member or typedef
    cases: int = 0  # (program, target) pairs compared
    records: int = 0  # (record, target) pairs compared
    members: int = 0
    rejected: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    programs_differing: list[str] = field(default_factory=list)  # sources, for reports
    regressions: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def check_batch(programs: Sequence[CProgram], targets: Sequence[str], stats: Stats,
                minimise_limit: int, out_dir: Path | None) -> None:
    batch = merge(programs)
    stats.programs += len(programs)
    stats.atomic += sum("atomic" in p.features for p in programs)
    for target in targets:
        verdict = check_source(batch.source, batch.records, target)
        if verdict.rejected:
            _isolate(programs, target, stats, minimise_limit, out_dir)
            continue
        stats.cases += len(programs)
        stats.records += verdict.records
        stats.members += verdict.members
        for mm in verdict.mismatches:
            index, name = batch.origin[mm.record]
            _found(programs[index], Mismatch(target, mm.side, name, mm.detail), stats,
                   minimise_limit, out_dir)


def _isolate(programs: Sequence[CProgram], target: str, stats: Stats, minimise_limit: int,
             out_dir: Path | None) -> None:
    """A merged batch was rejected: check its programs one by one."""
    for prog in programs:
        verdict = check_source(prog.source, prog.records, target)
        if verdict.rejected:
            stats.rejected.append(f"[{target}] {verdict.rejected}\n{prog.source}")
            continue
        stats.cases += 1
        stats.records += verdict.records
        stats.members += verdict.members
        for mm in verdict.mismatches:
            _found(prog, mm, stats, minimise_limit, out_dir)


def _found(prog: CProgram, mm: Mismatch, stats: Stats, minimise_limit: int,
           out_dir: Path | None) -> None:
    stats.mismatches.append(mm)
    if prog.source not in stats.programs_differing:
        stats.programs_differing.append(prog.source)
    print(f"MISMATCH [{mm.target}] {mm.side}: {mm.record}: {mm.detail}", flush=True)
    if out_dir is None or mm.side == "gcc":
        return
    done = sum(1 for p in stats.regressions if p.name.startswith(f"{mm.target}-{mm.side}-"))
    if done >= minimise_limit:
        return
    small = minimise(prog.source, mm.target, mm.side)
    verdict = check_source(small, _records_in(small), mm.target, sides=(mm.side,))
    detail = "; ".join(f"{m.record}: {m.detail}" for m in verdict.mismatches) or mm.detail
    path = write_regression(small, mm.target, mm.side, detail, out_dir)
    if path not in stats.regressions:
        stats.regressions.append(path)
        print(f"  minimised to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
              f" ({len(small.splitlines())} lines)", flush=True)


class _OutOfTime(Exception):
    pass


def run(targets: Sequence[str], examples: int, seconds: float, batch: int = 12,
        seed: int | None = None, minimise_limit: int = 3,
        out_dir: Path | None = REGRESSIONS) -> Stats:
    """Fuzz until ``examples`` programs were checked on every target or ``seconds`` passed."""
    stats = Stats()
    start = time.monotonic()
    batches = max(1, -(-examples // batch))

    @settings(max_examples=batches, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
    @given(st.lists(c_programs(vectors=True, atomic=True), min_size=batch, max_size=batch))
    def one_batch(programs: list[CProgram]) -> None:
        if time.monotonic() - start > seconds:
            raise _OutOfTime
        check_batch(programs, targets, stats, minimise_limit, out_dir)

    runner = hypothesis_seed(seed)(one_batch) if seed is not None else one_batch
    with contextlib.suppress(_OutOfTime):
        runner()
    stats.seconds = time.monotonic() - start
    return stats


def available(targets: Sequence[str]) -> tuple[list[str], list[str]]:
    have = [t for t in targets if find_gcc(gcc_target(t)) is not None]
    return have, [t for t in targets if t not in have]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=",".join(GCC_TARGETS),
                    help="comma-separated targets with a gcc (default: all of them: "
                         f"{','.join(GCC_TARGETS)})")
    ap.add_argument("--examples", type=int, default=100_000,
                    help="programs to generate (each checked on every target)")
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget")
    ap.add_argument("--config", default=None, metavar="FILE",
                    help="an abiscope.toml whose [variants.NAME] the targets may carry")
    ap.add_argument("--batch", type=int, default=12, help="programs merged per compiled file")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (reproducible)")
    ap.add_argument("--minimise", type=int, default=3, metavar="N",
                    help="minimise at most N mismatches per (target, side); 0: none")
    ap.add_argument("--out", type=Path, default=REGRESSIONS,
                    help="where minimised regressions go (default tests/data/fuzz-regressions)")
    args = ap.parse_args(argv)
    if args.config:
        from abiscope.config import load_config

        load_config(args.config)
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in wanted if gcc_target(t) not in GCC_FOR_TARGET]
    if unknown:
        ap.error(f"no gcc oracle for {', '.join(unknown)}; known: {', '.join(GCC_TARGETS)}"
                 " (each may carry build variants: i386+align-double, arm+short-enums)")
    try:
        wanted = [checked(t) for t in wanted]
    except UsageError as exc:
        ap.error(str(exc))
    targets, missing = available(wanted)
    if missing:
        print(f"skipped (gcc not installed): {', '.join(missing)}", file=sys.stderr)
    if not targets:
        ap.error("none of the targets has a gcc here")
    stats = run(targets, args.examples, args.seconds, args.batch, args.seed, args.minimise,
                args.out if args.minimise > 0 else None)
    sides = {(m.target, m.side) for m in stats.mismatches}
    print(f"targets: {','.join(targets)}")
    print(f"programs generated: {stats.programs} ({stats.atomic} with _Atomic); "
          f"cases run (program x target): {stats.cases}; "
          f"records compared (record x target): {stats.records}, members {stats.members}; "
          f"in {stats.seconds:.0f} s")
    print(f"mismatches found: {len(stats.mismatches)} records "
          f"(in {len(sides)} target/side pairs: "
          f"{', '.join(f'{t}/{s}' for t, s in sorted(sides)) or 'none'})")
    print(f"programs rejected by a compiler: {len(stats.rejected)}")
    for text in stats.rejected[:3]:
        print("  " + text.replace("\n", "\n  "))
    for path in stats.regressions:
        print(f"regression written: {path}")
    return 1 if stats.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
