"""The seed case as measured facts: the claims of the xen-devel dm_op review, checked.

Analyses the four bundled designs (``data/seed``) on every real target and the
hypothetical 128-bit models, runs the rule catalogue, and turns each claim of
``SEED-CLAIMS.md`` into evidence abiscope measured and a verdict: holds or not.
Claims 7, 8 and 10 (layered user/kernel/hypervisor paths) arrive with ``abiscope paths``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .checks import CheckConfig, Finding, run_checks
from .frontend import ParseOptions, parse
from .model import Model, Record, RecordLayout, iter_members
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


def _identical(layouts: dict[str, RecordLayout]) -> bool:
    """Same size, alignment and every member (at every depth) at the same offset and size."""
    return len({(lay.size, lay.align, tuple((p, m.offset_bits, m.size_bits)
                                            for p, m in iter_members(lay.members)))
                for lay in layouts.values()}) == 1


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
    same = _identical(real)
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


def claim_9(a: Analysis) -> Claim:
    pair = ("i386", "x86_64")
    a_same = all(_identical({t: a.record(n).layouts[t] for t in pair}) for n in (A, A_PAD))
    c_diff = [f for f in a.rules(C, "ABI003") if set(pair) <= set(f.targets)]
    names = "h" in (c_diff[0].message if c_diff else "") and \
        "size" in (c_diff[0].message if c_diff else "")
    return Claim("9", "\"a 64-bit handle, to avoid ... the need for a compat wrapper\"",
                 f"A and A+pad: {'same' if a_same else 'DIFFERENT'} layout on i386 and x86_64; "
                 f"C: ABI003 {'naming `h` and `size`' if names else 'missing'} "
                 f"({_sizes({t: a.record(C).layouts[t] for t in pair})})",
                 a_same and bool(c_diff) and names)


def claim_11(a: Analysis) -> Claim:
    pair = {t: a.record(C).layouts[t] for t in ("arm", "aarch64")}
    same = _identical(pair)
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


CLAIMS: Sequence[Callable[[Analysis], Claim]] = (
    claim_1, claim_2, claim_3, claim_4, claim_5, claim_6, claim_9, claim_11, claim_ioctl)


def claims(analysis: Analysis) -> list[Claim]:
    return [make(analysis) for make in CLAIMS]
