"""The walk's own libclang prototypes (:class:`abiscope.frontend.bindings.FastCalls`) answer
what the bindings answer, and units walked in threads (as a Dask worker runs them) give what
they give one after another."""

from __future__ import annotations

import ctypes
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from abiscope.frontend import ParseOptions, load_cindex, parse_unit
from abiscope.frontend.bindings import FastCalls
from abiscope.targets import TARGETS

HEADER = """\
#define FIELD(n) int n
struct café { FIELD(a); union { char b; short c; }; unsigned d : 3; };
typedef struct { const char *p[2]; } named_t;
enum colour { RED = -1, GREEN = 0xffffffff };
"""


def _cursors(tu: object) -> list[object]:
    out = []

    def walk(cursor: object) -> None:
        for child in cursor.get_children():  # type: ignore[attr-defined]
            out.append(child)
            walk(child)
    walk(tu.cursor)  # type: ignore[attr-defined]
    return out


def test_fast_calls_answer_what_the_bindings_answer(tmp_path: Path) -> None:
    header = tmp_path / "fast.h"
    header.write_text(HEADER, encoding="utf-8")
    ci = load_cindex()
    tu = ci.Index.create().parse(str(header), args=["-x", "c", "--target=x86_64-linux-gnu"])
    fast = FastCalls()
    cursors = _cursors(tu)
    assert any(c.spelling == "café" for c in cursors)  # (a UTF-8 identifier)
    for cursor in cursors:
        assert fast.cursor_spelling(cursor) == cursor.spelling
        assert fast.type_spelling(cursor.type) == cursor.type.spelling
        file, line, column = fast.expansion(cursor)
        loc = cursor.location
        assert (line, column) == (loc.line, loc.column)
        assert (file is None) == (loc.file is None)
        if file is not None:
            assert ci.File(ctypes.cast(file, ci.c_object_p)).name == loc.file.name


def test_units_walked_in_threads_equal_units_walked_in_turn(tmp_path: Path) -> None:
    headers = []
    for i in range(8):
        h = tmp_path / f"h{i}.h"
        h.write_text(f"#define F{i}(n) int n\n" + "".join(
            f"struct s{i}_{k} {{ char c; long l[{k + 1}];\n F{i}(x); short y; }};\n"
            for k in range(40)))
        headers.append(str(h))
    targets = [TARGETS["x86_64"]]
    options = ParseOptions()
    # (two headers a unit: the second reparses the first's translation unit)
    jobs = [(tuple(headers[i:i + 2]), targets, options, False) for i in range(0, 8, 2)] * 4
    in_turn = [parse_unit(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda job: parse_unit(*job), jobs))
    assert threaded == in_turn
