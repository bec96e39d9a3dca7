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

- :mod:`.fields`: a field's literal text and ``${...}`` bodies, and their translation;
- :mod:`.translator`: one expression's parse tree emitted as Python;
- :mod:`.grammar`: EL 2.2's grammar and the parser built from it;
- :mod:`.methods`: the context objects, functions and Java methods understood;
- :mod:`.errors`: :class:`JuelError` and the wording of parse errors.
"""

from __future__ import annotations

from .errors import JuelError
from .fields import is_expression_field, translate_field, translate_template
from .methods import CONTEXT_OBJECTS, EXECUTION_METHODS, TASK_METHODS

__all__ = [
    "CONTEXT_OBJECTS",
    "EXECUTION_METHODS",
    "TASK_METHODS",
    "JuelError",
    "is_expression_field",
    "translate_field",
    "translate_template",
]
