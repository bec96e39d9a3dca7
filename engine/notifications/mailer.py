"""Send the outbox by e-mail, and each day's digests, when an SMTP server is configured.

The sweep (:mod:`engine.time.timers`) runs :meth:`Mailer.send_pending` and
:meth:`Mailer.send_digests` every beat. Each notification is written for each
of its recipients in their language (:mod:`.texts`) and sent to those whose
setting is ``every``; ``digest`` users get one mail a day at the configured
hour in the organisation's time zone listing what waits for them; ``none``
users get nothing. A notification about a task that is no longer open (done
in the same command, or before the sweep came), or about a message that has
already arrived, is not sent; nor is one to the user whose own command caused
it (``caused_by``: a customer who starts an application and is taken to its
first task is not mailed about it). A mail the SMTP server did not take is
tried again after 1, 2, 4, ... minutes, at most a day apart.
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

from engine.identity.access import ADMIN, Actor
from engine.models import Notification, Task, User
from engine.queries.awaited import AwaitedMessage, AwaitedWork
from engine.time.clock import Clock

from .awaited import facts_of_awaited, still_awaited
from .outbox import (
    MESSAGE_AWAITED,
    SLA_BREACH,
    TASK_ASSIGNED,
    TASK_CREATED,
    WORK_KINDS,
    retry_delay,
)
from .preferences import DEFAULT_NOTIFY, DIGEST, EVERY
from .recipients import DIGEST_LIMIT, facts_of, recipients, waiting_for
from .texts import Mail, Writer

log = logging.getLogger(__name__)
# With the retries spaced (engine.notifications.outbox.retry_delay), the last of these
# is about six days after the first: an outage of the SMTP server of days loses nothing
# that is still worth sending.
MAX_ATTEMPTS = 16
# A notice of new work this old is not sent any more: when SMTP is first configured on a
# running service, its backlog would flood everyone (the task list and digests show them).
STALE_AFTER = timedelta(days=1)
# The kinds that tell of work waiting now, and are not sent once it is stale.
_WORK = WORK_KINDS
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
    ``MAX_ATTEMPTS`` times, each later than the one before; a recipient the
    server refuses does not hold back the others. ``awaited`` reads which
    messages people record (for ``message_awaited`` and the digests).
    """

    def __init__(self, session: Session, clock: Clock, smtp: SmtpSettings, *,
                 public_url: str | None = None, timezone: tzinfo = UTC,
                 awaited: AwaitedWork | None = None) -> None:
        self.session = session
        self.awaited = awaited
        self.clock = clock
        self.smtp = smtp
        self.public_url = public_url
        self.timezone = timezone

    # -- the outbox ----------------------------------------------------------------------

    def send_pending(self, limit: int = 100) -> int:
        """Send what is queued and due; return how many notifications reached someone."""
        pending = list(self.session.scalars(
            sa.select(Notification)
            .where(Notification.emailed_at.is_(None),
                   Notification.email_attempts < MAX_ATTEMPTS,
                   sa.or_(Notification.next_attempt_at.is_(None),
                          Notification.next_attempt_at <= self.clock.now()))
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
        for notification, _ in to_send:
            # An attempt each; until one succeeds, the next waits longer.
            notification.email_attempts += 1
            notification.next_attempt_at = now + retry_delay(notification.email_attempts)
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
                        notification.email_error = f"{type(exc).__name__}: {exc}"
        self.session.flush()
        return sent

    def _letters(self, notification: Notification) -> list[Letter]:
        """The mails a notification becomes now; notes on the row why there are none."""
        kind = notification.kind
        task = (self.session.get(Task, notification.task_id)
                if notification.task_id and kind != MESSAGE_AWAITED else None)
        if kind in (TASK_CREATED, TASK_ASSIGNED) and (task is None or task.state != "ready"):
            notification.email_error = "not sent: the task was no longer open"
            return []
        if kind == TASK_ASSIGNED and task is not None and (
                task.assignee != notification.recipient_user):
            notification.email_error = "not sent: the task went to someone else since"
            return []
        awaited = None
        if kind == MESSAGE_AWAITED:
            awaited = still_awaited(self.session, notification, self.awaited)
            if awaited is None:
                notification.email_error = "not sent: the message was no longer awaited"
                return []
        if kind in _WORK and self.clock.now() - notification.created_at > STALE_AFTER:
            notification.email_error = "not sent: more than a day old"
            return []
        people = [u for u in recipients(self.session, notification, task)
                  if u.username != notification.caused_by]
        if not people:
            notification.email_error = "nobody to send to: no active user with an e-mail address"
            if notification.caused_by:
                notification.email_error += " other than whose command it was"
            return []
        wanting = [u for u in people if (u.notify or DEFAULT_NOTIFY) == EVERY]
        facts = facts_of(self.session, [task])[0] if task is not None else None
        letters = []
        for user in wanting:
            writer = Writer(user.language, self.timezone, self.public_url)
            reader = user.display_name or user.username
            if awaited is not None:
                mail = writer.awaited_mail(reader, awaited)
            elif facts is not None and kind == TASK_CREATED:
                mail = writer.task_mail("task", reader, facts)
            elif facts is not None and kind == TASK_ASSIGNED:
                mail = writer.task_mail("assigned", reader, facts)
            elif facts is not None and kind == SLA_BREACH:
                tone = "mine_overdue" if notification.recipient_user else "overdue"
                mail = writer.task_mail(tone, reader, facts)
            else:  # a kind without words of its own: what was stored
                mail = Mail(notification.subject, notification.body, "")
            letters.append(Letter(str(user.email), mail))
        return letters

    def _send(self, smtp: smtplib.SMTP, notification: Notification,
              letters: Sequence[Letter]) -> int:
        failures = []
        for letter in letters:
            try:
                smtp.send_message(self._message(letter))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as exc:
                failures.append(f"{letter.address}: {type(exc).__name__}: {exc}")
        notification.email_error = "; ".join(failures) or None
        if len(failures) == len(letters):
            return 0  # nobody got it: tried again at next_attempt_at
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
            awaited, awaited_more = self._awaited_for(user)
            if not tasks and not awaited:
                user.digest_sent_on = today
                continue
            writer = Writer(user.language, self.timezone, self.public_url)
            mail = writer.digest(user.display_name or user.username,
                                 facts_of(self.session, tasks), more, self.clock.now(),
                                 facts_of_awaited(self.session, awaited), awaited_more)
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

    def _awaited_for(self, user: User) -> tuple[list[AwaitedMessage], int]:
        """The messages the user's roles record, soonest deadline first, and how many more.

        As for tasks, an administrator's digest lists what their other roles record.
        """
        if self.awaited is None:
            return [], 0
        plain = Actor.of(user.username, user.role_names - {ADMIN}, user.company)
        found = self.awaited.list(plain, per_page=DIGEST_LIMIT)
        return found.items, max(found.total - len(found.items), 0)

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
