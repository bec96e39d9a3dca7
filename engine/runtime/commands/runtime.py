"""The public face of the runtime: :class:`Runtime`, every command on an instance.

Every public method is one command on one instance. The caller (the edge)
owns the transaction; a method loads the instance, applies the command to its
workflow, projects the outcome into the ``task``, ``timer``,
``event_subscription`` and ``incident`` tables, appends the history and
flushes. The instance's ``revision`` column makes a second command that read
the same revision fail on flush, so two racing commands cannot both win.

The commands' bodies live beside this module, by what they act on
(:mod:`.instances`, :mod:`.tasks`, :mod:`.events`, :mod:`.timers`); what they
share is here: the path every command ends on (:meth:`Runtime.advance_and_save`),
the effects deferred until the instance is saved, and what handlers may ask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn.workflow import ProcessRun, StepFailure
from engine.errors import Conflict, NotFound
from engine.models import ProcessDefinition, ProcessInstance
from engine.queries.awaited import Catalogue
from engine.queries.history import HistoryLog
from engine.runtime import routing, search_words
from engine.runtime.cache import SpecCache, WorkflowCache
from engine.runtime.commands import events, instances, tasks, timers
from engine.runtime.commands.tasks import Admit, Completion, Prepare
from engine.runtime.loading import InstanceLoader
from engine.runtime.projection import Projection
from engine.runtime.service_call import ServiceDispatcher
from engine.runtime.settings import RuntimeSettings
from engine.runtime.store import InstanceRow, InstanceStore, TaskRecord, TaskRow
from engine.scripting import Sandbox
from engine.time.clock import Clock


class Runtime:
    """The commands that change process instances."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        *,
        specs: SpecCache,
        workflows: WorkflowCache,
        dispatch: ServiceDispatcher,
        settings: RuntimeSettings,
        awaited: Catalogue | None = None,
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
        self.history = HistoryLog(session, clock, sink=self.store.add_history,
                                  value_sink=self.store.add_history_values)
        self.loader = InstanceLoader(session, clock, self.store, self.history, specs=specs,
                                     workflows=workflows, dispatch=dispatch, settings=settings)
        self.projection = Projection(self.store, self.history, clock, settings, self.sandbox,
                                     self.loader, awaited)
        # The instance whose workflow is running on (innermost first), and the effects
        # its handlers asked for once it is saved.
        self._running: list[InstanceRow] = []
        self._effects: list[Callable[[Runtime], Any]] = []

    # -- instances (.instances) --------------------------------------------------------

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

        :raises InvalidInput: when ``variables`` lack a data input of the process,
            or are not process data.
        """
        return instances.start_instance(
            self, key, variables=variables, business_key=business_key, actor=actor,
            company=company, definition_id=definition_id, by_start_timer=by_start_timer)

    def set_variables(self, instance_id: str, variables: Mapping[str, Any] | None = None, *,
                      deletions: Sequence[str] = (), actor: str | None) -> InstanceRow:
        """Set (and delete) variables of a running instance, as Camunda's ``setVariables``.

        Every open part of the instance sees them (embedded and event sub-processes
        too, not called processes); the conditional events that listen to the change
        are evaluated and the instance runs on.

        :raises InvalidInput: for names or values that are not process data.
        :raises InstanceNotRunning: when the instance is not running.
        """
        return instances.set_variables(self, instance_id, variables, deletions=deletions,
                                       actor=actor)

    def suspend(self, instance_id: str, *, actor: str | None, reason: str | None = None
                ) -> InstanceRow:
        """Stop a running instance until :meth:`resume`: no task, timer or event moves it."""
        return instances.suspend(self, instance_id, actor=actor, reason=reason)

    def resume(self, instance_id: str, *, actor: str | None, reason: str | None = None
               ) -> InstanceRow:
        """Let a suspended instance run again (in error while it has open incidents)."""
        return instances.resume(self, instance_id, actor=actor, reason=reason)

    def cancel(self, instance_id: str, *, actor: str | None, reason: str | None = None
               ) -> InstanceRow:
        """End an instance that has not ended: its ready tasks, waits and incidents go too."""
        return instances.cancel(self, instance_id, actor=actor, reason=reason)

    def retry_incident(
        self, incident_id: int, *, actor: str | None, variables: Mapping[str, Any] | None = None
    ) -> InstanceRow:
        """Run a failed element again, after merging corrected ``variables`` into its data."""
        return instances.retry_incident(self, incident_id, actor=actor, variables=variables)

    def open_incident(self, instance: InstanceRow, failure: StepFailure) -> None:
        """Open an incident on an instance outside its own step (engine.routing)."""
        self.projection.open_incident(instance, failure)
        self.loader.save_without_state(instance)

    # -- user tasks (.tasks) -----------------------------------------------------------

    def complete_task(
        self, task_id: str, variables: Mapping[str, Any] | None = None, *, actor: str | None,
        admit: Admit | None = None, prepare: Prepare | None = None,
    ) -> Completion:
        """Complete a ready user task with ``variables`` and run on to the next wait state.

        The task, its instance and its state are read in one statement (locked on
        PostgreSQL). ``admit`` is the caller's access check on that row, run before
        anything else; ``prepare`` checks the submission against the task's current
        data in the workflow this command holds and returns the variables to complete
        with (:meth:`engine.composition.Services.submit_task`).

        :raises TaskAlreadyCompleted: when the task is no longer ready.
        :raises TaskClaimedByOther: when someone else has claimed it.
        :raises Forbidden: when the separation of duties excludes ``actor``.
        """
        return tasks.complete_task(self, task_id, variables, actor=actor, admit=admit,
                                   prepare=prepare)

    def claim_task(self, task_id: str, user: str, *, actor: str | None = None,
                   admit: Admit | None = None) -> TaskRecord:
        """Give a ready task to ``user`` (separation of duties applies).

        ``admit`` is the caller's access check on the row read; the row is returned
        as it was before the claim.
        """
        return tasks.claim_task(self, task_id, user, actor=actor, admit=admit)

    def assign_task(self, task_id: str, *, assignee: str | None = None,
                    roles: Sequence[str] | None = None, actor: str | None = None) -> TaskRow:
        """Give a ready task to a user, to roles, or both (hand-over, sick staff, delegation).

        ``assignee`` claims the task for that user (separation of duties applies);
        ``roles`` replace its candidate roles, and its candidate users with them.
        """
        return tasks.assign_task(self, task_id, assignee=assignee, roles=roles, actor=actor)

    def unclaim_task(self, task_id: str, *, actor: str | None = None,
                     admit: Admit | None = None) -> TaskRecord:
        """Give a claimed ready task back to its candidates (``admit`` as for a claim)."""
        return tasks.unclaim_task(self, task_id, actor=actor, admit=admit)

    # -- messages, signals and conditions (.events) ---------------------------------------

    def waiting_instance(self, name: str, *, business_key: str | None = None,
                         instance_id: str | None = None,
                         exclude: str | None = None) -> str | None:
        """The id of the one instance that waits for message ``name``, or None.

        :raises Conflict: when several instances wait for it.
        """
        return events.waiting_instance(self, name, business_key=business_key,
                                       instance_id=instance_id, exclude=exclude)

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
        return events.correlate_message(self, name, business_key=business_key,
                                        instance_id=instance_id, variables=variables,
                                        actor=actor, exclude=exclude)

    def deliver_signal(self, instance_id: str, name: str, variables: Mapping[str, Any], *,
                       actor: str | None) -> bool:
        """Give signal ``name`` to one instance; False when it is not running."""
        return events.deliver_signal(self, instance_id, name, variables, actor=actor)

    def start_by_signal(self, definition: ProcessDefinition, name: str,
                        variables: Mapping[str, Any], *, actor: str | None) -> InstanceRow:
        """Start an instance of ``definition`` whose signal start event catches ``name``."""
        return events.start_by_signal(self, definition, name, variables, actor=actor)

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
        return events.start_by_conditions(
            self, variables, business_key=business_key, definition_id=definition_id,
            actor=actor, company=company, may_start=may_start)

    # -- timers (.timers) ----------------------------------------------------------------

    def fire_timer(self, timer_id: int, *, actor: str | None = "scheduler") -> bool:
        """Fire a due timer (and any other due one of its instance).

        Returns False if the timer is gone, not due, or its instance is not
        running: a suspended instance's timers fire after it is resumed.
        """
        return timers.fire_timer(self, timer_id, actor=actor)

    def fire_next_due(self, *, actor: str | None = "scheduler") -> int | None:
        """Fire the due timers of the instance whose timer is most overdue.

        On PostgreSQL the instance row is claimed with ``FOR UPDATE SKIP LOCKED``,
        so several sweepers work on different instances and never on the same
        one; each timer row is deleted in the transaction that fires it, so it
        fires once. Returns how many timers fired (0 when another sweeper got
        there first), or None when nothing is due.
        """
        return timers.fire_next_due(self, actor=actor)

    def fire_next_start_timer(self, starts: Any) -> str | None:
        """Start an instance for the most overdue timer start event; return its id."""
        return timers.fire_next_start_timer(self, starts)

    def due_timers(self, limit: int = 100) -> list[int]:
        """Return ids of timers due now on running instances, oldest first."""
        return timers.due_timers(self, limit)

    # -- reading ---------------------------------------------------------------------

    def stored_spec(self, definition_id: str) -> Mapping[str, Any]:
        """The stored spec dict of a definition version (cached; do not modify)."""
        return self.loader.stored_spec(definition_id)

    def default_roles(self, definition_id: str) -> list[str]:
        """:func:`~engine.identity.access.default_task_roles` of the definition's starters."""
        return self.loader.default_roles(definition_id)

    def instance(self, instance_id: str) -> ProcessInstance:
        instance = self.session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    def variables(self, instance: ProcessInstance) -> dict[str, Any]:
        """Return the instance's current variables (read from its stored state)."""
        return self.loader.look(instance, lambda run: run.variables())

    def task_data(self, instance: ProcessInstance, task_id: str) -> dict[str, Any]:
        """Return the data a task sees (its form's current values come from here)."""
        return self.loader.look(instance, lambda run: run.task_data(task_id))

    def active_elements(self, instance: ProcessInstance) -> list[str]:
        return self.loader.look(instance, lambda run: run.active_element_ids())

    # -- the common path of every command -----------------------------------------------

    def advance_and_save(self, instance: InstanceRow, run: ProcessRun, actor: str | None,
                         ready_before: set[str]) -> list[str]:
        """Run the engine on, then project tasks, waits, incidents and state.

        The commands end here once they have changed the workflow.

        :param ready_before: the user tasks that were ready (and projected) before
            this command changed the workflow.
        :returns: the ids of the user tasks this command created.
        """
        self._running.append(instance)
        try:
            records, failure = run.advance()
        finally:
            self._running.pop()
        self.projection.steps(instance, records)
        created = self.projection.tasks(instance, run, ready_before, actor)
        self.projection.waits(instance, run.waiting_timers(), run.waiting_messages(), actor)
        if failure is not None:
            self.projection.open_incident(instance, failure)
        elif run.completed:
            instance.status = "completed"
            instance.ended_at = self.clock.now()
            # The final variables stay readable in the stored state; a copy of them
            # all in the history doubled what a completed instance stores.
            self.history.record(instance.id, "instance_completed", actor=actor)
        thrown = run.take_thrown()
        stored_words = run.search_words
        run.search_words = self._search_words(instance, run)  # saved with the state
        # New words are queued, written with the instance (a lost race rolls them back).
        self._index_words(instance.id, run.search_words, stored_words)
        self.loader.save(instance, run)
        if thrown:  # to other instances, once this one is saved (engine.routing)
            self.defer(lambda runtime: routing.deliver(runtime, instance, thrown))
        self._run_effects()
        return created

    def _search_words(self, instance: InstanceRow, run: ProcessRun) -> frozenset[str]:
        """The words the instance is to be found by, as of this command."""
        names = self.settings.search_variables
        return frozenset(search_words.words_of(instance.business_key, instance.company,
                                               run.variables() if names else {}, names))

    def _index_words(self, instance_id: str, words: frozenset[str],
                     stored: frozenset[str] | None) -> None:
        """Keep the instance's stored search words in step with ``words``.

        ``stored`` are those saved with the state the command started from (the
        run's, cached or rebuilt): when unchanged this costs no query. Only a state
        saved before the words were kept with it makes them read once.
        """
        if stored != words:
            search_words.store_words(self.session, instance_id, words, stored,
                                     queue=self.store.add_row)

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
            self.store.flush_rows()  # what the effects recorded about this instance

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
