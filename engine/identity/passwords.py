"""Password hashing: scrypt, stored as a self-describing string.

A stored hash names the cost parameters it was made with, so that they can be
raised later without breaking the hashes already stored (they are re-hashed at the
next successful sign-in, when :func:`needs_rehash` says so).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass


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


def needs_rehash(stored: str) -> bool:
    """Tell whether a stored hash is malformed or made with other than the current parameters."""
    parsed = _parse_hash(stored)
    return parsed is None or parsed[0] != CURRENT_SCRYPT


@functools.cache
def decoy_hash() -> str:
    """Return a hash to check passwords of unknown users against, so they cost the same."""
    return hash_password(secrets.token_urlsafe(16))
