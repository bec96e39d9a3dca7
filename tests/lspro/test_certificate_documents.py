"""The SPPT SNI as a signed PDF: what it shows, its QR link, the public check of its
signature, a look at its first page, and inline downloads of PDFs."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import segno
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from api import create_app
from engine.composition import Engine
from engine.config import ConfigError
from lspro.certificates import CertificateRegister
from lspro.letters import TEMPLATES, LetterService, render_certificate, render_letter
from lspro.models import Certificate
from lspro.settings import LsproSettings, load_lspro_settings
from lspro.signature import ALTERED, GENUINE, UNKNOWN, check, check_url, normalise, sign
from tests.builders import definitions, process
from tests.pdfread import pdf_links, pdf_pages, pdf_text, reader
from tests.people import COMPANY, PASSWORD, add_users

SCREENSHOTS = Path(__file__).resolve().parents[1] / "e2e" / "screenshots"
HOLDER = {
    "alamat_perusahaan": "Jl. Sam Ratulangi No. 12, Manado",
    "nama_pabrik": "Pabrik Bitung",
    "alamat_pabrik": "Kawasan Industri Bitung Blok C",
    "makloon_nama": "",  # not a contract manufacture: no makloon rows
}


@pytest.fixture
def lspro_settings(engine: Engine) -> LsproSettings:
    """The settings the extension runs with: its derived key and the tests' public URL."""
    return replace(engine.provided(LsproSettings), signatory_name="Ir. Rahmawati Lumowa",
                   signatory_id="197501012000032001")


@pytest.fixture
def instance_id(engine: Engine) -> str:
    key = "sertifikat"
    xml = definitions(key, process(key, (
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />\n'
        '    <bpmn:userTask id="wait" camunda:candidateGroups="upp" />\n')))
    with engine.write() as s:
        s.deployments.deploy([("sertifikat.bpmn", xml.encode())])
        return s.runtime.start_instance(key, company=COMPANY).id


@pytest.fixture
def certificate(engine: Engine, lspro_settings: LsproSettings) -> Certificate:
    with engine.write() as s:
        issued = CertificateRegister(s.session, engine.clock, lspro_settings).issue(
            company=COMPANY, product_code="AIR_MINERAL", sni="SNI 3553:2023", scheme_type=5,
            brands=[{"merek": "Segar", "kemasan": "botol 600 ml"},
                    {"merek": "Segar", "kemasan": "galon 19 l"}],
            application_number="PRM-2027-00001")
        s.session.expunge(issued)
        return issued


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    app: Flask = create_app(engine.settings, engine=engine, TESTING=True)
    return app.test_client()


def test_the_certificate_shows_holder_product_scope_signatory_and_its_check_link(
        certificate: Certificate, lspro_settings: LsproSettings) -> None:
    started = time.perf_counter()
    content = render_certificate(certificate, lspro_settings, HOLDER)
    elapsed = time.perf_counter() - started
    text = pdf_text(content)
    assert pdf_pages(content) == 1 and "Halaman 1 dari 1" in text
    assert f"Nomor: {certificate.number}" in text
    assert COMPANY in text and "Jl. Sam Ratulangi No. 12, Manado" in text
    assert "Nama pabrik Pabrik Bitung" in text
    assert "Alamat pabrik Kawasan Industri Bitung Blok C" in text
    assert "makloon" not in text.lower()  # unset: not shown
    assert "Produk Air mineral" in text and "Standar SNI 3553:2023" in text
    assert "Ruang lingkup Air mineral sesuai SNI 3553:2023, skema sertifikasi tipe 5" in text
    assert "galon 19 l" in text and "botol 600 ml" in text
    assert "Tanggal terbit 1 Maret 2027" in text and "Berlaku sampai 28 Februari 2031" in text
    assert "Manado, 1 Maret 2027 Pimpinan Puncak Ir. Rahmawati Lumowa" in text
    assert "NIP 197501012000032001" in text
    assert lspro_settings.lspro_name in text and "terakreditasi KAN nomor LSPr-034-IDN" in text
    signature = sign(certificate, lspro_settings)
    assert f"Kode keaslian: {signature}" in text
    # The QR code is a link too: its address is the check page with the signature.
    url = check_url("http://127.0.0.1:5000", certificate.number, signature)
    assert set(pdf_links(content)) == {url}
    assert url.startswith("http://127.0.0.1:5000/verify?number=0001%2FLSPr-034-IDN")
    # The QR code's picture in the PDF is the code of exactly that address: segno
    # reads no codes, but draws the one for the address again, module for module.
    (picture,) = reader(content).pages[0].images
    drawn = io.BytesIO()
    segno.make(url, error="m").save(drawn, kind="png", scale=8, border=2)
    expected = Image.open(io.BytesIO(drawn.getvalue())).convert("L")
    found = picture.image.convert("L")
    assert found.size == expected.size and found.tobytes() == expected.tobytes()
    # A generous bound on a loaded machine; the report gives the measured time.
    assert elapsed < 5, elapsed


def test_a_certificate_without_a_public_address_has_no_qr_code_but_its_signature(
        certificate: Certificate, lspro_settings: LsproSettings) -> None:
    content = render_certificate(certificate, replace(lspro_settings, public_url=None))
    assert pdf_links(content) == []
    assert f"Kode keaslian: {sign(certificate, lspro_settings)}" in pdf_text(content)


def test_the_first_page_of_the_certificate_is_not_blank(certificate: Certificate,
                                                       lspro_settings: LsproSettings) -> None:
    content = render_certificate(certificate, lspro_settings, HOLDER)
    document = pypdfium2.PdfDocument(content)
    image = document[0].render(scale=1.5).to_pil().convert("L")
    document.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "sppt_sni.png")
    width, height = image.size
    assert height > width  # A4 portrait
    # The letterhead (top eighth of the page) has text on it: dark pixels.
    header = image.crop((0, 0, width, height // 8))
    dark = sum(header.histogram()[:100])  # grey levels 0..99
    assert dark > 500, dark
    # And the page is mostly paper, not a black box.
    assert sum(image.histogram()[201:]) > 0.7 * width * height


def test_a_signature_reads_as_a_person_types_it(certificate: Certificate,
                                                lspro_settings: LsproSettings) -> None:
    signature = sign(certificate, lspro_settings)
    key_id, code = signature.split("-", 1)
    assert key_id == "D" and len(code.replace("-", "")) == 16
    assert check(certificate, signature, lspro_settings).verdict == GENUINE
    # Lower case, without the dashes, O for 0 and l for 1: still the same code.
    typed = signature.lower().replace("-", " ", 2).replace("0", "o").replace("1", "l")
    assert normalise(typed) == normalise(signature)
    assert normalise(signature.replace("-", "")) == normalise(signature)
    assert check(certificate, typed, lspro_settings).verdict == GENUINE
    # The key never shows in the settings' text (a traceback, a log line).
    assert repr(lspro_settings.certificate_key) not in repr(lspro_settings)
    assert check(certificate, typed, lspro_settings).verdict == GENUINE
    assert check(None, signature, lspro_settings).verdict == UNKNOWN
    assert check(certificate, "rubbish", lspro_settings).verdict == ALTERED


def test_a_rotated_key_keeps_old_signatures_while_it_is_listed(
        certificate: Certificate, lspro_settings: LsproSettings) -> None:
    old = sign(certificate, lspro_settings)
    rotated = replace(lspro_settings, certificate_key=b"a brand new key of forty characters..",
                      certificate_key_id="K2",
                      old_certificate_keys={"D": lspro_settings.certificate_key or b""})
    new = sign(certificate, rotated)
    assert new.startswith("K2-") and new != old
    assert check(certificate, old, rotated).verdict == GENUINE
    assert check(certificate, new, rotated).verdict == GENUINE
    dropped = replace(rotated, old_certificate_keys={})
    assert check(certificate, old, dropped).verdict == ALTERED
    assert check(certificate, new, lspro_settings).verdict == ALTERED  # an unknown key id


def test_certificate_keys_come_from_the_environment() -> None:
    loaded = load_lspro_settings({
        "SERTIFLOW_CERTIFICATE_KEY": "k7:0123456789abcdef0123",
        "SERTIFLOW_CERTIFICATE_OLD_KEYS": "D:fedcba9876543210fedc, k1:zzzzzzzzzzzzzzzzzzzz",
        "SERTIFLOW_SIGNATORY_NAME": "Ir. Rahmawati Lumowa",
        "SERTIFLOW_SIGNING_PLACE": "Bitung"})
    assert (loaded.certificate_key_id, loaded.certificate_key) == ("K7", b"0123456789abcdef0123")
    assert set(loaded.old_certificate_keys) == {"D", "K1"}
    assert loaded.signatory_name == "Ir. Rahmawati Lumowa" and loaded.signing_place == "Bitung"
    bare = load_lspro_settings({"SERTIFLOW_CERTIFICATE_KEY": "0123456789abcdef0123"})
    assert bare.certificate_key_id == "K"
    assert load_lspro_settings({}).certificate_key is None  # derived when the extension loads
    for environ, words in (
            ({"SERTIFLOW_CERTIFICATE_KEY": "short"}, "at least 16"),
            ({"SERTIFLOW_CERTIFICATE_KEY": "bad id!:0123456789abcdef0123"}, "key id"),
            ({"SERTIFLOW_CERTIFICATE_OLD_KEYS": "0123456789abcdef0123"}, "ID:SECRET"),
            ({"SERTIFLOW_CERTIFICATE_KEY": "A:0123456789abcdef0123",
              "SERTIFLOW_CERTIFICATE_OLD_KEYS": "a:0123456789abcdef0124"}, "used twice")):
        with pytest.raises(ConfigError, match=words):
            load_lspro_settings(environ)


def verdict(client: FlaskClient, number: str, signature: str | None) -> tuple[int, str]:
    query = {"number": number, "lang": "id"}
    if signature is not None:
        query["s"] = signature
    answer = client.get("/verify", query_string=query)
    return answer.status_code, answer.get_data(as_text=True)


def test_the_check_page_tells_genuine_altered_and_unknown(
        engine: Engine, client: FlaskClient, certificate: Certificate,
        lspro_settings: LsproSettings) -> None:
    signature = sign(certificate, lspro_settings)
    # What the QR code opens: the check URL as encoded on the certificate.
    url = check_url("http://127.0.0.1:5000", certificate.number, signature)
    page = client.get(url.removeprefix("http://127.0.0.1:5000"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-verdict="genuine"' in text
    assert "Sertifikat asli" in text and "sertifikat ini berlaku" in text
    assert 'id="verify-state">aktif<' in text and COMPANY in text
    # The signature one character off: altered or forged, said plainly.
    last = signature[-1]
    off = signature[:-1] + ("1" if last != "1" else "2")
    status, text = verdict(client, certificate.number, off)
    assert status == 200 and 'data-verdict="altered"' in text
    assert "sertifikat diubah atau palsu" in text
    # The register's entry is shown to compare with, never as "genuine and valid".
    assert "Sertifikat sah dan berlaku" not in text
    assert "Data resmi sertifikat bernomor ini dalam daftar kami" in text
    # Without a signature: the register entry as before, and no verdict on the paper.
    status, text = verdict(client, certificate.number, None)
    assert status == 200 and "data-verdict" not in text and "Sertifikat sah dan berlaku" in text
    # An unknown number, signature or not.
    status, text = verdict(client, "9999/LSPr-034-IDN/3553/2027", signature)
    assert status == 404 and "Tidak ada sertifikat bernomor" in text
    assert "data-verdict" not in text
    # One field changed in the register (the holder's name): the old signature no
    # longer matches what the register says.
    with engine.write() as s:
        s.session.execute(sa.update(Certificate).where(Certificate.id == certificate.id)
                          .values(company="PT Lain Sekali"))
    status, text = verdict(client, certificate.number, signature)
    assert 'data-verdict="altered"' in text and "PT Lain Sekali" in text
    # In English too.
    english = client.get("/verify", query_string={
        "number": certificate.number, "s": signature, "lang": "en"}).get_data(as_text=True)
    assert "altered or forged" in english


def test_a_revoked_certificate_checks_genuine_but_not_valid(
        engine: Engine, client: FlaskClient, certificate: Certificate,
        lspro_settings: LsproSettings) -> None:
    signature = sign(certificate, lspro_settings)
    with engine.write() as s:
        CertificateRegister(s.session, engine.clock, lspro_settings).revoke(
            certificate.number, "tidak_membayar")
    status, text = verdict(client, certificate.number, signature)
    assert status == 200 and 'data-verdict="genuine"' in text
    assert "tidak berlaku lagi: dicabut" in text


def test_documents_download_inline_when_pdf(engine: Engine, client: FlaskClient,
                                            instance_id: str, certificate: Certificate,
                                            lspro_settings: LsproSettings) -> None:
    add_users(engine, {"upp1": (["upp"], None)})
    with engine.write() as s:
        letters = LetterService(s.session, engine.clock, lspro_settings, s.documents)
        sppt = letters.certificate(certificate, instance_id=instance_id, holder=HOLDER)
        sppt_id, sppt_name = sppt.id, sppt.name
        old_letter = s.documents.store_generated(
            instance_id, b"<!DOCTYPE html><p>Surat</p>", name="surat.html")
        old_id = old_letter.id
    token = client.post("/api/v1/auth/token",
                        json={"username": "upp1", "password": PASSWORD}).get_json()["token"]
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}
    answer = client.get(f"/api/v1/documents/{sppt_id}", headers=headers)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == f"inline; filename={sppt_name}"
    assert answer.headers["Content-Security-Policy"] == "sandbox"
    assert certificate.number in pdf_text(answer.get_data())
    answer.close()
    # Other types stay attachments.
    html = client.get(f"/api/v1/documents/{old_id}", headers=headers)
    assert html.headers["Content-Disposition"] == "attachment; filename=surat.html"
    assert html.headers["Content-Security-Policy"] == "sandbox"
    html.close()


def test_render_times_are_reported(certificate: Certificate, lspro_settings: LsproSettings,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Not a benchmark: prints what one certificate and one letter take (-s shows it)."""
    render_certificate(certificate, lspro_settings, HOLDER)  # fonts and templates loaded once
    started = time.perf_counter()
    render_certificate(certificate, lspro_settings, HOLDER)
    middle = time.perf_counter()
    letter = render_letter(TEMPLATES["surat_pencabutan"], {"nama_produk": "Air mineral"},
                           number="0001/SPC/LSPr-034-IDN/III/2027",
                           day=certificate.issued_on, settings=lspro_settings, company=COMPANY)
    done = time.perf_counter()
    with capsys.disabled():
        print(f"\ncertificate {1000 * (middle - started):.0f} ms, "
              f"letter {1000 * (done - middle):.0f} ms")
    assert pdf_pages(letter) == 1
