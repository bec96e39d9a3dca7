"""The LSPro journey in the browser: from the customer's application to the certificate,
with the detours a real application takes.

All of processes/ and forms/ are deployed with the real domain topics, and the
demo users exist (one per role, named after it, password ``demo``), as
``sertiflow run`` sets them up. Everything below happens in Chromium, in
Indonesian, each role from its own task list: the customer applies with the real
31-field form and its documents (a server-side error is shown next to its field
and fixed); the administration finds a document not acceptable, the customer is
asked to complete the documents and uploads it again, the administration accepts;
the sub-coordinator reviews; the finance officer records the e-Billing payment
from the awaited messages, first with an NTPN that already paid another company's
bill (refused, naming that bill, nothing recorded), then the right one; the front
office prepares the agreement and the customer signs it. An admin sees SOP step 1
highlighted and suspends the application: the front office sees it suspended and
cannot complete its step until the admin resumes it. Every role then works its SOP
and grant steps (the sampling officer records the laboratory's report); the panel
finds a requirement not met once, the deficiency letter goes out, the customer
clarifies and the panel recommends the certificate. The certificate's PDF opens
inline, and its QR code's link makes the public check page say it is genuine.

Every page a non-admin sees is read by the guard (tests/e2e/guard.py); screenshots
go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from engine.composition import Engine
from engine.config import Settings
from engine.identity.users import DEMO_COMPANY, DEMO_PASSWORD
from engine.models import Document, HistoryEvent, ProcessInstance
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from lspro.models import Certificate, Invoice
from tests.pdfread import pdf_links
from tests.processes.driver import NTPN as USED_NTPN
from tests.processes.driver import Driver
from tests.processes.entries import ALWAYS
from tests.settings import LSPRO

from .conftest import screenshot, sign_in, sign_out
from .guard import GuardedBrowser

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms"
KEY = "permohonan_sertifikasi"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# The p_ajukan_permohonan form's file fields: Field_ajukan_12 .. 31, keyed dok_<name>.
DOCUMENT_FIELDS = {
    "surat_permohonan": 12, "akta_pendirian": 13, "nib_atau_iui": 14, "npwp": 15,
    "daftar_merek_kemasan": 16, "sertifikat_merek": 17, "desain_kemasan": 20,
    "ilustrasi_tanda_sni": 21, "struktur_organisasi": 22, "diagram_alir_produksi": 23,
    "daftar_pengendalian_mutu": 24, "daftar_peralatan_produksi": 25,
    "daftar_peralatan_lab": 26, "bukti_smm_cppob": 27, "daftar_informasi_terdokumentasi": 28,
    "pernyataan_tidak_mengedarkan": 29,
}


# The clerk's note when a document is not acceptable, shown to the customer.
NOTE = "NPWP tidak terbaca; mohon unggah ulang hasil pindaian yang jelas."
RIGHT_NTPN = "9Z8Y7X6W5V4U3T2S"  # USED_NTPN paid another company's bill before
OTHER_APPLICATION = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
}


def other_paid_bill(driver: Driver) -> str:
    """Another company's application, billed and paid with USED_NTPN; its bill's code."""
    other = driver.start(KEY, actor="upp", company="PT Sudah Bayar")
    driver.complete(other, "p_ajukan_permohonan", OTHER_APPLICATION,
                    documents=(*ALWAYS, "bukti_smm_cppob"))
    driver.complete(other, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    driver.complete(other, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."})
    driver.pay(other, ntpn=USED_NTPN)
    code: str = driver.variables(other)["kode_billing"]
    return code


def qr_target(pdf: bytes) -> str:
    """Where the certificate's QR code leads: the PDF's link around it, to the check page."""
    links = [link for link in pdf_links(pdf) if "/verify?" in link]
    assert links, "the certificate's PDF has no link to the check page (its QR code)"
    return links[0]


def sop(today: str) -> list[tuple[str, str, dict[str, Any], tuple[str, ...]]]:
    """SOP AP 2.2.1-3 and the grant: (step, demo user, values, files), in order.

    The demo users are named after their roles; the team the sub-coordinator
    proposes at step 3 is made of them, so the auditor works the audit steps.
    """
    return [
        ("s01_teruskan_dokumen_kerjasama", "upp",
         {"catatan_penerusan": "Perjanjian diterima."}, ()),
        ("s02_tugaskan_subkoordinator", "koordinator-pk",
         {"disposisi": "Siapkan tim sertifikasi."}, ("pernyataan_ketidakberpihakan",)),
        ("s03_siapkan_usulan_tim", "subkoordinator-sertifikasi",
         {"lead_auditor": "auditor", "petugas_ppc": "ppc", "usulan_tim_teknis": ["tim-teknis"]},
         ()),
        ("s04_validasi_usulan_tim", "koordinator-pk",
         {"tim_valid": True, "nomor_surat_tugas": "ST-017"}, ()),
        ("s05_serahkan_kecukupan_dokumen", "subkoordinator-sertifikasi",
         {"rencana_audit_tahap1": today}, ("surat_tugas",)),
        ("s06_audit_tahap_1", "auditor", {"temuan_tahap1": False},
         ("laporan_audit_tahap1",)),
        ("s08_pengambilan_contoh", "ppc",
         {"tanggal_pengambilan_contoh": today, "jumlah_contoh": 6,
          "laboratorium_penguji": "Laboratorium Uji BSPJI Manado"},
         ("berita_acara_pengambilan_contoh",)),
        ("s08_audit_tahap_2", "auditor", {"tanggal_audit_tahap2": today},
         ("laporan_audit_tahap2",)),
        ("s09_susun_laporan_audit", "auditor", {"ada_ketidaksesuaian": False},
         ("laporan_ringkasan_audit",)),
        ("s11_evaluasi_tindak_lanjut", "auditor", {"tindakan_efektif": True}, ()),
        # (here the sampling officer records the laboratory's report)
        ("s12_siapkan_rapat_tim_teknis", "subkoordinator-sertifikasi",
         {"anggota_tim_teknis": "tim-teknis", "tanggal_rapat_tim_teknis": today}, ()),
        # The panel finds a requirement not met once: the diagram sends a deficiency
        # letter, the customer clarifies, and the panel discusses again.
        ("s13_bahas_dan_rekomendasi", "tim-teknis",
         {"rekomendasi": "belum_terpenuhi",
          "catatan_rekomendasi": "Label kemasan belum mencantumkan kode produksi."}, ()),
        ("k13_kirim_surat_kekurangan", "tim-teknis",
         {"tanggal_kirim_surat_kekurangan": today, "cara_kirim_surat_kekurangan": "pos"}, ()),
        ("k13_klarifikasi_pelanggan", "pelanggan",
         {"klarifikasi_pelanggan": "Label kemasan telah diperbaiki dengan kode produksi."},
         ("klarifikasi_pelanggan",)),
        ("s13_bahas_dan_rekomendasi", "tim-teknis",
         {"rekomendasi": "terpenuhi", "catatan_rekomendasi": "Memenuhi SNI 2973:2022."}, ()),
        ("m14_siapkan_perjanjian_tanda_sni", "upp",
         {"nomor_perjanjian_tanda_sni": "PTS-2027-017"}, ("perjanjian_tanda_sni",)),
        ("m14_tandatangani_perjanjian_tanda_sni", "pelanggan",
         {"penandatangan_perjanjian_tanda_sni": "Eka Pratiwi", "jabatan_penandatangan": "Direktur"},
         ("perjanjian_tanda_sni_ditandatangani",)),
        ("s14_terbitkan_sertifikat", "subkoordinator-sertifikasi", {}, ()),
        ("s15_verifikasi_sertifikat", "koordinator-pk", {"konsep_sertifikat_sesuai": True}, ()),
        ("a16_paraf_konsep_sertifikat", "kepala-balai", {"konsep_disetujui": True}, ()),
        ("s16_sahkan_sertifikat", "kepala-balai", {}, ()),
        ("s17_serahkan_sertifikat", "upp",
         {"tanggal_serah_terima": today, "penerima_sertifikat": "Eka Pratiwi (Direktur)"},
         ("tanda_terima_sertifikat",)),
    ]


@pytest.fixture
def engine(settings: Settings, clock: FrozenClock) -> Iterator[Engine]:
    """The LSPro as ``sertiflow run`` starts it: every process and form, the demo users."""
    built = Engine(settings, clock=clock, extensions=[LsproExtension(LSPRO)],
                   workflow_cache_size=0)
    built.deploy_paths([ROOT / "processes", ROOT / "forms"], actor="analyst")
    with built.write() as s:
        assert s.identity.ensure_demo_users() is not None
    yield built
    built.close()


# -- the browser ---------------------------------------------------------------------------------

def by_id(page: Any, component_id: str) -> Any:
    """A form-js input by its component id (form-js ids end with it)."""
    return page.locator(f"[id$='-{component_id}']")


def radio(page: Any, component_id: str, index: int) -> None:
    option = page.locator(f"input[id$='-{component_id}-{index}']")
    option.click()
    expect(option).to_be_checked()


def field_error(page: Any, component_id: str) -> Any:
    return page.locator(f".fjs-form-field:has([id$='-{component_id}']) .fjs-form-field-error")


def open_form(page: Any) -> None:
    page.wait_for_selector("#form[data-ready='true'] .fjs-form")


def open_task(page: Any, title: str) -> None:
    """From the task list, open the task with this title."""
    page.goto("/tasks")
    page.locator("#task-table tbody tr").filter(has_text=title).locator("a.task-link").click()
    open_form(page)


def complete(page: Any) -> None:
    """Complete the open task; the page goes on to the user's next step or the task list."""
    before = page.url
    page.click("#complete")
    page.wait_for_url(lambda url: url != before)
    expect(page.locator(".flash.ok")).to_contain_text("selesai")


def open_step(page: Any, number: str, element: str) -> None:
    """From the task list, searched by the application number, open the step ``element``."""
    page.goto(f"/tasks?q={number}")
    page.locator(f"#task-table tbody tr[data-element='{element}'] a.task-link").click()
    open_form(page)


def components(form_id: str) -> dict[str, dict[str, Any]]:
    """The form's input components by key, as the Modeler saved them in forms/."""
    found: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("key"):
                found[item["key"]] = item
            walk(item.get("components") or [])

    walk(json.loads((FORMS / f"{form_id}.form").read_text(encoding="utf-8"))["components"])
    return found


def fill(page: Any, form_id: str, values: dict[str, Any], files: tuple[str, ...],
         tmp_path: Path) -> None:
    """Fill the open form-js form as a person would: type, click, pick dates and files."""
    fields = components(form_id)
    for key, value in values.items():
        component = fields[key]
        kind = component["type"]
        if kind == "radio":
            options = [option["value"] for option in component["values"]]
            radio(page, component["id"], options.index(value))
        elif kind == "datetime":
            # The date picker reads the browser's own date format (id-ID: d/m/yyyy).
            shown = page.evaluate(
                "iso => new Intl.DateTimeFormat().format(new Date(iso + 'T00:00:00'))", value)
            entry = by_id(page, f"{component['id']}-date")
            entry.fill(shown)
            entry.press("Enter")
        elif kind == "select" and component.get("values"):
            # A plain select: open it, click the option's label.
            label = next(o["label"] for o in component["values"] if o["value"] == value)
            by_id(page, f"{component['id']}-display").click()
            page.locator(".fjs-dropdownlist-item", has_text=label).first.click()
        elif kind in ("select", "taglist") and component.get("valuesKey"):
            # People are picked by name from the list the server gave the form: type
            # to narrow it, then click the person (the demo users are "Demo <role>").
            for picked in value if isinstance(value, list) else [value]:
                entry = by_id(page, component["id"])
                entry.click()
                entry.fill(str(picked))
                page.locator(".fjs-dropdownlist-item", has_text=f"Demo {picked}").first.click()
        else:
            by_id(page, component["id"]).fill(str(value))
    for name in files:
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(PDF + name.encode())
        page.set_input_files(f"input[type=file][id$='-{fields['dok_' + name]['id']}']",
                             str(path))


def record_lab_report(pages: dict[str, Any], new_page: Any, instance_id: str,
                      tmp_path: Path) -> None:
    """The sampling officer records the laboratory's report with its form and file."""
    if "ppc" not in pages:
        pages["ppc"] = new_page()
        sign_in(pages["ppc"], "ppc", DEMO_PASSWORD)
    officer = pages["ppc"]
    officer.goto(f"/instances/{instance_id}")
    officer.click("#record-hasil_uji_diterima")
    open_form(officer)
    fill(officer, "hasil_uji_diterima", {"nomor_laporan_uji": "LHU-2027-0101",
                                          "hasil_uji_memenuhi": True},
         ("laporan_hasil_uji",), tmp_path)
    officer.click("#complete")
    officer.wait_for_url(f"**/instances/{instance_id}")
    # The message is named by the event waiting for it, not its technical name.
    expect(officer.locator(".flash.ok")).to_contain_text("Laporan hasil uji diterima")
    expect(officer.locator("#instance-status")).to_have_text("Berjalan")


def variables(engine: Engine, instance_id: str) -> dict[str, Any]:
    with engine.read() as s:
        return s.runtime.variables(s.runtime.instance(instance_id))


# -- the journey ----------------------------------------------------------------------------------

def test_from_application_to_certificate_in_the_browser(
        engine: Engine, chromium: GuardedBrowser, new_page: Any, tmp_path: Path,
        clock: FrozenClock) -> None:
    driver = Driver(engine, clock)
    other_code = other_paid_bill(driver)
    # 1. The customer applies: the real form, its documents, a server-side error fixed.
    customer = new_page()
    sign_in(customer, "pelanggan", DEMO_PASSWORD)
    customer.click("#new-application")
    customer.click(f"button[data-key='{KEY}']")
    open_form(customer)
    assert customer.locator("#task-title").inner_text() == "Ajukan permohonan"
    by_id(customer, "Field_ajukan_02-display").click()
    customer.locator(".fjs-dropdownlist-item", has_text="Biskuit").click()
    by_id(customer, "Field_ajukan_03").fill("SNI 2973:2022 (terbaru)")
    radio(customer, "Field_ajukan_04", 0)  # tipe 5
    radio(customer, "Field_ajukan_05", 0)  # permohonan baru
    radio(customer, "Field_ajukan_06", 1)  # no makloon
    radio(customer, "Field_ajukan_07", 0)  # own brand
    by_id(customer, "Field_ajukan_09_0").fill("Kukis Nyiur")
    by_id(customer, "Field_ajukan_10_0").fill("kotak karton 300 g")
    for name, number in DOCUMENT_FIELDS.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(PDF + name.encode())
        customer.set_input_files(f"input[type=file][id$='-Field_ajukan_{number}']", str(path))
    screenshot(customer, "10-lspro-application-form", full_page=False)
    customer.click("#complete")
    # form-js finds the SNI pattern inside the text; the server wants the whole of it.
    expect(field_error(customer, "Field_ajukan_03")).to_contain_text("Format tidak sesuai")
    screenshot(customer, "11-lspro-application-error")
    by_id(customer, "Field_ajukan_03").fill("SNI 2973:2022")
    complete(customer)
    with engine.read() as s:
        (instance_id,) = s.session.scalars(sa.select(ProcessInstance.id).where(
            ProcessInstance.definition_key == KEY,
            ProcessInstance.company == DEMO_COMPANY)).all()
    data = variables(engine, instance_id)
    number = data["nomor_permohonan"]
    assert data["dokumen_lengkap_sistem"] is True and data["dalam_lingkup"] is True
    with engine.read() as s:
        uploaded = s.session.scalars(sa.select(Document.field).where(
            Document.instance_id == instance_id, Document.uploaded_by == "pelanggan")).all()
    assert sorted(uploaded) == sorted(f"dok_{n}" for n in DOCUMENT_FIELDS)  # each once
    sign_out(customer)

    # 2. Three roles of the LSPro, each in their own browser session.
    clerk = new_page()
    sign_in(clerk, "administrasi", DEMO_PASSWORD)
    row = clerk.locator("#task-table tbody tr").filter(has_text=number)
    expect(row).to_contain_text("Periksa kelengkapan")
    # One working day to check the documents: due within a working day, so "due soon".
    expect(row.locator(".badge")).to_have_text("Segera jatuh tempo")
    screenshot(clerk, "12-lspro-administrasi-tasks")
    # A document is not acceptable: the clerk says so, with a note for the customer.
    open_task(clerk, "Periksa kelengkapan")
    assert by_id(clerk, "Field_periksa_02").input_value() == number
    radio(clerk, "Field_periksa_29", 1)  # not complete
    by_id(clerk, "Field_periksa_30").fill(NOTE)
    complete(clerk)

    # The customer is asked to complete the documents, reads the note and uploads.
    sign_in(customer, "pelanggan", DEMO_PASSWORD)
    asked = customer.locator("#asked-of-me")
    expect(asked).to_contain_text("Lengkapi dokumen")
    asked.locator("a", has_text="Lengkapi dokumen").first.click()
    open_form(customer)
    assert by_id(customer, "Field_lengkapi_05").input_value() == NOTE
    fill(customer, "p_lengkapi_dokumen", {}, ("npwp",), tmp_path)
    screenshot(customer, "12b-lspro-lengkapi-dokumen")
    complete(customer)
    sign_out(customer)
    with engine.read() as s:
        npwp = s.session.scalars(sa.select(Document.field).where(
            Document.instance_id == instance_id, Document.field == "dok_npwp")).all()
    assert len(npwp) == 2  # the first upload and the new one

    # The clerk checks again and accepts.
    open_task(clerk, "Periksa kelengkapan")
    radio(clerk, "Field_periksa_29", 0)  # complete
    complete(clerk)

    reviewer = new_page()
    sign_in(reviewer, "subkoordinator-sertifikasi", DEMO_PASSWORD)
    open_task(reviewer, "Kaji ulang permohonan")
    radio(reviewer, "Field_kaji_12", 0)
    by_id(reviewer, "Field_kaji_13").fill("Dalam ruang lingkup; auditor pangan tersedia.")
    complete(reviewer)

    # The bank's notice does not come by itself here: the finance officer records the
    # payment from the awaited messages of the task list (the code is filled in). An
    # NTPN that already paid another bill is refused, naming that bill; nothing is kept.
    today = clock.now().astimezone(engine.settings.timezone).date().isoformat()
    finance = new_page()
    sign_in(finance, "keuangan", DEMO_PASSWORD)
    finance.goto("/tasks")
    row = finance.locator("#awaited-table tbody tr").filter(has_text=number)
    expect(row).to_contain_text("Pembayaran diterima")  # the waiting event's name
    row.locator("a.record-link").click()
    open_form(finance)
    code = variables(engine, instance_id)["kode_billing"]
    payment = components("pembayaran_diterima")
    assert by_id(finance, payment["kode_billing"]["id"]).input_value() == code
    fill(finance, "pembayaran_diterima", {"ntpn": "0A1B2C3D", "tanggal_bayar": today}, (),
         tmp_path)
    finance.click("#complete")
    expect(field_error(finance, payment["ntpn"]["id"])).to_contain_text("Format tidak sesuai")
    fill(finance, "pembayaran_diterima", {"ntpn": USED_NTPN}, (), tmp_path)
    finance.click("#complete")
    expect(field_error(finance, payment["ntpn"]["id"])).to_contain_text(
        f"NTPN ini sudah dipakai untuk tagihan {other_code}")
    screenshot(finance, "13-lspro-duplicate-ntpn", full_page=False)
    with engine.read() as s:
        (bill,) = s.session.scalars(sa.select(Invoice).where(Invoice.code == code)).all()
        assert (bill.state, bill.ntpn) != ("lunas", USED_NTPN)
    assert driver.waits_for(instance_id, "pembayaran_diterima")
    fill(finance, "pembayaran_diterima", {"ntpn": RIGHT_NTPN}, (), tmp_path)
    finance.click("#complete")
    finance.wait_for_url("**/tasks")
    expect(finance.locator(".flash.ok")).to_contain_text("Pembayaran diterima")
    with engine.read() as s:
        (bill,) = s.session.scalars(sa.select(Invoice).where(Invoice.code == code)).all()
    assert (bill.state, bill.ntpn, bill.paid_on.isoformat()) == ("lunas", RIGHT_NTPN, today)
    assert not driver.waits_for(instance_id, "pembayaran_diterima")

    front_office = new_page()
    sign_in(front_office, "upp", DEMO_PASSWORD)
    open_step(front_office, number, "p_siapkan_perjanjian")
    complete(front_office)

    # 3. The customer signs the agreement: what is asked of them is on their page.
    sign_in(customer, "pelanggan", DEMO_PASSWORD)
    asked = customer.locator("#asked-of-me")
    expect(asked).to_contain_text("perjanjian")
    asked.locator("a").first.click()
    open_form(customer)
    signed = tmp_path / "perjanjian.pdf"
    signed.write_bytes(PDF + b"signed")
    customer.set_input_files("input[type=file][id$='-Field_tandatangani_05']", str(signed))
    complete(customer)

    # 4. An admin sees SOP step 1 highlighted in the called process's diagram.
    admin = new_page()
    sign_in(admin, "admin", DEMO_PASSWORD)
    admin.goto(f"/instances/{instance_id}")
    admin.wait_for_selector("#diagram-1[data-ready='true']")
    step_1 = admin.locator(
        "#diagram-1 g.djs-element[data-element-id='s01_teruskan_dokumen_kerjasama']")
    assert "sf-active" in (step_1.get_attribute("class") or "")
    intake = admin.locator("#diagram-0 g.djs-element[data-element-id='p_ajukan_permohonan']")
    assert "sf-completed" in (intake.get_attribute("class") or "")
    expect(admin.locator("#service-clock")).to_contain_text("41")
    screenshot(admin, "14-lspro-admin-instance", full_page=False)
    admin.click("#suspend-open")
    admin.fill("#suspend-reason", "Menunggu klarifikasi dari pemohon.")
    admin.click("#suspend")
    expect(admin.locator("#instance-status")).to_have_text("Ditangguhkan")

    # The front office sees the application suspended and cannot complete its step.
    open_step(front_office, number, "s01_teruskan_dokumen_kerjasama")
    expect(front_office.locator("#instance-suspended")).to_contain_text("ditangguhkan")
    fill(front_office, "s01_teruskan_dokumen_kerjasama",
         {"catatan_penerusan": "Perjanjian diterima."}, (), tmp_path)
    front_office.click("#complete")
    expect(front_office.locator("#form-message")).to_contain_text("ditangguhkan")
    screenshot(front_office, "15-lspro-suspended-step", full_page=False)
    assert "s01_teruskan_dokumen_kerjasama" in driver.ready_ids(instance_id)
    front_office.click("#instance-link")
    expect(front_office.locator("#instance-status")).to_have_text("Ditangguhkan")

    admin.click("#resume-open")
    admin.fill("#resume-reason", "Klarifikasi sudah diterima.")
    admin.click("#resume")
    expect(admin.locator("#instance-status")).to_have_text("Berjalan")

    # 5. The SOP and the grant: each role signs in and works its step from its task list.
    pages: dict[str, Any] = {"pelanggan": customer, "upp": front_office,
                             "subkoordinator-sertifikasi": reviewer}
    for element, user, values, files in sop(today):
        if element == "s12_siapkan_rapat_tim_teknis":
            record_lab_report(pages, new_page, instance_id, tmp_path)
        if user not in pages:
            pages[user] = new_page()
            sign_in(pages[user], user, DEMO_PASSWORD)
        page = pages[user]
        open_step(page, number, element)
        fill(page, element, values, files, tmp_path)
        if element == "s13_bahas_dan_rekomendasi":
            screenshot(page, f"16-lspro-technical-panel-{values['rekomendasi']}",
                       full_page=False)
        complete(page)
        if values.get("rekomendasi") == "belum_terpenuhi":
            # Where the diagram goes: the deficiency letter, not the agreement.
            assert driver.ready_ids(instance_id) == ["k13_kirim_surat_kekurangan"]
    with engine.read() as s:
        instance = s.runtime.instance(instance_id)
        (certificate,) = s.session.scalars(sa.select(Certificate).where(
            Certificate.application_number == number)).all()
        kinds = s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.actor == "admin")).all()
    assert instance.status == "completed"
    # What was typed and picked in the forms is what the process holds.
    done = variables(engine, instance_id)
    assert (done["tanggal_serah_terima"], done["rencana_audit_tahap1"]) == (today, today)
    assert (done["jumlah_contoh"], done["rekomendasi"], done["lead_auditor"]) == (
        6, "terpenuhi", "auditor")
    assert done["klarifikasi_pelanggan"].startswith("Label kemasan telah diperbaiki")
    assert (done["nomor_laporan_uji"], done["hasil_uji_memenuhi"]) == ("LHU-2027-0101", True)
    assert (certificate.company, certificate.state) == (DEMO_COMPANY, "aktif")
    assert kinds == ["instance_suspended", "instance_resumed"]

    # 6. The customer sees the certificate; anyone can look it up without signing in.
    customer.goto("/applications")
    expect(customer.locator("#my-certificates")).to_contain_text(certificate.number)
    screenshot(customer, "17-lspro-customer-certificate")
    # The certificate's PDF, from the application's documents, opens in the browser.
    customer.goto(f"/instances/{instance_id}#documents")
    link = customer.locator(f"#document-list a[href$='/documents/{done['dokumen_sertifikat']}']")
    expect(link).to_be_visible()
    answer = customer.request.get(link.get_attribute("href"))
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline")
    # Its QR code leads to the public check page, with the certificate's signature.
    qr_link = urlsplit(qr_target(answer.body()))
    assert qr_link.path == "/verify" and certificate.number in unquote_plus(qr_link.query)
    visitor = new_page()
    visitor.goto(f"{qr_link.path}?{qr_link.query}")
    genuine = visitor.locator("#verify-signature-result")
    expect(genuine).to_have_attribute("data-verdict", "genuine")
    expect(genuine).to_contain_text("Sertifikat asli")
    screenshot(visitor, "18-public-check-genuine")
    visitor.goto("/verify")
    visitor.fill("#verify-number", certificate.number)
    visitor.click("#verify-form button")
    expect(visitor.locator("#verify-result")).to_contain_text("Sertifikat sah dan berlaku")
    expect(visitor.locator("#verify-state")).to_have_text("aktif")
    screenshot(visitor, "19-public-lookup")
    # A tour: the customer and every staff role open each link of their top bar, the
    # application and the certificate, so the guard reads the pages they reach.
    pages.update(keuangan=finance, administrasi=clerk)
    for user, page in pages.items():
        links = page.locator("header.top nav a, #notification-settings").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        for path in [*links, "/tasks?view=done", f"/instances/{instance_id}",
                     f"/certificates/{certificate.id}"]:
            answer = page.goto(path)
            assert answer is not None and answer.status == 200, (user, path)
    screenshot(pages["kepala-balai"], "20-lspro-certificate-page")
    # A mistyped link: the error page says so in words, without the engine's detail.
    answer = clerk.goto("/tasks/00000000-0000-0000-0000-000000000000")
    assert answer is not None and answer.status == 404
    expect(clerk.locator("h1")).to_have_text("Tidak ditemukan")

    # The guard read the pages of every role that worked (and found nothing to say).
    seen = chromium.guard.seen
    assert {who for who, _ in seen} >= {
        "pelanggan", "administrasi", "keuangan", "upp", "subkoordinator-sertifikasi",
        "koordinator-pk", "auditor", "ppc", "tim-teknis", "kepala-balai", "not signed in"}
    assert ("keuangan", "/tasks") in seen and ("not signed in", "/verify") in seen
    for page in [clerk, admin, visitor, finance, *pages.values()]:
        assert page.script_errors == []

