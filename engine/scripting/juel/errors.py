"""Why a JUEL expression cannot be translated, in an analyst's words.

Parse errors are worded here, never in lark's own terms: a construct outside
EL 2.2 is named with what to write instead, and a position counts characters
from 1 in the field as written, without its leading whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .grammar import PARSER


class JuelError(ValueError):
    """A JUEL expression that cannot be translated; ``reason`` is meant for the analyst."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def describe(body: str, exc: UnexpectedInput, origin: int) -> str:
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
    pattern = PARSER.get_terminal(name).pattern if name != "$END" else None
    return pattern.value if pattern is not None and pattern.type == "str" else ""


def _last_token(body: str) -> str:
    """The text of the last token of ``body``, to say after what something is missing."""
    try:
        tokens = list(PARSER.lex(body))
    except UnexpectedInput:
        return ""
    return str(tokens[-1]) if tokens else ""
