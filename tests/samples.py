"""Diagrams, forms and documents that several test modules use."""

from __future__ import annotations

from tests.builders import process

FORM = {
    "id": "application-form",
    "type": "default",
    "components": [
        {"key": "product", "label": "Product", "type": "textfield",
         "validate": {"required": True, "maxLength": 100}},
        {"key": "units", "label": "Units", "type": "number",
         "validate": {"required": True, "min": 1, "max": 1000}},
        {"key": "scheme", "label": "Scheme", "type": "select",
         "values": [{"label": "Type 5", "value": "type5"}, {"label": "Type 1b", "value": "type1b"}]},
        {"key": "checked_by_upp", "label": "Checked", "type": "checkbox", "readonly": True},
        {"key": "nib", "label": "NIB (business licence)", "type": "filepicker"},
    ],
}


CERTIFICATION = process("certification", """\
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="l1" name="pelanggan"><bpmn:flowNodeRef>apply</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="upp"><bpmn:flowNodeRef>check</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l3" name="auditor"><bpmn:flowNodeRef>audit</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply" />
    <bpmn:userTask id="apply" name="Submit the application" camunda:formRef="application-form" />
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="check" />
    <bpmn:userTask id="check" name="Check completeness" camunda:dueDate="P2D" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="audit" />
    <bpmn:userTask id="audit" name="Stage 2 audit" />
    <bpmn:sequenceFlow id="f4" sourceRef="audit" targetRef="review" />
    <bpmn:userTask id="review" name="Review the audit" camunda:candidateGroups="auditor,tim-teknis">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="excludeCompletersOf" value="audit" /></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Payment confirmed">
      <bpmn:messageEventDefinition id="m" messageRef="paid" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
""") + '  <bpmn:message id="paid" name="payment_confirmed" />\n'


SCRIPTED = process("scripted", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fee" />
    <bpmn:scriptTask id="fee" scriptFormat="python"><bpmn:script>total = base * 2</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="fee" targetRef="pay" />
    <bpmn:userTask id="pay" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"




TIMER = process("deadline", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:userTask id="work" name="Correct the NCR" />
    <bpmn:boundaryEvent id="too_late" name="14 days" attachedToRef="work">
      <bpmn:timerEventDefinition id="ted"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">P14D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done" />
    <bpmn:endEvent id="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="too_late" targetRef="suspend" />
    <bpmn:userTask id="suspend" name="Suspend certificate" />
    <bpmn:sequenceFlow id="f4" sourceRef="suspend" targetRef="suspended" />
    <bpmn:endEvent id="suspended" />
""")
