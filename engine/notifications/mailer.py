"""Send the outbox by e-mail, and each day's digests, when an SMTP server is configured.

The sweep (:mod:`engine.time.timers`) runs :meth:`Mailer.send_pending` and
:meth:`Mailer.send_digests` every beat. Each notification is written for each
of its recipients in their language (:mod:`.texts`) and sent to those whose
setting is ``every``; ``digest`` users get one mail a day at the configured
hour in the organisation's time zone listing what waits for them; ``none``
users get nothing. A notification about a task that is no longer open (done
in the same command, or before the sweep came) is not sent.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import Notification, Task, User
from engine.time.clock import Clock

from .outbox import SLA_BREACH, TASK_CREATED
from .preferences import DEFAULT_NOTIFY, DIGEST, EVERY
from .recipients import facts_of, recipients, waiting_for
from .texts import Mail, Writer

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# A new-task notice this old is not sent any more: when SMTP is first configured on a
# running service, its backlog would flood everyone (the task list and digests show them).
STALE_AFTER = timedelta(days=1)
SUBJECT_PREFIX = "[sertiflow] "


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "sertiflow@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0
    # The hour (0-23, the organisation's time zone) from which each day's digests go out.
    digest_hour: int = 7


@dataclass(frozen=True)
class Letter:
    """One mail to one person."""

    address: str
    mail: Mail


class Mailer:
    """Turns notifications into e-mails to the users they concern (an outbox).

    A failure to reach the server is recorded and retried on later sweeps, up to
    ``MAX_ATTEMPTS`` times; a recipient the server refuses does not hold back
    the others.
    """

    def __init__(self, session: Session, clock: Clock, smtp: SmtpSettings, *,
                 public_url: str | None = None, timezone: tzinfo = UTC) -> None:
        self.session = session
        self.clock = clock
        self.smtp = smtp
        self.public_url = public_url
        self.timezone = timezone

    # -- the outbox ----------------------------------------------------------------------

    def send_pending(self, limit: int = 100) -> int:
        """Send what is queued; return how many notifications reached someone."""
        pending = list(self.session.scalars(
            sa.select(Notification)
            .where(Notification.emailed_at.is_(None),
                   Notification.email_attempts < MAX_ATTEMPTS)
            .order_by(Notification.id).limit(limit)
            # Several schedulers on PostgreSQL: each mails different rows (SQLite: one writer).
            .with_for_update(skip_locked=True)))
        if not pending:
            return 0
        # Written before connecting: when nobody wants a mail now, no connection is made.
        planned = [(n, self._letters(n)) for n in pending]
        to_send = [(n, letters) for n, letters in planned if letters]
        now = self.clock.now()
        for notification, letters in planned:
            if not letters:
                notification.emailed_at = now
        sent = 0
        if to_send:
            try:
                with self._connect() as smtp:
                    for notification, letters in to_send:
                        sent += self._send(smtp, notification, letters)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("SMTP server %s:%s unreachable: %s",
                            self.smtp.host, self.smtp.port, exc)
                for notification, _ in to_send:
                    if notification.emailed_at is None:
                        notification.email_attempts += 1
                        notification.email_error = f"{type(exc).__name__}: {exc}"
        self.session.flush()
        return sent

    def _letters(self, notification: Notification) -> list[Letter]:
        """The mails a notification becomes now; notes on the row why there are none."""
        task = self.session.get(Task, notification.task_id) if notification.task_id else None
        if notification.kind == TASK_CREATED:
            if task is None or task.state != "ready":
                notification.email_error = "not sent: the task was no longer open"
                return []
            if self.clock.now() - notification.created_at > STALE_AFTER:
                notification.email_error = "not sent: more than a day old"
                return []
        people = recipients(self.session, notification, task)
        if not people:
            notification.email_error = "nobody to send to: no active user with an e-mail address"
            return []
        wanting = [u for u in people if (u.notify or DEFAULT_NOTIFY) == EVERY]
        facts = facts_of(self.session, [task])[0] if task is not None else None
        letters = []
        for user in wanting:
            writer = Writer(user.language, self.timezone, self.public_url)
            reader = user.display_name or user.username
            if facts is not None and notification.kind == TASK_CREATED:
                mail = writer.task_mail("task", reader, facts)
            elif facts is not None and notification.kind == SLA_BREACH:
                kind = "mine_overdue" if notification.recipient_user else "overdue"
                mail = writer.task_mail(kind, reader, facts)
            else:  # a kind without words of its own: what was stored
                mail = Mail(notification.subject, notification.body, "")
            letters.append(Letter(str(user.email), mail))
        return letters

    def _send(self, smtp: smtplib.SMTP, notification: Notification,
              letters: Sequence[Letter]) -> int:
        notification.email_attempts += 1
        failures = []
        for letter in letters:
            try:
                smtp.send_message(self._message(letter))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as exc:
                failures.append(f"{letter.address}: {type(exc).__name__}: {exc}")
        notification.email_error = "; ".join(failures) or None
        if len(failures) == len(letters):
            return 0  # nobody got it: tried again on the next sweep
        notification.emailed_at = self.clock.now()
        return 1

    # -- the daily digest ----------------------------------------------------------------

    def send_digests(self, limit: int = 200) -> int:
        """From the digest hour on, send each digest user of the day their summary once.

        A user with nothing waiting gets no mail that day. Return how many were sent.
        """
        local = self.clock.now().astimezone(self.timezone)
        if local.hour < self.smtp.digest_hour:
            return 0
        today = local.date()
        due = list(self.session.scalars(
            sa.select(User).where(
                User.active.is_(True), User.notify == DIGEST, User.email.is_not(None),
                sa.or_(User.digest_sent_on.is_(None), User.digest_sent_on < today))
            .order_by(User.id).limit(limit).with_for_update(skip_locked=True)))
        letters: list[tuple[User, Letter]] = []
        for user in due:
            tasks, more = waiting_for(self.session, user)
            if not tasks:
                user.digest_sent_on = today
                continue
            writer = Writer(user.language, self.timezone, self.public_url)
            mail = writer.digest(user.display_name or user.username,
                                 facts_of(self.session, tasks), more, self.clock.now())
            letters.append((user, Letter(str(user.email), mail)))
        sent = 0
        if letters:
            try:
                with self._connect() as smtp:
                    for user, letter in letters:
                        try:
                            smtp.send_message(self._message(letter))
                        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                            log.warning("digest for %s refused: %s", user.username, exc)
                        else:
                            sent += 1
                        # Refused addresses are not retried all day long.
                        user.digest_sent_on = today
            except (OSError, smtplib.SMTPException) as exc:
                # Those not reached are tried again on the next sweep.
                log.warning("SMTP server %s:%s unreachable for the digests: %s",
                            self.smtp.host, self.smtp.port, exc)
        self.session.flush()
        return sent

    # -- SMTP ----------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout)
        try:
            if self.smtp.starttls:
                smtp.starttls()
            if self.smtp.username:
                smtp.login(self.smtp.username, self.smtp.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _message(self, letter: Letter) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = letter.address
        message["Subject"] = SUBJECT_PREFIX + letter.mail.subject
        message.set_content(letter.mail.text)
        if letter.mail.html:
            message.add_alternative(letter.mail.html, subtype="html")
        return message
