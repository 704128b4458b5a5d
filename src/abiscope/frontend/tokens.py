"""What clang does not expose, read from a declaration's tokens: ``aligned(...)`` arguments,
``#pragma pack`` state, macro bodies (:class:`LazyMacros`), and the attributes GCC ignores.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from .bindings import known_size, load_cindex, macro_function_like, spelled_text
from .facts import children_of


def gcc_ignores(field: Any) -> bool:
    """Whether an anonymous struct/union member has attributes written before its keyword
    (``__attribute__((aligned(8))) struct { … };``): GCC ignores them, silently, and
    clang applies them. (Written after the keyword or the body, they are the type's.)"""
    if not field.has_attrs():
        return False
    ck = load_cindex().CursorKind
    children = children_of(field, (ck.STRUCT_DECL, ck.UNION_DECL, ck.ALIGNED_ATTR,
                                 ck.PACKED_ATTR))
    body = next((c.extent.start.offset for c in children
                 if c.kind in (ck.STRUCT_DECL, ck.UNION_DECL)), None)
    return body is not None and any(
        c.kind in (ck.ALIGNED_ATTR, ck.PACKED_ATTR) and c.extent.start.offset < body
        for c in children)


def is_function_like(cursor: Any, tokens: list[str] | None = None) -> bool:
    """Whether a macro definition takes arguments (``#define F(x)``, not ``#define F (x)``):
    libclang's own answer. (The bindings do not declare it; reading the tokens again to
    find a ``(`` right after the name took a tenth of ``check``'s parse.)"""
    return bool(macro_function_like()(cursor))


# ---------------------------------------------------------------------------------------
# Declarations for the layout engine (targets whose layout clang gets wrong or cannot know)

QUALIFIER_RE = re.compile(r"\b(const|volatile|restrict|_Atomic)\b\s*")
_PRAGMA_PACK_RE = re.compile(r"^\s*#\s*pragma\s+pack\s*\(([^)]*)\)", re.M)
_INT_LITERAL_RE = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")


_ALIGNOF = frozenset({"__alignof__", "__alignof", "_Alignof", "alignof"})
BASE_TYPE_WORDS = frozenset({"char", "short", "int", "long", "float", "double", "signed",
                             "unsigned", "_Bool", "__int128", "_Complex", "__float128",
                             "_Float16", "const", "volatile"})


def _closing(tokens: list[str], open_at: int) -> int | None:
    """The index of the ``)`` that closes the ``(`` at ``tokens[open_at]``."""
    depth = 0
    for j in range(open_at, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[j], 0)
        if depth == 0:
            return j
    return None


def alignof_names(tokens: list[str]) -> tuple[list[str], bool] | None:
    """The type-name tokens of the first ``_Alignas(T)`` or ``__alignof__(T)`` inside an
    ``aligned(...)`` of a declaration's tokens, if one names a type (not a number), and
    whether it is GNU ``__alignof__``."""
    for i, tok in enumerate(tokens[:-2]):
        if tokens[i + 1] != "(" or not (tok == "_Alignas" or tok in _ALIGNOF):
            continue
        end = _closing(tokens, i + 1)
        inner = [t for t in tokens[i + 2:end] if t not in ("const", "volatile")] \
            if end is not None else []
        if inner and (inner[0] in BASE_TYPE_WORDS or inner[0] in ("struct", "union", "enum")
                      or (len(inner) == 1 and inner[0].isidentifier())):
            return inner, tok in ("__alignof__", "__alignof")
    return None


def _int_literal(token: str) -> int | None:
    m = _INT_LITERAL_RE.match(token)
    if m is None:
        return None
    digits = m.group(1)  # (C's 010 is octal; Python's int(.., 0) refuses it)
    return int(digits, 8) if digits[:1] == "0" and digits.isdigit() else int(digits, 0)


@lru_cache(maxsize=256)
def _pack_pragmas(path: str) -> tuple[tuple[int, int | None], ...]:
    """(line, pack in force after it) for each ``#pragma pack`` of a file, in order.

    Read from the text: a pragma inside ``#if`` is taken as written, and a pack state
    inherited from another file is not seen.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return ()
    stack: list[int | None] = []
    current: int | None = None
    out: list[tuple[int, int | None]] = []
    for m in _PRAGMA_PACK_RE.finditer(text):
        args = [a.strip() for a in m.group(1).split(",") if a.strip()]
        numbers = [n for n in (_int_literal(a) for a in args) if n is not None]
        if args and args[0] == "push":
            stack.append(current)
            current = numbers[0] if numbers else current
        elif args and args[0] == "pop":
            current = stack.pop() if stack else None
        else:
            current = numbers[0] if numbers else None
        out.append((text.count("\n", 0, m.start()) + 1, current))
    return tuple(out)


def pack_at(path: str, line: int) -> int | None:
    state: int | None = None
    for at, pack in _pack_pragmas(path):
        if at >= line:
            break
        state = pack
    return state


def _eval_tokens(tokens: list[str], macros: Mapping[str, list[str]]) -> int | None:
    """An integer constant expression of literals, arithmetic and object-like macros (put
    in as text, as the preprocessor does: ``#define A 1 + 1`` makes ``A * 2`` 3)."""
    expanded = _expand(tokens, macros, _functions(macros), frozenset(), [_MACRO_BUDGET], 0)
    if expanded is None:
        return None
    if isinstance(macros, LazyMacros):  # (a name left is an enumerator, or an error)
        named = [(t, macros.enumerator(t) if t.isidentifier() else None) for t in expanded]
        expanded = [part for t, v in named for part in (
            [t] if v is None else [str(v)] if v >= 0 else ["(", "-", str(-v), ")"])]
    return _ConstantExpression(expanded).value()


_LIMIT = 1 << 64  # every value and result within (-2^64, 2^64): C's widest integers
# binary operators and their precedence, loosest first (C11 6.5.5-6.5.14)
_PRECEDENCE = {op: level for level, ops in enumerate((
    ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
    ("<<", ">>"), ("+", "-"), ("*", "/", "%"))) for op in ops}


class _Undefined(ValueError):
    """A value C leaves undefined: no value, unless the subexpression is not evaluated."""


class _ConstantExpression:
    """C's integer constant expression over literal tokens, with C's arithmetic: division
    truncates toward zero, and a value, shift or division that C leaves undefined (out of
    64 bits, a negative or too wide shift, by zero) is no value. Python's ``eval`` floored
    (``-17 / 4`` was -5) and computed a ``1 << 4000000000`` of half a gigabyte. As in C,
    ``&&``, ``||`` and ``?:`` do not evaluate the operand they skip: ``0 && 1 / 0`` is 0."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0
        self.skipping = 0  # (inside operands that are not evaluated: their values are 0)

    def value(self) -> int | None:
        try:
            result = self._conditional()
        except (ValueError, RecursionError):  # (nesting deeper than Python's stack)
            return None
        return result if self.at == len(self.tokens) else None

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(expected or "end of expression")
        self.at += 1
        return token

    def _operand(self, evaluated: bool, level: int | None = None) -> int:
        """The next operand (a conditional expression, or the operators of ``level`` and
        tighter), or 0 when C does not evaluate it (its syntax still counts)."""
        if not evaluated:
            self.skipping += 1
        try:
            value = self._conditional() if level is None else self._binary(level)
        finally:
            if not evaluated:
                self.skipping -= 1
        return value if evaluated else 0

    def _defined(self, op: str, left: int, right: int | None = None) -> int:
        """``op`` applied (unary when ``right`` is None), within 64 bits; what C leaves
        undefined is no value, and 0 in an operand that is not evaluated."""
        try:
            return _checked(_apply(op, left, right) if right is not None
                            else int(_UNARY[op](left)))
        except _Undefined:
            if self.skipping:
                return 0
            raise

    def _conditional(self) -> int:
        test = self._binary(0)
        if self._peek() != "?":
            return test
        self._take("?")
        yes = self._operand(bool(test))
        self._take(":")
        no = self._operand(not test)
        return yes if test else no

    def _binary(self, loosest: int) -> int:
        """Operators of precedence ``loosest`` or tighter (precedence climbing)."""
        left = self._unary()
        while True:
            level = _PRECEDENCE.get(self._peek() or "", -1)
            if level < loosest:
                return left
            op = self._take()
            evaluated = not ((op == "&&" and not left) or (op == "||" and left))
            right = self._operand(evaluated, level + 1)
            left = self._defined(op, left, right)

    def _unary(self) -> int:
        token = self._take()
        if token == "(":
            inner = self._conditional()
            self._take(")")
            return inner
        if token in ("-", "+", "~", "!"):
            return self._defined(token, self._unary())
        literal = _int_literal(token)
        if literal is None:
            raise ValueError(token)
        return _checked(literal)  # (a literal past 64 bits is an error even unevaluated)


_UNARY: dict[str, Callable[[int], int | bool]] = {
    "-": operator.neg, "+": operator.pos, "~": operator.invert, "!": operator.not_}
_BINARY_OPERATORS: dict[str, Callable[[int, int], int | bool]] = {
    "||": lambda a, b: bool(a or b), "&&": lambda a, b: bool(a and b),
    "|": operator.or_, "^": operator.xor, "&": operator.and_,
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
    "<=": operator.le, ">=": operator.ge,
    "+": operator.add, "-": operator.sub, "*": operator.mul,
}


def _checked(value: int) -> int:
    if not -_LIMIT < value < _LIMIT:
        raise _Undefined("out of range")
    return value


def _apply(op: str, left: int, right: int) -> int:
    if op in ("/", "%"):
        if right == 0:
            raise _Undefined("division by zero")
        quotient = abs(left) // abs(right) * (1 if (left < 0) == (right < 0) else -1)
        return quotient if op == "/" else left - right * quotient
    if op in ("<<", ">>"):
        if not 0 <= right < 64:
            raise _Undefined("shift")
        return left << right if op == "<<" else left >> right
    return int(_BINARY_OPERATORS[op](left, right))  # (C's comparisons give 0 or 1)


def read_macros(tu: Any) -> dict[str, list[str]]:
    """Object-like macro bodies of a translation unit parsed with a detailed record."""
    ck = load_cindex().CursorKind
    macros: dict[str, list[str]] = {}
    for cursor in children_of(tu.cursor, (ck.MACRO_DEFINITION,)):
        tokens = [t.spelling for t in cursor.get_tokens()]
        if len(tokens) > 1 and not is_function_like(cursor, tokens):
            macros[tokens[0]] = tokens[1:]
    return macros


FunctionMacro = tuple[tuple[str, ...], tuple[str, ...]]  # parameters, body


def _function_macro(tokens: list[str]) -> FunctionMacro | None:
    """``NAME ( P1 , P2 ) BODY`` as (parameters, body); None for what substituting
    arguments would not expand as the preprocessor does (``#``, ``##``, ``...``)."""
    try:
        close = tokens.index(")")
    except ValueError:
        return None
    params = tuple(t for t in tokens[2:close] if t != ",")
    body = tuple(tokens[close + 1:])
    if "..." in params or "#" in body or "##" in body:
        return None
    return params, body


def _call_arguments(tokens: list[str], open_at: int) -> tuple[list[list[str]], int] | None:
    """The arguments of the call whose ``(`` is ``tokens[open_at]``, and the index of its
    ``)``; None when it does not close."""
    args: list[list[str]] = [[]]
    depth = 0
    for i in range(open_at, len(tokens)):
        tok = tokens[i]
        if tok in ("(", "[", "{"):
            depth += 1
            if depth == 1:
                continue
        elif tok in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return args, i
        elif tok == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(tok)
    return None


class _UnitMacros:
    """What :class:`LazyMacros` reads off one translation unit, once, when first asked:
    its macro definitions by name, the tokens of each, and its file-scope enumerators."""

    def __init__(self, tu: Any) -> None:
        self.tu = tu
        self._index: dict[str, list[Any]] | None = None
        self.tokens: dict[int, list[str]] = {}  # definition cursor's hash -> its tokens
        self._enumerators: dict[str, int] | None = None

    @property
    def index(self) -> dict[str, list[Any]]:
        if self._index is None:
            kind = load_cindex().CursorKind.MACRO_DEFINITION
            index: dict[str, list[Any]] = {}
            for cursor in children_of(self.tu.cursor, (kind,)):
                index.setdefault(cursor.spelling, []).append(cursor)
            self._index = index
        return self._index

    @property
    def enumerators(self) -> dict[str, int]:
        """Every file-scope enumerator, those of enums declared inside a struct or union
        too (C puts them in the enclosing scope)."""
        if self._enumerators is None:
            ck = load_cindex().CursorKind
            values: dict[str, int] = {}
            scopes = [self.tu.cursor]
            while scopes:
                for child in children_of(scopes.pop(), (ck.ENUM_DECL, ck.STRUCT_DECL,
                                                        ck.UNION_DECL)):
                    if child.kind != ck.ENUM_DECL:
                        scopes.append(child)
                        continue
                    for constant in children_of(child, (ck.ENUM_CONSTANT_DECL,)):
                        values.setdefault(constant.spelling, int(constant.enum_value))
            self._enumerators = values
        return self._enumerators


class LazyMacros(Mapping[str, list[str]]):
    """:func:`read_macros` of a translation unit, read one macro at a time when asked.

    A batch of Linux headers defines tens of thousands of macros, and reading every body
    (``get_tokens``) took longer than walking the records; an attribute argument needs a
    handful. The index of definitions by name is built on the first lookup. As in
    :func:`read_macros`, the last definition of a name counts; :meth:`at` gives the table
    as it stands at a place in the unit instead (the preprocessor's view there).
    """

    def __init__(self, tu: Any, before: Any = None, unit: _UnitMacros | None = None) -> None:
        self.tu = tu
        self.before = before  # a source location of ``tu``: only definitions before it
        self._unit = unit if unit is not None else _UnitMacros(tu)
        self._bodies: dict[str, list[str] | None] = {}
        self._functions: dict[str, FunctionMacro | None] = {}

    def at(self, location: Any) -> LazyMacros:
        """The macros in force at ``location`` (of this unit, or of another parse of the
        same text: the place is found again by file and offset): for each name, its last
        definition before it. One ``#undef``-ed before it left the name an identifier
        there, which a unit that parsed without errors did not expand; so the last
        definition before it is the one in force, or the name is no macro there."""
        ci = load_cindex()
        where, place = location.file, None
        if where is not None:
            handle = ci.conf.lib.clang_getFile(self.tu, where.name)
            if handle:  # (else no place: the last definitions count)
                place = ci.conf.lib.clang_getLocationForOffset(self.tu, ci.File(handle),
                                                               location.offset)
        return LazyMacros(self.tu, place, self._unit)

    def enumerator(self, name: str) -> int | None:
        """The value of the file-scope enumerator ``name``, if the unit declares one. An
        identifier that is no macro in an integer constant expression must be one
        declared before it, so the unit's one of that name is it (C gives an enumerator
        one name per scope)."""
        return self._unit.enumerators.get(name)

    def _in_force(self, name: str) -> tuple[Any, list[str]] | None:
        """The definition of ``name`` that counts here, and its tokens."""
        definitions = self._unit.index.get(name)
        if not definitions:
            return None
        cursor = definitions[-1]
        if self.before is not None:
            before = load_cindex().conf.lib.clang_isBeforeInTranslationUnit
            earlier = [d for d in definitions if before(d.location, self.before)]
            if not earlier:
                return None
            cursor = earlier[-1]
        known = self._unit.tokens
        key = cursor.hash
        if key not in known:
            known[key] = [t.spelling for t in cursor.get_tokens()]
        return cursor, known[key]

    def _body(self, name: str) -> list[str] | None:
        if name not in self._bodies:
            found = self._in_force(name)
            body = None
            if found is not None:
                cursor, tokens = found
                if len(tokens) > 1 and not is_function_like(cursor, tokens):
                    body = tokens[1:]
            self._bodies[name] = body
        return self._bodies[name]

    def function_like(self, name: str) -> FunctionMacro | None:
        """The parameters and body of ``name`` when the definition that counts is a
        function-like macro that :func:`expand_macros` can expand (no ``#``, ``##`` or
        ``...``)."""
        if name not in self._functions:
            found = self._in_force(name)
            macro = None
            if found is not None:
                cursor, tokens = found
                if len(tokens) > 2 and is_function_like(cursor, tokens):
                    macro = _function_macro(tokens)
            self._functions[name] = macro
        return self._functions[name]

    def __getitem__(self, name: str) -> list[str]:
        body = self._body(name)
        if body is None:
            raise KeyError(name)
        return body

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._body(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (n for n in list(self._unit.index) if self._body(n) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class NeedsMacros(Exception):
    """An attribute argument comes from a macro and the macro table was not read."""


AlignOf = Callable[[tuple[str, ...], bool], "int | None"]  # type words, GNU -> alignment


def _type_alignment(tokens: list[str], alignof: AlignOf | None) -> int | None:
    """``aligned(__alignof__(T))``, ``aligned(_Alignof(T))`` or ``_Alignas(T)`` at the
    start of ``tokens``, the whole argument (:func:`alignof_names`): ``alignof(T, gnu)``."""
    if alignof is None or tokens[1:2] != ["("]:
        return None
    close = _closing(tokens, 1)
    if close is None:
        return None
    if tokens[0] == "_Alignas":
        found = alignof_names(tokens[:close + 1])
    elif tokens[2:3] and tokens[2] in _ALIGNOF and _closing(tokens, 3) == close - 1:
        found = alignof_names(tokens[2:close])
    else:
        return None
    return None if found is None else alignof(tuple(found[0]), found[1])


def attr_argument(tokens: list[str], macros: Mapping[str, list[str]] | None,
                  alignof: AlignOf | None = None) -> int | None:
    """The value of ``aligned ( EXPR )`` at the start of ``tokens`` (``alignof``: how to
    size a type it names, when it names one)."""
    if len(tokens) >= 4 and tokens[1] == "(" and tokens[3] == ")":
        literal = _int_literal(tokens[2])
        if literal is not None:
            return literal
    named = _type_alignment(tokens, alignof)
    if named is not None:
        return named
    if len(tokens) > 3 and tokens[1] == "(" and macros is not None:
        end = _closing(tokens, 1)
        return _eval_tokens(tokens[2:end if end is not None else len(tokens)], macros)
    return None


def expand_macros(tokens: list[str], macros: Mapping[str, list[str]]) -> list[str]:
    """Object-like macros in ``tokens`` replaced by their bodies, and, with a
    :class:`LazyMacros` table, calls of function-like macros by their bodies with the
    arguments put in (the kernel's ``__aligned(8)``); ``tokens`` as they are past the
    budget."""
    expanded = _expand(tokens, macros, _functions(macros), frozenset(), [_MACRO_BUDGET], 0)
    return tokens if expanded is None else expanded


def _functions(macros: Mapping[str, list[str]]) -> Callable[[str], FunctionMacro | None] | None:
    """How to look a function-like macro up: only a :class:`LazyMacros` table keeps them."""
    return macros.function_like if isinstance(macros, LazyMacros) else None


# Macro expansions one evaluation may make, and how deep: a hostile header's exponential
# macros stop there (real alignments use a handful).
_MACRO_BUDGET = 10_000
_MACRO_DEPTH = 64


def _expand(tokens: list[str], macros: Mapping[str, list[str]],
            functions: Callable[[str], FunctionMacro | None] | None, active: frozenset[str],
            budget: list[int], depth: int) -> list[str] | None:
    """:func:`expand_macros` as the preprocessor rescans: a macro is not expanded again
    inside its own expansion (``#define N (N + 1)``), a call's arguments are expanded
    before they are put in; None past the budget (``budget[0]`` expansions in all)."""
    if depth > _MACRO_DEPTH:
        return None
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in active or not tok.isidentifier():
            out.append(tok)
        elif tok in macros:
            budget[0] -= 1
            inner = None if budget[0] < 0 else \
                _expand(macros[tok], macros, functions, active | {tok}, budget, depth + 1)
            if inner is None:
                return None
            out += inner
        elif functions is not None and tokens[i + 1:i + 2] == ["("]:
            macro, call = functions(tok), _call_arguments(tokens, i + 1)
            if macro is None or call is None or \
                    len(call[0]) != max(len(macro[0]), 1) or (not macro[0] and call[0][0]):
                out.append(tok)
            else:
                budget[0] -= 1
                args = [None if budget[0] < 0 else
                        _expand(a, macros, functions, active, budget, depth + 1)
                        for a in call[0]]
                if any(a is None for a in args):
                    return None
                given = {p: a for p, a in zip(macro[0], args, strict=False) if a is not None}
                body = [t for b in macro[1] for t in given.get(b, [b])]
                inner = _expand(body, macros, functions, active | {tok}, budget, depth + 1)
                if inner is None:
                    return None
                out += inner
                i = call[1]
        else:
            out.append(tok)
        i += 1
    return out


def _spelled_tokens(cursor: Any) -> list[str]:
    """The tokens of a declaration as written, also when it starts with a macro (libclang's
    own ``get_tokens`` gives none for an extent that begins inside a macro expansion)."""
    tokens = [t.spelling for t in cursor.get_tokens()]
    extent, where = cursor.extent, cursor.location.file
    if tokens or where is None:
        return tokens
    ci = load_cindex()
    tu = cursor.translation_unit
    span = ci.SourceRange.from_locations(
        ci.SourceLocation.from_position(tu, where, extent.start.line, extent.start.column),
        ci.SourceLocation.from_position(tu, where, extent.end.line, extent.end.column))
    return [t.spelling for t in tu.get_tokens(extent=span)]


def _tokens_after(cursor: Any, last_line: int | None = None) -> Iterator[Any]:
    """The tokens that follow a declaration's extent in its file (up to ``last_line``, else
    eight lines on): an attribute macro after a declarator or a struct's body, a typedef's
    name. None when the cursor has no file."""
    extent, where = cursor.extent, cursor.location.file
    if where is None:
        return iter(())
    ci = load_cindex()
    tu = cursor.translation_unit
    span = ci.SourceRange.from_locations(
        ci.SourceLocation.from_position(tu, where, extent.end.line, extent.end.column),
        ci.SourceLocation.from_position(tu, where, last_line or extent.end.line + 8, 1 << 16))
    return iter(tu.get_tokens(extent=span))


def declaration_tokens(cursor: Any) -> list[str]:
    """The tokens of a declaration as written, without the bodies in braces (a struct's
    members, with attributes of their own), and with what follows the declaration's
    extent up to the ``;``, ``,`` or ``}`` that ends it: an attribute macro after the
    declarator (``int x A8;``) or after a struct's body is outside clang's extent."""
    tokens: list[str] = []
    braces = 0
    for text in _spelled_tokens(cursor):
        if text == "{":
            braces += 1
        elif text == "}" and braces:
            braces -= 1
        elif not braces:
            tokens.append(text)
    ck = load_cindex().CursorKind
    parent = cursor.semantic_parent
    in_record = parent is not None and parent.kind in (ck.STRUCT_DECL, ck.UNION_DECL)
    depth = 0
    for token in _tokens_after(cursor, parent.extent.end.line if in_record else None):
        text = token.spelling
        if depth == 0 and text in (";", ",", "}", "{"):
            break
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
        tokens.append(text)
    return tokens


def naming_typedef(record: Any, name: str) -> Any | None:
    """The typedef that names an untagged struct or union (``typedef struct { … } T;``,
    ``name`` being ``T``), found at its name after the body; None for a tagged record or
    when a macro spells the name. An ``aligned`` on it sets ``_Alignof(T)`` (raised or
    lowered), not the struct's size."""
    if name.startswith(("struct ", "union ")) or record.spelling != name:
        return None
    ci = load_cindex()
    for token in _tokens_after(record):
        if token.spelling == name:
            found = ci.Cursor.from_location(record.translation_unit, token.location)
            return found if found.kind == ci.CursorKind.TYPEDEF_DECL else None
        if token.spelling in (";", "{", "}"):
            break
    return None


_C_TOKEN_RE = re.compile(r"\w+|<<|>>|&&|\|\||[^\s\w]")
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _spelled_attribute(attr: Any) -> list[str]:
    """An alignment attribute's tokens as its macro's body spells them (Linux's
    ``__aligned_u64``: ``aligned ( 8 )`` in ``linux/types.h``), up to the ``)`` that closes
    its argument: the attribute has no tokens of its own where the macro is used. A
    parameter or a macro among them is read through the macro table as before; without
    this, a unit whose records hold ``__aligned_u64`` was parsed again with the record."""
    tokens = _C_TOKEN_RE.findall(_COMMENT_RE.sub(" ", spelled_text(attr, 256)))
    if tokens[1:2] != ["("]:
        return tokens[:1]  # (a bare ``aligned``)
    close = _closing(tokens, 1)
    return tokens[:close + 1] if close is not None else []


def align_attr(cursor: Any, strict: bool = False,
               macros: Mapping[str, list[str]] | None = None,
               alignof: AlignOf | None = None) -> int | None:
    """The largest ``aligned(N)``/``_Alignas(N)`` on a declaration, if it has any.

    Read from the attribute's tokens: an integer literal, or arithmetic over object-like
    macros; a bare ``aligned`` is 0 ("the target's biggest alignment", which the data model
    resolves). An attribute written inside a macro defined in another file (Linux's
    ``__aligned_u64``) has no tokens of its own: the declaration's tokens are expanded
    through ``macros`` instead, and :class:`NeedsMacros` is raised when no table was read.
    ``alignof`` sizes a type an argument names (``aligned(__alignof__(long long))``, clang's
    ``max_align_t``). What still cannot be read takes, when ``strict``, clang's alignment of
    the declaration on the parse target, and otherwise counts as absent.
    """
    if not cursor.has_attrs():  # (one call, where a visit of its children is many)
        return None
    ck = load_cindex().CursorKind
    found: int | None = None
    for child in cursor.get_children():
        if child.kind != ck.ALIGNED_ATTR:
            continue
        if isinstance(macros, LazyMacros) and macros.before is None:
            macros = macros.at(cursor.location)  # (the definitions in force there)
        tokens = [t.spelling for t in child.get_tokens()]
        if tokens[:1] == ["_Alignas"]:
            tokens = [t.spelling for t in cursor.get_tokens()]
            tokens = tokens[tokens.index("_Alignas"):] if "_Alignas" in tokens else tokens
        elif not tokens:  # written in a macro of another file (Linux's __aligned_u64)
            tokens = _spelled_attribute(child)
        value = 0 if tokens in (["aligned"], ["__aligned__"]) else \
            attr_argument(tokens, macros, alignof) if tokens[:1] in (
                ["aligned"], ["__aligned__"], ["_Alignas"], ["align"]) else None
        if value is None:
            if macros is None:
                if not strict:
                    raise NeedsMacros(str(cursor.spelling))
            else:
                # (every alignment of the declaration, the largest: the attribute
                # cursors of two macros cannot be told apart)
                expanded = expand_macros(declaration_tokens(cursor), macros)
                values = [0 if expanded[i + 1:i + 2] != ["("] else
                          attr_argument(expanded[i:], macros, alignof)
                          for i, tok in enumerate(expanded)
                          if tok in ("aligned", "__aligned__", "_Alignas", "align")]
                value = max((v for v in values if v is not None), default=None)
        if value is None:
            if not strict:
                continue
            value = known_size(cursor.type.get_align()) or 1
        found = max(found or 0, value)
    return found
