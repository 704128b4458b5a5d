"""The parse cache: hits when nothing changed, never stale, safe under concurrency and kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from abiscope import cli, frontend
from abiscope.cache import Rendered, UnitCache, keep_rendered, rendered
from abiscope.frontend import ParseOptions
from abiscope.model import Model, dumps, model_to_json
from abiscope.targets import TARGETS

SRC = str(Path(__file__).resolve().parents[1] / "src")
TARGETS_2 = [TARGETS["i386"], TARGETS["x86_64"]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "inc").mkdir()
    (tmp_path / "early").mkdir()
    (tmp_path / "inc" / "dep.h").write_text("typedef int dep_t;\n")
    (tmp_path / "api.h").write_text('#include <dep.h>\nstruct api { char c; dep_t d; };\n')
    (tmp_path / "other.h").write_text("struct other { char c; long l; };\n")
    return tmp_path


def options(project: Path) -> ParseOptions:
    return ParseOptions(include_dirs=(str(project / "early"), str(project / "inc")),
                        system_dirs=False)


def run(project: Path, cache: UnitCache) -> frontend.Model:
    return frontend.parse([str(project / "api.h"), str(project / "other.h")], TARGETS_2,
                          options(project), jobs=1, cache=cache)


def size(model: frontend.Model, target: str = "x86_64") -> int:
    rec = model.record("struct api")
    assert rec is not None
    return rec.layouts[target].size


def test_warm_run_is_served_from_cache(project: Path, tmp_path: Path) -> None:
    cold = run(project, UnitCache(str(tmp_path / "c")))
    warm_cache = UnitCache(str(tmp_path / "c"))
    warm = run(project, warm_cache)
    assert warm == cold
    units = len(list((tmp_path / "c").rglob("*.unit")))  # 2 or 4 (batches() may split)
    assert (warm_cache.hits, warm_cache.misses, warm_cache.writes) == (units, 0, 0)
    assert warm == frontend.parse([str(project / "api.h"), str(project / "other.h")],
                                  TARGETS_2, options(project), jobs=1)  # same as uncached


def test_touching_an_included_header_invalidates(project: Path, tmp_path: Path) -> None:
    assert size(run(project, UnitCache(str(tmp_path / "c")))) == 8
    (project / "inc" / "dep.h").write_text("typedef long long dep_t;\n")
    cache = UnitCache(str(tmp_path / "c"))
    assert size(run(project, cache)) == 16
    # (other.h's units still hit when a batch boundary falls between the two headers: it
    # is content-defined, by a hash of the path, here a random temporary one)
    split = len(frontend.batches([str(project / "api.h"), str(project / "other.h")])) == 2
    assert cache.misses == cache.writes == 2 and cache.hits == (2 if split else 0)


def test_a_new_shadowing_header_invalidates(project: Path, tmp_path: Path) -> None:
    assert size(run(project, UnitCache(str(tmp_path / "c")))) == 8
    (project / "early" / "dep.h").write_text("typedef short dep_t;\n")  # found first now
    assert size(run(project, UnitCache(str(tmp_path / "c")))) == 4


def test_corrupt_entries_are_ignored_and_replaced(project: Path, tmp_path: Path) -> None:
    cold = run(project, UnitCache(str(tmp_path / "c")))
    entries = list((tmp_path / "c").rglob("*.unit"))
    assert entries
    for i, path in enumerate(entries):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if i % 2 else b"garbage")
    cache = UnitCache(str(tmp_path / "c"))
    assert run(project, cache) == cold
    assert cache.hits == 0 and cache.writes == len(entries)
    cache = UnitCache(str(tmp_path / "c"))
    assert run(project, cache) == cold and cache.hits == len(entries)


KILLED_WRITER = """
import os, pickle, signal, sys
sys.path.insert(0, {src!r})
real_dump = pickle.dump
def dump(obj, fh, protocol=None):
    fh.write(pickle.dumps(obj, protocol)[:100])  # half an entry, then killed
    fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
pickle.dump = dump
from abiscope import cli, frontend
from abiscope.cache import UnitCache, keep_rendered, rendered
from abiscope.frontend import ParseOptions
from abiscope.model import dumps, model_to_json
from abiscope.targets import TARGETS
frontend.parse([{header!r}], [TARGETS["x86_64"]], ParseOptions(include_dirs=({inc!r},),
               system_dirs=False), jobs=1, cache=UnitCache({cache!r}))
"""


def _temp_in(tmp_path: Path) -> dict[str, str]:
    """The environment of a child that is killed on purpose: its private temp dir (the
    sandbox's, removed at exit by a process that is not killed) lands under ``tmp_path``,
    not in /tmp."""
    return {**os.environ, "TMPDIR": str(tmp_path)}


def test_a_killed_writer_leaves_no_entry(project: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    code = KILLED_WRITER.format(src=SRC, header=str(project / "api.h"),
                                inc=str(project / "inc"), cache=str(cache_dir))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_temp_in(tmp_path))
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not list(cache_dir.rglob("*.unit"))  # only a temporary file may be left
    leftovers = list(cache_dir.rglob(".tmp-*"))
    assert leftovers
    old = time.time() - 7200
    for p in leftovers:
        os.utime(p, (old, old))
    assert UnitCache(str(cache_dir)).evict() == len(leftovers)


CONCURRENT = """
import sys
sys.path.insert(0, {src!r})
from abiscope import frontend, model
from abiscope.cache import UnitCache
from abiscope.frontend import ParseOptions
from abiscope.targets import TARGETS
m = frontend.parse({headers!r}, [TARGETS["i386"], TARGETS["x86_64"]],
                   ParseOptions(include_dirs={inc!r}, system_dirs=False), jobs=1,
                   cache=UnitCache({cache!r}))
print(model.dumps(model.model_to_json(m)))
"""


def test_concurrent_runs_share_one_cache(project: Path, tmp_path: Path) -> None:
    headers = [str(project / "api.h"), str(project / "other.h")]
    code = CONCURRENT.format(src=SRC, headers=headers, inc=options(project).include_dirs,
                             cache=str(tmp_path / "c"))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=_temp_in(tmp_path))
             for _ in range(8)]
    time.sleep(0.3)
    procs[0].kill()  # one of eight killed wherever it is (test_a_killed_writer_leaves_no_entry
    # kills one exactly between writing half an entry and renaming it)
    outs = [p.communicate()[0] for p in procs[1:]]
    procs[0].communicate()
    assert all(p.returncode == 0 for p in procs[1:])
    assert len(set(outs)) == 1 and '"struct api"' in outs[0]
    cache = UnitCache(str(tmp_path / "c"))
    run(project, cache)
    assert cache.hits >= 2 and cache.misses == 0


def test_size_bound_evicts_least_recently_used(project: Path, tmp_path: Path) -> None:
    cache = UnitCache(str(tmp_path / "c"))
    for i in range(4):
        (project / f"h{i}.h").write_text(f"struct h{i} {{ char c[{i + 1}]; }};\n")
        frontend.parse([str(project / f"h{i}.h")], [TARGETS["x86_64"]], options(project),
                       cache=cache)
        time.sleep(0.02)
    entries = sorted(cache.entries())
    assert len(entries) == 4
    frontend.parse([str(project / "h0.h")], [TARGETS["x86_64"]], options(project),
                   cache=cache)  # a hit makes h0 the most recently used
    one = max(size for _, size, _ in entries)
    assert cache.evict(max_bytes=2 * one) == 2
    left = UnitCache(str(tmp_path / "c"))
    frontend.parse([str(project / "h0.h")], [TARGETS["x86_64"]], options(project), cache=left)
    frontend.parse([str(project / "h1.h")], [TARGETS["x86_64"]], options(project), cache=left)
    assert (left.hits, left.misses) == (1, 1)  # h0 kept, h1 (oldest) evicted


def test_one_cache_object_over_changing_files(project: Path, tmp_path: Path) -> None:
    """A long-lived process (the CLI's session cache) sees a file rewritten between runs."""
    cache = UnitCache(str(tmp_path / "c"))
    for text, expected in (("int", 8), ("long long", 16), ("short", 4), ("int", 8)):
        (project / "inc" / "dep.h").write_text(f"typedef {text} dep_t;\n")
        assert size(run(project, cache)) == expected


# -- run-level entries and rendered texts (abiscope layout -f json) ---------------------

VIEW = ("layout-json", "False")


def viewed(project: Path, directory: Path) -> tuple[Model | Rendered, UnitCache]:
    """A run that asks for VIEW, as ``abiscope layout -f json`` does."""
    cache = UnitCache(str(directory))
    got = frontend.parse([str(project / "api.h"), str(project / "other.h")], TARGETS_2,
                         options(project), jobs=1, cache=cache, view=VIEW)
    return got, cache


def served(got: Model | Rendered) -> Rendered:
    """The text a warm run served (a Rendered, never a model without records)."""
    assert isinstance(got, Rendered), "a model, not the stored text"
    return got


def model_of(got: Model | Rendered) -> Model:
    assert isinstance(got, Model), "the stored text, not a model"
    return got


def render(model: frontend.Model) -> str:
    text = dumps(model_to_json(model))
    keep_rendered(model, VIEW, text)
    return text


def test_warm_run_level_hit_serves_the_stored_text(project: Path, tmp_path: Path) -> None:
    cold = run(project, UnitCache(str(tmp_path / "c")))
    assert rendered(cold, VIEW) is None
    text = render(cold)
    assert len(list((tmp_path / "c").rglob("*.run"))) == 1
    assert len(list((tmp_path / "c").rglob("*.text"))) == 1
    got, cache = viewed(project, tmp_path / "c")
    frame = served(got)
    assert frame.text == text and rendered(frame, VIEW) == text
    assert rendered(frame, ("layout-json", "True")) is None
    assert (frame.targets, frame.failures, frame.inputs) == \
        (cold.targets, cold.failures, cold.inputs)
    assert cache.run_hits == 1 and cache.misses == 0 and cache.writes == 0
    # without the view, the run entry identifies the full model, equal to the cold one
    warm_cache = UnitCache(str(tmp_path / "c"))
    warm = run(project, warm_cache)
    assert warm == cold and rendered(warm, VIEW) == text
    assert warm_cache.run_writes == 0
    assert rendered(warm, ("layout-json", "True")) is None  # another view: not served


def test_cli_warm_layout_json_is_byte_identical(project: Path, tmp_path: Path) -> None:
    base = ["layout", str(project / "api.h"), str(project / "other.h"), "-I",
            str(project / "early"), "-I", str(project / "inc"), "--no-system-dirs",
            "-t", "i386,x86_64", "-f", "json"]
    outs = []
    for name, extra in (("uncached", ["--no-cache"]), ("cold", []), ("warm", []),
                        ("warm2", [])):
        out = tmp_path / f"{name}.json"
        flags = extra or ["--cache-dir", str(tmp_path / "c")]
        assert cli.main([*base, "-o", str(out), *flags]) == 0
        outs.append(out.read_bytes())
    assert len(set(outs)) == 1 and b'"struct api"' in outs[0]
    # the warm runs were served from the text: no unit was loaded
    cache = UnitCache(str(tmp_path / "c"))
    frame = served(frontend.parse([str(project / "api.h"), str(project / "other.h")],
                                  TARGETS_2, options(project), cache=cache, view=VIEW))
    assert frame.data == outs[0] and frame.view == VIEW and cache.misses == 0
    # --record and --all-files render other texts, each correct
    for extra in (["-r", "other"], ["--all-files"]):
        got = []
        for i in range(2):
            out = tmp_path / f"x{i}.json"
            assert cli.main([*base, *extra, "-o", str(out), "--cache-dir",
                             str(tmp_path / "c")]) == 0
            got.append(out.read_bytes())
        assert cli.main([*base, *extra, "-o", str(tmp_path / "u.json"), "--no-cache"]) == 0
        assert got[0] == got[1] == (tmp_path / "u.json").read_bytes()


def test_changed_included_header_falls_back(project: Path, tmp_path: Path) -> None:
    render(run(project, UnitCache(str(tmp_path / "c"))))
    (project / "inc" / "dep.h").write_text("typedef long long dep_t;\n")
    got, cache = viewed(project, tmp_path / "c")
    model = model_of(got)  # a full model, not the old text
    assert size(model) == 16 and model.records
    assert cache.misses == cache.writes >= 2
    assert rendered(model, VIEW) is None
    text = render(model)
    again, _ = viewed(project, tmp_path / "c")
    assert served(again).text == text


def test_touched_header_that_parses_the_same_keeps_the_text(project: Path,
                                                            tmp_path: Path) -> None:
    text = render(run(project, UnitCache(str(tmp_path / "c"))))
    dep = project / "inc" / "dep.h"
    dep.write_text(dep.read_text() + "/* touched */\n")  # new content, same layouts
    frame, cache = viewed(project, tmp_path / "c")
    assert served(frame).text == text
    assert cache.run_misses == 1 and cache.misses == cache.writes >= 1
    assert cache.run_writes == 1  # the run entry now lists the new manifests
    frame, cache = viewed(project, tmp_path / "c")
    assert served(frame).text == text and cache.run_hits == 1 and cache.misses == 0


def test_reverted_header_serves_the_earlier_text(project: Path, tmp_path: Path) -> None:
    dep = project / "inc" / "dep.h"
    first = render(run(project, UnitCache(str(tmp_path / "c"))))
    dep.write_text("typedef long long dep_t;\n")
    second = model_of(viewed(project, tmp_path / "c")[0])
    assert size(second) == 16 and render(second) != first
    dep.write_text("typedef int dep_t;\n")
    frame, _ = viewed(project, tmp_path / "c")
    assert served(frame).text == first


def test_a_new_shadowing_header_falls_back(project: Path, tmp_path: Path) -> None:
    render(run(project, UnitCache(str(tmp_path / "c"))))
    (project / "early" / "dep.h").write_text("typedef short dep_t;\n")  # found first now
    got, cache = viewed(project, tmp_path / "c")
    model = model_of(got)
    assert size(model) == 4 and model.records and cache.run_misses == 1


def test_corrupt_run_and_text_entries_fall_back(project: Path, tmp_path: Path) -> None:
    cold = run(project, UnitCache(str(tmp_path / "c")))
    text = render(cold)
    for pattern in ("*.run", "*.text"):
        for path in (tmp_path / "c").rglob(pattern):
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        got, cache = viewed(project, tmp_path / "c")
        model = model_of(got)
        assert model == cold  # from the unit entries
        if pattern == "*.run":  # rewritten; the text is still that model's
            assert cache.run_writes == 1 and rendered(model, VIEW) == text
        else:
            assert not list((tmp_path / "c").rglob(pattern))  # removed ...
            assert rendered(model, VIEW) is None
            assert render(model) == text  # ... and stored again
        frame, _ = viewed(project, tmp_path / "c")
        assert served(frame).text == text


def test_a_text_only_for_the_parse_that_asked(project: Path, tmp_path: Path) -> None:
    """The view is an argument of one parse: a second parse sharing the cache, without
    one, gets the full model (never a model without records)."""
    cold = run(project, UnitCache(str(tmp_path / "c")))
    render(cold)
    frame, cache = viewed(project, tmp_path / "c")
    assert isinstance(served(frame), Rendered) and not isinstance(frame, Model)
    assert run(project, cache) == cold


def test_load_model_never_returns_a_text(project: Path, tmp_path: Path) -> None:
    """The command line's load_model has no view: a warm run whose text is stored still
    gives every caller the model; load_view gives the text, as its own type."""
    import argparse

    from abiscope.cliutil import load_model, load_view
    from abiscope.config import Config

    render(run(project, UnitCache(str(tmp_path / "c"))))
    ns = cli.build_parser().parse_args([
        "layout", str(project / "api.h"), str(project / "other.h"), "-I",
        str(project / "early"), "-I", str(project / "inc"), "--no-system-dirs",
        "-t", "i386,x86_64", "--cache-dir", str(tmp_path / "c")])
    assert isinstance(ns, argparse.Namespace)
    model = load_model(ns, Config())
    assert isinstance(model, Model) and model.record("struct api") is not None
    assert isinstance(load_view(ns, Config(), VIEW), Rendered)


CONCURRENT_CLI = """
import sys
sys.path.insert(0, {src!r})
from abiscope.cli import main
sys.exit(main({argv!r}))
"""


def test_concurrent_cli_runs_share_run_entries(project: Path, tmp_path: Path) -> None:
    base = ["layout", str(project / "api.h"), str(project / "other.h"), "-I",
            str(project / "early"), "-I", str(project / "inc"), "--no-system-dirs",
            "-t", "i386,x86_64", "-f", "json", "--cache-dir", str(tmp_path / "c")]
    assert cli.main([*base[:-2], "--no-cache", "-o", str(tmp_path / "ref.json")]) == 0
    expected = (tmp_path / "ref.json").read_bytes()
    for round_ in range(2):  # cold, then warm (run-level hits)
        procs = []
        for i in range(6):
            code = CONCURRENT_CLI.format(src=SRC, argv=[*base, "-o",
                                                        str(tmp_path / f"{round_}-{i}.json")])
            procs.append(subprocess.Popen([sys.executable, "-c", code]))
        time.sleep(0.3)
        procs[0].kill()  # one killed wherever it is
        codes = [p.wait() for p in procs]
        assert all(c == 0 for c in codes[1:])
        for i in range(1, 6):
            assert (tmp_path / f"{round_}-{i}.json").read_bytes() == expected
    frame, _ = viewed(project, tmp_path / "c")
    assert served(frame).data == expected
