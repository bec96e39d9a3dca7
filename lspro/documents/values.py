"""Values as the LSPro's documents print them: Indonesian dates, yes/no, brands, lists.

Everything here returns plain text; the document templates escape it (Jinja
autoescaping), so no value can ever add markup to a document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def indonesian_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def weekday(day: date) -> str:
    """The day's name, for minutes that begin "Pada hari ini, Senin, ...". """
    return DAYS[day.weekday()]


def display(value: Any) -> str:
    """A variable's value as plain text (``-`` when it is unset)."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, datetime):
        return f"{indonesian_date(value.date())} pukul {value:%H.%M}"
    if isinstance(value, date):
        return indonesian_date(value)
    if isinstance(value, str):
        parsed = _iso(value)
        return display(parsed) if parsed is not None else value
    if isinstance(value, Mapping):
        if "merek" in value:
            return f"{display(value.get('merek'))} ({display(value.get('kemasan'))})"
        return str(value.get("name") or value.get("id") or "-")
    if isinstance(value, (list, tuple)):
        return "; ".join(display(v) for v in value)
    return str(value)


def is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def brands(value: Any) -> list[dict[str, str]]:
    """Brands and packaging (``[{merek, kemasan}]``) as rows of text; others left out."""
    if not isinstance(value, (list, tuple)):
        return []
    return [{"merek": display(item.get("merek")), "kemasan": display(item.get("kemasan"))}
            for item in value if isinstance(item, Mapping)]


def _iso(text: str) -> date | None:
    if len(text) == 10 and text[4:5] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if len(text) > 10 and text[4:5] == "-" and "T" in text:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None
