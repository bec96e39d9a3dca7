"""Strict JSON both ways: nothing goes in or out as ``NaN`` or ``Infinity``.

Python's ``json`` reads the tokens ``NaN``, ``Infinity`` and ``-Infinity`` and
writes non-finite floats as them, but they are not JSON (RFC 8259) and a
client's parser refuses the whole answer. A request body holding one is refused
as a bad body, naming where; a non-finite float that reaches an answer anyway
(a script computed it) is written as ``null``, the value JSON has for "no number".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask.json.provider import DefaultJSONProvider

from engine.scripting.values import dumps_finite


class RefusedJSON(ValueError):
    """JSON text that Python could read but the service does not accept."""


class NestedTooDeep(RefusedJSON):
    """JSON text nested deeper than the parser goes (about a thousand levels)."""

    def __init__(self) -> None:
        super().__init__("the JSON is nested too deeply")


class NonFiniteNumber(RefusedJSON):
    """A JSON text holds ``NaN``, ``Infinity`` or ``-Infinity``."""

    def __init__(self, token: str, where: str) -> None:
        self.token = token
        self.where = where
        at = f" at {where}" if where else ""
        super().__init__(f"{token}{at} is not a JSON number; send a finite number or null")


class _Constant:
    """Stands in for a refused token while the text is parsed, to find where it was."""


_CONSTANT = _Constant()


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON as :func:`json.loads` does, refusing the non-finite number tokens.

    :raises NonFiniteNumber: naming the first such token and its path (``variables.r[0]``).
    :raises NestedTooDeep: past the parser's depth.
    :raises json.JSONDecodeError: for text that is not JSON at all.
    """
    tokens: list[str] = []

    def constant(token: str) -> _Constant:
        tokens.append(token)
        return _CONSTANT

    try:
        value = json.loads(text, **{**kwargs, "parse_constant": constant})
    except RecursionError:
        raise NestedTooDeep from None
    if tokens:
        raise NonFiniteNumber(tokens[0], _path_to_constant(value) or "")
    return value


def _path_to_constant(value: Any, path: str = "") -> str | None:
    if value is _CONSTANT:
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            found = _path_to_constant(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _path_to_constant(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def dumps(value: Any, **kwargs: Any) -> str:
    """:func:`json.dumps` that writes a non-finite float as ``null``."""
    return dumps_finite(value, **kwargs)


def _default(value: Any) -> Any:
    """Dates in process data as ISO 8601 (Flask's own default writes HTTP dates)."""
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON (answers, ``tojson`` in pages, ``request.get_json``), kept strict.

    A date or date-time a script left in the variables goes out as ISO 8601
    (``2027-01-31``, ``2027-01-31T08:30:00+00:00``), as the API's own fields do.
    """

    default = staticmethod(_default)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
