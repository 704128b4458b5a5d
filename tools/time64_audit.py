#!/usr/bin/env python3
"""Does 64-bit time_t change these Debian -dev packages' ABI? One command, per package.

    python tools/time64_audit.py                       # the packages below; Markdown on stdout
    python tools/time64_audit.py libarchive-dev zlib1g-dev --json audit.json

For each installed package: its public headers (`dpkg -L`, the `.h` files under
/usr/include), the -I its pkg-config files name (`pkg-config --cflags-only-I`), then for
each 32-bit pair (arm+time64 vs arm, i386+time64 vs i386) the documented command

    abiscope compat HEADERS --native T+time64 --compat T --prelude auto -f json

and it tabulates, per package and pair: records and functions whose verdict is `translate`
(and the root types that make them so), functions whose symbol is renamed (an asm label,
glibc's `__REDIRECT`), pairs of functions declared on one side only that a `#define`
renames (`gzseek` -> `gzseek64`), headers that needed a prelude (read from abiscope's
stderr: the compat JSON does not carry them) and headers that failed on either side.
`--json FILE` keeps the per-package detail. Packages not installed are listed as such.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

# (dev package, runtime package in Debian 12, its name in Debian 13 / Ubuntu 24.04 where
# the transition renamed it (None: not renamed; "?": no public record found). Names as
# seen in public Debian 13 / Ubuntu 24.04 install logs, Dockerfiles and SBOMs.
PACKAGES: list[tuple[str, str, str | None]] = [
    ("libcurl4-openssl-dev", "libcurl4", "libcurl4t64"),
    ("libarchive-dev", "libarchive13", "libarchive13t64"),
    ("libevent-dev", "libevent-2.1-7", "libevent-2.1-7t64"),
    ("libuv1-dev", "libuv1", "libuv1t64"),
    ("libzip-dev", "libzip4", "libzip4t64"),
    ("libgpgme-dev", "libgpgme11", "libgpgme11t64"),
    ("libcups2-dev", "libcups2", "libcups2t64"),
    ("libglib2.0-dev", "libglib2.0-0", "libglib2.0-0t64"),
    ("libssl-dev", "libssl3", "libssl3t64"),
    ("libgnutls28-dev", "libgnutls30", "libgnutls30t64"),
    ("libpcap0.8-dev", "libpcap0.8", "libpcap0.8t64"),
    ("libmicrohttpd-dev", "libmicrohttpd12", "libmicrohttpd12t64"),
    ("libtirpc-dev", "libtirpc3", "libtirpc3t64"),
    ("libmagic-dev", "libmagic1", "libmagic1t64"),
    ("libapr1-dev", "libapr1", "libapr1t64"),
    ("libfuse-dev", "libfuse2", "libfuse2t64"),
    ("libasound2-dev", "libasound2", "libasound2t64"),
    ("libpng-dev", "libpng16-16", "libpng16-16t64"),
    ("libreadline-dev", "libreadline8", "libreadline8t64"),
    ("libssh-dev", "libssh-4", None),
    ("libnghttp2-dev", "libnghttp2-14", None),
    ("libsqlite3-dev", "libsqlite3-0", None),
    ("zlib1g-dev", "zlib1g", None),
    ("libexpat1-dev", "libexpat1", None),
    ("libyaml-dev", "libyaml-0-2", None),
    ("libjansson-dev", "libjansson4", None),
    ("liblzma-dev", "liblzma5", None),
    ("libbz2-dev", "libbz2-1.0", None),
    ("libzstd-dev", "libzstd1", None),
    ("libffi-dev", "libffi8", None),
    ("libgmp-dev", "libgmp10", None),
    ("libjson-c-dev", "libjson-c5", None),
    ("libsodium-dev", "libsodium23", None),
    ("libidn2-dev", "libidn2-0", None),
    ("libtasn1-6-dev", "libtasn1-6", None),
    ("libseccomp-dev", "libseccomp2", None),
    ("libcap-dev", "libcap2", None),
    ("uuid-dev", "libuuid1", None),
    ("libncurses-dev", "libncursesw6", None),
    ("liblz4-dev", "liblz4-1", "?"),
    ("libpcre2-dev", "libpcre2-8-0", "?"),
    ("libxxhash-dev", "libxxhash0", "?"),
]
MULTIARCH = "/usr/include/x86_64-linux-gnu"
PAIRS = (("arm+time64", "arm"), ("i386+time64", "i386"))
PRELUDE = re.compile(r"^(?:abiscope: )?(?P<header>\S+): does not parse alone for "
                     r"(?P<targets>.+?); laid out after (?P<added>.+?) \(--prelude")
SIZE_CAUSE = re.compile(r"^(?P<type>.+?)(?: is \d+ bytes| aligned \d+|: \d+ bytes|: points to)")


@dataclass
class PairResult:
    """One package on one pair: what `abiscope compat` said."""
    records: dict[str, list[str]] = field(default_factory=dict)    # record -> root types
    functions: dict[str, list[str]] = field(default_factory=dict)  # function -> root types
    renamed: dict[str, str] = field(default_factory=dict)          # function -> new symbol
    macro_renamed: dict[str, str] = field(default_factory=dict)    # gzseek -> gzseek64
    one_sided: list[str] = field(default_factory=list)             # other one-side-only
    preludes: dict[str, str] = field(default_factory=dict)         # header -> added
    failed: list[str] = field(default_factory=list)                # headers
    n_records: int = 0
    n_functions: int = 0
    exit: int = 0
    error: str = ""


def installed(pkg: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                          capture_output=True, text=True)
    return proc.returncode == 0 and "installed" in proc.stdout


def package_files(pkg: str) -> tuple[list[str], list[str]]:
    """The package's public headers and the -I its pkg-config files ask for."""
    files = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True,
                           check=True).stdout.split()
    headers = sorted(f for f in files if f.startswith("/usr/include/") and f.endswith(".h")
                     and os.path.isfile(f))
    flags: list[str] = []
    for pc in sorted(f for f in files if f.endswith(".pc")):
        name = os.path.basename(pc)[:-3]
        proc = subprocess.run(["pkg-config", "--cflags-only-I", name],
                              capture_output=True, text=True)
        for word in shlex.split(proc.stdout):
            if word in (f"-I{MULTIARCH}", "-I/usr/include"):
                continue  # the host's glibc: see multiarch_links
            if word.startswith("-I") and word not in flags:
                flags.append(word)
    return headers, flags


def multiarch_links(linkdir: str) -> list[str]:
    """-I for what the host's -dev packages put in its multiarch dir (`openssl/`,
    `gpg-error.h`), linked into LINKDIR: `-I/usr/include/x86_64-linux-gnu` itself would put
    the host's glibc and kernel headers (`bits/`, `asm/`) before the cross target's."""
    libc = subprocess.run(["dpkg", "-L", "libc6-dev", "linux-libc-dev"], capture_output=True,
                          text=True).stdout.split()
    own = {f[len(MULTIARCH) + 1:].split("/")[0] for f in libc if f.startswith(MULTIARCH + "/")}
    tops = sorted(set(os.listdir(MULTIARCH)) - own)
    for top in tops:
        os.symlink(os.path.join(MULTIARCH, top), os.path.join(linkdir, top))
    return [f"-I{linkdir}"] if tops else []


def root_types(reasons: list[dict[str, object]], via: list[str]) -> list[str]:
    """The types a record's or function's `translate` comes down to."""
    found: list[str] = []
    for r in reasons:
        side = r.get("native") or r.get("compat")
        if isinstance(side, dict) and side.get("points_to"):
            name = str(side["points_to"])
        else:
            m = SIZE_CAUSE.match(str(r.get("cause", "")))
            if not m:
                continue
            name = m.group("type")
        if name not in found:
            found.append(name)
    for v in via:
        if f"via {v}" not in found:
            found.append(f"via {v}")
    return found


def run_pair(headers: list[str], flags: list[str], native: str, compat: str,
             python: str) -> tuple[PairResult, list[str]]:
    res = PairResult()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [python, "-m", "abiscope", "compat", *flags, "--native", native, "--compat",
               compat, "--prelude", "auto", "--no-cache", "-f", "json", "-o", out.name]
        proc = subprocess.run([*cmd, *headers], capture_output=True, text=True)
        res.exit = proc.returncode
        for line in proc.stderr.splitlines():
            m = PRELUDE.match(line)
            if m:
                res.preludes[m.group("header")] = m.group("added")
        if proc.returncode not in (0, 1):
            res.error = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            res.failed = list(headers)
            return res, cmd
        with open(out.name) as fh:
            data = json.load(fh)
    res.failed = sorted({f["header"] for f in data["failures"]})
    res.n_records, res.n_functions = len(data["records"]), len(data.get("functions", []))
    for r in data["records"]:
        if r["verdict"] == "translate":
            res.records[r["name"]] = root_types(r["reasons"], r["via"])
    only_native: dict[str, dict[str, object]] = {}
    only_compat: dict[str, dict[str, object]] = {}
    for f in data.get("functions", []):  # absent where no header declares one
        sym = f["symbols"]
        if sym["native"] is None:
            only_compat[f["name"]] = f
        elif sym["compat"] is None:
            only_native[f["name"]] = f
        else:
            if f["renamed"]:
                res.renamed[f["name"]] = sym["native"]
            if f["verdict"] == "translate":
                res.functions[f["name"]] = root_types(f["reasons"], f["via"])
    for name in sorted(only_compat):
        new = next((n for n in (f"{name}64", f"{name}_time64", f"__{name}_time64")
                    if n in only_native), None)
        if new:
            res.macro_renamed[name] = new
            del only_native[new]
        else:
            res.one_sided.append(f"{name} (only {compat})")
    res.one_sided += [f"{n} (only {native})" for n in sorted(only_native)]
    return res, cmd


def markdown(results: dict[str, dict[str, PairResult]], verdicts: dict[str, str | None],
             missing: list[str], commands: dict[str, list[str]]) -> str:
    out = ["| package | Debian 13 name | headers | arm: records / functions translate | "
           "arm: renames (asm / #define) | i386: records / functions translate | "
           "i386: renames (asm / #define) | prelude | failed (arm, i386) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for pkg, pairs in results.items():
        arm, i386 = pairs["arm"], pairs["i386"]
        new = verdicts.get(pkg) or "(not renamed)"
        heads = commands[pkg][0]
        pre = sorted(set(arm.preludes) | set(i386.preludes))
        out.append(
            f"| {pkg} | {new} | {heads} | {len(arm.records)} / {len(arm.functions)} | "
            f"{len(arm.renamed)} / {len(arm.macro_renamed)} | "
            f"{len(i386.records)} / {len(i386.functions)} | "
            f"{len(i386.renamed)} / {len(i386.macro_renamed)} | {len(pre)} | "
            f"{len(arm.failed)}, {len(i386.failed)} |")
    if missing:
        out.append(f"\nNot installed (skipped): {', '.join(missing)}")
    return "\n".join(out) + "\n"


CAUSES = (("time_t", ("time_t", "__time_t", "time64_t", "struct timespec", "struct timeval",
                       "struct tm", "struct itimerspec", "struct utimbuf", "__timeval",
                       "struct __timespec64", "struct __timeval64")),
          ("off_t", ("off_t", "__off_t", "loff_t", "__off64_t", "off64_t")),
          ("struct stat", ("struct stat", "struct stat64", "struct statvfs", "struct statfs")),
          ("other LFS types", ("ino_t", "__ino_t", "blkcnt_t", "__blkcnt_t", "fsblkcnt_t",
                               "fsfilcnt_t", "rlim_t", "struct dirent", "fpos_t", "struct flock",
                               "struct rlimit", "__fsblkcnt_t", "__fsfilcnt_t")))


def cause_group(types: list[str]) -> str:
    """The first cause group a root-type list falls in (`via R`: R's own group unknown)."""
    bare = [re.sub(r"\b(const|restrict|volatile)\b", "", t).strip(" *") for t in types]
    for group, names in CAUSES:  # time_t * -> time_t; a library's typedef (apr_off_t) too
        if any(t in names or t.endswith(tuple(n.split()[-1] for n in names)) for t in bare):
            return group
    direct = [t for t in types if not t.startswith("via ")]
    return direct[0] if direct else (types[0] if types else "?")


def detail_md(detail: dict[str, dict[str, object]], limit: int = 12) -> str:
    """Per package and pair: what translates, grouped by cause, renames, preludes, failures."""
    out: list[str] = []
    for pkg, d in detail.items():
        out.append(f"### {pkg}\n")
        for pair in ("arm", "i386"):
            r = d[pair]
            assert isinstance(r, dict)
            lines: list[str] = []
            for kind in ("records", "functions"):
                groups: dict[str, list[str]] = {}
                for name, types in sorted(r[kind].items()):
                    group = cause_group(types)
                    held = group.removeprefix("via ").removeprefix("const ")
                    if kind == "functions" and held in r["records"]:  # a record of its own
                        group = f"{cause_group(r['records'][held])} (in {held})"
                    groups.setdefault(group, []).append(name)
                for group, names in sorted(groups.items()):
                    more = f" … (+{len(names) - limit})" if len(names) > limit else ""
                    lines.append(f"- {kind} translate through **{group}** ({len(names)}): "
                                 + ", ".join(f"`{n}`" for n in names[:limit]) + more)
            if r["renamed"]:
                names = sorted(r["renamed"].items())
                lines.append(f"- asm-label renames ({len(names)}): " + ", ".join(
                    f"`{a}`→`{b}`" for a, b in names[:limit]))
            if r["macro_renamed"]:
                names = sorted(r["macro_renamed"].items())
                lines.append(f"- `#define` renames ({len(names)}): " + ", ".join(
                    f"`{a}`→`{b}`" for a, b in names[:limit]))
            if r["one_sided"]:
                lines.append(f"- declared on one side only ({len(r['one_sided'])}): "
                             + ", ".join(f"`{n}`" for n in r["one_sided"][:limit]))
            if r["preludes"]:
                lines.append(f"- needed a prelude ({len(r['preludes'])}): " + "; ".join(
                    f"`{os.path.basename(h)}` after {a}"
                    for h, a in sorted(r["preludes"].items())[:limit]))
            if r["failed"]:
                lines.append(f"- failed ({len(r['failed'])}): " + ", ".join(
                    f"`{os.path.basename(h)}`" for h in r["failed"][:limit])
                    + (" …" if len(r["failed"]) > limit else ""))
            if r["error"]:
                lines.append(f"- abiscope exit {r['exit']}: {r['error']}")
            out.append(f"**{pair}** ({r['n_records']} records, {r['n_functions']} functions)"
                       + (":\n" + "\n".join(lines) if lines else ": nothing changes") + "\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("packages", nargs="*", help="-dev packages (default: the built-in list)")
    ap.add_argument("--json", metavar="FILE", help="write the per-package detail here")
    ap.add_argument("--python", default=sys.executable, help="the Python that runs abiscope")
    ap.add_argument("--detail", action="store_true",
                    help="after the table, what changes per package, grouped by cause")
    ap.add_argument("--from-json", metavar="FILE",
                    help="render the detail of an earlier --json run (runs nothing)")
    args = ap.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as fh:
            saved = json.load(fh)
        sys.stdout.write(markdown(
            {p: {c: PairResult(**d[c]) for c in ("arm", "i386")} for p, d in saved.items()},
            {p: new for p, _, new in PACKAGES}, [],
            {p: [str(len(d["headers"]))] for p, d in saved.items()}))
        sys.stdout.write("\n" + detail_md(saved))
        return 0
    known = {p: new for p, _, new in PACKAGES}
    wanted = args.packages or [p for p, _, _ in PACKAGES]
    results: dict[str, dict[str, PairResult]] = {}
    commands: dict[str, list[str]] = {}
    missing: list[str] = []
    detail: dict[str, object] = {}
    for pkg in wanted:
        if not installed(pkg):
            missing.append(pkg)
            continue
        headers, flags = package_files(pkg)
        linkdir = tempfile.mkdtemp(prefix="abiscope-t64-")
        flags += multiarch_links(linkdir)
        print(f"{pkg}: {len(headers)} headers {' '.join(flags)}", file=sys.stderr)
        pairs: dict[str, PairResult] = {}
        for native, compat in PAIRS:
            res, _ = run_pair(headers, flags, native, compat, args.python)
            pairs[compat] = res
            if res.error:
                print(f"  {compat}: exit {res.exit}: {res.error}", file=sys.stderr)
        shutil.rmtree(linkdir)
        results[pkg] = pairs
        commands[pkg] = [str(len(headers)), *flags]
        detail[pkg] = {"headers": headers, "flags": flags, "debian13": known.get(pkg),
                       **{c: vars(r) for c, r in pairs.items()}}
        if args.json:  # after each package: a long run interrupted keeps what it did
            with open(args.json, "w") as fh:
                json.dump(detail, fh, indent=1, sort_keys=True)
    sys.stdout.write(markdown(results, known, missing, commands))
    if args.detail:
        sys.stdout.write("\n" + detail_md(json.loads(json.dumps(detail))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
