"""The commands on a ready user task: complete, claim, assign, unclaim.

:class:`~engine.runtime.commands.runtime.Runtime`'s methods of the same names
call these functions; what each command promises is documented there. All of
them read the task as of its instance's lock (:meth:`.InstanceLoader.ready_task`),
and those that give the task to someone apply the separation of duties.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bpmn.workflow import TaskHookFailed
from engine.errors import Conflict, InvalidInput, TaskClaimedByOther
from engine.notifications.outbox import queue_task_assigned
from engine.runtime.commands.variables import check_variables
from engine.runtime.separation_of_duties import check_separation_of_duties
from engine.runtime.store import InstanceRow, TaskRecord, TaskRow

if TYPE_CHECKING:
    from engine.runtime.commands.runtime import Runtime


@dataclass(frozen=True)
class Completion:
    """What completing a task did: the task (as read before), its instance, and the
    user tasks that follow."""

    task: TaskRecord
    instance: InstanceRow
    next_tasks: list[str]


# The caller's access check on the task's row (raises to refuse).
Admit = Callable[[TaskRecord], None]
# The caller's check of the submission against the task's current data; returns the
# variables to complete the task with (raises to refuse).
Prepare = Callable[[TaskRecord, Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]


def complete_task(rt: Runtime, task_id: str, variables: Mapping[str, Any] | None, *,
                  actor: str | None, admit: Admit | None = None,
                  prepare: Prepare | None = None) -> Completion:
    task, instance = rt.loader.ready_task(task_id, admit)
    if task.assignee and actor and task.assignee != actor:
        raise TaskClaimedByOther(f"task {task_id} is claimed by {task.assignee}")
    check_separation_of_duties(rt.store, task, actor)
    run = rt.loader.workflow(instance)
    if prepare is not None:
        try:
            # Against the workflow the command holds: no second read of the state.
            variables = prepare(task, run.task_data(task.id), variables or {})
        except BaseException:
            rt.loader.keep_unchanged(instance, run)
            raise
    variables = dict(variables or {})
    check_variables(variables, run.task_data(task.id))
    ready_before = run.ready_user_task_ids() - {task.id}
    try:
        run.complete_user_task(task.id, variables)
    except (LookupError, ValueError) as exc:
        raise Conflict(str(exc)) from exc
    except TaskHookFailed as exc:
        # As in Camunda, a failing complete listener or output mapping refuses the
        # completion; the transaction, and the half-changed workflow, are dropped.
        raise InvalidInput(f"the task cannot be completed: {exc}") from exc
    now = rt.clock.now()
    rt.store.finish_held_task(task.id, now, actor)
    if task.due_at is not None and task.due_at < now:
        rt.store.close_breach(task.id, now, actor)
    rt.history.record(instance.id, "task_completed", actor=actor, element=task.element_id,
                      task_id=task.id, data={"variables": variables})
    created = rt.advance_and_save(instance, run, actor, ready_before)
    return Completion(task=task, instance=instance, next_tasks=created)


def claim_task(rt: Runtime, task_id: str, user: str, *, actor: str | None,
               admit: Admit | None = None) -> TaskRecord:
    task, instance = rt.loader.ready_task(task_id, admit)
    if task.assignee and task.assignee != user:
        raise TaskClaimedByOther(f"task {task_id} is already claimed by {task.assignee}")
    check_separation_of_duties(rt.store, task, user)
    rt.store.set_assignee(task.id, user)
    rt.history.record(instance.id, "task_claimed", actor=actor or user,
                      element=task.element_id, task_id=task.id, data={"assignee": user})
    rt.loader.save_without_state(instance)
    return task


def assign_task(rt: Runtime, task_id: str, *, assignee: str | None,
                roles: Sequence[str] | None, actor: str | None) -> TaskRow:
    task, instance = rt.loader.ready_task(task_id)
    data: dict[str, Any] = {}
    if roles is not None:
        wanted = sorted({r.strip() for r in roles if r.strip()})
        if not wanted:
            raise InvalidInput("name at least one role", {"roles": "no role given"})
        rt.store.set_candidates(task.id, wanted, [])
        data.update(roles=wanted, previous_roles=list(task.candidate_groups),
                    previous_users=list(task.candidate_users))
    if assignee is not None:
        check_separation_of_duties(rt.store, task, assignee)
        rt.store.set_assignee(task.id, assignee)
        data.update(assignee=assignee, previous_assignee=task.assignee)
        if assignee != task.assignee:
            # The new assignee hears of it (not when one hands a task to oneself).
            queue_task_assigned(rt.session, task_id=task.id, instance_id=instance.id,
                                assignee=assignee, title=task.title,
                                now=rt.clock.now(), caused_by=actor)
    if not data:
        raise InvalidInput("name a user or roles", {"assignee": "give assignee or roles"})
    rt.history.record(instance.id, "task_assigned", actor=actor, element=task.element_id,
                      task_id=task.id, data=data)
    rt.loader.save_without_state(instance)
    return task


def unclaim_task(rt: Runtime, task_id: str, *, actor: str | None,
                 admit: Admit | None = None) -> TaskRecord:
    task, instance = rt.loader.ready_task(task_id, admit)
    rt.store.set_assignee(task.id, None)
    rt.history.record(instance.id, "task_unclaimed", actor=actor, element=task.element_id,
                      task_id=task.id, data={"previous_assignee": task.assignee})
    rt.loader.save_without_state(instance)
    return task
