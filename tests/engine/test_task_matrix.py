"""Every task type, plain and with each loop marker, deploys and runs to its end (issue 16).

Before, a multi-instance script task and a receive task failed the deployment
with a 500, and a plain or manual task left its instance waiting for nobody.
The engine fixture has no workflow cache: every step is saved and reloaded.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.models import ProcessInstance, Task
from tests.builders import definitions, process

CALLED = definitions("called", process("called", (
    '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" />'
    '<bpmn:endEvent id="e" />')))
TASKS = {
    "userTask": '<bpmn:userTask id="x" camunda:candidateGroups="upp">{m}</bpmn:userTask>',
    "scriptTask": ('<bpmn:scriptTask id="x" scriptFormat="python">{m}'
                   "<bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>"),
    "serviceTask": ('<bpmn:serviceTask id="x" camunda:expression="${{1}}" '
                    'camunda:resultVariable="r">{m}</bpmn:serviceTask>'),
    "sendTask": '<bpmn:sendTask id="x" camunda:expression="${{1}}">{m}</bpmn:sendTask>',
    "receiveTask": '<bpmn:receiveTask id="x" messageRef="m1">{m}</bpmn:receiveTask>',
    "manualTask": '<bpmn:manualTask id="x">{m}</bpmn:manualTask>',
    "task": '<bpmn:task id="x">{m}</bpmn:task>',
    "callActivity": '<bpmn:callActivity id="x" calledElement="called">{m}</bpmn:callActivity>',
    "subProcess": ('<bpmn:subProcess id="x">{m}<bpmn:startEvent id="ss" />'
                   '<bpmn:sequenceFlow id="sf" sourceRef="ss" targetRef="se" />'
                   '<bpmn:endEvent id="se" /></bpmn:subProcess>'),
}
MARKERS = {
    "plain": "",
    "standard-loop": '<bpmn:standardLoopCharacteristics loopMaximum="2" />',
    "sequential": ('<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
                   "<bpmn:loopCardinality>2</bpmn:loopCardinality>"
                   "</bpmn:multiInstanceLoopCharacteristics>"),
    "parallel": ("<bpmn:multiInstanceLoopCharacteristics>"
                 "<bpmn:loopCardinality>2</bpmn:loopCardinality>"
                 "</bpmn:multiInstanceLoopCharacteristics>"),
}
# What a person (or a message) must do before the instance ends: two user
# tasks or messages for a looped one, one for a plain one; a parallel
# receive task catches one message in both of its instances.
STEPS = {"userTask": (1, 2, 2, 2), "receiveTask": (1, 2, 2, 1)}


@pytest.mark.parametrize("marker", list(MARKERS))
@pytest.mark.parametrize("kind", list(TASKS))
def test_task_type_with_marker_runs_to_the_end(engine: Engine, kind: str, marker: str) -> None:
    key = f"{kind}_{marker}".replace("-", "_")
    body = ('<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x" />'
            + TASKS[kind].format(m=MARKERS[marker])
            + '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e" /><bpmn:endEvent id="e" />')
    xml = definitions(key, process(key, body)).replace(
        "  <bpmndi:BPMNDiagram", '  <bpmn:message id="m1" name="m1" />\n  <bpmndi:BPMNDiagram')
    with engine.write() as s:
        s.deployments.deploy([("called.bpmn", CALLED.encode()), (f"{key}.bpmn", xml.encode())])
        instance_id = s.runtime.start_instance(key).id
    steps = 0
    while steps < 5:
        with engine.read() as s:
            status = s.session.get(ProcessInstance, instance_id).status  # type: ignore[union-attr]
            ready = list(s.session.scalars(sa.select(Task.id).where(
                Task.instance_id == instance_id, Task.state == "ready")))
        if status != "running":
            break
        with engine.write() as s:
            if ready:
                s.runtime.complete_task(ready[0], {}, actor="u")
            else:
                s.runtime.correlate_message("m1", instance_id=instance_id, variables={})
        steps += 1
    assert status == "completed"
    assert steps == STEPS.get(kind, (0, 0, 0, 0))[list(MARKERS).index(marker)]
