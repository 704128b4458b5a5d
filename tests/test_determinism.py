"""Byte-identical output across runs, ``PYTHONHASHSEED``s and process-pool sizes.

Every format that lands in git or in a CI artifact (layout JSON, check SARIF and JSON,
compat JSON and xlat, gen compat C, the HTML report) is produced three times in fresh
interpreters: hash seed 0 with ``-j 1``, hash seed 1 with ``-j 2`` and hash seed 12345 with
``-j 2``; the three outputs must be the same bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEED_DIR

SRC = str(Path(__file__).resolve().parents[1] / "src")
pytestmark = pytest.mark.slow  # 21 fresh interpreters: about 100 s on 2 busy cores
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
    out = tmp / f"out-{seed}-{jobs}"
    cmd = [sys.executable, "-m", "abiscope", *[a.replace("{out}", str(out)) for a in argv],
           "-j", jobs]
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
