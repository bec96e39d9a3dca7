"""processes/sertifikasi_produk.bpmn (SOP AP 2.2.1-3) driven through the engine.

The real files of processes/ and forms/ are deployed unchanged, into an engine with
the real domain handlers. Steps 1-11 are this process; steps 12-17 come from the
call activity ``keputusan_sertifikasi``, whose tasks belong to the same instance.
Each test walks whole paths: the 17 steps, the loops at steps 4, 11 and 13,
separation of duties, the two "maks" deadlines (steps 6 and 10) and the service
clock. Tasks are completed the way the API completes them: the submission is
checked against the task's form (engine/taskforms.py), documents are uploaded to
the task first. Every element carries its own ``calendar=working-days`` property,
so due times are working time even though tests/conftest.py sets the default
calendar to calendar days.
"""

from __future__ import annotations

import io
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
from engine.models import (
    Document,
    EventSubscription,
    HistoryEvent,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
)
from engine.tasks.taskforms import form_for_task
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from tests.instances import ready_ids, task_of, variables

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
BPMN = PROCESSES / "sertifikasi_produk.bpmn"
KEPUTUSAN = PROCESSES / "keputusan_sertifikasi.bpmn"
KEY = "sertifikasi_produk"
MESSAGE = "hasil_uji_diterima"
BUSINESS_KEY = "PRM-2027-00001"
COMPANY = "PT Contoh Pangan Sejahtera"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}

# What the application process hands over when it calls this one (CONTRACT.md).
APPLICATION: dict[str, Any] = {
    "nomor_permohonan": BUSINESS_KEY,
    "produk": "BISKUIT",
    "nama_produk": "Biskuit",
    "sni": "SNI 2973:2022",
    "tipe_skema": "5",
    "merek_kemasan": [{"merek": "Renyah", "kemasan": "Kotak karton 300 g"}],
}

# Element -> (role of its lane, camunda:dueDate), for the user tasks of both files.
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
    "e06_putuskan_kelanjutan_audit": ("subkoordinator-sertifikasi", "P1D"),
    "x_kirim_surat_penghentian": ("upp", "P1D"),
}
DECISION_STEPS: dict[str, tuple[str, str]] = {
    "s12_siapkan_rapat_tim_teknis": ("subkoordinator-sertifikasi", "P1D"),
    "s13_bahas_dan_rekomendasi": ("tim-teknis", "P1D"),
    "k13_kirim_surat_kekurangan": ("tim-teknis", "P1D"),
    "k13_klarifikasi_pelanggan": ("pelanggan", "P14D"),
    "m14_siapkan_perjanjian_tanda_sni": ("upp", "P1D"),
    "m14_tandatangani_perjanjian_tanda_sni": ("pelanggan", "P14D"),
    "s14_terbitkan_sertifikat": ("subkoordinator-sertifikasi", "P1D"),
    "s15_verifikasi_sertifikat": ("koordinator-pk", "PT1H"),
    "a16_paraf_konsep_sertifikat": ("kepala-balai", "PT1H"),
    "s16_sahkan_sertifikat": ("kepala-balai", "PT1H"),
    "s17_serahkan_sertifikat": ("upp", "PT1H"),
}
ALL_STEPS = {**STEPS, **DECISION_STEPS}
EVALUATORS = ("s06_audit_tahap_1,s08_audit_tahap_2,s08_pengambilan_contoh,"
              "s09_susun_laporan_audit,s11_evaluasi_tindak_lanjut")
# Element -> (topic, camunda:property entries) of every service task.
SERVICES: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "sertifikasi_produk.bpmn": {
        "svc_surat_penghentian": ("letter.generate", {"template": "surat_penghentian"}),
    },
    "keputusan_sertifikasi.bpmn": {
        "svc_catat_panel": ("panel.record", {"completersOf": "s13_bahas_dan_rekomendasi"}),
        "svc_surat_kekurangan": ("letter.generate", {"template": "surat_kekurangan"}),
        "svc_terbitkan_sertifikat": ("certificate.issue", {}),
        "svc_berita_acara_serah_terima": ("letter.generate",
                                          {"template": "berita_acara_serah_terima"}),
        "svc_catat_serah_terima": ("certificate.handover", {}),
        "svc_mulai_surveilan": ("process.start", {
            "processKey": "surveilan_sertifikat", "businessKey": "nomor_sertifikat",
            "variables": "nomor_sertifikat,nomor_permohonan,produk,sni,tipe_skema,"
                         "merek_kemasan,berlaku_sampai"}),
    },
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


class _Doc:
    """Marks a form field whose value is a document uploaded to the task first."""

    def __repr__(self) -> str:
        return "DOC"


DOC: Any = _Doc()

# What each form needs besides its decision, as a user would fill it in.
ENTRIES: dict[str, dict[str, Any]] = {
    "s01_teruskan_dokumen_kerjasama": {"catatan_penerusan": "Perjanjian asli di arsip UPP."},
    "s02_tugaskan_subkoordinator": {
        "disposisi": "Siapkan kebutuhan sertifikasi PRM-2027-00001.",
        "dok_pernyataan_ketidakberpihakan": DOC},
    "s03_siapkan_usulan_tim": {
        "lead_auditor": "dedi.auditor", "petugas_ppc": "fajar.ppc",
        "usulan_tim_teknis": "gita.tim-teknis, joko.tim-teknis"},
    "s04_validasi_usulan_tim": {"nomor_surat_tugas": "ST-027/LSPro/III/2027"},
    "s05_serahkan_kecukupan_dokumen": {"rencana_audit_tahap1": "2027-03-08",
                                       "dok_surat_tugas": DOC},
    "s06_audit_tahap_1": {"dok_laporan_audit_tahap1": DOC},
    "e06_putuskan_kelanjutan_audit": {"catatan_kelanjutan_audit": "Auditor sakit."},
    "s07_tindak_lanjut_audit_tahap_1": {
        "tindak_lanjut_tahap1": "Daftar pengendalian mutu dilengkapi."},
    "s08_audit_tahap_2": {"tanggal_audit_tahap2": "2027-03-10", "dok_laporan_audit_tahap2": DOC},
    "s08_pengambilan_contoh": {
        "tanggal_pengambilan_contoh": "2027-03-10", "jumlah_contoh": 6,
        "laboratorium_penguji": "Laboratorium Pengujian BSPJI Manado",
        "dok_berita_acara_pengambilan_contoh": DOC},
    "s09_susun_laporan_audit": {"dok_laporan_ringkasan_audit": DOC},
    "s10_selesaikan_temuan": {"uraian_perbaikan": "Kalibrasi timbangan dilakukan.",
                              "dok_lembar_ketidaksesuaian_terjawab": DOC},
    "s11_evaluasi_tindak_lanjut": {},
    "x_kirim_surat_penghentian": {"tanggal_kirim_surat_penghentian": "2027-06-01",
                                  "cara_kirim_surat_penghentian": "pos"},
    "s12_siapkan_rapat_tim_teknis": {"anggota_tim_teknis": "gita.tim-teknis, joko.tim-teknis",
                                     "tanggal_rapat_tim_teknis": "2027-04-06"},
    "s13_bahas_dan_rekomendasi": {},
    "k13_kirim_surat_kekurangan": {"tanggal_kirim_surat_kekurangan": "2027-04-07",
                                   "cara_kirim_surat_kekurangan": "email"},
    "k13_klarifikasi_pelanggan": {"klarifikasi_pelanggan": "Label kemasan telah diperbaiki."},
    "m14_siapkan_perjanjian_tanda_sni": {"nomor_perjanjian_tanda_sni": "PTS-014/2027",
                                         "dok_perjanjian_tanda_sni": DOC},
    "m14_tandatangani_perjanjian_tanda_sni": {
        "penandatangan_perjanjian_tanda_sni": "Eka Putri", "jabatan_penandatangan": "Direktur",
        "dok_perjanjian_tanda_sni_ditandatangani": DOC},
    "s14_terbitkan_sertifikat": {"catatan_konsep_sertifikat": "Sesuai rekomendasi."},
    "s15_verifikasi_sertifikat": {},
    "a16_paraf_konsep_sertifikat": {},
    "s16_sahkan_sertifikat": {"catatan_pengesahan": "Disahkan."},
    "s17_serahkan_sertifikat": {"tanggal_serah_terima": "2027-04-09",
                                "penerima_sertifikat": "Eka Putri",
                                "dok_tanda_terima_sertifikat": DOC},
}

# What the gateways read, as the forms set it.
TIM_VALID = {"tim_valid": True}
TANPA_TEMUAN = {"temuan_tahap1": False}
ADA_TEMUAN = {"temuan_tahap1": True, "uraian_temuan_tahap1": "Daftar pengendalian mutu kurang."}
ADA_NCR = {"ada_ketidaksesuaian": True, "jumlah_ketidaksesuaian": 2,
           "dok_lembar_ketidaksesuaian": DOC}
TANPA_NCR = {"ada_ketidaksesuaian": False}
EFEKTIF = {"tindakan_efektif": True, "dok_laporan_audit_final": DOC}
BELUM_EFEKTIF = {"tindakan_efektif": False,
                 "catatan_evaluasi_tindak_lanjut": "Bukti kalibrasi belum dilampirkan."}
TERPENUHI = {"rekomendasi": "terpenuhi", "catatan_rekomendasi": "Memenuhi SNI 2973:2022."}
BELUM_TERPENUHI = {"rekomendasi": "belum_terpenuhi",
                   "catatan_rekomendasi": "Label kemasan belum mencantumkan kode produksi."}
SESUAI = {"konsep_sertifikat_sesuai": True}
DISETUJUI = {"konsep_disetujui": True}
HASIL_UJI = {"nomor_laporan_uji": "LHU-2027-0042", "hasil_uji_memenuhi": True}

# Up to the stage-1 audit, the same on every path.
TO_STAGE_1: list[tuple[str, Mapping[str, Any]]] = [
    ("s01_teruskan_dokumen_kerjasama", {}),
    ("s02_tugaskan_subkoordinator", {}),
    ("s03_siapkan_usulan_tim", {}),
    ("s04_validasi_usulan_tim", TIM_VALID),
    ("s05_serahkan_kecukupan_dokumen", {}),
]
# From the panel to the certificate in hand, when everything is in order.
GRANT: list[tuple[str, Mapping[str, Any]]] = [
    ("s12_siapkan_rapat_tim_teknis", {}),
    ("s13_bahas_dan_rekomendasi", TERPENUHI),
    ("m14_siapkan_perjanjian_tanda_sni", {}),
    ("m14_tandatangani_perjanjian_tanda_sni", {}),
    ("s14_terbitkan_sertifikat", {}),
    ("s15_verifikasi_sertifikat", SESUAI),
    ("a16_paraf_konsep_sertifikat", DISETUJUI),
    ("s16_sahkan_sertifikat", {}),
    ("s17_serahkan_sertifikat", {}),
]


# -- helpers -------------------------------------------------------------------------------

@pytest.fixture
def engine(lspro_engine: Engine) -> Engine:
    """This module's engine: every domain topic, no workflow cache."""
    return lspro_engine


def deploy(engine: Engine) -> None:
    """Deploy processes/ and forms/ together, as ``sertiflow run`` does."""
    result = engine.deploy_paths([PROCESSES, FORMS], actor="analyst")
    keys = {p.key for p in result.processes}
    assert {KEY, "keputusan_sertifikasi", "surveilan_sertifikat"} <= keys
    assert set(ALL_STEPS) <= {f.form_id for f in result.forms}


def start(engine: Engine, **variables: Any) -> str:
    with engine.write() as s:
        return s.runtime.start_instance(
            KEY, business_key=BUSINESS_KEY, actor="ani.upp", company=COMPANY,
            variables={**APPLICATION, **variables}).id


@pytest.fixture
def instance_id(engine: Engine) -> str:
    deploy(engine)
    return start(engine)


def upload(engine: Engine, task: Task, field: str, user: str) -> dict[str, Any]:
    """Upload a small PDF for a form's file field, as the task page does."""
    content = f"%PDF-1.4\n% {task.element_id} {field}\n%%EOF\n".encode()
    with engine.write() as s:
        document = s.documents.upload(
            task.instance_id, io.BytesIO(content), filename=f"{field}.pdf",
            content_type="application/pdf", uploaded_by=user, task_id=task.id, field=field)
        return s.documents.reference(document)


def submit(engine: Engine, task: Task, data: Mapping[str, Any], user: str) -> dict[str, Any]:
    """Complete a task the way POST /api/v1/tasks/{id}/complete does; return what was stored."""
    with engine.write() as s:
        row = s.session.get(Task, task.id)
        assert row is not None
        form = form_for_task(s.session, row)
        assert form is not None and form.form_id == task.element_id
        cleaned, _ = s.submit_task(row, data, actor=user)
        return cleaned


def complete(engine: Engine, instance_id: str, element: str,
             values: Mapping[str, Any] | None = None, actor: str | None = None) -> Task:
    """Complete the ready task of ``element`` as a user of its role (or ``actor``).

    The step's usual entries (``ENTRIES``) are merged with ``values``; each ``DOC``
    becomes a document uploaded to the task.
    """
    task = task_of(engine, instance_id, element)
    role = ALL_STEPS[element][0]
    assert task.candidate_groups == [role]
    user = actor or ACTOR[role]
    data = {**ENTRIES[element], **(values or {})}
    for field, value in list(data.items()):
        if value is DOC:
            data[field] = upload(engine, task, field, user)
    submit(engine, task, data, user)
    return task


def walk(engine: Engine, clock: FrozenClock, instance_id: str,
         script: list[tuple[str, Mapping[str, Any]]], *, hours: float = 1) -> None:
    """Complete each step in turn, ``hours`` after the previous one."""
    for element, values in script:
        clock.advance(timedelta(hours=hours))
        complete(engine, instance_id, element, values)


def lab_report(engine: Engine, variables: Mapping[str, Any] = HASIL_UJI) -> None:
    with engine.write() as s:
        s.runtime.correlate_message(MESSAGE, business_key=BUSINESS_KEY,
                                    variables=dict(variables), actor="laboratorium")


def to_panel(engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    """Steps 1-11 without findings or NCRs, and the lab report: step 12 is ready."""
    walk(engine, clock, instance_id, [
        *TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN), ("s08_pengambilan_contoh", {}),
        ("s08_audit_tahap_2", {}), ("s09_susun_laporan_audit", TANPA_NCR),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    lab_report(engine)
    assert ready_ids(engine, instance_id) == ["s12_siapkan_rapat_tim_teknis"]


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


def history(engine: Engine, instance_id: str, kind: str) -> list[str]:
    with engine.read() as s:
        return [e for e in s.session.scalars(
            sa.select(HistoryEvent.element_id)
            .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind == kind)
            .order_by(HistoryEvent.id)) if e is not None]


def completed_elements(engine: Engine, instance_id: str) -> list[str]:
    return history(engine, instance_id, "task_completed")


def document_text(engine: Engine, document_id: str) -> tuple[Document, str]:
    """A generated document of the instance, with its text."""
    with engine.read() as s:
        document = s.documents.get(document_id)
        with s.documents.open(document) as file:
            return document, file.read().decode("utf-8")


def surveillances(engine: Engine) -> list[ProcessInstance]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(ProcessInstance).where(
            ProcessInstance.definition_key == "surveilan_sertifikat")))


# -- deployment, diagram, forms ---------------------------------------------------------------

def test_the_files_deploy_with_the_forms_and_the_service_target(engine: Engine) -> None:
    deploy(engine)
    again = engine.deploy_paths([PROCESSES, FORMS])
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
    assert ids == set(STEPS if bpmn == BPMN else DECISION_STEPS)
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
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, TO_STAGE_1[:3])
    task = task_of(engine, instance_id, "s04_validasi_usulan_tim")
    with pytest.raises(InvalidInput) as missing:
        submit(engine, task, {"catatan_validasi_tim": "?"}, ACTOR["koordinator-pk"])
    assert missing.value.errors == {"tim_valid": "is required"}
    with pytest.raises(InvalidInput) as text:
        submit(engine, task, {"tim_valid": "true"}, ACTOR["koordinator-pk"])
    assert text.value.errors == {"tim_valid": "is not one of the options"}
    with pytest.raises(InvalidInput) as readonly:  # what step 3 proposed is shown, not changed
        submit(engine, task, {"tim_valid": True, "lead_auditor": "someone.else"},
               ACTOR["koordinator-pk"])
    assert readonly.value.errors == {"lead_auditor": "is read-only"}
    assert ready_ids(engine, instance_id) == ["s04_validasi_usulan_tim"]  # nothing stored
    stored = submit(engine, task, {"tim_valid": True, "ignored_extra": 1},
                    ACTOR["koordinator-pk"])
    assert stored == {"tim_valid": True}
    assert "ignored_extra" not in variables(engine, instance_id)


# -- 1. the happy path ----------------------------------------------------------------------

def test_happy_path_runs_the_17_steps_in_order_with_roles_and_working_day_dues(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
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
    first = task_of(engine, instance_id, "s01_teruskan_dokumen_kerjasama")
    # Monday 1 March 2027, 09:00 WIB + 1 office hour.
    assert first.due_at == datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    assert (first.lane, first.title) == ("upp", "Meneruskan dokumen kerjasama")
    assert first.form_key == "s01_teruskan_dokumen_kerjasama"
    seen = set()
    for element, decision, after in path:
        if element == "s12_siapkan_rapat_tim_teknis":
            assert waits_for_lab(engine, instance_id)
            clock.advance(timedelta(days=3))
            lab_report(engine)
            assert ready_ids(engine, instance_id) == ["s12_siapkan_rapat_tim_teknis"]
        task = task_of(engine, instance_id, element)
        role, due = ALL_STEPS[element]
        assert (task.lane, task.candidate_groups) == (role, [role])
        assert task.definition_key == KEY  # the called process's tasks are this instance's
        assert task.properties["calendar"] == "working-days"
        assert task.due_at == cal.add(task.created_at, due), element
        clock.advance(timedelta(hours=2))
        complete(engine, instance_id, element, decision)
        seen.add(element)
        assert ready_ids(engine, instance_id) == after, element
    assert len({e for e in seen if e.startswith("s")}) == 18  # 17 steps, step 8 as two tasks
    assert status(engine, instance_id) == "completed"
    assert not timers(engine, instance_id) and not waits_for_lab(engine, instance_id)
    final = variables(engine, instance_id)
    assert final["nomor_laporan_uji"] == "LHU-2027-0042"
    assert final["status_sertifikat"] == "aktif"
    assert "permohonan_dihentikan" not in final
    (surveillance,) = surveillances(engine)
    assert surveillance.business_key == final["nomor_sertifikat"]
    assert history(engine, instance_id, "element_completed")[-2:] == [
        "ca_keputusan_sertifikasi", "end_sertifikat_diserahkan"]
    with engine.read() as s:
        clock_ = s.service_clocks.of(s.runtime.instance(instance_id))
    assert clock_.target_days == 41.0 and clock_.running_now is False


def test_without_findings_steps_7_and_10_are_skipped(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    walk(engine, clock, instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN)])
    assert ready_ids(engine, instance_id) == ["s08_audit_tahap_2", "s08_pengambilan_contoh"]
    with pytest.raises(NotFound):  # the lab report is awaited only once samples are taken
        lab_report(engine)
    walk(engine, clock, instance_id, [
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", TANPA_NCR)])
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
        ("s04_validasi_usulan_tim", {"tim_valid": False,
                                     "catatan_validasi_tim": "PPC belum kompeten untuk AMDK."}),
    ])
    assert ready_ids(engine, instance_id) == ["s03_siapkan_usulan_tim"]  # team revised
    walk(engine, clock, instance_id, [
        ("s03_siapkan_usulan_tim", {"petugas_ppc": "lina.ppc"}),
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
        ("s11_evaluasi_tindak_lanjut", BELUM_EFEKTIF),
    ])
    assert ready_ids(engine, instance_id) == ["s10_selesaikan_temuan"]  # corrections again
    walk(engine, clock, instance_id, [
        ("s10_selesaikan_temuan", {}),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF),
    ])
    lab_report(engine)
    walk(engine, clock, instance_id, [
        ("s12_siapkan_rapat_tim_teknis", {}),
        ("s13_bahas_dan_rekomendasi", BELUM_TERPENUHI),
    ])
    assert ready_ids(engine, instance_id) == ["k13_kirim_surat_kekurangan"]
    complete(engine, instance_id, "k13_kirim_surat_kekurangan")
    assert ready_ids(engine, instance_id) == ["k13_klarifikasi_pelanggan"]
    complete(engine, instance_id, "k13_klarifikasi_pelanggan")
    assert ready_ids(engine, instance_id) == ["s13_bahas_dan_rekomendasi"]  # re-review
    walk(engine, clock, instance_id, GRANT[1:])
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
        "s13_bahas_dan_rekomendasi", "m14_siapkan_perjanjian_tanda_sni",
        "m14_tandatangani_perjanjian_tanda_sni", "s14_terbitkan_sertifikat",
        "s15_verifikasi_sertifikat", "a16_paraf_konsep_sertifikat", "s16_sahkan_sertifikat",
        "s17_serahkan_sertifikat",
    ]
    final = variables(engine, instance_id)
    assert final["petugas_ppc"] == "lina.ppc"  # the revised team stands
    assert final["rekomendasi"] == "terpenuhi"


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
    # Someone with both roles audits stage 2 and then tries to review in the called process.
    walk(engine, clock, instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN),
                                      ("s08_pengambilan_contoh", {})])
    complete(engine, instance_id, "s08_audit_tahap_2", actor="rina.auditor-dan-tim-teknis")
    walk(engine, clock, instance_id, [
        ("s09_susun_laporan_audit", TANPA_NCR), ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    lab_report(engine)
    complete(engine, instance_id, "s12_siapkan_rapat_tim_teknis")
    task = task_of(engine, instance_id, "s13_bahas_dan_rekomendasi")
    assert task.properties["excludeCompletersOf"] == EVALUATORS
    with pytest.raises(Forbidden, match="s08_audit_tahap_2"):
        complete(engine, instance_id, "s13_bahas_dan_rekomendasi", TERPENUHI,
                 actor="rina.auditor-dan-tim-teknis")
    complete(engine, instance_id, "s13_bahas_dan_rekomendasi", TERPENUHI)
    assert ready_ids(engine, instance_id) == ["m14_siapkan_perjanjian_tanda_sni"]


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
        cancelled = s.session.get(Task, step_10.id)
        assert cancelled is not None and cancelled.state == "cancelled"
    assert waits_for_lab(engine, instance_id)  # the parallel lab branch still waits
    letter = variables(engine, instance_id)
    document, text = document_text(engine, letter["dokumen_surat_penghentian"])
    assert document.instance_id == instance_id and document.content_type.startswith("text/html")
    assert "60 hari kerja" in text and BUSINESS_KEY in text
    assert letter["nomor_surat_surat_penghentian"] in text
    complete(engine, instance_id, "x_kirim_surat_penghentian")
    # The terminate end event ends the whole instance, lab branch included.
    assert status(engine, instance_id) == "completed"
    assert ready_ids(engine, instance_id) == []
    assert not waits_for_lab(engine, instance_id) and not timers(engine, instance_id)
    ended = history(engine, instance_id, "element_completed")
    assert ended[-5:] == ["t10_batas_60_hari", "scr_alasan_batas_60_hari", "gw_penghentian",
                          "svc_surat_penghentian", "end_permohonan_dihentikan"]
    assert "end_sertifikat_diserahkan" not in ended


def test_a_second_round_of_step_10_gets_a_new_60_day_window(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    _to_step_10(engine, clock, instance_id)
    clock.advance(timedelta(days=30))
    complete(engine, instance_id, "s10_selesaikan_temuan")
    complete(engine, instance_id, "s11_evaluasi_tindak_lanjut", BELUM_EFEKTIF)
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
        cancelled = s.session.get(Task, stage_1.id)
        assert cancelled is not None and cancelled.state == "cancelled"
    # Continue: stage 1 is open again with a fresh 14-day window.
    complete(engine, instance_id, "e06_putuskan_kelanjutan_audit", {"lanjutkan_audit": True})
    second = task_of(engine, instance_id, "s06_audit_tahap_1")
    (timer,) = timers(engine, instance_id)
    assert timer.due_at == engine.calendar.add(second.created_at, "P14D") > clock.now()
    # Overrun again; this time stop.
    clock.set(timer.due_at + timedelta(seconds=1))
    assert sweep.run_once() == 1
    complete(engine, instance_id, "e06_putuskan_kelanjutan_audit", {
        "lanjutkan_audit": False, "catatan_kelanjutan_audit": "Pelanggan tidak siap diaudit."})
    assert ready_ids(engine, instance_id) == ["x_kirim_surat_penghentian"]
    _, text = document_text(engine, variables(engine, instance_id)["dokumen_surat_penghentian"])
    assert "Pelanggan tidak siap diaudit." in text
    assert variables(engine, instance_id)["permohonan_dihentikan"] is True
    complete(engine, instance_id, "x_kirim_surat_penghentian")
    assert status(engine, instance_id) == "completed"
    assert "scr_alasan_audit_dihentikan" in history(engine, instance_id, "element_completed")


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
    # From the report's arrival the LSPro's clock runs again, in the called process too.
    start_ = step_12.created_at
    clock.advance(timedelta(days=1))
    counted = engine.calendar.working_days_between(start_, clock.now())
    with engine.read() as s:
        running = s.service_clocks.of(s.runtime.instance(instance_id))
    assert running.running_now is True
    assert running.used_days == pytest.approx(after_evaluation + counted, abs=1e-3)
    assert running.remaining_days == pytest.approx(41 - running.used_days, abs=1e-3)
