"""The target registry: names, groups, raw triples, and clear errors."""

from __future__ import annotations

import pytest

from abiscope.errors import UsageError
from abiscope.targets import GROUPS, TARGETS, group_members, resolve


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
    with pytest.raises(UsageError, match=r"unknown target 'x86-64'.*i386"):
        resolve("x86-64")


def test_raw_triple_passes_through() -> None:
    (t,) = resolve("riscv64-unknown-elf").targets
    assert (t.triple, t.pointer_bits, t.endian) == ("riscv64-unknown-elf", 64, "little")
    (t,) = resolve("powerpc-unknown-linux-gnu").targets
    assert t.endian == "big"


def test_every_group_is_known_and_all_is_every_real_target() -> None:
    assert set(GROUPS) == {"x86", "linux", "windows", "future", "all", "default"}
    assert {t.name for t in group_members("all")} == {
        n for n, t in TARGETS.items() if not t.hypothetical}
