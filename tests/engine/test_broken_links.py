"""Elements without an id and links to no element are refused by name, not skipped (issue 16)."""

from __future__ import annotations

import pytest

from engine.composition import Engine
from engine.errors import DeploymentRejected
from tests.builders import definitions, process

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
BODY = """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
    <bpmn:exclusiveGateway id="choose" default="f3" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="check">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" {xsi}>ok</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="end" />
    <bpmn:userTask id="check" camunda:candidateGroups="upp" />
    <bpmn:boundaryEvent id="late" attachedToRef="check">
      <bpmn:timerEventDefinition id="t"><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
""".replace("{xsi}", XSI)


def problems(engine: Engine, body: str) -> list[str]:
    with pytest.raises(DeploymentRejected) as caught, engine.write() as s:
        s.deployments.deploy([("links.bpmn", definitions("links", process("links", body))
                               .encode())])
    return [str(p) for p in caught.value.problems]


def test_the_unbroken_diagram_deploys(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("links.bpmn", definitions("links", process("links", BODY))
                               .encode())])


@pytest.mark.parametrize(("broken", "words"), [
    (BODY.replace('id="f5" ', ""), "a sequence flow has no id"),
    (BODY.replace('<bpmn:userTask id="check" ', "<bpmn:userTask "), "a user task has no id"),
    (BODY.replace('id="f5" sourceRef="check" targetRef="end"',
                  'id="f5" sourceRef="check" targetRef="nowhere"'),
     "sequence flow 'f5' names 'nowhere' as its targetRef, but there is no element"),
    (BODY.replace('attachedToRef="check"', 'attachedToRef="chek"'),
     "boundary event 'late' names 'chek' as its attachedToRef"),
    (BODY.replace('default="f3"', 'default="f9"'),
     "exclusive gateway 'choose' names 'f9' as its default"),
])
def test_a_broken_element_is_named_with_its_line(engine: Engine, broken: str,
                                                 words: str) -> None:
    found = problems(engine, broken)
    assert any(words in p for p in found), found
    assert any(p.startswith("links.bpmn:") for p in found), found
    assert not any("cannot be reached" in p for p in found), found
