"""The workflow cache: bounded by the estimated memory of its workflows and by count."""

from __future__ import annotations

from typing import Any, cast

import pytest

from engine.bpmn.compiler import compile_processes
from engine.bpmn.validation import read_bpmn
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.composition import Engine
from engine.runtime.cache import WorkflowCache
from tests.builders import linear_user_tasks
from tests.instances import ready


class Weighed:
    """Stands for a live workflow of a known weight."""

    def __init__(self, weight: int) -> None:
        self._weight = weight

    def weight(self) -> int:
        return self._weight


def _run(weight: int) -> ProcessRun:
    return cast(ProcessRun, Weighed(weight))


def test_the_least_recently_used_go_first_when_the_budget_is_spent() -> None:
    cache = WorkflowCache(capacity=100, budget=1000)
    for name in "abc":
        cache.put(name, 1, _run(300))
    assert len(cache) == 3 and cache.weight == 900
    cache.put("d", 1, _run(300))  # over the budget: "a" was used least recently
    assert cache.take("a", 1) is None
    assert len(cache) == 3 and cache.weight == 900
    taken = cache.take("b", 1)
    assert taken is not None and cache.weight == 600
    cache.put("b", 2, taken)
    cache.put("big", 1, _run(700))  # "c" and "d" make room, "b" (just used) stays
    assert cache.take("b", 2) is taken
    assert cache.take("c", 1) is None and cache.take("d", 1) is None
    assert cache.weight == 700


def test_a_workflow_heavier_than_the_budget_is_not_kept() -> None:
    cache = WorkflowCache(capacity=100, budget=1000)
    cache.put("a", 1, _run(400))
    cache.put("huge", 1, _run(5000))
    assert cache.take("huge", 1) is None
    assert cache.take("a", 1) is not None and cache.weight == 0


def test_the_count_still_bounds_it_and_zero_keeps_nothing() -> None:
    cache = WorkflowCache(capacity=2, budget=10**9)
    for name in "abc":
        cache.put(name, 1, _run(1))
    assert len(cache) == 2 and cache.take("a", 1) is None
    empty = WorkflowCache(capacity=0)
    empty.put("a", 1, _run(1))
    assert len(empty) == 0 and empty.weight == 0


def test_a_live_workflow_weighs_more_with_more_steps() -> None:
    weights: list[int] = []
    for steps in (17, 200):
        doc = read_bpmn("p.bpmn", linear_user_tasks("p", steps).encode())
        compiled, problems = compile_processes([doc], {})
        assert problems == []
        specs = DefinitionSpecs.from_stored(compiled["p"].stored_spec)
        run = ProcessRun.start(specs, {}, cast(Any, None))
        run.dump()
        weights.append(run.weight())
    assert 5 * weights[0] < weights[1]


def test_reading_a_task_lends_the_cached_workflow_or_keeps_the_rebuilt_one(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.workflows = WorkflowCache(capacity=10)
    with engine.write() as s:
        s.deployments.deploy([("p.bpmn", linear_user_tasks("p", 2).encode())])
        instance = s.runtime.start_instance("p", variables={"items": [1, 2]}, actor="a")
    engine.workflows = WorkflowCache(capacity=10)  # as after a restart: nothing cached
    (task,) = ready(engine, instance.id)
    with engine.read() as s:
        first = s.runtime.task_data(s.runtime.instance(instance.id), task.id)
    assert first["items"] == [1, 2] and len(engine.workflows) == 1
    first["items"].append(3)  # the answer is the caller's own copy

    def no_rebuild(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("rebuilt from the stored state")

    monkeypatch.setattr(ProcessRun, "restore", no_rebuild)
    with engine.read() as s:
        again = s.runtime.task_data(s.runtime.instance(instance.id), task.id)
    assert again["items"] == [1, 2] and len(engine.workflows) == 1
    monkeypatch.undo()
    # The command that follows takes the workflow the reads kept.
    monkeypatch.setattr(ProcessRun, "restore", no_rebuild)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {"x": 1}, actor="a")
    monkeypatch.undo()
    (second,) = ready(engine, instance.id)
    assert second.element_id == "task_2"
