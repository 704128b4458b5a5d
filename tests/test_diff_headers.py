"""``abiscope diff`` where headers parse on one side only, constants share values across
headers, arrays change between ``[0]`` and ``[]``, and count/maximum sentinels grow (the
false breaks issue 26 found on Debian's two kernel UAPI versions, reduced to small trees)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from abiscope.diff import is_sentinel
from conftest import CliResult

Run = Callable[..., CliResult]
SCHEMA = Path(__file__).resolve().parents[1] / "src" / "abiscope" / "schema" / \
    "diff-1.schema.json"


def _tree(root: Path, files: dict[str, str]) -> list[str]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    return paths


def _diff(tmp_path: Path, run_cli: Run, old: dict[str, str], new: dict[str, str],
          *extra: str) -> dict[str, Any]:
    args = ["diff"]
    for side, files in (("old", old), ("new", new)):
        for path in _tree(tmp_path / side, files):
            args += [f"--{side}", path]
    res = run_cli(*args, "-t", "i386", "-j", "1", "-f", "json", *extra)
    assert res.code in (0, 1), res.err
    doc: dict[str, Any] = json.loads(res.out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    return doc


def _kinds(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((c["kind"], c["record"], c["member"]) for c in doc["changes"])


IOC = ("#define _IOC(d, t, n, s) (((d) << 30) | ((t) << 8) | (n) | ((s) << 16))\n"
       "#define _IOW(t, n, T) _IOC(1U, (t), (n), sizeof(T))\n")


def test_nothing_of_a_header_that_did_not_parse_on_one_side_is_reported(
        tmp_path: Path, run_cli: Run) -> None:
    # kfd.h parses on the old side only: its enums, constants, ioctls and records are not
    # compared; nfs.h parses on both and its real removals are still reported
    kfd = IOC + ("enum kfd_mode { KFD_A, KFD_B };\nenum { KFD_X = 1, KFD_Y };\n"
                 "struct kfd_args { int a; };\n#define KFD_IOC _IOW('K', 1, struct kfd_args)\n")
    old = {"inc/kfd.h": kfd,
           "inc/nfs.h": "enum nfs_stat { NFS_OK, NFSERR_EAGAIN = 11 };\n"
                        "struct nfs_gone { int x; };\n"}
    new = {"inc/kfd.h": "#include \"missing_asm.h\"\n" + kfd,
           "inc/nfs.h": "enum nfs_stat { NFS_OK };\n"}
    doc = _diff(tmp_path, run_cli, old, new)
    assert _kinds(doc) == [("enumerator-removed", "enum nfs_stat", "NFSERR_EAGAIN"),
                           ("record-removed", "struct nfs_gone", "")]
    [nc] = doc["not_compared"]
    assert nc["header"].endswith("kfd.h") and nc["failed_on"] == ["new"]
    assert nc["targets"] == ["i386"] and nc["skipped"] == 4  # 2 enums, 1 record, 1 ioctl
    assert any("does not parse completely for i386" in n for n in doc["notes"])


def test_header_failing_on_both_sides_is_listed_once(tmp_path: Path, run_cli: Run) -> None:
    bad = "#include \"missing_asm.h\"\nenum { Q_A };\n"
    doc = _diff(tmp_path, run_cli, {"inc/q.h": bad, "inc/r.h": "enum r { R_A };\n"},
                {"inc/q.h": bad, "inc/r.h": "enum r { R_A };\n"})
    assert doc["changes"] == []
    assert [(n["header"].rsplit("/", 1)[-1], n["failed_on"]) for n in doc["not_compared"]] \
        == [("q.h", ["old", "new"])]


def test_anonymous_enums_of_different_headers_are_not_paired(tmp_path: Path,
                                                             run_cli: Run) -> None:
    # BOND_3AD_STAT_PAD left if_bonding.h; BPF_FIB_LKUP_RET_NO_SRC_ADDR, same value, came
    # to bpf.h: a removal and an addition, not a rename
    old = {"inc/if_bonding.h": "enum { BOND_3AD_STAT_A, BOND_3AD_STAT_PAD = 9 };\n",
           "inc/bpf.h": "enum { BPF_FIB_LKUP_RET_SUCCESS };\n"}
    new = {"inc/if_bonding.h": "enum { BOND_3AD_STAT_A };\n",
           "inc/bpf.h": "enum { BPF_FIB_LKUP_RET_SUCCESS, BPF_FIB_LKUP_RET_NO_SRC_ADDR = 9 };\n"}
    doc = _diff(tmp_path, run_cli, old, new)
    kinds = _kinds(doc)
    assert [k[0] for k in kinds] == ["enumerator-added", "enumerator-removed"], kinds
    added, removed = kinds
    assert added[2] == "BPF_FIB_LKUP_RET_NO_SRC_ADDR" and "bpf.h" in added[1]
    assert removed[2] == "BOND_3AD_STAT_PAD" and "if_bonding.h" in removed[1]


def test_a_constant_that_moves_between_enums_is_identified_by_its_name(
        tmp_path: Path, run_cli: Run) -> None:
    old = {"inc/a.h": "enum { A_ONE = 1, A_TWO = 2 };\n", "inc/b.h": "enum b { B_Z };\n"}
    new = {"inc/a.h": "enum { A_ONE = 1 };\n", "inc/b.h": "enum b { B_Z, A_TWO = 3 };\n"}
    doc = _diff(tmp_path, run_cli, old, new)
    [change] = doc["changes"]
    assert (change["kind"], change["member"], change["classification"]) == \
        ("enumerator-changed", "A_TWO", "breaking")
    assert change["values"][0]["old"] == "2" and change["values"][0]["new"] == "3"


def test_anonymous_enum_rename_within_one_header_still_pairs(tmp_path: Path,
                                                             run_cli: Run) -> None:
    doc = _diff(tmp_path, run_cli, {"inc/a.h": "enum { A_OLD = 4 };\n"},
                {"inc/a.h": "enum { A_NEW = 4 };\n"})
    assert _kinds(doc) == [("enumerator-renamed", doc["changes"][0]["record"], "A_NEW")]
    assert doc["changes"][0]["record"].startswith("(anonymous enums in ")


def test_zero_length_and_flexible_arrays_are_the_same_layout(tmp_path: Path,
                                                             run_cli: Run) -> None:
    old = {"inc/a.h": "struct elt { int v; };\n"
                      "struct p { int size; char path[0]; };\n"
                      "struct r { int n; struct elt bufs[0]; };\n"
                      "struct g { int n; char grid[0][4]; };\n"}
    new = {"inc/a.h": "struct elt { int v; };\n"
                      "struct p { int size; char path[]; };\n"
                      "struct r { int n; struct elt bufs[]; };\n"
                      "struct g { int n; char grid[][4]; };\n"}
    doc = _diff(tmp_path, run_cli, old, new)
    assert doc["summary"]["breaking"] == 0, doc["changes"]
    assert {(c["kind"], c["classification"], c["record"]) for c in doc["changes"]} == {
        ("member-retyped", "informational", f"struct {n}") for n in "prg"}


def test_an_array_changing_length_or_element_is_still_breaking(tmp_path: Path,
                                                               run_cli: Run) -> None:
    doc = _diff(tmp_path, run_cli, {"inc/a.h": "struct p { int n; char a[0]; int b[]; };\n"},
                {"inc/a.h": "struct p { int n; char a[1]; char b[]; };\n"})
    assert {(c["kind"], c["member"]) for c in doc["changes"]
            if c["classification"] == "breaking"} >= {("member-retyped", "b")}
    assert doc["summary"]["breaking"] >= 2


def test_sentinels_in_prefix_and_suffix_form_grow_compatibly(tmp_path: Path,
                                                             run_cli: Run) -> None:
    old = ("enum nl80211_attrs { NL80211_ATTR_A, __NL80211_ATTR_AFTER_LAST,\n"
           "  NUM_NL80211_ATTR = __NL80211_ATTR_AFTER_LAST,\n"
           "  NL80211_ATTR_MAX = __NL80211_ATTR_AFTER_LAST - 1 };\n"
           "enum nl80211_ext_feature_index { NL80211_EXT_FEATURE_A,\n"
           "  NUM_NL80211_EXT_FEATURES,\n"
           "  MAX_NL80211_EXT_FEATURES = NUM_NL80211_EXT_FEATURES - 1 };\n"
           "enum { DEVCONF_A, DEVCONF_MAX };\nenum { FOO_A, __FOO_MAX };\n"
           "enum plain { PLAIN_A = 1, PLAIN_MAXIMUM_RATE = 5 };\n")
    new = old.replace("NL80211_ATTR_A,", "NL80211_ATTR_A, NL80211_ATTR_B,") \
        .replace("NL80211_EXT_FEATURE_A,", "NL80211_EXT_FEATURE_A, NL80211_EXT_FEATURE_B,") \
        .replace("DEVCONF_A,", "DEVCONF_A, DEVCONF_B,").replace("FOO_A,", "FOO_A, FOO_B,") \
        .replace("PLAIN_MAXIMUM_RATE = 5", "PLAIN_MAXIMUM_RATE = 6")
    doc = _diff(tmp_path, run_cli, {"inc/nl.h": old}, {"inc/nl.h": new})
    changed = {c["member"]: c["classification"] for c in doc["changes"]
               if c["kind"] == "enumerator-changed"}
    assert changed == {"__NL80211_ATTR_AFTER_LAST": "compatible",
                       "NUM_NL80211_ATTR": "compatible", "NL80211_ATTR_MAX": "compatible",
                       "NUM_NL80211_EXT_FEATURES": "compatible",
                       "MAX_NL80211_EXT_FEATURES": "compatible", "DEVCONF_MAX": "compatible",
                       "__FOO_MAX": "compatible", "PLAIN_MAXIMUM_RATE": "breaking"}


def test_sentinel_names() -> None:
    for name in ("NUM_NL80211_ATTR", "MAX_NL80211_EXT_FEATURES", "__FOO_MAX", "FOO_MAX",
                 "DEVCONF_MAX", "__MAX_FOO", "NR_FOO", "IO_OP_NUM", "FOO_CNT", "__FOO_LAST",
                 "__NL80211_ATTR_AFTER_LAST", "FOO_COUNT"):
        assert is_sentinel(name), name
    for name in ("PLAIN_MAXIMUM_RATE", "MAXTOR", "NUMA_NODE", "FOO_MAXLEN", "MAX", "NR"):
        assert not is_sentinel(name), name


def test_text_output_lists_headers_not_compared(tmp_path: Path, run_cli: Run) -> None:
    old = _tree(tmp_path / "old", {"inc/k.h": "enum k { K_A };\n", "inc/n.h": "enum n { N };\n"})
    new = _tree(tmp_path / "new", {"inc/k.h": "#include \"missing_asm.h\"\nenum k { K_A };\n",
                                   "inc/n.h": "enum n { N };\n"})
    res = run_cli("diff", "--old", old[0], "--old", old[1], "--new", new[0], "--new", new[1],
                  "-t", "i386", "-j", "1")
    assert res.code == 0, res.err
    assert f"not compared: {new[0]} (does not parse on the new side for i386, 1 " \
        "declaration(s) not compared)" in res.out


def test_headers_match_when_one_side_spans_more_directories(tmp_path: Path,
                                                            run_cli: Run) -> None:
    # the new side has a header in another directory, so its inputs' common directory is
    # one level up: inc/a.h still matches inc/a.h (its unnamed enums, its failure)
    bad = "#include \"missing_asm.h\"\nenum { K_A };\n"
    doc = _diff(tmp_path, run_cli,
                {"inc/a.h": "enum { A_X = 3 };\n", "inc/k.h": "enum { K_A };\n"},
                {"inc/a.h": "enum { A_X = 3 };\n", "inc/k.h": bad,
                 "extra/z.h": "enum { Z_A };\n"})
    assert _kinds(doc) == [("enumerator-added", doc["changes"][0]["record"], "Z_A")]
    assert [n["header"].rsplit("/", 2)[-2:] for n in doc["not_compared"]] == [["inc", "k.h"]]


def test_declare_flex_array_placeholder_changes_no_byte(tmp_path: Path, run_cli: Run) -> None:
    # io_uring_buf_ring in 6.1.192: the flexible array wrapped by __DECLARE_FLEX_ARRAY, its
    # empty-struct placeholder at offset 0, inside the reserved resv1
    old = ("struct buf { int v; };\nstruct ring { union {\n"
           "  struct { unsigned long long resv1; unsigned tail; };\n"
           "  struct buf bufs[0]; }; };\n")
    new = ("struct buf { int v; };\nstruct ring { union {\n"
           "  struct { unsigned long long resv1; unsigned tail; };\n"
           "  struct { struct { } __empty_bufs; struct buf bufs[]; }; }; };\n")
    doc = _diff(tmp_path, run_cli, {"inc/r.h": old}, {"inc/r.h": new})
    assert {(c["kind"], c["member"], c["classification"]) for c in doc["changes"]} == {
        ("member-added", "__empty_bufs", "informational"),
        ("member-retyped", "bufs", "informational")}
    back = _diff(tmp_path / "back", run_cli, {"inc/r.h": new}, {"inc/r.h": old})
    assert {(c["kind"], c["member"], c["classification"]) for c in back["changes"]} == {
        ("member-removed", "__empty_bufs", "informational"),
        ("member-retyped", "bufs", "informational")}
