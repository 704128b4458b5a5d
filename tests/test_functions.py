"""Functions in the model: collected per target, in abiscope.layout/1, compared by compat
and diff, and checked against GCC (symbols from a probe's relocations, parameter and return
sizes from its DWARF)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from abiscope import compat, frontend
from abiscope.diff import diff_models, fails
from abiscope.model import Model, dumps, json_schema, model_from_json, model_to_json
from abiscope.report.changes import render_json as render_diff_json
from abiscope.targets import resolve
from conftest import CliResult

sys.path.insert(0, str(Path(__file__).parent))

from oracle.gcc_functions import gcc_functions

HEADER = """\
struct big { long a[4]; };
struct small { int a; };
typedef long my_off;
int plain(int a, my_off b);
long ret_long(void);
struct big by_value(struct big b, struct small *s);
int decays(const struct small v[2], char s[], int m[3][4], int (*cb)(int));
int labelled(int) __asm__("labelled_v2");
int variadic(const char *, ...);
int knr();
static inline int inlined(int x) { return x; }
#define macro_like(x) ((x) + 1)
"""


def parse(tmp_path: Path, text: str, targets: str, name: str = "f.h") -> Model:
    header = tmp_path / name
    header.write_text(text)
    model = frontend.parse([str(header)], resolve(targets).targets, frontend.ParseOptions())
    assert isinstance(model, Model)
    return model


def test_functions_collected_per_target(tmp_path: Path) -> None:
    model = parse(tmp_path, HEADER, "i386,x86_64,m68k")
    assert [f.name for f in model.functions] == [
        "by_value", "decays", "labelled", "plain", "ret_long"]  # no variadic, K&R, static
    plain = model.function("plain")
    assert plain is not None and plain.location.line == 4
    i386, x86 = plain.signatures["i386"], plain.signatures["x86_64"]
    assert [p.name for p in i386.params] == ["a", "b"]
    assert (i386.params[1].type.size, x86.params[1].type.size) == (4, 8)
    assert i386.params[1].type.type == "my_off"
    labelled = model.function("labelled")
    assert labelled is not None
    assert {s.symbol for s in labelled.signatures.values()} == {"labelled_v2"}
    by_value = model.function("by_value")
    assert by_value is not None
    sig = by_value.signatures["x86_64"]
    assert (sig.returns.record, sig.returns.size) == ("struct big", 32)
    assert (sig.params[1].type.points_to, sig.params[1].type.pointee_size) == ("struct small", 4)
    assert by_value.signatures["m68k"].params[1].type.align == 2  # the engine's pointer
    decays = model.function("decays")
    assert decays is not None
    kinds = [(p.type.kind, p.type.size, p.type.pointee_size, p.type.points_to)
             for p in decays.signatures["i386"].params]
    assert kinds == [("pointer", 4, 4, "struct small"), ("pointer", 4, 1, None),
                     ("pointer", 4, 16, None), ("pointer", 4, None, None)]
    # records a function passes or points to are in the model
    assert model.record("struct small") is not None


def test_functions_json_round_trip_and_schema(tmp_path: Path) -> None:
    model = parse(tmp_path, HEADER, "i386,x86_64")
    doc = model_to_json(model)
    jsonschema.validate(doc, json_schema())
    assert [f["name"] for f in doc["functions"]][:2] == ["by_value", "decays"]
    text = dumps(doc)
    again = model_from_json(json.loads(text))
    assert again.functions == model.functions
    assert dumps(model_to_json(again)) == text


def test_compat_reports_functions(tmp_path: Path) -> None:
    model = parse(tmp_path, HEADER + "long same(int);\n", "x86_64,i386")
    report = compat.compare(model, "x86_64", "i386")
    by = {v.name: v for v in report.functions}
    assert by["plain"].verdict == "translate"
    assert [d.param for d in by["plain"].reasons] == ["#2 b"]
    assert "8 bytes on x86_64, 4 bytes on i386" in by["plain"].reasons[0].cause
    assert by["labelled"].verdict == "identical" and not by["labelled"].renamed
    from abiscope.report.compat import report_to_json

    doc = report_to_json(report, model)
    jsonschema.validate(doc, compat.json_schema())
    assert {f["name"] for f in doc["functions"]} == set(by)


def test_compat_reports_a_rename_and_a_record_passed(tmp_path: Path) -> None:
    text = """\
struct t { long v; };
#ifdef __x86_64__
int stamp(struct t *) __asm__("stamp64");
#else
int stamp(struct t *);
#endif
int touch(int);
"""
    model = parse(tmp_path, text, "x86_64,i386")
    report = compat.compare(model, "x86_64", "i386")
    by = {v.name: v for v in report.functions}
    assert by["stamp"].symbols == ("stamp64", "stamp") and by["stamp"].renamed
    assert by["stamp"].verdict == "translate"  # the pointer, and struct t via it
    assert by["stamp"].via == ("struct t",)
    assert by["touch"].verdict == "identical"
    assert any("symbol renamed" in n for n in by["stamp"].notes)


def test_diff_reports_function_changes(tmp_path: Path) -> None:
    old = parse(tmp_path, "struct s { int a; };\nint f(int x, struct s *p);\n"
                "int gone(void);\nint g(int);\n", "i386", "old.h")
    new = parse(tmp_path, "struct s { int a; long long b; };\nlong long f(int x, struct s *p);"
                "\nint added(void);\nint g(int) __asm__(\"g2\");\n", "i386", "new.h")
    result = diff_models(old, new)
    kinds = {(c.function, c.kind, c.param, c.classification) for c in result.functions}
    assert ("f", "function-return-changed", "return", "breaking") in kinds
    assert ("f", "function-param-changed", "#2 p", "breaking") in kinds  # points to 4 -> 12
    assert ("gone", "function-removed", "", "breaking") in kinds
    assert ("added", "function-added", "", "compatible") in kinds
    assert ("g", "function-symbol-renamed", "", "informational") in kinds
    assert fails(result, "breaking")
    doc = json.loads(render_diff_json(result))
    schema = json.loads((Path(__file__).parents[1] / "src/abiscope/schema/diff-1.schema.json")
                        .read_text())
    jsonschema.validate(doc, schema)
    assert len(doc["functions"]) == len(result.functions)


# -- against GCC ------------------------------------------------------------------------

# declared only where __GNUC__ < 11 (clang says 4): glibc's pthread.h
GCC_VERSION_DEPENDENT = frozenset({"__sigsetjmp"})
GLIBC = "#include <sys/stat.h>\n#include <time.h>\n#include <stdio.h>\n"
LFS = ("-D_FILE_OFFSET_BITS=64",)
TIME64 = ("-D_FILE_OFFSET_BITS=64", "-D_TIME_BITS=64")


def check_against_gcc(tmp_path: Path, include: str, target: str,
                      defines: tuple[str, ...]) -> tuple[int, list[str]]:
    """(functions compared, mismatches) of abiscope's model of ``include`` (every file's
    functions) and the target's gcc."""
    header = tmp_path / "probe.h"
    header.write_text(include)
    model = frontend.parse([str(header)], resolve(target).targets,
                           frontend.ParseOptions(defines=tuple(d[2:] for d in defines),
                                                 all_files=True))
    assert isinstance(model, Model)
    ours = {f.name: f.signatures[target] for f in model.functions if target in f.signatures}
    theirs = gcc_functions(target, include, sorted(ours), defines)
    bad = []
    for name, sig in sorted(ours.items()):
        g = theirs.get(name)
        if g is None:
            if name not in GCC_VERSION_DEPENDENT:
                bad.append(f"{name}: not declared for GCC")
            continue
        if sig.symbol != g.symbol:
            bad.append(f"{name}: symbol {sig.symbol}, gcc {g.symbol}")
        got = [(sig.returns.size if sig.returns.kind != "void" else None)] \
            + [p.type.size for p in sig.params]
        want = [g.returns.size] + [p.size for p in g.params]
        if got != want:
            bad.append(f"{name}: sizes {got}, gcc {want}")
        for p, q in zip(sig.params, g.params, strict=False):
            if p.type.kind == "pointer" and q.pointee_size is not None \
                    and p.type.pointee_size != q.pointee_size:
                bad.append(f"{name}: {p.name} points to {p.type.pointee_size}, "
                           f"gcc {q.pointee_size}")
    return len(ours), bad


@pytest.mark.parametrize("target", ["x86_64", "i386", "arm"])
def test_glibc_functions_match_gcc(tmp_path: Path, target: str) -> None:
    defines = LFS if target == "x86_64" else TIME64
    count, bad = check_against_gcc(tmp_path, GLIBC, target, defines)
    assert count > 100
    assert bad == []


def test_glibc_renames_seen_by_gcc(tmp_path: Path) -> None:
    """``stat`` -> ``stat64`` and ``fopen`` -> ``fopen64`` as symbols under LFS on i386,
    and as abiscope reports them."""
    header = tmp_path / "probe.h"
    header.write_text(GLIBC)
    model = frontend.parse([str(header)], resolve("i386").targets,
                           frontend.ParseOptions(defines=("_FILE_OFFSET_BITS=64",),
                                                 all_files=True))
    assert isinstance(model, Model)
    symbols = {f.name: f.signatures["i386"].symbol for f in model.functions}
    assert symbols["fopen"] == "fopen64"
    assert symbols["stat"] == "stat64"
    gcc = gcc_functions("i386", GLIBC, ["fopen", "stat"], ("-D_FILE_OFFSET_BITS=64",))
    assert (gcc["fopen"].symbol, gcc["stat"].symbol) == ("fopen64", "stat64")


SLOW_HEADERS = "".join(f"#include <{h}>\n" for h in (
    "sys/stat.h", "time.h", "stdio.h", "unistd.h", "fcntl.h", "sys/time.h", "sys/socket.h",
    "dirent.h", "stdlib.h", "string.h", "sys/resource.h", "sys/select.h", "signal.h",
    "sys/mman.h", "poll.h", "utime.h", "sys/statvfs.h", "sys/wait.h", "pthread.h"))


@pytest.mark.slow
@pytest.mark.parametrize("target", ["x86_64", "i386", "arm", "aarch64", "ppc", "mips",
                                    "riscv64", "s390x", "m68k"])
@pytest.mark.parametrize("defines", [(), LFS, TIME64], ids=["plain", "lfs", "time64"])
def test_glibc_corpus_functions_match_gcc(tmp_path: Path, target: str,
                                          defines: tuple[str, ...]) -> None:
    count, bad = check_against_gcc(tmp_path, SLOW_HEADERS, target, defines)
    assert count > 300
    assert bad == []


def test_functions_are_cached_and_restricted(tmp_path: Path) -> None:
    from abiscope.cache import UnitCache
    from abiscope.snapshot import restrict

    header = tmp_path / "f.h"
    header.write_text(HEADER)
    targets = resolve("i386,x86_64").targets

    def run() -> Model:
        model = frontend.parse([str(header)], targets, frontend.ParseOptions(),
                               cache=UnitCache(str(tmp_path / "c")))
        assert isinstance(model, Model)
        return model

    cold, warm = run(), run()
    assert warm.functions == cold.functions and len(cold.functions) == 5
    one = restrict(cold, ["i386"], "f")
    assert all(set(f.signatures) == {"i386"} for f in one.functions)


def gcc_passing(target: str, include: str, names: list[str], defines: tuple[str, ...]
                ) -> dict[str, tuple[str, tuple[tuple[int | None, int | None], ...]]]:
    """Per function: GCC's symbol and (size, pointee size) of its return and parameters."""
    return {n: (g.symbol, ((g.returns.size, g.returns.pointee_size),
                           *((p.size, p.pointee_size) for p in g.params)))
            for n, g in gcc_functions(target, include, names, defines).items()}


@pytest.mark.parametrize("target", ["i386", "arm", "x86_64"])
def test_time64_function_changes_are_gccs(tmp_path: Path, target: str) -> None:
    """``diff`` of glibc's headers without and with 64-bit time_t reports a parameter or
    return change exactly for the functions GCC passes differently, and a rename exactly
    where GCC's symbol changes (on x86_64: renames only)."""
    check_time64(tmp_path, GLIBC, target)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["i386", "arm", "ppc", "mips", "m68k", "x86_64",
                                    "aarch64"])
def test_time64_corpus_function_changes_are_gccs(tmp_path: Path, target: str) -> None:
    check_time64(tmp_path, SLOW_HEADERS, target)


def check_time64(tmp_path: Path, include: str, target: str) -> None:
    header = tmp_path / "probe.h"
    header.write_text(include)
    models = [frontend.parse([str(header)], resolve(target).targets,
                             frontend.ParseOptions(defines=tuple(d[2:] for d in defs),
                                                   all_files=True))
              for defs in ((), TIME64)]
    old, new = models
    assert isinstance(old, Model) and isinstance(new, Model)
    result = diff_models(old, new)
    changed = {c.function for c in result.functions
               if c.kind in ("function-param-changed", "function-return-changed")}
    renamed = {c.function for c in result.functions if c.kind == "function-symbol-renamed"}
    names = sorted({f.name for f in old.functions} & {f.name for f in new.functions})
    before = gcc_passing(target, include, names, ())
    after = gcc_passing(target, include, names, TIME64)
    common = set(before) & set(after)
    assert len(common) > 100
    assert changed == {n for n in common if before[n][1] != after[n][1]}
    assert renamed == {n for n in common if before[n][0] != after[n][0]}
    if target in ("x86_64", "aarch64"):  # (LP64: 64-bit time_t already)
        assert not changed
    else:
        assert {"time", "stat", "clock_gettime"} <= changed <= renamed


def test_cli_text_and_json_carry_functions(tmp_path: Path,
                                           run_cli: Callable[..., CliResult]) -> None:
    header = tmp_path / "f.h"
    header.write_text(HEADER)
    res = run_cli("compat", str(header), "--native", "x86_64", "--compat", "i386",
                  "--no-cache")
    assert res.code == 0, res.err
    assert "functions" in res.out and "5 functions: " in res.out
    assert "#2 b: my_off: 8 bytes on x86_64, 4 bytes on i386" in " ".join(res.out.split())
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert run_cli("snapshot", str(header), "--target", "i386", "-o", str(old),
                   "--no-cache").code == 0
    header.write_text(HEADER.replace("int plain(int a, my_off b);",
                                     "int plain(int a, long long b);"))
    assert run_cli("snapshot", str(header), "--target", "i386", "-o", str(new),
                   "--no-cache").code == 0
    res = run_cli("diff", str(old), str(new))
    assert res.code == 1  # a breaking function change fails --fail-on breaking
    assert "function-param-changed #2 b" in res.out and "1 function change: 1 breaking" \
        in res.out
    doc = json.loads(run_cli("diff", str(old), str(new), "--format", "json").out)
    assert [f["function"] for f in doc["functions"]] == ["plain"]


def test_diff_with_a_side_without_functions_does_not_compare_them(tmp_path: Path) -> None:
    """A snapshot written before models held functions has none: nothing is reported
    added, and a note says why."""
    new = parse(tmp_path, "struct s { int a; };\nint f(int);\n", "i386", "new.h")
    old = model_from_json({**model_to_json(new), "functions": []})
    result = diff_models(old, new)
    assert result.functions == ()
    assert any("holds no functions" in n for n in result.notes)
