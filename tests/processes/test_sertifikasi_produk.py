"""processes/sertifikasi_produk.bpmn (SOP AP 2.2.1-3) driven through the engine.

The real files of processes/ and forms/ are deployed unchanged, into an engine with
the real domain handlers. Steps 1-11 are this process; steps 12-17 come from the
call activity ``keputusan_sertifikasi``, whose tasks belong to the same instance.
Each test walks whole paths: the 17 steps, the loops at steps 4, 11 and 13,
separation of duties, the two "maks" deadlines (steps 6 and 10) and the service
clock. Tasks are completed the way the API completes them (driver.py): the
submission is checked against the task's form (engine/taskforms.py), documents are
uploaded to the task first. Every element carries its own ``calendar=working-days``
property, so due times are working time even though tests/conftest.py sets the
default calendar to calendar days.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from engine.composition import Engine
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity.access import Actor
from engine.models import ProcessDefinition, Task
from engine.tasks.option_lists import form_input_data
from engine.tasks.taskforms import form_for_task
from engine.time.clock import FrozenClock
from tests.instances import element_properties
from tests.processes.driver import FORMS, PROCESSES, Driver
from tests.processes.entries import (
    ADA_NCR,
    ADA_TEMUAN,
    BELUM_EFEKTIF,
    BELUM_TERPENUHI,
    BUSINESS_KEY,
    DISETUJUI,
    EFEKTIF,
    GRANT,
    HASIL_UJI,
    SESUAI,
    TANPA_NCR,
    TANPA_TEMUAN,
    TERPENUHI,
    TIM_VALID,
    TO_STAGE_1,
    USERS,
)
from tests.processes.steps import DECISION_STEPS, EVALUATORS, SOP_STEPS

BPMN = PROCESSES / "sertifikasi_produk.bpmn"
KEPUTUSAN = PROCESSES / "keputusan_sertifikasi.bpmn"
KEY = "sertifikasi_produk"
MESSAGE = "hasil_uji_diterima"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
# The user tasks of both files (steps.py): role of the lane, camunda:dueDate.
ALL_STEPS = {**SOP_STEPS, **DECISION_STEPS}

# Element -> (topic, camunda:property entries) of every service task.
SERVICES: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "sertifikasi_produk.bpmn": {
        "svc_surat_penghentian": ("letter.generate", {"template": "surat_penghentian"}),
    },
    "keputusan_sertifikasi.bpmn": {
        "svc_catat_panel": ("panel.record", {"completersOf": "s13_bahas_dan_rekomendasi"}),
        # "milestone": the step of the customer's progress view the task belongs to
        "svc_surat_kekurangan": ("letter.generate", {"template": "surat_kekurangan",
                                                     "milestone": "Evaluasi oleh tim teknis"}),
        "svc_konsep_sertifikat": ("certificate.draft", {"milestone": "Penerbitan sertifikat"}),
        "svc_terbitkan_sertifikat": ("certificate.issue", {"milestone": "Penerbitan sertifikat"}),
        "svc_berita_acara_serah_terima": ("letter.generate",
                                          {"template": "berita_acara_serah_terima",
                                           "milestone": "Penyerahan sertifikat"}),
        "svc_catat_serah_terima": ("certificate.handover", {"milestone": "Penyerahan sertifikat"}),
        "svc_mulai_surveilan": ("process.start", {
            "processKey": "surveilan_sertifikat", "businessKey": "nomor_sertifikat",
            "variables": "nomor_sertifikat,nomor_permohonan,produk,sni,tipe_skema,"
                         "merek_kemasan,berlaku_sampai"}),
    },
}



# -- deployment, diagram, forms ---------------------------------------------------------------

def test_the_files_deploy_with_the_forms_and_the_service_target(
        driver: Driver, engine: Engine) -> None:
    result = driver.deploy()
    assert {KEY, "keputusan_sertifikasi", "surveilan_sertifikat"} <= {
        p.key for p in result.processes}
    assert set(ALL_STEPS) <= {f.form_id for f in result.forms}
    again = driver.deploy()
    assert not again.changed  # identical content: no new versions
    with engine.read() as s:
        definitions = {d.key: d for d in s.session.scalars(sa.select(ProcessDefinition))}
        produk, keputusan = definitions[KEY], definitions["keputusan_sertifikasi"]
        spec = produk.spec  # loaded when first read, while the session is open
    assert (produk.name, produk.version) == ("Pelaksanaan Sertifikasi Produk (SOP 2.2.1-3)", 1)
    assert keputusan.name == "Keputusan Sertifikasi dan Penerbitan SPPT SNI"
    assert spec["properties"] == {"serviceTimeTarget": "P41D"}
    # The called process travels with its caller's definition.
    assert "keputusan_sertifikasi" in spec["subprocess_specs"]


@pytest.mark.parametrize("bpmn", [BPMN, KEPUTUSAN], ids=lambda p: p.name)
def test_every_task_sits_in_its_lane_with_its_sla_form_or_topic_and_a_full_diagram(
        bpmn: Path) -> None:
    root = etree.parse(str(bpmn)).getroot()
    process = root.find(f"{{{NS['bpmn']}}}process")
    assert process is not None and process.get("isExecutable") == "true"
    assert process.get("id") == bpmn.stem
    lanes = {ref.text: lane.get("name") for lane in process.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    user_tasks = process.findall("bpmn:userTask", NS)
    ids = {t.get("id") for t in user_tasks}
    assert ids == set(SOP_STEPS if bpmn == BPMN else DECISION_STEPS)
    assert set(lanes.values()) == {ALL_STEPS[e][0] for e in ids}
    for task in user_tasks:
        element = task.get("id")
        assert lanes[element] == ALL_STEPS[element][0], element
        assert task.get(f"{{{NS['camunda']}}}dueDate") == ALL_STEPS[element][1], element
        assert task.get(f"{{{NS['camunda']}}}formRef") == element
        form = json.loads((FORMS / f"{element}.form").read_text(encoding="utf-8"))
        assert form["id"] == element and form["executionPlatform"] == "Camunda Platform"
        properties = {p.get("name"): p.get("value")
                      for p in task.iterfind(".//camunda:property", NS)}
        assert properties["calendar"] == "working-days", element
    services = {t.get("id"): (t.get(f"{{{NS['camunda']}}}topic"),
                              {p.get("name"): p.get("value")
                               for p in t.iterfind(".//camunda:property", NS)})
                for t in process.findall("bpmn:serviceTask", NS)}
    assert services == SERVICES[bpmn.name]
    calls = {c.get("id"): c.get("calledElement") for c in process.findall("bpmn:callActivity", NS)}
    assert calls == ({"ca_keputusan_sertifikasi": "keputusan_sertifikasi"} if bpmn == BPMN
                     else {})
    nodes = {el.get("id") for el in process if el.get("id") and not el.tag.endswith(
        ("sequenceFlow", "laneSet", "extensionElements", "documentation"))}
    assert nodes <= set(lanes)  # every flow node, boundary events included, has a lane
    flows = {f.get("id") for f in process.iterfind("bpmn:sequenceFlow", NS)}
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    lane_ids = {lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)}
    participant = root.find(".//bpmn:participant", NS)
    assert participant is not None and participant.get("processRef") == bpmn.stem
    assert nodes | lane_ids | {participant.get("id")} <= shapes
    assert set(edges) == flows
    assert all(len(e.findall("di:waypoint", NS)) >= 2 for e in edges.values())


def _condition_reads(text: str) -> tuple[str, Any]:
    """(variable, value taking the flow) of ``${var}`` or ``${var == 'x'}``."""
    match = re.fullmatch(r"\$\{\s*(\w+)\s*(?:==\s*'(\w+)')?\s*\}", text.strip())
    assert match, f"unexpected condition {text!r}"
    return match.group(1), match.group(2) if match.group(2) else True


def _user_task_before(process: Any, flows: list[Any], element: str) -> str:
    """The user task that leads to ``element``, across service tasks in between."""
    while True:
        (source,) = [f.get("sourceRef") for f in flows if f.get("targetRef") == element]
        node = process.find(f"*[@id='{source}']")
        if node.tag == f"{{{NS['bpmn']}}}userTask":
            return str(source)
        assert node.tag == f"{{{NS['bpmn']}}}serviceTask", source
        element = str(source)


@pytest.mark.parametrize("bpmn", [BPMN, KEPUTUSAN], ids=lambda p: p.name)
def test_each_gateway_reads_a_required_choice_of_the_form_just_before_it(bpmn: Path) -> None:
    """A decision cannot be left unset: the form before the gateway requires it."""
    process = etree.parse(str(bpmn)).getroot().find(f"{{{NS['bpmn']}}}process")
    assert process is not None
    flows = list(process.iterfind("bpmn:sequenceFlow", NS))
    checked = 0
    for gateway in process.iterfind("bpmn:exclusiveGateway", NS):
        conditional = [f for f in flows if f.get("sourceRef") == gateway.get("id")
                       and f.find("bpmn:conditionExpression", NS) is not None]
        if not conditional:
            continue  # a merge
        assert gateway.get("default"), gateway.get("id")  # the "no" side is the default
        before = _user_task_before(process, flows, str(gateway.get("id")))
        form = json.loads((FORMS / f"{before}.form").read_text(encoding="utf-8"))
        fields = {c.get("key"): c for c in form["components"] if c.get("key")}
        for flow in conditional:
            expression = flow.find("bpmn:conditionExpression", NS)
            assert expression is not None and expression.text is not None
            variable, value = _condition_reads(expression.text)
            field = fields[variable]
            assert field["type"] in ("radio", "select") and field["validate"]["required"]
            assert value in [v["value"] for v in field["values"]], (before, variable)
            checked += 1
    assert checked == (5 if bpmn == BPMN else 3)


def test_the_forms_refuse_a_missing_decision_and_a_text_for_a_yes_no_choice(
        driver: Driver, instance_id: str) -> None:
    driver.walk(instance_id, TO_STAGE_1[:3])
    task = driver.task_of(instance_id, "s04_validasi_usulan_tim")
    with pytest.raises(InvalidInput) as missing:
        driver.submit(task, {"catatan_validasi_tim": "?"}, USERS["koordinator-pk"])
    assert missing.value.errors == {"tim_valid": "is required"}
    with pytest.raises(InvalidInput) as text:
        driver.submit(task, {"tim_valid": "true"}, USERS["koordinator-pk"])
    assert text.value.errors == {"tim_valid": "is not one of the options"}
    with pytest.raises(InvalidInput) as readonly:  # what step 3 proposed is shown, not changed
        driver.submit(task, {"tim_valid": True, "lead_auditor": "someone.else"},
                      USERS["koordinator-pk"])
    assert readonly.value.errors == {"lead_auditor": "is read-only"}
    assert driver.ready_ids(instance_id) == ["s04_validasi_usulan_tim"]  # nothing stored
    stored = driver.submit(task, {"tim_valid": True, "ignored_extra": 1},
                           USERS["koordinator-pk"])
    assert stored == {"tim_valid": True}
    assert "ignored_extra" not in driver.variables(instance_id)


# -- 1. the happy path ----------------------------------------------------------------------

# The audit steps go to the people picked at step 3 (ENTRIES): the lead auditor is
# the assignee, the other auditors (none here) candidates; sampling to the PPC.
NAMED: dict[str, tuple[str, list[str]]] = {
    "s06_audit_tahap_1": ("dedi.auditor", []), "s08_audit_tahap_2": ("dedi.auditor", []),
    "s09_susun_laporan_audit": ("dedi.auditor", []),
    "s11_evaluasi_tindak_lanjut": ("dedi.auditor", []),
    "s08_pengambilan_contoh": ("fajar.ppc", ["fajar.ppc"]),
}


def test_happy_path_runs_the_17_steps_in_order_with_roles_and_working_day_dues(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    cal = engine.calendar
    # (element completed, its decision, what is ready afterwards)
    path: list[tuple[str, Mapping[str, Any], list[str]]] = [
        ("s01_teruskan_dokumen_kerjasama", {}, ["s02_tugaskan_subkoordinator"]),
        ("s02_tugaskan_subkoordinator", {}, ["s03_siapkan_usulan_tim"]),
        ("s03_siapkan_usulan_tim", {}, ["s04_validasi_usulan_tim"]),
        ("s04_validasi_usulan_tim", TIM_VALID, ["s05_serahkan_kecukupan_dokumen"]),
        ("s05_serahkan_kecukupan_dokumen", {}, ["s06_audit_tahap_1"]),
        ("s06_audit_tahap_1", ADA_TEMUAN, ["s07_tindak_lanjut_audit_tahap_1"]),
        ("s07_tindak_lanjut_audit_tahap_1", {},
         ["s08_audit_tahap_2", "s08_pengambilan_contoh"]),
        ("s08_pengambilan_contoh", {}, ["s08_audit_tahap_2"]),
        ("s08_audit_tahap_2", {}, ["s09_susun_laporan_audit"]),
        ("s09_susun_laporan_audit", ADA_NCR, ["s10_selesaikan_temuan"]),
        ("s10_selesaikan_temuan", {}, ["s11_evaluasi_tindak_lanjut"]),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF, []),  # the lab report is still out
        ("s12_siapkan_rapat_tim_teknis", {}, ["s13_bahas_dan_rekomendasi"]),
        ("s13_bahas_dan_rekomendasi", TERPENUHI, ["m14_siapkan_perjanjian_tanda_sni"]),
        ("m14_siapkan_perjanjian_tanda_sni", {}, ["m14_tandatangani_perjanjian_tanda_sni"]),
        ("m14_tandatangani_perjanjian_tanda_sni", {}, ["s14_terbitkan_sertifikat"]),
        ("s14_terbitkan_sertifikat", {}, ["s15_verifikasi_sertifikat"]),
        ("s15_verifikasi_sertifikat", SESUAI, ["a16_paraf_konsep_sertifikat"]),
        ("a16_paraf_konsep_sertifikat", DISETUJUI, ["s16_sahkan_sertifikat"]),
        ("s16_sahkan_sertifikat", {}, ["s17_serahkan_sertifikat"]),
        ("s17_serahkan_sertifikat", {}, []),
    ]
    first = driver.task_of(instance_id, "s01_teruskan_dokumen_kerjasama")
    # Monday 1 March 2027, 09:00 WIB + 1 office hour.
    assert first.due_at == datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    assert (first.lane, first.title) == ("upp", "Meneruskan dokumen kerjasama")
    assert first.form_key == "s01_teruskan_dokumen_kerjasama"
    seen = set()
    for element, decision, after in path:
        if element == "s12_siapkan_rapat_tim_teknis":
            assert driver.waits_for(instance_id, MESSAGE)
            clock.advance(timedelta(days=3))
            driver.lab_report(BUSINESS_KEY, HASIL_UJI)
            assert driver.ready_ids(instance_id) == ["s12_siapkan_rapat_tim_teknis"]
        task = driver.task_of(instance_id, element)
        role, due = ALL_STEPS[element]
        if element in NAMED:  # the team picked at s03 acts, not the whole role
            assert (task.lane, task.candidate_groups) == (role, [])
            assert (task.assignee, task.candidate_users) == NAMED[element], element
        else:
            assert (task.lane, task.candidate_groups) == (role, [role])
        assert task.definition_key == KEY  # the called process's tasks are this instance's
        assert element_properties(engine, task)["calendar"] == "working-days"
        assert task.due_at == cal.add(task.created_at, due), element
        clock.advance(timedelta(hours=2))
        driver.complete(instance_id, element, decision)
        seen.add(element)
        assert driver.ready_ids(instance_id) == after, element
    assert len({e for e in seen if e.startswith("s")}) == 18  # 17 steps, step 8 as two tasks
    assert driver.status(instance_id) == "completed"
    assert not driver.timers(instance_id) and not driver.waits_for(instance_id, MESSAGE)
    final = driver.variables(instance_id)
    assert final["nomor_laporan_uji"] == "LHU-2027-0042"
    assert final["status_sertifikat"] == "aktif"
    assert "permohonan_dihentikan" not in final
    (surveillance,) = driver.instances_of("surveilan_sertifikat")
    assert surveillance.business_key == final["nomor_sertifikat"]
    assert driver.history(instance_id, "element_completed")[-2:] == [
        "ca_keputusan_sertifikasi", "end_sertifikat_diserahkan"]
    with engine.read() as s:
        clock_ = s.service_clocks.of(s.runtime.instance(instance_id))
    assert clock_.target_days == 41.0 and clock_.running_now is False


def test_without_findings_steps_7_and_10_are_skipped(driver: Driver, instance_id: str) -> None:
    driver.walk(instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN)])
    assert driver.ready_ids(instance_id) == ["s08_audit_tahap_2", "s08_pengambilan_contoh"]
    with pytest.raises(NotFound):  # the lab report is awaited only once samples are taken
        driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    driver.walk(instance_id, [
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", TANPA_NCR)])
    assert driver.ready_ids(instance_id) == ["s11_evaluasi_tindak_lanjut"]
    driver.complete(instance_id, "s11_evaluasi_tindak_lanjut", EFEKTIF)
    assert driver.ready_ids(instance_id) == []
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    assert driver.ready_ids(instance_id) == ["s12_siapkan_rapat_tim_teknis"]
    done = driver.completed_tasks(instance_id)
    assert "s07_tindak_lanjut_audit_tahap_1" not in done
    assert "s10_selesaikan_temuan" not in done


# -- 2. the loops -----------------------------------------------------------------------------

def test_every_loop_once(driver: Driver, instance_id: str) -> None:
    driver.walk(instance_id, [
        ("s01_teruskan_dokumen_kerjasama", {}),
        ("s02_tugaskan_subkoordinator", {}),
        ("s03_siapkan_usulan_tim", {}),
        ("s04_validasi_usulan_tim", {"tim_valid": False,
                                     "catatan_validasi_tim": "PPC belum kompeten untuk AMDK."}),
    ])
    assert driver.ready_ids(instance_id) == ["s03_siapkan_usulan_tim"]  # team revised
    driver.walk(instance_id, [
        ("s03_siapkan_usulan_tim", {"petugas_ppc": "lina.ppc"}),
        ("s04_validasi_usulan_tim", TIM_VALID),
        ("s05_serahkan_kecukupan_dokumen", {}),
        ("s06_audit_tahap_1", ADA_TEMUAN),
    ])
    assert driver.ready_ids(instance_id) == ["s07_tindak_lanjut_audit_tahap_1"]
    driver.walk(instance_id, [
        ("s07_tindak_lanjut_audit_tahap_1", {}),
        ("s08_pengambilan_contoh", {}),
        ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", ADA_NCR),
        ("s10_selesaikan_temuan", {}),
        ("s11_evaluasi_tindak_lanjut", BELUM_EFEKTIF),
    ])
    assert driver.ready_ids(instance_id) == ["s10_selesaikan_temuan"]  # corrections again
    driver.walk(instance_id, [
        ("s10_selesaikan_temuan", {}),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF),
    ])
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    driver.walk(instance_id, [
        ("s12_siapkan_rapat_tim_teknis", {}),
        ("s13_bahas_dan_rekomendasi", BELUM_TERPENUHI),
    ])
    assert driver.ready_ids(instance_id) == ["k13_kirim_surat_kekurangan"]
    driver.complete(instance_id, "k13_kirim_surat_kekurangan")
    assert driver.ready_ids(instance_id) == ["k13_klarifikasi_pelanggan"]
    driver.complete(instance_id, "k13_klarifikasi_pelanggan")
    assert driver.ready_ids(instance_id) == ["s13_bahas_dan_rekomendasi"]  # re-review
    driver.walk(instance_id, GRANT[1:])
    assert driver.status(instance_id) == "completed"
    assert driver.completed_tasks(instance_id) == [
        "s01_teruskan_dokumen_kerjasama", "s02_tugaskan_subkoordinator",
        "s03_siapkan_usulan_tim", "s04_validasi_usulan_tim",
        "s03_siapkan_usulan_tim", "s04_validasi_usulan_tim",
        "s05_serahkan_kecukupan_dokumen", "s06_audit_tahap_1",
        "s07_tindak_lanjut_audit_tahap_1", "s08_pengambilan_contoh", "s08_audit_tahap_2",
        "s09_susun_laporan_audit", "s10_selesaikan_temuan", "s11_evaluasi_tindak_lanjut",
        "s10_selesaikan_temuan", "s11_evaluasi_tindak_lanjut",
        "s12_siapkan_rapat_tim_teknis", "s13_bahas_dan_rekomendasi",
        "k13_kirim_surat_kekurangan", "k13_klarifikasi_pelanggan",
        "s13_bahas_dan_rekomendasi", "m14_siapkan_perjanjian_tanda_sni",
        "m14_tandatangani_perjanjian_tanda_sni", "s14_terbitkan_sertifikat",
        "s15_verifikasi_sertifikat", "a16_paraf_konsep_sertifikat", "s16_sahkan_sertifikat",
        "s17_serahkan_sertifikat",
    ]
    final = driver.variables(instance_id)
    assert final["petugas_ppc"] == "lina.ppc"  # the revised team stands
    assert final["rekomendasi"] == "terpenuhi"


# -- 3. separation of duties --------------------------------------------------------------------

def test_the_team_proposer_cannot_validate_the_team(
        driver: Driver, engine: Engine, instance_id: str) -> None:
    driver.walk(instance_id, TO_STAGE_1[:3])
    task = driver.task_of(instance_id, "s04_validasi_usulan_tim")
    assert task.properties["excludeCompletersOf"] == "s03_siapkan_usulan_tim"
    with engine.write() as s, pytest.raises(Forbidden, match="separation of duties"):
        s.runtime.complete_task(task.id, TIM_VALID, actor=USERS["subkoordinator-sertifikasi"])
    with engine.write() as s, pytest.raises(Forbidden):
        s.runtime.claim_task(task.id, USERS["subkoordinator-sertifikasi"])
    driver.complete(instance_id, "s04_validasi_usulan_tim", TIM_VALID)
    assert driver.ready_ids(instance_id) == ["s05_serahkan_kecukupan_dokumen"]


def test_an_auditor_of_the_instance_cannot_give_the_recommendation(
        driver: Driver, instance_id: str) -> None:
    # Someone with both roles, picked as the lead auditor, audits stage 2 and then
    # tries to review in the called process.
    both = "rina.auditor-dan-tim-teknis"
    driver.add_team({both: ("auditor", "Rina Wulandari")})
    proposal = [(element, {"lead_auditor": both} if element == "s03_siapkan_usulan_tim"
                 else values) for element, values in TO_STAGE_1]
    driver.walk(instance_id, [*proposal, ("s06_audit_tahap_1", TANPA_TEMUAN),
                              ("s08_pengambilan_contoh", {})])
    driver.complete(instance_id, "s08_audit_tahap_2", actor=both)
    driver.walk(instance_id, [
        ("s09_susun_laporan_audit", TANPA_NCR), ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    driver.complete(instance_id, "s12_siapkan_rapat_tim_teknis")
    task = driver.task_of(instance_id, "s13_bahas_dan_rekomendasi")
    assert task.properties["excludeCompletersOf"] == EVALUATORS
    with pytest.raises(Forbidden, match="s08_audit_tahap_2"):
        driver.complete(instance_id, "s13_bahas_dan_rekomendasi", TERPENUHI,
                        actor="rina.auditor-dan-tim-teknis")
    driver.complete(instance_id, "s13_bahas_dan_rekomendasi", TERPENUHI)
    assert driver.ready_ids(instance_id) == ["m14_siapkan_perjanjian_tanda_sni"]


# -- 4. the 60-day deadline of step 10 ---------------------------------------------------------

def _to_step_10(driver: Driver, instance_id: str) -> Task:
    driver.walk(instance_id, [
        *TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN),
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", ADA_NCR)])
    return driver.task_of(instance_id, "s10_selesaikan_temuan")


def test_step_10_past_60_working_days_terminates_the_application(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    step_10 = _to_step_10(driver, instance_id)
    (timer,) = driver.timers(instance_id)
    assert timer.element_id == "t10_batas_60_hari"
    due = engine.calendar.add(step_10.created_at, "P60D")
    assert timer.due_at == due == step_10.due_at
    assert due > step_10.created_at + timedelta(days=60 + 7 * 2)  # weekends and holidays
    clock.set(due - timedelta(minutes=1))
    assert driver.sweep() == 0
    assert driver.ready_ids(instance_id) == ["s10_selesaikan_temuan"]
    clock.set(due + timedelta(seconds=1))
    assert driver.sweep() == 1
    assert driver.ready_ids(instance_id) == ["x_kirim_surat_penghentian"]
    with engine.read() as s:
        cancelled = s.session.get(Task, step_10.id)
        assert cancelled is not None and cancelled.state == "cancelled"
    assert driver.waits_for(instance_id, MESSAGE)  # the parallel lab branch still waits
    letter = driver.variables(instance_id)
    document, text = driver.document_text(letter["dokumen_surat_penghentian"])
    assert document.instance_id == instance_id and document.content_type == "application/pdf"
    assert "60 hari kerja" in text and BUSINESS_KEY in text
    assert letter["nomor_surat_surat_penghentian"] in text
    driver.complete(instance_id, "x_kirim_surat_penghentian")
    # The terminate end event ends the whole instance, lab branch included.
    assert driver.status(instance_id) == "completed"
    assert driver.ready_ids(instance_id) == []
    assert not driver.waits_for(instance_id, MESSAGE) and not driver.timers(instance_id)
    ended = driver.history(instance_id, "element_completed")
    assert ended[-5:] == ["t10_batas_60_hari", "scr_alasan_batas_60_hari", "gw_penghentian",
                          "svc_surat_penghentian", "end_permohonan_dihentikan"]
    assert "end_sertifikat_diserahkan" not in ended


def test_a_second_round_of_step_10_gets_a_new_60_day_window(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    _to_step_10(driver, instance_id)
    clock.advance(timedelta(days=30))
    driver.complete(instance_id, "s10_selesaikan_temuan")
    driver.complete(instance_id, "s11_evaluasi_tindak_lanjut", BELUM_EFEKTIF)
    again = driver.task_of(instance_id, "s10_selesaikan_temuan")
    (timer,) = driver.timers(instance_id)
    assert timer.due_at == engine.calendar.add(again.created_at, "P60D")


# -- 5. the 14-day deadline of step 6 -----------------------------------------------------------

def test_stage_1_past_14_working_days_escalates_to_the_subkoordinator(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    driver.walk(instance_id, TO_STAGE_1)
    stage_1 = driver.task_of(instance_id, "s06_audit_tahap_1")
    (timer,) = driver.timers(instance_id)
    assert timer.element_id == "t06_batas_14_hari"
    assert timer.due_at == engine.calendar.add(stage_1.created_at, "P14D") == stage_1.due_at
    clock.set(timer.due_at + timedelta(seconds=1))
    assert driver.sweep() == 1
    assert driver.ready_ids(instance_id) == ["e06_putuskan_kelanjutan_audit"]
    with engine.read() as s:
        cancelled = s.session.get(Task, stage_1.id)
        assert cancelled is not None and cancelled.state == "cancelled"
    # Continue: stage 1 is open again with a fresh 14-day window.
    driver.complete(instance_id, "e06_putuskan_kelanjutan_audit", {"lanjutkan_audit": True})
    second = driver.task_of(instance_id, "s06_audit_tahap_1")
    (timer,) = driver.timers(instance_id)
    assert timer.due_at == engine.calendar.add(second.created_at, "P14D") > clock.now()
    # Overrun again; this time stop.
    clock.set(timer.due_at + timedelta(seconds=1))
    assert driver.sweep() == 1
    driver.complete(instance_id, "e06_putuskan_kelanjutan_audit", {
        "lanjutkan_audit": False, "catatan_kelanjutan_audit": "Pelanggan tidak siap diaudit."})
    assert driver.ready_ids(instance_id) == ["x_kirim_surat_penghentian"]
    _, text = driver.document_text(driver.variables(instance_id)["dokumen_surat_penghentian"])
    assert "Pelanggan tidak siap diaudit." in text
    assert driver.variables(instance_id)["permohonan_dihentikan"] is True
    driver.complete(instance_id, "x_kirim_surat_penghentian")
    assert driver.status(instance_id) == "completed"
    assert "scr_alasan_audit_dihentikan" in driver.history(instance_id, "element_completed")


def test_stage_1_done_in_time_leaves_no_timer(driver: Driver, instance_id: str) -> None:
    driver.walk(instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN)],
                hours=3)
    assert driver.timers(instance_id) == []
    assert driver.sweep() == 0


# -- 6. the service clock -------------------------------------------------------------------------

def test_service_clock_skips_customer_steps_and_the_lab_wait(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    # Monday 1 March 2027, 09:00 WIB: step 1 to 5 in one office hour each.
    driver.walk(instance_id, TO_STAGE_1)
    assert driver.service_clock(instance_id).used_days == pytest.approx(5 / 8)
    clock.advance(timedelta(hours=1))
    driver.complete(instance_id, "s06_audit_tahap_1", ADA_TEMUAN)  # Monday 15:00
    assert driver.service_clock(instance_id).used_days == pytest.approx(6 / 8)

    # Step 7 is the customer's: a working week and more does not count.
    clock.set(datetime(2027, 3, 9, 2, 0, tzinfo=UTC))  # Tuesday 9 March, 09:00 WIB
    assert driver.service_clock(instance_id).used_days == pytest.approx(6 / 8)
    driver.complete(instance_id, "s07_tindak_lanjut_audit_tahap_1")
    driver.walk(instance_id, [
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", ADA_NCR)])  # 09:00 to 12:00 with the LSPro
    assert driver.service_clock(instance_id).used_days == pytest.approx(9 / 8)

    # Step 10 is the customer's, and the lab branch has no task: nothing counts.
    clock.set(datetime(2027, 4, 6, 2, 0, tzinfo=UTC))  # Tuesday 6 April, 09:00 WIB
    assert driver.service_clock(instance_id).used_days == pytest.approx(9 / 8)
    driver.complete(instance_id, "s10_selesaikan_temuan")
    clock.advance(timedelta(hours=1))
    driver.complete(instance_id, "s11_evaluasi_tindak_lanjut", EFEKTIF)
    after_evaluation = driver.service_clock(instance_id).used_days
    assert after_evaluation == pytest.approx(10 / 8)

    # Only the laboratory is busy now: three weeks of testing are not counted.
    assert driver.ready_ids(instance_id) == [] and driver.waits_for(instance_id, MESSAGE)
    clock.advance(timedelta(days=21))
    with engine.read() as s:
        waiting = s.service_clocks.of(s.runtime.instance(instance_id))
    assert waiting.used_days == after_evaluation and waiting.running_now is False
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    step_12 = driver.task_of(instance_id, "s12_siapkan_rapat_tim_teknis")
    # From the report's arrival the LSPro's clock runs again, in the called process too.
    start_ = step_12.created_at
    clock.advance(timedelta(days=1))
    counted = engine.calendar.working_days_between(start_, clock.now())
    with engine.read() as s:
        running = s.service_clocks.of(s.runtime.instance(instance_id))
    assert running.running_now is True
    assert running.used_days == pytest.approx(after_evaluation + counted, abs=1e-3)
    assert running.remaining_days == pytest.approx(41 - running.used_days, abs=1e-3)


# -- the team picked at step 3 and the tasks it is given ---------------------------------------

def test_the_team_is_picked_from_the_users_of_each_role(driver: Driver, instance_id: str) -> None:
    driver.walk(instance_id, TO_STAGE_1[:2])
    task = driver.task_of(instance_id, "s03_siapkan_usulan_tim")
    with driver.engine.read() as s:
        data = form_input_data(s.session, form_for_task(s.session, task),
                               s.runtime.task_data(s.runtime.instance(instance_id), task.id))
    # The page gets each list under the form's valuesKey: full names shown, user names kept.
    assert data["users:auditor"] == [{"label": "Dedi Kurniawan", "value": "dedi.auditor"},
                                     {"label": "Eko Prasetyo", "value": "eko.auditor"}]
    assert [o["value"] for o in data["users:ppc"]] == ["fajar.ppc", "lina.ppc"]
    assert [o["value"] for o in data["users:tim-teknis"]] == ["gita.tim-teknis",
                                                              "joko.tim-teknis"]
    # Someone without the role, or no one at all, is refused by name of the field.
    with pytest.raises(InvalidInput) as refused:
        driver.complete(instance_id, "s03_siapkan_usulan_tim", {
            "lead_auditor": "fajar.ppc", "anggota_auditor": ["eko.auditor", "siapa.saja"]})
    assert refused.value.errors == {
        "lead_auditor": "is not one of the options",
        "anggota_auditor": "contains a value that is not one of the options"}
    with driver.engine.write() as s:  # a deactivated auditor is no longer offered
        s.identity.set_active("eko.auditor", False)
    with pytest.raises(InvalidInput):
        driver.complete(instance_id, "s03_siapkan_usulan_tim",
                        {"anggota_auditor": ["eko.auditor"]})


def test_the_audit_goes_to_the_lead_auditor_picked_not_to_every_auditor(
        driver: Driver, instance_id: str) -> None:
    proposal = [(element, {"lead_auditor": "eko.auditor", "anggota_auditor": ["dedi.auditor"]}
                 if element == "s03_siapkan_usulan_tim" else values)
                for element, values in TO_STAGE_1]
    driver.walk(instance_id, proposal)
    audit = driver.task_of(instance_id, "s06_audit_tahap_1")
    assert (audit.assignee, audit.candidate_users, audit.candidate_groups) == (
        "eko.auditor", ["dedi.auditor"], [])
    driver.add_team({"oki.auditor": ("auditor", "Oki Saputra")})
    lead = Actor.of("eko.auditor", ["auditor"])
    member = Actor.of("dedi.auditor", ["auditor"])
    outsider = Actor.of("oki.auditor", ["auditor"])
    with driver.engine.read() as s:
        def visible(actor: Actor) -> list[str]:
            return [t.element_id for t in s.queries.tasks(actor, instance_id=instance_id).items]
        assert visible(lead) == ["s06_audit_tahap_1"]
        assert visible(member) == ["s06_audit_tahap_1"]  # the team sees it; the lead acts
        assert visible(outsider) == []  # an auditor outside the team does not
        with pytest.raises(NotFound):
            s.queries.task(outsider, audit.id)
    with pytest.raises(NotFound):  # for them the task does not exist
        driver.complete(instance_id, "s06_audit_tahap_1", TANPA_TEMUAN, actor=outsider)
    driver.complete(instance_id, "s06_audit_tahap_1", TANPA_TEMUAN, actor=lead)
    sampling = driver.task_of(instance_id, "s08_pengambilan_contoh")
    assert (sampling.assignee, sampling.candidate_groups) == ("fajar.ppc", [])
