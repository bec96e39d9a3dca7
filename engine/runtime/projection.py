"""The outcome of a step, projected into the tables: :class:`Projection`.

The workflow is the truth; the ``task``, ``timer``, ``event_subscription``,
``incident`` and ``history_event`` rows are what the task list, the scheduler,
message routing and the monitor read. After the engine ran on, the command
projects what changed: the steps it took, the user tasks that became ready or
vanished, what the instance waits for now, and the failure that stopped it.
The rows are written through :class:`~engine.runtime.store.InstanceStore`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.bpmn.script_engine import uses_context
from engine.bpmn.workflow import ProcessRun, StepFailure, StepRecord, UserTaskView
from engine.models import EventSubscription
from engine.notifications.outbox import queue_message_awaited, queue_task_created
from engine.queries.awaited import Catalogue
from engine.queries.history import HistoryLog
from engine.runtime.loading import InstanceLoader
from engine.runtime.separation_of_duties import EXCLUDE_COMPLETERS_OF
from engine.runtime.settings import RuntimeSettings
from engine.runtime.store import InstanceRow, InstanceStore
from engine.scripting import Sandbox
from engine.scripting.expressions import compile_expression
from engine.tasks.assignment import resolve_task_fields
from engine.time.clock import Clock


class Projection:
    """Writes a workflow's tasks, waits, incidents and steps as rows."""

    def __init__(self, store: InstanceStore, history: HistoryLog, clock: Clock,
                 settings: RuntimeSettings, sandbox: Sandbox, loader: InstanceLoader,
                 awaited: Catalogue | None = None) -> None:
        self.store = store
        self.history = history
        self.clock = clock
        self.settings = settings
        self.sandbox = sandbox
        self.loader = loader  # a task with no one to do it goes to the starters' roles
        # Which waits people record (``recordedBy``), read once per definition version.
        self.awaited = awaited if awaited is not None else Catalogue()

    def steps(self, instance: InstanceRow, records: list[StepRecord]) -> None:
        """Record the elements a step completed, with what they changed."""
        for record in records:
            if record.element_type == "UserTask":
                continue  # recorded as task_completed, with the submitted data
            self.history.record(instance.id, "element_completed", element=record.element_id,
                                task_id=record.task_id,
                                data={"type": record.element_type,
                                      **({"changed": record.changed} if record.changed else {}),
                                      **({"data_objects": record.data_objects}
                                         if record.data_objects else {})})

    def tasks(self, instance: InstanceRow, run: ProcessRun, ready_before: set[str],
              actor: str | None = None) -> list[str]:
        """Insert the user tasks that became ready; cancel those that vanished unanswered.

        ``actor``, whose command made them, is not mailed about them.
        """
        now = self.clock.now()
        ready_now = {view.id: view for view in run.ready_user_tasks()}
        for task_id in ready_before - set(ready_now):
            # Interrupted (boundary event, terminate end): no one completed it.
            if self.store.finish_task(task_id, "cancelled", now, None):
                self.history.record(instance.id, "task_cancelled", task_id=task_id)
        created = []
        for task_id, view in ready_now.items():
            if task_id not in ready_before:
                self._create_task(instance, view, now, actor)
                created.append(task_id)
        return created

    def _create_task(self, instance: InstanceRow, view: UserTaskView, now: datetime,
                     actor: str | None) -> None:
        context = {"processInstanceId": instance.id, "businessKey": instance.business_key,
                   "processDefinitionId": instance.definition_key, "activityId": view.element_id,
                   "activityName": view.title, "activityInstanceId": view.id,
                   "eventName": "create", "now": now.isoformat(),
                   "task": {"id": view.id, "name": view.title, "taskDefinitionKey": view.element_id,
                            "eventName": "create"}}
        fields = resolve_task_fields(
            view, now, lambda text, data: self._evaluate(text, data, context),
            self.settings.add_duration, self.settings.timezone)
        if not (fields.candidate_groups or fields.candidate_users or fields.assignee):
            fields.candidate_groups = self.loader.default_roles(instance.definition_id)
        self.store.insert_task(
            {"id": view.id, "instance_id": instance.id, "definition_key": instance.definition_key,
             "element_id": view.element_id, "title": view.title, "lane": view.lane,
             "company": instance.company,
             "state": "ready", "assignee": fields.assignee, "priority": fields.priority,
             "form_key": fields.form_key, "properties": _row_properties(view.properties),
             "created_at": now, "due_at": fields.due_at, "follow_up_at": fields.follow_up_at},
            fields.candidate_groups, fields.candidate_users,
        )
        # Whoever may do it hears of it: one row, recipients resolved when mailed.
        queue_task_created(self.store.session, task_id=view.id, instance_id=instance.id,
                           title=view.title, now=now, caused_by=actor, sink=self.store.add_row)
        for problem in fields.problems:
            self.open_incident(instance, StepFailure(view.id, view.element_id, "expression",
                                                     problem, ""))

    def _evaluate(self, expression: str, variables: Mapping[str, Any],
                  context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an attribute's expression; ``context`` serves ``execution``/``task``."""
        code = compile_expression(expression)
        if context is not None and uses_context(code):
            value, _ = self.sandbox.evaluate_in_context(code, dict(variables), context)
            return value
        return self.sandbox.evaluate(code, dict(variables))

    def waits(self, instance: InstanceRow, timers: list[Any], messages: list[Any],
              actor: str | None = None) -> None:
        """Replace the instance's timer and subscription rows, when they changed."""
        digest = waits_digest(timers, messages)
        if digest != instance.waits_digest:
            self._tell_recorders(instance, messages, actor)
            self.store.replace_waits(instance.id, timers, messages)
            instance.waits_digest = digest

    def _tell_recorders(self, instance: InstanceRow, messages: list[Any],
                        actor: str | None) -> None:
        """Queue a notification for each new wait for a message a role records.

        The definition's ``recordedBy`` catches come from the cached catalogue; only
        an instance that now waits for one of them costs a query (its current
        subscriptions, read before they are replaced: a wait already there is not new).
        """
        load = functools.partial(self.loader.stored_spec, instance.definition_id)
        catches = self.awaited.catches(instance.definition_id, load)
        if not catches:
            return
        recorded = [(m, catches[(m.element_id, m.name)]) for m in messages
                    if getattr(m, "kind", "message") == "message"
                    and (m.element_id, m.name) in catches]
        if not recorded:
            return
        before = set(tuple(row) for row in self.store.session.execute(
            sa.select(EventSubscription.task_id, EventSubscription.name)
            .where(EventSubscription.instance_id == instance.id,
                   EventSubscription.kind == "message")).all())
        now = self.clock.now()
        for message, catch in recorded:
            if (message.task_id, message.name) not in before:
                queue_message_awaited(self.store.session, instance_id=instance.id,
                                      task_id=message.task_id, role=catch.role,
                                      label=catch.label or catch.message, now=now,
                                      caused_by=actor)

    def open_incident(self, instance: InstanceRow, failure: StepFailure) -> None:
        instance.status = "error"
        self.store.open_incident({
            "instance_id": instance.id, "task_id": failure.task_id,
            "element_id": failure.element_id, "kind": failure.kind, "message": failure.message,
            "traceback": failure.traceback, "created_at": self.clock.now(),
        })
        self.history.record(instance.id, "incident_opened", element=failure.element_id,
                            task_id=failure.task_id,
                            data={"kind": failure.kind, "message": failure.message,
                                  **({"fields": failure.fields} if failure.fields else {})})


def waits_digest(timers: list[Any], messages: list[Any]) -> str:
    """A fingerprint of what an instance waits for: the rows are rewritten only when it changes."""
    parts = sorted(f"t|{t.task_id}|{t.due_at.isoformat()}" for t in timers)
    parts += sorted(f"m|{m.task_id}|{getattr(m, 'kind', 'message')}|{m.name}" for m in messages)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


# The task's extension properties that the row keeps: those read off the row. The
# rest (a milestone, a calendar, an SLA target) are the definition's, read from it
# by whoever needs them (and were the row's largest column).
_ROW_PROPERTIES = (EXCLUDE_COMPLETERS_OF,)


def _row_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {name: properties[name] for name in _ROW_PROPERTIES if name in properties}
