"""What the walk reads off libclang most often, in bulk: a record's fields with what the
walk needs of each, and a cursor's children of given kinds.

Read through ``clang.cindex`` that is several ``ctypes`` calls per field or child at 1-5 µs
each, and a Python callback per child, most of them dropped (a unit's top level holds
thousands of typedefs and, with the detailed preprocessing record, every macro). The C
helper ``abiscope.frontend._facts`` (built at install: ``setup.py``) reads the same facts in
one foreign call per record or parent. Without it, or with ``ABISCOPE_NATIVE=0`` in the
environment, they are read in Python, one field or child at a time: same
facts, same order, slower. ``tests/test_facts.py`` compares the two.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from .bindings import FastCalls, load_cindex


class Field(NamedTuple):
    """One field of a record, as the walk reads it."""

    name: str  # its spelling: "" for an unnamed bitfield; anonymous members' vary
    cursor: Any  # the FIELD_DECL
    type: Any  # its type (clang_getCursorType)
    type_key: tuple[int, int | None, int | None]  # the type's identity: see type_key()
    offset_bits: int  # in the record (clang_Cursor_getOffsetOfField)
    bit_width: int  # -1 when not a bitfield
    has_attrs: bool
    anonymous_record: bool  # its type's declaration is an anonymous struct or union
    file: int | None  # expansion location: libclang's file handle,
    line: int
    column: int


def type_key(t: Any) -> tuple[int, int | None, int | None]:
    """A type's identity within its unit: libclang's handle, which is the same for the
    same (sugared) type."""
    return (t._kind_id, t.data[0], t.data[1])


_VERSION = 1  # _facts.c's VERSION: what its functions take and write
_FUNCTIONS = (  # as abiscope_facts_init takes them
    "clang_visitChildren", "clang_Type_visitFields", "clang_getCursorType",
    "clang_Cursor_getOffsetOfField", "clang_getFieldDeclBitWidth", "clang_Cursor_hasAttrs",
    "clang_getTypeDeclaration", "clang_Cursor_isAnonymousRecordDecl",
    "clang_getCursorLocation", "clang_getInstantiationLocation", "clang_getCursorSpelling",
    "clang_getCString", "clang_disposeString", "clang_getTypeSpelling",
    "clang_getCanonicalType", "clang_isCursorDefinition", "clang_getEnumConstantDeclValue",
    "clang_getEnumConstantDeclUnsignedValue",
)


@lru_cache(maxsize=1)
def _native() -> Any:
    """The C helper, ready to call, or None (not built, or ``ABISCOPE_NATIVE=0``)."""
    if os.environ.get("ABISCOPE_NATIVE", "1") == "0":
        return None
    spec = importlib.util.find_spec(__package__ + "._facts")
    if spec is None or spec.origin is None:
        return None
    ci = load_cindex()
    struct = _field_struct()
    if ctypes.sizeof(struct) % 8 or struct.type_kind.offset % 8:
        return None  # (a host whose layout the reading of words below does not expect)
    try:
        helper = ctypes.CDLL(spec.origin)
        addresses = (ctypes.c_void_p * len(_FUNCTIONS))(
            *(ctypes.cast(ci.conf.lib[name], ctypes.c_void_p) for name in _FUNCTIONS))
        if helper.abiscope_facts_init(_VERSION, addresses, len(_FUNCTIONS)) != 0:
            return None  # built from another version of _facts.c: pip install again
    except (OSError, AttributeError):
        return None  # not loadable here, or without the entry point
    size_t = ctypes.c_size_t
    helper.abiscope_fields.argtypes = [ci.Type, ctypes.c_void_p, size_t, ctypes.c_void_p,
                                       size_t, ctypes.POINTER(size_t)]
    helper.abiscope_fields.restype = size_t
    helper.abiscope_children.argtypes = [ci.Cursor, ctypes.c_char_p, size_t, ctypes.c_void_p,
                                         size_t]
    helper.abiscope_children.restype = size_t
    for name, handle in (("abiscope_type_spelling", ci.Type),
                         ("abiscope_canonical_spelling", ci.Cursor)):
        getattr(helper, name).argtypes = [handle, ctypes.c_void_p, size_t]
        getattr(helper, name).restype = size_t
    helper.abiscope_enum_constants.argtypes = [ci.Cursor, ctypes.c_void_p, size_t,
                                               ctypes.c_void_p, size_t, ctypes.POINTER(size_t)]
    helper.abiscope_enum_constants.restype = size_t
    helper.abiscope_definitions.argtypes = [ci.Cursor, ctypes.c_char_p, size_t, ctypes.c_void_p,
                                            size_t, ctypes.c_void_p, size_t,
                                            ctypes.POINTER(size_t)]
    helper.abiscope_definitions.restype = size_t
    return helper


class _Buffers(threading.local):
    """Each thread's room for what the C helper writes (a Dask worker walks units in
    threads), grown when a call needs more: a buffer and its address."""

    def __init__(self) -> None:
        self.rooms: dict[str, tuple[bytearray, int]] = {}
        self.names_length = ctypes.c_size_t()

    def room(self, name: str, size: int) -> tuple[bytearray, int]:
        """A buffer of at least ``size`` bytes, and its address."""
        found = self.rooms.get(name)
        if found is None or len(found[0]) < size:
            buffer = bytearray(max(size, 2 * len(found[0]) if found else 0))
            found = self.rooms[name] = (buffer, _address(buffer))
        return found


_BUFFERS = _Buffers()


def native() -> bool:
    """Whether the C helper reads the facts."""
    return _native() is not None


@lru_cache(maxsize=1)
def _field_struct() -> Any:
    """The C helper's ``Field``, as ctypes lays it out on this host."""
    ci = load_cindex()

    class NativeField(ctypes.Structure):
        _fields_ = [("cursor", ci.Cursor), ("type", ci.Type), ("type_kind", ctypes.c_int64),
                    ("type_data", ctypes.c_int64 * 2), ("offset_bits", ctypes.c_int64),
                    ("bit_width", ctypes.c_int64), ("flags", ctypes.c_int64),
                    ("file", ctypes.c_int64), ("line", ctypes.c_int64),
                    ("column", ctypes.c_int64)]
    return NativeField


def fields(record_type: Any, fast: FastCalls) -> list[Field]:
    """The fields of a record type, in order (``Type.get_fields``); ``fast``: the walker's
    (read only without the C helper)."""
    helper = _native()
    if helper is None:
        return _fields_in_python(record_type, fast)
    ci = load_cindex()
    struct = _field_struct()
    size = ctypes.sizeof(struct)
    found, count, spellings = _named_items(helper.abiscope_fields, (record_type,), "fields",
                                           size, 32)
    if not count:
        return []
    words = memoryview(found)[:count * size].cast("q").tolist()
    stride, first, type_offset = size // 8, struct.type_kind.offset // 8, struct.type.offset
    tu = record_type._tu
    cursor_at, type_at = ci.Cursor.from_buffer_copy, ci.Type.from_buffer_copy
    out: list[Field] = []
    for i in range(count):
        base = i * stride + first
        kind, data0, data1, offset, width, flags, file, line, column = words[base:base + 9]
        cursor = cursor_at(found, i * size)
        cursor._tu = tu
        type_ = type_at(found, i * size + type_offset)
        type_._tu = tu
        out.append(Field(spellings[i], cursor, type_, (kind, data0 or None, data1 or None),
                         offset, width, bool(flags & 1), bool(flags & 2), file or None, line,
                         column))
    return out


def _fields_in_python(record_type: Any, fast: FastCalls) -> list[Field]:
    lib = load_cindex().conf.lib
    tu = record_type._tu
    out: list[Field] = []
    for cursor in record_type.get_fields():
        type_ = lib.clang_getCursorType(cursor)
        type_._tu = tu
        declaration = lib.clang_getTypeDeclaration(type_)
        file, line, column = fast.expansion(cursor)
        out.append(Field(
            fast.cursor_spelling(cursor), cursor, type_, type_key(type_),
            lib.clang_Cursor_getOffsetOfField(cursor), lib.clang_getFieldDeclBitWidth(cursor),
            bool(lib.clang_Cursor_hasAttrs(cursor)),
            bool(lib.clang_Cursor_isAnonymousRecordDecl(declaration)), file, line, column))
    return out


def children_of(cursor: Any, kinds: Iterable[Any]) -> list[Any]:
    """The children of ``cursor`` of the given kinds, in order (``get_children`` filtered).

    A translation unit parsed with the detailed preprocessing record has every macro
    definition and expansion among its top-level children (about 700,000 on Linux UAPI),
    and its thousands of typedefs: the unwanted children are dropped by their kind before
    any Python object is made of them (in C, or in a Python visitor without the helper).
    """
    ci = load_cindex()
    ids = frozenset(k.value for k in kinds)
    tu = cursor._tu
    helper = _native()
    if helper is None:
        return _children_in_python(cursor, ids, tu)
    wanted = _wanted(ids)
    size = ctypes.sizeof(ci.Cursor)
    room = 64
    while True:
        found, at = _BUFFERS.room("children", room * size)
        room = len(found) // size
        count = helper.abiscope_children(cursor, wanted, len(wanted), at, room)
        if count <= room:
            break
        room = count
    cursor_at = ci.Cursor.from_buffer_copy
    out = [cursor_at(found, i * size) for i in range(count)]
    for child in out:
        child._tu = tu
    return out


def definitions(cursor: Any, kinds: Iterable[Any], fast: FastCalls) -> list[tuple[Any, str]]:
    """The children of ``cursor`` of the given kinds that are definitions, if structs,
    unions or enums (any child, of another kind), in order: each with the spelling of its
    canonical type (:func:`canonical_spelling`; "" for other kinds)."""
    ci = load_cindex()
    ck = ci.CursorKind
    tagged = (ck.STRUCT_DECL.value, ck.UNION_DECL.value, ck.ENUM_DECL.value)
    helper = _native()
    if helper is None:
        return [(child, canonical_spelling(child, fast) if child._kind_id in tagged else "")
                for child in children_of(cursor, kinds)
                if child._kind_id not in tagged or child.is_definition()]
    ids = frozenset(k.value for k in kinds)
    wanted = _wanted(ids)
    size = ctypes.sizeof(ci.Cursor)
    found, count, spellings = _named_items(helper.abiscope_definitions,
                                           (cursor, wanted, len(wanted)), "children", size, 64)
    cursor_at = ci.Cursor.from_buffer_copy
    tu = cursor._tu
    out: list[tuple[Any, str]] = []
    for i in range(count):
        child = cursor_at(found, i * size)
        child._tu = tu
        out.append((child, spellings[i]))
    return out


@lru_cache(maxsize=64)
def _wanted(ids: frozenset[int]) -> bytes:
    """One byte per cursor kind id up to the largest wanted: 1 where wanted."""
    marks = bytearray(max(ids, default=0) + 1)
    for kind_id in ids:
        marks[kind_id] = 1
    return bytes(marks)


def _children_in_python(cursor: Any, ids: frozenset[int], tu: Any) -> list[Any]:
    ci = load_cindex()
    out: list[Any] = []

    def visitor(child: Any, _parent: Any, _data: Any) -> int:
        if child._kind_id in ids:
            child._tu = tu
            out.append(child)
        return 1  # CXChildVisit_Continue

    ci.conf.lib.clang_visitChildren(cursor, ci.cursor_visit_callback(visitor), None)
    return out


def type_spelling(type_: Any, fast: FastCalls) -> str:
    """``Type.spelling``; ``fast``: the walker's (read only without the C helper)."""
    helper = _native()
    if helper is None:
        return fast.type_spelling(type_)
    return _text(helper.abiscope_type_spelling, type_)


def canonical_spelling(cursor: Any, fast: FastCalls) -> str:
    """The spelling of a declaration's canonical type (``struct TAG``, ``enum TAG``, a
    typedef's target spelled out)."""
    helper = _native()
    if helper is None:
        lib = load_cindex().conf.lib
        return fast.type_spelling(lib.clang_getCanonicalType(lib.clang_getCursorType(cursor)))
    return _text(helper.abiscope_canonical_spelling, cursor)


def _text(function: Any, handle: Any) -> str:
    """What one of the helper's string functions writes, decoded."""
    room = 256
    while True:
        buffer, at = _BUFFERS.room("text", room)
        length = function(handle, at, len(buffer))
        if length < len(buffer):
            return buffer[:length].decode("utf8")
        room = length + 1


def enum_constants(cursor: Any, fast: FastCalls) -> list[tuple[str, int, int, int]]:
    """The constants of an enum, in order: each one's spelling, the kind id of its type
    (``clang_getCursorType``), and its value read as signed and as unsigned."""
    helper = _native()
    lib = load_cindex().conf.lib
    if helper is None:
        out = []
        for constant in children_of(cursor, (load_cindex().CursorKind.ENUM_CONSTANT_DECL,)):
            out.append((fast.cursor_spelling(constant),
                        lib.clang_getCursorType(constant)._kind_id,
                        int(lib.clang_getEnumConstantDeclValue(constant)),
                        int(lib.clang_getEnumConstantDeclUnsignedValue(constant))))
        return out
    found, count, spellings = _named_items(helper.abiscope_enum_constants, (cursor,),
                                           "constants", 24, 64)
    words = memoryview(found)[:count * 24].cast("q").tolist()
    return [(spellings[i], words[3 * i], words[3 * i + 1], words[3 * i + 2] & _UNSIGNED)
            for i in range(count)]


_UNSIGNED = (1 << 64) - 1  # (an unsigned 64-bit value, read back as a signed word)


def _named_items(function: Any, leading: tuple[Any, ...], buffer: str, item_size: int,
                 room: int) -> tuple[bytearray, int, list[str]]:
    """Call one of the helper's functions that write items of ``item_size`` bytes and their
    NUL-terminated names (``function(*leading, items, room, names, names_room,
    &names_length)``, returning how many items there are), with room enough: the buffer of
    items, how many, and the names."""
    buffers = _BUFFERS
    names_length = buffers.names_length
    names_room = 1024
    while True:
        found, at = buffers.room(buffer, room * item_size)
        names, names_at = buffers.room("names", names_room)
        room, names_room = len(found) // item_size, len(names)
        count = function(*leading, at, room, names_at, names_room, ctypes.byref(names_length))
        if count <= room and names_length.value <= names_room:
            break
        room, names_room = max(room, count), max(names_room, names_length.value)
    return found, count, names[:names_length.value].decode("utf8").split("\0")


def _address(buffer: bytearray) -> int:
    """The address of a bytearray's storage (valid while it is not resized)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))
