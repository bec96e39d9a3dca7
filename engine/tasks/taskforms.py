"""The form a user task shows, and the server-side check of what is submitted.

A task's form is a deployed Camunda Form (``camunda:formRef`` by form id, or
``camunda:formKey="camunda-forms:deployment:<file>.form"`` by file name) or a
generated form (``camunda:formData`` fields kept in the task spec). Whatever the
browser checked, the server checks again; only the form's fields reach the
process data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import FormDefinition, ProcessDefinition, ProcessInstance
from engine.tasks.camunda_form_fields import form_fields_camunda
from engine.tasks.form_fields import Field, Kind
from engine.tasks.form_submission import FormInvalid, FormValidationError, validate_submission
from engine.tasks.formdata_fields import form_fields_generated

CAMUNDA_FORM_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:")


@dataclass(frozen=True)
class TaskForm:
    """A task's form: a form-js ``schema`` or generated ``fields``, never both."""

    kind: str  # "camunda-form" | "generated"
    schema: dict[str, Any] | None = None
    fields: list[dict[str, Any]] | None = None
    form_id: str | None = None
    version: int | None = None

    @cached_property
    def input_fields(self) -> tuple[Field, ...]:
        """The form's fields with their rules, read from the form once: a deployed
        form never changes, and its TaskForm is kept (``_FORMS``) to be read again by
        every view and submission of its tasks."""
        if self.fields is not None:
            return tuple(form_fields_generated(self.fields))
        return tuple(form_fields_camunda(self.schema or {}))

    def field_keys(self) -> list[str]:
        """The top-level variable names the form reads and writes."""
        return list(dict.fromkeys(f.path[0] for f in self.input_fields if f.path))


class FormTask(Protocol):
    """What finding a task's form reads of it: an ORM ``Task`` or a command's row."""

    @property
    def form_key(self) -> str | None: ...
    @property
    def instance_id(self) -> str: ...
    @property
    def element_id(self) -> str: ...


def form_for_task(session: Session, task: FormTask) -> TaskForm | None:
    """Return the form a task shows, or None for a task without one.

    A command's task row may say which version of a form by id is the latest
    (``form_row``: its row id and content hash, read with the task): a version
    seen before then costs no query.
    """
    key = task.form_key
    if not key:
        return None
    form_row = getattr(task, "form_row", None)
    if form_row is not None:
        known = _FORMS.get(form_row)
        if known is not None and known.form_id == key:
            return known
    if key == "generated":
        return TaskForm("generated", fields=_generated_fields(session, task))
    if key.startswith(CAMUNDA_FORM_PREFIXES):
        file_name = key.split(":", 2)[2].rsplit("/", 1)[-1]
        found = _latest_form(session, _LATEST_BY_FILE, file_name)
    else:
        found = form_by_id(session, key)
    if found is None:
        # Deployment checks every form link, so this means the form was removed.
        raise InvalidInput(f"the form '{key}' of this task is not deployed")
    return found


def form_by_id(session: Session, form_id: str) -> TaskForm | None:
    """The latest deployed Camunda Form with this id, or None.

    A form whose id is a message's name is the form staff fill in to record that
    message when it does not arrive from another system by itself.
    """
    return _latest_form(session, _LATEST_BY_ID, form_id)


# Forms by (row id, content hash): a version of a form never changes, so each is
# read and decoded once per process (the hash guards against a row id SQLite
# reuses after a deployment was deleted). Read-only for every caller.
_FORMS: dict[tuple[int, str], TaskForm] = {}
_FORMS_KEPT = 512


_forms = FormDefinition.__table__


def _latest_by(column: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """The latest version's key columns of the forms whose ``column`` is ``p_value``."""
    return (sa.select(_forms.c.id, _forms.c.content_hash, _forms.c.form_id, _forms.c.version)
            .where(column == sa.bindparam("p_value"))
            .order_by(_forms.c.version.desc()).limit(1))


# Built once: a task's form is looked up on every opening and every submission.
_LATEST_BY_FILE = _latest_by(_forms.c.resource_name)
_LATEST_BY_ID = _latest_by(_forms.c.form_id)
_SCHEMA = sa.select(_forms.c.schema).where(_forms.c.id == sa.bindparam("p_id"))


def _latest_form(session: Session, latest: sa.Select[Any], value: str) -> TaskForm | None:
    # Which version is the latest is asked every time (another node may have just
    # deployed one); its schema, only the first time.
    connection = session.connection()
    found = connection.execute(latest, {"p_value": value}).first()
    if found is None:
        return None
    key = (found.id, found.content_hash)
    form = _FORMS.get(key)
    if form is None:
        schema = connection.execute(_SCHEMA, {"p_id": found.id}).scalar() or {}
        if len(_FORMS) >= _FORMS_KEPT:
            _FORMS.clear()
        form = _FORMS[key] = TaskForm("camunda-form", schema=schema, form_id=found.form_id,
                                      version=found.version)
    return form


def _generated_fields(session: Session, task: FormTask) -> list[dict[str, Any]]:
    spec = session.scalar(
        sa.select(ProcessDefinition.spec)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.id == task.instance_id))
    for process in [spec["spec"], *spec["subprocess_specs"].values()] if spec else []:
        task_spec = process["task_specs"].get(task.element_id)
        if task_spec is not None and task_spec.get("task_spec"):
            # A multi-instance task: its instances' spec holds the form.
            task_spec = process["task_specs"].get(task_spec["task_spec"])
        if task_spec is not None:
            fields: list[dict[str, Any]] = (task_spec.get("extensions") or {}).get(
                "formFields", [])
            return fields
    return []


def check_submission(form: TaskForm | None, data: Mapping[str, Any],
                     current: Mapping[str, Any],
                     option_lists: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``data`` against the form; return the variables to store.

    ``option_lists`` are the lists the engine filled for the form's ``valuesKey``
    names (:mod:`.option_lists`); a choice outside them is refused.

    :raises InvalidInput: with one message per field that failed.
    """
    if form is None:
        return dict(data)
    try:
        if form.kind == "generated":
            return validate_submission(data, form_data=form.fields or [], current=current,
                                       fields=form.input_fields)
        return validate_submission(data, schema=form.schema or {}, current=current,
                                   option_lists=option_lists, fields=form.input_fields)
    except FormValidationError as exc:
        raise FormInvalid(exc.errors) from exc


def file_references(form: TaskForm | None, cleaned: Mapping[str, Any]
                    ) -> list[tuple[str, dict[str, Any]]]:
    """Return (field, reference) for every document a submission points to."""
    if form is None or form.kind != "camunda-form":
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    for field in form.input_fields:
        if field.kind != Kind.FILE:
            continue
        value: Any = cleaned
        for part in field.path:
            value = value.get(part) if isinstance(value, Mapping) else None
        for reference in value if isinstance(value, list) else [value]:
            if isinstance(reference, dict):
                found.append((field.key, reference))
    return found


def check_file_references(form: TaskForm | None, cleaned: Mapping[str, Any], instance_id: str,
                          lookup: Callable[[list[str]], Mapping[str, Any]]) -> None:
    """Refuse references to documents that were not uploaded to this instance.

    :param lookup: returns the documents (rows) of those ids that exist, by id; called
        once, with every id referred to (a submission may refer to a dozen).
    :raises InvalidInput: naming each field whose reference does not hold.
    """
    references = file_references(form, cleaned)
    if not references:
        return
    documents = lookup(sorted({str(reference.get("id")) for _, reference in references}))
    errors: dict[str, str] = {}
    for field, reference in references:
        document = documents.get(str(reference.get("id")))
        if (document is None or document.instance_id != instance_id
                or document.sha256 != reference.get("sha256")):
            errors[field] = "refers to a document that was not uploaded to this instance"
    if errors:
        raise InvalidInput("the form has errors", errors)
