"""Two commands racing on one instance: exactly one wins.

On SQLite the racers are threads of one process (SQLite has one writer; write
transactions begin IMMEDIATE). On PostgreSQL they are separate processes, each
with its own engine and connection pool (the instance row is locked FOR UPDATE
and carries an optimistic revision).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.config import load_settings
from engine.errors import Conflict
from engine.models import HistoryEvent, Task
from engine.persistence.migrate import upgrade
from engine.time.clock import FrozenClock
from tests.builders import linear_user_tasks

RACERS = 6


def _prepare(engine: Engine) -> tuple[str, str]:
    with engine.write() as s:
        s.deployments.deploy([("race.bpmn", linear_user_tasks("race", 2).encode())])
        instance = s.runtime.start_instance("race")
    with engine.read() as s:
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id, Task.state == "ready")).one()
    return instance.id, task_id


def _outcomes(engine: Engine, instance_id: str) -> tuple[int, int]:
    with engine.read() as s:
        completions = s.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "task_completed"))
        ready = s.session.scalar(sa.select(sa.func.count()).select_from(Task).where(
            Task.instance_id == instance_id, Task.state == "ready"))
    return int(completions or 0), int(ready or 0)


def _race(count: int, attempt: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)
    results: list[str] = [""] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _complete(engine: Engine, task_id: str, actor: str) -> str:
    try:
        with engine.write() as s:
            s.runtime.complete_task(task_id, {"by": actor}, actor=actor)
        return "won"
    except Conflict as exc:
        return type(exc).__name__


def test_threads_completing_one_task_on_sqlite(engine: Engine) -> None:
    instance_id, task_id = _prepare(engine)
    results = _race(RACERS, lambda i: _complete(engine, task_id, f"user{i}"))
    assert results.count("won") == 1, results
    assert set(results) - {"won"} == {"TaskAlreadyCompleted"}
    assert _outcomes(engine, instance_id) == (1, 1)


def test_threads_with_the_workflow_cache_on_sqlite(settings, clock) -> None:  # type: ignore[no-untyped-def]
    cached = Engine(settings, clock=clock)
    try:
        instance_id, task_id = _prepare(cached)
        results = _race(RACERS, lambda i: _complete(cached, task_id, f"user{i}"))
        assert results.count("won") == 1, results
        assert _outcomes(cached, instance_id) == (1, 1)
    finally:
        cached.close()


def test_complete_and_cancel_racing_on_sqlite(engine: Engine) -> None:
    instance_id, task_id = _prepare(engine)

    def attempt(i: int) -> str:
        if i % 2:
            return _complete(engine, task_id, "user")
        try:
            with engine.write() as s:
                s.runtime.cancel(instance_id, actor="admin")
            return "won"
        except Conflict as exc:
            return type(exc).__name__

    results = _race(2, attempt)
    assert sorted(results)[-1] == "won"
    with engine.read() as s:
        final = s.runtime.instance(instance_id).status
    # Either the completion came first (then cancel also succeeds afterwards) or the
    # cancel came first and the completion was refused; never a completed task on a
    # cancelled instance without its history.
    completions, _ = _outcomes(engine, instance_id)
    assert final == "cancelled"
    assert completions == results.count("won") - 1


def _process_worker(url: str, task_id: str, actor: str, barrier, queue) -> None:  # type: ignore[no-untyped-def]
    try:
        _race_in_process(url, task_id, actor, barrier, queue)
    except BaseException as exc:  # report, so the parent fails fast instead of timing out
        queue.put(f"crashed: {exc!r}")
        raise


def _race_in_process(url: str, task_id: str, actor: str, barrier, queue) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({"DATABASE_URL": url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": "/tmp/sertiflow-race"})
    worker = Engine(settings, clock=FrozenClock(datetime(2027, 3, 1, tzinfo=UTC)))
    barrier.wait(timeout=60)
    queue.put(_complete(worker, task_id, actor))
    worker.close()


@pytest.mark.postgres
def test_processes_completing_one_task_on_postgres(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({"DATABASE_URL": postgres_url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": str(tmp_path)})
    engine = Engine(settings, clock=FrozenClock(datetime(2027, 3, 1, tzinfo=UTC)))
    upgrade(engine.db.engine)
    instance_id, task_id = _prepare(engine)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RACERS)
    queue = context.Queue()
    workers = [context.Process(target=_process_worker,
                               args=(engine.db.url, task_id, f"user{i}", barrier, queue))
               for i in range(RACERS)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert results.count("won") == 1, results
    assert _outcomes(engine, instance_id) == (1, 1)
    engine.close()


@pytest.mark.sqlite_only("the writers' turn is SQLite's (one writer at a time); "
                         "PostgreSQL's writers run side by side")
def test_sqlite_writers_of_one_process_take_turns_and_give_up_cleanly(
        engine: Engine) -> None:
    # Writers queue on the process's own turn: each starts only after the one before
    # ended, whatever the order in which they arrived.
    instance_id, _ = _prepare(engine)
    inside: list[int] = []
    overlaps: list[int] = []

    def write(i: int) -> str:
        with engine.write() as s:
            if inside:
                overlaps.append(i)
            inside.append(i)
            s.runtime.instance(instance_id)
            threading.Event().wait(0.02)
            inside.remove(i)
        return "done"

    assert _race(RACERS, write) == ["done"] * RACERS
    assert overlaps == []
    # A writer that cannot get its turn in time gives up with a retryable conflict
    # and leaves the turn to the one holding it.
    engine.db.writer_wait_s = 0.05
    with engine.write() as s:
        refused = _race(1, lambda i: _try_write(engine))
        s.runtime.instance(instance_id)
    assert refused == ["DatabaseBusy"]
    assert _try_write(engine) == "won"


def _try_write(engine: Engine) -> str:
    try:
        with engine.write() as s:
            s.session.execute(sa.select(1))
        return "won"
    except Conflict as exc:
        return type(exc).__name__
