"""The PP 54/2021 fee schedules (DOMAIN.md §5), their total checks, and quotes built from them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from engine.errors import InvalidInput
from engine.time.clock import FrozenClock
from lspro.fees import (
    ADD_BRAND_OR_PACKAGING,
    INITIAL,
    MAKLOON,
    PP_54_2021,
    SURVEILLANCE,
    TARIFFS,
    FeeItem,
    InvalidQuote,
    Schedule,
    Tariff,
    TariffNotInForce,
    check_totals,
    format_rupiah,
    quote,
    tariff_on,
)

PUBLISHED_TOTALS = {
    INITIAL: 10_950_000,
    SURVEILLANCE: 5_800_000,
    MAKLOON: 3_850_000,
    ADD_BRAND_OR_PACKAGING: 3_850_000,
}

# (id, amount) per schedule, in the published order, as DOMAIN.md §5 lists them.
PUBLISHED_ITEMS = {
    INITIAL: [
        ("APPLICATION_FEE", 500_000),
        ("ADEQUACY_AUDIT", 1_100_000),
        ("LEAD_AUDITOR", 2_150_000),
        ("AUDITOR", 1_650_000),
        ("SAMPLING_OFFICER", 1_100_000),
        ("PER_DIEM", 900_000),
        ("ADMIN_REVIEW", 1_350_000),
        ("TECHNICAL_REVIEW", 1_900_000),
        ("CERTIFICATE_ISSUANCE", 300_000),
    ],
    SURVEILLANCE: [
        ("LEAD_AUDITOR", 2_150_000),
        ("AUDITOR", 1_650_000),
        ("SAMPLING_OFFICER", 1_100_000),
        ("PER_DIEM", 900_000),
    ],
    MAKLOON: [
        ("LEAD_AUDITOR", 2_150_000),
        ("SAMPLING_OFFICER", 1_100_000),
        ("PER_DIEM", 600_000),
    ],
    ADD_BRAND_OR_PACKAGING: [
        ("LEAD_AUDITOR", 2_150_000),
        ("SAMPLING_OFFICER", 1_100_000),
        ("PER_DIEM", 600_000),
    ],
}

A_DAY = date(2025, 6, 2)


def test_the_tariff_holds_the_four_schedules_under_pp_54_2021() -> None:
    assert PP_54_2021.legal_basis == "PP 54/2021"
    assert PP_54_2021.currency == "IDR"
    assert [s.id for s in PP_54_2021.schedules] == [
        "INITIAL_OR_RECERT", "SURVEILLANCE", "MAKLOON", "ADD_BRAND_OR_PACKAGING"]
    assert TARIFFS == (PP_54_2021,)


@pytest.mark.parametrize("schedule_id", list(PUBLISHED_TOTALS))
def test_items_add_up_to_the_published_total(schedule_id: str) -> None:
    schedule = PP_54_2021.schedule(schedule_id)
    assert schedule.published_total == PUBLISHED_TOTALS[schedule_id]
    assert sum(item.amount for item in schedule.items) == PUBLISHED_TOTALS[schedule_id]


def test_check_totals_is_empty_for_the_published_data() -> None:
    assert check_totals(PP_54_2021) == []


@pytest.mark.parametrize("schedule_id", list(PUBLISHED_ITEMS))
def test_each_schedule_lists_the_published_items(schedule_id: str) -> None:
    schedule = PP_54_2021.schedule(schedule_id)
    assert [(i.id, i.amount) for i in schedule.items] == PUBLISHED_ITEMS[schedule_id]


def test_units_and_per_diem_head_counts() -> None:
    initial = PP_54_2021.schedule(INITIAL)
    units = {item.id: item.unit for item in initial.items}
    assert units == {
        "APPLICATION_FEE": "fixed", "ADEQUACY_AUDIT": "fixed", "ADMIN_REVIEW": "fixed",
        "TECHNICAL_REVIEW": "fixed", "CERTIFICATE_ISSUANCE": "fixed",
        "LEAD_AUDITOR": "person", "AUDITOR": "person", "SAMPLING_OFFICER": "person",
        "PER_DIEM": "person-day",
    }
    per_diems = {s.id: s.item("PER_DIEM") for s in PP_54_2021.schedules}
    assert {k: (v.persons, v.rate) for k, v in per_diems.items() if v} == {
        INITIAL: (3, 300_000), SURVEILLANCE: (3, 300_000),
        MAKLOON: (2, 300_000), ADD_BRAND_OR_PACKAGING: (2, 300_000)}


def test_indonesian_labels_are_kept() -> None:
    initial = PP_54_2021.schedule(INITIAL)
    assert initial.label_id == "SPPT SNI"
    assert initial.items[0].label_id == "Biaya Permohonan"
    assert PP_54_2021.schedule(SURVEILLANCE).label_id == "Pengawasan Berkala (Surveilan)"
    assert PP_54_2021.schedule(MAKLOON).label_id == "Biaya Makloon"
    assert PP_54_2021.schedule(ADD_BRAND_OR_PACKAGING).label_id == "Penambahan Merek / Kemasan"


def test_reference_data_is_immutable() -> None:
    item = PP_54_2021.schedule(INITIAL).items[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.amount = 1  # type: ignore[misc]
    assert isinstance(PP_54_2021.schedules, tuple)
    assert all(isinstance(s.items, tuple) for s in PP_54_2021.schedules)


def test_all_amounts_are_ints() -> None:
    for schedule in PP_54_2021.schedules:
        assert type(schedule.published_total) is int
        for item in schedule.items:
            assert type(item.amount) is int
            assert type(item.rate) is int


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(TypeError, match="int"):
        FeeItem("1", "X", "x", "x", 500_000.0, "fixed")  # type: ignore[arg-type]


def test_check_totals_reports_a_mismatch() -> None:
    initial = PP_54_2021.schedule(INITIAL)
    wrong = dataclasses.replace(initial, published_total=11_000_000)
    tariff = dataclasses.replace(PP_54_2021, schedules=(wrong,))
    problems = check_totals(tariff)
    assert len(problems) == 2  # the item sum and the default quote both disagree
    assert problems[0] == ("INITIAL_OR_RECERT: items add up to Rp 10.950.000, "
                           "published total is Rp 11.000.000")


def test_check_totals_catches_a_per_diem_head_count_that_does_not_fit_the_team() -> None:
    # The items still sum to the total, but a per diem published for 3 persons on a
    # schedule with only 2 roles means the units are misread.
    makloon = PP_54_2021.schedule(MAKLOON)
    items = list(makloon.items)
    items[-1] = dataclasses.replace(items[-1], amount=900_000, persons=3)
    odd = Schedule(MAKLOON, "x", "x", 4_150_000, tuple(items))
    problems = check_totals(dataclasses.replace(PP_54_2021, schedules=(odd,)))
    assert problems == ["MAKLOON: default quote is Rp 3.850.000, published total is Rp 4.150.000"]


@pytest.mark.parametrize("schedule_id", list(PUBLISHED_TOTALS))
def test_a_default_quote_equals_the_published_total(schedule_id: str) -> None:
    q = quote(schedule_id, tariff=A_DAY)
    assert q.total == PUBLISHED_TOTALS[schedule_id]
    assert [(line.item_id, line.amount) for line in q.lines] == PUBLISHED_ITEMS[schedule_id]
    assert q.legal_basis == "PP 54/2021"
    assert q.currency == "IDR"


def test_scaled_initial_quote() -> None:
    # 1 lead auditor + 2 auditors + 1 PPC for 2 days (DOMAIN.md §5.2's illustration).
    # Its own terms add up to 20,650,000, not the 20,950,000 printed there:
    # fixed 5,150,000 + roles (2,150,000 + 2 x 1,650,000 + 1,100,000) x 2 = 13,100,000
    # + per diem 300,000 x 4 persons x 2 days = 2,400,000.
    q = quote(INITIAL, tariff=PP_54_2021, lead_auditors=1, auditors=2,
              sampling_officers=1, days=2)
    lines = {line.item_id: (line.quantity, line.unit_amount, line.amount) for line in q.lines}
    assert lines == {
        "APPLICATION_FEE": (1, 500_000, 500_000),
        "ADEQUACY_AUDIT": (1, 1_100_000, 1_100_000),
        "LEAD_AUDITOR": (2, 2_150_000, 4_300_000),
        "AUDITOR": (4, 1_650_000, 6_600_000),
        "SAMPLING_OFFICER": (2, 1_100_000, 2_200_000),
        "PER_DIEM": (8, 300_000, 2_400_000),
        "ADMIN_REVIEW": (1, 1_350_000, 1_350_000),
        "TECHNICAL_REVIEW": (1, 1_900_000, 1_900_000),
        "CERTIFICATE_ISSUANCE": (1, 300_000, 300_000),
    }
    assert q.total == 20_650_000
    assert (q.lead_auditors, q.auditors, q.sampling_officers, q.days) == (1, 2, 1, 2)


def test_surveillance_quote_for_two_days() -> None:
    q = quote(SURVEILLANCE, tariff=A_DAY, days=2)
    assert [(line.item_id, line.quantity, line.amount) for line in q.lines] == [
        ("LEAD_AUDITOR", 2, 4_300_000),
        ("AUDITOR", 2, 3_300_000),
        ("SAMPLING_OFFICER", 2, 2_200_000),
        ("PER_DIEM", 6, 1_800_000),
    ]
    assert q.total == 11_600_000


def test_makloon_defaults_to_no_auditor_and_accepts_zero() -> None:
    assert quote(MAKLOON, tariff=A_DAY).auditors == 0
    assert quote(MAKLOON, tariff=A_DAY, auditors=0).total == 3_850_000


def test_a_role_nobody_fills_is_left_off_the_quote() -> None:
    q = quote(SURVEILLANCE, tariff=A_DAY, sampling_officers=0)
    assert [line.item_id for line in q.lines] == ["LEAD_AUDITOR", "AUDITOR", "PER_DIEM"]
    assert q.total == 2_150_000 + 1_650_000 + 2 * 300_000


def test_quote_amounts_are_ints() -> None:
    q = quote(INITIAL, tariff=A_DAY, auditors=3, days=3)
    assert type(q.total) is int
    assert all(type(v) is int for line in q.lines
               for v in (line.quantity, line.unit_amount, line.amount))


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"lead_auditors": -1}, "lead_auditors"),
    ({"lead_auditors": 0}, "lead_auditors"),
    ({"auditors": -1}, "auditors"),
    ({"sampling_officers": -2}, "sampling_officers"),
    ({"days": 0}, "days"),
    ({"days": -1}, "days"),
    ({"days": 1.5}, "days"),
    ({"days": True}, "days"),
])
def test_nonsense_counts_are_refused_naming_the_argument(kwargs: dict[str, object],
                                                        argument: str) -> None:
    with pytest.raises(ValueError, match=f"^{argument}:") as info:
        quote(INITIAL, tariff=A_DAY, **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidQuote)
    assert info.value.argument == argument


@pytest.mark.parametrize("schedule_id", [MAKLOON, ADD_BRAND_OR_PACKAGING])
def test_auditors_on_a_schedule_without_an_auditor_line_are_refused(schedule_id: str) -> None:
    with pytest.raises(ValueError, match=r"^auditors: .*no auditor line"):
        quote(schedule_id, tariff=A_DAY, auditors=1)


def test_an_unknown_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^schedule_id: .*'LAB_TESTING'"):
        quote("LAB_TESTING", tariff=A_DAY)


def test_refusals_are_engine_input_errors() -> None:
    # The web layer maps InvalidInput to a client error; the field map names the argument.
    with pytest.raises(InvalidInput) as info:
        quote(INITIAL, tariff=A_DAY, days=0)
    assert list(info.value.errors) == ["days"]


def test_tariff_on_picks_the_version_in_force() -> None:
    assert tariff_on(date(2021, 1, 1)) is PP_54_2021
    assert tariff_on(date(2030, 12, 31)) is PP_54_2021
    assert tariff_on(datetime(2025, 6, 2, 10, tzinfo=UTC)) is PP_54_2021


def test_a_later_amendment_is_a_data_change() -> None:
    amended = dataclasses.replace(PP_54_2021, effective_from=date(2026, 1, 1),
                                  legal_basis="PP 54/2021 as amended")
    versions = (PP_54_2021, amended)
    assert tariff_on(date(2025, 12, 31), versions) is PP_54_2021
    assert tariff_on(date(2026, 1, 1), versions) is amended


def test_tariff_on_before_the_first_effective_date_is_refused() -> None:
    first = PP_54_2021.effective_from
    with pytest.raises(TariffNotInForce, match=f"takes effect on {first.isoformat()}"):
        tariff_on(date(2020, 12, 31))
    with pytest.raises(ValueError, match="no fee tariff was in force on 2020-12-31"):
        quote(INITIAL, tariff=date(2020, 12, 31))


def test_quote_without_a_tariff_uses_the_one_in_force_today() -> None:
    clock = FrozenClock(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    assert quote(INITIAL, clock=clock).tariff_effective_from == PP_54_2021.effective_from
    with pytest.raises(TariffNotInForce):
        quote(INITIAL, clock=FrozenClock(datetime(2020, 6, 1, tzinfo=UTC)))


def test_tariff_schedule_lookup_names_the_known_ids() -> None:
    with pytest.raises(KeyError, match="SURVEILLANCE"):
        Tariff("x", A_DAY, "IDR", (PP_54_2021.schedule(SURVEILLANCE),)).schedule(INITIAL)


@pytest.mark.parametrize(("amount", "text"), [
    (10_950_000, "Rp 10.950.000"),
    (5_800_000, "Rp 5.800.000"),
    (300_000, "Rp 300.000"),
    (999, "Rp 999"),
    (1_000, "Rp 1.000"),
    (0, "Rp 0"),
    (-1_500_000, "-Rp 1.500.000"),
])
def test_format_rupiah(amount: int, text: str) -> None:
    assert format_rupiah(amount) == text


def test_format_rupiah_refuses_a_float() -> None:
    with pytest.raises(TypeError):
        format_rupiah(10_950_000.0)  # type: ignore[arg-type]
