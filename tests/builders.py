"""Build BPMN documents for tests and benchmarks, shaped as Camunda Modeler writes them."""

from __future__ import annotations

from itertools import pairwise
from xml.sax.saxutils import quoteattr

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn" '
    'exporter="Camunda Modeler" exporterVersion="5.23.0">\n'
)


def definitions(key: str, body: str, shapes: str = "") -> str:
    """Wrap process XML in bpmn:definitions, with a diagram plane for ``shapes``."""
    return (
        HEADER.format(key=key)
        + body
        + f'\n  <bpmndi:BPMNDiagram id="BPMNDiagram_{key}">\n'
        + f'    <bpmndi:BPMNPlane id="BPMNPlane_{key}" bpmnElement="{key}">\n'
        + shapes
        + "    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    )


def process(key: str, inner: str, *, name: str | None = None) -> str:
    label = f" name={quoteattr(name)}" if name else ""
    return f'  <bpmn:process id="{key}"{label} isExecutable="true">\n{inner}  </bpmn:process>\n'


def linear_user_tasks(key: str, count: int, *, lane_roles: list[str] | None = None,
                      due: str | None = None) -> str:
    """A process: start, ``count`` user tasks in a row, end; with shapes and edges."""
    roles = lane_roles or ["upp"]
    nodes = ['    <bpmn:startEvent id="start" />']
    ids = ["start"] + [f"task_{i}" for i in range(1, count + 1)] + ["end"]
    for i in range(1, count + 1):
        role = roles[(i - 1) % len(roles)]
        extra = f' camunda:dueDate="{due}"' if due else ""
        nodes.append(f'    <bpmn:userTask id="task_{i}" name="Step {i}" '
                     f'camunda:candidateGroups="{role}"{extra} />')
    nodes.append('    <bpmn:endEvent id="end" />')
    flows = [
        f'    <bpmn:sequenceFlow id="flow_{i}" sourceRef="{a}" targetRef="{b}" />'
        for i, (a, b) in enumerate(pairwise(ids))
    ]
    shapes = "".join(
        f'      <bpmndi:BPMNShape id="{n}_di" bpmnElement="{n}">'
        f'<dc:Bounds x="{100 + 150 * i}" y="100" width="100" height="80" /></bpmndi:BPMNShape>\n'
        for i, n in enumerate(ids)
    )
    body = process(key, "\n".join(nodes + flows) + "\n", name=f"Linear {count}")
    return definitions(key, body, shapes)


def service(element: str, topic: str, **properties: str) -> str:
    """An external service task on ``topic``, its properties as camunda:property entries."""
    props = "".join(f'<camunda:property name="{k}" value="{v}" />'
                    for k, v in properties.items())
    extension = (f"<bpmn:extensionElements><camunda:properties>{props}</camunda:properties>"
                 "</bpmn:extensionElements>") if props else ""
    return (f'    <bpmn:serviceTask id="{element}" camunda:type="external" '
            f'camunda:topic="{topic}">{extension}</bpmn:serviceTask>\n')


def calling(key: str, called: str) -> str:
    """A process: start, a call activity of process ``called`` (every variable handed in
    and back out, as the LSPro's procedure hands its application on), end."""
    body = process(key, f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="flow_0" sourceRef="start" targetRef="call" />
    <bpmn:callActivity id="call" name="Called" calledElement="{called}">
      <bpmn:extensionElements>
        <camunda:in variables="all" />
        <camunda:out variables="all" />
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="flow_1" sourceRef="call" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name=f"Calling {called}")
    return definitions(key, body)
