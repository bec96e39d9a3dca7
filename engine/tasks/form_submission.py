"""Server-side validation of the data a user submits when completing a task.

The browser runs the form's checks too, but anything it sends can be forged, so
the server checks the submission again against the task's form before a single
variable is stored. The form, a Camunda Form or generated ``camunda:formData``
fields, is read into :class:`~engine.tasks.form_fields.Field` rules, and
:func:`validate_submission` applies them and returns the variables to store.

What cannot be checked here, and what is done instead:

* A field's ``conditional.hide`` rule is evaluated (:mod:`.feel`) on the data as
  the form holds it (the stored variables with the submission over them): a hidden
  field is neither required nor written, as form-js leaves it out; a shown
  required field is required. Other FEEL expressions, and hide rules outside the
  subset, are read permissively (see :mod:`.camunda_form_fields`) so that a
  legitimate submission is never refused by a rule we cannot evaluate, though a
  value's type is still checked.
* Options named by ``valuesKey`` are checked against the list the form was given
  under that key: ``option_lists`` (lists the engine fills, such as the users of a
  role, :mod:`.option_lists`) or else the stored variable of that name.
* ``defaultValue`` is a rendering concern: a field missing from the submission is
  left untouched, never filled with its default.
* Computed fields (form-js ``expression``) are never written: their value would
  come from the browser and could not be recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any, Final

from engine.errors import InvalidInput
from engine.tasks.camunda_form_fields import form_fields_camunda
from engine.tasks.field_values import InvalidValue, coerce, same_value
from engine.tasks.form_fields import Field, Kind
from engine.tasks.formdata_fields import form_fields_generated


@dataclass(frozen=True)
class FieldError:
    """One field's first problem: ``message`` in English for machine clients, ``code``
    and ``params`` for a page to say it in the person's language (see
    :data:`~engine.tasks.field_values.PROBLEMS`); ``hint`` is the field's help text, to
    show with a format problem instead of the pattern."""

    field: str
    message: str
    # Not compared: the English message already tells one problem from another.
    code: str = dataclass_field(default="", compare=False)
    params: Mapping[str, str] = dataclass_field(default_factory=dict, compare=False)
    hint: str = dataclass_field(default="", compare=False)


class FormValidationError(Exception):
    """The submission broke the form's rules; ``errors`` holds one entry per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)


class FormInvalid(InvalidInput):
    """A submission the engine refuses: :class:`InvalidInput` with its English messages
    per field, keeping each :class:`FieldError` for a page to word in its language."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("the form has errors", {e.field: e.message for e in errors})
        self.field_errors = list(errors)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()


def validate_submission(
    data: Mapping[str, Any],
    *,
    schema: Mapping[str, Any] | None = None,
    form_data: list[dict[str, Any]] | None = None,
    current: Mapping[str, Any] | None = None,
    option_lists: Mapping[str, Any] | None = None,
    fields: Sequence[Field] | None = None,
) -> dict[str, Any]:
    """Check a task submission against its form and return the variables to store.

    Give exactly one of ``schema`` (a Camunda Form) or ``form_data`` (a generated
    form). ``current`` holds the process variables as they are now. ``fields``, when
    given, are the form's fields as read from it already (``TaskForm.input_fields``).

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
    if fields is None:
        fields = (form_fields_camunda(schema) if schema is not None
                  else form_fields_generated(form_data or []))
    errors: list[FieldError] = []
    held = current or {}
    # What the form's rules see: the stored variables, the submission over them.
    scope = {**held, **data}
    lists = {**{k: v for k, v in held.items() if isinstance(v, list)}, **(option_lists or {})}
    cleaned = _clean_scope(fields, data, held, "", errors, scope, lists)
    if errors:
        raise FormValidationError(errors)
    return cleaned


def _clean_scope(
    fields: Sequence[Field],
    data: Mapping[str, Any],
    current: Mapping[str, Any],
    prefix: str,
    errors: list[FieldError],
    scope: Mapping[str, Any],
    lists: Mapping[str, Any],
) -> dict[str, Any]:
    """Validate the fields of one object (the whole form or one dynamic-list row)."""
    cleaned: dict[str, Any] = {}
    for f in fields:
        name = prefix + f.key
        if any(rule(scope) is True for rule in f.hide):
            continue  # hidden: form-js submits nothing for it, so nothing is asked or kept
        if f.values_key is not None and f.options is None:
            f = replace(f, options=_listed_options(lists.get(f.values_key)))
        sent = _lookup(data, f.path)
        held = _lookup(current, f.path)
        try:
            if f.readonly:
                if f.kind == Kind.LIST:
                    continue  # see camunda_form_fields: a shown list is ignored, not compared
                if sent is not _MISSING and not _unchanged(f, sent, held):
                    raise InvalidValue("read_only")
                continue
            if sent is _MISSING:
                # Absent means "not changed": only a required field with nothing stored fails.
                if f.required and not f.conditional and _is_empty(held):
                    raise InvalidValue("required")
                continue
            if _is_blank(f, sent):
                if f.required and not f.conditional:
                    raise InvalidValue("required")
                value = _blank_value(f, sent)
            elif f.kind == Kind.LIST:
                value = _clean_rows(f, sent, held, name, errors, scope, lists)
            else:
                value = coerce(f, sent)
        except InvalidValue as exc:
            errors.append(FieldError(name, exc.message, exc.code, exc.params, f.description))
            continue
        _assign(cleaned, f.path, value)
    return cleaned


def _clean_rows(
    f: Field, sent: Any, held: Any, name: str, errors: list[FieldError],
    scope: Mapping[str, Any], lists: Mapping[str, Any],
) -> list[dict[str, Any]]:
    if not isinstance(sent, list):
        raise InvalidValue("list")
    # Rows are matched to the stored list by position: the best guess without row ids.
    held_rows = held if isinstance(held, list) else []
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(sent):
        row_name = f"{name}[{index}]"
        if not isinstance(row, Mapping):
            problem = InvalidValue("row")
            errors.append(FieldError(row_name, problem.message, problem.code))
            continue
        held_row = held_rows[index] if index < len(held_rows) else None
        held_row = held_row if isinstance(held_row, Mapping) else {}
        # A row keeps what it held (its read-only values, keys the form does not show)
        # and takes what was entered: the stored list is replaced as a whole.
        # A row's rules see the row's own values over the whole form's.
        row_scope = {**scope, **held_row, **row}
        rows.append({**held_row, **_clean_scope(f.children, row, held_row, row_name + ".",
                                                errors, row_scope, lists)})
    return rows


def _listed_options(listed: Any) -> tuple[Any, ...] | None:
    """The option values of a ``valuesKey`` list (form-js: ``{label, value}`` or bare values).

    None (unchecked) when the form was given no list under that key.
    """
    if not isinstance(listed, list):
        return None
    return tuple(item.get("value") if isinstance(item, Mapping) else item for item in listed)


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
    if same_value(sent, held):
        return True
    try:
        return same_value(coerce(f, sent), held)
    except InvalidValue:
        return False
