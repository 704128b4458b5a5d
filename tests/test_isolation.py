"""A batch gives no header what it would not have alone (abiscope.frontend.isolation).

Each case writes headers where a batch *would* change a header's model if the check missed
it, and asserts that the batched model equals one translation unit per header, and that
the check sends exactly the reading header to a translation unit of its own. The whole of
Linux UAPI (on two targets) and Xen's public headers are compared the same way in the slow
tests at the end.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from abiscope import frontend
from abiscope.frontend import ParseOptions, isolation
from abiscope.targets import TARGETS
from conftest import skip_or_fail

X86 = [TARGETS["x86_64"]]


def _write(tmp: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    return [str(tmp / n) for n in files if not n.startswith("inc/")]


def _leaky(headers: list[str], opts: ParseOptions) -> set[str]:
    """The inputs the check sends alone, by base name (one batch, one target)."""
    seen: set[str] = set()
    real = isolation.check

    def spy(facts: isolation.BatchFacts,
            names: object = None) -> isolation.Verdict:
        verdict = real(facts)
        seen.update(os.path.basename(facts.roots[i]) for i in verdict.leaky)
        return verdict

    isolation.check = spy  # type: ignore[assignment]
    try:  # one unit (parse() would cut the inputs where their paths' hashes say)
        frontend.parse_unit(headers, X86, opts, batch=True)
    finally:
        isolation.check = real
    return seen


def _same(headers: list[str], opts: ParseOptions | None = None) -> None:
    opts = opts or ParseOptions(system_dirs=False, macros=True)
    alone = frontend.parse(headers, X86, opts, jobs=1, batch=False)
    batched = frontend.parse(headers, X86, opts, jobs=1, batch=True)
    assert batched == alone


OPTS = ParseOptions(system_dirs=False, macros=True)


def test_a_macro_of_an_earlier_header(tmp_path: Path) -> None:
    # Xen's foreign/arm32.h after xen.h: XEN_HAVE_PV_UPCALL_MASK changes the layout
    headers = _write(tmp_path, {
        "xen.h": "#define HAVE_MASK 1\nstruct shared { int a; };\n",
        "arm32.h": "struct vcpu {\n#ifdef HAVE_MASK\n char mask;\n#else\n long pad;\n"
                   "#endif\n};\n",
    })
    _same(headers)
    assert _leaky(headers, OPTS) == {"arm32.h"}


def test_the_inputs_around_a_leaky_one_come_from_the_same_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the batch is parsed once: the leaky input alone, the runs around it from the batch
    # (each walking only the files it reaches: wide.h's struct holder, which reaches only
    # through the leaky input, is the leaky input's alone), in input order
    headers = _write(tmp_path, {
        "a.h": "#define HAVE_MASK 1\nstruct a { int x; };\n",
        "b.h": '#include "inc/wide.h"\nstruct b {\n#ifdef HAVE_MASK\n char m;\n#else\n'
               " long m;\n#endif\n};\n",
        "c.h": "struct c { short s; };\n",
        "d.h": '#include "inc/wide.h"\nstruct d { struct holder h; };\n',
        "inc/wide.h": "#ifndef WIDE_H\n#define WIDE_H\nstruct holder {\n#ifdef HAVE_MASK\n"
                      " char c;\n#else\n long long c;\n#endif\n};\n#endif\n",
    })
    parses: list[str] = []
    parse = frontend.units._GroupParser.parse

    def counted(self: object, path: str, text: str | None, flags: int | None = None) -> object:
        parses.append(os.path.basename(path))
        return parse(self, path, text, flags)  # type: ignore[arg-type]

    monkeypatch.setattr(frontend.units._GroupParser, "parse", counted)
    assert _leaky(headers, OPTS) == {"b.h", "d.h"}
    assert len(parses) == 1
    _same(headers)
    opts = ParseOptions(system_dirs=False, all_files=True)
    _same(headers, opts)
    model = frontend.parse(headers, X86, opts, jobs=1, batch=True)
    holder = model.record("struct holder")
    assert holder is not None and holder.layouts["x86_64"].size == 8  # b.h's, alone


def test_a_macro_it_includes_only_after_using_it(tmp_path: Path) -> None:
    # first.h is entered under h.h before conf.h, which h.h includes afterwards; an earlier
    # input has conf.h in the batch already
    headers = _write(tmp_path, {
        "early.h": '#include "inc/conf.h"\n',
        "h.h": '#include "inc/first.h"\n#include "inc/conf.h"\n',
        "inc/conf.h": "#ifndef CONF_H\n#define CONF_H\n#define WIDE 1\n#endif\n",
        "inc/first.h": "#if WIDE\nstruct f { long x; };\n#else\nstruct f { char x; };\n#endif\n",
    })
    _same(headers, ParseOptions(system_dirs=False, all_files=True))
    assert _leaky(headers, OPTS) == {"h.h"}


def test_a_macro_used_before_its_include_line(tmp_path: Path) -> None:
    headers = _write(tmp_path, {
        "early.h": '#include "inc/conf.h"\n',
        "h.h": "#ifdef WIDE\nstruct h { long x; };\n#else\nstruct h { char x; };\n#endif\n"
               '#include "inc/conf.h"\n',
        "inc/conf.h": "#ifndef CONF_H\n#define CONF_H\n#define WIDE 1\n#endif\n",
    })
    _same(headers)
    assert _leaky(headers, OPTS) == {"h.h"}


def test_what_it_includes_itself_is_not_a_leak(tmp_path: Path) -> None:
    headers = _write(tmp_path, {
        "early.h": '#include "inc/conf.h"\n',
        "h.h": '#include "inc/conf.h"\n#ifdef WIDE\nstruct h { long x; };\n#endif\n',
        "inc/conf.h": "#ifndef CONF_H\n#define CONF_H\n#define WIDE 1\n#endif\n",
    })
    _same(headers)
    assert _leaky(headers, OPTS) == set()


def test_a_typedef_it_forgot_to_include(tmp_path: Path) -> None:
    headers = _write(tmp_path, {
        "types.h": "typedef unsigned int u32;\n",
        "user.h": "struct user { u32 x; };\n",
    })
    _same(headers)
    batched = frontend.parse(headers, X86, OPTS, jobs=1, batch=True)
    assert [os.path.basename(f.header) for f in batched.failures] == ["user.h"]


def test_a_pointee_a_later_header_completes(tmp_path: Path) -> None:
    # i2c-dev.h's struct i2c_msg *msgs: complete only once i2c.h, later, defines it
    headers = _write(tmp_path, {
        "dev.h": "struct msg;\nstruct rdwr { struct msg *msgs; int n; };\n",
        "msg.h": "struct msg { long addr; short len; };\n",
    })
    _same(headers)
    batched = frontend.parse(headers, X86, OPTS, jobs=1, batch=True)
    rdwr = batched.record("struct rdwr")
    assert rdwr is not None
    pointee = rdwr.layouts["x86_64"].members[0].type.pointee
    assert pointee is not None and pointee.size is None  # incomplete, as alone


ENGINE = [TARGETS[t] for t in ("m68k", "lp128", "cheri128")]


@pytest.mark.parametrize("order", ["use_first", "definition_first"])
def test_the_engine_knows_no_record_of_another_header(tmp_path: Path, order: str) -> None:
    """A unit of work gives no header's translation unit what the layout engine learnt in
    another one (issue 26: struct ipc_kludge's msgp pointed to a 6-byte struct msgbuf on
    m68k only when linux/msg.h fell into the same unit): a pointee only declared in the
    header's own unit is incomplete on the engine targets, as on clang's (i386), whichever
    header of the unit comes first and however the inputs are cut into units."""
    files = {"use.h": "struct msg;\nstruct rdwr { struct msg *msgs; int n; };\n",
             "def.h": "struct msg { long addr; short len; };\n"}
    if order == "definition_first":
        files = dict(reversed(files.items()))
    headers = _write(tmp_path, files)
    opts = ParseOptions(system_dirs=False)
    targets = [TARGETS["i386"], *ENGINE]
    one_unit = frontend.parse(headers, targets, opts, jobs=1)  # (one unit: no cache)
    alone = frontend.parse([str(tmp_path / "use.h")], targets, opts, jobs=1)
    for model in (one_unit, alone):
        rdwr = model.record("struct rdwr")
        assert rdwr is not None
        for t in targets:
            pointee = rdwr.layouts[t.name].members[0].type.pointee
            assert pointee is not None and pointee.record == "struct msg"
            assert pointee.size is None and pointee.align is None, (t.name, pointee)
    msg = one_unit.record("struct msg")
    assert msg is not None and all(msg.layouts[t.name].size for t in targets)


def test_an_ioctl_macro_without_its_include(tmp_path: Path) -> None:
    # linux/acrn.h uses _IOW without including <linux/ioctl.h>: alone it is not folded
    headers = _write(tmp_path, {
        "ioctl.h": "#define _IOW(t, n, s) (((t) << 8) | (n) | (sizeof(s) << 16))\n",
        "acrn.h": "struct arg { int a; };\n#define ACRN_IOCTL _IOW('A', 1, struct arg)\n",
        "good.h": '#include "ioctl.h"\n#define GOOD_IOCTL _IOW(\'G\', 2, int)\n',
    })
    _same(headers)
    batched = frontend.parse(headers, X86, OPTS, jobs=1, batch=True)
    assert [m.name for m in batched.macros] == ["GOOD_IOCTL"]


def test_an_inactive_definition_is_no_leak(tmp_path: Path) -> None:
    # glibc's sys/cdefs.h defines __attribute__ only for compilers that are not GCC
    headers = _write(tmp_path, {
        "cdefs.h": "#ifndef __GNUC__\n#define __attribute__(x)\n#endif\nstruct c { int x; };\n",
        "user.h": "struct u { int x; } __attribute__((aligned(8)));\n",
    })
    _same(headers)
    assert _leaky(headers, OPTS) == set()


def test_a_struct_member_named_like_a_foreign_macro_is_sent_alone(tmp_path: Path) -> None:
    # conservative: a mention is a mention (the batch would expand the macro in it)
    headers = _write(tmp_path, {
        "a.h": "#define data payload\n",
        "b.h": "struct b { int data; };\n",
    })
    _same(headers)
    assert _leaky(headers, OPTS) == {"b.h"}


def test_scan_offsets_are_clangs(tmp_path: Path) -> None:
    path = tmp_path / "s.h"
    text = ('/* FOO in a comment */\n#define BAR(x) ((x) + FOO)\n'
            'const char *s = "FOO";\nint FOO_USER; // FOO\n#if QUX\n#endif\n')
    path.write_text(text)
    names = isolation.scan(str(path))
    assert "FOO" not in names.mentions and {"FOO_USER", "QUX"} <= names.mentions
    assert names.bodies["BAR"] == (text.index("#define"), frozenset({"FOO"}))
    assert names.first("FOO_USER") == text.index("FOO_USER")
    # a skipped block provides nothing, but its condition is read
    skipped = (text.index("#if"), len(text))
    hidden = isolation.scan(str(path), (skipped,))
    assert "QUX" in hidden.mentions


# --------------------------------------------------------------------------- corpora


def _corpus_equal(headers: list[str], targets: list[str], opts: ParseOptions) -> int:
    chosen = [TARGETS[t] for t in targets]
    alone = frontend.parse(headers, chosen, opts, jobs=2, batch=False)
    batched = frontend.parse(headers, chosen, opts, jobs=2, batch=True)
    assert len(batched.records) == len(alone.records)
    for a, b in zip(alone.records, batched.records, strict=True):
        assert a == b, a.name
    assert batched.failures == alone.failures
    assert batched.macros == alone.macros
    assert batched == alone
    return len(alone.records)


@pytest.mark.slow
def test_linux_uapi_batched_equals_alone() -> None:
    if not os.path.isdir("/usr/include/linux"):
        pytest.skip("no /usr/include/linux (linux-libc-dev)")
    from abiscope.inputs import expand

    headers = expand(["/usr/include/linux"])
    opts = ParseOptions(all_files=True, macros=True)
    assert _corpus_equal(headers, ["x86_64", "i386"], opts) > 3000


@pytest.mark.slow
def test_xen_public_batched_equals_alone() -> None:
    root = "/usr/include/xen"
    if not os.path.isfile(os.path.join(root, "xen.h")):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    headers = sorted(glob.glob(f"{root}/**/*.h", recursive=True))
    opts = ParseOptions(defines=("__XEN_TOOLS__",), force_includes=("stdint.h",),
                        system_dirs=False, all_files=True, macros=True)
    assert _corpus_equal(headers, ["x86_64", "i386", "arm"], opts) > 500
