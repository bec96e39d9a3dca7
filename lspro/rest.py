"""The certificate register and e-Billing records, company profiles, and the public register.

Staff see every certificate and bill; a customer (``pelanggan``) only those of
their own company. The public endpoints need no sign-in and show only what the
LSPro publishes anyway (ISO/IEC 17065 §7.8, §7.11): whether a certificate with a
number exists, for whom and what, its state and dates, and the list of revoked
certificates; never reasons, bills, instances or documents.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api import schemas
from api.context import command, engine, query
from api.v1.common import Extended, blueprint, documented, page_dict
from engine.errors import Forbidden, NotFound
from engine.queries.lists import Page
from lspro.billing import BillingService
from lspro.certificates import CertificateRegister
from lspro.companies import CompanyProfiles, ProfileSchema
from lspro.models import CERTIFICATE_STATES, INVOICE_STATES

bp = blueprint("certificates", "", "The certificate register (SPPT SNI) and e-Billing records")
profiles = blueprint("company-profiles", "", "Customer companies' profiles: legal identity, "
                     "contact, factories, makloon partner")
public = blueprint("public", "/public", "The public register: no sign-in needed")


# -- shapes ----------------------------------------------------------------------------------

class Brand(Schema):
    merek = fields.String()
    kemasan = fields.String()


class CertificateEvent(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String(metadata={"description": "issued, handed_over, suspended, ..."})
    actor = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True)


class Certificate(Schema):
    id = fields.String(metadata={"description": "internal id; stays when the number changes"})
    number = fields.String()
    sequence = fields.Integer(metadata={"description": "client registration sequence number"})
    company = fields.String()
    product_code = fields.String()
    product_name = fields.String()
    sni = fields.String()
    scheme_type = fields.Integer()
    brands = fields.List(fields.Nested(Brand))
    application_number = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": list(CERTIFICATE_STATES)})
    issued_on = fields.Date()
    expires_on = fields.Date(metadata={"description": "the last day it is valid"})
    handed_over_at = fields.DateTime(allow_none=True)
    last_surveillance_on = fields.Date(allow_none=True)
    superseded_by = fields.String(allow_none=True)
    supersedes = fields.String(allow_none=True)
    suspension_reason = fields.String(allow_none=True)
    suspension_deadline = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revocation_published = fields.Boolean()


class CertificateDetail(Certificate):
    history = fields.List(fields.Nested(CertificateEvent))


class CertificateArgs(schemas.Paging):
    state = fields.String(validate=validate.OneOf(CERTIFICATE_STATES))
    company = fields.String(validate=validate.Length(max=255), metadata={
        "description": "staff only; a customer always sees their own company"})
    number = fields.String(validate=validate.Length(max=255),
                           metadata={"description": "part of the certificate number"})


class Invoice(Schema):
    id = fields.String()
    code = fields.String(metadata={"description": "the e-Billing code (15 digits)"})
    subject = fields.String(metadata={
        "description": "the application or certificate number billed"})
    company = fields.String(allow_none=True)
    schedules = fields.Method("_schedules")
    lines = fields.List(fields.Dict())
    total = fields.Integer()
    currency = fields.String()
    legal_basis = fields.String()
    instance_id = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": list(INVOICE_STATES)})
    issued_at = fields.DateTime()
    due_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    ntpn = fields.String(allow_none=True, metadata={"description": "state receipt number"})

    def _schedules(self, invoice: Any) -> list[str]:
        return [s for s in str(invoice.schedules).split(",") if s]


class InvoiceArgs(schemas.Paging):
    state = fields.String(validate=validate.OneOf(INVOICE_STATES))
    subject = fields.String(validate=validate.Length(max=255))
    company = fields.String(validate=validate.Length(max=255), metadata={
        "description": "staff only; a customer always sees their own company"})


class PublicCertificate(Schema):
    number = fields.String()
    company = fields.String()
    product = fields.String(attribute="product_name")
    sni = fields.String()
    scheme_type = fields.Integer()
    state = fields.String(metadata={"enum": list(CERTIFICATE_STATES)})
    issued_on = fields.Date()
    expires_on = fields.Date()
    revoked_on = fields.Method("_revoked_on", allow_none=True,
                               metadata={"type": "string", "format": "date"})
    replaced_by = fields.String(allow_none=True, dump_default=None, metadata={
        "description": "the number of the certificate that replaced a withdrawn one"})

    def _revoked_on(self, certificate: Any) -> str | None:
        revoked = certificate.revoked_at
        return revoked.astimezone(engine().settings.timezone).date().isoformat() \
            if revoked else None


class PublicLookup(Schema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=255))


# -- helpers ---------------------------------------------------------------------------------

# -- staff and customers -----------------------------------------------------------------------

@bp.route("/certificates", methods=["GET"])
@bp.arguments(CertificateArgs, location="query")
@bp.response(200, schemas.page_of(Certificate, "CertificatePage"))
@documented(bp, 401, 422)
def list_certificates(args: dict[str, Any]) -> Any:
    """List certificates, newest first (a customer: their company's)."""
    with query() as (services, actor):
        return page_dict(services.get(CertificateRegister).search(
            company=actor.company_filter(args.get("company")), state=args.get("state"),
            number=args.get("number"), page=args["page"], per_page=args["per_page"]))


@bp.route("/certificates/<certificate_id>", methods=["GET"])
@bp.response(200, CertificateDetail)
@documented(bp, 401, 404)
def get_certificate(certificate_id: str) -> Any:
    """Return a certificate with the history of its states."""
    with query() as (services, actor):
        register = services.get(CertificateRegister)
        certificate = register.seen_by(actor, certificate_id)
        return Extended(certificate, history=register.events(certificate.id))


@bp.route("/invoices", methods=["GET"])
@bp.arguments(InvoiceArgs, location="query")
@bp.response(200, schemas.page_of(Invoice, "InvoicePage"))
@documented(bp, 401, 422)
def list_invoices(args: dict[str, Any]) -> Any:
    """List e-Billing records, newest first (a customer: their company's)."""
    with query() as (services, actor):
        billing = services.get(BillingService)
        return page_dict(billing.search(
            company=actor.company_filter(args.get("company")), state=args.get("state"),
            subject=args.get("subject"), page=args["page"], per_page=args["per_page"]))


# -- public --------------------------------------------------------------------------------------

@public.route("/certificates", methods=["GET"])
@public.arguments(PublicLookup, location="query")
@public.response(200, PublicCertificate)
@documented(public, 404, 422, anonymous=True)
def lookup(args: dict[str, Any]) -> Any:
    """Look a certificate up by its number (any letter case, stray spaces): is it genuine,
    and is it valid?"""
    with engine().read() as services:
        certificate = services.get(CertificateRegister).lookup(args["number"])
        return Extended(certificate,
                        replaced_by=services.get(CertificateRegister).replacement_number(certificate))


@public.route("/revoked-certificates", methods=["GET"])
@public.arguments(schemas.Paging, location="query")
@public.response(200, schemas.page_of(PublicCertificate, "RevokedCertificatePage"))
@documented(public, 422, anonymous=True)
def revoked(args: dict[str, Any]) -> Any:
    """The published list of revoked certificates, most recently revoked first."""
    with engine().read() as services:
        page: Page[Any] = services.get(CertificateRegister).revoked(page=args["page"],
                                                       per_page=args["per_page"])
        return page_dict(page)


# -- company profiles ------------------------------------------------------------------------

def _own_company(actor: Any) -> str:
    if not actor.is_customer or not actor.company:
        raise Forbidden("only a customer has an own company profile; staff read "
                        "/company-profiles/{company}")
    return str(actor.company)


@profiles.route("/company-profile", methods=["GET"])
@profiles.response(200, ProfileSchema)
@documented(profiles, 401, 403, 404)
def get_own_profile() -> Any:
    """The signed-in customer's own company profile (404 until it is first saved)."""
    with query() as (services, actor):
        company = _own_company(actor)
        found = services.get(CompanyProfiles).get(company)
        if found is None:
            raise NotFound(f"company {company!r} has no profile yet")
        return found


@profiles.route("/company-profile", methods=["PUT"])
@profiles.arguments(ProfileSchema)
@profiles.response(200, ProfileSchema)
@documented(profiles, 400, 401, 403, 422)
def put_own_profile(body: dict[str, Any]) -> Any:
    """Create or replace the signed-in customer's own company profile.

    Every application the company starts afterwards begins with it (the
    variables ``nama_perusahaan``, ``alamat_perusahaan``, ``nama_pabrik``, ...).
    """
    with command() as (services, actor):
        assert actor is not None
        return services.get(CompanyProfiles).save(_own_company(actor), body,
                                                   actor=actor.username)


@profiles.route("/company-profiles/<path:company>", methods=["GET"])
@profiles.response(200, ProfileSchema)
@documented(profiles, 401, 404)
def get_profile(company: str) -> Any:
    """A company's profile: staff read any; a customer only their own (else 404)."""
    with query() as (services, actor):
        found = services.get(CompanyProfiles).get(company)
        if found is None or (actor.is_customer and actor.company != company):
            raise NotFound(f"no profile of company {company!r}")
        return found
