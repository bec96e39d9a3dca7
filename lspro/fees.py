"""Hold the LSPro's certification fee schedules as versioned data and build quotes from them.

Every fee is PNBP (*Penerimaan Negara Bukan Pajak*, non-tax state revenue): the
applicant pays it through an e-Billing code at a bank or post office and it goes
to the State Treasury, not to the LSPro. The legal basis is PP 54/2021
(*Peraturan Pemerintah* 54 of 2021, the types and tariffs of PNBP at the Ministry
of Industry). The amounts are those published by LSPro BSPJI Manado (DOMAIN.md §5,
source S2). Fees are non-refundable when a certificate is revoked (S2).

A :class:`Tariff` is one version of the fee table, in force from its
``effective_from`` day; :func:`tariff_on` picks the version for a day, so a later
amendment of the PP is a new entry in :data:`TARIFFS`, not a code change.

What the source does not say (DOMAIN.md §5.2), so this module must not pretend to
know it:

1. the unit of each tariff (per person per day, per visit, per certificate?); the
   units used here are INFERRED and only confirmed in that the default quantities
   reproduce the published totals;
2. how the number of auditors and audit days is set (audit-time rules);
3. whether fees are per factory, product type, SNI or brand/packaging;
4. laboratory testing fees (a separate service and tariff, not included);
5. travel and accommodation beyond the per diem;
6. whether recertification pays the application fee and adequacy audit again;
7. how often surveillance is billed, and whether makloon / brand-addition fees are
   per site or per brand;
8. reductions such as the special tariffs (*tarif tertentu*) of Permenperin 19/2021.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from engine.errors import InvalidInput
from engine.time.clock import Clock, SystemClock

CURRENCY = "IDR"
LEGAL_BASIS = "PP 54/2021"

# Schedule ids.
INITIAL = "INITIAL_OR_RECERT"
SURVEILLANCE = "SURVEILLANCE"
# Makloon: toll (contract) manufacturing, the product made by another factory under contract.
MAKLOON = "MAKLOON"
ADD_BRAND_OR_PACKAGING = "ADD_BRAND_OR_PACKAGING"

# Item ids. An id means the same thing in every schedule it appears in.
APPLICATION_FEE = "APPLICATION_FEE"
ADEQUACY_AUDIT = "ADEQUACY_AUDIT"
LEAD_AUDITOR = "LEAD_AUDITOR"
AUDITOR = "AUDITOR"
SAMPLING_OFFICER = "SAMPLING_OFFICER"
PER_DIEM = "PER_DIEM"
ADMIN_REVIEW = "ADMIN_REVIEW"
TECHNICAL_REVIEW = "TECHNICAL_REVIEW"
CERTIFICATE_ISSUANCE = "CERTIFICATE_ISSUANCE"

Unit = Literal["fixed", "person", "person-day"]
FIXED: Unit = "fixed"
PERSON: Unit = "person"
PERSON_DAY: Unit = "person-day"
_UNITS: tuple[str, ...] = (FIXED, PERSON, PERSON_DAY)

# The role items charged per person per audit day, in the order of the team.
ROLE_ITEMS: tuple[str, ...] = (LEAD_AUDITOR, AUDITOR, SAMPLING_OFFICER)


class InvalidQuote(InvalidInput, ValueError):
    """Refuse quote arguments that make no sense; ``errors`` names the argument."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}", {argument: message})
        self.argument = argument


class TariffNotInForce(InvalidInput, ValueError):
    """Refuse a day on which no known tariff version was in force."""

    def __init__(self, day: date, first: date | None) -> None:
        if first is None:
            message = "no fee tariff is defined at all"
        else:
            message = (f"no fee tariff was in force on {day.isoformat()}; the first one "
                       f"takes effect on {first.isoformat()}")
        super().__init__(message, {"day": message})
        self.day = day


def _require_rupiah(name: str, value: object) -> int:
    # Money is whole rupiah; a float (or a bool, which is an int) here is a data bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be whole rupiah as int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


@dataclass(frozen=True)
class FeeItem:
    """One published line of a fee schedule.

    ``amount`` is the published figure. For a ``person-day`` item (the per diem) it
    covers ``persons`` people for one day, so the rate per person-day is
    ``amount // persons``; for the other units it is the rate itself.
    """

    no: str
    id: str
    label_id: str
    label_en: str
    amount: int
    unit: Unit
    persons: int | None = None

    def __post_init__(self) -> None:
        _require_rupiah(f"{self.id}.amount", self.amount)
        if self.unit not in _UNITS:
            raise ValueError(f"{self.id}: unknown unit {self.unit!r}")
        if self.unit == PERSON_DAY:
            if not isinstance(self.persons, int) or self.persons < 1:
                raise ValueError(f"{self.id}: a person-day item needs its published "
                                 "person count")
            if self.amount % self.persons:
                raise ValueError(f"{self.id}: {self.amount} does not split evenly over "
                                 f"{self.persons} persons")
        elif self.persons is not None:
            raise ValueError(f"{self.id}: only a person-day item records a person count")

    @property
    def rate(self) -> int:
        """Return the charge for one unit: once, one person, or one person-day."""
        if self.unit == PERSON_DAY:
            assert self.persons is not None  # enforced in __post_init__
            return self.amount // self.persons
        return self.amount


@dataclass(frozen=True)
class Schedule:
    """One fee schedule: the items charged for one kind of certification service."""

    id: str
    label_id: str
    label_en: str
    published_total: int
    items: tuple[FeeItem, ...]

    def __post_init__(self) -> None:
        _require_rupiah(f"{self.id}.published_total", self.published_total)
        ids = [item.id for item in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.id}: an item id appears twice")

    @property
    def items_total(self) -> int:
        """Return the sum of the published item amounts."""
        return sum(item.amount for item in self.items)

    def item(self, item_id: str) -> FeeItem | None:
        """Return the item with this id, or None when the schedule has no such line."""
        return next((item for item in self.items if item.id == item_id), None)


@dataclass(frozen=True)
class Tariff:
    """One version of the fee table, in force from ``effective_from`` until the next."""

    legal_basis: str
    effective_from: date
    currency: str
    schedules: tuple[Schedule, ...]

    def schedule(self, schedule_id: str) -> Schedule:
        """Return the schedule with this id; raise KeyError when the tariff lacks it."""
        for schedule in self.schedules:
            if schedule.id == schedule_id:
                return schedule
        known = ", ".join(s.id for s in self.schedules)
        raise KeyError(f"no fee schedule {schedule_id!r} (known: {known})")


# The sources name the regulation's year but not the day it took effect, nor the
# day LSPro Manado started charging it. 1 January 2021 is a PLACEHOLDER that keeps
# every real date valid; replace it with the PP's commencement date once confirmed.
_PP_54_2021_EFFECTIVE_FROM = date(2021, 1, 1)

PP_54_2021 = Tariff(
    legal_basis=LEGAL_BASIS,
    effective_from=_PP_54_2021_EFFECTIVE_FROM,
    currency=CURRENCY,
    schedules=(
        Schedule(
            INITIAL, "SPPT SNI", "SPPT SNI initial certification or recertification",
            10_950_000,
            (
                FeeItem("1", APPLICATION_FEE, "Biaya Permohonan", "Application fee",
                        500_000, FIXED),
                FeeItem("2", ADEQUACY_AUDIT, "Jasa Auditor Audit Kecukupan",
                        "Auditor service - adequacy (desk) audit", 1_100_000, FIXED),
                FeeItem("3a-1", LEAD_AUDITOR,
                        "Auditor untuk Audit Kesesuaian - Auditor Kepala",
                        "Conformity audit - lead auditor", 2_150_000, PERSON),
                FeeItem("3a-2", AUDITOR, "Auditor untuk Audit Kesesuaian - Auditor",
                        "Conformity audit - auditor", 1_650_000, PERSON),
                FeeItem("3b", SAMPLING_OFFICER, "Pengambilan Contoh Uji - Petugas",
                        "Sampling - sampling officer", 1_100_000, PERSON),
                FeeItem("3c", PER_DIEM, "Perdiem - Auditor Kepala, Auditor dan Petugas",
                        "Per diem - lead auditor, auditor and officer (3 persons)",
                        900_000, PERSON_DAY, persons=3),
                FeeItem("4a", ADMIN_REVIEW, "Biaya Proses Sertifikasi - Tinjauan Administrasi",
                        "Certification process - administrative review", 1_350_000, FIXED),
                FeeItem("4b", TECHNICAL_REVIEW, "Biaya Proses Sertifikasi - Tinjauan Teknis",
                        "Certification process - technical review", 1_900_000, FIXED),
                FeeItem("5", CERTIFICATE_ISSUANCE, "Penerbitan Sertifikat",
                        "Certificate issuance", 300_000, FIXED),
            ),
        ),
        Schedule(
            SURVEILLANCE, "Pengawasan Berkala (Surveilan)", "Periodic surveillance", 5_800_000,
            (
                FeeItem("1", LEAD_AUDITOR, "Auditor Kepala", "Lead auditor", 2_150_000, PERSON),
                FeeItem("2", AUDITOR, "Auditor", "Auditor", 1_650_000, PERSON),
                # PPC (Petugas Pengambil Contoh) is the sampling officer.
                FeeItem("3", SAMPLING_OFFICER, "Petugas Pengambil Contoh",
                        "Sampling officer (PPC)", 1_100_000, PERSON),
                FeeItem("4", PER_DIEM, "Perdiem (untuk Auditor Kepala, Auditor, PPC)",
                        "Per diem (lead auditor, auditor, PPC = 3 persons)", 900_000,
                        PERSON_DAY, persons=3),
            ),
        ),
        Schedule(
            MAKLOON, "Biaya Makloon", "Toll (contract) manufacturing", 3_850_000,
            (
                FeeItem("1", LEAD_AUDITOR, "Auditor Kepala", "Lead auditor", 2_150_000, PERSON),
                FeeItem("2", SAMPLING_OFFICER, "Petugas Pengambil Contoh",
                        "Sampling officer (PPC)", 1_100_000, PERSON),
                FeeItem("3", PER_DIEM, "Perdiem (untuk Auditor Kepala, PPC)",
                        "Per diem (lead auditor, PPC = 2 persons)", 600_000,
                        PERSON_DAY, persons=2),
            ),
        ),
        Schedule(
            ADD_BRAND_OR_PACKAGING, "Penambahan Merek / Kemasan", "Adding a brand or packaging",
            3_850_000,
            (
                FeeItem("1", LEAD_AUDITOR, "Auditor Kepala", "Lead auditor", 2_150_000, PERSON),
                FeeItem("2", SAMPLING_OFFICER, "Petugas Pengambil Contoh",
                        "Sampling officer (PPC)", 1_100_000, PERSON),
                FeeItem("3", PER_DIEM, "Perdiem (untuk Auditor Kepala, PPC)",
                        "Per diem (lead auditor, PPC = 2 persons)", 600_000,
                        PERSON_DAY, persons=2),
            ),
        ),
    ),
)

# Every tariff version, oldest first. An amendment of PP 54/2021 is appended here.
TARIFFS: tuple[Tariff, ...] = (PP_54_2021,)


def tariff_on(day: date, tariffs: Sequence[Tariff] = TARIFFS) -> Tariff:
    """Return the tariff in force on ``day``: the latest one effective on or before it."""
    if isinstance(day, datetime):
        # A datetime is a date subclass but does not compare with one.
        day = day.date()
    in_force = [t for t in tariffs if t.effective_from <= day]
    if not in_force:
        first = min((t.effective_from for t in tariffs), default=None)
        raise TariffNotInForce(day, first)
    return max(in_force, key=lambda t: t.effective_from)


@dataclass(frozen=True)
class QuoteLine:
    """One invoice line: a schedule item times its quantity."""

    item_id: str
    no: str
    label_id: str
    label_en: str
    unit: Unit
    quantity: int
    unit_amount: int
    amount: int


@dataclass(frozen=True)
class Quote:
    """An invoice-ready quote for one schedule under one tariff version."""

    schedule_id: str
    schedule_label_id: str
    schedule_label_en: str
    legal_basis: str
    tariff_effective_from: date
    currency: str
    lead_auditors: int
    auditors: int
    sampling_officers: int
    days: int
    lines: tuple[QuoteLine, ...]
    total: int


def _count(argument: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidQuote(argument, f"must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidQuote(argument, f"must be at least {minimum}, got {value}")
    return value


def quote(schedule_id: str, *, tariff: Tariff | date | None = None, lead_auditors: int = 1,
          auditors: int | None = None, sampling_officers: int = 1, days: int = 1,
          clock: Clock | None = None) -> Quote:
    """Build a quote for ``schedule_id`` with the given audit team and number of days.

    ``tariff`` is a tariff version, a day (the tariff in force that day), or None
    for the tariff in force today by ``clock``. ``auditors=None`` takes the
    schedule's default: one where it has an auditor line, none otherwise. With all
    defaults the total equals the schedule's published total.
    """
    if isinstance(tariff, Tariff):
        chosen = tariff
    elif tariff is None:
        # The UTC day lags Indonesian local time by up to 9 hours; only a quote made
        # in those hours on an amendment's first day would differ, and such a caller
        # should pass the billing day anyway.
        chosen = tariff_on((clock or SystemClock()).now().date())
    elif isinstance(tariff, date):
        chosen = tariff_on(tariff)
    else:
        raise InvalidQuote("tariff", f"must be a Tariff, a date or None, got {tariff!r}")
    try:
        schedule = chosen.schedule(schedule_id)
    except KeyError as exc:
        raise InvalidQuote("schedule_id", str(exc.args[0])) from None

    has_auditor_line = schedule.item(AUDITOR) is not None
    # Every schedule bills a lead auditor: the audit team is always headed by one.
    lead_auditors = _count("lead_auditors", lead_auditors, 1)
    if auditors is None:
        auditors = 1 if has_auditor_line else 0
    else:
        auditors = _count("auditors", auditors, 0)
        if auditors and not has_auditor_line:
            raise InvalidQuote("auditors", f"schedule {schedule_id} has no auditor line")
    sampling_officers = _count("sampling_officers", sampling_officers, 0)
    days = _count("days", days, 1)

    persons = {LEAD_AUDITOR: lead_auditors, AUDITOR: auditors,
               SAMPLING_OFFICER: sampling_officers}
    team_size = lead_auditors + auditors + sampling_officers

    lines = []
    for item in schedule.items:
        # INFERRED (DOMAIN.md §5.2), units not confirmed by the source: role items
        # are charged per person per audit day, and the per diem is 300,000 per
        # person per day (900,000 for 3 persons, 600,000 for 2). The only evidence
        # is that 1 lead auditor, at most 1 auditor, 1 PPC and 1 day reproduce every
        # published total.
        if item.unit == FIXED:
            quantity = 1
        elif item.unit == PERSON:
            quantity = persons[item.id] * days
        else:
            quantity = team_size * days
        if quantity == 0:
            # A role nobody fills (e.g. no sampling this visit) is not an invoice line.
            continue
        lines.append(QuoteLine(item.id, item.no, item.label_id, item.label_en, item.unit,
                               quantity, item.rate, quantity * item.rate))

    return Quote(
        schedule_id=schedule.id,
        schedule_label_id=schedule.label_id,
        schedule_label_en=schedule.label_en,
        legal_basis=chosen.legal_basis,
        tariff_effective_from=chosen.effective_from,
        currency=chosen.currency,
        lead_auditors=lead_auditors,
        auditors=auditors,
        sampling_officers=sampling_officers,
        days=days,
        lines=tuple(lines),
        total=sum(line.amount for line in lines),
    )


def check_totals(tariff: Tariff) -> list[str]:
    """Return one message per schedule whose items do not reconcile with its published total.

    Two checks per schedule: the published item amounts must add up to the
    published total, and so must a quote with the default team (which checks that
    the units and the per diem's person count fit together). Empty means all pass.
    """
    problems = []
    for schedule in tariff.schedules:
        summed = schedule.items_total
        if summed != schedule.published_total:
            problems.append(
                f"{schedule.id}: items add up to {format_rupiah(summed)}, published total "
                f"is {format_rupiah(schedule.published_total)}")
        try:
            quoted = quote(schedule.id, tariff=tariff).total
        except ValueError as exc:
            problems.append(f"{schedule.id}: default quote fails: {exc}")
            continue
        if quoted != schedule.published_total:
            problems.append(
                f"{schedule.id}: default quote is {format_rupiah(quoted)}, published total "
                f"is {format_rupiah(schedule.published_total)}")
    return problems


def format_rupiah(amount: int) -> str:
    """Format whole rupiah the Indonesian way, with dots between thousands: "Rp 10.950.000"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be whole rupiah as int, got {amount!r}")
    digits = f"{abs(amount):,}".replace(",", ".")
    return f"-Rp {digits}" if amount < 0 else f"Rp {digits}"
