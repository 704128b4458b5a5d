"""Golden outputs of every command x every format, to keep a rendering refactor byte-exact.

    python tools/render_golden.py OUTDIR            # write one file per case + OUTDIR/HASHES
    python tools/render_golden.py OUTDIR --compare OLDDIR   # and list the cases that differ

Each case runs ``python -m abiscope ARGS`` (in a subprocess, COLUMNS fixed, no colour, a
fresh parse cache per run) and stores stdout, stderr and the exit code, with any file the
command wrote (``-o``). The inputs are the bundled seed headers, the Xen fixture, and, when
installed, Debian's ``/usr/include/xen/hvm/dm_op.h`` and UAPI ``linux/ethtool.h``. Run it on
the tree before a change and after it; ``--compare`` names the outputs that differ. Paths
shape the tables (their widths, relative includes): compare two trees at paths of the same
length and depth, e.g. ``git archive`` of each into ``/tmp/g/main-src`` and ``/tmp/g/head-src``
(with ``src/abiscope/frontend/_facts*.so`` copied in).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "src/abiscope/data/seed"
XENFIX = ROOT / "tests/fixtures/xen-public"
XEN = Path("/usr/include/xen")
UAPI = Path("/usr/include/linux/ethtool.h")

SEED_H = [str(SEED / "dm_op.h"), str(SEED / "dm_op_v3.h"), str(SEED / "privcmd_dm_op.h")]
XEN_ARGS = [str(XEN / "hvm/dm_op.h"), "-I", "/usr/include", "-D__XEN_TOOLS__",
            "--include", "stdint.h"]
VCPU = [str(XENFIX / "vcpu.h"), "-D__XEN_TOOLS__", "--include", "stdint.h"]
UAPI_ARGS = [str(UAPI), "--target", "x86_64,i386"]
PAIR = ["--native", "x86_64", "--compat", "i386"]


def cases() -> dict[str, list[str]]:
    """name -> abiscope arguments; ``{out}`` in an argument is a file the case may write."""
    c: dict[str, list[str]] = {}
    for fmt in ("text", "json"):
        c[f"targets-{fmt}"] = ["targets", "-f", fmt]
        c[f"rules-{fmt}"] = ["rules", "-f", fmt]
        c[f"rules-ABI002-{fmt}"] = ["rules", "ABI002", "-f", fmt]
        c[f"demo-{fmt}"] = ["demo", "-f", fmt, "-j", "1"]
    inputs = {"seed": [*SEED_H, "--target", "x86,arm,aarch64"],
              "vcpu": [*VCPU, "--target", "x86_64,i386"]}
    if XEN.is_dir():
        inputs["xen"] = [*XEN_ARGS, "--target", "x86_64,i386,arm"]
    if UAPI.is_file():
        inputs["uapi"] = UAPI_ARGS
    for name, args in inputs.items():
        for fmt in ("text", "json"):
            c[f"layout-{name}-{fmt}"] = ["layout", *args, "-f", fmt]
        c[f"layout-{name}-diffonly"] = ["layout", *args, "--only-differing"]
        c[f"layout-{name}-file"] = ["layout", *args, "-o", "{out}"]
        for fmt in ("text", "json", "sarif", "github"):
            c[f"check-{name}-{fmt}"] = ["check", *args, "-f", fmt]
        c[f"check-{name}-fix"] = ["check", *args, "--fix-preview"]
        c[f"report-{name}"] = ["report", *args, "-o", "{out}"]
        c[f"snapshot-{name}"] = ["snapshot", *args, "-o", "{out}"]
    c["layout-vcpu-pahole"] = ["layout", *VCPU, "--target", "i386", "-f", "pahole"]
    c["layout-empty"] = ["layout", str(SEED / "xen-arch.h"), "--target", "x86_64"]
    compat_in = {"seed": SEED_H, "vcpu": VCPU}
    if XEN.is_dir():
        compat_in["xen"] = XEN_ARGS
    if UAPI.is_file():
        compat_in["uapi"] = [str(UAPI)]
    for name, args in compat_in.items():
        for fmt in ("text", "json", "xlat"):
            c[f"compat-{name}-{fmt}"] = ["compat", *args, *PAIR, "-f", fmt]
        c[f"compat-{name}-narrow"] = ["compat", *args, *PAIR, "--width", "60"]
        c[f"gen-compat-{name}"] = ["gen", "compat", *args, *PAIR, "-o", "{out}"]
        c[f"gen-asserts-{name}"] = ["gen", "asserts", *args, "--target", "x86_64,i386",
                                    "-o", "{out}"]
    fs = ["/usr/include/linux/fs.h"] if Path("/usr/include/linux/fs.h").is_file() else []
    for name, args in {"seed": [*SEED_H, str(SEED / "ioctl.h")], "fs": fs}.items():
        if args:
            c[f"ioctls-{name}-text"] = ["ioctls", *args, *PAIR]
            c[f"ioctls-{name}-json"] = ["ioctls", *args, *PAIR, "-f", "json"]
    for name in ("seed", "xen"):
        if name in inputs:
            c[f"layout-{name}-narrow"] = ["layout", *inputs[name], "--width", "60"]
            c[f"check-{name}-narrow"] = ["check", *inputs[name], "--width", "60"]
    c["verify-list-narrow"] = ["compat", *VCPU, *PAIR, "--verify-list",
                               str(ROOT / "tests/fixtures/xlat-excerpt.lst"),
                               "--xlat-root", str(XENFIX), "--width", "60"]
    rust = ROOT / "tests/data/rust"
    for fmt in ("text", "json", "sarif"):
        c[f"verify-rust-{fmt}"] = ["verify-rust", str(rust / "virtio_iommu_ch.rs"),
                                   str(rust / "virtio_iommu.h"), "--target", "x86_64,i386",
                                   "-f", fmt]
    c["gen-rust-seed"] = ["gen", "rust", *SEED_H, "--target", "x86_64,i386", "-o", "{out}"]
    c["targets-narrow"] = ["targets", "--width", "60"]
    c["rules-narrow"] = ["rules", "--width", "60"]
    for fmt in ("text", "json"):
        c[f"verify-list-{fmt}"] = ["compat", *VCPU, *PAIR, "--verify-list",
                                   str(ROOT / "tests/fixtures/xlat-excerpt.lst"),
                                   "--xlat-root", str(XENFIX), "-f", fmt]
    seed_paths = [*SEED_H, "--layer", "user=i386", "--layer", "kernel=x86_64",
                  "--record", "privcmd_dm_op_buf"]
    for fmt in ("text", "json", "sarif", "github"):
        c[f"paths-seed-{fmt}"] = ["paths", *seed_paths, "-f", fmt]
        c[f"paths-seed-translated-{fmt}"] = ["paths", *seed_paths, "--translate",
                                             "user:kernel", "-f", fmt]
    matrix = [*SEED_H, "--layer", "user=i386,x86_64", "--layer", "kernel=x86_64",
              "--layer", "hv=x86_64,aarch64", "--translate", "kernel:hv",
              "--record", "privcmd_dm_op_buf", "--matrix"]
    for fmt in ("text", "json"):
        c[f"paths-matrix-{fmt}"] = ["paths", *matrix, "-f", fmt]
    c["paths-matrix-narrow"] = ["paths", *matrix, "--width", "60"]
    wide = [*matrix, "--record", "kernel:hv=privcmd_dm_op_buf/xen_dm_op_buf", "--record",
            "xen_dm_op_buf_v3"]
    for width in ("200", "100", "70", "50"):
        c[f"paths-matrix-wide-{width}"] = ["paths", *wide, "--width", width]
    c["paths-matrix-wide-file"] = ["paths", *wide, "-o", "{out}"]
    c["snapshot-vcpu-for-diff"] = ["snapshot", *VCPU, "--target", "x86_64,i386", "-o",
                                   "{out}"]
    return c


def run(outdir: Path, python: str) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb",
           "PYTHONPATH": str(ROOT / "src")}
    env.pop("FORCE_COLOR", None)
    hashes = []
    with tempfile.TemporaryDirectory() as tmp:
        env["ABISCOPE_CACHE_DIR"] = os.path.join(tmp, "cache")
        all_cases = cases()
        snap = os.path.join(tmp, "vcpu.json")
        all_cases["diff-vcpu-text"] = ["diff", snap, *VCPU, "--target", "x86_64,i386",
                                       "-D", "CHANGED"]
        all_cases["diff-vcpu-json"] = [*all_cases["diff-vcpu-text"], "-f", "json"]
        all_cases["diff-vcpu-sarif"] = [*all_cases["diff-vcpu-text"], "-f", "sarif"]
        for name, args in all_cases.items():
            out = snap if name == "snapshot-vcpu-for-diff" else os.path.join(tmp, name + ".out")
            argv = [a.replace("{out}", out) for a in args]
            run_env = dict(env)
            if "--width" in argv:  # a terminal this wide (rich: FORCE_COLOR + COLUMNS; a
                # "dumb" TERM would make it 80 whatever COLUMNS says)
                i = argv.index("--width")
                run_env.update(COLUMNS=argv[i + 1], FORCE_COLOR="1", TERM="xterm")
                del argv[i:i + 2]
            proc = subprocess.run([python, "-m", "abiscope", *argv], capture_output=True,
                                  env=run_env, cwd=tmp)
            blob = (b"$ abiscope " + " ".join(args).encode() + b"\n--- rc %d\n--- stdout\n"
                    % proc.returncode + proc.stdout + b"\n--- stderr\n" + proc.stderr)
            if "{out}" in " ".join(args) and os.path.exists(out):
                blob += b"\n--- file\n" + Path(out).read_bytes()
            blob = blob.replace(tmp.encode(), b"$TMP").replace(str(ROOT).encode(), b"$ROOT")
            blob = blob.replace(ROOT.name.encode(), b"$TREE")  # (in relative paths)
            (outdir / name).write_bytes(blob)
            hashes.append(f"{hashlib.sha256(blob).hexdigest()[:16]}  {name}\n")
            print(f"{name}: rc {proc.returncode}", file=sys.stderr)
    (outdir / "HASHES").write_text("".join(hashes))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--compare", type=Path, metavar="OLDDIR")
    ap.add_argument("--python", default=sys.executable)
    ns = ap.parse_args()
    run(ns.outdir, ns.python)
    if ns.compare is None:
        return 0
    old = dict(line.split()[::-1] for line in (ns.compare / "HASHES").read_text().splitlines())
    new = dict(line.split()[::-1] for line in (ns.outdir / "HASHES").read_text().splitlines())
    same = [n for n in new if old.get(n) == new[n]]
    differ = [n for n in new if n in old and old[n] != new[n]]
    print(f"{len(same)} identical, {len(differ)} differ, "
          f"{len(set(new) - set(old))} new, {len(set(old) - set(new))} gone")
    for n in differ:
        print(f"  differs: {n}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
