"""Compensation in the stored state (engine/bpmn/compensation/, engine/bpmn/serializer.py).

A compensation event runs its handlers as its own subworkflow; the state dump
must carry that subworkflow (and what the event planned), so an instance
restored while it waits at a handler goes on exactly as one that stayed in
memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.bpmn.compensation import STATE
from engine.bpmn.compiler import compile_processes
from engine.bpmn.host import WorkflowScriptEngine
from engine.bpmn.serializer import dump_state
from engine.bpmn.state_codec import state_dict
from engine.bpmn.validation import read_bpmn
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.time.clock import FrozenClock
from tests.builders import definitions, process

# a, then the sub-process S (x inside) and b; the throw undoes b (a user task
# does it), S (by x's handler, a sub-process with a user task) and a.
BODY = """\
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a" />
    <bpmn:scriptTask id="a" scriptFormat="python"><bpmn:script>trail = trail + ['a']</bpmn:script></bpmn:scriptTask>
    <bpmn:boundaryEvent id="cb_a" attachedToRef="a"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
    <bpmn:scriptTask id="undo_a" isForCompensation="true" scriptFormat="python"><bpmn:script>trail = trail + ['undo a']</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="S" />
    <bpmn:subProcess id="S">
      <bpmn:startEvent id="ss" />
      <bpmn:sequenceFlow id="g1" sourceRef="ss" targetRef="x" />
      <bpmn:scriptTask id="x" scriptFormat="python"><bpmn:script>trail = trail + ['x']</bpmn:script></bpmn:scriptTask>
      <bpmn:boundaryEvent id="cb_x" attachedToRef="x"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
      <bpmn:subProcess id="undo_x" isForCompensation="true">
        <bpmn:startEvent id="us" />
        <bpmn:sequenceFlow id="h1" sourceRef="us" targetRef="check" />
        <bpmn:userTask id="check" />
        <bpmn:sequenceFlow id="h2" sourceRef="check" targetRef="ue" />
        <bpmn:endEvent id="ue" />
      </bpmn:subProcess>
      <bpmn:sequenceFlow id="g2" sourceRef="x" targetRef="se" />
      <bpmn:endEvent id="se" />
      <bpmn:association id="as_x" sourceRef="cb_x" targetRef="undo_x" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f3" sourceRef="S" targetRef="b" />
    <bpmn:scriptTask id="b" scriptFormat="python"><bpmn:script>trail = trail + ['b']</bpmn:script></bpmn:scriptTask>
    <bpmn:boundaryEvent id="cb_b" attachedToRef="b"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
    <bpmn:userTask id="undo_b" isForCompensation="true" />
    <bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="t" />
    <bpmn:intermediateThrowEvent id="t"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="t" targetRef="e" />
    <bpmn:endEvent id="e" />
    <bpmn:association id="as_a" sourceRef="cb_a" targetRef="undo_a" />
    <bpmn:association id="as_b" sourceRef="cb_b" targetRef="undo_b" />
"""


def _specs() -> DefinitionSpecs:
    doc = read_bpmn("undo.bpmn", definitions("undo", process("undo", BODY)).encode())
    assert doc.problems == []
    compiled, problems = compile_processes([doc], {})
    assert problems == []
    stored = compiled["undo"].stored_spec
    assert {"undo_a.Compensation", "undo_x.Compensation", "undo_b.Compensation"} <= set(
        stored["subprocess_specs"])
    return DefinitionSpecs.from_stored(stored)


def _engine() -> WorkflowScriptEngine:
    clock = FrozenClock(datetime(2027, 1, 4, 1, 0, tzinfo=UTC))
    return WorkflowScriptEngine(clock=clock, timezone=UTC, instance_id="i",
                                business_key=None, dispatch=lambda call: None)


def _state(run: ProcessRun) -> dict[str, Any]:
    return dict(state_dict(run.dump()))


def _throw_state(run: ProcessRun) -> dict[str, Any]:
    (throw,) = [t for t in run._wf.get_tasks() if t.task_spec.name == "t"]
    return dict(throw.internal_data[STATE])


def test_restored_mid_compensation_goes_on_like_the_one_in_memory() -> None:
    specs = _specs()
    kept = ProcessRun.start(specs, {"trail": []}, _engine())
    kept.advance()
    waited: list[str] = []
    while not kept.completed:
        state = _state(kept)
        # The incremental dump equals a full one, and a restored copy dumps the same.
        assert state == state_dict(dump_state(kept._wf, notes=kept.notes()))
        restored = ProcessRun.restore(kept.dump(), specs, _engine())
        assert _state(restored) == state
        assert _throw_state(restored) == _throw_state(kept)
        (view,) = kept.ready_user_tasks()
        assert [v.id for v in restored.ready_user_tasks()] == [view.id]
        waited.append(view.element_id)
        # Go on with the restored copy; the one kept in memory does the same.
        for run in (kept, restored):
            run.complete_user_task(view.id, {f"done_{view.element_id}": True})
            run.advance()
        # (Each continuation makes tasks of its own: compare what they mean.)
        assert restored.variables() == kept.variables()
        assert ([v.element_id for v in restored.ready_user_tasks()]
                == [v.element_id for v in kept.ready_user_tasks()])
        assert restored.completed == kept.completed
        kept = restored
    assert waited == ["undo_b", "check"]
    variables = kept.variables()
    assert variables["trail"] == ["a", "x", "b", "undo a"]
    assert variables["done_undo_b"] is True and variables["done_check"] is True
    every = [*kept._wf.tasks.values(),
             *(t for sub in kept._wf.subprocesses.values() for t in sub.tasks.values())]
    assert set(_throw_state(kept)["done"]) == {
        str(t.id) for t in every if t.task_spec.name in ("a", "b", "x")}
    # The handlers' subworkflows are gone with them; S's stays, as SpiffWorkflow keeps it.
    (s_task,) = [t for t in every if t.task_spec.name == "S"]
    assert set(kept._wf.subprocesses) == {s_task.id}
