"""E-mails of awaited messages, hand-overs and one's own doing; retries and clean-up.

Read from a real local SMTP server (:mod:`tests.engine.mailbox`).
"""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from engine.composition import Engine
from engine.config import ConfigError, Settings, load_settings
from engine.identity.access import Actor
from engine.models import Notification, Task, Timer
from engine.notifications.mailer import MAX_ATTEMPTS, SmtpSettings
from engine.notifications.outbox import retry_delay
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from tests.builders import definitions, process
from tests.engine import mailbox as base
from tests.settings import LSPRO

Inbox, text_of, html_of = base.Inbox, base.text_of, base.html_of
COMPANY, PUBLIC, EARLY = base.COMPANY, base.PUBLIC, base.EARLY
# The fixtures of the first file (an SMTP server; an engine with users mailing to it).
inbox, mailing = base.inbox, base.mailing
_sweep, _clock = base.sweep, base.frozen

PAYMENT = "pembayaran_diterima"
# Waits for the payment (recorded by keuangan, within three days); meanwhile a reminder
# timer fires after an hour, which changes the instance's waits but not the payment's.
PAY = definitions("pay", f'  <bpmn:message id="msg_bayar" name="{PAYMENT}" />\n' + process(
    "pay", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="bayar" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="ingat" />
    <bpmn:receiveTask id="bayar" name="Pembayaran diterima" messageRef="msg_bayar">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="recordedBy" value="keuangan" />
      </camunda:properties></bpmn:extensionElements>
    </bpmn:receiveTask>
    <bpmn:boundaryEvent id="batas_bayar" attachedToRef="bayar">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT72H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="bayar" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="batas_bayar" targetRef="end_late" />
    <bpmn:intermediateCatchEvent id="ingat">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="ingat" targetRef="end_ingat" />
    <bpmn:endEvent id="end_ingat" />
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="end_late" />
""", name="Pembayaran sertifikasi"))


@pytest.fixture
def paying(mailing: tuple[Engine, Inbox]) -> tuple[Engine, Inbox]:
    """The mailing engine with the payment process and finance staff."""
    engine, box = mailing
    people = {"kasir": ("every", "id"), "cashier": ("every", "en"),
              "rekap": ("digest", "id")}
    with engine.write() as s:
        for name, (notify, language) in people.items():
            user = s.identity.add_user(name, "a-long-password", roles=["keuangan"])
            user.email, user.notify, user.language = f"{name}@lspro.example", notify, language
            user.display_name = name.capitalize()
        s.deployments.deploy([("pay.bpmn", PAY.encode())])
    return engine, box


def _start_payment(engine: Engine, key: str, actor: str | None = "every") -> str:
    with engine.write() as s:
        return s.runtime.start_instance("pay", business_key=key, company=COMPANY,
                                        actor=actor).id


def test_the_role_that_records_a_message_hears_once_that_it_is_awaited(
        paying: tuple[Engine, Inbox]) -> None:
    engine, box = paying
    instance_id = _start_payment(engine, "PAY-1")
    with engine.read() as s:
        rows = s.session.scalars(sa.select(Notification).where(
            Notification.instance_id == instance_id)).all()
        deadline = s.session.scalars(sa.select(Timer.due_at).where(
            Timer.instance_id == instance_id, Timer.element_id == "batas_bayar")).one()
    assert [(n.kind, n.recipient_role) for n in rows] == [("message_awaited", "keuangan")]
    assert deadline == EARLY + timedelta(hours=72)

    assert _sweep(engine) == 1
    mails = {to[0]: mail for to, mail in box.take()}
    # The role's "every" members; not the digest reader, nor other roles.
    assert sorted(mails) == ["cashier@lspro.example", "kasir@lspro.example"]
    mail = mails["kasir@lspro.example"]
    assert mail["Subject"] == "[sertiflow] Menunggu dicatat: Pembayaran diterima (PAY-1)"
    text = text_of(mail)
    assert text.startswith("Yth. Kasir,")
    assert "Untuk: PAY-1 · Pembayaran sertifikasi" in text
    assert f"Perusahaan: {COMPANY}" in text
    # 22:00 UTC on Monday + 72 hours: Friday 5 March, 05:00 in Jakarta.
    assert "Batas waktu: Jumat, 5 Maret 2027 pukul 05.00 WIB" in text
    link = f"{PUBLIC}/instances/{instance_id}/messages/{PAYMENT}?back=tasks"
    assert f"Catat sekarang: {link}" in text
    assert f'<a href="{link}">Catat sekarang</a>' in html_of(mail)
    english = mails["cashier@lspro.example"]
    assert english["Subject"] == (
        "[sertiflow] Waiting to be recorded: Pembayaran diterima (PAY-1)")
    assert "Due: Friday, 5 March 2027 at 05:00 WIB" in text_of(english)
    assert f"Record it: {link}&lang=en" in text_of(english)

    # The reminder fires: the instance's waits are rewritten, the payment's is not new.
    _clock(engine).advance(timedelta(hours=1))
    assert TimerSweep(engine).run_once() == 1
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.instance_id == instance_id)) == 1
    assert _sweep(engine) == 0 and box.take() == []


def test_no_mail_once_the_message_has_arrived(paying: tuple[Engine, Inbox]) -> None:
    engine, box = paying
    instance_id = _start_payment(engine, "PAY-2")
    with engine.write() as s:
        s.send_message(PAYMENT, {}, actor="kasir", instance_id=instance_id)
        assert s.runtime.instance(instance_id).status == "running"  # the reminder waits
    assert _sweep(engine) == 0 and box.take() == []
    with engine.read() as s:
        note = s.session.scalars(sa.select(Notification).where(
            Notification.kind == "message_awaited")).one()
    assert note.email_error == "not sent: the message was no longer awaited"
    assert note.emailed_at is not None  # done with, not retried


def test_the_digest_lists_the_messages_a_role_records(paying: tuple[Engine, Inbox]) -> None:
    engine, box = paying
    first = _start_payment(engine, "PAY-3")
    _start_payment(engine, "PAY-4")
    _sweep(engine)
    box.take()
    _clock(engine).advance(timedelta(hours=2))  # 07:00 in Jakarta: the digest hour
    _sweep(engine)
    digests = {to[0]: mail for to, mail in box.take()}
    digest = digests["rekap@lspro.example"]
    assert digest["Subject"] == "[sertiflow] Ringkasan harian: 2 tugas menunggu Anda"
    text = text_of(digest)
    assert "Yang perlu dicatat oleh bagian Anda:" in text
    assert text.count("- Pembayaran diterima") == 2
    assert "Untuk: PAY-3 · Pembayaran sertifikasi" in text
    assert "Batas waktu: Jumat, 5 Maret 2027 pukul 05.00 WIB" in text
    assert "Tugas yang menunggu Anda hari ini:" not in text  # no task of theirs
    assert first not in text  # the list's link, not instance ids
    assert f"Buka daftar tugas: {PUBLIC}/tasks" in text
    # The upp digest reader records no payment: their digest has no such section.
    assert "digest@lspro.example" not in digests


def test_whose_command_made_the_task_is_not_mailed_about_it(
        mailing: tuple[Engine, Inbox]) -> None:
    """A customer who starts an application is taken to its first task: no mail of it."""
    engine, box = mailing
    with engine.write() as s:
        s.runtime.start_instance("ask", business_key="APP-20", company=COMPANY, actor="cust1")
    assert _sweep(engine) == 0 and box.take() == []
    with engine.read() as s:
        note = s.session.scalars(sa.select(Notification)).one()
    assert note.caused_by == "cust1" and note.emailed_at is not None
    assert note.email_error == ("nobody to send to: no active user with an e-mail address "
                                "other than whose command it was")

    # A colleague of the same company still hears of the next one; the starter does not.
    with engine.write() as s:
        colleague = s.identity.add_user("cust3", "a-long-password", roles=["pelanggan"],
                                        company=COMPANY)
        colleague.email = "cust3@maju.example"
        s.runtime.start_instance("ask", business_key="APP-21", company=COMPANY, actor="cust1")
    assert _sweep(engine) == 1
    assert [to for to, _ in box.take()] == [["cust3@maju.example"]]


def test_a_task_handed_over_is_told_to_its_new_assignee(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        boss = s.identity.add_user("boss", "a-long-password", roles=["admin", "upp"])
        boss.email = "boss@lspro.example"
        instance = s.runtime.start_instance("review", business_key="APP-30")
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id)).one()
    _sweep(engine)
    box.take()  # the new task, to the role
    admin = Actor.of("boss", ["admin", "upp"])
    with engine.write() as s:
        s.hand_over(admin, task_id, assignee="english", roles=None)
    assert _sweep(engine) == 1
    ((to, mail),) = box.take()
    assert to == ["english@lspro.example"]
    assert mail["Subject"] == "[sertiflow] Task handed over to you: Periksa kelengkapan (APP-30)"
    text = text_of(mail)
    assert "This task has been handed over to you:" in text
    assert f"Open the task: {PUBLIC}/tasks/{task_id}?lang=en" in text

    # Handed on before the sweep: only the last assignee hears of it.
    with engine.write() as s:
        s.hand_over(admin, task_id, assignee="every", roles=None)
        s.hand_over(admin, task_id, assignee="english", roles=None)
    assert _sweep(engine) == 1
    assert [to for to, _ in box.take()] == [["english@lspro.example"]]
    # An admin who takes a task for themselves is not mailed; a claim mails nobody.
    with engine.write() as s:
        s.hand_over(admin, task_id, assignee="boss", roles=None)
    assert _sweep(engine) == 0 and box.take() == []
    with engine.read() as s:
        kinds = [n.kind for n in s.session.scalars(
            sa.select(Notification).order_by(Notification.id))]
    assert kinds.count("task_assigned") == 4


def test_a_task_handed_over_before_its_first_mail_is_told_once(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        s.identity.add_user("boss", "a-long-password", roles=["admin"])
        instance = s.runtime.start_instance("review", business_key="APP-31")
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id)).one()
        s.hand_over(Actor.of("boss", ["admin"]), task_id, assignee="every", roles=None)
    assert _sweep(engine) == 1
    ((to, mail),) = box.take()  # the new-task notice, to whom has it now
    assert to == ["every@lspro.example"]
    assert mail["Subject"] == "[sertiflow] Tugas baru: Periksa kelengkapan (APP-31)"
    with engine.read() as s:
        assert [n.kind for n in s.session.scalars(sa.select(Notification))] == [
            "task_created"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_mail_the_server_did_not_take_is_tried_again_later_and_later(
        settings: Settings) -> None:
    port = _free_port()  # nothing listens there yet: the SMTP server is down
    engine = Engine(replace(settings, public_url=PUBLIC, smtp=SmtpSettings(
        host="127.0.0.1", port=port, timeout=2.0)), clock=FrozenClock(EARLY),
        extensions=[LsproExtension(LSPRO)])
    try:
        with engine.write() as s:
            user = s.identity.add_user("every", "a-long-password", roles=["upp"])
            user.email = "every@lspro.example"
            s.deployments.deploy([("review.bpmn", base.REVIEW.encode())])
            s.runtime.start_instance("review", business_key="APP-40")

        def attempts() -> tuple[int, Any]:
            with engine.read() as s:
                note = s.session.scalars(sa.select(Notification)).one()
                return note.email_attempts, note.next_attempt_at

        clock = _clock(engine)
        assert _sweep(engine) == 0
        assert attempts() == (1, EARLY + timedelta(minutes=1))
        clock.advance(timedelta(seconds=30))
        _sweep(engine)
        assert attempts() == (1, EARLY + timedelta(minutes=1))  # not before its time
        clock.advance(timedelta(seconds=30))
        _sweep(engine)
        assert attempts() == (2, EARLY + timedelta(minutes=3))
        clock.advance(timedelta(minutes=2))
        _sweep(engine)
        assert attempts() == (3, EARLY + timedelta(minutes=7))

        box = Inbox([])
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()  # the server is back
        try:
            clock.advance(timedelta(minutes=3))
            assert _sweep(engine) == 0  # still waiting for its next attempt
            clock.advance(timedelta(minutes=1))
            assert _sweep(engine) == 1
            ((to, mail),) = box.take()
        finally:
            controller.stop()
        assert to == ["every@lspro.example"]
        assert mail["Subject"] == "[sertiflow] Tugas baru: Periksa kelengkapan (APP-40)"
        with engine.read() as s:
            note = s.session.scalars(sa.select(Notification)).one()
        assert note.emailed_at == EARLY + timedelta(minutes=7) and note.email_attempts == 4
    finally:
        engine.close()


def test_the_wait_between_attempts_doubles_up_to_a_day() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(11) == timedelta(minutes=1024)
    assert retry_delay(12) == retry_delay(MAX_ATTEMPTS) == timedelta(days=1)
    # The attempts last days, not seconds.
    assert sum((retry_delay(n) for n in range(1, MAX_ATTEMPTS)), timedelta()) > timedelta(
        days=5)


def test_old_notifications_are_deleted_even_without_smtp(settings: Settings) -> None:
    engine = Engine(replace(settings, smtp=None, notification_days=30),
                    clock=FrozenClock(EARLY), extensions=[LsproExtension(LSPRO)])
    try:
        with engine.write() as s:
            s.deployments.deploy([("review.bpmn", base.REVIEW.encode())])
            s.runtime.start_instance("review", business_key="APP-50")

        def count() -> int:
            with engine.read() as s:
                return int(s.session.scalar(
                    sa.select(sa.func.count()).select_from(Notification)) or 0)

        sweep = TimerSweep(engine)
        sweep.run_sla_once()
        assert count() == 1  # nothing sent, kept
        clock = _clock(engine)
        clock.advance(timedelta(days=29))
        with engine.write() as s:
            s.runtime.start_instance("review", business_key="APP-51")
        clock.advance(timedelta(days=1, minutes=1))
        sweep.run_sla_once()
        assert count() == 1  # the first is gone, the second (a day old) stays
        with engine.read() as s:
            (left,) = s.session.scalars(sa.select(Notification)).all()
        assert left.created_at == EARLY + timedelta(days=29)
    finally:
        engine.close()


def test_the_days_notifications_are_kept_are_read_and_checked(tmp_path: Any) -> None:
    base_env = {"SERTIFLOW_INSTANCE_PATH": str(tmp_path), "SERTIFLOW_SECRET_KEY": "x"}
    assert load_settings(base_env).notification_days == 30
    assert load_settings({**base_env, "SERTIFLOW_NOTIFICATION_DAYS": "7"}
                         ).notification_days == 7
    with pytest.raises(ConfigError, match="SERTIFLOW_NOTIFICATION_DAYS"):
        load_settings({**base_env, "SERTIFLOW_NOTIFICATION_DAYS": "0"})
