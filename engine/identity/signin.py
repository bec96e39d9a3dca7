"""The sign-in limit: failed sign-ins slow guessing down without locking the owner out.

:class:`SignInLimits` holds the numbers (README.md explains them to operators):

* an address with too many failures in the window, whatever the user names,
  is refused until the oldest of them leaves the window;
* a user name is slowed down, never locked: after a few failures from one
  address, that address waits a delay that doubles with each further failure,
  up to a cap. Other addresses are not held up by it, so someone guessing
  from one address does not keep the owner out;
* once a user name's failures come from several addresses (guesses spread
  over many), the delay counts all of them and holds for every address.

The checks are two indexed queries over ``sign_in_failure``, which every server
process shares (:class:`FailedSignIns`); a refused attempt checks no password and
records nothing. A failure's row must be committed even though the sign-in is then
refused (see :meth:`~engine.identity.users.IdentityService.authenticate`).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import TooManyAttempts
from engine.models import SignInFailure
from engine.time.clock import Clock

# The columns' widths; a longer user name or address in a failed sign-in is cut
# rather than refused, so that the failure is still counted.
USERNAME_WIDTH = 255
_ADDRESS_WIDTH = 64


@dataclass(frozen=True)
class SignInLimits:
    """How failed sign-ins slow further attempts down (see the module docstring).

    With the defaults one address gets at most 20 failures in 15 minutes, and a
    user name about one guess a minute once it is under attack: 5 free, then
    waits of 1, 2, 4 ... 32 seconds, then 60 seconds after every failure.
    """

    window: timedelta = timedelta(minutes=15)
    per_address: int = 20
    free_failures: int = 5
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)
    # Failures for one user name from this many addresses make its delay shared.
    spread_addresses: int = 3

    def delay(self, failures: int) -> timedelta:
        """The wait after the last of ``failures`` failures for a user name."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 32)  # 2**32 s is past any cap
        return min(self.first_delay * 2**doublings, self.max_delay)


#: The limits a server applies unless told otherwise.
DEFAULT_SIGN_IN_LIMITS = SignInLimits()


def address_key(remote_addr: str | None) -> str | None:
    """The address failures are counted by: an IPv6 client's /64 network, as it may
    use any address in it; an IPv4 address as such, also when IPv4-mapped.
    """
    if not remote_addr:
        return None
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr[:_ADDRESS_WIDTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class FailedSignIns:
    """The failed sign-ins of the last window, as rows of ``sign_in_failure``."""

    def __init__(self, session: Session, clock: Clock, limits: SignInLimits) -> None:
        self.session = session
        self.clock = clock
        self.limits = limits

    def refuse_if_limited(self, username: str, address: str | None) -> None:
        """Raise :class:`TooManyAttempts` while the address or the user name must wait."""
        now = self.clock.now()
        since = now - self.limits.window
        waits = [self._user_name_wait(username, address, since)]
        if address is not None:
            waits.append(self._address_wait(address, since))
        wait = max(waits) - now
        if wait > timedelta(0):
            retry_after = max(1, math.ceil(wait.total_seconds()))
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {retry_after} seconds", retry_after
            )

    def _address_wait(self, address: str, since: datetime) -> datetime:
        """Until when the address is refused: its ``per_address``-th latest failure
        counts until it leaves the window.
        """
        oldest_counted = self.session.scalar(
            sa.select(SignInFailure.at)
            .where(SignInFailure.remote_addr == address, SignInFailure.at > since)
            .order_by(SignInFailure.at.desc())
            .offset(self.limits.per_address - 1)
            .limit(1)
        )
        return since if oldest_counted is None else oldest_counted + self.limits.window

    def _user_name_wait(self, username: str, address: str | None, since: datetime) -> datetime:
        """Until when the user name waits for a try from ``address``."""
        here = (SignInFailure.remote_addr.is_(None) if address is None
                else SignInFailure.remote_addr == address)
        total, last, addresses, here_total, here_last = self.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(SignInFailure.at),
                sa.func.count(sa.distinct(sa.func.coalesce(SignInFailure.remote_addr, ""))),
                sa.func.count(sa.case((here, 1))),
                sa.func.max(sa.case((here, SignInFailure.at))),
            ).where(SignInFailure.username == username, SignInFailure.at > since)
        ).one()
        until = since
        if here_last is not None:
            until = here_last + self.limits.delay(here_total)
        if last is not None and addresses >= self.limits.spread_addresses:
            until = max(until, last + self.limits.delay(total))
        return until

    def record(self, username: str, address: str | None) -> None:
        """Note a failed sign-in (flushed; the caller commits it)."""
        now = self.clock.now()
        # Purge what no longer counts, so the table stays as small as one window.
        self.session.execute(
            sa.delete(SignInFailure).where(SignInFailure.at <= now - self.limits.window)
        )
        self.session.add(SignInFailure(username=username, remote_addr=address, at=now))
        self.session.flush()
