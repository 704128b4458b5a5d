"""docs/targets.md's table is the registry's (tools/gen_targets_doc.py writes it)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import gen_targets_doc
from abiscope.targets import TARGETS


def test_committed_table_is_the_generated_one() -> None:
    text = gen_targets_doc.DOC.read_text(encoding="utf-8")
    assert gen_targets_doc.render(text) == text, \
        "docs/targets.md is stale: run python tools/gen_targets_doc.py"


def test_every_target_has_a_row_and_a_predicate() -> None:
    table = gen_targets_doc.table()
    for name, target in TARGETS.items():
        assert f"| `{name}` |" in table
        assert target.predicate, f"{name}: gen would leave it out silently"
