"""Turn the expressions analysts write in Camunda Modeler into sandboxed Python.

sertiflow's expressions are Python. Two Camunda habits are accepted as well:

* a whole-field JUEL expression, ``${approved && amount gt 100}``, translated
  by a small parser into Python with the same precedence;
* a bare ISO 8601 timer value, ``PT1H`` or ``R3/2027-01-01T00:00:00Z/P1D``,
  which becomes the Python string ``'PT1H'`` that SpiffWorkflow's timers expect.

Anything else is taken as Python as it stands.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType

from .. import scripting


class ExpressionError(Exception):
    """An expression cannot be translated or compiled."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(expression, reason)
        self.expression = expression
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason} (in expression {self.expression.strip()!r})"


# -- ISO 8601 timer literals ---------------------------------------------------------

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = (
    rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_DATE_TIME = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_PART = rf"(?:{_DURATION}|{_DATE_TIME})"
_TIMER = re.compile(rf"{_DURATION}|{_DATE_TIME}|R\d*/{_PART}(?:/{_PART})?")


def is_timer_literal(text: str) -> bool:
    """Tell whether ``text`` is a bare ISO 8601 duration, date, date-time or repeating interval."""
    return _TIMER.fullmatch(text.strip()) is not None


# -- JUEL ---------------------------------------------------------------------------

_WHOLE_JUEL = re.compile(r"\s*[$#]\{(?P<body>.*)\}\s*", re.DOTALL)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|->|\+=|[-+*/%!<>()\[\].,?:;{}=])
    """,
    re.VERBOSE | re.DOTALL,
)

# Binary operators from the loosest to the tightest binding, JUEL -> Python.
_LEVELS: list[dict[str, str]] = [
    {"||": "or", "or": "or"},
    {"&&": "and", "and": "and"},
    {"==": "==", "!=": "!=", "eq": "==", "ne": "!="},
    {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="},
    {"+": "+", "-": "-"},
    {"*": "*", "/": "/", "div": "/", "%": "%", "mod": "%"},
]
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_RESERVED = {"instanceof", "function"}
_OPERATOR_WORDS = {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod", "empty"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "string", "number", "name", "op" or "end"
    text: str
    start: int


def _tokenize(body: str) -> list[_Token]:
    tokens = []
    pos = 0
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if match is None:
            char = body[pos]
            what = "an unterminated string" if char in "'\"" else f"the character {char!r}"
            raise ValueError(f"JUEL cannot contain {what}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", pos))
    return tokens


class _JuelParser:
    """Recursive-descent parser for the JUEL subset, emitting parenthesized Python.

    Every binary operation is wrapped in parentheses, so JUEL's precedence
    survives and ``a < b == c`` does not become a Python comparison chain.
    """

    def __init__(self, body: str) -> None:
        self.body = body
        self.tokens = _tokenize(body)
        self.pos = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.token.text != text or self.token.kind not in ("op", "name"):
            raise ValueError(f"expected '{text}' {self.where()}")
        self.pos += 1

    def where(self) -> str:
        token = self.token
        return "at the end" if token.kind == "end" else f"at '{token.text}'"

    def parse(self) -> str:
        if self.token.kind == "end":
            raise ValueError("the expression is empty")
        python = self.ternary()
        if self.token.kind != "end":
            if self.token.text == "}":
                raise ValueError("only one ${...} per field is supported; write the whole "
                                 "condition inside it")
            raise ValueError(f"unexpected '{self.token.text}' in JUEL")
        return python

    def ternary(self) -> str:
        condition = self.binary(0)
        if self.token.text != "?":
            return condition
        self.take()
        then = self.ternary()
        self.expect(":")
        otherwise = self.ternary()
        return f"({then} if {condition} else {otherwise})"

    def binary(self, level: int) -> str:
        if level == len(_LEVELS):
            return self.unary()
        operators = _LEVELS[level]
        left = self.binary(level + 1)
        while self.token.kind in ("op", "name") and self.token.text in operators:
            python_op = operators[self.take().text]
            right = self.binary(level + 1)
            left = f"({left} {python_op} {right})"
        return left

    def unary(self) -> str:
        text = self.token.text if self.token.kind in ("op", "name") else ""
        if text == "-":
            self.take()
            return f"(-{self.unary()})"
        if text in ("!", "not"):
            self.take()
            return f"(not {self.unary()})"
        if text == "empty":
            self.take()
            operand = self.unary()
            # JUEL's empty: null, "" or an empty collection; 0 and false are not empty.
            return f"(not {operand} and not isinstance({operand}, (int, float)))"
        return self.postfix()

    def postfix(self) -> str:
        start = self.token.start
        python = self.primary()
        while self.token.text in (".", "[", "(") and self.token.kind == "op":
            op = self.take().text
            if op == ".":
                name = self.take()
                if name.kind != "name":
                    raise ValueError(f"expected a property name after '.' {self.where()}")
                # JUEL's a.b on a map is a['b']; process variables are JSON maps.
                python = f"{python}[{name.text!r}]"
            elif op == "[":
                python = f"{python}[{self.ternary()}]"
                self.expect("]")
            else:
                callee = self.body[start:self.tokens[self.pos - 1].start].strip()
                raise ValueError(_python_instead(f"the method call '{callee}(...)'"))
        if python == "execution" or python.startswith("execution["):
            chain = self.body[start:self.token.start].strip()
            raise ValueError(_python_instead(f"'{chain}' (Camunda's Java execution object)"))
        return python

    def primary(self) -> str:
        token = self.take()
        if token.kind == "string":
            return token.text  # JUEL and Python share quotes and escapes
        if token.kind == "number":
            # JUEL reads 007 as 7; Python refuses leading zeros.
            return str(int(token.text)) if token.text.isdigit() else token.text
        if token.kind == "name":
            return self.name(token.text)
        if token.text == "(":
            inner = self.ternary()
            self.expect(")")
            return f"({inner})"
        if token.kind == "end":
            raise ValueError("the JUEL expression ends too early")
        raise ValueError(f"the JUEL operator '{token.text}' is not supported; write Python instead")

    def name(self, text: str) -> str:
        if text in _LITERALS:
            return _LITERALS[text]
        if text in _RESERVED or text in _OPERATOR_WORDS or "$" in text:
            raise ValueError(f"'{text}' cannot be used here in JUEL")
        if keyword.iskeyword(text):
            raise ValueError(f"'{text}' is a Python keyword and cannot be a variable name")
        return text


def _python_instead(construct: str) -> str:
    return (f"{construct} cannot be translated from JUEL: sertiflow runs Python, so write a "
            "Python expression over the process variables instead, e.g. amount > 100 and approved")


# -- the public functions ---------------------------------------------------------------

def translate(text: str) -> str:
    """Return the Python source for an expression as written in the BPMN file.

    A whole-field JUEL ``${...}``/``#{...}`` is translated, a bare ISO 8601
    timer literal becomes a string literal, and anything else is returned
    unchanged. Raises ``ExpressionError`` for JUEL that has no Python meaning.
    """
    juel = _WHOLE_JUEL.fullmatch(text)
    if juel:
        try:
            return _JuelParser(juel.group("body")).parse()
        except ValueError as exc:
            raise ExpressionError(text, str(exc)) from None
        except RecursionError:
            raise ExpressionError(text, "the JUEL expression is nested too deeply") from None
    if is_timer_literal(text):
        return repr(text.strip())
    return text


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> CodeType:
    """Translate, check and compile an expression for the sandbox; cached by text."""
    source = translate(text).strip()
    if not source:
        raise ExpressionError(text, "the expression is empty")
    try:
        return scripting.compile_restricted(source, "eval")
    except SyntaxError as exc:
        hint = ""
        if "${" in source or "#{" in source:
            hint = "; JUEL is only understood when ${...} is the whole field"
        raise ExpressionError(text, f"syntax error: {exc.msg}{hint}") from exc
    except scripting.SandboxViolation as exc:
        raise ExpressionError(text, exc.message) from exc
