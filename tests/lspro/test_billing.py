"""e-Billing records: built from the fee table, paid once, expired after the deadline."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import Conflict, InvalidInput, NotFound
from engine.time.clock import FrozenClock
from lspro.billing import BillingService, luhn_digit, new_code, valid_code
from lspro.fees import quote
from lspro.models import Invoice
from tests.settings import LSPRO

COMPANY = "PT Garam Sehat"


@pytest.fixture
def act(engine: Engine) -> Callable[..., Any]:
    def run(action: Callable[[BillingService], Any], settings: Any = None) -> Any:
        with engine.write() as s:
            return action(BillingService(s.session, engine.clock, settings or LSPRO))
    return run


def invoice_row(engine: Engine, code: str) -> Invoice:
    with engine.read() as s:
        return s.session.scalars(sa.select(Invoice).where(Invoice.code == code)).one()


def test_codes_have_fifteen_digits_and_a_check_digit() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 15 and c.isdigit() and c[0] != "0" and valid_code(c) for c in codes)
    assert luhn_digit("7992739871") == "3"  # the textbook example
    code = next(iter(codes))
    wrong = code[:3] + str((int(code[3]) + 1) % 10) + code[4:]
    assert not valid_code(wrong) and not valid_code(code[:-1]) and not valid_code("a" * 15)


def test_issue_builds_the_bill_from_the_fee_quotes(act: Callable[..., Any],
                                                   engine: Engine) -> None:
    made = act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT", "MAKLOON"],
                                 company=COMPANY))
    row = invoice_row(engine, made.code)
    expected = quote("INITIAL_OR_RECERT", tariff=date(2027, 3, 1)).total + quote(
        "MAKLOON", tariff=date(2027, 3, 1)).total
    assert row.total == expected == 14_800_000
    assert (row.state, row.currency, row.legal_basis) == ("terbit", "IDR", "PP 54/2021")
    assert row.schedules == "INITIAL_OR_RECERT,MAKLOON" and row.company == COMPANY
    assert len(row.lines) == 9 + 3 and sum(line["amount"] for line in row.lines) == row.total
    assert row.lines[0] == {"schedule": "INITIAL_OR_RECERT", "schedule_label": "SPPT SNI",
                            "no": "1", "item": "APPLICATION_FEE",
                            "label_id": "Biaya Permohonan", "label_en": "Application fee",
                            "unit": "fixed", "quantity": 1, "unit_amount": 500_000,
                            "amount": 500_000}
    # 1 March 2027, 09:00 in Jakarta + 14 calendar days, until 23:59 local time.
    assert row.due_at == datetime(2027, 3, 15, 16, 59, tzinfo=UTC)
    surveillance = act(lambda b: b.issue("0001/LSPr-034-IDN/3556/2027", ["SURVEILLANCE"],
                                         company=COMPANY))
    assert surveillance.total == 5_800_000


def test_the_deadline_follows_the_local_day_and_the_setting(act: Callable[..., Any],
                                                            engine: Engine,
                                                            clock: FrozenClock) -> None:
    clock.set(datetime(2027, 3, 1, 18, 30, tzinfo=UTC))  # already 2 March in Jakarta
    made = act(lambda b: b.issue("PRM-2027-00002", ["INITIAL_OR_RECERT"], company=None))
    assert made.due_at == datetime(2027, 3, 16, 16, 59, tzinfo=UTC)
    week = dataclasses.replace(LSPRO, billing_payment_days=7)
    made = act(lambda b: b.issue("PRM-2027-00003", ["INITIAL_OR_RECERT"], company=None), week)
    assert made.due_at == datetime(2027, 3, 9, 16, 59, tzinfo=UTC)


def test_a_new_bill_cancels_the_unpaid_one_for_the_same_subject(act: Callable[..., Any],
                                                                 engine: Engine) -> None:
    first = act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY))
    other = act(lambda b: b.issue("PRM-2027-00009", ["INITIAL_OR_RECERT"], company=COMPANY))
    second = act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY))
    assert invoice_row(engine, first.code).state == "dibatalkan"
    assert invoice_row(engine, other.code).state == "terbit"
    assert invoice_row(engine, second.code).state == "terbit"
    with pytest.raises(Conflict, match="dibatalkan"):
        act(lambda b: b.confirm(first.code, "0A1B2C3D4E5F6G7H", "2027-03-01"))


def test_confirm_records_the_payment_once(act: Callable[..., Any], engine: Engine,
                                         clock: FrozenClock) -> None:
    made = act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY))
    clock.advance(timedelta(days=3))
    act(lambda b: b.confirm(made.code, "0a1b2c3d4e5f6g7h", date(2027, 3, 2)))
    row = invoice_row(engine, made.code)
    assert (row.state, row.ntpn, row.paid_on, row.paid_at) == (
        "lunas", "0A1B2C3D4E5F6G7H", date(2027, 3, 2), clock.now())
    with pytest.raises(Conflict, match="sudah lunas"):
        act(lambda b: b.confirm(made.code, "ZZZZZZZZZZZZZZZZ", "2027-03-03"))
    other = act(lambda b: b.issue("PRM-2027-00002", ["INITIAL_OR_RECERT"], company=COMPANY))
    with pytest.raises(Conflict, match="NTPN ini sudah dipakai untuk tagihan " + made.code):
        act(lambda b: b.confirm(other.code, "0A1B2C3D4E5F6G7H", "2027-03-04"))
    assert invoice_row(engine, other.code).state == "terbit"


@pytest.mark.parametrize(("code", "ntpn", "day", "error", "message"), [
    (None, "0A1B2C3D4E5F6G7H", "2027-03-05", InvalidInput, "NTPN"),
    (None, "short", "2027-03-05", InvalidInput, "16 huruf"),
    (None, "0A1B2C3D4E5F6G7H", "5 Maret", InvalidInput, "TTTT-BB-HH"),
    (None, "0A1B2C3D4E5F6G7H", "2027-03-20", InvalidInput, "belum tiba"),
    (None, "0A1B2C3D4E5F6G7H", "2027-02-27", InvalidInput, "sebelum tagihan diterbitkan"),
    ("123456789012345", "0A1B2C3D4E5F6G7H", "2027-03-05", InvalidInput, "15 angka"),
    ("VALID-UNKNOWN", "0A1B2C3D4E5F6G7H", "2027-03-05", NotFound, "Tidak ada tagihan"),
])
def test_confirm_refuses_bad_payments_and_changes_nothing(
        act: Callable[..., Any], engine: Engine, clock: FrozenClock, code: str | None,
        ntpn: str, day: str, error: type[Exception], message: str) -> None:
    made = act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY))
    clock.advance(timedelta(days=5))
    if code == "VALID-UNKNOWN":
        body = "1" + "0" * 13
        code = body + luhn_digit(body)
    if message == "NTPN":
        ntpn = "0A1B2C3D4E5F6G7"  # 15 characters
        message = "16 huruf"
    with pytest.raises(error, match=message):
        act(lambda b: b.confirm(code or made.code, ntpn, day))
    assert invoice_row(engine, made.code).state == "terbit"


def test_expire_after_the_deadline_and_then_no_payment(act: Callable[..., Any],
                                                       engine: Engine,
                                                       clock: FrozenClock) -> None:
    made = act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY))
    late = act(lambda b: b.issue("PRM-2027-00002", ["INITIAL_OR_RECERT"], company=COMPANY))
    clock.set(datetime(2027, 3, 15, 16, 58, tzinfo=UTC))
    with pytest.raises(Conflict, match="payable until 2027-03-15T23:59:00"):
        act(lambda b: b.expire(made.code))
    clock.set(datetime(2027, 3, 15, 17, 0, tzinfo=UTC))
    assert act(lambda b: b.expire(made.code)).state == "kedaluwarsa"
    with pytest.raises(Conflict, match="kedaluwarsa"):
        act(lambda b: b.confirm(made.code, "0A1B2C3D4E5F6G7H", "2027-03-10"))
    with pytest.raises(Conflict, match="only an unpaid bill"):
        act(lambda b: b.expire(made.code))
    assert invoice_row(engine, made.code).ntpn is None
    # The other bill: a payment dated after its deadline is refused; one made on the
    # last day but reported a day later is accepted while the bill is not expired.
    clock.advance(timedelta(days=1))
    with pytest.raises(Conflict, match="melewati batas pembayaran"):
        act(lambda b: b.confirm(late.code, "0A1B2C3D4E5F6G7H", "2027-03-16"))
    assert act(lambda b: b.confirm(late.code, "0A1B2C3D4E5F6G7H", "2027-03-15")).state == "lunas"


def test_issue_refuses_an_unknown_schedule_or_no_subject(act: Callable[..., Any],
                                                         engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="no fee schedule"):
        act(lambda b: b.issue("PRM-2027-00001", ["DONASI"], company=COMPANY))
    with pytest.raises(InvalidInput, match="subject"):
        act(lambda b: b.issue(" ", ["INITIAL_OR_RECERT"], company=COMPANY))
    with pytest.raises(InvalidInput, match="at least one"):
        act(lambda b: b.issue("PRM-2027-00001", [], company=COMPANY))
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 0


def test_lists_by_company_and_state(act: Callable[..., Any]) -> None:
    act(lambda b: b.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY))
    act(lambda b: b.issue("PRM-2027-00002", ["INITIAL_OR_RECERT"], company="PT Lain"))
    assert [i.subject for i in act(lambda b: b.for_company(COMPANY))] == ["PRM-2027-00001"]
    assert act(lambda b: b.search(state="terbit")).total == 2
    assert act(lambda b: b.search(state="lunas")).total == 0
