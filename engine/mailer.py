"""Where the mailer used to live: :mod:`engine.notifications` holds it now.

Kept so the configuration and older imports of ``engine.mailer`` keep working.
"""

from __future__ import annotations

from engine.notifications.mailer import MAX_ATTEMPTS, Mailer, SmtpSettings

__all__ = ["MAX_ATTEMPTS", "Mailer", "SmtpSettings"]
