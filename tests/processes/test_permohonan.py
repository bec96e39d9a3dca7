"""processes/permohonan_sertifikasi.bpmn (Manado M1-M4) driven through the engine.

All of processes/ and forms/ are deployed as ``sertiflow run`` deploys them, with
the real domain topics. Every task is completed the way ``POST
/api/v1/tasks/{id}/complete`` completes it (driver.py): the submission is checked
against the task's form (engine.taskforms) and documents are uploaded to the task
first, so these tests also prove that the forms and the process agree on every
variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.deployment.service import latest_definition
from engine.errors import InvalidInput, NotFound
from engine.models import ProcessInstance, SlaBreach, Task
from engine.time.clock import FrozenClock
from lspro.certificates import CertificateRegister
from lspro.companies import CompanyProfiles
from lspro.models import Certificate, CertificateEvent, Invoice
from tests.processes.driver import FORMS, Driver
from tests.processes.entries import (
    ALWAYS,
    AUDIT,
    NO_NCR,
    REVOCATION_SENT,
    REVOKE,
    SAMPLING,
    USERS,
)
from tests.processes.steps import APPLICATION_STEPS
from tests.settings import LSPRO

KEY = "permohonan_sertifikasi"
PAYMENT = "pembayaran_diterima"
COMPANY = "PT Contoh Pangan Sulawesi"
BISKUIT = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"},
                      {"merek": "Kukis Nyiur", "kemasan": "plastik 90 g"}],
}
INITIAL_FEE = 10_950_000
MAKLOON_FEE = 3_850_000


# -- driving the engine as the API does ------------------------------------------------------

@pytest.fixture
def driver(lspro_engine: Engine, clock: FrozenClock) -> Driver:
    """The LSPro engine with every process and form of the repository deployed."""
    driver = Driver(lspro_engine, clock)
    driver.add_team()
    result = driver.deploy()
    assert KEY in {p.key for p in result.processes}
    return driver


def start(driver: Driver) -> str:
    """The customer opens an application."""
    return driver.start(KEY, actor=USERS["pelanggan"], company=COMPANY)


def apply(driver: Driver, instance_id: str, application: Mapping[str, Any] = BISKUIT,
          extra: tuple[str, ...] = ("bukti_smm_cppob",)) -> str:
    """The customer submits the application; returns the application number."""
    driver.complete(instance_id, "p_ajukan_permohonan", application,
                    documents=(*ALWAYS, *extra))
    status, business_key = driver.status_and_key(instance_id)
    assert status == "running" and business_key is not None
    return business_key


def accept(driver: Driver, instance_id: str) -> None:
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True,
        "catatan_kaji_ulang": "Sesuai ruang lingkup; auditor pangan tersedia."})


# -- the file ---------------------------------------------------------------------------------

@pytest.mark.usefixtures("driver")  # all of processes/ and forms/ deployed
def test_the_process_carries_its_service_target_and_one_form_per_user_task(engine: Engine) -> None:
    with engine.read() as s:
        definition = latest_definition(s.session, KEY)
        assert definition is not None
        assert definition.name == "Permohonan Sertifikasi SPPT SNI"
        assert definition.spec["properties"] == {"serviceTimeTarget": "P41D"}
    for element in APPLICATION_STEPS:
        assert (FORMS / f"{element}.form").exists()


# -- 1. the happy intake ------------------------------------------------------------------------

def test_happy_intake_runs_to_the_first_sop_step(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(driver)
    first = driver.task_of(instance_id, "p_ajukan_permohonan")
    driver.check_task(first)
    assert first.company == COMPANY
    assert driver.variables(instance_id)["pemohon"] == USERS["pelanggan"]  # camunda:initiator

    clock.advance(timedelta(hours=2))
    number = apply(driver, instance_id)
    # application.receive: a PRM number as business key, the scope and the receipt.
    assert re.fullmatch(r"PRM-2027-\d{5}", number)
    data = driver.variables(instance_id)
    assert data["nomor_permohonan"] == number
    assert data["dalam_lingkup"] is True and data["dokumen_lengkap_sistem"] is True
    assert data["dokumen_kurang"] == []
    assert data["nomor_tanda_terima"]
    receipt = driver.document(data["dokumen_tanda_terima"])
    assert receipt.instance_id == instance_id and receipt.content_type == "application/pdf"

    check = driver.task_of(instance_id, "p_periksa_kelengkapan")
    driver.check_task(check)
    clock.advance(timedelta(hours=3))
    driver.complete(instance_id, "p_periksa_kelengkapan",
                    {"dokumen_lengkap": True, "catatan_kelengkapan": "Lengkap dan terbaca."})
    review = driver.task_of(instance_id, "p_kaji_ulang_permohonan")
    driver.check_task(review)

    # The review runs late: the sweep records a breach, escalated one level up.
    assert review.due_at is not None
    clock.set(review.due_at + timedelta(hours=1))
    assert driver.check_slas()[0] == 1
    driver.complete(instance_id, "p_kaji_ulang_permohonan",
                    {"permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."})
    with engine.read() as s:
        (breach,) = s.session.scalars(sa.select(SlaBreach).where(
            SlaBreach.instance_id == instance_id)).all()
        assert (breach.element_id, breach.escalated_to) == (
            "p_kaji_ulang_permohonan", "koordinator-pk")
        assert breach.completed_by == USERS["subkoordinator-sertifikasi"]

    # e-Billing: 10,950,000 IDR, awaiting payment until its deadline.
    data = driver.variables(instance_id)
    (bill,) = driver.invoices(number)
    assert (bill.total, bill.state, bill.code) == (INITIAL_FEE, "terbit", data["kode_billing"])
    assert data["total_tagihan"] == INITIAL_FEE and re.fullmatch(r"\d{15}", bill.code)
    assert bill.company == COMPANY and bill.instance_id == instance_id
    assert driver.document(data["dokumen_tagihan"]).instance_id == instance_id
    deadline = datetime.fromisoformat(data["batas_pembayaran"])
    assert deadline.utcoffset() is not None
    # The event-based gateway waits for both events: the payment and its deadline.
    (timer,) = driver.timers(instance_id)
    assert (timer.element_id, timer.due_at) == ("p_batas_pembayaran", deadline)
    assert driver.waits_for(instance_id, PAYMENT) and driver.ready_ids(instance_id) == []

    clock.advance(timedelta(days=2))
    paid_on = driver.pay(instance_id, kode_billing=bill.code)
    (bill,) = driver.invoices(number)
    assert (bill.state, bill.ntpn, bill.paid_on) == ("lunas", "0A1B2C3D4E5F6G7H", paid_on)
    assert driver.variables(instance_id)["status_tagihan"] == "lunas"
    assert driver.timers(instance_id) == [] and not driver.waits_for(instance_id, PAYMENT)

    # The cooperation agreement, then the SOP.
    data = driver.variables(instance_id)
    agreement = driver.document(data["dokumen_perjanjian_kerjasama"])
    assert agreement.instance_id == instance_id and data["nomor_surat_perjanjian_kerjasama"]
    driver.check_task(driver.task_of(instance_id, "p_siapkan_perjanjian"))
    driver.complete(instance_id, "p_siapkan_perjanjian",
                    {"catatan_perjanjian": "Mohon ditandatangani direktur."})
    driver.check_task(driver.task_of(instance_id, "p_tandatangani_perjanjian"))
    with pytest.raises(InvalidInput) as refused:  # the signed agreement is required
        driver.complete(instance_id, "p_tandatangani_perjanjian", {})
    assert "dok_perjanjian_ditandatangani" in refused.value.errors
    driver.complete(instance_id, "p_tandatangani_perjanjian", {},
                    documents=("perjanjian_ditandatangani",))

    # SOP step 1 is a task of this same instance, in the called process's lane.
    step_1 = driver.task_of(instance_id, "s01_teruskan_dokumen_kerjasama")
    assert (step_1.lane, step_1.candidate_groups, step_1.definition_key) == (
        "upp", ["upp"], KEY)
    assert driver.status_and_key(instance_id) == ("running", number)
    assert driver.history(instance_id, "task_completed") == [
        "p_ajukan_permohonan", "p_periksa_kelengkapan", "p_kaji_ulang_permohonan",
        "p_siapkan_perjanjian", "p_tandatangani_perjanjian"]
    automatic = driver.history(instance_id, "element_completed")
    for element in ("p_terima_permohonan", "p_terbitkan_tagihan", "p_pembayaran_diterima",
                    "p_konfirmasi_pembayaran", "p_buat_perjanjian"):
        assert automatic.count(element) == 1, element
    assert "p_surat_kekurangan_dokumen" not in automatic
    assert driver.history(instance_id, "message_received") == [None]
    with engine.read() as s:
        service = s.service_clocks.of(s.runtime.instance(instance_id))
    assert service.target_days == 41.0 and service.running_now is True


# -- 2. missing documents ------------------------------------------------------------------------

def test_missing_documents_go_back_to_the_customer_and_makloon_adds_its_fee(
        driver: Driver, clock: FrozenClock) -> None:
    instance_id = start(driver)
    # Makloon, but the toll-manufacturing agreement is not attached: the form asks
    # for it (its rule shows it for makloon) and the server refuses, naming it.
    with pytest.raises(InvalidInput) as refused:
        apply(driver, instance_id, {**BISKUIT, "makloon": True})
    assert refused.value.errors == {"dok_perjanjian_makloon": "is required"}
    number = apply(driver, instance_id, {**BISKUIT, "makloon": True},
                   extra=("bukti_smm_cppob", "perjanjian_makloon"))
    data = driver.variables(instance_id)
    assert data["dokumen_lengkap_sistem"] is True and data["dokumen_kurang"] == []
    # The officer's and the customer's forms show the system's list as text (a text
    # area shows no list), should a document still be missing.
    for form in ("p_periksa_kelengkapan", "p_lengkapi_dokumen"):
        fields = json.loads((FORMS / f"{form}.form").read_text())["components"]
        shown = [f["key"] for f in fields if f.get("label") == "Dokumen yang belum diunggah"]
        assert shown == ["dokumen_kurang_teks"], form
    receipt_number = data["nomor_tanda_terima"]

    # The officer finds the agreement unsigned: the customer is asked for it again.
    driver.complete(instance_id, "p_periksa_kelengkapan", {
        "dokumen_lengkap": False,
        "catatan_kelengkapan": "Lampirkan perjanjian makloon yang ditandatangani."})
    letter = driver.letter_text(instance_id, driver.variables(instance_id)[
        "dokumen_surat_kekurangan_dokumen"])
    assert "Lampirkan perjanjian makloon yang ditandatangani." in letter
    assert number in letter
    again = driver.task_of(instance_id, "p_lengkapi_dokumen")
    driver.check_task(again)
    (timer,) = driver.timers(instance_id)
    assert (timer.element_id, timer.due_at) == ("p_batas_lengkapi", again.due_at)

    clock.advance(timedelta(days=3))
    driver.complete(instance_id, "p_lengkapi_dokumen", {}, documents=("perjanjian_makloon",))
    data = driver.variables(instance_id)
    assert data["dokumen_lengkap_sistem"] is True and data["dokumen_kurang"] == []
    assert data["dokumen_kurang_teks"] == ""
    # Received again: the same number, no second receipt.
    assert driver.status_and_key(instance_id)[1] == number == data["nomor_permohonan"]
    assert data["nomor_tanda_terima"] == receipt_number
    receipts = [d.id for d in driver.documents(instance_id) if d.field == "dokumen_tanda_terima"]
    assert receipts == [data["dokumen_tanda_terima"]]
    assert driver.timers(instance_id) == []
    assert driver.history(instance_id, "element_completed").count("p_terima_permohonan") == 2

    accept(driver, instance_id)
    (bill,) = driver.invoices(number)
    assert bill.total == INITIAL_FEE + MAKLOON_FEE == driver.variables(instance_id)[
        "total_tagihan"]
    assert {line["schedule"] for line in bill.lines} == {"INITIAL_OR_RECERT", "MAKLOON"}
    assert sum(line["amount"] for line in bill.lines if line["schedule"] == "MAKLOON") == \
        MAKLOON_FEE
    assert driver.history(instance_id, "task_completed") == [
        "p_ajukan_permohonan", "p_periksa_kelengkapan", "p_lengkapi_dokumen",
        "p_periksa_kelengkapan", "p_kaji_ulang_permohonan"]


def test_without_makloon_the_bill_is_the_initial_schedule_only(driver: Driver) -> None:
    instance_id = start(driver)
    number = apply(driver, instance_id)
    accept(driver, instance_id)
    (bill,) = driver.invoices(number)
    assert bill.total == INITIAL_FEE
    assert {line["schedule"] for line in bill.lines} == {"INITIAL_OR_RECERT"}


def test_staff_record_a_payment_with_its_form_when_the_bank_does_not_send_it(
        driver: Driver, engine: Engine) -> None:
    instance_id = start(driver)
    number = apply(driver, instance_id)
    accept(driver, instance_id)
    (bill,) = driver.invoices(number)
    today = driver.today().isoformat()
    with engine.read() as s:
        assert s.queries.awaited_messages(instance_id) == ["pembayaran_diterima"]
    # The message's form checks what staff type; a bad NTPN changes nothing.
    with pytest.raises(InvalidInput) as refused, engine.write() as s:
        s.send_message("pembayaran_diterima", {
            "kode_billing": bill.code, "ntpn": "0A1B-2C3D", "tanggal_bayar": today},
            instance_id=instance_id, actor=USERS["administrasi"])
    assert set(refused.value.errors) == {"ntpn"}
    assert driver.waits_for(instance_id, PAYMENT)
    with engine.write() as s:
        s.send_message("pembayaran_diterima", {
            "kode_billing": bill.code, "ntpn": "0A1B2C3D4E5F6G7H", "tanggal_bayar": today,
            "status_tagihan": "lunas palsu"},
            instance_id=instance_id, actor=USERS["administrasi"])
    (bill,) = driver.invoices(number)
    assert (bill.state, bill.ntpn) == ("lunas", "0A1B2C3D4E5F6G7H")
    # Only the form's fields reached the process; the handler set the bill's state.
    assert driver.variables(instance_id)["status_tagihan"] == "lunas"
    assert driver.ready_ids(instance_id) == ["p_siapkan_perjanjian"]


# -- 3. the customer lets the document deadline pass --------------------------------------------

def test_documents_not_completed_in_14_working_days_the_application_lapses(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(driver)
    # Air mineral (AMDK): the form asks for the raw-water test certificate too.
    amdk = {**BISKUIT, "produk": "AIR_MINERAL", "sni": "SNI 3553:2023"}
    with pytest.raises(InvalidInput) as refused:
        apply(driver, instance_id, amdk)
    assert refused.value.errors == {"dok_uji_bahan_baku": "is required"}
    number = apply(driver, instance_id, amdk, extra=("bukti_smm_cppob", "uji_bahan_baku"))
    assert driver.variables(instance_id)["dokumen_kurang"] == []
    # The officer finds the certificate is not from an accredited laboratory.
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": False})
    waiting = driver.task_of(instance_id, "p_lengkapi_dokumen")
    (timer,) = driver.timers(instance_id)
    assert timer.due_at == waiting.due_at
    assert timer.due_at > waiting.created_at + timedelta(days=14 + 2 * 2)  # weekends skipped

    clock.set(timer.due_at - timedelta(minutes=1))
    assert driver.sweep() == 0
    clock.set(timer.due_at + timedelta(seconds=1))
    assert driver.sweep() == 1

    assert driver.status_and_key(instance_id) == ("completed", number)
    with engine.read() as s:
        waited = s.session.get(Task, waiting.id)
        assert waited is not None and waited.state == "cancelled"
    assert driver.ready_ids(instance_id) == [] and driver.timers(instance_id) == []
    assert driver.history(instance_id, "timer_fired") == ["p_batas_lengkapi"]
    ended = driver.history(instance_id, "element_completed")
    assert "p_surat_pembatalan_gugur" in ended and "p_selesai_gugur" in ended
    assert "p_terbitkan_tagihan" not in ended
    letter = driver.letter_text(instance_id, driver.variables(instance_id)[
        "dokumen_surat_pembatalan_permohonan"])
    assert number in letter and "tidak dilengkapi dalam 14 hari kerja" in letter
    assert driver.invoices(number) == []


# -- 4. non-payment -------------------------------------------------------------------------------

def test_unpaid_bill_expires_at_its_deadline_and_the_application_is_cancelled(
        driver: Driver, clock: FrozenClock) -> None:
    instance_id = start(driver)
    number = apply(driver, instance_id)
    accept(driver, instance_id)
    (timer,) = driver.timers(instance_id)
    deadline = datetime.fromisoformat(driver.variables(instance_id)["batas_pembayaran"])
    assert timer.due_at == deadline > clock.now()

    clock.set(deadline - timedelta(minutes=1))
    assert driver.sweep() == 0 and driver.waits_for(instance_id, PAYMENT)
    clock.set(deadline + timedelta(seconds=1))
    assert driver.sweep() == 1

    (bill,) = driver.invoices(number)
    assert bill.state == "kedaluwarsa" and bill.paid_at is None
    data = driver.variables(instance_id)
    assert data["status_tagihan"] == "kedaluwarsa"
    letter = driver.letter_text(instance_id, data["dokumen_surat_pembatalan_permohonan"])
    assert bill.code in letter and "tidak dibayar sampai batas pembayaran" in letter
    assert driver.status_and_key(instance_id) == ("completed", number)
    assert driver.history(instance_id, "timer_fired") == ["p_batas_pembayaran"]
    ended = driver.history(instance_id, "element_completed")
    assert ended[-4:] == ["p_tagihan_kedaluwarsa", "p_alasan_tidak_dibayar",
                          "p_surat_pembatalan_tidak_dibayar", "p_selesai_batal"]
    assert "p_konfirmasi_pembayaran" not in ended
    assert not driver.waits_for(instance_id, PAYMENT)
    with pytest.raises(NotFound):  # a payment after the deadline finds nobody waiting
        driver.pay(instance_id, kode_billing=bill.code)


# -- 5. out of scope ----------------------------------------------------------------------------

def test_an_application_outside_the_accredited_scope_is_refused(driver: Driver) -> None:
    instance_id = start(driver)
    # Mineral water to the superseded 2015 edition: not in the accredited scope.
    number = apply(driver, instance_id, {
        **BISKUIT, "produk": "AIR_MINERAL", "sni": "SNI 3553:2015"}, extra=(
        "bukti_smm_cppob", "uji_bahan_baku"))
    data = driver.variables(instance_id)
    assert data["dalam_lingkup"] is False and "3553:2015" in data["catatan_lingkup"]
    # No completeness check for an application the LSPro cannot take: straight to review.
    review = driver.task_of(instance_id, "p_kaji_ulang_permohonan")
    driver.check_task(review)
    # Even a reviewer who accepts cannot bill an application outside the scope.
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Diterima (keliru)."})
    assert driver.status_and_key(instance_id) == ("completed", number)
    ended = driver.history(instance_id, "element_completed")
    assert ended[-3:] == ["p_alasan_penolakan", "p_surat_penolakan", "p_selesai_ditolak"]
    assert "p_periksa_kelengkapan" not in driver.history(instance_id, "task_completed")
    letter = driver.letter_text(instance_id, driver.variables(instance_id)[
        "dokumen_surat_penolakan_permohonan"])
    assert "luar ruang lingkup akreditasi" in letter and "3553:2015" in letter
    assert "Diterima (keliru)" not in letter
    assert driver.invoices(number) == []


def test_the_reviewer_may_refuse_an_application_within_scope(driver: Driver) -> None:
    instance_id = start(driver)
    number = apply(driver, instance_id)
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    with pytest.raises(InvalidInput) as refused:  # a decision needs its grounds
        driver.complete(instance_id, "p_kaji_ulang_permohonan", {"permohonan_diterima": False})
    assert "catatan_kaji_ulang" in refused.value.errors
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": False,
        "catatan_kaji_ulang": "Tidak ada auditor yang kompeten untuk periode ini."})
    assert driver.status_and_key(instance_id) == ("completed", number)
    assert driver.history(instance_id, "element_completed")[-1] == "p_selesai_ditolak"
    letter = driver.letter_text(instance_id, driver.variables(instance_id)[
        "dokumen_surat_penolakan_permohonan"])
    assert "Tidak ada auditor yang kompeten untuk periode ini." in letter
    assert driver.invoices(number) == []


# -- 6. from the application to the certificate in the customer's hand -----------------------------

def _sop(today: str) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """SOP AP 2.2.1-3 and the grant, without findings: (element, values, documents)."""
    return [
        ("s01_teruskan_dokumen_kerjasama", {"catatan_penerusan": "Perjanjian diterima."}, ()),
        ("s02_tugaskan_subkoordinator", {"disposisi": "Siapkan tim sertifikasi."},
         ("pernyataan_ketidakberpihakan",)),
        ("s03_siapkan_usulan_tim", {"lead_auditor": USERS["auditor"],
                                    "petugas_ppc": USERS["ppc"],
                                    "usulan_tim_teknis": [USERS["tim-teknis"]]}, ()),
        ("s04_validasi_usulan_tim", {"tim_valid": True, "nomor_surat_tugas": "ST-017"}, ()),
        ("s05_serahkan_kecukupan_dokumen", {"rencana_audit_tahap1": today}, ("surat_tugas",)),
        ("s06_audit_tahap_1", {"temuan_tahap1": False}, ("laporan_audit_tahap1",)),
        ("s08_pengambilan_contoh", {"tanggal_pengambilan_contoh": today, "jumlah_contoh": 6,
                                    "laboratorium_penguji": "Laboratorium Uji BSPJI Manado"},
         ("berita_acara_pengambilan_contoh",)),
        ("s08_audit_tahap_2", {"tanggal_audit_tahap2": today}, ("laporan_audit_tahap2",)),
        ("s09_susun_laporan_audit", {"ada_ketidaksesuaian": False},
         ("laporan_ringkasan_audit",)),
        ("s11_evaluasi_tindak_lanjut", {"tindakan_efektif": True}, ()),
        # (the laboratory's report arrives here)
        ("s12_siapkan_rapat_tim_teknis", {"anggota_tim_teknis": USERS["tim-teknis"],
                                          "tanggal_rapat_tim_teknis": today}, ()),
        ("s13_bahas_dan_rekomendasi", {"rekomendasi": "terpenuhi",
                                       "catatan_rekomendasi": "Memenuhi SNI 2973:2022."}, ()),
        ("m14_siapkan_perjanjian_tanda_sni", {"nomor_perjanjian_tanda_sni": "PTS-2027-017"},
         ("perjanjian_tanda_sni",)),
        ("m14_tandatangani_perjanjian_tanda_sni", {
            "penandatangan_perjanjian_tanda_sni": "Eka Pratiwi",
            "jabatan_penandatangan": "Direktur"}, ("perjanjian_tanda_sni_ditandatangani",)),
        ("s14_terbitkan_sertifikat", {}, ()),
        ("s15_verifikasi_sertifikat", {"konsep_sertifikat_sesuai": True}, ()),
        ("a16_paraf_konsep_sertifikat", {"konsep_disetujui": True}, ()),
        ("s16_sahkan_sertifikat", {}, ()),
        ("s17_serahkan_sertifikat", {"tanggal_serah_terima": today,
                                     "penerima_sertifikat": "Eka Pratiwi (Direktur)"},
         ("tanda_terima_sertifikat",)),
    ]


def certificate_in_hand(driver: Driver) -> tuple[str, str]:
    """Run an application through the SOP and the grant; return (instance, application no.)."""
    instance_id = start(driver)
    number = apply(driver, instance_id)
    accept(driver, instance_id)
    (bill,) = driver.invoices(number)

    # Waiting for the payment is nobody's task at the LSPro: the service clock stands still.
    before = driver.service_clock(instance_id).used_days
    driver.clock.advance(timedelta(days=6))
    waiting = driver.service_clock(instance_id)
    assert waiting.used_days == before and waiting.running_now is False
    driver.pay(instance_id, kode_billing=bill.code)
    driver.complete(instance_id, "p_siapkan_perjanjian", {})
    driver.complete(instance_id, "p_tandatangani_perjanjian", {},
                    documents=("perjanjian_ditandatangani",))

    for element, values, uploads in _sop(driver.today().isoformat()):
        if element == "s12_siapkan_rapat_tim_teknis":
            assert driver.ready_ids(instance_id) == []  # only the laboratory is busy
            driver.clock.advance(timedelta(days=5))
            driver.lab_report(number, {"nomor_laporan_uji": "LHU-2027-0101",
                                       "hasil_uji_memenuhi": True})
        driver.clock.advance(timedelta(minutes=30))
        driver.complete(instance_id, element, values, documents=uploads)
    return instance_id, number


def test_from_application_to_certificate_in_hand(driver: Driver, engine: Engine) -> None:
    instance_id, number = certificate_in_hand(driver)
    assert driver.status_and_key(instance_id) == ("completed", number)
    data = driver.variables(instance_id)
    with engine.read() as s:
        (certificate,) = s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == number)).all()
        events = [(e.kind, e.to_state) for e in s.session.scalars(
            sa.select(CertificateEvent).where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id))]
        (surveillance,) = s.session.scalars(sa.select(ProcessInstance).where(
            ProcessInstance.definition_key == "surveilan_sertifikat")).all()
        handed_on = s.runtime.variables(surveillance)
        s.session.expunge(certificate)
    # The register: active, for this company, product, SNI and brands, handed over.
    assert re.fullmatch(r"\d{4}/LSPr-034-IDN/2973/2027", certificate.number)
    assert (certificate.state, certificate.company, certificate.product_code, certificate.sni,
            certificate.scheme_type, certificate.instance_id) == (
        "aktif", COMPANY, "BISKUIT", "SNI 2973:2022", 5, instance_id)
    assert certificate.brands == BISKUIT["merek_kemasan"]
    assert certificate.handed_over_at is not None
    assert events == [("issued", "aktif"), ("handed_over", "aktif")]
    assert data["nomor_sertifikat"] == certificate.number
    assert driver.document(data["dokumen_sertifikat"]).instance_id == instance_id
    minutes = driver.document(data["dokumen_berita_acara_serah_terima"])
    assert minutes.instance_id == instance_id and minutes.content_type == "application/pdf"
    # The surveillance cycle runs on its own, keyed by the certificate number.
    assert (surveillance.business_key, surveillance.company, surveillance.status) == (
        certificate.number, COMPANY, "running")
    assert handed_on["nomor_sertifikat"] == certificate.number
    assert handed_on["nomor_permohonan"] == number
    # One instance holds the whole story, from the application to the handover.
    done = driver.history(instance_id, "task_completed")
    assert done[:5] == ["p_ajukan_permohonan", "p_periksa_kelengkapan",
                        "p_kaji_ulang_permohonan", "p_siapkan_perjanjian",
                        "p_tandatangani_perjanjian"]
    assert done[5:] == [element for element, _, _ in _sop("")]
    assert driver.history(instance_id, "element_completed")[-3:] == [
        "p_pelaksanaan_sertifikasi", "p_gw_hasil_sertifikasi", "p_selesai"]
    with engine.read() as s:
        service = s.service_clocks.of(s.runtime.instance(instance_id))
    assert service.running_now is False and 0 < service.used_days < 41


def test_an_application_terminated_in_the_sop_ends_as_terminated(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(driver)
    number = apply(driver, instance_id)
    accept(driver, instance_id)
    (bill,) = driver.invoices(number)
    driver.pay(instance_id, kode_billing=bill.code)
    driver.complete(instance_id, "p_siapkan_perjanjian", {})
    driver.complete(instance_id, "p_tandatangani_perjanjian", {},
                    documents=("perjanjian_ditandatangani",))
    today = driver.today().isoformat()
    steps = _sop(today)
    for element, values, uploads in steps[:steps.index(next(
            s for s in steps if s[0] == "s09_susun_laporan_audit"))]:
        clock.advance(timedelta(minutes=30))
        driver.complete(instance_id, element, values, documents=uploads)
    driver.complete(instance_id, "s09_susun_laporan_audit", {"ada_ketidaksesuaian": True},
                    documents=("laporan_ringkasan_audit", "lembar_ketidaksesuaian"))
    # The customer lets the 60 working days for closing the NCRs pass.
    clock.advance(timedelta(days=120))
    driver.sweep()
    driver.complete(instance_id, "x_kirim_surat_penghentian", {
        "tanggal_kirim_surat_penghentian": driver.today().isoformat(),
        "cara_kirim_surat_penghentian": "pos"})
    assert driver.status_and_key(instance_id) == ("completed", number)
    assert driver.variables(instance_id)["permohonan_dihentikan"] is True
    assert driver.history(instance_id, "element_completed")[-2:] == [
        "p_gw_hasil_sertifikasi", "p_selesai_dihentikan"]
    with engine.read() as s:
        assert s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == number)).all() == []


# -- 7. the whole life of a certificate ------------------------------------------------------------

def test_the_life_of_a_certificate_from_application_to_revocation_and_a_new_application(
        driver: Driver, engine: Engine, clock: FrozenClock) -> None:
    """Applied, granted, surveyed once, the next fee unpaid, revoked, published; apply again."""
    application_id, application = certificate_in_hand(driver)
    with engine.read() as s:
        certificate = s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == application)).one()
        cycle = s.session.scalars(sa.select(ProcessInstance).where(
            ProcessInstance.definition_key == "surveilan_sertifikat")).one()
    number, cycle_id = certificate.number, cycle.id

    def bill(code: str | None = None) -> Invoice:
        found = driver.invoices(number)
        return next(i for i in found if i.code == code) if code else found[-1]

    # Year one: the surveillance falls due on the anniversary, is paid, audited, clean.
    (due,) = driver.timers(cycle_id)
    assert due.due_at.astimezone(engine.settings.timezone).date() == \
        certificate.issued_on.replace(year=certificate.issued_on.year + 1)
    driver.sweep_at(due.due_at + timedelta(hours=2))
    first = bill()
    assert (first.total, first.state) == (5_800_000, "terbit")
    driver.pay(cycle_id, kode_billing=first.code, ntpn="1A2B3C4D5E6F7G8H")
    assert bill(first.code).state == "lunas"
    driver.complete(cycle_id, "sv_pengambilan_contoh", SAMPLING, actor=USERS["ppc"])
    driver.complete(cycle_id, "sv_audit_surveilan", AUDIT, actor=USERS["lead-auditor"])
    driver.complete(cycle_id, "sv_laporan_surveilan", NO_NCR, actor=USERS["lead-auditor"])
    with engine.read() as s:
        surveyed = s.session.get(Certificate, certificate.id)
        assert surveyed is not None and surveyed.last_surveillance_on is not None

    # Year two: the fee is not paid by its deadline; top management revokes (T5).
    (due,) = driver.timers(cycle_id)
    driver.sweep_at(due.due_at + timedelta(hours=2))
    second = bill()
    assert second.code != first.code and second.state == "terbit"
    driver.sweep_at(second.due_at + timedelta(minutes=1))
    assert bill(second.code).state == "kedaluwarsa"
    driver.complete(cycle_id, "pc_putuskan_pencabutan", REVOKE)
    driver.complete(cycle_id, "pc_kirim_surat_pencabutan", REVOCATION_SENT)
    assert driver.status_and_key(cycle_id) == ("completed", number)

    with engine.read() as s:
        revoked = s.session.get(Certificate, certificate.id)
        assert revoked is not None
        events = [(e.kind, e.to_state) for e in s.session.scalars(
            sa.select(CertificateEvent).where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id))]
        register = CertificateRegister(s.session, engine.clock, LSPRO)
        published = [c.number for c in register.revoked().items]
    assert revoked.state == "dicabut" and revoked.revocation_published
    assert events == [("issued", "aktif"), ("handed_over", "aktif"),
                      ("surveillance_recorded", "aktif"), ("revoked", "dicabut")]
    assert published == [number]
    # The revocation letter, copied to KAN and the regional agencies, is in the cycle's file.
    letter = driver.letter_text(cycle_id, driver.variables(cycle_id)["dokumen_surat_pencabutan"])
    assert number in letter and "KAN" in letter

    # The company may apply again (T6): a new application gets its own number and bill.
    again = start(driver)
    second_application = apply(driver, again)
    assert second_application != application
    accept(driver, again)
    assert [i.total for i in driver.invoices(second_application)] == [10_950_000]
    assert driver.status_and_key(application_id) == ("completed", application)


# -- 7. the company profile the application starts from -------------------------------------------

def test_the_application_starts_from_the_company_profile_and_its_chosen_factory(
        driver: Driver, engine: Engine) -> None:
    incomplete = driver.variables(start(driver))  # no profile yet: the form says what to fill
    assert incomplete["nama_perusahaan"] == COMPANY and incomplete["pabrik"] is None
    assert "- Nama badan usaha (sesuai akta)" in incomplete["profil_kurang_teks"]
    with engine.write() as s:
        s.get(CompanyProfiles).save(COMPANY, {
            "legal_name": "PT Contoh Pangan Sulawesi Tbk", "npwp": "012345678901000",
            "nib": "9120001234567", "address": "Jl. Sam Ratulangi 10, Manado",
            "contact_name": "Eka", "contact_phone": "0431-555-010",
            "contact_email": "eka@contoh.co.id",
            "factories": [{"name": "Pabrik Bitung", "address": "KEK Bitung Blok C"},
                          {"name": "Pabrik Minahasa", "address": "Jl. Raya Tondano 4"}],
            "makloon_name": "CV Rasa Nyiur",
            "makloon_address": "Jl. Pelabuhan 3, Bitung"}, actor=USERS["pelanggan"])
    instance_id = start(driver)
    data = driver.variables(instance_id)
    assert (data["nama_perusahaan"], data["alamat_perusahaan"], data["nama_pabrik"],
            data["makloon_nama"], data["profil_kurang_teks"]) == (
        "PT Contoh Pangan Sulawesi Tbk", "Jl. Sam Ratulangi 10, Manado", "Pabrik Bitung",
        "CV Rasa Nyiur", "")
    second = data["daftar_pabrik"][1]["value"]
    # Only a factory of the list, and the company's details cannot be changed here.
    with pytest.raises(InvalidInput) as refused:
        apply(driver, instance_id, {**BISKUIT, "pabrik": "999",
                                    "nama_perusahaan": "PT Lain"})
    assert refused.value.errors == {"pabrik": "is not one of the options",
                                    "nama_perusahaan": "is read-only"}
    apply(driver, instance_id, {**BISKUIT, "pabrik": second})
    data = driver.variables(instance_id)
    assert (data["nama_pabrik"], data["alamat_pabrik"]) == ("Pabrik Minahasa",
                                                            "Jl. Raya Tondano 4")
