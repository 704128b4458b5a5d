"""The records and layouts of a target do not depend on which other targets are selected,
in which order, nor on the order of the headers (issue 26, "one answer everywhere").

A record is the one its input header declares. On i386 Debian's cross tree holds its own
copy of every ``linux/`` header: ``linux/atm.h`` includes ``<linux/atmapi.h>``, which is
the i386 tree's copy there (GCC too: its DWARF declares ``atm_kptr_t`` in
``/usr/i686-linux-gnu/include/linux/atmapi.h``), so the walk met ``atm_kptr_t`` first in
a file that is not an input; the input ``linux/atmapi.h`` then added nothing ("first name
wins"), ``layout`` did not list the record on i386 (not declared in an input), and the
model's one location per record was the first selected target's: with i386 before
x86_64, x86_64 lost the record as well (25 records on the whole UAPI tree).

The fast tests reproduce it with a header pair and a per-target ``--sysroot`` holding a
copy of one of them; the slow test compares the per-target slices of ``layout -f json``
on the whole UAPI tree across selections.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from abiscope.frontend import ParseOptions, TargetResult, parse_unit
from abiscope.frontend.driver import _combine
from abiscope.frontend.units import Given
from abiscope.targets import TARGETS
from conftest import run_cli_captured, skip_or_fail

B_TEXT = """#ifndef PAIR_B_H
#define PAIR_B_H
typedef struct { int v; short w; } b_t;
struct b_rec { b_t b; char c; };
enum b_mode { B_ONE = 1, B_TWO };
#endif
"""
# (reads PAIR_N from a.h: it does not parse alone, as linux/hdlc/ioctl.h needs IFNAMSIZ)
C_TEXT = """#ifndef PAIR_C_H
#define PAIR_C_H
typedef struct { char n[PAIR_N]; int i; } c_t;
#endif
"""


@pytest.fixture
def pair(tmp_path: Path) -> tuple[list[str], list[str]]:
    """Inputs ``inc/pair/a.h`` (which includes ``<pair/b.h>`` and ``<pair/c.h>``),
    ``inc/pair/b.h`` and ``inc/pair/c.h``, and the ``--sysroot`` options: x86_64's is
    ``inc`` (``<pair/b.h>`` is the input), i386's is ``sys``, which holds copies of
    ``pair/b.h`` and ``pair/c.h`` (same guards, other lines), as Debian's i386 cross
    tree holds a copy of ``linux/atmapi.h``."""
    inc, sys_ = tmp_path / "inc" / "pair", tmp_path / "sys" / "pair"
    inc.mkdir(parents=True)
    sys_.mkdir(parents=True)
    (inc / "a.h").write_text("#define PAIR_N 6\n#include <pair/b.h>\n#include <pair/c.h>\n"
                             "struct a_rec { b_t b; c_t c; long l; enum b_mode m; };\n")
    for name, text in (("b.h", B_TEXT), ("c.h", C_TEXT)):
        (inc / name).write_text(text)
        (sys_ / name).write_text("/* the i386 tree's copy */\n\n" + text)
    return [str(inc / n) for n in ("a.h", "b.h", "c.h")], [
        "--sysroot", f"x86_64={tmp_path / 'inc'}", "--sysroot", f"i386={tmp_path / 'sys'}"]


def _slices(text: str) -> dict[str, dict[Any, Any]]:
    """target -> record name -> (kind, that target's layout), and ("enum", name) -> its
    layout there, from layout JSON (a record's or enum's file and line are one for every
    target: an input's first)."""
    doc = json.loads(text)
    out: dict[str, dict[Any, Any]] = {}
    for rec in doc["records"]:
        for target, lay in rec["layouts"].items():
            out.setdefault(target, {})[rec["name"]] = (rec["kind"], lay)
    for enum in doc["enums"]:
        for target, lay in enum["layouts"].items():
            out.setdefault(target, {})[("enum", enum["name"])] = lay
    return out


def _files(text: str) -> dict[str, str]:
    doc = json.loads(text)
    return {rec["name"]: rec["file"] for rec in (*doc["records"], *doc["enums"])}


def _layout(headers: list[str], selection: str, extra: list[str]) -> str:
    res = run_cli_captured("layout", *headers, "--target", selection, "-f", "json",
                           "--no-cache", "-j", "1", *extra)
    assert res.code == 0, res.err
    return res.out


def test_a_target_is_the_same_whatever_else_is_selected(
        pair: tuple[list[str], list[str]]) -> None:
    headers, sysroots = pair
    texts = {t: _layout(headers, t, sysroots) for t in ("i386", "x86_64")}
    alone = {t: _slices(text)[t] for t, text in texts.items()}
    for t, records in alone.items():  # (the inputs declare them on both: listed on both)
        assert {n for n in records if isinstance(n, str)} == {
            "b_t", "c_t", "struct a_rec", "struct b_rec"}, t
        for name in ("b_t", "enum b_mode"):  # (the input's, not the copy's)
            assert _files(texts[t])[name] == headers[1], (t, name)
    # c.h does not parse alone: i386's c_t is its own copy's, x86_64's the input's
    assert _files(texts["i386"])["c_t"].endswith("/sys/pair/c.h")
    assert _files(texts["x86_64"])["c_t"] == headers[2]
    for selection in ("i386,x86_64", "x86_64,i386"):
        for order in (headers, headers[::-1]):
            got = _slices(_layout(order, selection, sysroots))
            assert got == alone, (selection, order)


def _records(result: TargetResult) -> dict[str, Any]:
    return {name: (kind, loc, lay) for name, kind, loc, lay in result.records}


def test_units_combine_to_one_unit(pair: tuple[list[str], list[str]]) -> None:
    """The record of the input wins however the headers fall into units: a unit given a
    record that units before it met outside their inputs (weak) walks its input's own."""
    headers, _ = pair
    opts = ParseOptions(sysroots=(("i386", str(Path(headers[0]).parents[2] / "sys")),))
    i386 = [TARGETS["i386"]]
    whole = _records(parse_unit(headers, i386, opts, batch=False).results[0])
    assert whole["b_t"][1].file == headers[1]
    first = parse_unit(headers[:1], i386, opts, batch=False, given=Given())
    assert "b_t" in first.gives.weak  # (met in the i386 tree's copy)
    assert "enum b_mode" in first.gives.weak_enums
    second = parse_unit(headers[1:], i386, opts, batch=False, given=first.gives)
    assert _records(_combine([first.results[0], second.results[0]])) == whole
    batched = _records(parse_unit(headers, i386, opts, batch=True).results[0])
    assert batched == whole


# -- the whole UAPI tree ------------------------------------------------------------------

UAPI = "/usr/include/linux"
SELECTIONS = ("i386,x86_64", "x86_64,i386", "default")


@pytest.fixture(scope="module")
def uapi() -> dict[str, dict[str, dict[str, Any]]]:
    """``layout /usr/include/linux -f json --no-cache`` per selection (and per target
    alone), each run once: selection -> target -> record -> (kind, layout); and the
    record's file when i386 or x86_64 is alone ("files")."""
    if not os.path.isdir(UAPI):
        skip_or_fail(f"{UAPI}: no Linux UAPI headers (apt install linux-libc-dev)")
    out: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for selection in (*SELECTIONS, "i386", "x86_64", "aarch64"):
        res = run_cli_captured("layout", UAPI, "--target", selection, "-f", "json",
                               "--no-cache")
        assert res.code in (0, 1), res.err
        out[selection] = _slices(res.out)
        if selection in ("i386", "x86_64"):
            files[selection] = _files(res.out)
    return {**out, "files": files}


@pytest.mark.slow
@pytest.mark.parametrize("selection", SELECTIONS)
def test_uapi_target_slices_do_not_depend_on_the_selection(
        uapi: dict[str, dict[str, dict[str, Any]]], selection: str) -> None:
    compared = 0
    for target, records in uapi[selection].items():
        if target not in uapi or target == "files":
            continue
        assert records == uapi[target][target], f"{target} in {selection}"
        compared += len(records)
    assert compared > 2000
    print(f"{selection}: {compared} (record or enum, target) layouts byte-identical to alone")


@pytest.mark.slow
def test_uapi_typedef_named_records_are_listed_on_i386(
        uapi: dict[str, dict[str, dict[str, Any]]]) -> None:
    """The records that vanished: declared in the inputs, listed on every target."""
    for name, header in (("atm_kptr_t", "atmapi.h"), ("guid_t", "uuid.h"),
                         ("struct in_addr", "in.h"), ("struct iovec", "uio.h")):
        for target in ("i386", "x86_64"):
            assert name in uapi[target][target], (name, target)
            assert uapi["files"][target][name] == f"{UAPI}/{header}", (name, target)
    # linux/hdlc/ioctl.h does not parse alone (IFNAMSIZ): its records come through
    # linux/if.h, on i386 from the i386 tree's own copy, which is declared in the inputs
    for target in ("i386", "x86_64"):
        assert "cisco_proto" in uapi[target][target], target
        assert uapi["files"][target]["cisco_proto"].endswith("/linux/hdlc/ioctl.h")
