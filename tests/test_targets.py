"""The target registry: names, groups, raw triples, and clear errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.errors import UsageError
from abiscope.targets import GROUPS, TARGETS, group_members, resolve
from conftest import skip_or_fail
from oracle.gcc_dwarf import CHECKERS, GCC_FOR_TARGET, find_gcc


def names(spec: str) -> list[str]:
    return [t.name for t in resolve(spec).targets]


def test_default_group_is_the_32_64_pairs() -> None:
    assert names("default") == ["i386", "x86_64", "x32", "arm", "aarch64"]


def test_groups_expand_in_order_without_duplicates() -> None:
    assert names("x86,i386,arm") == ["i386", "x86_64", "x32", "arm"]


def test_linux_group_includes_m68k_laid_out_by_the_engine() -> None:
    selection = resolve("linux")
    assert "m68k" in [t.name for t in selection.targets] and not selection.left_out
    assert TARGETS["m68k"].engine


def test_future_group_is_the_hypothetical_models() -> None:
    assert names("future") == ["lp128", "cheri128"]
    assert all(t.hypothetical and t.pointer_bits == 128 for t in resolve("future").targets)


def test_unavailable_target_says_why() -> None:
    from dataclasses import replace

    from abiscope import targets

    original = targets.TARGETS["m68k"]
    targets.TARGETS["m68k"] = replace(original, available=False, unavailable_reason="test")
    try:
        with pytest.raises(UsageError, match=r"m68k.*not available yet: test"):
            resolve("m68k")
        assert "m68k" in [t.name for t in resolve("linux").left_out]
    finally:
        targets.TARGETS["m68k"] = original


def test_unknown_target_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown target 'vax'.*i386"):
        resolve("vax")


@pytest.mark.parametrize(("alias", "name"), [
    ("x86-64", "x86_64"), ("amd64", "x86_64"), ("i686", "i386"), ("arm64", "aarch64"),
    ("armhf", "arm"), ("ppc64el", "ppc64le"), ("powerpc", "ppc"), ("powerpc64", "ppc64")])
def test_aliases_resolve_to_the_registry_target(alias: str, name: str) -> None:
    assert names(alias) == [name]
    assert names(f"{name},{alias}") == [name]  # one target, not two


def test_sysroot_takes_an_alias(tmp_path: Path) -> None:
    import argparse

    from abiscope.cliutil import parse_options
    from abiscope.config import Config

    args = argparse.Namespace(sysroot=[f"amd64={tmp_path}"], include_dirs=[], defines=[],
                              undefines=[], force_includes=[], std=None, no_system_dirs=False,
                              all_files=False)
    assert parse_options(args, Config()).sysroots == (("x86_64", str(tmp_path)),)


def test_x86_stays_a_group_and_names_win_over_aliases() -> None:
    from abiscope.targets import ALIASES

    assert names("x86") == ["i386", "x86_64", "x32"]
    assert not set(ALIASES) & (set(TARGETS) | set(GROUPS))


@pytest.mark.parametrize(("typo", "hint"), [
    ("x86_46", "x86_64"), ("X86_64", "x86_64"), ("aarch46", "aarch64"), ("amd46", "x86_64")])
def test_near_miss_says_did_you_mean(typo: str, hint: str) -> None:
    with pytest.raises(UsageError, match=rf"did you mean {hint}\?"):
        resolve(typo)


def test_targets_command_lists_the_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from abiscope.cli import main

    assert main(["targets", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {t["name"]: t for t in doc["targets"]}
    assert by_name["x86_64"]["aliases"] == ["x86-64", "amd64"]
    assert doc["aliases"]["ppc64el"] == "ppc64le"


def test_raw_triple_passes_through() -> None:
    (t,) = resolve("riscv64-unknown-elf").targets
    assert (t.triple, t.pointer_bits, t.endian) == ("riscv64-unknown-elf", 64, "little")
    (t,) = resolve("powerpc-unknown-linux-gnu").targets
    assert t.endian == "big"


def test_every_group_is_known_and_all_is_every_real_target() -> None:
    assert set(GROUPS) == {"x86", "linux", "embedded", "windows", "future", "all", "default"}
    assert {t.name for t in group_members("all")} == {
        n for n, t in TARGETS.items() if not t.hypothetical}


# ABI-relevant predefined macros: headers choose declarations by them (glibc's jmp_buf on
# m68k, Arm's and MIPS's register sets, long double's format).
ABI_MACROS = re.compile(
    r"__SIZEOF_\w+__|__CHAR_UNSIGNED__|_CALL_ELF|__ARM_ARCH\w*|__ARM_PCS\w*|__ARM_EABI__|"
    r"__ARM_FP|__thumb2__|__mips\w*|_MIPS_SIM|_MIPS_SZ\w+|_ABIO32|_ABIN32|_ABI64|"
    r"__riscv_float_abi\w+|__riscv_xlen|__LONG_DOUBLE_\w+|_ILP32|__ILP32__|_LP64|__LP64__|"
    r"__x86_64__|__i[3-6]86__|__BYTE_ORDER__|__HAVE_68881__|__mc680[0-9]0__|"
    r"__BIGGEST_ALIGNMENT__|__s390x__|__sparc_v9__|__arch64__|_ARCH_PPC64|__powerpc64__|"
    r"__U?INT_(?:FAST|LEAST)\d+_(?:TYPE|MAX|WIDTH)__|__SIG_ATOMIC_TYPE__")
# gcc-only: types clang does not have, a spelling of its own, a code-generation choice
GCC_ONLY = {"__SIZEOF_FLOAT80__", "__SIZEOF_IBM128__", "__SIZEOF_FLOAT128__",
            "__SIZEOF_IEEE128__", "__ARM_ARCH_8A", "__mips_no_lxc1_sxc1", "__mips_no_madd4"}
# riscv32 is a Linux target (glibc's types, the ilp32d ABI) checked by a bare-metal gcc
# (picolibc's fast and least types, -mabi=ilp32): layouts agree, these macros need not
NOT_THE_CHECKERS = {"riscv32": re.compile(r"__U?INT_(?:FAST|LEAST)\d+_\w+__|__riscv_float_abi\w+")}


def _value(text: str) -> object:
    text = text.replace(" ", "")
    if re.fullmatch(r"'.'", text):
        return ord(text[1])
    number = re.fullmatch(r"(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*", text)
    if number:  # (the value: gcc writes 0x7fffffffL where clang writes 2147483647L)
        return int(number.group(1), 0)
    return {"shortint": "short", "shortunsignedint": "unsignedshort"}.get(text, text)


def _gcc_predefines(gcc: str, flags: tuple[str, ...] = ()) -> dict[str, object]:
    out = subprocess.run([gcc, *flags, "-dM", "-E", "-std=gnu11", "-x", "c", "-"], input="",
                         capture_output=True, text=True, check=True).stdout
    return {m: _value(v) for m, v in re.findall(r"#define (\S+) ?(.*)", out)}


def _clang_predefines(target: str) -> dict[str, object]:
    ci = frontend.load_cindex()
    args = frontend.clang_args(TARGETS[target], frontend.ParseOptions(system_dirs=False))
    tu = ci.Index.create().parse(
        "predefines.c", args=args, unsaved_files=[("predefines.c", "")],
        options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    return {c.spelling: _value(" ".join(t.spelling for t in list(c.get_tokens())[1:]))
            for c in tu.cursor.get_children()
            if c.kind == ci.CursorKind.MACRO_DEFINITION and c.location.file is None}


@pytest.mark.parametrize("target", list(GCC_FOR_TARGET))
def test_clang_predefines_the_abi_macros_the_targets_gcc_does(target: str) -> None:
    """Every CPU, ABI and type-size macro the target's Debian gcc predefines, clang's
    command line for the target predefines with the same value (``Target.clang_flags``
    supplies gcc's default CPU where clang's triple alone differs: ARMv7-A for armhf,
    i686, a 68020 with FPU; and on m68k gcc's ``__SIZEOF_LONG_DOUBLE__`` and
    ``__BIGGEST_ALIGNMENT__``, where clang's are wrong). clang may define more (``_ILP32``
    on every 32-bit target). The fast and least integer types too, with their limits
    (``options.gnu_predefines`` gives the Linux targets gcc's fast types)."""
    gcc = find_gcc(target)
    if gcc is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
    theirs, ours = _gcc_predefines(gcc, CHECKERS[target].flags), _clang_predefines(target)
    names = {m for m in theirs if ABI_MACROS.fullmatch(m)}
    names -= GCC_ONLY
    if target in NOT_THE_CHECKERS:
        names = {m for m in names if not NOT_THE_CHECKERS[target].fullmatch(m)}
    differ = {m: (theirs.get(m), ours.get(m)) for m in sorted(names)
              if theirs.get(m) != ours.get(m)}
    assert not differ, f"{target}: (gcc, clang) {differ}"
