"""SLA breaches, escalation by e-mail through a real SMTP server, and the service clock."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from engine.composition import Engine
from engine.config import Settings
from engine.models import Notification, SlaBreach, Task
from engine.notifications.mailer import SmtpSettings
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from tests.builders import definitions, process
from tests.settings import LSPRO

# Monday 1 March 2027, 09:00 in Jakarta.
MONDAY_9 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)

REVIEW = process("review", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:userTask id="check" name="Check the application" camunda:candidateGroups="upp" camunda:dueDate="PT2H" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def _engine(settings: Settings, clock: FrozenClock, **changes: Any) -> Engine:
    # The LSPro's escalation chain: upp -> koordinator-pk -> ...
    return Engine(replace(settings, **changes), clock=clock, extensions=[LsproExtension(LSPRO)])


def _start(engine: Engine, xml: str, key: str, **kwargs: Any) -> str:
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", xml.encode())])
        return s.runtime.start_instance(key, **kwargs).id


def _task(engine: Engine, element: str) -> Task:
    with engine.read() as s:
        return s.session.scalars(sa.select(Task).where(Task.element_id == element,
                                                       Task.state == "ready")).one()


def test_overdue_task_becomes_one_breach_escalated_to_the_coordinator(settings: Settings) -> None:
    clock = FrozenClock(MONDAY_9)
    engine = _engine(settings, clock)
    _start(engine, definitions("review", REVIEW), "review")
    task = _task(engine, "check")
    with engine.write() as s:
        s.runtime.claim_task(task.id, "rina")
    sweep = TimerSweep(engine)
    clock.advance(timedelta(hours=1, minutes=59))
    assert sweep.run_sla_once() == (0, 0)
    clock.advance(timedelta(minutes=2))
    assert sweep.run_sla_once() == (1, 0)
    assert sweep.run_sla_once() == (0, 0)  # recorded once
    with engine.read() as s:
        breach = s.session.scalars(sa.select(SlaBreach)).one()
        notes = s.session.scalars(sa.select(Notification).where(
            Notification.kind == "sla_breach").order_by(Notification.id)).all()
    assert (breach.roles, breach.assignee, breach.escalated_to) == ("upp", "rina", "koordinator-pk")
    assert breach.due_at == MONDAY_9 + timedelta(hours=2) and breach.completed_at is None
    assert [(n.recipient_role, n.recipient_user) for n in notes] == [
        ("koordinator-pk", None), (None, "rina")]
    clock.advance(timedelta(hours=3))
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="rina")
    with engine.read() as s:
        breach = s.session.scalars(sa.select(SlaBreach)).one()
    assert breach.completed_at - breach.due_at == timedelta(hours=3, minutes=1)
    assert breach.completed_by == "rina"
    engine.close()


def test_task_done_late_before_any_sweep_still_leaves_a_breach(settings: Settings) -> None:
    clock = FrozenClock(MONDAY_9)
    engine = _engine(settings, clock)
    _start(engine, definitions("review", REVIEW), "review")
    task = _task(engine, "check")
    clock.advance(timedelta(hours=5))
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="upp1")
    with engine.read() as s:
        breach = s.session.scalars(sa.select(SlaBreach)).one()
    assert breach.completed_at - breach.due_at == timedelta(hours=3)
    engine.close()


def test_task_done_in_time_leaves_no_breach(settings: Settings) -> None:
    clock = FrozenClock(MONDAY_9)
    engine = _engine(settings, clock)
    _start(engine, definitions("review", REVIEW), "review")
    clock.advance(timedelta(hours=1))
    with engine.write() as s:
        s.runtime.complete_task(_task(engine, "check").id, {}, actor="upp1")
    assert TimerSweep(engine).run_sla_once() == (0, 0)
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(SlaBreach)) == 0
    engine.close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Any:
    inbox = _Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_escalation_is_emailed_through_a_real_smtp_server(settings: Settings,
                                                         smtp_server: Any) -> None:
    inbox, port = smtp_server
    clock = FrozenClock(MONDAY_9)
    engine = _engine(settings, clock, smtp=SmtpSettings(host="127.0.0.1", port=port,
                                                         sender="sla@lspro.example"))
    with engine.write() as s:
        s.identity.add_user("koord", "a-long-password", roles=["koordinator-pk"])
        s.identity.add_user("koord2", "a-long-password", roles=["koordinator-pk"])
        s.identity.user("koord").email = "koord@lspro.example"
    _start(engine, definitions("review", REVIEW), "review", business_key="APP-5")
    clock.advance(timedelta(hours=3))
    assert TimerSweep(engine).run_sla_once() == (1, 1)
    (envelope,) = inbox.messages
    assert envelope.mail_from == "sla@lspro.example"
    assert envelope.rcpt_tos == ["koord@lspro.example"]  # koord2 has no address
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "[sertiflow] Terlambat: Check the application (APP-5)"
    text = mail.get_body(("plain",)).get_content()
    # The due time in Indonesian, in the organisation's time zone (04:00 UTC).
    assert "Batas waktu: Senin, 1 Maret 2027 pukul 11.00 WIB" in text
    with engine.read() as s:
        note = s.session.scalars(sa.select(Notification).where(
            Notification.kind == "sla_breach")).one()
    assert note.emailed_at == clock.now() and note.email_error is None
    assert TimerSweep(engine).run_sla_once() == (0, 0)  # sent once
    engine.close()


def test_unreachable_smtp_server_is_recorded_and_retried(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    clock = FrozenClock(MONDAY_9)
    engine = _engine(settings, clock, smtp=SmtpSettings(host="127.0.0.1", port=closed_port,
                                                         timeout=2))
    with engine.write() as s:
        # Someone to write to: without a recipient no connection is even tried.
        s.identity.add_user("koord", "a-long-password", roles=["koordinator-pk"])
        s.identity.user("koord").email = "koord@lspro.example"
    _start(engine, definitions("review", REVIEW), "review")
    clock.advance(timedelta(hours=3))
    assert TimerSweep(engine).run_sla_once() == (1, 0)
    with engine.read() as s:
        note = s.session.scalars(sa.select(Notification).where(
            Notification.kind == "sla_breach")).one()
    assert note.emailed_at is None and note.email_attempts == 1
    assert "ConnectionRefusedError" in (note.email_error or "")
    engine.close()


# -- working days ------------------------------------------------------------------------

def test_due_date_in_working_days_skips_a_holiday_and_the_weekend(settings: Settings) -> None:
    xml = definitions("holiday", process("holiday", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="audit" />
    <bpmn:userTask id="audit" camunda:dueDate="P2D">
      <bpmn:extensionElements><camunda:properties><camunda:property name="calendar" value="working-days" /></camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="audit" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    # Thursday 24 December 2026, 14:00 in Jakarta: Friday 25th is Christmas Day.
    engine = _engine(settings, FrozenClock(datetime(2026, 12, 24, 7, 0, tzinfo=UTC)))
    _start(engine, xml, "holiday")
    due = _task(engine, "audit").due_at
    assert due == datetime(2026, 12, 29, 7, 0, tzinfo=UTC)  # Tuesday 29th, 14:00
    engine.close()


def test_closure_days_are_not_working_days(settings: Settings) -> None:
    xml = definitions("closed", process("closed", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="audit" />
    <bpmn:userTask id="audit" camunda:dueDate="P1D" />
    <bpmn:sequenceFlow id="f2" sourceRef="audit" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    engine = _engine(settings, FrozenClock(datetime(2026, 12, 30, 2, 0, tzinfo=UTC)),
                     calendar="working-days",
                     closure_days=frozenset({datetime(2026, 12, 31).date()}))
    _start(engine, xml, "closed")
    # Wednesday 30th + 1 working day: Thursday 31st is closed, Friday 1 Jan is New Year.
    assert _task(engine, "audit").due_at == datetime(2027, 1, 4, 2, 0, tzinfo=UTC)
    engine.close()


# -- the service clock ---------------------------------------------------------------------

CERTIFY = definitions("certify", process("certify", """\
    <bpmn:extensionElements><camunda:properties><camunda:property name="serviceTimeTarget" value="P41D" /></camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="l1" name="upp"><bpmn:flowNodeRef>intake</bpmn:flowNodeRef><bpmn:flowNodeRef>grant</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="pelanggan"><bpmn:flowNodeRef>fix</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="intake" />
    <bpmn:userTask id="intake" name="Check completeness" />
    <bpmn:sequenceFlow id="f2" sourceRef="intake" targetRef="fix" />
    <bpmn:userTask id="fix" name="Complete the documents" />
    <bpmn:sequenceFlow id="f3" sourceRef="fix" targetRef="grant" />
    <bpmn:userTask id="grant" name="Grant" />
    <bpmn:sequenceFlow id="f4" sourceRef="grant" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


def _clock_of(engine: Engine, instance_id: str) -> Any:
    with engine.read() as s:
        return s.service_clocks.of(s.runtime.instance(instance_id))


def _done(engine: Engine, element: str) -> None:
    with engine.write() as s:
        s.runtime.complete_task(_task(engine, element).id, {}, actor="someone")


def test_service_clock_pauses_in_the_customer_lane_and_while_suspended(
        settings: Settings) -> None:
    clock = FrozenClock(datetime(2027, 4, 5, 1, 0, tzinfo=UTC))  # Monday 08:00 WIB
    engine = _engine(settings, clock)
    instance_id = _start(engine, CERTIFY, "certify")
    clock.advance(timedelta(days=2))  # Monday and Tuesday with the LSPro
    _done(engine, "intake")
    first = _clock_of(engine, instance_id)
    assert (first.used_days, first.target_days, first.running_now) == (2.0, 41.0, False)
    clock.advance(timedelta(days=7))  # a week with the customer: not counted
    _done(engine, "fix")
    assert _clock_of(engine, instance_id).used_days == 2.0
    # Wednesday 14 April with the LSPro again: half a day, then suspended over Thursday.
    clock.advance(timedelta(hours=4))
    with engine.write() as s:
        s.runtime.suspend(instance_id, actor="admin")
    clock.advance(timedelta(days=1))
    with engine.write() as s:
        s.runtime.resume(instance_id, actor="admin")
    clock.advance(timedelta(hours=4))  # Thursday 12:00 to 16:00 counts
    now = _clock_of(engine, instance_id)
    assert now.used_days == 3.0
    assert now.running_now is True
    assert now.remaining_days == 38.0
    assert now.projected_finish is not None and now.projected_finish > clock.now()
    engine.close()


def test_service_clock_does_not_count_public_holidays(settings: Settings) -> None:
    """Eid al-Fitr 2027 falls on Wednesday 10 and Thursday 11 March."""
    clock = FrozenClock(datetime(2027, 3, 9, 1, 0, tzinfo=UTC))  # Tuesday 08:00 WIB
    engine = _engine(settings, clock)
    instance_id = _start(engine, CERTIFY, "certify")
    clock.advance(timedelta(days=4))  # Tuesday to Saturday morning
    assert _clock_of(engine, instance_id).used_days == 2.0  # Tuesday and Friday
    engine.close()


@pytest.mark.parametrize(("written", "expected"), [
    # No offset: Jakarta time (UTC+7), not UTC.
    ("2027-03-05T12:00:00", datetime(2027, 3, 5, 5, 0, tzinfo=UTC)),
    # A bare date: the end of that day in Jakarta.
    ("2027-03-05", datetime(2027, 3, 5, 16, 59, 59, tzinfo=UTC)),
    # An explicit offset is kept as written.
    ("2027-03-05T12:00:00+00:00", datetime(2027, 3, 5, 12, 0, tzinfo=UTC)),
])
def test_a_due_date_without_offset_is_read_in_the_lspro_time_zone(
        settings: Settings, written: str, expected: datetime) -> None:
    xml = definitions("dated", process("dated", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pay" />
    <bpmn:userTask id="pay" camunda:candidateGroups="upp" camunda:dueDate="${batas}" />
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    engine = _engine(settings, FrozenClock(MONDAY_9))
    _start(engine, xml, "dated", variables={"batas": written})
    assert _task(engine, "pay").due_at == expected
    engine.close()


def test_the_sweep_checks_newly_due_tasks_each_beat_and_all_of_them_every_ten_minutes(
        settings: Settings) -> None:
    clock = FrozenClock(MONDAY_9)
    engine = _engine(settings, clock)
    sweep = TimerSweep(engine)
    assert sweep.run_sla_once() == (0, 0)  # the first check looks at everything
    first = _start(engine, definitions("review", REVIEW), "review")
    with engine.write() as s:
        second = s.runtime.start_instance("review").id
    # A task whose due time lies before the last check (as a due date already past
    # when the task was made would): the beat's check, which looks only at what
    # fell due since, does not see it; the full check ten minutes on does.
    with engine.write() as s:
        s.session.execute(sa.update(Task).where(Task.instance_id == first).values(
            due_at=MONDAY_9 - timedelta(minutes=1), due_order=MONDAY_9 - timedelta(minutes=1)))
    clock.advance(timedelta(minutes=1))
    assert sweep.run_sla_once() == (0, 0)
    clock.advance(timedelta(minutes=9))
    assert sweep.run_sla_once() == (1, 0)
    # A full batch leaves the starting point where it was, so nothing is skipped.
    sweep.sla_batch = 1
    with engine.write() as s:
        third = s.runtime.start_instance("review").id
    clock.advance(timedelta(hours=3))  # past due: the second and the third task
    assert sweep.run_sla_once() == (1, 0)
    assert sweep.run_sla_once() == (1, 0)
    assert sweep.run_sla_once() == (0, 0)
    with engine.read() as s:
        breached = set(s.session.scalars(sa.select(SlaBreach.instance_id)))
    assert breached == {first, second, third}
    engine.close()
