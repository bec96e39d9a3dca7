"""What a command works on, read and written back: :class:`InstanceLoader`.

A command reads (on PostgreSQL, locks) its instance's row, finds the
definition's specs, and takes the instance's live workflow from the
:class:`~engine.runtime.cache.WorkflowCache`, or rebuilds it from the stored
state when the cache has none of that revision. Saving writes the state back
and keeps the workflow aside; it returns to the cache only once the
transaction has committed (:func:`_settle_workflows`), so a rolled-back
command never leaves a workflow the database does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.bpmn.host import WorkflowScriptEngine
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.bpmn.workflow.finished import FinishedRun
from engine.deployment.service import (
    DefinitionRef,
    definition_ref,
    latest_definition_ref,
    no_definition,
    not_deployed,
)
from engine.errors import InstanceNotRunning, NotFound, TaskAlreadyCompleted
from engine.identity.access import default_task_roles
from engine.models import ProcessDefinition, ProcessInstance
from engine.queries.history import HistoryLog
from engine.runtime.cache import SpecCache, WorkflowCache
from engine.runtime.data_stores import DataStores
from engine.runtime.service_call import ServiceDispatcher
from engine.runtime.settings import RuntimeSettings
from engine.runtime.store import InstanceRow, InstanceStore, TaskRecord
from engine.scripting.values import copy_data
from engine.time.clock import Clock

# Where a session keeps the workflows its commands saved, until commit or rollback.
_PENDING = "sertiflow_pending_workflows"
_CACHE = "sertiflow_workflow_cache"

T = TypeVar("T")


class InstanceLoader:
    """Reads definitions, instances and workflows for the commands of one session."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        store: InstanceStore,
        history: HistoryLog,
        *,
        specs: SpecCache,
        workflows: WorkflowCache,
        dispatch: ServiceDispatcher,
        settings: RuntimeSettings,
    ) -> None:
        self.session = session
        self.clock = clock
        self.store = store
        self.history = history
        self.specs = specs
        self.workflows = workflows
        self.dispatch = dispatch
        self.settings = settings
        # Workflows go back into the cache only once the transaction has committed.
        self._pending: dict[str, tuple[InstanceRow, ProcessRun]] = session.info.setdefault(
            _PENDING, {})
        session.info[_CACHE] = workflows

    # -- definitions -------------------------------------------------------------------

    def definition(self, key: str, definition_id: str | None) -> DefinitionRef:
        """The latest version of ``key``, or exactly ``definition_id`` (which must be of it)."""
        if definition_id is not None:
            found = definition_ref(self.session, definition_id)
            if found is None or found.key != key:
                raise no_definition(definition_id)
            return found
        found = latest_definition_ref(self.session, key)
        if found is None:
            raise not_deployed(key)
        return found

    def definition_specs(self, definition_id: str) -> DefinitionSpecs:
        return self.specs.get(definition_id, self._spec_loader(definition_id))

    def stored_spec(self, definition_id: str) -> Mapping[str, Any]:
        """The stored spec dict of a definition version (cached; do not modify)."""
        return self.specs.stored(definition_id, self._spec_loader(definition_id))

    def default_roles(self, definition_id: str) -> list[str]:
        """:func:`~engine.identity.access.default_task_roles` of the definition's starters."""
        starters = self.stored_spec(definition_id).get("starters") or {}
        return default_task_roles(starters.get("groups") or [])

    def _spec_loader(self, definition_id: str) -> Callable[[], dict[str, Any]]:
        def load() -> dict[str, Any]:
            spec = self.session.scalar(
                sa.select(ProcessDefinition.spec).where(ProcessDefinition.id == definition_id))
            if spec is None:
                raise no_definition(definition_id)
            return dict(spec)
        return load

    # -- instance rows -----------------------------------------------------------------

    def instance(self, instance_id: str) -> InstanceRow:
        """Read (and on PostgreSQL lock) an instance for a command."""
        instance = self.store.load(instance_id)
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    def running_instance(self, instance_id: str) -> InstanceRow:
        instance = self.instance(instance_id)
        if instance.status != "running":
            raise InstanceNotRunning(f"instance {instance_id} is {instance.status}")
        return instance

    def ready_task(self, task_id: str, admit: Callable[[TaskRecord], None] | None = None
                   ) -> tuple[TaskRecord, InstanceRow]:
        """Read (on PostgreSQL lock) a task with its instance in one statement, and check
        that the task is ready and the instance running, as of that lock.

        :param admit: the caller's access check, run on the row before the task's
            state is looked at (a task one may not see is not found, whatever its state).
        """
        found = self.store.task_with_instance(task_id)
        if found is None:
            raise NotFound(f"no task {task_id}")
        task, instance = found
        if admit is not None:
            admit(task)
        if task.state != "ready":
            raise TaskAlreadyCompleted(f"task {task.id} is {task.state}")
        if instance.status != "running":
            raise InstanceNotRunning(f"instance {instance.id} is {instance.status}")
        return task, instance

    # -- workflows ---------------------------------------------------------------------

    def workflow(self, instance: InstanceRow) -> ProcessRun:
        """The instance's workflow: from the cache when it is of this revision, else rebuilt."""
        engine = self.script_engine(instance)
        run = self.workflows.take(instance.id, instance.revision)
        if run is not None:
            run.attach(engine)
            return run
        parts = self.store.state_parts(instance.id, instance.state)
        return ProcessRun.restore(instance.state, self.definition_specs(instance.definition_id),
                                  engine, parts)

    def restore(self, instance: ProcessInstance) -> ProcessRun | FinishedRun:
        """Rebuild an instance's workflow to read it (never cached, never saved);
        a finished instance's is what its readers ask for (its final variables...)."""
        row = InstanceRow(instance.id, instance.definition_id, instance.definition_key,
                          instance.business_key, instance.status, instance.revision,
                          instance.waits_digest, instance.state)
        parts = self.store.state_parts(instance.id, instance.state)
        return ProcessRun.read(instance.state, self.definition_specs(instance.definition_id),
                               self.script_engine(row), parts)

    def look(self, instance: ProcessInstance, read: Callable[[ProcessRun | FinishedRun], T]
             ) -> T:
        """Answer ``read`` from the instance's workflow, without a rebuild when it can.

        The cached workflow of the instance's revision is lent (taken, so no
        command runs it meanwhile) and put back; without one, the workflow is
        rebuilt from the stored state and then kept in the cache, tagged with the
        revision it was read at, for the command that usually follows a look (a
        form is opened, then submitted). The stored state of that revision is
        committed, so the entry is as good as one a command leaves. The answer is a
        deep copy (:func:`copy_data`, four times quicker than ``deepcopy`` on a 100-KB
        value): nothing a caller does to it can reach the live workflow.
        """
        with self._lent(instance) as run:
            answer: T = copy_data(read(run))
            return answer

    @contextmanager
    def _lent(self, instance: ProcessInstance) -> Iterator[ProcessRun | FinishedRun]:
        cached = self.workflows.take(instance.id, instance.revision)
        run = cached if cached is not None else self.restore(instance)
        try:
            yield run
        finally:
            if isinstance(run, ProcessRun):
                self.workflows.put(instance.id, instance.revision, run)

    def script_engine(self, instance: InstanceRow) -> WorkflowScriptEngine:
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

    def keep_unchanged(self, instance: InstanceRow, run: ProcessRun) -> None:
        """Give back to the cache a workflow a command took and was refused before it
        changed anything (a form in error): the next try need not rebuild it."""
        self.workflows.put(instance.id, instance.revision, run)

    def take_saved(self, instance_id: str) -> ProcessRun:
        """Take back the workflow a command of this transaction saved, to run it on."""
        _, run = self._pending.pop(instance_id)
        return run

    # -- saving ------------------------------------------------------------------------

    def save(self, instance: InstanceRow, run: ProcessRun) -> None:
        # The rows the command queued are written with the instance (InstanceStore.save).
        finished = instance.status in ("completed", "cancelled")
        self.store.save(instance, self.clock.now(), state=run.dump_pieces(finished=finished))
        self._pending[instance.id] = (instance, run)

    def save_without_state(self, instance: InstanceRow) -> None:
        """Bump the revision for a command that changes no workflow state."""
        self.store.save(instance, self.clock.now())


def _settle_workflows(session: Session, *, committed: bool) -> None:
    """Return a command's workflows to the cache after commit; forget them after rollback."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    cache: WorkflowCache = session.info[_CACHE]
    for instance_id, (instance, run) in pending.items():
        if committed and instance.status not in ("completed", "cancelled"):
            cache.put(instance_id, instance.revision, run)
        else:
            cache.discard(instance_id)
    pending.clear()


event.listen(Session, "after_commit", lambda s: _settle_workflows(s, committed=True))
event.listen(Session, "after_rollback", lambda s: _settle_workflows(s, committed=False))
