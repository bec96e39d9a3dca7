"""Camunda Forms (form-js JSON files, ``.form``) as deployable resources."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.errors import Problem


@dataclass(frozen=True)
class FormDocument:
    name: str
    form_id: str
    schema: dict[str, Any]


def read_form(name: str, content: bytes) -> FormDocument | Problem:
    """Parse a ``.form`` file; return the form or the reason it is refused."""
    try:
        schema = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        return Problem(name, "a form file must be UTF-8 encoded JSON")
    except json.JSONDecodeError as exc:
        return Problem(name, f"not valid JSON: {exc.msg}", line=exc.lineno)
    if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
        return Problem(name, "not a Camunda Form: expected a JSON object with 'components'")
    # A form linked by file name (camunda:formKey) needs no id; formRef needs one.
    form_id = schema.get("id") or name.rsplit("/", 1)[-1].removesuffix(".form")
    if not isinstance(form_id, str):
        return Problem(name, "the form's 'id' must be a text")
    keys = [str(c["key"]) for c in _fields(schema["components"]) if c.get("key")]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        return Problem(name, f"field keys used twice: {', '.join(duplicates)}")
    return FormDocument(name, form_id, schema)


def _fields(components: list[Any]) -> list[dict[str, Any]]:
    """Flatten groups and dynamic lists into their input fields."""
    found: list[dict[str, Any]] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        found.append(component)
        if isinstance(component.get("components"), list):
            found.extend(_fields(component["components"]))
    return found
