"""The parse cache: hits when nothing changed, never stale, safe under concurrency and kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.cache import UnitCache
from abiscope.frontend import ParseOptions
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
    assert cache.misses == cache.writes >= 2 and cache.hits == 0


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
from abiscope import frontend
from abiscope.cache import UnitCache
from abiscope.frontend import ParseOptions
from abiscope.targets import TARGETS
frontend.parse([{header!r}], [TARGETS["x86_64"]], ParseOptions(include_dirs=({inc!r},),
               system_dirs=False), jobs=1, cache=UnitCache({cache!r}))
"""


def test_a_killed_writer_leaves_no_entry(project: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    code = KILLED_WRITER.format(src=SRC, header=str(project / "api.h"),
                                inc=str(project / "inc"), cache=str(cache_dir))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
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
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
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
