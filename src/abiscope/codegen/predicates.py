"""Which target a C compiler is building for, as a preprocessor condition on its predefined macros.

One condition per abiscope target name, carried by the target's registry entry
(``Target.predicate``); the conditions are mutually exclusive, so a generated header can
chain them with ``#if``/``#elif``. A target without one (a raw clang triple) has no
condition: generators leave it out and say so.
"""

from __future__ import annotations

from ..targets import TARGETS

PREDICATES: dict[str, str] = {
    t.name: t.predicate for t in TARGETS.values() if t.predicate is not None}


def predicate(target: str) -> str | None:
    """The ``#if`` condition true exactly when compiling for ``target``, or None if unknown
    (a variant target ``arm+time64``: :func:`abiscope.variants.predicate`)."""
    if "+" in target:
        from ..variants import predicate as variant_predicate

        return variant_predicate(target, PREDICATES.get)
    return PREDICATES.get(target)
