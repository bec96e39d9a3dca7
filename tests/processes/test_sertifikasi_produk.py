"""processes/sertifikasi_produk.bpmn (SOP AP 2.2.1-3) driven through the engine.

The real file from processes/ is deployed unchanged; each test walks whole paths:
the 17 steps, the loops at steps 4, 6, 11 and 13, separation of duties, the two
"maks" deadlines (steps 6 and 10) and the service clock. Every element carries
its own ``calendar=working-days`` property, so due times are working time even
though tests/conftest.py sets the default calendar to calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import selectinload

from engine.clock import FrozenClock
from engine.engine import Engine
from engine.errors import Forbidden, NotFound
from engine.models import EventSubscription, HistoryEvent, ProcessDefinition, Task, Timer
from engine.timers import TimerSweep

BPMN = Path(__file__).resolve().parents[2] / "processes" / "sertifikasi_produk.bpmn"
KEY = "sertifikasi_produk"
MESSAGE = "hasil_uji_diterima"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}

# Element -> (role of its lane, camunda:dueDate).
STEPS: dict[str, tuple[str, str]] = {
    "s01_teruskan_dokumen_kerjasama": ("upp", "PT1H"),
    "s02_tugaskan_subkoordinator": ("koordinator-pk", "PT30M"),
    "s03_siapkan_usulan_tim": ("subkoordinator-sertifikasi", "P1D"),
    "s04_validasi_usulan_tim": ("koordinator-pk", "P1D"),
    "s05_serahkan_kecukupan_dokumen": ("subkoordinator-sertifikasi", "PT1H"),
    "s06_audit_tahap_1": ("auditor", "P14D"),
    "s07_tindak_lanjut_audit_tahap_1": ("pelanggan", "P14D"),
    "s08_audit_tahap_2": ("auditor", "P2D"),
    "s08_pengambilan_contoh": ("ppc", "P2D"),
    "s09_susun_laporan_audit": ("auditor", "PT3H"),
    "s10_selesaikan_temuan": ("pelanggan", "P60D"),
    "s11_evaluasi_tindak_lanjut": ("auditor", "P1D"),
    "s12_siapkan_rapat_tim_teknis": ("subkoordinator-sertifikasi", "P1D"),
    "s13_bahas_dan_rekomendasi": ("tim-teknis", "P1D"),
    "s14_terbitkan_sertifikat": ("subkoordinator-sertifikasi", "P1D"),
    "s15_verifikasi_sertifikat": ("koordinator-pk", "PT1H"),
    "s16_sahkan_sertifikat": ("kepala-balai", "PT1H"),
    "s17_serahkan_sertifikat": ("upp", "PT1H"),
    "e06_putuskan_kelanjutan_audit": ("subkoordinator-sertifikasi", "P1D"),
    "k13_kirim_surat_kekurangan": ("tim-teknis", "P1D"),
    "k13_klarifikasi_pelanggan": ("pelanggan", "P14D"),
    "x_kirim_surat_penghentian": ("upp", "P1D"),
}

# One user per role; the engine leaves role checks to the API, but SoD is by user.
ACTOR = {
    "upp": "ani.upp",
    "koordinator-pk": "budi.koordinator",
    "subkoordinator-sertifikasi": "citra.subkoordinator",
    "auditor": "dedi.auditor",
    "pelanggan": "eka.pt-contoh",
    "ppc": "fajar.ppc",
    "tim-teknis": "gita.tim-teknis",
    "kepala-balai": "hadi.kepala-balai",
}

# What the gateways read, as a form would set it.
TIM_VALID = {"tim_valid": True}
TANPA_TEMUAN = {"temuan_tahap1": False}
ADA_TEMUAN = {"temuan_tahap1": True}
ADA_NCR = {"ada_ketidaksesuaian": True}
EFEKTIF = {"tindakan_efektif": True}
TERPENUHI = {"rekomendasi": "terpenuhi"}
HASIL_UJI = {"nomor_laporan_uji": "LHU-2027-0042", "hasil_uji_memenuhi": True}

# Up to the stage-1 audit, the same on every path.
TO_STAGE_1: list[tuple[str, Mapping[str, Any]]] = [
    ("s01_teruskan_dokumen_kerjasama", {}),
    ("s02_tugaskan_subkoordinator", {}),
    ("s03_siapkan_usulan_tim", {}),
    ("s04_validasi_usulan_tim", TIM_VALID),
    ("s05_serahkan_kecukupan_dokumen", {}),
]


# -- helpers -------------------------------------------------------------------------------

@pytest.fixture
def instance_id(engine: Engine) -> str:
    with engine.write() as s:
        result = s.deployments.deploy([(BPMN.name, BPMN.read_bytes())], actor="analyst")
        assert [(p.key, p.version) for p in result.processes] == [(KEY, 1)]
        return s.runtime.start_instance(KEY, business_key="SPPT-2027-001", actor="ani.upp").id


def ready(engine: Engine, instance_id: str) -> list[Task]:
    with engine.read() as s:
        return list(s.session.scalars(
            sa.select(Task).options(selectinload(Task.candidates))
            .where(Task.instance_id == instance_id, Task.state == "ready")
            .order_by(Task.element_id)))


def ready_ids(engine: Engine, instance_id: str) -> list[str]:
    return [t.element_id for t in ready(engine, instance_id)]


def task_of(engine: Engine, instance_id: str, element: str) -> Task:
    matches = [t for t in ready(engine, instance_id) if t.element_id == element]
    assert len(matches) == 1, f"{element} is not ready: {ready_ids(engine, instance_id)}"
    return matches[0]


def complete(engine: Engine, instance_id: str, element: str,
             variables: Mapping[str, Any] | None = None, actor: str | None = None) -> Task:
    """Complete the ready task of ``element`` as a user of its role (or ``actor``)."""
    task = task_of(engine, instance_id, element)
    role = STEPS[element][0]
    assert task.candidate_groups == [role]
    with engine.write() as s:
        s.runtime.complete_task(task.id, dict(variables or {}), actor=actor or ACTOR[role])
    return task


def walk(engine: Engine, clock: FrozenClock, instance_id: str,
         script: list[tuple[str, Mapping[str, Any]]], *, hours: float = 1) -> None:
    """Complete each step in turn, ``hours`` after the previous one."""
    for element, variables in script:
        clock.advance(timedelta(hours=hours))
        complete(engine, instance_id, element, variables)


def lab_report(engine: Engine, variables: Mapping[str, Any] = HASIL_UJI) -> None:
    with engine.write() as s:
        s.runtime.correlate_message(MESSAGE, business_key="SPPT-2027-001",
                                    variables=dict(variables), actor="laboratorium")


def status(engine: Engine, instance_id: str) -> str:
    with engine.read() as s:
        return s.runtime.instance(instance_id).status


def timers(engine: Engine, instance_id: str) -> list[Timer]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Timer).where(Timer.instance_id == instance_id)))


def waits_for_lab(engine: Engine, instance_id: str) -> bool:
    with engine.read() as s:
        return bool(s.session.scalars(sa.select(EventSubscription).where(
            EventSubscription.instance_id == instance_id,
            EventSubscription.name == MESSAGE)).all())


def used_days(engine: Engine, instance_id: str) -> float:
    with engine.read() as s:
        return float(s.service_clocks.of(s.runtime.instance(instance_id)).used_days)


def completed_elements(engine: Engine, instance_id: str) -> list[str]:
    with engine.read() as s:
        return list(s.session.scalars(
            sa.select(HistoryEvent.element_id)
            .where(HistoryEvent.instance_id == instance_id,
                   HistoryEvent.kind == "task_completed")
            .order_by(HistoryEvent.id)))


# -- deployment ------------------------------------------------------------------------------

def test_the_file_deploys_with_its_lanes_sla_properties_and_service_target(
        engine: Engine) -> None:
    with engine.write() as s:
        first = s.deployments.deploy([(BPMN.name, BPMN.read_bytes())])
        again = s.deployments.deploy([(BPMN.name, BPMN.read_bytes())])
        spec = s.session.scalars(sa.select(ProcessDefinition.spec)).one()
    assert [(p.key, p.name, p.unchanged) for p in first.processes] == [
        (KEY, "Pelaksanaan Sertifikasi Produk (SOP 2.2.1-3)", False)]
    assert again.processes[0].unchanged and again.processes[0].version == 1
    assert spec["properties"] == {"serviceTimeTarget": "P41D"}


def test_every_user_task_sits_in_its_lane_with_an_sla_and_the_diagram_is_complete() -> None:
    root = etree.parse(str(BPMN)).getroot()
    process = root.find(f"{{{NS['bpmn']}}}process")
    assert process is not None and process.get("isExecutable") == "true"
    lanes = {ref.text: lane.get("name") for lane in process.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    assert set(lanes.values()) == {role for role, _ in STEPS.values()}
    user_tasks = process.findall("bpmn:userTask", NS)
    assert {t.get("id") for t in user_tasks} == set(STEPS)
    for task in user_tasks:
        element = task.get("id")
        assert lanes[element] == STEPS[element][0], element
        assert task.get(f"{{{NS['camunda']}}}dueDate") == STEPS[element][1], element
        properties = {p.get("name"): p.get("value")
                      for p in task.iterfind(".//camunda:property", NS)}
        assert properties["calendar"] == "working-days", element
    assert not process.findall("bpmn:serviceTask", NS)
    assert not root.xpath("//@camunda:formRef | //@camunda:formKey", namespaces=NS)
    nodes = {el.get("id") for el in process if el.get("id") and not el.tag.endswith(
        ("sequenceFlow", "laneSet", "extensionElements", "documentation"))}
    assert nodes <= set(lanes)  # every flow node, boundary events included, has a lane
    flows = {f.get("id") for f in process.iterfind("bpmn:sequenceFlow", NS)}
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    lane_ids = {lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)}
    assert nodes | lane_ids <= shapes
    assert set(edges) == flows
    assert all(len(e.findall("di:waypoint", NS)) >= 2 for e in edges.values())


# -- 1. the happy path ----------------------------------------------------------------------

def test_happy_path_runs_the_17_steps_in_order_with_roles_and_working_day_dues(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    cal = engine.calendar
    # (element completed, its variables, what is ready afterwards)
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
        ("s13_bahas_dan_rekomendasi", TERPENUHI, ["s14_terbitkan_sertifikat"]),
        ("s14_terbitkan_sertifikat", {}, ["s15_verifikasi_sertifikat"]),
        ("s15_verifikasi_sertifikat", {}, ["s16_sahkan_sertifikat"]),
        ("s16_sahkan_sertifikat", {}, ["s17_serahkan_sertifikat"]),
        ("s17_serahkan_sertifikat", {}, []),
    ]
    first = task_of(engine, instance_id, "s01_teruskan_dokumen_kerjasama")
    # Monday 1 March 2027, 09:00 WIB + 1 office hour.
    assert first.due_at == datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    assert (first.lane, first.title) == ("upp", "Meneruskan dokumen kerjasama")
    seen = set()
    for element, variables, after in path:
        if element == "s12_siapkan_rapat_tim_teknis":
            assert waits_for_lab(engine, instance_id)
            clock.advance(timedelta(days=3))
            lab_report(engine)
            assert ready_ids(engine, instance_id) == ["s12_siapkan_rapat_tim_teknis"]
        task = task_of(engine, instance_id, element)
        role, due = STEPS[element]
        assert (task.lane, task.candidate_groups) == (role, [role])
        assert task.properties["calendar"] == "working-days"
        assert task.due_at == cal.add(task.created_at, due), element
        clock.advance(timedelta(hours=2))
        complete(engine, instance_id, element, variables)
        seen.add(element)
        assert ready_ids(engine, instance_id) == after, element
    assert len({e for e in seen if e.startswith("s")}) == 18  # 17 steps, step 8 as two tasks
    assert status(engine, instance_id) == "completed"
    assert not timers(engine, instance_id) and not waits_for_lab(engine, instance_id)
    with engine.read() as s:
        instance = s.runtime.instance(instance_id)
        assert s.runtime.variables(instance)["nomor_laporan_uji"] == "LHU-2027-0042"
        clock_ = s.service_clocks.of(instance)
    assert clock_.target_days == 41.0 and clock_.running_now is False


def test_without_findings_steps_7_10_are_skipped(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN)])
    assert ready_ids(engine, instance_id) == ["s08_audit_tahap_2", "s08_pengambilan_contoh"]
    with pytest.raises(NotFound):  # the lab report is awaited only once samples are taken
        lab_report(engine)
    walk(engine, clock, instance_id, [
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", {"ada_ketidaksesuaian": False})])
    assert ready_ids(engine, instance_id) == ["s11_evaluasi_tindak_lanjut"]
    complete(engine, instance_id, "s11_evaluasi_tindak_lanjut", EFEKTIF)
    assert ready_ids(engine, instance_id) == []
    lab_report(engine)
    assert ready_ids(engine, instance_id) == ["s12_siapkan_rapat_tim_teknis"]
    done = completed_elements(engine, instance_id)
    assert "s07_tindak_lanjut_audit_tahap_1" not in done
    assert "s10_selesaikan_temuan" not in done



# -- 2. the loops -----------------------------------------------------------------------------

def test_every_loop_once(engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, [
        ("s01_teruskan_dokumen_kerjasama", {}),
        ("s02_tugaskan_subkoordinator", {}),
        ("s03_siapkan_usulan_tim", {}),
        ("s04_validasi_usulan_tim", {"tim_valid": False}),
    ])
    assert ready_ids(engine, instance_id) == ["s03_siapkan_usulan_tim"]  # team revised
    walk(engine, clock, instance_id, [
        ("s03_siapkan_usulan_tim", {}),
        ("s04_validasi_usulan_tim", TIM_VALID),
        ("s05_serahkan_kecukupan_dokumen", {}),
        ("s06_audit_tahap_1", ADA_TEMUAN),
    ])
    assert ready_ids(engine, instance_id) == ["s07_tindak_lanjut_audit_tahap_1"]
    walk(engine, clock, instance_id, [
        ("s07_tindak_lanjut_audit_tahap_1", {}),
        ("s08_pengambilan_contoh", {}),
        ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", ADA_NCR),
        ("s10_selesaikan_temuan", {}),
        ("s11_evaluasi_tindak_lanjut", {"tindakan_efektif": False}),
    ])
    assert ready_ids(engine, instance_id) == ["s10_selesaikan_temuan"]  # corrections again
    walk(engine, clock, instance_id, [
        ("s10_selesaikan_temuan", {}),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF),
    ])
    lab_report(engine)
    walk(engine, clock, instance_id, [
        ("s12_siapkan_rapat_tim_teknis", {}),
        ("s13_bahas_dan_rekomendasi", {"rekomendasi": "belum_terpenuhi"}),
    ])
    assert ready_ids(engine, instance_id) == ["k13_kirim_surat_kekurangan"]
    complete(engine, instance_id, "k13_kirim_surat_kekurangan", {"kekurangan": "label SNI"})
    assert ready_ids(engine, instance_id) == ["k13_klarifikasi_pelanggan"]
    complete(engine, instance_id, "k13_klarifikasi_pelanggan", {"klarifikasi": "label baru"})
    assert ready_ids(engine, instance_id) == ["s13_bahas_dan_rekomendasi"]  # re-review
    walk(engine, clock, instance_id, [
        ("s13_bahas_dan_rekomendasi", TERPENUHI),
        ("s14_terbitkan_sertifikat", {}),
        ("s15_verifikasi_sertifikat", {}),
        ("s16_sahkan_sertifikat", {}),
        ("s17_serahkan_sertifikat", {}),
    ])
    assert status(engine, instance_id) == "completed"
    assert completed_elements(engine, instance_id) == [
        "s01_teruskan_dokumen_kerjasama", "s02_tugaskan_subkoordinator",
        "s03_siapkan_usulan_tim", "s04_validasi_usulan_tim",
        "s03_siapkan_usulan_tim", "s04_validasi_usulan_tim",
        "s05_serahkan_kecukupan_dokumen", "s06_audit_tahap_1",
        "s07_tindak_lanjut_audit_tahap_1", "s08_pengambilan_contoh", "s08_audit_tahap_2",
        "s09_susun_laporan_audit", "s10_selesaikan_temuan", "s11_evaluasi_tindak_lanjut",
        "s10_selesaikan_temuan", "s11_evaluasi_tindak_lanjut",
        "s12_siapkan_rapat_tim_teknis", "s13_bahas_dan_rekomendasi",
        "k13_kirim_surat_kekurangan", "k13_klarifikasi_pelanggan",
        "s13_bahas_dan_rekomendasi", "s14_terbitkan_sertifikat", "s15_verifikasi_sertifikat",
        "s16_sahkan_sertifikat", "s17_serahkan_sertifikat",
    ]


# -- 3. separation of duties --------------------------------------------------------------------

def test_the_team_proposer_cannot_validate_the_team(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, TO_STAGE_1[:3])
    task = task_of(engine, instance_id, "s04_validasi_usulan_tim")
    assert task.properties["excludeCompletersOf"] == "s03_siapkan_usulan_tim"
    with engine.write() as s, pytest.raises(Forbidden, match="separation of duties"):
        s.runtime.complete_task(task.id, TIM_VALID, actor=ACTOR["subkoordinator-sertifikasi"])
    with engine.write() as s, pytest.raises(Forbidden):
        s.runtime.claim_task(task.id, ACTOR["subkoordinator-sertifikasi"])
    complete(engine, instance_id, "s04_validasi_usulan_tim", TIM_VALID)
    assert ready_ids(engine, instance_id) == ["s05_serahkan_kecukupan_dokumen"]


def test_an_auditor_of_the_instance_cannot_give_the_recommendation(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    # Someone with both roles audits stage 2 and then tries to review.
    walk(engine, clock, instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN),
                                      ("s08_pengambilan_contoh", {})])
    complete(engine, instance_id, "s08_audit_tahap_2", actor="rina.auditor-dan-tim-teknis")
    walk(engine, clock, instance_id, [
        ("s09_susun_laporan_audit", {"ada_ketidaksesuaian": False}),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    lab_report(engine)
    complete(engine, instance_id, "s12_siapkan_rapat_tim_teknis")
    task = task_of(engine, instance_id, "s13_bahas_dan_rekomendasi")
    with engine.write() as s, pytest.raises(Forbidden, match="s08_audit_tahap_2"):
        s.runtime.complete_task(task.id, TERPENUHI, actor="rina.auditor-dan-tim-teknis")
    complete(engine, instance_id, "s13_bahas_dan_rekomendasi", TERPENUHI)
    assert ready_ids(engine, instance_id) == ["s14_terbitkan_sertifikat"]


# -- 4. the 60-day deadline of step 10 ---------------------------------------------------------

def _to_step_10(engine: Engine, clock: FrozenClock, instance_id: str) -> Task:
    walk(engine, clock, instance_id, [
        *TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN),
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", ADA_NCR)])
    return task_of(engine, instance_id, "s10_selesaikan_temuan")


def test_step_10_past_60_working_days_terminates_the_application(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    step_10 = _to_step_10(engine, clock, instance_id)
    (timer,) = timers(engine, instance_id)
    assert timer.element_id == "t10_batas_60_hari"
    due = engine.calendar.add(step_10.created_at, "P60D")
    assert timer.due_at == due == step_10.due_at
    assert due > step_10.created_at + timedelta(days=60 + 7 * 2)  # weekends and holidays
    sweep = TimerSweep(engine)
    clock.set(due - timedelta(minutes=1))
    assert sweep.run_once() == 0
    assert ready_ids(engine, instance_id) == ["s10_selesaikan_temuan"]
    clock.set(due + timedelta(seconds=1))
    assert sweep.run_once() == 1
    assert ready_ids(engine, instance_id) == ["x_kirim_surat_penghentian"]
    with engine.read() as s:
        assert s.session.get(Task, step_10.id).state == "cancelled"
    assert waits_for_lab(engine, instance_id)  # the parallel lab branch still waits
    complete(engine, instance_id, "x_kirim_surat_penghentian", {"nomor_surat": "PH-001"})
    # The terminate end event ends the whole instance, lab branch included.
    assert status(engine, instance_id) == "completed"
    assert ready_ids(engine, instance_id) == []
    assert not waits_for_lab(engine, instance_id) and not timers(engine, instance_id)
    with engine.read() as s:
        ended = s.session.scalars(sa.select(HistoryEvent.element_id).where(
            HistoryEvent.instance_id == instance_id,
            HistoryEvent.kind == "element_completed")).all()
    assert "end_permohonan_dihentikan" in ended
    assert "end_sertifikat_diserahkan" not in ended


def test_a_second_round_of_step_10_gets_a_new_60_day_window(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    _to_step_10(engine, clock, instance_id)
    clock.advance(timedelta(days=30))
    complete(engine, instance_id, "s10_selesaikan_temuan")
    complete(engine, instance_id, "s11_evaluasi_tindak_lanjut", {"tindakan_efektif": False})
    again = task_of(engine, instance_id, "s10_selesaikan_temuan")
    (timer,) = timers(engine, instance_id)
    assert timer.due_at == engine.calendar.add(again.created_at, "P60D")


# -- 5. the 14-day deadline of step 6 -----------------------------------------------------------

def test_stage_1_past_14_working_days_escalates_to_the_subkoordinator(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, TO_STAGE_1)
    stage_1 = task_of(engine, instance_id, "s06_audit_tahap_1")
    (timer,) = timers(engine, instance_id)
    assert timer.element_id == "t06_batas_14_hari"
    assert timer.due_at == engine.calendar.add(stage_1.created_at, "P14D") == stage_1.due_at
    sweep = TimerSweep(engine)
    clock.set(timer.due_at + timedelta(seconds=1))
    assert sweep.run_once() == 1
    assert ready_ids(engine, instance_id) == ["e06_putuskan_kelanjutan_audit"]
    with engine.read() as s:
        assert s.session.get(Task, stage_1.id).state == "cancelled"
    # Continue: stage 1 is open again with a fresh 14-day window.
    complete(engine, instance_id, "e06_putuskan_kelanjutan_audit", {"lanjutkan_audit": True})
    second = task_of(engine, instance_id, "s06_audit_tahap_1")
    (timer,) = timers(engine, instance_id)
    assert timer.due_at == engine.calendar.add(second.created_at, "P14D") > clock.now()
    # Overrun again; this time stop.
    clock.set(timer.due_at + timedelta(seconds=1))
    assert sweep.run_once() == 1
    complete(engine, instance_id, "e06_putuskan_kelanjutan_audit", {"lanjutkan_audit": False})
    assert ready_ids(engine, instance_id) == ["x_kirim_surat_penghentian"]
    complete(engine, instance_id, "x_kirim_surat_penghentian")
    assert status(engine, instance_id) == "completed"


def test_stage_1_done_in_time_leaves_no_timer(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN)],
         hours=3)
    assert timers(engine, instance_id) == []
    assert TimerSweep(engine).run_once() == 0


# -- 6. the service clock -------------------------------------------------------------------------

def test_service_clock_skips_customer_steps_and_the_lab_wait(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    # Monday 1 March 2027, 09:00 WIB: step 1 to 5 in one office hour each.
    walk(engine, clock, instance_id, TO_STAGE_1)
    assert used_days(engine, instance_id) == pytest.approx(5 / 8)
    clock.advance(timedelta(hours=1))
    complete(engine, instance_id, "s06_audit_tahap_1", ADA_TEMUAN)  # Monday 15:00
    assert used_days(engine, instance_id) == pytest.approx(6 / 8)

    # Step 7 is the customer's: a working week and more does not count.
    clock.set(datetime(2027, 3, 9, 2, 0, tzinfo=UTC))  # Tuesday 9 March, 09:00 WIB
    assert used_days(engine, instance_id) == pytest.approx(6 / 8)
    complete(engine, instance_id, "s07_tindak_lanjut_audit_tahap_1")
    walk(engine, clock, instance_id, [
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", ADA_NCR)])  # 09:00 to 12:00 with the LSPro
    assert used_days(engine, instance_id) == pytest.approx(9 / 8)

    # Step 10 is the customer's, and the lab branch has no task: nothing counts.
    clock.set(datetime(2027, 4, 6, 2, 0, tzinfo=UTC))  # Tuesday 6 April, 09:00 WIB
    assert used_days(engine, instance_id) == pytest.approx(9 / 8)
    complete(engine, instance_id, "s10_selesaikan_temuan")
    clock.advance(timedelta(hours=1))
    complete(engine, instance_id, "s11_evaluasi_tindak_lanjut", EFEKTIF)
    after_evaluation = used_days(engine, instance_id)
    assert after_evaluation == pytest.approx(10 / 8)

    # Only the laboratory is busy now: three weeks of testing are not counted.
    assert ready_ids(engine, instance_id) == [] and waits_for_lab(engine, instance_id)
    clock.advance(timedelta(days=21))
    with engine.read() as s:
        waiting = s.service_clocks.of(s.runtime.instance(instance_id))
    assert waiting.used_days == after_evaluation and waiting.running_now is False
    lab_report(engine)
    step_12 = task_of(engine, instance_id, "s12_siapkan_rapat_tim_teknis")
    # From the report's arrival the LSPro's clock runs again.
    start = step_12.created_at
    clock.advance(timedelta(days=1))
    counted = engine.calendar.working_days_between(start, clock.now())
    with engine.read() as s:
        running = s.service_clocks.of(s.runtime.instance(instance_id))
    assert running.running_now is True
    assert running.used_days == pytest.approx(after_evaluation + counted, abs=1e-3)
    assert running.remaining_days == pytest.approx(41 - running.used_days, abs=1e-3)
