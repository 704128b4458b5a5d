"""Build variants: a target built another way, ``TARGET+VARIANT[+VARIANT…]`` (``arm+time64``).

A variant is what a build adds to the compiler's command line that can change a layout:
macros (``-D``/``-U``: glibc's ``_TIME_BITS=64`` and ``_FILE_OFFSET_BITS=64`` choose other
types) and the few code-generation flags of :data:`FLAGS` (``-fshort-enums``,
``-malign-double``), each checked against GCC (docs/variants.md). A variant target is the
base target (:mod:`abiscope.targets`) with the variant's clang arguments appended to its
``clang_flags`` and the full name (``arm+time64``) as its name: it parses, caches and lays out
as a target of its own, everywhere a target name is accepted. The built-in variants are
:data:`BUILTIN`; ``abiscope.toml`` defines more (``[variants.NAME]``, :func:`configure`).

Owns variant names, their parsing and their command lines; knows nothing about parsing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .datamodels import DataModel
from .errors import InputError, UsageError
from .targets import ALIASES, MODELS, TARGETS, Selection, Target

_X86 = ("i386", "x86_64", "x32")


@dataclass(frozen=True)
class Flag:
    """A layout-affecting GCC option abiscope honours: what clang is told for it, and the
    registry targets it applies to (empty: every target)."""

    gcc: str
    clang: tuple[str, ...]
    only: tuple[str, ...] = ()
    doc: str = ""


#: The allow-list of ``flags`` a variant may carry (GCC spelling), each checked against GCC
#: over the generated-record fuzzer (tests/test_variants_gcc.py, bench/fuzz_layout.py).
FLAGS: Mapping[str, Flag] = {f.gcc: f for f in (
    Flag("-fshort-enums", ("-fshort-enums",),
         doc="an enum takes the smallest integer type that holds its values"),
    Flag("-fno-short-enums", ("-fno-short-enums",),
         doc="enums are int-sized (for a toolchain whose default is short enums)"),
    # clang's -malign-double also aligns long double at 8; GCC keeps it at 4 (12/4 as on
    # plain i386): -mlong-double-80 restores the 96-bit, 4-aligned long double after it
    Flag("-malign-double", ("-malign-double", "-mlong-double-80"), only=("i386",),
         doc="double, long long and their _Complex and _Atomic forms are 8-aligned in "
             "records (long double stays 12/4)"),
    Flag("-mlong-double-64", ("-mlong-double-64",), only=_X86,
         doc="long double is double (8 bytes, aligned as double)"),
    Flag("-mlong-double-128", ("-mlong-double-128",), only=_X86,
         doc="long double is 16 bytes, 16-aligned (binary128)"),
)}
_LONG_DOUBLE = ("-mlong-double-64", "-mlong-double-128")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class Variant:
    """One build variant: the macros it defines or undefines and the :data:`FLAGS` it adds."""

    name: str
    defines: tuple[str, ...] = ()
    undefines: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    description: str = ""
    origin: str = "built-in"  # or the configuration file that defines it

    @property
    def only(self) -> tuple[str, ...]:
        """The registry targets the variant applies to (empty: every target)."""
        limits = [set(FLAGS[f].only) for f in self.flags if FLAGS[f].only]
        if not limits:
            return ()
        common = set.intersection(*limits)
        return tuple(t for t in TARGETS if t in common)

    def gcc_args(self) -> list[str]:
        """What GCC is told for this variant (the oracle's command line)."""
        return [*(f"-D{d}" for d in self.defines), *(f"-U{u}" for u in self.undefines),
                *self.flags]

    def clang_args(self) -> list[str]:
        """What clang is told for this variant (appended to the target's ``clang_flags``)."""
        return [*(f"-D{d}" for d in self.defines), *(f"-U{u}" for u in self.undefines),
                *(a for f in self.flags for a in FLAGS[f].clang)]


#: The built-in variants, in the order ``abiscope targets`` lists them.
BUILTIN: Mapping[str, Variant] = {v.name: v for v in (
    Variant("time64", defines=("_TIME_BITS=64", "_FILE_OFFSET_BITS=64"),
            description="64-bit time_t and off_t on 32-bit glibc (Debian armhf's transition)"),
    Variant("lfs", defines=("_FILE_OFFSET_BITS=64",),
            description="large file support: 64-bit off_t, ino_t, … on 32-bit glibc"),
    Variant("short-enums", flags=("-fshort-enums",),
            description="enums take the smallest integer type that holds their values"),
    Variant("no-short-enums", flags=("-fno-short-enums",),
            description="int-sized enums, for a toolchain whose default is short enums"),
    Variant("align-double", flags=("-malign-double",),
            description="double and long long 8-aligned in records (long double stays 12/4)"),
)}

# Variants of the configuration file (:func:`configure`), by name.
_configured: dict[str, Variant] = {}


def known() -> dict[str, Variant]:
    """Every variant a name may carry: the built-in ones, then the configuration's."""
    return {**BUILTIN, **_configured}


def configure(path: str | None, table: Any) -> None:
    """Replace the configured variants with ``[variants.NAME]`` of the file ``path``
    (``table``: that table, ``{}`` without one). Keys: ``defines``, ``undefines``,
    ``flags`` (lists of strings; ``flags`` only from :data:`FLAGS`), ``description``."""
    where = path or "configuration"
    found: dict[str, Variant] = {}
    if not isinstance(table, dict):
        raise InputError(f"{where}: [variants] must be a table of [variants.NAME] tables")
    for name, spec in table.items():
        if not _NAME_RE.match(name):
            raise InputError(f"{where}: variant name {name!r}: use lower-case letters, "
                             "digits, '-', '_' and '.' (it follows a target after '+')")
        if name in BUILTIN:
            raise InputError(f"{where}: [variants.{name}] redefines the built-in variant "
                             f"{name!r}; give yours another name")
        if not isinstance(spec, dict):
            raise InputError(f"{where}: [variants.{name}] must be a table")
        spec = {k.replace("_", "-"): v for k, v in spec.items()}
        unknown = sorted(set(spec) - {"defines", "undefines", "flags", "description"})
        if unknown:
            raise InputError(f"{where}: [variants.{name}]: unknown key(s) "
                             f"{', '.join(unknown)}; known: defines, undefines, flags, "
                             "description")
        lists = {}
        for key in ("defines", "undefines", "flags"):
            value = spec.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{where}: [variants.{name}] {key} must be a list of strings")
            lists[key] = tuple(v.strip() for v in value if v.strip())
        for flag in lists["flags"]:
            if flag not in FLAGS:
                raise InputError(
                    f"{where}: [variants.{name}] flag {flag!r} is not one abiscope honours"
                    f"{_hint(flag, FLAGS)}; allowed (docs/variants.md): "
                    f"{', '.join(FLAGS)}; macros go in defines/undefines")
        for key in ("defines", "undefines"):
            for value in lists[key]:
                if value.startswith("-"):
                    raise InputError(f"{where}: [variants.{name}] {key}: {value!r}: write "
                                     "the macro without -D/-U (NAME or NAME=VALUE)")
        description = spec.get("description", "")
        if not isinstance(description, str):
            raise InputError(f"{where}: [variants.{name}] description must be a string")
        variant = Variant(name, lists["defines"], lists["undefines"], lists["flags"],
                          description, where)
        _check_flags(variant.flags, f"{where}: [variants.{name}]")
        found[name] = variant
    _configured.clear()
    _configured.update(found)
    lookup.cache_clear()


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_flags(flags: Sequence[str], what: str) -> None:
    """Refuse contradicting flags (``-fshort-enums`` with ``-fno-short-enums``, two sizes of
    ``long double``)."""
    for pair in (("-fshort-enums", "-fno-short-enums"), _LONG_DOUBLE):
        if all(f in flags for f in pair):
            raise UsageError(f"{what}: {' and '.join(pair)} contradict each other")


def parse_word(word: str) -> tuple[str, tuple[Variant, ...]]:
    """``TARGET+V1+V2`` → the target part and the variants, in order (UsageError for an
    unknown, repeated or contradicting variant)."""
    base, *names = word.split("+")
    variants = known()
    chosen: list[Variant] = []
    for name in names:
        if name not in variants:
            listed = ", ".join(variants)
            raise UsageError(
                f"unknown variant {name!r} in target {word!r}{_hint(name, variants)}; "
                f"known variants: {listed} (abiscope targets lists them; define more in "
                "abiscope.toml as [variants.NAME])")
        if any(v.name == name for v in chosen):
            raise UsageError(f"target {word!r} names the variant {name!r} twice")
        chosen.append(variants[name])
    if not base:
        raise UsageError(f"target {word!r}: no target before '+' (e.g. arm+{names[0]})")
    _check_flags([f for v in chosen for f in v.flags], f"target {word!r}")
    return base, tuple(chosen)


def apply(target: Target, variants: Sequence[Variant], spelled: str = "") -> Target:
    """``target`` built with ``variants``: named ``target+v1+v2``, the variants' clang
    arguments after the target's own. ``spelled``: the word the user wrote (for errors)."""
    if not variants:
        return target
    for v in variants:
        if v.only and target.name not in v.only:
            raise UsageError(
                f"variant {v.name!r} applies to {', '.join(v.only)} only, not to "
                f"{target.name}" + (f" (in {spelled!r})" if spelled else "")
                + f": {', '.join(f for f in v.flags if FLAGS[f].only)} is an option of "
                f"{'/'.join(v.only)}'s GCC alone")
    args = tuple(a for v in variants for a in v.clang_args())
    if any(a in _LONG_DOUBLE for a in args):  # (align-double's 80-bit long double: not then)
        args = tuple(a for a in args if a != "-mlong-double-80")
    return replace(target, name="+".join([target.name, *(v.name for v in variants)]),
                   clang_flags=(*target.clang_flags, *args))


def expand_word(word: str, resolve_base: Callable[[str], Selection]) -> Selection:
    """One ``--target`` word with variants: its target part resolved (``resolve_base``:
    :func:`abiscope.targets.resolve`; a group gives each member) and each target built with
    the variants."""
    base, variants = parse_word(word)
    picked = resolve_base(base)
    return Selection(tuple(apply(t, variants, word) for t in picked.targets),
                     tuple(apply(t, variants, word) for t in picked.left_out
                           if not any(v.only and t.name not in v.only for v in variants)))


def base_name(name: str) -> str:
    """The target part of a (variant) target name: ``arm`` of ``arm+time64``."""
    return name.split("+", 1)[0]


def variants_of(name: str) -> tuple[str, ...]:
    """The variant names a target name carries: ``("time64",)`` of ``arm+time64``."""
    return tuple(name.split("+")[1:])


@lru_cache(maxsize=256)
def lookup(name: str) -> Target | None:
    """The target a full name (``arm``, ``armhf+time64``, a triple with variants) stands
    for, or None when it names none (a group, an unknown word, an unknown variant)."""
    from .targets import _TRIPLE_RE, raw_triple_target

    try:
        base, variants = parse_word(name)
    except UsageError:
        return None
    base = ALIASES.get(base, base)
    target = TARGETS.get(base)
    if target is None:
        if not _TRIPLE_RE.match(base):
            return None
        target = raw_triple_target(base)
    try:
        return apply(target, variants)
    except UsageError:
        return None


def model_for(name: str) -> DataModel | None:
    """The layout engine's data model of a (variant) target: its base target's, changed
    where a variant's flags change what the engine follows (``-malign-double``)."""
    base = MODELS.get(base_name(name))
    if base is None or "+" not in name:
        return base
    variants = known()
    flags = {f for v in variants_of(name) if v in variants for f in variants[v].flags}
    model = _align_double(base) if "-malign-double" in flags else base
    for flag in _LONG_DOUBLE:
        if flag in flags:
            model = _long_double(model, flag)
    return model


_ALIGN_DOUBLE: dict[str, DataModel] = {}


def _align_double(model: DataModel) -> DataModel:
    """i386 under ``-malign-double`` (GCC ``TARGET_ALIGN_DOUBLE``: ``x86_field_alignment``
    no longer caps a field at 4): double and long long, and the 8-byte integer typedefs,
    8-aligned; long double keeps 12/4 (XFmode's alignment is not the option's)."""
    if model.name not in _ALIGN_DOUBLE:
        scalars = dict(model.scalars)
        for name in ("double", "long long", "unsigned long long"):
            scalars[name] = (scalars[name][0], 8)
        widths = {n: (s, 8 if s == 8 else a, signed) for n, (s, a, signed)
                  in model.width_names.items()}
        _ALIGN_DOUBLE[model.name] = replace(
            model, name=model.name + "+align-double", scalars=scalars, width_names=widths,
            field_align_cap=None)
    return _ALIGN_DOUBLE[model.name]


_LONG_DOUBLES: dict[tuple[str, str], DataModel] = {}


def _long_double(model: DataModel, flag: str) -> DataModel:
    """``model`` with GCC's x86 ``-mlong-double-64`` (long double = double, aligned as
    double) or ``-mlong-double-128`` (16/16)."""
    if (model.name, flag) not in _LONG_DOUBLES:
        scalars = dict(model.scalars)
        scalars["long double"] = (8, scalars["double"][1]) if flag == "-mlong-double-64" \
            else (16, 16)
        _LONG_DOUBLES[model.name, flag] = replace(
            model, name=f"{model.name}+{flag.lstrip('-')}", scalars=scalars)
    return _LONG_DOUBLES[model.name, flag]


def listing() -> list[dict[str, Any]]:
    """The known variants, for ``abiscope targets`` (JSON objects: name, defines,
    undefines, flags, clang_args, only, description, origin)."""
    return [{"name": v.name, "defines": list(v.defines), "undefines": list(v.undefines),
             "flags": list(v.flags), "clang_args": v.clang_args(), "only": list(v.only),
             "description": v.description, "origin": v.origin}
            for v in known().values()]


# What a flag predefines, where it predefines something (ACLE's __ARM_SIZEOF_MINIMAL_ENUM,
# GCC and clang alike on arm and aarch64): arch prefixes of the clang triple -> condition
_FLAG_MACROS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "-fshort-enums": (("arm", "thumb", "aarch64"), "__ARM_SIZEOF_MINIMAL_ENUM == 1"),
    "-fno-short-enums": (("arm", "thumb", "aarch64"), "__ARM_SIZEOF_MINIMAL_ENUM == 4"),
}


def predicate(name: str, base_predicate: Any) -> str | None:
    """The ``#if`` condition of a variant target for generated code: its base target's
    (``base_predicate(base name)``) and the variants' macros (``_TIME_BITS == 64``,
    ``__ARM_SIZEOF_MINIMAL_ENUM == 1`` for ``short-enums`` on arm); None where a variant's
    flags predefine nothing to test (``-fshort-enums`` elsewhere, ``-malign-double``) or the
    base has no condition. List a variant target before its base in an ``#if``/``#elif``
    chain: the base's condition holds for the variant's builds too."""
    target = lookup(name)
    cond = None if target is None else base_predicate(base_name(target.name))
    if target is None or cond is None:
        return None
    variants = known()
    parts = [cond]
    for v in (variants[n] for n in variants_of(name)):
        for flag in v.flags:
            archs, test = _FLAG_MACROS.get(flag, ((), ""))
            if not archs or not target.triple.startswith(archs):
                return None
            parts.append(test)
        for d in v.defines:
            macro, eq, value = d.partition("=")
            parts.append(f"defined({macro}) && {macro} == {value}"
                         if eq and re.fullmatch(r"-?\w+", value) else f"defined({macro})")
        parts += [f"!defined({u})" for u in v.undefines]
    return " && ".join(f"({p})" if "||" in p else p for p in parts)
