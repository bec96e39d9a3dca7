"""Maintenance of a granted SPPT SNI: surveillance, suspension, revocation, expiry.

The real files (processes/surveilan_sertifikat.bpmn, pembekuan_sertifikat.bpmn,
pencabutan_sertifikat.bpmn and their forms) run against the real domain handlers
(``lspro_engine``). A certificate is issued through the certificate register, then
the surveillance cycle is started as ``process.start`` starts it after the grant:
business key = certificate number, the company of the application. Every task is
completed with what its form accepts (checked by the server-side validation, as
the REST API does; driver.py), and each step saves and reloads the instance. The
tests assert the register (state and its event history), the e-Billing records,
the letters, the instance history, task roles and due dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import SlaBreach, Task
from engine.tasks.taskforms import check_submission, form_for_task
from engine.time.clock import FrozenClock
from lspro.certificates import CertificateRegister
from lspro.models import Certificate, CertificateEvent, Invoice
from tests.instances import element_properties
from tests.processes.driver import FORMS, PROCESSES, Driver
from tests.processes.entries import (
    AUDIT,
    CLOSED,
    CORRECTION,
    LETTER_SENT,
    NCR,
    NO_NCR,
    PROPOSAL,
    REVOCATION_SENT,
    REVOKE,
    SAMPLING,
    SUSPEND,
    USERS,
)
from tests.settings import LSPRO

KEYS = ("surveilan_sertifikat", "pembekuan_sertifikat", "pencabutan_sertifikat")
FORM_PREFIXES = ("sv_", "bk_", "pc_")
WIB = ZoneInfo("Asia/Jakarta")
COMPANY = "PT Air Sehat Nusantara"
APPLICATION = "PRM-2027-00042"
CUSTOMER = "eka.air-sehat"
# A mineral-water SPPT SNI (scheme type 5), issued through the register on the day.
CERTIFICATE: dict[str, Any] = {
    "company": COMPANY, "product_code": "AIR_MINERAL", "sni": "SNI 3553:2023",
    "brands": [{"merek": "Sehatku", "kemasan": "botol 600 ml"}],
    "application_number": APPLICATION}


# -- helpers --------------------------------------------------------------------------------------

@pytest.fixture
def driver(lspro_engine: Engine, clock: FrozenClock) -> Driver:
    """The LSPro engine with the three maintenance processes and their forms deployed."""
    driver = Driver(lspro_engine, clock, users={**USERS, "pelanggan": CUSTOMER})
    files = [PROCESSES / f"{key}.bpmn" for key in KEYS]
    files += [p for p in sorted(FORMS.glob("*.form")) if p.name.startswith(FORM_PREFIXES)]
    result = driver.deploy(*files)
    assert {p.key for p in result.processes} == set(KEYS)
    return driver


def start_surveillance(driver: Driver, number: str) -> str:
    """Start the cycle as the grant's ``process.start`` does (business key, company, variables)."""
    return driver.start(
        "surveilan_sertifikat", business_key=number, company=COMPANY,
        variables={"nomor_sertifikat": number, "nomor_permohonan": APPLICATION,
                   "perusahaan": COMPANY})


@dataclass(frozen=True)
class Register:
    state: str
    events: list[tuple[str, str | None, str | None, str | None]]  # kind, from, to, reason
    last_surveillance_on: date | None
    revocation_published: bool
    suspension_deadline: datetime | None


def register(engine: Engine, number: str) -> Register:
    with engine.read() as s:
        certificate = s.session.scalars(
            sa.select(Certificate).where(Certificate.number == number)).one()
        events = [(e.kind, e.from_state, e.to_state, e.reason) for e in s.session.scalars(
            sa.select(CertificateEvent).where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id))]
        return Register(certificate.state, events, certificate.last_surveillance_on,
                        certificate.revocation_published, certificate.suspension_deadline)



def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def revoked_numbers(engine: Engine) -> list[str]:
    with engine.read() as s:
        page = CertificateRegister(s.session, engine.clock, LSPRO).revoked()
        return [c.number for c in page.items]


def surveillance_due(driver: Driver, instance_id: str,
                     moment: datetime) -> Invoice:
    """Let the surveillance timer fire at ``moment`` (its due time); return the new bill."""
    assert driver.timers_due(instance_id) == {"sv_tunggu_surveilan": moment}
    assert driver.sweep_at(moment - timedelta(minutes=1)) == 0
    assert driver.sweep_at(moment + timedelta(hours=8)) == 1
    assert driver.ready_ids(instance_id) == []
    return driver.invoices(driver.business_key(instance_id) or "")[-1]


def audited(driver: Driver, instance_id: str, paid: date,
            report: Mapping[str, Any]) -> None:
    """Pay on ``paid`` (09:00 that day), then audit, sample and report."""
    driver.clock.set(local(paid.year, paid.month, paid.day, 9))
    driver.pay(instance_id, on=paid, ntpn=f"NT{paid:%Y%m%d}SRV001")
    assert driver.ready_ids(instance_id) == ["sv_audit_surveilan", "sv_pengambilan_contoh"]
    driver.clock.advance(timedelta(hours=1))
    driver.complete(instance_id, "sv_pengambilan_contoh", SAMPLING)
    assert driver.ready_ids(instance_id) == ["sv_audit_surveilan"]  # the join waits
    driver.complete(instance_id, "sv_audit_surveilan", AUDIT)
    assert driver.ready_ids(instance_id) == ["sv_laporan_surveilan"]
    driver.clock.advance(timedelta(hours=1))
    driver.complete(instance_id, "sv_laporan_surveilan", report)


# -- 1. a surveillance without findings -----------------------------------------------------------

def test_a_paid_surveillance_without_findings_schedules_the_next_a_year_later(
        driver: Driver, engine: Engine) -> None:
    # Monday 1 March 2027, valid through 28 February 2031.
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = start_surveillance(driver, number)
    assert driver.ready_ids(instance_id) == []
    expected = {"status_sertifikat": "aktif", "masih_berlaku": True,
                "berlaku_sampai": "2031-02-28",
                "surveilan_berikutnya": "2028-03-01T00:00:00+07:00"}
    assert driver.variables(instance_id).items() >= expected.items()

    bill = surveillance_due(driver, instance_id, local(2028, 3, 1))
    assert (bill.subject, bill.company, bill.schedules, bill.total, bill.state) == (
        number, COMPANY, "SURVEILLANCE", 5_800_000, "terbit")
    assert bill.due_at == local(2028, 3, 15, 23, 59)  # 14 calendar days, end of the day
    assert driver.timers_due(instance_id) == {"sv_batas_pembayaran": bill.due_at}
    facts = driver.variables(instance_id)
    assert facts["kode_billing"] == bill.code and facts["total_tagihan"] == 5_800_000
    assert driver.letters(instance_id)["dokumen_tagihan"] == "application/pdf"

    audited(driver, instance_id, date(2028, 3, 6), NO_NCR)

    (paid,) = driver.invoices(number)
    assert (paid.state, paid.ntpn, paid.paid_on) == ("lunas", "NT20280306SRV001",
                                                     date(2028, 3, 6))
    after = register(engine, number)
    assert after.state == "aktif" and after.last_surveillance_on == date(2028, 3, 6)
    assert after.events == [("issued", None, "aktif", None),
                            ("surveillance_recorded", "aktif", "aktif", None)]
    # The next cycle counts from the surveillance just recorded.
    assert driver.timers_due(instance_id) == {"sv_tunggu_surveilan": local(2029, 3, 6)}
    assert driver.status(instance_id) == "running" and driver.ready_ids(instance_id) == []
    assert driver.history(instance_id, "task_completed") == [
        "sv_pengambilan_contoh", "sv_audit_surveilan", "sv_laporan_surveilan"]
    assert driver.history(instance_id, "message_received") == [None]
    done = driver.history(instance_id, "element_completed")
    assert done.count("sv_catat_surveilan") == 1 and "sv_tutup_ketidaksesuaian" not in done

    # The second year bills again; the first bill is not touched.
    second = surveillance_due(driver, instance_id, local(2029, 3, 6))
    assert second.code != paid.code and second.state == "terbit"
    assert [i.state for i in driver.invoices(number)] == ["lunas", "terbit"]


def test_the_surveillance_tasks_have_their_roles_and_working_day_dues(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = start_surveillance(driver, number)
    surveillance_due(driver, instance_id, local(2028, 3, 1))
    clock.set(local(2028, 3, 3, 16))  # Friday afternoon
    driver.pay(instance_id, on=date(2028, 3, 3))
    audit, sampling = driver.ready(instance_id)
    assert (audit.element_id, audit.candidate_groups, audit.lane) == (
        "sv_audit_surveilan", ["lead-auditor"], "lead-auditor")
    assert (sampling.element_id, sampling.candidate_groups) == (
        "sv_pengambilan_contoh", ["ppc"])
    assert element_properties(engine, audit)["calendar"] == "working-days"
    # Two working days from Friday 16:00 WIB: the weekend does not count.
    assert audit.due_at == engine.calendar.add(audit.created_at, "P2D")
    assert audit.due_at > audit.created_at + timedelta(days=3)
    assert audit.company == COMPANY  # the customer's instance, visible to the customer


# -- 2. the surveillance fee is not paid ----------------------------------------------------------

def test_an_unpaid_surveillance_fee_revokes_the_certificate(driver: Driver, engine: Engine) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = start_surveillance(driver, number)
    bill = surveillance_due(driver, instance_id, local(2028, 3, 1))
    assert driver.sweep_at(bill.due_at - timedelta(minutes=1)) == 0
    assert driver.sweep_at(bill.due_at + timedelta(minutes=1)) == 1

    assert [i.state for i in driver.invoices(number)] == ["kedaluwarsa"]
    decision = driver.task_of(instance_id, "pc_putuskan_pencabutan")
    assert decision.lane == "kepala-balai"
    facts = driver.variables(instance_id)
    assert facts["alasan_pencabutan"] == "tidak_membayar"
    assert facts["nomor_pencabutan"] == number  # called: the case is the certificate's
    assert "pc_catat_pencabutan" not in driver.history(instance_id, "element_completed")
    # The bank's late notice finds nothing waiting for it any more.
    with pytest.raises(NotFound):
        driver.pay(instance_id, on=date(2028, 3, 16))
    assert register(engine, number).state == "aktif"  # not before top management decides

    driver.complete(instance_id, "pc_putuskan_pencabutan", REVOKE)
    revoked = register(engine, number)
    assert revoked.state == "dicabut" and revoked.revocation_published
    assert revoked.events == [("issued", None, "aktif", None),
                              ("revoked", "aktif", "dicabut", "tidak_membayar")]
    assert revoked_numbers(engine) == [number]
    assert "dokumen_surat_pencabutan" in driver.letters(instance_id)
    assert driver.variables(instance_id)["nomor_surat_surat_pencabutan"]

    driver.complete(instance_id, "pc_kirim_surat_pencabutan", REVOCATION_SENT)
    assert driver.status(instance_id) == "completed"
    assert driver.timers_due(instance_id) == {}
    done = driver.history(instance_id, "element_completed")
    assert {"pc_cabut_sertifikat", "pc_selesai_dicabut", "sv_cabut_tidak_membayar",
            "sv_selesai_tidak_berlaku"} <= set(done)
    assert "sv_kedaluwarsakan_sertifikat" not in done
    assert driver.history(instance_id, "timer_fired") == [
        "sv_tunggu_surveilan", "sv_batas_pembayaran"]


# -- 3. the surveillance finds nonconformities ----------------------------------------------------

def to_suspension(driver: Driver, *, via: str) -> tuple[str, str]:
    """Surveillance with findings, left open (``via="timer"``) or not effective; then suspended.

    Returns (certificate number, surveillance instance) with the customer's correction
    task of the suspension ready.
    """
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = start_surveillance(driver, number)
    surveillance_due(driver, instance_id, local(2028, 3, 1))
    audited(driver, instance_id, date(2028, 3, 6), NCR)
    closing = driver.task_of(instance_id, "sv_tutup_ketidaksesuaian")
    assert closing.candidate_groups == ["pelanggan"]
    assert closing.due_at == driver.engine.calendar.add(closing.created_at, "P60D")
    assert driver.timers_due(instance_id) == {"sv_batas_ncr": closing.due_at}
    if via == "timer":
        assert driver.sweep_at(closing.due_at - timedelta(minutes=1)) == 0
        assert driver.sweep_at(closing.due_at + timedelta(seconds=1)) == 1
        with driver.engine.read() as s:
            assert s.session.get(Task, closing.id).state == "cancelled"
    else:
        driver.clock.advance(timedelta(days=20))
        driver.complete(instance_id, "sv_tutup_ketidaksesuaian", CLOSED)
        driver.clock.advance(timedelta(days=1))
        driver.complete(instance_id, "sv_evaluasi_tindakan",
                        {"tindakan_efektif": False, "catatan_evaluasi_surveilan": "Belum efektif."})
    # Called with the certificate and the reason: straight to the proposal.
    assert driver.ready_ids(instance_id) == ["bk_usulan_pembekuan"]
    facts = driver.variables(instance_id)
    assert facts["alasan_pembekuan"] == "ncr_tidak_ditutup"
    assert facts["nomor_pembekuan"] == number
    driver.complete(instance_id, "bk_usulan_pembekuan", PROPOSAL)
    driver.complete(instance_id, "bk_putuskan_pembekuan", SUSPEND)
    assert register(driver.engine, number).state == "dibekukan"
    driver.complete(instance_id, "bk_kirim_surat_pembekuan", LETTER_SENT)
    assert driver.ready_ids(instance_id) == ["bk_koreksi_pelanggan"]
    return number, instance_id


def test_nonconformities_not_closed_within_60_working_days_suspend_the_certificate(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    number, instance_id = to_suspension(driver, via="timer")
    suspended = register(engine, number)
    today = clock.now().astimezone(WIB).date()
    assert suspended.events[-1] == ("suspended", "aktif", "dibekukan", "ncr_tidak_ditutup")
    deadline = datetime.combine(today + timedelta(days=90), datetime.min.time(),
                                tzinfo=WIB).replace(hour=23, minute=59)
    assert suspended.suspension_deadline == deadline
    facts = driver.variables(instance_id)
    assert facts["batas_pembekuan"] == deadline.isoformat()
    assert {"dokumen_surat_pembekuan"} <= set(driver.letters(instance_id))
    correction = driver.task_of(instance_id, "bk_koreksi_pelanggan")
    assert correction.candidate_groups == ["pelanggan"]
    assert correction.due_at == deadline  # its SLA is the end of the suspension
    assert driver.timers_due(instance_id) == {"bk_batas_pembekuan": deadline}
    assert driver.history(instance_id, "timer_fired")[-1] == "sv_batas_ncr"
    assert "sv_evaluasi_tindakan" not in driver.history(instance_id, "task_completed")


def test_the_decision_to_suspend_is_not_taken_by_the_proposer_or_the_auditor(
        driver: Driver, engine: Engine) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = start_surveillance(driver, number)
    surveillance_due(driver, instance_id, local(2028, 3, 1))
    audited(driver, instance_id, date(2028, 3, 6), NCR)
    closing = driver.task_of(instance_id, "sv_tutup_ketidaksesuaian")
    assert driver.sweep_at(closing.due_at + timedelta(seconds=1)) == 1
    driver.complete(instance_id, "bk_usulan_pembekuan", PROPOSAL)
    decision = driver.task_of(instance_id, "bk_putuskan_pembekuan")
    assert decision.candidate_groups == ["kepala-balai"]
    for someone in (USERS["subkoordinator-sertifikasi"], USERS["lead-auditor"]):
        with engine.write() as s, pytest.raises(Forbidden, match="separation of duties"):
            s.runtime.complete_task(decision.id, SUSPEND, actor=someone)
    # The form holds the period to 1..180 days.
    with engine.read() as s, pytest.raises(InvalidInput) as refused:
        check_submission(form_for_task(s.session, s.session.get(Task, decision.id)),
                         {**SUSPEND, "jangka_pembekuan_hari": 181}, {})
    assert "jangka_pembekuan_hari" in refused.value.errors
    assert register(engine, number).state == "aktif"
    driver.complete(instance_id, "bk_putuskan_pembekuan", SUSPEND)
    assert register(engine, number).state == "dibekukan"


# -- 4. suspension, then reinstatement or revocation ----------------------------------------------

def test_an_adequate_correction_reinstates_the_certificate_and_the_cycle_goes_on(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    number, instance_id = to_suspension(driver, via="not effective")
    clock.advance(timedelta(days=30))
    driver.complete(instance_id, "bk_koreksi_pelanggan", CORRECTION)
    evaluation = driver.task_of(instance_id, "bk_evaluasi_koreksi")
    assert evaluation.lane == "subkoordinator-sertifikasi"
    driver.complete(
        instance_id, "bk_evaluasi_koreksi",
        {"koreksi_memadai": True, "catatan_evaluasi_koreksi": "Diverifikasi di lokasi."},
        actor=USERS["auditor"])
    assert register(engine, number).state == "aktif"
    assert driver.ready_ids(instance_id) == ["bk_kirim_surat_pemulihan"]
    driver.complete(instance_id, "bk_kirim_surat_pemulihan",
                    {"tanggal_kirim_surat_pemulihan": "2028-05-10"})

    reinstated_on = clock.now().astimezone(WIB).date()
    after = register(engine, number)
    assert [(kind, before, to) for kind, before, to, _ in after.events] == [
        ("issued", None, "aktif"),
        ("suspended", "aktif", "dibekukan"),
        ("reinstated", "dibekukan", "aktif"),
        ("surveillance_recorded", "aktif", "aktif"),
    ]
    assert after.suspension_deadline is None and after.last_surveillance_on == reinstated_on
    assert {"dokumen_surat_pembekuan", "dokumen_surat_pemulihan"} <= set(
        driver.letters(instance_id))
    done = driver.history(instance_id, "element_completed")
    assert "bk_selesai_dipulihkan" in done and "bk_cabut" not in done
    assert driver.status(instance_id) == "running"
    anniversary = reinstated_on.replace(year=reinstated_on.year + 1)
    assert driver.timers_due(instance_id) == {
        "sv_tunggu_surveilan": local(anniversary.year, anniversary.month, anniversary.day)}


def test_a_suspension_period_passing_without_correction_revokes_the_certificate(
        driver: Driver, engine: Engine) -> None:
    number, instance_id = to_suspension(driver, via="timer")
    correction = driver.task_of(instance_id, "bk_koreksi_pelanggan")
    deadline = driver.timers_due(instance_id)["bk_batas_pembekuan"]
    assert driver.sweep_at(deadline - timedelta(minutes=1)) == 0
    assert driver.sweep_at(deadline + timedelta(minutes=1)) == 1
    with engine.write() as s:
        assert s.sla.detect_breaches() == 0  # the timer answered the deadline, not a breach
        assert s.session.get(Task, correction.id).state == "cancelled"
    assert driver.variables(instance_id)["alasan_pencabutan"] == "koreksi_tidak_memadai"
    driver.complete(instance_id, "pc_putuskan_pencabutan", REVOKE)
    driver.complete(instance_id, "pc_kirim_surat_pencabutan", REVOCATION_SENT)

    revoked = register(engine, number)
    assert revoked.state == "dicabut" and revoked.revocation_published
    assert revoked.events[-2:] == [
        ("suspended", "aktif", "dibekukan", "ncr_tidak_ditutup"),
        ("revoked", "dibekukan", "dicabut", "koreksi_tidak_memadai")]
    assert revoked_numbers(engine) == [number]
    assert driver.status(instance_id) == "completed"
    done = driver.history(instance_id, "element_completed")
    assert {"bk_batas_pembekuan", "bk_selesai_dicabut", "pc_selesai_dicabut",
            "sv_selesai_tidak_berlaku"} <= set(done)
    assert "bk_pulihkan_sertifikat" not in done
    assert {"dokumen_surat_pembekuan", "dokumen_surat_pencabutan"} <= set(
        driver.letters(instance_id))


def test_an_inadequate_correction_revokes_the_certificate(driver: Driver, engine: Engine) -> None:
    number, instance_id = to_suspension(driver, via="timer")
    driver.complete(instance_id, "bk_koreksi_pelanggan", CORRECTION)
    driver.complete(
        instance_id, "bk_evaluasi_koreksi",
        {"koreksi_memadai": False, "catatan_evaluasi_koreksi": "Penyebab belum diatasi."})
    decision = driver.task_of(instance_id, "pc_putuskan_pencabutan")
    # Whoever evaluated the correction does not decide on the revocation.
    with engine.write() as s, pytest.raises(Forbidden, match="bk_evaluasi_koreksi"):
        s.runtime.complete_task(decision.id, REVOKE,
                                actor=USERS["subkoordinator-sertifikasi"])
    driver.complete(instance_id, "pc_putuskan_pencabutan", REVOKE)
    assert register(engine, number).events[-1] == (
        "revoked", "dibekukan", "dicabut", "koreksi_tidak_memadai")


# -- 5. started by staff --------------------------------------------------------------------------

def test_misuse_reported_by_staff_starts_a_suspension_directly(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    surveillance = start_surveillance(driver, number)
    clock.set(local(2027, 7, 5, 9))
    instance_id = driver.start("pembekuan_sertifikat", company=COMPANY,
                               actor=USERS["subkoordinator-sertifikasi"])
    assert driver.ready_ids(instance_id) == ["bk_catat_pembekuan"]
    driver.complete(instance_id, "bk_catat_pembekuan", {
        "nomor_sertifikat": number, "alasan_pembekuan": "penyalahgunaan",
        "uraian_pelanggaran": "Tanda SNI dibubuhkan pada merek lain yang tidak disertifikasi."})
    assert driver.business_key(instance_id) == "BKU-2027-00001"
    assert driver.variables(instance_id)["nomor_pembekuan"] == "BKU-2027-00001"
    driver.complete(
        instance_id, "bk_usulan_pembekuan",
        {"jangka_pembekuan_hari": 30, "pertimbangan_usulan_pembekuan": "Segera diperbaiki."})
    driver.complete(instance_id, "bk_putuskan_pembekuan",
                    {**SUSPEND, "jangka_pembekuan_hari": 30})
    suspended = register(engine, number)
    assert suspended.events[-1] == ("suspended", "aktif", "dibekukan", "penyalahgunaan")
    assert suspended.suspension_deadline == local(2027, 8, 4, 23, 59)
    driver.complete(
        instance_id, "bk_kirim_surat_pembekuan",
        {"tanggal_kirim_surat_pembekuan": "2027-07-06", "cara_kirim_surat_pembekuan": "surel"})
    correction = driver.task_of(instance_id, "bk_koreksi_pelanggan")
    assert correction.company == COMPANY and correction.due_at == local(2027, 8, 4, 23, 59)
    driver.complete(instance_id, "bk_koreksi_pelanggan", CORRECTION)
    driver.complete(instance_id, "bk_evaluasi_koreksi",
                    {"koreksi_memadai": True, "catatan_evaluasi_koreksi": "Label sudah ditarik."})
    driver.complete(instance_id, "bk_kirim_surat_pemulihan",
                    {"tanggal_kirim_surat_pemulihan": "2027-07-20"})
    assert driver.status(instance_id) == "completed"
    assert register(engine, number).state == "aktif"
    assert {"dokumen_surat_pembekuan", "dokumen_surat_pemulihan"} <= set(
        driver.letters(instance_id))
    # The surveillance cycle of the certificate waits on, untouched.
    assert driver.status(surveillance) == "running"
    assert driver.timers_due(surveillance) == {"sv_tunggu_surveilan": local(2028, 3, 1)}


def test_top_management_may_refuse_a_proposed_suspension(driver: Driver, engine: Engine) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = driver.start(
        "pembekuan_sertifikat", company=COMPANY, actor=USERS["subkoordinator-sertifikasi"],
        variables={"nomor_sertifikat": number, "alasan_pembekuan": "pelanggaran_lain"})
    assert driver.ready_ids(instance_id) == ["bk_usulan_pembekuan"]  # both were given
    driver.complete(instance_id, "bk_usulan_pembekuan", PROPOSAL)
    driver.complete(instance_id, "bk_putuskan_pembekuan", {
        "keputusan_pembekuan": "tidak_dibekukan", "jangka_pembekuan_hari": 90,
        "catatan_keputusan_pembekuan": "Bukti belum cukup."})
    assert driver.status(instance_id) == "completed"
    assert "bk_selesai_tidak_dibekukan" in driver.history(instance_id, "element_completed")
    assert register(engine, number).events == [("issued", None, "aktif", None)]
    assert driver.letters(instance_id) == {}


def test_a_revocation_started_by_staff_ends_the_surveillance_at_its_next_date(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    surveillance = start_surveillance(driver, number)
    clock.set(local(2027, 9, 1, 9))
    instance_id = driver.start("pencabutan_sertifikat", company=COMPANY,
                               actor=USERS["subkoordinator-sertifikasi"])
    driver.complete(instance_id, "pc_catat_pencabutan", {
        "nomor_sertifikat": number, "alasan_pencabutan": "pembatalan",
        "uraian_pencabutan": "Perusahaan menghentikan produksi dan meminta pembatalan."})
    assert driver.business_key(instance_id) == "PCB-2027-00001"
    decision = driver.task_of(instance_id, "pc_putuskan_pencabutan")
    with engine.write() as s, pytest.raises(Forbidden, match="pc_catat_pencabutan"):
        s.runtime.complete_task(decision.id, REVOKE, actor=USERS["subkoordinator-sertifikasi"])
    driver.complete(instance_id, "pc_putuskan_pencabutan", REVOKE)
    driver.complete(instance_id, "pc_kirim_surat_pencabutan", REVOCATION_SENT)
    assert driver.status(instance_id) == "completed"
    assert register(engine, number).events[-1] == ("revoked", "aktif", "dicabut", "pembatalan")

    # At the surveillance date nothing is billed: the register says it is revoked.
    assert driver.sweep_at(local(2028, 3, 1, 8)) == 1
    assert driver.status(surveillance) == "completed"
    assert driver.invoices(number) == []
    done = driver.history(surveillance, "element_completed")
    assert "sv_selesai_tidak_berlaku" in done and "sv_terbitkan_tagihan" not in done


def test_top_management_may_refuse_a_revocation(driver: Driver, engine: Engine) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = driver.start(
        "pencabutan_sertifikat", company=COMPANY, actor=USERS["subkoordinator-sertifikasi"],
        variables={"nomor_sertifikat": number, "alasan_pencabutan": "pembatalan"})
    driver.complete(instance_id, "pc_putuskan_pencabutan",
                    {"pencabutan_disetujui": False, "pertimbangan_pencabutan": "Tidak beralasan."})
    assert driver.status(instance_id) == "completed"
    assert "pc_selesai_tidak_disetujui" in driver.history(instance_id, "element_completed")
    assert register(engine, number).state == "aktif" and revoked_numbers(engine) == []


# -- 6. the end of the validity -------------------------------------------------------------------

def test_after_three_surveillances_the_certificate_expires_after_four_years(
        driver: Driver, engine: Engine) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    instance_id = start_surveillance(driver, number)
    due = local(2028, 3, 1)
    for year in (2028, 2029, 2030):
        surveillance_due(driver, instance_id, due)
        audited(driver, instance_id, date(year, 3, 6), NO_NCR)
        due = local(year + 1, 3, 6)
    # The next anniversary (6 March 2031) is after the last valid day (28 February):
    # no fourth surveillance, a recertification reminder about six months before.
    assert driver.timers_due(instance_id) == {"sv_tunggu_pengingat": local(2030, 8, 31)}
    assert driver.sweep_at(local(2030, 8, 31, 8)) == 1
    reminder = driver.task_of(instance_id, "sv_pengingat_resertifikasi")
    assert reminder.candidate_groups == ["pelanggan"] and reminder.company == COMPANY
    assert driver.timers_due(instance_id) == {"sv_masa_berlaku_habis": local(2031, 3, 1)}
    driver.complete(instance_id, "sv_pengingat_resertifikasi",
                    {"rencana_resertifikasi": "ajukan"})
    assert driver.timers_due(instance_id) == {"sv_tunggu_akhir_masa_berlaku": local(2031, 3, 1)}

    assert driver.sweep_at(local(2031, 2, 28, 23, 59)) == 0
    assert register(engine, number).state == "aktif"  # the last valid day
    assert driver.sweep_at(local(2031, 3, 1, 0, 1)) == 1
    expired = register(engine, number)
    assert expired.state == "kedaluwarsa"
    assert [kind for kind, *_ in expired.events] == [
        "issued", "surveillance_recorded", "surveillance_recorded", "surveillance_recorded",
        "expired"]
    assert expired.events[-1] == ("expired", "aktif", "kedaluwarsa", None)
    assert [(i.state, i.total) for i in driver.invoices(number)] == [("lunas", 5_800_000)] * 3
    assert driver.status(instance_id) == "completed"
    done = driver.history(instance_id, "element_completed")
    assert done[-2:] == ["sv_kedaluwarsakan_sertifikat", "sv_selesai_kedaluwarsa"]
    assert driver.history(instance_id, "task_completed").count("sv_laporan_surveilan") == 3


def test_an_ignored_reminder_is_a_breach_and_the_certificate_still_expires(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    number = driver.issue_certificate(**CERTIFICATE).number
    # Staff start the cycle late for an existing certificate, last surveyed in March 2030.
    clock.set(local(2030, 3, 10, 10))
    with engine.write() as s:
        CertificateRegister(s.session, engine.clock, LSPRO).record_surveillance(
            number, actor="citra.subkoordinator")
    instance_id = start_surveillance(driver, number)
    assert driver.timers_due(instance_id) == {"sv_tunggu_pengingat": local(2030, 8, 31)}
    assert driver.sweep_at(local(2030, 9, 1, 9)) == 1
    reminder = driver.task_of(instance_id, "sv_pengingat_resertifikasi")
    assert reminder.due_at == engine.calendar.add(reminder.created_at, "P30D")

    clock.set(reminder.due_at + timedelta(hours=1))
    with engine.write() as s:
        assert s.sla.detect_breaches() == 1
    with engine.read() as s:
        breach = s.session.scalars(sa.select(SlaBreach)).one()
    assert (breach.element_id, breach.roles, breach.escalated_to) == (
        "sv_pengingat_resertifikasi", "pelanggan", "upp")

    assert driver.sweep_at(local(2031, 3, 1, 0, 1)) == 1
    with engine.read() as s:
        assert s.session.get(Task, reminder.id).state == "cancelled"
    assert register(engine, number).state == "kedaluwarsa"
    assert driver.status(instance_id) == "completed"
    assert driver.history(instance_id, "timer_fired") == [
        "sv_tunggu_pengingat", "sv_masa_berlaku_habis"]
