"""The LSPro's own configuration: its name, address and accreditation code, who signs
its documents and where, certificate numbering and signature keys, validity and
surveillance intervals, suspension and payment periods.

Read from ``SERTIFLOW_*`` environment variables like the engine's settings, and
checked at start-up so that a bad value stops the service with a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.config import ConfigError, positive_int

DEFAULT_LSPRO_NAME = "LSPro BSPJI Manado"
DEFAULT_LSPRO_CODE = "LSPr-034-IDN"
DEFAULT_CERTIFICATE_NUMBER = "{seq:04d}/{lspro}/{sni}/{yyyy}"
DEFAULT_LSPRO_ADDRESS = "Manado, Sulawesi Utara"
DEFAULT_SIGNATORY_POSITION = "Pimpinan Puncak"
DEFAULT_SIGNING_PLACE = "Manado"
# A key id: what a signature starts with, so that a check knows which key made it.
KEY_ID = re.compile(r"[A-Z0-9]{1,4}")


@dataclass(frozen=True)
class LsproSettings:
    # The LSPro itself: its name on letters and its KAN accreditation number.
    lspro_name: str = DEFAULT_LSPRO_NAME
    lspro_code: str = DEFAULT_LSPRO_CODE
    # Certificate numbers: a str.format pattern over seq, lspro, sni, yyyy.
    certificate_number_pattern: str = DEFAULT_CERTIFICATE_NUMBER
    certificate_validity_years: int = 4
    surveillance_interval_months: int = 12
    suspension_days: int = 90
    # An e-Billing code is payable for this many calendar days, until 23:59 local time.
    billing_payment_days: int = 14
    # The engine's time zone (SERTIFLOW_TIMEZONE), copied in when the extension loads.
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    # The letterhead's address line, and who signs documents, where.
    lspro_address: str = DEFAULT_LSPRO_ADDRESS
    signatory_name: str = ""
    signatory_position: str = DEFAULT_SIGNATORY_POSITION
    signatory_id: str = ""
    signing_place: str = DEFAULT_SIGNING_PLACE
    # A folder whose document templates replace the shipped ones of the same name.
    document_templates: Path | None = None
    # The key that signs certificates (SERTIFLOW_CERTIFICATE_KEY) with its id, and
    # earlier keys still accepted when checking; None: derived from the engine's
    # secret key when the extension loads (lspro.signature.derived_key).
    certificate_key: bytes | None = field(default=None, repr=False)
    certificate_key_id: str = "D"
    old_certificate_keys: Mapping[str, bytes] = field(default_factory=dict, hash=False,
                                                       repr=False)
    # Where the public check page is served (the engine's SERTIFLOW_PUBLIC_URL, copied
    # in when the extension loads); without it a certificate carries no QR code.
    public_url: str | None = None


def load_lspro_settings(environ: Mapping[str, str] | None = None) -> LsproSettings:
    """Build :class:`LsproSettings` from environment variables.

    :raises ConfigError: when a variable holds an unusable value.
    """
    env = os.environ if environ is None else environ
    key, key_id, old_keys = _keys(env)
    return LsproSettings(
        lspro_name=env.get("SERTIFLOW_LSPRO_NAME") or DEFAULT_LSPRO_NAME,
        lspro_code=env.get("SERTIFLOW_LSPRO_CODE") or DEFAULT_LSPRO_CODE,
        certificate_number_pattern=_number_pattern(env.get("SERTIFLOW_CERTIFICATE_NUMBER")),
        certificate_validity_years=positive_int(
            env.get("SERTIFLOW_CERTIFICATE_VALIDITY_YEARS"), 4,
            "SERTIFLOW_CERTIFICATE_VALIDITY_YEARS", 20),
        surveillance_interval_months=positive_int(
            env.get("SERTIFLOW_SURVEILLANCE_MONTHS"), 12, "SERTIFLOW_SURVEILLANCE_MONTHS", 60),
        suspension_days=positive_int(
            env.get("SERTIFLOW_SUSPENSION_DAYS"), 90, "SERTIFLOW_SUSPENSION_DAYS", 3650),
        billing_payment_days=positive_int(
            env.get("SERTIFLOW_BILLING_PAYMENT_DAYS"), 14, "SERTIFLOW_BILLING_PAYMENT_DAYS", 365),
        lspro_address=_text(env, "SERTIFLOW_LSPRO_ADDRESS", DEFAULT_LSPRO_ADDRESS),
        signatory_name=_text(env, "SERTIFLOW_SIGNATORY_NAME", ""),
        signatory_position=_text(env, "SERTIFLOW_SIGNATORY_POSITION",
                                 DEFAULT_SIGNATORY_POSITION),
        signatory_id=_text(env, "SERTIFLOW_SIGNATORY_ID", ""),
        signing_place=_text(env, "SERTIFLOW_SIGNING_PLACE", DEFAULT_SIGNING_PLACE),
        document_templates=_folder(env.get("SERTIFLOW_DOCUMENT_TEMPLATES")),
        certificate_key=key, certificate_key_id=key_id, old_certificate_keys=old_keys,
    )


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or "").strip()
    if len(value) > 255:
        raise ConfigError(f"{name} must be at most 255 characters")
    return value or default


def _folder(value: str | None) -> Path | None:
    if not value:
        return None
    folder = Path(value)
    if not folder.is_dir():
        raise ConfigError(f"SERTIFLOW_DOCUMENT_TEMPLATES must be a folder, not {value!r}")
    return folder


def _key(value: str, name: str, default_id: str | None) -> tuple[str, bytes]:
    """``ID:SECRET`` (or a bare ``SECRET`` when ``default_id`` is given) as (id, bytes)."""
    key_id, colon, secret = value.strip().partition(":")
    if not colon:
        if default_id is None:
            raise ConfigError(f"{name} must list keys as ID:SECRET")
        key_id, secret = default_id, value.strip()
    key_id = key_id.strip().upper()
    if not KEY_ID.fullmatch(key_id):
        raise ConfigError(f"{name}: a key id is 1 to 4 letters or digits, not {key_id!r}")
    if len(secret.strip()) < 16:
        raise ConfigError(f"{name}: a key must be at least 16 characters long")
    return key_id, secret.strip().encode()


def _keys(env: Mapping[str, str]) -> tuple[bytes | None, str, dict[str, bytes]]:
    """The certificate key (SERTIFLOW_CERTIFICATE_KEY, ``[ID:]SECRET``, id ``K`` when
    bare; unset: none, id ``D`` for the derived one) and the old keys still accepted
    (SERTIFLOW_CERTIFICATE_OLD_KEYS, ``ID:SECRET`` separated by commas)."""
    key: bytes | None = None
    key_id = "D"
    current = env.get("SERTIFLOW_CERTIFICATE_KEY")
    if current:
        key_id, key = _key(current, "SERTIFLOW_CERTIFICATE_KEY", "K")
    old: dict[str, bytes] = {}
    for part in (env.get("SERTIFLOW_CERTIFICATE_OLD_KEYS") or "").split(","):
        if part.strip():
            old_id, old_key = _key(part, "SERTIFLOW_CERTIFICATE_OLD_KEYS", None)
            if old_id in old or old_id == key_id:
                raise ConfigError(f"SERTIFLOW_CERTIFICATE_OLD_KEYS: key id {old_id} is used "
                                  "twice; every key needs its own id")
            old[old_id] = old_key
    return key, key_id, old


def certificate_number(pattern: str, *, seq: int, lspro: str, sni: str, year: int) -> str:
    """Format a certificate number; ``sni`` is the standard's number without its edition."""
    return pattern.format(seq=seq, lspro=lspro, sni=sni, yyyy=f"{year:04d}")


def _number_pattern(value: str | None) -> str:
    pattern = value or DEFAULT_CERTIFICATE_NUMBER
    try:
        sample = certificate_number(pattern, seq=1, lspro="X", sni="1", year=2000)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError("SERTIFLOW_CERTIFICATE_NUMBER must be a pattern over {seq}, "
                          f"{{lspro}}, {{sni}} and {{yyyy}}, not {pattern!r} ({exc})") from None
    if "{seq" not in pattern or len(sample) > 200:
        raise ConfigError("SERTIFLOW_CERTIFICATE_NUMBER must contain {seq} (the registration "
                          f"sequence number) and stay short, not {pattern!r}")
    return pattern
