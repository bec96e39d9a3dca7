"""Camunda's typed variables, ``{"name": {"value": ..., "type": "String"}}``, as
plain values."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from .. import jsonio
from .errors import BadRequest


def typed_variables(raw: Any) -> dict[str, Any]:
    """Camunda's ``{"name": {"value": ..., "type": "String"}}`` as plain values."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadRequest("variables must be a JSON object of {value, type} objects")
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, typed in raw.items():
        if not isinstance(typed, dict):
            errors[name] = 'give {"value": ..., "type": ...}'
            continue
        try:
            values[name] = typed_value(typed.get("value"), typed.get("type"))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise BadRequest("variables not accepted", errors)
    return values


INTEGER_RANGES = {"integer": 2**31, "long": 2**63, "short": 2**15}
KNOWN_TYPES = {"string", "boolean", "integer", "long", "short", "double", "date", "json"}
SUPPORTED = "String, Boolean, Integer, Long, Short, Double, Date, Json or Null"


def typed_value(value: Any, kind: Any) -> Any:
    """One Camunda typed value; raises ValueError with a message for the user."""
    if kind is None:  # Camunda infers the type of an untyped JSON value
        if isinstance(value, dict | list):
            raise ValueError(f"give a type ({SUPPORTED}) for a structured value")
        return value
    if not isinstance(kind, str):
        raise ValueError(f"type must be one of {SUPPORTED}")
    kind = kind.lower()
    if kind == "null" or (value is None and kind in KNOWN_TYPES):
        return None
    if kind == "string":
        if isinstance(value, dict | list):
            raise ValueError("a String must be text")
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("a Boolean must be true or false")
    if kind in INTEGER_RANGES:
        number = _whole(value, kind)
        bound = INTEGER_RANGES[kind]
        if not -bound <= number < bound:
            raise ValueError(f"{number} is out of range for {kind.capitalize()}")
        return number
    if kind == "double":
        if isinstance(value, bool):
            raise ValueError("a Double must be a number")
        try:
            double = float(value)
        except (TypeError, ValueError):
            raise ValueError("a Double must be a number") from None
        if not math.isfinite(double):
            raise ValueError("a Double must be a finite number (JSON has no NaN or Infinity)")
        return double
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError("a Date must be text like 2027-01-02T03:04:05.000+0700")
        try:
            return datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is no date like 2027-01-02T03:04:05.000+0700") from None
    if kind == "json":
        if isinstance(value, dict | list):
            return value
        if not isinstance(value, str):
            raise ValueError("a Json value must be JSON text")
        try:
            return jsonio.loads(value)
        except jsonio.RefusedJSON as exc:
            raise ValueError(f"the Json value is not valid JSON: {exc}") from None
        except ValueError:
            raise ValueError("the Json value is not valid JSON") from None
    raise ValueError(f"unsupported type {kind!r}: sertiflow takes {SUPPORTED}")


def _whole(value: Any, kind: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"an {kind.capitalize()} must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    raise ValueError(f"an {kind.capitalize()} must be a whole number")
