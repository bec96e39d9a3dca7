"""The certificate register: issue SPPT SNI certificates and keep their state.

States (DOMAIN.md §6.2) and the moves between them::

    issue ──> aktif ──suspend──> dibekukan ──reinstate──> aktif
              aktif | dibekukan ──revoke──> dicabut (published)
              aktif ──reissue──> ditarik (+ a new aktif certificate, new number)
              aktif | dibekukan ──expire (after the last valid day)──> kedaluwarsa

*Pembatalan* (cancellation), named next to revocation but never defined by the
source, is not a state of its own: it is a revocation, recorded with the reason
``pembatalan`` (DOMAIN.md §9 item 8).

A move that is not allowed from the current state raises
:class:`~engine.errors.Conflict` and changes nothing; every move appends a
:class:`~engine.models.CertificateEvent`. The register only flushes; the caller
owns the transaction.

Numbers follow ``LsproSettings.certificate_number_pattern`` (default
``{seq:04d}/{lspro}/{sni}/{yyyy}``, e.g. ``0007/LSPr-034-IDN/3553/2027``): ``seq``
is the client registration sequence number, one running sequence that never
starts again, so a number stays unique whatever the pattern leaves out; a
reissue takes a new one (S2). A certificate is valid for
``certificate_validity_years`` (4) years: through the day before the anniversary
of its issue (issued 1 March 2027, valid through 28 February 2031).
"""

from __future__ import annotations

import re
import uuid
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from engine.identity.access import Actor
from engine.queries.history import jsonable
from engine.queries.lists import Page, page_bounds
from engine.time.clock import Clock, end_of_office_day, local_today
from lspro.models import Certificate, CertificateEvent
from lspro.numbering import next_number
from lspro.scope import check_application
from lspro.settings import LsproSettings, certificate_number

ACTIVE = "aktif"
SUSPENDED = "dibekukan"
REVOKED = "dicabut"
WITHDRAWN = "ditarik"
EXPIRED = "kedaluwarsa"

SEQUENCE_NAME = "sertifikat"
SUSPENSION_REASONS = {
    "ncr_tidak_ditutup": "laporan ketidaksesuaian tidak ditutup dalam jangka waktu",
    "penyalahgunaan": "penyalahgunaan SPPT SNI dan/atau tanda SNI",
    "pelanggaran_lain": "pelanggaran lain terhadap ketentuan standar dan prosedur LSPro",
}
# Known revocation reasons; others are accepted as free text. "pembatalan" is the
# cancellation the source names without defining: recorded as a revocation.
REVOCATION_REASONS = {
    "koreksi_tidak_memadai": "tindakan koreksi selama pembekuan tidak memadai",
    "tidak_membayar": "tidak membayar biaya SPPT SNI",
    "pembatalan": "pembatalan sertifikat",
}
STATE_LABELS = {
    ACTIVE: "aktif", SUSPENDED: "dibekukan", REVOKED: "dicabut", WITHDRAWN: "ditarik",
    EXPIRED: "kedaluwarsa",
}


@dataclass(frozen=True)
class CertificateStatus:
    """What ``certificate.check`` reports."""

    certificate: Certificate
    still_valid: bool
    next_surveillance: datetime


@dataclass(frozen=True)
class CertificateDraft:
    """A certificate as it would be issued today: everything it prints but its number."""

    company: str
    product_code: str
    product_name: str
    sni: str
    sni_number: str
    scheme_type: int
    brands: list[dict[str, str]]
    issued_on: date
    expires_on: date


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day the month lacks becomes its last day."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def normalise_brands(value: Any) -> list[dict[str, str]]:
    """Check and tidy the brands and packaging (``[{merek, kemasan}]``).

    :raises InvalidInput: when it is not a non-empty list of such entries.
    """
    if not isinstance(value, (list, tuple)) or not value:
        raise InvalidInput("merek_kemasan must list at least one brand and packaging",
                           {"merek_kemasan": "a non-empty list of {merek, kemasan}"})
    brands = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"merek_kemasan item {number} is not an object",
                               {"merek_kemasan": "items must be {merek, kemasan}"})
        brand = str(item.get("merek") or "").strip()
        packaging = str(item.get("kemasan") or "").strip()
        if not brand or not packaging or len(brand) > 255 or len(packaging) > 255:
            raise InvalidInput(
                f"merek_kemasan item {number} needs a brand (merek) and a packaging "
                "(kemasan) of at most 255 characters",
                {"merek_kemasan": "every item needs merek and kemasan"})
        brands.append({"merek": brand, "kemasan": packaging})
    return brands


class CertificateRegister:
    """Issues certificates and moves them between states, with their history."""

    def __init__(self, session: Session, clock: Clock, settings: LsproSettings) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings

    # -- time ------------------------------------------------------------------------

    def today(self) -> date:
        return local_today(self.clock, self.settings.timezone)

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of ``day`` in the LSPro's time zone."""
        return datetime.combine(day, time(0, 0), tzinfo=self.settings.timezone)

    def end_of(self, day: date) -> datetime:
        """23:59 of ``day`` in the LSPro's time zone (the end of an office deadline)."""
        return end_of_office_day(day, self.settings.timezone)

    # -- commands --------------------------------------------------------------------

    def issue(self, *, company: str, product_code: str, sni: str, scheme_type: Any,
              brands: Any, application_number: str | None = None,
              instance_id: str | None = None, actor: str | None = None) -> Certificate:
        """Issue a new certificate, valid from today.

        :raises InvalidInput: when the product, SNI edition or scheme type is outside
            the accredited scope today, or company or brands are missing.
        :raises Conflict: when the application already has a valid certificate.
        """
        facts = self.draft(company=company, product_code=product_code, sni=sni,
                           scheme_type=scheme_type, brands=brands)
        if application_number:
            existing = self.session.scalar(sa.select(Certificate.number).where(
                Certificate.application_number == application_number,
                Certificate.state.in_((ACTIVE, SUSPENDED))))
            if existing is not None:
                raise Conflict(f"application {application_number} already has certificate "
                               f"{existing}")
        certificate = self._new(
            company=facts.company, product_code=facts.product_code,
            product_name=facts.product_name, sni=facts.sni, sni_number=facts.sni_number,
            scheme_type=facts.scheme_type, brands=facts.brands,
            application_number=application_number, instance_id=instance_id,
            issued_on=facts.issued_on, expires_on=facts.expires_on,
        )
        self._event(certificate, "issued", None, ACTIVE, actor=actor, instance_id=instance_id,
                    data={"number": certificate.number, "expires_on": certificate.expires_on})
        self.session.flush()
        return certificate

    def draft(self, *, company: str, product_code: str, sni: str, scheme_type: Any,
              brands: Any) -> CertificateDraft:
        """What a certificate issued today would say, without a number; nothing is stored.

        The same checks as :meth:`issue` (which builds on it), so a draft that renders
        is a certificate that can be issued, and its dates are those of an issue today.

        :raises InvalidInput: as :meth:`issue`.
        """
        company = str(company or "").strip()
        if not company:
            raise InvalidInput("the certificate needs the applicant company",
                               {"company": "missing"})
        today = self.today()
        checked = check_application(product_code, sni, scheme_type, today)
        if not checked.in_scope or checked.entry is None or checked.edition is None:
            raise InvalidInput(f"cannot issue a certificate outside the accredited scope: "
                               f"{checked.note}", {"sni": checked.note})
        return CertificateDraft(
            company=company, product_code=checked.entry.code,
            product_name=checked.entry.name_id, sni=checked.edition.label,
            sni_number=checked.edition.number, scheme_type=int(checked.scheme_type or 0),
            brands=normalise_brands(brands), issued_on=today,
            expires_on=add_months(today, 12 * self.settings.certificate_validity_years)
            - timedelta(days=1))

    def handover(self, number: str, *, actor: str | None = None,
                 instance_id: str | None = None) -> Certificate:
        """Record the handover to the client (Berita Acara Serah Terima, F.52.01.00.2014)."""
        certificate = self.get(number)
        self._require(certificate, (ACTIVE,), "hand over")
        if certificate.handed_over_at is not None:
            raise Conflict(f"certificate {number} was already handed over on "
                           f"{certificate.handed_over_at.isoformat()}")
        certificate.handed_over_at = self.clock.now()
        self._event(certificate, "handed_over", ACTIVE, ACTIVE, actor=actor,
                    instance_id=instance_id)
        return self._touch(certificate)

    def suspend(self, number: str, reason: str, *, days: int | None = None,
                actor: str | None = None, instance_id: str | None = None) -> Certificate:
        """Suspend an active certificate until the end of the suspension period."""
        if reason not in SUSPENSION_REASONS:
            known = ", ".join(SUSPENSION_REASONS)
            raise InvalidInput(f"unknown suspension reason {reason!r} (known: {known})",
                               {"alasan_pembekuan": f"one of {known}"})
        days = self.settings.suspension_days if days is None else days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise InvalidInput("the suspension period must be 1 to 3650 days",
                               {"jangka_pembekuan_hari": "a whole number from 1 to 3650"})
        certificate = self.get(number)
        self._require(certificate, (ACTIVE,), "suspend")
        certificate.state = SUSPENDED
        certificate.suspension_reason = reason
        certificate.suspension_deadline = self.end_of(self.today() + timedelta(days=days))
        self._event(certificate, "suspended", ACTIVE, SUSPENDED, actor=actor,
                    instance_id=instance_id, reason=reason,
                    data={"days": days, "deadline": certificate.suspension_deadline})
        return self._touch(certificate)

    def reinstate(self, number: str, *, actor: str | None = None,
                  instance_id: str | None = None) -> Certificate:
        """Lift a suspension: the cause was corrected in time."""
        certificate = self.get(number)
        self._require(certificate, (SUSPENDED,), "reinstate")
        certificate.state = ACTIVE
        certificate.suspension_reason = None
        certificate.suspension_deadline = None
        self._event(certificate, "reinstated", SUSPENDED, ACTIVE, actor=actor,
                    instance_id=instance_id)
        return self._touch(certificate)

    def revoke(self, number: str, reason: str, *, actor: str | None = None,
               instance_id: str | None = None) -> Certificate:
        """Revoke an active or suspended certificate and publish the revocation."""
        reason = str(reason or "").strip()
        if not reason or len(reason) > 255:
            raise InvalidInput("a revocation needs a reason of at most 255 characters",
                               {"alasan_pencabutan": "missing or too long"})
        certificate = self.get(number)
        previous = certificate.state
        self._require(certificate, (ACTIVE, SUSPENDED), "revoke")
        certificate.state = REVOKED
        certificate.revocation_reason = reason
        certificate.revoked_at = self.clock.now()
        certificate.revocation_published = True
        certificate.suspension_deadline = None
        self._event(certificate, "revoked", previous, REVOKED, actor=actor,
                    instance_id=instance_id, reason=reason, data={"published": True})
        return self._touch(certificate)

    def reissue(self, number: str, correction: str, *, company: str | None = None,
                sni: str | None = None, brands: Any = None, actor: str | None = None,
                instance_id: str | None = None) -> tuple[Certificate, Certificate]:
        """Withdraw an active certificate and issue its corrected replacement.

        The replacement gets a new registration sequence number (and so a new
        number) and keeps the validity and surveillance dates: a correction does
        not extend the certificate. Returns (old, new).
        """
        correction = str(correction or "").strip()
        if not correction:
            raise InvalidInput("a reissue needs the correction made",
                               {"koreksi": "missing"})
        old = self.get(number)
        self._require(old, (ACTIVE,), "reissue")
        edition_label, sni_number = old.sni, _sni_number(old.sni)
        if sni:
            checked = check_application(old.product_code, sni, old.scheme_type, self.today())
            if not checked.in_scope or checked.edition is None:
                raise InvalidInput(f"the corrected standard is outside the scope: "
                                   f"{checked.note}", {"sni": checked.note})
            edition_label, sni_number = checked.edition.label, checked.edition.number
        new = self._new(
            company=(company or "").strip() or old.company, product_code=old.product_code,
            product_name=old.product_name, sni=edition_label, sni_number=sni_number,
            scheme_type=old.scheme_type,
            brands=normalise_brands(brands) if brands else list(old.brands),
            application_number=old.application_number, instance_id=instance_id or old.instance_id,
            issued_on=self.today(), expires_on=old.expires_on,
        )
        new.last_surveillance_on = old.last_surveillance_on
        new.supersedes = old.id
        self.session.flush()
        old.state = WITHDRAWN
        old.superseded_by = new.id
        self._event(old, "withdrawn", ACTIVE, WITHDRAWN, actor=actor, instance_id=instance_id,
                    reason=correction, data={"replaced_by": new.number})
        self._event(new, "issued", None, ACTIVE, actor=actor, instance_id=instance_id,
                    reason=correction, data={"number": new.number, "replaces": old.number,
                                             "expires_on": new.expires_on})
        self._touch(old)
        return old, new

    def expire(self, number: str, *, actor: str | None = None,
               instance_id: str | None = None) -> Certificate:
        """Mark a certificate expired once its last valid day has passed."""
        certificate = self.get(number)
        previous = certificate.state
        self._require(certificate, (ACTIVE, SUSPENDED), "expire")
        if self.today() <= certificate.expires_on:
            raise Conflict(f"certificate {number} is valid through "
                           f"{certificate.expires_on.isoformat()}; it cannot expire yet")
        certificate.state = EXPIRED
        certificate.suspension_deadline = None
        self._event(certificate, "expired", previous, EXPIRED, actor=actor,
                    instance_id=instance_id)
        return self._touch(certificate)

    def record_surveillance(self, number: str, *, actor: str | None = None,
                            instance_id: str | None = None) -> Certificate:
        """Note that a surveillance was completed today (the next is counted from it)."""
        certificate = self.get(number)
        self._require(certificate, (ACTIVE, SUSPENDED), "record a surveillance of")
        certificate.last_surveillance_on = self.today()
        self._event(certificate, "surveillance_recorded", certificate.state,
                    certificate.state, actor=actor, instance_id=instance_id,
                    data={"on": certificate.last_surveillance_on})
        return self._touch(certificate)

    # -- reading ---------------------------------------------------------------------

    def check(self, number: str) -> CertificateStatus:
        """The state, whether it still stands, and when the next surveillance is due.

        The next surveillance is the first whole interval (12 months) after the last
        surveillance, or after the issue, that is still ahead; never later than the
        moment the certificate expires. Still valid: active or suspended, and the
        last valid day not passed.
        """
        certificate = self.get(number)
        today = self.today()
        still_valid = certificate.state in (ACTIVE, SUSPENDED) and today <= certificate.expires_on
        anchor = certificate.last_surveillance_on or certificate.issued_on
        interval = self.settings.surveillance_interval_months
        step = 1
        due = add_months(anchor, interval)
        while due <= today:
            step += 1
            due = add_months(anchor, interval * step)
        expiry = certificate.expires_on + timedelta(days=1)
        return CertificateStatus(certificate, still_valid, self.start_of(min(due, expiry)))

    def get(self, number: str) -> Certificate:
        """The certificate with this number.

        :raises NotFound: when there is none.
        """
        certificate = self._numbered(str(number).strip())
        if certificate is None:
            raise NotFound(f"no certificate number {number}")
        return certificate

    def _numbered(self, number: str) -> Certificate | None:
        return self.session.scalar(sa.select(Certificate).where(Certificate.number == number))

    def lookup(self, typed: str) -> Certificate:
        """The certificate a person means by ``typed``: its number as read off paper,
        in any letter case and with stray spaces (``0001 / lspr-034-idn/3553/2027``).

        The exact number is tried first (the unique index); otherwise numbers are
        compared with case and spacing folded.

        :raises NotFound: when no certificate has such a number.
        """
        wanted = str(typed).strip()
        exact = self._numbered(wanted)
        if exact is not None:
            return exact
        folded = fold_number(wanted)
        if folded:
            for certificate in self.session.scalars(
                    sa.select(Certificate).where(
                        sa.func.upper(sa.func.replace(Certificate.number, " ", ""))
                        == folded.replace(" ", ""))):
                if fold_number(certificate.number) == folded:
                    return certificate
        raise NotFound(f"no certificate number {wanted}")

    def by_id(self, certificate_id: str) -> Certificate:
        certificate = self.session.get(Certificate, certificate_id)
        if certificate is None:
            raise NotFound(f"no certificate {certificate_id}")
        return certificate

    def seen_by(self, actor: Actor, certificate_id: str) -> Certificate:
        """A certificate as ``actor`` may see it: staff any, a customer their company's.

        :raises NotFound: also for another company's certificate.
        """
        certificate = self.by_id(certificate_id)
        if actor.is_customer and certificate.company != actor.company:
            raise NotFound(f"no certificate {certificate_id}")
        return certificate

    def replacement_number(self, certificate: Certificate) -> str | None:
        """The number of the certificate that replaced this one on a reissue, if any."""
        if not certificate.superseded_by:
            return None
        return self.by_id(certificate.superseded_by).number

    def events(self, certificate_id: str) -> list[CertificateEvent]:
        return list(self.session.scalars(
            sa.select(CertificateEvent).where(CertificateEvent.certificate_id == certificate_id)
            .order_by(CertificateEvent.id)))

    def search(self, *, company: str | None = None, state: str | None = None,
             number: str | None = None, page: int = 1, per_page: int = 50
             ) -> Page[Certificate]:
        """Certificates, newest first; ``number`` matches a part of the number."""
        offset, limit = page_bounds(page, per_page)
        conditions = []
        if company is not None:
            conditions.append(Certificate.company == company)
        if state is not None:
            conditions.append(Certificate.state == state)
        if number:
            escaped = number.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(Certificate.number.like(f"%{escaped}%", escape="\\"))
        return self._page(conditions, offset, limit, page, per_page)

    def for_company(self, company: str) -> list[Certificate]:
        return list(self.session.scalars(
            sa.select(Certificate).where(Certificate.company == company)
            .order_by(Certificate.issued_on.desc(), Certificate.sequence.desc())))

    def revoked(self, *, page: int = 1, per_page: int = 50) -> Page[Certificate]:
        """The public list of revoked certificates (ISO/IEC 17065 §7.11; S2), newest first."""
        offset, limit = page_bounds(page, per_page)
        conditions = [Certificate.state == REVOKED, Certificate.revocation_published.is_(True)]
        total = self.session.scalar(
            sa.select(sa.func.count()).select_from(Certificate).where(*conditions)) or 0
        items = list(self.session.scalars(
            sa.select(Certificate).where(*conditions)
            .order_by(Certificate.revoked_at.desc(), Certificate.sequence.desc())
            .offset(offset).limit(limit)))
        return Page(items, total, page, per_page)

    # -- helpers ---------------------------------------------------------------------

    def _page(self, conditions: list[Any], offset: int, limit: int, page: int,
              per_page: int) -> Page[Certificate]:
        total = self.session.scalar(
            sa.select(sa.func.count()).select_from(Certificate).where(*conditions)) or 0
        items = list(self.session.scalars(
            sa.select(Certificate).where(*conditions)
            .order_by(Certificate.created_at.desc(), Certificate.sequence.desc())
            .offset(offset).limit(limit)))
        return Page(items, total, page, per_page)

    def _new(self, *, company: str, product_code: str, product_name: str, sni: str,
             sni_number: str, scheme_type: int, brands: list[dict[str, str]],
             application_number: str | None, instance_id: str | None, issued_on: date,
             expires_on: date) -> Certificate:
        sequence = next_number(self.session, SEQUENCE_NAME)
        number = certificate_number(
            self.settings.certificate_number_pattern, seq=sequence,
            lspro=self.settings.lspro_code, sni=sni_number, year=issued_on.year)
        if self.session.scalar(sa.select(Certificate.id).where(Certificate.number == number)):
            raise Conflict(f"certificate number {number} is taken; check the number pattern")
        now = self.clock.now()
        certificate = Certificate(
            id=str(uuid.uuid4()), number=number, sequence=sequence, company=company,
            product_code=product_code, product_name=product_name, sni=sni,
            scheme_type=scheme_type, brands=brands, application_number=application_number,
            instance_id=instance_id, state=ACTIVE, issued_on=issued_on, expires_on=expires_on,
            revocation_published=False, created_at=now, updated_at=now,
        )
        self.session.add(certificate)
        return certificate

    def _require(self, certificate: Certificate, states: tuple[str, ...], what: str) -> None:
        if certificate.state not in states:
            allowed = " or ".join(states)
            raise Conflict(f"cannot {what} certificate {certificate.number}: it is "
                           f"{certificate.state}, not {allowed}")

    def _event(self, certificate: Certificate, kind: str, from_state: str | None,
               to_state: str | None, *, actor: str | None, instance_id: str | None,
               reason: str | None = None, data: dict[str, Any] | None = None) -> None:
        self.session.add(CertificateEvent(
            certificate_id=certificate.id, at=self.clock.now(), kind=kind, actor=actor,
            instance_id=instance_id, from_state=from_state, to_state=to_state, reason=reason,
            data=jsonable(data) if data else None))

    def _touch(self, certificate: Certificate) -> Certificate:
        certificate.updated_at = self.clock.now()
        self.session.flush()
        return certificate


def _sni_number(label: str) -> str:
    """``SNI 3553:2023`` -> ``3553``."""
    return label.removeprefix("SNI ").split(":")[0]


def fold_number(number: str) -> str:
    """A certificate number as compared when a person types it: upper case, runs of
    spaces as one, none around a slash."""
    collapsed = re.sub(r"\s+", " ", number.strip().upper())
    return re.sub(r"\s*/\s*", "/", collapsed)
