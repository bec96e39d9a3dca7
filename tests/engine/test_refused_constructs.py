"""Constructs sertiflow does not run, or drawn wrongly, are refused by name, never as
"cannot be reached" (issues 16 and 17)."""

from __future__ import annotations

import pytest

from engine.composition import Engine
from engine.errors import DeploymentRejected
from tests.builders import definitions, process

TIMER = ('<bpmn:timerEventDefinition id="shared"><bpmn:timeDuration>PT1H'
         '</bpmn:timeDuration></bpmn:timerEventDefinition>\n')


def refused(engine: Engine, body: str, top: str = "") -> list[str]:
    xml = definitions("odd", process("odd", body)).replace("  <bpmn:process", top + "  <bpmn:process", 1)
    with pytest.raises(DeploymentRejected) as caught, engine.write() as s:
        s.deployments.deploy([("odd.bpmn", xml.encode())])
    return [str(p) for p in caught.value.problems]


def around(task: str) -> str:
    return ('<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x" />'
            f"{task}"
            '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e" /><bpmn:endEvent id="e" />')


@pytest.mark.parametrize(("body", "top", "words"), [
    (around('<bpmn:intermediateCatchEvent id="x"><bpmn:eventDefinitionRef>gone'
            '</bpmn:eventDefinitionRef></bpmn:intermediateCatchEvent>'), TIMER,
     "(element 'x'): eventDefinitionRef 'gone' names no event definition"),
    (around('<bpmn:intermediateThrowEvent id="x"><bpmn:linkEventDefinition name="L" />'
            '</bpmn:intermediateThrowEvent>'), "",
     "(element 'x'): link 'L' has no link catch event of the same name"),
    (around('<bpmn:userTask id="x" camunda:candidateGroups="upp"><bpmn:multiInstanceLoopCharacteristics>'
            '<bpmn:loopCardinality>-2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
            '</bpmn:userTask>'), "", "loopCardinality is -2"),
    (around('<bpmn:scriptTask id="x" scriptFormat="python"><bpmn:standardLoopCharacteristics '
            'loopMaximum="-1" /><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>'), "",
     "loopMaximum is -1"),
    (around('<bpmn:userTask id="x" camunda:candidateGroups="upp" startQuantity="2" />'), "",
     'startQuantity="2" is not supported'),
    (around('<bpmn:userTask id="x" camunda:candidateGroups="upp" completionQuantity="3" />'), "",
     'completionQuantity="3" is not supported'),
    # A compensation handler is reached by no flow, and is not reported as unreachable;
    # a compensation boundary event linked to no handler is refused by its name.
    (around('<bpmn:userTask id="x" camunda:candidateGroups="upp" />'
            '<bpmn:boundaryEvent id="c" attachedToRef="x"><bpmn:compensateEventDefinition id="cd" />'
            '</bpmn:boundaryEvent><bpmn:userTask id="undo" isForCompensation="true" />'), "",
     "(element 'c'): compensation boundary event 'c' has no handler"),
])
def test_refused_by_name(engine: Engine, body: str, top: str, words: str) -> None:
    found = refused(engine, body, top)
    assert any(words in p for p in found), found
    assert not any("cannot be reached" in p for p in found), found
