"""What the task page gives the form-js viewer: a form-js schema for every kind of task form.

A Camunda Form is handed over as deployed. A generated form
(``camunda:formData``) is turned into the equivalent form-js components, so
the same viewer renders it; the server checks the submission against the
original fields either way (``engine.tasks.taskforms.check_submission``).
"""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from flask import request
from werkzeug.datastructures import FileStorage

from engine.composition import Services
from engine.errors import InvalidInput
from engine.identity.access import Actor
from engine.tasks.form_fields import Kind
from engine.tasks.formdata_fields import form_fields_generated
from engine.tasks.taskforms import TaskForm

from . import i18n

_COMPONENT = {
    Kind.TEXT: "textfield", Kind.NUMBER: "number", Kind.INTEGER: "number",
    Kind.BOOLEAN: "checkbox", Kind.DATE: "datetime", Kind.LEGACY_DATE: "datetime",
    Kind.CHOICE: "select", Kind.SCALAR: "textfield",
}


def viewer_schema(form: TaskForm) -> dict[str, Any]:
    """The form-js schema that renders ``form``, its texts in the page's language."""
    translated: dict[str, Any] = i18n.translate_form(_viewer_schema(form), i18n.current())
    return translated


def _viewer_schema(form: TaskForm) -> dict[str, Any]:
    if form.kind != "generated":
        return dict(form.schema or {})
    raw = {str(entry.get("id")): entry for entry in form.fields or []}
    components: list[dict[str, Any]] = []
    for field in form_fields_generated(form.fields or []):
        key = field.path[0]
        component: dict[str, Any] = {
            "id": f"Field_{len(components) + 1}", "key": key,
            "type": _COMPONENT.get(field.kind, "textfield"), "label": field.label or key,
            "readonly": field.readonly, "validate": {"required": field.required},
        }
        if field.kind in (Kind.DATE, Kind.LEGACY_DATE):
            component["subtype"] = "date"
        if field.kind == Kind.INTEGER:
            component["decimalDigits"] = 0
        if field.minimum is not None:
            component["validate"]["min"] = float(field.minimum)
        if field.maximum is not None:
            component["validate"]["max"] = float(field.maximum)
        if field.min_length is not None:
            component["validate"]["minLength"] = field.min_length
        if field.max_length is not None:
            component["validate"]["maxLength"] = field.max_length
        if field.kind == Kind.CHOICE:
            values = raw.get(key, {}).get("values") or []
            component["values"] = [{"label": str(v.get("name") or v.get("id")),
                                    "value": v.get("id")} for v in values]
        components.append(component)
    return {"type": "default", "id": "generated", "schemaVersion": 16,
            "components": components}


def sent_file() -> FileStorage:
    """The file a page sent (field ``file``); refused before any transaction if none."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("no file", {"file": "choose a file to upload"})
    return upload


def store_sent_file(services: Services, actor: Actor, upload: FileStorage, instance_id: str,
                    task_id: str | None = None) -> dict[str, Any]:
    """Store a sent file with the instance (and task), for the form field the page
    named in ``field``; return the reference a form's file field holds."""
    document = services.documents.upload(
        instance_id, cast(BinaryIO, upload.stream), filename=upload.filename or "document",
        content_type=upload.mimetype or "application/octet-stream",
        uploaded_by=actor.username, task_id=task_id, field=request.form.get("field"))
    return services.documents.reference(document)
