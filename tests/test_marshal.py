"""abiscope.marshal and `abiscope convert`, checked against gcc.

- gcc agreement: random values are written as C designated initialisers; the bytes gcc gives
  them (x86_64 and i386 programs run here; big-endian s390x/ppc/ppc64/m68k and aarch64
  objects read back from .data) must equal ``pack`` of the same values, and ``unpack`` must
  give the values back. Written shapes, the bundled seed headers and Xen's public
  ``struct vcpu_runstate_info``.
- hypothesis: pack/unpack round trips, convert src->dst->src is the identity where values
  fit, narrowing errors name the member.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abiscope import frontend, marshal
from abiscope.model import Model, Record, model_from_json, model_to_json
from abiscope.targets import TARGETS
from conftest import SEED_DIR, skip_or_fail
from marshal_support import CInit, Gen, c_source, object_bytes, run_program
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc

SHAPES = Path(__file__).parent / "marshal_headers" / "shapes.h"
SHAPE_RECORDS = ("struct bits", "struct nested", "union word", "struct with_unions",
                 "struct numbers", "struct packed_hdr", "struct aligned_pair", "struct point")
RUN_TARGETS = ("x86_64", "i386")  # programs run here
OBJ_TARGETS = ("s390x", "ppc", "ppc64", "m68k", "aarch64")  # read back from .data
SAMPLES = 6  # value sets per record and target


def _parse(headers: list[str], targets: tuple[str, ...], **options: Any) -> Model:
    model = frontend.parse(headers, [TARGETS[t] for t in targets],
                           frontend.ParseOptions(all_files=True, **options), jobs=1)
    assert not model.failures, model.failures
    return model


@pytest.fixture(scope="module")
def shapes() -> Model:
    return _parse([str(SHAPES)], RUN_TARGETS + OBJ_TARGETS, system_dirs=False)


def _rec(model: Model, name: str) -> Record:
    rec = model.record(name)
    assert rec is not None, name
    return rec


def _subset(given: Any, got: Any, path: str = "") -> Iterator[str]:
    """Mismatches between the values given and those unpacked (unions unpack every view)."""
    if isinstance(given, Mapping):
        for k, v in given.items():
            yield from _subset(v, got[k], f"{path}.{k}")
    elif isinstance(given, list):
        for i, v in enumerate(given):
            yield from _subset(v, got[i], f"{path}[{i}]")
    elif given != got or isinstance(given, bool) != isinstance(got, bool):
        yield f"{path}: gave {given!r}, unpacked {got!r}"


# --------------------------------------------------------------------------- gcc agreement


def _gcc_bytes(target: str, includes: list[str], objects: list[tuple[str, str, str]],
               tmp: Path, flags: list[str]) -> dict[str, bytes]:
    gcc = find_gcc(target)
    if gcc is None:
        skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed")
        raise AssertionError  # unreachable
    if target in RUN_TARGETS:
        return run_program(gcc, c_source(includes, objects, True), tmp, flags,
                           static=target != "x86_64")
    return object_bytes(gcc, c_source(includes, objects, False), tmp, flags)


def _agreement(model: Model, target: str, records: tuple[str, ...], includes: list[str],
               tmp: Path, flags: list[str], seed: int) -> int:
    rng = random.Random(seed)
    gen, init = Gen(rng, model, target), CInit(model, target)
    cases: dict[str, tuple[Record, dict[str, Any]]] = {}
    objects = []
    for r, name in enumerate(records):
        rec = _rec(model, name)
        for i in range(SAMPLES):
            values = gen.record(rec) if i else {}
            var = f"v{r}_{i}"
            cases[var] = (rec, values)
            objects.append((var, rec.name, init.record(rec, values)))
    gcc = _gcc_bytes(target, includes, objects, tmp, flags)
    problems = []
    for var, (rec, values) in cases.items():
        packed = marshal.pack(rec, target, values, model)
        if packed != gcc[var]:
            problems.append(f"{rec.name} {values}: pack {packed.hex()} != gcc {gcc[var].hex()}")
            continue
        back = marshal.unpack(rec, target, gcc[var], model)
        problems.extend(f"{rec.name}{p}" for p in _subset(values, back))
        if marshal.pack(rec, target, back, model) != gcc[var]:
            problems.append(f"{rec.name}: pack(unpack(gcc bytes)) differs")
    assert not problems, "\n".join(problems[:10])
    return len(cases)


@pytest.mark.parametrize("target", RUN_TARGETS + OBJ_TARGETS)
def test_pack_equals_gcc_bytes_shapes(shapes: Model, target: str, tmp_path: Path) -> None:
    n = _agreement(shapes, target, SHAPE_RECORDS, [str(SHAPES)], tmp_path, [], seed=7)
    print(f"{target}: {n} objects byte-identical to gcc")


@pytest.fixture(scope="module")
def seed_model() -> Model:
    return _parse([str(SEED_DIR / h) for h in ("dm_op.h", "dm_op_v3.h", "privcmd_dm_op.h")],
                  RUN_TARGETS, system_dirs=False)


SEED_RECORDS = ("struct xen_dm_op_buf", "struct xen_dm_op_buf_v3",
                "struct xen_dm_op_buf_v3_pad", "struct privcmd_dm_op_buf")


@pytest.mark.parametrize("target", RUN_TARGETS)
def test_pack_equals_gcc_bytes_seed(seed_model: Model, target: str, tmp_path: Path) -> None:
    includes = [str(SEED_DIR / h) for h in ("dm_op.h", "dm_op_v3.h", "privcmd_dm_op.h")]
    _agreement(seed_model, target, SEED_RECORDS, includes, tmp_path, [], seed=11)


@pytest.fixture(scope="module")
def xen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Path]:
    if not Path("/usr/include/xen/vcpu.h").is_file():
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    inc = tmp_path_factory.mktemp("xeninc")
    (inc / "xen").symlink_to("/usr/include/xen")  # only xen/, not the host's whole tree
    header = inc / "runstate.h"
    header.write_text("#include <stdint.h>\n#include <xen/vcpu.h>\n")
    model = _parse([str(header)], RUN_TARGETS, include_dirs=(str(inc),),
                   defines=("__XEN_TOOLS__",))
    return model, inc


RUNSTATE = {"state": 3, "state_entry_time": 0x0123456789ABCDEF,
            "time": [0, 1, 2**63, 2**64 - 1]}


def test_xen_runstate_i386_program_converts_to_x86_64_program(
        xen: tuple[Model, Path], tmp_path: Path) -> None:
    """An i386 program's vcpu_runstate_info, converted, is what an x86_64 program holds."""
    model, inc = xen
    rec = _rec(model, "struct vcpu_runstate_info")
    flags = [f"-I{inc}", "-D__XEN_TOOLS__"]
    includes = [str(inc / "runstate.h")]
    got = {}
    for target in RUN_TARGETS:
        init = CInit(model, target).record(rec, RUNSTATE)
        sub = tmp_path / target
        sub.mkdir()
        got[target] = _gcc_bytes(target, includes, [("rs", rec.name, init)], sub, flags)["rs"]
        assert marshal.pack(rec, target, RUNSTATE, model) == got[target]
        assert marshal.unpack(rec, target, got[target], model) == RUNSTATE
    assert len(got["i386"]) == 44 and len(got["x86_64"]) == 48
    assert marshal.convert(rec, got["i386"], "i386", "x86_64", model) == got["x86_64"]
    assert marshal.convert(rec, got["x86_64"], "x86_64", "i386", model) == got["i386"]
    _agreement(model, "i386", ("struct vcpu_runstate_info",), includes, tmp_path, flags, 3)


# --------------------------------------------------------------------------- properties

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(rng=st.randoms(use_true_random=False), name=st.sampled_from(SHAPE_RECORDS),
       target=st.sampled_from(RUN_TARGETS + OBJ_TARGETS))
def test_pack_unpack_round_trip(shapes: Model, rng: random.Random, name: str,
                                target: str) -> None:
    rec = _rec(shapes, name)
    values = Gen(rng, shapes, target).record(rec)
    data = marshal.pack(rec, target, values, shapes)
    assert len(data) == rec.layouts[target].size
    back = marshal.unpack(rec, target, data, shapes)
    assert not list(_subset(values, back))
    assert marshal.pack(rec, target, back, shapes) == data
    assert marshal.unpack(rec, target, data, shapes) == back


def _has_union(model: Model, rec: Record, target: str) -> bool:
    lay = rec.layouts[target]
    if lay.kind == "union":
        return True
    stack = list(lay.members)
    while stack:
        m = stack.pop()
        t = m.type.element if m.type.kind == "array" and m.type.element else m.type
        if m.type.canonical.startswith("union") or t.canonical.startswith("union"):
            return True
        stack.extend(m.members)
        if t.kind == "record" and t.record and t.record != rec.name:
            inner = model.record(t.record)
            if inner is not None and _has_union(model, inner, target):
                return True
    return False


@PROPERTY
@given(rng=st.randoms(use_true_random=False), name=st.sampled_from(SHAPE_RECORDS),
       pair=st.sampled_from([("i386", "x86_64"), ("x86_64", "i386"), ("s390x", "x86_64"),
                             ("ppc", "aarch64"), ("m68k", "i386"), ("ppc64", "x86_64")]))
def test_convert_there_and_back_is_identity(shapes: Model, rng: random.Random, name: str,
                                            pair: tuple[str, str]) -> None:
    """Values drawn on the narrower side; src -> dst -> src gives the same bytes back, or
    fails naming a member (a union whose views disagree once the byte order changes)."""
    src, dst = pair
    rec = _rec(shapes, name)
    narrow = src if TARGETS[src].pointer_bits <= TARGETS[dst].pointer_bits else dst
    values = Gen(rng, shapes, narrow, char_signed_range=True).record(rec)
    try:
        data = marshal.pack(rec, src, values, shapes)
        there = marshal.convert(rec, data, src, dst, shapes)
    except marshal.MarshalError as exc:
        assert exc.path.startswith(rec.name + "."), exc
        assert _has_union(shapes, rec, src), exc
        return
    assert marshal.convert(rec, there, dst, src, shapes) == data
    assert marshal.unpack(rec, dst, there, shapes) == marshal.unpack(rec, src, data, shapes)


NARROWING = ("l", "ul", "sz", "ip", "ptr", "str", "fn")


@PROPERTY
@given(member=st.sampled_from(NARROWING), value=st.integers(2**32, 2**63 - 1))
def test_narrowing_names_member_and_value(shapes: Model, member: str, value: int) -> None:
    rec = _rec(shapes, "struct numbers")
    data = marshal.pack(rec, "x86_64", {member: value}, shapes)
    with pytest.raises(marshal.ValueRangeError) as info:
        marshal.convert(rec, data, "x86_64", "i386", shapes)
    assert info.value.path == f"struct numbers.{member}"
    assert info.value.value == value and str(value) in str(info.value)
    assert "i386" in str(info.value)


# --------------------------------------------------------------------------- decisions


def test_padding_is_zero_and_missing_members_are_zero(shapes: Model) -> None:
    rec = _rec(shapes, "struct aligned_pair")
    data = marshal.pack(rec, "x86_64", {"c": 0xFF, "v": 2**64 - 1}, shapes)
    lay = rec.layouts["x86_64"]
    assert data[0] == 0xFF and data[1:16] == bytes(15)  # the hole before v
    assert data[16:24] == b"\xff" * 8 and set(data[24:]) == {0}
    assert lay.size == len(data)


def test_unknown_member_is_an_error(shapes: Model) -> None:
    rec = _rec(shapes, "struct nested")
    with pytest.raises(marshal.UnknownMemberError, match=r"struct nested\.p\.z: no such"):
        marshal.pack(rec, "x86_64", {"p": {"x": 1, "z": 2}}, shapes)


@pytest.mark.parametrize("values, path", [
    ({"tag": 256}, "struct nested.tag"),
    ({"path": [{}, {"y": 2**31}]}, "struct nested.path[1].y"),
    ({"grid": [[0], [0, 0, -2**31 - 1]]}, "struct nested.grid[1][2]"),
    ({"range": {"hi": -1}}, "struct nested.range.hi"),
    ({"name": [1] * 6}, "struct nested.name"),
    ({"name": b"\x80"}, None),  # bytes for a signed char array: -128, fits
    ({"tag": 1.5}, "struct nested.tag"),
    ({"p": 3}, "struct nested.p"),
])
def test_values_that_do_not_fit_name_the_member(shapes: Model, values: dict[str, Any],
                                                path: str | None) -> None:
    rec = _rec(shapes, "struct nested")
    if path is None:
        assert marshal.unpack(rec, "i386", marshal.pack(rec, "i386", values, shapes),
                              shapes)["name"][0] == -128
        return
    with pytest.raises(marshal.ValueRangeError) as info:
        marshal.pack(rec, "i386", values, shapes)
    assert info.value.path == path and path in str(info.value)


def test_bitfield_ranges(shapes: Model) -> None:
    rec = _rec(shapes, "struct bits")
    for member, bad in (("a", 8), ("a", -1), ("b", 16), ("b", -17), ("wide", 2**40),
                        ("swide", -(2**22) - 1), ("flag", 2), ("m", "NOPE")):
        with pytest.raises(marshal.ValueRangeError, match=rf"struct bits\.{member}"):
            marshal.pack(rec, "s390x", {member: bad}, shapes)
    data = marshal.pack(rec, "s390x", {"m": "MODE_NEG", "b": -16, "a": 7}, shapes)
    assert marshal.unpack(rec, "s390x", data, shapes)["m"] == -100


def test_union_members_must_agree(shapes: Model) -> None:
    rec = _rec(shapes, "union word")
    data = marshal.pack(rec, "x86_64", {"u": 0x01020304, "raw": [4, 3, 2, 1]}, shapes)
    assert data == bytes([4, 3, 2, 1])
    with pytest.raises(marshal.OverlapError, match=r"union word\.raw\[0\] = 1 disagrees "
                                                     r"with union word\.u"):
        marshal.pack(rec, "x86_64", {"u": 0x01020304, "raw": [1]}, shapes)
    # Across byte orders the views of one union disagree: convert says so, unless told
    # which views not to carry.
    with pytest.raises(marshal.OverlapError):
        marshal.convert(rec, data, "x86_64", "s390x", shapes)
    out = marshal.convert(rec, data, "x86_64", "s390x", shapes, drop=["halves", "raw"])
    assert out == bytes([1, 2, 3, 4])


def test_buffer_sizes(shapes: Model) -> None:
    rec = _rec(shapes, "struct point")
    for size in (0, 7, 9):
        with pytest.raises(marshal.BufferSizeError, match="struct point on x86_64 is 8 "):
            marshal.unpack(rec, "x86_64", bytes(size), shapes)
        with pytest.raises(marshal.BufferSizeError):
            marshal.convert(rec, bytes(size), "x86_64", "i386", shapes)


def test_unsupported_and_missing_model(tmp_path: Path) -> None:
    header = tmp_path / "h.h"
    header.write_text("struct in { int a; };\nstruct out { struct in i; "
                      "struct { int x; } arr[2]; _Complex double z; };\n")
    model = _parse([str(header)], ("x86_64",), system_dirs=False)
    rec = _rec(model, "struct out")
    with pytest.raises(marshal.MarshalError, match="pass the model"):
        marshal.pack(rec, "x86_64", {"i": {"a": 1}})
    with pytest.raises(marshal.UnsupportedTypeError, match=r"struct out\.arr\[0\]"):
        marshal.pack(rec, "x86_64", {"arr": [{"x": 1}]}, model)
    with pytest.raises(marshal.UnsupportedTypeError, match=r"struct out\.z"):
        marshal.pack(rec, "x86_64", {"z": 1.0}, model)
    with pytest.raises(marshal.MarshalError, match="no layout for target i386"):
        marshal.pack(rec, "i386", {}, model)


def test_floats_exactness(shapes: Model) -> None:
    rec = _rec(shapes, "struct numbers")
    packed = marshal.pack(rec, "x86_64", {"f": 0.1}, shapes)  # rounded, as C assigns
    assert marshal.unpack(rec, "x86_64", packed, shapes)["f"] != 0.1
    with pytest.raises(marshal.ValueRangeError, match=r"struct numbers\.f = 1e\+39"):
        marshal.pack(rec, "x86_64", {"f": 1e39}, shapes)
    with pytest.raises(marshal.ValueRangeError, match="not exact"):
        marshal.pack(rec, "x86_64", {"f": 0.1}, shapes, exact_floats=True)
    for target in ("x86_64", "aarch64", "ppc64", "m68k", "s390x"):
        for v in (1.5, -0.0, 5e-324, 1.7976931348623157e308, float("inf")):
            data = marshal.pack(rec, target, {"ld": v}, shapes)
            assert marshal.unpack(rec, target, data, shapes)["ld"] == v


def test_snapshot_needs_no_clang(shapes: Model, tmp_path: Path) -> None:
    """A model saved as JSON and loaded back packs the same bytes, in a process that never
    imports the frontend."""
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(model_to_json(shapes)))
    rec = _rec(model_from_json(json.loads(snap.read_text())), "struct bits")
    values = {"a": 5, "b": -3, "c": 4000, "flag": True, "m": 7, "wide": 2**39, "tail": 9}
    assert marshal.pack(rec, "s390x", values, shapes) == \
        marshal.pack(_rec(shapes, "struct bits"), "s390x", values, shapes)
    code = ("import json, sys; from abiscope import marshal; from abiscope.model import "
            "model_from_json as f; m = f(json.load(open(sys.argv[1]))); "
            "r = m.record('struct bits'); "
            "print(marshal.pack(r, 's390x', json.loads(sys.argv[2]), m).hex()); "
            "assert 'abiscope.frontend' not in sys.modules and 'clang' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code, str(snap), json.dumps(values)],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == marshal.pack(rec, "s390x", values, shapes).hex()


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def snapshot(shapes: Model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "shapes.json"
    path.write_text(json.dumps(model_to_json(shapes)))
    return path


def test_cli_convert_hex_and_json(run_cli: Any, snapshot: Path, shapes: Model,
                                  tmp_path: Path) -> None:
    rec = _rec(shapes, "struct numbers")
    values = {"s64": -2**63, "l": -5, "ptr": 0xDEADBEEF, "ld": 2.5, "mode": -100}
    hexfile = tmp_path / "in.hex"
    hexfile.write_text(" ".join(f"{b:02x}" for b in marshal.pack(rec, "i386", values,
                                                                 shapes)) + "\n")
    r = run_cli("convert", "--snapshot", str(snapshot), "-r", "numbers", "--from", "i386",
                "--to", "s390x", "--input-format", "hex", "-i", str(hexfile))
    assert r.code == 0, r.err
    assert bytes.fromhex(r.out) == marshal.pack(rec, "s390x", values, shapes)
    binfile = tmp_path / "out.bin"
    r = run_cli("convert", "--snapshot", str(snapshot), "-r", "struct numbers", "--from",
                "i386", "--to", "x86_64", "--input-format", "hex", "-i", str(hexfile),
                "-o", str(binfile))
    assert r.code == 0 and binfile.read_bytes() == marshal.pack(rec, "x86_64", values, shapes)
    r = run_cli("convert", "--snapshot", str(snapshot), "-r", "numbers", "--from", "i686",
                "--to", "amd64", "--input-format", "hex", "-i", str(hexfile), "-o",
                str(binfile))  # (target aliases)
    assert r.code == 0 and binfile.read_bytes() == marshal.pack(rec, "x86_64", values, shapes)
    r = run_cli("convert", "--snapshot", str(snapshot), "-r", "numbers", "--from", "x86_64",
                "-i", str(binfile), "--output-format", "json")
    doc = json.loads(r.out)
    assert doc["schema"] == "abiscope.values/1" and doc["target"] == "x86_64"
    assert not list(_subset(values, doc["values"]))
    jsonfile = tmp_path / "values.json"
    jsonfile.write_text(r.out)
    r = run_cli("convert", "--snapshot", str(snapshot), "-r", "numbers", "--to", "x86_64",
                "--input-format", "json", "-i", str(jsonfile))
    assert r.code == 0 and bytes.fromhex(r.out) == binfile.read_bytes()


def test_cli_errors_exit_2(run_cli: Any, snapshot: Path, shapes: Model,
                           tmp_path: Path) -> None:
    rec = _rec(shapes, "struct numbers")
    big = tmp_path / "big.bin"
    big.write_bytes(marshal.pack(rec, "x86_64", {"sz": 2**40}, shapes))
    base = ("convert", "--snapshot", str(snapshot), "-r", "numbers")
    r = run_cli(*base, "--from", "x86_64", "--to", "i386", "-i", str(big))
    assert r.code == 2 and "struct numbers.sz = 1099511627776 does not fit" in r.err
    assert "Traceback" not in r.err
    short = tmp_path / "short.bin"
    short.write_bytes(b"\0" * 3)
    r = run_cli(*base, "--from", "x86_64", "-i", str(short))
    assert r.code == 2 and "buffer is short (3 bytes)" in r.err
    bad_hex = tmp_path / "bad.hex"
    bad_hex.write_text("zz")
    r = run_cli(*base, "--from", "x86_64", "--input-format", "hex", "-i", str(bad_hex))
    assert r.code == 2 and "not hex" in r.err
    r = run_cli(*base, "--from", "riscv64", "-i", str(big))
    assert r.code == 2 and "has no layouts for riscv64" in r.err
    r = run_cli(*base, "-i", str(big))
    assert r.code == 2 and "--from" in r.err
    r = run_cli("convert", "--snapshot", str(snapshot), "-r", "nosuch", "--from", "i386")
    assert r.code == 2 and "matches no record" in r.err


def test_cli_headers(run_cli: Any, xen: tuple[Model, Path], tmp_path: Path) -> None:
    model, inc = xen
    rec = _rec(model, "struct vcpu_runstate_info")
    src = tmp_path / "rs.bin"
    src.write_bytes(marshal.pack(rec, "i386", RUNSTATE, model))
    r = run_cli("convert", str(inc / "runstate.h"), "-I", str(inc), "-D", "__XEN_TOOLS__",
                "-r", "vcpu_runstate_info", "--from", "i386", "--to", "x86_64",
                "-i", str(src))
    assert r.code == 0, r.err
    assert bytes.fromhex(r.out) == marshal.pack(rec, "x86_64", RUNSTATE, model)


def test_cli_drop_union_view(run_cli: Any, snapshot: Path, tmp_path: Path) -> None:
    src = tmp_path / "w.hex"
    src.write_text("04030201")
    base = ("convert", "--snapshot", str(snapshot), "-r", "union word", "--from", "x86_64",
            "--to", "s390x", "--input-format", "hex", "-i", str(src))
    r = run_cli(*base)
    assert r.code == 2 and "disagrees" in r.err
    r = run_cli(*base, "--drop", "raw", "--drop", "halves")
    assert r.code == 0 and r.out.strip() == "01020304"
    r = run_cli(*base, "--drop", "nosuch")
    assert r.code == 2 and "union word.nosuch: no such member to drop" in r.err
