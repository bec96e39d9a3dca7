"""One JUEL expression translated into Python: parsed with the grammar, then emitted
bottom-up, every operation parenthesized so that JUEL's meaning survives."""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedInput, VisitError
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive, v_args

from .errors import JuelError, describe
from .grammar import BINARY_OPERATORS, PARSER, RESERVED_WORDS
from .methods import CONTEXT_OBJECTS, context_call, context_property, function_call, value_call

# Deeper expressions are refused before Python's own parser limits are reached;
# one JUEL level becomes at most three levels of brackets in the Python emitted.
MAX_DEPTH = 64


def to_python(body: str, origin: int = 1) -> str:
    """Translate the body of one ``${...}`` into Python; ``origin`` is its position in the field.

    Raises ``JuelError`` for JUEL that does not parse or has no meaning here.
    """
    if not body.strip():
        raise JuelError("the expression is empty")
    try:
        tree = PARSER.parse(body)
    except UnexpectedInput as exc:
        raise JuelError(describe(body, exc, origin)) from None
    _check_depth(tree)
    try:
        return _Translator(body).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, JuelError):
            raise exc.orig_exc from None
        raise


def _check_depth(tree: Tree[Token]) -> None:
    """Refuse an expression nested deeper than :data:`MAX_DEPTH`, without recursing."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JuelError(f"the expression is nested too deeply (more than {MAX_DEPTH} "
                            "levels); split it into simpler steps")
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


class _Translator(Transformer_NonRecursive[Token, Any]):
    """Emit Python for each node of the parse tree, bottom-up and without recursion.

    Every value emitted is a name, a literal, a call, a subscript or is wrapped
    in parentheses, so it can be put anywhere without changing its meaning.
    """

    def __init__(self, body: str) -> None:
        super().__init__()
        self._body = body

    def __default__(self, data: Any, children: list[Any], meta: Meta) -> str:
        left, right = children
        return f"({left} {BINARY_OPERATORS[data]} {right})"

    # literals and names

    def true(self, _: list[Any]) -> str:
        return "True"

    def false(self, _: list[Any]) -> str:
        return "False"

    def null(self, _: list[Any]) -> str:
        return "None"

    @v_args(inline=True)
    def integer(self, token: Token) -> str:
        return token.lstrip("0") or "0"  # JUEL reads 007 as 7; Python refuses leading zeros

    @v_args(inline=True)
    def decimal(self, token: Token) -> str:
        return str(token)  # EL and Python write floats alike: 1.5, 1e3, .5, 1.

    @v_args(inline=True)
    def string(self, token: Token) -> str:
        return repr(_unescape(token[1:-1]))

    @v_args(inline=True)
    def variable(self, token: Token) -> str:
        return _variable(str(token))

    @v_args(inline=True)
    def group(self, inner: str) -> str:
        return inner  # already safe anywhere, see the class docstring

    # operators

    @v_args(inline=True)
    def conditional(self, condition: str, then: str, otherwise: str) -> str:
        return f"({then} if {condition} else {otherwise})"

    @v_args(inline=True)
    def negative(self, operand: str) -> str:
        return f"(-{operand})"

    @v_args(inline=True)
    def not_op(self, operand: str) -> str:
        return f"(not {operand})"

    @v_args(inline=True)
    def empty(self, operand: str) -> str:
        # JUEL's empty: null, "" or an empty collection; 0 and false are not empty.
        return f"(not {operand} and not isinstance({operand}, (int, float)))"

    # postfix: properties, indexes, calls

    def arguments(self, items: list[str]) -> list[str]:
        return items

    @v_args(inline=True, meta=True)
    def member(self, meta: Meta, receiver: str, name: Token) -> str:
        if receiver in CONTEXT_OBJECTS:
            return context_property(receiver, str(name), self._source(meta))
        # JUEL's a.b on a map is a['b']; process variables are JSON maps.
        return f"{receiver}[{str(name)!r}]"

    @v_args(inline=True)
    def index(self, receiver: str, key: str) -> str:
        if receiver in CONTEXT_OBJECTS:
            raise JuelError(f"'{receiver}[...]' is not supported: {receiver} is Camunda's "
                            f"{receiver} object, not a map; use {receiver}.getVariable(name)")
        return f"{receiver}[{key}]"

    @v_args(inline=True, meta=True)
    def method(self, meta: Meta, receiver: str, name: Token,
               arguments: Sequence[str] = ()) -> str:
        call = self._source(meta)
        if receiver in CONTEXT_OBJECTS:
            return context_call(receiver, str(name), arguments, call)
        return value_call(receiver, str(name), arguments, call)

    @v_args(inline=True, meta=True)
    def function(self, meta: Meta, name: Token, arguments: Sequence[str] = ()) -> str:
        return function_call(str(name), arguments, self._source(meta))

    def _source(self, meta: Meta) -> str:
        """The JUEL a node was parsed from, on one line, for messages."""
        return " ".join(self._body[meta.start_pos:meta.end_pos].split())


def _unescape(text: str) -> str:
    """Decode a string literal's content: EL escapes only \\\\, \\' and \\"."""
    return re.sub(r"""\\([\\'"])""", r"\1", text)


def _variable(name: str) -> str:
    """A JUEL identifier as a Python name, refusing the ones Python cannot use."""
    if "$" in name:
        raise JuelError(f"the name '{name}' contains '$', which variable names cannot")
    if name in RESERVED_WORDS:
        raise JuelError(f"'{name}' is a JUEL keyword and cannot be a variable name")
    if keyword.iskeyword(name):
        raise JuelError(f"'{name}' is a Python keyword and cannot be a variable name")
    if not name.isidentifier():
        raise JuelError(f"'{name}' cannot be a variable name")
    return name
