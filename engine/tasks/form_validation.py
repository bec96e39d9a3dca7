"""Server-side validation of the data a user submits when completing a task.

The browser runs the form's checks too, but anything it sends can be forged, so
the server checks the submission again against the task's form before a single
variable is stored. Two kinds of forms are understood:

* Camunda Forms (form-js JSON, as Camunda Modeler 5.x writes it), read with
  :func:`form_fields_camunda`;
* generated forms (``camunda:formData``), read with :func:`form_fields_generated`.

Both are reduced to a flat list of :class:`Field` rules, and
:func:`validate_submission` applies them and returns the variables to store.

What cannot be checked here, and what is done instead:

* FEEL expressions (``conditional.hide``, ``readonly: "=..."``, ``min: "=..."``,
  ``valuesKey`` / ``valuesExpression``) cannot be evaluated without a FEEL engine.
  A field that may be hidden is treated as optional; a read-only/disabled flag
  given as an expression is treated as editable; a bound given as an expression is
  not enforced; options that come from variables or expressions are not compared,
  though the value's type still is. The permissive reading is chosen each time so
  that a legitimate submission is never refused by a rule we cannot evaluate.
* ``defaultValue`` is a rendering concern: a field missing from the submission is
  left untouched, never filled with its default.
* Computed fields (form-js ``expression``) are never written: their value would
  come from the browser and could not be recomputed here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Context, Decimal, InvalidOperation, localcontext
from itertools import pairwise
from typing import Any, Final

__all__ = [
    "TEXT_CAP",
    "Field",
    "FieldError",
    "FormValidationError",
    "Kind",
    "form_fields_camunda",
    "form_fields_generated",
    "validate_submission",
]

#: The longest text stored when the form sets no ``maxLength``: keeps process data bounded.
TEXT_CAP: Final = 10_000


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
class FieldError:
    """One field's first problem, worded for the person who filled in the form."""

    field: str
    message: str


class FormValidationError(Exception):
    """The submission broke the form's rules; ``errors`` holds one entry per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)


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
    required: bool = False
    readonly: bool = False
    # May be hidden by a FEEL condition we cannot evaluate, so never required.
    conditional: bool = False
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


# --- reading Camunda Forms ------------------------------------------------------------------

_INPUT_KINDS: Final = {
    "textfield": Kind.TEXT,
    "textarea": Kind.TEXT,
    "number": Kind.NUMBER,
    "checkbox": Kind.BOOLEAN,
    "radio": Kind.CHOICE,
    "select": Kind.CHOICE,
    "checklist": Kind.CHOICES,
    "taglist": Kind.CHOICES,
    "filepicker": Kind.FILE,
}
_DATETIME_KINDS: Final = {"date": Kind.DATE, "time": Kind.TIME, "datetime": Kind.DATETIME}
# Containers whose ``path`` (optional) prefixes the keys of the fields inside.
_GROUPS: Final = frozenset({"group", "page", "multipage"})
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def form_fields_camunda(schema: Mapping[str, Any]) -> list[Field]:
    """Flatten a form-js schema into its input fields, in form order.

    Groups disappear (their ``path`` becomes part of their fields' paths); a
    dynamic list stays one field of kind ``list`` whose ``children`` describe a
    row. Presentation components (text, html, image, button, table...) and
    computed ``expression`` fields are left out: a submission never writes them.

    Raise ``ValueError`` for a schema that cannot be enforced: a pattern that does
    not compile, an input without a key, keys that clash, a malformed bound.
    """
    components = schema.get("components") if isinstance(schema, Mapping) else None
    if not isinstance(components, list):
        raise ValueError("not a Camunda Form: expected a JSON object with 'components'")
    fields = _camunda_fields(components, (), hidden=False)
    _check_no_clash(fields)
    return fields


def _camunda_fields(
    components: Sequence[Any], prefix: tuple[str, ...], *, hidden: bool
) -> list[Field]:
    found: list[Field] = []
    for component in components:
        if not isinstance(component, Mapping):
            continue
        kind_name = component.get("type")
        if not isinstance(kind_name, str):
            continue
        # A hidden container hides everything inside it, so the flag is inherited.
        conditional = hidden or _may_be_hidden(component)
        children = component.get("components")
        children = children if isinstance(children, list) else []
        if kind_name in _GROUPS:
            path = _split_path(component.get("path"), component, allow_empty=True)
            found.extend(_camunda_fields(children, prefix + path, hidden=conditional))
        elif kind_name == "dynamiclist":
            path = _split_path(component.get("path"), component, allow_empty=False)
            # Rows are their own namespace; the list being hidden does not hide a row's fields.
            rows = _camunda_fields(children, (), hidden=False)
            _check_no_clash(rows)
            # A list whose rows only show values is a display: it is never written, or
            # the rows a browser sends back (holding only the shown keys) would replace it.
            shown_only = all(r.readonly for r in rows)
            readonly = (_static_flag(component.get("readonly"))
                        or _static_flag(component.get("disabled")) or shown_only)
            found.append(Field(prefix + path, Kind.LIST, label=_label(component),
                               readonly=readonly, conditional=conditional,
                               children=tuple(rows)))
        elif kind_name in _INPUT_KINDS or kind_name == "datetime":
            path = _split_path(component.get("key"), component, allow_empty=False)
            found.append(_camunda_input(component, prefix + path, conditional))
    return found


def _camunda_input(component: Mapping[str, Any], path: tuple[str, ...], conditional: bool) -> Field:
    kind_name = str(component["type"])
    if kind_name == "datetime":
        subtype = component.get("subtype") or "date"
        if not isinstance(subtype, str) or subtype not in _DATETIME_KINDS:
            raise ValueError(f"field {'.'.join(path)!r}: unknown datetime subtype {subtype!r}")
        kind = _DATETIME_KINDS[subtype]
    else:
        kind = _INPUT_KINDS[kind_name]
    where = ".".join(path)
    validate = component.get("validate")
    validate = validate if isinstance(validate, Mapping) else {}
    options: tuple[Any, ...] | None = None
    if kind in (Kind.CHOICE, Kind.CHOICES):
        options = _static_options(component)
    validation_type = validate.get("validationType")
    return Field(
        path,
        kind,
        label=_label(component),
        required=validate.get("required") is True,
        readonly=_static_flag(component.get("readonly")) or _static_flag(component.get("disabled")),
        conditional=conditional,
        minimum=_static_decimal(validate.get("min"), where, "min"),
        maximum=_static_decimal(validate.get("max"), where, "max"),
        min_length=_static_count(validate.get("minLength"), where, "minLength"),
        max_length=_static_count(validate.get("maxLength"), where, "maxLength"),
        pattern=_compile(validate.get("pattern"), where),
        validation_type=validation_type if validation_type in ("email", "phone") else None,
        options=options,
        decimal_digits=_static_count(component.get("decimalDigits"), where, "decimalDigits"),
        increment=_positive(_static_decimal(component.get("increment"), where, "increment")),
        multiple=component.get("multiple") is True,
    )


def _static_options(component: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Return the static option values, or None when they come from data or FEEL."""
    if component.get("valuesKey") or component.get("valuesExpression"):
        return None
    values = component.get("values")
    if not isinstance(values, list):
        return ()
    return tuple(v["value"] for v in values if isinstance(v, Mapping) and "value" in v)


def _label(component: Mapping[str, Any]) -> str:
    label = component.get("label")
    return label if isinstance(label, str) else ""


def _may_be_hidden(component: Mapping[str, Any]) -> bool:
    conditional = component.get("conditional")
    return isinstance(conditional, Mapping) and bool(conditional.get("hide"))


def _static_flag(value: Any) -> bool:
    """Read a boolean property that form-js also allows as a FEEL expression."""
    if value is True:
        return True
    # Only the constant expression is decidable; any other expression counts as false.
    return isinstance(value, str) and value.strip().lower() in ("true", "=true")


def _split_path(value: Any, component: Mapping[str, Any], *, allow_empty: bool) -> tuple[str, ...]:
    if value is None or value == "":
        if allow_empty:
            return ()
        raise ValueError(f"a {component.get('type')!r} component has no key/path "
                         f"(id {component.get('id')!r})")
    parts = tuple(value.split(".")) if isinstance(value, str) else ()
    if not parts or not all(parts):
        raise ValueError(f"invalid key or path {value!r}")
    return parts


def _static_decimal(value: Any, where: str, name: str) -> Decimal | None:
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
        if _NUMBER_TEXT.fullmatch(text):
            return Decimal(text)
    raise ValueError(f"field {where!r}: {name} {value!r} is not a number")


def _static_count(value: Any, where: str, name: str) -> int | None:
    number = _static_decimal(value, where, name)
    if number is None:
        return None
    if number < 0 or number != number.to_integral_value():
        raise ValueError(f"field {where!r}: {name} {value!r} is not a whole number >= 0")
    return int(number)


def _positive(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > 0 else None


def _compile(pattern: Any, where: str) -> re.Pattern[str] | None:
    if pattern is None or pattern == "":
        return None
    if not isinstance(pattern, str):
        raise ValueError(f"field {where!r}: pattern must be a string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"field {where!r}: pattern {pattern!r} does not compile: {exc}") from exc


def _check_no_clash(fields: Sequence[Field]) -> None:
    """Refuse two fields writing the same variable, or one inside the other's value."""
    paths = sorted(f.path for f in fields)
    for shorter, longer in pairwise(paths):
        if longer[: len(shorter)] == shorter:
            raise ValueError(f"form keys clash: {'.'.join(shorter)!r} and {'.'.join(longer)!r}")


# --- reading generated forms ----------------------------------------------------------------

_GENERATED_KINDS: Final = {
    "string": Kind.TEXT,
    "long": Kind.INTEGER,
    "boolean": Kind.BOOLEAN,
    "date": Kind.LEGACY_DATE,
    "enum": Kind.CHOICE,
}


def form_fields_generated(form_data: Sequence[Mapping[str, Any]]) -> list[Field]:
    """Read ``camunda:formData`` fields (as dicts) into :class:`Field` rules.

    A custom type accepts any single value. Validators other than required,
    readonly, minlength, maxlength, min and max (custom Java classes) are ignored:
    they cannot run here. Raise ``ValueError`` for a field without an id or a
    constraint whose config is not a number.
    """
    fields: list[Field] = []
    for entry in form_data:
        field_id = entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(field_id, str) or not field_id:
            raise ValueError(f"a formData field needs an 'id': {entry!r}")
        kind = _GENERATED_KINDS.get(str(entry.get("type") or "string"), Kind.SCALAR)
        rules: dict[str, Any] = {}
        for constraint in entry.get("validation") or ():
            if isinstance(constraint, Mapping):
                rules[str(constraint.get("name", "")).lower()] = constraint.get("config")
        options = None
        if kind == Kind.CHOICE:
            values = entry.get("values") or ()
            options = tuple(v.get("id") for v in values if isinstance(v, Mapping))
        label = entry.get("label")
        fields.append(Field(
            # Camunda variable names are plain names: a dot is part of the name.
            (field_id,),
            kind,
            label=label if isinstance(label, str) else "",
            required="required" in rules,
            readonly="readonly" in rules,
            minimum=_static_decimal(rules.get("min"), field_id, "min"),
            maximum=_static_decimal(rules.get("max"), field_id, "max"),
            min_length=_static_count(rules.get("minlength"), field_id, "minlength"),
            max_length=_static_count(rules.get("maxlength"), field_id, "maxlength"),
            options=options,
        ))
    _check_no_clash(fields)
    return fields


# --- validating a submission ----------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()
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


def validate_submission(
    data: Mapping[str, Any],
    *,
    schema: Mapping[str, Any] | None = None,
    form_data: list[dict[str, Any]] | None = None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check a task submission against its form and return the variables to store.

    Give exactly one of ``schema`` (a Camunda Form) or ``form_data`` (a generated
    form). ``current`` holds the process variables as they are now.

    The result holds only the form's input fields, coerced to their types and
    nested along dotted keys and group paths. Keys the form does not know are
    dropped silently, not reported: clients may send extra state. A field absent
    from ``data`` is not written; a required one may be absent when ``current``
    already holds a value. Read-only and disabled fields are never written; sending
    one with a value other than the current one is an error.

    Raise :class:`FormValidationError` listing each failing field's first problem,
    in form order, and ``ValueError`` when the form itself cannot be enforced.
    """
    if (schema is None) == (form_data is None):
        raise ValueError("give exactly one of schema or form_data")
    if not isinstance(data, Mapping):
        raise TypeError("the submitted data must be a mapping of field keys to values")
    if schema is not None:
        fields = form_fields_camunda(schema)
    else:
        fields = form_fields_generated(form_data or [])
    errors: list[FieldError] = []
    cleaned = _clean_scope(fields, data, current or {}, "", errors)
    if errors:
        raise FormValidationError(errors)
    return cleaned


def _clean_scope(
    fields: Sequence[Field],
    data: Mapping[str, Any],
    current: Mapping[str, Any],
    prefix: str,
    errors: list[FieldError],
) -> dict[str, Any]:
    """Validate the fields of one object (the whole form or one dynamic-list row)."""
    cleaned: dict[str, Any] = {}
    for f in fields:
        name = prefix + f.key
        sent = _lookup(data, f.path)
        held = _lookup(current, f.path)
        try:
            if f.readonly:
                if f.kind == Kind.LIST:
                    continue  # see _camunda_fields: a shown list is ignored, not compared
                if sent is not _MISSING and not _unchanged(f, sent, held):
                    raise _Invalid("is read-only")
                continue
            if sent is _MISSING:
                # Absent means "not changed": only a required field with nothing stored fails.
                if f.required and not f.conditional and _is_empty(held):
                    raise _Invalid("is required")
                continue
            if _is_blank(f, sent):
                if f.required and not f.conditional:
                    raise _Invalid("is required")
                value = _blank_value(f, sent)
            elif f.kind == Kind.LIST:
                value = _clean_rows(f, sent, held, name, errors)
            else:
                value = _coerce(f, sent)
        except _Invalid as exc:
            errors.append(FieldError(name, exc.message))
            continue
        _assign(cleaned, f.path, value)
    return cleaned


def _clean_rows(
    f: Field, sent: Any, held: Any, name: str, errors: list[FieldError]
) -> list[dict[str, Any]]:
    if not isinstance(sent, list):
        raise _Invalid("must be a list")
    # Rows are matched to the stored list by position: the best guess without row ids.
    held_rows = held if isinstance(held, list) else []
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(sent):
        row_name = f"{name}[{index}]"
        if not isinstance(row, Mapping):
            errors.append(FieldError(row_name, "must be an object"))
            continue
        held_row = held_rows[index] if index < len(held_rows) else None
        held_row = held_row if isinstance(held_row, Mapping) else {}
        # A row keeps what it held (its read-only values, keys the form does not show)
        # and takes what was entered: the stored list is replaced as a whole.
        rows.append({**held_row, **_clean_scope(f.children, row, held_row, row_name + ".",
                                                errors)})
    return rows


def _lookup(scope: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = scope
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _assign(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _is_empty(value: Any) -> bool:
    """Tell whether a stored or submitted value counts as "nothing entered"."""
    return value is _MISSING or value is None or value == "" or value == []


def _is_blank(f: Field, value: Any) -> bool:
    if value is None or (isinstance(value, str) and value == ""):
        return True
    # An empty list is "nothing chosen" only where a list is expected; elsewhere a type error.
    return isinstance(value, list) and not value and (
        f.kind in (Kind.CHOICES, Kind.LIST) or (f.kind == Kind.FILE and f.multiple))


def _blank_value(f: Field, sent: Any) -> Any:
    if f.kind in (Kind.CHOICES, Kind.LIST) or (f.kind == Kind.FILE and f.multiple):
        return []
    if f.kind == Kind.TEXT and sent == "":
        return ""
    return None


def _unchanged(f: Field, sent: Any, held: Any) -> bool:
    """Tell whether a read-only field came back as it is stored (after coercion)."""
    if _is_empty(sent) and _is_empty(held):
        return True
    if _same(sent, held):
        return True
    try:
        return _same(_coerce(f, sent), held)
    except _Invalid:
        return False


def _same(a: Any, b: Any) -> bool:
    """Compare like ``==`` but never equate a boolean with a number (True == 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _coerce(f: Field, value: Any) -> Any:
    """Return ``value`` as the field's type, or raise ``_Invalid`` with the first problem."""
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
        raise _Invalid("must be a list")  # rows are cleaned by _clean_rows
    return _scalar(value)


def _capped(value: str, limit: int = TEXT_CAP) -> str:
    if len(value) > limit:
        raise _Invalid("is too long")
    return value


def _text(f: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("must be text")
    if f.max_length is not None:
        # The form's own limit replaces the default cap, as the form designer chose it.
        if len(value) > f.max_length:
            raise _Invalid(f"must be at most {f.max_length} characters")
    else:
        _capped(value)
    # form-js measures minLength on the trimmed text, so blanks cannot pad a short answer.
    if f.min_length is not None and len(value.strip()) < f.min_length:
        raise _Invalid(f"must be at least {f.min_length} characters")
    if f.pattern is not None and not f.pattern.fullmatch(value):
        raise _Invalid("does not have the expected format")
    if f.validation_type == "email" and not _EMAIL.fullmatch(value):
        raise _Invalid("must be an email address")
    if f.validation_type == "phone" and not _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", value)):
        raise _Invalid("must be a phone number")
    return value


def _number(f: Field, value: Any) -> int | float:
    number = _to_decimal(value)
    places = _decimal_places(number)
    if places and (f.kind == Kind.INTEGER or f.decimal_digits == 0):
        raise _Invalid("must be a whole number")
    if f.decimal_digits is not None and places > f.decimal_digits:
        raise _Invalid(f"must have at most {f.decimal_digits} decimal digits")
    if f.minimum is not None and number < f.minimum:
        raise _Invalid(f"must be at least {_show(f.minimum)}")
    if f.maximum is not None and number > f.maximum:
        raise _Invalid(f"must be at most {_show(f.maximum)}")
    if f.increment is not None and not _is_multiple(number, f.increment):
        raise _Invalid(f"must be a multiple of {_show(f.increment)}")
    # Beyond float range the value could not be stored or shown faithfully.
    if not math.isfinite(float(number)):
        raise _Invalid("is out of range")
    if places:
        return float(number)
    whole = int(number)
    if f.kind == Kind.INTEGER and not _LONG_MIN <= whole <= _LONG_MAX:
        raise _Invalid("is out of range")
    return whole


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Invalid("must be a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Invalid("must be a number")
        # repr gives the shortest text that round-trips, so 0.1 stays 0.1.
        return Decimal(repr(value))
    if isinstance(value, str):
        text = _capped(value).strip()
        if _NUMBER_TEXT.fullmatch(text):
            return Decimal(text)
    raise _Invalid("must be a number")


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
    raise _Invalid("must be true or false")


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
    raise _Invalid({
        Kind.DATE: "must be a date (YYYY-MM-DD)",
        Kind.LEGACY_DATE: "must be a date (dd/MM/yyyy or YYYY-MM-DD)",
        Kind.TIME: "must be a time (HH:MM)",
        Kind.DATETIME: "must be a date and time (ISO 8601)",
    }[kind])


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int)


def _scalar(value: Any) -> Any:
    if not _is_scalar(value):
        raise _Invalid("must be a single value")
    return _capped(value) if isinstance(value, str) else value


def _is_option(f: Field, value: Any) -> bool:
    return f.options is None or any(_same(value, option) for option in f.options)


def _choice(f: Field, value: Any) -> Any:
    value = _scalar(value)
    if not _is_option(f, value):
        raise _Invalid("is not one of the options")
    return value


def _choices(f: Field, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid("must be a list")
    for item in value:
        if not _is_scalar(item):
            raise _Invalid("must be a list of single values")
        if isinstance(item, str):
            _capped(item)
        if not _is_option(f, item):
            raise _Invalid("contains a value that is not one of the options")
    return list(value)


def _files(f: Field, value: Any) -> Any:
    if not f.multiple:
        return _file_reference(value, "must be a file reference")
    if not isinstance(value, list):
        raise _Invalid("must be a list of file references")
    return [_file_reference(item, "must be a list of file references") for item in value]


def _file_reference(value: Any, message: str) -> dict[str, Any]:
    """Check the shape of a stored document's reference; the document store checks the rest."""
    if not isinstance(value, Mapping):
        raise _Invalid(message)
    if not all(isinstance(value.get(k), str) and value[k] for k in _FILE_KEYS):
        raise _Invalid(message)
    if not _SHA256.fullmatch(value["sha256"]):
        raise _Invalid(message)
    reference: dict[str, Any] = {}
    for key, item in value.items():
        # Flat scalars only: a reference is metadata, not a place to smuggle nested data.
        if not isinstance(key, str) or not (item is None or _is_scalar(item)):
            raise _Invalid(message)
        reference[key] = _capped(item) if isinstance(item, str) else item
    return reference
