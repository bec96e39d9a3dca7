"""Fields as an analyst writes them: literal text and ``${...}`` expressions, cut
apart as EL reads a composite, and each field translated as a whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .errors import JuelError
from .translator import to_python


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
