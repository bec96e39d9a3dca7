"""The certificate register (signed in), the public lookup page (no sign-in), and the
company profile (a customer edits their own company's, staff read every company's).

Both read the engine's :class:`~lspro.certificates.CertificateRegister`, as
``lspro/rest.py`` does: staff see every certificate, a customer those
of their own company; the public page shows what the LSPro publishes anyway
(ISO/IEC 17065 §7.8, §7.11): a certificate by its exact number, and the list
of revoked certificates.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from api.context import engine
from api.web import i18n, page_blueprint
from api.web.layout import page_arg, page_count
from api.web.session import optional_actor, reading, writing
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity.access import Actor
from lspro import signature
from lspro.certificates import REVOCATION_REASONS, SUSPENSION_REASONS, CertificateRegister
from lspro.companies import CompanyProfiles, missing_items
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


# -- the company profile -----------------------------------------------------------------------

PROFILE_FIELDS = ("legal_name", "npwp", "nib", "address", "contact_name", "contact_phone",
                  "contact_email", "makloon_name", "makloon_address")
# Fields whose refusal has words of its own; any other says "required" or "cannot be accepted".
_OWN_WORDS = ("npwp", "nib", "contact_phone", "contact_email", "factories", "makloon_name",
              "makloon_address")
EMPTY_FACTORY_ROWS = 2


@bp.get("/profile")
def profile_page() -> ResponseReturnValue:
    """A customer's own company profile form; staff get the list of profiles."""
    with reading() as (services, actor):
        profiles = services.get(CompanyProfiles)
        if not actor.is_customer:
            search = (request.args.get("q") or "").strip()[:255]
            return render_template("lspro/profiles.html", profiles=profiles.search(search),
                                   q=search)
        profile = profiles.get(_own_company(actor))
        return _profile_form(_entered(profile), {}, missing_items(profile), profile)


@bp.post("/profile")
def profile_save() -> ResponseReturnValue:
    with writing() as (services, actor):
        if not actor.is_customer:
            raise Forbidden("only a customer edits their own company's profile")
        company = _own_company(actor)
        data = _sent()
        try:
            services.get(CompanyProfiles).save(company, data, actor=actor.username)
        except InvalidInput as exc:
            profile = services.get(CompanyProfiles).get(company)
            page = _profile_form(data, _worded(exc.errors), missing_items(profile), profile)
            return page, 422
    flash(i18n.translate(i18n.current(), "profile.saved"), "ok")
    return redirect(url_for("lspro.profile_page"))


@bp.get("/profile/<path:company>")
def company_profile(company: str) -> ResponseReturnValue:
    """One company's profile, read-only: staff any, a customer only their own."""
    with reading() as (services, actor):
        if actor.is_customer and company != actor.company:
            raise NotFound(f"no company profile {company!r}")
        profile = services.get(CompanyProfiles).get(company)
        if profile is None and actor.is_customer:
            return redirect(url_for("lspro.profile_page"))
        return render_template("lspro/profile_view.html", company=company, profile=profile,
                               missing=missing_items(profile))


def _own_company(actor: Actor) -> str:
    if not actor.company:
        raise NotFound("this account belongs to no company")
    return actor.company


def _entered(profile: Any) -> dict[str, Any]:
    if profile is None:
        return {"factories": []}
    return {**{k: getattr(profile, k) or "" for k in PROFILE_FIELDS},
            "factories": [{"name": f.name, "address": f.address} for f in profile.factories]}


def _sent() -> dict[str, Any]:
    """The form as the profile's data; empty factory rows are left out."""
    data: dict[str, Any] = {k: (request.form.get(k) or "").strip() for k in PROFILE_FIELDS}
    for k in ("makloon_name", "makloon_address"):
        data[k] = data[k] or None
    names = request.form.getlist("factory_name")
    addresses = request.form.getlist("factory_address")
    data["factories"] = [{"name": n.strip(), "address": a.strip()}
                         for n, a in zip(names, addresses, strict=False) if n.strip() or a.strip()]
    return data


def _worded(errors: dict[str, str]) -> dict[str, str]:
    """The REST API's field errors in the page's words, one per field (factories as one)."""
    worded: dict[str, str] = {}
    language = i18n.current()
    for field, message in errors.items():
        name = "factories" if field.startswith("factories") else field
        if name in _OWN_WORDS and "required" not in message.lower():
            key = f"profile.error.{name}"
        elif "required" in message.lower() or "shorter than minimum" in message.lower():
            key = "profile.error.factories" if name == "factories" else "profile.error.required"
        else:
            key = "profile.error.other"
        worded.setdefault(name, i18n.translate(language, key))
    return worded


def _profile_form(entered: dict[str, Any], errors: dict[str, str], missing: list[str],
                  profile: Any) -> str:
    rows = list(entered.get("factories") or []) + [{"name": "", "address": ""}] * \
        EMPTY_FACTORY_ROWS
    return render_template("lspro/profile.html", entered=entered, errors=errors,
                           missing=missing, factories=rows, profile=profile)
