"""What a parse is given: :class:`ParseOptions`, the include dirs each target searches,
and the clang command line they make.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache

from ..targets import Target
from .bindings import builtin_include_dir


@dataclass(frozen=True)
class ParseOptions:
    """What a C compiler would be told, besides the target."""

    include_dirs: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    undefines: tuple[str, ...] = ()
    force_includes: tuple[str, ...] = ()
    std: str = "gnu11"
    sysroots: tuple[tuple[str, str], ...] = ()  # (target name, include dir) from --sysroot
    system_dirs: bool = True  # discover per-target system include dirs
    freestanding: bool = False  # clang's freestanding headers even where a libc tree exists
    all_files: bool = False  # collect every record, not only the inputs' and what they use
    macros: bool = False  # evaluate the inputs' ioctl request macros (_IO, _IOR, _IOW, …)
    macro_names: tuple[str, ...] = ()  # further object-like macros to evaluate
    unsaved: tuple[tuple[str, str], ...] = ()  # (path, text): parse this text for that file
    extra_args: tuple[str, ...] = field(default=())
    allow_include_outside: bool = False  # no include sandbox (see abiscope.sandbox)
    # headers to include before one that does not parse alone: ("auto",) tries its
    # directory's other headers, then sys/types.h &c. (frontend.prelude)
    prelude: tuple[str, ...] = ()


def system_include_dirs(target: Target, options: ParseOptions) -> list[str]:
    """Per-target system include dirs: ``--sysroot`` first, else Debian's where they exist,
    in the order the target's Debian gcc searches them (``gcc -xc -E -v /dev/null``).

    The host's multiarch layout (``/usr/local/include``, ``/usr/include/<multiarch>``,
    ``/usr/include``) serves the target it was made for; any other Linux target uses its
    cross tree ``/usr/<gnu-triple>/include`` (from ``libc6-dev-<arch>-cross``: ``asm/``,
    ``linux/`` and libc headers of that target), then the host's ``/usr/include``, where
    the architecture-independent headers of ``-dev`` packages live (``zlib.h``), as Debian's
    cross gccs do. Nothing is added for a target without one.
    """
    given = [d for t, d in options.sysroots  # (a variant target: its base target's too)
             if t in (target.name, target.name.split("+", 1)[0], target.triple)]
    if given or not options.system_dirs:
        return given
    dirs: list[str] = []
    if target.multiarch and os.path.isdir(f"/usr/include/{target.multiarch}"):
        local = ["/usr/local/include"] if os.path.isdir("/usr/local/include") else []
        dirs += [*local, f"/usr/include/{target.multiarch}", "/usr/include"]
    elif target.gnu_triple and os.path.isdir(f"/usr/{target.gnu_triple}/include"):
        dirs.append(f"/usr/{target.gnu_triple}/include")
        if os.path.isdir("/usr/include"):
            dirs.append("/usr/include")
    return dirs


def hosted(target: Target, options: ParseOptions) -> bool:
    """Whether the target is parsed hosted, as its gcc compiles: a ``*-linux-gnu*`` target
    with system include dirs, unless ``--freestanding``. Hosted, clang's ``<stdint.h>``,
    ``<limits.h>`` and ``<inttypes.h>`` hand over to the libc's (glibc's ``<stdint.h>``
    includes ``<features.h>``, which defines ``__BEGIN_DECLS``, ``__flexarr``, …), as
    GCC's do; freestanding, they are clang's alone."""
    return (not options.freestanding and "-linux-gnu" in target.triple
            and bool(system_include_dirs(target, options)))


def search_dirs(target: Target, options: ParseOptions) -> list[str]:
    """The ``-I`` and system include directories of one target's clang, in search order
    (clang's builtin headers come from libclang itself, named by its version)."""
    return [*options.include_dirs, *system_include_dirs(target, options)]


# abiscope's own headers, searched after -I and before clang's builtin ones
# (data/*/*.h say why): for Linux targets a <stdint.h> with GCC's and glibc's fast types;
# for every target a GCC compiles a <stddef.h> with GCC's max_align_t
_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
GNU_INCLUDE_DIR = os.path.join(_DATA, "gnu-include")
GCC_INCLUDE_DIR = os.path.join(_DATA, "gcc-include")


def gnu_include_dirs(target: Target) -> list[str]:
    """:data:`GNU_INCLUDE_DIR` for the targets whose GCC and libc are GNU's (``*-linux-gnu*``),
    and :data:`GCC_INCLUDE_DIR` for those and every other target a GCC compiles (bare metal,
    MinGW: GCC's own ``<stddef.h>``); none for the others (MSVC, wasm32, clang-only)."""
    linux = "-linux-gnu" in target.triple
    gcc = linux or target.checked_by.startswith("gcc")
    return [*([GNU_INCLUDE_DIR] if linux else []), *([GCC_INCLUDE_DIR] if gcc else [])]


def gnu_predefines(target: Target) -> list[str]:
    """GCC's predefined macros where clang's differ, for the ``*-linux-gnu`` targets: the
    fast 16- and 32-bit types are long where long is 64 bits and int elsewhere
    (gcc/config/glibc-stdint.h; clang predefines the least types, short and int), with
    their limits, widths and format letters; and ``__SIG_ATOMIC_TYPE__``, which clang does
    not predefine (GCC: int). The same as :data:`GNU_INCLUDE_DIR`'s ``<stdint.h>`` gives
    the typedefs."""
    if "-linux-gnu" not in target.triple:
        return []
    wide = target.long_bits == 64  # (the entry's data model, else the pointer width)
    signed, unsigned = ("long int", "long unsigned int") if wide else ("int", "unsigned int")
    smax, umax = ("0x7fffffffffffffffL", "0xffffffffffffffffUL") if wide \
        else ("0x7fffffff", "0xffffffffU")
    letter = "l" if wide else ""
    out = ["-U__SIG_ATOMIC_TYPE__", "-D__SIG_ATOMIC_TYPE__=int"]
    for bits in ("16", "32"):
        values = {f"__INT_FAST{bits}_TYPE__": signed, f"__UINT_FAST{bits}_TYPE__": unsigned,
                  f"__INT_FAST{bits}_MAX__": smax, f"__UINT_FAST{bits}_MAX__": umax,
                  f"__INT_FAST{bits}_WIDTH__": "64" if wide else "32"}
        values.update({f"__INT_FAST{bits}_FMT{c}__": f'"{letter}{c}"' for c in "di"})
        values.update({f"__UINT_FAST{bits}_FMT{c}__": f'"{letter}{c}"' for c in "ouxX"})
        for name, value in values.items():
            out += [f"-U{name}", f"-D{name}={value}"]
    return out


@cache
def _builtin_dir() -> str | None:
    return builtin_include_dir()


def builtin_dirs(target: Target) -> list[str]:
    """libclang's builtin-header dir for a target whose clang toolchain adds none (avr,
    msp430: ``<stddef.h>`` would not be found); none for the others (clang adds it)."""
    found = _builtin_dir() if target.builtin_headers else None
    return [found] if found else []


PREDEFINES_DIR = os.path.join(_DATA, "predefines")
# what clang keeps under -undef, or sets by its own options (-ffreestanding)
_CLANG_KEEPS = ("__STDC__", "__STDC_VERSION__", "__STDC_HOSTED__")
# the GCC version clang claims (4.2.1) instead of the gcc's: headers then choose what they
# choose for clang (glibc's <bits/floatn.h> would otherwise use GCC 7's _Float32x & co.,
# keywords clang does not have)
_CLANG_GNUC = {"__GNUC__": "4", "__GNUC_MINOR__": "2", "__GNUC_PATCHLEVEL__": "1"}


@cache
def gcc_predefines(target: Target) -> tuple[str, ...]:
    """``-undef`` and a ``-D`` for every macro the target's gcc predefines (shipped as
    ``data/predefines/<name>.h``, :attr:`Target.predefines`); nothing for other targets."""
    if not target.predefines:
        return ()
    flags = ["-undef"]
    with open(os.path.join(PREDEFINES_DIR, f"{target.name}.h"), encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#define "):
                continue
            name, _, value = line[len("#define "):].rstrip("\n").partition(" ")
            if name not in _CLANG_KEEPS:
                flags.append(f"-D{name}={_CLANG_GNUC.get(name, value)}")
    return tuple(flags)


def clang_args(target: Target, options: ParseOptions) -> list[str]:
    """The full, hermetic clang command line for one target (without the input file)."""
    args = ["-x", "c", f"--target={target.triple}", *target.clang_flags,
            *gcc_predefines(target), f"-std={options.std}",
            "-nostdlibinc", *([] if hosted(target, options) else ["-ffreestanding"]),
            "-fno-spell-checking", "-Wno-everything",
            "-fbracket-depth=256"]  # clang's default; without it libclang 22 overflows its stack
    args += [f"-I{d}" for d in options.include_dirs]
    for d in [*gnu_include_dirs(target), *builtin_dirs(target)]:
        args += ["-isystem", d]
    args += gnu_predefines(target)  # (before the user's -D and -U: theirs win)
    args += [f"-D{d}" for d in options.defines]
    args += [f"-U{u}" for u in options.undefines]
    for inc in options.force_includes:
        args += ["-include", inc]
    for d in system_include_dirs(target, options):
        args += ["-idirafter", d]
    return args + list(options.extra_args)
