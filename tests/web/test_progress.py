"""The progress view's milestones, read from BPMN files (api/web/progress.py).

Small diagrams written here: marked milestones in flow order, shared labels, a
call activity standing for the called process's milestones, the fallback to user
tasks when nothing is marked, and each milestone's state from the diagram marks.
"""

from __future__ import annotations

from api.web.bpmn_outline import Outline, outline
from api.web.diagrams import ACTIVE, COMPLETED, TIMER
from api.web.progress import (
    CURRENT,
    DONE,
    NOT_REACHED,
    TO_COME,
    message_labels,
    milestones_of,
    progress,
)

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" '
        'targetNamespace="http://bpmn.io/schema/bpmn">')


def milestone(label: str) -> str:
    return (f'<bpmn:extensionElements><camunda:properties><camunda:property name="milestone" '
            f'value="{label}" /></camunda:properties></bpmn:extensionElements>')


# Written out of flow order on purpose: the order comes from the sequence flows.
MAIN = HEAD + f"""
  <bpmn:message id="Msg_bayar" name="dibayar" />
  <bpmn:process id="utama" isExecutable="true">
    <bpmn:callActivity id="panggil" name="Pelaksanaan" calledElement="anak" />
    <bpmn:userTask id="lengkapi" name="Lengkapi">{milestone("Pemeriksaan")}</bpmn:userTask>
    <bpmn:userTask id="periksa" name="Periksa">{milestone("Pemeriksaan")}</bpmn:userTask>
    <bpmn:startEvent id="mulai" />
    <bpmn:userTask id="ajukan" name="Ajukan">{milestone("Pengajuan")}</bpmn:userTask>
    <bpmn:intermediateCatchEvent id="bayar" name="Pembayaran diterima">{milestone("Bayar")}
      <bpmn:messageEventDefinition messageRef="Msg_bayar" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="selesai" />
    <bpmn:sequenceFlow id="f1" sourceRef="mulai" targetRef="ajukan" />
    <bpmn:sequenceFlow id="f2" sourceRef="ajukan" targetRef="periksa" />
    <bpmn:sequenceFlow id="f3" sourceRef="periksa" targetRef="lengkapi" />
    <bpmn:sequenceFlow id="f4" sourceRef="lengkapi" targetRef="periksa" />
    <bpmn:sequenceFlow id="f5" sourceRef="periksa" targetRef="bayar" />
    <bpmn:sequenceFlow id="f6" sourceRef="bayar" targetRef="panggil" />
    <bpmn:sequenceFlow id="f7" sourceRef="panggil" targetRef="selesai" />
  </bpmn:process>
</bpmn:definitions>"""

CHILD = HEAD + f"""
  <bpmn:process id="anak" isExecutable="true">
    <bpmn:startEvent id="a_mulai" />
    <bpmn:userTask id="a_audit" name="Audit">{milestone("Audit")}</bpmn:userTask>
    <bpmn:userTask id="a_putus" name="Putuskan">{milestone("Keputusan")}</bpmn:userTask>
    <bpmn:sequenceFlow id="g1" sourceRef="a_mulai" targetRef="a_audit" />
    <bpmn:sequenceFlow id="g2" sourceRef="a_audit" targetRef="a_putus" />
  </bpmn:process>
</bpmn:definitions>"""

PLAIN = HEAD + """
  <bpmn:process id="polos" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:serviceTask id="hitung" name="Hitung" />
    <bpmn:userTask id="dua" name="Langkah dua" />
    <bpmn:userTask id="satu" name="Langkah satu" />
    <bpmn:sequenceFlow id="h1" sourceRef="s" targetRef="satu" />
    <bpmn:sequenceFlow id="h2" sourceRef="satu" targetRef="hitung" />
    <bpmn:sequenceFlow id="h3" sourceRef="hitung" targetRef="dua" />
  </bpmn:process>
</bpmn:definitions>"""


def outlines() -> dict[str, Outline]:
    return {"utama": outline("utama:1", "utama", MAIN), "anak": outline("anak:1", "anak", CHILD)}


def test_marked_milestones_in_flow_order_with_the_called_process_in_its_place() -> None:
    found = milestones_of(outlines(), "utama")
    assert [m.label for m in found] == ["Pengajuan", "Pemeriksaan", "Bayar", "Audit",
                                        "Keputusan"]
    assert found[1].elements == {"periksa", "lengkapi"}  # one label, one milestone
    assert message_labels(outlines().values()) == {"dibayar": "Pembayaran diterima"}


def test_a_process_marking_nothing_shows_its_user_tasks() -> None:
    plain = {"polos": outline("polos:1", "polos", PLAIN)}
    assert [m.label for m in milestones_of(plain, "polos")] == ["Langkah satu", "Langkah dua"]


def test_states_follow_the_marks() -> None:
    found = milestones_of(outlines(), "utama")
    marks = {"ajukan": {COMPLETED}, "periksa": {COMPLETED}, "bayar": {TIMER}}
    shown = progress(found, marks, running=True)
    assert (shown.step, shown.total) == (3, 5)
    assert [m.state for m in shown.milestones] == [DONE, DONE, CURRENT, TO_COME, TO_COME]

    found = milestones_of(outlines(), "utama")
    shown = progress(found, {"ajukan": {COMPLETED}, "a_audit": {ACTIVE}}, running=True)
    assert [m.state for m in shown.milestones] == [DONE, DONE, DONE, CURRENT, TO_COME]

    # Ended after the check (refused): the rest was never reached.
    found = milestones_of(outlines(), "utama")
    shown = progress(found, {"ajukan": {COMPLETED}, "periksa": {COMPLETED}}, running=False)
    assert [m.state for m in shown.milestones] == [DONE, DONE, NOT_REACHED, NOT_REACHED,
                                                   NOT_REACHED]
