"""What-if layouts: a record with members reordered, padding inserted or types replaced, laid
out on any target the engine has a data model for, without writing C or parsing again.

Works on :class:`~abiscope.decls.DeclSet` (from :func:`abiscope.frontend.parse_decls`) and
returns new ones; :func:`layout` asks the layout engine. Plain functions, no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .decls import DeclSet, FieldDecl, RecordDecl, TypeDecl
from .errors import InputError, UsageError
from .layout_engine import LayoutEngine
from .model import RecordLayout
from .targets import MODELS
from .variants import model_for

_FIXED = {8: "char", 16: "short", 32: "int", 64: "long long"}


def fixed_width(bits: int, signed: bool = False) -> TypeDecl:
    """``uint32_t`` and friends, as the engine sizes them on every data model."""
    if bits not in _FIXED:
        raise UsageError(f"no fixed-width integer of {bits} bits")
    name = f"{'' if signed else 'u'}int{bits}_t"
    base = _FIXED[bits] if signed or bits == 8 else f"unsigned {_FIXED[bits]}"
    if bits == 8:
        base = "signed char" if signed else "unsigned char"
    return TypeDecl("scalar", spelling=name, scalar=base, typedefs=(name,), signed=signed)


def byte_array(size_bytes: int) -> TypeDecl:
    """``uint8_t [N]``: padding of any size, alignment 1."""
    element = fixed_width(8)
    return TypeDecl("array", spelling=f"uint8_t[{size_bytes}]", dims=(size_bytes,),
                    element=element)


def _record(decls: DeclSet, key: str) -> RecordDecl:
    rec = decls.records.get(key)
    if rec is None:
        raise InputError(f"no record {key!r} in these declarations")
    return rec


def _with(decls: DeclSet, rec: RecordDecl) -> DeclSet:
    return DeclSet({**decls.records, rec.key: rec})


def _index(rec: RecordDecl, member: str) -> int:
    for i, f in enumerate(rec.fields):
        if f.name == member:
            return i
    raise InputError(f"{rec.key} has no member {member!r}")


def reorder(decls: DeclSet, key: str, order: Sequence[str]) -> DeclSet:
    """The record with its named members in ``order`` (every named member exactly once);
    unnamed bitfields and anonymous members keep their place relative to what follows."""
    rec = _record(decls, key)
    named = [f.name for f in rec.fields if f.name]
    if sorted(order) != sorted(named):
        raise UsageError(f"reorder of {key} must name each of {', '.join(named)} once")
    by_name = {f.name: f for f in rec.fields if f.name}
    it = iter(order)
    fields = tuple(by_name[next(it)] if f.name else f for f in rec.fields)
    return _with(decls, replace(rec, fields=fields))


def insert_padding(decls: DeclSet, key: str, after: str | None, size_bytes: int,
                   name: str = "pad") -> DeclSet:
    """The record with an explicit padding member after ``after`` (``None``: at the start,
    ``""``: at the end)."""
    rec = _record(decls, key)
    if any(f.name == name for f in rec.fields):
        raise UsageError(f"{key} already has a member {name!r}")
    ptype = {1: fixed_width(8), 2: fixed_width(16), 4: fixed_width(32)}.get(
        size_bytes, byte_array(size_bytes))
    pad = FieldDecl(name, ptype)
    at = 0 if after is None else len(rec.fields) if after == "" else _index(rec, after) + 1
    return _with(decls, replace(rec, fields=(*rec.fields[:at], pad, *rec.fields[at:])))


def replace_type(decls: DeclSet, key: str, member: str, new: TypeDecl) -> DeclSet:
    """The record with one member's type replaced."""
    rec = _record(decls, key)
    i = _index(rec, member)
    fields = list(rec.fields)
    fields[i] = replace(fields[i], type=new)
    return _with(decls, replace(rec, fields=tuple(fields)))


def layout(decls: DeclSet, key: str, target: str) -> RecordLayout:
    """Lay the (possibly rewritten) record out on a target the engine has a model for."""
    model = model_for(target)  # (a variant target: its base's, as the variant changes it)
    if model is None:
        raise UsageError(f"the layout engine has no data model for {target!r}; it has "
                         + ", ".join(sorted(MODELS)))
    return LayoutEngine(decls, model).layout(key)
