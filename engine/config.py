"""Read sertiflow's configuration from the environment, in one place.

Every environment variable the service understands is read here, converted to
its type and checked, so that a bad value stops the service at start-up with a
message instead of failing later in a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .notifications.mailer import SmtpSettings

CALENDARS = ("working-days", "calendar-days")
PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """An environment variable holds a value sertiflow cannot use."""


def _flag(value: str | None, default: bool, name: str) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _positive_float(value: str | None, default: float, name: str) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive, not {value!r}")
    return number


def _seconds(value: str | None, default: float, name: str, maximum: float) -> float:
    """A number of seconds from 0 (off) to ``maximum``."""
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}") from None
    if not 0 <= number <= maximum:
        raise ConfigError(f"{name} must be between 0 and {maximum:g} seconds, not {value!r}")
    return number


@dataclass(frozen=True)
class Settings:
    """The service's configuration, typed and validated."""

    instance_path: Path
    database_url: str
    secret_key: str
    demo: bool
    calendar: str
    timezone: ZoneInfo
    script_timeout: float = 2.0
    script_memory_mb: int = 64
    closure_days: frozenset[date] = frozenset()
    smtp: SmtpSettings | None = None
    token_ttl_hours: float = 12.0
    # Seconds a verified password is remembered (engine.identity.verified); 0: never.
    credential_cache_seconds: float = 60.0
    # Served over HTTPS (directly or behind a proxy): the page session cookie is
    # then sent only over HTTPS.
    secure_cookies: bool = False
    upload_max_bytes: int = 20 * 1024 * 1024
    documents_path: Path = field(default_factory=lambda: PROJECT_ROOT / "instance" / "documents")
    processes_path: Path = field(default_factory=lambda: PROJECT_ROOT / "processes")
    forms_path: Path = field(default_factory=lambda: PROJECT_ROOT / "forms")
    # The address people reach the pages at ("https://sertiflow.example.go.id"), for
    # links written where no request is at hand: e-mails, printed QR codes. None: unset.
    public_url: str | None = None
    # Notifications older than this many days are deleted, sent or not (without SMTP
    # none is ever sent, and the table would only grow).
    notification_days: int = 30


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    demo_default: bool = False,
    instance_path: Path | None = None,
) -> Settings:
    """Build :class:`Settings` from environment variables.

    :param demo_default: whether demo users are created when ``SERTIFLOW_DEMO``
        is unset (on for ``sertiflow run``, off for ``sertiflow serve``).
    :raises ConfigError: when a variable holds an unusable value.
    """
    env = os.environ if environ is None else environ
    folder = Path(env.get("SERTIFLOW_INSTANCE_PATH") or instance_path or PROJECT_ROOT / "instance")
    folder.mkdir(parents=True, exist_ok=True)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{folder / 'sertiflow.db'}"
    if database_url.startswith("postgres://"):
        # Heroku-style URLs name no driver; SQLAlchemy needs one.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if not database_url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError(f"DATABASE_URL must be a sqlite or postgresql URL, not {database_url!r}")

    calendar = env.get("SERTIFLOW_CALENDAR") or "working-days"
    if calendar not in CALENDARS:
        choices = ", ".join(CALENDARS)
        raise ConfigError(f"SERTIFLOW_CALENDAR must be one of {choices}, not {calendar!r}")

    tz_name = env.get("SERTIFLOW_TIMEZONE") or "Asia/Jakarta"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SERTIFLOW_TIMEZONE is not a known time zone: {tz_name!r}") from None

    return Settings(
        instance_path=folder,
        database_url=database_url,
        secret_key=env.get("SERTIFLOW_SECRET_KEY") or _stored_secret(folder),
        demo=_flag(env.get("SERTIFLOW_DEMO"), demo_default, "SERTIFLOW_DEMO"),
        secure_cookies=_flag(env.get("SERTIFLOW_SECURE_COOKIES"), False,
                             "SERTIFLOW_SECURE_COOKIES"),
        calendar=calendar,
        timezone=timezone,
        script_timeout=_positive_float(
            env.get("SERTIFLOW_SCRIPT_TIMEOUT"), 2.0, "SERTIFLOW_SCRIPT_TIMEOUT"
        ),
        script_memory_mb=positive_int(
            env.get("SERTIFLOW_SCRIPT_MEMORY_MB"), 64, "SERTIFLOW_SCRIPT_MEMORY_MB", 16384
        ),
        closure_days=_dates(env.get("SERTIFLOW_CLOSURE_DAYS"), "SERTIFLOW_CLOSURE_DAYS"),
        smtp=_smtp(env),
        token_ttl_hours=_positive_float(
            env.get("SERTIFLOW_TOKEN_TTL_HOURS"), 12.0, "SERTIFLOW_TOKEN_TTL_HOURS"
        ),
        credential_cache_seconds=_seconds(env.get("SERTIFLOW_CREDENTIAL_CACHE_SECONDS"), 60.0,
                                          "SERTIFLOW_CREDENTIAL_CACHE_SECONDS", 3600.0),
        upload_max_bytes=int(
            _positive_float(env.get("SERTIFLOW_UPLOAD_MAX_MB"), 20.0, "SERTIFLOW_UPLOAD_MAX_MB")
            * 1024 * 1024
        ),
        documents_path=Path(env.get("SERTIFLOW_DOCUMENTS_PATH") or folder / "documents"),
        processes_path=Path(env.get("SERTIFLOW_PROCESSES") or PROJECT_ROOT / "processes"),
        forms_path=Path(env.get("SERTIFLOW_FORMS") or PROJECT_ROOT / "forms"),
        public_url=_public_url(env.get("SERTIFLOW_PUBLIC_URL")),
        notification_days=positive_int(env.get("SERTIFLOW_NOTIFICATION_DAYS"), 30,
                                       "SERTIFLOW_NOTIFICATION_DAYS", 3650),
    )


def positive_int(value: str | None, default: int, name: str, maximum: int) -> int:
    """Read a whole number from 1 to ``maximum``; unset or empty is ``default``."""
    if value is None or value == "":
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= maximum:
        raise ConfigError(f"{name} must be a whole number from 1 to {maximum}, not {value!r}")
    return int(value)


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    """SMTP is configured by ``SERTIFLOW_SMTP_HOST``; without it no e-mail is sent."""
    host = env.get("SERTIFLOW_SMTP_HOST")
    if not host:
        return None
    port_text = env.get("SERTIFLOW_SMTP_PORT") or "25"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"SERTIFLOW_SMTP_PORT must be a port number, not {port_text!r}")
    return SmtpSettings(
        host=host, port=int(port_text),
        sender=env.get("SERTIFLOW_SMTP_FROM") or "sertiflow@localhost",
        username=env.get("SERTIFLOW_SMTP_USER") or None,
        password=env.get("SERTIFLOW_SMTP_PASSWORD") or None,
        starttls=_flag(env.get("SERTIFLOW_SMTP_STARTTLS"), False, "SERTIFLOW_SMTP_STARTTLS"),
        digest_hour=_hour(env.get("SERTIFLOW_DIGEST_HOUR"), 7, "SERTIFLOW_DIGEST_HOUR"),
    )


def _hour(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    if not value.strip().isdigit() or not 0 <= int(value) <= 23:
        raise ConfigError(f"{name} must be an hour from 0 to 23, not {value!r}")
    return int(value)


def _public_url(value: str | None) -> str | None:
    """An http(s) address without a trailing slash; unset or empty is None."""
    if not value or not value.strip():
        return None
    url = value.strip().rstrip("/")
    scheme, _, rest = url.partition("://")
    if (scheme not in ("http", "https") or not rest or len(url) > 500
            or any(c.isspace() for c in url)):
        raise ConfigError(f"SERTIFLOW_PUBLIC_URL must be an http or https address, "
                          f"not {value!r}")
    return url


def _dates(value: str | None, name: str) -> frozenset[date]:
    """Read a comma-separated list of ISO dates (``2026-12-24,2026-12-31``)."""
    days = set()
    for part in (value or "").split(","):
        if part.strip():
            try:
                days.add(date.fromisoformat(part.strip()))
            except ValueError:
                raise ConfigError(f"{name} must list dates as YYYY-MM-DD, not {part!r}") from None
    return frozenset(days)


def _stored_secret(folder: Path) -> str:
    """Return the secret kept in the instance folder, creating it on first use."""
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
