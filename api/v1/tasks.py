"""User tasks: the caller's task list, one task with its form, claim, complete, upload."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from flask import current_app, request

from engine.documents.visibility import refers_to
from engine.errors import Forbidden, InvalidInput
from engine.queries.access import Page
from engine.queries.completed import completed_by
from engine.queries.lists import check_actionable
from engine.queries.task_lists import ListedTask
from engine.runtime.store import TaskRecord
from engine.tasks.option_lists import form_input_data
from engine.tasks.taskforms import form_for_task

from .. import jsonio, schemas
from ..context import command, query
from ..schemas import iso_time
from .common import Extended, blueprint, documented, page_dict

bp = blueprint("tasks", "/tasks", "The tasks a user may see and act on")


@bp.route("", methods=["GET"])
@bp.arguments(schemas.TaskArgs, location="query")
@bp.response(200, schemas.page_of(schemas.Task, "TaskPage"))
@documented(bp, 401, 403, 422)
def list_tasks(args: dict[str, Any]) -> Any:
    """List tasks the caller may act on: their own, their roles', or named to them.

    ``q`` searches by business key, company or product; ``completed_by=me`` lists
    the tasks the caller completed instead, newest first.
    """
    args = dict(args)
    search, done_by = args.pop("q", None), args.pop("completed_by", None)
    page: Page[ListedTask]
    with query() as (services, actor):
        if done_by is not None:
            page = completed_by(services.session, actor, done_by, key=args.get("key"),
                                search=search, page=args["page"], per_page=args["per_page"])
        else:
            page = services.queries.tasks(actor, search=search, **args)
        body = {**page_dict(page), "items": [task_json(t) for t in page.items]}
    # Written by hand: the task list is the most frequent call, and dumping it
    # through marshmallow cost more than the query. The schema above documents
    # it, and the schemathesis run checks the two agree.
    return current_app.response_class(jsonio.dumps(body), mimetype="application/json")


def task_json(task: ListedTask | TaskRecord) -> dict[str, Any]:
    """The ``Task`` schema's shape, built directly from a task row."""
    return {
        "id": task.id, "name": task.element_id, "title": task.title,
        "instance_id": task.instance_id, "key": task.definition_key, "state": task.state,
        "roles": task.candidate_groups, "users": task.candidate_users,
        "assignee": task.assignee, "company": task.company, "priority": task.priority,
        "form_key": task.form_key, "created_at": iso_time(task.created_at),
        "due_at": iso_time(task.due_at), "overdue": schemas.is_overdue(task.state, task.due_at),
        "follow_up_at": iso_time(task.follow_up_at),
        "completed_at": iso_time(task.completed_at), "completed_by": task.completed_by,
    }


@bp.route("/<task_id>", methods=["GET"])
@bp.response(200, schemas.TaskDetail)
@documented(bp, 401, 404)
def get_task(task_id: str) -> Any:
    """Return a task, its form, the current values of the form's fields and its documents."""
    with query() as (services, actor):
        task = services.queries.task(actor, task_id)
        form = form_for_task(services.session, task)
        instance = services.queries.instance(actor, task.instance_id)
        variables = services.runtime.task_data(instance, task.id)
        every = services.documents.list_for_instance(instance.id)
        # A customer is not told of the documents they may not see, even by id. The
        # task's own documents are among the instance's: one read and one check serve both.
        visible = services.documents.visible_to(actor, every)
        hidden = {d.id for d in every} - {d.id for d in visible}
        data = form_input_data(services.session, form, variables)
        return Extended(
            task, form=form,
            data={k: v for k, v in data.items() if not refers_to(v, hidden)},
            variables=None if actor.is_customer else variables,
            documents=[d for d in visible if d.task_id == task.id])


@bp.route("/<task_id>/claim", methods=["POST"])
@bp.response(200, schemas.Task)
@documented(bp, 401, 403, 404, 409)
def claim(task_id: str) -> Any:
    """Claim a task: it becomes yours; others see it assigned."""
    with command() as (services, actor):
        assert actor is not None
        who = actor
        task = services.runtime.claim_task(
            task_id, who.username, actor=who.username,
            admit=lambda row: check_actionable(who, task_id, row))
    return _answer(task_json(task) | {"assignee": who.username})


@bp.route("/<task_id>/unclaim", methods=["POST"])
@bp.response(200, schemas.Task)
@documented(bp, 401, 403, 404, 409)
def unclaim(task_id: str) -> Any:
    """Give a claimed task back to its roles."""
    with command() as (services, actor):
        assert actor is not None
        who = actor

        def admit(row: TaskRecord) -> None:
            check_actionable(who, task_id, row)
            if row.assignee not in (None, who.username) and not who.is_admin:
                raise Forbidden(f"task {task_id} is claimed by {row.assignee}")

        task = services.runtime.unclaim_task(task_id, actor=who.username, admit=admit)
    return _answer(task_json(task) | {"assignee": None})


def _answer(body: dict[str, Any]) -> Any:
    # Written by hand from the row the command read, as the task list is (the
    # schema documents it).
    return current_app.response_class(jsonio.dumps(body), mimetype="application/json")


@bp.route("/<task_id>/assign", methods=["POST"])
@bp.arguments(schemas.AssignRequest)
@bp.response(200, schemas.Task)
@documented(bp, 400, 401, 403, 404, 409, 422)
def assign(body: dict[str, Any], task_id: str) -> Any:
    """Give a task to a user and/or to roles (admins): hand-over, absence, delegation.

    Recorded in the instance's history as ``task_assigned`` with who had it before.
    """
    with command() as (services, actor):
        assert actor is not None
        services.hand_over(actor, task_id, assignee=body.get("assignee"),
                           roles=body.get("roles"))
    with query() as (services, actor):
        return services.queries.task(actor, task_id)


@bp.route("/<task_id>/complete", methods=["POST"])
@bp.arguments(schemas.CompleteRequest)
@bp.response(200, schemas.Completed)
@documented(bp, 400, 401, 403, 404, 409, 422)
def complete(body: dict[str, Any], task_id: str) -> Any:
    """Complete a task with the form's values (checked on the server, 422 per field)."""
    with command() as (services, actor):
        assert actor is not None
        # The access check, the form check and the completion on the one row the
        # command reads (Services.submit_task).
        _, done = services.submit_task(task_id, body["variables"], actor=actor)
        finished = {**task_json(done.task), "state": "completed", "overdue": False,
                    "completed_at": iso_time(services.runtime.clock.now()),
                    "completed_by": actor.username}
    return _answer({"task": finished, "instance_status": done.instance.status,
                    "next_tasks": done.next_tasks})


@bp.route("/<task_id>/documents", methods=["POST"])
@bp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"},
                   "field": {"type": "string"}}}}}})
@bp.response(201, schemas.Document)
@documented(bp, 401, 403, 404, 409, 422)
def upload(task_id: str) -> Any:
    """Upload a document for a task (a form's file field, or a plain attachment)."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("no file", {"file": "send the document in the field 'file'"})
    with command() as (services, actor):
        assert actor is not None
        task = services.queries.actionable_task(actor, task_id)
        return services.documents.upload(
            task.instance_id, cast(BinaryIO, upload.stream), filename=upload.filename or "document",
            content_type=upload.mimetype or "application/octet-stream",
            uploaded_by=actor.username, task_id=task.id, field=request.form.get("field"))
