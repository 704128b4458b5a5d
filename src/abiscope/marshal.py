"""Buffers in Python: pack and unpack a record's bytes on a target, convert between targets.

Works on the ABI model only (a freshly parsed one or one loaded from an ``abiscope.layout/1``
snapshot); no clang at marshal time. Values are plain Python data:

- a record is a ``dict`` keyed by member name; the members of an anonymous struct/union
  member appear directly in the enclosing dict (``s.x`` in C is ``values["x"]``); a named
  member of an unnamed record type (``struct { int x; } m;``) is a nested dict;
- an array is a ``list`` (nested lists for ``[2][3]``), shorter lists leave the rest zero;
  an array of 1-byte integers also accepts ``bytes``;
- integers, bitfields, pointers (unsigned addresses; ``None`` is 0) and enums are ``int``
  (an enum also accepts a constant's name); ``_Bool`` is ``bool``; floating types ``float``;
- a member left out is zero; a name the record does not have is an error.

Unions and overlap: every member given is written at its offset, and the bits it writes must
agree with whatever another member already wrote there. So a union takes exactly one member
in the usual case, and several members only when they describe the same bytes; ``unpack``
decodes every member of a union (each view of the same bytes), which packs back to the same
bytes. ``convert`` is ``unpack`` on the source then ``pack`` on the destination: it succeeds
only when every value fits the destination and the views of each union still agree.

Padding bytes are written as zero and ignored when read. Every failure is a
:class:`MarshalError` (an :class:`~abiscope.errors.InputError`: the CLI exits 2) naming the
member path (``struct foo.arr[2].x``), the value and the target.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .model import CType, EnumLayout, Member, Model, Record, RecordLayout
from .variants import lookup

__all__ = [
    "BufferSizeError", "MarshalError", "OverlapError", "UnknownMemberError",
    "UnsupportedTypeError", "ValueRangeError", "convert", "pack", "unpack",
]


class MarshalError(InputError):
    """A value, buffer or type that cannot be marshalled; names the member path and value."""

    def __init__(self, message: str, path: str = "", value: object = None) -> None:
        super().__init__(message)
        self.path = path
        self.value = value


class ValueRangeError(MarshalError):
    """A value that does not fit its member (out of range, wrong type, inexact float)."""


class UnknownMemberError(MarshalError):
    """A name the record does not have."""


class BufferSizeError(MarshalError):
    """A buffer shorter or longer than the record."""


class OverlapError(MarshalError):
    """Two members (views of one union) that write different bits to the same place."""


class UnsupportedTypeError(MarshalError):
    """A member whose type this module cannot represent (complex, vector, …)."""


# ---------------------------------------------------------------------------------------
# Public API


def pack(record: Record, target: str, values: Mapping[str, Any],
         model: Model | None = None, *, exact_floats: bool = False) -> bytes:
    """The bytes of ``record`` on ``target`` holding ``values`` (padding zero).

    ``model`` resolves nested named records, enums and the target's endianness (needed when
    the record has such members or the target is not in the registry). ``exact_floats``
    rejects a float that the member's format cannot hold exactly (otherwise it is rounded,
    as a C assignment would).
    """
    ctx = _Context.make(record, target, model, exact_floats)
    layout = ctx.layout_of(record)
    writer = _Writer(layout.size, ctx)
    if not isinstance(values, Mapping):
        raise ValueRangeError(f"{record.name}: expects a dict of member values, got "
                              f"{_show(values)}", record.name, values)
    writer.record(layout.members, values, record.name, 0)
    return bytes(writer.buf)


def unpack(record: Record, target: str, data: bytes | bytearray | memoryview,
           model: Model | None = None) -> dict[str, Any]:
    """The member values held by ``data``, the bytes of ``record`` on ``target``."""
    ctx = _Context.make(record, target, model, False)
    layout = ctx.layout_of(record)
    raw = bytes(data)
    if len(raw) != layout.size:
        what = "short" if len(raw) < layout.size else "oversized"
        raise BufferSizeError(
            f"{record.name} on {target} is {layout.size} bytes; the buffer is {what} "
            f"({len(raw)} bytes)", record.name, len(raw))
    return _Reader(raw, ctx).record(layout.members, record.name, 0)


def convert(record: Record, data: bytes | bytearray | memoryview, src: str, dst: str,
            model: Model | None = None, drop: Iterable[str] = ()) -> bytes:
    """``data`` (``record`` laid out on ``src``) re-laid out for ``dst``, losing nothing.

    Raises :class:`ValueRangeError` when a value does not fit on ``dst`` (a pointer or
    ``long`` narrowing from 64 to 32 bits, a double that a float cannot hold exactly),
    :class:`OverlapError` when the views of a union no longer agree on ``dst``. ``drop``
    names members not to carry (dotted paths without indices, ``u.raw``): the union views
    whose bytes another view already carries.
    """
    values = unpack(record, src, data, model)
    for path in drop:
        if not _drop(values, path.split(".")):
            raise UnknownMemberError(f"{record.name}.{path}: no such member to drop",
                                     f"{record.name}.{path}", None)
    try:
        return pack(record, dst, values, model, exact_floats=True)
    except MarshalError as exc:
        raise type(exc)(f"converting {src} -> {dst}: {exc}", exc.path, exc.value) from None


def _drop(values: Any, parts: Sequence[str]) -> bool:
    """Remove the member at ``parts`` from nested values (in every array element)."""
    if isinstance(values, list):
        return any([_drop(v, parts) for v in values])
    if not isinstance(values, dict) or parts[0] not in values:
        return False
    if len(parts) == 1:
        del values[parts[0]]
        return True
    return _drop(values[parts[0]], parts[1:])


# ---------------------------------------------------------------------------------------
# Context: the target, its byte order and float formats, and the model for lookups


@dataclass(frozen=True)
class _Context:
    model: Model | None
    target: str
    endian: str  # "little" | "big"
    triple: str
    exact_floats: bool

    @classmethod
    def make(cls, record: Record, target: str, model: Model | None,
             exact_floats: bool) -> _Context:
        info = model.targets.get(target) if model is not None else None
        if info is not None:
            endian, triple = info.endian, info.triple
        elif (spec := lookup(target)) is not None:  # (a variant target: its base's)
            endian, triple = spec.endian, spec.triple
        else:
            raise MarshalError(f"{record.name}: unknown target {target!r} (pass the model, "
                               "which knows its byte order)", record.name, target)
        if target not in record.layouts:
            have = ", ".join(record.layouts) or "none"
            raise MarshalError(f"{record.name} has no layout for target {target} (it has: "
                               f"{have})", record.name, target)
        return cls(model, target, endian, triple, exact_floats)

    def layout_of(self, record: Record) -> RecordLayout:
        return record.layouts[self.target]

    def named(self, name: str, path: str) -> RecordLayout:
        """The layout of a named record a member refers to."""
        rec = self.model.record(name) if self.model is not None else None
        if rec is None:
            where = ("the model does not hold it (a snapshot from 'abiscope layout --format "
                     "json' holds included headers' records only with --all-files)") \
                if self.model is not None else \
                "pass the model that holds it (model=...)"
            raise MarshalError(f"{path}: is a {name}, whose layout is unknown: {where}",
                               path, None)
        if self.target not in rec.layouts:
            raise MarshalError(f"{path}: {name} has no layout on {self.target}", path, None)
        return rec.layouts[self.target]

    def enum(self, t: CType) -> EnumLayout | None:
        if self.model is None or not t.record:
            return None
        found = next((e for e in self.model.enums if e.name == t.record), None)
        return found.layouts.get(self.target) if found is not None else None


# ---------------------------------------------------------------------------------------
# Walking the layout


def _names(members: Iterable[Member]) -> list[str]:
    """Member names as they appear in a dict: anonymous members are looked through."""
    out: list[str] = []
    for m in members:
        if m.name:
            out.append(m.name)
        else:
            out.extend(_names(m.members))
    return out


def _child(path: str, name: str) -> str:
    return f"{path}.{name}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dims(t: CType) -> tuple[tuple[int | None, ...], CType]:
    if t.element is None:
        raise UnsupportedTypeError(f"array type {t.spelling} without an element type")
    return t.dims, t.element


def _is_bytes_element(t: CType) -> bool:
    return t.kind == "int" and t.size == 1


@dataclass(frozen=True)
class _Float:
    """How a floating type is stored: IEEE interchange formats and the extended ones."""

    fmt: str  # binary16/32/64/128, x87 (80-bit in 10/12/16 bytes), m68k (96), ibm128
    size: int


def _float_format(t: CType, ctx: _Context, path: str) -> _Float:
    size = t.size or 0
    canon = t.canonical
    if size in (2, 4, 8) and canon not in ("__bf16",):
        return _Float(f"binary{size * 8}", size)
    arch = ctx.triple.split("-", 1)[0]
    if canon == "__ibm128" or (canon == "long double" and size == 16
                               and arch.startswith(("powerpc", "ppc"))):
        return _Float("ibm128", size)
    if canon == "long double" and arch in ("i386", "i486", "i586", "i686", "x86_64") \
            and size in (10, 12, 16):
        return _Float("x87", size)
    if canon == "long double" and arch.startswith("m68k") and size == 12:
        return _Float("m68k", size)
    if size == 16:
        return _Float("binary128", size)
    raise UnsupportedTypeError(f"{path}: floating type {t.spelling} ({size} bytes on "
                               f"{ctx.target}) is not supported", path, None)


# IEEE binary formats: (exponent bits, fraction bits)
_IEEE = {"binary16": (5, 10), "binary32": (8, 23), "binary64": (11, 52),
         "binary128": (15, 112)}


def _float_bits(value: float, f: _Float, path: str, ctx: _Context) -> int:
    """The raw bits (as an unsigned int of ``f.size`` bytes, in the target's byte order's
    sense) of ``value`` stored in format ``f``."""
    if f.fmt in ("binary16", "binary32"):
        code = "<e" if f.fmt == "binary16" else "<f"
        try:
            raw = int.from_bytes(struct.pack(code, value), "little")
        except (OverflowError, struct.error):
            raise ValueRangeError(f"{path} = {_show(value)} does not fit a {f.fmt} "
                                  f"({f.size}-byte float) on {ctx.target}", path,
                                  value) from None
        if ctx.exact_floats and not math.isnan(value):
            back = struct.unpack(code, raw.to_bytes(f.size, "little"))[0]
            if back != value:
                raise ValueRangeError(f"{path} = {_show(value)} is not exact as a {f.fmt} "
                                      f"on {ctx.target} (it would be {back!r})", path, value)
        return raw
    d = int.from_bytes(struct.pack("<d", value), "little")
    if f.fmt == "binary64":
        return d
    sign, exp, frac = d >> 63, (d >> 52) & 0x7FF, d & ((1 << 52) - 1)
    if f.fmt == "ibm128":
        hi = d  # the pair (value, 0.0): exact
        return (hi << 64) if ctx.endian == "big" else hi
    ebits, fbits = _IEEE["binary128"] if f.fmt == "binary128" else (15, 63)
    if exp == 0x7FF:  # inf, nan
        e, mant = (1 << ebits) - 1, frac << (fbits - 52)
    elif exp == 0 and frac == 0:
        e, mant = 0, 0
    else:
        if exp == 0:  # subnormal double: normalise (the wider exponent has room)
            shift = 53 - frac.bit_length()
            frac = (frac << shift) & ((1 << 52) - 1)
            exp = 1 - shift
        e = exp - 1023 + (1 << (ebits - 1)) - 1
        mant = frac << (fbits - 52)
    if f.fmt == "binary128":
        return (sign << 127) | (e << 112) | mant
    # x87 and m68k: explicit integer bit in a 64-bit significand
    if e != 0 or mant != 0:
        mant |= 1 << 63
    if exp == 0x7FF and frac == 0:
        mant = 1 << 63
    se = (sign << 15) | e
    return (se << 80) | mant if f.fmt == "m68k" else (se << 64) | mant


def _float_value(raw: int, f: _Float, path: str, ctx: _Context) -> float:
    if f.fmt in ("binary16", "binary32", "binary64"):
        code = {"binary16": "<e", "binary32": "<f", "binary64": "<d"}[f.fmt]
        value: float = struct.unpack(code, raw.to_bytes(f.size, "little"))[0]
        return value
    if f.fmt == "ibm128":
        hi, lo = (raw >> 64, raw & ((1 << 64) - 1)) if ctx.endian == "big" \
            else (raw & ((1 << 64) - 1), raw >> 64)
        h = struct.unpack("<d", hi.to_bytes(8, "little"))[0]
        lo_v = struct.unpack("<d", lo.to_bytes(8, "little"))[0]
        if lo_v != 0.0 and math.isfinite(h):
            raise ValueRangeError(f"{path}: the double-double ({h!r} + {lo_v!r}) on "
                                  f"{ctx.target} is not exact as a Python float", path, raw)
        return float(h)
    if f.fmt == "binary128":
        sign, e, mant, ebits, fbits = raw >> 127, (raw >> 112) & 0x7FFF, \
            raw & ((1 << 112) - 1), 15, 112
        explicit = False
    else:
        se = raw >> 80 if f.fmt == "m68k" else raw >> 64
        sign, e, mant, ebits, fbits = se >> 15, se & 0x7FFF, raw & ((1 << 64) - 1), 15, 63
        explicit = True
    if e == (1 << ebits) - 1:
        frac = mant & ((1 << fbits) - 1)
        if frac == 0:
            return -math.inf if sign else math.inf
        return math.nan
    if explicit:
        significand, scale = mant, e - 16383 - 63
        if e == 0:
            scale = 1 - 16383 - 63
    else:
        significand = mant | ((1 << fbits) if e else 0)
        scale = (e if e else 1) - ((1 << (ebits - 1)) - 1) - fbits
    exact = _exact_float(significand, scale)
    if exact is None:
        raise ValueRangeError(f"{path}: the {f.fmt} value on {ctx.target} is not exact as a "
                              "Python float (more precision or range than a double)",
                              path, raw)
    return -exact if sign else exact


def _exact_float(significand: int, scale: int) -> float | None:
    """significand * 2**scale as a float, or None when a double cannot hold it exactly."""
    if significand == 0:
        return 0.0
    try:
        value = math.ldexp(float(significand), scale)
    except OverflowError:
        return None
    if not math.isfinite(value):
        return None
    num, den = value.as_integer_ratio()
    if scale >= 0:
        return value if num == significand << scale and den == 1 else None
    return value if num << -scale == significand * den else None


class _Writer:
    """Fills a zeroed buffer bit by bit, remembering which bits are set (for unions)."""

    def __init__(self, size: int, ctx: _Context) -> None:
        self.buf = bytearray(size)
        self.mask = bytearray(size)
        self.owner: dict[int, str] = {}
        self.ctx = ctx

    def record(self, members: Sequence[Member], values: Mapping[str, Any], path: str,
               base: int) -> None:
        known = _names(members)
        unknown = [k for k in values if k not in known]
        if unknown:
            raise UnknownMemberError(
                f"{_child(path, str(unknown[0]))}: no such member (members: "
                f"{', '.join(known) or 'none'})", _child(path, str(unknown[0])),
                values[unknown[0]])
        self.members(members, values, path, base)

    def members(self, members: Sequence[Member], values: Mapping[str, Any], path: str,
                base: int) -> None:
        for m in members:
            if not m.name:
                self.members(m.members, values, path, base)
            elif m.name in values:
                self.member(m, values[m.name], _child(path, m.name), base)

    def member(self, m: Member, value: Any, path: str, base: int) -> None:
        t = m.type
        if m.bitfield:
            self.leaf(t, value, path, base + m.offset_bits, m.bit_width or 0)
        elif t.kind == "record" and m.members:
            self.nested(value, path, lambda v: self.record(m.members, v, path, base))
        else:
            self.value(t, value, path, base + m.offset_bits)

    def nested(self, value: Any, path: str, fill: Any) -> None:
        if not isinstance(value, Mapping):
            raise ValueRangeError(f"{path} = {_show(value)}: expects a dict of member values",
                                  path, value)
        fill(value)

    def value(self, t: CType, value: Any, path: str, at: int) -> None:
        """A whole (non-bitfield) object of type ``t`` at bit ``at``."""
        if t.kind == "record":
            if not t.record:
                raise UnsupportedTypeError(f"{path}: an element of unnamed record type "
                                           f"({t.spelling}) is not described by the model",
                                           path, value)
            lay = self.ctx.named(t.record, path)
            self.nested(value, path, lambda v: self.record(lay.members, v, path, at))
        elif t.kind == "array":
            dims, element = _dims(t)
            self.array(dims, element, value, path, at)
        else:
            self.leaf(t, value, path, at, (t.size or 0) * 8)

    def array(self, dims: tuple[int | None, ...], element: CType, value: Any, path: str,
              at: int) -> None:
        count = dims[0]
        if isinstance(value, (bytes, bytearray)) and len(dims) == 1 \
                and _is_bytes_element(element):
            value = list(value) if element.signed is False else \
                [b - 256 if b > 127 else b for b in value]
        if not isinstance(value, (list, tuple)):
            raise ValueRangeError(f"{path} = {_show(value)}: expects a list", path, value)
        if count is None:
            if value:
                raise ValueRangeError(f"{path}: a flexible array member holds no elements "
                                      "inside the record; pack its elements separately",
                                      path, value)
            return
        if len(value) > count:
            raise ValueRangeError(f"{path}: {len(value)} elements given for an array of "
                                  f"{count}", path, value)
        stride = _stride(dims[1:], element)
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if len(dims) > 1:
                self.array(dims[1:], element, item, where, at + i * stride)
            else:
                self.value(element, item, where, at + i * stride)

    def leaf(self, t: CType, value: Any, path: str, at: int, width: int) -> None:
        raw = _encode(t, value, path, width, self.ctx)
        self.put(raw, at, width, path, value)

    def put(self, raw: int, at: int, width: int, path: str, value: Any) -> None:
        if width == 0:
            return
        start, end = at // 8, (at + width + 7) // 8
        endian = self.ctx.endian
        shift = at - start * 8 if endian == "little" else (end - start) * 8 - (at - start * 8) \
            - width
        field = ((1 << width) - 1) << shift
        chunk = int.from_bytes(self.buf[start:end], endian)  # type: ignore[arg-type]
        written = int.from_bytes(self.mask[start:end], endian)  # type: ignore[arg-type]
        new = (chunk & ~field) | (raw << shift)
        clash = (chunk ^ new) & written & field
        if clash:
            byte = start + next(i for i in range(end - start)
                                if (clash >> (8 * (end - start - 1 - i) if endian == "big"
                                              else 8 * i)) & 0xFF)
            other = self.owner.get(byte, "another member")
            raise OverlapError(f"{path} = {_show(value)} disagrees with {other}, which "
                               f"shares its bytes on {self.ctx.target} (give one member of "
                               "a union, or values that agree)", path, value)
        n = end - start
        self.buf[start:end] = new.to_bytes(n, endian)  # type: ignore[arg-type]
        self.mask[start:end] = (written | field).to_bytes(n, endian)  # type: ignore[arg-type]
        for b in range(start, end):
            self.owner.setdefault(b, path)


def _stride(inner_dims: tuple[int | None, ...], element: CType) -> int:
    n = (element.size or 0) * 8
    for d in inner_dims:
        n *= d or 0
    return n


def _int_range(signed: bool, width: int) -> tuple[int, int]:
    if signed:
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


def _encode(t: CType, value: Any, path: str, width: int, ctx: _Context) -> int:
    """The raw ``width``-bit pattern of ``value`` stored as type ``t``."""
    kind = t.kind
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueRangeError(f"{path} = {_show(value)}: expects a float", path, value)
        f = _float_format(t, ctx, path)
        try:
            fv = float(value)
        except OverflowError:
            raise ValueRangeError(f"{path} = {_show(value)} does not fit a {f.fmt} on "
                                  f"{ctx.target}", path, value) from None
        if ctx.exact_floats and isinstance(value, int) and int(fv) != value:
            raise ValueRangeError(f"{path} = {value} is not exact as a float", path, value)
        return _float_bits(fv, f, path, ctx)
    if kind == "bool":
        if value not in (0, 1) or isinstance(value, float):
            raise ValueRangeError(f"{path} = {_show(value)}: a _Bool holds False/True (0/1)",
                                  path, value)
        return int(value)
    if kind == "pointer":
        if value is None:
            value = 0
        lo, hi, signed = 0, (1 << width) - 1, False
        what = f"a {width}-bit pointer"
    elif kind == "enum":
        enum = ctx.enum(t)
        if isinstance(value, str):
            names = {c.name: c.value for c in enum.constants} if enum else {}
            if value not in names:
                raise ValueRangeError(f"{path} = {value!r}: not a constant of {t.record}",
                                      path, value)
            value = names[value]
        signed = enum.signed if enum is not None else True
        lo, hi = _int_range(signed, width)
        what = f"{t.spelling} ({'signed' if signed else 'unsigned'} {width} bits)"
    elif kind == "int":
        signed = bool(t.signed)
        lo, hi = _int_range(signed, width)
        what = f"{t.spelling} ({'signed' if signed else 'unsigned'} {width} bits)"
    else:
        raise UnsupportedTypeError(f"{path}: type {t.spelling} ({kind}) is not supported "
                                   "by marshal", path, value)
    if not isinstance(value, int):
        raise ValueRangeError(f"{path} = {_show(value)}: expects an integer", path, value)
    if not lo <= value <= hi:
        raise ValueRangeError(f"{path} = {value} does not fit {what} on {ctx.target} "
                              f"(range {lo}..{hi})", path, value)
    return value & ((1 << width) - 1)


class _Reader:
    def __init__(self, data: bytes, ctx: _Context) -> None:
        self.data = data
        self.ctx = ctx

    def record(self, members: Sequence[Member], path: str, base: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.members(members, path, base, out)
        return out

    def members(self, members: Sequence[Member], path: str, base: int,
                out: dict[str, Any]) -> None:
        for m in members:
            if not m.name:
                self.members(m.members, path, base, out)
            else:
                out[m.name] = self.member(m, _child(path, m.name), base)

    def member(self, m: Member, path: str, base: int) -> Any:
        t = m.type
        if m.bitfield:
            return self.leaf(t, path, base + m.offset_bits, m.bit_width or 0)
        if t.kind == "record" and m.members:
            return self.record(m.members, path, base)
        return self.value(t, path, base + m.offset_bits)

    def value(self, t: CType, path: str, at: int) -> Any:
        if t.kind == "record":
            if not t.record:
                raise UnsupportedTypeError(f"{path}: an element of unnamed record type "
                                           f"({t.spelling}) is not described by the model",
                                           path, None)
            lay = self.ctx.named(t.record, path)
            return self.record(lay.members, path, at)
        if t.kind == "array":
            dims, element = _dims(t)
            return self.array(dims, element, path, at)
        return self.leaf(t, path, at, (t.size or 0) * 8)

    def array(self, dims: tuple[int | None, ...], element: CType, path: str,
              at: int) -> list[Any]:
        count = dims[0]
        if count is None:
            return []
        stride = _stride(dims[1:], element)
        if len(dims) > 1:
            return [self.array(dims[1:], element, f"{path}[{i}]", at + i * stride)
                    for i in range(count)]
        return [self.value(element, f"{path}[{i}]", at + i * stride) for i in range(count)]

    def leaf(self, t: CType, path: str, at: int, width: int) -> Any:
        start, end = at // 8, (at + width + 7) // 8
        endian = self.ctx.endian
        shift = at - start * 8 if endian == "little" else (end - start) * 8 - (at - start * 8) \
            - width
        chunk = int.from_bytes(self.data[start:end], endian)  # type: ignore[arg-type]
        raw = (chunk >> shift) & ((1 << width) - 1) if width else 0
        return _decode(t, raw, path, width, self.ctx)


def _decode(t: CType, raw: int, path: str, width: int, ctx: _Context) -> Any:
    kind = t.kind
    if kind == "float":
        return _float_value(raw, _float_format(t, ctx, path), path, ctx)
    if kind == "bool":
        if raw > 1:
            raise ValueRangeError(f"{path}: holds {raw} on {ctx.target}, not a valid _Bool "
                                  "(0 or 1)", path, raw)
        return bool(raw)
    if kind == "pointer":
        return raw
    if kind == "enum":
        enum = ctx.enum(t)
        signed = enum.signed if enum is not None else True
    elif kind == "int":
        signed = bool(t.signed)
    else:
        raise UnsupportedTypeError(f"{path}: type {t.spelling} ({kind}) is not supported "
                                   "by marshal", path, None)
    if signed and width and raw >> (width - 1):
        return raw - (1 << width)
    return raw
