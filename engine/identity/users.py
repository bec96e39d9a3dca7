"""User accounts, signing in and bearer tokens: the :class:`IdentityService` (ARCHITECTURE.md §5).

Passwords are hashed as :mod:`.passwords` describes, bearer tokens are kept as
:mod:`.tokens` describes, and failed sign-ins are limited by :mod:`.signin`.

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

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from engine.identity.access import ADMIN, ANALYST, CUSTOMER, Actor
from engine.identity.passwords import decoy_hash, hash_password, needs_rehash, verify_password
from engine.identity.signin import (
    DEFAULT_SIGN_IN_LIMITS,
    USERNAME_WIDTH,
    FailedSignIns,
    SignInLimits,
    address_key,
)
from engine.identity.tokens import CachedToken, IssuedToken, TokenCache, token_hash, use_due
from engine.identity.verified import VerifiedCredentials
from engine.models import ApiToken, User, UserRole
from engine.time.clock import Clock

DEMO_PASSWORD = "demo"
DEMO_COMPANY = "PT Contoh Sejahtera"
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
WRONG_CREDENTIALS = "wrong user name or password"


class IdentityService:
    """Creates users, checks passwords with a rate limit, and issues and checks tokens."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        *,
        token_ttl: timedelta,
        limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
        cache: TokenCache | None = None,
        verified: VerifiedCredentials | None = None,
        roles: tuple[str, ...] = (CUSTOMER, ADMIN, ANALYST),
    ) -> None:
        """:param roles: the roles users may hold (the engine's and its extensions').
        :param verified: passwords verified recently (:mod:`.verified`); None checks
            every password with scrypt.
        """
        self.session = session
        self.clock = clock
        self.cache = cache
        self.verified = verified
        self.roles = roles
        self.token_ttl = token_ttl
        self.limits = limits
        self.failures = FailedSignIns(session, clock, limits)

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

    def set_password(self, username: str, password: str) -> User:
        """Give the user a new password (the policy of :meth:`add_user` applies).

        The old password stops working at once, on every server process: a
        remembered verification is tied to the stored hash it matched.

        :raises NotFound: when there is no such user.
        :raises InvalidInput: when the password breaks the policy.
        """
        user = self.user(username)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput("password not changed", {
                "password": f"must be at least {MIN_PASSWORD_LENGTH} characters"})
        if password.strip().lower() == user.username:
            raise InvalidInput("password not changed", {"password": "must not be the user name"})
        user.password_hash = hash_password(password)
        self.session.flush()
        if self.verified is not None:
            self.verified.clear()
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
                     remote_addr: str | None = None, read_only: bool = False) -> User:
        """Return the active user whose password this is.

        A failure is recorded (and flushed) before :class:`Unauthenticated` is
        raised; the caller must commit it anyway (see the module docstring).

        :param read_only: for a caller in a read transaction, where a write would
            make it a writer: a failure is not recorded (the caller records it with
            :meth:`record_failed_sign_in` in a write transaction of its own before
            it lets the error escape), and a hash due for :func:`needs_rehash`
            keeps its old parameters until a sign-in that may write.
        :raises TooManyAttempts: while the address or the user name must wait
            (:class:`SignInLimits`); checked before the password, so that
            guessing right while limited does not help.
        :raises Unauthenticated: for an unknown user, a wrong password or an
            inactive user, all with the same message.
        """
        name, address = _sign_in_key(username, remote_addr)
        self.failures.refuse_if_limited(name, address)

        user = self._find(name)
        now = self.clock.now()
        # The row is read on every call, so a deactivation or a role change counts
        # at once; a cached success is keyed on the stored hash, so a changed
        # password misses it. Only a success is ever remembered.
        remembered = (user is not None and self.verified is not None
                      and self.verified.known(name, password, user.password_hash, now))
        if remembered:
            matches = True
        else:
            # An unknown user costs the same scrypt work as a known one, so the
            # time taken does not tell which user names exist.
            matches = verify_password(password, user.password_hash if user else decoy_hash())
        if user is None or not matches or not user.active:
            if not read_only:
                self.failures.record(name, address)
            raise Unauthenticated(WRONG_CREDENTIALS)

        # A successful sign-in does not erase the failures: if it did, the
        # owner signing in would hand anyone guessing their password a fresh
        # set of attempts, and an attacker could reset an address's count by
        # signing in to an account of their own. The cost is that a user who
        # mistyped a few times has fewer spare attempts until the window passes.
        if needs_rehash(user.password_hash) and not read_only:
            user.password_hash = hash_password(password)
            self.session.flush()
        if self.verified is not None and not remembered:
            # Counted from the scrypt check, not slid on by each use: the
            # password is really checked again once every ttl.
            self.verified.remember(name, password, user.password_hash, now)
        return user

    def record_failed_sign_in(self, username: str, remote_addr: str | None) -> None:
        """Record a failure that a ``read_only`` :meth:`authenticate` raised (flushed;
        the caller commits it). The password is not checked again.
        """
        self.failures.record(*_sign_in_key(username, remote_addr))

    # -- tokens ---------------------------------------------------------------

    def issue_token(self, user: User, *, name: str | None = None) -> IssuedToken:
        """Issue a bearer token for ``user``, valid for ``token_ttl``.

        :raises Unauthenticated: when the user is inactive.
        """
        if not user.active:
            raise Unauthenticated("this user account is deactivated")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        row = ApiToken(user_id=user.id, token_hash=token_hash(token), name=name,
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
        :meth:`record_token_use` in a write transaction for the tokens
        :meth:`pending_token_uses` lists.

        :raises Unauthenticated: for an unknown, revoked or expired token, or an
            inactive user.
        """
        digest = token_hash(token)
        now = self.clock.now()
        if self.cache is not None:
            hit = self.cache.get(digest)
            if hit is not None and hit.expires_at > now:
                if use_due(hit.last_used_at, now):
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
        if use_due(row.last_used_at, now):
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
            if use_due(row.last_used_at, now):
                row.last_used_at = now
        self.session.flush()

    def revoke_token(self, token: str) -> None:
        """End a token now; revoking a revoked token changes nothing.

        :raises NotFound: when no such token was issued.
        """
        row = self.session.scalars(
            sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token))
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


def _sign_in_key(username: str, remote_addr: str | None) -> tuple[str, str | None]:
    """The user name and address a sign-in's failures are counted by."""
    return username.strip().lower()[:USERNAME_WIDTH], address_key(remote_addr)
