"""One instance's live workflow, with the operations the runtime needs.

:class:`ProcessRun` is the runtime's one handle on a SpiffWorkflow workflow:
creating and storing it, and the commands and questions of the runtime. The
work is done by the modules of this package, each for one job: running the
engine's steps (:mod:`.steps`), user tasks (:mod:`.user_tasks`), events in and
out (:mod:`.waiting`), failures and retries (:mod:`.incidents`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from .. import conditional
from .. import data as dataflow
from ..host import WorkflowScriptEngine
from ..live_workflow import LiveWorkflow
from ..serializer import TaskMemo, dump_state, load_state
from ..state_codec import StatePieces, split_state, whole_state
from . import incidents, steps, user_tasks, waiting
from .definitions import TIMER_KINDS, DefinitionSpecs, start_events
from .finished import FinishedRun, dump_finished, read_finished
from .records import (
    StepFailure,
    StepRecord,
    ThrownEvent,
    UserTaskView,
    WaitingMessage,
    WaitingTimer,
)
from .tasks import all_tasks, element_id


class ProcessRun:
    """One instance's live workflow, with the operations the runtime needs."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self._wf = workflow
        self._memo = TaskMemo()
        self._dumped = 0  # the length of the last state saved
        # Failures of the current command that happened outside advance().
        self._failures: list[Exception] = []
        # The instance's search words as stored with this state (engine.runtime.
        # search_words); saved in the state's notes, so that a rebuilt run knows
        # them without a query. None when unknown: a state saved before they were kept.
        self.search_words: frozenset[str] | None = None

    # -- creation and storage -------------------------------------------------

    @classmethod
    def start(
        cls, specs: DefinitionSpecs, variables: Mapping[str, Any], engine: WorkflowScriptEngine
    ) -> ProcessRun:
        workflow = LiveWorkflow(specs.spec, specs.subprocess_specs, script_engine=engine)
        dataflow.start(workflow)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        run = cls(workflow)
        run.search_words = frozenset()  # a new instance has none stored yet
        return run

    @classmethod
    def restore(
        cls, state: bytes, specs: DefinitionSpecs, engine: WorkflowScriptEngine,
        parts: Sequence[bytes] = (),
    ) -> ProcessRun:
        """The workflow stored in ``parts`` then ``state``, to run commands on.

        :param parts: the stored beginning of the state, as :meth:`dump_pieces` cut it.
        :raises ValueError: when ``state`` is a finished instance's (:meth:`read` it).
        """
        if parts:
            state = b"".join((*parts, state))
        if read_finished(state) is not None:
            raise ValueError("the instance has finished: its state runs no command")
        memo = TaskMemo()
        notes: dict[str, Any] = {}
        workflow = load_state(state, specs.spec, specs.subprocess_specs, memo, notes)
        workflow.script_engine = engine
        run = cls(workflow)
        run._memo = memo
        memo.stored, memo.stored_parts = sum(map(len, parts)), len(parts)
        if "search_words" in notes:
            run.search_words = frozenset(notes["search_words"])
        return run

    @classmethod
    def read(cls, state: bytes, specs: DefinitionSpecs, engine: WorkflowScriptEngine,
             parts: Sequence[bytes] = ()) -> ProcessRun | FinishedRun:
        """The instance stored in ``parts`` then ``state``, to read: a finished one
        keeps its readers' part (and has no parts)."""
        finished = None if parts else read_finished(state)
        return finished if finished is not None else cls.restore(state, specs, engine, parts)

    def dump(self, *, finished: bool = False) -> bytes:
        """The state to store.

        :param finished: the instance has completed or been cancelled, so it runs no
            command again: only what its readers ask for is kept
            (engine.bpmn.workflow.finished), a fifth of the whole. The caller says
            so, not the workflow: one whose last step failed (an end event's data
            output missing, say) has run out of steps but waits for a retry.
        """
        if finished and self._wf.completed:  # set on completion and by cancel()
            state = dump_finished(self._wf, self.variables())
            self._dumped = len(state)
            return state
        state = dump_state(self._wf, self._memo, self.notes())
        self._dumped = len(state)
        return state

    def dump_pieces(self, *, finished: bool = False) -> StatePieces:
        """The state to store (:meth:`dump`), cut into a row of its unchanging
        beginning not stored yet, if it is long enough, and the rest; the run then
        counts that row as stored: the caller writes it in the same transaction,
        whose rollback drops this run."""
        state = self.dump(finished=finished)
        if finished and self._wf.completed:
            return whole_state(self._memo, state)
        return split_state(self._memo, state)

    def notes(self) -> dict[str, Any] | None:
        """What the state keeps beside the workflow (:func:`dump_state`'s notes)."""
        if self.search_words is None:
            return None
        return {"search_words": sorted(self.search_words)}

    def weight(self) -> int:
        """An estimate of the bytes this live workflow holds, for the workflow cache.

        Measured with tracemalloc: some 1.2 KiB per task (the task, its data dict,
        the JSON kept for the next save) and about eight times the compressed
        state for the data itself (a 100-KB variable compresses to some 20 KB).
        """
        tasks = len(self._wf.tasks) + sum(len(sub.tasks) for sub in self._wf.subprocesses.values())
        return 1200 * tasks + 8 * self._dumped

    def attach(self, engine: WorkflowScriptEngine) -> None:
        """Give a cached workflow this command's script engine (clock, handlers)."""
        self._wf.script_engine = engine

    # -- running ---------------------------------------------------------------

    def advance(self) -> tuple[list[StepRecord], StepFailure | None]:
        """Run every engine step that is ready; stop at the first failure."""
        return steps.advance(self._wf, self._failures)

    def complete_user_task(self, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete a ready user task with ``data``.

        :raises TaskHookFailed: when a ``complete`` task listener, an output
            mapping or an ``end`` listener of the task fails; the workflow is
            then left half-changed and must be dropped, as in Camunda, where the
            completion is rolled back.
        """
        user_tasks.complete(user_tasks.user_task(self._wf, task_id), data, self._failures)

    def fire_timers(self) -> None:
        self._wf.refresh_timers()

    def fire_start_timers(self) -> None:
        """Let a waiting timer start event go now (the scheduler decided it is due)."""
        waiting.fire_start_timers(self._wf)

    @staticmethod
    def timer_start_events(stored_spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """(element id, timer kind, expression) of each timer start event of a stored spec."""
        return [(e.element_id, e.kind, e.expression or "") for e in start_events(stored_spec)
                if e.kind in TIMER_KINDS]

    def correlate_message(self, name: str, variables: Mapping[str, Any]) -> int:
        """Deliver a message; return how many waiting events caught it."""
        return waiting.correlate_message(self._wf, name, variables)

    def correlate_signal(self, name: str, variables: Mapping[str, Any]) -> int:
        """Deliver a signal to every element of this instance that waits for it."""
        return waiting.correlate_signal(self._wf, name, variables)

    def take_thrown(self) -> list[ThrownEvent]:
        """The messages and signals thrown since the last look, for other instances."""
        return waiting.take_thrown(self._wf)

    def retry(self, task_id: str, variables: Mapping[str, Any]) -> None:
        """Put a failed task back to READY, with corrected data, for the next advance."""
        incidents.retry(self._wf, task_id, variables, self._failures)

    def set_variables(self, variables: Mapping[str, Any], deletions: list[str]) -> None:
        """Set and delete process variables from outside (Camunda's ``setVariables``);
        the conditional events that see the change are evaluated."""
        conditional.set_variables(self._wf, variables, deletions)

    def cancel(self) -> None:
        self._wf.cancel()

    # -- looking at the state --------------------------------------------------

    @property
    def completed(self) -> bool:
        return bool(self._wf.is_completed())

    def variables(self) -> dict[str, Any]:
        """Return the process variables as the most recent step left them.

        The task that changed state last (in the process or any subprocess) holds
        the newest copy of the data; predicted future tasks hold none yet, and
        neither does a join that waits (it takes its data when it fires): a
        branch that reached the end while another runs made one of those.
        """
        holding = (TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
                   | TaskState.COMPLETED)
        # A join that waits for other branches holds no variables yet.
        definite = [t for t in all_tasks(self._wf) if t._state & holding
                    and not (t._state == TaskState.WAITING and isinstance(t.task_spec, Join))]
        latest = max(definite, key=lambda t: t.last_state_change, default=self._wf.task_tree)
        variables = dataflow.without_data_objects(self._wf.data)
        variables.update(latest.data)
        variables.update(dataflow.visible_data_objects(self._wf))
        return variables

    def ready_user_task_ids(self) -> set[str]:
        return {str(t.id) for t in user_tasks.ready_user_tasks(self._wf)}

    def ready_user_tasks(self) -> list[UserTaskView]:
        return [user_tasks.view(t) for t in user_tasks.ready_user_tasks(self._wf)]

    def task_data(self, task_id: str) -> dict[str, Any]:
        task = self._wf.get_task_from_id(UUID(task_id))
        return dict(task.data) if task is not None else {}

    def waiting_timers(self) -> list[WaitingTimer]:
        return waiting.waiting_timers(self._wf)

    def waiting_messages(self) -> list[WaitingMessage]:
        return waiting.waiting_messages(self._wf)

    def failed_task_ids(self) -> list[str]:
        return [str(t.id) for t in self._wf.get_tasks(state=TaskState.ERROR)]

    def active_element_ids(self) -> list[str]:
        mask = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        return [e for e in (element_id(t) for t in self._wf.get_tasks(state=mask)) if e]
