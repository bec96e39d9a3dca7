"""Translate JUEL, Camunda 7's expression language, into Python for the sandbox.

Analysts coming from Camunda write ``${approved && amount gt 100}`` in
conditions, timers and listeners. sertiflow evaluates Python in a sandbox, so
each ``${...}``/``#{...}`` is parsed with the EL 2.2 grammar (lark, LALR, built
once at import) and emitted as a Python expression with the same meaning:

* every operation is parenthesized, so JUEL's precedence survives and
  ``a < b == c`` does not become a Python comparison chain;
* ``a.b`` is the map lookup ``a['b']`` (process variables are JSON maps), so
  JUEL never reaches Python attributes;
* only a fixed list of Java methods is understood, each written as the Python
  that does the same on strings, lists and dicts;
* ``execution`` and ``task`` are Camunda's context objects: calls on them stay
  calls, on objects of the same name that the engine provides at run time,
  limited to :data:`EXECUTION_METHODS` and :data:`TASK_METHODS`;
* what has no meaning here (beans, lambdas, assignment, ``instanceof``...) is
  refused with a reason in an analyst's words, never lark's own.

Positions in messages count characters from 1 in the field as written, without
its leading whitespace.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive, v_args

# -- Camunda's context objects ---------------------------------------------------------

EXECUTION_METHODS = frozenset({
    "getVariable", "getVariableLocal", "setVariable", "setVariableLocal", "hasVariable",
    "hasVariableLocal", "removeVariable", "removeVariableLocal", "getVariables",
    "getVariablesLocal", "getVariableNames", "setVariables", "getProcessInstanceId",
    "getBusinessKey", "getProcessBusinessKey", "getProcessDefinitionId", "getActivityId",
    "getCurrentActivityId", "getCurrentActivityName", "getActivityInstanceId", "getEventName",
    "getId", "getTenantId", "getParentId",
})
TASK_METHODS = frozenset({
    "getId", "getName", "setName", "getDescription", "setDescription", "getAssignee",
    "setAssignee", "getOwner", "setOwner", "getPriority", "setPriority", "getDueDate",
    "setDueDate", "getFollowUpDate", "setFollowUpDate", "getTaskDefinitionKey", "getEventName",
    "getProcessInstanceId", "getProcessDefinitionId", "getExecutionId", "getCreateTime",
    "addCandidateGroup", "addCandidateUser", "deleteCandidateGroup", "deleteCandidateUser",
    "getVariable", "getVariableLocal", "setVariable", "setVariableLocal", "hasVariable",
    "getVariables", "removeVariable",
})
# The names JUEL gives the context objects, with what may be called on each.
CONTEXT_OBJECTS: Mapping[str, frozenset[str]] = {
    "execution": EXECUTION_METHODS,
    "task": TASK_METHODS,
}
# Functions the engine provides at run time, with the number of arguments they take.
FUNCTIONS: Mapping[str, int] = {"now": 0}

# Getters that need an argument are methods, not bean properties (execution.variable).
_GETTERS_WITH_ARGUMENTS = frozenset({"getVariable", "getVariableLocal"})

# Deeper expressions are refused before Python's own parser limits are reached;
# one JUEL level becomes at most three levels of brackets in the Python emitted.
MAX_DEPTH = 64


class JuelError(ValueError):
    """A JUEL expression that cannot be translated; ``reason`` is meant for the analyst."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- the grammar -------------------------------------------------------------------------

# EL 2.2's expression grammar, loosest binding first. Keywords are literal
# strings, so lark tells "and" from "android"; each operator gets its own alias,
# turned into Python by _BINARY_OPERATORS.
_GRAMMAR = r"""
?start: ternary

?ternary: or_
    | or_ "?" ternary ":" ternary           -> conditional

?or_: and_
    | or_ ("||" | "or") and_                -> or_op

?and_: equality
    | and_ ("&&" | "and") equality          -> and_op

?equality: relation
    | equality ("==" | "eq") relation       -> eq_op
    | equality ("!=" | "ne") relation       -> ne_op

?relation: sum
    | relation ("<" | "lt") sum             -> lt_op
    | relation (">" | "gt") sum             -> gt_op
    | relation ("<=" | "le") sum            -> le_op
    | relation (">=" | "ge") sum            -> ge_op

?sum: product
    | sum "+" product                       -> add_op
    | sum "-" product                       -> sub_op

?product: unary
    | product "*" unary                     -> mul_op
    | product ("/" | "div") unary           -> div_op
    | product ("%" | "mod") unary           -> mod_op

?unary: postfix
    | "-" unary                             -> negative
    | ("!" | "not") unary                   -> not_op
    | "empty" unary                         -> empty

?postfix: primary
    | postfix "." NAME                      -> member
    | postfix "." NAME "(" [arguments] ")"  -> method
    | postfix "[" ternary "]"               -> index

?primary: NAME                              -> variable
    | NAME "(" [arguments] ")"              -> function
    | "(" ternary ")"                       -> group
    | "true"                                -> true
    | "false"                               -> false
    | "null"                                -> null
    | INT                                   -> integer
    | FLOAT                                 -> decimal
    | STRING                                -> string

arguments: ternary ("," ternary)*

NAME: /[^\W\d][\w$]*|\$[\w$]*/
INT: /[0-9]+/
FLOAT.2: /[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/
STRING: /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/s

%ignore /\s+/
"""

# Built once, at import (some 70 ms). lark's cache=True is left off: it would
# unpickle a file from the shared temporary directory.
_PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False, propagate_positions=True)

_BINARY_OPERATORS: Mapping[str, str] = {
    "or_op": "or", "and_op": "and", "eq_op": "==", "ne_op": "!=", "lt_op": "<", "gt_op": ">",
    "le_op": "<=", "ge_op": ">=", "add_op": "+", "sub_op": "-", "mul_op": "*", "div_op": "/",
    "mod_op": "%",
}
# EL's reserved words: none of them can name a variable.
_RESERVED_WORDS = frozenset({
    "and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "true", "false", "null", "empty",
    "div", "mod", "instanceof",
})


# -- Java methods on values ----------------------------------------------------------------

@dataclass(frozen=True)
class _Method:
    """How one Java method of String, List or Map is written in Python."""

    arities: tuple[int, ...]
    emit: Callable[[str, Sequence[str]], str]  # (receiver, arguments) -> Python


def _dotted(python: str) -> str:
    """Parenthesize a number so a method can follow it (``(5).x``, not ``5.x``)."""
    return f"({python})" if python[:1].isdigit() or python[:1] == "." else python


_VALUE_METHODS: Mapping[str, _Method] = {
    "length": _Method((0,), lambda x, a: f"len({x})"),
    "size": _Method((0,), lambda x, a: f"len({x})"),
    "isEmpty": _Method((0,), lambda x, a: f"(len({x}) == 0)"),
    "contains": _Method((1,), lambda x, a: f"({a[0]} in {x})"),
    "containsKey": _Method((1,), lambda x, a: f"({a[0]} in {x})"),
    "startsWith": _Method((1,), lambda x, a: f"{_dotted(x)}.startswith({a[0]})"),
    "endsWith": _Method((1,), lambda x, a: f"{_dotted(x)}.endswith({a[0]})"),
    "equals": _Method((1,), lambda x, a: f"({x} == {a[0]})"),
    "equalsIgnoreCase": _Method(
        (1,), lambda x, a: f"(str({x}).lower() == str({a[0]}).lower())"),
    "toUpperCase": _Method((0,), lambda x, a: f"{_dotted(x)}.upper()"),
    "toLowerCase": _Method((0,), lambda x, a: f"{_dotted(x)}.lower()"),
    "trim": _Method((0,), lambda x, a: f"{_dotted(x)}.strip()"),
    "substring": _Method((1, 2), lambda x, a: f"{x}[{a[0]}:{a[1] if len(a) > 1 else ''}]"),
    "indexOf": _Method(
        (1,), lambda x, a: f"({_dotted(x)}.index({a[0]}) if {a[0]} in {x} else -1)"),
    "charAt": _Method((1,), lambda x, a: f"{x}[{a[0]}]"),
    "concat": _Method((1,), lambda x, a: f"({x} + {a[0]})"),
    "replace": _Method((2,), lambda x, a: f"{_dotted(x)}.replace({a[0]}, {a[1]})"),
    "get": _Method((1,), lambda x, a: f"{x}[{a[0]}]"),
    "toString": _Method((0,), lambda x, a: f"str({x})"),
}

_PYTHON_INSTEAD = ("sertiflow runs Python, so write a Python expression over the process "
                   "variables instead, e.g. amount > 100 and approved")


# -- fields: literal text and ${...} -------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A piece of a field: literal text, or the body of one ``${...}``/``#{...}``.

    ``start`` is where ``text`` begins in the field (for a body, just after the
    brace), so that messages can point into the field as the analyst wrote it.
    """

    text: str
    start: int
    expression: bool


_OPENING = re.compile(r"\\?[$#]\{")


def is_expression_field(text: str) -> bool:
    """Tell whether a field is meant as JUEL: it starts with ``${`` or ``#{``."""
    return text.lstrip().startswith(("${", "#{"))


def split_field(text: str) -> list[Segment]:
    """Cut a field into literal text and expression bodies, as EL reads a composite.

    ``\\${`` in literal text stands for ``${`` itself. A body ends at the first
    ``}`` outside string literals and braces.
    """
    segments: list[Segment] = []
    literal: list[str] = []
    literal_start = pos = 0
    while (opening := _OPENING.search(text, pos)) is not None:
        literal.append(text[pos:opening.start()])
        pos = opening.end()
        if opening.group().startswith("\\"):
            literal.append(opening.group()[1:])  # an escaped ${ is text
            continue
        if "".join(literal):
            segments.append(Segment("".join(literal), literal_start, expression=False))
        end = _closing_brace(text, pos)
        segments.append(Segment(text[pos:end], pos, expression=True))
        literal, literal_start, pos = [], end + 1, end + 1
    literal.append(text[pos:])
    if "".join(literal):
        segments.append(Segment("".join(literal), literal_start, expression=False))
    return segments


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` that closes the expression whose body starts at ``start``."""
    depth, quote, quote_at, pos = 0, "", 0, start
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == "\\":
                pos += 1  # the escaped character cannot end the string
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote, quote_at = char, pos
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return pos
            depth -= 1
        pos += 1
    if quote:
        raise JuelError(f"unterminated string starting at position {_column(text, quote_at)}: "
                        f"close it with {quote}")
    opening = start - 2
    raise JuelError(f"the '{text[opening:start]}' at position {_column(text, opening)} is never "
                    "closed with '}'")


def _column(text: str, index: int) -> int:
    """Position of ``text[index]`` counted from 1, leading whitespace left out."""
    return index - (len(text) - len(text.lstrip())) + 1


def _only_expression(segments: Sequence[Segment]) -> Segment | None:
    """The single expression of a field that holds nothing else but whitespace."""
    bodies = [segment for segment in segments if segment.expression]
    text = "".join(segment.text for segment in segments if not segment.expression)
    if len(bodies) == 1 and not text.strip():
        return bodies[0]
    return None


@lru_cache(maxsize=4096)
def translate_field(text: str) -> str:
    """Python for a field that is one whole ``${...}``, such as a condition or a timer.

    The value is the expression's own (a boolean for a condition), so text
    around the expression or a second one is refused: Camunda would silently
    turn the field into a string.
    """
    segments = split_field(text)
    single = _only_expression(segments)
    if single is None:
        if not any(segment.expression for segment in segments):
            raise JuelError("the field holds no ${...} expression")
        raise JuelError("only one ${...} per field is supported; write the whole condition "
                        "inside it, e.g. ${approved && amount > 100}")
    return to_python(single.text, _column(text, single.start))


@lru_cache(maxsize=4096)
def translate_template(text: str) -> str:
    """Python building a field's text the way JUEL evaluates a composite expression.

    ``Hello ${name}!`` becomes the literal text joined with each value as text,
    null as "". A field that is exactly one ``${...}`` keeps the value itself,
    as in Camunda; a field without any is a string literal.
    """
    segments = split_field(text)
    single = _only_expression(segments)
    if single is not None:
        return to_python(single.text, _column(text, single.start))
    if not any(segment.expression for segment in segments):
        return repr("".join(segment.text for segment in segments))
    pieces = [_as_text(to_python(segment.text, _column(text, segment.start)))
              if segment.expression else repr(segment.text) for segment in segments]
    return f"({' + '.join(pieces)})"


def _as_text(python: str) -> str:
    """JUEL's coercion to text: null is "", booleans are true and false."""
    return (f"('' if {python} is None else str({python}).lower() "
            f"if isinstance({python}, bool) else str({python}))")


# -- one expression ------------------------------------------------------------------------

def to_python(body: str, origin: int = 1) -> str:
    """Translate the body of one ``${...}`` into Python; ``origin`` is its position in the field.

    Raises ``JuelError`` for JUEL that does not parse or has no meaning here.
    """
    if not body.strip():
        raise JuelError("the expression is empty")
    try:
        tree = _PARSER.parse(body)
    except UnexpectedInput as exc:
        raise JuelError(_describe(body, exc, origin)) from None
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


# -- wording parse errors -------------------------------------------------------------------

# Constructs outside EL 2.2 that the grammar does not know, found by their text.
_REFUSED: Sequence[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[$#]\{"), "an expression cannot hold another ${...}; write the name alone"),
    (re.compile(r"->"), "lambda expressions are not supported; write Python instead"),
    (re.compile(r"[{}]"), "set, list and map literals {...} of EL 3.0 are not supported; "
                          "write Python instead"),
    (re.compile(r";"), "several expressions separated by ';' are not supported: a field "
                       "holds one expression"),
    (re.compile(r"\+="), "the string concatenation '+=' of EL 3.0 is not supported; "
                         "use a.concat(b)"),
    (re.compile(r"(?<![=!<>])=(?!=)"), "assignment is not supported; compare with '==' (or eq), "
                                       "or set a variable with execution.setVariable(name, value)"),
    (re.compile(r"\binstanceof\b"), "'instanceof' is not supported: values here are process "
                                    "data, not Java objects"),
]
_STRING = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
_CHARACTER_HINTS = {
    "&": " (JUEL's 'and' is && or and)",
    "|": " (JUEL's 'or' is || or or)",
}


def _describe(body: str, exc: UnexpectedInput, origin: int) -> str:
    """Say in an analyst's words why ``body`` does not parse, and where."""
    refused = _refused_construct(body)
    if refused is not None:
        index, found, reason = refused
        return f"unexpected '{found}' at position {origin + index}: {reason}"
    if isinstance(exc, UnexpectedEOF) or (
            isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return _ends_early(body, exc.expected)
    index = exc.pos_in_stream or 0
    where = origin + index
    if isinstance(exc, UnexpectedToken):
        found = exc.token.value
        if found == "[" and "NAME" in exc.expected:
            return (f"unexpected '[' at position {where}: list literals [...] of EL 3.0 are "
                    "not supported; write Python instead")
        return f"unexpected '{found}' at position {where}"
    if isinstance(exc, UnexpectedCharacters):
        char = body[index]
        if char in "'\"":
            return f"unterminated string starting at position {where}: close it with {char}"
        return f"unexpected '{char}' at position {where}{_CHARACTER_HINTS.get(char, '')}"
    return "the expression cannot be read"


def _refused_construct(body: str) -> tuple[int, str, str] | None:
    """The first construct of :data:`_REFUSED` outside string literals: (index, text, reason)."""
    blanked = _STRING.sub(lambda match: " " * len(match.group()), body)
    found = [(match.start(), match.group(), reason)
             for pattern, reason in _REFUSED if (match := pattern.search(blanked))]
    return min(found, key=lambda item: item[0]) if found else None


def _ends_early(body: str, expected: Any) -> str:
    """Word an expression that stops before it is complete, naming what is missing."""
    wanted = {_terminal_text(name) for name in expected or ()}
    for closing, missing in ((")", "')' is missing"), ("]", "']' is missing"),
                             (":", "':' of a ? b : c is missing")):
        if closing in wanted:
            return f"the expression ends too early: {missing}"
    what = "a value" if "INT" in (expected or ()) else "a name"
    last = _last_token(body)
    after = f" after '{last}'" if last else ""
    return f"the expression ends too early: {what} is missing{after}"


def _terminal_text(name: str) -> str:
    """The literal text of one of the grammar's terminals, "" for a pattern."""
    pattern = _PARSER.get_terminal(name).pattern if name != "$END" else None
    return pattern.value if pattern is not None and pattern.type == "str" else ""


def _last_token(body: str) -> str:
    """The text of the last token of ``body``, to say after what something is missing."""
    try:
        tokens = list(_PARSER.lex(body))
    except UnexpectedInput:
        return ""
    return str(tokens[-1]) if tokens else ""


# -- from the tree to Python ------------------------------------------------------------------

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
        return f"({left} {_BINARY_OPERATORS[data]} {right})"

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
            return _context_property(receiver, str(name), self._source(meta))
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
            return _context_call(receiver, str(name), arguments, call)
        return _value_call(receiver, str(name), arguments, call)

    @v_args(inline=True, meta=True)
    def function(self, meta: Meta, name: Token, arguments: Sequence[str] = ()) -> str:
        return _function_call(str(name), arguments, self._source(meta))

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
    if name in _RESERVED_WORDS:
        raise JuelError(f"'{name}' is a JUEL keyword and cannot be a variable name")
    if keyword.iskeyword(name):
        raise JuelError(f"'{name}' is a Python keyword and cannot be a variable name")
    if not name.isidentifier():
        raise JuelError(f"'{name}' cannot be a variable name")
    return name


def _value_call(receiver: str, name: str, arguments: Sequence[str], call: str) -> str:
    """A Java method of String, List or Map, written as the Python that does the same."""
    method = _VALUE_METHODS.get(name)
    if method is None:
        raise JuelError(f"the method call '{call}' is not supported: '{name}' is not one of "
                        f"the JUEL methods sertiflow knows ({', '.join(sorted(_VALUE_METHODS))})"
                        f"; {_PYTHON_INSTEAD}")
    if len(arguments) not in method.arities:
        raise JuelError(f"the method '{name}' takes {_arguments(method.arities)}, not "
                        f"{len(arguments)} (in '{call}')")
    return method.emit(receiver, arguments)


def _arguments(arities: Sequence[int]) -> str:
    """Word how many arguments a method takes: "no arguments", "1 or 2 arguments"."""
    if arities == (0,):
        return "no arguments"
    counts = " or ".join(str(count) for count in arities)
    return f"{counts} argument{'' if arities == (1,) else 's'}"


def _context_call(context: str, name: str, arguments: Sequence[str], call: str) -> str:
    """A call on ``execution`` or ``task``, kept for the engine's object of that name."""
    allowed = CONTEXT_OBJECTS[context]
    if name not in allowed:
        raise JuelError(f"'{call}' is not available: sertiflow's {context} object knows only "
                        f"{', '.join(sorted(allowed))}")
    return f"{context}.{name}({', '.join(arguments)})"


def _context_property(context: str, name: str, source: str) -> str:
    """A bean property of ``execution`` or ``task``, read with its getter."""
    if context == "task" and name == "execution":
        return "execution"
    getter = f"get{name[:1].upper()}{name[1:]}"
    if getter in CONTEXT_OBJECTS[context] and getter not in _GETTERS_WITH_ARGUMENTS:
        return f"{context}.{getter}()"
    raise JuelError(f"'{source}' is not available: sertiflow's {context} object has the "
                    f"properties {', '.join(_properties(context))}")


def _properties(context: str) -> list[str]:
    """The bean properties of a context object: its getters without arguments."""
    names = [f"{getter[3].lower()}{getter[4:]}" for getter in CONTEXT_OBJECTS[context]
             if getter.startswith("get") and getter not in _GETTERS_WITH_ARGUMENTS]
    return sorted([*names, "execution"] if context == "task" else names)


def _function_call(name: str, arguments: Sequence[str], call: str) -> str:
    """A JUEL function: only those the engine provides."""
    if name == "dateTime":
        raise JuelError("Camunda's dateTime() (Joda-Time) is not available: write a Python "
                        "expression with datetime and timedelta instead, or an ISO 8601 "
                        "duration such as P2D in the due date")
    if name not in FUNCTIONS:
        raise JuelError(f"the function '{name}' is not available in JUEL here (only "
                        f"{', '.join(f'{known}()' for known in sorted(FUNCTIONS))}); "
                        f"{_PYTHON_INSTEAD}")
    if len(arguments) != FUNCTIONS[name]:
        raise JuelError(f"the function '{name}' takes {_arguments((FUNCTIONS[name],))}, "
                        f"not {len(arguments)} (in '{call}')")
    return f"{name}({', '.join(arguments)})"
