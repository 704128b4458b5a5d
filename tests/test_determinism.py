"""Byte-identical output across runs, ``PYTHONHASHSEED``s, process-pool sizes and executors.

Every format that lands in git or in a CI artifact (layout JSON, check SARIF and JSON,
compat JSON and xlat, gen compat C, the HTML report) is produced three times in fresh
interpreters: hash seed 0 with ``-j 1``, hash seed 1 with ``-j 2`` and hash seed 12345 with
``-j 2``; the three outputs must be the same bytes.

The whole Linux UAPI tree (``/usr/include/linux``) on the engine targets (m68k, lp128,
cheri128), where what the layout engine knew of a record once leaked from one header's
translation unit into the next one of the same process (the output then depended on how
the headers fell into units): ``layout -f json --no-cache`` with ``-j 1``, ``-j 2`` and
``--executor dask`` on a real two-worker cluster, each run once per session, must be the
same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SEED_DIR, skip_or_fail

SRC = str(Path(__file__).resolve().parents[1] / "src")
pytestmark = pytest.mark.slow  # 24 fresh interpreters: about 2-3 min on 2 busy cores
HEADERS = [str(SEED_DIR / h) for h in ("dm_op.h", "privcmd_dm_op.h")]
RUNS = (("0", "1"), ("1", "2"), ("12345", "2"))
COMMANDS = {
    "layout_json": ["layout", *HEADERS, "-f", "json", "--all-files"],
    "check_sarif": ["check", *HEADERS, "-f", "sarif", "--fail-on", "never"],
    "check_json": ["check", *HEADERS, "-f", "json", "--fail-on", "never"],
    "compat_json": ["compat", *HEADERS, "--native", "x86_64", "--compat", "i386", "-f", "json"],
    "compat_xlat": ["compat", *HEADERS, "--native", "x86_64", "--compat", "i386", "-f", "xlat"],
    "gen_compat": ["gen", "compat", HEADERS[1], "--native", "x86_64", "--compat", "i386"],
    "report_html": ["report", *HEADERS, "-o", "{out}"],
}


def _run(argv: list[str], seed: str, jobs: str, tmp: Path) -> bytes:
    """``abiscope ARGV -j JOBS`` (no -j when ``jobs`` is empty) in a fresh interpreter."""
    out = tmp / f"out-{seed}-{jobs}"
    cmd = [sys.executable, "-m", "abiscope", *[a.replace("{out}", str(out)) for a in argv],
           *(["-j", jobs] if jobs else [])]
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": seed}
    env.pop("ABISCOPE_DEBUG", None)
    proc = subprocess.run(cmd, capture_output=True, timeout=300, env=env, cwd=tmp)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return out.read_bytes() if "{out}" in argv else proc.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_byte_identical(name: str, tmp_path: Path) -> None:
    outputs = [_run(COMMANDS[name], seed, jobs, tmp_path) for seed, jobs in RUNS]
    assert outputs[0], "empty output"
    for (seed, jobs), out in zip(RUNS[1:], outputs[1:], strict=True):
        assert out == outputs[0], f"{name}: PYTHONHASHSEED={seed} -j {jobs} differs"


# -- the whole UAPI tree on the engine targets, across pool sizes and executors ----------

UAPI = "/usr/include/linux"
ENGINE_TARGETS = "m68k,lp128,cheri128"
UAPI_RUNS = {"j1": ("0", ["-j", "1"]), "j2": ("1", ["-j", "2"]), "dask": ("12345", [])}


@pytest.fixture(scope="module")
def uapi_layouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bytes]]:
    """``layout -f json --no-cache`` of the UAPI tree on the engine targets, once per
    configuration: -j 1, -j 2 and a Dask cluster of two worker processes."""
    if not os.path.isdir(UAPI):
        skip_or_fail(f"{UAPI}: no Linux UAPI headers (apt install linux-libc-dev)")
    try:
        from distributed import LocalCluster
    except ImportError:
        skip_or_fail("dask.distributed is not installed (pip install 'abiscope[dask]')")
    tmp = tmp_path_factory.mktemp("uapi")
    out: dict[str, bytes] = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        for name, (seed, extra) in UAPI_RUNS.items():
            if name == "dask":
                extra = ["--executor", "dask", "--scheduler", cluster.scheduler_address]
            argv = ["layout", UAPI, "-t", ENGINE_TARGETS, "-f", "json", "--no-cache", *extra]
            out[name] = _run(argv, seed, "", tmp)
    yield out


def _record_diff(a: bytes, b: bytes) -> list[str]:
    """The names of the records whose JSON differs (for the failure message)."""
    def by_name(data: bytes) -> dict[str, Any]:
        return {r["name"]: r for r in json.loads(data)["records"]}
    ra, rb = by_name(a), by_name(b)
    return sorted(n for n in ra.keys() | rb.keys() if ra.get(n) != rb.get(n))


@pytest.mark.parametrize("name", [n for n in UAPI_RUNS if n != "j1"])
def test_uapi_engine_targets_byte_identical(uapi_layouts: dict[str, bytes], name: str) -> None:
    reference = uapi_layouts["j1"]
    records = json.loads(reference)["records"]
    print(f"UAPI on {ENGINE_TARGETS}: {len(records)} records, {len(reference)} bytes; "
          f"{name} against -j 1")
    assert len(records) > 1000, "the UAPI tree gave almost no record"
    differing = _record_diff(reference, uapi_layouts[name])
    assert uapi_layouts[name] == reference, \
        f"{name} differs from -j 1 on {len(differing)} records: {differing[:10]}"
