"""The registry of target ABIs: short name → clang triple, endianness, data model, groups.

Owns target names, groups and their expansion; knows nothing about parsing or layouts.
The table is the one of ``docs/targets.md`` (and ARCHITECTURE.md "Target names").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import UsageError


@dataclass(frozen=True)
class Target:
    """One target ABI: what clang is told, and what we know about it."""

    name: str
    triple: str
    pointer_bits: int
    endian: str  # "little" | "big"
    groups: tuple[str, ...] = ()
    gnu_triple: str | None = None  # Debian cross-gcc prefix: /usr/<gnu_triple>/include
    multiarch: str | None = None  # Debian multiarch dir: /usr/include/<multiarch>
    checked_by: str = "clang only"
    hypothetical: bool = False
    engine: bool = False  # laid out by abiscope's layout engine instead of clang
    # what the target's Debian gcc assumes by default and clang's triple alone does not
    # (its predefined macros choose what a libc header declares)
    clang_flags: tuple[str, ...] = ()
    available: bool = True  # this build supports it
    unavailable_reason: str = ""


def _t(
    name: str,
    triple: str,
    bits: int,
    endian: str,
    groups: str,
    gnu: str | None,
    multiarch: str | None,
    checked_by: str,
    **extra: object,
) -> Target:
    return Target(
        name=name,
        triple=triple,
        pointer_bits=bits,
        endian=endian,
        groups=tuple(groups.split()),
        gnu_triple=gnu,
        multiarch=multiarch,
        checked_by=checked_by,
        **extra,  # type: ignore[arg-type]
    )



TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        _t("i386", "i386-linux-gnu", 32, "little", "x86 linux default",
           "i686-linux-gnu", "i386-linux-gnu", "gcc-i686-linux-gnu",
           clang_flags=("-march=i686",)),  # (Debian's i386 gcc: __i686__, no SSE macros)
        _t("x86_64", "x86_64-linux-gnu", 64, "little", "x86 linux default",
           "x86_64-linux-gnu", "x86_64-linux-gnu", "gcc (host)"),
        _t("x32", "x86_64-linux-gnux32", 32, "little", "x86 linux default",
           "x86_64-linux-gnux32", "x86_64-linux-gnux32", "gcc-x86-64-linux-gnux32"),
        _t("arm", "arm-linux-gnueabihf", 32, "little", "linux default",
           "arm-linux-gnueabihf", "arm-linux-gnueabihf", "gcc-arm-linux-gnueabihf",
           # Debian's armhf gcc: ARMv7-A, Thumb-2, VFPv3-D16 (__ARM_ARCH 7, clang's triple 6)
           clang_flags=("-march=armv7-a", "-mfpu=vfpv3-d16", "-mthumb")),
        _t("aarch64", "aarch64-linux-gnu", 64, "little", "linux default",
           "aarch64-linux-gnu", "aarch64-linux-gnu", "gcc-aarch64-linux-gnu"),
        _t("riscv32", "riscv32-linux-gnu", 32, "little", "linux",
           None, None, "clang only"),
        _t("riscv64", "riscv64-linux-gnu", 64, "little", "linux",
           "riscv64-linux-gnu", "riscv64-linux-gnu", "gcc-riscv64-linux-gnu"),
        _t("ppc", "powerpc-linux-gnu", 32, "big", "linux",
           "powerpc-linux-gnu", "powerpc-linux-gnu", "gcc-powerpc-linux-gnu"),
        _t("ppc64", "powerpc64-linux-gnu", 64, "big", "linux",
           "powerpc64-linux-gnu", "powerpc64-linux-gnu", "gcc-powerpc64-linux-gnu"),
        _t("ppc64le", "powerpc64le-linux-gnu", 64, "little", "linux",
           "powerpc64le-linux-gnu", "powerpc64le-linux-gnu", "gcc-powerpc64le-linux-gnu"),
        _t("s390x", "s390x-linux-gnu", 64, "big", "linux",
           "s390x-linux-gnu", "s390x-linux-gnu", "gcc-s390x-linux-gnu"),
        _t("mips", "mips-linux-gnu", 32, "big", "linux",
           "mips-linux-gnu", "mips-linux-gnu", "gcc-mips-linux-gnu"),
        _t("mips64", "mips64-linux-gnuabi64", 64, "big", "linux",
           "mips64-linux-gnuabi64", "mips64-linux-gnuabi64", "gcc-mips64-linux-gnuabi64"),
        _t("sparc64", "sparc64-linux-gnu", 64, "big", "linux",
           "sparc64-linux-gnu", "sparc64-linux-gnu", "gcc-sparc64-linux-gnu"),
        _t("loongarch64", "loongarch64-linux-gnu", 64, "little", "linux",
           None, None, "clang only"),
        _t("m68k", "m68k-linux-gnu", 32, "big", "linux",
           "m68k-linux-gnu", "m68k-linux-gnu", "gcc-m68k-linux-gnu", engine=True,
           # gcc's default is a 68020 with a 68881 FPU: __HAVE_68881__ gives glibc's
           # jmp_buf its floating-point registers (156 bytes, not 60); and gcc's
           # predefines where clang's are wrong (the engine lays m68k out as gcc does,
           # and headers that test these must see gcc's values too)
           clang_flags=("-mcpu=68020",
                        "-U__SIZEOF_LONG_DOUBLE__", "-D__SIZEOF_LONG_DOUBLE__=12",
                        "-U__BIGGEST_ALIGNMENT__", "-D__BIGGEST_ALIGNMENT__=2")),
        _t("win32", "i686-pc-windows-msvc", 32, "little", "windows",
           None, None, "clang only (MSVC rules)"),
        _t("win64", "x86_64-pc-windows-msvc", 64, "little", "windows",
           None, None, "clang only (MSVC rules)"),
        _t("wasm32", "wasm32-unknown-unknown", 32, "little", "",
           None, None, "clang only"),
        # Hypothetical: the parse borrows x86_64 (triple and headers); the data model differs.
        _t("lp128", "x86_64-linux-gnu", 128, "little", "future",
           "x86_64-linux-gnu", "x86_64-linux-gnu", "none (hypothetical)",
           hypothetical=True, engine=True),
        _t("cheri128", "x86_64-linux-gnu", 128, "little", "future",
           "x86_64-linux-gnu", "x86_64-linux-gnu", "none (hypothetical)",
           hypothetical=True, engine=True),
    )
}

GROUPS: tuple[str, ...] = ("x86", "linux", "windows", "future", "all", "default")

# Target names as people type them (Debian architectures, other tools' spellings) -> ours.
# ``x86`` is not here: it stays the group.
ALIASES: dict[str, str] = {
    "x86-64": "x86_64",
    "amd64": "x86_64",
    "i686": "i386",
    "arm64": "aarch64",
    "armhf": "arm",
    "ppc64el": "ppc64le",
    "powerpc": "ppc",
    "powerpc64": "ppc64",
}


def canonical(name: str) -> str:
    """A target name with an alias replaced by the registry name (``amd64`` -> ``x86_64``);
    anything else as it is. A variant target keeps its variants (``armhf+time64`` ->
    ``arm+time64``)."""
    base, sep, rest = name.partition("+")
    return ALIASES.get(base, base) + sep + rest


def aliases_of(name: str) -> list[str]:
    """The aliases that resolve to registry target ``name``, in table order."""
    return [alias for alias, target in ALIASES.items() if target == name]


def _did_you_mean(word: str) -> str:
    """The hint ``(did you mean x86_64?)`` for a near miss of a name, alias or group."""
    known = [*TARGETS, *ALIASES, *GROUPS]
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.6)
    if not close:
        return ""
    best = ALIASES.get(close[0], close[0])
    return f" (did you mean {best}?)"

# "arch-vendor-os[-env]": at least two dashes, only the characters triples use.
_TRIPLE_RE = re.compile(r"^[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+){2,3}$")
_BIG_ENDIAN_ARCHS = ("powerpc", "ppc", "s390", "mips", "sparc", "m68k", "armeb", "aarch64_be")


def group_members(group: str) -> list[Target]:
    """All registry targets of a group, available or not (``all`` = every real target)."""
    if group == "all":
        return [t for t in TARGETS.values() if not t.hypothetical]
    return [t for t in TARGETS.values() if group in t.groups]


def raw_triple_target(triple: str) -> Target:
    """A target for a clang triple that is not in the registry."""
    arch = triple.split("-", 1)[0]
    bits = 64 if "64" in arch or arch in ("s390x",) else 32
    if triple.endswith(("gnux32", "gnuabin32")):
        bits = 32
    big = arch.startswith(_BIG_ENDIAN_ARCHS) and not arch.endswith(("le", "el"))
    return Target(triple, triple, bits, "big" if big else "little")


@dataclass(frozen=True)
class Selection:
    """Targets chosen by the user, and registry targets a group named but this build lacks."""

    targets: tuple[Target, ...]
    left_out: tuple[Target, ...]


def resolve(spec: str | Iterable[str]) -> Selection:
    """Expand ``--target`` (comma-separated) in the given order.

    Each word is resolved as: an exact target name, an alias (``amd64``), a group, a clang
    triple; any of them followed by build variants (``arm+time64``, :mod:`abiscope.variants`).
    """
    words = spec.split(",") if isinstance(spec, str) else [w for s in spec for w in s.split(",")]
    chosen: dict[str, Target] = {}
    left_out: dict[str, Target] = {}
    for word in (w.strip() for w in words):
        if not word:
            continue
        if "+" in word:  # TARGET+VARIANT[+VARIANT…] (abiscope.variants)
            from .variants import expand_word

            picked = expand_word(word, resolve)
            for target in picked.targets:
                chosen.setdefault(target.name, target)
            for target in picked.left_out:
                left_out.setdefault(target.name, target)
        elif word in TARGETS or word in ALIASES:
            target = TARGETS[ALIASES.get(word, word)]
            if not target.available:
                raise UsageError(
                    f"target {word!r} is not available yet: {target.unavailable_reason}")
            chosen.setdefault(target.name, target)
        elif word in GROUPS:
            for target in group_members(word):
                if target.available:
                    chosen.setdefault(target.name, target)
                else:
                    left_out.setdefault(target.name, target)
        elif _TRIPLE_RE.match(word):
            chosen.setdefault(word, raw_triple_target(word))
        else:
            known = ", ".join(TARGETS)
            raise UsageError(
                f"unknown target {word!r}{_did_you_mean(word)}; known targets: {known}; "
                f"aliases: {', '.join(ALIASES)}; groups: {', '.join(GROUPS)}; "
                "or a clang triple such as riscv64-unknown-elf"
            )
    if not chosen:
        raise UsageError("no target selected")
    for name in chosen:
        left_out.pop(name, None)
    return Selection(tuple(chosen.values()), tuple(left_out.values()))
