# ruff: noqa: E501 - the BPMN is written as Camunda Modeler writes it, long lines and all
"""A small process with two forms, for the web and browser tests.

``web_demo``: the customer (``pelanggan``) fills in ``isi_data`` (a pattern-checked
product number, a number, a choice and a document), then the front office
(``upp``) checks it in ``periksa`` (due in three hours, with a non-interrupting
reminder timer). Drawn as Camunda Modeler draws it: a pool with two lanes,
shapes and edges, so that bpmn-js shows it and can mark its elements.
"""

from __future__ import annotations

import json
from typing import Any

KEY = "web_demo"
NAME = "Demo permohonan (web)"
FIRST = "isi_data"
SECOND = "periksa"
# form-js tests a pattern anywhere in the text; the server wants all of it to match.
PRODUCT_PATTERN = "[A-Z]{3}-\\d{3}"

BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_web_demo" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.23.0">
  <bpmn:collaboration id="Collaboration_web_demo">
    <bpmn:participant id="Participant_web_demo" name="{NAME}" processRef="{KEY}" />
  </bpmn:collaboration>
  <bpmn:process id="{KEY}" name="{NAME}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_web_demo">
      <bpmn:lane id="Lane_pelanggan" name="pelanggan">
        <bpmn:flowNodeRef>mulai</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>{FIRST}</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_upp" name="upp">
        <bpmn:flowNodeRef>{SECOND}</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>selesai</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>ingatkan</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>diingatkan</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="mulai" name="Mulai">
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="{FIRST}" name="Isi data permohonan" camunda:formRef="{FIRST}" camunda:dueDate="P14D">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="{SECOND}" name="Periksa permohonan" camunda:formRef="{SECOND}" camunda:dueDate="PT3H">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="selesai" name="Selesai">
      <bpmn:incoming>f3</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:boundaryEvent id="ingatkan" name="10 hari" cancelActivity="false" attachedToRef="{SECOND}">
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_ingatkan">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">P10D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="diingatkan" name="Diingatkan">
      <bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="mulai" targetRef="{FIRST}" />
    <bpmn:sequenceFlow id="f2" sourceRef="{FIRST}" targetRef="{SECOND}" />
    <bpmn:sequenceFlow id="f3" sourceRef="{SECOND}" targetRef="selesai" />
    <bpmn:sequenceFlow id="f4" sourceRef="ingatkan" targetRef="diingatkan" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_web_demo">
    <bpmndi:BPMNPlane id="BPMNPlane_web_demo" bpmnElement="Collaboration_web_demo">
      <bpmndi:BPMNShape id="Participant_web_demo_di" bpmnElement="Participant_web_demo" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="660" height="370" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_pelanggan_di" bpmnElement="Lane_pelanggan" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="630" height="150" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_upp_di" bpmnElement="Lane_upp" isHorizontal="true">
        <dc:Bounds x="150" y="210" width="630" height="220" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="mulai_di" bpmnElement="mulai">
        <dc:Bounds x="202" y="117" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{FIRST}_di" bpmnElement="{FIRST}">
        <dc:Bounds x="290" y="95" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{SECOND}_di" bpmnElement="{SECOND}">
        <dc:Bounds x="450" y="250" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="selesai_di" bpmnElement="selesai">
        <dc:Bounds x="632" y="272" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="diingatkan_di" bpmnElement="diingatkan">
        <dc:Bounds x="632" y="362" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="ingatkan_di" bpmnElement="ingatkan">
        <dc:Bounds x="482" y="312" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
        <di:waypoint x="238" y="135" />
        <di:waypoint x="290" y="135" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
        <di:waypoint x="390" y="135" />
        <di:waypoint x="420" y="135" />
        <di:waypoint x="420" y="290" />
        <di:waypoint x="450" y="290" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3">
        <di:waypoint x="550" y="290" />
        <di:waypoint x="632" y="290" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f4_di" bpmnElement="f4">
        <di:waypoint x="500" y="348" />
        <di:waypoint x="500" y="380" />
        <di:waypoint x="632" y="380" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _form(form_id: str, components: list[dict[str, Any]]) -> str:
    return json.dumps({
        "components": components, "type": "default", "id": form_id, "schemaVersion": 16,
        "exporter": {"name": "Camunda Modeler", "version": "5.23.0"},
        "executionPlatform": "Camunda Platform", "executionPlatformVersion": "7.21.0",
    }, indent=2)


FIRST_FORM = _form(FIRST, [
    {"type": "text", "id": "Text_1", "text": "## Data permohonan"},
    {"type": "textfield", "id": "Field_nomor", "key": "nomor_produk", "label": "Nomor produk",
     "description": "Tiga huruf besar, tanda hubung dan tiga angka, misalnya ABC-123.",
     "validate": {"required": True, "pattern": PRODUCT_PATTERN}},
    {"type": "number", "id": "Field_jumlah", "key": "jumlah", "label": "Jumlah contoh",
     "description": "Berapa contoh.", "validate": {"required": True, "min": 1, "max": 50}},
    {"type": "radio", "id": "Field_jenis", "key": "jenis", "label": "Jenis permohonan",
     "description": "Baru atau resertifikasi.",
     "values": [{"label": "Baru", "value": "baru"}, {"label": "Ulang", "value": "ulang"}],
     "validate": {"required": True}},
    {"type": "filepicker", "id": "Field_surat", "key": "dok_surat", "label": "Surat permohonan",
     "description": "Surat permohonan yang sudah ditandatangani (PDF).", "validate": {"required": True}},
    {"type": "textarea", "id": "Field_catatan", "key": "catatan", "label": "Catatan",
     "description": "Hal lain yang perlu diketahui LSPro.", "validate": {"maxLength": 500}},
])

SECOND_FORM = _form(SECOND, [
    {"type": "textfield", "id": "Field_nomor_ro", "key": "nomor_produk", "label": "Nomor produk",
     "description": "Seperti diisi pelanggan.", "readonly": True},
    {"type": "number", "id": "Field_jumlah_ro", "key": "jumlah", "label": "Jumlah contoh",
     "description": "Seperti diisi pelanggan.", "readonly": True},
    {"type": "radio", "id": "Field_diterima", "key": "diterima", "label": "Permohonan diterima?",
     "description": "Terima permohonan atau tidak.",
     "values": [{"label": "Ya", "value": "ya"}, {"label": "Tidak", "value": "tidak"}],
     "validate": {"required": True}},
    {"type": "textarea", "id": "Field_catatan_upp", "key": "catatan_upp", "label": "Catatan UPP",
     "description": "Catatan bagian layanan depan."},
])


def files() -> list[tuple[str, bytes]]:
    """The process and its two forms, as a deployment takes them."""
    return [(f"{KEY}.bpmn", BPMN.encode()), (f"{FIRST}.form", FIRST_FORM.encode()),
            (f"{SECOND}.form", SECOND_FORM.encode())]


# The smallest PDF the document store accepts (its content decides the type).
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
