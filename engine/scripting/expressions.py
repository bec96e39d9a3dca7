"""Turn the expressions analysts write in Camunda Modeler into sandboxed Python.

sertiflow's expressions are Python. Two Camunda habits are accepted as well:

* a whole-field JUEL expression, ``${approved && amount gt 100}``, translated
  into Python with the same meaning by :mod:`engine.scripting.juel` (text fields may
  mix text and ``${...}``, see :func:`translate_template`);
* a bare ISO 8601 timer value, ``PT1H`` or ``R3/2027-01-01T00:00:00Z/P1D``,
  which becomes the Python string ``'PT1H'`` that SpiffWorkflow's timers expect.

Anything else is taken as Python as it stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from types import CodeType

from engine import scripting
from engine.scripting import juel


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


# -- the public functions ---------------------------------------------------------------

def translate(text: str) -> str:
    """Return the Python source for an expression as written in the BPMN file.

    A field that starts with ``${``/``#{`` is JUEL and must be one whole
    expression (a condition's value is the expression's, not a text); a bare
    ISO 8601 timer literal becomes a string literal; anything else is Python
    and is returned unchanged. Raises ``ExpressionError`` for JUEL that has no
    Python meaning.
    """
    if juel.is_expression_field(text):
        return _from_juel(juel.translate_field, text)
    if is_timer_literal(text):
        return repr(text.strip())
    return text


def translate_template(text: str) -> str:
    """Return Python that builds a text field the way JUEL evaluates a composite.

    ``Hello ${name}!`` joins the literal text with each value as text (null is
    ""); a field that is exactly one ``${...}`` gives the value itself, and a
    field without one is a string literal. Raises ``ExpressionError``.
    """
    return _from_juel(juel.translate_template, text)


def _from_juel(translation: Callable[[str], str], text: str) -> str:
    """Run one of juel's translations, reporting failures as ``ExpressionError``."""
    try:
        return translation(text)
    except juel.JuelError as exc:
        raise ExpressionError(text, exc.reason) from None
    except RecursionError:  # juel does not recurse; this only guards against regressions
        raise ExpressionError(text, "the JUEL expression is nested too deeply") from None


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


@lru_cache(maxsize=1024)
def compile_template(text: str) -> CodeType:
    """Translate and compile a mapping's text (a constant, ``${...}`` or both mixed)."""
    source = translate_template(text)
    try:
        return scripting.compile_restricted(source, "eval")
    except SyntaxError as exc:
        raise ExpressionError(text, f"syntax error: {exc.msg}") from exc
    except scripting.SandboxViolation as exc:
        raise ExpressionError(text, exc.message) from exc
