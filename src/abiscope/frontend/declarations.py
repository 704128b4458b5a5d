"""Declarations for the layout engine (:mod:`abiscope.layout_engine`): the records of the
engine targets, and of clang targets where clang may lay a record out unlike GCC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from ..datamodels import DataModel
from ..decls import DeclSet, FieldDecl, RecordDecl, TypeDecl
from ..errors import Diagnostic, InputError, ParseFailure, SourceLocation
from ..layout_engine import LayoutEngine
from ..model import (
    CType,
    Member,
    RecordLayout,
)
from ..targets import MODELS, Target
from . import sandbox
from .bindings import (
    UNNAMED_MARKERS,
    FastCalls,
    Locations,
    error_diagnostics,
    load_cindex,
    relpath,
    type_kinds,
)
from .facts import children_of
from .options import ParseOptions, clang_args
from .tokens import (
    BASE_TYPE_WORDS,
    QUALIFIER_RE,
    LazyMacros,
    align_attr,
    alignof_names,
    attr_argument,
    declaration_tokens,
    expand_macros,
    gcc_ignores,
    naming_typedef,
    pack_at,
)


@lru_cache(maxsize=64)
def gcc_bare_align_cap(target: Target) -> int | None:
    """GCC's biggest alignment on ``target`` where clang's bare ``aligned`` is larger (asked
    of clang once per process: 16 bytes on mips o32, where GCC's is 8), else None."""
    model = MODELS.get(target.name)
    if model is None or target.engine:
        return None
    ci = load_cindex()
    probe = "<abiscope probe>.c"
    tu = ci.Index.create().parse(
        probe, args=["-x", "c", f"--target={target.triple}", *target.clang_flags],
        unsaved_files=[(probe, "struct s { char c; } __attribute__((aligned));\n")])
    aligns = [c.type.get_align() for c in children_of(tu.cursor, (ci.CursorKind.STRUCT_DECL,))]
    return model.mode_align_cap if aligns and aligns[0] > model.mode_align_cap else None


@lru_cache(maxsize=1)
def _value_type_function() -> Any:
    ci = load_cindex()
    function = ci.conf.lib["clang_Type_getValueType"]  # a new function object
    function.argtypes = [ci.Type]
    function.restype = ci.Type
    return function


def atomic_value_type(atomic: Any) -> Any:
    """``T`` of an ``_Atomic(T)`` type (libclang's ``clang_Type_getValueType``, which the
    Python bindings do not wrap)."""
    return load_cindex().Type.from_result(_value_type_function()(atomic), atomic)


def _literal_alignments(tokens: list[str]) -> bool:
    """Whether a declaration's tokens spell an ``aligned``/``_Alignas`` and every one of
    them has an integer literal argument (nothing to expand)."""
    at = [i for i, tok in enumerate(tokens) if tok in ("aligned", "__aligned__", "_Alignas")]
    return bool(at) and all(attr_argument(tokens[i:], None) is not None for i in at)


def scalar_name(words: list[str]) -> str | None:
    """clang's canonical name of a base type written as keywords (``unsigned long long
    int`` -> ``unsigned long long``), or None if the words are not all keywords."""
    if not words or any(w not in BASE_TYPE_WORDS for w in words):
        return None
    unsigned, longs = "unsigned" in words, words.count("long")
    for base in ("_Bool", "__float128", "_Float16", "float"):
        if base in words:
            return base
    if "double" in words:
        return "long double" if longs else "double"
    if "char" in words:
        return "unsigned char" if unsigned else "signed char" if "signed" in words else "char"
    if "__int128" in words:
        return "unsigned __int128" if unsigned else "__int128"
    name = "short" if "short" in words else "long long" if longs >= 2 else \
        "long" if longs else "int"
    return f"unsigned {name}" if unsigned else name


def clang_may_differ(layout: RecordLayout, cap: int | None, bitfields: bool,
                     field_cap: int | None = None) -> bool:
    """Whether clang may lay this record out otherwise than GCC (:meth:`_GroupParser.
    relayout_gcc`); ``field_cap``: GCC's ``ADJUST_FIELD_ALIGN`` of integer modes (i386: 4),
    which an integer vector of up to 8 bytes takes and clang does not. Every ``_Atomic``
    member counts: clang pads an atomic ``T`` to a power of two up to its own width and
    aligns it to that size; GCC keeps the size and caps the alignment otherwise
    (:func:`abiscope.layout_engine.atomic_shape`)."""
    return (cap is not None and _overaligned(layout, cap)) \
        or (bitfields and _aligned_bitfield(layout.members)) \
        or (field_cap is not None and _small_vector(layout.members, field_cap)) \
        or _atomic(layout.members)


def _atomic(members: Sequence[Member]) -> bool:
    """Whether a member, at any depth or through arrays, is of an ``_Atomic`` type."""
    return any(_is_atomic(m.type.innermost) or _atomic(m.members) for m in members)


def _is_atomic(t: CType) -> bool:
    return t.kind == "other" and "_Atomic(" in t.canonical


def _small_vector(members: Sequence[Member], cap: int) -> bool:
    """Whether a member, at any depth or through arrays, is a vector of up to 8 bytes
    aligned above ``cap``."""
    for m in members:
        t = m.type.innermost
        if (t.kind == "vector" and (t.size or 0) <= 8 and (t.align or 0) > cap) \
                or _small_vector(m.members, cap):
            return True
    return False


def _aligned_bitfield(members: Sequence[Member]) -> bool:
    return any((m.bitfield and m.align_attr is not None) or _aligned_bitfield(m.members)
               for m in members)


def records_held(members: Sequence[Member]) -> set[str]:
    """The records that members (at any depth, through arrays) are of."""
    out: set[str] = set()
    for m in members:
        t = m.type.innermost
        if t.record:
            out.add(t.record)
        out |= records_held(m.members)
    return out


def _overaligned(layout: RecordLayout, cap: int) -> bool:
    """Whether a layout, or a member's type at any depth, is aligned above ``cap``, or a
    member has a bare ``aligned`` of its own."""
    def over(members: Sequence[Member]) -> bool:
        return any(m.align > cap or (m.type.align or 0) > cap or m.align_attr == 0
                   or over(m.members) for m in members)
    return layout.align > cap or over(layout.members)


class DeclBuilder:
    """Builds :class:`~abiscope.decls.RecordDecl` for every record a translation unit uses."""

    def __init__(self) -> None:
        self.ci = load_cindex()
        self.records: dict[str, RecordDecl] = {}
        self.building: set[str] = set()
        self.macros: Mapping[str, list[str]] = {}  # object-like macros of the current TU
        self._named_tu: Any = None  # the unit _named was read from (named_decls)
        self._named: dict[str, Any] = {}
        self.location = Locations(FastCalls(), relpath)  # (of the current unit)

    def read_macros(self, tu: Any) -> None:
        """The macros of a translation unit, for attribute arguments (read when asked)."""
        self.start_unit(LazyMacros(tu))

    def start_unit(self, macros: Mapping[str, list[str]]) -> None:
        """What the next declarations come from: a unit (new, or parsed again) with these
        macros (and file handles of its own: :class:`Locations`). The declarations of
        the unit before are dropped: a record is what this unit declares (complete or
        not, as defined here), never what an earlier unit of the same process knew."""
        self.macros = macros
        self.location.clear()
        self.records = {}
        self.building = set()

    def align_attr(self, cursor: Any) -> int | None:
        """The value of an ``aligned(N)``/``_Alignas(N)`` on a declaration, if any."""
        return align_attr(cursor, strict=True, macros=self.macros)

    def align_of(self, cursor: Any) -> tuple[TypeDecl | None, bool]:
        """The type an ``_Alignas(T)`` or ``aligned(__alignof__(T))`` on a declaration
        names, when it is a base type, a tag or a typedef of the translation unit (Linux's
        ``aligned(__alignof__(struct ebt_replace))``), for the engine to align it under its
        data model (clang's alignment on the parse target would be another target's); and
        whether GNU ``__alignof__`` names it."""
        ck = self.ci.CursorKind
        if not any(c.kind == ck.ALIGNED_ATTR for c in cursor.get_children()):
            return None, False
        tokens = declaration_tokens(cursor)
        found = alignof_names(tokens)
        if found is None and not _literal_alignments(tokens):
            # (an argument or the attribute itself is a macro's: reading the unit's macro
            # index costs a visit of every definition, so only then)
            found = alignof_names(expand_macros(tokens, self.macros))
        if found is None:
            return None, False
        names, gnu = found
        scalar = scalar_name(names)
        if scalar is not None:
            kind = "complex" if "_Complex" in names else "scalar"
            return TypeDecl(kind, spelling=" ".join(names), scalar=scalar), gnu
        decl = self.named_decls(cursor).get(" ".join(names))
        return (None, False) if decl is None else (self.type_decl(decl.type), gnu)

    def named_decls(self, cursor: Any) -> dict[str, Any]:
        """The translation unit's tags (``struct x``) and typedefs, by name (read once per
        unit, when an alignment names one)."""
        tu = cursor.translation_unit
        if self._named_tu is not tu:
            ck = self.ci.CursorKind
            tags = {ck.STRUCT_DECL: "struct", ck.UNION_DECL: "union", ck.ENUM_DECL: "enum"}
            found: dict[str, Any] = {}
            for c in children_of(tu.cursor, (*tags, ck.TYPEDEF_DECL)):
                if c.kind == ck.TYPEDEF_DECL:
                    found.setdefault(c.spelling, c)
                elif c.spelling and (c.is_definition() or f"{tags[c.kind]} {c.spelling}"
                                     not in found):
                    found[f"{tags[c.kind]} {c.spelling}"] = c
            self._named_tu, self._named = tu, found
        return self._named

    def has_packed(self, cursor: Any) -> bool:
        return bool(cursor.has_attrs()) and any(
            c.kind == self.ci.CursorKind.PACKED_ATTR for c in cursor.get_children())

    def type_decl(self, t: Any) -> TypeDecl:
        tk = self.ci.TypeKind
        chain: list[str] = []
        align: int | None = None
        cur = t
        while True:
            if cur.kind == tk.ELABORATED:
                cur = cur.get_named_type()
            elif cur.kind == tk.TYPEDEF:
                decl = cur.get_declaration()
                chain.append(cur.get_typedef_name())
                a = self.align_attr(decl)
                if a is not None and align is None:
                    align = a  # GCC: the outermost aligned typedef decides
                cur = decl.underlying_typedef_type
            elif cur.kind == tk.ATTRIBUTED and hasattr(cur, "get_modified_type"):
                cur = cur.get_modified_type()
            else:
                break
        canon = t.get_canonical()
        kind, signed = type_kinds().get(canon.kind, ("other", None))
        common = {"spelling": t.spelling, "typedefs": tuple(chain), "align_attr": align,
                  "signed": signed, "canonical": canon.spelling}
        if canon.kind == tk.ATOMIC:  # (T as written: its typedefs size it under a model)
            atomic = cur if cur.kind == tk.ATOMIC else canon
            return TypeDecl("atomic", element=self.type_decl(atomic_value_type(atomic)),
                            **common)
        if kind == "other" and QUALIFIER_RE.sub("", canon.spelling).strip() == "__bf16":
            kind = "float"  # (libclang does not expose __bf16's kind)
        if kind in ("int", "bool", "float", "complex"):
            scalar = QUALIFIER_RE.sub("", canon.spelling).strip()
            if kind == "complex":  # (the component type: "_Complex double" -> "double")
                return TypeDecl("complex", scalar=scalar.removeprefix("_Complex").strip(),
                                **common)
            return TypeDecl("scalar", scalar=scalar, **common)
        if kind == "enum":
            underlying = canon.get_declaration().enum_type.get_canonical().spelling
            name = canon.spelling if not any(m in canon.spelling for m in UNNAMED_MARKERS) \
                else ""
            return TypeDecl("enum", scalar=QUALIFIER_RE.sub("", underlying).strip(),
                            record=QUALIFIER_RE.sub("", name).strip(), **common)
        if kind == "pointer":
            return TypeDecl("pointer", pointee=self.type_decl(cur.get_pointee()), **common)
        if kind == "array":
            dims: list[int | None] = []
            inner = cur
            while inner.kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY, tk.VARIABLEARRAY):
                dims.append(inner.get_array_size() if inner.kind == tk.CONSTANTARRAY else None)
                inner = inner.get_array_element_type()
                while inner.kind in (tk.ELABORATED, tk.TYPEDEF) and \
                        inner.get_canonical().kind in (tk.CONSTANTARRAY, tk.INCOMPLETEARRAY):
                    inner = inner.get_named_type() if inner.kind == tk.ELABORATED else \
                        inner.get_declaration().underlying_typedef_type
            return TypeDecl("array", dims=tuple(dims), element=self.type_decl(inner), **common)
        if kind == "record":
            return TypeDecl("record", record=self.record(canon.get_declaration()), **common)
        if kind == "vector":
            element = canon.element_type
            if type_kinds().get(element.kind, ("other", None))[0] in ("int", "bool", "float"):
                return TypeDecl("vector", dims=(canon.element_count,),
                                scalar=QUALIFIER_RE.sub("", element.spelling).strip(),
                                **common)
        if kind in ("function", "void"):
            return TypeDecl(kind, **common)
        return TypeDecl("other", **common)

    def record(self, cursor: Any) -> str:
        """Build (once) the declaration of a record; returns its key."""
        definition = cursor.get_definition()
        complete = definition is not None
        definition = definition or cursor
        key: str = definition.type.get_canonical().spelling
        if any(m in key for m in UNNAMED_MARKERS):
            # Unnamed records from one macro expansion share their spelling location.
            key = f"{key}#{definition.hash}"
        known = self.records.get(key)
        if key in self.building or (known is not None and (known.complete or not complete)):
            return key
        self.building.add(key)
        ck = self.ci.CursorKind
        fields = []
        for f in definition.type.get_fields():
            anonymous = bool(f.is_anonymous_record_decl())
            bitfield = bool(f.is_bitfield())
            ignored = anonymous and gcc_ignores(f)  # (GCC ignores its attributes)
            align_of, gnu = (None, False) if ignored or not f.has_attrs() \
                else self.align_of(f)
            if ignored:
                align = None
            elif align_of is None:
                align = self.align_attr(f)
            else:  # (the numbers only; FieldDecl.align_of adds the type's)
                align = align_attr(f, macros=self.macros)
            ftype = self.type_decl(f.type)
            if _atomic_elements(ftype) and _after_atomic(declaration_tokens(f)) == "(":
                ftype = _atomic_specifier(ftype)
            fields.append(FieldDecl(
                name="" if anonymous else f.spelling, type=ftype,
                bit_width=f.get_bitfield_width() if bitfield else None,
                packed=self.has_packed(f) and not ignored, align_attr=align,
                location=self.location(f), align_of=align_of, align_of_gnu=gnu,
            ))
        loc = definition.location
        named_by = naming_typedef(definition, key)
        self.records[key] = RecordDecl(
            key=key, kind="union" if definition.kind == ck.UNION_DECL else "struct",
            fields=tuple(fields), packed=self.has_packed(definition),
            align_attr=self.align_attr(definition),
            typedef_align=self.align_attr(named_by)
            if named_by is not None and named_by.has_attrs() else None,
            pack=pack_at(loc.file.name, loc.line) if loc.file else None,
            location=self.location(definition), complete=complete,
        )
        self.building.discard(key)
        return key


def _atomic_elements(td: TypeDecl) -> bool:
    """Whether ``td`` is an array of ``_Atomic T`` written in the declaration itself (not
    through a typedef of the atomic type)."""
    if td.kind != "array":
        return False
    while td.kind == "array" and td.element is not None:
        td = td.element
    return td.kind == "atomic" and not td.typedefs


def _after_atomic(tokens: list[str]) -> str:
    """The token after the first ``_Atomic`` of a declaration ("" if none)."""
    at = tokens.index("_Atomic") if "_Atomic" in tokens else len(tokens)
    return tokens[at + 1] if at + 1 < len(tokens) else ""


def _atomic_specifier(td: TypeDecl) -> TypeDecl:
    """``td`` (an array of atomics) with its atomic elements marked as ``_Atomic(T)``."""
    if td.kind == "array" and td.element is not None:
        return replace(td, element=_atomic_specifier(td.element))
    return replace(td, atomic_specifier=True)


def collect_decls(builder: DeclBuilder, cursor: Any) -> None:
    ck = builder.ci.CursorKind
    for child in children_of(cursor, (ck.STRUCT_DECL, ck.UNION_DECL)):
        if child.kind in (ck.STRUCT_DECL, ck.UNION_DECL):
            if child.is_definition():
                builder.record(child)
            collect_decls(builder, child)


def relayout(records: dict[str, tuple[str, SourceLocation, RecordLayout]], decls: DeclSet,
              model: DataModel, target: Target, failures: list[ParseFailure]) -> None:
    """Replace clang's layouts by the engine's, for a target clang cannot lay out."""
    engine = LayoutEngine(decls, model)
    for name, (kind, loc, _) in list(records.items()):
        try:
            records[name] = (kind, loc, engine.layout(name))
        except (InputError, KeyError) as exc:
            del records[name]
            failures.append(ParseFailure(loc.file, target.name, (Diagnostic(
                "error", f"abiscope's layout engine cannot lay out {name}: {exc}", loc),)))


def parse_decls(header: str, target: Target, options: ParseOptions) -> DeclSet:
    """Declarations of every record defined in a header's translation unit, for the engine.

    Parsed by clang for ``target`` (its types and members), independent of clang's layout.
    Raises :class:`InputError` when the header does not parse, or when an attribute's
    argument is not an integer literal.
    """
    ci = load_cindex()
    options = sandbox.confine(options, [header], [target])
    tu = ci.Index.create().parse(
        header, args=clang_args(target, options),
        options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES
        | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    errors = error_diagnostics(tu, relpath)
    if errors:
        raise InputError(f"{relpath(header)}: does not parse for {target.name}: "
                         + ParseFailure(relpath(header), target.name, tuple(errors)).summary())
    builder = DeclBuilder()
    builder.read_macros(tu)
    collect_decls(builder, tu.cursor)
    return DeclSet(builder.records)
