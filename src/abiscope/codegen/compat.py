"""``abiscope gen compat``: a C99 header translating records between a native and a compat ABI.

For every record to translate (and the records it contains by value) the header defines
``struct compat_TAG``: a packed struct with explicit padding members, fixed-width integers
and ``aligned(N)``, which reproduces the compat target's layout byte for byte inside a
native build. ``_Static_assert`` locks pin sizes, alignments and offsets on both sides.
Per record two functions translate one way each::

    const char *compat_TAG_to_native(NATIVE *dst, const struct compat_TAG *src);
    const char *compat_TAG_from_native(struct compat_TAG *dst, const NATIVE *src);

Both zero ``*dst`` first (padding included) and return NULL on success, or a static string
naming the member path that does not fit (``struct foo.bufs[].size``). What cannot be
translated member by member (a union whose members do not share one translation, a record
declared differently on the two sides) becomes a *hook*: a function declared here, with the
same signature and a ``_hook`` suffix, that the user defines. See docs/codegen.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from math import prod

from ..model import CType, Member, Model, Record, RecordLayout, TargetInfo
from .common import CodegenError, c_string, guard_name, offset_paths, tag
from .predicates import predicate

_INT_KINDS = ("int", "enum", "bool")
_X86 = ("i386", "i686", "x86_64")


class _Unsupported(Exception):
    """Raised while planning a record: this part needs a hook."""


@dataclass(frozen=True)
class CompatHeader:
    """The generated header and what a caller should tell the user about it."""

    text: str
    records: tuple[str, ...]  # records with translation functions
    compat_types: tuple[str, ...]  # records with a compat_ definition
    hooks: tuple[str, ...]  # hook functions the user must define
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Obj:
    """How generated code reaches members of the object being translated on one side.

    ``prefix + name`` is a member's lvalue; ``addr`` the address of the nearest named record,
    from which the model's offsets count.
    """

    prefix: str
    addr: str

    def member(self, m: Member) -> str:
        return f"{self.prefix}{m.name}"


def _kind_of_unnamed(t: CType) -> str:
    return "union" if t.spelling.startswith("union") else "struct"


def _is_x86(info: TargetInfo) -> bool:
    return info.triple.startswith(_X86)


@dataclass
class _Generator:
    model: Model
    native: str
    compat: str
    prefix: str
    notes: list[str] = field(default_factory=list)
    _hooked: dict[str, bool] = field(default_factory=dict)
    _in_progress: set[str] = field(default_factory=set)
    _compat_types: list[str] = field(default_factory=list)
    _pad: int = 0

    # ---------------------------------------------------------------- model look-ups

    def layout(self, name: str, target: str) -> RecordLayout:
        rec = self.model.record(name)
        if rec is None or target not in rec.layouts:
            raise _Unsupported(f"{name} has no layout on {target}")
        return rec.layouts[target]

    def children(self, m: Member, target: str) -> tuple[str, tuple[Member, ...], int, str]:
        """(kind, members, base offset bits, named record or "") of a record-typed member."""
        if m.members:
            return _kind_of_unnamed(m.type), m.members, m.offset_bits, ""
        name = m.type.record or ""
        if not name:
            raise _Unsupported(f"{m.name}: record without members")
        lay = self.layout(name, target)
        return lay.kind, lay.members, 0, name

    def int_info(self, t: CType, target: str) -> tuple[bool, int]:
        """(signed, bits) of an integer, enum or bool type on a target."""
        assert t.size is not None
        if t.kind == "enum":
            enum = next((e for e in self.model.enums if e.name == t.record), None)
            lay = enum.layouts.get(target) if enum else None
            return (lay.signed if lay else False), t.size * 8
        return bool(t.signed), t.size * 8

    # ---------------------------------------------------------------- layout comparison

    def same_bytes(self, n: Member, c: Member) -> bool:
        """Whether a native and a compat member hold the same bytes for the same values."""
        if n.size_bits != c.size_bits or n.bitfield or c.bitfield:
            return False
        nt, ct = n.type, c.type
        if nt.kind == "array" or ct.kind == "array":
            if nt.dims != ct.dims or nt.element is None or ct.element is None:
                return False
            return self.same_bytes(self.element(n), self.element(c))
        if nt.kind == "record" and ct.kind == "record":
            try:
                nk, nm, nb, _ = self.children(n, self.native)
                ck, cm, cb, _ = self.children(c, self.compat)
            except _Unsupported:
                return False
            if [x.name for x in nm] != [x.name for x in cm] or nk != ck:
                return True  # declared differently: compared as a whole (same size)
            return all(
                x.offset_bits - nb == y.offset_bits - cb
                and (self.same_bytes(x, y) if not (x.bitfield or y.bitfield)
                     else x.bit_width == y.bit_width)
                for x, y in zip(nm, cm, strict=True))
        if nt.kind in _INT_KINDS and ct.kind in _INT_KINDS:
            return True
        return nt.kind == ct.kind and nt.kind in ("pointer", "float")

    def element(self, m: Member) -> Member:
        t = m.type
        assert t.element is not None
        count = prod(d or 0 for d in t.dims)
        bits = m.size_bits // count if count else 0
        return replace(m, type=t.element, size_bits=bits, members=())

    def record_same(self, name: str) -> bool:
        """Whether a whole record holds the same bytes on both sides."""
        rec = self.model.record(name)
        if rec is None or self.native not in rec.layouts or self.compat not in rec.layouts:
            return False
        probe = CType(name, "record", None, None, record=name)
        n = Member("", probe, 0, rec.layouts[self.native].size * 8, 1)
        c = Member("", probe, 0, rec.layouts[self.compat].size * 8, 1)
        return self.same_bytes(n, c)

    # ---------------------------------------------------------------- compat definitions

    def compat_type_name(self, name: str) -> str:
        kind = self.layout(name, self.compat).kind
        return f"{kind} {self.prefix}{tag(name)}"

    def need_compat_type(self, name: str) -> None:
        if name in self._compat_types or name in self._in_progress:
            return
        self._in_progress.add(name)
        lay = self.layout(name, self.compat)
        for m in lay.members:
            self._visit_types(m)
        self._in_progress.discard(name)
        self._compat_types.append(name)

    def _visit_types(self, m: Member) -> None:
        t = m.type.element if m.type.kind == "array" else m.type
        if m.members:
            for x in m.members:
                self._visit_types(x)
        elif (t is not None and t.kind == "record" and t.record
              and not self._native_type_serves(t.record)):
            self.need_compat_type(t.record)

    def _native_type_serves(self, name: str) -> bool:
        """A contained record whose bytes agree is embedded with its native type."""
        rec = self.model.record(name)
        return rec is not None and self.native in rec.layouts and self.record_same(name)

    def scalar_decl(self, t: CType) -> tuple[str, str]:
        """(type, array suffix) of a compat scalar: fixed width, pointers as integers."""
        size = t.size or 0
        if t.kind == "pointer":
            return f"uint{size * 8}_t", ""
        if t.kind in _INT_KINDS and size in (1, 2, 4, 8):
            signed, _ = self.int_info(t, self.compat)
            return ("int" if signed and t.kind != "bool" else "uint") + f"{size * 8}_t", ""
        if t.kind == "float" and size in (4, 8):
            return ("float" if size == 4 else "double"), ""
        return "uint8_t", f"[{size}]"

    def member_decl(self, m: Member) -> str:
        t = m.type
        dims = "".join(f"[{d or 0}]" for d in t.dims) if t.kind == "array" else ""
        base = t.element if t.kind == "array" and t.element is not None else t
        if base.kind == "record":
            if not base.record:
                raise CodegenError(f"{m.name}: arrays of unnamed records are not supported")
            if self._native_type_serves(base.record):
                return f"{base.record} {m.name}{dims};"
            return f"{self.compat_type_name(base.record)} {m.name}{dims};"
        ctype, suffix = self.scalar_decl(base)
        return f"{ctype} {m.name}{dims}{suffix};"

    def pad(self, nbytes: int) -> str:
        self._pad += 1
        return f"uint8_t _abiscope_pad{self._pad}[{nbytes}];"

    def body(self, kind: str, members: Sequence[Member], base_bits: int, size: int,
             indent: str) -> list[str]:
        """Member lines of a compat struct/union occupying ``size`` bytes from ``base_bits``."""
        lines: list[str] = []
        if kind == "union":
            for m in members:
                lines.extend(self.field(m, indent, base_bits))
            lines.append(indent + self.pad(size).replace("pad", "bytes", 1))
            return lines
        cursor = base_bits // 8
        run: list[Member] = []

        def flush() -> None:
            nonlocal cursor
            if not run:
                return
            first = min(x.offset_bits for x in run) // 8
            last = (max(x.offset_bits + x.size_bits for x in run) + 7) // 8
            if first > cursor:
                lines.append(indent + self.pad(first - cursor))
            names = ", ".join(x.name or "(unnamed)" for x in run)
            self._pad += 1
            lines.append(f"{indent}uint8_t _abiscope_bits{self._pad}[{last - first}];"
                         f"  /* bitfields: {names} */")
            cursor = last
            run.clear()

        for m in sorted(members, key=lambda x: x.offset_bits):
            if m.bitfield:
                if run and m.offset_bits // 8 >= (max(
                        x.offset_bits + x.size_bits for x in run) + 7) // 8:
                    flush()
                run.append(m)
                continue
            flush()
            start = m.offset_bits // 8
            if start > cursor:
                lines.append(indent + self.pad(start - cursor))
            lines.extend(self.field(m, indent, m.offset_bits))
            cursor = max(cursor, start + m.size_bits // 8)
        flush()
        end = base_bits // 8 + size
        if end > cursor:
            lines.append(indent + self.pad(end - cursor))
        return lines

    def field(self, m: Member, indent: str, base_bits: int) -> list[str]:
        if m.bitfield:  # only in unions: a byte array per bitfield
            self._pad += 1
            nbytes = (m.offset_bits - base_bits + m.size_bits + 7) // 8
            return [f"{indent}uint8_t _abiscope_bits{self._pad}[{nbytes}];  /* {m.name} */"]
        if m.members:  # anonymous or unnamed record: defined inline
            kind = _kind_of_unnamed(m.type)
            inner = self.body(kind, m.members, m.offset_bits, m.size_bits // 8, indent + "    ")
            return [f"{indent}{kind} {{", *inner,
                    f"{indent}}} __attribute__((packed, aligned({m.align})))"
                    f"{' ' + m.name if m.name else ''};"]
        return [indent + self.member_decl(m)]

    def definition(self, name: str) -> list[str]:
        lay = self.layout(name, self.compat)
        self._pad = 0
        lines = [f"/* {name} as {self.compat} lays it out: {lay.size} bytes, "
                 f"aligned {lay.align}. */",
                 f"{self.compat_type_name(name)} {{"]
        lines += self.body(lay.kind, lay.members, 0, lay.size, "    ")
        lines.append(f"}} __attribute__((packed, aligned({lay.align})));")
        return lines

    def locks(self, ctype: str, lay: RecordLayout, target: str) -> list[str]:
        msg = f"{ctype}: layout differs from {target}'s"
        out = [f"_Static_assert(sizeof({ctype}) == {lay.size}, {c_string(msg)});",
               f"_Static_assert(__alignof__({ctype}) == {lay.align}, {c_string(msg)});"]
        for path, m in offset_paths(lay):
            out.append(f"_Static_assert(offsetof({ctype}, {path}) == {m.offset_bits // 8}, "
                       f"{c_string(f'{ctype}.{path}: offset differs from {target}s')});"
                       .replace(f"{target}s", f"{target}'s"))
        return out

    # ---------------------------------------------------------------- hooks

    def hooked(self, name: str) -> bool:
        """Whether a record needs a user-written hook (planning its body fails)."""
        if name not in self._hooked:
            self._hooked[name] = False  # a record containing itself by value cannot exist
            try:
                self.record_code(name, "to_native")
                self.record_code(name, "from_native")
            except _Unsupported as exc:
                self._hooked[name] = True
                self.notes.append(f"{name}: needs a hook ({exc})")
        return self._hooked[name]

    def fn(self, name: str, direction: str, hook: bool = False) -> str:
        return f"{self.prefix}{tag(name)}_{direction}{'_hook' if hook else ''}"

    def signature(self, name: str, direction: str, hook: bool = False) -> str:
        compat = self.compat_type_name(name)
        if direction == "to_native":
            params = f"{name} *dst, const {compat} *src"
        else:
            params = f"{compat} *dst, const {name} *src"
        return f"const char *{self.fn(name, direction, hook)}({params})"

    # ---------------------------------------------------------------- translation code

    def record_code(self, name: str, direction: str) -> list[str]:
        """Statements translating a whole named record; ``dst``/``src`` are pointers."""
        nlay = self.layout(name, self.native)
        clay = self.layout(name, self.compat)
        if nlay.kind != clay.kind:
            raise _Unsupported(f"a {nlay.kind} on {self.native}, a {clay.kind} on {self.compat}")
        return self.members_code(nlay.kind, nlay.members, clay.members, _Obj("dst->", "dst"),
                                 _Obj("src->", "src"), name, direction, 0, 0, 0)

    def members_code(self, kind: str, nm: Sequence[Member], cm: Sequence[Member],
                     dst: _Obj, src: _Obj, path: str, direction: str, depth: int,
                     nbase: int, cbase: int) -> list[str]:
        if [m.name for m in nm] != [m.name for m in cm]:
            raise _Unsupported(f"{path}: members differ ({', '.join(m.name for m in nm)} on "
                               f"{self.native}; {', '.join(m.name for m in cm)} on "
                               f"{self.compat})")
        pairs = list(zip(nm, cm, strict=True))
        if kind == "union" and pairs:
            sigs = {self.sig(n, c, nbase, cbase) for n, c in pairs}
            if len(sigs) > 1:
                raise _Unsupported(f"{path}: union members translate differently")
            pairs = pairs[:1]  # one member translates the bytes of all
        out: list[str] = []
        for n, c in pairs:
            out += self.member_code(n, c, dst, src, path, direction, depth)
        return out

    def sig(self, n: Member, c: Member, nbase: int, cbase: int) -> object:
        """What translating a member does, independent of its name (for union members)."""
        where = (n.offset_bits - nbase, c.offset_bits - cbase)
        if self.same_bytes(n, c):
            return ("bytes", where, n.size_bits)
        if n.bitfield or c.bitfield:
            return ("bits", where, n.bit_width, c.bit_width, n.type.signed)
        if n.type.kind == "array" and c.type.kind == "array":
            return ("array", where, n.type.dims, self.sig(self.element(n), self.element(c), 0, 0))
        if n.type.kind == "record" and c.type.kind == "record":
            try:
                nk, nmem, nb, _ = self.children(n, self.native)
                _, cmem, cb, _ = self.children(c, self.compat)
            except _Unsupported:
                return ("opaque", n.type.record, c.type.record)
            inner = tuple(self.sig(x, y, nb, cb) for x, y in zip(nmem, cmem, strict=False))
            return ("record", where, nk, inner)
        if n.type.kind in _INT_KINDS and c.type.kind in _INT_KINDS:
            return ("int", where, self.int_info(n.type, self.native),
                    self.int_info(c.type, self.compat))
        return (n.type.kind, c.type.kind, where, n.size_bits, c.size_bits)

    def member_code(self, n: Member, c: Member, dst: _Obj, src: _Obj, path: str,
                    direction: str, depth: int) -> list[str]:
        name = n.name
        mpath = f"{path}.{name}" if name else path
        to_native = direction == "to_native"
        nobj, cobj = (dst, src) if to_native else (src, dst)
        if not name:  # anonymous struct/union: its members belong to the enclosing object
            if self.same_bytes(n, c):
                return [self.copy_at(nobj.addr, n.offset_bits, cobj.addr, c.offset_bits,
                                     n.size_bits // 8, to_native)]
            nk, nmem, nb, _ = self.children(n, self.native)
            _, cmem, cb, _ = self.children(c, self.compat)
            return self.members_code(nk, nmem, cmem, dst, src, path, direction, depth, nb, cb)
        return self.value_code(n, c, nobj.member(n), cobj.member(c), nobj, cobj, mpath,
                               direction, depth)

    def copy_at(self, naddr: str, noff: int, caddr: str, coff: int, size: int,
                to_native: bool) -> str:
        nexpr = f"(unsigned char *)(void *){naddr} + {noff // 8}"
        cexpr = f"(unsigned char *)(void *){caddr} + {coff // 8}"
        if to_native:
            return f"memcpy({nexpr}, (const {cexpr[1:]}, {size});"
        return f"memcpy({cexpr}, (const {nexpr[1:]}, {size});"

    def value_code(self, n: Member, c: Member, nlv: str, clv: str, nobj: _Obj, cobj: _Obj,
                   path: str, direction: str, depth: int) -> list[str]:
        """Statements translating one value (member or array element) in ``direction``."""
        to_native = direction == "to_native"
        dlv, slv = (nlv, clv) if to_native else (clv, nlv)
        nt, ct = n.type, c.type
        if n.bitfield or c.bitfield:
            return self.bitfield_code(n, c, nlv, cobj, path, to_native)
        if nt.kind == "array" or ct.kind == "array":
            return self.array_code(n, c, nlv, clv, path, direction, depth)
        if nt.kind == "record" and ct.kind == "record":
            if self.same_bytes(n, c):
                return [f"memcpy((void *)&{dlv}, (const void *)&{slv}, {n.size_bits // 8});"]
            return self.record_value_code(n, c, nlv, clv, nobj, cobj, path, direction, depth)
        if nt.kind in _INT_KINDS and ct.kind in _INT_KINDS:
            return self.int_code(self.int_info(nt, self.native), self.int_info(ct, self.compat),
                                 nlv, clv, path, to_native)
        if nt.kind == "pointer" and ct.kind == "pointer":
            return self.pointer_code(n.size_bits, c.size_bits, nlv, clv, path, nt, to_native)
        if nt.kind == ct.kind and n.size_bits == c.size_bits:
            if nt.kind == "float" and n.size_bits in (32, 64):
                return [f"{dlv} = {slv};"]
            return [f"memcpy((void *)&{dlv}, (const void *)&{slv}, {n.size_bits // 8});"]
        if (nt.kind == ct.kind == "float" and "long double" in (nt.canonical, nt.spelling)
                and _is_x86(self.model.targets[self.native])
                and _is_x86(self.model.targets[self.compat])):
            return [f"/* {path}: x87 extended precision, 10 significant bytes */",
                    f"memcpy((void *)&{dlv}, (const void *)&{slv}, 10);"]
        raise _Unsupported(f"{path}: {nt.spelling} is {n.size_bits // 8} bytes on "
                           f"{self.native}, {ct.spelling} {c.size_bits // 8} on {self.compat}")

    def record_value_code(self, n: Member, c: Member, nlv: str, clv: str, nobj: _Obj,
                          cobj: _Obj, path: str, direction: str, depth: int) -> list[str]:
        to_native = direction == "to_native"
        nk, nmem, nb, nname = self.children(n, self.native)
        ck, cmem, cb, cname = self.children(c, self.compat)
        if nname and nname == cname:  # a named record: its own hook, or inline
            if self.hooked(nname):
                dlv, slv = (nlv, clv) if to_native else (clv, nlv)
                compat = self.compat_type_name(nname)
                dty = f"{nname} *" if to_native else f"{compat} *"
                sty = f"const {compat} *" if to_native else f"const {nname} *"
                return [f"{{ const char *e = {self.fn(nname, direction, True)}("
                        f"({dty})(void *)&{dlv}, ({sty})(const void *)&{slv});",
                        "  if (e) return e; }"]
            nsub = _Obj(f"{nlv}.", f"&{nlv}")
            csub = _Obj(f"{clv}.", f"&{clv}")
        elif not nname and not cname:  # unnamed record type: offsets stay the outer ones
            nsub = _Obj(f"{nlv}.", nobj.addr)
            csub = _Obj(f"{clv}.", cobj.addr)
        else:
            raise _Unsupported(f"{path}: {n.type.spelling} on {self.native}, "
                               f"{c.type.spelling} on {self.compat}")
        if nk != ck:
            raise _Unsupported(f"{path}: a {nk} on {self.native}, a {ck} on {self.compat}")
        dst, src = (nsub, csub) if to_native else (csub, nsub)
        return self.members_code(nk, nmem, cmem, dst, src, path, direction, depth, nb, cb)

    def array_code(self, n: Member, c: Member, nlv: str, clv: str, path: str,
                   direction: str, depth: int) -> list[str]:
        nt, ct = n.type, c.type
        to_native = direction == "to_native"
        dlv, slv = (nlv, clv) if to_native else (clv, nlv)
        if nt.kind != ct.kind or nt.dims != ct.dims:
            raise _Unsupported(f"{path}: array dimensions differ ({nt.spelling} on "
                               f"{self.native}, {ct.spelling} on {self.compat})")
        if any(not d for d in nt.dims):
            return [f"/* {path}: flexible or zero-length array: translate its elements "
                    "yourself (the count is not in the type) */"]
        if self.same_bytes(n, c):
            return [f"memcpy((void *)&{dlv}, (const void *)&{slv}, {n.size_bits // 8});"]
        idx = [f"i{depth}_{k}" for k in range(len(nt.dims))]
        sub = "".join(f"[{i}]" for i in idx)
        inner = self.value_code(self.element(n), self.element(c), nlv + sub, clv + sub,
                                _Obj("", ""), _Obj("", ""), path + "[]" * len(idx),
                                direction, depth + 1)
        out: list[str] = []
        for k, (i, d) in enumerate(zip(idx, nt.dims, strict=True)):
            out.append("    " * k + f"for (size_t {i} = 0; {i} < {d}; {i}++)"
                       + (" {" if k == len(idx) - 1 else ""))
        pad = "    " * len(idx)
        out += [pad + line for line in inner]
        out.append("    " * (len(idx) - 1) + "}")
        return out

    def int_code(self, ninfo: tuple[bool, int], cinfo: tuple[bool, int], nlv: str, clv: str,
                 path: str, to_native: bool) -> list[str]:
        (ssigned, sbits), (dsigned, dbits) = (cinfo, ninfo) if to_native else (ninfo, cinfo)
        dlv, slv = (nlv, clv) if to_native else (clv, nlv)
        checks = _range_checks(ssigned, sbits, dsigned, dbits)
        if not checks:
            return [f"{dlv} = {slv};"]
        tmp = "int64_t" if ssigned else "uint64_t"
        return [f"{{ {tmp} v = ({tmp}){slv};",
                f"  if ({' || '.join(checks)}) return {c_string(path)};",
                f"  {dlv} = v; }}"]

    def pointer_code(self, nbits: int, cbits: int, nlv: str, clv: str, path: str,
                     nt: CType, to_native: bool) -> list[str]:
        note = (f"/* {path} points to {nt.pointee.record}, which needs translation too */"
                if nt.pointee is not None and nt.pointee.record
                and self.model.record(nt.pointee.record) is not None
                and not self.record_same(nt.pointee.record) else None)
        out = [note] if note else []
        if to_native:
            check = (f"  if (v > (uint{cbits}_t)UINTPTR_MAX) return {c_string(path)};"
                     if nbits < cbits else None)
            out += [f"{{ uint{cbits}_t v = {clv};", *([check] if check else []),
                    f"  {nlv} = (__typeof__({nlv}))(uintptr_t)v; }}"]
        else:
            check = (f"  if (v > (uintptr_t)UINT{cbits}_MAX) return {c_string(path)};"
                     if nbits > cbits else None)
            out += [f"{{ uintptr_t v = (uintptr_t){nlv};", *([check] if check else []),
                    f"  {clv} = (uint{cbits}_t)v; }}"]
        return out

    def bitfield_code(self, n: Member, c: Member, nlv: str, cobj: _Obj, path: str,
                      to_native: bool) -> list[str]:
        if not (n.bitfield and c.bitfield) or n.bit_width is None or c.bit_width is None:
            raise _Unsupported(f"{path}: a bitfield on one side only")
        if not cobj.addr:
            raise _Unsupported(f"{path}: bitfield inside an array element of an unnamed record")
        signed = bool(n.type.signed)
        if n.type.kind == "enum":
            signed = self.int_info(n.type, self.native)[0]
        big = int(self.model.targets[self.compat].endian == "big")
        base = f"(unsigned char *)(void *){cobj.addr}"
        if to_native:
            get = f"abiscope_bits_get((const {base[1:]}, {c.offset_bits}, {c.bit_width}, {big})"
            if signed:
                get = f"abiscope_sext({get}, {c.bit_width})"
            if n.bit_width < c.bit_width:
                tmp = "int64_t" if signed else "uint64_t"
                checks = _range_checks(signed, c.bit_width, signed, n.bit_width)
                return [f"{{ {tmp} v = ({tmp}){get};",
                        f"  if ({' || '.join(checks)}) return {c_string(path)};",
                        f"  {nlv} = v; }}"]
            return [f"{nlv} = {get};"]
        value = f"(uint64_t)(int64_t){nlv}" if signed else f"(uint64_t){nlv}"
        out = []
        if c.bit_width < n.bit_width:
            tmp = "int64_t" if signed else "uint64_t"
            checks = _range_checks(signed, n.bit_width, signed, c.bit_width)
            out = [f"{{ {tmp} v = ({tmp}){nlv};",
                   f"  if ({' || '.join(checks)}) return {c_string(path)}; }}"]
        return [*out, f"abiscope_bits_set({base}, {c.offset_bits}, {c.bit_width}, {big}, "
                      f"{value});"]

    # ---------------------------------------------------------------- functions

    def functions(self, name: str) -> list[str]:
        out: list[str] = []
        for direction in ("to_native", "from_native"):
            out.append(f"static inline {self.signature(name, direction)}")
            out.append("{")
            out.append("    memset(dst, 0, sizeof *dst);")
            if self.hooked(name):
                out.append(f"    return {self.fn(name, direction, True)}(dst, src);")
            else:
                out.append("    (void)src;")
                out += ["    " + line for line in self.record_code(name, direction)]
                out.append("    return NULL;")
            out.append("}")
            out.append("")
        return out


def _range_checks(ssigned: bool, sbits: int, dsigned: bool, dbits: int) -> list[str]:
    """C conditions (on ``v``, of the source's signedness, 64-bit) that a value misses the
    destination's range; empty when every source value fits (or only the sign bit's meaning
    changes at equal width: those bits are copied as they are)."""
    if dbits == sbits and ssigned != dsigned:
        return []
    checks: list[str] = []
    tmp = "int64_t" if ssigned else "uint64_t"
    if dsigned:
        lo, hi = -(1 << (dbits - 1)), (1 << (dbits - 1)) - 1
    else:
        lo, hi = 0, (1 << dbits) - 1
    smin = -(1 << (sbits - 1)) if ssigned else 0
    smax = (1 << (sbits - 1)) - 1 if ssigned else (1 << sbits) - 1
    if smin < lo:
        checks.append("v < 0" if lo == 0 else f"v < ({tmp})(-{-lo - 1} - 1)")
    if smax > hi:
        checks.append(f"v > ({tmp}){hi}u" if not ssigned else f"v > ({tmp}){hi}")
    return checks


# A packed compat record may hold a member whose compat type is more aligned than the record
# (GCC's -Wpacked-not-aligned); the layout locks below pin every offset regardless.
_QUIET_PACKED = ["#if defined(__GNUC__) && !defined(__clang__)", "#pragma GCC diagnostic push",
                 '#pragma GCC diagnostic ignored "-Wpacked-not-aligned"', "#endif", ""]

_PRELUDE = """\
#include <stddef.h>
#include <stdint.h>
#include <string.h>
"""

_BITS = """\
/* Bitfields of a compat layout: read and write bits at a bit offset of its bytes. */
#ifndef ABISCOPE_BITS_HELPERS
#define ABISCOPE_BITS_HELPERS
static inline uint64_t abiscope_bits_get(const unsigned char *p, unsigned off, unsigned width,
                                         int big_endian)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        unsigned pos = big_endian ? off + width - 1 - i : off + i;
        unsigned bit = big_endian ? 7 - pos % 8 : pos % 8;
        v |= (uint64_t)((p[pos / 8] >> bit) & 1u) << i;
    }
    return v;
}

static inline void abiscope_bits_set(unsigned char *p, unsigned off, unsigned width,
                                     int big_endian, uint64_t v)
{
    for (unsigned i = 0; i < width; i++) {
        unsigned pos = big_endian ? off + width - 1 - i : off + i;
        unsigned bit = big_endian ? 7 - pos % 8 : pos % 8;
        p[pos / 8] = (unsigned char)((p[pos / 8] & ~(1u << bit))
                                     | (unsigned)(((v >> i) & 1u) << bit));
    }
}

static inline int64_t abiscope_sext(uint64_t v, unsigned width)
{
    uint64_t sign = (uint64_t)1 << (width - 1);
    return (int64_t)((v ^ sign) - sign);
}
#endif
"""


def generate_compat(model: Model, native: str, compat: str, translate: Iterable[str],
                    includes: Sequence[str], prefix: str = "compat_",
                    guard: str | None = None) -> CompatHeader:
    """The compat header translating ``translate`` (record names) between two targets.

    ``includes`` are the ``#include`` lines that bring in the native definitions; ``guard``
    names the include guard (the output file's name: ``compat.h`` -> ``COMPAT_H``; default
    ``ABISCOPE_COMPAT_<native>_<compat>_H``).
    """
    for t in (native, compat):
        if t not in model.targets:
            raise CodegenError(f"target {t} is not in the model (parsed: "
                               f"{', '.join(model.targets)})")
    if native == compat:
        raise CodegenError(f"--native and --compat are both {native}: nothing to translate")
    if model.targets[native].endian != model.targets[compat].endian:
        raise CodegenError(f"{native} is {model.targets[native].endian}-endian and {compat} "
                           f"{model.targets[compat].endian}-endian: byte-swapping translation "
                           "is not generated (abiscope convert handles it)")
    cond = predicate(native)
    if cond is None:
        raise CodegenError(f"no compiler predefined macros known for {native}: "
                           "the native target must be one of abiscope's target names")
    gen = _Generator(model, native, compat, prefix)
    try:
        return _generate(gen, model, native, compat, translate, includes, cond, guard)
    except _Unsupported as exc:
        raise CodegenError(f"cannot generate compat code: {exc}") from exc


def _generate(gen: _Generator, model: Model, native: str, compat: str,
              translate: Iterable[str], includes: Sequence[str], cond: str,
              guard: str | None = None) -> CompatHeader:
    wanted: list[Record] = []
    for name in sorted(set(translate)):
        rec = model.record(name)
        if rec is None:
            raise CodegenError(f"{name}: no such record in the headers")
        missing = [t for t in (native, compat) if t not in rec.layouts]
        if missing:
            gen.notes.append(f"{name}: skipped, not defined on {', '.join(missing)}")
            continue
        wanted.append(rec)
    for rec in wanted:
        gen.need_compat_type(rec.name)
        gen.hooked(rec.name)
    # Hooks of contained records are found while planning the wanted ones.
    hooks = sorted(n for n, h in gen._hooked.items() if h)
    for n in hooks:
        gen.need_compat_type(n)

    guard = guard_name(guard or f"ABISCOPE_COMPAT_{native}_{compat}_H")
    if guard[0].isdigit():
        guard = "ABISCOPE_" + guard
    out = [f"/* Generated by abiscope gen compat --native {native} --compat {compat}: "
           "do not edit.",
           f" * Translates records between {native} (native: this build) and {compat} "
           "(compat).",
           " * Translation functions return NULL on success, or the path of the member",
           " * whose value does not fit; see abiscope's docs/codegen.md. */",
           f"#ifndef {guard}", f"#define {guard}", "", _PRELUDE, *includes, "",
           f"#if !({cond})",
           f'#error "generated for a {native} build (abiscope gen compat --native {native})"',
           "#endif", "", _BITS]
    out += _QUIET_PACKED
    for name in gen._compat_types:
        out += gen.definition(name)
        out.append("")
    out += ["#if defined(__GNUC__) && !defined(__clang__)", "#pragma GCC diagnostic pop",
            "#endif", ""]
    out.append(f"/* Layout locks: {compat} (compat) inside this build, and {native} (native). */")
    for name in gen._compat_types:
        out += gen.locks(gen.compat_type_name(name), gen.layout(name, compat), compat)
    for rec in wanted:
        out += gen.locks(rec.name, rec.layouts[native], native)
    out.append("")
    if hooks:
        out.append("/* Hooks: records abiscope cannot translate member by member. Define")
        out.append(" * these in one .c file; same contract as the generated functions. */")
        for n in hooks:
            for direction in ("to_native", "from_native"):
                out.append(f"{gen.signature(n, direction, hook=True)};")
        out.append("")
    for rec in wanted:
        out.append(f"/* {rec.name}: {rec.layouts[native].size} bytes on {native}, "
                   f"{rec.layouts[compat].size} on {compat}. */")
        out += gen.functions(rec.name)
    out.append(f"#endif /* {guard} */")
    hook_fns = tuple(gen.fn(n, d, True) for n in hooks for d in ("to_native", "from_native"))
    return CompatHeader("\n".join(out) + "\n", tuple(r.name for r in wanted),
                        tuple(gen._compat_types), hook_fns, tuple(gen.notes))


def needs_translation(model: Model, native: str, compat: str) -> tuple[str, ...]:
    """Records on both targets whose verdict is ``translate`` (``abiscope.compat``): their
    bytes differ, or they contain or point to a record whose bytes do."""
    from ..compat import compare

    both = [r for r in model.records if native in r.layouts and compat in r.layouts]
    return tuple(sorted(compare(model, native, compat, both).translate()))
