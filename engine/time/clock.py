"""The one clock that sertiflow's code reads time from.

Services receive a :class:`Clock`; tests substitute a :class:`FrozenClock` and move
it forward without sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


def local_today(clock: Clock, zone: tzinfo) -> date:
    """Today's date in ``zone`` (the service's time zone), by ``clock``."""
    return clock.now().astimezone(zone).date()


def end_of_office_day(day: date, zone: tzinfo) -> datetime:
    """23:59 of ``day`` in ``zone``: the last moment of an office deadline."""
    return datetime.combine(day, time(23, 59), tzinfo=zone)


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware time")
        self._now = moment
