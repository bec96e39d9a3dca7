"""Printable documents: every template renders to PDF, variable text stays text, numbers run."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.composition import Engine
from engine.config import ConfigError, load_settings
from engine.models import Document
from engine.queries.history import HistoryLog
from engine.time.clock import FrozenClock
from lspro.billing import BillingService
from lspro.certificates import CertificateRegister
from lspro.letters import RECEIPT, TEMPLATES, LetterService, display, render_letter
from lspro.settings import LsproSettings, load_lspro_settings
from tests.builders import definitions, process
from tests.pdfread import pdf_pages, pdf_text
from tests.settings import LSPRO

# processes/CONTRACT.md, "letter.generate" templates.
CONTRACT_TEMPLATES = {
    "surat_kekurangan_dokumen", "surat_penolakan_permohonan", "surat_pembatalan_permohonan",
    "perjanjian_kerjasama", "surat_kekurangan", "surat_penghentian",
    "berita_acara_serah_terima", "surat_pembekuan", "surat_pemulihan", "surat_pencabutan",
    "surat_permohonan_maaf", "surat_penangguhan_proses", "surat_kelanjutan_proses",
    "surat_hasil_banding",
}
EVIL = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>'


def every_variable(value: Any) -> dict[str, Any]:
    """Every variable any template shows, set to ``value``."""
    names = {name for t in (*TEMPLATES.values(), RECEIPT) for _, name in t.details}
    names |= {t.listing[1] for t in (*TEMPLATES.values(), RECEIPT) if t.listing}
    variables: dict[str, Any] = {name: value for name in names}
    variables["merek_kemasan"] = [{"merek": value, "kemasan": value}]
    for name in ("dokumen_kurang", "daftar_kekurangan", "dokumen_diterima"):
        variables[name] = [value, value]
    return variables


def test_every_contract_template_exists() -> None:
    assert set(TEMPLATES) == CONTRACT_TEMPLATES
    codes = [t.code for t in (*TEMPLATES.values(), RECEIPT)]
    assert len(codes) == len(set(codes))
    assert TEMPLATES["berita_acara_serah_terima"].form == "F.52.01.00.2014"
    assert RECEIPT.form == "F.10.01.00.2014"
    assert TEMPLATES["berita_acara_serah_terima"].layout == "berita_acara"
    assert RECEIPT.layout == "receipt"


@pytest.mark.parametrize("key", [*sorted(CONTRACT_TEMPLATES), "tanda_terima"])
def test_no_variable_text_becomes_markup(key: str) -> None:
    template = TEMPLATES.get(key, RECEIPT)
    page = render_letter(template, every_variable(EVIL), number="0001/X/Y/III/2027",
                         day=date(2027, 3, 1), settings=LSPRO, company=EVIL)
    text = pdf_text(page)
    # Had a value become markup, the document would show no angle brackets: it shows
    # them, printed as the letters they are.
    assert EVIL in text
    assert template.title.upper() in text.upper() and "0001/X/Y/III/2027" in text
    assert "1 Maret 2027" in text and LSPRO.lspro_code in text and LSPRO.lspro_name in text
    assert pdf_pages(page) >= 1 and f"Halaman 1 dari {pdf_pages(page)}" in text
    assert LSPRO.signatory_position in text and LSPRO.signing_place in text


def test_a_letter_shows_its_data_and_leaves_out_what_is_unset() -> None:
    page = pdf_text(render_letter(TEMPLATES["surat_pencabutan"], {
        "nomor_sertifikat": "0003/LSPr-034-IDN/3553/2027", "nama_produk": "Air mineral",
        "alasan_pencabutan": "tidak membayar biaya SPPT SNI", "sni": ""},
        number="0005/SPC/LSPr-034-IDN/III/2027", day=date(2027, 3, 1), settings=LSPRO,
        company="PT Air Segar"))
    assert "0003/LSPr-034-IDN/3553/2027" in page and "Pimpinan PT Air Segar" in page
    assert "Nomor : 0005/SPC/LSPr-034-IDN/III/2027" in page
    assert "Standar" not in page  # sni is empty: no row
    assert "Komite Akreditasi Nasional (KAN)" in page
    assert "tidak dikembalikan" in page  # fees are not refunded
    assert "Halaman 1 dari 1" in page


def test_the_signatory_and_place_come_from_the_settings() -> None:
    settings = LsproSettings(signatory_name="Ir. Rahmawati Lumowa", signatory_id="1975",
                             signatory_position="Kepala Balai", signing_place="Bitung",
                             lspro_address="Jl. Contoh 1, Manado")
    page = pdf_text(render_letter(
        TEMPLATES["berita_acara_serah_terima"],
        {"nomor_sertifikat": "0003/LSPr-034-IDN/3553/2027",
         "merek_kemasan": [{"merek": "Segar", "kemasan": "galon 19 l"}]},
        number="0006/BAST/LSPr-034-IDN/III/2027", day=date(2027, 3, 1), settings=settings,
        company="PT Air Segar"))
    assert "Pada hari ini, Senin, tanggal 1 Maret 2027, bertempat di Bitung" in page
    assert "Ir. Rahmawati Lumowa" in page and "NIP 1975" in page and "Kepala Balai" in page
    assert "Yang menyerahkan" in page and "Yang menerima" in page
    assert "Jl. Contoh 1, Manado" in page and "galon 19 l" in page


def test_values_read_as_indonesian_text() -> None:
    assert display(True) == "Ya" and display(False) == "Tidak" and display(None) == "-"
    assert display("2027-03-15") == "15 Maret 2027"
    assert display("2027-03-15T23:59:00+07:00") == "15 Maret 2027 pukul 23.59"
    assert display({"merek": "Segar", "kemasan": "galon"}) == "Segar (galon)"
    assert display(["a", 2]) == "a; 2"
    assert display("PRM-2027-00001") == "PRM-2027-00001"


@pytest.fixture
def instance_id(engine: Engine) -> str:
    key = "surat"
    xml = definitions(key, process(key, (
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />\n'
        '    <bpmn:userTask id="wait" camunda:candidateGroups="upp" />\n')))
    with engine.write() as s:
        s.deployments.deploy([("surat.bpmn", xml.encode())])
        return s.runtime.start_instance(key, company="PT Contoh").id


def test_letters_are_numbered_per_year_and_stored_with_the_instance(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    def make(key: str) -> tuple[Document, str]:
        with engine.write() as s:
            letters = LetterService(s.session, engine.clock, LSPRO, s.documents)
            return letters.generate(key, {"nomor_permohonan": "PRM-2027-00001"},
                                    instance_id=instance_id, company="PT Contoh",
                                    reference="PRM-2027-00001")

    first, number = make("surat_kekurangan_dokumen")
    assert number == "0001/SKD/LSPr-034-IDN/III/2027"
    assert make("surat_penolakan_permohonan")[1] == "0002/SPP/LSPr-034-IDN/III/2027"
    clock.set(datetime(2028, 1, 2, 3, 0, tzinfo=UTC))
    assert make("surat_penghentian")[1] == "0001/SHP/LSPr-034-IDN/I/2028"
    assert (first.instance_id, first.content_type, first.field) == (
        instance_id, "application/pdf", "dokumen_surat_kekurangan_dokumen")
    assert first.name == "surat_kekurangan_dokumen_PRM-2027-00001.pdf"
    # Stored pending: the PDF is made after the command, the first when it is opened.
    assert first.sha256 is None and first.size is None and not first.ready
    with engine.read() as s, s.documents.open(s.documents.get(first.id)) as stream:
        content = stream.read()
        assert number in pdf_text(content) and "Pimpinan PT Contoh" in pdf_text(content)
    assert engine.renders.drain() == 2  # the other two
    with engine.read() as s:
        assert hashlib.sha256(content).hexdigest() == s.documents.get(first.id).sha256
        generated = [e for e in HistoryLog(s.session, engine.clock).events(instance_id)
                     if e.kind == "document_generated"]  # as the history's readers get it
    assert len(generated) == 3 and generated[0].data["document_id"] == first.id
    assert generated[0].data["size"] == len(content)


def test_certificate_and_billing_slip_documents(engine: Engine, instance_id: str) -> None:
    settings = engine.provided(LsproSettings)
    with engine.write() as s:
        register = CertificateRegister(s.session, engine.clock, settings)
        certificate = register.issue(
            company="PT <Contoh>", product_code="AIR_DEMINERAL", sni="SNI 6241:2023",
            scheme_type=5, brands=[{"merek": "Murni", "kemasan": "botol 1500 ml"}],
            application_number="PRM-2027-00001")
        invoice = BillingService(s.session, engine.clock, settings).issue(
            "PRM-2027-00001", ["INITIAL_OR_RECERT"], company="PT <Contoh>")
        letters = LetterService(s.session, engine.clock, settings, s.documents)
        sppt = letters.certificate(certificate, instance_id=instance_id)
        slip = letters.billing_slip(invoice, instance_id=instance_id)
    with engine.read() as s:
        with s.documents.open(s.documents.get(sppt.id)) as stream:
            text = pdf_text(stream.read())
        with s.documents.open(s.documents.get(slip.id)) as stream:
            bill = pdf_text(stream.read())
    assert "SERTIFIKAT PRODUK PENGGUNAAN TANDA SNI" in text
    assert certificate.number in text and "SNI 6241:2023/Ralat1:2024" in text
    assert "PT <Contoh>" in text and "Murni" in text and "tipe 5" in text
    assert "1 Maret 2027" in text and "28 Februari 2031" in text
    assert sppt.name == f"sppt_sni_{certificate.number.replace('/', '-')}.pdf"
    assert (sppt.content_type, slip.content_type) == ("application/pdf", "application/pdf")
    assert slip.name == f"e_billing_{invoice.code}.pdf"
    assert invoice.code in bill and "Rp 10.950.000" in bill and "15 Maret 2027" in bill
    assert "23.59" in bill and "Biaya Permohonan" in bill and "Halaman 1 dari 1" in bill


def test_an_lspro_restyles_a_document_with_its_own_template(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "lspro/templates/lspro/documents/base.html"
    (tmp_path / "base.html").write_text(shipped.read_text().replace(
        "<h1>{{ lspro.name }}</h1>",
        "<h1>KEMENTERIAN PERINDUSTRIAN</h1><h1>{{ lspro.name }}</h1>"))
    restyled = replace(LSPRO, document_templates=tmp_path)
    text = pdf_text(render_letter(TEMPLATES["surat_pemulihan"], {}, number="0009/SPM/X/III/2027",
                                  day=date(2027, 3, 1), settings=restyled, company="PT A"))
    assert "KEMENTERIAN PERINDUSTRIAN" in text and "0009/SPM/X/III/2027" in text
    assert "KEMENTERIAN" not in pdf_text(render_letter(
        TEMPLATES["surat_pemulihan"], {}, number="0009/SPM/X/III/2027", day=date(2027, 3, 1),
        settings=LSPRO, company="PT A"))
    # The setting must name a folder; a typo stops the start with a message.
    with pytest.raises(ConfigError, match="SERTIFLOW_DOCUMENT_TEMPLATES"):
        load_lspro_settings({"SERTIFLOW_DOCUMENT_TEMPLATES": str(tmp_path / "missing")})
    assert load_lspro_settings(
        {"SERTIFLOW_DOCUMENT_TEMPLATES": str(tmp_path)}).document_templates == tmp_path


def test_the_public_url_is_an_http_address(tmp_path: Path) -> None:
    base = {"SERTIFLOW_INSTANCE_PATH": str(tmp_path), "SERTIFLOW_SECRET_KEY": "x"}
    assert load_settings(base).public_url is None
    assert load_settings({**base, "SERTIFLOW_PUBLIC_URL": "https://lspro.example.id/"}
                         ).public_url == "https://lspro.example.id"
    with pytest.raises(ConfigError, match="SERTIFLOW_PUBLIC_URL"):
        load_settings({**base, "SERTIFLOW_PUBLIC_URL": "lspro.example.id"})
