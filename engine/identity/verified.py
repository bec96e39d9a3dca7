"""Passwords verified recently, so HTTP Basic does not pay for scrypt on every request.

A password check costs one scrypt derivation (tens of milliseconds, on purpose).
A client that sends HTTP Basic on every call (Camunda Modeler against
``/engine-rest``, scripts) would pay it on each one. :class:`VerifiedCredentials`
remembers, for ``ttl`` seconds, that a user name and password matched a stored
hash.

What is kept is an HMAC-SHA256, under a random key made when the process starts
and never stored, of the user name, the password *and the stored hash it was
checked against*; never the password. Because the stored hash is part of the
key, a changed password (a new hash with a new salt, written by any process)
misses the cache at once on every node; the user row is read on every request
anyway, so a deactivated user or changed roles take effect at once as well.
Only successes are remembered: a wrong password is always checked with scrypt,
and counted by the sign-in limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timedelta

#: How long a verified password is remembered unless configured otherwise.
DEFAULT_CREDENTIAL_TTL = timedelta(seconds=60)
# More entries than any real set of users signing in within a minute; past it
# the cache is emptied rather than grown (the next requests pay scrypt again).
_MAX_ENTRIES = 10_000


class VerifiedCredentials:
    """Credentials that matched their stored hash within the last ``ttl``.

    A ``ttl`` of zero turns the cache off. Times come from the caller (the
    engine's clock), so that tests can move them.
    """

    def __init__(self, ttl: timedelta = DEFAULT_CREDENTIAL_TTL) -> None:
        self.ttl = ttl
        self._key = secrets.token_bytes(32)
        self._until: dict[bytes, datetime] = {}
        self._lock = threading.Lock()

    def _digest(self, username: str, password: str, stored_hash: str) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        # Each part is length-prefixed, so no two different triples give one message.
        for part in (username, password, stored_hash):
            data = part.encode("utf-8", "surrogatepass")
            mac.update(len(data).to_bytes(4, "big"))
            mac.update(data)
        return mac.digest()

    def known(self, username: str, password: str, stored_hash: str, now: datetime) -> bool:
        """Whether this password was verified against ``stored_hash`` within ``ttl``."""
        if not self.ttl:
            return False
        until = self._until.get(self._digest(username, password, stored_hash))
        return until is not None and now < until

    def remember(self, username: str, password: str, stored_hash: str, now: datetime) -> None:
        """Note that the password matched ``stored_hash`` (call only after scrypt said so)."""
        if not self.ttl:
            return
        digest = self._digest(username, password, stored_hash)
        with self._lock:
            if len(self._until) >= _MAX_ENTRIES:
                self._until.clear()
            self._until[digest] = now + self.ttl

    def clear(self) -> None:
        """Forget everything (a user changed in this process)."""
        with self._lock:
            self._until.clear()
