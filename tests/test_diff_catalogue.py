"""The catalogue of realistic ABI changes (tests/data/diff): each old/new header pair through
``abiscope diff`` on the default targets, checked against the manifest's classification."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).resolve().parent / "data" / "diff"
CASES: list[dict[str, Any]] = tomllib.loads((DATA / "manifest.toml").read_text())["case"]
WORST = ("breaking", "compatible", "informational")


def test_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert all((DATA / c["dir"] / "old.h").is_file() and (DATA / c["dir"] / "new.h").is_file()
               for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["dir"] for c in CASES])
def test_catalogue_case(case: dict[str, Any], run_cli: Callable[..., CliResult]) -> None:
    d = DATA / case["dir"]
    res = run_cli("diff", str(d / "old.h"), str(d / "new.h"), "--format", "json", "-j", "1")
    assert res.code in (0, 1), res.err
    doc = json.loads(res.out)
    changes = doc["changes"]
    found = {(c["kind"], c["record"], c["member"], c["classification"]) for c in changes}
    for want in case["changes"]:
        assert tuple(want) in found, f"missing {want}; got {sorted(found)}"
    worst = next((w for w in WORST if doc["summary"][w]), "none")
    assert worst == case["expect"], sorted(found)
    assert res.code == (1 if worst == "breaking" else 0)
    for c in changes:  # every change names its targets and says why
        assert c["targets"] and c["reason"]
        if c["kind"] in ("reserved-used", "padding-used"):
            assert "zero" in c["note"]
