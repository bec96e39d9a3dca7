"""Run process instances: start, complete, correlate, fire timers, suspend, cancel, retry.

Every public method is one command on one instance. The caller (the edge)
owns the transaction; a method loads the instance, applies the command to its
workflow, projects the outcome into the ``task``, ``timer``,
``event_subscription`` and ``incident`` tables, appends the history and
flushes. The instance's ``revision`` column makes a second command that read
the same revision fail on flush, so two racing commands cannot both win.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.bpmn import conditional
from engine.bpmn.data import required_inputs
from engine.bpmn.host import WorkflowScriptEngine, add_calendar_duration
from engine.bpmn.script_engine import uses_context
from engine.bpmn.workflow import (
    ProcessRun,
    StepFailure,
    StepRecord,
    TaskHookFailed,
    UserTaskView,
    start_events,
)
from engine.deployment.service import latest_definition, latest_definitions
from engine.errors import (
    Conflict,
    Forbidden,
    InstanceNotRunning,
    InvalidInput,
    NotFound,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
)
from engine.identity.access import default_task_roles
from engine.models import (
    EventSubscription,
    Incident,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
)
from engine.queries.history import HistoryLog
from engine.runtime import routing
from engine.runtime.cache import SpecCache, WorkflowCache
from engine.runtime.data_stores import DataStores
from engine.runtime.service_call import ServiceCall
from engine.runtime.store import InstanceRow, InstanceStore, TaskRow
from engine.scripting import DEFAULT_MEMORY_MB, Sandbox, UnstorableValue, check_storable
from engine.scripting.expressions import compile_expression
from engine.tasks.assignment import resolve_task_fields
from engine.time.clock import Clock

Dispatch = Callable[[ServiceCall], Mapping[str, Any] | None]


@dataclass(frozen=True)
class RuntimeSettings:
    timezone: Any
    script_timeout: float = 2.0
    script_memory_mb: int = DEFAULT_MEMORY_MB
    add_duration: Callable[[datetime, str, str | None], datetime] = add_calendar_duration


@dataclass(frozen=True)
class Completion:
    """What completing a task did: the task, its instance, and the user tasks that follow."""

    task: TaskRow
    instance: InstanceRow
    next_tasks: list[str]


class Runtime:
    """The commands that change process instances."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        *,
        specs: SpecCache,
        workflows: WorkflowCache,
        dispatch: Dispatch,
        settings: RuntimeSettings,
    ) -> None:
        self.session = session
        self.clock = clock
        self.specs = specs
        self.workflows = workflows
        self.dispatch = dispatch
        self.settings = settings
        self.sandbox = Sandbox(timeout=settings.script_timeout,
                               memory_mb=settings.script_memory_mb)
        postgres = session.get_bind().dialect.name == "postgresql"
        self.store = InstanceStore(session, lock_rows=postgres)
        self.history = HistoryLog(session, clock, sink=self.store.add_history)
        # Workflows go back into the cache only once the transaction has committed.
        self._pending_cache: dict[str, tuple[InstanceRow, ProcessRun]] = session.info.setdefault(
            "sertiflow_pending_workflows", {})
        session.info["sertiflow_workflow_cache"] = workflows
        # The instance whose workflow is running on (innermost first), and the effects
        # its handlers asked for once it is saved.
        self._running: list[InstanceRow] = []
        self._effects: list[Callable[[Runtime], Any]] = []

    # -- commands ----------------------------------------------------------------

    def start_instance(
        self,
        key: str,
        *,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        actor: str | None = None,
        company: str | None = None,
        definition_id: str | None = None,
        by_start_timer: bool = False,
    ) -> InstanceRow:
        """Start the latest version of ``key`` (or exactly ``definition_id``).

        ``by_start_timer`` lets the process's timer start event go at once: the
        scheduler calls it when that timer is due.
        """
        definition = self._definition(key, definition_id)
        if variables is not None:  # started by a caller, not by an event that brings them
            missing = [n for n in required_inputs(self.stored_spec(definition.id))
                       if n not in variables]
            if missing:
                raise InvalidInput(
                    f"process '{key}' needs the start variable{'s' if len(missing) > 1 else ''}"
                    f" {', '.join(missing)} (its ioSpecification names them as data inputs)",
                    {f"variables.{n}": "required: a data input of the process"
                     for n in missing})
        variables = dict(variables or {})
        check_variables(variables)
        now = self.clock.now()
        instance = InstanceRow(
            id=str(uuid.uuid4()), definition_id=definition.id, definition_key=definition.key,
            business_key=business_key, status="running", revision=1,
            waits_digest=_waits_digest([], []), state=b"", started_by=actor, company=company,
            started_at=now,
        )
        initiator = _initiator_variable(self.stored_spec(definition.id))
        if initiator and actor:
            variables.setdefault(initiator, actor)
        run = ProcessRun.start(self._specs(definition.id), variables,
                               self._script_engine(instance))
        if by_start_timer:
            run.advance()  # up to the waiting start event
            run.fire_start_timers()
        self.store.insert(instance, now)
        self.history.record(instance.id, "instance_started", actor=actor,
                            data={"variables": variables, "business_key": business_key,
                                  "definition_id": definition.id})
        self._advance_and_save(instance, run, actor, set())
        return instance

    def complete_task(
        self, task_id: str, variables: Mapping[str, Any] | None = None, *, actor: str | None
    ) -> Completion:
        """Complete a ready user task with ``variables`` and run on to the next wait state.

        :raises TaskAlreadyCompleted: when the task is no longer ready.
        :raises TaskClaimedByOther: when someone else has claimed it.
        """
        variables = dict(variables or {})
        check_variables(variables)
        task, instance = self._ready_task_for_command(task_id)
        if task.assignee and actor and task.assignee != actor:
            raise TaskClaimedByOther(f"task {task_id} is claimed by {task.assignee}")
        self._check_separation_of_duties(task, actor)
        run = self._load(instance)
        ready_before = run.ready_user_task_ids() - {task.id}
        try:
            run.complete_user_task(task.id, variables)
        except (LookupError, ValueError) as exc:
            raise Conflict(str(exc)) from exc
        except TaskHookFailed as exc:
            # As in Camunda, a failing complete listener or output mapping refuses the
            # completion; the transaction, and the half-changed workflow, are dropped.
            raise InvalidInput(f"the task cannot be completed: {exc}") from exc
        now = self.clock.now()
        if not self.store.finish_task(task.id, "completed", now, actor):
            raise TaskAlreadyCompleted(f"task {task_id} is no longer ready")
        if task.due_at is not None and task.due_at < now:
            self.store.close_breach(task.id, now, actor)
        self.history.record(instance.id, "task_completed", actor=actor, element=task.element_id,
                            task_id=task.id, data={"variables": variables})
        created = self._advance_and_save(instance, run, actor, ready_before)
        return Completion(task=task, instance=instance, next_tasks=created)

    def _check_separation_of_duties(self, task: TaskRow, actor: str | None) -> None:
        """Refuse a user who completed a task this one must be independent of.

        ``camunda:property name="excludeCompletersOf" value="audit_stage2,panel_review"``
        names the elements; an audit standard may ask, for example, that the
        reviewer is not the one who did the work. The rule holds whoever calls the engine.
        """
        excluded = [e.strip() for e in
                    str((task.properties or {}).get("excludeCompletersOf", "")).split(",")
                    if e.strip()]
        if not excluded or actor is None:
            return
        done = self.store.completed_by(task.instance_id, excluded, actor)
        if done:
            raise Forbidden(f"separation of duties: {actor} completed {', '.join(done)} in this "
                            f"instance and may not complete {task.element_id}")

    def claim_task(self, task_id: str, user: str, *, actor: str | None = None) -> TaskRow:
        task, instance = self._ready_task_for_command(task_id)
        if task.assignee and task.assignee != user:
            raise TaskClaimedByOther(f"task {task_id} is already claimed by {task.assignee}")
        self._check_separation_of_duties(task, user)
        self.store.set_assignee(task.id, user)
        self.history.record(instance.id, "task_claimed", actor=actor or user,
                            element=task.element_id, task_id=task.id, data={"assignee": user})
        self._save_without_state(instance)
        return task

    def assign_task(self, task_id: str, *, assignee: str | None = None,
                    roles: Sequence[str] | None = None, actor: str | None = None) -> TaskRow:
        """Give a ready task to a user, to roles, or both (hand-over, sick staff, delegation).

        ``assignee`` claims the task for that user (separation of duties applies);
        ``roles`` replace its candidate roles, and its candidate users with them.
        """
        task, instance = self._ready_task_for_command(task_id)
        data: dict[str, Any] = {}
        before = self.session.get(Task, task.id)
        if roles is not None:
            wanted = sorted({r.strip() for r in roles if r.strip()})
            if not wanted:
                raise InvalidInput("name at least one role", {"roles": "no role given"})
            self.store.set_candidates(task.id, wanted, [])
            data.update(roles=wanted,
                        previous_roles=list(before.candidate_groups if before else []),
                        previous_users=list(before.candidate_users if before else []))
        if assignee is not None:
            self._check_separation_of_duties(task, assignee)
            self.store.set_assignee(task.id, assignee)
            data.update(assignee=assignee, previous_assignee=task.assignee)
        if not data:
            raise InvalidInput("name a user or roles", {"assignee": "give assignee or roles"})
        self.history.record(instance.id, "task_assigned", actor=actor, element=task.element_id,
                            task_id=task.id, data=data)
        self._save_without_state(instance)
        return task

    def unclaim_task(self, task_id: str, *, actor: str | None = None) -> TaskRow:
        task, instance = self._ready_task_for_command(task_id)
        self.store.set_assignee(task.id, None)
        self.history.record(instance.id, "task_unclaimed", actor=actor, element=task.element_id,
                            task_id=task.id, data={"previous_assignee": task.assignee})
        self._save_without_state(instance)
        return task

    def waiting_instance(self, name: str, *, business_key: str | None = None,
                         instance_id: str | None = None,
                         exclude: str | None = None) -> str | None:
        """The id of the one instance that waits for message ``name``, or None.

        :raises Conflict: when several instances wait for it.
        """
        query = (sa.select(EventSubscription.instance_id).distinct()
                 .join(ProcessInstance, ProcessInstance.id == EventSubscription.instance_id)
                 .where(EventSubscription.kind == "message", EventSubscription.name == name))
        if exclude is not None:
            query = query.where(ProcessInstance.id != exclude)
        if instance_id is not None:
            query = query.where(ProcessInstance.id == instance_id)
        if business_key is not None:
            query = query.where(ProcessInstance.business_key == business_key)
        matches = list(self.session.scalars(query.limit(2)))
        if len(matches) > 1:
            raise Conflict(f"several instances wait for message '{name}'; "
                           "name the instance or a unique business key")
        return matches[0] if matches else None

    def correlate_message(
        self,
        name: str,
        *,
        business_key: str | None = None,
        instance_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        actor: str | None = None,
        exclude: str | None = None,
    ) -> InstanceRow:
        """Deliver message ``name`` to the one instance that waits for it.

        ``exclude`` leaves out an instance (the one that threw the message).

        With no ``instance_id`` the message may also start a new instance of a
        process whose start event waits for it.

        :raises NotFound: when no instance waits for the message (and none starts on it).
        :raises Conflict: when several instances wait for it, or the one found is not running.
        """
        variables = dict(variables or {})
        check_variables(variables)
        waiting = self.waiting_instance(name, business_key=business_key, instance_id=instance_id,
                                        exclude=exclude)
        if waiting is None:
            if instance_id is None:
                starter = self._message_start_definition(name)
                if starter is not None:
                    return self._start_by_message(starter, name, variables, business_key, actor)
            raise NotFound(f"no instance waits for message '{name}'"
                           + (f" with business key '{business_key}'" if business_key else ""))
        instance = self._running_instance(waiting)
        run = self._load(instance)
        ready_before = run.ready_user_task_ids()
        if run.correlate_message(name, variables) == 0:
            raise Conflict(f"instance {instance.id} no longer waits for message '{name}'")
        self.history.record(instance.id, "message_received", actor=actor,
                            data={"message": name, "variables": variables})
        self._advance_and_save(instance, run, actor, ready_before)
        return instance

    def deliver_signal(self, instance_id: str, name: str, variables: Mapping[str, Any], *,
                       actor: str | None) -> bool:
        """Give signal ``name`` to one instance; False when it is not running."""
        instance = self._instance(instance_id)
        if instance.status != "running":
            return False
        run = self._load(instance)
        ready_before = run.ready_user_task_ids()
        if run.correlate_signal(name, variables) == 0:
            return False  # the subscription was stale; the next command reloads it
        self.history.record(instance.id, "signal_received", actor=actor,
                            data={"signal": name, "variables": dict(variables)})
        self._advance_and_save(instance, run, actor, ready_before)
        return True

    def start_by_signal(self, definition: ProcessDefinition, name: str,
                        variables: Mapping[str, Any], *, actor: str | None) -> InstanceRow:
        """Start an instance of ``definition`` whose signal start event catches ``name``."""
        instance = self.start_instance(definition.key, definition_id=definition.id, actor=actor)
        _, run = self._pending_cache.pop(instance.id)
        ready_before = run.ready_user_task_ids()
        run.correlate_signal(name, variables)
        self.history.record(instance.id, "signal_received", actor=actor,
                            data={"signal": name, "variables": dict(variables)})
        self._advance_and_save(instance, run, actor, ready_before)
        return instance

    def set_variables(self, instance_id: str, variables: Mapping[str, Any] | None = None, *,
                      deletions: Sequence[str] = (), actor: str | None) -> InstanceRow:
        """Set (and delete) variables of a running instance, as Camunda's ``setVariables``.

        Every open part of the instance sees them (embedded and event sub-processes
        too, not called processes); the conditional events that listen to the change
        are evaluated and the instance runs on.

        :raises InvalidInput: for names or values that are not process data.
        :raises InstanceNotRunning: when the instance is not running.
        """
        variables = dict(variables or {})
        check_variables(variables)
        removed = list(dict.fromkeys(deletions))
        check_variables({name: None for name in removed})
        if not variables and not removed:
            raise InvalidInput("give variables to set or delete",
                               {"variables": "no variable given"})
        instance = self._running_instance(instance_id)
        run = self._load(instance)
        ready_before = run.ready_user_task_ids()
        run.set_variables(variables, removed)
        self.history.record(instance.id, "variables_set", actor=actor,
                            data={"variables": variables,
                                  **({"deletions": removed} if removed else {})})
        self._advance_and_save(instance, run, actor, ready_before)
        return instance

    def start_by_conditions(
        self, variables: Mapping[str, Any] | None = None, *, business_key: str | None = None,
        definition_id: str | None = None, actor: str | None = None, company: str | None = None,
        may_start: Callable[[ProcessDefinition], bool] = lambda definition: True,
    ) -> list[InstanceRow]:
        """Start every process whose conditional start event holds on ``variables``
        (Camunda's ``createConditionEvaluation().evaluateStartConditions()``).

        The latest version of each process is evaluated, or exactly ``definition_id``.
        A start event with ``camunda:variableName`` is evaluated only when that
        variable is given; one naming a variable that is not given is false.

        :raises InvalidInput: when no process (or not the one named) has a conditional
            start event, or a condition cannot be evaluated.
        :raises Forbidden: when a condition holds for a process ``may_start`` refuses.
        """
        variables = dict(variables or {})
        check_variables(variables)
        if definition_id is not None:
            found = self.session.get(ProcessDefinition, definition_id)
            if found is None:
                raise NotFound(f"no process definition '{definition_id}'")
            candidates = [found]
        else:
            candidates = latest_definitions(self.session)
        subscribed = [(definition, event) for definition in candidates
                      for event in conditional.start_conditions(self.stored_spec(definition.id))]
        if not subscribed:
            raise InvalidInput("no process has a conditional start event"
                               + (f" (not {definition_id})" if definition_id else ""))
        started = []
        for definition, (element, expression, variable_name) in subscribed:
            if variable_name is not None and variable_name not in variables:
                continue
            context = {"processInstanceId": None, "businessKey": business_key,
                       "processDefinitionId": definition.key, "activityId": element,
                       "activityName": None, "activityInstanceId": None,
                       "eventName": None, "now": self.clock.now().isoformat()}
            try:
                holds = conditional.condition_holds(self.sandbox, expression, variables,
                                                    context)
            except conditional.ConditionFailed as exc:
                raise InvalidInput(f"the conditional start event '{element}' of process "
                                   f"'{definition.key}': {exc.message}") from exc
            if not holds:
                continue
            if not may_start(definition):
                raise Forbidden(f"you may not start {definition.key}")
            started.append(self.start_instance(
                definition.key, definition_id=definition.id, variables=variables,
                business_key=business_key, actor=actor, company=company))
        return started

    def open_incident(self, instance: InstanceRow, failure: StepFailure) -> None:
        """Open an incident on an instance outside its own step (engine.routing)."""
        self._open_incident(instance, failure)
        self._save_without_state(instance)

    def fire_timer(self, timer_id: int, *, actor: str | None = "scheduler") -> bool:
        """Fire a due timer (and any other due one of its instance).

        Returns False if the timer is gone, not due, or its instance is not
        running: a suspended instance's timers fire after it is resumed.
        """
        timer = self.session.get(Timer, timer_id)
        if timer is None or timer.due_at > self.clock.now():
            return False
        return self._fire_due_timers(timer.instance_id, actor) > 0

    def fire_next_due(self, *, actor: str | None = "scheduler") -> int | None:
        """Fire the due timers of the instance whose timer is most overdue.

        On PostgreSQL the instance row is claimed with ``FOR UPDATE SKIP LOCKED``,
        so several sweepers work on different instances and never on the same
        one; each timer row is deleted in the transaction that fires it, so it
        fires once. Returns how many timers fired (0 when another sweeper got
        there first), or None when nothing is due.
        """
        query = (sa.select(Timer.instance_id)
                 .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                 .where(Timer.due_at <= self.clock.now(), ProcessInstance.status == "running")
                 .order_by(Timer.due_at).limit(1))
        if self.store.lock_rows:
            query = query.with_for_update(of=ProcessInstance, skip_locked=True)
        instance_id = self.session.scalar(query)
        if instance_id is None:
            return None
        return self._fire_due_timers(instance_id, actor)

    def _fire_due_timers(self, instance_id: str, actor: str | None) -> int:
        instance = self._instance(instance_id)  # locked on PostgreSQL
        if instance.status != "running":
            return 0
        now = self.clock.now()
        due = list(self.session.scalars(
            sa.select(Timer).where(Timer.instance_id == instance_id, Timer.due_at <= now)
            .order_by(Timer.due_at).execution_options(populate_existing=True)))
        if not due:
            return 0
        run = self._load(instance)
        ready_before = run.ready_user_task_ids()
        run.fire_timers()
        for timer in due:
            self.history.record(instance.id, "timer_fired", actor=actor,
                                element=timer.element_id, task_id=timer.task_id,
                                data={"due_at": timer.due_at.isoformat(), "kind": timer.kind})
        self._advance_and_save(instance, run, actor, ready_before)
        return len(due)

    def fire_next_start_timer(self, starts: Any) -> str | None:
        """Start an instance for the most overdue timer start event; return its id."""
        timer = starts.next_due(lock=self.store.lock_rows)
        if timer is None:
            return None
        instance = self.start_instance(timer.definition_key, definition_id=timer.definition_id,
                                       actor="scheduler", by_start_timer=True)
        self.history.record(instance.id, "timer_fired", actor="scheduler",
                            element=timer.element_id,
                            data={"due_at": timer.due_at.isoformat(), "kind": "start"})
        self.store.flush_history()
        starts.advance(timer)
        return instance.id

    def due_timers(self, limit: int = 100) -> list[int]:
        """Return ids of timers due now on running instances, oldest first."""
        query = (sa.select(Timer.id)
                 .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                 .where(Timer.due_at <= self.clock.now(), ProcessInstance.status == "running")
                 .order_by(Timer.due_at).limit(limit))
        return list(self.session.scalars(query))

    def suspend(self, instance_id: str, *, actor: str | None, reason: str | None = None
                ) -> InstanceRow:
        instance = self._running_instance(instance_id)
        instance.status = "suspended"
        self.history.record(instance.id, "instance_suspended", actor=actor,
                            data={"reason": reason} if reason else None)
        self._save_without_state(instance)
        return instance

    def resume(self, instance_id: str, *, actor: str | None, reason: str | None = None
               ) -> InstanceRow:
        instance = self._instance(instance_id)
        if instance.status != "suspended":
            raise InstanceNotRunning(f"instance {instance_id} is {instance.status}, not suspended")
        instance.status = "error" if self.store.has_open_incidents(instance.id) else "running"
        self.history.record(instance.id, "instance_resumed", actor=actor,
                            data={"reason": reason} if reason else None)
        self._save_without_state(instance)
        return instance

    def cancel(self, instance_id: str, *, actor: str | None, reason: str | None = None
               ) -> InstanceRow:
        instance = self._instance(instance_id)
        if instance.status in ("completed", "cancelled"):
            raise InstanceNotRunning(f"instance {instance_id} is already {instance.status}")
        run = self._load(instance)
        run.cancel()
        now = self.clock.now()
        instance.status = "cancelled"
        instance.ended_at = now
        for task in self.store.cancel_ready_tasks(instance.id, now):
            self.history.record(instance.id, "task_cancelled", actor=actor,
                                element=task.element_id, task_id=task.id)
        self._project_waits(instance, [], [])
        self.store.resolve_incidents(instance.id, now, actor)
        self.history.record(instance.id, "instance_cancelled", actor=actor,
                            data={"reason": reason} if reason else None)
        self._save(instance, run)
        return instance

    def retry_incident(
        self, incident_id: int, *, actor: str | None, variables: Mapping[str, Any] | None = None
    ) -> InstanceRow:
        """Run a failed element again, after merging corrected ``variables`` into its data."""
        variables = dict(variables or {})
        check_variables(variables)
        incident = self.session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        instance = self._instance(incident.instance_id)
        self.session.refresh(incident)  # current as of the instance lock
        if incident.status != "open":
            raise Conflict(f"incident {incident_id} is already resolved")
        if instance.status == "suspended":
            raise InstanceNotRunning(f"instance {instance.id} is suspended; resume it first")
        run = self._load(instance)
        ready_before = run.ready_user_task_ids()
        if incident.task_id is not None and incident.task_id in run.failed_task_ids():
            run.retry(incident.task_id, variables)
        self.store.resolve_incidents(instance.id, self.clock.now(), actor, incident.id)
        instance.status = "running"
        self.history.record(instance.id, "incident_retried", actor=actor,
                            element=incident.element_id, task_id=incident.task_id,
                            data={"incident": incident.id, "variables": variables})
        self._advance_and_save(instance, run, actor, ready_before)
        return instance

    # -- reading ---------------------------------------------------------------------

    def default_roles(self, definition_id: str) -> list[str]:
        """:func:`~engine.identity.access.default_task_roles` of the definition's starters."""
        starters = self.stored_spec(definition_id).get("starters") or {}
        return default_task_roles(starters.get("groups") or [])

    def instance(self, instance_id: str) -> ProcessInstance:
        instance = self.session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    def variables(self, instance: ProcessInstance) -> dict[str, Any]:
        """Return the instance's current variables (read from its stored state)."""
        return self._restore(instance).variables()

    def task_data(self, instance: ProcessInstance, task_id: str) -> dict[str, Any]:
        """Return the data a task sees (its form's current values come from here)."""
        return self._restore(instance).task_data(task_id)

    def active_elements(self, instance: ProcessInstance) -> list[str]:
        return self._restore(instance).active_element_ids()

    def _restore(self, instance: ProcessInstance) -> ProcessRun:
        row = InstanceRow(instance.id, instance.definition_id, instance.definition_key,
                          instance.business_key, instance.status, instance.revision,
                          instance.waits_digest, instance.state)
        return ProcessRun.restore(instance.state, self._specs(instance.definition_id),
                                  self._script_engine(row))

    # -- the common path of every command -----------------------------------------------

    def _advance_and_save(self, instance: InstanceRow, run: ProcessRun, actor: str | None,
                          ready_before: set[str]) -> list[str]:
        """Run the engine on, then project tasks, waits, incidents and state.

        :param ready_before: the user tasks that were ready (and projected) before
            this command changed the workflow.
        :returns: the ids of the user tasks this command created.
        """
        self._running.append(instance)
        try:
            records, failure = run.advance()
        finally:
            self._running.pop()
        self._record_steps(instance, records)
        created = self._project_tasks(instance, run, ready_before)
        self._project_waits(instance, run.waiting_timers(), run.waiting_messages())
        if failure is not None:
            self._open_incident(instance, failure)
        elif run.completed:
            instance.status = "completed"
            instance.ended_at = self.clock.now()
            self.history.record(instance.id, "instance_completed", actor=actor,
                                data={"variables": run.variables()})
        thrown = run.take_thrown()
        self._save(instance, run)
        if thrown:  # to other instances, once this one is saved (engine.routing)
            self.defer(lambda runtime: routing.deliver(runtime, instance, thrown))
        self._run_effects()
        return created

    # -- what handlers may ask of the runtime -------------------------------------------

    def current_instance(self) -> InstanceRow:
        """The instance whose service task is running now."""
        if not self._running:
            raise RuntimeError("no instance is running a service task")
        return self._running[-1]

    def assign_business_key(self, key: str) -> None:
        """Give the running instance its business key; it keeps the first one it gets."""
        instance = self.current_instance()
        if instance.business_key not in (None, key):
            raise Conflict(f"instance {instance.id} already has business key "
                           f"'{instance.business_key}'")
        if instance.business_key == key:
            return
        instance.business_key = key
        self.store.set_business_key(instance.id, key)
        self.history.record(instance.id, "business_key_assigned", data={"business_key": key})

    def defer(self, effect: Callable[[Runtime], Any]) -> None:
        """Run ``effect`` after the running instance is saved, in this transaction."""
        self._effects.append(effect)

    def _run_effects(self) -> None:
        # Effects may start or change other instances, whose handlers may defer more:
        # those run when that instance is saved, inside this loop.
        effects, self._effects = self._effects, []
        for effect in effects:
            effect(self)
        if effects:
            self.store.flush_history()  # what the effects recorded about this instance

    def _save(self, instance: InstanceRow, run: ProcessRun) -> None:
        self.store.flush_history()
        self.store.save(instance, self.clock.now(), state=run.dump())
        self._pending_cache[instance.id] = (instance, run)

    def _save_without_state(self, instance: InstanceRow) -> None:
        """Bump the revision for a command that changes no workflow state."""
        self.store.flush_history()
        self.store.save(instance, self.clock.now())

    def _record_steps(self, instance: InstanceRow, records: list[StepRecord]) -> None:
        for record in records:
            if record.element_type == "UserTask":
                continue  # recorded as task_completed, with the submitted data
            self.history.record(instance.id, "element_completed", element=record.element_id,
                                task_id=record.task_id,
                                data={"type": record.element_type,
                                      **({"changed": record.changed} if record.changed else {}),
                                      **({"data_objects": record.data_objects}
                                         if record.data_objects else {})})

    def _project_tasks(self, instance: InstanceRow, run: ProcessRun, ready_before: set[str]
                       ) -> list[str]:
        """Insert the user tasks that became ready; cancel those that vanished unanswered."""
        now = self.clock.now()
        ready_now = {view.id: view for view in run.ready_user_tasks()}
        for task_id in ready_before - set(ready_now):
            # Interrupted (boundary event, terminate end): no one completed it.
            if self.store.finish_task(task_id, "cancelled", now, None):
                self.history.record(instance.id, "task_cancelled", task_id=task_id)
        created = []
        for task_id, view in ready_now.items():
            if task_id not in ready_before:
                self._create_task(instance, view, now)
                created.append(task_id)
        return created

    def _create_task(self, instance: InstanceRow, view: UserTaskView, now: datetime) -> None:
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
            fields.candidate_groups = self.default_roles(instance.definition_id)
        self.store.insert_task(
            {"id": view.id, "instance_id": instance.id, "definition_key": instance.definition_key,
             "element_id": view.element_id, "title": view.title, "lane": view.lane,
             "company": instance.company,
             "state": "ready", "assignee": fields.assignee, "priority": fields.priority,
             "form_key": fields.form_key, "properties": dict(view.properties),
             "created_at": now, "due_at": fields.due_at, "follow_up_at": fields.follow_up_at},
            fields.candidate_groups, fields.candidate_users,
        )
        for problem in fields.problems:
            self._open_incident(instance, StepFailure(view.id, view.element_id, "expression",
                                                      problem, ""))

    def _project_waits(self, instance: InstanceRow, timers: list[Any], messages: list[Any]
                       ) -> None:
        digest = _waits_digest(timers, messages)
        if digest != instance.waits_digest:
            self.store.replace_waits(instance.id, timers, messages)
            instance.waits_digest = digest

    def _open_incident(self, instance: InstanceRow, failure: StepFailure) -> None:
        instance.status = "error"
        self.store.open_incident({
            "instance_id": instance.id, "task_id": failure.task_id,
            "element_id": failure.element_id, "kind": failure.kind, "message": failure.message,
            "traceback": failure.traceback, "created_at": self.clock.now(),
        })
        self.history.record(instance.id, "incident_opened", element=failure.element_id,
                            task_id=failure.task_id,
                            data={"kind": failure.kind, "message": failure.message})

    # -- loading -----------------------------------------------------------------------

    def _definition(self, key: str, definition_id: str | None) -> ProcessDefinition:
        if definition_id is not None:
            definition = self.session.get(ProcessDefinition, definition_id)
            if definition is None or definition.key != key:
                raise NotFound(f"no process definition '{definition_id}'")
            return definition
        definition = latest_definition(self.session, key)
        if definition is None:
            raise NotFound(f"no process with key '{key}' is deployed")
        return definition

    def _specs(self, definition_id: str) -> Any:
        return self.specs.get(definition_id, self._spec_loader(definition_id))

    def stored_spec(self, definition_id: str) -> Mapping[str, Any]:
        """The stored spec dict of a definition version (cached; do not modify)."""
        return self.specs.stored(definition_id, self._spec_loader(definition_id))

    def _spec_loader(self, definition_id: str) -> Callable[[], dict[str, Any]]:
        def load() -> dict[str, Any]:
            spec = self.session.scalar(
                sa.select(ProcessDefinition.spec).where(ProcessDefinition.id == definition_id))
            if spec is None:
                raise NotFound(f"no process definition '{definition_id}'")
            return dict(spec)
        return load

    def _instance(self, instance_id: str) -> InstanceRow:
        """Read (and on PostgreSQL lock) an instance for a command."""
        instance = self.store.load(instance_id)
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    def _running_instance(self, instance_id: str) -> InstanceRow:
        instance = self._instance(instance_id)
        if instance.status != "running":
            raise InstanceNotRunning(f"instance {instance_id} is {instance.status}")
        return instance

    def _ready_task_for_command(self, task_id: str) -> tuple[TaskRow, InstanceRow]:
        """Lock the task's instance, then check the task as of that lock."""
        if self.store.lock_rows:
            first = self.store.task(task_id)
            if first is None:
                raise NotFound(f"no task {task_id}")
            instance = self._instance(first.instance_id)
            task = self.store.task(task_id) or first  # the lock came after the first read
        else:
            # SQLite: the command's transaction holds the database's write lock
            # from its first statement, so one read gives both, current.
            found = self.store.task_with_instance(task_id)
            if found is None:
                raise NotFound(f"no task {task_id}")
            task, instance = found
        if task.state != "ready":
            raise TaskAlreadyCompleted(f"task {task.id} is {task.state}")
        if instance.status != "running":
            raise InstanceNotRunning(f"instance {instance.id} is {instance.status}")
        return task, instance

    def _load(self, instance: InstanceRow) -> ProcessRun:
        engine = self._script_engine(instance)
        run = self.workflows.take(instance.id, instance.revision)
        if run is not None:
            run.attach(engine)
            return run
        return ProcessRun.restore(instance.state, self._specs(instance.definition_id), engine)

    def _script_engine(self, instance: InstanceRow) -> WorkflowScriptEngine:
        def written(name: str, value: Any, element_id: str | None) -> None:
            self.history.record(instance.id, "data_store_written", element=element_id,
                                data={"store": name, "value": value})

        return WorkflowScriptEngine(
            clock=self.clock, timezone=self.settings.timezone, instance_id=instance.id,
            business_key=instance.business_key, dispatch=self.dispatch,
            add_duration=self.settings.add_duration, timeout=self.settings.script_timeout,
            memory_mb=self.settings.script_memory_mb,
            data_stores=DataStores(self.session, self.clock, instance.id, written),
        )

    def _evaluate(self, expression: str, variables: Mapping[str, Any],
                  context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an attribute's expression; ``context`` serves ``execution``/``task``."""
        code = compile_expression(expression)
        if context is not None and uses_context(code):
            value, _ = self.sandbox.evaluate_in_context(code, dict(variables), context)
            return value
        return self.sandbox.evaluate(code, dict(variables))

    def _message_start_definition(self, name: str) -> ProcessDefinition | None:
        for definition in latest_definitions(self.session):
            if name in _start_messages(self.stored_spec(definition.id)):
                return definition
        return None

    def _start_by_message(self, definition: ProcessDefinition, name: str,
                          variables: dict[str, Any], business_key: str | None,
                          actor: str | None) -> InstanceRow:
        instance = self.start_instance(definition.key, definition_id=definition.id,
                                       business_key=business_key, actor=actor)
        _, run = self._pending_cache.pop(instance.id)
        ready_before = run.ready_user_task_ids()
        run.correlate_message(name, variables)
        self.history.record(instance.id, "message_received", actor=actor,
                            data={"message": name, "variables": variables})
        self._advance_and_save(instance, run, actor, ready_before)
        return instance



def _settle_workflows(session: Session, *, committed: bool) -> None:
    """Return a command's workflows to the cache after commit; forget them after rollback."""
    pending = session.info.get("sertiflow_pending_workflows")
    if not pending:
        return
    cache: WorkflowCache = session.info["sertiflow_workflow_cache"]
    for instance_id, (instance, run) in pending.items():
        if committed and instance.status not in ("completed", "cancelled"):
            cache.put(instance_id, instance.revision, run)
        else:
            cache.discard(instance_id)
    pending.clear()


event.listen(Session, "after_commit", lambda s: _settle_workflows(s, committed=True))
event.listen(Session, "after_rollback", lambda s: _settle_workflows(s, committed=False))


def _waits_digest(timers: list[Any], messages: list[Any]) -> str:
    parts = sorted(f"t|{t.task_id}|{t.due_at.isoformat()}" for t in timers)
    parts += sorted(f"m|{m.task_id}|{getattr(m, 'kind', 'message')}|{m.name}" for m in messages)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def check_variables(variables: Mapping[str, Any]) -> None:
    """Refuse variable names and values that are not process data (InvalidInput)."""
    bad = [k for k in variables if not isinstance(k, str) or not k.isidentifier()
           or k.startswith("_")]
    if bad:
        raise InvalidInput("variable names must be identifiers not starting with '_'",
                           {str(k): "not a valid variable name" for k in bad})
    errors = {}
    for name, value in variables.items():
        try:
            check_storable(name, value)
        except UnstorableValue as exc:
            errors[name] = exc.message
    if errors:
        raise InvalidInput("variables must be process data", errors)


def _start_messages(stored_spec: Mapping[str, Any]) -> list[str]:
    return [str(e.name) for e in start_events(stored_spec)
            if e.kind and "Message" in e.kind]


def _initiator_variable(stored_spec: Mapping[str, Any]) -> str | None:
    return next((str(e.initiator) for e in start_events(stored_spec) if e.initiator), None)
