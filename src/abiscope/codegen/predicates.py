"""Which target a C compiler is building for, as a preprocessor condition on its predefined macros.

One condition per abiscope target name; the conditions are mutually exclusive, so a generated
header can chain them with ``#if``/``#elif``. A target without an entry (a raw clang triple)
has no condition: generators leave it out and say so.
"""

from __future__ import annotations

_NOT_WINDOWS = "!defined(_WIN32)"
_LE = "__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__"
_BE = "__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__"

PREDICATES: dict[str, str] = {
    "i386": f"defined(__i386__) && {_NOT_WINDOWS}",
    "x86_64": f"defined(__x86_64__) && !defined(__ILP32__) && {_NOT_WINDOWS}",
    "x32": f"defined(__x86_64__) && defined(__ILP32__) && {_NOT_WINDOWS}",
    "arm": "defined(__arm__) && defined(__ARM_EABI__) && !defined(__aarch64__) "
           f"&& {_NOT_WINDOWS}",
    "aarch64": f"defined(__aarch64__) && !defined(__ILP32__) && {_NOT_WINDOWS}",
    "riscv32": "defined(__riscv) && __riscv_xlen == 32",
    "riscv64": "defined(__riscv) && __riscv_xlen == 64",
    "ppc": "defined(__powerpc__) && !defined(__powerpc64__)",
    "ppc64": f"defined(__powerpc64__) && {_BE}",
    "ppc64le": f"defined(__powerpc64__) && {_LE}",
    "s390x": "defined(__s390x__)",
    "mips": "defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABIO32",
    "mips64": "defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABI64",
    "sparc64": "defined(__sparc__) && defined(__arch64__)",
    "loongarch64": "defined(__loongarch__) && __loongarch_grlen == 64",
    "m68k": "defined(__m68k__)",
    "win32": "defined(_WIN32) && !defined(_WIN64)",
    "win64": "defined(_WIN64)",
    "wasm32": "defined(__wasm32__)",
    # Hypothetical data models: no compiler has them today; these name what one would define.
    "lp128": "__SIZEOF_POINTER__ == 16 && __SIZEOF_LONG__ == 16",
    "cheri128": "defined(__CHERI_PURE_CAPABILITY__) && __SIZEOF_POINTER__ == 16",
}


def predicate(target: str) -> str | None:
    """The ``#if`` condition true exactly when compiling for ``target``, or None if unknown
    (a variant target ``arm+time64``: :func:`abiscope.variants.predicate`)."""
    if "+" in target:
        from ..variants import predicate as variant_predicate

        return variant_predicate(target, PREDICATES.get)
    return PREDICATES.get(target)
