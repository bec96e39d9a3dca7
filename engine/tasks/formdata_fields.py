"""Reading generated forms (``camunda:formData`` fields) into field rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from engine.tasks.form_fields import Field, Kind, check_no_clash, static_count, static_decimal

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
            minimum=static_decimal(rules.get("min"), field_id, "min"),
            maximum=static_decimal(rules.get("max"), field_id, "max"),
            min_length=static_count(rules.get("minlength"), field_id, "minlength"),
            max_length=static_count(rules.get("maxlength"), field_id, "maxlength"),
            options=options,
        ))
    check_no_clash(fields)
    return fields
