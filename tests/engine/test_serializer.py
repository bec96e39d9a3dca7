"""The incremental state dump writes exactly what a full dump writes."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta

from engine.bpmn.compiler import compile_processes
from engine.bpmn.host import WorkflowScriptEngine
from engine.bpmn.serializer import dump_state, load_state
from engine.bpmn.validation import read_bpmn
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.clock import FrozenClock
from tests.builders import definitions, process

LOOP = process("loop", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="work" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="side" />
    <bpmn:userTask id="side" />
    <bpmn:sequenceFlow id="f4" sourceRef="side" targetRef="join" />
    <bpmn:userTask id="work" />
    <bpmn:boundaryEvent id="late" cancelActivity="false" attachedToRef="work">
      <bpmn:timerEventDefinition id="t"><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="late" targetRef="note" />
    <bpmn:scriptTask id="note" scriptFormat="python"><bpmn:script>late_count = late_count + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f6" sourceRef="note" targetRef="noted" />
    <bpmn:endEvent id="noted" />
    <bpmn:sequenceFlow id="f7" sourceRef="work" targetRef="check" />
    <bpmn:exclusiveGateway id="check" default="again" />
    <bpmn:sequenceFlow id="done" sourceRef="check" targetRef="join"><bpmn:conditionExpression>${round &gt;= 2}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="again" sourceRef="check" targetRef="work" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f8" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def _specs() -> DefinitionSpecs:
    doc = read_bpmn("loop.bpmn", definitions("loop", LOOP).encode())
    assert doc.problems == []
    compiled, problems = compile_processes([doc], {})
    assert problems == []
    return DefinitionSpecs.from_stored(compiled["loop"].stored_spec)


def _full(run: ProcessRun) -> dict[str, object]:
    return json.loads(zlib.decompress(dump_state(run._wf)))  # no memo: everything encoded


def test_dump_with_memo_equals_full_dump_at_every_step() -> None:
    clock = FrozenClock(datetime(2027, 1, 4, 1, 0, tzinfo=UTC))
    engine = WorkflowScriptEngine(clock=clock, timezone=UTC, instance_id="i",
                                  business_key=None, dispatch=lambda call: None)
    specs = _specs()
    run = ProcessRun.start(specs, {"late_count": 0, "round": 0}, engine)
    steps = 0
    while not run.completed:
        run.advance()
        incremental = json.loads(zlib.decompress(run.dump()))
        assert incremental == _full(run)
        # A restored copy dumps to the same state too.
        copy = load_state(run.dump(), specs.spec, specs.subprocess_specs)
        assert json.loads(zlib.decompress(dump_state(copy))) == incremental
        ready = sorted(run.ready_user_tasks(), key=lambda v: v.element_id)
        if steps in (1, 2):
            # A cycle timer changes its own state (next due time) while it waits.
            clock.advance(timedelta(hours=1, seconds=1))
            run.fire_timers()
        elif ready:
            view = ready[0]
            data = {"round": view.data.get("round", 0) + 1} if view.element_id == "work" else {}
            run.complete_user_task(view.id, data)
        steps += 1
        assert steps < 20
    assert run.variables()["round"] == 2
    # The non-interrupting timer's branch ran twice (its data stays on its own branch).
    notes = [t for t in run._wf.get_tasks() if t.task_spec.name == "note"]
    assert [t.data["late_count"] for t in notes] == [1, 1]
