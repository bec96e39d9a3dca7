"""Waits a caller cannot afford end in HandOver, with nothing done and nothing left running."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.models import ProcessInstance
from engine.runtime.waits import HandOver, impatient, patience
from engine.scripting import run_script
from tests.builders import definitions, linear_user_tasks, process


def test_patience_is_the_callers_and_ends_with_the_block() -> None:
    assert patience() is None
    with impatient(0.1):
        assert patience() == 0.1
        with impatient(0.2):
            assert patience() == 0.2
        assert patience() == 0.1
    assert patience() is None


def test_a_script_longer_than_the_patience_is_handed_over_and_killed() -> None:
    began = time.monotonic()
    with impatient(0.1), pytest.raises(HandOver):
        run_script("x = len(sum([[1]] * 300000, []))", {}, timeout=5)
    assert time.monotonic() - began < 2
    # The script process was killed with its child; the next run gets a new one.
    variables: dict[str, Any] = {"a": 1}
    run_script("b = a + 1", variables, timeout=5)
    assert variables["b"] == 2


def test_a_quick_script_does_not_need_patience() -> None:
    variables: dict[str, Any] = {"a": 1}
    with impatient(0.5):
        run_script("b = a * 3", variables)
    assert variables["b"] == 3


SLOW = definitions("slow", process("slow", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:scriptTask id="work" scriptFormat="python"><bpmn:script>n = len(sum([[1]] * 300000, []))</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="wait" />
    <bpmn:userTask id="wait" camunda:candidateGroups="upp" />
"""))


def test_a_handed_over_command_leaves_nothing_behind(engine: Engine) -> None:
    with engine.write() as services:
        services.deployments.deploy([("slow.bpmn", SLOW.encode())], actor="analyst")
    with impatient(0.1), pytest.raises(HandOver), engine.write() as services:
        services.runtime.start_instance("slow", actor="upp")
    with engine.read() as services:
        assert services.session.scalar(
            sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


@pytest.mark.sqlite_only("SQLite has one writer at a time; PostgreSQL's writers do not queue "
                         "for a turn, so there is no writer to hand over for")
def test_the_writer_held_elsewhere_is_a_hand_over_for_an_impatient_caller(
        engine: Engine) -> None:
    held, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with engine.write():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    try:
        assert held.wait(10)
        began = time.monotonic()
        with impatient(0.1), pytest.raises(HandOver), engine.write():
            pass
        assert time.monotonic() - began < 1
    finally:
        release.set()
        holder.join()
    with engine.write():  # and a patient caller gets its turn
        pass


def test_a_row_locked_elsewhere_is_a_hand_over_for_an_impatient_caller(
        engine: Engine) -> None:
    """PostgreSQL: the task's row is locked by another command (SQLite: its writer is
    held). An impatient completion hands over; a patient one waits and then wins,
    on the connection the impatient one gave back (its lock_timeout reset)."""
    with engine.write() as services:
        services.deployments.deploy(
            [("linear.bpmn", linear_user_tasks("linear", 2).encode())], actor="analyst")
        instance = services.runtime.start_instance("linear", actor="upp")
        task_id = services.queries.instance_tasks(instance.id)[0].id
    held = threading.Event()
    hold_s = 0.6

    def hold_the_row() -> None:
        with contextlib.suppress(_LetGo), engine.write() as services:
            services.runtime.loader.ready_task(task_id)  # locked on PostgreSQL
            held.set()
            time.sleep(hold_s)
            raise _LetGo  # rolls back: the task stays ready

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert held.wait(10)
        began = time.monotonic()
        with impatient(0.1), pytest.raises(HandOver), engine.write() as services:
            services.runtime.complete_task(task_id, {}, actor="upp")
        assert time.monotonic() - began < hold_s / 2
        with engine.write() as services:  # no patience: it waits for the holder
            services.runtime.complete_task(task_id, {}, actor="upp")
        assert time.monotonic() - began >= hold_s * 0.8
    finally:
        holder.join()
    with engine.read() as services:
        assert [t.element_id for t in services.queries.instance_tasks(instance.id)] \
            == ["task_2"]


class _LetGo(Exception):
    """Ends the holder's transaction with a rollback."""
