"""--prelude: a header that does not parse alone, laid out after what it needs, and marked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema

from abiscope import frontend
from abiscope.frontend import prelude
from abiscope.model import Model, dumps, json_schema, model_from_json, model_to_json
from abiscope.targets import resolve
from conftest import CliResult


def package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.h").write_text("struct needs_off { off_t o; int x; };\n")
    (pkg / "base.h").write_text("typedef struct { long v; } base_t;\n")
    (pkg / "z.h").write_text("struct needs_base { base_t b; char c; };\n")
    (pkg / "y.h").write_text("struct broken { nosuch_t q; };\n")
    return pkg


def parse(pkg: Path, option: tuple[str, ...]) -> Model:
    model = frontend.parse([str(pkg / h) for h in ("a.h", "z.h", "y.h")],
                           resolve("i386,x86_64,m68k").targets,
                           frontend.ParseOptions(prelude=option))
    assert isinstance(model, Model)
    return model


def test_auto_order_is_the_documented_one(tmp_path: Path) -> None:
    pkg = package(tmp_path)
    tries = list(prelude.attempts(str(pkg / "a.h"), ("auto",)))
    near = [str(pkg / h) for h in ("base.h", "y.h", "z.h")]
    assert tries == [(near[0],), (near[1],), (near[2],), ("sys/types.h",), ("stdint.h",),
                     ("stddef.h",), ("stdio.h",), prelude.SYSTEM,
                     *((*prelude.SYSTEM, n) for n in near)]
    (pkg / "zz_extra.h").write_text("")
    (pkg / "zz.h").write_text("")
    assert prelude.siblings(str(pkg / "zz_fpa.h"))[:3] == [
        str(pkg / "zz_extra.h"), str(pkg / "zz.h"), str(pkg / "z.h")]  # the package first
    assert list(prelude.attempts("x.h", ("one.h", "two.h"))) == [("one.h", "two.h")]


def test_auto_prelude_lays_out_and_marks(tmp_path: Path) -> None:
    pkg = package(tmp_path)
    without = parse(pkg, ())
    assert not without.records
    assert {f.header.rsplit("/", 1)[-1] for f in without.failures} == {"a.h", "z.h", "y.h"}
    model = parse(pkg, ("auto",))
    marks = {r.name: r.prelude for r in model.records}
    assert marks["struct needs_off"] == ("sys/types.h",)
    assert len(marks["struct needs_base"]) == 1 \
        and marks["struct needs_base"][0].endswith("pkg/base.h")
    rec = model.record("struct needs_off")
    assert rec is not None and {t: lay.size for t, lay in rec.layouts.items()} == {
        "i386": 8, "x86_64": 16, "m68k": 8}
    assert {f.header.rsplit("/", 1)[-1] for f in model.failures} == {"y.h"}  # never guessed
    helped = {p.header.rsplit("/", 1)[-1]: (p.added, p.targets) for p in model.preludes}
    assert helped["a.h"] == (("sys/types.h",), ("i386", "x86_64", "m68k"))
    assert set(helped) == {"a.h", "z.h"}
    doc = model_to_json(model)
    jsonschema.validate(doc, json_schema())
    text = dumps(doc)
    assert dumps(model_to_json(model_from_json(json.loads(text)))) == text
    assert model_from_json(json.loads(text)).records == model.records


def test_explicit_prelude_and_the_cli_says_so(tmp_path: Path,
                                              run_cli: Callable[..., CliResult]) -> None:
    pkg = package(tmp_path)
    res = run_cli("layout", str(pkg / "a.h"), "--target", "i386", "--prelude",
                  "sys/types.h", "--no-cache")
    assert res.code == 0
    assert "with prelude sys/types.h" in " ".join(res.out.split())
    assert "a.h: does not parse alone for i386; laid out after sys/types.h" in res.err


def test_explicit_prelude_outside_the_tree_and_its_own_records(tmp_path: Path) -> None:
    pkg = package(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "defs.h").write_text("typedef struct { long v; } base_t;\n")
    model = frontend.parse([str(pkg / "z.h")], resolve("i386").targets,
                           frontend.ParseOptions(prelude=(str(other / "defs.h"),),
                                                 all_files=True))
    assert isinstance(model, Model) and not model.failures
    marks = {r.name: r.prelude for r in model.records}
    assert marks["base_t"] == ()  # laid out from its own header, which parses
    assert marks["struct needs_base"][0].endswith("elsewhere/defs.h")
