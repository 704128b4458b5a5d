"""Functions compared between two targets (``compat``) or two models (``diff``).

A function's calls bind to its symbol and pass its parameters and return value by their
types: on two sides, a parameter or return type whose size, alignment or kind differs, a
pointer to something of another size, or a record passed or pointed to that needs
translation (compat) or changed (diff) makes the two declarations different ABIs. An asm
label that renames the function on one side (glibc's ``__REDIRECT`` of ``stat`` to
``__stat64_time64`` under 64-bit ``time_t``) is not a break of existing binaries, which
keep calling the old symbol: it is a new symbol, reported as a rename.

Reads models only; the renderers are in :mod:`abiscope.report.functions`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .model import Function, FuncType, Model, Signature


@dataclass(frozen=True)
class TypeDelta:
    """One parameter (``param``: ``return``, or ``#N name``) that differs, and why."""

    param: str
    native: FuncType | None  # None: absent on that side
    compat: FuncType | None
    cause: str


@dataclass(frozen=True)
class FunctionVerdict:
    """A function's ``identical``/``translate`` verdict between two targets (the record
    verdict words), with the symbols on both sides (``renamed`` when they differ)."""

    name: str
    verdict: Literal["identical", "translate"]
    reasons: tuple[TypeDelta, ...]
    notes: tuple[str, ...]
    via: tuple[str, ...]  # records passed or pointed to that need translation
    symbols: tuple[str | None, str | None]  # (native, compat); None: not declared there

    @property
    def renamed(self) -> bool:
        a, b = self.symbols
        return a is not None and b is not None and a != b


def _label(i: int, name: str) -> str:
    return f"#{i + 1} {name}".rstrip() if i >= 0 else "return"


def _bytes(n: int | None) -> str:
    return "incomplete" if n is None else f"{n} byte" + ("" if n == 1 else "s")


def type_cause(a: FuncType, b: FuncType, sides: tuple[str, str]) -> str | None:
    """Why ``a`` (on ``sides[0]``) and ``b`` (on ``sides[1]``) are passed differently, or
    None when they are passed alike (the record each is, or points to, aside)."""
    spelled = a.type if a.type == b.type else f"{a.type} / {b.type}"
    canon = f" ({a.canonical} / {b.canonical})" if a.canonical != b.canonical else ""
    if a.kind != b.kind:
        return f"{spelled}: a {a.kind} on {sides[0]}, a {b.kind} on {sides[1]}"
    if a.size != b.size:
        return f"{spelled}: {_bytes(a.size)} on {sides[0]}, {_bytes(b.size)} on " \
               f"{sides[1]}{canon}"
    if a.align != b.align:
        return f"{spelled}: aligned {a.align} on {sides[0]}, {b.align} on {sides[1]}{canon}"
    if a.kind == "pointer" and a.pointee_size != b.pointee_size:
        return f"{spelled}: points to {_bytes(a.pointee_size)} on {sides[0]}, " \
               f"{_bytes(b.pointee_size)} on {sides[1]}{canon}"
    return None


def _pairs(a: Signature, b: Signature) -> Iterator[tuple[str, FuncType | None,
                                                          FuncType | None]]:
    yield "return", a.returns, b.returns
    for i in range(max(len(a.params), len(b.params))):
        pa = a.params[i] if i < len(a.params) else None
        pb = b.params[i] if i < len(b.params) else None
        name = (pb.name if pb else "") or (pa.name if pa else "")
        yield _label(i, name), pa.type if pa else None, pb.type if pb else None


def compare_signatures(a: Signature, b: Signature, sides: tuple[str, str],
                       changed: Collection[str]) -> tuple[list[TypeDelta], list[str],
                                                          list[str]]:
    """(deltas, notes, via) between two declarations of a function; ``changed``: the
    records that need translation (or changed), which a parameter passing or pointing to
    one brings in."""
    deltas: list[TypeDelta] = []
    notes: list[str] = []
    via: list[str] = []
    for label, ta, tb in _pairs(a, b):
        if ta is None or tb is None:
            where = sides[0] if ta is not None else sides[1]
            deltas.append(TypeDelta(label, ta, tb, f"declared only on {where}: the "
                                    f"functions take {len(a.params)} and {len(b.params)} "
                                    "parameters"))
            continue
        cause = type_cause(ta, tb, sides)
        if cause is not None:
            deltas.append(TypeDelta(label, ta, tb, cause))
        for t in (ta, tb):
            held, pointed = t.record or "", t.points_to or ""
            if held in changed and held not in via:
                via.append(held)
                notes.append(f"{label} passes {held} by value, which needs translation")
            elif pointed in changed and pointed not in via:
                via.append(pointed)
                notes.append(f"{label} points to {pointed}, which needs translation: "
                             "what it points to must be translated too")
    return deltas, notes, via


def compare_functions(model: Model, native: str, compat: str,
                      translate: Collection[str]) -> tuple[FunctionVerdict, ...]:
    """Verdicts for every function of the model declared on either target;
    ``translate``: the records whose verdict is ``translate``."""
    out = []
    for fn in sorted(model.functions, key=lambda f: f.name):
        a, b = fn.signatures.get(native), fn.signatures.get(compat)
        if a is None and b is None:
            continue
        symbols = (a.symbol if a else None, b.symbol if b else None)
        if a is None or b is None:
            where = native if a is not None else compat
            out.append(FunctionVerdict(fn.name, "translate", (TypeDelta(
                "", a.returns if a else None, b.returns if b else None,
                f"declared only on {where}"),), (), (), symbols))
            continue
        deltas, notes, via = compare_signatures(a, b, (native, compat), translate)
        if a.symbol != b.symbol:
            notes.append(rename_note(a.symbol, b.symbol, native, compat))
        verdict: Literal["identical", "translate"] = \
            "translate" if deltas or via else "identical"
        out.append(FunctionVerdict(fn.name, verdict, tuple(deltas), tuple(notes),
                                   tuple(sorted(via)), symbols))
    return tuple(out)


def rename_note(a: str, b: str, side_a: str, side_b: str) -> str:
    return (f"symbol renamed: {a} on {side_a}, {b} on {side_b}: binaries built for "
            f"{side_b} keep calling {b}, code built for {side_a} calls {a} (a new "
            "symbol, not a break of existing binaries)")


# ---------------------------------------------------------------------------------------
# diff: two models (old and new) on the same targets


@dataclass(frozen=True)
class FunctionChange:
    """One change of a function between two models, on the targets it shows on
    (``kind``: one of :data:`KINDS`; ``classification``: diff's words)."""

    kind: str
    classification: str  # breaking | compatible | informational
    function: str
    param: str  # "return", "#N name", or "" for the whole function
    reason: str
    targets: tuple[str, ...]
    old: str
    new: str
    file: str = ""
    line: int = 0


KINDS: dict[str, str] = {
    "function-added": "a function was declared",
    "function-removed": "a function is no longer declared",
    "function-param-changed": "a parameter's type is passed differently (size, alignment, "
                              "kind, what it points to) or a parameter was added or removed",
    "function-return-changed": "the return type is passed differently",
    "function-record-changed": "a record the function passes or points to changed",
    "function-symbol-renamed": "the symbol the function binds to changed (an asm label)",
}


def _render(t: FuncType | None) -> str:
    if t is None:
        return ""
    extra = f", points to {_bytes(t.pointee_size)}" if t.pointee_size is not None else ""
    return f"{t.type} ({_bytes(t.size)}{extra})"


def diff_functions(old: Model, new: Model, targets: Sequence[str],
                   broken: Mapping[str, Collection[str]]) -> tuple[FunctionChange, ...]:
    """The function changes from ``old`` to ``new`` on ``targets``; ``broken``: per target,
    the records with a breaking change there."""
    of = {f.name: f for f in old.functions}
    nf = {f.name: f for f in new.functions}
    raw: dict[tuple[str, str, str, str, str, str, str], list[str]] = {}
    where: dict[str, Function] = {}  # (the new declaration's place, else the old's)

    def add(kind: str, cls: str, name: str, param: str, reason: str, t: str,
            o: str, n: str) -> None:
        raw.setdefault((kind, cls, name, param, reason, o, n), []).append(t)

    for name in sorted(set(of) | set(nf)):
        a_fn, b_fn = of.get(name), nf.get(name)
        found = b_fn or a_fn
        assert found is not None
        where[name] = found
        for t in targets:
            a = a_fn.signatures.get(t) if a_fn else None
            b = b_fn.signatures.get(t) if b_fn else None
            if a is None and b is not None:
                add("function-added", "compatible", name, "", "declared", t, "", b.symbol)
            elif a is not None and b is None:
                add("function-removed", "breaking", name, "", "no longer declared: code "
                    "that calls it no longer builds", t, a.symbol, "")
            elif a is not None and b is not None:
                deltas, _, via = compare_signatures(a, b, ("old", "new"), broken.get(t, ()))
                for d in deltas:
                    kind = "function-return-changed" if d.param == "return" \
                        else "function-param-changed"
                    add(kind, "breaking", name, d.param, d.cause + ": callers built with "
                        "the old declaration pass it otherwise", t, _render(d.native),
                        _render(d.compat))
                for rec in via:
                    add("function-record-changed", "breaking", name, "", f"passes or points "
                        f"to {rec}, which has a breaking change", t, rec, rec)
                if a.symbol != b.symbol:
                    add("function-symbol-renamed", "informational", name, "",
                        "the symbol changed: binaries built with the old header keep "
                        "calling the old symbol, which must stay (a new symbol, not a break "
                        "of existing binaries if the old one is kept)", t, a.symbol,
                        b.symbol)
    order = {t: i for i, t in enumerate(targets)}
    out = []
    for (kind, cls, name, param, reason, o, n), ts in raw.items():
        fn = where[name]
        out.append(FunctionChange(kind, cls, name, param, reason,
                                  tuple(sorted(set(ts), key=lambda t: order.get(t, 99))),
                                  o, n, fn.location.file, fn.location.line))
    kinds = list(KINDS)
    out.sort(key=lambda c: (c.function, kinds.index(c.kind), c.param, c.targets, c.old))
    return tuple(out)
