"""Self-test of the C record generator: every drawn program compiles with gcc and libclang."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from cgen.cstructs import FEATURES, CProgram, c_programs

GCC = shutil.which("gcc")
CLANG_ARGS = [
    "-x",
    "c",
    "-std=gnu11",
    "--target=x86_64-linux-gnu",
    "-ffreestanding",
    "-nostdlibinc",
]

_HEADER = "#include <stdint.h>\n#include <stddef.h>\n"


def _clang_errors(source: str) -> list[str]:
    cindex = pytest.importorskip("clang.cindex")
    cindex.Config.libcxx_dir = None
    index = cindex.Index.create()
    tu = index.parse("gen.c", args=CLANG_ARGS, unsaved_files=[("gen.c", source)])
    return [
        f"{d.location.line}:{d.location.column}: {d.spelling}"
        for d in tu.diagnostics
        if d.severity >= cindex.Diagnostic.Error
    ]


def _check_shape(prog: CProgram) -> None:
    assert prog.source.startswith(_HEADER)
    includes = [ln for ln in prog.source.splitlines() if ln.lstrip().startswith("#include")]
    assert includes == ["#include <stdint.h>", "#include <stddef.h>"]
    assert 1 <= len(prog.records) <= 6
    assert len(set(prog.records)) == len(prog.records)
    assert prog.probes == prog.records
    assert prog.features <= FEATURES
    for name in prog.records:
        assert re.fullmatch(r"(struct|union) r\d+|r\d+_t", name), name
        if name.endswith("_t"):  # typedef struct {...} rN_t;
            pattern = rf"\}}[^;{{}}]*\b{name};"
        else:  # struct [__attribute__((...))] rN {
            kind, tag = name.split()
            pattern = rf"\b{kind}\b[^;{{}}]*\b{tag} \{{"
        assert re.search(pattern, prog.source), name


@pytest.mark.skipif(GCC is None, reason="gcc not installed")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(prog=st.booleans().flatmap(lambda vectors: c_programs(vectors=vectors)))
def test_generated_programs_compile(prog: CProgram) -> None:
    _check_shape(prog)
    assert GCC is not None
    # A static assertion per record proves the names in ``records``/``probes`` are complete types.
    probes = "".join(
        f'_Static_assert(sizeof({p}) >= 0 && _Alignof({p}) >= 1, "{i}");\n'
        for i, p in enumerate(prog.probes)
    )
    source = prog.source + probes
    proc = subprocess.run(
        [GCC, "-std=gnu11", "-c", "-x", "c", "-o", "/dev/null", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"gcc failed:\n{proc.stderr}\n---\n{source}"
    errors = _clang_errors(source)
    assert not errors, "clang errors:\n" + "\n".join(errors) + "\n---\n" + source
