"""The JSON shapes of the REST API (marshmallow), from which the OpenAPI document is made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from marshmallow import INCLUDE, Schema, fields, validate

from engine.queries.lists import INSTANCE_STATUSES, MAX_PER_PAGE, TASK_SORTS


class Paging(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def is_overdue(state: str, due_at: datetime | None) -> bool:
    """Whether an open task is past its due time, on the engine's clock."""
    if state != "ready" or due_at is None:
        return False
    now: datetime = current_app.extensions["sertiflow"].clock.now()
    return due_at < now


def iso_time(value: datetime | None) -> str | None:
    """A moment as the schemas' ``fields.DateTime`` writes it (ISO 8601); None stays None.
    For the answers written by hand from a row (a task, a started instance)."""
    return value.isoformat() if value is not None else None


def definition_version(definition_id: str) -> int:
    """The version in a process definition's id (``key:version:digest``)."""
    return int(definition_id.split(":")[1])


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page envelope: ``{"items": [...], "total", "page", "per_page"}``."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(),
        "total_exact": fields.Boolean(metadata={
            "description": "false when a long list was counted only up to `total`"}),
        "page": fields.Integer(),
        "per_page": fields.Integer(),
    }, name=name)


# -- errors -----------------------------------------------------------------------------

class Problem(Schema):
    """Every error answer: RFC 7807 problem details (``application/problem+json``)."""

    class Meta:
        unknown = INCLUDE  # RFC 7807 lets a problem type add members

    type = fields.String(required=True, metadata={"example": "/problems/not-found"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String(metadata={"description": "the path the request was made to"})
    errors = fields.List(fields.Dict(), metadata={
        "description": "what is wrong, one entry per field ({field, message}) or per "
                       "BPMN element ({file, element, line, message})"})


# -- auth -------------------------------------------------------------------------------

class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024),
                             load_only=True)
    name = fields.String(validate=validate.Length(max=255), metadata={
        "description": "a label for the token, such as the client's name"})


class TokenResponse(Schema):
    token = fields.String(required=True)
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.DateTime(required=True)


class Me(Schema):
    username = fields.String()
    display_name = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    company = fields.String(allow_none=True)


# -- definitions ------------------------------------------------------------------------

class Definition(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    name = fields.String(allow_none=True)
    resource_name = fields.String()
    deployment_id = fields.String()
    deployed_at = fields.DateTime()


class DefinitionArgs(Paging):
    key = fields.String()
    latest = fields.Boolean(load_default=False)


class DeployedProcess(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    name = fields.String(allow_none=True)
    resource_name = fields.String()
    unchanged = fields.Boolean()
    warnings = fields.List(fields.String(), metadata={
        "description": "what runs, but maybe not as meant: e.g. a user task with no role"})


class DeployedForm(Schema):
    form_id = fields.String()
    version = fields.Integer()
    resource_name = fields.String()
    unchanged = fields.Boolean()


class DeploymentResult(Schema):
    deployment_id = fields.String(allow_none=True)
    processes = fields.List(fields.Nested(DeployedProcess))
    forms = fields.List(fields.Nested(DeployedForm))


class DeploymentFiles(Schema):
    files = fields.Raw(required=True, metadata={
        "type": "array", "items": {"type": "string", "format": "binary"},
        "description": ".bpmn and .form files; repeat the field for several"})


class StartRequest(Schema):
    business_key = fields.String(allow_none=True, validate=validate.Length(max=255))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    company = fields.String(allow_none=True, validate=validate.Length(max=255), metadata={
        "description": "the customer company the instance belongs to (staff only)"})


# -- instances ----------------------------------------------------------------------------

class Instance(Schema):
    id = fields.String()
    key = fields.String(attribute="definition_key")
    version = fields.Method("_version")
    definition_id = fields.String()
    business_key = fields.String(allow_none=True)
    status = fields.String()
    company = fields.String(allow_none=True)
    started_by = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)

    def _version(self, instance: Any) -> int:
        return definition_version(str(instance.definition_id))


class InstanceArgs(Paging):
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))
    key = fields.String()
    business_key = fields.String()
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "words typed: each starts a word of the business key, the company "
                       "or a searched variable (a product's name)"})


class Timer(Schema):
    id = fields.Integer()
    element = fields.String(attribute="element_id")
    kind = fields.String()
    due_at = fields.DateTime()


class Incident(Schema):
    id = fields.Integer()
    instance_id = fields.String()
    element = fields.String(attribute="element_id", allow_none=True)
    task_id = fields.String(allow_none=True)
    kind = fields.String()
    message = fields.String()
    traceback = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class IncidentArgs(Paging):
    instance_id = fields.String()
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved"]))


class RetryRequest(Schema):
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class CancelRequest(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=1000))


class VariablesRequest(Schema):
    variables = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "variables to set (created or replaced)"})
    deletions = fields.List(fields.String(validate=validate.Length(min=1, max=255)),
                            load_default=list, metadata={
                                "description": "names of variables to delete"})


class HistoryEvent(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    kind = fields.String()
    element = fields.String(attribute="element_id", allow_none=True)
    task_id = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True)


# -- tasks ------------------------------------------------------------------------------

class Task(Schema):
    id = fields.String()
    name = fields.String(attribute="element_id", metadata={"description": "BPMN element id"})
    title = fields.String(allow_none=True)
    instance_id = fields.String()
    key = fields.String(attribute="definition_key")
    state = fields.String()
    roles = fields.List(fields.String(), attribute="candidate_groups")
    users = fields.List(fields.String(), attribute="candidate_users")
    assignee = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    priority = fields.Integer()
    form_key = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Method("_overdue", metadata={
        "description": "still open and past its due time"})
    follow_up_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)

    def _overdue(self, task: Any) -> bool:
        return is_overdue(task.state, task.due_at)


class TaskArgs(Paging):
    assignee = fields.String(metadata={"description": "a user name, or 'me'"})
    unassigned = fields.Boolean()
    role = fields.String()
    key = fields.String()
    business_key = fields.String()
    instance_id = fields.String()
    due_before = fields.DateTime()
    state = fields.String(load_default="ready",
                          validate=validate.OneOf(["ready", "completed", "cancelled"]))
    sort = fields.String(load_default="due", validate=validate.OneOf(list(TASK_SORTS)))
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "words typed: each starts a word of the instance's business key, "
                       "company or a searched variable (a product's name)"})
    completed_by = fields.String(validate=validate.Length(min=1, max=255), metadata={
        "description": "'me' (or a user name, for admins): the tasks that person "
                       "completed, newest first; only key and q filter them"})


class Form(Schema):
    kind = fields.String()
    form_id = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    schema = fields.Raw(allow_none=True, metadata={"description": "form-js schema"})
    fields_ = fields.Raw(allow_none=True, data_key="fields",
                         attribute="fields", metadata={"description": "generated form fields"})


class Document(Schema):
    id = fields.String()
    instance_id = fields.String()
    task_id = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    name = fields.String()
    content_type = fields.String()
    size = fields.Integer(allow_none=True, metadata={
        "description": "null while a generated document is still being made (its download "
                       "makes it at once)"})
    sha256 = fields.String(allow_none=True, metadata={
        "description": "null while a generated document is still being made"})
    ready = fields.Boolean(metadata={
        "description": "false while a generated document is still being made"})
    uploaded_by = fields.String(allow_none=True)
    uploaded_at = fields.DateTime()


class TaskDetail(Task):
    form = fields.Nested(Form, allow_none=True)
    data = fields.Dict(metadata={"description": "current values of the form's fields"})
    variables = fields.Dict(allow_none=True, metadata={
        "description": "all process variables (staff only)"})
    documents = fields.List(fields.Nested(Document))


class AssignRequest(Schema):
    assignee = fields.String(load_default=None, metadata={
        "description": "the user who gets the task (it is claimed for them)"})
    roles = fields.List(fields.String(), load_default=None, metadata={
        "description": "the roles that may claim it from now on (replace its candidates)"})


class CompleteRequest(Schema):
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class Completed(Schema):
    task = fields.Nested(Task)
    instance_status = fields.String()
    next_tasks = fields.List(fields.String())


class UploadForm(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    field = fields.String(validate=validate.Length(max=255), metadata={
        "description": "the form field (filepicker) the document is for"})


class InstanceDetail(Instance):
    variables = fields.Dict()
    tasks = fields.List(fields.Nested(Task))
    timers = fields.List(fields.Nested(Timer))
    incidents = fields.List(fields.Nested(Incident))
    active_elements = fields.List(fields.String())


# -- messages -------------------------------------------------------------------------------

class MessageRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    business_key = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class MessageResult(Schema):
    instance = fields.Nested(Instance)


class SignalRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class SignalResult(Schema):
    reached = fields.Integer(metadata={
        "description": "how many instances the signal reached or started"})
