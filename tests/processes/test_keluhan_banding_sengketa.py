"""Complaints, appeals and brand disputes (DOMAIN.md §6.3-§6.5) driven through the engine.

processes/keluhan.bpmn, banding.bpmn and sengketa_merek.bpmn are deployed with all of
processes/ and forms/ and the real domain topics. Every task is completed the way
``POST /api/v1/tasks/{id}/complete`` completes it: the actor must be allowed to act on
the task (engine.queries access rules), and the submission is checked against the
task's form (engine.taskforms), so the forms and the processes are proven to agree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from engine.composition import Engine
from engine.errors import InstanceNotRunning, NotFound
from engine.identity.access import Actor
from engine.models import (
    Document,
    EventSubscription,
    HistoryEvent,
    ProcessDefinition,
    ProcessInstance,
    SlaBreach,
    Task,
    Timer,
)
from engine.tasks.taskforms import form_for_task
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro.certificates import CertificateRegister
from lspro.models import Certificate, CertificateEvent, Invoice, PanelMember
from lspro.panels import PanelService
from tests.instances import ready_ids, task_of, variables
from tests.settings import LSPRO

ROOT = Path(__file__).resolve().parents[2]
COMPANY = "PT Contoh Pangan Sulawesi"
APPLICATION = "PRM-2027-00042"  # an application decided before these tests begin
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "camunda": "http://camunda.org/schema/1.0/bpmn"}

CUSTOMER = Actor.of("eka.pt-contoh", ["pelanggan"], COMPANY)
OTHER_CUSTOMER = Actor.of("ola.pt-lain", ["pelanggan"], "PT Lain Sejahtera")
STAFF = {
    "pelanggan": CUSTOMER,
    "administrasi": Actor.of("rina.administrasi", ["administrasi"]),
    "subkoordinator-sertifikasi": Actor.of("citra.subkoordinator",
                                           ["subkoordinator-sertifikasi"]),
    "koordinator-pk": Actor.of("budi.koordinator", ["koordinator-pk"]),
    "kepala-balai": Actor.of("hadi.kepala-balai", ["kepala-balai"]),
    "upp": Actor.of("ani.upp", ["upp"]),
}
# Technical-team members: gita and hari sat on the original panel of APPLICATION.
GITA, HARI, JOKO, LINA, MADE = (Actor.of(f"{name}.tim-teknis", ["tim-teknis"])
                                for name in ("gita", "hari", "joko", "lina", "made"))

# Every user task of the three files: (role of its lane, camunda:dueDate).
STEPS: dict[str, tuple[str, str]] = {
    "kl_ajukan_keluhan": ("pelanggan", "P14D"),
    "kl_kirim_tanda_terima": ("administrasi", "P1D"),
    "kl_periksa_keluhan": ("subkoordinator-sertifikasi", "PT2H"),
    "kl_telusuri_keterlambatan": ("subkoordinator-sertifikasi", "P1D"),
    "kl_tetapkan_pencegahan": ("subkoordinator-sertifikasi", "P2D"),
    "kl_kirim_surat_permohonan_maaf": ("administrasi", "P1D"),
    "kl_jawab_keluhan": ("subkoordinator-sertifikasi", "P2D"),
    "kl_kirim_jawaban": ("administrasi", "P1D"),
    "bd_ajukan_banding": ("pelanggan", "P14D"),
    "bd_catat_banding": ("administrasi", "P1D"),
    "bd_disposisi": ("kepala-balai", "P1D"),
    "bd_periksa_banding": ("koordinator-pk", "P2D"),
    "bd_putuskan_koreksi": ("koordinator-pk", "P1D"),
    "bd_bentuk_panel": ("kepala-balai", "P1D"),
    "bd_sidang_banding": ("tim-teknis", "P5D"),
    "bd_kirim_surat_hasil": ("administrasi", "P1D"),
    "sg_catat_sengketa": ("koordinator-pk", "P1D"),
    "sg_periksa_merek": ("koordinator-pk", "P2D"),
    "sg_informasikan_penangguhan": ("administrasi", "P1D"),
    "sg_tetapkan_lingkup": ("koordinator-pk", "P2D"),
    "sg_kirim_surat_kelanjutan": ("administrasi", "P1D"),
}
FILES = {"keluhan": "keluhan.bpmn", "banding": "banding.bpmn",
         "sengketa_merek": "sengketa_merek.bpmn"}
SENT = {"tanggal_kirim_surat": "2027-03-05", "media_pengiriman": "surel"}

# The application of the brand-dispute tests (as tests/processes/test_permohonan.py files it).
APPLICATION_DOCUMENTS = (
    "surat_permohonan", "akta_pendirian", "nib_atau_iui", "npwp", "daftar_merek_kemasan",
    "sertifikat_merek", "desain_kemasan", "ilustrasi_tanda_sni", "struktur_organisasi",
    "diagram_alir_produksi", "daftar_pengendalian_mutu", "daftar_peralatan_produksi",
    "daftar_peralatan_lab", "daftar_informasi_terdokumentasi", "pernyataan_tidak_mengedarkan",
    "bukti_smm_cppob",
)
BISKUIT = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"},
                      {"merek": "Nyiur Emas", "kemasan": "plastik 90 g"}],
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# -- driving the engine as the API does ---------------------------------------------------

@pytest.fixture
def engine(lspro_engine: Engine) -> Engine:
    """The LSPro engine with all of processes/ and forms/, and the users panels need."""
    result = lspro_engine.deploy_paths([ROOT / "processes", ROOT / "forms"], actor="analyst")
    assert set(FILES) <= {p.key for p in result.processes}
    with lspro_engine.write() as s:
        for member in (GITA, HARI, JOKO, LINA, MADE):
            s.identity.add_user(member.username, "rahasia-panel-2027", roles=["tim-teknis"])
    return lspro_engine


def start(engine: Engine, key: str, actor: Actor, company: str | None = COMPANY) -> str:
    with engine.write() as s:
        return s.runtime.start_instance(key, actor=actor.username, company=company).id


def check_task(engine: Engine, task: Task) -> None:
    """The task belongs to its lane's role, with its working-day SLA."""
    role, due = STEPS[task.element_id]
    assert task.lane == role, task.element_id
    if task.element_id != "bd_sidang_banding":
        assert (task.candidate_groups, task.candidate_users) == ([role], []), task.element_id
    assert task.properties["calendar"] == "working-days"
    assert task.due_at == engine.calendar.add(task.created_at, due), task.element_id


def submit(engine: Engine, instance_id: str, element: str, values: Mapping[str, Any],
           actor: Actor | None = None, *, documents: tuple[str, ...] = ()) -> Task:
    """Complete the ready task of ``element`` as the API does: access, form, then command."""
    task = task_of(engine, instance_id, element)
    if element in STEPS:
        check_task(engine, task)
        who = actor or STAFF[STEPS[element][0]]
    else:
        assert actor is not None, element
        who = actor
    variables = dict(values)
    for field in documents:
        with engine.write() as s:
            document = s.documents.upload(
                instance_id, io.BytesIO(PDF + field.encode()), filename=f"{field}.pdf",
                content_type="application/pdf", uploaded_by=who.username, task_id=task.id,
                field=field)
            variables[field] = s.documents.reference(document)
    with engine.write() as s:
        visible = s.queries.actionable_task(who, task.id)
        form = form_for_task(s.session, visible)
        assert form is not None and form.form_id == element
        s.submit_task(visible, variables, actor=who.username)
    return task


def instance(engine: Engine, instance_id: str) -> ProcessInstance:
    with engine.read() as s:
        found = s.runtime.instance(instance_id)
        s.session.expunge(found)
        return found


def history(engine: Engine, instance_id: str, kind: str) -> list[HistoryEvent]:
    with engine.read() as s:
        found = list(s.session.scalars(
            sa.select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                          HistoryEvent.kind == kind)
            .order_by(HistoryEvent.id)))
        for row in found:
            s.session.expunge(row)
        return found


def elements(engine: Engine, instance_id: str, kind: str) -> list[str | None]:
    return [event.element_id for event in history(engine, instance_id, kind)]


def letter(engine: Engine, instance_id: str, template: str) -> str:
    """The text of the letter ``template`` that the instance generated (exactly one)."""
    data = variables(engine, instance_id)
    with engine.read() as s:
        (stored,) = s.session.scalars(sa.select(Document).where(
            Document.instance_id == instance_id, Document.field == f"dokumen_{template}")).all()
        assert stored.id == data[f"dokumen_{template}"]
        assert stored.content_type.startswith("text/html")
        with s.documents.open(stored) as file:
            text = file.read().decode("utf-8")
    assert data[f"nomor_surat_{template}"] in text
    return text


def certificate(engine: Engine, number: str) -> Certificate:
    with engine.read() as s:
        found = s.session.scalars(sa.select(Certificate).where(
            Certificate.number == number)).one()
        s.session.expunge(found)
        return found


def used_days(engine: Engine, instance_id: str) -> tuple[float, bool]:
    with engine.read() as s:
        clock = s.service_clocks.of(s.runtime.instance(instance_id))
        return clock.used_days, clock.running_now


def record_original_panel(engine: Engine) -> None:
    """The panel that decided APPLICATION: named at step 12 (gita), step 13 done by hari."""
    with engine.write() as s:
        members = PanelService(s.session, engine.clock).record_original(
            APPLICATION, declared=[GITA.username], completed=[HARI.username])
    assert members == [HARI.username, GITA.username]


# -- the files ------------------------------------------------------------------------------

def test_the_three_files_have_lanes_forms_slas_and_starters(engine: Engine) -> None:
    found = {}
    for key, name in FILES.items():
        root = etree.parse(str(ROOT / "processes" / name)).getroot()
        process = root.find("bpmn:process", NS)
        assert process is not None and process.get("id") == key
        assert process.get("isExecutable") == "true"
        lanes = {ref.text: lane.get("name") for lane in process.iterfind(".//bpmn:lane", NS)
                 for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
        for task in process.iterfind("bpmn:userTask", NS):
            element = str(task.get("id"))
            assert task.get(f"{{{NS['camunda']}}}formRef") == element
            assert (ROOT / "forms" / f"{element}.form").exists(), element
            found[element] = (lanes[element], task.get(f"{{{NS['camunda']}}}dueDate"))
        starters = process.get(f"{{{NS['camunda']}}}candidateStarterGroups")
        assert starters == {"keluhan": "pelanggan", "banding": "pelanggan",
                            "sengketa_merek": "koordinator-pk,administrasi"}[key]
    assert found == STEPS
    with engine.read() as s:
        names = dict(s.session.execute(sa.select(ProcessDefinition.key, ProcessDefinition.name)
                                       .where(ProcessDefinition.key.in_(FILES))).all())
    assert names == {"keluhan": "Penanganan Keluhan", "banding": "Penanganan Banding",
                     "sengketa_merek": "Penanganan Perselisihan Merek"}


# -- complaints --------------------------------------------------------------------------------

def test_a_complaint_about_a_delay_ends_with_a_written_apology(
        engine: Engine, clock: FrozenClock) -> None:
    complaint = start(engine, "keluhan", CUSTOMER)
    first = task_of(engine, complaint, "kl_ajukan_keluhan")
    assert first.company == COMPANY
    with engine.read() as s, pytest.raises(NotFound):  # another company's customer
        s.queries.actionable_task(OTHER_CUSTOMER, first.id)
    submit(engine, complaint, "kl_ajukan_keluhan", {
        "nomor_permohonan": APPLICATION, "jenis_keluhan": "keterlambatan",
        "uraian_keluhan": "Audit tahap 1 belum dijadwalkan setelah tiga minggu."})

    # case.open: the complaint number is the business key; the customer is acknowledged
    # while the sub-coordinator examines the complaint at once.
    number = instance(engine, complaint).business_key
    assert number is not None and re.fullmatch(r"KLH-2027-\d{5}", number)
    assert variables(engine, complaint)["nomor_perkara"] == number
    assert ready_ids(engine, complaint) == ["kl_kirim_tanda_terima", "kl_periksa_keluhan"]
    examine = task_of(engine, complaint, "kl_periksa_keluhan")
    check_task(engine, examine)
    assert examine.due_at == engine.calendar.add(examine.created_at, "PT2H")
    with engine.read() as s, pytest.raises(NotFound):  # the customer sees no staff task
        s.queries.actionable_task(CUSTOMER, examine.id)
    submit(engine, complaint, "kl_kirim_tanda_terima",
           {"tanggal_tanda_terima": "2027-03-01", "media_tanda_terima": "surel"})

    # The examination is late: a breach, escalated to the Coordinator PK.
    clock.set(examine.due_at + timedelta(minutes=30))
    assert TimerSweep(engine).run_sla_once()[0] == 1
    submit(engine, complaint, "kl_periksa_keluhan", {
        "jenis_keluhan": "keterlambatan",
        "hasil_pemeriksaan_keluhan": "Penugasan auditor tertunda karena auditor cuti."})
    with engine.read() as s:
        (breach,) = s.session.scalars(sa.select(SlaBreach).where(
            SlaBreach.instance_id == complaint)).all()
    assert (breach.element_id, breach.escalated_to, breach.completed_by) == (
        "kl_periksa_keluhan", "koordinator-pk", "citra.subkoordinator")

    submit(engine, complaint, "kl_telusuri_keterlambatan", {
        "penyebab_keterlambatan": "Auditor pengganti tidak ditunjuk.",
        "tindakan_perbaikan": "Auditor pengganti ditunjuk; audit dijadwalkan 8 Maret."})
    submit(engine, complaint, "kl_tetapkan_pencegahan", {
        "tindakan_pencegahan": "Daftar auditor cadangan per produk ditinjau tiap bulan.",
        "penanggung_jawab_pencegahan": "Subkoordinator Sertifikasi",
        "batas_waktu_pencegahan": "2027-04-30"})

    text = letter(engine, complaint, "surat_permohonan_maaf")
    assert "Permohonan Maaf atas Keterlambatan" in text
    assert number in text and APPLICATION in text
    assert "Auditor pengganti tidak ditunjuk." in text
    assert "Daftar auditor cadangan per produk ditinjau tiap bulan." in text
    submit(engine, complaint, "kl_kirim_surat_permohonan_maaf", SENT)

    assert instance(engine, complaint).status == "completed"
    assert elements(engine, complaint, "task_completed") == [
        "kl_ajukan_keluhan", "kl_kirim_tanda_terima", "kl_periksa_keluhan",
        "kl_telusuri_keterlambatan", "kl_tetapkan_pencegahan",
        "kl_kirim_surat_permohonan_maaf"]
    ended = elements(engine, complaint, "element_completed")
    assert {"kl_buka_perkara", "kl_surat_permohonan_maaf", "end_kl_tanda_terima",
            "end_kl_maaf"} <= set(ended)
    assert "kl_banding" not in ended and "end_kl_dijawab" not in ended


def test_any_other_complaint_is_answered_and_closed(engine: Engine) -> None:
    complaint = start(engine, "keluhan", CUSTOMER)
    submit(engine, complaint, "kl_ajukan_keluhan", {
        "jenis_keluhan": "lainnya", "uraian_keluhan": "Petugas UPP sulit dihubungi."})
    submit(engine, complaint, "kl_periksa_keluhan", {
        "jenis_keluhan": "lainnya", "hasil_pemeriksaan_keluhan": "Nomor telepon UPP berubah."})
    submit(engine, complaint, "kl_jawab_keluhan",
           {"jawaban_keluhan": "Nomor UPP yang baru: 0431-000000; kami mohon maaf."})
    assert ready_ids(engine, complaint) == ["kl_kirim_jawaban", "kl_kirim_tanda_terima"]
    submit(engine, complaint, "kl_kirim_jawaban", SENT)
    assert instance(engine, complaint).status == "running"  # the acknowledgement is due
    submit(engine, complaint, "kl_kirim_tanda_terima",
           {"tanggal_tanda_terima": "2027-03-01", "media_tanda_terima": "langsung"})
    assert instance(engine, complaint).status == "completed"
    ended = elements(engine, complaint, "element_completed")
    assert "end_kl_dijawab" in ended and "end_kl_maaf" not in ended


def test_a_complaint_about_a_panel_decision_becomes_an_appeal_to_a_disjoint_panel(
        engine: Engine, clock: FrozenClock) -> None:
    record_original_panel(engine)
    complaint = start(engine, "keluhan", CUSTOMER)
    grounds = "Tim pengkaji menilai hasil uji kadar air tanpa memeriksa laporan ulang."
    submit(engine, complaint, "kl_ajukan_keluhan", {
        "nomor_permohonan": APPLICATION, "jenis_keluhan": "keputusan_tim",
        "uraian_keluhan": grounds})
    submit(engine, complaint, "kl_kirim_tanda_terima",
           {"tanggal_tanda_terima": "2027-03-01", "media_tanda_terima": "surel"})
    submit(engine, complaint, "kl_periksa_keluhan", {
        "jenis_keluhan": "keputusan_tim",
        "hasil_pemeriksaan_keluhan": "Keberatan atas keputusan tim pengkaji: banding."})
    number = instance(engine, complaint).business_key
    assert number is not None and number.startswith("KLH-")

    # The called appeal skips the customer's filing: its tasks belong to this instance.
    record = task_of(engine, complaint, "bd_catat_banding")
    assert record.definition_key == "keluhan" and record.company == COMPANY
    data = variables(engine, complaint)
    assert (data["asal_banding"], data["pokok_banding"], data["jenis_banding"]) == (
        "keluhan", grounds, "keputusan_tim")
    assert data["nomor_perkara"] == number  # the appeal keeps the complaint's number
    submit(engine, complaint, "bd_catat_banding",
           {"tanggal_diterima": "2027-03-01", "media_tanda_terima": "surel"})
    submit(engine, complaint, "bd_disposisi",
           {"disposisi": "Kabag Operasional: periksa dan bentuk tim baru bila perlu."})
    submit(engine, complaint, "bd_periksa_banding", {
        "nomor_permohonan": APPLICATION, "jenis_banding": "keputusan_tim",
        "hasil_pemeriksaan_banding": "Keberatan berdasar; perlu sidang banding."})

    # A panel with a member of the original panel, and a name that is no user, is refused.
    submit(engine, complaint, "bd_bentuk_panel",
           {"panel_banding": "gita.tim-teknis, joko.tim-teknis, tidak.ada"})
    data = variables(engine, complaint)
    assert data["panel_banding_sah"] is False
    assert data["panel_konflik"] == [GITA.username]
    assert "gita.tim-teknis" in data["catatan_panel_banding"]
    assert "tidak.ada" in data["catatan_panel_banding"]
    assert ready_ids(engine, complaint) == ["bd_bentuk_panel"]  # formed again
    submit(engine, complaint, "bd_bentuk_panel",
           {"panel_banding": "joko.tim-teknis, lina.tim-teknis"})
    assert variables(engine, complaint)["panel_banding_sah"] is True

    # The hearing is for the named panel only: not the lane's role, not the original panel.
    hearing = task_of(engine, complaint, "bd_sidang_banding")
    check_task(engine, hearing)
    assert (hearing.candidate_groups, hearing.candidate_users) == (
        [], [JOKO.username, LINA.username])
    with engine.read() as s:
        for outsider in (GITA, HARI, MADE, STAFF["kepala-balai"], CUSTOMER):
            with pytest.raises(NotFound):
                s.queries.actionable_task(outsider, hearing.id)
        listed = s.queries.tasks(GITA).items
        assert hearing.id not in {t.id for t in listed}
        assert hearing.id in {t.id for t in s.queries.tasks(JOKO).items}
        appeal_panel = list(s.session.scalars(sa.select(PanelMember.username).where(
            PanelMember.application_number == APPLICATION, PanelMember.kind == "appeal")
            .order_by(PanelMember.id)))
    assert appeal_panel == [JOKO.username, LINA.username]

    clock.advance(timedelta(days=2))
    submit(engine, complaint, "bd_sidang_banding", {
        "hasil_banding": "dikabulkan",
        "keputusan_banding": "Laporan uji ulang sah; permohonan dikaji ulang oleh tim baru."},
        actor=LINA)
    text = letter(engine, complaint, "surat_hasil_banding")
    assert "Hasil Penanganan Banding" in text and "dikabulkan" in text and number in text
    submit(engine, complaint, "bd_kirim_surat_hasil", SENT)

    assert instance(engine, complaint).status == "completed"
    assert elements(engine, complaint, "task_completed") == [
        "kl_ajukan_keluhan", "kl_kirim_tanda_terima", "kl_periksa_keluhan",
        "bd_catat_banding", "bd_disposisi", "bd_periksa_banding", "bd_bentuk_panel",
        "bd_bentuk_panel", "bd_sidang_banding", "bd_kirim_surat_hasil"]
    (heard,) = [e for e in history(engine, complaint, "task_completed")
                if e.element_id == "bd_sidang_banding"]
    assert heard.actor == LINA.username
    ended = elements(engine, complaint, "element_completed")
    assert {"bd_periksa_panel", "end_banding", "kl_banding", "end_kl_banding"} <= set(ended)
    assert "bd_ajukan_banding" not in elements(engine, complaint, "task_completed")


# -- appeals filed by the customer ----------------------------------------------------------

def issue_certificate(engine: Engine) -> Certificate:
    with engine.write() as s:
        issued = CertificateRegister(s.session, engine.clock, LSPRO).issue(
            company=COMPANY, product_code="BISKUIT", sni="SNI 2973:2022", scheme_type=5,
            brands=[{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
            application_number=APPLICATION, actor="hadi.kepala-balai")
        s.session.expunge(issued)
    return issued


def file_appeal(engine: Engine, number: str) -> str:
    appeal = start(engine, "banding", CUSTOMER)
    assert ready_ids(engine, appeal) == ["bd_ajukan_banding"]
    assert variables(engine, appeal)["asal_banding"] == "pelanggan"
    submit(engine, appeal, "bd_ajukan_banding", {
        "nomor_sertifikat": number,
        "pokok_banding": "Merek pada sertifikat tertulis 'Kukis Nyiru', seharusnya "
                         "'Kukis Nyiur'."})
    submit(engine, appeal, "bd_catat_banding",
           {"tanggal_diterima": "2027-03-01", "media_tanda_terima": "surel"})
    submit(engine, appeal, "bd_disposisi", {"disposisi": "Periksa kesalahan redaksional."})
    submit(engine, appeal, "bd_periksa_banding", {
        "nomor_permohonan": APPLICATION, "jenis_banding": "editorial",
        "hasil_pemeriksaan_banding": "Salah ketik nama merek pada sertifikat."})
    return appeal


def test_an_editorial_appeal_withdraws_the_certificate_and_reissues_it_with_a_new_number(
        engine: Engine, clock: FrozenClock) -> None:
    old = issue_certificate(engine)
    clock.advance(timedelta(days=30))
    appeal = file_appeal(engine, old.number)
    number = instance(engine, appeal).business_key
    assert number is not None and re.fullmatch(r"BDG-2027-\d{5}", number)
    submit(engine, appeal, "bd_putuskan_koreksi", {
        "nomor_sertifikat": old.number, "hasil_banding": "dikabulkan",
        "koreksi": "Nama merek 'Kukis Nyiru' dikoreksi menjadi 'Kukis Nyiur'.",
        "koreksi_merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
        "keputusan_banding": "Kesalahan redaksional terbukti; sertifikat diganti."})

    # The register: the old certificate is withdrawn, the new one has a new number.
    data = variables(engine, appeal)
    new_number = data["nomor_sertifikat"]
    assert data["nomor_sertifikat_lama"] == old.number and new_number != old.number
    withdrawn, replacement = certificate(engine, old.number), certificate(engine, new_number)
    assert (withdrawn.state, withdrawn.superseded_by) == ("ditarik", replacement.id)
    assert replacement.state == "aktif" and replacement.supersedes == withdrawn.id
    assert replacement.sequence != withdrawn.sequence
    assert replacement.expires_on == withdrawn.expires_on  # a correction does not extend it
    assert (replacement.company, replacement.application_number) == (COMPANY, APPLICATION)
    with engine.read() as s:
        events = s.session.execute(
            sa.select(CertificateEvent.certificate_id, CertificateEvent.kind,
                      CertificateEvent.to_state, CertificateEvent.instance_id)
            .where(CertificateEvent.instance_id == appeal).order_by(CertificateEvent.id)).all()
        certificate_document = s.documents.get(data["dokumen_sertifikat"])
        surveillance = s.session.scalars(sa.select(ProcessInstance).where(
            ProcessInstance.definition_key == "surveilan_sertifikat")).one()
    assert [tuple(e) for e in events] == [
        (withdrawn.id, "withdrawn", "ditarik", appeal), (replacement.id, "issued", "aktif", appeal)]
    assert certificate_document.instance_id == appeal
    # The replacement has its own surveillance cycle, keyed by its number.
    assert (surveillance.business_key, surveillance.company, surveillance.status) == (
        new_number, COMPANY, "running")
    (started,) = history(engine, appeal, "process_started")
    assert started.element_id == "bd_mulai_surveilan"
    assert started.data is not None and started.data["business_key"] == new_number

    text = letter(engine, appeal, "surat_hasil_banding")
    assert old.number in text and new_number in text and number in text
    submit(engine, appeal, "bd_kirim_surat_hasil", SENT)
    assert instance(engine, appeal).status == "completed"
    assert elements(engine, appeal, "task_completed") == [
        "bd_ajukan_banding", "bd_catat_banding", "bd_disposisi", "bd_periksa_banding",
        "bd_putuskan_koreksi", "bd_kirim_surat_hasil"]
    ended = elements(engine, appeal, "element_completed")
    assert {"bd_tentukan_asal", "bd_buka_perkara", "bd_terbitkan_ulang",
            "bd_surat_hasil_banding", "end_banding"} <= set(ended)
    assert "bd_bentuk_panel" not in elements(engine, appeal, "task_completed")


def test_a_refused_editorial_appeal_leaves_the_certificate_as_it_is(engine: Engine) -> None:
    old = issue_certificate(engine)
    appeal = file_appeal(engine, old.number)
    submit(engine, appeal, "bd_putuskan_koreksi", {
        "nomor_sertifikat": old.number, "hasil_banding": "ditolak",
        "keputusan_banding": "Nama merek pada sertifikat sesuai sertifikat merek DJKI."})
    assert ready_ids(engine, appeal) == ["bd_kirim_surat_hasil"]
    assert certificate(engine, old.number).state == "aktif"
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
    assert "ditolak" in letter(engine, appeal, "surat_hasil_banding")
    submit(engine, appeal, "bd_kirim_surat_hasil", SENT)
    assert instance(engine, appeal).status == "completed"
    assert "bd_terbitkan_ulang" not in elements(engine, appeal, "element_completed")


# -- brand disputes ---------------------------------------------------------------------------

def application_under_review(engine: Engine, clock: FrozenClock) -> tuple[str, str]:
    """An application filed and found complete: the review is open. Returns (id, number)."""
    application = start(engine, "permohonan_sertifikasi", CUSTOMER)
    submit(engine, application, "p_ajukan_permohonan", BISKUIT, CUSTOMER,
           documents=tuple(f"dok_{key}" for key in APPLICATION_DOCUMENTS))
    number = instance(engine, application).business_key
    assert number is not None and number.startswith("PRM-")
    clock.advance(timedelta(hours=1))
    submit(engine, application, "p_periksa_kelengkapan", {"dokumen_lengkap": True},
           STAFF["administrasi"])
    assert ready_ids(engine, application) == ["p_kaji_ulang_permohonan"]
    return application, number


def open_dispute(engine: Engine, number: str, brand: str) -> str:
    """The Head of Operations records a dispute over ``brand`` and finds it real."""
    dispute = start(engine, "sengketa_merek", STAFF["koordinator-pk"], company=None)
    submit(engine, dispute, "sg_catat_sengketa", {
        "nomor_permohonan": number, "perusahaan": COMPANY, "merek": brand,
        "pihak_lain": "CV Nyiur Lain", "catatan_sengketa": f"CV Nyiur Lain mengklaim {brand}."})
    submit(engine, dispute, "sg_periksa_merek", {
        "nomor_pendaftaran_merek": "IDM000123456", "pemilik_merek_terdaftar": "CV Nyiur Lain",
        "hasil_pemeriksaan_merek": "diperselisihkan",
        "catatan_pemeriksaan_merek": "Terdaftar atas nama pihak lain; pemohon menyanggah."})
    return dispute


def clarify(engine: Engine, case: str, owned: bool) -> None:
    with engine.write() as s:
        s.runtime.correlate_message(
            "klarifikasi_kemenkumham", business_key=case, actor="kemenkumham",
            variables={"merek_sah_milik_pemohon": owned,
                       "nomor_surat_kemenkumham": "HKI.4-KI.06.07-0123"})


def test_a_brand_dispute_holds_the_application_until_kemenkumham_clarifies(
        engine: Engine, clock: FrozenClock) -> None:
    application, number = application_under_review(engine, clock)
    review = task_of(engine, application, "p_kaji_ulang_permohonan")
    clock.advance(timedelta(hours=2))
    before_hold, running = used_days(engine, application)
    assert running and before_hold > 0

    dispute = open_dispute(engine, number, "Kukis Nyiur")
    case = instance(engine, dispute).business_key
    assert case is not None and re.fullmatch(r"SGK-2027-\d{5}", case)
    assert variables(engine, dispute)["nomor_perkara"] == case

    # instance.hold suspended the application; the dispute informs the customer.
    assert instance(engine, application).status == "suspended"
    (held,) = history(engine, application, "instance_suspended")
    assert held.data is not None and "sg_tangguhkan_proses" in held.data["reason"]
    text = letter(engine, dispute, "surat_penangguhan_proses")
    assert number in text and case in text and "Kukis Nyiur" in text and COMPANY in text
    submit(engine, dispute, "sg_informasikan_penangguhan", SENT)

    # Ten days on hold: the review cannot be done and the service clock does not run.
    clock.advance(timedelta(days=10))
    assert used_days(engine, application) == (before_hold, False)
    with engine.write() as s, pytest.raises(InstanceNotRunning):
        s.runtime.complete_task(review.id, {"permohonan_diterima": True},
                                actor="citra.subkoordinator")
    with engine.read() as s:
        waiting = s.session.scalars(sa.select(EventSubscription.instance_id).where(
            EventSubscription.name == "klarifikasi_kemenkumham")).all()
    assert waiting == [dispute]
    with pytest.raises(NotFound):  # the clarification is correlated by the dispute's number
        clarify(engine, number, owned=True)

    clarify(engine, case, owned=True)
    assert instance(engine, application).status == "running"
    assert len(history(engine, application, "instance_resumed")) == 1
    text = letter(engine, dispute, "surat_kelanjutan_proses")
    assert "HKI.4-KI.06.07-0123" in text and number in text
    submit(engine, dispute, "sg_kirim_surat_kelanjutan", SENT)
    assert instance(engine, dispute).status == "completed"
    assert elements(engine, dispute, "task_completed") == [
        "sg_catat_sengketa", "sg_periksa_merek", "sg_informasikan_penangguhan",
        "sg_kirim_surat_kelanjutan"]
    assert "sg_tetapkan_lingkup" not in elements(engine, dispute, "element_completed")

    # The clock runs again from the release; the held days never count.
    released_at = clock.now()
    assert used_days(engine, application) == (pytest.approx(before_hold, abs=1e-3), True)
    clock.advance(timedelta(hours=3))
    counted = engine.calendar.working_days_between(released_at, clock.now())
    assert used_days(engine, application)[0] == pytest.approx(before_hold + counted, abs=1e-3)
    assert task_of(engine, application, "p_kaji_ulang_permohonan").id == review.id
    submit(engine, application, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Merek telah dipastikan."},
        STAFF["subkoordinator-sertifikasi"])
    assert [t.element_id for t in timers_of(engine, application)] == ["p_batas_pembayaran"]


def timers_of(engine: Engine, instance_id: str) -> list[Timer]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Timer).where(Timer.instance_id == instance_id)))


def test_held_timers_do_not_fire_and_a_brand_found_not_the_applicants_is_left_out(
        engine: Engine, clock: FrozenClock) -> None:
    application, number = application_under_review(engine, clock)
    submit(engine, application, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."},
        STAFF["subkoordinator-sertifikasi"])
    (deadline,) = timers_of(engine, application)
    assert deadline.element_id == "p_batas_pembayaran"
    kode_billing = variables(engine, application)["kode_billing"]

    dispute = open_dispute(engine, number, "Nyiur Emas")
    case = instance(engine, dispute).business_key
    assert instance(engine, application).status == "suspended"
    submit(engine, dispute, "sg_informasikan_penangguhan", SENT)

    # Past the payment deadline while held: the sweep leaves the timer alone, and a
    # payment cannot be booked to a held application.
    clock.set(deadline.due_at + timedelta(days=1))
    assert TimerSweep(engine).run_once() == 0
    assert [t.id for t in timers_of(engine, application)] == [deadline.id]
    assert history(engine, application, "timer_fired") == []
    with engine.write() as s, pytest.raises(InstanceNotRunning):
        s.runtime.correlate_message(
            "pembayaran_diterima", business_key=number, actor="bank-persepsi",
            variables={"kode_billing": kode_billing, "ntpn": "0A1B2C3D4E5F6G7H",
                       "tanggal_bayar": "2027-03-20"})

    # Kemenkumham: the brand is not the applicant's. The application goes on without it.
    clarify(engine, case, owned=False)
    assert instance(engine, application).status == "suspended"  # not before the decision
    submit(engine, dispute, "sg_tetapkan_lingkup", {
        "merek_dikeluarkan": "Nyiur Emas",
        "catatan_koreksi_lingkup": "Nyiur Emas (plastik 90 g) dikeluarkan; Kukis Nyiur tetap."})
    assert instance(engine, application).status == "running"
    text = letter(engine, dispute, "surat_kelanjutan_proses")
    assert number in text and case is not None and case in text
    submit(engine, dispute, "sg_kirim_surat_kelanjutan", SENT)
    assert instance(engine, dispute).status == "completed"
    ended = elements(engine, dispute, "element_completed")
    assert {"sg_tangguhkan_proses", "sg_lanjutkan_proses", "end_sg_dilanjutkan"} <= set(ended)

    # Released, the overdue deadline is due again at the next sweep: the hold paused it,
    # it did not move it (processes/README.md).
    assert TimerSweep(engine).run_once() == 1
    assert elements(engine, application, "timer_fired") == ["p_batas_pembayaran"]
    with engine.read() as s:
        (bill,) = s.session.scalars(sa.select(Invoice).where(Invoice.subject == number)).all()
    assert bill.state == "kedaluwarsa"


def test_no_dispute_found_leaves_the_application_running(
        engine: Engine, clock: FrozenClock) -> None:
    application, number = application_under_review(engine, clock)
    dispute = start(engine, "sengketa_merek", STAFF["koordinator-pk"], company=None)
    submit(engine, dispute, "sg_catat_sengketa", {
        "nomor_permohonan": number, "perusahaan": COMPANY, "merek": "Kukis Nyiur",
        "pihak_lain": "CV Nyiur Lain", "catatan_sengketa": "Laporan pihak lain."})
    submit(engine, dispute, "sg_periksa_merek", {
        "hasil_pemeriksaan_merek": "sesuai",
        "catatan_pemeriksaan_merek": "Terdaftar atas nama pemohon (IDM000654321)."})
    assert instance(engine, dispute).status == "completed"
    assert instance(engine, application).status == "running"
    assert history(engine, application, "instance_suspended") == []
    assert "end_sg_tidak_sengketa" in elements(engine, dispute, "element_completed")
