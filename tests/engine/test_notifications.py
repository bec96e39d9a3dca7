"""E-mail notifications of new tasks and daily digests, read from a real local SMTP server."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from engine.composition import Engine
from engine.config import ConfigError, Settings, load_settings
from engine.models import Notification, Task
from engine.notifications.mailer import SmtpSettings
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from tests.builders import definitions, process
from tests.settings import LSPRO

COMPANY, OTHER_COMPANY = "PT Maju Jaya", "PT Lain Sekali"
PUBLIC = "https://sertiflow.example.go.id"
# Monday 1 March 2027, 22:00 UTC: Tuesday 2 March, 05:00 in Jakarta, before the digest hour.
EARLY = datetime(2027, 3, 1, 22, 0, tzinfo=UTC)

ASK_CUSTOMER = definitions("ask", process("ask", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fix" />
    <bpmn:userTask id="fix" name="Lengkapi dokumen" camunda:candidateGroups="pelanggan" camunda:dueDate="P2D" />
    <bpmn:sequenceFlow id="f2" sourceRef="fix" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Pengajuan layanan"))

REVIEW = definitions("review", process("review", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:userTask id="check" name="Periksa kelengkapan" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="approve" />
    <bpmn:userTask id="approve" name="Setujui" camunda:assignee="every" />
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Tinjauan"))


@dataclass
class Inbox:
    messages: list[Any]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def mails(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        """Each mail as (its envelope's recipients, the parsed message)."""
        return [(list(e.rcpt_tos), email.message_from_bytes(
            e.content, policy=email.policy.default)) for e in self.messages]

    def take(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        found = self.mails()
        self.messages.clear()
        return found


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def html_of(message: Any) -> str:
    return str(message.get_body(("html",)).get_content())


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox([])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mailing(settings: Settings, inbox: tuple[Inbox, int]) -> Iterator[tuple[Engine, Inbox]]:
    box, port = inbox
    engine = Engine(replace(settings, public_url=PUBLIC, smtp=SmtpSettings(
        host="127.0.0.1", port=port, sender="lspro@example.go.id", digest_hour=7)),
        clock=FrozenClock(EARLY), extensions=[LsproExtension(LSPRO)])
    people = {  # name -> (roles, company, e-mail, setting, language)
        "cust1": (["pelanggan"], COMPANY, "cust1@maju.example", "every", "id"),
        "cust2": (["pelanggan"], OTHER_COMPANY, "cust2@lain.example", "every", "id"),
        "every": (["upp"], None, "every@lspro.example", "every", "id"),
        "english": (["upp"], None, "english@lspro.example", "every", "en"),
        "digest": (["upp"], None, "digest@lspro.example", "digest", "id"),
        "quiet": (["upp"], None, "quiet@lspro.example", "none", "id"),
        "nomail": (["upp"], None, None, "every", "id"),
        "gone": (["upp"], None, "gone@lspro.example", "every", "id"),
    }
    with engine.write() as s:
        for name, (roles, company, address, notify, language) in people.items():
            user = s.identity.add_user(name, "a-long-password", roles=roles, company=company)
            user.email, user.notify, user.language = address, notify, language
            user.display_name = name.capitalize()
        s.identity.set_active("gone", False)
        s.deployments.deploy([("ask.bpmn", ASK_CUSTOMER.encode()),
                              ("review.bpmn", REVIEW.encode())])
    yield engine, box
    engine.close()


def _sweep(engine: Engine) -> int:
    return TimerSweep(engine).run_sla_once()[1]


def _clock(engine: Engine) -> FrozenClock:
    clock = engine.clock
    assert isinstance(clock, FrozenClock)
    return clock


def test_a_customer_hears_of_their_task_and_another_company_does_not(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        instance = s.runtime.start_instance("ask", business_key="APP-7", company=COMPANY)
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id)).one()
    assert _sweep(engine) == 1
    ((to, mail),) = box.take()
    assert to == ["cust1@maju.example"]
    assert mail["Subject"] == "[sertiflow] Tugas baru: Lengkapi dokumen (APP-7)"
    text = text_of(mail)
    assert text.startswith("Yth. Cust1,")
    assert "Untuk: APP-7 · Pengajuan layanan" in text
    assert f"Perusahaan: {COMPANY}" in text
    # Due in two days: Thursday 4 March, 05:00 in Jakarta.
    assert "Batas waktu: Kamis, 4 Maret 2027 pukul 05.00 WIB" in text
    assert f"Buka tugas: {PUBLIC}/tasks/{task_id}" in text
    assert instance.id not in text.replace(f"/tasks/{task_id}", "")  # no ids in the words
    assert "ask" not in text.split()  # nor the process key
    assert f'<a href="{PUBLIC}/tasks/{task_id}">Buka tugas</a>' in html_of(mail)
    assert _sweep(engine) == 0 and box.take() == []  # sent once


def test_a_roles_task_reaches_every_member_by_their_setting_and_the_digest_lists_both(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        s.runtime.start_instance("review", business_key="APP-1")
        s.runtime.start_instance("review", business_key="APP-2")
    assert _sweep(engine) == 2
    by_reader: dict[str, list[Any]] = {}
    for to, mail in box.take():
        (address,) = to
        by_reader.setdefault(address, []).append(mail)
    # "every" users with an address, one mail per task; not "none", "digest" (not yet),
    # the user without an address, nor the deactivated one; no customer.
    assert sorted(by_reader) == ["english@lspro.example", "every@lspro.example"]
    assert sorted(m["Subject"] for m in by_reader["every@lspro.example"]) == [
        "[sertiflow] Tugas baru: Periksa kelengkapan (APP-1)",
        "[sertiflow] Tugas baru: Periksa kelengkapan (APP-2)"]
    english = by_reader["english@lspro.example"][0]
    assert english["Subject"].startswith("[sertiflow] New task: Periksa kelengkapan")
    assert "Dear English," in text_of(english) and "For: APP-" in text_of(english)
    assert "?lang=en" in text_of(english)

    clock = _clock(engine)
    clock.advance(timedelta(hours=1, minutes=59))  # 06:59 in Jakarta
    assert _sweep(engine) == 0 and box.take() == []
    clock.advance(timedelta(minutes=1))  # 07:00: the digest hour
    assert _sweep(engine) == 1
    ((to, digest),) = box.take()
    assert to == ["digest@lspro.example"]
    assert digest["Subject"] == "[sertiflow] Ringkasan harian: 2 tugas menunggu Anda"
    text = text_of(digest)
    assert "Untuk: APP-1 · Tinjauan" in text and "Untuk: APP-2 · Tinjauan" in text
    assert text.count("- Periksa kelengkapan") == 2
    assert f"Buka daftar tugas: {PUBLIC}/tasks" in text
    clock.advance(timedelta(hours=5))
    assert _sweep(engine) == 0 and box.take() == []  # one digest a day
    clock.advance(timedelta(days=1))
    assert _sweep(engine) == 1  # the next day's
    assert len(box.take()) == 1


def test_no_mail_for_a_task_completed_in_the_same_command(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        instance = s.runtime.start_instance("review", business_key="APP-3")
        check = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id, Task.element_id == "check")).one()
        # Completed by another member of the role: "every" did not cause "approve".
        s.runtime.complete_task(check, {}, actor="english")
    assert _sweep(engine) == 1
    ((to, mail),) = box.take()
    # The next task is assigned: its assignee alone hears of it, not the whole role.
    assert to == ["every@lspro.example"]
    assert mail["Subject"] == "[sertiflow] Tugas baru: Setujui (APP-3)"
    with engine.read() as s:
        first = s.session.scalars(sa.select(Notification).where(
            Notification.task_id == check)).one()
    assert first.email_error == "not sent: the task was no longer open"
    assert first.emailed_at is not None  # done with, not retried


def test_a_new_task_queues_one_row_whoever_holds_the_role(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, _ = mailing
    with engine.write() as s:
        instance = s.runtime.start_instance("review", business_key="APP-4")
    with engine.read() as s:
        rows = s.session.scalars(sa.select(Notification).where(
            Notification.instance_id == instance.id)).all()
    assert [(n.kind, n.recipient_role, n.recipient_user) for n in rows] == [
        ("task_created", None, None)]


def test_a_late_task_is_told_in_the_readers_language(mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    late = definitions("late", process("late", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign" />
    <bpmn:userTask id="sign" name="Tanda tangani" camunda:candidateGroups="upp" camunda:dueDate="PT1H" />
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Pengesahan"))
    with engine.write() as s:
        s.deployments.deploy([("late.bpmn", late.encode())])
        # The LSPro's escalation: a late upp task is told to koordinator-pk.
        koord = s.identity.add_user("koord", "a-long-password", roles=["koordinator-pk"])
        koord.email = "koord@lspro.example"
        instance = s.runtime.start_instance("late", business_key="APP-9")
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id)).one()
        s.runtime.claim_task(task_id, "english")
    assert _sweep(engine) == 1  # the new task, to its assignee
    box.take()
    _clock(engine).advance(timedelta(hours=2))
    assert _sweep(engine) == 2
    mails = {to[0]: mail for to, mail in box.take()}
    assert mails["english@lspro.example"]["Subject"] == (
        "[sertiflow] Your task is overdue: Tanda tangani (APP-9)")
    assert "Due: Tuesday, 2 March 2027 at 06:00 WIB" in text_of(mails["english@lspro.example"])
    assert mails["koord@lspro.example"]["Subject"] == (
        "[sertiflow] Terlambat: Tanda tangani (APP-9)")
    text = text_of(mails["koord@lspro.example"])
    assert "Peran: upp" in text and "Dikerjakan oleh: English" in text
    assert "Batas waktu: Selasa, 2 Maret 2027 pukul 06.00 WIB" in text


def test_public_url_and_digest_hour_are_read_and_checked(tmp_path: Any) -> None:
    base = {"SERTIFLOW_INSTANCE_PATH": str(tmp_path), "SERTIFLOW_SECRET_KEY": "x",
            "SERTIFLOW_SMTP_HOST": "127.0.0.1"}
    read = load_settings({**base, "SERTIFLOW_PUBLIC_URL": "https://lspro.example.go.id/",
                          "SERTIFLOW_DIGEST_HOUR": "6"})
    assert read.public_url == "https://lspro.example.go.id"
    assert read.smtp is not None and read.smtp.digest_hour == 6
    unset = load_settings(base)
    assert unset.public_url is None and unset.smtp is not None and unset.smtp.digest_hour == 7
    with pytest.raises(ConfigError, match="SERTIFLOW_PUBLIC_URL"):
        load_settings({**base, "SERTIFLOW_PUBLIC_URL": "lspro.example.go.id"})
    with pytest.raises(ConfigError, match="SERTIFLOW_DIGEST_HOUR"):
        load_settings({**base, "SERTIFLOW_DIGEST_HOUR": "24"})


def test_a_new_task_notice_older_than_a_day_is_not_sent(mailing: tuple[Engine, Inbox]) -> None:
    """As when SMTP is configured on a service that ran without it: no flood of old news."""
    engine, box = mailing
    with engine.write() as s:
        s.runtime.start_instance("ask", business_key="APP-8", company=COMPANY)
    _clock(engine).advance(timedelta(days=1, minutes=1))
    assert _sweep(engine) == 0 and box.take() == []
    with engine.read() as s:
        (note,) = s.session.scalars(sa.select(Notification)).all()
    assert note.email_error == "not sent: more than a day old" and note.emailed_at is not None
