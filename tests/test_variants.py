"""Build variants (issue 30): ``TARGET+VARIANT[+VARIANT…]`` parsing, errors, groups, aliases,
``[variants.NAME]`` in abiscope.toml, the cache key, the engine's model, and the commands
that take a target (layout, check, compat, snapshot/diff, gen). Layouts are checked against
GCC in tests/test_variants_gcc.py."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from abiscope import variants
from abiscope.cache import UnitCache
from abiscope.codegen.predicates import predicate
from abiscope.config import load_config
from abiscope.datamodels import MODELS
from abiscope.errors import InputError, UsageError
from abiscope.frontend import ParseOptions
from abiscope.targets import canonical, resolve
from conftest import CliResult, skip_or_fail

TIME64_ARGS = ["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"]


@pytest.fixture(autouse=True)
def no_configured_variants() -> Iterator[None]:
    """Each test starts and ends without variants of a configuration file."""
    variants.configure(None, {})
    yield
    variants.configure(None, {})


# --------------------------------------------------------------------------- names


def test_variant_target_is_its_base_with_the_variant_args() -> None:
    (t,) = resolve("armhf+time64").targets
    (arm,) = resolve("arm").targets
    assert t.name == "arm+time64"
    assert t.triple == arm.triple and t.multiarch == arm.multiarch
    assert list(t.clang_flags) == [*arm.clang_flags, *TIME64_ARGS]
    (both,) = resolve("i386+lfs+short-enums").targets
    assert both.name == "i386+lfs+short-enums"
    assert both.clang_flags[-2:] == ("-D_FILE_OFFSET_BITS=64", "-fshort-enums")


def test_align_double_tells_clang_to_keep_long_double_12_4() -> None:
    (t,) = resolve("i686+align-double").targets
    assert t.name == "i386+align-double"
    assert t.clang_flags[-2:] == ("-malign-double", "-mlong-double-80")
    assert variants.BUILTIN["align-double"].gcc_args() == ["-malign-double"]


def test_a_group_applies_the_variant_to_each_member() -> None:
    names = [t.name for t in resolve("x86+time64").targets]
    assert names == ["i386+time64", "x86_64+time64", "x32+time64"]
    mixed = [t.name for t in resolve("arm,arm+time64,default+lfs").targets]
    assert mixed[:2] == ["arm", "arm+time64"] and "aarch64+lfs" in mixed


def test_a_triple_takes_variants() -> None:
    (t,) = resolve("riscv64-unknown-elf+short-enums").targets
    assert t.name == "riscv64-unknown-elf+short-enums"
    assert t.triple == "riscv64-unknown-elf" and t.clang_flags == ("-fshort-enums",)


@pytest.mark.parametrize(("spec", "message"), [
    ("arm+time46", "unknown variant 'time46' in target 'arm+time46' (did you mean time64?)"),
    ("arm+short-enum", "did you mean short-enums?"),
    ("arm+time64+time64", "names the variant 'time64' twice"),
    ("arm+short-enums+no-short-enums", "contradict each other"),
    ("+time64", "no target before '+'"),
    ("x86_64+align-double", "applies to i386 only, not to x86_64"),
    ("x86+align-double", "applies to i386 only, not to x86_64 (in 'x86+align-double')"),
    ("armv9+time64", "unknown target 'armv9'"),
])
def test_bad_variant_words_are_usage_errors(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=None) as info:
        resolve(spec)
    assert message in str(info.value)


def test_canonical_and_lookup_keep_the_variants() -> None:
    assert canonical("armhf+time64") == "arm+time64"
    assert canonical("amd64") == "x86_64"
    t = variants.lookup("armhf+time64")
    assert t is not None and t.name == "arm+time64"
    assert variants.lookup("arm+nope") is None and variants.lookup("x86+time64") is None
    assert variants.lookup("x86_64+align-double") is None
    assert variants.base_name("arm+time64+lfs") == "arm"
    assert variants.variants_of("arm+time64+lfs") == ("time64", "lfs")


def test_engine_model_follows_align_double_only() -> None:
    assert variants.model_for("m68k+time64") is MODELS["m68k"]
    assert variants.model_for("i386+short-enums") is MODELS["i386"]
    model = variants.model_for("i386+align-double")
    assert model is not None and model.field_align_cap is None
    assert model.scalars["double"] == (8, 8) and model.scalars["long long"] == (8, 8)
    assert model.scalars["long double"] == (12, 4)
    assert model.width_names["int64_t"][:2] == (8, 8)
    assert model.width_names["int32_t"][:2] == (4, 4)
    assert variants.model_for("wasm32+time64") is None


def test_predicates_of_variant_targets() -> None:
    cond = predicate("arm+time64")
    assert cond is not None and cond.startswith(predicate("arm") or "?")
    assert "defined(_TIME_BITS) && _TIME_BITS == 64" in cond
    assert predicate("x86_64+short-enums") is None  # (no macro says so on most targets)
    assert predicate("i386+align-double") is None
    assert predicate("arm+short-enums") == f"{predicate('arm')} && __ARM_SIZEOF_MINIMAL_ENUM == 1"
    assert predicate("arm+nope") is None


# --------------------------------------------------------------------------- config


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "abiscope.toml"
    path.write_text(text)
    return str(path)


def test_config_defines_variants(tmp_path: Path) -> None:
    load_config(_config(tmp_path, '[variants.y2038]\ndefines = ["_TIME_BITS=64", '
                        '"_FILE_OFFSET_BITS=64"]\nundefines = ["FOO"]\n'
                        'flags = ["-fshort-enums"]\ndescription = "mine"\n'))
    (t,) = resolve("arm+y2038").targets
    assert t.clang_flags[-4:] == (*TIME64_ARGS, "-UFOO", "-fshort-enums")
    listed = {v["name"]: v for v in variants.listing()}
    assert listed["y2038"]["origin"].endswith("abiscope.toml")
    assert listed["time64"]["defines"] == ["_TIME_BITS=64", "_FILE_OFFSET_BITS=64"]
    load_config(_config(tmp_path, "targets = ['arm']\n"))  # (another file: gone)
    with pytest.raises(UsageError, match="unknown variant 'y2038'"):
        resolve("arm+y2038")


@pytest.mark.parametrize(("text", "message"), [
    ('[variants.p]\nflags = ["-fpack-struct"]\n', "flag '-fpack-struct' is not one abiscope "
     "honours; allowed (docs/variants.md): -fshort-enums, -fno-short-enums, -malign-double"),
    ('[variants.p]\nflags = ["-fshort-enum"]\n', "(did you mean -fshort-enums?)"),
    ('[variants.time64]\ndefines = ["X"]\n', "redefines the built-in variant 'time64'"),
    ('[variants."A+B"]\ndefines = ["X"]\n', "variant name 'A+B'"),
    ('[variants.p]\ndefine = ["X"]\n', "unknown key(s) define"),
    ('[variants.p]\ndefines = ["-DX"]\n', "write the macro without -D/-U"),
    ('[variants.p]\ndefines = [1]\n', "defines must be a list of strings"),
    ("variants = 3\n", "[variants] must be a table"),
])
def test_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        load_config(_config(tmp_path, text))
    assert message in str(info.value)


# --------------------------------------------------------------------------- cache key


def test_a_variant_never_shares_cache_entries_with_its_base(tmp_path: Path) -> None:
    cache = UnitCache(str(tmp_path / "cache"))
    options = ParseOptions()
    key = cache.key(["a.h"], ["arm"], options)
    assert key != cache.key(["a.h"], ["arm+time64"], options)
    assert key != cache.key(["a.h"], ["arm+lfs"], options)
    # a configured variant: its definition is in the key, not only its name
    variants.configure("one.toml", {"v": {"defines": ["A=1"]}})
    first = cache.key(["a.h"], ["arm+v"], options)
    variants.configure("two.toml", {"v": {"defines": ["A=2"]}})
    assert cache.key(["a.h"], ["arm+v"], options) != first


# --------------------------------------------------------------------------- commands


@pytest.fixture
def time_header(tmp_path: Path) -> str:
    if not os.path.isfile("/usr/arm-linux-gnueabihf/include/time.h"):
        skip_or_fail("no arm libc headers (libc6-dev-armhf-cross; make deps)")
    path = tmp_path / "clock.h"
    path.write_text("#include <time.h>\n#include <sys/types.h>\n"
                    "struct stamp { time_t when; int n; };\n"
                    "struct span { off_t from, to; };\n"
                    "struct holder { struct stamp *p; };\n"
                    "struct plain { int a; char b; };\n"
                    "enum small { S_A, S_B };\n"
                    "struct tagged { char c; enum small e; double d; };\n")
    return str(path)


def test_layout_json_names_the_variant_targets(run_cli: Callable[..., CliResult],
                                               time_header: str) -> None:
    res = run_cli("layout", time_header, "--target", "armhf,armhf+time64", "-f", "json",
                  "--no-cache")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert list(doc["targets"]) == ["arm", "arm+time64"]
    stamp = next(r for r in doc["records"] if r["name"] == "struct stamp")
    assert stamp["layouts"]["arm"]["size"] == 8
    assert stamp["layouts"]["arm+time64"]["size"] == 16


def test_compat_translates_exactly_what_time64_changes(run_cli: Callable[..., CliResult],
                                                        time_header: str) -> None:
    res = run_cli("compat", time_header, "--native", "arm+time64", "--compat", "arm",
                  "-f", "json", "--no-cache")
    assert res.code == 0, res.err
    verdicts = {r["name"]: r["verdict"] for r in json.loads(res.out)["records"]}
    assert verdicts == {"struct stamp": "translate", "struct span": "translate",
                        "struct holder": "translate", "struct plain": "identical",
                        "struct tagged": "identical"}
    res = run_cli("compat", time_header, "--native", "x86_64+time64", "--compat", "x86_64",
                  "-f", "json", "--no-cache")
    assert res.code == 0, res.err
    assert {r["verdict"] for r in json.loads(res.out)["records"]} == {"identical"}


def test_check_abi003_is_the_time64_question(run_cli: Callable[..., CliResult],
                                             time_header: str) -> None:
    res = run_cli("check", time_header, "--target", "arm,arm+time64", "--select", "ABI003",
                  "-f", "json", "--no-cache")
    assert res.code in (0, 1), res.err
    doc = json.loads(res.out)
    hit = {f["record"] for f in doc["findings"] if f["rule"] == "ABI003"}
    assert hit == {"struct stamp", "struct span"}


def test_short_enums_and_align_double_layouts(run_cli: Callable[..., CliResult],
                                              time_header: str) -> None:
    res = run_cli("layout", time_header, "--target",
                  "arm+short-enums,m68k+short-enums,i386,i386+align-double",
                  "-r", "struct tagged", "-f", "json", "--no-cache")
    assert res.code == 0, res.err
    (rec,) = json.loads(res.out)["records"]
    shapes = {t: (lay["size"], lay["align"]) for t, lay in rec["layouts"].items()}
    # (gcc: tests/test_variants_gcc.py; m68k is laid out by the engine)
    assert shapes == {"arm+short-enums": (16, 8), "m68k+short-enums": (10, 2),
                      "i386": (16, 4), "i386+align-double": (16, 8)}


def test_unknown_variant_is_exit_2(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    header = tmp_path / "a.h"
    header.write_text("struct a { int x; };\n")
    res = run_cli("layout", str(header), "--target", "arm+time46")
    assert res.code == 2 and "did you mean time64?" in res.err
    res = run_cli("layout", str(header), "--target", "x86_64+align-double")
    assert res.code == 2 and "i386 only" in res.err
    assert "Traceback" not in res.err


def test_targets_lists_the_builtin_variants(run_cli: Callable[..., CliResult]) -> None:
    res = run_cli("targets", "-f", "json")
    assert res.code == 0
    listed = {v["name"]: v for v in json.loads(res.out)["variants"]}
    assert list(listed) == ["time64", "lfs", "short-enums", "no-short-enums", "align-double"]
    assert listed["align-double"]["only"] == ["i386"]
    res = run_cli("targets")
    assert "time64" in res.out and "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64" in res.out


def test_snapshot_diff_per_variant(run_cli: Callable[..., CliResult], time_header: str,
                                   tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    res = run_cli("snapshot", time_header, "--target", "arm,arm+time64", "-o", str(old),
                  "--no-cache")
    assert res.code == 0, res.err
    text = Path(time_header).read_text().replace("int n; };", "int n; time_t later; };")
    Path(time_header).write_text(text)
    res = run_cli("snapshot", time_header, "--target", "arm,arm+time64", "-o", str(new),
                  "--no-cache")
    assert res.code == 0, res.err
    res = run_cli("diff", str(old), str(new), "-f", "json")
    doc = json.loads(res.out)
    assert doc["targets"] == ["arm", "arm+time64"]
    grown = [c for c in doc["changes"] if c["record"] == "struct stamp"
             and c["kind"] == "record-size-changed"]
    assert [[(v["targets"], v["old"], v["new"]) for v in c["values"]] for c in grown] == [[
        (["arm"], "8 bytes", "12 bytes"), (["arm+time64"], "16 bytes", "24 bytes")]]


def test_ioctl_numbers_that_time64_changes(run_cli: Callable[..., CliResult],
                                           tmp_path: Path) -> None:
    if not os.path.isfile("/usr/arm-linux-gnueabihf/include/time.h"):
        skip_or_fail("no arm libc headers (libc6-dev-armhf-cross; make deps)")
    header = tmp_path / "io.h"
    header.write_text("#include <time.h>\n#include <sys/ioctl.h>\n"
                      "struct req { struct timespec ts; int flags; };\n"
                      "#define MY_GET _IOR('x', 1, struct req)\n"
                      "#define MY_SET _IOW('x', 2, int)\n")
    res = run_cli("ioctls", str(header), "--native", "arm+time64", "--compat", "armhf",
                  "-f", "json", "--no-cache")
    assert res.code in (0, 1), res.err
    classes = {r["macro"]: r["class"] for r in json.loads(res.out)["ioctls"]}
    assert classes == {"MY_GET": "number_differs", "MY_SET": "same"}


def test_a_warm_cache_serves_a_variant_its_own_layouts(run_cli: Callable[..., CliResult],
                                                       time_header: str,
                                                       tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")

    def size(target: str) -> int:
        res = run_cli("layout", time_header, "--target", target, "-r", "struct stamp",
                      "-f", "json", "--cache-dir", cache)
        assert res.code == 0, res.err
        (rec,) = json.loads(res.out)["records"]
        return int(rec["layouts"][target]["size"])

    assert [size(t) for t in ("arm", "arm+time64", "arm", "arm+time64", "arm+lfs")] == \
        [8, 16, 8, 16, 8]


def test_long_double_flags(tmp_path: Path) -> None:
    load_config(_config(tmp_path, '[variants.ld64]\nflags = ["-mlong-double-64"]\n'
                        '[variants.ld128]\nflags = ["-mlong-double-128"]\n'))
    (t,) = resolve("i386+align-double+ld64").targets  # (no -mlong-double-80 then)
    assert t.clang_flags[-2:] == ("-malign-double", "-mlong-double-64")
    (t,) = resolve("i386+ld64+align-double").targets
    assert t.clang_flags[-2:] == ("-mlong-double-64", "-malign-double")
    assert [t.name for t in resolve("x86+ld128").targets] == \
        ["i386+ld128", "x86_64+ld128", "x32+ld128"]
    models = {n: variants.model_for(n) for n in (
        "i386+ld64", "x86_64+ld64", "x32+ld128", "i386+align-double+ld64")}
    assert {n: m.scalars["long double"] for n, m in models.items() if m} == {
        "i386+ld64": (8, 4), "x86_64+ld64": (8, 8), "x32+ld128": (16, 16),
        "i386+align-double+ld64": (8, 8)}
    with pytest.raises(UsageError, match="contradict each other"):
        resolve("i386+ld64+ld128")
    with pytest.raises(UsageError, match="applies to i386, x86_64, x32 only, not to arm"):
        resolve("arm+ld64")
