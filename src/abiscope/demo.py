"""The seed case as measured facts: the claims of the xen-devel dm_op review, checked.

Analyses the four bundled designs (``data/seed``) on every real target and the
hypothetical 128-bit models, runs the rule catalogue, and turns each claim of
``SEED-CLAIMS.md`` into evidence abiscope measured and a verdict: holds or not. Claim 9 comes
from the compat verdicts (``abiscope.compat``), claims 7, 8 and 10 from layered
user/kernel/hypervisor paths (``abiscope.paths``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import paths
from .checks import CheckConfig, Finding, run_checks
from .compat import compare
from .frontend import ParseOptions, parse
from .model import Model, Record, RecordLayout
from .sameness import compare_layouts
from .targets import group_members

A, A_PAD = "struct xen_dm_op_buf_v3", "struct xen_dm_op_buf_v3_pad"
B, C = "struct privcmd_dm_op_buf", "struct xen_dm_op_buf"
HEADERS = ("dm_op_v3.h", "privcmd_dm_op.h", "dm_op.h")
PADDING_RULES = ("ABI001", "ABI002")


@dataclass(frozen=True)
class Claim:
    number: str
    quote: str
    evidence: str
    holds: bool


@dataclass(frozen=True)
class Analysis:
    """Everything the claims are read from."""

    model: Model
    findings: tuple[Finding, ...]

    def record(self, name: str) -> Record:
        rec = self.model.record(name)
        if rec is None:
            raise LookupError(f"bundled seed header lost {name}")
        return rec

    def real(self, name: str) -> dict[str, RecordLayout]:
        return {t: lay for t, lay in self.record(name).layouts.items()
                if not self.model.targets[t].hypothetical}

    def rules(self, name: str, *ids: str) -> list[Finding]:
        return [f for f in self.findings if f.record == name and f.rule in ids]


def seed_dir() -> Path:
    return Path(str(resources.files("abiscope").joinpath("data/seed")))


def analyse(jobs: int | None = None) -> Analysis:
    """The bundled designs on every real target plus lp128 and cheri128, and every rule."""
    targets = [*group_members("all"), *group_members("future")]
    headers = [str(seed_dir() / h) for h in HEADERS]
    model = parse(headers, [t for t in targets if t.available], ParseOptions(macros=True),
                  jobs=jobs)
    inputs = set(model.inputs)
    records = [r for r in model.records if r.location.file in inputs]
    return Analysis(model, tuple(run_checks(model, records, CheckConfig())))


def _sizes(layouts: dict[str, RecordLayout]) -> str:
    groups: dict[int, list[str]] = {}
    for t, lay in layouts.items():
        groups.setdefault(lay.size, []).append(t)
    return "; ".join(f"{size} bytes on {', '.join(ts)}" for size, ts in sorted(groups.items()))


def _identical(a: Analysis, name: str, targets: Sequence[str]) -> bool:
    """The one comparison (``abiscope.sameness``) finds no byte difference between any two of
    the targets."""
    rec = a.record(name)
    return not any(compare_layouts(a.model, (rec, x), (rec, y)).deltas
                   for x, y in itertools.combinations(targets, 2))


def claim_1(a: Analysis) -> Claim:
    real = a.real(A)
    tails = {t: lay for t, lay in real.items() if lay.tail_padding == 4 and lay.size == 16}
    flagged = {t for f in a.rules(A, "ABI002") for t in f.targets}
    holds = tails.keys() == real.keys() and set(real) <= flagged
    ends = {lay.size - lay.tail_padding for lay in real.values()}
    return Claim("1", "A \"has padding at the end which affects how the array is laid out\"",
                 f"ABI002 on {len(flagged & set(real))} of {len(real)} real targets: size "
                 f"{_sizes(real)}, members end at {', '.join(map(str, sorted(ends)))}, "
                 f"4 bytes of tail padding, array stride 16 != {min(ends)}", holds)


def claim_2(a: Analysis) -> Claim:
    real = a.real(A_PAD)
    padding = [f for f in a.rules(A_PAD, *PADDING_RULES) if set(f.targets) & set(real)]
    same = _identical(a, A_PAD, list(real))
    return Claim("2", "\"Yes, padding needs to be added.\"",
                 f"A+pad: {len(padding)} padding findings on {len(real)} real targets; layout "
                 f"{'identical' if same else 'NOT identical'} everywhere ({_sizes(real)})",
                 not padding and same)


def claim_3(a: Analysis) -> Claim:
    found = a.rules(A, "ABI013")
    layouts = a.record(A).layouts
    lp = layouts.get("lp128")
    h = next((m for m in lp.members if m.name == "h"), None) if lp else None
    return Claim("3", "A \"isn't futureproof\"",
                 f"ABI013 on A under {', '.join(found[0].targets) if found else 'nothing'}: "
                 + (f"the handle grows to {h.size_bits // 8} bytes and A to {lp.size}"
                    if lp and h else "no lp128 layout"),
                 bool(found) and lp is not None and h is not None and h.size_bits > 64)


def claim_4(a: Analysis) -> Claim:
    real = a.real(B)
    padded = [t for t, lay in real.items() if lay.holes or lay.tail_padding_bits]
    by_width = {t: lay.size == 2 * a.model.targets[t].pointer_bits // 8
                for t, lay in real.items()}
    return Claim("4", "B \"will work sensibly for 32bit and 64bit userspace\"",
                 f"B: no holes or tail padding on {len(real) - len(padded)} of {len(real)} real "
                 f"targets; {_sizes(real)}",
                 not padded and all(by_width.values()))


def claim_5(a: Analysis) -> Claim:
    lay = a.record(B).layouts.get("lp128")
    ok = lay is not None and lay.size == 32 and not lay.holes and not lay.tail_padding_bits
    return Claim("5", "B is \"futureproof (for when 128bit turns up)\"",
                 f"B under lp128: {lay.size if lay else '?'} bytes, "
                 f"{'no padding' if ok else 'padding'}", ok)


def claim_6(a: Analysis) -> Claim:
    odd = a.rules(B, "ABI006")
    cheri = a.record(B).layouts.get("cheri128")
    sizes = {t: lay.size for t, lay in a.record(B).layouts.items()}
    power = all(s & (s - 1) == 0 for s in sizes.values())
    tail = cheri.tail_padding if cheri else 0
    return Claim("6", "B's \"size is also a power of two which avoids alignment issues\"",
                 f"no ABI006 on B on any of {len(sizes)} targets (sizes "
                 f"{', '.join(map(str, sorted(set(sizes.values()))))}); but under cheri128 "
                 f"(16-byte pointer, 8-byte size_t) {tail} bytes of tail padding: a nuance the "
                 "thread missed", not odd and power and tail == 8)


def _path(a: Analysis, layers: Sequence[str], translate: Sequence[str],
          records: Sequence[str]) -> paths.PathReport:
    return paths.check(a.model, paths.spec_from(layers, translate, records, a.model))


_USER_KERNEL_HV = ("user=i386", "kernel=x86_64", "hypervisor=x86_64")
_B_THEN_C = "user:kernel=privcmd_dm_op_buf;kernel:hypervisor=xen_dm_op_buf"


def _statuses(report: paths.PathReport) -> str:
    return "; ".join(f"{c.upper}->{c.lower} {c.upper_record.split()[-1]} {c.status}"
                     for cell in report.cells for c in cell.checks)


def claim_7(a: Analysis) -> Claim:
    covered = _path(a, _USER_KERNEL_HV, ["user:kernel"], [_B_THEN_C])
    bare = _path(a, _USER_KERNEL_HV, [], [_B_THEN_C])
    (user_kernel, *_) = covered.cells[0].checks
    fired = [f for f in bare.findings if f.record == B]
    return Claim("7", "with B the kernel \"will know the bitness of its userspace process\" and "
                      "translates: this \"covers the 32bit userspace under a 64bit kernel "
                      "problem\"",
                 f"path user(i386) -> kernel(x86_64) -> hypervisor(x86_64), B above the kernel, "
                 f"C below: {_statuses(covered)}; translator declared at user:kernel: "
                 f"{len(covered.findings)} ABI015; without it: {len(bare.findings)} ABI015 "
                 f"({', '.join(f.member for f in fired) or 'none'} of B)",
                 user_kernel.status == "translated" and not covered.findings and bool(fired))


def claim_8(a: Analysis) -> Claim:
    one = _path(a, ("user=i386", "kernel=i386", "hypervisor=x86_64"), ["kernel:hypervisor"],
                [C])
    (user_kernel, kernel_hv) = one.cells[0].checks
    grid = _path(a, ("user=i386,x86_64", "kernel=i386,x86_64", "hypervisor=x86_64"),
                 ["user:kernel", "kernel:hypervisor"], [A, B, C])
    rows = []
    for label, name in (("A", A), ("B", B), ("C", C)):
        where = sorted({f"{b[0]}:{b[1]}" for cell in grid.cells if cell.design == name
                        for b in cell.must_translate()})
        count = sum(1 for cell in grid.cells if cell.design == name and cell.must_translate())
        rows.append(f"{label} translates in {count} of 4 cells"
                    + (f" (at {', '.join(where)})" if where else ""))
    holds = (user_kernel.status == "identical" and kernel_hv.status == "translated"
             and not one.findings and not grid.findings)
    return Claim("8", "\"But that won't cover a 32-bit kernel.\" / \"Yes it will.\"",
                 f"path user(i386) -> kernel(i386) -> hypervisor(x86_64) with C: user->kernel "
                 f"{user_kernel.status}, kernel->hypervisor differs and the hypervisor's compat "
                 f"layer translates it ({kernel_hv.status}), {len(one.findings)} ABI015; "
                 f"matrix user, kernel in {{i386, x86_64}}: " + "; ".join(rows), holds)


def claim_9(a: Analysis) -> Claim:
    report = compare(a.model, "x86_64", "i386", [a.record(n) for n in (A, A_PAD, C)])
    verdicts = {n: report.verdict(n) for n in (A, A_PAD, C)}
    c = verdicts[C]
    named = {d.member for d in c.reasons} if c else set()
    holds = all(v is not None and v.verdict == "identical" for v in (verdicts[A],
                                                                     verdicts[A_PAD])) \
        and c is not None and c.verdict == "translate" and {"h", "size"} <= named
    return Claim("9", "\"a 64-bit handle, to avoid ... the need for a compat wrapper\"",
                 "compat x86_64/i386: " + "; ".join(
                     f"{label} {v.verdict if v else '?'}"
                     for label, v in (("A", verdicts[A]), ("A+pad", verdicts[A_PAD]),
                                      ("C", c)))
                 + f" naming {', '.join(f'`{m}`' for m in sorted(named) if m)}", holds)


def claim_10(a: Analysis) -> Claim:
    report = _path(a, ("user=i386", "kernel=x86_64"), [], [C])
    fired = [f for f in report.findings if f.record == C]
    members = [e.detail for e in fired[0].evidence if e.target == "i386"] if fired else []
    return Claim("10", "privcmd passes structs through untranslated: \"a binary compatibility "
                       "problem if the toolstack is compiled at a width different to the "
                       "kernel\"",
                 "path user(i386) -> kernel(x86_64), passthrough, C: "
                 + (f"ABI015 naming {', '.join(f'`{m}`' for m in members)}: "
                    + fired[0].message.split(': ', 1)[-1] if fired else "no ABI015"),
                 bool(fired) and {"h", "size"} <= set(members))


def claim_11(a: Analysis) -> Claim:
    pair = {t: a.record(C).layouts[t] for t in ("arm", "aarch64")}
    same = _identical(a, C, list(pair))
    return Claim("11", "on Arm none of this arises",
                 f"C on arm and aarch64: {'identical' if same else 'DIFFERENT'} layouts "
                 f"({_sizes(pair)}: Xen's Arm handles and xen_ulong_t are 64-bit on both)",
                 same)


def claim_ioctl(a: Analysis) -> Claim:
    found = [f for f in a.findings if f.rule == "ABI012"]
    macro = next((m for m in a.model.macros if m.name == "IOCTL_PRIVCMD_DM_OP"), None)
    values = {t: macro.values[t] for t in ("i386", "x86_64")} if macro else {}
    return Claim("+", "beyond the thread: the privcmd ioctl number per width",
                 "IOCTL_PRIVCMD_DM_OP = " + ", ".join(f"{v:#x} on {t}" for t, v in
                                                      values.items())
                 + f"; ABI012 {'reports' if found else 'does NOT report'} it",
                 bool(found) and len(set(values.values())) == 2)


def claim_codegen(a: Analysis) -> Claim:
    """What C costs in code: the compat translation abiscope generates for it (and that A
    and A+pad need none)."""
    from .codegen import generate_compat, needs_translation

    translate = needs_translation(a.model, "x86_64", "i386")
    designs = [d for d in (A, A_PAD, C) if d in translate]
    result = generate_compat(a.model, "x86_64", "i386", designs, [])
    lines = result.text.count("\n")
    compat_c = f"compat_{C.split()[-1]}"
    ok = designs == [C] and compat_c in result.text and not result.hooks
    return Claim("+", "beyond the thread: the compat translation each design costs",
                 f"gen compat x86_64/i386: {', '.join(designs) or 'nothing'} "
                 f"({lines} lines of C99: struct {compat_c}, "
                 f"{len(result.records)} record(s) translated both ways with range checks); "
                 "A and A+pad need none", ok)


CLAIMS: Sequence[Callable[[Analysis], Claim]] = (
    claim_1, claim_2, claim_3, claim_4, claim_5, claim_6, claim_7, claim_8, claim_9, claim_10,
    claim_11, claim_ioctl, claim_codegen)


def claims(analysis: Analysis) -> list[Claim]:
    return [make(analysis) for make in CLAIMS]
