"""One version of each header tree per run, or a warning (issue 27, section 1).

Two fake trees hold the same ``linux/`` header under different ``LINUX_VERSION_CODE``s;
each target is pointed at one with ``--sysroot``. Every output that carries the parse
failures also carries the skew (layout, check and compat JSON, SARIF), stderr says it
once, and a run whose targets agree, or that reads no kernel header, says nothing. On
Debian's own trees, ``abiscope ioctls /usr/include/linux/kvm.h --native x86_64 --compat
i386`` reports the host's 6.1.192 against the i386 cross tree's 6.1.4.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from abiscope import compat, model
from abiscope.frontend import ParseOptions
from abiscope.frontend.versions import tree_version, version_skew
from abiscope.targets import TARGETS
from conftest import CliResult, skip_or_fail

IOCTLS_SCHEMA = Path(__file__).parents[1] / "src/abiscope/schema/ioctls-1.schema.json"
KERNEL = """#ifndef FOO_H
#define FOO_H
struct foo_arg { unsigned int a; unsigned long b; };
#endif
"""


def _tree(root: Path, code: int, glibc_minor: int = 36) -> Path:
    (root / "linux").mkdir(parents=True)
    (root / "linux" / "version.h").write_text(
        f"#define LINUX_VERSION_CODE {code}\n#define KERNEL_VERSION(a,b,c) 0\n")
    (root / "linux" / "foo.h").write_text(KERNEL)
    (root / "features.h").write_text(
        f"#define __GLIBC__ 2\n#define __GLIBC_MINOR__ {glibc_minor}\n")
    return root


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two kernels (6.1.192 and 6.1.4) and a header that reads one of them."""
    new = _tree(tmp_path / "new", (6 << 16) | (1 << 8) | 192)
    old = _tree(tmp_path / "old", (6 << 16) | (1 << 8) | 4)
    header = tmp_path / "src" / "uses.h"
    header.parent.mkdir()
    header.write_text("#include <linux/foo.h>\nstruct uses { struct foo_arg f; };\n")
    return new, old, header


def _args(new: Path, old: Path) -> list[str]:
    return ["--sysroot", f"x86_64={new}", "--sysroot", f"i386={old}"]


def test_tree_version_reads_the_first_on_the_path(trees: tuple[Path, Path, Path]) -> None:
    new, old, _ = trees
    v = tree_version("linux", [str(old), str(new)])
    assert v is not None and (v.version, v.file) == ("6.1.4", str(old / "linux/version.h"))
    g = tree_version("glibc", [str(new)])
    assert g is not None and g.version == "2.36"
    assert tree_version("linux", []) is None


def test_layout_json_and_stderr_name_both_trees_and_the_fix(
        trees: tuple[Path, Path, Path], run_cli: Callable[..., CliResult]) -> None:
    new, old, header = trees
    res = run_cli("layout", str(header), "--target", "x86_64,i386", *_args(new, old),
                  "--format", "json", "--no-cache")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    jsonschema.validate(doc, model.json_schema())
    [skew] = doc["version_skew"]
    assert skew["tree"] == "linux"
    assert [(v["target"], v["version"]) for v in skew["versions"]] == [
        ("x86_64", "6.1.192"), ("i386", "6.1.4")]
    assert f"--sysroot i386={old}" in skew["fix"]
    warnings = [line for line in res.err.splitlines() if "different versions" in line]
    assert len(warnings) == 1
    assert str(new / "linux/version.h") in warnings[0] and str(old / "linux/version.h") \
        in warnings[0] and "--sysroot i386=LINUX_i386" in warnings[0]


def test_check_json_sarif_and_compat_json_carry_the_skew(
        trees: tuple[Path, Path, Path], run_cli: Callable[..., CliResult]) -> None:
    new, old, header = trees
    common = [str(header), *_args(new, old), "--no-cache"]
    res = run_cli("check", *common, "--target", "x86_64,i386", "--format", "json",
                  "--fail-on", "never")
    assert res.code == 0, res.err
    assert json.loads(res.out)["version_skew"][0]["tree"] == "linux"
    res = run_cli("check", *common, "--target", "x86_64,i386", "--format", "sarif",
                  "--fail-on", "never")
    notes = json.loads(res.out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    [note] = [n for n in notes if n.get("descriptor", {}).get("id") == "abiscope/version-skew"]
    assert note["level"] == "warning" and "6.1.4" in note["message"]["text"]
    assert note["properties"]["versions"]["i386"]["version"] == "6.1.4"
    res = run_cli("compat", *common, "--native", "x86_64", "--compat", "i386",
                  "--format", "json")
    doc = json.loads(res.out)
    jsonschema.validate(doc, compat.json_schema())
    assert doc["version_skew"][0]["versions"][1]["target"] == "i386"


def test_one_version_or_no_kernel_header_says_nothing(
        trees: tuple[Path, Path, Path], tmp_path: Path,
        run_cli: Callable[..., CliResult]) -> None:
    new, old, header = trees
    res = run_cli("layout", str(header), "--target", "x86_64,i386", "--sysroot",
                  f"x86_64={new}", "--sysroot", f"i386={new}", "--format", "json",
                  "--no-cache")
    assert res.code == 0 and "version_skew" not in json.loads(res.out)
    assert "different versions" not in res.err
    plain = tmp_path / "plain" / "plain.h"  # reads neither tree
    plain.parent.mkdir()
    plain.write_text("struct plain { int a; };\n")
    res = run_cli("layout", str(plain), "--target", "x86_64,i386", *_args(new, old),
                  "--format", "json", "--no-cache")
    assert res.code == 0 and "version_skew" not in json.loads(res.out)
    assert "different versions" not in res.err


def test_a_kernel_dir_shared_with_another_package_counts_only_where_trees_share_it(
        trees: tuple[Path, Path, Path], tmp_path: Path,
        run_cli: Callable[..., CliResult]) -> None:
    """Debian's ``/usr/include/xen`` holds Xen's public headers (libxen-dev, on the host
    only) beside Linux's ``xen/privcmd.h`` (in every cross tree): a Xen public header read
    from one tree is not the kernel's, and its run says nothing of kernel versions."""
    new, old, _ = trees
    for root in (new, old):  # the kernel's xen/ header, in both trees
        (root / "xen").mkdir()
        (root / "xen" / "evtchn.h").write_text("struct ioctl_evtchn_bind { int port; };\n")
    (new / "xen" / "hvm").mkdir()  # a Xen public header, on the x86_64 side only
    (new / "xen" / "hvm" / "dm_op.h").write_text("struct xen_dm_op_buf { long h; };\n")
    xen = run_cli("layout", str(new / "xen" / "hvm" / "dm_op.h"), "--target", "x86_64,i386",
                  *_args(new, old), "--format", "json", "--no-cache")
    assert xen.code == 0 and "version_skew" not in json.loads(xen.out), xen.err
    assert "different versions" not in xen.err
    kernel = run_cli("layout", str(new / "xen" / "evtchn.h"), "--target", "x86_64,i386",
                     *_args(new, old), "--format", "json", "--no-cache")
    assert kernel.code == 0 and "version_skew" in json.loads(kernel.out), kernel.err


def test_glibc_versions_are_compared_too(tmp_path: Path) -> None:
    a = _tree(tmp_path / "a", 393476, glibc_minor=36)
    b = _tree(tmp_path / "b", 393476, glibc_minor=31)
    (a / "stdio.h").write_text("")
    options = ParseOptions(sysroots=(("x86_64", str(a)), ("i386", str(b))))
    skews = version_skew([TARGETS["x86_64"], TARGETS["i386"]], options, [str(a / "stdio.h")])
    assert [(s.tree, [v.version for _, v in s.versions]) for s in skews] == [
        ("glibc", ["2.36", "2.31"])]


def test_debian_kvm_ioctls_report_the_cross_trees_skew(
        run_cli: Callable[..., CliResult]) -> None:
    """What the detection says on Debian's trees: the host's linux-libc-dev against the
    i386 cross tree's, in the ioctls JSON (schema-valid) and once on stderr."""
    kvm = "/usr/include/linux/kvm.h"
    i386 = "/usr/i686-linux-gnu/include/linux/version.h"
    if not (os.path.isfile(kvm) and os.path.isfile(i386)):
        skip_or_fail("linux-libc-dev or libc6-dev-i386-cross missing (make deps)")
    host = tree_version("linux", ["/usr/include"])
    cross = tree_version("linux", ["/usr/i686-linux-gnu/include"])
    assert host is not None and cross is not None
    res = run_cli("ioctls", kvm, "--native", "x86_64", "--compat", "i386", "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    jsonschema.validate(doc, json.loads(IOCTLS_SCHEMA.read_text()))
    if host.version == cross.version:
        assert "version_skew" not in doc
        return
    [skew] = doc["version_skew"]
    assert {v["target"]: v["version"] for v in skew["versions"]} == {
        "x86_64": host.version, "i386": cross.version}
    assert res.err.count("different versions") == 1


def test_a_warm_run_warns_as_the_cold_one(
        trees: tuple[Path, Path, Path], tmp_path: Path,
        run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm ``layout -f json`` served from the parse cache (a frame, no records) still
    says it on stderr, and its JSON is the cold run's."""
    new, old, header = trees
    monkeypatch.setenv("ABISCOPE_CACHE_DIR", str(tmp_path / "cache"))
    args = ["layout", str(header), "--target", "x86_64,i386", *_args(new, old), "-f", "json"]
    cold, warm = run_cli(*args), run_cli(*args)
    assert cold.code == warm.code == 0
    assert cold.out == warm.out and "version_skew" in json.loads(warm.out)
    assert warm.err.count("different versions") == cold.err.count("different versions") == 1


def test_a_version_file_linked_out_of_the_include_path_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "version.h"
    outside.parent.mkdir()
    outside.write_text("#define LINUX_VERSION_CODE 1\n")
    tree = tmp_path / "tree"
    (tree / "linux").mkdir(parents=True)
    (tree / "linux" / "version.h").symlink_to(outside)
    assert tree_version("linux", [str(tree)]) is None
    (tree / "linux" / "version.h").unlink()
    (tree / "linux" / "version.h").symlink_to("/dev/zero")  # (not a regular file)
    assert tree_version("linux", [str(tree)]) is None


def test_the_documented_fix_gives_i386_one_kernel(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """docs/targets.md's recipe on Debian: i386 reads the host's kernel headers (a directory
    of links, x86's asm/ included) before its own libc tree: no warning, and only the real
    layout differences of kvm.h are left."""
    kvm, cross = "/usr/include/linux/kvm.h", "/usr/i686-linux-gnu/include"
    asm = "/usr/include/x86_64-linux-gnu/asm"
    if not (os.path.isfile(kvm) and os.path.isdir(cross) and os.path.isdir(asm)):
        skip_or_fail("linux-libc-dev or libc6-dev-i386-cross missing (make deps)")
    links = tmp_path / "k"
    links.mkdir()
    for d in ("linux", "asm-generic"):
        (links / d).symlink_to(f"/usr/include/{d}")
    (links / "asm").symlink_to(asm)
    args = ["ioctls", kvm, "--native", "x86_64", "--compat", "i386", "-f", "json"]
    skewed = run_cli(*args)
    fixed = run_cli(*args, "--sysroot", f"i386={links}", "--sysroot", f"i386={cross}",
                    "--sysroot", "i386=/usr/include")
    assert skewed.code == fixed.code == 0, fixed.err
    assert "different versions" not in fixed.err
    before, after = json.loads(skewed.out), json.loads(fixed.out)
    assert "version_skew" not in after
    assert after["counts"]["layout_differs"] <= before["counts"]["layout_differs"]
    print(f"kvm.h x86_64 vs i386: {before['counts']['layout_differs']} layout_differs with "
          f"the cross tree, {after['counts']['layout_differs']} with one kernel")


def test_a_restricted_model_keeps_only_the_skews_among_its_targets() -> None:
    old = model.TreeVersion("linux", "6.1.4", "/old/linux/version.h")
    new = model.TreeVersion("linux", "6.1.192", "/new/linux/version.h")
    skew = model.TreeSkew("linux", (("x86_64", new), ("i386", old), ("x32", old)), "--sysroot")
    infos = {t: model.TargetInfo(t, TARGETS[t].triple, TARGETS[t].pointer_bits,
                                 TARGETS[t].endian, False) for t in ("x86_64", "i386", "x32")}
    full = model.Model(infos, (), (), (), (), (), (skew,))
    assert model.restricted(full, ["x86_64", "i386"]).skews[0].versions == skew.versions[:2]
    assert model.restricted(full, ["i386", "x32"]).skews == ()
