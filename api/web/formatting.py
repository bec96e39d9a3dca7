"""Dates, times, numbers and Rupiah as people read them, in Indonesian or English.

Plain functions of a language code over Babel's CLDR data (no Flask), so a page
filter, a letter or a report can use the same wording: ``6 Des 2026 09.30`` and
``Rp1.500.000`` in Indonesian, ``6 Dec 2026 09:30`` and ``IDR 1,500,000`` in
English. Moments are shown in the service's time zone, which the caller gives.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

NOTHING = "\u2013"  # an en dash: no value
LOCALES = {"id": "id_ID", "en": "en_GB"}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["id"])


def day(value: date | datetime | None, lang: str, zone: tzinfo | None = None) -> str:
    """A calendar day: ``6 Des 2026`` / ``6 Dec 2026``; a moment's day in ``zone``."""
    if value is None:
        return NOTHING
    if isinstance(value, datetime):
        value = value.astimezone(zone).date() if zone is not None else value.date()
    return format_date(value, "medium", locale=locale_of(lang))


def moment(value: datetime | None, lang: str, zone: tzinfo | None = None) -> str:
    """A moment, to the minute, in ``zone``: ``6 Des 2026 09.30`` / ``6 Dec 2026 09:30``."""
    if value is None:
        return NOTHING
    local = value.astimezone(zone) if zone is not None else value
    locale = locale_of(lang)
    # Not the medium datetime pattern: it carries seconds, and a person plans by the minute.
    return (format_date(local, "medium", locale=locale) + " "
            + format_time(local, "short", tzinfo=local.tzinfo, locale=locale))


def number(value: int | float | Decimal | None, lang: str) -> str:
    """A number with the language's separators: ``1.234,5`` / ``1,234.5``."""
    if value is None:
        return NOTHING
    return format_decimal(value, locale=locale_of(lang))


def rupiah(amount: int | float | Decimal | None, lang: str) -> str:
    """An amount of Rupiah, whole: ``Rp1.500.000`` / ``IDR 1,500,000``."""
    if amount is None:
        return NOTHING
    # Rupiah are paid whole (no sen), whatever CLDR's currency digits say.
    return format_currency(amount, "IDR", format="¤#,##0" if lang == "id" else "¤ #,##0",
                           currency_digits=False, locale=locale_of(lang))
