"""The settings every test engine runs with: its own folder and database, no processes."""

from __future__ import annotations

from pathlib import Path

from engine.config import Settings, load_settings
from lspro.settings import LsproSettings


def settings_for(workdir: Path, database_url: str, *, secret: str = "test-secret") -> Settings:
    return load_settings(
        {
            "SERTIFLOW_INSTANCE_PATH": str(workdir / "instance"),
            "DATABASE_URL": database_url,
            "SERTIFLOW_SECRET_KEY": secret,
            "SERTIFLOW_PROCESSES": str(workdir / "no-processes"),
            "SERTIFLOW_FORMS": str(workdir / "no-forms"),
            # Durations in tests are calendar time unless a test says otherwise; the
            # working-day calendar has tests of its own.
            "SERTIFLOW_CALENDAR": "calendar-days",
            # Where certificates' QR codes lead (the development server's address).
            "SERTIFLOW_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )


# The LSPro's settings with their defaults, for tests that build its services directly.
LSPRO = LsproSettings()
