"""The commands that fire timers: an instance's due timers, and timer start events.

The scheduler (:mod:`engine.time.timers`) calls them through
:class:`~engine.runtime.commands.runtime.Runtime`'s methods of the same names,
where what each promises is documented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.models import ProcessInstance, Timer

if TYPE_CHECKING:
    from engine.runtime.commands.runtime import Runtime


def fire_timer(rt: Runtime, timer_id: int, *, actor: str | None) -> bool:
    timer = rt.session.get(Timer, timer_id)
    if timer is None or timer.due_at > rt.clock.now():
        return False
    return _fire_due_timers(rt, timer.instance_id, actor) > 0


def fire_next_due(rt: Runtime, *, actor: str | None) -> int | None:
    query = (sa.select(Timer.instance_id)
             .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
             .where(Timer.due_at <= rt.clock.now(), ProcessInstance.status == "running")
             .order_by(Timer.due_at).limit(1))
    if rt.store.lock_rows:
        query = query.with_for_update(of=ProcessInstance, skip_locked=True)
    instance_id = rt.session.scalar(query)
    if instance_id is None:
        return None
    return _fire_due_timers(rt, instance_id, actor)


def _fire_due_timers(rt: Runtime, instance_id: str, actor: str | None) -> int:
    instance = rt.loader.instance(instance_id)  # locked on PostgreSQL
    if instance.status != "running":
        return 0
    now = rt.clock.now()
    due = list(rt.session.scalars(
        sa.select(Timer).where(Timer.instance_id == instance_id, Timer.due_at <= now)
        .order_by(Timer.due_at).execution_options(populate_existing=True)))
    if not due:
        return 0
    run = rt.loader.workflow(instance)
    ready_before = run.ready_user_task_ids()
    run.fire_timers()
    for timer in due:
        rt.history.record(instance.id, "timer_fired", actor=actor,
                          element=timer.element_id, task_id=timer.task_id,
                          data={"due_at": timer.due_at.isoformat(), "kind": timer.kind})
    rt.advance_and_save(instance, run, actor, ready_before)
    return len(due)


def fire_next_start_timer(rt: Runtime, starts: Any) -> str | None:
    timer = starts.next_due(lock=rt.store.lock_rows)
    if timer is None:
        return None
    instance = rt.start_instance(timer.definition_key, definition_id=timer.definition_id,
                                 actor="scheduler", by_start_timer=True)
    rt.history.record(instance.id, "timer_fired", actor="scheduler",
                      element=timer.element_id,
                      data={"due_at": timer.due_at.isoformat(), "kind": "start"})
    rt.store.flush_rows()
    starts.advance(timer)
    return instance.id


def due_timers(rt: Runtime, limit: int) -> list[int]:
    query = (sa.select(Timer.id)
             .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
             .where(Timer.due_at <= rt.clock.now(), ProcessInstance.status == "running")
             .order_by(Timer.due_at).limit(limit))
    return list(rt.session.scalars(query))
