"""processes/keputusan_sertifikasi.bpmn: the panel, the grant and the certificate in hand.

The decision process (SOP AP 2.2.1-3 steps 12-17 with the Manado grant procedure)
runs as the call activity of sertifikasi_produk, so every scenario starts an
application there and walks it through the real files of processes/ and forms/,
with the real domain handlers: the panel register, the letters, the certificate
register and the start of the surveillance cycle. Tasks are completed through
their forms, as the API completes them (driver.py).
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from api import create_app
from engine.composition import Engine
from engine.errors import Forbidden, InvalidInput
from engine.models import (
    Document,
    HistoryEvent,
    Notification,
    SlaBreach,
)
from engine.time.clock import FrozenClock
from lspro.certificates import add_months
from lspro.documents.values import indonesian_date
from lspro.models import Certificate, CertificateEvent, PanelMember
from tests.pdfread import pdf_links
from tests.people import PASSWORD, add_users
from tests.processes.driver import Driver
from tests.processes.entries import (
    ADA_NCR,
    ADA_TEMUAN,
    APPLICATION,
    BELUM_EFEKTIF,
    BELUM_TERPENUHI,
    BUSINESS_KEY,
    COMPANY,
    DISETUJUI,
    DOC,
    EFEKTIF,
    GRANT,
    HASIL_UJI,
    SESUAI,
    TANPA_NCR,
    TANPA_TEMUAN,
    TERPENUHI,
    TO_STAGE_1,
)
from tests.processes.steps import EVALUATORS

MESSAGE = "hasil_uji_diterima"
SURVEILLANCE = "surveilan_sertifikat"  # the process the grant starts
NUMBER = re.compile(r"\d{4}/LSPr-034-IDN/2973/2027")


def letter_number(code: str) -> re.Pattern[str]:
    """A letter number: sequence, the template's code, the LSPro, the month, the year."""
    return re.compile(rf"\d{{4}}/{code}/LSPr-034-IDN/[IVX]+/2027")


def to_panel(driver: Driver, instance_id: str) -> None:
    """Steps 1-11 without findings or NCRs, and the lab report: step 12 is ready."""
    driver.walk(instance_id, [
        *TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN), ("s08_pengambilan_contoh", {}),
        ("s08_audit_tahap_2", {}), ("s09_susun_laporan_audit", TANPA_NCR),
        ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    assert driver.ready_ids(instance_id) == ["s12_siapkan_rapat_tim_teknis"]


def certificates(engine: Engine) -> list[Certificate]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == BUSINESS_KEY)))


def panel(engine: Engine) -> list[tuple[str, str]]:
    with engine.read() as s:
        return [(m.username, m.source) for m in s.session.scalars(
            sa.select(PanelMember).where(PanelMember.application_number == BUSINESS_KEY,
                                         PanelMember.kind == "original")
            .order_by(PanelMember.id))]


def event_order(driver: Driver, instance_id: str) -> list[tuple[str, str | None]]:
    """(kind, element) of the task and engine steps of an instance, in order."""
    return [(e.kind, e.element_id)
            for e in driver.events(instance_id, "task_completed", "element_completed")]


# -- the panel ---------------------------------------------------------------------------------

def test_not_fulfilled_sends_a_deficiency_letter_and_the_clarified_application_passes(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    cal = engine.calendar
    to_panel(driver, instance_id)
    step_12 = driver.task_of(instance_id, "s12_siapkan_rapat_tim_teknis")
    assert step_12.due_at == cal.add(step_12.created_at, "P1D")
    driver.complete(instance_id, "s12_siapkan_rapat_tim_teknis")
    review = driver.task_of(instance_id, "s13_bahas_dan_rekomendasi")
    assert review.due_at == cal.add(review.created_at, "P1D")
    assert panel(engine) == []  # recorded once the panel has spoken

    clock.advance(timedelta(hours=2))
    driver.complete(instance_id, "s13_bahas_dan_rekomendasi", BELUM_TERPENUHI)
    assert driver.ready_ids(instance_id) == ["k13_kirim_surat_kekurangan"]
    # The panel: who completed step 13, then who was named in step 12.
    assert panel(engine) == [("gita.tim-teknis", "completed"), ("joko.tim-teknis", "declared")]
    letter = driver.variables(instance_id)
    assert letter_number("SKP").fullmatch(letter["nomor_surat_surat_kekurangan"])
    document, text = driver.document_text(letter["dokumen_surat_kekurangan"])
    assert document.instance_id == instance_id and document.content_type == "application/pdf"
    assert BELUM_TERPENUHI["catatan_rekomendasi"] in text
    assert letter["nomor_surat_surat_kekurangan"] in text and BUSINESS_KEY in text

    send = driver.task_of(instance_id, "k13_kirim_surat_kekurangan")
    assert send.due_at == cal.add(send.created_at, "P1D")
    driver.complete(instance_id, "k13_kirim_surat_kekurangan")
    answer = driver.task_of(instance_id, "k13_klarifikasi_pelanggan")
    assert answer.lane == "pelanggan" and answer.company == COMPANY
    assert answer.due_at == cal.add(answer.created_at, "P14D")
    assert answer.due_at > answer.created_at + timedelta(days=18)  # working days
    clock.advance(timedelta(days=5))
    driver.complete(instance_id, "k13_klarifikasi_pelanggan",
                    {"dok_klarifikasi_pelanggan": DOC})

    # The re-review sees the clarification; another member gives the recommendation.
    again = driver.task_of(instance_id, "s13_bahas_dan_rekomendasi")
    with engine.read() as s:
        shown = s.runtime.task_data(s.runtime.instance(instance_id), again.id)
    assert shown["klarifikasi_pelanggan"] == "Label kemasan telah diperbaiki."
    assert shown["dok_klarifikasi_pelanggan"]["name"] == "dok_klarifikasi_pelanggan.pdf"
    driver.complete(instance_id, "s13_bahas_dan_rekomendasi", TERPENUHI,
                    actor="joko.tim-teknis")
    assert driver.ready_ids(instance_id) == ["m14_siapkan_perjanjian_tanda_sni"]
    assert panel(engine) == [("gita.tim-teknis", "completed"), ("joko.tim-teknis", "declared")]
    assert driver.variables(instance_id)["panel_asli"] == ["gita.tim-teknis",
                                                           "joko.tim-teknis"]
    assert event_order(driver, instance_id)[-11:] == [
        ("element_completed", "start_keputusan"),
        ("task_completed", "s12_siapkan_rapat_tim_teknis"),
        ("task_completed", "s13_bahas_dan_rekomendasi"),
        ("element_completed", "svc_catat_panel"), ("element_completed", "gw_rekomendasi"),
        ("element_completed", "svc_surat_kekurangan"),
        ("task_completed", "k13_kirim_surat_kekurangan"),
        ("task_completed", "k13_klarifikasi_pelanggan"),
        ("task_completed", "s13_bahas_dan_rekomendasi"),
        ("element_completed", "svc_catat_panel"), ("element_completed", "gw_rekomendasi")]


# -- the grant ----------------------------------------------------------------------------------

def test_the_grant_issues_the_certificate_hands_it_over_and_starts_surveillance(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    # The whole application: stage-1 findings, a round of NCRs, the lab, then the panel.
    driver.walk(instance_id, [*TO_STAGE_1, ("s06_audit_tahap_1", ADA_TEMUAN)])
    follow_up = driver.task_of(instance_id, "s07_tindak_lanjut_audit_tahap_1")
    with engine.read() as s:
        shown = s.runtime.task_data(s.runtime.instance(instance_id), follow_up.id)
        (stage_1_report,) = s.session.scalars(sa.select(Document).where(
            Document.instance_id == instance_id, Document.field == "dok_laporan_audit_tahap1"))
    assert shown["uraian_temuan_tahap1"] == ADA_TEMUAN["uraian_temuan_tahap1"]
    assert shown["dok_laporan_audit_tahap1"]["id"] == stage_1_report.id
    assert stage_1_report.uploaded_by == "dedi.auditor"
    driver.walk(instance_id, [
        ("s07_tindak_lanjut_audit_tahap_1", {}), ("s08_pengambilan_contoh", {}),
        ("s08_audit_tahap_2", {}), ("s09_susun_laporan_audit", ADA_NCR),
        ("s10_selesaikan_temuan", {}), ("s11_evaluasi_tindak_lanjut", BELUM_EFEKTIF),
        ("s10_selesaikan_temuan", {}), ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    assert certificates(engine) == [] and driver.instances_of(SURVEILLANCE) == []
    driver.walk(instance_id, GRANT[:-1])
    signed_on = clock.now().astimezone(engine.settings.timezone).date()
    assert driver.ready_ids(instance_id) == ["s17_serahkan_sertifikat"]

    # Signing put the certificate in the register, active for four years.
    (certificate,) = certificates(engine)
    assert NUMBER.fullmatch(certificate.number)
    assert (certificate.state, certificate.company, certificate.product_code,
            certificate.sni, certificate.scheme_type) == (
        "aktif", COMPANY, "BISKUIT", "SNI 2973:2022", 5)
    assert certificate.brands == APPLICATION["merek_kemasan"]
    assert certificate.instance_id == instance_id and certificate.handed_over_at is None
    assert certificate.issued_on == signed_on == date(2027, 3, 2)
    assert certificate.expires_on == add_months(signed_on, 48) - timedelta(days=1)
    found = driver.variables(instance_id)
    assert found["nomor_sertifikat"] == certificate.number
    assert found["berlaku_sampai"] == certificate.expires_on.isoformat()
    _, sppt = driver.document_text(found["dokumen_sertifikat"])
    assert certificate.number in sppt and COMPANY in sppt
    ba, minutes = driver.document_text(found["dokumen_berita_acara_serah_terima"])
    assert ba.instance_id == instance_id
    assert "F.52.01.00.2014" in minutes and certificate.number in minutes
    assert letter_number("BAST").fullmatch(found["nomor_surat_berita_acara_serah_terima"])
    # The SNI mark use agreement was signed before the certificate was issued.
    order = [e for _, e in event_order(driver, instance_id)]
    assert (order.index("m14_tandatangani_perjanjian_tanda_sni")
            < order.index("s16_sahkan_sertifikat") < order.index("svc_terbitkan_sertifikat")
            < order.index("svc_berita_acara_serah_terima"))
    # Surveillance starts only once the certificate is in the customer's hand.
    assert driver.instances_of(SURVEILLANCE) == []

    handover = driver.task_of(instance_id, "s17_serahkan_sertifikat")
    assert handover.due_at == engine.calendar.add(handover.created_at, "PT1H")
    clock.advance(timedelta(minutes=40))
    driver.complete(instance_id, "s17_serahkan_sertifikat")
    assert driver.status(instance_id) == "completed"
    with engine.read() as s:
        handed = s.session.get(Certificate, certificate.id)
        assert handed is not None and handed.handed_over_at == clock.now()
        events = [(e.kind, e.from_state, e.to_state, e.instance_id) for e in s.session.scalars(
            sa.select(CertificateEvent).where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id))]
        (receipt,) = s.session.scalars(sa.select(Document).where(
            Document.instance_id == instance_id,
            Document.field == "dok_tanda_terima_sertifikat"))
    assert events == [("issued", None, "aktif", instance_id),
                      ("handed_over", "aktif", "aktif", instance_id)]
    assert receipt.task_id == handover.id

    # The surveillance cycle is its own instance, keyed by the certificate number.
    (surveillance,) = driver.instances_of(SURVEILLANCE)
    assert (surveillance.business_key, surveillance.company, surveillance.status) == (
        certificate.number, COMPANY, "running")
    with engine.read() as s:
        handed_on = s.runtime.variables(s.runtime.instance(surveillance.id))
        started = s.session.scalars(sa.select(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id,
            HistoryEvent.kind == "process_started")).one()
    assert {k: handed_on[k] for k in ("nomor_sertifikat", "nomor_permohonan", "produk", "sni",
                                       "berlaku_sampai")} == {
        "nomor_sertifikat": certificate.number, "nomor_permohonan": BUSINESS_KEY,
        "produk": "BISKUIT", "sni": "SNI 2973:2022",
        "berlaku_sampai": certificate.expires_on.isoformat()}
    assert started.element_id == "svc_mulai_surveilan"
    assert started.data == {"process": "surveilan_sertifikat", "instance_id": surveillance.id,
                            "business_key": certificate.number}
    # The handover is recorded, surveillance starts, and the call activity returns.
    assert event_order(driver, instance_id)[-6:] == [
        ("task_completed", "s17_serahkan_sertifikat"),
        ("element_completed", "svc_catat_serah_terima"),
        ("element_completed", "svc_mulai_surveilan"),
        ("element_completed", "end_sppt_sni_diserahkan"),
        ("element_completed", "ca_keputusan_sertifikasi"),
        ("element_completed", "end_sertifikat_diserahkan")]


def test_whoever_audited_the_application_may_not_initial_or_sign_the_certificate(
        driver: Driver, engine: Engine, instance_id: str) -> None:
    both = "rudi.auditor-dan-kepala-balai"  # one person holding both roles
    driver.add_team({both: ("auditor", "Rudi Hartono")})  # picked as the lead auditor
    driver.walk(instance_id, [(element, {"lead_auditor": both}
                               if element == "s03_siapkan_usulan_tim" else values)
                              for element, values in TO_STAGE_1])
    driver.complete(instance_id, "s06_audit_tahap_1", TANPA_TEMUAN, actor=both)
    driver.walk(instance_id, [
        ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
        ("s09_susun_laporan_audit", TANPA_NCR), ("s11_evaluasi_tindak_lanjut", EFEKTIF)])
    driver.lab_report(BUSINESS_KEY, HASIL_UJI)
    driver.walk(instance_id, GRANT[:6])
    initials = driver.task_of(instance_id, "a16_paraf_konsep_sertifikat")
    assert initials.properties["excludeCompletersOf"] == EVALUATORS
    with pytest.raises(Forbidden, match="s06_audit_tahap_1"):
        driver.complete(instance_id, "a16_paraf_konsep_sertifikat", DISETUJUI, actor=both)
    with engine.write() as s, pytest.raises(Forbidden):
        s.runtime.claim_task(initials.id, both)
    driver.complete(instance_id, "a16_paraf_konsep_sertifikat", DISETUJUI)
    signing = driver.task_of(instance_id, "s16_sahkan_sertifikat")
    assert signing.properties["excludeCompletersOf"] == EVALUATORS
    with pytest.raises(Forbidden, match="separation of duties"):
        driver.complete(instance_id, "s16_sahkan_sertifikat", actor=both)
    assert certificates(engine) == []  # the refused signature issued nothing
    driver.complete(instance_id, "s16_sahkan_sertifikat")
    (certificate,) = certificates(engine)
    assert certificate.state == "aktif"
    [signer] = [e.actor for e in driver.events(instance_id, "task_completed")
                if e.element_id == "s16_sahkan_sertifikat"]
    assert signer == "hadi.kepala-balai"


def test_the_drafter_may_not_verify_and_returned_drafts_go_back_to_step_14(
        driver: Driver, engine: Engine, instance_id: str) -> None:
    to_panel(driver, instance_id)
    driver.walk(instance_id, GRANT[:5])
    verify = driver.task_of(instance_id, "s15_verifikasi_sertifikat")
    assert verify.properties["excludeCompletersOf"] == "s14_terbitkan_sertifikat"
    with pytest.raises(Forbidden, match="s14_terbitkan_sertifikat"):
        driver.complete(instance_id, "s15_verifikasi_sertifikat", SESUAI,
                        actor="citra.subkoordinator")
    driver.complete(instance_id, "s15_verifikasi_sertifikat", {
        "konsep_sertifikat_sesuai": False,
        "catatan_verifikasi": "Kemasan 150 g belum tercantum."})
    assert driver.ready_ids(instance_id) == ["s14_terbitkan_sertifikat"]
    scope = [{"merek": "Renyah", "kemasan": "Kotak karton 300 g"},
             {"merek": "Renyah", "kemasan": "Pouch 150 g"}]
    driver.complete(instance_id, "s14_terbitkan_sertifikat", {"merek_kemasan": scope})
    driver.complete(instance_id, "s15_verifikasi_sertifikat", SESUAI)
    # Top management returns the draft too; it goes back to the drafter, not to the verifier.
    driver.complete(instance_id, "a16_paraf_konsep_sertifikat", {
        "konsep_disetujui": False, "catatan_paraf": "Perbaiki ejaan merek."})
    assert driver.ready_ids(instance_id) == ["s14_terbitkan_sertifikat"]
    driver.walk(instance_id, [
        ("s14_terbitkan_sertifikat", {}), ("s15_verifikasi_sertifikat", SESUAI),
        ("a16_paraf_konsep_sertifikat", DISETUJUI), ("s16_sahkan_sertifikat", {})])
    (certificate,) = certificates(engine)
    assert certificate.brands == scope  # the draft's scope is the certificate's
    assert [e for e in driver.completed_tasks(instance_id)
            if e.startswith(("s14", "s15", "a16"))] == [
        "s14_terbitkan_sertifikat", "s15_verifikasi_sertifikat", "s14_terbitkan_sertifikat",
        "s15_verifikasi_sertifikat", "a16_paraf_konsep_sertifikat", "s14_terbitkan_sertifikat",
        "s15_verifikasi_sertifikat", "a16_paraf_konsep_sertifikat"]


# -- the draft the verifier, the initials and the signature look at ------------------------------

DRAFT = "dokumen_konsep_sertifikat"
# The company profile's variables an application starts with (processes/CONTRACT.md).
PROFILE = {"alamat_perusahaan": "Jl. Piere Tendean No. 8, Manado",
           "nama_pabrik": "Pabrik Kairagi", "alamat_pabrik": "Jl. Kairagi Raya 21, Manado"}


def drafts(driver: Driver, instance_id: str) -> list[str]:
    """The ids of the instance's certificate drafts, oldest first."""
    return [d.id for d in driver.documents(instance_id) if d.field == DRAFT]


def shown_draft(engine: Engine, driver: Driver, instance_id: str, element: str) -> Any:
    """The generated draft as the ready task of ``element`` shows it (its form's data)."""
    task = driver.task_of(instance_id, element)
    with engine.read() as s:
        return s.runtime.task_data(s.runtime.instance(instance_id), task.id)[DRAFT]


def facts(text: str) -> str:
    """What a certificate states, from its holder to its validity clause."""
    return text[text.index("menyatakan bahwa:"):text.index("Sertifikat ini berlaku selama")]


def test_every_pass_renders_a_draft_of_the_certificate_to_be_which_stays_with_staff(
        driver: Driver, engine: Engine) -> None:
    driver.deploy()
    instance_id = driver.start("sertifikasi_produk", business_key=BUSINESS_KEY,
                               actor="ani.upp", company=COMPANY,
                               variables={**APPLICATION, **PROFILE})
    to_panel(driver, instance_id)
    driver.walk(instance_id, GRANT[:4])
    assert drafts(driver, instance_id) == []  # step 14 has not spoken yet
    driver.complete(instance_id, "s14_terbitkan_sertifikat", {}, documents=("konsep_sertifikat",))
    assert driver.ready_ids(instance_id) == ["s15_verifikasi_sertifikat"]

    # The draft: the certificate's facts as they will be printed, marked as a draft.
    (first,) = drafts(driver, instance_id)
    document, text = driver.document_text(first)
    assert (document.instance_id, document.content_type) == (instance_id, "application/pdf")
    assert document.name == f"konsep_sppt_sni_{BUSINESS_KEY}_1.pdf"
    today = driver.today()
    for shown in (COMPANY, *PROFILE.values(), "Biskuit", "SNI 2973:2022",
                  "skema sertifikasi tipe 5", "Renyah", "Kotak karton 300 g",
                  f"Tanggal terbit {indonesian_date(today)}",
                  f"Berlaku sampai {indonesian_date(add_months(today, 48) - timedelta(days=1))}",
                  "KONSEP — belum berlaku", "Konsep ke-1", "nomor diberikan saat terbit",
                  "belum ditandatangani"):
        assert shown in text, shown
    assert "Kode keaslian" not in text and not NUMBER.search(text)
    with engine.read() as s, s.documents.open(s.documents.get(first)) as file:
        content = file.read()
    assert pdf_links(content) == []  # no QR code leading to the check page
    # Step 15 shows it as a file next to the drafter's own upload, which stays optional.
    assert shown_draft(engine, driver, instance_id, "s15_verifikasi_sertifikat") == {
        "id": first, "name": document.name, "sha256": document.sha256,
        "size": document.size, "content_type": "application/pdf"}

    # Returning a draft needs a note; the next pass renders a new draft with the new scope.
    with pytest.raises(InvalidInput) as refused:
        driver.complete(instance_id, "s15_verifikasi_sertifikat",
                        {"konsep_sertifikat_sesuai": False})
    assert "catatan_verifikasi" in refused.value.errors
    driver.complete(instance_id, "s15_verifikasi_sertifikat", {
        "konsep_sertifikat_sesuai": False, "catatan_verifikasi": "Pouch 150 g belum ada."})
    assert drafts(driver, instance_id) == [first]
    scope = [{"merek": "Renyah", "kemasan": "Kotak karton 300 g"},
             {"merek": "Renyah", "kemasan": "Pouch 150 g"}]
    driver.complete(instance_id, "s14_terbitkan_sertifikat", {"merek_kemasan": scope})
    driver.complete(instance_id, "s15_verifikasi_sertifikat", SESUAI)
    first_again, second = drafts(driver, instance_id)
    assert first_again == first and driver.variables(instance_id)[DRAFT]["id"] == second
    assert shown_draft(engine, driver, instance_id, "a16_paraf_konsep_sertifikat")["id"] == second
    _, second_text = driver.document_text(second)
    assert "Pouch 150 g" in second_text and "Konsep ke-2" in second_text
    assert "Pouch 150 g" not in text  # the first draft is kept as it was

    with pytest.raises(InvalidInput) as refused:
        driver.complete(instance_id, "a16_paraf_konsep_sertifikat", {"konsep_disetujui": False})
    assert "catatan_paraf" in refused.value.errors
    driver.complete(instance_id, "a16_paraf_konsep_sertifikat", {
        "konsep_disetujui": False, "catatan_paraf": "Ejaan merek diperiksa ulang."})
    # Verified, initialled and signed the day of the last draft (no clock moves here).
    for element, values in (("s14_terbitkan_sertifikat", {}),
                            ("s15_verifikasi_sertifikat", SESUAI),
                            ("a16_paraf_konsep_sertifikat", DISETUJUI)):
        driver.complete(instance_id, element, values)
    *_, third = drafts(driver, instance_id)
    drafted_on = driver.today()
    assert len(drafts(driver, instance_id)) == 3
    assert shown_draft(engine, driver, instance_id, "s16_sahkan_sertifikat")["id"] == third

    # The customer never sees a draft: not in the list, not by its address (404).
    add_users(engine, {"rina.pelanggan": (["pelanggan"], COMPANY),
                       "tono.kepala-balai": (["kepala-balai"], None)})
    client = create_app(engine.settings, engine=engine, TESTING=True).test_client()

    def headers(username: str) -> dict[str, str]:
        token = client.post("/api/v1/auth/token", json={
            "username": username, "password": PASSWORD}).get_json()["token"]
        return {"Authorization": f"Bearer {token}"}

    customer, staff = headers("rina.pelanggan"), headers("tono.kepala-balai")
    listed = client.get(f"/api/v1/process-instances/{instance_id}/documents?per_page=100",
                        headers=customer)
    assert listed.status_code == 200
    seen = {d["field"] for d in listed.get_json()["items"]}
    assert "dok_perjanjian_tanda_sni" in seen and not seen & {DRAFT, "dok_konsep_sertifikat"}
    for draft_id in drafts(driver, instance_id):
        assert client.get(f"/api/v1/documents/{draft_id}", headers=customer).status_code == 404
    opened = client.get(f"/api/v1/documents/{third}", headers=staff)
    assert opened.status_code == 200 and opened.mimetype == "application/pdf"
    opened.close()
    # The signing page hands its form the draft and the address that opens it inline.
    signing = driver.task_of(instance_id, "s16_sahkan_sertifikat")
    page = create_app(engine.settings, engine=engine, TESTING=True).test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/signin").get_data(
        as_text=True))
    assert csrf is not None
    page.post("/signin", data={"username": "tono.kepala-balai", "password": PASSWORD,
                               "csrf_token": csrf.group(1)})
    shown = page.get(f"/tasks/{signing.id}").get_data(as_text=True)
    config = re.search(r'id="task-config">(.*?)</script>', shown, re.DOTALL)
    assert config is not None
    handed = json.loads(html.unescape(config.group(1)))
    assert handed["data"][DRAFT]["id"] == third
    inline = page.get(handed["documentUrl"].replace("__id__", third))
    assert inline.status_code == 200 and inline.mimetype == "application/pdf"
    assert inline.headers["Content-Disposition"].startswith("inline")  # opens in the browser
    inline.close()

    # The certificate signed states exactly what the last draft showed.
    driver.complete(instance_id, "s16_sahkan_sertifikat")
    (certificate,) = certificates(engine)
    _, third_text = driver.document_text(third)
    _, issued = driver.document_text(driver.variables(instance_id)["dokumen_sertifikat"])
    assert certificate.issued_on == drafted_on
    assert facts(issued) == facts(third_text)
    assert "Kode keaslian" in issued and "KONSEP" not in issued


def test_an_overdue_signature_is_a_breach_escalated_and_closed_when_signed(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    to_panel(driver, instance_id)
    driver.walk(instance_id, GRANT[:7])
    signing = driver.task_of(instance_id, "s16_sahkan_sertifikat")
    assert signing.due_at == engine.calendar.add(signing.created_at, "PT1H")
    clock.set(signing.due_at)
    assert driver.check_slas() == (1, 0)
    assert driver.check_slas() == (0, 0)  # recorded once
    clock.advance(timedelta(hours=3))
    driver.complete(instance_id, "s16_sahkan_sertifikat")
    with engine.read() as s:
        breaches = {b.element_id: b for b in s.session.scalars(sa.select(SlaBreach).where(
            SlaBreach.instance_id == instance_id))}
        notices = [(n.recipient_role, n.kind, n.task_id) for n in s.session.scalars(
            sa.select(Notification).where(Notification.instance_id == instance_id,
                                          Notification.kind == "sla_breach"))]
    # Step 2 (30 minutes) took the walk's hour: recorded as late when it was completed.
    assert set(breaches) == {"s02_tugaskan_subkoordinator", "s16_sahkan_sertifikat"}
    breach = breaches["s16_sahkan_sertifikat"]
    assert (breach.roles, breach.escalated_to, breach.due_at) == (
        "kepala-balai", "admin", signing.due_at)
    assert (breach.completed_at, breach.completed_by) == (clock.now(), "hadi.kepala-balai")
    assert notices == [("admin", "sla_breach", signing.id)]


# -- termination ---------------------------------------------------------------------------------

def test_ncrs_closed_too_late_terminate_the_application_without_a_certificate(
        driver: Driver, engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    driver.walk(instance_id, [
        *TO_STAGE_1, ("s06_audit_tahap_1", TANPA_TEMUAN), ("s08_pengambilan_contoh", {}),
        ("s08_audit_tahap_2", {}), ("s09_susun_laporan_audit", ADA_NCR),
        ("s10_selesaikan_temuan", {}), ("s11_evaluasi_tindak_lanjut", BELUM_EFEKTIF)])
    second = driver.task_of(instance_id, "s10_selesaikan_temuan")
    (timer,) = driver.timers(instance_id)
    assert timer.due_at == engine.calendar.add(second.created_at, "P60D") == second.due_at
    clock.set(timer.due_at + timedelta(minutes=5))
    assert driver.sweep() == 1
    assert driver.ready_ids(instance_id) == ["x_kirim_surat_penghentian"]
    notice = driver.task_of(instance_id, "x_kirim_surat_penghentian")
    assert notice.due_at == engine.calendar.add(notice.created_at, "P1D")
    found: dict[str, Any] = driver.variables(instance_id)
    assert "60 hari kerja" in found["alasan_penghentian"]
    assert found["permohonan_dihentikan"] is True  # a calling process can tell
    letter, text = driver.document_text(found["dokumen_surat_penghentian"])
    assert letter.instance_id == instance_id and found["alasan_penghentian"] in text
    assert letter_number("SHP").fullmatch(found["nomor_surat_surat_penghentian"])
    driver.complete(instance_id, "x_kirim_surat_penghentian")
    assert driver.status(instance_id) == "completed"
    assert not driver.waits_for(instance_id, MESSAGE)
    assert certificates(engine) == [] and driver.instances_of(SURVEILLANCE) == []
    assert panel(engine) == []
    assert "ca_keputusan_sertifikasi" not in driver.history(instance_id, "element_completed")
    assert driver.history(instance_id, "timer_fired") == ["t10_batas_60_hari"]
