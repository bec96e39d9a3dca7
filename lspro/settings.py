"""The LSPro's own configuration: its name and accreditation code, certificate numbering,
validity and surveillance intervals, suspension and payment periods.

Read from ``SERTIFLOW_*`` environment variables like the engine's settings, and
checked at start-up so that a bad value stops the service with a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from engine.config import ConfigError, positive_int

DEFAULT_LSPRO_NAME = "LSPro BSPJI Manado"
DEFAULT_LSPRO_CODE = "LSPr-034-IDN"
DEFAULT_CERTIFICATE_NUMBER = "{seq:04d}/{lspro}/{sni}/{yyyy}"


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


def load_lspro_settings(environ: Mapping[str, str] | None = None) -> LsproSettings:
    """Build :class:`LsproSettings` from environment variables.

    :raises ConfigError: when a variable holds an unusable value.
    """
    env = os.environ if environ is None else environ
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
    )


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
