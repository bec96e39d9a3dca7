"""The task list, the task page (form, documents, history, diagram) and its commands.

The commands go through the same services as ``api/v1/tasks.py``:
``Queries.actionable_task`` decides who may act (``Services.submit_task`` decides
it on the row its command reads), checks a submission against the task's form and
completes the task.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.documents.visibility import refers_to
from engine.errors import Forbidden, InvalidInput
from engine.models import ProcessInstance, Task
from engine.queries.access import Page
from engine.queries.completed import completed_by
from engine.queries.lists import TASK_SORTS, may_act_on
from engine.queries.task_lists import ListedTask
from engine.tasks.option_lists import form_input_data
from engine.tasks.taskforms import form_for_task

from .. import incident_view
from ..context import engine
from . import bp, i18n
from .bpmn_outline import Outline
from .customer import form_words, value_word
from .diagrams import diagrams_for, element_marks
from .forms import sent_file, store_sent_file, viewer_schema
from .layout import page_arg, page_count, wants_json
from .progress import element_names, outlines_for
from .session import reading, writing

PER_PAGE = 25
AWAITED_PER_PAGE = 10
# "todo": mine and my roles' unclaimed (the default); "everything": also those a
# colleague claimed (for coordinators and admins); "done": those I completed.
VIEWS = ("todo", "mine", "open", "everything", "done")
DUE_FILTERS = ("overdue", "today", "week")


def _due_before(choice: str | None) -> datetime | None:
    now = engine().clock.now()
    if choice == "overdue":
        return now
    if choice == "today":
        tz = engine().settings.timezone
        tomorrow = now.astimezone(tz).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(0, 0), tzinfo=tz)
    if choice == "week":
        return now + timedelta(days=7)
    return None


@bp.get("/tasks")
def task_list() -> ResponseReturnValue:
    view = request.args.get("view") if request.args.get("view") in VIEWS else "todo"
    sort = request.args.get("sort") if request.args.get("sort") in TASK_SORTS else "due"
    due = request.args.get("due") if request.args.get("due") in DUE_FILTERS else None
    key = request.args.get("key") or None
    role = request.args.get("role") if request.args.get("role") in engine().roles else None
    search = (request.args.get("q") or "").strip()[:100] or None
    page_number = page_arg()
    with reading() as (services, actor):
        filters: dict[str, Any] = {"key": key, "role": role, "due_before": _due_before(due),
                                   "search": search, "sort": sort}
        if view == "todo":
            filters["claimable"] = True
        elif view == "mine":
            filters["assignee"] = "me"
        elif view == "open":
            filters["unassigned"] = True
        page: Page[ListedTask]
        if view == "done":
            page = completed_by(services.session, actor, key=key, search=search,
                                page=page_number, per_page=PER_PAGE)
        else:
            page = services.queries.tasks(actor, page=page_number, per_page=PER_PAGE, **filters)
        counts = {
            "mine": services.queries.tasks(actor, assignee="me", per_page=1).total,
            "open": services.queries.tasks(actor, unassigned=True, per_page=1).total,
            "overdue": services.queries.tasks(actor, claimable=True,
                                              due_before=engine().clock.now(),
                                              per_page=1).total,
        }
        instances = {t.instance_id: services.session.get(ProcessInstance, t.instance_id)
                     for t in page.items}
        processes = [(d.key, d.name or d.key)
                     for d in services.deployments.definitions(latest=True)]
        roles = sorted(engine().roles) if actor.is_admin else sorted(actor.roles)
        return render_template(
            "tasks.html", page=page, instances=instances, counts=counts, processes=processes,
            roles=roles, view=view, sort=sort, due=due, key=key, role=role, q=search or "",
            pages=page_count(page.total, PER_PAGE), **_awaited_section(services, actor, role,
                                                                       processes))


def _awaited_section(services: Any, actor: Any, role: str | None,
                     processes: list[tuple[str, str]]) -> dict[str, Any]:
    """The messages the reader's roles record, for ``_awaited.html`` (none for customers)."""
    if actor.is_customer:
        return {"awaited": None, "awaited_pages": 0, "process_names": {}}
    try:
        number = max(1, int(request.args.get("apage", 1)))
    except ValueError:
        number = 1
    awaited = services.awaited.list(actor, role=role, page=number, per_page=AWAITED_PER_PAGE)
    return {"awaited": awaited, "awaited_pages": page_count(awaited.total, AWAITED_PER_PAGE),
            "process_names": dict(processes)}


def _task_context(services: Any, actor: Any, task: Task) -> dict[str, Any]:
    form = form_for_task(services.session, task)
    instance = services.queries.instance(actor, task.instance_id)
    variables = services.runtime.task_data(instance, task.id)
    all_documents = services.documents.list_for_instance(instance.id)
    documents = services.documents.visible_to(actor, all_documents)
    hidden = {d.id for d in all_documents} - {d.id for d in documents}
    # The fields' values and the option lists the form names (users of a role...),
    # without references to documents the reader may not see.
    data = {k: v for k, v in (form_input_data(services.session, form, variables)
                              if form is not None else {}).items()
            if not refers_to(v, hidden)}
    outlines = outlines_for(services, instance)
    if form is not None and form.kind != "generated":
        _words_for_codes(services, outlines, form.schema or {}, data)
    history = incident_view.history_for(
        actor, services.queries.history(actor, instance.id, per_page=200).items, i18n.current())
    incidents = services.queries.incidents(instance_id=instance.id, status="open",
                                           per_page=200).items  # only marks the diagram
    timers = services.queries.instance_timers(instance.id)
    active = [t.element_id for t in services.queries.instance_tasks(instance.id)]
    marks = element_marks(active=active, history=history, incidents=incidents, timers=timers)
    if task.state == "ready":
        marks.setdefault(task.element_id, set()).add("sf-current")
    return {
        "task": task, "instance": instance, "form": form, "data": data,
        "form_schema": viewer_schema(form) if form is not None else None,
        "may_act": may_act_on(actor, task) and task.state == "ready",
        "claimed_by_other": task.assignee not in (None, actor.username),
        "documents": documents,
        "document_names": {d.id: d.name for d in documents},
        "hidden_documents": hidden,
        "element_names": element_names(outlines.values()),
        "history": history,
        "diagrams": [d.as_json() for d in diagrams_for(services, instance, marks, actor)],
    }


def _words_for_codes(services: Any, outlines: dict[str, Outline], schema: dict[str, Any],
                     data: dict[str, Any]) -> None:
    """Read-only text fields show a coded value in words ("lunas" -> "Lunas", a scheme
    type's description); they are never submitted, so the words replace the code."""
    fixed = [c.get("key") for c in _components(schema.get("components") or [])
             if c.get("type") == "textfield" and (c.get("readonly") or c.get("disabled"))]
    if not any(key in data for key in fixed):
        return
    _, choices = form_words(services, outlines)
    lang = i18n.current()
    for key in fixed:
        if key in data:
            data[key] = value_word(key, data[key], lang, choices) or data[key]


def _components(components: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for c in components:
        if isinstance(c, dict):
            found.append(c)
            found.extend(_components(c.get("components") or []))
    return found


@bp.get("/tasks/<task_id>")
def task_page(task_id: str) -> ResponseReturnValue:
    with reading() as (services, actor):
        task = services.queries.task(actor, task_id)
        context = _task_context(services, actor, task)
        return render_template("task.html", **context)


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> ResponseReturnValue:
    with writing() as (services, actor):
        services.queries.actionable_task(actor, task_id)
        services.runtime.claim_task(task_id, actor.username, actor=actor.username)
    flash(i18n.translate(i18n.current(), "task.claimed"), "ok")
    return redirect(url_for("web.task_page", task_id=task_id))


@bp.post("/tasks/<task_id>/assign")
def assign(task_id: str) -> ResponseReturnValue:
    """An admin hands a task over to a user and/or roles (the API's /assign)."""
    user = (request.form.get("assignee") or "").strip() or None
    roles = [r.strip() for r in (request.form.get("roles") or "").split(",") if r.strip()]
    with writing() as (services, actor):
        services.hand_over(actor, task_id, assignee=user, roles=roles or None)
    flash(i18n.translate(i18n.current(), "task.assigned"), "ok")
    return redirect(url_for("web.task_page", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> ResponseReturnValue:
    with writing() as (services, actor):
        task = services.queries.actionable_task(actor, task_id)
        if task.assignee not in (None, actor.username) and not actor.is_admin:
            raise Forbidden(f"task {task_id} is claimed by {task.assignee}")
        services.runtime.unclaim_task(task_id, actor=actor.username)
    flash(i18n.translate(i18n.current(), "task.unclaimed"), "ok")
    return redirect(url_for("web.task_page", task_id=task_id))


@bp.post("/tasks/<task_id>/complete")
def complete(task_id: str) -> ResponseReturnValue:
    """Complete a task with the form's values, sent as JSON by the task page's script.

    Answers JSON: 200 with the page to go to next, or the problem (422 lists the
    fields in error, which the page shows next to them).
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("variables"), dict):
        raise InvalidInput("send {\"variables\": {...}}",
                           {"variables": "must be an object of field values"})
    with writing() as (services, actor):
        _, done = services.submit_task(task_id, body["variables"], actor=actor)
        task = done.task
        follow = [t for t in services.queries.tasks(actor, instance_id=task.instance_id).items
                  if t.id in done.next_tasks and may_act_on(actor, t)]
    flash(i18n.translate(i18n.current(), "task.completed", title=task.title or task.element_id),
          "ok")
    target = (url_for("web.task_page", task_id=follow[0].id) if follow
              else url_for("web.task_list"))
    return jsonify(redirect=target, instance_status=done.instance.status,
                   next_tasks=done.next_tasks)


@bp.post("/tasks/<task_id>/documents")
def upload(task_id: str) -> ResponseReturnValue:
    """Upload a document for a task: a form's file field (JSON answer) or an attachment."""
    upload = sent_file()
    with writing() as (services, actor):
        task = services.queries.actionable_task(actor, task_id)
        reference = store_sent_file(services, actor, upload, task.instance_id, task_id=task.id)
    if wants_json():
        return jsonify(reference), 201
    flash(i18n.translate(i18n.current(), "document.uploaded", name=reference["name"]), "ok")
    return redirect(url_for("web.task_page", task_id=task_id) + "#documents")
