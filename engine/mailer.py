"""Send pending notifications by e-mail, when an SMTP server is configured."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.time.clock import Clock

from .models import Notification, User, UserRole

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "sertiflow@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


class Mailer:
    """Turns notifications into e-mails to the users they concern (an outbox).

    A notification is addressed to a role or a user; every active user of that
    role (or that user) with an e-mail address gets it. A failure is recorded and
    retried on later sweeps, up to ``MAX_ATTEMPTS`` times.
    """

    def __init__(self, session: Session, clock: Clock, smtp: SmtpSettings) -> None:
        self.session = session
        self.clock = clock
        self.smtp = smtp

    def send_pending(self, limit: int = 100) -> int:
        pending = list(self.session.scalars(
            sa.select(Notification)
            .where(Notification.emailed_at.is_(None),
                   Notification.email_attempts < MAX_ATTEMPTS)
            .order_by(Notification.id).limit(limit)))
        if not pending:
            return 0
        sent = 0
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout) as smtp:
                if self.smtp.starttls:
                    smtp.starttls()
                if self.smtp.username:
                    smtp.login(self.smtp.username, self.smtp.password or "")
                for notification in pending:
                    sent += self._send(smtp, notification)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP server %s:%s unreachable: %s", self.smtp.host, self.smtp.port, exc)
            for notification in pending:
                if notification.emailed_at is None:
                    notification.email_attempts += 1
                    notification.email_error = f"{type(exc).__name__}: {exc}"
        self.session.flush()
        return sent

    def _send(self, smtp: smtplib.SMTP, notification: Notification) -> int:
        recipients = self._addresses(notification)
        notification.email_attempts += 1
        if not recipients:
            notification.emailed_at = self.clock.now()
            notification.email_error = "nobody to send to: no active user with an e-mail address"
            return 0
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = f"[sertiflow] {notification.subject}"
        message.set_content(notification.body)
        try:
            smtp.send_message(message)
        except smtplib.SMTPException as exc:
            notification.email_error = f"{type(exc).__name__}: {exc}"
            return 0
        notification.emailed_at = self.clock.now()
        notification.email_error = None
        return 1

    def _addresses(self, notification: Notification) -> list[str]:
        query = sa.select(User.email).where(User.active.is_(True), User.email.is_not(None))
        if notification.recipient_user:
            query = query.where(User.username == notification.recipient_user)
        elif notification.recipient_role:
            query = query.join(UserRole, UserRole.user_id == User.id).where(
                UserRole.role == notification.recipient_role)
        else:
            return []
        return sorted({str(e) for e in self.session.scalars(query) if e})
