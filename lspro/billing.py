"""e-Billing records: bills for PNBP fees, built from the fee table, and their payment.

The LSPro's fees are non-tax state revenue (PNBP): the receipts treasurer creates
an e-Billing code (*kode billing*, 15 digits), the company pays it at a bank or
post office, and the payment gets a state receipt number, the NTPN (*Nomor
Transaksi Penerimaan Negara*, 16 characters). Amounts come from ``lspro.fees``
quotes; this module only records them.

Payment deadline (a decision; the source gives none): ``billing_payment_days``
(14) calendar days after the day of issue, until 23:59 in ``SERTIFLOW_TIMEZONE``,
which is what the process's payment timer waits for. The codes made here are
sertiflow's own: 15 digits, the last a Luhn check digit so a mistyped code is
caught before a lookup. Linking to the Ministry of Finance's billing system
(SIMPONI) would replace :func:`new_code` and feed :meth:`BillingService.confirm`.

States: ``terbit`` (issued) -> ``lunas`` (paid) | ``kedaluwarsa`` (expired
unpaid) | ``dibatalkan`` (replaced by a newer bill for the same subject).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Conflict, EngineError, InvalidInput, NotFound
from engine.queries.lists import Page, page_bounds
from engine.time.clock import Clock, end_of_office_day, local_today
from lspro.fees import Quote, quote
from lspro.letters import indonesian_date
from lspro.models import Invoice
from lspro.settings import LsproSettings

ISSUED = "terbit"
PAID = "lunas"
EXPIRED = "kedaluwarsa"
CANCELLED = "dibatalkan"

CODE_LENGTH = 15
_NTPN = re.compile(r"[0-9A-Z]{16}")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def valid_code(code: str) -> bool:
    """Whether ``code`` has 15 digits and a correct check digit."""
    return (len(code) == CODE_LENGTH and code.isdigit()
            and luhn_digit(code[:-1]) == code[-1])


def new_code() -> str:
    """A random e-Billing code: 14 random digits (not starting with 0) and a check digit."""
    body = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(CODE_LENGTH - 2))
    return body + luhn_digit(body)


def _lines(quotes: Sequence[Quote]) -> list[dict[str, Any]]:
    return [{"schedule": q.schedule_id, "schedule_label": q.schedule_label_id, "no": line.no,
             "item": line.item_id, "label_id": line.label_id, "label_en": line.label_en,
             "unit": line.unit, "quantity": line.quantity, "unit_amount": line.unit_amount,
             "amount": line.amount}
            for q in quotes for line in q.lines]


class BillingService:
    """Issues e-Billing records and records their payment or expiry."""

    def __init__(self, session: Session, clock: Clock, settings: LsproSettings) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings

    def today(self) -> date:
        return local_today(self.clock, self.settings.timezone)

    def deadline(self, issued_on: date) -> datetime:
        """The payment deadline of a bill issued on ``issued_on``: 23:59 local, N days on."""
        day = issued_on + timedelta(days=self.settings.billing_payment_days)
        return end_of_office_day(day, self.settings.timezone)

    def issue(self, subject: str, schedules: Sequence[str], *, company: str | None,
              instance_id: str | None = None) -> Invoice:
        """Issue one bill for ``subject`` covering every schedule in ``schedules``.

        A bill for the same subject and schedules that is still unpaid is cancelled:
        only the newest code may be paid.

        :raises InvalidInput: when the subject is empty or a schedule is unknown.
        """
        subject = str(subject or "").strip()
        if not subject:
            raise InvalidInput("a bill needs its subject (application or certificate number)",
                               {"subject": "missing"})
        if not schedules:
            raise InvalidInput("a bill needs at least one fee schedule",
                               {"schedule": "missing"})
        today = self.today()
        quotes = [quote(s, tariff=today) for s in schedules]
        schedule_text = ",".join(q.schedule_id for q in quotes)
        now = self.clock.now()
        for previous in self.session.scalars(sa.select(Invoice).where(
                Invoice.subject == subject, Invoice.schedules == schedule_text,
                Invoice.state == ISSUED)):
            previous.state = CANCELLED
            previous.updated_at = now
        invoice = Invoice(
            id=str(uuid.uuid4()), code=self._unused_code(), subject=subject, company=company,
            schedules=schedule_text, lines=_lines(quotes), total=sum(q.total for q in quotes),
            currency=quotes[0].currency, legal_basis=quotes[0].legal_basis,
            instance_id=instance_id, state=ISSUED, issued_at=now, due_at=self.deadline(today),
            updated_at=now,
        )
        self.session.add(invoice)
        self.session.flush()
        return invoice

    def confirm(self, code: str, ntpn: str, paid_on: date | str) -> Invoice:
        """Record the payment of a bill.

        The payment form checks the same (:meth:`payment_problems`) before the
        message is taken; these checks stay as the last line of defence against
        two payments recorded at the same moment. Messages are in Indonesian: they
        become the incident staff read.

        :raises InvalidInput: for a malformed code, NTPN or date, or a date in the
            future or before the bill was issued.
        :raises NotFound: when no bill has the code.
        :raises Conflict: when the bill is already paid, expired or cancelled, the
            payment date is after its deadline, or the NTPN was used for another bill.
        """
        problems = self._payment_problems(code, ntpn, paid_on)
        if problems:
            errors = {problem.field: problem.message for problem in problems}
            text = " ".join(problem.message for problem in problems)
            kind = problems[0].kind
            if kind is InvalidInput:
                raise InvalidInput(text, errors)
            raise kind(text)
        invoice = self.get(code)
        invoice.state = PAID
        invoice.ntpn = _ntpn(ntpn)
        invoice.paid_on = _day(paid_on, "tanggal_bayar")
        invoice.paid_at = invoice.updated_at = self.clock.now()
        self.session.flush()
        return invoice

    def payment_problems(self, code: str, ntpn: str, paid_on: date | str) -> dict[str, str]:
        """What is wrong with recording this payment, field -> message in Indonesian
        (``kode_billing``, ``ntpn``, ``tanggal_bayar``); empty when it may be recorded."""
        problems: dict[str, str] = {}
        for problem in self._payment_problems(code, ntpn, paid_on):
            problems.setdefault(problem.field, problem.message)
        return problems

    def _payment_problems(self, code: str, ntpn: str, paid_on: date | str
                          ) -> list[_Problem]:
        found: list[_Problem] = []
        ntpn = _ntpn(ntpn)
        if not _NTPN.fullmatch(ntpn):
            found.append(_Problem("ntpn", "NTPN harus 16 huruf dan angka, seperti tertulis "
                                  "pada bukti penerimaan negara.", InvalidInput))
        try:
            day: date | None = _day(paid_on, "tanggal_bayar")
        except InvalidInput:
            day = None
            found.append(_Problem("tanggal_bayar", "Tanggal bayar harus berupa tanggal "
                                  "(TTTT-BB-HH).", InvalidInput))
        try:
            invoice: Invoice | None = self.get(code)
        except InvalidInput:
            return [_Problem("kode_billing", "Kode billing harus 15 angka; periksa kembali "
                             "angka yang diketik.", InvalidInput), *found]
        except NotFound:
            return [_Problem("kode_billing", "Tidak ada tagihan dengan kode billing "
                             f"{str(code).strip()}.", NotFound), *found]
        assert invoice is not None
        zone = self.settings.timezone
        if day is not None:
            issued_on = invoice.issued_at.astimezone(zone).date()
            due_on = invoice.due_at.astimezone(zone).date()
            if day > self.today():
                found.append(_Problem("tanggal_bayar", f"Tanggal bayar {indonesian_date(day)} "
                                      "belum tiba; isi tanggal pada bukti bayar.", InvalidInput))
            elif day < issued_on:
                found.append(_Problem("tanggal_bayar", f"Tanggal bayar {indonesian_date(day)} "
                                      "sebelum tagihan diterbitkan "
                                      f"({indonesian_date(issued_on)}).", InvalidInput))
            elif day > due_on and invoice.state == ISSUED:
                found.append(_Problem("tanggal_bayar", f"Tanggal bayar {indonesian_date(day)} "
                                      "melewati batas pembayaran tagihan "
                                      f"{invoice.code} ({indonesian_date(due_on)}).", Conflict))
        if invoice.state == PAID:
            paid = indonesian_date(invoice.paid_on) if invoice.paid_on else "-"
            found.insert(0, _Problem("kode_billing", f"Tagihan {invoice.code} sudah lunas "
                                     f"(NTPN {invoice.ntpn}, dibayar {paid}).", Conflict))
        elif invoice.state != ISSUED:
            what = {EXPIRED: "kedaluwarsa karena tidak dibayar sampai batas waktunya",
                    CANCELLED: "dibatalkan dan diganti tagihan yang lebih baru"}.get(
                        invoice.state, invoice.state)
            found.insert(0, _Problem("kode_billing", f"Tagihan {invoice.code} sudah {what}; "
                                     "tagihan ini tidak dapat dibayar lagi.", Conflict))
        if _NTPN.fullmatch(ntpn):
            other = self.session.scalar(sa.select(Invoice).where(
                Invoice.ntpn == ntpn, Invoice.id != invoice.id))
            if other is not None:
                owner = f" ({other.company})" if other.company else ""
                found.append(_Problem("ntpn", f"NTPN ini sudah dipakai untuk tagihan "
                                      f"{other.code}{owner}.", Conflict))
        # Input errors first: their exception names the fields.
        found.sort(key=lambda problem: problem.kind is not InvalidInput)
        return found

    def expire(self, code: str) -> Invoice:
        """Mark an unpaid bill expired once its deadline has passed.

        :raises Conflict: when it is not unpaid or its deadline is still ahead.
        """
        invoice = self.get(code)
        if invoice.state != ISSUED:
            raise Conflict(f"e-Billing {invoice.code} is {invoice.state}; only an unpaid "
                           "bill expires")
        now = self.clock.now()
        if now < invoice.due_at:
            raise Conflict(f"e-Billing {invoice.code} is payable until "
                           f"{invoice.due_at.astimezone(self.settings.timezone).isoformat()}")
        invoice.state = EXPIRED
        invoice.updated_at = now
        self.session.flush()
        return invoice

    def get(self, code: str) -> Invoice:
        """The bill with this code.

        :raises InvalidInput: when the code is not 15 digits with a valid check digit.
        :raises NotFound: when no bill has it.
        """
        code = str(code or "").strip()
        if not valid_code(code):
            raise InvalidInput(f"{code!r} is not an e-Billing code (15 digits)",
                               {"kode_billing": "15 digits with a valid check digit"})
        invoice = self.session.scalar(sa.select(Invoice).where(Invoice.code == code))
        if invoice is None:
            raise NotFound(f"no e-Billing code {code}")
        return invoice

    def search(self, *, company: str | None = None, state: str | None = None,
             subject: str | None = None, page: int = 1, per_page: int = 50) -> Page[Invoice]:
        """Bills, newest first."""
        offset, limit = page_bounds(page, per_page)
        conditions = []
        if company is not None:
            conditions.append(Invoice.company == company)
        if state is not None:
            conditions.append(Invoice.state == state)
        if subject is not None:
            conditions.append(Invoice.subject == subject)
        total = self.session.scalar(
            sa.select(sa.func.count()).select_from(Invoice).where(*conditions)) or 0
        items = list(self.session.scalars(
            sa.select(Invoice).where(*conditions)
            .order_by(Invoice.issued_at.desc(), Invoice.id).offset(offset).limit(limit)))
        return Page(items, total, page, per_page)

    def for_company(self, company: str) -> list[Invoice]:
        return self.search(company=company, per_page=200).items

    def _unused_code(self) -> str:
        for _ in range(20):
            code = new_code()
            if self.session.scalar(sa.select(Invoice.id).where(Invoice.code == code)) is None:
                return code
        raise RuntimeError("could not find an unused e-Billing code")  # pragma: no cover


@dataclass(frozen=True)
class _Problem:
    """One reason a payment cannot be recorded, and the error it raises in ``confirm``."""

    field: str
    message: str
    kind: type[EngineError]


def _ntpn(value: object) -> str:
    return str(value or "").strip().upper()


def _day(value: date | str, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO date (YYYY-MM-DD), not {value!r}",
                           {name: "an ISO date"}) from None
