"""rustc layout oracle: lay Rust ``#[repr(C)]`` items out with rustc for any ``--target``.

Without the target's standard library: the items are compiled under ``#![no_core]`` with a
minimal core of lang items (as rustc's own layout tests do) and each struct/union marked
with rustc's layout-dump attribute (``#[rustc_layout(debug)]`` in 1.95; later nightlies call
it ``#[rustc_dump_layout(debug)]``: detected), enabled on a stable compiler by
``RUSTC_BOOTSTRAP=1``. rustc reports each layout as an error; they are read back from
stderr. Self-contained: does not import abiscope.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache

_PRELUDE = """\
#![feature(no_core, lang_items, rustc_attrs)]
#![allow(internal_features, non_camel_case_types, dead_code)]
#![no_core]
#![crate_type = "lib"]
@SIZED@
#[lang = "copy"] pub trait Copy {}
impl Copy for u8 {} impl Copy for i8 {} impl Copy for u16 {} impl Copy for i16 {}
impl Copy for u32 {} impl Copy for i32 {} impl Copy for u64 {} impl Copy for i64 {}
impl Copy for u128 {} impl Copy for i128 {} impl Copy for usize {} impl Copy for isize {}
impl Copy for f32 {} impl Copy for f64 {} impl Copy for bool {}
impl<T: Copy, const N: usize> Copy for [T; N] {}
impl<T> Copy for *mut T {} impl<T> Copy for *const T {}
pub mod ffi {
    // core::ffi's definitions (library/core/src/ffi/primitives.rs), for the targets here
    pub enum c_void {}
    impl crate::Copy for c_void {}
    pub type c_char = i8; pub type c_schar = i8; pub type c_uchar = u8;
    pub type c_short = i16; pub type c_ushort = u16;
    #[cfg(any(target_arch = "avr", target_arch = "msp430"))] pub type c_int = i16;
    #[cfg(any(target_arch = "avr", target_arch = "msp430"))] pub type c_uint = u16;
    #[cfg(not(any(target_arch = "avr", target_arch = "msp430")))] pub type c_int = i32;
    #[cfg(not(any(target_arch = "avr", target_arch = "msp430")))] pub type c_uint = u32;
    #[cfg(all(target_pointer_width = "64", not(windows)))] pub type c_long = i64;
    #[cfg(all(target_pointer_width = "64", not(windows)))] pub type c_ulong = u64;
    #[cfg(not(all(target_pointer_width = "64", not(windows))))] pub type c_long = i32;
    #[cfg(not(all(target_pointer_width = "64", not(windows))))] pub type c_ulong = u32;
    pub type c_longlong = i64; pub type c_ulonglong = u64;
    pub type c_float = f32; pub type c_double = f64;
}
"""


@dataclass(frozen=True)
class RustcLayout:
    """One item as rustc laid it out: fields in declaration order with their offsets."""

    name: str
    size: int
    align: int
    fields: tuple[tuple[str, int], ...]
    types: tuple[str, ...]  # each field's Rust type, as written


def find_rustc() -> str | None:
    """``$ABISCOPE_RUSTC`` (another toolchain's rustc), else rustc on PATH or ~/.cargo/bin."""
    if os.environ.get("ABISCOPE_RUSTC"):
        return os.environ["ABISCOPE_RUSTC"]
    return shutil.which("rustc") or (
        os.path.expanduser("~/.cargo/bin/rustc")
        if os.path.exists(os.path.expanduser("~/.cargo/bin/rustc")) else None)


def _run(rustc: str, text: str, triple: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="abiscope-rustc-") as tmp:
        src = os.path.join(tmp, "probe.rs")
        with open(src, "w") as f:
            f.write(text)
        return subprocess.run(
            [rustc, "--edition", "2021", "--target", triple, "--emit=metadata",
             "-o", os.path.join(tmp, "probe.rmeta"), src],
            capture_output=True, text=True, env={**os.environ, "RUSTC_BOOTSTRAP": "1"},
            timeout=300)


# The Sized lang items: rustc 1.89 and later split Sized into a hierarchy
_SIZED_HIERARCHY = """\
#[lang = "pointee_sized"] pub trait PointeeSized {}
#[lang = "meta_sized"] pub trait MetaSized: PointeeSized {}
#[lang = "sized"] pub trait Sized: MetaSized {}"""
_SIZED_FLAT = '#[lang = "sized"] pub trait Sized {}'


@cache
def _prelude(rustc: str) -> str:
    """The minimal core this rustc accepts."""
    for sized in (_SIZED_HIERARCHY, _SIZED_FLAT):
        text = _PRELUDE.replace("@SIZED@", sized)
        probe = text + "#[rustc_layout(debug)]\n#[repr(C)] pub struct P { a: u8 }\n"
        if "layout_of(P)" in _run(rustc, probe, "x86_64-unknown-linux-gnu").stderr:
            return text
        probe = probe.replace("rustc_layout", "rustc_dump_layout")
        if "layout_of(P)" in _run(rustc, probe, "x86_64-unknown-linux-gnu").stderr:
            return text
    raise RuntimeError(f"{rustc} dumps no layout under #![no_core] with RUSTC_BOOTSTRAP=1")


@cache
def dump_attribute(rustc: str) -> str:
    """``rustc_dump_layout`` where this rustc has it, else ``rustc_layout``."""
    probe = _prelude(rustc) + \
        "#[rustc_dump_layout(debug)]\n#[repr(C)] pub struct P { a: u8 }\n"
    out = _run(rustc, probe, "x86_64-unknown-linux-gnu").stderr
    return "rustc_dump_layout" if "layout_of(P)" in out else "rustc_layout"


_ITEM = re.compile(r"^\s*pub (struct|union) (\w+)(?:<[^>]*>)? \{")
_FIELD = re.compile(r"^\s*pub ([\w#]+): (.+),$")
_DUMP = re.compile(
    r"layout_of\((?P<name>[^)]*)\) = Layout \{\s*size: Size\((?P<size>\d+) bytes\),\s*"
    r"align: AbiAlign \{\s*abi: Align\((?P<align>\d+) bytes\),.*?fields: (?P<fields>"
    r"Arbitrary \{\s*offsets: \[(?P<offsets>[^\]]*)\]|Union\(|Primitive)"
    r".*?--> [^\n]*?:(?P<line>\d+):\d+", re.S)


def rustc_layouts(items: str, triple: str, rustc: str | None = None
                  ) -> tuple[dict[str, RustcLayout], str]:
    """rustc's layout of every struct and union of ``items`` (Rust source without
    ``::core``: C types as ``crate::ffi::c_int``) on ``triple``; and rustc's stderr
    when it reported no layout (the items do not compile there)."""
    rustc = rustc or find_rustc()
    if rustc is None:
        raise FileNotFoundError("rustc not installed")
    attr = f"#[{dump_attribute(rustc)}(debug)]"
    lines = _prelude(rustc).split("\n")
    where: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in items.split("\n"):
        m = _ITEM.match(line)
        if m and m.group(2) != "__IncompleteArrayField":
            lines.append(attr)
            current = []
            where[len(lines) + 1] = (m.group(2), current)
        elif current is not None:
            f = _FIELD.match(line)
            if f:
                current.append((f.group(1).removeprefix("r#"), f.group(2)))
            elif line.startswith("}"):
                current = None
        lines.append(line)
    proc = _run(rustc, "\n".join(lines) + "\n", triple)
    out: dict[str, RustcLayout] = {}
    for m in _DUMP.finditer(proc.stderr):
        name, fields = where[int(m.group("line"))]
        if m.group("offsets") is not None:
            offs = [int(x) for x in re.findall(r"Size\((\d+) bytes\)", m.group("offsets"))]
        else:
            offs = [0] * len(fields)
        if len(offs) != len(fields):
            raise AssertionError(f"{name}: {len(fields)} fields parsed, rustc gave "
                                 f"{len(offs)} offsets:\n{m.group(0)[:3000]}")
        out[name] = RustcLayout(name, int(m.group("size")), int(m.group("align")),
                                tuple((f, o) for (f, _), o in zip(fields, offs, strict=True)),
                                tuple(t for _, t in fields))
    return out, ("" if out else proc.stderr)
