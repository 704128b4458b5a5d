"""Several headers per translation unit: the same model as one translation unit per header.

The batch conflicts are real ones (Linux's big- and little-endian byteorder headers cannot be
included together; two headers defining one struct differently) and must be split off, never
dropped; a broken header fails exactly as it fails alone. A header that reads what only the
batch gave it (a macro, typedef or tag of a header it does not include, or includes only
later; a pointee another header completes) gets a translation unit of its own
(abiscope.frontend.isolation, tests/test_isolation.py), so the models are equal, not merely alike.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import pytest

from abiscope import frontend
from abiscope.cache import UnitCache
from abiscope.cliutil import progress_bar
from abiscope.frontend import CHUNK_SIZE, Given, ParseOptions, batches, chunks, units
from abiscope.model import CType, Member, Model, restricted
from abiscope.targets import TARGETS
from conftest import skip_or_fail
from differential import compare_model, gcc_layouts
from oracle.gcc_dwarf import GCC_FOR_TARGET, find_gcc


def _strip(ct: CType | None) -> Any:
    if ct is None:
        return None
    return (ct.spelling, ct.kind, ct.size, ct.align, _strip(ct.element),
            ct.pointee.spelling if ct.pointee else None, ct.record, ct.dims)


def _members(members: tuple[Member, ...]) -> Any:
    return [(m.name, _strip(m.type), m.offset_bits, m.size_bits, m.align, m.bit_width,
             m.location, m.align_attr, _members(m.members)) for m in members]


def summary(model: Model) -> Any:
    """Everything of a model but the completeness of pointees."""
    return (
        model.inputs, model.targets, model.enums,
        [(f.header, f.target, f.diagnostics) for f in model.failures],
        [(r.name, r.kind, r.location,
          {t: (lay.size, lay.align, lay.holes, lay.tail_padding, lay.packed,
               _members(lay.members)) for t, lay in r.layouts.items()})
         for r in model.records],
    )


def test_batches_are_stable_under_insertion() -> None:
    headers = [f"/x/h{i}.h" for i in range(400)]
    before = batches(headers)
    assert [h for b in before for h in b] == headers
    assert max(len(b) for b in before) <= 64
    after = batches([*headers[:200], "/x/new.h", *headers[200:]])
    assert len(set(before) ^ set(after)) <= 3  # one batch changed (or split in two)


def test_chunks_cover_the_inputs_in_order_largest_first() -> None:
    headers = [f"/x/h{i}.h" for i in range(752)]
    for n in (752, 100, 64, 33):
        for groups, jobs in ((2, 2), (5, 2), (21, 2), (1, 1), (2, 64)):
            out = chunks(headers[:n], groups, jobs)
            assert [h for c in out for h in c] == headers[:n]
            sizes = [len(c) for c in out]
            assert sizes == sorted(sizes, reverse=True)
            assert min(sizes) >= CHUNK_SIZE or len(out) == 1
    assert len(chunks(headers, 2, 2)) == 6  # six units per worker in all
    assert len(chunks(headers, 5, 2)) == 3
    assert chunks(headers[:5], 2, 2) == [tuple(headers[:5])]
    assert chunks([], 2, 2) == []


def test_a_run_without_cache_equals_one_with_it(tmp_path: Path) -> None:
    """Without a cache the work is cut into fewer, larger units (:func:`chunks`) and the
    units keep no file list; the model is the one a cached run (units of
    :func:`batches`) gives, with either one or two processes."""
    root = "/usr/include/linux"
    if not os.path.isdir(root):
        pytest.skip("no /usr/include/linux (linux-libc-dev)")
    headers = sorted(glob.glob(f"{root}/*.h"))[:3 * CHUNK_SIZE]
    targets = [TARGETS["i386"], TARGETS["x86_64"]]
    opts = ParseOptions(all_files=True)
    assert len(chunks(headers, 2, 2)) < len(batches(headers))
    cached = frontend.parse(headers, targets, opts, jobs=2,
                            cache=UnitCache(str(tmp_path / "c")))
    for jobs in (1, 2):
        assert frontend.parse(headers, targets, opts, jobs=jobs, cache=None) == cached
    unit = frontend.parse_unit(tuple(headers[:2]), [TARGETS["x86_64"]], opts, False,
                               files=False)
    assert unit.files == () and unit.results


def test_later_units_skip_what_earlier_ones_gave(tmp_path: Path) -> None:
    """Without a cache a unit is given what the units of its target group before it
    returned (:class:`abiscope.frontend.units.Given`) and does not walk it again; the
    model is still the cached run's, whose units each walk every record they reach. The
    shared record is one GCC lays out otherwise than clang (an aligned bitfield under
    ``#pragma pack``): a later unit's records that hold it, not walked there, are laid
    out by the engine too. Also with engine targets (lp128) and every file's records."""
    (tmp_path / "common.h").write_text(
        "#ifndef COMMON_H\n#define COMMON_H\n#pragma pack(2)\n"
        "struct common { char a; int b : 3 __attribute__((aligned(4))); };\n"
        "#pragma pack()\nenum shared { SHARED_A = 1 };\n#endif\n")
    headers = []
    for i in range(3 * CHUNK_SIZE):
        path = tmp_path / f"h{i:02}.h"
        path.write_text(f'#include "common.h"\n'
                        f"struct s{i} {{ char x; struct common c; enum shared e; }};\n")
        headers.append(str(path))
    targets = [TARGETS[n] for n in ("i386", "x86_64", "mips", "lp128")]
    for all_files in (False, True):
        opts = ParseOptions(all_files=all_files)
        cached = frontend.parse(headers, targets, opts, jobs=1,
                                cache=UnitCache(str(tmp_path / f"c{all_files}")))
        assert {r.name: r.layouts["x86_64"].size for r in cached.records
                if r.name in ("struct common", "struct s7")} \
            == {"struct common": 4, "struct s7": 12}  # GCC's, not clang's 2 and 8
        assert len(chunks(headers, 3, 1)) > 1
        for jobs in (1, 2):
            chained = frontend.parse(headers, targets, opts, jobs=jobs, cache=None)
            assert chained == cached
    # and GCC agrees: the shared record, and a record of the last unit that holds it
    last = Path(headers[-1])
    names = ["struct common", f"struct s{len(headers) - 1}"]
    for target in ("i386", "x86_64", "mips"):
        if find_gcc(target) is None:
            skip_or_fail(f"{GCC_FOR_TARGET[target]} not installed (make deps)")
        gcc = gcc_layouts({"t": last.read_text()}, target, {"t": names},
                          include_dirs=[str(tmp_path)])["t"]
        assert gcc.ok, gcc.stderr
        tally = compare_model(chained, target, gcc.records, last.name, names)
        assert tally.records == 2 and not tally.mismatches, tally.mismatches
    unit = frontend.parse_unit(tuple(headers[:2]), targets[:1], opts, False, files=False,
                               given=Given(records=frozenset({"struct common"})))
    assert [r[0] for r in unit.results[0].records] == ["struct s0", "struct s1"]
    assert unit.gives.records == {"struct s0", "struct s1"}
    assert unit.gives.enums == {"enum shared"}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("batch")
    paths = []
    for i in range(20):
        p = d / f"h{i:02}.h"
        if i == 5:
            text = "struct same { int a; };\nstruct five { char c; };\n"
        elif i == 9:
            text = "struct same { long long b; char c; };\nstruct nine { short s; };\n"
        elif i == 13:
            text = "struct broken { missing_t m; };\n"
        else:
            text = (f"#ifndef H{i}\n#define H{i}\n"
                    f"struct s{i} {{ char c; int x[{i + 1}]; }};\n#endif\n")
        p.write_text(text)
        paths.append(str(p))
    return paths


def test_conflicts_split_and_first_wins(synthetic: list[str]) -> None:
    targets = [TARGETS["i386"], TARGETS["x86_64"], TARGETS["lp128"]]
    opts = ParseOptions(system_dirs=False)
    alone = frontend.parse(synthetic, targets, opts, jobs=1, batch=False)
    batched = frontend.parse(synthetic, targets, opts, jobs=1, batch=True)
    assert batched == alone
    same = batched.record("struct same")
    assert same is not None and same.layouts["x86_64"].size == 4  # h05's, as alone
    assert {f.header for f in batched.failures} == {frontend.relpath(synthetic[13])}
    assert len(batched.records) == 20 - 1 - 1 + 2  # s*, five, nine, same; not broken


@pytest.fixture(scope="module")
def uapi_slice() -> list[str]:
    root = "/usr/include/linux"
    if not os.path.isdir(root):
        pytest.skip("no /usr/include/linux (linux-libc-dev)")
    names = sorted(glob.glob(f"{root}/*.h"))[:24]
    # auto_dev-ioctl.h includes the arm tree's own linux/auto_fs.h, whose include guard
    # then hides /usr/include/linux/auto_fs.h; the byteorder headers conflict
    extra = [f"{root}/auto_dev-ioctl.h", f"{root}/auto_fs.h"]
    return [*names, *extra, *sorted(glob.glob(f"{root}/byteorder/*.h"))]


@pytest.mark.slow
def test_uapi_slice_batched_equals_alone(uapi_slice: list[str]) -> None:
    targets = [TARGETS["x86_64"], TARGETS["arm"], TARGETS["cheri128"]]
    opts = ParseOptions(all_files=True, macros=True)
    alone = frontend.parse(uapi_slice, targets, opts, jobs=1, batch=False)
    batched = frontend.parse(uapi_slice, targets, opts, jobs=2, batch=True)
    assert len(batched.records) > 200
    assert summary(batched) == summary(alone)
    # pointees, and the ioctl macros (acrn.h uses _IOW without including <linux/ioctl.h>:
    # alone, and so in a batch, its macros are not folded)
    assert batched == alone


def test_a_copy_hidden_by_its_include_guard_is_parsed_alone(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    guarded = ("/* copy {0} */\n#ifndef GUARD_H\n#define GUARD_H\n"
               "struct g{0} {{ int x; }};\n#endif\n")
    (tmp_path / "a" / "g.h").write_text(guarded.format("a"))
    (tmp_path / "b" / "g.h").write_text(guarded.format("b"))
    (tmp_path / "user.h").write_text('#include "a/g.h"\nstruct user { struct ga g; };\n')
    headers = [str(tmp_path / "user.h"), str(tmp_path / "b" / "g.h")]
    opts = ParseOptions(system_dirs=False)
    batched = frontend.parse(headers, [TARGETS["x86_64"]], opts, jobs=1, batch=True)
    assert batched == frontend.parse(headers, [TARGETS["x86_64"]], opts, jobs=1, batch=False)
    assert batched.record("struct gb") is not None  # not dropped
    # the same through wrappers: the guard is shared by two files each wrapper includes
    (tmp_path / "w1.h").write_text('#include "a/g.h"\n')
    (tmp_path / "w2.h").write_text('#include "b/g.h"\n')
    wrapped = [str(tmp_path / "w1.h"), str(tmp_path / "w2.h")]
    opts = ParseOptions(system_dirs=False, all_files=True)
    batched = frontend.parse(wrapped, [TARGETS["x86_64"]], opts, jobs=1, batch=True)
    assert batched == frontend.parse(wrapped, [TARGETS["x86_64"]], opts, jobs=1, batch=False)
    assert batched.record("struct gb") is not None and batched.record("struct ga") is not None


def test_a_header_that_needs_another(tmp_path: Path) -> None:
    (tmp_path / "types.h").write_text("typedef unsigned int u32;\n")
    (tmp_path / "user.h").write_text("struct user { u32 x; };\n")  # forgot its include
    headers = [str(tmp_path / "types.h"), str(tmp_path / "user.h")]
    opts = ParseOptions(system_dirs=False)
    alone = frontend.parse(headers, [TARGETS["x86_64"]], opts, jobs=1, batch=False)
    assert [f.header for f in alone.failures] == [frontend.relpath(headers[1])]
    checked = frontend.parse(headers, [TARGETS["x86_64"]], opts, jobs=1, batch=True,
                             standalone=True)
    assert checked == alone
    # the batch would give it the typedef it forgot to include: it is parsed alone
    batched = frontend.parse(headers, [TARGETS["x86_64"]], opts, jobs=1, batch=True)
    assert batched == alone


def test_an_alignment_from_another_files_macro_walks_the_unit_again(tmp_path: Path) -> None:
    """The walk of a unit without the macro record stops at an ``aligned(MACRO)`` written in
    another file's macro, and the unit is walked again with the record: every record once,
    in order, with the alignment read, as when macros are read from the start."""
    (tmp_path / "align.h").write_text(  # (the argument a macro: read with the table)
        "#define EIGHT 8\n#define A8 __attribute__((aligned(EIGHT)))\n"
        "struct before { int b; };\n")
    (tmp_path / "user.h").write_text(
        '#include "align.h"\nstruct first { char c; };\n'
        "struct aligned { char c; int x A8; };\nstruct after { char c; };\n")
    headers = [str(tmp_path / "user.h")]
    for all_files in (False, True):
        opts = ParseOptions(system_dirs=False, all_files=all_files)
        model = frontend.parse(headers, [TARGETS["x86_64"]], opts, jobs=1)
        names = [r.name for r in model.records]
        assert names == sorted(set(names))  # (each once)
        assert {"struct first", "struct aligned", "struct after"} <= set(names)
        assert ("struct before" in names) == all_files
        record = next(r for r in model.records if r.name == "struct aligned")
        member = record.layouts["x86_64"].members[1]
        assert (member.name, member.align_attr, member.offset_bits) == ("x", 8, 64)
        read = frontend.parse(headers, [TARGETS["x86_64"]],
                              ParseOptions(system_dirs=False, all_files=all_files,
                                           macros=True), jobs=1)
        assert read.records == model.records


def test_an_alignment_spelled_in_another_files_macro_needs_no_macro_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``aligned(8)`` written in another file's macro (Linux's ``__aligned_u64``) is read
    from the macro's body as clang spelled it: the unit is not parsed again with the macro
    record. An argument that is a macro still is, with the same values."""
    (tmp_path / "align.h").write_text(
        "#define U64A unsigned long long __attribute__((aligned(8)))\n"
        "#define A16 __attribute__((__aligned__( 0x10 )))\n"
        "#define FOUR 4\n#define A4 __attribute__((aligned(FOUR)))\n")
    (tmp_path / "spelled.h").write_text(
        '#include "align.h"\nstruct spelled { char c; U64A x; char d; int y A16; '
        "char e; int w __attribute__((aligned(010))); };\n")
    (tmp_path / "param.h").write_text(
        '#include "align.h"\nstruct param { char c; int z A4; };\n')
    detailed: list[str] = []
    original = units._GroupParser.parse

    def counted(self: Any, path: str, text: str | None, flags: int | None = None) -> Any:
        detailed.append(text or path)
        return original(self, path, text, flags)

    monkeypatch.setattr(units._GroupParser, "parse", counted)
    opts = ParseOptions(system_dirs=False)
    for header, parses, expected in (
            ("spelled.h", 0, {"x": 8, "y": 16, "w": 8}), ("param.h", 1, {"z": 4})):
        detailed.clear()
        model = frontend.parse([str(tmp_path / header)], [TARGETS["x86_64"]], opts, jobs=1)
        assert len(detailed) == parses
        (record,) = model.records
        attrs = {m.name: m.align_attr for m in record.layouts["x86_64"].members
                 if m.align_attr is not None}
        assert attrs == expected
        read = frontend.parse([str(tmp_path / header)], [TARGETS["x86_64"]],
                              ParseOptions(system_dirs=False, macros=True), jobs=1)
        assert read.records == model.records


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with progress_bar("parsing") as progress:  # pytest captures stderr: not a terminal
        assert progress is None
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    with progress_bar("parsing") as progress:
        if progress is None:
            pytest.skip("rich does not take FORCE_COLOR for a terminal here")
        for done in range(5):
            progress(done, 4)


def test_units_behind_the_empty_pch_read_what_exact_units_read(
        uapi_slice: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A header's own unit is parsed with ``-w`` behind an empty precompiled header
    (:func:`units.empty_pch`): the same model as clang's exact command line, on targets
    with many builtins (x86-64, AArch64), and the cheaper command line is really used."""
    targets = [TARGETS["x86_64"], TARGETS["aarch64"]]
    opts = ParseOptions(all_files=True)
    units._PCH.clear()
    cheap = frontend.parse(uapi_slice, targets, opts, jobs=1)
    made = [pch for pch in units._PCH.values() if pch]
    assert len(made) == 2 and all(pch[0] == "-include-pch" for pch in made)
    monkeypatch.setattr(units._GroupParser, "alone_args", lambda self, flags: list(self.args))
    exact = frontend.parse(uapi_slice, targets, opts, jobs=1)
    assert len(exact.records) > 100
    assert cheap == exact


def test_a_warning_that_is_an_error_by_default_is_judged_by_the_exact_command_line(
        tmp_path: Path) -> None:
    """Under ``-w`` clang's default-error warnings (``int-conversion``, implicit ``int``)
    stay errors; abiscope's command line disables them, as GCC 12 accepts them. The
    header is parsed again with it, so it parses as before; a real error still fails."""
    header = tmp_path / "warns.h"
    header.write_text("int *p = 1;\nstatic x;\nstruct s { char c; long l; };\n")
    broken = tmp_path / "broken.h"
    broken.write_text("struct t { missing_t m; };\n")
    model = frontend.parse([str(header), str(broken)], [TARGETS["x86_64"]], jobs=1)
    assert [r.name for r in model.records] == ["struct s"]
    assert model.records[0].layouts["x86_64"].size == 16
    assert [f.header for f in model.failures] == [str(broken)]
    assert "unknown type name 'missing_t'" in model.failures[0].summary()


def test_only_a_header_that_may_define_an_ioctl_keeps_the_macro_record(
        tmp_path: Path) -> None:
    """With macros wanted, a header's own unit has the macro record only when its text
    names what an evaluated macro needs (``_IO…``, a ``--macro`` name); the others are
    walked without it and lose no value."""
    plain = tmp_path / "plain.h"
    plain.write_text("struct p { int a; };\n#define P_SIZE 4\n")
    ioctl = tmp_path / "io.h"
    ioctl.write_text("#include <linux/ioctl.h>\nstruct q { int a; };\n"
                     "#define Q_GET _IOR(0x51, 1, struct q)\n")
    named = tmp_path / "named.h"
    named.write_text("struct r { long a; };\n#define R_SIZE sizeof(struct r)\n")
    opts = ParseOptions(macros=True, macro_names=("R_SIZE",))
    parser = units._GroupParser([TARGETS["x86_64"]], opts)
    record = units.load_cindex().TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
    assert [bool(parser.flags_for(str(h)) & record) for h in (plain, ioctl, named)] \
        == [False, True, True]
    model = frontend.parse([str(plain), str(ioctl), str(named)], [TARGETS["x86_64"]], opts,
                           jobs=1)
    values = {m.name: m.values["x86_64"] for m in model.macros}
    assert values == {"Q_GET": (2 << 30) | (4 << 16) | (0x51 << 8) | 1, "R_SIZE": 8}


def test_every_ioctl_macro_begins_with_the_prefix_a_text_is_searched_for() -> None:
    from abiscope.frontend.macro_values import IOCTL_MACROS, IOCTL_PREFIX

    assert all(name.startswith(IOCTL_PREFIX) for name in IOCTL_MACROS)


def test_targets_parsed_along_give_what_their_own_parse_gives(
        uapi_slice: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``check`` parses ABI013's hypothetical targets with the selected ones (lp128 and
    cheri128 then share x86_64's units): restricted to the selected targets, that model
    is the model of a parse of them alone, ioctl values included; restricted to the
    hypothetical ones, it has the layouts of theirs (places are the first target's). And
    the macro values' probe units, parsed again behind the cheaper command line, fold
    what probes made anew with the exact one fold."""
    opts = ParseOptions(all_files=True, macros=True)
    selected, future = [TARGETS["i386"], TARGETS["x86_64"]], [TARGETS["lp128"],
                                                               TARGETS["cheri128"]]
    both = frontend.parse(uapi_slice, [*selected, *future], opts, jobs=1)
    assert restricted(both, {"i386", "x86_64"}) == frontend.parse(uapi_slice, selected, opts,
                                                                  jobs=1)
    alone = frontend.parse(uapi_slice, future, opts, jobs=1)
    along = restricted(both, {"lp128", "cheri128"})
    assert [(r.name, r.kind, r.layouts) for r in along.records] == \
        [(r.name, r.kind, r.layouts) for r in alone.records]
    assert [(e.name, e.layouts) for e in along.enums] == [(e.name, e.layouts) for e in alone.enums]
    assert (along.targets, along.failures, along.macros) == \
        (alone.targets, alone.failures, alone.macros)
    assert sum(len(m.values) for m in both.macros) > 20
    monkeypatch.setattr(units._GroupParser, "alone_args", lambda self, flags: list(self.args))
    assert frontend.parse(uapi_slice, selected, opts, jobs=1).macros == \
        restricted(both, {"i386", "x86_64"}).macros


def test_a_macro_is_evaluated_however_its_ioctl_is_spelled(tmp_path: Path) -> None:
    """Only a definition whose text holds ``_IO`` has its tokens read: one whose token is
    split by a line continuation, or continued on the next line, is read all the same,
    and gets the value the plain spelling gets."""
    plain = tmp_path / "plain.h"
    plain.write_text("#include <linux/ioctl.h>\nstruct q { int a; long b; };\n"
                     "#define A _IOR(0x51, 1, struct q)\n#define B _IOW(0x51, 2, int)\n"
                     "#define C _IOWR(0x51, 3, struct q)\n#define NOT_ONE (1 << 4)\n")
    split = tmp_path / "split.h"
    split.write_text("#include <linux/ioctl.h>\nstruct q { int a; long b; };\n"
                     "#define A _I\\\nOR(0x51, 1, struct q)\n#define B \\\n _IOW(0x51, 2, int)\n"
                     "#define C _IOWR(0x51, 3, \\\n struct q)\n#define NOT_ONE (1 << 4)\n")
    values = []
    for header in (plain, split):
        model = frontend.parse([str(header)], [TARGETS["x86_64"], TARGETS["i386"]],
                               ParseOptions(macros=True), jobs=1)
        values.append({m.name: dict(m.values) for m in model.macros})
    assert values[0] == values[1] and sorted(values[0]) == ["A", "B", "C"]
    assert values[0]["A"]["x86_64"] != values[0]["A"]["i386"]  # (sizeof(struct q) differs)
