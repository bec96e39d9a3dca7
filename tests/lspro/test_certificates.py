"""The certificate register: numbering, validity, every state change and every refusal."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.config import ConfigError, load_settings
from engine.errors import Conflict, InvalidInput, NotFound
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from lspro.certificates import CertificateRegister, add_months, fold_number
from lspro.models import Certificate, CertificateEvent
from lspro.numbering import current_number, next_number
from lspro.settings import load_lspro_settings
from tests.settings import LSPRO

BRANDS = [{"merek": " Renyah ", "kemasan": "kaleng 300 g"}]
COMPANY = "PT Biskuit Nusantara"


def issue(register: CertificateRegister, **changes: Any) -> Certificate:
    values: dict[str, Any] = {"company": COMPANY, "product_code": "BISKUIT",
                              "sni": "SNI 2973:2022", "scheme_type": 5, "brands": BRANDS,
                              "application_number": "PRM-2027-00001"}
    values.update(changes)
    return register.issue(**values)


@pytest.fixture
def act(engine: Engine) -> Callable[..., Any]:
    """``act(lambda register: ...)`` runs it in one committed transaction."""
    def run(action: Callable[[CertificateRegister], Any],
            settings: Any = None) -> Any:
        with engine.write() as s:
            register = CertificateRegister(s.session, engine.clock, settings or LSPRO)
            return action(register)
    return run


def snapshot(engine: Engine, number: str) -> tuple[dict[str, Any], int]:
    with engine.read() as s:
        row = s.session.scalars(sa.select(Certificate).where(Certificate.number == number)).one()
        values = {c.key: getattr(row, c.key) for c in sa.inspect(Certificate).column_attrs}
        count = s.session.scalar(sa.select(sa.func.count()).select_from(CertificateEvent)
                                 .where(CertificateEvent.certificate_id == row.id))
    return values, int(count or 0)


def test_issue_numbers_dates_and_records_the_certificate(act: Callable[..., Any],
                                                         engine: Engine) -> None:
    first = act(issue)
    second = act(lambda r: issue(r, product_code="AIR_MINERAL", sni="3553:2023",
                                 scheme_type="tipe_4", application_number="PRM-2027-00002"))
    assert first.number == "0001/LSPr-034-IDN/2973/2027" and first.sequence == 1
    assert second.number == "0002/LSPr-034-IDN/3553/2027" and second.scheme_type == 4
    assert (first.issued_on, first.expires_on) == (date(2027, 3, 1), date(2031, 2, 28))
    assert first.state == "aktif" and first.product_name == "Biskuit"
    assert first.sni == "SNI 2973:2022" and first.brands == [
        {"merek": "Renyah", "kemasan": "kaleng 300 g"}]
    with engine.read() as s:
        (event,) = s.session.scalars(sa.select(CertificateEvent).where(
            CertificateEvent.certificate_id == first.id)).all()
    assert (event.kind, event.from_state, event.to_state) == ("issued", None, "aktif")
    assert event.data == {"number": first.number, "expires_on": "2031-02-28"}


def test_number_pattern_lspro_code_and_validity_come_from_settings(
        act: Callable[..., Any], engine: Engine, tmp_path: Any) -> None:
    custom = dataclasses.replace(LSPRO, lspro_code="LSPr-099-IDN",
                                 certificate_number_pattern="SPPT-{yyyy}-{seq:05d}-{lspro}",
                                 certificate_validity_years=3)
    made = act(issue, custom)
    assert made.number == "SPPT-2027-00001-LSPr-099-IDN"
    assert made.expires_on == date(2030, 2, 28)
    env = {"SERTIFLOW_INSTANCE_PATH": str(tmp_path), "SERTIFLOW_SECRET_KEY": "x",
           "SERTIFLOW_CERTIFICATE_NUMBER": "{seq:03d}/{lspro}/{yyyy}",
           "SERTIFLOW_LSPRO_CODE": "LSPr-001-IDN",
           "SERTIFLOW_CERTIFICATE_VALIDITY_YEARS": "5"}
    loaded = load_lspro_settings(env)
    assert (loaded.certificate_number_pattern, loaded.lspro_code,
            loaded.certificate_validity_years) == ("{seq:03d}/{lspro}/{yyyy}", "LSPr-001-IDN", 5)
    for bad in ({"SERTIFLOW_CERTIFICATE_NUMBER": "{nomor}/{yyyy}"},
                {"SERTIFLOW_CERTIFICATE_NUMBER": "{lspro}/{yyyy}"},
                {"SERTIFLOW_CERTIFICATE_VALIDITY_YEARS": "0"},
                {"SERTIFLOW_BILLING_PAYMENT_DAYS": "two weeks"}):
        with pytest.raises(ConfigError):
            load_lspro_settings({**env, **bad})


def test_validity_counts_whole_years_also_from_a_leap_day(act: Callable[..., Any],
                                                          clock: FrozenClock) -> None:
    clock.set(datetime(2028, 2, 29, 3, 0, tzinfo=UTC))
    assert act(issue).expires_on == date(2032, 2, 28)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 12, 15), 1) == date(2028, 1, 15)


@pytest.mark.parametrize(("changes", "field"), [
    ({"scheme_type": 4}, "sni"),             # biscuits: type 5 only
    ({"sni": "SNI 2973:2005"}, "sni"),       # not an accredited edition
    ({"product_code": "KOPI"}, "sni"),       # not in the scope at all
    ({"company": "  "}, "company"),
    ({"brands": []}, "merek_kemasan"),
    ({"brands": [{"merek": "Renyah"}]}, "merek_kemasan"),
])
def test_issue_refuses_what_the_scope_or_the_data_does_not_allow(
        act: Callable[..., Any], engine: Engine, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        act(lambda r: issue(r, **changes))
    assert field in raised.value.errors
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0


def test_an_application_gets_one_valid_certificate(act: Callable[..., Any]) -> None:
    act(issue)
    with pytest.raises(Conflict, match="already has certificate"):
        act(issue)


def test_suspend_reinstate_revoke_with_deadline_history_and_publication(
        act: Callable[..., Any], engine: Engine, clock: FrozenClock) -> None:
    number = act(issue).number
    suspended = act(lambda r: r.suspend(number, "ncr_tidak_ditutup", days=30, actor="kepala"))
    assert suspended.state == "dibekukan" and suspended.suspension_reason == "ncr_tidak_ditutup"
    # 30 days from 1 March (Jakarta), until 23:59 local time.
    assert suspended.suspension_deadline == datetime(2027, 3, 31, 16, 59, tzinfo=UTC)
    reinstated = act(lambda r: r.reinstate(number))
    assert reinstated.state == "aktif" and reinstated.suspension_deadline is None
    act(lambda r: r.suspend(number, "penyalahgunaan"))  # the default 90 days
    clock.advance(timedelta(days=3))
    revoked = act(lambda r: r.revoke(number, "pembatalan", instance_id=None))
    assert revoked.state == "dicabut" and revoked.revocation_published
    assert revoked.revoked_at == clock.now() and revoked.revocation_reason == "pembatalan"
    with engine.read() as s:
        rows = s.session.scalars(sa.select(CertificateEvent).order_by(CertificateEvent.id)).all()
    assert [(e.kind, e.from_state, e.to_state, e.reason) for e in rows] == [
        ("issued", None, "aktif", None),
        ("suspended", "aktif", "dibekukan", "ncr_tidak_ditutup"),
        ("reinstated", "dibekukan", "aktif", None),
        ("suspended", "aktif", "dibekukan", "penyalahgunaan"),
        ("revoked", "dibekukan", "dicabut", "pembatalan")]
    assert rows[0].data is not None and rows[1].actor == "kepala"
    assert rows[3].data == {"days": 90, "deadline": "2027-05-30T23:59:00+07:00"}
    page = act(lambda r: r.revoked(page=1, per_page=10))
    assert [c.number for c in page.items] == [number] and page.total == 1


ILLEGAL: list[tuple[str, Callable[[CertificateRegister, str], Any], str]] = [
    ("reinstate an active one", lambda r, n: r.reinstate(n), "not dibekukan"),
    ("hand over twice", lambda r, n: (r.handover(n), r.handover(n)), "already handed over"),
    ("expire before its end", lambda r, n: r.expire(n), "cannot expire yet"),
]
AFTER_REVOCATION: list[tuple[str, Callable[[CertificateRegister, str], Any], str]] = [
    ("revoke a revoked one", lambda r, n: r.revoke(n, "tidak_membayar"), "it is dicabut"),
    ("suspend a revoked one", lambda r, n: r.suspend(n, "penyalahgunaan"), "it is dicabut"),
    ("reissue a revoked one", lambda r, n: r.reissue(n, "typo"), "it is dicabut"),
    ("reinstate a revoked one", lambda r, n: r.reinstate(n), "it is dicabut"),
    ("hand over a revoked one", lambda r, n: r.handover(n), "it is dicabut"),
    ("expire a revoked one", lambda r, n: r.expire(n), "it is dicabut"),
]


@pytest.mark.parametrize(("what", "action", "message"), ILLEGAL, ids=[i[0] for i in ILLEGAL])
def test_illegal_moves_of_an_active_certificate_change_nothing(
        act: Callable[..., Any], engine: Engine, what: str,
        action: Callable[[CertificateRegister, str], Any], message: str) -> None:
    number = act(issue).number
    before = snapshot(engine, number)
    with pytest.raises(Conflict, match=message):
        act(lambda r: action(r, number))
    assert snapshot(engine, number) == before


@pytest.mark.parametrize(("what", "action", "message"), AFTER_REVOCATION,
                         ids=[i[0] for i in AFTER_REVOCATION])
def test_illegal_moves_of_a_revoked_certificate_change_nothing(
        act: Callable[..., Any], engine: Engine, what: str,
        action: Callable[[CertificateRegister, str], Any], message: str) -> None:
    number = act(issue).number
    act(lambda r: r.revoke(number, "tidak_membayar"))
    before = snapshot(engine, number)
    with pytest.raises(Conflict, match=message):
        act(lambda r: action(r, number))
    assert snapshot(engine, number) == before


def test_suspend_and_revoke_check_their_input(act: Callable[..., Any], engine: Engine) -> None:
    number = act(issue).number
    before = snapshot(engine, number)
    with pytest.raises(InvalidInput, match="unknown suspension reason"):
        act(lambda r: r.suspend(number, "bosan"))
    for days in (0, -5, 10_000, True):
        with pytest.raises(InvalidInput, match="1 to 3650"):
            act(lambda r, d=days: r.suspend(number, "penyalahgunaan", days=d))
    with pytest.raises(InvalidInput):
        act(lambda r: r.revoke(number, " "))
    assert snapshot(engine, number) == before
    with pytest.raises(NotFound):
        act(lambda r: r.suspend("0999/LSPr-034-IDN/2973/2027", "penyalahgunaan"))


def test_reissue_withdraws_the_old_and_keeps_the_validity(act: Callable[..., Any],
                                                          engine: Engine,
                                                          clock: FrozenClock) -> None:
    original = act(issue)
    act(lambda r: r.issue(company="PT Lain", product_code="AIR_MINERAL", sni="SNI 3553:2023",
                          scheme_type=5, brands=BRANDS))  # takes sequence number 2
    clock.advance(timedelta(days=200))
    old, new = act(lambda r: r.reissue(original.number, "SNI yang tercantum keliru",
                                       sni="SNI 2973:2011", actor="operasional"))
    assert (old.state, old.superseded_by) == ("ditarik", new.id)
    assert new.number == "0003/LSPr-034-IDN/2973/2027" and new.sequence == 3
    assert new.sni == "SNI 2973:2011" and new.supersedes == old.id
    assert new.issued_on == date(2027, 9, 17) and new.expires_on == original.expires_on
    assert new.application_number == original.application_number
    with engine.read() as s:
        rows = s.session.scalars(sa.select(CertificateEvent).order_by(CertificateEvent.id)).all()
    assert [(e.certificate_id, e.kind, e.to_state) for e in rows[-2:]] == [
        (old.id, "withdrawn", "ditarik"), (new.id, "issued", "aktif")]
    assert rows[-1].data == {"number": new.number, "replaces": old.number,
                             "expires_on": "2031-02-28"}
    with pytest.raises(InvalidInput, match="outside the scope"):
        act(lambda r: r.reissue(new.number, "x", sni="SNI 2973:1992"))
    with pytest.raises(InvalidInput, match="needs the correction"):
        act(lambda r: r.reissue(new.number, ""))


def test_check_plans_surveillance_yearly_and_never_after_expiry(
        act: Callable[..., Any], engine: Engine, clock: FrozenClock) -> None:
    number = act(issue).number
    status = act(lambda r: r.check(number))
    assert status.still_valid and status.next_surveillance.isoformat() == (
        "2028-03-01T00:00:00+07:00")
    clock.set(datetime(2028, 4, 1, 3, 0, tzinfo=UTC))  # the first one is overdue
    assert act(lambda r: r.check(number)).next_surveillance.isoformat().startswith("2029-03-01")
    act(lambda r: r.record_surveillance(number))
    assert act(lambda r: r.check(number)).next_surveillance.isoformat().startswith("2029-04-01")
    clock.set(datetime(2030, 6, 1, 3, 0, tzinfo=UTC))
    # 2031-04-01 would be after the last valid day (2031-02-28): expiry comes first.
    assert act(lambda r: r.check(number)).next_surveillance.isoformat() == (
        "2031-03-01T00:00:00+07:00")
    clock.set(datetime(2031, 3, 1, 3, 0, tzinfo=UTC))
    status = act(lambda r: r.check(number))
    assert status.certificate.state == "aktif" and not status.still_valid
    expired = act(lambda r: r.expire(number))
    assert expired.state == "kedaluwarsa"


def test_lists_by_company_state_and_number(act: Callable[..., Any]) -> None:
    first = act(issue)
    act(lambda r: issue(r, company="PT Lain", application_number="PRM-2027-00002"))
    act(lambda r: r.suspend(first.number, "penyalahgunaan"))
    assert [c.number for c in act(lambda r: r.for_company(COMPANY))] == [first.number]
    assert act(lambda r: r.search(state="dibekukan")).total == 1
    assert act(lambda r: r.search(number="0002/")).items[0].company == "PT Lain"
    assert act(lambda r: r.search(number="%")).total == 0  # no wildcard through the filter


def test_the_sequence_hands_out_each_number_once_under_concurrent_writers(
        engine: Engine) -> None:
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            with engine.write() as s:
                value = next_number(s.session, "uji")
            with lock:
                taken.append(value)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 41))
    with engine.read() as s:
        assert current_number(s.session, "uji") == 40
        assert current_number(s.session, "uji", 2027) == 0


@pytest.fixture
def pg(postgres_url: str, tmp_path: Any) -> Iterator[Engine]:
    settings = load_settings({"DATABASE_URL": postgres_url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": str(tmp_path)})
    built = Engine(settings, clock=FrozenClock(datetime(2027, 3, 1, 2, 0, tzinfo=UTC)),
                   extensions=[LsproExtension(LSPRO)], workflow_cache_size=0)
    built.migrate()
    yield built
    built.close()


@pytest.mark.postgres
def test_the_sequence_and_the_register_on_postgres(pg: Engine) -> None:
    test_the_sequence_hands_out_each_number_once_under_concurrent_writers(pg)
    with pg.write() as s:
        register = CertificateRegister(s.session, pg.clock, LSPRO)
        made = issue(register)
        register.suspend(made.number, "penyalahgunaan")
    with pg.read() as s:
        register = CertificateRegister(s.session, pg.clock, LSPRO)
        assert register.get(made.number).state == "dibekukan"
        assert [e.kind for e in register.events(made.id)] == ["issued", "suspended"]


def test_a_typed_number_is_found_in_any_case_and_spacing(act: Callable[..., Any],
                                                         engine: Engine) -> None:
    made = act(issue)
    with engine.read() as s:
        register = CertificateRegister(s.session, engine.clock, LSPRO)
        for typed in (made.number, made.number.lower(), f"  {made.number.upper()} ",
                      made.number.replace("/", " / ").lower()):
            assert register.lookup(typed).id == made.id, typed
        with pytest.raises(NotFound):
            register.lookup(made.number.replace("/", "-"))
        with pytest.raises(NotFound):
            register.get(made.number.lower())  # what processes hold is matched exactly
    assert fold_number(" 0001 /lspr-034-IDN/ 3553/2027 ") == "0001/LSPR-034-IDN/3553/2027"
