"""API bearer tokens: what an issued token is, and the cache of tokens verified recently.

Tokens are random strings shown once; only their SHA-256 is kept (:func:`token_hash`),
which is enough because a token carries 256 bits of randomness and needs no slow hash.
:class:`~engine.identity.users.IdentityService` issues, checks and revokes them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.identity.access import Actor

# Writing last_used_at on every request would turn every API read into a write
# (and, on SQLite, into a wait for the single writer lock). A minute is precise
# enough to tell an administrator whether a token is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued bearer token; ``token`` is shown once and never stored."""

    token: str
    expires_at: datetime
    token_id: int


@dataclass
class CachedToken:
    """What :class:`TokenCache` keeps of a token it verified."""

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


def token_hash(token: str) -> str:
    """Return the digest a token is stored and looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Tell whether a token's ``last_used_at`` is old enough to be written again."""
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION
