"""A small subset of FEEL, enough to decide a form field's ``conditional.hide``.

Camunda Modeler writes a field's show/hide rule as a FEEL expression
(``=express != true``, ``=not(country = "ID" or country = "SG")``).
The server must evaluate the same rule as the browser to know whether a required
field is asked for, so this module reads the part of FEEL such rules use:

* literals: strings in double quotes, numbers, ``true``, ``false``, ``null``,
  lists ``[a, b]``;
* names and dotted paths (``pabrik.alamat``), looked up in the form's data; an
  unknown name is ``null``, as in FEEL;
* comparisons ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; ``x in [a, b]``;
* ``and``, ``or``, ``not(...)``, parentheses; ``x is null`` is not FEEL and not read.

FEEL's three-valued logic is kept where it matters: comparing values of different
types gives ``null``, and ``null`` is neither true nor false, so a rule that cannot
decide hides nothing (form-js hides a field only when its rule gives ``true``).
:func:`compile_feel` returns None for anything outside the subset; the caller then
falls back to treating the field as maybe hidden (never required).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

Scope = Mapping[str, Any]
Compiled = Callable[[Scope], Any]

_TOKEN: Final = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|=|<|>|\(|\)|\[|\]|,)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""", re.VERBOSE)
_COMPARISONS: Final = ("=", "!=", "<", "<=", ">", ">=")


class _Unsupported(Exception):
    """The expression uses FEEL this module does not read."""


def compile_feel(expression: str) -> Compiled | None:
    """Compile ``expression`` (with or without the leading ``=``); None if not in the subset."""
    text = expression.strip()
    if text.startswith("="):
        text = text[1:]
    try:
        tokens = _tokenise(text)
        parser = _Parser(tokens)
        compiled = parser.disjunction()
        if parser.position != len(tokens):
            raise _Unsupported("trailing input")
    except _Unsupported:
        return None
    return compiled


def is_true(compiled: Compiled, scope: Scope) -> bool:
    """Whether the rule gives exactly ``true`` (``null`` and ``false`` do not hide)."""
    return compiled(scope) is True


def _tokenise(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _Unsupported(f"cannot read {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens; each method returns a compiled closure."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (value is not None and token[1] != value):
            raise _Unsupported(f"expected {value!r}")
        self.position += 1
        return token

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token[0] == "name" and token[1] == word

    def disjunction(self) -> Compiled:
        parts = [self.conjunction()]
        while self._at_word("or"):
            self._take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _or(parts)

    def conjunction(self) -> Compiled:
        parts = [self.comparison()]
        while self._at_word("and"):
            self._take()
            parts.append(self.comparison())
        return parts[0] if len(parts) == 1 else _and(parts)

    def comparison(self) -> Compiled:
        left = self.operand()
        token = self._peek()
        if token is not None and token[0] == "op" and token[1] in _COMPARISONS:
            self._take()
            return _compare(token[1], left, self.operand())
        if self._at_word("in"):
            self._take()
            return _member(left, self.operand())
        return left

    def operand(self) -> Compiled:
        token = self._peek()
        if token is None:
            raise _Unsupported("unexpected end")
        kind, text = token
        if kind == "string":
            self._take()
            value = bytes(text[1:-1], "utf-8").decode("unicode_escape")
            return lambda scope: value
        if kind == "number":
            self._take()
            number = Decimal(text)
            return lambda scope: number
        if text == "(":
            self._take()
            inner = self.disjunction()
            self._take(")")
            return inner
        if text == "[":
            return self._list()
        if kind == "name":
            return self._name()
        raise _Unsupported(f"unexpected {text!r}")

    def _list(self) -> Compiled:
        self._take("[")
        items: list[Compiled] = []
        while (self._peek() or ("", ""))[1] != "]":
            items.append(self.disjunction())
            if (self._peek() or ("", ""))[1] == ",":
                self._take()
        self._take("]")
        return lambda scope: [item(scope) for item in items]

    def _name(self) -> Compiled:
        _, text = self._take()
        constants: dict[str, Any] = {"true": True, "false": False, "null": None}
        if text in constants:
            constant = constants[text]
            return lambda scope: constant
        if text == "not":
            self._take("(")
            inner = self.disjunction()
            self._take(")")
            return lambda scope: _negate(inner(scope))
        if text in ("and", "or", "in", "if", "then", "else", "for", "some", "every"):
            raise _Unsupported(f"unexpected {text!r}")
        if (self._peek() or ("", ""))[1] == "(":
            raise _Unsupported(f"function {text!r}")
        path = text.split(".")
        return lambda scope: _lookup(scope, path)


def _lookup(scope: Scope, path: list[str]) -> Any:
    value: Any = scope
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _negate(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else None


def _and(parts: list[Compiled]) -> Compiled:
    def run(scope: Scope) -> Any:
        values = [part(scope) for part in parts]
        if any(v is False for v in values):
            return False
        return True if all(v is True for v in values) else None
    return run


def _or(parts: list[Compiled]) -> Compiled:
    def run(scope: Scope) -> Any:
        values = [part(scope) for part in parts]
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    return run


def _comparable(value: Any) -> Any:
    """Numbers compare as decimals whatever their Python type; the rest as they are."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return value


def _same_type(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return type(a) is type(b)


def _compare(op: str, left: Compiled, right: Compiled) -> Compiled:
    def run(scope: Scope) -> Any:
        a, b = _comparable(left(scope)), _comparable(right(scope))
        if op in ("=", "!="):
            if a is None or b is None:
                equal = a is None and b is None  # FEEL: null = null, null != anything else
            elif not _same_type(a, b):
                return None
            else:
                equal = a == b
            return equal if op == "=" else not equal
        if a is None or b is None or not _same_type(a, b) or isinstance(a, (bool, list)):
            return None
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    return run


def _member(left: Compiled, right: Compiled) -> Compiled:
    def run(scope: Scope) -> Any:
        value, options = _comparable(left(scope)), right(scope)
        if not isinstance(options, list):
            return None
        return any(_same_type(value, o) and value == o
                   for o in (_comparable(o) for o in options))
    return run
