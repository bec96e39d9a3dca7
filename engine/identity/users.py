"""Users, passwords, sign-in rate limiting and API bearer tokens (ARCHITECTURE.md §5).

Passwords are hashed with scrypt and stored as a self-describing string, so that
the cost parameters can be raised later without breaking the hashes already
stored (they are re-hashed at the next successful sign-in). Bearer tokens are
random strings shown once; only their SHA-256 is kept, which is enough because
a token carries 256 bits of randomness and needs no slow hash.

Failed sign-ins slow guessing down without locking the owner out
(:class:`SignInLimits` holds the numbers; README.md explains them to operators):

* an address with too many failures in the window, whatever the user names,
  is refused until the oldest of them leaves the window;
* a user name is slowed down, never locked: after a few failures from one
  address, that address waits a delay that doubles with each further failure,
  up to a cap. Other addresses are not held up by it, so someone guessing
  from one address does not keep the owner out;
* once a user name's failures come from several addresses (guesses spread
  over many), the delay counts all of them and holds for every address.

The checks are two indexed queries over ``sign_in_failure``, which every server
process shares; a refused attempt checks no password and records nothing.

A failed sign-in is recorded as a row and raises :class:`Unauthenticated`. The
edge must therefore commit the transaction before it lets that error escape,
otherwise the failure is rolled back with it and the rate limit never trips::

    failure = None
    with engine.write() as services:
        try:
            user = services.identity.authenticate(name, password, remote_addr=addr)
        except Unauthenticated as exc:
            failure = exc  # leave the block normally so the failure row is committed
        else:
            issued = services.identity.issue_token(user)
    if failure:
        raise failure
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import math
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from engine.identity.access import ADMIN, ANALYST, CUSTOMER, Actor
from engine.models import ApiToken, SignInFailure, User, UserRole
from engine.time.clock import Clock

DEMO_PASSWORD = "demo"
DEMO_COMPANY = "PT Contoh Sejahtera"
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
WRONG_CREDENTIALS = "wrong user name or password"

# Writing last_used_at on every request would turn every API read into a write
# (and, on SQLite, into a wait for the single writer lock). A minute is precise
# enough to tell an administrator whether a token is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# The columns' widths; a longer user name or address in a failed sign-in is cut
# rather than refused, so that the failure is still counted.
_USERNAME_WIDTH = 255
_ADDRESS_WIDTH = 64


# -- password hashing ---------------------------------------------------------


@dataclass(frozen=True)
class ScryptParameters:
    """The scrypt cost parameters; a stored hash names the ones it was made with."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32

    def derive(self, password: str, salt: bytes) -> bytes:
        # OpenSSL refuses more than 32 MiB by default; allow what these parameters need.
        maxmem = 128 * self.r * (self.n + self.p + 2) + 2**20
        return hashlib.scrypt(password.encode(), salt=salt, n=self.n, r=self.r, p=self.p,
                              dklen=self.dklen, maxmem=maxmem)


CURRENT_SCRYPT = ScryptParameters()


def hash_password(password: str, parameters: ScryptParameters = CURRENT_SCRYPT) -> str:
    """Return ``scrypt$n$r$p$<salt>$<hash>`` (base64) for ``password`` with a fresh salt."""
    salt = secrets.token_bytes(16)
    derived = parameters.derive(password, salt)
    return "$".join((
        "scrypt", str(parameters.n), str(parameters.r), str(parameters.p),
        base64.b64encode(salt).decode(), base64.b64encode(derived).decode(),
    ))


def _parse_hash(stored: str) -> tuple[ScryptParameters, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        salt = base64.b64decode(parts[4], validate=True)
        derived = base64.b64decode(parts[5], validate=True)
        parameters = ScryptParameters(n=int(parts[1]), r=int(parts[2]), p=int(parts[3]),
                                      dklen=len(derived))
    except ValueError:
        return None
    return parameters, salt, derived


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against a stored hash in constant time; False for a malformed hash."""
    parsed = _parse_hash(stored)
    if parsed is None:
        return False
    parameters, salt, expected = parsed
    return hmac.compare_digest(parameters.derive(password, salt), expected)


def _needs_rehash(stored: str) -> bool:
    parsed = _parse_hash(stored)
    return parsed is None or parsed[0] != CURRENT_SCRYPT


@functools.cache
def _decoy_hash() -> str:
    """Return a hash to check passwords of unknown users against, so they cost the same."""
    return hash_password(secrets.token_urlsafe(16))


def _use_due(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- sign-in limits -------------------------------------------------------------


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


# -- the service --------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued bearer token; ``token`` is shown once and never stored."""

    token: str
    expires_at: datetime
    token_id: int


@dataclass
class CachedToken:
    actor: Actor
    token_id: int
    expires_at: datetime
    last_used_at: datetime | None


class TokenCache:
    """Tokens this process verified recently, so most requests skip the token query.

    An entry lives ``ttl`` seconds. Revoking a token or changing a user in this
    process drops entries at once; another server process notices within ``ttl``.
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, CachedToken]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> CachedToken | None:
        entry = self._entries.get(digest)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, digest: str, token: CachedToken) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (time.monotonic(), token)

    def discard(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class IdentityService:
    """Creates users, checks passwords with a rate limit, and issues and checks tokens."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        *,
        token_ttl: timedelta,
        limits: SignInLimits = SignInLimits(),
        cache: TokenCache | None = None,
        roles: tuple[str, ...] = (CUSTOMER, ADMIN, ANALYST),
    ) -> None:
        """:param roles: the roles users may hold (the engine's and its extensions')."""
        self.session = session
        self.clock = clock
        self.cache = cache
        self.roles = roles
        self.token_ttl = token_ttl
        self.limits = limits

    # -- users ----------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        *,
        roles: Iterable[str],
        company: str | None = None,
        display_name: str | None = None,
        check_password: bool = True,
    ) -> User:
        """Create a user with ``roles``; the user name is lower-cased.

        :param check_password: apply the password policy (at least
            ``MIN_PASSWORD_LENGTH`` characters, not the user name); only the demo
            users are created without it.
        :raises InvalidInput: with one message per field in ``errors``.
        :raises Conflict: when the user name is taken.
        """
        name = username.strip().lower()
        if isinstance(roles, str):  # one role given bare would otherwise split into letters
            roles = [roles]
        wanted = list(dict.fromkeys(r.strip() for r in roles))
        company = (company or "").strip() or None
        errors: dict[str, str] = {}

        if not USERNAME_PATTERN.fullmatch(name):
            errors["username"] = ("must be 3 to 64 characters: letters a-z, digits, "
                                  "'.', '_' or '-'")
        unknown = [r for r in wanted if r not in self.roles]
        if unknown:
            errors["roles"] = (f"unknown role {', '.join(repr(r) for r in unknown)}; "
                               f"known roles: {', '.join(self.roles)}")
        elif not wanted:
            errors["roles"] = f"give at least one role; known roles: {', '.join(self.roles)}"
        if CUSTOMER in wanted and company is None:
            errors["company"] = f"a user with role '{CUSTOMER}' must belong to a company"
        if check_password:
            if len(password) < MIN_PASSWORD_LENGTH:
                errors["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
            elif password.strip().lower() == name:
                errors["password"] = "must not be the user name"
        if errors:
            raise InvalidInput(f"user {username!r} not created", errors)

        if self._find(name) is not None:
            raise Conflict(f"a user named {name!r} exists already")
        user = User(
            username=name,
            display_name=(display_name or "").strip() or None,
            password_hash=hash_password(password),
            company=company,
            active=True,
            created_at=self.clock.now(),
            roles=[UserRole(role=r) for r in wanted],
        )
        self.session.add(user)
        self.session.flush()
        return user

    def user(self, username: str) -> User:
        """Return the user named ``username``.

        :raises NotFound: when there is none.
        """
        found = self._find(username.strip().lower())
        if found is None:
            raise NotFound(f"no user named {username!r}")
        return found

    def users(self) -> list[User]:
        """Return every user, by user name."""
        return list(self.session.scalars(sa.select(User).order_by(User.username)))

    def set_active(self, username: str, active: bool) -> User:
        """Allow or refuse the user's sign-ins and tokens; their tokens are kept.

        A deactivated user's tokens stop working at once in this process (the
        token cache is dropped) and within the cache's lifetime in others; they
        work again if the user is reactivated before they expire. Revoke them
        with :meth:`revoke_all_tokens` to end them for good.
        """
        user = self.user(username)
        user.active = active
        self.session.flush()
        if self.cache is not None:
            self.cache.clear()
        return user

    def ensure_demo_users(self) -> list[str] | None:
        """Create one demo user per role, named after it, if there are no users at all.

        The demo users' password is ``demo``; ``pelanggan`` belongs to
        ``DEMO_COMPANY``. Return the user names created, or None when the user
        table was not empty (demo users never mix with real ones).
        """
        if self.session.scalar(sa.select(User.id).limit(1)) is not None:
            return None
        for role in self.roles:
            self.add_user(
                role, DEMO_PASSWORD, roles=[role],
                company=DEMO_COMPANY if role == CUSTOMER else None,
                display_name=f"Demo {role}", check_password=False,
            )
        return list(self.roles)

    def demo_users(self) -> list[str]:
        """The demo users ``ensure_demo_users`` made that are still active, in role order."""
        found = {name: shown for name, shown in self.session.execute(
            sa.select(User.username, User.display_name)
            .where(User.username.in_(self.roles), User.active.is_(True)))}
        return [role for role in self.roles if found.get(role) == f"Demo {role}"]

    def _find(self, username: str) -> User | None:
        return self.session.scalars(sa.select(User).where(User.username == username)).first()

    # -- signing in -----------------------------------------------------------

    def authenticate(self, username: str, password: str, *,
                     remote_addr: str | None = None) -> User:
        """Return the active user whose password this is.

        A failure is recorded (and flushed) before :class:`Unauthenticated` is
        raised; the caller must commit it anyway (see the module docstring).

        :raises TooManyAttempts: while the address or the user name must wait
            (:class:`SignInLimits`); checked before the password, so that
            guessing right while limited does not help.
        :raises Unauthenticated: for an unknown user, a wrong password or an
            inactive user, all with the same message.
        """
        name = username.strip().lower()[:_USERNAME_WIDTH]
        address = address_key(remote_addr)
        self._refuse_if_limited(name, address)

        user = self._find(name)
        # An unknown user costs the same scrypt work as a known one, so the time
        # taken does not tell which user names exist.
        matches = verify_password(password, user.password_hash if user else _decoy_hash())
        if user is None or not matches or not user.active:
            self._record_failure(name, address)
            raise Unauthenticated(WRONG_CREDENTIALS)

        # A successful sign-in does not erase the failures: if it did, the
        # owner signing in would hand anyone guessing their password a fresh
        # set of attempts, and an attacker could reset an address's count by
        # signing in to an account of their own. The cost is that a user who
        # mistyped a few times has fewer spare attempts until the window passes.
        if _needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            self.session.flush()
        return user

    def _refuse_if_limited(self, username: str, address: str | None) -> None:
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

    def _record_failure(self, username: str, address: str | None) -> None:
        now = self.clock.now()
        # Purge what no longer counts, so the table stays as small as one window.
        self.session.execute(
            sa.delete(SignInFailure).where(SignInFailure.at <= now - self.limits.window)
        )
        self.session.add(SignInFailure(username=username, remote_addr=address, at=now))
        self.session.flush()

    # -- tokens ---------------------------------------------------------------

    def issue_token(self, user: User, *, name: str | None = None) -> IssuedToken:
        """Issue a bearer token for ``user``, valid for ``token_ttl``.

        :raises Unauthenticated: when the user is inactive.
        """
        if not user.active:
            raise Unauthenticated("this user account is deactivated")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        row = ApiToken(user_id=user.id, token_hash=_token_hash(token), name=name,
                       created_at=now, expires_at=now + self.token_ttl)
        self.session.add(row)
        self.session.flush()
        return IssuedToken(token=token, expires_at=row.expires_at, token_id=row.id)

    def actor_for_token(self, token: str, *, record_use: bool = True) -> Actor:
        """Return the actor a bearer token stands for, noting its use.

        ``last_used_at`` is written at most once per ``LAST_USED_RESOLUTION``;
        the write is flushed to the caller's session and kept only if the
        caller commits. A read-only caller passes ``record_use=False`` (a write
        inside a read transaction would make it a writer) and calls
        :meth:`record_token_use` in a write transaction when :meth:`use_due` says so.

        :raises Unauthenticated: for an unknown, revoked or expired token, or an
            inactive user.
        """
        digest = _token_hash(token)
        now = self.clock.now()
        if self.cache is not None:
            hit = self.cache.get(digest)
            if hit is not None and hit.expires_at > now:
                if _use_due(hit.last_used_at, now):
                    self._note_use(hit.token_id, now, record_use)
                    hit.last_used_at = now
                return hit.actor
        found = self.session.execute(
            sa.select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        ).first()
        if found is None:
            raise Unauthenticated("unknown token")
        row, user = found
        if row.revoked_at is not None:
            raise Unauthenticated("token revoked")
        if row.expires_at <= now:
            raise Unauthenticated("token expired")
        if not user.active:
            raise Unauthenticated("this user account is deactivated")
        actor = Actor(user.username, user.role_names, user.company)
        if _use_due(row.last_used_at, now):
            self._note_use(row.id, now, record_use)
        if self.cache is not None:
            self.cache.put(digest, CachedToken(actor, row.id, row.expires_at, now))
        return actor

    def _note_use(self, token_id: int, now: datetime, record_use: bool) -> None:
        if record_use:
            self.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id)
                                 .values(last_used_at=now))
        else:
            self.session.info.setdefault("sertiflow_token_uses", set()).add(token_id)

    def pending_token_uses(self) -> set[int]:
        """Tokens a read-only ``actor_for_token`` saw whose last use is due to be written."""
        found: set[int] = self.session.info.get("sertiflow_token_uses", set())
        return found

    def record_token_use(self, token_ids: set[int]) -> None:
        """Write ``last_used_at`` for tokens seen by a read-only request."""
        now = self.clock.now()
        for row in self.session.scalars(sa.select(ApiToken).where(ApiToken.id.in_(token_ids))):
            if _use_due(row.last_used_at, now):
                row.last_used_at = now
        self.session.flush()

    def revoke_token(self, token: str) -> None:
        """End a token now; revoking a revoked token changes nothing.

        :raises NotFound: when no such token was issued.
        """
        row = self.session.scalars(
            sa.select(ApiToken).where(ApiToken.token_hash == _token_hash(token))
        ).first()
        if row is None:
            raise NotFound("unknown token")
        if self.cache is not None:
            self.cache.discard(row.token_hash)
        if row.revoked_at is None:
            row.revoked_at = self.clock.now()
            self.session.flush()

    def revoke_all_tokens(self, username: str) -> int:
        """End every token of the user that still works; return how many.

        :raises NotFound: when there is no such user.
        """
        user = self.user(username)
        now = self.clock.now()
        result = self.session.execute(
            sa.update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > now)
            .values(revoked_at=now)
        )
        if self.cache is not None:
            self.cache.clear()
        return int(result.rowcount)  # type: ignore[attr-defined]
