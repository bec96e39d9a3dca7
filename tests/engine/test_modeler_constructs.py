"""Constructs Camunda 7 runs that SpiffWorkflow, as configured before, did not.

Each once crashed the deployment (500), stopped the instance at an incident, or
left it waiting for nobody; each now runs as Camunda 7 runs it (issue 16).
The engine fixture has no workflow cache: every step is saved and reloaded.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.models import Incident, ProcessInstance
from tests.builders import definitions, process
from tests.instances import history, ready

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
MESSAGE = '  <bpmn:message id="m1" name="parcel" />\n'


def run(engine: Engine, key: str, inner: str) -> ProcessInstance:
    """Deploy a process of ``inner`` (and a message "parcel"), start it, return the row."""
    xml = definitions(key, process(key, inner) + MESSAGE)
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", xml.encode())])
        instance_id = s.runtime.start_instance(key).id
    return status(engine, instance_id)


def status(engine: Engine, instance_id: str) -> ProcessInstance:
    with engine.read() as s:
        row = s.session.get(ProcessInstance, instance_id)
        assert row is not None
        s.session.expunge(row)
        return row


def elements(engine: Engine, instance_id: str) -> list[str]:
    return [e.element_id for e in history(engine, instance_id) if e.element_id]


@pytest.mark.parametrize("sequential", ["true", "false"])
def test_multi_instance_script_task(engine: Engine, sequential: str) -> None:
    instance = run(engine, f"mi_{sequential}", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />
    <bpmn:scriptTask id="count" scriptFormat="python">
      <bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}"><bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>done = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    assert instance.status == "completed"
    assert elements(engine, instance.id).count("count") >= 3


def test_receive_task_waits_for_its_message(engine: Engine) -> None:
    instance = run(engine, "receiving", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:receiveTask id="wait" messageRef="m1" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    assert instance.status == "running"
    with engine.write() as s:
        s.runtime.correlate_message("parcel", instance_id=instance.id,
                                    variables={"weight": 3})
    assert status(engine, instance.id).status == "completed"


def test_elements_named_like_the_engines_own_tasks(engine: Engine) -> None:
    instance = run(engine, "named", """\
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Root" />
    <bpmn:userTask id="Root" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="Root" targetRef="End" />
    <bpmn:endEvent id="End" />
""")
    assert instance.status == "running"
    (task,) = ready(engine, instance.id)
    assert task.element_id == "Root"
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="u")
    assert status(engine, instance.id).status == "completed"
    assert {"Start", "Root", "End"} <= set(elements(engine, instance.id))


@pytest.mark.parametrize("condition", ["true", "${true}", "not false and null is None"])
def test_json_and_juel_literals_in_a_plain_condition(engine: Engine, condition: str) -> None:
    instance = run(engine, "literal", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
    <bpmn:exclusiveGateway id="choose" default="f3" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" {XSI}>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="no" />
    <bpmn:userTask id="yes" camunda:candidateGroups="upp" />
    <bpmn:userTask id="no" camunda:candidateGroups="upp" />
""")
    assert instance.status == "running"
    assert [t.element_id for t in ready(engine, instance.id)] == ["yes"]


def test_plain_and_manual_tasks_pass_through(engine: Engine) -> None:
    instance = run(engine, "passing", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="think" />
    <bpmn:task id="think" name="Think it over" />
    <bpmn:sequenceFlow id="f2" sourceRef="think" targetRef="sign" />
    <bpmn:manualTask id="sign" name="Sign on paper" />
    <bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    assert instance.status == "completed"
    assert {"think", "sign"} <= set(elements(engine, instance.id))


def test_message_throw_events_without_a_payload(engine: Engine) -> None:
    """Each throw carries no variables and starts one instance of the receiving process."""
    receiver = definitions("receiving", process("receiving", """\
    <bpmn:startEvent id="got"><bpmn:messageEventDefinition id="d0" messageRef="m1" /></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="got" targetRef="done" />
    <bpmn:endEvent id="done" />
""") + MESSAGE)
    with engine.write() as s:
        s.deployments.deploy([("receiving.bpmn", receiver.encode())])
    instance = run(engine, "throwing", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="tell" />
    <bpmn:intermediateThrowEvent id="tell"><bpmn:messageEventDefinition id="d1" messageRef="m1" /></bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="tell" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:messageEventDefinition id="d2" messageRef="m1" /></bpmn:endEvent>
""")
    assert instance.status == "completed"
    with engine.read() as s:
        started = list(s.session.scalars(sa.select(ProcessInstance.status).where(
            ProcessInstance.definition_key == "receiving")))
    assert started == ["completed", "completed"]


@pytest.mark.parametrize("sequential", ["true", "false"])
def test_a_completion_condition_that_fails_is_an_incident_not_an_error(
        engine: Engine, sequential: str) -> None:
    """The condition runs inside the completion of an instance's user task: before,
    its NameError escaped the command (the API answered 500)."""
    instance = run(engine, f"mi_cond_{sequential}", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve" camunda:candidateGroups="upp">
      <bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
        <bpmn:completionCondition>${{nrOfCompletedInstances &gt;= limit}}</bpmn:completionCondition>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    [first, *_] = ready(engine, instance.id)
    with engine.write() as s:
        s.runtime.complete_task(first.id, {}, actor="upp1")
    row = status(engine, instance.id)
    assert row.status == "error"
    with engine.read() as s:
        [incident] = s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == instance.id))
        assert "limit" in incident.message
        assert incident.element_id == "approve"


def test_multi_instance_variables_as_camunda_names_them(engine: Engine) -> None:
    key = "mi_vars"
    xml = definitions(key, process(key, """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />
    <bpmn:scriptTask id="count" scriptFormat="python">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
        <bpmn:completionCondition>${nrOfCompletedInstances == 2}</bpmn:completionCondition>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>seen = seen + [[loopCounter, nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances]]</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", xml.encode())])
        instance_id = s.runtime.start_instance(key, variables={"seen": []}).id
    with engine.read() as s:
        row = s.session.get(ProcessInstance, instance_id)
        assert row is not None and row.status == "completed"
        assert s.runtime.variables(row)["seen"] == [[0, 3, 1, 0], [1, 3, 1, 1]]
