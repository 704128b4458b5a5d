"""``abiscope verify-rust``: hand-written ``#[repr(C)]`` Rust mirrors against the C records.

A Rust file is read with a real Rust parser (tree-sitter-rust): every struct and union with
``#[repr(C...)]`` at any module depth, with its ``packed``/``packed(N)``/``align(N)``, its
fields and their types, the file's type aliases and integer constants (array lengths), and
its ``#[cfg(...)]`` predicates (evaluated per target with the facts of
:data:`~abiscope.codegen.rust_layout.RUST_TARGETS`). An item is paired with the C record
of its name (the C tag or typedef name) or, when the names differ, with the record named in
a ``// abiscope: struct NAME`` line comment just above it. Each item is laid out as rustc
does on each target (:func:`~abiscope.codegen.rust_layout.layout`, rustc's repr(C) rules
with rustc's primitive alignments, m68k's too) and compared with the C record: size,
alignment, and the offset and size of every field paired by name with a C member (through
anonymous members; bitfields are not compared). Analysis only: reports render the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, SourceLocation
from ..model import Member, Model, Record
from .rust import rust_name
from .rust_layout import FFI_TYPES, PRIMS, RUST_TARGETS, Repr, RType, RustTarget, layout

_PASSTHROUGH = {"MaybeUninit", "ManuallyDrop", "Cell", "UnsafeCell", "Wrapping",
                "VolatileCell", "Aligned"}
_POINTERS = {"NonNull", "Box", "AtomicPtr"}
_ENDIAN = re.compile(r"(?:Le|Be)(16|32|64)")
_ANNOTATION = re.compile(r"//\s*abiscope:\s*((?:struct|union)\s+\w+|\w+)\s*$")


@dataclass(frozen=True)
class RustField:
    name: str  # without r#
    type_text: str
    rtype: RType | None  # None: a type abiscope cannot lay out
    line: int


@dataclass(frozen=True)
class RustItem:
    name: str
    kind: str  # struct | union
    repr: Repr
    fields: tuple[RustField, ...]
    location: SourceLocation
    record: str = ""  # from a ``// abiscope: struct NAME`` comment
    cfg: str = ""  # the #[cfg(...)] predicate's text, "" for none


@dataclass(frozen=True)
class RustFile:
    items: tuple[RustItem, ...]
    aliases: Mapping[str, tuple[RType | None, str]]  # type NAME = T;
    cfg_aliases: Mapping[str, str]  # alias name -> cfg text, where cfg'd


@dataclass(frozen=True)
class Difference:
    """One way an item's layout differs from its C record on one target."""

    target: str
    item: str
    record: str
    field: str  # "" for the item itself
    what: str  # size | align | offset | field size | missing
    rust: int | None
    c: int | None
    location: SourceLocation

    @property
    def message(self) -> str:
        subject = f"{self.item}.{self.field}" if self.field else self.item
        if self.what == "missing":
            return (f"{subject}: C member {self.field} of {self.record} (offset {self.c}) has "
                    "no Rust field of that name")
        return f"{subject}: {self.what} {self.rust} in Rust, {self.c} in C ({self.record})"


@dataclass(frozen=True)
class Verdict:
    targets: tuple[str, ...]
    items: tuple[tuple[RustItem, str], ...]  # (item, C record) compared
    differences: tuple[Difference, ...]
    notes: tuple[str, ...] = ()
    layouts: Mapping[str, Mapping[str, tuple[int, int]]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# parsing


def _parser() -> Any:
    try:
        import tree_sitter_rust
        from tree_sitter import Language, Parser
    except ImportError as exc:  # pragma: no cover - a dependency
        raise InputError("verify-rust needs tree-sitter and tree-sitter-rust "
                         "(pip install 'abiscope[rust]')") from exc
    return Parser(Language(tree_sitter_rust.language()))


def _text(node: Any) -> str:
    return str(node.text.decode())


def parse_rust(source: str, path: str) -> RustFile:
    """The ``#[repr(C)]`` items, type aliases and constants of a Rust source file."""
    tree = _parser().parse(source.encode())
    if tree.root_node.has_error:
        bad = _first_error(tree.root_node)
        raise InputError(f"{path}:{bad.start_point[0] + 1}:{bad.start_point[1] + 1}: "
                         "Rust syntax error: fix the file (verify-rust reads what rustc "
                         "accepts)")
    consts: dict[str, int] = {}
    enums: dict[str, str] = {}  # #[repr(u8)] enum NAME -> u8
    raw_aliases: dict[str, tuple[Any, str]] = {}
    items: list[tuple[Any, list[str], str]] = []

    def walk(container: Any, outer: str) -> None:
        attrs: list[str] = []
        comments: list[Any] = []
        for node in container.named_children:
            if node.type == "attribute_item":
                attrs.append(_text(node))
                continue
            if node.type == "line_comment":
                comments.append(node)
                continue
            cfg = next((a[6:-2] for a in attrs if a.startswith("#[cfg(")), "")
            if outer:  # the cfg of the enclosing modules
                cfg = f"all({outer}, {cfg})" if cfg else outer
            if node.type in ("struct_item", "union_item"):
                annotation = ""
                for c in comments[-1:]:
                    m = _ANNOTATION.search(_text(c))
                    if m and c.end_point[0] + 1 + len(attrs) >= node.start_point[0]:
                        annotation = " ".join(m.group(1).split())
                items.append((node, attrs, annotation + "\0" + cfg))
            elif node.type == "enum_item":
                name = node.child_by_field_name("name")
                prim = next((m.group(1) for a in attrs for m in [re.fullmatch(
                    r"#\[\s*repr\s*\(\s*([ui](?:8|16|32|64|size))\s*\)\s*\]", a)] if m), None)
                if name is not None and prim is not None:
                    enums[_text(name)] = prim
            elif node.type == "type_item":
                name = node.child_by_field_name("name")
                ty = node.child_by_field_name("type")
                if name is not None and ty is not None:
                    raw_aliases[_text(name)] = (ty, cfg)
            elif node.type in ("const_item", "static_item"):
                name = node.child_by_field_name("name")
                value = node.child_by_field_name("value")
                if name is not None and value is not None:
                    v = _int(_text(value))
                    if v is not None:
                        consts[_text(name)] = v
            elif node.type == "mod_item":
                body = node.child_by_field_name("body")
                if body is not None:
                    walk(body, cfg)
            attrs = []
            comments = []

    walk(tree.root_node, "")
    names: dict[str, str | None] = {_text(n.child_by_field_name("name")): None
                                    for n, _, _ in items}
    names.update({e: p for e, p in enums.items() if e not in names})
    aliases: dict[str, tuple[RType | None, str]] = {}
    for alias, (ty, _cfg) in raw_aliases.items():
        aliases[alias] = (_type(ty, consts, names, raw_aliases, 0), _text(ty))
    out: list[RustItem] = []
    for node, attrs, extra in items:
        repr_ = _repr(attrs)
        if repr_ is None:
            continue
        annotation, cfg = extra.split("\0")
        fields: list[RustField] = []
        body = node.child_by_field_name("body")
        for f in (body.named_children if body is not None else ()):
            if f.type != "field_declaration":
                continue
            fname = f.child_by_field_name("name")
            ftype = f.child_by_field_name("type")
            if fname is None or ftype is None:
                continue
            fields.append(RustField(_text(fname).removeprefix("r#"), _text(ftype),
                                    _type(ftype, consts, names, raw_aliases, 0),
                                    f.start_point[0] + 1))
        name = node.child_by_field_name("name")
        out.append(RustItem(_text(name), "union" if node.type == "union_item" else "struct",
                            repr_, tuple(fields),
                            SourceLocation(path, node.start_point[0] + 1,
                                           node.start_point[1] + 1),
                            annotation, cfg))
    return RustFile(tuple(out), aliases,
                    {a: c for a, (_, c) in raw_aliases.items() if c})


def _first_error(node: Any) -> Any:
    for c in node.children:
        if c.type == "ERROR" or c.is_missing:
            return c
        if c.has_error:
            return _first_error(c)
    return node


def _int(text: str) -> int | None:
    text = re.sub(r"\s*as\s+\w+$", "", text.strip()).replace("_", "")
    text = re.sub(r"(?:u|i)(?:8|16|32|64|128|size)$", "", text)
    try:
        return int(text, 0)
    except ValueError:
        return None


def _repr(attrs: Sequence[str]) -> Repr | None:
    """The item's repr(C...), or None when it is not repr(C)."""
    words: list[str] = []
    for a in attrs:
        m = re.fullmatch(r"#\[\s*repr\s*\((.*)\)\s*\]", a, re.S)
        if m:
            words += [w.strip() for w in re.split(r",(?![^()]*\))", m.group(1))]
    if "C" not in words:
        return None
    packed = align = None
    for w in words:
        m = re.fullmatch(r"packed(?:\s*\(\s*(\d+)\s*\))?", w)
        if m:
            packed = int(m.group(1) or 1)
        m = re.fullmatch(r"align\s*\(\s*(\d+)\s*\)", w)
        if m:
            align = int(m.group(1))
    return Repr(packed, align)


def _type(node: Any, consts: Mapping[str, int], items: Mapping[str, str | None],
          aliases: Mapping[str, tuple[Any, str]], depth: int) -> RType | None:
    """The layout type of a type node, or None when abiscope cannot tell its layout."""
    kind = node.type
    if depth > 20:
        return None
    if kind == "primitive_type":
        name = _text(node)
        return RType("prim", name) if name in PRIMS else None
    if kind in ("pointer_type", "reference_type", "function_type"):
        return RType("prim", "ptr")
    if kind == "unit_type":
        return RType("zst")
    if kind == "array_type":
        elem = node.child_by_field_name("element")
        length = node.child_by_field_name("length")
        inner = _type(elem, consts, items, aliases, depth + 1) if elem is not None else None
        if length is None or inner is None:
            return None
        n = consts.get(_text(length).strip(), _int(_text(length)))
        return RType("array", elem=inner, count=n) if n is not None else None
    if kind in ("type_identifier", "scoped_type_identifier"):
        name = _text(node).rsplit("::", 1)[-1]
        if name in items:
            prim = items[name]  # an enum's repr(uN), or None for a struct/union
            return RType("prim", prim) if prim else RType("named", name)
        if name in aliases:
            return _type(aliases[name][0], consts, items, aliases, depth + 1)
        if name in FFI_TYPES:
            return RType("prim", name)
        if name == "c_void":
            return None
        m = _ENDIAN.fullmatch(name)
        if m:
            return RType("prim", f"u{m.group(1)}")
        return None
    if kind == "generic_type":
        base = node.child_by_field_name("type")
        args = node.child_by_field_name("type_arguments")
        name = _text(base).rsplit("::", 1)[-1] if base is not None else ""
        first = next((a for a in (args.named_children if args is not None else ())
                      if a.type not in ("lifetime",)), None)
        if name in _POINTERS or (name == "Option" and first is not None and (
                first.type in ("function_type", "reference_type") or
                _text(first).split("<")[0].rsplit("::", 1)[-1] in _POINTERS)):
            return RType("prim", "ptr")
        if name == "PhantomData":
            return RType("zst")
        if first is None:
            return None
        inner = _type(first, consts, items, aliases, depth + 1)
        if inner is None:
            return None
        if name == "__IncompleteArrayField":
            return RType("incomplete", elem=inner)
        if name in _PASSTHROUGH:
            return inner
        return None
    return None


# ---------------------------------------------------------------------------------------
# cfg predicates


def _target_facts(target: RustTarget, endian: str) -> dict[str, str]:
    triple = target.triple
    arch = triple.split("-")[0]
    arch = {"i686": "x86", "armv7": "arm", "thumbv7m": "arm", "riscv64gc": "riscv64",
            "riscv32gc": "riscv32", "powerpc64le": "powerpc64", "mipsel": "mips",
            "mips64el": "mips64"}.get(arch, arch)
    parts = triple.split("-")
    os_ = "windows" if "windows" in parts else "linux" if "linux" in parts else \
        "none" if "none" in parts else "unknown"
    env = next((e for e in ("msvc", "gnu") if any(p.startswith(e) for p in parts[3:])), "")
    family = "windows" if os_ == "windows" else "unix" if os_ == "linux" else ""
    return {"target_arch": arch, "target_os": os_, "target_env": env,
            "target_pointer_width": str(target.pointer_bits),
            "target_endian": endian, "target_family": family}


def cfg_holds(predicate: str, facts: Mapping[str, str]) -> bool:
    """Evaluate a cfg predicate (``all``, ``any``, ``not``, ``key = "value"``, ``unix``,
    ``windows``) against a target's facts; an unknown key is false."""
    tokens = re.findall(r'\w+|"[^"]*"|[(),=]', predicate)
    pos = 0

    def expr() -> bool:
        nonlocal pos
        word = tokens[pos]
        pos += 1
        if word in ("all", "any", "not") and pos < len(tokens) and tokens[pos] == "(":
            pos += 1
            values: list[bool] = []
            while tokens[pos] != ")":
                values.append(expr())
                if tokens[pos] == ",":
                    pos += 1
            pos += 1
            if word == "all":
                return all(values)
            if word == "any":
                return any(values)
            return not values[0]
        if pos < len(tokens) and tokens[pos] == "=":
            value = tokens[pos + 1].strip('"')
            pos += 2
            return bool(facts.get(word) == value)
        return bool(word in ("unix", "windows") and facts.get("target_family") == word)

    try:
        return expr()
    except IndexError:
        raise InputError(f"cannot read #[cfg({predicate})]") from None


# ---------------------------------------------------------------------------------------
# comparison


def _c_members(members: Sequence[Member]) -> dict[str, Member]:
    """Named members by name, looking through anonymous members."""
    out: dict[str, Member] = {}
    for m in members:
        if m.name:
            out.setdefault(m.name, m)
        elif m.members:
            for k, v in _c_members(m.members).items():
                out.setdefault(k, v)
    return out


def _pair(item: RustItem, model: Model) -> Record | None:
    if item.record:
        want = item.record
        return model.record(want) or next(
            (r for r in model.records if rust_name(r.name) == want.split(" ")[-1]), None)
    return next((r for r in model.records if rust_name(r.name).removeprefix("r#") == item.name),
                None)


def verify(rust: RustFile, model: Model) -> Verdict:
    """Compare every paired repr(C) item of ``rust`` with its C record on every target of
    the model that Rust knows."""
    notes: list[str] = []
    targets = [t for t in model.targets if t in RUST_TARGETS]
    for t in model.targets:
        if t not in RUST_TARGETS:
            notes.append(f"{t}: left out, Rust has no target for it")
    pairs: list[tuple[RustItem, Record]] = []
    for item in rust.items:
        rec = _pair(item, model)
        if rec is None:
            if item.record:
                notes.append(f"{item.location}: {item.name}: the record {item.record} named "
                             "in its abiscope comment is not in the headers")
            continue
        pairs.append((item, rec))
    diffs: list[Difference] = []
    seen_layouts: dict[str, dict[str, tuple[int, int]]] = {}
    for target in targets:
        rt = RUST_TARGETS[target]
        facts = _target_facts(rt, model.targets[target].endian)
        active = {i.name: i for i in rust.items if not i.cfg or cfg_holds(i.cfg, facts)}
        memo: dict[str, tuple[int, int]] = {}

        def resolve(name: str, memo: dict[str, tuple[int, int]] = memo,
                    active: Mapping[str, RustItem] = active, rt: RustTarget = rt
                    ) -> tuple[int, int]:
            if name not in memo:
                it = active.get(name)
                if it is None or any(f.rtype is None for f in it.fields):
                    raise _Unknown(name)
                lay = layout([f.rtype for f in it.fields if f.rtype is not None], it.repr,
                             it.kind == "union", rt, resolve)
                memo[name] = (lay.size, lay.align)
            return memo[name]

        for item, rec in pairs:
            if active.get(item.name) is not item:
                continue
            if target not in rec.layouts:
                notes.append(f"{item.name}: {rec.name} is not defined on {target}")
                continue
            unknown = [f for f in item.fields if f.rtype is None]
            if unknown:
                note = (f"{item.location}: {item.name}: not compared: abiscope cannot lay out "
                        f"field {unknown[0].name}: {unknown[0].type_text}")
                if note not in notes:
                    notes.append(note)
                continue
            try:
                got = layout([f.rtype for f in item.fields if f.rtype is not None], item.repr,
                             item.kind == "union", rt, resolve)
            except _Unknown as exc:
                note = (f"{item.location}: {item.name}: not compared: the layout of {exc} "
                        "is unknown")
                if note not in notes:
                    notes.append(note)
                continue
            seen_layouts.setdefault(item.name, {})[target] = (got.size, got.align)
            c = rec.layouts[target]
            loc = item.location
            if got.size != c.size:
                diffs.append(Difference(target, item.name, rec.name, "", "size", got.size,
                                        c.size, loc))
            if got.align != c.align:
                diffs.append(Difference(target, item.name, rec.name, "", "align", got.align,
                                        c.align, loc))
            members = _c_members(c.members)
            names = {f.name for f in item.fields}
            for f, off, size in zip(item.fields, got.offsets, got.sizes, strict=True):
                m = members.get(f.name)
                if m is None or m.bitfield:
                    continue
                floc = SourceLocation(loc.file, f.line, 1)
                if off * 8 != m.offset_bits:
                    diffs.append(Difference(target, item.name, rec.name, f.name, "offset",
                                            off, m.offset_bits // 8, floc))
                if size * 8 != m.size_bits:
                    diffs.append(Difference(target, item.name, rec.name, f.name,
                                            "field size", size, m.size_bits // 8, floc))
            for name, m in members.items():
                if name not in names and not m.bitfield:
                    diffs.append(Difference(target, item.name, rec.name, name, "missing",
                                            None, m.offset_bits // 8, loc))
    return Verdict(tuple(targets), tuple((i, r.name) for i, r in pairs), tuple(diffs),
                   tuple(notes), seen_layouts)


class _Unknown(Exception):
    pass
