"""Complaints, appeals and brand disputes (DOMAIN.md §6.3-§6.5) driven through the engine.

processes/keluhan.bpmn, banding.bpmn and sengketa_merek.bpmn are deployed with all of
processes/ and forms/ and the real domain topics. Every task is completed the way
``POST /api/v1/tasks/{id}/complete`` completes it (driver.py): the actor must be
allowed to act on the task (engine.queries access rules), and the submission is
checked against the task's form (engine.taskforms), so the forms and the processes
are proven to agree.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from engine.composition import Engine
from engine.errors import InstanceNotRunning, NotFound
from engine.identity.access import Actor
from engine.models import EventSubscription, ProcessDefinition, ProcessInstance, SlaBreach
from engine.time.clock import FrozenClock
from lspro.models import Certificate, CertificateEvent, Invoice, PanelMember
from lspro.panels import PanelService
from tests.processes.driver import FORMS, PROCESSES, Driver
from tests.processes.entries import ALWAYS, USERS
from tests.processes.steps import CASE_STEPS

COMPANY = "PT Contoh Pangan Sulawesi"
APPLICATION = "PRM-2027-00042"  # an application decided before these tests begin
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "camunda": "http://camunda.org/schema/1.0/bpmn"}

CUSTOMER = Actor.of(USERS["pelanggan"], ["pelanggan"], COMPANY)
OTHER_CUSTOMER = Actor.of("ola.pt-lain", ["pelanggan"], "PT Lain Sejahtera")
# One signed-in user per role (entries.USERS), each holding only that role.
STAFF = {role: CUSTOMER if role == "pelanggan" else Actor.of(user, [role])
         for role, user in USERS.items()}
# Technical-team members: gita and hari sat on the original panel of APPLICATION.
GITA, HARI, JOKO, LINA, MADE = (Actor.of(f"{name}.tim-teknis", ["tim-teknis"])
                                for name in ("gita", "hari", "joko", "lina", "made"))

FILES = {"keluhan": "keluhan.bpmn", "banding": "banding.bpmn",
         "sengketa_merek": "sengketa_merek.bpmn"}
SENT = {"tanggal_kirim_surat": "2027-03-05", "media_pengiriman": "surel"}

# The application of the brand-dispute tests (as tests/processes/test_permohonan.py files it).
APPLICATION_DOCUMENTS = (*ALWAYS, "bukti_smm_cppob")
BISKUIT = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"},
                      {"merek": "Nyiur Emas", "kemasan": "plastik 90 g"}],
}
# The certificate the appeals are about, as the grant issued it for APPLICATION.
CERTIFICATE: dict[str, Any] = {
    "company": COMPANY, "product_code": "BISKUIT", "sni": "SNI 2973:2022",
    "brands": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
    "application_number": APPLICATION}


# -- driving the engine as the API does ---------------------------------------------------

@pytest.fixture
def driver(lspro_engine: Engine, clock: FrozenClock) -> Driver:
    """The LSPro engine with all of processes/ and forms/, and the users panels need.

    Each role's user acts as a signed-in :class:`Actor`, so every task is also
    checked for who may act on it.
    """
    driver = Driver(lspro_engine, clock, users=STAFF)
    result = driver.deploy()
    assert set(FILES) <= {p.key for p in result.processes}
    with lspro_engine.write() as s:
        for member in (GITA, HARI, JOKO, LINA, MADE):
            s.identity.add_user(member.username, "rahasia-panel-2027", roles=["tim-teknis"])
    return driver


def certificate(engine: Engine, number: str) -> Certificate:
    with engine.read() as s:
        found = s.session.scalars(sa.select(Certificate).where(
            Certificate.number == number)).one()
        s.session.expunge(found)
        return found


def used_days(driver: Driver, instance_id: str) -> tuple[float, bool]:
    """The service clock of an instance: (days used, whether it runs now)."""
    clock = driver.service_clock(instance_id)
    return clock.used_days, clock.running_now


def record_original_panel(engine: Engine) -> None:
    """The panel that decided APPLICATION: named at step 12 (gita), step 13 done by hari."""
    with engine.write() as s:
        members = PanelService(s.session, engine.clock).record_original(
            APPLICATION, declared=[GITA.username], completed=[HARI.username])
    assert members == [HARI.username, GITA.username]


# -- the files ------------------------------------------------------------------------------

@pytest.mark.usefixtures("driver")  # all of processes/ and forms/ deployed
def test_the_three_files_have_lanes_forms_slas_and_starters(engine: Engine) -> None:
    found = {}
    for key, name in FILES.items():
        root = etree.parse(str(PROCESSES / name)).getroot()
        process = root.find("bpmn:process", NS)
        assert process is not None and process.get("id") == key
        assert process.get("isExecutable") == "true"
        lanes = {ref.text: lane.get("name") for lane in process.iterfind(".//bpmn:lane", NS)
                 for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
        for task in process.iterfind("bpmn:userTask", NS):
            element = str(task.get("id"))
            assert task.get(f"{{{NS['camunda']}}}formRef") == element
            assert (FORMS / f"{element}.form").exists(), element
            found[element] = (lanes[element], task.get(f"{{{NS['camunda']}}}dueDate"))
        starters = process.get(f"{{{NS['camunda']}}}candidateStarterGroups")
        assert starters == {"keluhan": "pelanggan", "banding": "pelanggan",
                            "sengketa_merek": "koordinator-pk,administrasi"}[key]
    assert found == CASE_STEPS
    with engine.read() as s:
        names = dict(s.session.execute(sa.select(ProcessDefinition.key, ProcessDefinition.name)
                                       .where(ProcessDefinition.key.in_(FILES))).all())
    assert names == {"keluhan": "Penanganan Keluhan", "banding": "Penanganan Banding",
                     "sengketa_merek": "Penanganan Perselisihan Merek"}


# -- complaints --------------------------------------------------------------------------------

def test_a_complaint_about_a_delay_ends_with_a_written_apology(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    complaint = driver.start("keluhan", actor=CUSTOMER, company=COMPANY)
    first = driver.task_of(complaint, "kl_ajukan_keluhan")
    assert first.company == COMPANY
    with engine.read() as s, pytest.raises(NotFound):  # another company's customer
        s.queries.actionable_task(OTHER_CUSTOMER, first.id)
    driver.complete(complaint, "kl_ajukan_keluhan", {
        "nomor_permohonan": APPLICATION, "jenis_keluhan": "keterlambatan",
        "uraian_keluhan": "Audit tahap 1 belum dijadwalkan setelah tiga minggu."})

    # case.open: the complaint number is the business key; the customer is acknowledged
    # while the sub-coordinator examines the complaint at once.
    number = driver.instance(complaint).business_key
    assert number is not None and re.fullmatch(r"KLH-2027-\d{5}", number)
    assert driver.variables(complaint)["nomor_perkara"] == number
    assert driver.ready_ids(complaint) == ["kl_kirim_tanda_terima", "kl_periksa_keluhan"]
    examine = driver.task_of(complaint, "kl_periksa_keluhan")
    driver.check_task(examine)
    assert examine.due_at == engine.calendar.add(examine.created_at, "PT2H")
    with engine.read() as s, pytest.raises(NotFound):  # the customer sees no staff task
        s.queries.actionable_task(CUSTOMER, examine.id)
    driver.complete(complaint, "kl_kirim_tanda_terima",
                    {"tanggal_tanda_terima": "2027-03-01", "media_tanda_terima": "surel"})

    # The examination is late: a breach, escalated to the Coordinator PK.
    clock.set(examine.due_at + timedelta(minutes=30))
    assert driver.check_slas()[0] == 1
    driver.complete(complaint, "kl_periksa_keluhan", {
        "jenis_keluhan": "keterlambatan",
        "hasil_pemeriksaan_keluhan": "Penugasan auditor tertunda karena auditor cuti."})
    with engine.read() as s:
        (breach,) = s.session.scalars(sa.select(SlaBreach).where(
            SlaBreach.instance_id == complaint)).all()
    assert (breach.element_id, breach.escalated_to, breach.completed_by) == (
        "kl_periksa_keluhan", "koordinator-pk", "citra.subkoordinator")

    driver.complete(complaint, "kl_telusuri_keterlambatan", {
        "penyebab_keterlambatan": "Auditor pengganti tidak ditunjuk.",
        "tindakan_perbaikan": "Auditor pengganti ditunjuk; audit dijadwalkan 8 Maret."})
    driver.complete(complaint, "kl_tetapkan_pencegahan", {
        "tindakan_pencegahan": "Daftar auditor cadangan per produk ditinjau tiap bulan.",
        "penanggung_jawab_pencegahan": "Subkoordinator Sertifikasi",
        "batas_waktu_pencegahan": "2027-04-30"})

    text = driver.letter(complaint, "surat_permohonan_maaf")
    assert "Permohonan Maaf atas Keterlambatan" in text
    assert number in text and APPLICATION in text
    assert "Auditor pengganti tidak ditunjuk." in text
    assert "Daftar auditor cadangan per produk ditinjau tiap bulan." in text
    driver.complete(complaint, "kl_kirim_surat_permohonan_maaf", SENT)

    assert driver.instance(complaint).status == "completed"
    assert driver.history(complaint, "task_completed") == [
        "kl_ajukan_keluhan", "kl_kirim_tanda_terima", "kl_periksa_keluhan",
        "kl_telusuri_keterlambatan", "kl_tetapkan_pencegahan",
        "kl_kirim_surat_permohonan_maaf"]
    ended = driver.history(complaint, "element_completed")
    assert {"kl_buka_perkara", "kl_surat_permohonan_maaf", "end_kl_tanda_terima",
            "end_kl_maaf"} <= set(ended)
    assert "kl_banding" not in ended and "end_kl_dijawab" not in ended


def test_any_other_complaint_is_answered_and_closed(driver: Driver) -> None:
    complaint = driver.start("keluhan", actor=CUSTOMER, company=COMPANY)
    driver.complete(complaint, "kl_ajukan_keluhan", {
        "jenis_keluhan": "lainnya", "uraian_keluhan": "Petugas UPP sulit dihubungi."})
    driver.complete(complaint, "kl_periksa_keluhan", {
        "jenis_keluhan": "lainnya", "hasil_pemeriksaan_keluhan": "Nomor telepon UPP berubah."})
    driver.complete(complaint, "kl_jawab_keluhan",
                    {"jawaban_keluhan": "Nomor UPP yang baru: 0431-000000; kami mohon maaf."})
    assert driver.ready_ids(complaint) == ["kl_kirim_jawaban", "kl_kirim_tanda_terima"]
    driver.complete(complaint, "kl_kirim_jawaban", SENT)
    assert driver.instance(complaint).status == "running"  # the acknowledgement is due
    driver.complete(complaint, "kl_kirim_tanda_terima",
                    {"tanggal_tanda_terima": "2027-03-01", "media_tanda_terima": "langsung"})
    assert driver.instance(complaint).status == "completed"
    ended = driver.history(complaint, "element_completed")
    assert "end_kl_dijawab" in ended and "end_kl_maaf" not in ended


def test_a_complaint_about_a_panel_decision_becomes_an_appeal_to_a_disjoint_panel(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    record_original_panel(engine)
    complaint = driver.start("keluhan", actor=CUSTOMER, company=COMPANY)
    grounds = "Tim pengkaji menilai hasil uji kadar air tanpa memeriksa laporan ulang."
    driver.complete(complaint, "kl_ajukan_keluhan", {
        "nomor_permohonan": APPLICATION, "jenis_keluhan": "keputusan_tim",
        "uraian_keluhan": grounds})
    driver.complete(complaint, "kl_kirim_tanda_terima",
                    {"tanggal_tanda_terima": "2027-03-01", "media_tanda_terima": "surel"})
    driver.complete(complaint, "kl_periksa_keluhan", {
        "jenis_keluhan": "keputusan_tim",
        "hasil_pemeriksaan_keluhan": "Keberatan atas keputusan tim pengkaji: banding."})
    number = driver.instance(complaint).business_key
    assert number is not None and number.startswith("KLH-")

    # The called appeal skips the customer's filing: its tasks belong to this instance.
    record = driver.task_of(complaint, "bd_catat_banding")
    assert record.definition_key == "keluhan" and record.company == COMPANY
    data = driver.variables(complaint)
    assert (data["asal_banding"], data["pokok_banding"], data["jenis_banding"]) == (
        "keluhan", grounds, "keputusan_tim")
    assert data["nomor_perkara"] == number  # the appeal keeps the complaint's number
    driver.complete(complaint, "bd_catat_banding",
                    {"tanggal_diterima": "2027-03-01", "media_tanda_terima": "surel"})
    driver.complete(complaint, "bd_disposisi",
                    {"disposisi": "Kabag Operasional: periksa dan bentuk tim baru bila perlu."})
    driver.complete(complaint, "bd_periksa_banding", {
        "nomor_permohonan": APPLICATION, "jenis_banding": "keputusan_tim",
        "hasil_pemeriksaan_banding": "Keberatan berdasar; perlu sidang banding."})

    # A panel with a member of the original panel, and a name that is no user, is refused.
    driver.complete(complaint, "bd_bentuk_panel",
                    {"panel_banding": "gita.tim-teknis, joko.tim-teknis, tidak.ada"})
    data = driver.variables(complaint)
    assert data["panel_banding_sah"] is False
    assert data["panel_konflik"] == [GITA.username]
    assert "gita.tim-teknis" in data["catatan_panel_banding"]
    assert "tidak.ada" in data["catatan_panel_banding"]
    assert driver.ready_ids(complaint) == ["bd_bentuk_panel"]  # formed again
    driver.complete(complaint, "bd_bentuk_panel",
                    {"panel_banding": "joko.tim-teknis, lina.tim-teknis"})
    assert driver.variables(complaint)["panel_banding_sah"] is True

    # The hearing is for the named panel only: not the lane's role, not the original panel.
    hearing = driver.task_of(complaint, "bd_sidang_banding")
    driver.check_task(hearing)
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
    driver.complete(complaint, "bd_sidang_banding", {
        "hasil_banding": "dikabulkan",
        "keputusan_banding": "Laporan uji ulang sah; permohonan dikaji ulang oleh tim baru."},
        actor=LINA)
    text = driver.letter(complaint, "surat_hasil_banding")
    assert "Hasil Penanganan Banding" in text and "dikabulkan" in text and number in text
    driver.complete(complaint, "bd_kirim_surat_hasil", SENT)

    assert driver.instance(complaint).status == "completed"
    assert driver.history(complaint, "task_completed") == [
        "kl_ajukan_keluhan", "kl_kirim_tanda_terima", "kl_periksa_keluhan",
        "bd_catat_banding", "bd_disposisi", "bd_periksa_banding", "bd_bentuk_panel",
        "bd_bentuk_panel", "bd_sidang_banding", "bd_kirim_surat_hasil"]
    (heard,) = [e for e in driver.events(complaint, "task_completed")
                if e.element_id == "bd_sidang_banding"]
    assert heard.actor == LINA.username
    ended = driver.history(complaint, "element_completed")
    assert {"bd_periksa_panel", "end_banding", "kl_banding", "end_kl_banding"} <= set(ended)
    assert "bd_ajukan_banding" not in driver.history(complaint, "task_completed")


# -- appeals filed by the customer ----------------------------------------------------------

def file_appeal(driver: Driver, number: str) -> str:
    appeal = driver.start("banding", actor=CUSTOMER, company=COMPANY)
    assert driver.ready_ids(appeal) == ["bd_ajukan_banding"]
    assert driver.variables(appeal)["asal_banding"] == "pelanggan"
    driver.complete(appeal, "bd_ajukan_banding", {
        "nomor_sertifikat": number,
        "pokok_banding": "Merek pada sertifikat tertulis 'Kukis Nyiru', seharusnya "
                         "'Kukis Nyiur'."})
    driver.complete(appeal, "bd_catat_banding",
                    {"tanggal_diterima": "2027-03-01", "media_tanda_terima": "surel"})
    driver.complete(appeal, "bd_disposisi", {"disposisi": "Periksa kesalahan redaksional."})
    driver.complete(appeal, "bd_periksa_banding", {
        "nomor_permohonan": APPLICATION, "jenis_banding": "editorial",
        "hasil_pemeriksaan_banding": "Salah ketik nama merek pada sertifikat."})
    return appeal


def test_an_editorial_appeal_withdraws_the_certificate_and_reissues_it_with_a_new_number(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    old = driver.issue_certificate(**CERTIFICATE)
    clock.advance(timedelta(days=30))
    appeal = file_appeal(driver, old.number)
    number = driver.instance(appeal).business_key
    assert number is not None and re.fullmatch(r"BDG-2027-\d{5}", number)
    driver.complete(appeal, "bd_putuskan_koreksi", {
        "nomor_sertifikat": old.number, "hasil_banding": "dikabulkan",
        "koreksi": "Nama merek 'Kukis Nyiru' dikoreksi menjadi 'Kukis Nyiur'.",
        "koreksi_merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
        "keputusan_banding": "Kesalahan redaksional terbukti; sertifikat diganti."})

    # The register: the old certificate is withdrawn, the new one has a new number.
    data = driver.variables(appeal)
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
    (started,) = driver.events(appeal, "process_started")
    assert started.element_id == "bd_mulai_surveilan"
    assert started.data is not None and started.data["business_key"] == new_number

    text = driver.letter(appeal, "surat_hasil_banding")
    assert old.number in text and new_number in text and number in text
    driver.complete(appeal, "bd_kirim_surat_hasil", SENT)
    assert driver.instance(appeal).status == "completed"
    assert driver.history(appeal, "task_completed") == [
        "bd_ajukan_banding", "bd_catat_banding", "bd_disposisi", "bd_periksa_banding",
        "bd_putuskan_koreksi", "bd_kirim_surat_hasil"]
    ended = driver.history(appeal, "element_completed")
    assert {"bd_tentukan_asal", "bd_buka_perkara", "bd_terbitkan_ulang",
            "bd_surat_hasil_banding", "end_banding"} <= set(ended)
    assert "bd_bentuk_panel" not in driver.history(appeal, "task_completed")


def test_a_refused_editorial_appeal_leaves_the_certificate_as_it_is(
        driver: Driver, engine: Engine) -> None:
    old = driver.issue_certificate(**CERTIFICATE)
    appeal = file_appeal(driver, old.number)
    driver.complete(appeal, "bd_putuskan_koreksi", {
        "nomor_sertifikat": old.number, "hasil_banding": "ditolak",
        "keputusan_banding": "Nama merek pada sertifikat sesuai sertifikat merek DJKI."})
    assert driver.ready_ids(appeal) == ["bd_kirim_surat_hasil"]
    assert certificate(engine, old.number).state == "aktif"
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
    assert "ditolak" in driver.letter(appeal, "surat_hasil_banding")
    driver.complete(appeal, "bd_kirim_surat_hasil", SENT)
    assert driver.instance(appeal).status == "completed"
    assert "bd_terbitkan_ulang" not in driver.history(appeal, "element_completed")


# -- brand disputes ---------------------------------------------------------------------------

def application_under_review(driver: Driver) -> tuple[str, str]:
    """An application filed and found complete: the review is open. Returns (id, number)."""
    application = driver.start("permohonan_sertifikasi", actor=CUSTOMER, company=COMPANY)
    driver.complete(application, "p_ajukan_permohonan", BISKUIT, actor=CUSTOMER,
                    documents=tuple(f"dok_{key}" for key in APPLICATION_DOCUMENTS))
    number = driver.instance(application).business_key
    assert number is not None and number.startswith("PRM-")
    driver.clock.advance(timedelta(hours=1))
    driver.complete(application, "p_periksa_kelengkapan", {"dokumen_lengkap": True},
                    actor=STAFF["administrasi"])
    assert driver.ready_ids(application) == ["p_kaji_ulang_permohonan"]
    return application, number


def open_dispute(driver: Driver, number: str, brand: str) -> str:
    """The Head of Operations records a dispute over ``brand`` and finds it real."""
    dispute = driver.start("sengketa_merek", actor=STAFF["koordinator-pk"], company=None)
    driver.complete(dispute, "sg_catat_sengketa", {
        "nomor_permohonan": number, "perusahaan": COMPANY, "merek": brand,
        "pihak_lain": "CV Nyiur Lain", "catatan_sengketa": f"CV Nyiur Lain mengklaim {brand}."})
    driver.complete(dispute, "sg_periksa_merek", {
        "nomor_pendaftaran_merek": "IDM000123456", "pemilik_merek_terdaftar": "CV Nyiur Lain",
        "hasil_pemeriksaan_merek": "diperselisihkan",
        "catatan_pemeriksaan_merek": "Terdaftar atas nama pihak lain; pemohon menyanggah."})
    return dispute


def clarify(driver: Driver, case: str, owned: bool) -> None:
    """Kemenkumham's answer on whose the brand is, correlated by the dispute's number."""
    driver.message("klarifikasi_kemenkumham", business_key=case, actor="kemenkumham",
                   variables={"merek_sah_milik_pemohon": owned,
                              "nomor_surat_kemenkumham": "HKI.4-KI.06.07-0123"})


def test_a_brand_dispute_holds_the_application_until_kemenkumham_clarifies(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    application, number = application_under_review(driver)
    review = driver.task_of(application, "p_kaji_ulang_permohonan")
    clock.advance(timedelta(hours=2))
    before_hold, running = used_days(driver, application)
    assert running and before_hold > 0

    dispute = open_dispute(driver, number, "Kukis Nyiur")
    case = driver.instance(dispute).business_key
    assert case is not None and re.fullmatch(r"SGK-2027-\d{5}", case)
    assert driver.variables(dispute)["nomor_perkara"] == case

    # instance.hold suspended the application; the dispute informs the customer.
    assert driver.instance(application).status == "suspended"
    (held,) = driver.events(application, "instance_suspended")
    assert held.data is not None and "sg_tangguhkan_proses" in held.data["reason"]
    text = driver.letter(dispute, "surat_penangguhan_proses")
    assert number in text and case in text and "Kukis Nyiur" in text and COMPANY in text
    driver.complete(dispute, "sg_informasikan_penangguhan", SENT)

    # Ten days on hold: the review cannot be done and the service clock does not run.
    clock.advance(timedelta(days=10))
    assert used_days(driver, application) == (before_hold, False)
    with engine.write() as s, pytest.raises(InstanceNotRunning):
        s.runtime.complete_task(review.id, {"permohonan_diterima": True},
                                actor="citra.subkoordinator")
    with engine.read() as s:
        waiting = s.session.scalars(sa.select(EventSubscription.instance_id).where(
            EventSubscription.name == "klarifikasi_kemenkumham")).all()
    assert waiting == [dispute]
    with pytest.raises(NotFound):  # the clarification is correlated by the dispute's number
        clarify(driver, number, owned=True)

    clarify(driver, case, owned=True)
    assert driver.instance(application).status == "running"
    assert len(driver.events(application, "instance_resumed")) == 1
    text = driver.letter(dispute, "surat_kelanjutan_proses")
    assert "HKI.4-KI.06.07-0123" in text and number in text
    driver.complete(dispute, "sg_kirim_surat_kelanjutan", SENT)
    assert driver.instance(dispute).status == "completed"
    assert driver.history(dispute, "task_completed") == [
        "sg_catat_sengketa", "sg_periksa_merek", "sg_informasikan_penangguhan",
        "sg_kirim_surat_kelanjutan"]
    assert "sg_tetapkan_lingkup" not in driver.history(dispute, "element_completed")

    # The clock runs again from the release; the held days never count.
    released_at = clock.now()
    assert used_days(driver, application) == (pytest.approx(before_hold, abs=1e-3), True)
    clock.advance(timedelta(hours=3))
    counted = engine.calendar.working_days_between(released_at, clock.now())
    assert used_days(driver, application)[0] == pytest.approx(before_hold + counted, abs=1e-3)
    assert driver.task_of(application, "p_kaji_ulang_permohonan").id == review.id
    driver.complete(application, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Merek telah dipastikan."},
        actor=STAFF["subkoordinator-sertifikasi"])
    assert [t.element_id for t in driver.timers(application)] == ["p_batas_pembayaran"]


def test_held_timers_do_not_fire_and_a_brand_found_not_the_applicants_is_left_out(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    application, number = application_under_review(driver)
    driver.complete(application, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."},
        actor=STAFF["subkoordinator-sertifikasi"])
    (deadline,) = driver.timers(application)
    assert deadline.element_id == "p_batas_pembayaran"
    kode_billing = driver.variables(application)["kode_billing"]

    dispute = open_dispute(driver, number, "Nyiur Emas")
    case = driver.instance(dispute).business_key
    assert driver.instance(application).status == "suspended"
    driver.complete(dispute, "sg_informasikan_penangguhan", SENT)

    # Past the payment deadline while held: the sweep leaves the timer alone, and a
    # payment cannot be booked to a held application.
    clock.set(deadline.due_at + timedelta(days=1))
    assert driver.sweep() == 0
    assert [t.id for t in driver.timers(application)] == [deadline.id]
    assert driver.events(application, "timer_fired") == []
    with pytest.raises(InstanceNotRunning):
        driver.pay(application, kode_billing=kode_billing, on=date(2027, 3, 20))

    # Kemenkumham: the brand is not the applicant's. The application goes on without it.
    clarify(driver, case, owned=False)
    assert driver.instance(application).status == "suspended"  # not before the decision
    driver.complete(dispute, "sg_tetapkan_lingkup", {
        "merek_dikeluarkan": "Nyiur Emas",
        "catatan_koreksi_lingkup": "Nyiur Emas (plastik 90 g) dikeluarkan; Kukis Nyiur tetap."})
    assert driver.instance(application).status == "running"
    text = driver.letter(dispute, "surat_kelanjutan_proses")
    assert number in text and case is not None and case in text
    driver.complete(dispute, "sg_kirim_surat_kelanjutan", SENT)
    assert driver.instance(dispute).status == "completed"
    ended = driver.history(dispute, "element_completed")
    assert {"sg_tangguhkan_proses", "sg_lanjutkan_proses", "end_sg_dilanjutkan"} <= set(ended)

    # Released, the overdue deadline is due again at the next sweep: the hold paused it,
    # it did not move it (processes/README.md).
    assert driver.sweep() == 1
    assert driver.history(application, "timer_fired") == ["p_batas_pembayaran"]
    with engine.read() as s:
        (bill,) = s.session.scalars(sa.select(Invoice).where(Invoice.subject == number)).all()
    assert bill.state == "kedaluwarsa"


def test_no_dispute_found_leaves_the_application_running(driver: Driver) -> None:
    application, number = application_under_review(driver)
    dispute = driver.start("sengketa_merek", actor=STAFF["koordinator-pk"], company=None)
    driver.complete(dispute, "sg_catat_sengketa", {
        "nomor_permohonan": number, "perusahaan": COMPANY, "merek": "Kukis Nyiur",
        "pihak_lain": "CV Nyiur Lain", "catatan_sengketa": "Laporan pihak lain."})
    driver.complete(dispute, "sg_periksa_merek", {
        "hasil_pemeriksaan_merek": "sesuai",
        "catatan_pemeriksaan_merek": "Terdaftar atas nama pemohon (IDM000654321)."})
    assert driver.instance(dispute).status == "completed"
    assert driver.instance(application).status == "running"
    assert driver.events(application, "instance_suspended") == []
    assert "end_sg_tidak_sengketa" in driver.history(dispute, "element_completed")
