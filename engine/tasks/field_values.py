"""Checking one submitted value against its field's rules and coercing it to the field's type.

:func:`coerce` returns the value to store or raises :class:`InvalidValue` with the
first problem, worded for the person who filled in the form. Lists of rows
(dynamic lists) are not handled here: :mod:`.form_submission` cleans them row by row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any, Final

from engine.tasks.form_fields import NUMBER_TEXT, Field, Kind

#: The longest text stored when the form sets no ``maxLength``: keeps process data bounded.
TEXT_CAP: Final = 10_000


#: Each problem's code and its English wording, for machine clients (the REST API).
#: The pages translate the code instead (``field.<code>`` in their catalogues), with
#: the same parameters; no message shows a regular expression.
PROBLEMS: Final[dict[str, str]] = {
    "required": "is required",
    "read_only": "is read-only",
    "too_long": "is too long",
    "text": "must be text",
    "max_length": "must be at most {limit} characters",
    "min_length": "must be at least {limit} characters",
    "pattern": "does not have the expected format",
    "email": "must be an email address",
    "phone": "must be a phone number",
    "whole": "must be a whole number",
    "decimals": "must have at most {limit} decimal digits",
    "minimum": "must be at least {limit}",
    "maximum": "must be at most {limit}",
    "multiple_of": "must be a multiple of {limit}",
    "out_of_range": "is out of range",
    "number": "must be a number",
    "boolean": "must be true or false",
    "date": "must be a date (YYYY-MM-DD)",
    "legacy_date": "must be a date (dd/MM/yyyy or YYYY-MM-DD)",
    "time": "must be a time (HH:MM)",
    "datetime": "must be a date and time (ISO 8601)",
    "single": "must be a single value",
    "option": "is not one of the options",
    "list": "must be a list",
    "list_of_single": "must be a list of single values",
    "options": "contains a value that is not one of the options",
    "file": "must be a file reference",
    "files": "must be a list of file references",
    "row": "must be an object",
}


class InvalidValue(Exception):
    """A submitted value breaks its field's rules: ``code`` names the rule (a key of
    :data:`PROBLEMS`), ``params`` its numbers, ``message`` says it in English."""

    def __init__(self, code: str, **params: str) -> None:
        self.code = code
        self.params = params
        self.message = PROBLEMS[code].format(**params)
        super().__init__(self.message)


_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE: Final = re.compile(r"\+?\d{7,15}")
_PHONE_SEPARATORS: Final = re.compile(r"[\s().-]")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY_FIRST_DATE: Final = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_ISO_TIME: Final = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:Z|[+-]\d{2}:\d{2})?")
_ISO_DATETIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?")
_SHA256: Final = re.compile(r"[0-9a-fA-F]{64}")
_FILE_KEYS: Final = ("id", "sha256", "name")


def same_value(a: Any, b: Any) -> bool:
    """Compare like ``==`` but never equate a boolean with a number (True == 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def coerce(f: Field, value: Any) -> Any:
    """Return ``value`` as the field's type, or raise ``InvalidValue`` with the first problem."""
    if f.kind == Kind.TEXT:
        return _text(f, value)
    if f.kind in (Kind.NUMBER, Kind.INTEGER):
        return _number(f, value)
    if f.kind == Kind.BOOLEAN:
        return _boolean(value)
    if f.kind in (Kind.DATE, Kind.LEGACY_DATE, Kind.TIME, Kind.DATETIME):
        return _temporal(f.kind, value)
    if f.kind == Kind.CHOICE:
        return _choice(f, value)
    if f.kind == Kind.CHOICES:
        return _choices(f, value)
    if f.kind == Kind.FILE:
        return _files(f, value)
    if f.kind == Kind.LIST:
        raise InvalidValue("list")  # rows are cleaned by form_submission
    return _scalar(value)


def _capped(value: str, limit: int = TEXT_CAP) -> str:
    if len(value) > limit:
        raise InvalidValue("too_long")
    return value


def _text(f: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("text")
    if f.max_length is not None:
        # The form's own limit replaces the default cap, as the form designer chose it.
        if len(value) > f.max_length:
            raise InvalidValue("max_length", limit=str(f.max_length))
    else:
        _capped(value)
    # form-js measures minLength on the trimmed text, so blanks cannot pad a short answer.
    if f.min_length is not None and len(value.strip()) < f.min_length:
        raise InvalidValue("min_length", limit=str(f.min_length))
    if f.pattern is not None and not f.pattern.fullmatch(value):
        raise InvalidValue("pattern")
    if f.validation_type == "email" and not _EMAIL.fullmatch(value):
        raise InvalidValue("email")
    if f.validation_type == "phone" and not _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", value)):
        raise InvalidValue("phone")
    return value


def _number(f: Field, value: Any) -> int | float:
    number = _to_decimal(value)
    places = _decimal_places(number)
    if places and (f.kind == Kind.INTEGER or f.decimal_digits == 0):
        raise InvalidValue("whole")
    if f.decimal_digits is not None and places > f.decimal_digits:
        raise InvalidValue("decimals", limit=str(f.decimal_digits))
    if f.minimum is not None and number < f.minimum:
        raise InvalidValue("minimum", limit=_show(f.minimum))
    if f.maximum is not None and number > f.maximum:
        raise InvalidValue("maximum", limit=_show(f.maximum))
    if f.increment is not None and not _is_multiple(number, f.increment):
        raise InvalidValue("multiple_of", limit=_show(f.increment))
    # Beyond float range the value could not be stored or shown faithfully.
    if not math.isfinite(float(number)):
        raise InvalidValue("out_of_range")
    if places:
        return float(number)
    whole = int(number)
    if f.kind == Kind.INTEGER and not _LONG_MIN <= whole <= _LONG_MAX:
        raise InvalidValue("out_of_range")
    return whole


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise InvalidValue("number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue("number")
        # repr gives the shortest text that round-trips, so 0.1 stays 0.1.
        return Decimal(repr(value))
    if isinstance(value, str):
        text = _capped(value).strip()
        if NUMBER_TEXT.fullmatch(text):
            return Decimal(text)
    raise InvalidValue("number")


def _decimal_places(number: Decimal) -> int:
    """Count significant digits after the point: 12.50 has one."""
    _, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):
        return 0
    kept = list(digits)
    while exponent < 0 and len(kept) > 1 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    if kept == [0]:
        return 0
    return max(0, -exponent)


def _is_multiple(number: Decimal, step: Decimal) -> bool:
    # The default 28-digit context would round long values; these stay exact up to here.
    with localcontext(Context(prec=TEXT_CAP + 400)):
        try:
            return number % step == 0
        except InvalidOperation:
            return False


def _show(number: Decimal) -> str:
    return format(number, "f")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise InvalidValue("boolean")


def _temporal(kind: str, value: Any) -> str:
    text = value if isinstance(value, str) else ""
    try:
        if kind == Kind.DATE and _ISO_DATE.fullmatch(text):
            date.fromisoformat(text)
            return text
        if kind == Kind.LEGACY_DATE:
            if _ISO_DATE.fullmatch(text):
                return date.fromisoformat(text).isoformat()
            parts = _DAY_FIRST_DATE.fullmatch(text)
            if parts:
                day, month, year = (int(p) for p in parts.groups())
                return date(year, month, day).isoformat()
        if kind == Kind.TIME and _ISO_TIME.fullmatch(text):
            time.fromisoformat(text)
            return text
        if kind == Kind.DATETIME and _ISO_DATETIME.fullmatch(text):
            datetime.fromisoformat(text)
            return text
    except ValueError:
        pass  # the shape was right but the calendar says no (31 February, offset 99:00)
    raise InvalidValue({Kind.DATE: "date", Kind.LEGACY_DATE: "legacy_date", Kind.TIME: "time",
                        Kind.DATETIME: "datetime"}[kind])


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int)


def _scalar(value: Any) -> Any:
    if not _is_scalar(value):
        raise InvalidValue("single")
    return _capped(value) if isinstance(value, str) else value


def _is_option(f: Field, value: Any) -> bool:
    return f.options is None or any(same_value(value, option) for option in f.options)


def _choice(f: Field, value: Any) -> Any:
    value = _scalar(value)
    if not _is_option(f, value):
        raise InvalidValue("option")
    return value


def _choices(f: Field, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidValue("list")
    for item in value:
        if not _is_scalar(item):
            raise InvalidValue("list_of_single")
        if isinstance(item, str):
            _capped(item)
        if not _is_option(f, item):
            raise InvalidValue("options")
    return list(value)


def _files(f: Field, value: Any) -> Any:
    if not f.multiple:
        return _file_reference(value, "file")
    if not isinstance(value, list):
        raise InvalidValue("files")
    return [_file_reference(item, "files") for item in value]


def _file_reference(value: Any, code: str) -> dict[str, Any]:
    """Check the shape of a stored document's reference; the document store checks the rest."""
    if not isinstance(value, Mapping):
        raise InvalidValue(code)
    if not all(isinstance(value.get(k), str) and value[k] for k in _FILE_KEYS):
        raise InvalidValue(code)
    if not _SHA256.fullmatch(value["sha256"]):
        raise InvalidValue(code)
    reference: dict[str, Any] = {}
    for key, item in value.items():
        # Flat scalars only: a reference is metadata, not a place to smuggle nested data.
        if not isinstance(key, str) or not (item is None or _is_scalar(item)):
            raise InvalidValue(code)
        reference[key] = _capped(item) if isinstance(item, str) else item
    return reference
