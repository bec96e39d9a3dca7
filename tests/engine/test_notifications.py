"""E-mail notifications of new tasks and daily digests, read from a real local SMTP server."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.config import ConfigError, load_settings
from engine.models import Notification, ProcessInstance, Task
from engine.persistence.migrate import upgrade
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from tests.builders import definitions, process
from tests.engine import mailbox
from tests.engine.mailbox import (
    COMPANY,
    PUBLIC,
    Inbox,
    frozen,
    html_of,
    sweep,
    text_of,
)
from tests.settings import LSPRO

# The fixtures (an SMTP server; an engine with users mailing to it).
inbox, mailing = mailbox.inbox, mailbox.mailing


def test_a_customer_hears_of_their_task_and_another_company_does_not(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        instance = s.runtime.start_instance("ask", business_key="APP-7", company=COMPANY)
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id)).one()
    assert sweep(engine) == 1
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
    assert sweep(engine) == 0 and box.take() == []  # sent once


def test_a_roles_task_reaches_every_member_by_their_setting_and_the_digest_lists_both(
        mailing: tuple[Engine, Inbox]) -> None:
    engine, box = mailing
    with engine.write() as s:
        s.runtime.start_instance("review", business_key="APP-1")
        s.runtime.start_instance("review", business_key="APP-2")
    assert sweep(engine) == 2
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

    clock = frozen(engine)
    clock.advance(timedelta(hours=1, minutes=59))  # 06:59 in Jakarta
    assert sweep(engine) == 0 and box.take() == []
    clock.advance(timedelta(minutes=1))  # 07:00: the digest hour
    assert sweep(engine) == 1
    ((to, digest),) = box.take()
    assert to == ["digest@lspro.example"]
    assert digest["Subject"] == "[sertiflow] Ringkasan harian: 2 tugas menunggu Anda"
    text = text_of(digest)
    assert "Untuk: APP-1 · Tinjauan" in text and "Untuk: APP-2 · Tinjauan" in text
    assert text.count("- Periksa kelengkapan") == 2
    assert f"Buka daftar tugas: {PUBLIC}/tasks" in text
    clock.advance(timedelta(hours=5))
    assert sweep(engine) == 0 and box.take() == []  # one digest a day
    clock.advance(timedelta(days=1))
    assert sweep(engine) == 1  # the next day's
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
    assert sweep(engine) == 1
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


def test_an_ended_instance_forgets_its_notices_of_work(mailing: tuple[Engine, Inbox]) -> None:
    """Once an instance has ended no notice of its work is ever mailed: the command that
    ends it deletes them (completed or cancelled); another instance's stay."""
    engine, _ = mailing

    def kinds(instance_id: str) -> list[str]:
        with engine.read() as s:
            return list(s.session.scalars(sa.select(Notification.kind).where(
                Notification.instance_id == instance_id).order_by(Notification.id)))

    with engine.write() as s:
        done = s.runtime.start_instance("review", business_key="APP-5")
        other = s.runtime.start_instance("review", business_key="APP-6")
        dropped = s.runtime.start_instance("review", business_key="APP-7")
    for element in ("check", "approve"):
        with engine.write() as s:
            task = s.session.scalars(sa.select(Task.id).where(
                Task.instance_id == done.id, Task.element_id == element)).one()
            assert kinds(done.id)  # still waiting: its notices are there
            # "approve" is assigned to "every", who completes it.
            s.runtime.complete_task(task, {}, actor="every")
    with engine.write() as s:
        s.runtime.cancel(dropped.id, actor="english")
    with engine.read() as s:
        statuses = dict(s.session.execute(sa.select(ProcessInstance.id,
                                                    ProcessInstance.status)).all())
    assert (statuses[done.id], statuses[dropped.id]) == ("completed", "cancelled")
    assert kinds(done.id) == [] and kinds(dropped.id) == []
    assert kinds(other.id) == ["task_created"]


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
    assert sweep(engine) == 1  # the new task, to its assignee
    box.take()
    frozen(engine).advance(timedelta(hours=2))
    assert sweep(engine) == 2
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
    frozen(engine).advance(timedelta(days=1, minutes=1))
    assert sweep(engine) == 0 and box.take() == []
    with engine.read() as s:
        (note,) = s.session.scalars(sa.select(Notification)).all()
    assert note.email_error == "not sent: more than a day old" and note.emailed_at is not None


@pytest.mark.postgres
def test_ending_an_instance_skips_the_notices_a_mailer_holds(postgres_url: str,
                                                            tmp_path: Path) -> None:
    """A mailer on another node holds its rows while it talks to SMTP (FOR UPDATE SKIP
    LOCKED); the command that ends an instance does not wait for them, it leaves them
    to the purge."""
    settings = load_settings({"DATABASE_URL": postgres_url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": str(tmp_path)})
    engine = Engine(settings, clock=FrozenClock(mailbox.EARLY),
                    extensions=[LsproExtension(LSPRO)])
    upgrade(engine.db.engine)
    with engine.write() as s:
        s.identity.add_user("every", "a-long-password", roles=["upp"])
        s.deployments.deploy([("ask.bpmn", mailbox.ASK_CUSTOMER.encode()),
                              ("review.bpmn", mailbox.REVIEW.encode())])
        held = s.runtime.start_instance("ask", business_key="APP-8")
        ended = s.runtime.start_instance("review", business_key="APP-9")
    with engine.read() as s:
        # Both instances' notices, as one mailer batch would take them.
        notices = dict(s.session.execute(sa.select(Notification.id, Notification.instance_id)
                                         .where(Notification.instance_id.in_([held.id, ended.id]))
                                         ).all())
    assert sorted(notices.values()) == sorted([held.id, ended.id])
    mailer = engine.db.engine.connect()
    try:
        mailer.execute(sa.select(Notification.id).where(Notification.id.in_(list(notices)))
                       .with_for_update(skip_locked=True)).all()
        outcome: list[str] = []

        def end_it() -> None:
            for element in ("check", "approve"):
                with engine.write() as s:
                    task = s.session.scalars(sa.select(Task.id).where(
                        Task.instance_id == ended.id, Task.element_id == element)).one()
                    s.runtime.complete_task(task, {}, actor="every")
            outcome.append("ended")

        worker = threading.Thread(target=end_it, daemon=True)
        worker.start()
        worker.join(timeout=30)
        assert outcome == ["ended"], "the ending command waited for the mailer's rows"
    finally:
        mailer.rollback()
        mailer.close()
    with engine.read() as s:
        left = set(s.session.scalars(sa.select(Notification.id).where(
            Notification.instance_id == ended.id)))
        status = s.session.scalar(sa.select(ProcessInstance.status).where(
            ProcessInstance.id == ended.id))
    # The held notice of its first task stays for the purge; its later ones are gone.
    assert status == "completed"
    assert left == {n for n, instance in notices.items() if instance == ended.id}
    engine.close()
