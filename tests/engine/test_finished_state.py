"""A finished instance's stored state: each task's data read back exactly as it was,
types included, while a value the tasks share is written once."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import ProcessInstance, Task
from engine.scripting.values import same_data
from engine.time.clock import FrozenClock
from tests.builders import definitions, linear_user_tasks, process


def typed(value: Any) -> Any:
    """``value`` with every type spelled out (dict keys in their order, the zero's sign,
    a datetime's offset), so that ``==`` on two of them tells exact sameness."""
    if isinstance(value, dict):
        return ("dict", [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, datetime | float):
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)


def _ready(engine: Engine, instance_id: str) -> str:
    with engine.read() as s:
        task_id: str = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance_id, Task.state == "ready")).one()
        return task_id


def test_each_task_keeps_its_exact_data_and_a_shared_value_is_written_once(
        engine: Engine, clock: FrozenClock) -> None:
    big = [{"no": n, "hasil": f"memenuhi {n:05d}", "nilai": n * 1.5} for n in range(1500)]
    changed_big = [*big[:-1], {**big[-1], "hasil": "tidak memenuhi"}]
    start = {"big": big, "v": 1, "z": 0.0, "d": {"a": 1, "b": 2},
             "t": datetime(2027, 3, 1, 9, 30, tzinfo=UTC)}
    # Each step submits values == holds equal but JSON writes apart (the task keeps
    # whichever its data merge keeps; the finished state must give back the same).
    steps: list[dict[str, Any]] = [
        {"v": True, "z": -0.0},
        {"v": 1.0, "d": {"b": 2, "a": 1},
         "t": datetime(2027, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=7)))},
        {"v": 1, "big": changed_big},
        {"z": 0.0},
    ]
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 5).encode())])
        instance_id = s.runtime.start_instance("linear", variables=start).id
    done: list[str] = []
    for variables in steps:
        clock.advance(timedelta(minutes=1))
        task_id = _ready(engine, instance_id)
        with engine.write() as s:
            s.runtime.complete_task(task_id, variables, actor="u")
        done.append(task_id)
    with engine.read() as s:
        running = s.runtime.instance(instance_id)
        before = [s.runtime.task_data(running, t) for t in done]
    last = _ready(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(last, {}, actor="u")
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        assert row.status == "completed"
        after = [s.runtime.task_data(row, t) for t in done]
        variables = s.runtime.variables(row)
        final = s.runtime.task_data(row, last)
        text = zlib.decompress(row.state).decode()
    assert [typed(data) for data in after] == [typed(data) for data in before]
    assert typed(variables) == typed(final) == typed({**before[-1]})
    # The big list: at the start task's data and once changed; the final variables are
    # the last task's and are not written again.
    assert text.count('"memenuhi 00000"') == 2
    assert text.count('"tidak memenuhi"') == 1


def test_same_data_tells_what_json_writes_apart() -> None:
    shared = {"a": [1, 2]}
    assert same_data([shared, 1], [shared, 1]) and same_data({"a": [1.5]}, {"a": [1.5]})
    for first, second in [(1, True), (1, 1.0), (0.0, -0.0), (float("nan"), float("nan")),
                          ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ([1], (1,)),
                          (datetime(2027, 1, 1, tzinfo=UTC),
                           datetime(2027, 1, 1, 7, tzinfo=timezone(timedelta(hours=7)))),
                          ({1: "a"}, {True: "a"})]:
        assert not same_data(first, second), (first, second)


SCRIPT_AFTER_TASK = definitions("after", process("after", """\
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="check" camunda:candidateGroups="upp" />
    <bpmn:scriptTask id="fee" scriptFormat="python"><bpmn:script>total = base * 2
base = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="fee" />
    <bpmn:sequenceFlow id="f3" sourceRef="fee" targetRef="end" />
"""))


def test_final_variables_not_the_last_tasks_are_kept_in_their_order(engine: Engine) -> None:
    big = [{"no": n, "hasil": f"memenuhi {n:05d}"} for n in range(300)]
    with engine.write() as s:
        s.deployments.deploy([("after.bpmn", SCRIPT_AFTER_TASK.encode())])
        instance_id = s.runtime.start_instance(
            "after", variables={"big": big, "base": 21, "note": "a"}).id
    task_id = _ready(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task_id, {"note": "b"}, actor="u")
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        assert row.status == "completed"
        variables = s.runtime.variables(row)
        task_data = s.runtime.task_data(row, task_id)
        text = zlib.decompress(row.state).decode()
    assert list(variables.items()) == [("big", big), ("base", 0), ("note", "b"), ("total", 42)]
    assert task_data == {"big": big, "base": 21, "note": "b"}
    assert text.count('"memenuhi 00000"') == 1


def test_a_finished_state_of_format_1_is_still_read(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 1).encode())])
        instance_id = s.runtime.start_instance("linear", variables={"n": 1}).id
    task_id = _ready(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task_id, {"n": 2}, actor="u")
        # As format 1 wrote it: every final variable again, no names.
        old = (f'{{"format": "sertiflow-finished-1", "variables": {{"n": 2, "m": [1]}}, '
               f'"tasks": [["{task_id}", {{"n": 2}}, []]]}}')
        s.session.execute(sa.update(ProcessInstance).where(ProcessInstance.id == instance_id)
                          .values(state=zlib.compress(old.encode())))
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        assert s.runtime.variables(row) == {"n": 2, "m": [1]}
        assert s.runtime.task_data(row, task_id) == {"n": 2}
        assert s.runtime.active_elements(row) == []
