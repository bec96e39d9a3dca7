"""Printable documents the LSPro sends: letters, the receipt, the e-Billing slip, the SPPT SNI.

Each is a self-contained HTML page in Indonesian (print it, or save it as PDF from
the browser), stored as a document of the instance that made it. Every piece of
variable text goes through :func:`html.escape`: templates hold only our own
markup, and a value can never add any. Letters get a number from one running
sequence per year: ``NNNN/<code>/<LSPro code>/<month in Roman numerals>/<year>``,
e.g. ``0012/SPB/LSPr-034-IDN/III/2027``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.documents.service import DocumentService
from engine.errors import InvalidInput
from engine.models import Document
from engine.time.clock import Clock, local_today
from lspro.fees import format_rupiah
from lspro.models import Certificate, Invoice
from lspro.numbering import next_number
from lspro.settings import LsproSettings

LETTER_SEQUENCE = "surat"
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

KAN = "Komite Akreditasi Nasional (KAN)"
REGIONAL = "Instansi terkait di daerah tempat perusahaan berada"


@dataclass(frozen=True)
class LetterTemplate:
    """One kind of letter.

    ``paragraphs`` are our own text with ``{variable}`` places, filled with escaped
    values (``-`` where a variable is missing); ``details`` are (label, variable)
    rows shown when the variable is set; ``listing`` names a list variable shown
    as a numbered list.
    """

    key: str
    code: str
    title: str
    paragraphs: tuple[str, ...]
    details: tuple[tuple[str, str], ...] = ()
    listing: tuple[str, str] | None = None
    closing: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    form: str | None = None


_APPLICATION = ("Nomor permohonan", "nomor_permohonan")
_PRODUCT = ("Produk", "nama_produk")
_SNI = ("Standar", "sni")
_CERTIFICATE = ("Nomor SPPT SNI", "nomor_sertifikat")

TEMPLATES: dict[str, LetterTemplate] = {t.key: t for t in (
    LetterTemplate(
        "surat_kekurangan_dokumen", "SKD", "Pemberitahuan Kekurangan Dokumen Permohonan",
        ("Berdasarkan pemeriksaan kelengkapan dokumen permohonan SPPT SNI Saudara, "
         "dokumen berikut belum kami terima atau belum memenuhi persyaratan.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Catatan", "catatan_kelengkapan")),
        listing=("Dokumen yang perlu dilengkapi", "dokumen_kurang"),
        closing=("Mohon dokumen tersebut dilengkapi melalui sertiflow agar permohonan "
                 "dapat kami proses lebih lanjut.",),
    ),
    LetterTemplate(
        "surat_penolakan_permohonan", "SPP", "Penolakan Permohonan SPPT SNI",
        ("Setelah kaji ulang permohonan, dengan menyesal kami sampaikan bahwa permohonan "
         "SPPT SNI Saudara tidak dapat kami terima.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Ruang lingkup", "catatan_lingkup"),
                 ("Alasan", "alasan_penolakan")),
        closing=("Saudara dapat mengajukan permohonan baru apabila penyebab penolakan telah "
                 "diatasi.",),
    ),
    LetterTemplate(
        "surat_pembatalan_permohonan", "SBP", "Pembatalan Permohonan SPPT SNI",
        ("Dengan ini kami sampaikan bahwa permohonan SPPT SNI Saudara dibatalkan.",),
        details=(_APPLICATION, _PRODUCT, ("Kode billing", "kode_billing"),
                 ("Alasan", "alasan_pembatalan")),
        closing=("Saudara dapat mengajukan permohonan baru setiap saat.",),
    ),
    LetterTemplate(
        "perjanjian_kerjasama", "PKS", "Perjanjian Kerjasama Sertifikasi Produk",
        ("Perjanjian ini dibuat antara {lspro} dan {perusahaan} untuk sertifikasi produk "
         "penggunaan tanda SNI sebagai berikut.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Tipe skema", "tipe_skema"),
                 ("Merek dan kemasan", "merek_kemasan"), ("Kode billing", "kode_billing")),
        closing=(
            "Pelanggan bersedia memenuhi persyaratan sertifikasi, memberi akses untuk "
            "evaluasi dan surveilan, menyelidiki keluhan, memperbaiki pernyataan yang "
            "keliru, dan menghentikan penggunaan tanda SNI bila sertifikat dibekukan atau "
            "dicabut.",
            "Biaya sertifikasi adalah PNBP sesuai PP 54 Tahun 2021 dan tidak dikembalikan "
            "apabila sertifikat dicabut."),
    ),
    LetterTemplate(
        "surat_kekurangan", "SKP", "Pemberitahuan Kekurangan Hasil Rapat Tim Teknis",
        ("Tim Teknis telah membahas hasil audit dan pengujian atas permohonan Saudara dan "
         "menyimpulkan bahwa persyaratan sertifikasi belum terpenuhi.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Rekomendasi", "rekomendasi"),
                 ("Kekurangan", "catatan_kekurangan"), ("Catatan", "catatan_rekomendasi")),
        listing=("Kekurangan yang perlu diklarifikasi", "daftar_kekurangan"),
        closing=("Mohon Saudara menyampaikan klarifikasi beserta buktinya agar dapat kami "
                 "evaluasi ulang.",),
    ),
    LetterTemplate(
        "surat_penghentian", "SHP", "Penghentian Proses Sertifikasi",
        ("Dengan ini kami sampaikan bahwa proses sertifikasi atas permohonan Saudara "
         "dihentikan.",),
        details=(_APPLICATION, _PRODUCT, ("Alasan", "alasan_penghentian")),
        closing=("Saudara dapat mengajukan permohonan baru setelah penyebab penghentian "
                 "diatasi.",),
    ),
    LetterTemplate(
        "berita_acara_serah_terima", "BAST", "Berita Acara Serah Terima SPPT SNI",
        ("Pada tanggal {tanggal}, {lspro} menyerahkan SPPT SNI berikut kepada {perusahaan}, "
         "dan {perusahaan} menerimanya dalam keadaan baik.",),
        details=(_CERTIFICATE, _PRODUCT, _SNI, ("Merek dan kemasan", "merek_kemasan"),
                 ("Berlaku sampai", "berlaku_sampai")),
        closing=("Yang menyerahkan: ____________________ "
                 "Yang menerima: ____________________",),
        form="F.52.01.00.2014",
    ),
    LetterTemplate(
        "surat_pembekuan", "SBK", "Pembekuan SPPT SNI",
        ("Dengan ini kami sampaikan bahwa SPPT SNI Saudara dibekukan. Selama pembekuan, "
         "Saudara dilarang membubuhkan tanda SNI pada produk dan kemasan.",),
        details=(_CERTIFICATE, _PRODUCT, ("Alasan", "alasan_pembekuan"),
                 ("Batas waktu perbaikan", "batas_pembekuan"), ("Catatan", "catatan_pembekuan")),
        closing=("Apabila penyebab pembekuan tidak diperbaiki secara memadai sampai batas "
                 "waktu tersebut, SPPT SNI akan dicabut.",),
    ),
    LetterTemplate(
        "surat_pemulihan", "SPM", "Pemulihan SPPT SNI",
        ("Tindakan perbaikan Saudara telah kami nilai memadai. Dengan ini pembekuan SPPT "
         "SNI berikut dicabut dan sertifikat kembali berlaku.",),
        details=(_CERTIFICATE, _PRODUCT, ("Berlaku sampai", "berlaku_sampai")),
    ),
    LetterTemplate(
        "surat_pencabutan", "SPC", "Pemberitahuan Pencabutan SPPT SNI",
        ("Dengan ini kami sampaikan bahwa SPPT SNI berikut dicabut. Sejak tanggal surat "
         "ini Saudara dilarang membubuhkan tanda SNI pada produk dan kemasan.",),
        details=(_CERTIFICATE, _PRODUCT, _SNI, ("Alasan", "alasan_pencabutan")),
        closing=("Pencabutan ini diumumkan dalam daftar publik sertifikat yang dicabut. "
                 "Biaya sertifikasi yang telah dibayarkan tidak dikembalikan. Saudara dapat "
                 "mengajukan permohonan baru setelah memperbaiki penerapan standar dan "
                 "sistem Saudara.",),
        cc=(KAN, REGIONAL),
    ),
    LetterTemplate(
        "surat_permohonan_maaf", "SMF", "Permohonan Maaf atas Keterlambatan",
        ("Kami mohon maaf atas keterlambatan proses sertifikasi yang Saudara sampaikan "
         "dalam keluhan Saudara.",),
        details=(("Nomor keluhan", "nomor_perkara"), _APPLICATION,
                 ("Penyebab keterlambatan", "penyebab_keterlambatan"),
                 ("Perbaikan", "tindakan_perbaikan"), ("Pencegahan", "tindakan_pencegahan")),
        closing=("Terima kasih atas masukan Saudara.",),
    ),
    LetterTemplate(
        "surat_penangguhan_proses", "SPG", "Penangguhan Sementara Proses Sertifikasi",
        ("Merek yang Saudara ajukan sedang dalam perselisihan dengan pihak lain. Proses "
         "sertifikasi Saudara ditangguhkan sementara sampai ada kepastian dari Kementerian "
         "Hukum dan HAM.",),
        details=(_APPLICATION, ("Nomor perkara", "nomor_perkara"), ("Merek", "merek"),
                 ("Catatan", "catatan_sengketa")),
    ),
    LetterTemplate(
        "surat_kelanjutan_proses", "SKL", "Kelanjutan Proses Sertifikasi",
        ("Kementerian Hukum dan HAM telah memberikan kepastian atas merek Saudara. Proses "
         "sertifikasi Saudara dilanjutkan.",),
        details=(_APPLICATION, ("Nomor perkara", "nomor_perkara"),
                 ("Surat Kemenkumham", "nomor_surat_kemenkumham"),
                 ("Merek sah milik pemohon", "merek_sah_milik_pemohon")),
    ),
    LetterTemplate(
        "surat_hasil_banding", "SHB", "Hasil Penanganan Banding",
        ("Banding yang Saudara ajukan telah kami periksa dengan hasil sebagai berikut.",),
        details=(("Nomor banding", "nomor_perkara"), _APPLICATION,
                 ("Jenis banding", "jenis_banding"), ("Hasil", "hasil_banding"),
                 ("Keputusan", "keputusan_banding"), ("SPPT SNI lama", "nomor_sertifikat_lama"),
                 ("SPPT SNI pengganti", "nomor_sertifikat")),
    ),
)}

RECEIPT = LetterTemplate(
    "tanda_terima", "TT", "Tanda Terima Berkas Permohonan",
    ("{lspro} telah menerima berkas permohonan SPPT SNI dari {perusahaan} pada tanggal "
     "{tanggal}.",),
    details=(_APPLICATION, _PRODUCT, _SNI, ("Tipe skema", "tipe_skema"),
             ("Jenis permohonan", "jenis_permohonan"), ("Merek dan kemasan", "merek_kemasan")),
    listing=("Dokumen yang diterima", "dokumen_diterima"),
    closing=("Tanda terima ini bukan bukti kelengkapan dokumen; kelengkapan diperiksa "
             "kemudian.",),
    form="F.10.01.00.2014",
)


# -- values as text ----------------------------------------------------------------------


def indonesian_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def display(value: Any) -> str:
    """A variable's value as plain (not yet escaped) text."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, datetime):
        return f"{indonesian_date(value.date())} pukul {value:%H.%M}"
    if isinstance(value, date):
        return indonesian_date(value)
    if isinstance(value, str):
        parsed = _iso(value)
        return display(parsed) if parsed is not None else value
    if isinstance(value, Mapping):
        if "merek" in value:
            return f"{display(value.get('merek'))} ({display(value.get('kemasan'))})"
        return str(value.get("name") or value.get("id") or "-")
    if isinstance(value, (list, tuple)):
        return "; ".join(display(v) for v in value)
    return str(value)


def _iso(text: str) -> date | None:
    if len(text) == 10 and text[4:5] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if len(text) > 10 and text[4:5] == "-" and "T" in text:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def escape(value: Any) -> str:
    return html.escape(display(value), quote=True)


class _Escaped(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "-"


# -- the page ----------------------------------------------------------------------------

_STYLE = """
body { font-family: "Times New Roman", serif; max-width: 48em; margin: 2em auto;
       line-height: 1.5; color: #000; }
header { border-bottom: 3px double #000; text-align: center; margin-bottom: 1.5em; }
header h1 { font-size: 1.2em; margin: 0; } header p { margin: 0; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #555; padding: 0.2em 0.6em; text-align: left;
         vertical-align: top; }
table.meta td { border: none; padding: 0 0.6em 0 0; }
.form { float: right; font-size: 0.8em; } .sign { margin-top: 3em; }
@media print { body { margin: 0; } }
"""


@dataclass
class Page:
    """An HTML page built from escaped parts only."""

    title: str
    parts: list[str] = field(default_factory=list)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def render(self) -> bytes:
        return ("<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
                "<body>" + "".join(self.parts) + "</body></html>\n").encode()


def _header(page: Page, settings: LsproSettings, form: str | None) -> None:
    if form:
        page.add(f'<div class="form">{html.escape(form)}</div>')
    page.add(f"<header><h1>{html.escape(settings.lspro_name)}</h1>"
             f"<p>Lembaga Sertifikasi Produk, akreditasi KAN "
             f"{html.escape(settings.lspro_code)}</p></header>")


def _rows(rows: Sequence[tuple[str, Any]], css: str = "") -> str:
    body = "".join(f"<tr><th>{html.escape(label)}</th><td>{escape(value)}</td></tr>"
                   for label, value in rows)
    return f'<table class="{css}">{body}</table>' if body else ""


def _brands_table(brands: Any) -> str:
    if not isinstance(brands, (list, tuple)) or not brands:
        return ""
    rows = "".join(
        f"<tr><td>{number}</td><td>{escape(item.get('merek'))}</td>"
        f"<td>{escape(item.get('kemasan'))}</td></tr>"
        for number, item in enumerate(brands, start=1) if isinstance(item, Mapping))
    return ("<table><tr><th>No</th><th>Merek</th><th>Kemasan</th></tr>" + rows + "</table>")


def render_letter(template: LetterTemplate, variables: Mapping[str, Any], *, number: str,
                  day: date, settings: LsproSettings, company: str | None) -> bytes:
    """Render one letter as a complete HTML page."""
    company_text = company or variables.get("perusahaan") or variables.get("nama_perusahaan")
    values = _Escaped({key: escape(value) for key, value in variables.items()})
    values.update(lspro=html.escape(settings.lspro_name), perusahaan=escape(company_text),
                  tanggal=html.escape(indonesian_date(day)))
    page = Page(f"{template.title} {number}")
    _header(page, settings, template.form)
    page.add(_rows([("Nomor", number), ("Tanggal", day), ("Perihal", template.title)],
                   "meta"))
    page.add(f"<p>Kepada Yth.<br>Pimpinan {escape(company_text)}</p>")
    for paragraph in template.paragraphs:
        page.add(f"<p>{paragraph.format_map(values)}</p>")
    shown = [(label, variables[name]) for label, name in template.details
             if name != "merek_kemasan" and variables.get(name) not in (None, "", [])]
    page.add(_rows(shown))
    if any(name == "merek_kemasan" for _, name in template.details):
        page.add(_brands_table(variables.get("merek_kemasan")))
    if template.listing is not None:
        heading, name = template.listing
        items = variables.get(name)
        if isinstance(items, (list, tuple)) and items:
            page.add(f"<p>{html.escape(heading)}:</p><ol>"
                     + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ol>")
    for paragraph in template.closing:
        page.add(f"<p>{paragraph.format_map(values)}</p>")
    page.add(f'<p class="sign">Hormat kami,<br>{html.escape(settings.lspro_name)}</p>')
    if template.cc:
        page.add("<p>Tembusan:</p><ol>"
                 + "".join(f"<li>{html.escape(cc)}</li>" for cc in template.cc) + "</ol>")
    return page.render()


def render_certificate(certificate: Certificate, settings: LsproSettings) -> bytes:
    """The SPPT SNI itself."""
    page = Page(f"SPPT SNI {certificate.number}")
    _header(page, settings, None)
    page.add("<h2 style=\"text-align:center\">SERTIFIKAT PRODUK PENGGUNAAN TANDA SNI<br>"
             "(SPPT SNI)</h2>")
    page.add(f'<p style="text-align:center">Nomor: {html.escape(certificate.number)}</p>')
    page.add(f"<p>{html.escape(settings.lspro_name)} menyatakan bahwa produk berikut telah "
             "memenuhi persyaratan standar dan berhak membubuhkan tanda SNI.</p>")
    page.add(_rows([
        ("Perusahaan", certificate.company),
        ("Produk", certificate.product_name),
        ("Standar", certificate.sni),
        ("Skema sertifikasi", f"Tipe {certificate.scheme_type} (ISO/IEC 17067)"),
        ("Nomor permohonan", certificate.application_number),
        ("Tanggal terbit", certificate.issued_on),
        ("Berlaku sampai", certificate.expires_on),
    ]))
    page.add(_brands_table(certificate.brands))
    page.add("<p>Sertifikat ini berlaku selama pemegangnya memenuhi ketentuan sertifikasi "
             "dan hasil surveilan memenuhi persyaratan.</p>")
    page.add(f'<p class="sign">{html.escape(settings.lspro_name)}<br>Pimpinan Puncak</p>')
    return page.render()


def render_billing_slip(invoice: Invoice, settings: LsproSettings) -> bytes:
    """The e-Billing slip: the code, the amount, the deadline and the fee lines."""
    page = Page(f"e-Billing {invoice.code}")
    _header(page, settings, None)
    page.add("<h2>Tagihan PNBP (e-Billing)</h2>")
    due = invoice.due_at.astimezone(settings.timezone)
    page.add(_rows([
        ("Kode billing", invoice.code),
        ("Untuk", invoice.subject),
        ("Perusahaan", invoice.company),
        ("Jumlah", format_rupiah(invoice.total)),
        ("Bayar paling lambat", f"{indonesian_date(due.date())} pukul {due:%H.%M}"),
        ("Dasar hukum", invoice.legal_basis),
    ]))
    rows = "".join(
        f"<tr><td>{escape(line.get('no'))}</td><td>{escape(line.get('label_id'))}</td>"
        f"<td>{escape(line.get('quantity'))}</td>"
        f"<td>{html.escape(format_rupiah(int(line.get('amount', 0))))}</td></tr>"
        for line in invoice.lines)
    page.add("<table><tr><th>No</th><th>Uraian</th><th>Jumlah</th><th>Biaya</th></tr>"
             + rows + "</table>")
    page.add("<p>Bayar di bank atau kantor pos dengan kode billing di atas. Biaya ini "
             "adalah Penerimaan Negara Bukan Pajak yang disetor ke Kas Negara.</p>")
    return page.render()


# -- the service -------------------------------------------------------------------------


class LetterService:
    """Numbers, renders and stores letters and other generated documents."""

    def __init__(self, session: Session, clock: Clock, settings: LsproSettings,
                 documents: DocumentService) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.documents = documents

    def today(self) -> date:
        return local_today(self.clock, self.settings.timezone)

    def next_letter_number(self, code: str) -> str:
        today = self.today()
        seq = next_number(self.session, LETTER_SEQUENCE, today.year)
        return (f"{seq:04d}/{code}/{self.settings.lspro_code}/{ROMAN[today.month - 1]}/"
                f"{today.year}")

    def generate(self, template_key: str, variables: Mapping[str, Any], *, instance_id: str,
                 company: str | None, reference: str | None = None,
                 actor: str | None = None) -> tuple[Document, str]:
        """Render, number and store a letter; return the document and its number.

        :raises InvalidInput: when there is no such template.
        """
        template = TEMPLATES.get(template_key) if template_key != RECEIPT.key else RECEIPT
        if template is None:
            known = ", ".join(sorted(TEMPLATES))
            raise InvalidInput(f"no letter template {template_key!r} (known: {known})",
                               {"template": f"one of {known}"})
        number = self.next_letter_number(template.code)
        content = render_letter(template, variables, number=number, day=self.today(),
                                settings=self.settings, company=company)
        document = self.documents.store_generated(
            instance_id, content, name=_file_name(template.key, reference),
            field=f"dokumen_{template.key}", created_by=actor)
        return document, number

    def receipt(self, variables: Mapping[str, Any], *, instance_id: str, company: str | None,
                reference: str | None = None) -> tuple[Document, str]:
        """The application file receipt F.10.01.00.2014 (requirement 21)."""
        return self.generate(RECEIPT.key, variables, instance_id=instance_id, company=company,
                             reference=reference)

    def certificate(self, certificate: Certificate, *, instance_id: str) -> Document:
        return self.documents.store_generated(
            instance_id, render_certificate(certificate, self.settings),
            name=_file_name("sppt_sni", certificate.number), field="dokumen_sertifikat")

    def billing_slip(self, invoice: Invoice, *, instance_id: str) -> Document:
        return self.documents.store_generated(
            instance_id, render_billing_slip(invoice, self.settings),
            name=_file_name("e_billing", invoice.code), field="dokumen_tagihan")


def _file_name(kind: str, reference: str | None) -> str:
    stem = kind if not reference else f"{kind}_{reference}"
    return stem.replace("/", "-").replace("\\", "-") + ".html"
