"""The registry of target ABIs: one :class:`Target` entry per target carries everything that
belongs to it.

An entry names the clang triple (or, for a target the layout engine lays out, the triple
whose parse it borrows), the data model the engine follows (:mod:`abiscope.datamodels`),
the preprocessor condition ``gen`` tests for it (:data:`Target.predicate`), the compiler
that checks it in the test-suite and its flags (:class:`Checker`), its system include
dirs, groups and aliases. Every other table (``datamodels.MODELS``,
``codegen.predicates.PREDICATES``, the tests' GCC oracle, docs/targets.md's table,
``tools/gen_targets_doc.py``) is derived from it. Owns target names, groups and their
expansion; knows nothing about parsing or layouts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import datamodels as dm
from .datamodels import DataModel
from .errors import UsageError


@dataclass(frozen=True)
class Checker:
    """The compiler that judges a target in the test-suite (its DWARF is the oracle)."""

    gcc: str  # the executable (``mipsel-linux-gnu-gcc``)
    package: str  # the Debian package(s) that install it, as ``apt-get install`` takes them
    flags: tuple[str, ...] = ()  # what selects the target's ABI (``-m32``, ``-mmcu=...``)
    # the include dirs (last: the one holding ``linux/``) of the Linux UAPI headers the
    # target is checked on; none for bare metal (checked on generated records and the seed)
    uapi: tuple[str, ...] = ()
    # the checker writes PE/COFF objects: binutils' ELF name to rewrite them as (DWARF kept)
    elf_format: str = ""
    # include dirs its own <stddef.h> hands over to (MinGW's gcc: the mingw-w64 headers)
    libc: tuple[str, ...] = ()


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
    # the ``#if`` condition true exactly when a compiler builds for this target
    # (predefined macros only; mutually exclusive between targets: ``gen`` chains them)
    predicate: str | None = None
    checker: Checker | None = None  # None: clang only, or hypothetical
    # what the layout engine follows for it (not compared: the name decides)
    model: DataModel | None = field(default=None, compare=False)
    # clang's toolchain for this triple adds no builtin-header dir (avr, msp430, xtensa):
    # abiscope adds libclang's own
    builtin_headers: bool = False
    notes: str = ""  # for docs/targets.md
    # clang is given the target's own gcc predefined macros instead of its triple's
    # (``-undef`` and ``data/predefines/<name>.h``, taken once by tools/gen_predefines.py):
    # an engine target whose parse borrows another triple
    predefines: bool = False

    @property
    def long_bits(self) -> int:
        """Width of ``long`` (the data model's; else LP64 exactly when pointers are 64-bit)."""
        if self.model is not None:
            return 8 * self.model.scalars["long"][0]
        return 64 if self.pointer_bits == 64 else 32


def _t(
    name: str,
    triple: str,
    bits: int,
    endian: str,
    groups: str,
    gnu: str | None,
    multiarch: str | None,
    checked_by: str | Checker,
    **extra: object,
) -> Target:
    """One entry; ``checked_by`` is a :class:`Checker` or what checks it instead (words)."""
    checker = checked_by if isinstance(checked_by, Checker) else None
    return Target(
        name=name,
        triple=triple,
        pointer_bits=bits,
        endian=endian,
        groups=tuple(groups.split()),
        gnu_triple=gnu,
        multiarch=multiarch,
        checked_by=checker.package if checker else str(checked_by),
        checker=checker,
        **extra,  # type: ignore[arg-type]
    )


def _gcc(prefix: str, package: str | None = None, *flags: str, uapi: str | None = "cross",
         gcc: str | None = None, elf_format: str = "", libc: tuple[str, ...] = ()) -> Checker:
    """A Debian cross gcc ``<prefix>-gcc`` (package ``gcc-<prefix>``); ``uapi="cross"``: the
    target is checked on its cross tree ``/usr/<prefix>/include``."""
    dirs = (f"/usr/{prefix}/include",) if uapi == "cross" else (uapi,) if uapi else ()
    return Checker(gcc or f"{prefix}-gcc", package or "gcc-" + prefix.replace("_", "-"),
                   tuple(flags), dirs, elf_format, libc)


def _gcc_macros(**values: str) -> tuple[str, ...]:
    """clang flags that give predefined macros the values the target's gcc gives them
    (``gcc -dM -E``, taken once): headers choose their declarations by them."""
    return tuple(f for name, value in values.items() for f in (f"-U{name}", f"-D{name}={value}"))


def _fast_int(bits: int, c_type: str, width: int) -> dict[str, str]:
    """``__INT_FAST<bits>_*`` / ``__UINT_FAST<bits>_*`` as a gcc whose fast type is
    ``c_type`` (``int``, ``long int``: ``width`` bits) predefines them."""
    smax, umax = {16: ("0x7fff", "0xffffU"), 32: ("0x7fffffff", "0xffffffffU")}[width]
    return {f"__INT_FAST{bits}_TYPE__": c_type, f"__UINT_FAST{bits}_TYPE__": f"unsigned {c_type}",
            f"__INT_FAST{bits}_MAX__": smax, f"__UINT_FAST{bits}_MAX__": umax,
            f"__INT_FAST{bits}_WIDTH__": str(width)}


# newlib and picolibc (arm-none-eabi, riscv64-unknown-elf): int_least32_t is long
_NEWLIB_LEAST32 = {"__INT_LEAST32_TYPE__": "long int",
                   "__UINT_LEAST32_TYPE__": "long unsigned int"}

_NOT_WINDOWS = "!defined(_WIN32)"
_LE = "__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__"
_BE = "__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__"
_ARM_M = "defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'"

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        _t("i386", "i386-linux-gnu", 32, "little", "x86 linux default",
           "i686-linux-gnu", "i386-linux-gnu", _gcc("i686-linux-gnu"),
           clang_flags=("-march=i686",),  # (Debian's i386 gcc: __i686__, no SSE macros)
           predicate=f"defined(__i386__) && {_NOT_WINDOWS}", model=dm.I386),
        _t("x86_64", "x86_64-linux-gnu", 64, "little", "x86 linux default",
           "x86_64-linux-gnu", "x86_64-linux-gnu",
           Checker("x86_64-linux-gnu-gcc", "gcc (host)", (),
                   ("/usr/include/x86_64-linux-gnu", "/usr/include")),
           predicate=f"defined(__x86_64__) && !defined(__ILP32__) && {_NOT_WINDOWS}",
           model=dm.X86_64),
        _t("x32", "x86_64-linux-gnux32", 32, "little", "x86 linux default",
           "x86_64-linux-gnux32", "x86_64-linux-gnux32", _gcc("x86_64-linux-gnux32"),
           predicate=f"defined(__x86_64__) && defined(__ILP32__) && {_NOT_WINDOWS}",
           model=dm.X32),
        _t("arm", "arm-linux-gnueabihf", 32, "little", "linux default",
           "arm-linux-gnueabihf", "arm-linux-gnueabihf", _gcc("arm-linux-gnueabihf"),
           # Debian's armhf gcc: ARMv7-A, Thumb-2, VFPv3-D16 (__ARM_ARCH 7, clang's triple 6)
           clang_flags=("-march=armv7-a", "-mfpu=vfpv3-d16", "-mthumb"),
           predicate="defined(__arm__) && defined(__ARM_EABI__) && !defined(__aarch64__) "
                     f"&& !({_ARM_M}) && {_NOT_WINDOWS}", model=dm.ARM),
        _t("aarch64", "aarch64-linux-gnu", 64, "little", "linux default",
           "aarch64-linux-gnu", "aarch64-linux-gnu", _gcc("aarch64-linux-gnu"),
           predicate=f"defined(__aarch64__) && !defined(__ILP32__) && {_NOT_WINDOWS}",
           model=dm.AARCH64),
        _t("riscv32", "riscv32-linux-gnu", 32, "little", "linux embedded",
           None, None,
           _gcc("riscv64-unknown-elf", "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
                "-march=rv32imac", "-mabi=ilp32", uapi=None),
           predicate="defined(__riscv) && __riscv_xlen == 32", model=dm.RISCV32,
           notes="UAPI checks read riscv64's cross tree (the same asm-generic UAPI)"),
        _t("riscv64", "riscv64-linux-gnu", 64, "little", "linux",
           "riscv64-linux-gnu", "riscv64-linux-gnu", _gcc("riscv64-linux-gnu"),
           predicate="defined(__riscv) && __riscv_xlen == 64", model=dm.RISCV64),
        _t("ppc", "powerpc-linux-gnu", 32, "big", "linux",
           "powerpc-linux-gnu", "powerpc-linux-gnu", _gcc("powerpc-linux-gnu"),
           predicate="defined(__powerpc__) && !defined(__powerpc64__)", model=dm.PPC),
        _t("ppc64", "powerpc64-linux-gnu", 64, "big", "linux",
           "powerpc64-linux-gnu", "powerpc64-linux-gnu", _gcc("powerpc64-linux-gnu"),
           predicate=f"defined(__powerpc64__) && {_BE}", model=dm.PPC64),
        _t("ppc64le", "powerpc64le-linux-gnu", 64, "little", "linux",
           "powerpc64le-linux-gnu", "powerpc64le-linux-gnu", _gcc("powerpc64le-linux-gnu"),
           predicate=f"defined(__powerpc64__) && {_LE}", model=dm.PPC64LE),
        _t("s390x", "s390x-linux-gnu", 64, "big", "linux",
           "s390x-linux-gnu", "s390x-linux-gnu", _gcc("s390x-linux-gnu"),
           predicate="defined(__s390x__)", model=dm.S390X),
        _t("mips", "mips-linux-gnu", 32, "big", "linux",
           "mips-linux-gnu", "mips-linux-gnu", _gcc("mips-linux-gnu"),
           predicate=f"defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABIO32 && {_BE}",
           model=dm.MIPS),
        _t("mips64", "mips64-linux-gnuabi64", 64, "big", "linux",
           "mips64-linux-gnuabi64", "mips64-linux-gnuabi64", _gcc("mips64-linux-gnuabi64"),
           predicate=f"defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABI64 && {_BE}",
           model=dm.MIPS64),
        _t("sparc64", "sparc64-linux-gnu", 64, "big", "linux",
           "sparc64-linux-gnu", "sparc64-linux-gnu", _gcc("sparc64-linux-gnu"),
           predicate="defined(__sparc__) && defined(__arch64__)", model=dm.SPARC64),
        _t("loongarch64", "loongarch64-linux-gnu", 64, "little", "linux",
           None, None, "clang only",
           predicate="defined(__loongarch__) && __loongarch_grlen == 64",
           model=dm.LOONGARCH64),
        _t("m68k", "m68k-linux-gnu", 32, "big", "linux",
           "m68k-linux-gnu", "m68k-linux-gnu", _gcc("m68k-linux-gnu"), engine=True,
           # gcc's default is a 68020 with a 68881 FPU: __HAVE_68881__ gives glibc's
           # jmp_buf its floating-point registers (156 bytes, not 60); and gcc's
           # predefines where clang's are wrong (the engine lays m68k out as gcc does,
           # and headers that test these must see gcc's values too)
           clang_flags=("-mcpu=68020",
                        "-U__SIZEOF_LONG_DOUBLE__", "-D__SIZEOF_LONG_DOUBLE__=12",
                        "-U__BIGGEST_ALIGNMENT__", "-D__BIGGEST_ALIGNMENT__=2"),
           predicate="defined(__m68k__)", model=dm.M68K),
        # -- added by issue 29: more Linux architectures
        _t("sparc", "sparc-linux-gnu", 32, "big", "linux",
           "sparc64-linux-gnu", None,
           _gcc("sparc64-linux-gnu", "gcc-multilib-sparc64-linux-gnu", "-m32"),
           predicate="defined(__sparc__) && !defined(__arch64__)", model=dm.SPARC,
           notes="headers: sparc64's cross tree (its glibc and asm/ serve both widths)"),
        _t("mipsel", "mipsel-linux-gnu", 32, "little", "linux",
           "mipsel-linux-gnu", "mipsel-linux-gnu",
           _gcc("mipsel-linux-gnu", "gcc-mipsel-linux-gnu libc6-dev-mipsel-cross"),
           predicate=f"defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABIO32 && {_LE}",
           model=dm.MIPSEL),
        _t("mips64el", "mips64el-linux-gnuabi64", 64, "little", "linux",
           "mips64el-linux-gnuabi64", "mips64el-linux-gnuabi64",
           _gcc("mips64el-linux-gnuabi64",
                "gcc-mips64el-linux-gnuabi64 libc6-dev-mips64el-cross"),
           predicate=f"defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABI64 && {_LE}",
           model=dm.MIPS64EL),
        # laid out by the engine: libclang lacks alpha, hppa and sh4 (the parse borrows a
        # triple of the same byte order and pointer width, with the gcc's predefined
        # macros), and lays out arc's bit-fields otherwise than its gcc
        _t("alpha", "x86_64-linux-gnu", 64, "little", "linux",
           "alpha-linux-gnu", None,
           _gcc("alpha-linux-gnu", "gcc-alpha-linux-gnu libc6.1-dev-alpha-cross"),
           engine=True, predefines=True, model=dm.ALPHA, predicate="defined(__alpha__)",
           notes="parse: x86_64's triple with alpha-linux-gnu-gcc's predefined macros"),
        _t("hppa", "mips-linux-gnu", 32, "big", "linux",
           "hppa-linux-gnu", None,
           _gcc("hppa-linux-gnu", "gcc-hppa-linux-gnu libc6-dev-hppa-cross"),
           engine=True, predefines=True, model=dm.HPPA, predicate="defined(__hppa__)",
           notes="parse: mips's triple with hppa-linux-gnu-gcc's predefined macros"),
        _t("sh4", "i386-linux-gnu", 32, "little", "linux",
           "sh4-linux-gnu", None,
           _gcc("sh4-linux-gnu", "gcc-sh4-linux-gnu libc6-dev-sh4-cross"),
           engine=True, predefines=True, model=dm.SH4, predicate="defined(__sh__)",
           notes="parse: i386's triple with sh4-linux-gnu-gcc's predefined macros"),
        _t("arc", "arc-linux-gnu", 32, "little", "linux",
           "arc-linux-gnu", None,
           _gcc("arc-linux-gnu", "gcc-arc-linux-gnu libc6-dev-arc-cross"),
           engine=True, predefines=True, model=dm.ARC, predicate="defined(__arc__)",
           clang_flags=("-funsigned-char",),
           notes="parse: clang's arc triple with arc-linux-gnu-gcc's predefined macros"),
        _t("csky", "csky-linux-gnu", 32, "little", "linux",
           None, None, "clang only", predicate="defined(__csky__)",
           notes="no Debian gcc: clang's layout as it is"),
        _t("hexagon", "hexagon-unknown-linux-musl", 32, "little", "linux",
           None, None, "clang only", predicate="defined(__hexagon__)",
           notes="no Debian gcc: clang's layout as it is"),
        # -- bare metal
        _t("armv7m", "thumbv7m-none-eabi", 32, "little", "embedded",
           None, None,
           _gcc("arm-none-eabi", "gcc-arm-none-eabi libnewlib-arm-none-eabi",
                "-mcpu=cortex-m3", "-mthumb", uapi=None),
           # arm-none-eabi-gcc's defaults: short enums (AAPCS "variable size"), 4-byte
           # unsigned wchar_t (clang's triple has the latter already)
           clang_flags=("-fshort-enums", *_gcc_macros(
               **_fast_int(8, "int", 32), **_fast_int(16, "int", 32), **_NEWLIB_LEAST32,
               __SIG_ATOMIC_TYPE__="int")),
           predicate=f"defined(__arm__) && {_ARM_M}",
           model=dm.ARMV7M,
           notes="AAPCS as arm-none-eabi-gcc defaults: short enums, 4-byte unsigned wchar_t"),
        _t("avr", "avr-unknown-unknown", 16, "little", "embedded",
           None, None, _gcc("avr", "gcc-avr avr-libc", "-mmcu=atmega328p", "-gdwarf-4",
                                    uapi=None),  # (gcc-avr 5.4: stabs by default)
           # clang places bit-fields at their type's unit as with alignment; gcc packs them
           # at the next free bit (no PCC_BITFIELD_TYPE_MATTERS): the engine lays avr out
           engine=True, model=dm.AVR,
           clang_flags=("-mmcu=atmega328p", *_gcc_macros(__SIG_ATOMIC_TYPE__="char")),
           builtin_headers=True,
           predicate="defined(__AVR__)",
           notes="16-bit int and pointers; every type 1-aligned; double is 32-bit"),
        _t("xtensa", "xtensa-unknown-elf", 32, "little", "linux embedded",
           None, None,
           _gcc("xtensa-lx106-elf", "gcc-xtensa-lx106 picolibc-xtensa-lx106-elf", uapi=None),
           engine=True, predefines=True, model=dm.XTENSA, builtin_headers=True,
           clang_flags=("-funsigned-char", "-fshort-wchar"),
           predicate="defined(__XTENSA__)",
           notes="ESP8266 (lx106); clang's xtensa triple with the gcc's predefined macros "
                 "(2-byte wchar_t); no Debian UAPI tree: generated records and the seed"),
        _t("msp430", "msp430-unknown-elf", 16, "little", "embedded",
           None, None, "clang only", builtin_headers=True, predicate="defined(__MSP430__)"),
        # -- Windows
        _t("win32", "i686-pc-windows-msvc", 32, "little", "windows",
           None, None, "clang only (MSVC rules)",
           predicate="defined(_WIN32) && !defined(_WIN64) && !defined(__MINGW32__)",
           model=dm.WIN32),
        _t("win64", "x86_64-pc-windows-msvc", 64, "little", "windows",
           None, None, "clang only (MSVC rules)",
           predicate="defined(_WIN64) && !defined(__MINGW32__)", model=dm.WIN64),
        _t("mingw32", "i686-w64-windows-gnu", 32, "little", "windows",
           None, None, _gcc("i686-w64-mingw32", "gcc-mingw-w64-i686", uapi=None,
                                     elf_format="elf32-i386",
                                     libc=("/usr/i686-w64-mingw32/include",)),
           clang_flags=("-march=i686", *_gcc_macros(__SIG_ATOMIC_TYPE__="int")),
           predicate="defined(_WIN32) && !defined(_WIN64) && defined(__MINGW32__)",
           notes="MinGW-w64 GCC rules: -mms-bitfields, long double 12/4, double and long "
                 "long 8-aligned; known limitation: packed bit-fields and the alignment of "
                 "a union of long long bit-fields are clang's, not gcc's"),
        _t("mingw64", "x86_64-w64-windows-gnu", 64, "little", "windows",
           None, None, _gcc("x86_64-w64-mingw32", "gcc-mingw-w64-x86-64", uapi=None,
                                     elf_format="elf64-x86-64",
                                     libc=("/usr/x86_64-w64-mingw32/include",)),
           clang_flags=_gcc_macros(__SIG_ATOMIC_TYPE__="int"),
           predicate="defined(_WIN64) && defined(__MINGW32__)",
           notes="MinGW-w64 GCC rules: -mms-bitfields, long double 16/16; known "
                 "limitation: packed bit-fields are clang's, not gcc's"),
        _t("wasm32", "wasm32-unknown-unknown", 32, "little", "",
           None, None, "clang only", predicate="defined(__wasm32__)"),
        # Hypothetical: the parse borrows x86_64 (triple and headers); the data model differs.
        # (no compiler has them today: the predicates name what one would define)
        _t("lp128", "x86_64-linux-gnu", 128, "little", "future",
           "x86_64-linux-gnu", "x86_64-linux-gnu", "none (hypothetical)",
           hypothetical=True, engine=True, model=dm.LP128,
           predicate="__SIZEOF_POINTER__ == 16 && __SIZEOF_LONG__ == 16"),
        _t("cheri128", "x86_64-linux-gnu", 128, "little", "future",
           "x86_64-linux-gnu", "x86_64-linux-gnu", "none (hypothetical)",
           hypothetical=True, engine=True, model=dm.CHERI128,
           predicate="defined(__CHERI_PURE_CAPABILITY__) && __SIZEOF_POINTER__ == 16"),
    )
}

# Every data model by target name: what :data:`abiscope.datamodels.MODELS` serves.
MODELS: dict[str, DataModel] = {t.name: t.model for t in TARGETS.values() if t.model}

GROUPS: tuple[str, ...] = ("x86", "linux", "embedded", "windows", "future", "all", "default")

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
