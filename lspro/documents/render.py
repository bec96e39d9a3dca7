"""The contexts the document templates are rendered with, and the rendering itself.

One function per kind of document; each collects the values a template shows as
plain text (escaping is the templates' job) and returns the document's page (the
``*_page`` functions, frozen by the command and laid out later) or its PDF.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from lspro.certificates import CertificateDraft
from lspro.documents.pdf import pdf_from_html, render_page
from lspro.documents.texts import LetterTemplate
from lspro.documents.values import brands, display, indonesian_date, is_set, weekday
from lspro.fees import format_rupiah
from lspro.models import Certificate, Invoice
from lspro.settings import LsproSettings
from lspro.signature import check_url, sign

# The holder's places shown on a certificate when the application gave them.
FACTORY_FIELDS = (("Nama pabrik", "nama_pabrik"), ("Alamat pabrik", "alamat_pabrik"),
                  ("Perusahaan makloon", "makloon_nama"), ("Alamat makloon", "makloon_alamat"))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "-"


def common(settings: LsproSettings, day: date, form: str | None = None) -> dict[str, Any]:
    """What every document shows: the letterhead, the signatory, place and date."""
    return {
        "lspro": {"name": settings.lspro_name, "code": settings.lspro_code,
                  "address": settings.lspro_address,
                  "accreditation": "Lembaga Sertifikasi Produk terakreditasi KAN "
                                   f"nomor {settings.lspro_code}"},
        "signatory": {"name": settings.signatory_name, "position": settings.signatory_position,
                      "id": settings.signatory_id, "place": settings.signing_place,
                      "date": indonesian_date(day)},
        "form": form,
    }


def render_letter(template: LetterTemplate, variables: Mapping[str, Any], *, number: str,
                  day: date, settings: LsproSettings, company: str | None) -> bytes:
    """Render one letter (or receipt, or Berita Acara) as PDF."""
    return pdf_from_html(letter_page(template, variables, number=number, day=day,
                                     settings=settings, company=company))


def letter_page(template: LetterTemplate, variables: Mapping[str, Any], *, number: str,
                day: date, settings: LsproSettings, company: str | None) -> str:
    """The page of one letter (or receipt, or Berita Acara)."""
    company_text = display(company or variables.get("perusahaan")
                           or variables.get("nama_perusahaan"))
    values = _Missing({key: display(value) for key, value in variables.items()})
    values.update(lspro=settings.lspro_name, perusahaan=company_text,
                  tanggal=indonesian_date(day))
    listing = None
    if template.listing is not None:
        heading, name = template.listing
        items = variables.get(name)
        if isinstance(items, (list, tuple)) and items:
            listing = {"heading": heading, "items": [display(item) for item in items]}
    shows_brands = any(name == "merek_kemasan" for _, name in template.details)
    context = {
        **common(settings, day, template.form),
        "number": number, "subject": template.title, "addressee": company_text,
        "weekday": weekday(day),
        "paragraphs": [p.format_map(values) for p in template.paragraphs],
        "details": [(label, display(variables[name])) for label, name in template.details
                    if name != "merek_kemasan" and is_set(variables.get(name))],
        "brands": brands(variables.get("merek_kemasan")) if shows_brands else [],
        "listing": listing,
        "closing": [p.format_map(values) for p in template.closing],
        "cc": list(template.cc),
    }
    return render_page(f"{template.layout}.html", context, title=f"{template.title} {number}",
                       override=settings.document_templates)


def render_certificate(certificate: Certificate, settings: LsproSettings,
                       holder: Mapping[str, Any] | None = None) -> bytes:
    """The SPPT SNI as PDF (:func:`certificate_page`)."""
    return pdf_from_html(certificate_page(certificate, settings, holder))


def certificate_page(certificate: Certificate, settings: LsproSettings,
                     holder: Mapping[str, Any] | None = None) -> str:
    """The SPPT SNI itself, signed, with the QR code of its check page.

    ``holder`` are the application's variables: the addresses of the company, its
    factory and its contract manufacturer (makloon), each shown only when set.
    """
    signature = sign(certificate, settings)
    url = (check_url(settings.public_url, certificate.number, signature)
           if settings.public_url else None)
    context = {
        **_certificate_context(certificate, settings, holder),
        "number": certificate.number, "draft": None,
        "signature": signature, "check_url": url,
        "verify_page": f"{settings.public_url}/verify" if settings.public_url else None,
        "qr": qr_code(url) if url else None,
    }
    return render_page("certificate.html", context, title=f"SPPT SNI {certificate.number}",
                       override=settings.document_templates)


def render_certificate_draft(draft: CertificateDraft, settings: LsproSettings,
                             holder: Mapping[str, Any] | None = None, *,
                             revision: int = 1, reference: str | None = None) -> bytes:
    """The draft (*konsep*) of the SPPT SNI as PDF (:func:`certificate_draft_page`)."""
    return pdf_from_html(certificate_draft_page(draft, settings, holder, revision=revision,
                                                reference=reference))


def qr_code(url: str) -> str:
    """The QR code of ``url`` as a PNG ``data:`` address: 8 pixels a module, 2 modules
    of quiet zone, error correction M (the code still reads with a stain or a fold).

    PNG rather than SVG: WeasyPrint lays out an SVG of ~1,000 squares in 80 ms, a PNG
    in a few. An 8-bit grey PNG rather than segno's 1-bit one: WeasyPrint turns a 1-bit
    picture into colour and encodes it twice (~6 ms a certificate); a grey one it takes
    as it is, encoding a third of the bytes once. Drawn with Pillow (WeasyPrint's own
    dependency) from segno's modules, which is quicker than segno's PNG writer, too.
    """
    import segno
    from PIL import Image

    scale = 8
    rows = [bytes(0 if dark else 255 for dark in row)
            for row in segno.make(url, error="m").matrix_iter(scale=1, border=2)]
    size = len(rows)  # a QR code is square
    picture = Image.frombytes("L", (size, size), b"".join(rows)).resize(
        (size * scale, size * scale), Image.Resampling.NEAREST)
    png = io.BytesIO()
    picture.save(png, format="PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def certificate_draft_page(draft: CertificateDraft, settings: LsproSettings,
                           holder: Mapping[str, Any] | None = None, *,
                           revision: int = 1, reference: str | None = None) -> str:
    """The page of the draft (*konsep*) of the SPPT SNI: the certificate's own template
    and facts, marked as a draft, without a number, a signature, a QR code or an
    authenticity code.

    ``revision`` counts the drafts of one application (a returned draft is redrawn);
    ``reference`` is the application's number, shown instead of the certificate's.
    """
    context = {
        **_certificate_context(draft, settings, holder),
        "number": None,
        "draft": {"revision": revision, "reference": reference,
                  "date": indonesian_date(draft.issued_on)},
        "signature": None, "check_url": None, "verify_page": None, "qr": None,
    }
    title = f"Konsep SPPT SNI {reference}" if reference else "Konsep SPPT SNI"
    return render_page("certificate.html", context, title=title,
                       override=settings.document_templates)


def _certificate_context(certificate: Certificate | CertificateDraft, settings: LsproSettings,
                         holder: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a certificate and its draft both show: holder, places, product, scope, dates."""
    given = holder or {}
    return {
        **common(settings, certificate.issued_on),
        "certificate": certificate,
        "holder_address": (display(given["alamat_perusahaan"])
                           if is_set(given.get("alamat_perusahaan")) else None),
        "factory": [(label, display(given[name])) for label, name in FACTORY_FIELDS
                    if is_set(given.get(name))],
        "details": [
            ("Produk", certificate.product_name),
            ("Standar", certificate.sni),
            ("Ruang lingkup", f"{certificate.product_name} sesuai {certificate.sni}, skema "
                              f"sertifikasi tipe {certificate.scheme_type} (ISO/IEC 17067)"),
            ("Tanggal terbit", indonesian_date(certificate.issued_on)),
            ("Berlaku sampai", indonesian_date(certificate.expires_on)),
        ],
        "brands": brands(certificate.brands),
    }


def render_billing_slip(invoice: Invoice, settings: LsproSettings, day: date) -> bytes:
    """The e-Billing slip as PDF (:func:`billing_slip_page`)."""
    return pdf_from_html(billing_slip_page(invoice, settings, day))


def billing_slip_page(invoice: Invoice, settings: LsproSettings, day: date) -> str:
    """The e-Billing slip: the code, the amount, the deadline and the fee lines."""
    due = invoice.due_at.astimezone(settings.timezone)
    context = {
        **common(settings, day),
        "invoice": invoice,
        "details": [("Untuk", invoice.subject), ("Perusahaan", display(invoice.company)),
                    ("Jumlah", format_rupiah(invoice.total)),
                    ("Bayar paling lambat", f"{indonesian_date(due.date())} pukul {due:%H.%M}"),
                    ("Dasar hukum", display(invoice.legal_basis))],
        "lines": [{"no": display(line.get("no")), "label": display(line.get("label_id")),
                   "quantity": display(line.get("quantity")),
                   "amount": format_rupiah(int(line.get("amount", 0)))}
                  for line in invoice.lines],
        "total": format_rupiah(invoice.total),
    }
    return render_page("billing_slip.html", context, title=f"e-Billing {invoice.code}",
                       override=settings.document_templates)
