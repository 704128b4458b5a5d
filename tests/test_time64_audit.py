"""tools/time64_audit.py reads abiscope's own output: its stderr prelude lines and compat
causes. Checked against what abiscope prints, so a change of wording fails here."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _audit():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        return importlib.import_module("time64_audit")
    finally:
        sys.path.remove(str(ROOT / "tools"))


def test_prelude_line_and_causes(tmp_path: Path) -> None:
    audit = _audit()
    header = tmp_path / "needs.h"
    header.write_text("#include <stdio.h>\nstruct needs { size_t n; off_t o; };\n"
                      "off_t seek_to(int fd, off_t where);\n")
    alone = tmp_path / "alone.h"
    alone.write_text("struct alone { size_t n; };\n")
    proc = subprocess.run([sys.executable, "-m", "abiscope", "compat", str(alone),
                           "--native", "x86_64", "--compat", "i386", "--prelude", "auto",
                           "--no-cache", "-f", "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    found = [m.group("header") for m in map(audit.PRELUDE.match, proc.stderr.splitlines())
             if m]
    assert found == [str(alone)], proc.stderr
    res, _ = audit.run_pair([str(header)], [], "x86_64", "i386", sys.executable)
    assert not res.failed and res.records == {"struct needs": ["size_t", "off_t"]}
    assert res.functions == {"seek_to": ["off_t"]}
    assert audit.cause_group(["const off_t *restrict"]) == "off_t"
    assert audit.cause_group(["apr_off_t"]) == "off_t"
    assert audit.cause_group(["time_t *"]) == "time_t"
