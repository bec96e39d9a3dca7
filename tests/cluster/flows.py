"""The small processes the cluster tests run, and their deployment over REST."""

from __future__ import annotations

from itertools import pairwise

import requests

from tests.builders import definitions, process

from .nodes import Node

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def chain(key: str, *elements: tuple[str, str]) -> str:
    """A process: start, then ``elements`` (id, XML) in a row, then end; with shapes."""
    steps = [("start", '    <bpmn:startEvent id="start" />'), *elements,
             ("end", '    <bpmn:endEvent id="end" />')]
    flows = [f'    <bpmn:sequenceFlow id="flow_{i}" sourceRef="{a}" targetRef="{b}" />'
             for i, ((a, _), (b, _)) in enumerate(pairwise(steps))]
    shapes = "".join(
        f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
        f'<dc:Bounds x="{100 + 150 * i}" y="100" width="100" height="80" /></bpmndi:BPMNShape>\n'
        for i, (element, _) in enumerate(steps))
    body = "\n".join([xml for _, xml in steps] + flows) + "\n"
    return definitions(key, process(key, body), shapes)


def user_task(element: str, role: str = "upp") -> tuple[str, str]:
    return element, (f'    <bpmn:userTask id="{element}" name="{element}" '
                     f'camunda:candidateGroups="{role}" />')


def timer_at_variable(element: str, variable: str) -> tuple[str, str]:
    """A timer catch event due at the moment held by the process variable ``variable``."""
    return element, (
        f'    <bpmn:intermediateCatchEvent id="{element}"><bpmn:timerEventDefinition>'
        f'<bpmn:timeDate xsi:type="bpmn:tFormalExpression" {XSI}>${{{variable}}}</bpmn:timeDate>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def message_catch(element: str, message_id: str) -> tuple[str, str]:
    return element, (f'    <bpmn:intermediateCatchEvent id="{element}">'
                     f'<bpmn:messageEventDefinition messageRef="{message_id}" />'
                     '</bpmn:intermediateCatchEvent>')


def with_message(xml: str, message_id: str, name: str) -> str:
    """``xml`` with a message ``name`` declared (id ``message_id``) beside its process."""
    return xml.replace("  <bpmn:process ",
                       f'  <bpmn:message id="{message_id}" name="{name}" />\n  <bpmn:process ', 1)


def deploy(node: Node, key: str, xml: str) -> None:
    """Deploy ``xml`` through ``node``'s REST API as the analyst."""
    answer = requests.post(f"{node.base}/api/v1/deployments", headers=node.headers("analyst"),
                           files={"files": (f"{key}.bpmn", xml.encode(), "application/xml")},
                           timeout=60)
    assert answer.status_code == 201, answer.text
