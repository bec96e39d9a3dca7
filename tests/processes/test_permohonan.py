"""processes/permohonan_sertifikasi.bpmn (Manado M1-M4) driven through the engine.

All of processes/ and forms/ are deployed as ``sertiflow run`` deploys them, with
the real domain topics. Every task is completed the way ``POST
/api/v1/tasks/{id}/complete`` completes it: the submission is checked against the
task's form (engine.taskforms) and documents are uploaded to the task first, so
these tests also prove that the forms and the process agree on every variable.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.deployment.service import latest_definition
from engine.errors import InvalidInput, NotFound
from engine.models import (
    Document,
    EventSubscription,
    HistoryEvent,
    ProcessInstance,
    SlaBreach,
    Task,
    Timer,
)
from engine.tasks.taskforms import form_for_task
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro.certificates import CertificateRegister
from lspro.models import Certificate, CertificateEvent, Invoice
from tests.instances import ready_ids, task_of, variables
from tests.processes.test_pemeliharaan import AUDIT, NO_NCR, REVOCATION_SENT, REVOKE, SAMPLING
from tests.settings import LSPRO

ROOT = Path(__file__).resolve().parents[2]
KEY = "permohonan_sertifikasi"
COMPANY = "PT Contoh Pangan Sulawesi"
ACTOR = {
    "pelanggan": "eka.pt-contoh",
    "administrasi": "rina.administrasi",
    "subkoordinator-sertifikasi": "citra.subkoordinator",
    "upp": "ani.upp",
    "koordinator-pk": "budi.koordinator",
    "auditor": "dedi.auditor",
    "ppc": "fajar.ppc",
    "tim-teknis": "gita.tim-teknis",
    "kepala-balai": "hadi.kepala-balai",
    "lead-auditor": "joko.lead-auditor",
}
# The user tasks of this file: role (its lane) and SLA.
STEPS = {
    "p_ajukan_permohonan": ("pelanggan", "P14D"),
    "p_periksa_kelengkapan": ("administrasi", "P1D"),
    "p_lengkapi_dokumen": ("pelanggan", "P14D"),
    "p_kaji_ulang_permohonan": ("subkoordinator-sertifikasi", "P2D"),
    "p_siapkan_perjanjian": ("upp", "P1D"),
    "p_tandatangani_perjanjian": ("pelanggan", "P14D"),
}
# Unconditional documents of DOMAIN.md §4 (the form requires them).
ALWAYS = [
    "surat_permohonan", "akta_pendirian", "nib_atau_iui", "npwp", "daftar_merek_kemasan",
    "sertifikat_merek", "desain_kemasan", "ilustrasi_tanda_sni", "struktur_organisasi",
    "diagram_alir_produksi", "daftar_pengendalian_mutu", "daftar_peralatan_produksi",
    "daftar_peralatan_lab", "daftar_informasi_terdokumentasi", "pernyataan_tidak_mengedarkan",
]
BISKUIT = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"},
                      {"merek": "Kukis Nyiur", "kemasan": "plastik 90 g"}],
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
INITIAL_FEE = 10_950_000
MAKLOON_FEE = 3_850_000


# -- driving the engine as the API does ------------------------------------------------------

@pytest.fixture
def engine(lspro_engine: Engine) -> Engine:
    """The LSPro engine with every process and form of the repository deployed."""
    result = lspro_engine.deploy_paths([ROOT / "processes", ROOT / "forms"], actor="analyst")
    assert KEY in {p.key for p in result.processes}
    return lspro_engine


def start(engine: Engine) -> str:
    with engine.write() as s:
        return s.runtime.start_instance(KEY, actor=ACTOR["pelanggan"], company=COMPANY).id


def upload(engine: Engine, task: Task, field: str, actor: str) -> dict[str, Any]:
    """Upload a document for a form's file field; return the reference the form submits."""
    with engine.write() as s:
        document = s.documents.upload(
            task.instance_id, io.BytesIO(PDF + field.encode()), filename=f"{field}.pdf",
            content_type="application/pdf", uploaded_by=actor, task_id=task.id, field=field)
        return {"id": document.id, "sha256": document.sha256, "name": document.name}


def submit(engine: Engine, instance_id: str, element: str, values: Mapping[str, Any],
           *, documents: tuple[str, ...] = (), actor: str | None = None) -> Task:
    """Complete the ready task of ``element`` through its form, as api/v1/tasks.py does.

    ``documents`` are ``dok_*`` keys (without the prefix) or whole field names to upload
    to the task first.
    """
    task = task_of(engine, instance_id, element)
    role = STEPS[element][0] if element in STEPS else task.candidate_groups[0]
    assert task.candidate_groups == [role], element
    who = actor or ACTOR[role]
    variables = dict(values)
    for key in documents:
        field = key if key.startswith("dok_") else f"dok_{key}"
        variables[field] = upload(engine, task, field, who)
    with engine.write() as s:
        form = form_for_task(s.session, task)
        assert form is not None and form.form_id == element
        s.submit_task(task, variables, actor=who)
    return task


def instance_status(engine: Engine, instance_id: str) -> tuple[str, str | None]:
    with engine.read() as s:
        instance = s.runtime.instance(instance_id)
        return instance.status, instance.business_key


def history(engine: Engine, instance_id: str, kind: str) -> list[str | None]:
    with engine.read() as s:
        return list(s.session.scalars(
            sa.select(HistoryEvent.element_id)
            .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind == kind)
            .order_by(HistoryEvent.id)))


def documents(engine: Engine, instance_id: str) -> list[Document]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Document).where(
            Document.instance_id == instance_id).order_by(Document.uploaded_at, Document.name)))


def document(engine: Engine, document_id: str) -> Document:
    with engine.read() as s:
        found = s.session.get(Document, document_id)
        assert found is not None, document_id
        s.session.expunge(found)
        return found


def letter_text(engine: Engine, instance_id: str, document_id: str) -> str:
    """The text of a letter the instance generated (it must belong to the instance)."""
    with engine.read() as s:
        found = s.documents.get(document_id)
        assert found.instance_id == instance_id
        assert found.content_type.startswith("text/html")
        with s.documents.open(found) as file:
            return file.read().decode("utf-8")


def invoices(engine: Engine, subject: str) -> list[Invoice]:
    with engine.read() as s:
        found = list(s.session.scalars(sa.select(Invoice).where(Invoice.subject == subject)))
        for row in found:
            s.session.expunge(row)
        return found


def timers(engine: Engine, instance_id: str) -> list[Timer]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Timer).where(Timer.instance_id == instance_id)))


def waits_for_payment(engine: Engine, instance_id: str) -> bool:
    with engine.read() as s:
        return s.session.scalar(sa.select(sa.func.count()).select_from(EventSubscription).where(
            EventSubscription.instance_id == instance_id,
            EventSubscription.name == "pembayaran_diterima")) == 1


def pay(engine: Engine, business_key: str, kode_billing: str, ntpn: str = "0A1B2C3D4E5F6G7H"
        ) -> date:
    """The bank's payment notice, dated today; returns the day paid."""
    today = engine.clock.now().astimezone(engine.settings.timezone).date()
    with engine.write() as s:
        s.runtime.correlate_message(
            "pembayaran_diterima", business_key=business_key, actor="bank-persepsi",
            variables={"kode_billing": kode_billing, "ntpn": ntpn,
                       "tanggal_bayar": today.isoformat()})
    return today


def apply(engine: Engine, instance_id: str, application: Mapping[str, Any] = BISKUIT,
          extra: tuple[str, ...] = ("bukti_smm_cppob",)) -> str:
    """The customer submits the application; returns the application number."""
    submit(engine, instance_id, "p_ajukan_permohonan", application,
           documents=(*ALWAYS, *extra))
    status, business_key = instance_status(engine, instance_id)
    assert status == "running" and business_key is not None
    return business_key


def accept(engine: Engine, instance_id: str) -> None:
    submit(engine, instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    submit(engine, instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True,
        "catatan_kaji_ulang": "Sesuai ruang lingkup; auditor pangan tersedia."})


def check_due(engine: Engine, task: Task) -> None:
    """The task's role and working-day SLA are those of its element."""
    role, due = STEPS[task.element_id]
    assert (task.lane, task.candidate_groups) == (role, [role])
    assert task.properties["calendar"] == "working-days"
    assert task.due_at == engine.calendar.add(task.created_at, due), task.element_id


# -- the file ---------------------------------------------------------------------------------

def test_the_process_carries_its_service_target_and_one_form_per_user_task(
        engine: Engine) -> None:
    with engine.read() as s:
        definition = latest_definition(s.session, KEY)
        assert definition is not None
        assert definition.name == "Permohonan Sertifikasi SPPT SNI"
        assert definition.spec["properties"] == {"serviceTimeTarget": "P41D"}
    for element in STEPS:
        assert (ROOT / "forms" / f"{element}.form").exists()


# -- 1. the happy intake ------------------------------------------------------------------------

def test_happy_intake_runs_to_the_first_sop_step(engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    first = task_of(engine, instance_id, "p_ajukan_permohonan")
    check_due(engine, first)
    assert first.company == COMPANY
    assert variables(engine, instance_id)["pemohon"] == ACTOR["pelanggan"]  # camunda:initiator

    clock.advance(timedelta(hours=2))
    number = apply(engine, instance_id)
    # application.receive: a PRM number as business key, the scope and the receipt.
    assert re.fullmatch(r"PRM-2027-\d{5}", number)
    data = variables(engine, instance_id)
    assert data["nomor_permohonan"] == number
    assert data["dalam_lingkup"] is True and data["dokumen_lengkap_sistem"] is True
    assert data["dokumen_kurang"] == []
    assert data["nomor_tanda_terima"]
    receipt = document(engine, data["dokumen_tanda_terima"])
    assert receipt.instance_id == instance_id and receipt.content_type.startswith("text/html")

    check = task_of(engine, instance_id, "p_periksa_kelengkapan")
    check_due(engine, check)
    clock.advance(timedelta(hours=3))
    submit(engine, instance_id, "p_periksa_kelengkapan",
           {"dokumen_lengkap": True, "catatan_kelengkapan": "Lengkap dan terbaca."})
    review = task_of(engine, instance_id, "p_kaji_ulang_permohonan")
    check_due(engine, review)

    # The review runs late: the sweep records a breach, escalated one level up.
    clock.set(review.due_at + timedelta(hours=1))
    assert TimerSweep(engine).run_sla_once()[0] == 1
    submit(engine, instance_id, "p_kaji_ulang_permohonan",
           {"permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."})
    with engine.read() as s:
        (breach,) = s.session.scalars(sa.select(SlaBreach).where(
            SlaBreach.instance_id == instance_id)).all()
        assert (breach.element_id, breach.escalated_to) == (
            "p_kaji_ulang_permohonan", "koordinator-pk")
        assert breach.completed_by == ACTOR["subkoordinator-sertifikasi"]

    # e-Billing: 10,950,000 IDR, awaiting payment until its deadline.
    data = variables(engine, instance_id)
    (bill,) = invoices(engine, number)
    assert (bill.total, bill.state, bill.code) == (INITIAL_FEE, "terbit", data["kode_billing"])
    assert data["total_tagihan"] == INITIAL_FEE and re.fullmatch(r"\d{15}", bill.code)
    assert bill.company == COMPANY and bill.instance_id == instance_id
    assert document(engine, data["dokumen_tagihan"]).instance_id == instance_id
    deadline = datetime.fromisoformat(data["batas_pembayaran"])
    assert deadline.utcoffset() is not None
    # The event-based gateway waits for both events: the payment and its deadline.
    (timer,) = timers(engine, instance_id)
    assert (timer.element_id, timer.due_at) == ("p_batas_pembayaran", deadline)
    assert waits_for_payment(engine, instance_id) and ready_ids(engine, instance_id) == []

    clock.advance(timedelta(days=2))
    paid_on = pay(engine, number, bill.code)
    (bill,) = invoices(engine, number)
    assert (bill.state, bill.ntpn, bill.paid_on) == ("lunas", "0A1B2C3D4E5F6G7H", paid_on)
    assert variables(engine, instance_id)["status_tagihan"] == "lunas"
    assert timers(engine, instance_id) == [] and not waits_for_payment(engine, instance_id)

    # The cooperation agreement, then the SOP.
    data = variables(engine, instance_id)
    agreement = document(engine, data["dokumen_perjanjian_kerjasama"])
    assert agreement.instance_id == instance_id and data["nomor_surat_perjanjian_kerjasama"]
    check_due(engine, task_of(engine, instance_id, "p_siapkan_perjanjian"))
    submit(engine, instance_id, "p_siapkan_perjanjian",
           {"catatan_perjanjian": "Mohon ditandatangani direktur."})
    check_due(engine, task_of(engine, instance_id, "p_tandatangani_perjanjian"))
    with pytest.raises(InvalidInput) as refused:  # the signed agreement is required
        submit(engine, instance_id, "p_tandatangani_perjanjian", {})
    assert "dok_perjanjian_ditandatangani" in refused.value.errors
    submit(engine, instance_id, "p_tandatangani_perjanjian", {},
           documents=("perjanjian_ditandatangani",))

    # SOP step 1 is a task of this same instance, in the called process's lane.
    step_1 = task_of(engine, instance_id, "s01_teruskan_dokumen_kerjasama")
    assert (step_1.lane, step_1.candidate_groups, step_1.definition_key) == (
        "upp", ["upp"], KEY)
    assert instance_status(engine, instance_id) == ("running", number)
    assert history(engine, instance_id, "task_completed") == [
        "p_ajukan_permohonan", "p_periksa_kelengkapan", "p_kaji_ulang_permohonan",
        "p_siapkan_perjanjian", "p_tandatangani_perjanjian"]
    automatic = history(engine, instance_id, "element_completed")
    for element in ("p_terima_permohonan", "p_terbitkan_tagihan", "p_pembayaran_diterima",
                    "p_konfirmasi_pembayaran", "p_buat_perjanjian"):
        assert automatic.count(element) == 1, element
    assert "p_surat_kekurangan_dokumen" not in automatic
    assert history(engine, instance_id, "message_received") == [None]
    with engine.read() as s:
        service = s.service_clocks.of(s.runtime.instance(instance_id))
    assert service.target_days == 41.0 and service.running_now is True


# -- 2. missing documents ------------------------------------------------------------------------

def test_missing_documents_go_back_to_the_customer_and_makloon_adds_its_fee(
        engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    # Makloon, but the toll-manufacturing agreement is not attached.
    number = apply(engine, instance_id, {**BISKUIT, "makloon": True})
    data = variables(engine, instance_id)
    assert data["dokumen_lengkap_sistem"] is False
    assert len(data["dokumen_kurang"]) == 1 and "makloon" in data["dokumen_kurang"][0].lower()
    receipt_number = data["nomor_tanda_terima"]

    # Even an officer who ticks "complete" cannot pass what the system finds missing.
    submit(engine, instance_id, "p_periksa_kelengkapan", {
        "dokumen_lengkap": True, "catatan_kelengkapan": "Lampirkan perjanjian makloon."})
    letter = letter_text(engine, instance_id, variables(engine, instance_id)[
        "dokumen_surat_kekurangan_dokumen"])
    assert "perjanjian makloon" in letter and "Lampirkan perjanjian makloon." in letter
    assert number in letter
    again = task_of(engine, instance_id, "p_lengkapi_dokumen")
    check_due(engine, again)
    (timer,) = timers(engine, instance_id)
    assert (timer.element_id, timer.due_at) == ("p_batas_lengkapi", again.due_at)

    clock.advance(timedelta(days=3))
    submit(engine, instance_id, "p_lengkapi_dokumen", {}, documents=("perjanjian_makloon",))
    data = variables(engine, instance_id)
    assert data["dokumen_lengkap_sistem"] is True and data["dokumen_kurang"] == []
    # Received again: the same number, no second receipt.
    assert instance_status(engine, instance_id)[1] == number == data["nomor_permohonan"]
    assert data["nomor_tanda_terima"] == receipt_number
    receipts = [d.id for d in documents(engine, instance_id) if d.field == "dokumen_tanda_terima"]
    assert receipts == [data["dokumen_tanda_terima"]]
    assert timers(engine, instance_id) == []
    assert history(engine, instance_id, "element_completed").count("p_terima_permohonan") == 2

    accept(engine, instance_id)
    (bill,) = invoices(engine, number)
    assert bill.total == INITIAL_FEE + MAKLOON_FEE == variables(engine, instance_id)[
        "total_tagihan"]
    assert {line["schedule"] for line in bill.lines} == {"INITIAL_OR_RECERT", "MAKLOON"}
    assert sum(line["amount"] for line in bill.lines if line["schedule"] == "MAKLOON") == \
        MAKLOON_FEE
    assert history(engine, instance_id, "task_completed") == [
        "p_ajukan_permohonan", "p_periksa_kelengkapan", "p_lengkapi_dokumen",
        "p_periksa_kelengkapan", "p_kaji_ulang_permohonan"]


def test_without_makloon_the_bill_is_the_initial_schedule_only(engine: Engine) -> None:
    instance_id = start(engine)
    number = apply(engine, instance_id)
    accept(engine, instance_id)
    (bill,) = invoices(engine, number)
    assert bill.total == INITIAL_FEE
    assert {line["schedule"] for line in bill.lines} == {"INITIAL_OR_RECERT"}


def test_staff_record_a_payment_with_its_form_when_the_bank_does_not_send_it(
        engine: Engine) -> None:
    instance_id = start(engine)
    number = apply(engine, instance_id)
    accept(engine, instance_id)
    (bill,) = invoices(engine, number)
    today = engine.clock.now().astimezone(engine.settings.timezone).date().isoformat()
    with engine.read() as s:
        assert s.queries.awaited_messages(instance_id) == ["pembayaran_diterima"]
    # The message's form checks what staff type; a bad NTPN changes nothing.
    with pytest.raises(InvalidInput) as refused, engine.write() as s:
        s.send_message("pembayaran_diterima", {
            "kode_billing": bill.code, "ntpn": "0A1B-2C3D", "tanggal_bayar": today},
            instance_id=instance_id, actor=ACTOR["administrasi"])
    assert set(refused.value.errors) == {"ntpn"}
    assert waits_for_payment(engine, instance_id)
    with engine.write() as s:
        s.send_message("pembayaran_diterima", {
            "kode_billing": bill.code, "ntpn": "0A1B2C3D4E5F6G7H", "tanggal_bayar": today,
            "status_tagihan": "lunas palsu"},
            instance_id=instance_id, actor=ACTOR["administrasi"])
    (bill,) = invoices(engine, number)
    assert (bill.state, bill.ntpn) == ("lunas", "0A1B2C3D4E5F6G7H")
    # Only the form's fields reached the process; the handler set the bill's state.
    assert variables(engine, instance_id)["status_tagihan"] == "lunas"
    assert ready_ids(engine, instance_id) == ["p_siapkan_perjanjian"]


# -- 3. the customer lets the document deadline pass --------------------------------------------

def test_documents_not_completed_in_14_working_days_the_application_lapses(
        engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    # Air mineral (AMDK) without the raw-water test certificate.
    number = apply(engine, instance_id, {
        **BISKUIT, "produk": "AIR_MINERAL", "sni": "SNI 3553:2023"})
    assert len(variables(engine, instance_id)["dokumen_kurang"]) == 1
    submit(engine, instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": False})
    waiting = task_of(engine, instance_id, "p_lengkapi_dokumen")
    (timer,) = timers(engine, instance_id)
    assert timer.due_at == waiting.due_at
    assert timer.due_at > waiting.created_at + timedelta(days=14 + 2 * 2)  # weekends skipped

    sweep = TimerSweep(engine)
    clock.set(timer.due_at - timedelta(minutes=1))
    assert sweep.run_once() == 0
    clock.set(timer.due_at + timedelta(seconds=1))
    assert sweep.run_once() == 1

    assert instance_status(engine, instance_id) == ("completed", number)
    with engine.read() as s:
        assert s.session.get(Task, waiting.id).state == "cancelled"
    assert ready_ids(engine, instance_id) == [] and timers(engine, instance_id) == []
    assert history(engine, instance_id, "timer_fired") == ["p_batas_lengkapi"]
    ended = history(engine, instance_id, "element_completed")
    assert "p_surat_pembatalan_gugur" in ended and "p_selesai_gugur" in ended
    assert "p_terbitkan_tagihan" not in ended
    letter = letter_text(engine, instance_id, variables(engine, instance_id)[
        "dokumen_surat_pembatalan_permohonan"])
    assert number in letter and "tidak dilengkapi dalam 14 hari kerja" in letter
    assert invoices(engine, number) == []


# -- 4. non-payment -------------------------------------------------------------------------------

def test_unpaid_bill_expires_at_its_deadline_and_the_application_is_cancelled(
        engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    number = apply(engine, instance_id)
    accept(engine, instance_id)
    (timer,) = timers(engine, instance_id)
    deadline = datetime.fromisoformat(variables(engine, instance_id)["batas_pembayaran"])
    assert timer.due_at == deadline > clock.now()

    sweep = TimerSweep(engine)
    clock.set(deadline - timedelta(minutes=1))
    assert sweep.run_once() == 0 and waits_for_payment(engine, instance_id)
    clock.set(deadline + timedelta(seconds=1))
    assert sweep.run_once() == 1

    (bill,) = invoices(engine, number)
    assert bill.state == "kedaluwarsa" and bill.paid_at is None
    data = variables(engine, instance_id)
    assert data["status_tagihan"] == "kedaluwarsa"
    letter = letter_text(engine, instance_id, data["dokumen_surat_pembatalan_permohonan"])
    assert bill.code in letter and "tidak dibayar sampai batas pembayaran" in letter
    assert instance_status(engine, instance_id) == ("completed", number)
    assert history(engine, instance_id, "timer_fired") == ["p_batas_pembayaran"]
    ended = history(engine, instance_id, "element_completed")
    assert ended[-4:] == ["p_tagihan_kedaluwarsa", "p_alasan_tidak_dibayar",
                          "p_surat_pembatalan_tidak_dibayar", "p_selesai_batal"]
    assert "p_konfirmasi_pembayaran" not in ended
    assert not waits_for_payment(engine, instance_id)
    with pytest.raises(NotFound):  # a payment after the deadline finds nobody waiting
        pay(engine, number, bill.code)


# -- 5. out of scope ----------------------------------------------------------------------------

def test_an_application_outside_the_accredited_scope_is_refused(engine: Engine) -> None:
    instance_id = start(engine)
    # Mineral water to the superseded 2015 edition: not in the accredited scope.
    number = apply(engine, instance_id, {
        **BISKUIT, "produk": "AIR_MINERAL", "sni": "SNI 3553:2015"}, extra=(
        "bukti_smm_cppob", "uji_bahan_baku"))
    data = variables(engine, instance_id)
    assert data["dalam_lingkup"] is False and "3553:2015" in data["catatan_lingkup"]
    # No completeness check for an application the LSPro cannot take: straight to review.
    review = task_of(engine, instance_id, "p_kaji_ulang_permohonan")
    check_due(engine, review)
    # Even a reviewer who accepts cannot bill an application outside the scope.
    submit(engine, instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Diterima (keliru)."})
    assert instance_status(engine, instance_id) == ("completed", number)
    ended = history(engine, instance_id, "element_completed")
    assert ended[-3:] == ["p_alasan_penolakan", "p_surat_penolakan", "p_selesai_ditolak"]
    assert "p_periksa_kelengkapan" not in history(engine, instance_id, "task_completed")
    letter = letter_text(engine, instance_id, variables(engine, instance_id)[
        "dokumen_surat_penolakan_permohonan"])
    assert "luar ruang lingkup akreditasi" in letter and "3553:2015" in letter
    assert "Diterima (keliru)" not in letter
    assert invoices(engine, number) == []


def test_the_reviewer_may_refuse_an_application_within_scope(engine: Engine) -> None:
    instance_id = start(engine)
    number = apply(engine, instance_id)
    submit(engine, instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    with pytest.raises(InvalidInput) as refused:  # a decision needs its grounds
        submit(engine, instance_id, "p_kaji_ulang_permohonan", {"permohonan_diterima": False})
    assert "catatan_kaji_ulang" in refused.value.errors
    submit(engine, instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": False,
        "catatan_kaji_ulang": "Tidak ada auditor yang kompeten untuk periode ini."})
    assert instance_status(engine, instance_id) == ("completed", number)
    assert history(engine, instance_id, "element_completed")[-1] == "p_selesai_ditolak"
    letter = letter_text(engine, instance_id, variables(engine, instance_id)[
        "dokumen_surat_penolakan_permohonan"])
    assert "Tidak ada auditor yang kompeten untuk periode ini." in letter
    assert invoices(engine, number) == []


# -- 6. from the application to the certificate in the customer's hand -----------------------------

def _sop(today: str) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """SOP AP 2.2.1-3 and the grant, without findings: (element, values, documents)."""
    return [
        ("s01_teruskan_dokumen_kerjasama", {"catatan_penerusan": "Perjanjian diterima."}, ()),
        ("s02_tugaskan_subkoordinator", {"disposisi": "Siapkan tim sertifikasi."},
         ("pernyataan_ketidakberpihakan",)),
        ("s03_siapkan_usulan_tim", {"lead_auditor": ACTOR["auditor"],
                                    "petugas_ppc": ACTOR["ppc"],
                                    "usulan_tim_teknis": ACTOR["tim-teknis"]}, ()),
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
        ("s12_siapkan_rapat_tim_teknis", {"anggota_tim_teknis": ACTOR["tim-teknis"],
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


def certificate_in_hand(engine: Engine, clock: FrozenClock) -> tuple[str, str]:
    """Run an application through the SOP and the grant; return (instance, application no.)."""
    instance_id = start(engine)
    number = apply(engine, instance_id)
    accept(engine, instance_id)
    (bill,) = invoices(engine, number)

    # Waiting for the payment is nobody's task at the LSPro: the service clock stands still.
    with engine.read() as s:
        before = s.service_clocks.of(s.runtime.instance(instance_id)).used_days
    clock.advance(timedelta(days=6))
    with engine.read() as s:
        waiting = s.service_clocks.of(s.runtime.instance(instance_id))
    assert waiting.used_days == before and waiting.running_now is False
    pay(engine, number, bill.code)
    submit(engine, instance_id, "p_siapkan_perjanjian", {})
    submit(engine, instance_id, "p_tandatangani_perjanjian", {},
           documents=("perjanjian_ditandatangani",))

    for element, values, uploads in _sop(clock.now().astimezone(
            engine.settings.timezone).date().isoformat()):
        if element == "s12_siapkan_rapat_tim_teknis":
            assert ready_ids(engine, instance_id) == []  # only the laboratory is busy
            clock.advance(timedelta(days=5))
            with engine.write() as s:
                s.runtime.correlate_message(
                    "hasil_uji_diterima", business_key=number, actor="laboratorium",
                    variables={"nomor_laporan_uji": "LHU-2027-0101", "hasil_uji_memenuhi": True})
        clock.advance(timedelta(minutes=30))
        submit(engine, instance_id, element, values, documents=uploads)
    return instance_id, number


def test_from_application_to_certificate_in_hand(engine: Engine, clock: FrozenClock) -> None:
    instance_id, number = certificate_in_hand(engine, clock)
    assert instance_status(engine, instance_id) == ("completed", number)
    data = variables(engine, instance_id)
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
    assert document(engine, data["dokumen_sertifikat"]).instance_id == instance_id
    minutes = document(engine, data["dokumen_berita_acara_serah_terima"])
    assert minutes.instance_id == instance_id and minutes.content_type.startswith("text/html")
    # The surveillance cycle runs on its own, keyed by the certificate number.
    assert (surveillance.business_key, surveillance.company, surveillance.status) == (
        certificate.number, COMPANY, "running")
    assert handed_on["nomor_sertifikat"] == certificate.number
    assert handed_on["nomor_permohonan"] == number
    # One instance holds the whole story, from the application to the handover.
    done = history(engine, instance_id, "task_completed")
    assert done[:5] == ["p_ajukan_permohonan", "p_periksa_kelengkapan",
                        "p_kaji_ulang_permohonan", "p_siapkan_perjanjian",
                        "p_tandatangani_perjanjian"]
    assert done[5:] == [element for element, _, _ in _sop("")]
    assert history(engine, instance_id, "element_completed")[-3:] == [
        "p_pelaksanaan_sertifikasi", "p_gw_hasil_sertifikasi", "p_selesai"]
    with engine.read() as s:
        service = s.service_clocks.of(s.runtime.instance(instance_id))
    assert service.running_now is False and 0 < service.used_days < 41


def test_an_application_terminated_in_the_sop_ends_as_terminated(
        engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    number = apply(engine, instance_id)
    accept(engine, instance_id)
    (bill,) = invoices(engine, number)
    pay(engine, number, bill.code)
    submit(engine, instance_id, "p_siapkan_perjanjian", {})
    submit(engine, instance_id, "p_tandatangani_perjanjian", {},
           documents=("perjanjian_ditandatangani",))
    today = clock.now().astimezone(engine.settings.timezone).date().isoformat()
    steps = _sop(today)
    for element, values, uploads in steps[:steps.index(next(
            s for s in steps if s[0] == "s09_susun_laporan_audit"))]:
        clock.advance(timedelta(minutes=30))
        submit(engine, instance_id, element, values, documents=uploads)
    submit(engine, instance_id, "s09_susun_laporan_audit", {"ada_ketidaksesuaian": True},
           documents=("laporan_ringkasan_audit", "lembar_ketidaksesuaian"))
    # The customer lets the 60 working days for closing the NCRs pass.
    clock.advance(timedelta(days=120))
    TimerSweep(engine).run_once()
    submit(engine, instance_id, "x_kirim_surat_penghentian", {
        "tanggal_kirim_surat_penghentian": clock.now().astimezone(
            engine.settings.timezone).date().isoformat(),
        "cara_kirim_surat_penghentian": "pos"})
    assert instance_status(engine, instance_id) == ("completed", number)
    assert variables(engine, instance_id)["permohonan_dihentikan"] is True
    assert history(engine, instance_id, "element_completed")[-2:] == [
        "p_gw_hasil_sertifikasi", "p_selesai_dihentikan"]
    with engine.read() as s:
        assert s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == number)).all() == []


# -- 7. the whole life of a certificate ------------------------------------------------------------

def test_the_life_of_a_certificate_from_application_to_revocation_and_a_new_application(
        engine: Engine, clock: FrozenClock) -> None:
    """Applied, granted, surveyed once, the next fee unpaid, revoked, published; apply again."""
    application_id, application = certificate_in_hand(engine, clock)
    with engine.read() as s:
        certificate = s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == application)).one()
        cycle = s.session.scalars(sa.select(ProcessInstance).where(
            ProcessInstance.definition_key == "surveilan_sertifikat")).one()
    number, cycle_id = certificate.number, cycle.id
    sweep = TimerSweep(engine)

    def sweep_at(moment: datetime) -> None:
        clock.set(moment)
        sweep.run_once()

    def bill(code: str | None = None) -> Invoice:
        found = invoices(engine, number)
        return next(i for i in found if i.code == code) if code else found[-1]

    # Year one: the surveillance falls due on the anniversary, is paid, audited, clean.
    (due,) = timers(engine, cycle_id)
    assert due.due_at.astimezone(engine.settings.timezone).date() == \
        certificate.issued_on.replace(year=certificate.issued_on.year + 1)
    sweep_at(due.due_at + timedelta(hours=2))
    first = bill()
    assert (first.total, first.state) == (5_800_000, "terbit")
    pay(engine, number, first.code, ntpn="1A2B3C4D5E6F7G8H")
    assert bill(first.code).state == "lunas"
    submit(engine, cycle_id, "sv_pengambilan_contoh", SAMPLING, actor=ACTOR["ppc"])
    submit(engine, cycle_id, "sv_audit_surveilan", AUDIT, actor=ACTOR["lead-auditor"])
    submit(engine, cycle_id, "sv_laporan_surveilan", NO_NCR, actor=ACTOR["lead-auditor"])
    with engine.read() as s:
        surveyed = s.session.get(Certificate, certificate.id)
        assert surveyed is not None and surveyed.last_surveillance_on is not None

    # Year two: the fee is not paid by its deadline; top management revokes (T5).
    (due,) = timers(engine, cycle_id)
    sweep_at(due.due_at + timedelta(hours=2))
    second = bill()
    assert second.code != first.code and second.state == "terbit"
    sweep_at(second.due_at + timedelta(minutes=1))
    assert bill(second.code).state == "kedaluwarsa"
    submit(engine, cycle_id, "pc_putuskan_pencabutan", REVOKE)
    submit(engine, cycle_id, "pc_kirim_surat_pencabutan", REVOCATION_SENT)
    assert instance_status(engine, cycle_id) == ("completed", number)

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
    letter = letter_text(engine, cycle_id, variables(engine, cycle_id)["dokumen_surat_pencabutan"])
    assert number in letter and "KAN" in letter

    # The company may apply again (T6): a new application gets its own number and bill.
    again = start(engine)
    second_application = apply(engine, again)
    assert second_application != application
    accept(engine, again)
    assert [i.total for i in invoices(engine, second_application)] == [10_950_000]
    assert instance_status(engine, application_id) == ("completed", application)
