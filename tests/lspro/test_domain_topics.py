"""Each domain topic of the LSPro's extension, through a small BPMN with its service task.

Every step goes through the engine (one transaction per command, no workflow
cache), and the assertions read what the handlers wrote: business keys,
variables, register rows, bills, documents and incidents.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa
import weasyprint

from engine.composition import Engine
from engine.config import Settings
from engine.models import (
    Document,
    Incident,
    ProcessInstance,
)
from engine.runtime.waits import HandOver, impatient
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from lspro.billing import valid_code
from lspro.certificates import CertificateRegister
from lspro.models import Certificate, CertificateEvent, Invoice, PanelMember
from lspro.topics import DOMAIN_TOPICS
from tests.builders import definitions, process, service
from tests.instances import the_ready_task as ready_task
from tests.pdfread import pdf_text
from tests.settings import LSPRO

COMPANY = "PT Air Segar Minahasa"


@pytest.fixture
def lspro(settings: Settings, clock: FrozenClock) -> Iterator[Engine]:
    built = Engine(settings, clock=clock, extensions=[LsproExtension(LSPRO)],
                   workflow_cache_size=0)
    yield built
    built.close()


def user(element: str, role: str = "upp") -> str:
    return f'    <bpmn:userTask id="{element}" camunda:candidateGroups="{role}" />\n'


def message_wait(element: str, name: str) -> str:
    return (f'    <bpmn:intermediateCatchEvent id="{element}"><bpmn:messageEventDefinition '
            f'messageRef="msg_{name}" /></bpmn:intermediateCatchEvent>\n')


def timer_wait(element: str, date_expression: str) -> str:
    return (f'    <bpmn:intermediateCatchEvent id="{element}"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDate>{date_expression}</bpmn:timeDate></bpmn:timerEventDefinition>'
            "</bpmn:intermediateCatchEvent>\n")


def chain(key: str, *elements: tuple[str, str], messages: tuple[str, ...] = ()) -> str:
    ids = ["start"] + [e for e, _ in elements] + ["end"]
    inner = '    <bpmn:startEvent id="start" />\n' + "".join(x for _, x in elements)
    inner += '    <bpmn:endEvent id="end" />\n'
    inner += "".join(f'    <bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />\n'
                     for i, (a, b) in enumerate(pairwise(ids)))
    body = "".join(f'  <bpmn:message id="msg_{m}" name="{m}" />\n' for m in messages)
    return definitions(key, body + process(key, inner))


def deploy(engine: Engine, key: str, *elements: tuple[str, str],
           messages: tuple[str, ...] = ()) -> None:
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", chain(key, *elements, messages=messages)
                               .encode())])


def start(engine: Engine, key: str, variables: dict[str, Any], *,
          company: str | None = COMPANY, business_key: str | None = None) -> str:
    with engine.write() as s:
        return s.runtime.start_instance(key, variables=variables, company=company,
                                        business_key=business_key, actor="cust1").id


def state(engine: Engine, instance_id: str) -> tuple[ProcessInstance, dict[str, Any]]:
    with engine.read() as s:
        instance = s.runtime.instance(instance_id)
        return instance, s.runtime.variables(instance)


def incidents(engine: Engine, instance_id: str) -> list[Incident]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == instance_id)))


def complete(engine: Engine, instance_id: str, actor: str, **variables: Any) -> None:
    task = ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, variables, actor=actor)


def document(engine: Engine, document_id: str) -> tuple[Document, str]:
    with engine.read() as s:
        found = s.documents.get(document_id)
        with s.documents.open(found) as stream:
            return found, pdf_text(stream.read())


def test_every_contract_topic_is_registered_next_to_the_links(lspro: Engine) -> None:
    topics = lspro.topics.topics()
    assert set(DOMAIN_TOPICS) <= topics
    assert {"process.start", "instance.hold", "instance.release"} <= topics
    assert {"case.open", "application.receive", "billing.issue", "billing.confirm",
            "billing.expire", "letter.generate", "certificate.draft", "certificate.issue",
            "certificate.handover",
            "certificate.check", "certificate.suspend", "certificate.reinstate",
            "certificate.revoke", "certificate.reissue", "certificate.expire", "panel.record",
            "panel.check_appeal"} <= topics


# -- case.open ---------------------------------------------------------------------------


def test_case_open_numbers_cases_per_prefix_and_year_and_keeps_an_existing_key(
        lspro: Engine, clock: FrozenClock) -> None:
    deploy(lspro, "keluhan", ("open", service("open", "case.open", prefix="KLH")),
           ("wait", user("wait")))
    deploy(lspro, "banding", ("open", service("open", "case.open", prefix="BDG",
                                              variable="nomor_banding")), ("wait", user("wait")))
    first = start(lspro, "keluhan", {})
    second = start(lspro, "keluhan", {})
    appeal = start(lspro, "banding", {})
    kept = start(lspro, "keluhan", {}, business_key="0001/LSPr-034-IDN/3553/2027")
    assert state(lspro, first)[0].business_key == "KLH-2027-00001"
    assert state(lspro, first)[1]["nomor_perkara"] == "KLH-2027-00001"
    assert state(lspro, second)[0].business_key == "KLH-2027-00002"
    assert state(lspro, appeal)[0].business_key == "BDG-2027-00001"
    assert state(lspro, appeal)[1]["nomor_banding"] == "BDG-2027-00001"
    assert state(lspro, kept)[0].business_key == "0001/LSPr-034-IDN/3553/2027"
    assert state(lspro, kept)[1]["nomor_perkara"] == "0001/LSPr-034-IDN/3553/2027"
    # A new year starts each prefix at 1 again (Jakarta's new year, 17:00 UTC).
    clock.set(datetime(2027, 12, 31, 17, 0, tzinfo=UTC))
    assert state(lspro, start(lspro, "keluhan", {}))[0].business_key == "KLH-2028-00001"


def test_case_open_with_an_unknown_prefix_is_an_incident(lspro: Engine) -> None:
    deploy(lspro, "salah", ("open", service("open", "case.open", prefix="XYZ")))
    instance_id = start(lspro, "salah", {})
    (incident,) = incidents(lspro, instance_id)
    assert "unknown prefix" in incident.message
    assert state(lspro, instance_id)[0].business_key is None


# -- application.receive ------------------------------------------------------------------

APPLICATION = {
    "produk": "AIR_MINERAL", "sni": "SNI 3553:2023", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": True, "merek_milik_sendiri": False,
    "merek_kemasan": [{"merek": "Segar", "kemasan": "botol 600 ml"},
                      {"merek": "Segar", "kemasan": "galon 19 l"}],
    "dok_surat_permohonan": "doc-1", "dok_npwp": {"id": "doc-2", "name": "npwp.pdf"},
}


def test_application_receive_numbers_checks_scope_lists_documents_and_issues_a_receipt(
        lspro: Engine) -> None:
    deploy(lspro, "permohonan", ("receive", service("receive", "application.receive")),
           ("lengkapi", user("lengkapi", "pelanggan")),
           ("again", service("again", "application.receive")), ("wait", user("wait")))
    instance_id = start(lspro, "permohonan", dict(APPLICATION))
    instance, variables = state(lspro, instance_id)
    assert incidents(lspro, instance_id) == []
    assert instance.business_key == variables["nomor_permohonan"] == "PRM-2027-00001"
    assert variables["nama_produk"] == "Air mineral"
    assert variables["regulasi"] == "Permenperin No. 62 Tahun 2024"
    assert variables["dalam_lingkup"] is True
    required = variables["dokumen_wajib"]
    # makloon, a licensed brand, AMDK and type 5 add their items; not a recertification.
    assert {"perjanjian_makloon", "perjanjian_lisensi", "uji_bahan_baku",
            "bukti_smm_cppob"} <= set(required)
    assert "sppt_sni_lama" not in required and "tanda_terima" not in required
    assert len(required) == 19
    assert "Salinan NPWP" not in variables["dokumen_kurang"]
    assert "Salinan perjanjian makloon" in variables["dokumen_kurang"]
    assert len(variables["dokumen_kurang"]) == 17
    assert variables["dokumen_lengkap_sistem"] is False
    assert re.fullmatch(r"0001/TT/LSPr-034-IDN/III/2027", variables["nomor_tanda_terima"])
    receipt, text = document(lspro, variables["dokumen_tanda_terima"])
    assert receipt.instance_id == instance_id and receipt.content_type == "application/pdf"
    assert receipt.field == "dokumen_tanda_terima"
    assert "F.10.01.00.2014" in text and "PRM-2027-00001" in text and COMPANY in text
    assert "galon 19 l" in text and "Salinan NPWP" in text

    # The customer adds every document; the second run keeps number and receipt.
    uploads = {f"dok_{key}": f"doc-{key}" for key in required}
    complete(lspro, instance_id, "cust1", **uploads)
    instance, again = state(lspro, instance_id)
    assert again["nomor_permohonan"] == "PRM-2027-00001"
    assert again["dokumen_tanda_terima"] == variables["dokumen_tanda_terima"]
    assert again["nomor_tanda_terima"] == variables["nomor_tanda_terima"]
    assert again["dokumen_kurang"] == [] and again["dokumen_lengkap_sistem"] is True
    with lspro.read() as s:
        receipts = s.session.scalars(sa.select(Document).where(
            Document.field == "dokumen_tanda_terima")).all()
    assert len(receipts) == 1


def test_application_receive_out_of_scope_is_a_result_not_an_incident(lspro: Engine) -> None:
    deploy(lspro, "permohonan", ("receive", service("receive", "application.receive")),
           ("wait", user("wait")))
    instance_id = start(lspro, "permohonan", {
        **APPLICATION, "produk": "GARAM_BERYODIUM", "sni": "SNI 3556:2024", "tipe_skema": 5,
        "makloon": False, "merek_milik_sendiri": True,
        "jenis_permohonan": "resertifikasi"})
    _, variables = state(lspro, instance_id)
    assert incidents(lspro, instance_id) == []
    assert variables["dalam_lingkup"] is False
    assert "SNI 3556:2024" in variables["catatan_lingkup"]
    assert "SNI 3556:2016" in variables["catatan_lingkup"]
    assert "sppt_sni_lama" in variables["dokumen_wajib"]
    assert "uji_bahan_baku" not in variables["dokumen_wajib"]
    assert "perjanjian_lisensi" not in variables["dokumen_wajib"]


@pytest.mark.parametrize(("change", "word"), [
    ({"produk": None}, "produk"),
    ({"jenis_permohonan": "perpanjangan"}, "jenis_permohonan"),
    ({"makloon": "ya"}, "makloon"),
    ({"merek_kemasan": []}, "merek_kemasan"),
])
def test_application_receive_refuses_bad_input_as_an_incident(
        lspro: Engine, change: dict[str, Any], word: str) -> None:
    deploy(lspro, "permohonan", ("receive", service("receive", "application.receive")))
    instance_id = start(lspro, "permohonan", {**APPLICATION, **change})
    (incident,) = incidents(lspro, instance_id)
    assert word in incident.message
    assert state(lspro, instance_id)[0].business_key is None  # rolled back with the step


# -- billing ------------------------------------------------------------------------------

BILLING = (("open", service("open", "case.open", prefix="PRM", variable="nomor_permohonan")),
           ("issue", service("issue", "billing.issue", schedule="INITIAL_OR_RECERT")))


def test_billing_issue_then_payment_message_marks_the_bill_paid(
        lspro: Engine, clock: FrozenClock) -> None:
    deploy(lspro, "bayar", *BILLING, ("paid", message_wait("paid", "pembayaran_diterima")),
           ("confirm", service("confirm", "billing.confirm")), ("wait", user("wait")),
           messages=("pembayaran_diterima",))
    instance_id = start(lspro, "bayar", {"makloon": True})
    _, variables = state(lspro, instance_id)
    assert valid_code(variables["kode_billing"])
    assert variables["total_tagihan"] == 10_950_000 + 3_850_000
    # Issued on 1 March 2027 (09:00 in Jakarta): payable until 15 March, 23:59 WIB.
    assert variables["batas_pembayaran"] == "2027-03-15T23:59:00+07:00"
    slip, text = document(lspro, variables["dokumen_tagihan"])
    assert slip.field == "dokumen_tagihan"
    assert variables["kode_billing"] in text and "Rp 14.800.000" in text
    clock.advance(timedelta(days=4))
    with lspro.write() as s:
        s.runtime.correlate_message("pembayaran_diterima", business_key="PRM-2027-00001",
                                    variables={"kode_billing": variables["kode_billing"],
                                               "ntpn": "0A1B2C3D4E5F6G7H",
                                               "tanggal_bayar": "2027-03-05"})
    assert incidents(lspro, instance_id) == []
    assert state(lspro, instance_id)[1]["status_tagihan"] == "lunas"
    with lspro.read() as s:
        invoice = s.session.scalars(sa.select(Invoice)).one()
    assert (invoice.state, invoice.ntpn, invoice.paid_on.isoformat()) == (
        "lunas", "0A1B2C3D4E5F6G7H", "2027-03-05")
    assert invoice.subject == "PRM-2027-00001" and invoice.company == COMPANY
    assert invoice.schedules == "INITIAL_OR_RECERT,MAKLOON"
    assert sum(line["amount"] for line in invoice.lines) == invoice.total


def test_billing_expire_fires_at_the_deadline_and_a_late_payment_is_refused(
        lspro: Engine, clock: FrozenClock) -> None:
    deploy(lspro, "kedaluwarsa", *BILLING,
           ("deadline", timer_wait("deadline", "${batas_pembayaran}")),
           ("expire", service("expire", "billing.expire")),
           ("pay", service("pay", "billing.confirm")))
    instance_id = start(lspro, "kedaluwarsa", {"makloon": False, "ntpn": "0A1B2C3D4E5F6G7H",
                                                "tanggal_bayar": "2027-03-10"})
    _, variables = state(lspro, instance_id)
    assert variables["total_tagihan"] == 10_950_000
    clock.set(datetime(2027, 3, 15, 16, 58, tzinfo=UTC))  # 23:58 WIB: not yet
    assert TimerSweep(lspro).run_once() == 0
    clock.set(datetime(2027, 3, 15, 16, 59, tzinfo=UTC))
    # The payment step after the expiry finds the bill expired: an incident, and the
    # expiry itself stays recorded.
    assert TimerSweep(lspro).run_once() == 1
    (incident,) = incidents(lspro, instance_id)
    assert "kedaluwarsa" in incident.message
    with lspro.read() as s:
        invoice = s.session.scalars(sa.select(Invoice)).one()
    assert invoice.state == "kedaluwarsa" and invoice.ntpn is None


# -- letters ------------------------------------------------------------------------------


def test_letter_generate_numbers_escapes_and_stores_the_letter(lspro: Engine) -> None:
    deploy(lspro, "surat", ("one", service("one", "letter.generate",
                                           template="surat_pencabutan")),
           ("two", service("two", "letter.generate", template="surat_pembekuan")),
           ("wait", user("wait")))
    instance_id = start(lspro, "surat", {
        "nomor_sertifikat": "0003/LSPr-034-IDN/3553/2027",
        "alasan_pencabutan": "tidak_membayar", "alasan_pembekuan": "penyalahgunaan",
        "nama_produk": '<script>alert("x")</script>'}, company="PT <b>Jahat</b> & Co")
    _, variables = state(lspro, instance_id)
    assert variables["nomor_surat_surat_pencabutan"] == "0001/SPC/LSPr-034-IDN/III/2027"
    assert variables["nomor_surat_surat_pembekuan"] == "0002/SBK/LSPr-034-IDN/III/2027"
    letter, text = document(lspro, variables["dokumen_surat_pencabutan"])
    assert letter.content_type == "application/pdf" and letter.instance_id == instance_id
    # Values stay text: the PDF shows the angle brackets a markup would have hidden.
    assert '<script>alert("x")</script>' in text and "PT <b>Jahat</b> & Co" in text
    assert "tidak membayar biaya SPPT SNI" in text  # the reason's label, not its code
    assert "Komite Akreditasi Nasional (KAN)" in text and "Tembusan" in text
    _, suspension = document(lspro, variables["dokumen_surat_pembekuan"])
    assert "penyalahgunaan SPPT SNI" in suspension and "Tembusan" not in suspension


def test_a_letter_of_a_staff_started_instance_goes_to_the_certificate_holder(
        lspro: Engine) -> None:
    deploy(lspro, "pembekuan", ("issue", service("issue", "certificate.issue")),
           ("letter", service("letter", "letter.generate", template="surat_pembekuan")),
           ("wait", user("wait")))
    instance_id = start(lspro, "pembekuan", {**GRANT, "perusahaan": "PT Pemegang"},
                        company=None)
    _, text = document(lspro, state(lspro, instance_id)[1]["dokumen_surat_pembekuan"])
    assert "Pimpinan PT Pemegang" in text


def test_letter_generate_with_an_unknown_template_is_an_incident(lspro: Engine) -> None:
    deploy(lspro, "surat", ("one", service("one", "letter.generate", template="surat_cinta")))
    instance_id = start(lspro, "surat", {})
    (incident,) = incidents(lspro, instance_id)
    assert "surat_cinta" in incident.message


# -- the certificate register -----------------------------------------------------------

GRANT = {"nomor_permohonan": "PRM-2027-00007", "produk": "BISKUIT", "sni": "SNI 2973:2022",
         "tipe_skema": 5, "merek_kemasan": [{"merek": "Renyah", "kemasan": "kaleng 300 g"}]}


def certificate(engine: Engine, number: str) -> Certificate:
    with engine.read() as s:
        return s.session.scalars(sa.select(Certificate).where(
            Certificate.number == number)).one()


def events(engine: Engine, number: str) -> list[tuple[str, str | None, str | None]]:
    found = certificate(engine, number)
    with engine.read() as s:
        return [(e.kind, e.from_state, e.to_state) for e in s.session.scalars(
            sa.select(CertificateEvent).where(CertificateEvent.certificate_id == found.id)
            .order_by(CertificateEvent.id))]


def test_certificate_issue_handover_check_suspend_reinstate_revoke(
        lspro: Engine, clock: FrozenClock) -> None:
    deploy(lspro, "sertifikat",
           ("issue", service("issue", "certificate.issue")),
           ("handover", service("handover", "certificate.handover")),
           ("check", service("check", "certificate.check")),
           ("suspend", service("suspend", "certificate.suspend")),
           ("decide", user("decide")),
           ("reinstate", service("reinstate", "certificate.reinstate")),
           ("suspend2", service("suspend2", "certificate.suspend")),
           ("decide2", user("decide2")),
           ("revoke", service("revoke", "certificate.revoke")),
           ("wait", user("wait")))
    instance_id = start(lspro, "sertifikat", {**GRANT, "alasan_pembekuan": "penyalahgunaan",
                                              "alasan_pencabutan": "koreksi_tidak_memadai"})
    assert incidents(lspro, instance_id) == []
    _, variables = state(lspro, instance_id)
    number = variables["nomor_sertifikat"]
    assert number == "0001/LSPr-034-IDN/2973/2027"
    assert variables["berlaku_sampai"] == "2031-02-28"
    assert variables["status_sertifikat"] == "dibekukan"
    assert variables["masih_berlaku"] is True
    assert variables["surveilan_berikutnya"] == "2028-03-01T00:00:00+07:00"
    assert variables["batas_pembekuan"] == "2027-05-30T23:59:00+07:00"  # 90 days
    _, text = document(lspro, variables["dokumen_sertifikat"])
    assert number in text and COMPANY in text and "SNI 2973:2022" in text
    assert "Renyah" in text and "28 Februari 2031" in text
    issued = certificate(lspro, number)
    assert issued.handed_over_at == clock.now() and issued.company == COMPANY
    assert issued.application_number == "PRM-2027-00007" and issued.scheme_type == 5

    complete(lspro, instance_id, "kepala", jangka_pembekuan_hari=30)
    _, variables = state(lspro, instance_id)
    assert variables["batas_pembekuan"] == "2027-03-31T23:59:00+07:00"
    complete(lspro, instance_id, "kepala")
    _, variables = state(lspro, instance_id)
    assert variables["status_sertifikat"] == "dicabut"
    assert events(lspro, number) == [
        ("issued", None, "aktif"), ("handed_over", "aktif", "aktif"),
        ("suspended", "aktif", "dibekukan"), ("reinstated", "dibekukan", "aktif"),
        ("suspended", "aktif", "dibekukan"), ("revoked", "dibekukan", "dicabut")]
    revoked = certificate(lspro, number)
    assert revoked.revocation_published and revoked.revocation_reason == "koreksi_tidak_memadai"


def test_certificate_draft_renders_without_numbering_or_registering_anything(
        lspro: Engine) -> None:
    deploy(lspro, "konsep", ("draft", service("draft", "certificate.draft")),
           ("again", service("again", "certificate.draft")),
           ("issue", service("issue", "certificate.issue")), ("wait", user("wait")))
    instance_id = start(lspro, "konsep", dict(GRANT))
    assert incidents(lspro, instance_id) == []
    _, variables = state(lspro, instance_id)
    with lspro.read() as s:
        drafts = list(s.session.scalars(sa.select(Document).where(
            Document.instance_id == instance_id, Document.field == "dokumen_konsep_sertifikat")
            .order_by(Document.uploaded_at, Document.name)))
    assert [d.name for d in drafts] == ["konsep_sppt_sni_PRM-2027-00007_1.pdf",
                                        "konsep_sppt_sni_PRM-2027-00007_2.pdf"]
    # The variable is a file reference to the latest, as a form's file field holds one.
    assert variables["dokumen_konsep_sertifikat"]["id"] == drafts[1].id
    assert variables["dokumen_konsep_sertifikat"]["content_type"] == "application/pdf"
    _, text = document(lspro, drafts[1].id)
    assert "KONSEP" in text and "Konsep ke-2" in text and "28 Februari 2031" in text
    # Drafting took no number: the certificate issued after two drafts is the first.
    assert variables["nomor_sertifikat"] == "0001/LSPr-034-IDN/2973/2027"
    assert "0001/LSPr-034-IDN" not in text


def test_certificate_draft_of_what_cannot_be_issued_is_an_incident(lspro: Engine) -> None:
    deploy(lspro, "konsep", ("draft", service("draft", "certificate.draft")),
           ("wait", user("wait")))
    instance_id = start(lspro, "konsep", {**GRANT, "sni": "SNI 9999:2020"})
    (incident,) = incidents(lspro, instance_id)
    assert incident.element_id == "draft" and "scope" in incident.message
    with lspro.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0


def test_certificate_reissue_withdraws_the_old_one_and_numbers_the_new(lspro: Engine) -> None:
    deploy(lspro, "banding", ("issue", service("issue", "certificate.issue")),
           ("reissue", service("reissue", "certificate.reissue")), ("wait", user("wait")))
    instance_id = start(lspro, "banding", {**GRANT, "koreksi": "alamat perusahaan salah",
                                           "koreksi_perusahaan": "PT Air Segar Manado"})
    assert incidents(lspro, instance_id) == []
    _, variables = state(lspro, instance_id)
    assert variables["nomor_sertifikat_lama"] == "0001/LSPr-034-IDN/2973/2027"
    assert variables["nomor_sertifikat"] == "0002/LSPr-034-IDN/2973/2027"
    old = certificate(lspro, variables["nomor_sertifikat_lama"])
    new = certificate(lspro, variables["nomor_sertifikat"])
    assert (old.state, old.superseded_by) == ("ditarik", new.id)
    assert (new.state, new.company, new.supersedes) == ("aktif", "PT Air Segar Manado", old.id)
    assert new.expires_on == old.expires_on
    _, text = document(lspro, variables["dokumen_sertifikat"])
    assert "PT Air Segar Manado" in text and new.number in text


def test_certificate_check_of_a_withdrawn_certificate_ends_its_cycle(lspro: Engine) -> None:
    deploy(lspro, "surveilan", ("issue", service("issue", "certificate.issue")),
           ("wait", user("wait")), ("check", service("check", "certificate.check")),
           ("wait2", user("wait2")))
    instance_id = start(lspro, "surveilan", dict(GRANT))
    old = state(lspro, instance_id)[1]["nomor_sertifikat"]
    with lspro.write() as s:
        CertificateRegister(s.session, lspro.clock, LSPRO).reissue(
            old, "salah ketik merek")
    complete(lspro, instance_id, "upp1")
    _, variables = state(lspro, instance_id)
    # The old number stays: the appeal starts the replacement's own cycle.
    assert variables["nomor_sertifikat"] == old
    assert variables["status_sertifikat"] == "ditarik" and variables["masih_berlaku"] is False


def test_certificate_check_records_surveillance_and_expire_after_the_last_day(
        lspro: Engine, clock: FrozenClock) -> None:
    deploy(lspro, "surveilan", ("issue", service("issue", "certificate.issue")),
           ("wait1", user("wait1")),
           ("done", service("done", "certificate.check", recordSurveillance="true")),
           ("wait2", user("wait2")),
           ("expire", service("expire", "certificate.expire")),
           ("check", service("check", "certificate.check")), ("wait3", user("wait3")))
    instance_id = start(lspro, "surveilan", dict(GRANT))
    number = state(lspro, instance_id)[1]["nomor_sertifikat"]
    clock.set(datetime(2028, 3, 20, 3, 0, tzinfo=UTC))
    complete(lspro, instance_id, "auditor1")
    _, variables = state(lspro, instance_id)
    assert variables["surveilan_berikutnya"] == "2029-03-20T00:00:00+07:00"
    assert certificate(lspro, number).last_surveillance_on.isoformat() == "2028-03-20"
    # Expiring on the last valid day is refused (an incident)...
    clock.set(datetime(2031, 2, 28, 10, 0, tzinfo=UTC))
    complete(lspro, instance_id, "auditor1")
    (incident,) = incidents(lspro, instance_id)
    assert "valid through 2031-02-28" in incident.message
    assert certificate(lspro, number).state == "aktif"
    # ...and works on the day after.
    clock.set(datetime(2031, 2, 28, 17, 0, tzinfo=UTC))  # 1 March, 00:00 WIB
    with lspro.write() as s:
        s.runtime.retry_incident(incident.id, actor="admin")
    _, variables = state(lspro, instance_id)
    assert variables["status_sertifikat"] == "kedaluwarsa"
    assert variables["masih_berlaku"] is False


def test_certificate_issue_outside_the_scope_is_an_incident_and_registers_nothing(
        lspro: Engine) -> None:
    deploy(lspro, "sertifikat", ("issue", service("issue", "certificate.issue")))
    instance_id = start(lspro, "sertifikat", {**GRANT, "tipe_skema": 4})
    (incident,) = incidents(lspro, instance_id)
    assert "outside the accredited scope" in incident.message
    with lspro.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0


# -- panels ---------------------------------------------------------------------------------


def test_panel_record_then_check_appeal(lspro: Engine) -> None:
    with lspro.write() as s:
        for name in ("teknis1", "teknis2", "teknis3", "teknis4"):
            s.identity.add_user(name, "correct-horse-battery", roles=["tim-teknis"])
    deploy(lspro, "panel", ("review", user("review", "tim-teknis")),
           ("record", service("record", "panel.record")),
           ("propose", user("propose", "kepala-balai")),
           ("check", service("check", "panel.check_appeal")), ("wait", user("wait")))
    instance_id = start(lspro, "panel", {"nomor_permohonan": "PRM-2027-00003",
                                         "anggota_tim_teknis": "teknis1, teknis2"})
    complete(lspro, instance_id, "teknis3")
    _, variables = state(lspro, instance_id)
    assert variables["panel_asli"] == ["teknis3", "teknis1", "teknis2"]
    with lspro.read() as s:
        rows = {(m.username, m.source) for m in s.session.scalars(sa.select(PanelMember))}
    assert rows == {("teknis3", "completed"), ("teknis1", "declared"),
                    ("teknis2", "declared")}
    complete(lspro, instance_id, "kepala", panel_banding="teknis4, teknis2, ghost")
    _, variables = state(lspro, instance_id)
    assert variables["panel_banding_sah"] is False
    assert variables["panel_konflik"] == ["teknis2"]
    assert variables["panel_banding"] == ["teknis4", "teknis2", "ghost"]
    assert "ghost" in variables["catatan_panel_banding"]


def test_panel_check_appeal_accepts_an_independent_panel(lspro: Engine) -> None:
    with lspro.write() as s:
        for name in ("teknis1", "teknis4", "teknis5"):
            s.identity.add_user(name, "correct-horse-battery", roles=["tim-teknis"])
    deploy(lspro, "panel", ("record", service("record", "panel.record")),
           ("check", service("check", "panel.check_appeal")), ("wait", user("wait")))
    instance_id = start(lspro, "panel", {"nomor_permohonan": "PRM-2027-00004",
                                         "anggota_tim_teknis": ["teknis1"],
                                         "panel_banding": ["teknis4", "teknis5"]})
    _, variables = state(lspro, instance_id)
    assert variables["panel_banding_sah"] is True and variables["panel_konflik"] == []
    with lspro.read() as s:
        appeal = {m.username for m in s.session.scalars(
            sa.select(PanelMember).where(PanelMember.kind == "appeal"))}
    assert appeal == {"teknis4", "teknis5"}


def test_the_clock_fixture_is_nine_in_the_morning_in_jakarta(clock: FrozenClock) -> None:
    # The dates asserted above depend on it.
    assert clock.now() == datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    assert clock.now() + timedelta(hours=7) == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


# -- the PDFs are laid out after their command ---------------------------------------------
# The command that issues a certificate (or a bill, a letter, a receipt) calls no
# WeasyPrint: it freezes the document's page and the render queue makes the PDF; a
# later change of what the page was made from does not change it. The certificate's
# draft is made in its command, as its variable carries the file's SHA-256.


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every WeasyPrint layout started, by thread name."""
    started: list[str] = []
    real = weasyprint.HTML.write_pdf

    def counted(self: weasyprint.HTML, *args: Any, **kwargs: Any) -> Any:
        started.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    # On the method: the documents are laid out by a subclass (lspro.documents.pdf).
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", counted)
    yield started


def pending(engine: Engine, document_id: str) -> bool:
    with engine.read() as s:
        found: Document = s.documents.get(document_id)
        return not found.ready


def test_issuing_a_certificate_calls_no_weasyprint_and_the_queue_makes_its_pdf(
        lspro: Engine, layouts: list[str]) -> None:
    deploy(lspro, "sertifikat", ("issue", service("issue", "certificate.issue")),
           ("bill", service("bill", "billing.issue", schedule="INITIAL_OR_RECERT")),
           ("wait", user("wait")))
    instance_id = start(lspro, "sertifikat", GRANT)
    assert incidents(lspro, instance_id) == []
    _, variables = state(lspro, instance_id)
    assert layouts == []  # the command laid nothing out
    assert pending(lspro, variables["dokumen_sertifikat"])
    assert pending(lspro, variables["dokumen_tagihan"])

    # The register's row changes after the command: the PDF says what was decided.
    with lspro.write() as s:
        s.session.execute(sa.update(Certificate).values(company="PT Lain Sekali"))
    assert lspro.renders.drain() == 2 and len(layouts) == 2
    _, text = document(lspro, variables["dokumen_sertifikat"])
    assert variables["nomor_sertifikat"] in text and "Renyah" in text
    assert COMPANY in text and "PT Lain Sekali" not in text
    _, bill = document(lspro, variables["dokumen_tagihan"])
    assert variables["kode_billing"] in bill
    assert len(layouts) == 2  # read back without laying out again


def test_the_certificate_draft_is_made_in_its_command(lspro: Engine,
                                                      layouts: list[str]) -> None:
    deploy(lspro, "konsep", ("draft", service("draft", "certificate.draft")),
           ("wait", user("wait")))
    instance_id = start(lspro, "konsep", GRANT)
    _, variables = state(lspro, instance_id)
    reference = variables["dokumen_konsep_sertifikat"]
    assert len(layouts) == 1 and not pending(lspro, reference["id"])
    assert reference["sha256"] and reference["size"] > 0


def test_the_certificate_draft_is_laid_out_by_the_render_process_when_there_is_one(
        lspro: Engine, layouts: list[str]) -> None:
    """A server puts its renderers in a child process: the draft, made inside its
    command, is laid out there too, and a caller that must not wait (the server's
    event loop) is handed the command back before any of it is done."""
    deploy(lspro, "konsep", ("draft", service("draft", "certificate.draft")),
           ("wait", user("wait")))
    child = lspro.renders.render_in_child()
    assert child is not None
    with pytest.raises(HandOver), impatient(0.1):
        start(lspro, "konsep", GRANT)
    with lspro.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    instance_id = start(lspro, "konsep", GRANT)
    _, variables = state(lspro, instance_id)
    reference = variables["dokumen_konsep_sertifikat"]
    assert layouts == [] and child.pid is not None  # laid out in the child, not here
    found, text = document(lspro, reference["id"])
    assert found.sha256 == reference["sha256"] and "KONSEP" in text
