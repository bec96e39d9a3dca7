"""The keyed signature printed on an SPPT SNI, and its check on the public page.

A certificate's signature is an HMAC-SHA256, under the LSPro's certificate key,
of a canonical encoding of the fields the register holds for it: number, holder,
product, SNI, scope (scheme type, brands and packaging), issue and expiry dates.
The first 80 bits are printed in Crockford's base 32, in groups of four, after the
id of the key that made them: ``K-7QH3-M2XD-K9PA-ZZ01``. That one code is printed
for a person to type and carried in the QR code's link to the check page.

80 bits are plenty for a code checked only online, one guess per request: nobody
can try 2**80 of them. A check recomputes the code from the register's current
fields, so a certificate whose printed data were altered, or a code made up,
does not match. The key id lets a key be replaced: signatures made with an old
key still check while that key is listed in ``SERTIFLOW_CERTIFICATE_OLD_KEYS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from lspro.models import Certificate
from lspro.settings import LsproSettings

# Crockford's base 32: no I, L, O or U, so that a typed code is not misread.
_STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = str.maketrans(_STANDARD, _CROCKFORD)
# What a person may type for a digit: O for 0, I and L for 1.
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_CHARS: Final = 16  # 80 bits
GROUP: Final = 4
# Which encoding the code covers; a new one would get a new tag.
_VERSION: Final = "sppt-sni-1"

GENUINE = "genuine"
ALTERED = "altered"
UNKNOWN = "unknown"


def derived_key(secret_key: str) -> bytes:
    """The certificate key when none is configured: one derived from the engine's
    secret key (``SERTIFLOW_SECRET_KEY`` or ``instance/secret_key``)."""
    return hmac.new(secret_key.encode(), b"sertiflow certificate signature key",
                    hashlib.sha256).digest()


def canonical(certificate: Certificate) -> bytes:
    """The signed fields as one unambiguous byte string (sorted JSON, ASCII only)."""
    fields = {
        "v": _VERSION,
        "number": certificate.number,
        "holder": certificate.company,
        "product": [certificate.product_code, certificate.product_name],
        "sni": certificate.sni,
        "scope": {"scheme_type": certificate.scheme_type,
                  "brands": [[str(b.get("merek", "")), str(b.get("kemasan", ""))]
                             for b in certificate.brands or []]},
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=True,
                      separators=(",", ":")).encode()


def _code(key: bytes, certificate: Certificate) -> str:
    digest = hmac.new(key, canonical(certificate), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().translate(_TO_CROCKFORD)


def sign(certificate: Certificate, settings: LsproSettings) -> str:
    """The certificate's signature with the current key, as printed."""
    if settings.certificate_key is None:
        raise RuntimeError("no certificate key: the LSPro extension derives one at load")
    code = _code(settings.certificate_key, certificate)
    groups = "-".join(code[i:i + GROUP] for i in range(0, CODE_CHARS, GROUP))
    return f"{settings.certificate_key_id}-{groups}"


def normalise(typed: str) -> tuple[str, str] | None:
    """A signature as typed or scanned -> (key id, code), or None when it cannot be one.

    Any letter case; dashes or spaces between the groups, or none at all (the code is
    then the last 16 characters); O for 0, I and L for 1.
    """
    parts = [part for part in re.split(r"[\s\-]+", typed.upper()) if part]
    if len(parts) == 1 and len(parts[0]) > CODE_CHARS:
        parts = [parts[0][:-CODE_CHARS], parts[0][-CODE_CHARS:]]
    if len(parts) < 2:
        return None
    key_id, code = parts[0], "".join(parts[1:]).translate(_TYPED)
    if len(code) != CODE_CHARS or any(c not in _CROCKFORD for c in code):
        return None
    return key_id, code


@dataclass(frozen=True)
class SignatureCheck:
    """What the check page says: ``genuine``, ``altered`` (or forged) or ``unknown``."""

    verdict: str
    certificate: Certificate | None


def check(certificate: Certificate | None, typed: str, settings: LsproSettings
          ) -> SignatureCheck:
    """Check ``typed`` against the register's current fields of ``certificate``."""
    if certificate is None:
        return SignatureCheck(UNKNOWN, None)
    parsed = normalise(typed)
    if parsed is None:
        return SignatureCheck(ALTERED, certificate)
    key_id, code = parsed
    keys = dict(settings.old_certificate_keys)
    if settings.certificate_key is not None:
        keys[settings.certificate_key_id] = settings.certificate_key
    key = keys.get(key_id)
    if key is None:
        return SignatureCheck(ALTERED, certificate)
    genuine = hmac.compare_digest(_code(key, certificate).encode(), code.encode())
    return SignatureCheck(GENUINE if genuine else ALTERED, certificate)


def check_url(base_url: str, number: str, signature: str) -> str:
    """The public check page's address for this certificate and signature (the QR code)."""
    return f"{base_url.rstrip('/')}/verify?{urlencode({'number': number, 's': signature})}"
