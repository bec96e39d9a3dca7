"""Working time in Indonesia: SLA durations counted in working days and office hours.

A working day is Monday to Friday, not an Indonesian public holiday (the
``holidays`` package) and not one of the organisation's own closure days (collective
leave, *cuti bersama*). Days and weeks of an ISO 8601 duration count working
days (``P1W`` is five of them) and keep the time of day; hours, minutes and
seconds count office time (08:00-16:00 local by default), so a one-hour step
started at 15:30 on a Friday is due at 08:30 on Monday. Months and years stay
calendar months and years, moved to the next working day if they end on a
closed one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

from engine.bpmn.host import DurationAdder, add_calendar_duration, parse_duration

CALENDAR_DAYS = "calendar-days"
WORKING_DAYS = "working-days"


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year))


class WorkingCalendar:
    def __init__(
        self,
        timezone: tzinfo,
        *,
        closures: Iterable[date] = (),
        office_start: time = time(8, 0),
        office_end: time = time(16, 0),
    ) -> None:
        if office_end <= office_start:
            raise ValueError("office hours must end after they start")
        self.timezone = timezone
        self.closures = frozenset(closures)
        self.office_start = office_start
        self.office_end = office_end

    # -- days ----------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        return (day.weekday() < 5 and day not in _public_holidays(day.year)
                and day not in self.closures)

    def next_working_day(self, day: date) -> date:
        """Return ``day`` if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    # -- durations -------------------------------------------------------------------

    def add(self, start: datetime, duration: str) -> datetime:
        """Add an ISO 8601 duration to ``start`` in working time; returns UTC-aware time."""
        parts = parse_duration(duration)
        local = start.astimezone(self.timezone)
        months = int(parts.get("years", 0) * 12 + parts.get("months", 0))
        if months:
            local = add_calendar_duration(local, f"P{months}M").astimezone(self.timezone)
            local = self._roll_to_working_day(local)
        days = int(parts.get("weeks", 0) * 5 + parts.get("days", 0))
        day = local.date()
        for _ in range(days):
            day = self.next_working_day(day + timedelta(days=1))
        local = datetime.combine(day, local.timetz().replace(tzinfo=None), self.timezone)
        seconds = (parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60
                   + parts.get("seconds", 0))
        if seconds:
            local = self._add_office_seconds(local, float(seconds))
        return local.astimezone(start.tzinfo or self.timezone)

    def _roll_to_working_day(self, moment: datetime) -> datetime:
        day = self.next_working_day(moment.date())
        if day == moment.date():
            return moment
        return datetime.combine(day, self.office_start, self.timezone)

    def _office_bounds(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.office_start, self.timezone),
                datetime.combine(day, self.office_end, self.timezone))

    def _add_office_seconds(self, moment: datetime, seconds: float) -> datetime:
        remaining = timedelta(seconds=seconds)
        current = moment
        while True:
            day = current.date()
            opens, closes = self._office_bounds(day)
            if not self.is_working_day(day) or current >= closes:
                current = self._office_bounds(self.next_working_day(day + timedelta(days=1)))[0]
                continue
            current = max(current, opens)
            available = closes - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = closes

    # -- measuring -------------------------------------------------------------------------

    def office_seconds_between(self, start: datetime, end: datetime) -> float:
        """Return the office time between two moments (0 if ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._office_bounds(day)
                low, high = max(opens, start), min(closes, end)
                if high > low:
                    total += (high - low).total_seconds()
            day += timedelta(days=1)
        return total

    @property
    def office_day_seconds(self) -> float:
        today = date(2000, 1, 3)
        opens, closes = self._office_bounds(today)
        return (closes - opens).total_seconds()

    def working_days_between(self, start: datetime, end: datetime) -> float:
        """Return elapsed working time in working days (an office day counts as 1)."""
        return self.office_seconds_between(start, end) / self.office_day_seconds


def duration_adder(calendar: WorkingCalendar, default: str) -> DurationAdder:
    """Return the function the engine adds SLA and timer durations with.

    The element's ``camunda:property name="calendar"`` (``working-days`` or
    ``calendar-days``) chooses; without it, ``default`` does.
    """

    def add(start: datetime, text: str, chosen: str | None = None) -> datetime:
        if (chosen or default) == WORKING_DAYS:
            return calendar.add(start, text)
        return add_calendar_duration(start, text)

    return add
