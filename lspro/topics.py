"""The LSPro's service-task topics: case numbers, applications, billing, letters,
certificates and panels.

Each domain handler reads its inputs from the process variables and its
parameters from the element's ``camunda:property`` entries, checks them (a
missing or invalid one raises :class:`~engine.errors.InvalidInput`, which opens
an incident), does its work through the domain services in the command's
transaction, and returns the variables it sets as plain JSON values (dates as
ISO text). The topics, variables and properties are those of
``processes/CONTRACT.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from engine.errors import InvalidInput, NotFound
from engine.runtime.handlers import HandlerContext, context_of, property_of
from engine.runtime.service_call import ServiceCall
from engine.time.clock import local_today
from lspro.billing import BillingService
from lspro.certificates import (
    REVOCATION_REASONS,
    SUSPENSION_REASONS,
    CertificateRegister,
    normalise_brands,
)
from lspro.companies import chosen_factory
from lspro.documents.service import DRAFT_FIELD
from lspro.fees import INITIAL, MAKLOON, SURVEILLANCE
from lspro.letters import LetterService
from lspro.numbering import next_number
from lspro.panels import PanelService, names
from lspro.scope import (
    APPLICATION_TYPES,
    REQUIREMENTS,
    ApplicationFacts,
    check_application,
    document_present,
    missing_documents,
    required_documents,
)

CASE_PREFIXES = ("PRM", "KLH", "BDG", "SGK", "BKU", "PCB")

Result = Mapping[str, Any] | None




# -- helpers ---------------------------------------------------------------------------


def _text(call: ServiceCall, name: str, *, required: bool = True) -> str:
    value = call.variables.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"Nilai {name} belum diisi ({call.topic}).",
                               {name: "belum diisi"})
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InvalidInput(f"Nilai {name} harus berupa teks, bukan {value!r} ({call.topic}).",
                           {name: "harus berupa teks"})
    return str(value).strip()


def _flag(call: ServiceCall, name: str) -> bool:
    """A checkbox: missing means not ticked; anything but a boolean is refused."""
    value = call.variables.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"Nilai {name} harus Ya atau Tidak, bukan {value!r} "
                           f"({call.topic}).", {name: "harus Ya atau Tidak"})
    return value


def _today(context: HandlerContext) -> date:
    return local_today(context.clock, context.settings.timezone)


def _register(context: HandlerContext) -> CertificateRegister:
    return context.service(CertificateRegister)


def _billing(context: HandlerContext) -> BillingService:
    return context.service(BillingService)


def _letters(context: HandlerContext) -> LetterService:
    return context.service(LetterService)


def case_number(context: HandlerContext, prefix: str) -> str:
    """The next ``PREFIX-YYYY-NNNNN``: one sequence per prefix and year."""
    year = _today(context).year
    return f"{prefix}-{year}-{next_number(context.session, f'perkara:{prefix}', year):05d}"


def _open_case(context: HandlerContext, prefix: str) -> str:
    """The instance's business key; a new case number if it has none yet."""
    key = context.business_key
    if not key:
        key = case_number(context, prefix)
        context.set_business_key(key)
    return key


# -- case numbers and the application -----------------------------------------------------


def open_case(call: ServiceCall) -> Result:
    """``case.open``: give the instance a case number as its business key."""
    context = context_of(call)
    prefix = property_of(call, "prefix").upper()
    if prefix not in CASE_PREFIXES:
        raise InvalidInput(f"case.open: unknown prefix {prefix!r} "
                           f"(known: {', '.join(CASE_PREFIXES)})", {"prefix": "unknown"})
    variable = property_of(call, "variable", "nomor_perkara")
    return {variable: _open_case(context, prefix)}


def receive_application(call: ServiceCall) -> Result:
    """``application.receive``: number, scope check, required documents, receipt."""
    context = context_of(call)
    product = _text(call, "produk")
    sni = _text(call, "sni")
    scheme = call.variables.get("tipe_skema")
    if scheme in (None, ""):
        raise InvalidInput("application.receive: variable 'tipe_skema' is not set",
                           {"tipe_skema": "missing"})
    kind = _text(call, "jenis_permohonan")
    if kind not in APPLICATION_TYPES:
        raise InvalidInput(f"application.receive: jenis_permohonan must be one of "
                           f"{', '.join(APPLICATION_TYPES)}, not {kind!r}",
                           {"jenis_permohonan": "unknown"})
    makloon = _flag(call, "makloon")
    own_brand = _flag(call, "merek_milik_sendiri")
    brands = normalise_brands(call.variables.get("merek_kemasan"))

    number = str(call.variables.get("nomor_permohonan") or "") or _open_case(context, "PRM")
    checked = check_application(product, sni, scheme, _today(context))
    facts = ApplicationFacts(
        scheme_type=checked.scheme_type, amdk=bool(checked.entry and checked.entry.amdk),
        makloon=makloon, own_brand=own_brand, application_type=kind)
    required = required_documents(facts)
    missing = missing_documents(required, call.variables)
    result: dict[str, Any] = {
        # The factory picked on the form (from the company profile copied at the start).
        **chosen_factory(call.variables),
        "nomor_permohonan": number,
        "nama_produk": checked.entry.name_id if checked.entry else product,
        "regulasi": (checked.entry.regulation or "") if checked.entry else "",
        "dalam_lingkup": checked.in_scope,
        "catatan_lingkup": checked.note,
        "dokumen_wajib": [r.key for r in required],
        "dokumen_kurang": [r.label_id for r in missing],
        # The same list as text, one document a line, for the forms' read-only
        # text areas (a text area cannot show a list).
        "dokumen_kurang_teks": "\n".join(f"- {r.label_id}" for r in missing),
        "dokumen_lengkap_sistem": not missing,
        # The application's outcome, set true by a termination in the SOP: the
        # intake's last gateway reads it, so it must exist on the happy path too.
        "permohonan_dihentikan": bool(call.variables.get("permohonan_dihentikan", False)),
    }
    if call.variables.get("nomor_tanda_terima") and call.variables.get("dokumen_tanda_terima"):
        return result  # run again after more documents: the first receipt stands
    received = [r.label_id for r in REQUIREMENTS
                if not r.issued and document_present(call.variables.get(r.field))]
    shown = {**call.variables, **result, "merek_kemasan": brands, "dokumen_diterima": received}
    document, receipt_number = _letters(context).receipt(
        shown, instance_id=context.instance_id, company=context.company, reference=number)
    result["nomor_tanda_terima"] = receipt_number
    result["dokumen_tanda_terima"] = document.id
    return result


# -- billing ------------------------------------------------------------------------------


def issue_bill(call: ServiceCall) -> Result:
    """``billing.issue``: an e-Billing code for the schedule (plus MAKLOON when makloon)."""
    context = context_of(call)
    schedule = property_of(call, "schedule").upper()
    schedules = [schedule]
    if schedule == INITIAL and _flag(call, "makloon"):
        schedules.append(MAKLOON)
    default_subject = "nomor_sertifikat" if schedule == SURVEILLANCE else "nomor_permohonan"
    subject_variable = property_of(call, "subject", default_subject)
    subject = _text(call, subject_variable)
    company = context.company
    if company is None and subject_variable == "nomor_sertifikat":
        company = _register(context).get(subject).company
    invoice = _billing(context).issue(subject, schedules, company=company,
                                      instance_id=context.instance_id)
    slip = _letters(context).billing_slip(invoice, instance_id=context.instance_id)
    return {
        "kode_billing": invoice.code,
        "total_tagihan": invoice.total,
        "batas_pembayaran": invoice.due_at.astimezone(context.settings.timezone).isoformat(),
        "dokumen_tagihan": slip.id,
        "status_tagihan": invoice.state,
    }


def confirm_payment(call: ServiceCall) -> Result:
    """``billing.confirm``: the bill is paid (NTPN and payment date from the message).

    The payment form refuses what this would refuse; a payment that still fails
    here (recorded twice at the same moment, or sent without the form) opens an
    incident naming the variables to correct, which staff fix on the instance page.
    """
    context = context_of(call)
    billing = _billing(context)
    code, ntpn, paid_on = (_text(call, "kode_billing"), _text(call, "ntpn"),
                           _text(call, "tanggal_bayar"))
    problems = billing.payment_problems(code, ntpn, paid_on)
    if problems:
        raise InvalidInput("Pembayaran tidak dapat dicatat: " + " ".join(problems.values()),
                           problems)
    invoice = billing.confirm(code, ntpn, paid_on)
    return {"status_tagihan": invoice.state}


def expire_bill(call: ServiceCall) -> Result:
    """``billing.expire``: the payment deadline passed unpaid."""
    context = context_of(call)
    invoice = _billing(context).expire(_text(call, "kode_billing"))
    return {"status_tagihan": invoice.state}


# -- letters ------------------------------------------------------------------------------


def generate_letter(call: ServiceCall) -> Result:
    """``letter.generate``: render the template's letter and store it with the instance."""
    context = context_of(call)
    template = property_of(call, "template")
    shown = dict(call.variables)
    for name, labels in (("alasan_pembekuan", SUSPENSION_REASONS),
                         ("alasan_pencabutan", REVOCATION_REASONS)):
        if isinstance(shown.get(name), str) and shown[name] in labels:
            shown[name] = labels[shown[name]]
    document, number = _letters(context).generate(
        template, shown, instance_id=context.instance_id, company=_addressee(call, context),
        reference=context.business_key)
    return {f"dokumen_{template}": document.id, f"nomor_surat_{template}": number}


def _addressee(call: ServiceCall, context: HandlerContext) -> str | None:
    """The company a letter goes to: the instance's, else the certificate holder's."""
    if context.company:
        return context.company
    number = call.variables.get("nomor_sertifikat")
    if isinstance(number, str) and number.strip():
        try:
            return _register(context).get(number).company
        except NotFound:
            pass
    return _text(call, "perusahaan", required=False) or None


# -- the certificate register -----------------------------------------------------------


def issue_certificate(call: ServiceCall) -> Result:
    """``certificate.issue``: number, register and render the SPPT SNI."""
    context = context_of(call)
    company = context.company or _text(call, "perusahaan", required=False)
    register = _register(context)
    certificate = register.issue(
        company=company, product_code=_text(call, "produk"), sni=_text(call, "sni"),
        scheme_type=call.variables.get("tipe_skema"),
        brands=call.variables.get("merek_kemasan"),
        application_number=_text(call, "nomor_permohonan"), instance_id=context.instance_id)
    document = _letters(context).certificate(certificate, instance_id=context.instance_id,
                                             holder=call.variables)
    return {"nomor_sertifikat": certificate.number,
            "berlaku_sampai": certificate.expires_on.isoformat(),
            "dokumen_sertifikat": document.id,
            "status_sertifikat": certificate.state}


def draft_certificate(call: ServiceCall) -> Result:
    """``certificate.draft``: render the draft of the SPPT SNI for steps 15 and 16.

    The same facts :func:`issue_certificate` will print (the register's checks, the
    brands as entered at step 14, the validity of an issue today), on the
    certificate's own template marked as a draft; a new draft on every pass, the
    variable naming the latest as a file reference the forms show read-only.
    """
    context = context_of(call)
    company = context.company or _text(call, "perusahaan", required=False)
    draft = _register(context).draft(
        company=company, product_code=_text(call, "produk"), sni=_text(call, "sni"),
        scheme_type=call.variables.get("tipe_skema"),
        brands=call.variables.get("merek_kemasan"))
    reference = _text(call, "nomor_permohonan", required=False) or context.business_key
    document = _letters(context).certificate_draft(
        draft, instance_id=context.instance_id, holder=call.variables, reference=reference)
    return {DRAFT_FIELD: context.documents.reference(document)}


def hand_over_certificate(call: ServiceCall) -> Result:
    """``certificate.handover``: the Berita Acara was signed."""
    context = context_of(call)
    _register(context).handover(_text(call, "nomor_sertifikat"), instance_id=context.instance_id)
    return None


def check_certificate(call: ServiceCall) -> Result:
    """``certificate.check``: state, validity and the next surveillance.

    With ``camunda:property name="recordSurveillance" value="true"`` it first records
    that a surveillance was completed today, so the next is a year from today. A
    certificate withdrawn and replaced (an editorial appeal) reports ``ditarik``: its
    cycle ends, and the appeal starts a cycle for the replacement, keyed by the new
    number so that payments correlate to it.
    """
    context = context_of(call)
    register = _register(context)
    number = register.get(_text(call, "nomor_sertifikat")).number
    if (call.properties.get("recordSurveillance") or "").strip().lower() == "true":
        register.record_surveillance(number, instance_id=context.instance_id)
    status = register.check(number)
    return {"nomor_sertifikat": number,
            "status_sertifikat": status.certificate.state,
            "berlaku_sampai": status.certificate.expires_on.isoformat(),
            "surveilan_berikutnya": status.next_surveillance.isoformat(),
            "masih_berlaku": status.still_valid}


def suspend_certificate(call: ServiceCall) -> Result:
    """``certificate.suspend``: freeze the certificate until ``batas_pembekuan``."""
    context = context_of(call)
    days = call.variables.get("jangka_pembekuan_hari")
    if days in (None, ""):
        days = None
    elif isinstance(days, float) and days.is_integer():
        days = int(days)
    certificate = _register(context).suspend(
        _text(call, "nomor_sertifikat"), _text(call, "alasan_pembekuan"), days=days,
        instance_id=context.instance_id)
    deadline = certificate.suspension_deadline
    assert deadline is not None
    return {"batas_pembekuan": deadline.astimezone(context.settings.timezone).isoformat(),
            "status_sertifikat": certificate.state}


def reinstate_certificate(call: ServiceCall) -> Result:
    context = context_of(call)
    certificate = _register(context).reinstate(_text(call, "nomor_sertifikat"),
                                               instance_id=context.instance_id)
    return {"status_sertifikat": certificate.state}


def revoke_certificate(call: ServiceCall) -> Result:
    context = context_of(call)
    certificate = _register(context).revoke(
        _text(call, "nomor_sertifikat"), _text(call, "alasan_pencabutan"),
        instance_id=context.instance_id)
    return {"status_sertifikat": certificate.state}


def reissue_certificate(call: ServiceCall) -> Result:
    """``certificate.reissue``: withdraw the certificate and issue the corrected one.

    Optional corrections: ``koreksi_perusahaan``, ``koreksi_sni``,
    ``koreksi_merek_kemasan``; without them the new certificate repeats the old.
    """
    context = context_of(call)
    old, new = _register(context).reissue(
        _text(call, "nomor_sertifikat"), _text(call, "koreksi"),
        company=_text(call, "koreksi_perusahaan", required=False) or None,
        sni=_text(call, "koreksi_sni", required=False) or None,
        brands=call.variables.get("koreksi_merek_kemasan") or None,
        instance_id=context.instance_id)
    document = _letters(context).certificate(new, instance_id=context.instance_id,
                                             holder=call.variables)
    return {"nomor_sertifikat": new.number, "nomor_sertifikat_lama": old.number,
            "dokumen_sertifikat": document.id, "berlaku_sampai": new.expires_on.isoformat(),
            "status_sertifikat": new.state}


def expire_certificate(call: ServiceCall) -> Result:
    context = context_of(call)
    certificate = _register(context).expire(_text(call, "nomor_sertifikat"),
                                            instance_id=context.instance_id)
    return {"status_sertifikat": certificate.state}


# -- panels -------------------------------------------------------------------------------


def record_panel(call: ServiceCall) -> Result:
    """``panel.record``: the members named in step 12 plus who completed step 13.

    ``camunda:property name="completersOf"`` names the panel's user tasks (comma
    separated); without it, who completed this instance's tasks in the ``tim-teknis``
    lane or candidate group.
    """
    context = context_of(call)
    panels = PanelService(context.session, context.clock)
    elements = [e.strip() for e in (call.properties.get("completersOf") or "").split(",")
                if e.strip()]
    completed = panels.completers(context.instance_id, elements,
                                  role=None if elements else "tim-teknis")
    members = panels.record_original(
        _text(call, "nomor_permohonan"), names(call.variables.get("anggota_tim_teknis")),
        completed, instance_id=context.instance_id)
    return {"panel_asli": members}


def check_appeal_panel(call: ServiceCall) -> Result:
    """``panel.check_appeal``: is the proposed appeal panel independent of the original?"""
    context = context_of(call)
    verdict = PanelService(context.session, context.clock).check_appeal(
        _text(call, "nomor_permohonan"), call.variables.get("panel_banding"),
        instance_id=context.instance_id)
    return {"panel_banding_sah": verdict.valid, "panel_konflik": list(verdict.conflicts),
            "panel_banding": list(verdict.members),
            "catatan_panel_banding": "; ".join(verdict.problems)}


DOMAIN_TOPICS = {
    "case.open": open_case,
    "application.receive": receive_application,
    "billing.issue": issue_bill,
    "billing.confirm": confirm_payment,
    "billing.expire": expire_bill,
    "letter.generate": generate_letter,
    "certificate.draft": draft_certificate,
    "certificate.issue": issue_certificate,
    "certificate.handover": hand_over_certificate,
    "certificate.check": check_certificate,
    "certificate.suspend": suspend_certificate,
    "certificate.reinstate": reinstate_certificate,
    "certificate.revoke": revoke_certificate,
    "certificate.reissue": reissue_certificate,
    "certificate.expire": expire_certificate,
    "panel.record": record_panel,
    "panel.check_appeal": check_appeal_panel,
}
