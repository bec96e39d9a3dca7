"""Reading a Camunda Form (form-js JSON, as Camunda Modeler 5.x writes it) into field rules.

A ``conditional.hide`` rule within the FEEL subset of :mod:`engine.tasks.feel` is
compiled and kept on the field (``hide``): the submission check evaluates it on the
form's data, as the browser does, so a hidden field is never required nor written
and a shown required field is always required. Other FEEL expressions are read
permissively: a field whose hide rule is outside the subset is marked
``conditional`` (never required); a read-only/disabled flag given as an expression
counts as editable; a bound given as an expression is not enforced; options that
come from ``valuesExpression`` are left unchecked, and those named by ``valuesKey``
are checked against the list the form was given (``values_key``). That way a
legitimate submission is never refused by a rule we cannot evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from engine.tasks.feel import Compiled, compile_feel
from engine.tasks.form_fields import Field, Kind, check_no_clash, static_count, static_decimal

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
    fields = _camunda_fields(components, (), hidden=False, rules=())
    check_no_clash(fields)
    return fields


def _camunda_fields(
    components: Sequence[Any], prefix: tuple[str, ...], *, hidden: bool,
    rules: tuple[Compiled, ...],
) -> list[Field]:
    found: list[Field] = []
    for component in components:
        if not isinstance(component, Mapping):
            continue
        kind_name = component.get("type")
        if not isinstance(kind_name, str):
            continue
        # A hidden container hides everything inside it, so flag and rules are inherited.
        rule = _hide_rule(component)
        conditional = hidden or rule is False
        hide = rules + ((rule,) if callable(rule) else ())
        children = component.get("components")
        children = children if isinstance(children, list) else []
        if kind_name in _GROUPS:
            path = _split_path(component.get("path"), component, allow_empty=True)
            found.extend(_camunda_fields(children, prefix + path, hidden=conditional,
                                         rules=hide))
        elif kind_name == "dynamiclist":
            path = _split_path(component.get("path"), component, allow_empty=False)
            # Rows are their own namespace; the list being hidden does not hide a row's fields.
            rows = _camunda_fields(children, (), hidden=False, rules=())
            check_no_clash(rows)
            # A list whose rows only show values is a display: it is never written, or
            # the rows a browser sends back (holding only the shown keys) would replace it.
            shown_only = all(r.readonly for r in rows)
            readonly = (_static_flag(component.get("readonly"))
                        or _static_flag(component.get("disabled")) or shown_only)
            found.append(Field(prefix + path, Kind.LIST, label=_label(component),
                               readonly=readonly, conditional=conditional, hide=hide,
                               children=tuple(rows)))
        elif kind_name in _INPUT_KINDS or kind_name == "datetime":
            path = _split_path(component.get("key"), component, allow_empty=False)
            found.append(_camunda_input(component, prefix + path, conditional, hide))
    return found


def _camunda_input(component: Mapping[str, Any], path: tuple[str, ...], conditional: bool,
                   hide: tuple[Compiled, ...]) -> Field:
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
        description=_text(component, "description"),
        required=validate.get("required") is True,
        readonly=_static_flag(component.get("readonly")) or _static_flag(component.get("disabled")),
        conditional=conditional,
        hide=hide,
        values_key=_values_key(component),
        minimum=static_decimal(validate.get("min"), where, "min"),
        maximum=static_decimal(validate.get("max"), where, "max"),
        min_length=static_count(validate.get("minLength"), where, "minLength"),
        max_length=static_count(validate.get("maxLength"), where, "maxLength"),
        pattern=_compile(validate.get("pattern"), where),
        validation_type=validation_type if validation_type in ("email", "phone") else None,
        options=options,
        decimal_digits=static_count(component.get("decimalDigits"), where, "decimalDigits"),
        increment=_positive(static_decimal(component.get("increment"), where, "increment")),
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


def _text(component: Mapping[str, Any], name: str) -> str:
    text = component.get(name)
    return text if isinstance(text, str) else ""


def _label(component: Mapping[str, Any]) -> str:
    label = component.get("label")
    return label if isinstance(label, str) else ""


def _hide_rule(component: Mapping[str, Any]) -> Compiled | bool | None:
    """The compiled hide rule; None without one, False for one outside the FEEL subset."""
    conditional = component.get("conditional")
    if not isinstance(conditional, Mapping) or not conditional.get("hide"):
        return None
    rule = conditional.get("hide")
    compiled = compile_feel(rule) if isinstance(rule, str) else None
    return compiled if compiled is not None else False


def _values_key(component: Mapping[str, Any]) -> str | None:
    key = component.get("valuesKey")
    return key if isinstance(key, str) and key and not component.get("valuesExpression") else None


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
