"""The rules of one form input field, whichever kind of form they were read from.

A task's form, a Camunda Form (:mod:`.camunda_form_fields`) or generated
``camunda:formData`` fields (:mod:`.formdata_fields`), is reduced to a flat list of
:class:`Field` rules; :mod:`.form_submission` applies them to what a user submits.
This module also holds the helpers both readers use to read a field's bounds and to
refuse two fields that write the same variable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final


class Kind:
    """The value types a :class:`Field` can hold (string constants, not an enum, for JSON)."""

    TEXT: Final = "text"
    NUMBER: Final = "number"
    INTEGER: Final = "integer"  # generated ``long``
    BOOLEAN: Final = "boolean"
    DATE: Final = "date"  # ISO ``YYYY-MM-DD``
    LEGACY_DATE: Final = "legacy_date"  # generated ``date``: ``dd/MM/yyyy`` or ISO
    TIME: Final = "time"
    DATETIME: Final = "datetime"
    CHOICE: Final = "choice"  # one option value
    CHOICES: Final = "choices"  # a list of option values
    FILE: Final = "file"  # a document reference, or a list of them
    LIST: Final = "list"  # a dynamic list: rows of ``children``
    SCALAR: Final = "scalar"  # a custom generated type: any single value


@dataclass(frozen=True)
class Field:
    """The rules of one input field, independent of the kind of form it came from.

    ``path`` is the variable's place in the submitted object (a dotted form-js key,
    prefixed by the paths of the groups around it); inside a dynamic list it is
    relative to a row.
    """

    path: tuple[str, ...]
    kind: str
    label: str = ""
    # The form's help text: shown with a format problem, in place of the pattern.
    description: str = ""
    required: bool = False
    readonly: bool = False
    # May be hidden by a FEEL condition we cannot evaluate, so never required.
    conditional: bool = False
    # The ``conditional.hide`` rules of the field and of the groups around it, compiled
    # (engine.tasks.feel): the field is hidden when any gives true for the form's data.
    hide: tuple[Callable[[Mapping[str, Any]], Any], ...] = ()
    # Where the options of a select/taglist come from when not listed in the form.
    values_key: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    validation_type: str | None = None
    # None means the options are dynamic and cannot be checked here.
    options: tuple[Any, ...] | None = None
    decimal_digits: int | None = None
    increment: Decimal | None = None
    multiple: bool = False
    children: tuple[Field, ...] = ()

    @property
    def key(self) -> str:
        """Return the dotted name used in error reports."""
        return ".".join(self.path)


#: A number written as text, as forms and submissions may give bounds and values.
NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def static_decimal(value: Any, where: str, name: str) -> Decimal | None:
    """Read a form's numeric setting ``name`` of field ``where``; None when unset or FEEL."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("="):
            return None  # a FEEL expression: not enforceable here
        if NUMBER_TEXT.fullmatch(text):
            return Decimal(text)
    raise ValueError(f"field {where!r}: {name} {value!r} is not a number")


def static_count(value: Any, where: str, name: str) -> int | None:
    """Read a form's setting that must be a whole number >= 0 (a length, a digit count)."""
    number = static_decimal(value, where, name)
    if number is None:
        return None
    if number < 0 or number != number.to_integral_value():
        raise ValueError(f"field {where!r}: {name} {value!r} is not a whole number >= 0")
    return int(number)


def check_no_clash(fields: Sequence[Field]) -> None:
    """Refuse two fields writing the same variable, or one inside the other's value."""
    paths = sorted(f.path for f in fields)
    for shorter, longer in pairwise(paths):
        if longer[: len(shorter)] == shorter:
            raise ValueError(f"form keys clash: {'.'.join(shorter)!r} and {'.'.join(longer)!r}")
