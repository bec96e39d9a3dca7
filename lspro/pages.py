"""The certificate register (signed in) and the public lookup page (no sign-in).

Both read the engine's :class:`~lspro.certificates.CertificateRegister`, as
``lspro/rest.py`` does: staff see every certificate, a customer those
of their own company; the public page shows what the LSPro publishes anyway
(ISO/IEC 17065 §7.8, §7.11): a certificate by its exact number, and the list
of revoked certificates.
"""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from api.context import engine
from api.web import page_blueprint
from api.web.layout import page_arg, page_count
from api.web.session import optional_actor, reading
from engine.errors import NotFound
from lspro import signature
from lspro.certificates import REVOCATION_REASONS, SUSPENSION_REASONS, CertificateRegister
from lspro.models import CERTIFICATE_STATES, Certificate
from lspro.settings import LsproSettings

bp = page_blueprint("lspro", __name__, template_folder="templates")

PER_PAGE = 25
# A reason recorded as a code is shown in the words of the procedure.
REASONS = {**SUSPENSION_REASONS, **REVOCATION_REASONS}


@bp.get("/certificates")
def certificate_list() -> ResponseReturnValue:
    state = request.args.get("state") if request.args.get("state") in CERTIFICATE_STATES \
        else None
    number = (request.args.get("number") or "").strip()[:255] or None
    company = (request.args.get("company") or "").strip()[:255] or None
    page_number = page_arg()
    with reading() as (services, actor):
        company = actor.company_filter(company)
        page = services.get(CertificateRegister).search(company=company, state=state, number=number,
                                          page=page_number, per_page=PER_PAGE)
        return render_template("lspro/certificates.html", page=page, states=CERTIFICATE_STATES,
                               state=state, number=number or "", company=company or "",
                               customer=actor.is_customer,
                               pages=page_count(page.total, PER_PAGE))


@bp.get("/certificates/<certificate_id>")
def certificate_page(certificate_id: str) -> ResponseReturnValue:
    with reading() as (services, actor):
        register = services.get(CertificateRegister)
        certificate = register.seen_by(actor, certificate_id)
        status = register.check(certificate.number)
        return render_template("lspro/certificate.html", certificate=certificate, status=status,
                               events=register.events(certificate.id), reasons=REASONS)


@bp.get("/verify")
def verify() -> ResponseReturnValue:
    """Anyone may check a certificate by its number; no sign-in needed.

    With ``s``, the signature printed on the certificate (and in its QR code), the
    page also tells whether the certificate is genuine: the signature matches what
    the register holds for that number now, or it does not (the paper was altered,
    or made up).
    """
    number = (request.args.get("number") or "").strip()[:255]
    typed_signature = (request.args.get("s") or "").strip()[:64]
    found: Certificate | None = None
    replaced_by: str | None = None
    still_valid = False
    verdict: str | None = None
    with engine().read() as services:
        optional_actor(services)  # for the navigation of a signed-in visitor
        register = services.get(CertificateRegister)
        if number:
            try:
                found = register.lookup(number)
            except NotFound:
                found = None
            if found is not None:
                still_valid = register.check(found.number).still_valid
                replaced_by = register.replacement_number(found)
            if typed_signature:
                verdict = signature.check(found, typed_signature,
                                          services.engine.provided(LsproSettings)).verdict
        revoked = register.revoked(per_page=20).items
        page = render_template("lspro/verify.html", number=number, found=found,
                               replaced_by=replaced_by, still_valid=still_valid,
                               revoked=revoked, signature=typed_signature, verdict=verdict)
    return page, (404 if number and found is None else 200)
