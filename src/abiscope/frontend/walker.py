"""The walk of a translation unit: every record and enum clang laid out, turned into the plain
data of :mod:`abiscope.model` (:class:`TargetResult`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ParseFailure, SourceLocation
from ..layout_engine import scalar_alignof
from ..model import (
    CType,
    EnumConstant,
    EnumLayout,
    Member,
    RecordLayout,
    gaps,
)
from ..targets import MODELS
from .bindings import (
    UNNAMED_MARKERS,
    FastCalls,
    Locations,
    in_files,
    known_size,
    load_cindex,
    type_kinds,
)
from .declarations import scalar_name
from .facts import (
    canonical_spelling,
    children_of,
    definitions,
    enum_constants,
    fields,
    type_key,
    type_spelling,
)
from .tokens import align_attr, gcc_ignores, naming_typedef


class TargetWalker:
    """Walks one translation unit of one target into model pieces."""

    def __init__(self, target: str, relpath: Callable[[str], str]) -> None:
        self.ci = load_cindex()
        self.target = target
        self.types: dict[tuple[str, str], CType] = {}
        self.records: dict[str, tuple[str, SourceLocation, RecordLayout]] = {}
        self.enums: dict[str, tuple[SourceLocation, EnumLayout]] = {}
        self.pending: list[Any] = []
        # how many of ``added`` are complete, with what they reach: a walk that stops
        # (NeedsMacros) keeps those, and its second walk skips them by name
        self.complete = 0
        self.seen_decls: set[str] = set()
        # records with an anonymous member whose attributes GCC ignores (gcc_ignores)
        self.ignored_attrs: set[str] = set()
        self._ignoring = False
        # the layouts of the unnamed records that arrays in a record are of (by record
        # name; element_layout), which the model does not keep
        self.hidden_layouts: dict[str, tuple[RecordLayout, ...]] = {}
        self.hidden: list[RecordLayout] = []  # (of the record being walked)
        self.macros: Mapping[str, list[str]] | None = None  # read when an attribute needs it
        self.type_ids: dict[tuple[int, int | None, int | None], CType] = {}  # of the unit
        self.unit: Any = None  # the translation unit walked (walk_unit)
        self._tags: dict[str, Any] | None = None  # its file-scope tags, made when asked
        tk = self.ci.TypeKind
        self._enum_kind_id = tk.ENUM.value
        self._unsigned_kind_ids = frozenset(  # (as Cursor.enum_value decides)
            getattr(tk, n).value for n in ("CHAR_U", "UCHAR", "CHAR16", "CHAR32", "USHORT",
                                           "UINT", "ULONG", "ULONGLONG", "UINT128"))
        self.cursors: dict[str, Any] = {}  # record name -> its definition, of the unit walked
        self.fast = FastCalls()
        self.location = Locations(self.fast, relpath)  # (of the unit walked)
        # what units before this one walked (units.Given): their record of a name wins
        self.given_records: frozenset[str] = frozenset()
        self.given_enums: frozenset[str] = frozenset()
        self.given_weak: frozenset[str] = frozenset()  # (met outside their inputs there)
        self.given_weak_enums: frozenset[str] = frozenset()
        # The files (as locations name them) of the headers walked: a record met first
        # where one of them reaches another file that declares it (an i386 unit reaches
        # ``linux/in.h`` of the i386 tree through ``linux/ip.h``) is ``weak``, and the
        # input's own declaration replaces it when the walk meets it, so that a record
        # is the one its input header declares, whatever headers came before it.
        self.inputs: frozenset[str] = frozenset()
        self.weak: set[str] = set()
        self.weak_enums: set[str] = set()  # (the same for enums)
        self.added: list[str] = []  # every record added, in order (replaced ones again)

    # -- locations -------------------------------------------------------------------------

    # -- types -----------------------------------------------------------------------------

    def record_name(self, decl: Any, spelling: str | None = None) -> str:
        """``struct TAG``, the typedef name of an untagged record, or "" if unnamed;
        ``spelling``: its canonical type's, when read already (:func:`definitions`)."""
        if spelling is None:
            spelling = canonical_spelling(decl, self.fast)
        if any(m in spelling for m in UNNAMED_MARKERS):
            return ""
        return spelling

    def desugar(self, t: Any) -> tuple[Any, list[str]]:
        """Strip elaboration, typedefs and attributes; return the core type and the chain."""
        tk = self.ci.TypeKind
        chain: list[str] = []
        while True:
            if t.kind == tk.ELABORATED:
                t = t.get_named_type()
            elif t.kind == tk.TYPEDEF:
                chain.append(t.get_typedef_name())
                t = t.get_declaration().underlying_typedef_type
            elif t.kind == tk.ATTRIBUTED and hasattr(t, "get_modified_type"):
                t = t.get_modified_type()
            else:
                return t, chain

    def user_align(self, t: Any, canon: Any, kind: str, typedefs: bool) -> int | None:
        """``aligned(N)`` on the typedefs ``t`` is spelled through or on the declaration of
        the struct/union it is (:attr:`CType.user_align`)."""
        found = self.chain_align(t) if typedefs else None
        if kind == "record":
            own = self.align_attr(canon.get_declaration())
            if own is not None:
                found = max(found or 0, own)
        return found

    def chain_align(self, t: Any) -> int | None:
        """The largest ``aligned(N)`` on the typedefs that ``t`` is spelled through."""
        tk = self.ci.TypeKind
        found: int | None = None
        while True:
            if t.kind == tk.ELABORATED:
                t = t.get_named_type()
            elif t.kind == tk.TYPEDEF:
                decl = t.get_declaration()
                value = self.align_attr(decl)
                if value is not None:
                    found = max(found or 0, value)
                t = decl.underlying_typedef_type
            elif t.kind == tk.ATTRIBUTED and hasattr(t, "get_modified_type"):
                t = t.get_modified_type()
            else:
                return found

    MAX_TYPE_DEPTH = 100  # pointer/array chains deeper than this are described as "other"

    def _nested(self, t: Any) -> CType:
        """The pointee or element type, one level deeper; past MAX_TYPE_DEPTH levels (a
        hostile 10,000-deep pointer chain) only its spelling and size are kept, so the walk
        never recurses inside libclang's callbacks until Python's stack gives out."""
        depth = getattr(self, "_depth", 0)
        if depth >= self.MAX_TYPE_DEPTH:
            return CType(spelling=t.spelling, kind="other", size=known_size(t.get_size()),
                         align=known_size(t.get_align()), canonical=t.get_canonical().spelling)
        self._depth = depth + 1
        try:
            return self.ctype(t)
        finally:
            self._depth = depth

    def ctype(self, t: Any) -> CType:
        # libclang's handle of the (sugared) type first: the same handle is the same type,
        # spelled the same, without asking for two spellings per member
        ident = type_key(t)
        cached = self.type_ids.get(ident)
        if cached is not None:
            return cached
        spelling = type_spelling(t, self.fast)
        lib = self.ci.conf.lib  # (its calls straight, without the bindings' method frames)
        canon = lib.clang_getCanonicalType(t)
        canon._tu = t._tu
        key = (spelling, type_spelling(canon, self.fast))
        cached = self.types.get(key)
        if cached is not None:
            self.type_ids[ident] = cached
            return cached
        kind, signed = type_kinds().get(canon.kind, ("other", None))
        core, chain = self.desugar(t)
        dims: list[int | None] = []
        element = pointee = None
        record = None
        tk = self.ci.TypeKind
        if kind == "array":
            inner = core
            while inner.kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY, tk.VARIABLEARRAY):
                dims.append(inner.get_array_size() if inner.kind == tk.CONSTANTARRAY else None)
                inner, _ = self.desugar(inner.get_array_element_type())
            element = self._nested(_element_sugared(core, len(dims), tk))
        elif kind == "pointer":
            pointee = self._nested(core.get_pointee())
            self.note_decl(core.get_pointee().get_canonical().get_declaration())
        elif kind in ("record", "enum"):
            decl = canon.get_declaration()
            record = self.record_name(decl)
            self.note_decl(decl)
        result = CType(
            spelling=spelling, kind=kind, size=known_size(lib.clang_Type_getSizeOf(t)),
            align=known_size(lib.clang_Type_getAlignOf(t)),
            canonical=key[1], signed=signed, typedefs=tuple(chain), dims=tuple(dims),
            element=element, pointee=pointee, record=record,
            user_align=self.user_align(t, canon, kind, bool(chain)),
        )
        self.types[key] = result
        self.type_ids[ident] = result
        return result

    def align_attr(self, cursor: Any) -> int | None:
        """The declaration's ``aligned(...)``; raises :class:`NeedsMacros` when it is written
        in a macro of another file and the unit has no macro record (the walk stops there:
        :meth:`_GroupParser.collect` walks a unit with the record instead)."""
        return align_attr(cursor, macros=self.macros, alignof=self.alignof)

    def alignof(self, words: tuple[str, ...], gnu: bool) -> int | None:
        """``_Alignof`` (``__alignof__`` with ``gnu``) of a base type written as words, under
        the data model of the target (checked against its gcc): clang's ``max_align_t``
        aligns its members with ``aligned(__alignof__(long long))``, 8 on i386. A struct,
        union or enum tag defined at file scope is the alignment clang gives it
        (``aligned(__alignof__(struct ebt_replace))``, Linux's ebtables)."""
        if len(words) == 2 and words[0] in ("struct", "union", "enum"):
            tag = self.file_scope_tags().get(" ".join(words))
            # (a record's own alignment: GNU __alignof__ lowers i386's fields, not records)
            return None if tag is None else known_size(tag.type.get_align())
        model, scalar = MODELS.get(self.target), scalar_name(list(words))
        return None if model is None or scalar is None else \
            scalar_alignof(model, scalar, gnu)

    def file_scope_tags(self) -> dict[str, Any]:
        """The unit's struct, union and enum definitions at file scope, by name (read once
        per unit, when an alignment names a tag: the same for any walk of the unit)."""
        if self._tags is None:
            ck = self.ci.CursorKind
            self._tags = {}
            for cursor, spelling in definitions(self.unit.cursor, (
                    ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL), self.fast):
                self._tags.setdefault(self.record_name(cursor, spelling), cursor)
        return self._tags

    # -- records and enums -----------------------------------------------------------------

    def note_decl(self, decl: Any) -> None:
        """Queue a record/enum reached from an input so that its layout is collected too."""
        ck = self.ci.CursorKind
        if decl.kind in (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL):
            self.pending.append(decl)

    def members(self, record_type: Any, base_bits: int) -> tuple[Member, ...]:
        out: list[Member] = []
        for f in fields(record_type, self.fast):
            # a named field's spelling is its identifier; an anonymous struct/union member
            # is spelled after its type ('struct s::(anonymous at f.h:1:12)') or not at all
            spelling = f.name
            anonymous = (not spelling.isidentifier()) and f.anonymous_record
            if not anonymous and not spelling:
                continue  # unnamed bitfield (`int :3;`, `int :0;`): padding, not a member
            ct = self.type_ids.get(f.type_key) or self.ctype(f.type)
            offset = base_bits + f.offset_bits
            width: int | None = f.bit_width  # (-1: not a bitfield)
            bitfield = f.bit_width >= 0
            if not bitfield:
                width = None
            size_bits = width if width is not None else (ct.size or 0) * 8
            nested: tuple[Member, ...] = ()
            element: tuple[Member, ...] = ()
            if ct.kind == "record" and not ct.record:
                nested = self.members(f.type.get_canonical(), offset)
            elif ct.kind == "array" and ct.innermost.kind == "record" \
                    and not ct.innermost.record:
                hidden = self.element_layout(f.type, ct.innermost)
                self.hidden.append(hidden)
                element = tuple(shifted(m, offset) for m in hidden.members)
            ignored = anonymous and gcc_ignores(f.cursor)
            self._ignoring |= ignored
            out.append(Member(
                name="" if anonymous else spelling, type=ct, offset_bits=offset,
                size_bits=size_bits, align=ct.align or 1, bitfield=bitfield, bit_width=width,
                location=self.location.at(f.file, f.line, f.column), members=nested,
                align_attr=self.align_attr(f.cursor) if f.has_attrs and not ignored
                else None,
                element_members=element,
            ))
        return tuple(out)

    def element_layout(self, array_type: Any, element: CType) -> RecordLayout:
        """The layout of the unnamed record that an array's elements are (``struct { ... }
        f[2];``): the model keeps no members for it, but what clang may lay out otherwise
        than GCC in it (an aligned bitfield, ...) makes the record that holds the array a
        suspect all the same (:attr:`hidden_layouts`)."""
        tk = self.ci.TypeKind
        inner = array_type.get_canonical()
        while inner.kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY, tk.VARIABLEARRAY):
            inner = inner.get_array_element_type().get_canonical()
        return RecordLayout(size=element.size or 0, align=element.align or 1,
                            members=self.members(inner, 0), holes=(), tail_padding_bits=0)

    def add_record(self, cursor: Any, children: Sequence[Any], name: str) -> None:
        """``children``: the cursor's struct/union/enum and packed-attribute children;
        ``name``: its :meth:`record_name`."""
        if not name or name in self.records:
            return
        t = cursor.type
        size = known_size(t.get_size())
        align = known_size(t.get_align())
        if size is None or align is None:
            return
        named_by = naming_typedef(cursor, name)
        user_align = self.align_attr(cursor)
        if named_by is not None and named_by.has_attrs():
            align = self.typedef_align(named_by) or align
            by_typedef = self.align_attr(named_by)
            if by_typedef is not None:
                user_align = max(user_align or 0, by_typedef)
        self._ignoring = False
        self.hidden = []
        members = self.members(t, 0)
        if self._ignoring:
            self.ignored_attrs.add(name)
        if self.hidden:
            self.hidden_layouts[name] = tuple(self.hidden)
        holes, tail = gaps(members, size) if cursor.kind == self.ci.CursorKind.STRUCT_DECL \
            else ((), size * 8 - max((m.offset_bits + m.size_bits for m in members), default=0))
        packed = any(c.kind == self.ci.CursorKind.PACKED_ATTR for c in children)
        kind = "struct" if cursor.kind == self.ci.CursorKind.STRUCT_DECL else "union"
        self.cursors[name] = cursor
        loc = self.location(cursor)
        self.records[name] = (kind, loc, RecordLayout(
            size, align, members, holes, max(tail, 0), packed, kind, user_align))
        self.added.append(name)
        if loc.file not in self.inputs:
            self.weak.add(name)

    def add_enum(self, cursor: Any, spelling: str | None = None) -> None:
        name = self.record_name(cursor, spelling)
        loc = None
        if not name:
            loc = self.location(cursor)
            name = f"enum (anonymous at {loc.file}:{loc.line})"
        known = name in self.enums  # (replaced only by an input's own: as records, weak)
        if known or name in self.given_enums:
            if name not in (self.weak_enums if known else self.given_weak_enums):
                return
            loc = loc or self.location(cursor)
            if loc.file not in self.inputs:
                return
        loc = loc or self.location(cursor)
        t = cursor.type
        underlying = cursor.enum_type
        signed = type_kinds().get(underlying.get_canonical().kind, ("int", True))[1]
        constants = tuple(EnumConstant(name, self.enum_value(kind_id, underlying, value,
                                                             unsigned_value))
                          for name, kind_id, value, unsigned_value
                          in enum_constants(cursor, self.fast))
        size, align = known_size(t.get_size()), known_size(t.get_align())
        if size is None or align is None:
            return
        self.enums[name] = (loc, EnumLayout(size, align, underlying.spelling, bool(signed),
                                            constants))
        if loc.file in self.inputs:
            self.weak_enums.discard(name)
        else:
            self.weak_enums.add(name)

    def typedef_align(self, typedef: Any) -> int | None:
        """``_Alignof`` of a typedef with attributes (an ``aligned`` on a typedef may raise
        or lower it). A bare ``aligned`` is GCC's biggest alignment of the target: clang's
        differs on mips (16 bytes, GCC 8)."""
        if self.align_attr(typedef) == 0 and self.target in MODELS:
            return MODELS[self.target].mode_align_cap
        return known_size(typedef.type.get_align())

    def enum_value(self, kind_id: int, underlying: Any, value: int,
                   unsigned_value: int) -> int:
        """``Cursor.enum_value`` of a constant whose type has ``kind_id``: a constant's
        type is its enum's (``underlying``, the enum's integer type) or its own integer
        type; unsigned types read the unsigned value."""
        if kind_id == self._enum_kind_id:
            kind_id = underlying._kind_id
        return unsigned_value if kind_id in self._unsigned_kind_ids else value

    def visit(self, cursor: Any, spelling: str | None = None) -> None:
        """Collect a definition and the tagged records defined inside it; ``spelling``:
        its canonical type's, read by :func:`definitions` (which also left out what is
        not a definition), else None."""
        ck = self.ci.CursorKind
        if cursor.kind in (ck.STRUCT_DECL, ck.UNION_DECL):
            if spelling is None and not cursor.is_definition():
                return
            name = self.record_name(cursor, spelling)
            if name and ((name in self.given_records and not self.own(name, cursor))
                         or (name in self.records and not self.replaces(name, cursor))):
                return  # walked already, with the records defined inside it
            children = definitions(cursor, (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL,
                                            ck.PACKED_ATTR), self.fast)
            self.add_record(cursor, [child for child, _ in children], name)
            for child, child_spelling in children:
                if child.kind in (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL):
                    self.visit(child, child_spelling)
        elif cursor.kind == ck.ENUM_DECL and (spelling is not None or cursor.is_definition()):
            self.add_enum(cursor, spelling)

    def replaces(self, name: str, cursor: Any) -> bool:
        """Whether ``cursor``, the definition of a record walked already as ``name``, is
        an input's own declaration of a record first met outside the inputs (``weak``):
        then the record met first is dropped, for this one to be walked instead."""
        if name not in self.weak or self.location(cursor).file not in self.inputs:
            return False
        del self.records[name]
        self.weak.discard(name)
        self.ignored_attrs.discard(name)
        self.hidden_layouts.pop(name, None)
        return True

    def own(self, name: str, cursor: Any) -> bool:
        """Whether ``cursor`` is an input's own declaration of a record that units before
        this one met outside their inputs (``given_weak``): then it is walked again."""
        return name in self.given_weak and self.location(cursor).file in self.inputs

    def forget_since(self, mark: int) -> None:
        """Drop the records added since ``len(added)`` was ``mark`` (a walk that stopped)."""
        for name in self.added[mark:]:
            if self.records.pop(name, None) is not None:
                self.weak.discard(name)
        del self.added[mark:]

    def drain_pending(self) -> None:
        while self.pending:
            decl = self.pending.pop()
            definition = decl.get_definition()
            if definition is None:
                continue
            key = definition.hash
            if key in self.seen_decls:
                continue
            self.seen_decls.add(key)
            self.visit(definition)


def shifted(m: Member, bits: int) -> Member:
    """``m`` (and what it holds) ``bits`` further from the start of the record."""
    return replace(m, offset_bits=m.offset_bits + bits,
                   members=tuple(shifted(c, bits) for c in m.members),
                   element_members=tuple(shifted(c, bits) for c in m.element_members))


def _element_sugared(array_type: Any, depth: int, tk: Any) -> Any:
    """The innermost element type of an array, keeping its typedef spelling."""
    t = array_type
    for _ in range(depth):
        while t.kind in (tk.ELABORATED, tk.TYPEDEF):
            t = t.get_named_type() if t.kind == tk.ELABORATED else \
                t.get_declaration().underlying_typedef_type
        t = t.get_array_element_type()
    return t


@dataclass(frozen=True)
class TargetResult:
    """What parsing the inputs for one target produced (picklable, plain data)."""

    target: str
    records: tuple[tuple[str, str, SourceLocation, RecordLayout], ...]
    enums: tuple[tuple[str, SourceLocation, EnumLayout], ...]
    failures: tuple[ParseFailure, ...]
    macros: tuple[tuple[str, SourceLocation, int, tuple[str, ...]], ...] = ()
    # the records met first outside the headers walked (TargetWalker.weak): another
    # unit's record of the same name declared in its inputs wins over these
    weak: frozenset[str] = frozenset()
    weak_enums: frozenset[str] = frozenset()


def walk_unit(walker: TargetWalker, tu: Any, mains: set[str], all_files: bool,
          macros: Mapping[str, list[str]] | None) -> None:
    walker.seen_decls.clear()
    walker.pending.clear()  # (left by a walk that stopped: NeedsMacros)
    walker.macros = macros
    walker.types.clear()  # a CType's align depends on the TU's macros only through members
    walker.location.clear()  # file handles are the unit's own
    walker.cursors.clear()
    walker.type_ids.clear()
    walker.unit, walker._tags = tu, None
    for cursor, spelling in _top_level(tu, mains, all_files, walker.fast):
        walker.complete = len(walker.added)
        walker.visit(cursor, spelling)
        walker.drain_pending()  # (so that every record before the next one is complete)
    walker.complete = len(walker.added)


def _top_level(tu: Any, mains: set[str], all_files: bool,
               fast: FastCalls) -> Iterable[tuple[Any, str | None]]:
    """The unit's struct, union and enum declarations at file scope, to visit: each with
    its canonical type's spelling where read already (and then a definition)."""
    ck = load_cindex().CursorKind
    kinds = (ck.STRUCT_DECL, ck.UNION_DECL, ck.ENUM_DECL)
    found = getattr(tu, "_abiscope_records", None)  # read by _batch_facts already
    if found is None and all_files:
        return definitions(tu.cursor, kinds, fast)
    cursors = found if found is not None else children_of(tu.cursor, kinds)
    return ((cursor, None) for cursor in (cursors if all_files
                                          else in_files(cursors, mains, fast)))
