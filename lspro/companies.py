"""Company profiles: what a customer company tells the LSPro once, for every application.

The customer keeps their company's legal name, NPWP, NIB, head-office address,
contact, factories and (when they produce under contract) the makloon partner in
one profile; staff read it. When an application starts, the profile becomes the
instance's variables (:func:`start_variables`, the names in processes/CONTRACT.md)
that the application form shows and the letters and the certificate print.

:data:`ProfileSchema` is the one check of what is entered, for the REST API (422
naming each field) and the page alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.time.clock import Clock
from lspro.models import CompanyFactory, CompanyProfile

# NPWP: 15 digits (99.999.999.9-999.999) or, since 2024, 16 (the owner's NIK-based
# number); NIB: 13 digits. People type them with dots, dashes and spaces.
_PUNCTUATION: Final = re.compile(r"[\s.\-]")
_PHONE: Final = re.compile(r"\+?[0-9][0-9 ()\-]{5,30}")
MAX_FACTORIES: Final = 20
# What the application needs before it can be filled in, in the profile's order.
NEEDED: Final = ("legal_name", "npwp", "nib", "address", "contact_name", "contact_phone",
                 "contact_email", "factories")


def digits(value: Any) -> str:
    return _PUNCTUATION.sub("", value) if isinstance(value, str) else ""


class FactorySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    address = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ProfileSchema(Schema):
    """A company's profile as the customer enters it and staff read it."""

    company = fields.String(dump_only=True)
    legal_name = fields.String(required=True, validate=validate.Length(min=1, max=255),
                               metadata={"description": "legal name, as on the deed (PT ...)"})
    npwp = fields.String(required=True, metadata={
        "description": "taxpayer number: 15 or 16 digits; dots, dashes and spaces ignored"})
    nib = fields.String(required=True,
                        metadata={"description": "business identification number: 13 digits"})
    address = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                            metadata={"description": "head-office address"})
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    contact_phone = fields.String(required=True, validate=validate.Regexp(
        _PHONE, error="must be a phone number"))
    contact_email = fields.Email(required=True, validate=validate.Length(max=255))
    factories = fields.List(fields.Nested(FactorySchema), required=True, validate=validate.Length(
        min=1, max=MAX_FACTORIES, error=f"list from 1 to {MAX_FACTORIES} factories"))
    makloon_name = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(max=255),
                                 metadata={"description": "the toll manufacturer, if any"})
    makloon_address = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(max=1000))
    updated_at = fields.DateTime(dump_only=True)
    updated_by = fields.String(dump_only=True)

    @validates("npwp")
    def _npwp(self, value: str, **_: Any) -> None:
        if not digits(value).isdigit() or len(digits(value)) not in (15, 16):
            raise ValidationError("must be 15 or 16 digits")

    @validates("nib")
    def _nib(self, value: str, **_: Any) -> None:
        if not digits(value).isdigit() or len(digits(value)) != 13:
            raise ValidationError("must be 13 digits")

    @validates_schema(skip_on_field_errors=False)  # report the pair with the rest
    def _makloon_pair(self, data: Mapping[str, Any], **_: Any) -> None:
        name = (data.get("makloon_name") or "").strip()
        address = (data.get("makloon_address") or "").strip()
        if name and not address:
            raise ValidationError("give the makloon partner's address too", "makloon_address")
        if address and not name:
            raise ValidationError("give the makloon partner's name too", "makloon_name")


def load_profile(data: Any) -> dict[str, Any]:
    """Check what was entered; raise :class:`InvalidInput` naming each field in error."""
    try:
        loaded: dict[str, Any] = ProfileSchema().load(data if isinstance(data, Mapping) else {})
    except ValidationError as exc:
        raise InvalidInput("the company profile has errors",
                           _flatten(exc.normalized_messages())) from None
    return loaded


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as ``field`` / ``factories.0.name`` -> first message."""
    flat: dict[str, str] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        flat[prefix.rstrip(".") or "_schema"] = messages[0]
    elif isinstance(messages, str):
        flat[prefix.rstrip(".") or "_schema"] = messages
    return flat


class CompanyProfiles:
    """Read and keep company profiles (one per company)."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def get(self, company: str) -> CompanyProfile | None:
        return self.session.get(CompanyProfile, company)

    def search(self, text: str | None = None) -> list[CompanyProfile]:
        """Every profile (staff), by company; ``text`` narrows by company or legal name."""
        query = sa.select(CompanyProfile).order_by(CompanyProfile.company)
        if text:
            like = f"%{text.strip()}%"
            query = query.where(sa.or_(CompanyProfile.company.ilike(like),
                                       CompanyProfile.legal_name.ilike(like)))
        return list(self.session.scalars(query.limit(200)))

    def save(self, company: str, data: Any, *, actor: str) -> CompanyProfile:
        """Create or replace ``company``'s profile with checked data.

        :raises InvalidInput: naming each field in error; nothing is changed then.
        """
        loaded = load_profile(data)
        profile = self.get(company)
        if profile is None:
            profile = CompanyProfile(company=company)
            self.session.add(profile)
        profile.legal_name = loaded["legal_name"].strip()
        profile.npwp = digits(loaded["npwp"])
        profile.nib = digits(loaded["nib"])
        profile.address = loaded["address"].strip()
        profile.contact_name = loaded["contact_name"].strip()
        profile.contact_phone = loaded["contact_phone"].strip()
        profile.contact_email = loaded["contact_email"].strip()
        profile.makloon_name = (loaded.get("makloon_name") or "").strip() or None
        profile.makloon_address = (loaded.get("makloon_address") or "").strip() or None
        profile.updated_at = self.clock.now()
        profile.updated_by = actor
        profile.factories = [
            CompanyFactory(company=company, position=index, name=f["name"].strip(),
                           address=f["address"].strip())
            for index, f in enumerate(loaded["factories"])]
        self.session.flush()
        return profile


def missing_items(profile: CompanyProfile | None) -> list[str]:
    """What the application still needs from the profile (keys of :data:`NEEDED`)."""
    if profile is None:
        return list(NEEDED)
    return [k for k in NEEDED if not getattr(profile, k)]


def start_variables(profile: CompanyProfile | None, company: str,
                    labels: Mapping[str, str]) -> dict[str, Any]:
    """The instance variables an application starts with (processes/CONTRACT.md).

    ``labels`` words each missing item for ``profil_kurang_teks``, which the
    application form shows while the profile is incomplete.
    """
    factories = list(profile.factories) if profile is not None else []
    first = factories[0] if factories else None
    missing = missing_items(profile)
    return {
        "nama_perusahaan": profile.legal_name if profile is not None else company,
        "alamat_perusahaan": profile.address if profile is not None else "",
        "npwp_perusahaan": profile.npwp if profile is not None else "",
        "nib_perusahaan": profile.nib if profile is not None else "",
        "nama_pabrik": first.name if first else "",
        "alamat_pabrik": first.address if first else "",
        "makloon_nama": (profile.makloon_name or "") if profile is not None else "",
        "makloon_alamat": (profile.makloon_address or "") if profile is not None else "",
        # The factory the application is for: the form offers the list, the first
        # is chosen until the customer picks another.
        # (each option also keeps name and address, so the choice is resolved from
        # the instance's own copy even if the profile changes meanwhile).
        "daftar_pabrik": [{"label": f"{f.name} — {f.address}", "value": str(f.id),
                           "nama": f.name, "alamat": f.address} for f in factories]
        or None,  # none: the form hides the choice
        "pabrik": str(first.id) if first else None,
        "profil_kurang_teks": "\n".join(f"- {labels.get(k, k)}" for k in missing),
    }


def chosen_factory(variables: Mapping[str, Any]) -> dict[str, Any]:
    """``nama_pabrik`` and ``alamat_pabrik`` of the factory the form's ``pabrik`` names.

    Read from the instance's ``daftar_pabrik`` (copied from the profile at the
    start); empty when none is chosen, and the variables set at the start stand.
    """
    chosen = variables.get("pabrik")
    listed = variables.get("daftar_pabrik")
    for option in listed if isinstance(listed, list) else []:
        if (isinstance(option, Mapping) and chosen is not None
                and str(option.get("value")) == str(chosen)):
            return {"nama_pabrik": str(option.get("nama") or ""),
                    "alamat_pabrik": str(option.get("alamat") or "")}
    return {}
