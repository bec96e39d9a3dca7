"""Timers that are neither lost nor doubled: sweeps, restarts, kill -9, two processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.config import Settings, load_settings
from engine.models import HistoryEvent, ProcessInstance, Task, Timer
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from tests.builders import definitions, process
from tests.settings import LSPRO

ROOT = Path(__file__).resolve().parents[2]
WAIT = process("wait", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause" />
    <bpmn:intermediateCatchEvent id="pause">
      <bpmn:timerEventDefinition id="t"><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="next" />
    <bpmn:userTask id="next" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
# Timers are made due in the past of the real clock, so a scheduler process
# running on the wall clock finds them all due at once.
PAST = datetime(2020, 1, 6, 1, 0, tzinfo=UTC)


def _seed(engine: Engine, count: int) -> None:
    with engine.write() as s:
        s.deployments.deploy([("wait.bpmn", definitions("wait", WAIT).encode())])
    for start in range(0, count, 250):
        with engine.write() as s:
            for n in range(start, min(start + 250, count)):
                s.runtime.start_instance("wait", business_key=f"W-{n}")


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    """(timers left, timer_fired events, instances fired more than once, next tasks)."""
    with engine.read() as s:
        timers = s.session.scalar(sa.select(sa.func.count()).select_from(Timer))
        fired = s.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent).where(
            HistoryEvent.kind == "timer_fired"))
        twice = s.session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(HistoryEvent.instance_id).where(HistoryEvent.kind == "timer_fired")
            .group_by(HistoryEvent.instance_id).having(sa.func.count() > 1).subquery()))
        tasks = s.session.scalar(sa.select(sa.func.count()).select_from(Task).where(
            Task.element_id == "next"))
    return int(timers or 0), int(fired or 0), int(twice or 0), int(tasks or 0)


def _seeded_engine(settings: Settings, count: int) -> Engine:
    seeding = Engine(settings, clock=FrozenClock(PAST))
    _seed(seeding, count)
    seeding.close()
    return Engine(settings)  # the wall clock: everything seeded is due


def test_concurrent_sweeps_fire_each_timer_once(settings: Settings) -> None:
    engine = _seeded_engine(settings, 200)
    sweeps = [TimerSweep(engine, batch=10_000) for _ in range(3)]
    threads = [threading.Thread(target=sweep.run_once) for sweep in sweeps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert _counts(engine) == (0, 200, 0, 200)
    engine.close()


def test_suspended_instance_waits_and_fires_after_resume(settings: Settings) -> None:
    engine = _seeded_engine(settings, 2)
    with engine.write() as s:
        first, _ = s.session.scalars(sa.select(ProcessInstance.id)
                                          .order_by(ProcessInstance.business_key)).all()
        s.runtime.suspend(first, actor="admin")
    assert TimerSweep(engine).run_once() == 1
    assert _counts(engine) == (1, 1, 0, 1)
    with engine.write() as s:
        s.runtime.resume(first, actor="admin")
    assert TimerSweep(engine).run_once() == 1
    assert _counts(engine) == (0, 2, 0, 2)
    engine.close()


def _cli(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, DATABASE_URL=settings.database_url,
               SERTIFLOW_INSTANCE_PATH=str(settings.instance_path),
               SERTIFLOW_SECRET_KEY="timers", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "api.cli", "scheduler", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_kill_9_in_the_middle_of_a_sweep_loses_and_doubles_nothing(settings: Settings) -> None:
    total = 1500
    engine = _seeded_engine(settings, total)
    scheduler = _cli(settings, "--interval", "0.2")
    try:
        deadline = time.monotonic() + 120
        fired = 0
        while time.monotonic() < deadline:
            fired = _counts(engine)[1]
            if fired >= 50:
                break
            time.sleep(0.05)
        os.kill(scheduler.pid, signal.SIGKILL)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
        scheduler.communicate(timeout=30)
    left, fired, twice, tasks = _counts(engine)
    assert 0 < fired < total, "the kill must land in the middle of the sweep"
    assert (left + fired, twice, tasks) == (total, 0, fired)
    # A new process (a restart) fires the rest, each once.
    finisher = _cli(settings, "--once")
    output, _ = finisher.communicate(timeout=300)
    assert finisher.returncode == 0, output
    assert _counts(engine) == (0, total, 0, total)
    engine.close()


@pytest.mark.postgres
def test_two_scheduler_processes_on_postgres_fire_each_timer_once(
        postgres_url: str, tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": postgres_url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": str(tmp_path),
                              "SERTIFLOW_CALENDAR": "calendar-days"})
    migrating = Engine(settings, extensions=[LsproExtension(LSPRO)])
    migrating.migrate()
    migrating.close()
    total = 800
    engine = _seeded_engine(settings, total)
    sweepers = [_cli(settings, "--once"), _cli(settings, "--once")]
    outputs = [p.communicate(timeout=300)[0] for p in sweepers]
    assert [p.returncode for p in sweepers] == [0, 0], outputs
    fired_each = [int(o.split("fired the timers of ")[1].split()[0]) for o in outputs]
    assert sum(fired_each) == total
    assert all(n > 0 for n in fired_each), fired_each  # both really swept
    assert _counts(engine) == (0, total, 0, total)
    engine.close()


def test_timer_due_uses_working_days_when_asked(settings: Settings) -> None:
    """A P3D timer with calendar=working-days started on Thursday 24 Dec 2026 skips
    Christmas Day (a public holiday) and the weekend: due Wednesday 30 Dec."""
    xml = definitions("holiday", process("holiday", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause" />
    <bpmn:intermediateCatchEvent id="pause">
      <bpmn:extensionElements><camunda:properties><camunda:property name="calendar" value="working-days" /></camunda:properties></bpmn:extensionElements>
      <bpmn:timerEventDefinition id="t"><bpmn:timeDuration>P3D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    clock = FrozenClock(datetime(2026, 12, 24, 3, 0, tzinfo=UTC))  # 10:00 in Jakarta
    engine = Engine(settings, clock=clock)
    with engine.write() as s:
        s.deployments.deploy([("holiday.bpmn", xml.encode())])
        s.runtime.start_instance("holiday")
    with engine.read() as s:
        due = s.session.scalars(sa.select(Timer.due_at)).one()
    assert due == datetime(2026, 12, 30, 3, 0, tzinfo=UTC)
    clock.set(due - timedelta(seconds=1))
    assert TimerSweep(engine).run_once() == 0
    clock.set(due)
    assert TimerSweep(engine).run_once() == 1
    engine.close()


WALL_CLOCK = process("wall", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="pause" />
    <bpmn:intermediateCatchEvent id="pause">
      <bpmn:timerEventDefinition id="t1"><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="pause" targetRef="after_pause" />
    <bpmn:userTask id="after_pause" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="work" />
    <bpmn:userTask id="work" camunda:candidateGroups="upp" camunda:dueDate="P1D" />
    <bpmn:boundaryEvent id="late" attachedToRef="work" cancelActivity="false">
      <bpmn:timerEventDefinition id="t2"><bpmn:timeDuration>PT3S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="late" targetRef="remind" />
    <bpmn:userTask id="remind" camunda:candidateGroups="upp" />
    <bpmn:boundaryEvent id="every" attachedToRef="work" cancelActivity="false">
      <bpmn:timerEventDefinition id="t3"><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="every" targetRef="nudge" />
    <bpmn:userTask id="nudge" camunda:candidateGroups="upp" />
    <bpmn:boundaryEvent id="office" attachedToRef="work" cancelActivity="false">
      <bpmn:extensionElements><camunda:properties><camunda:property name="calendar" value="working-days" /></camunda:properties></bpmn:extensionElements>
      <bpmn:timerEventDefinition id="t4"><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f7" sourceRef="office" targetRef="escalate" />
    <bpmn:userTask id="escalate" camunda:candidateGroups="upp" />
""")


@pytest.mark.parametrize("calendar", ["working-days", "calendar-days"])
def test_timer_events_count_wall_clock_time_whatever_the_default_calendar(
        settings: Settings, calendar: str) -> None:
    """On Saturday 5 Dec 2026, 12:00 in Jakarta, with SERTIFLOW_CALENDAR either way:
    PT1S, PT3S and R2/PT1H fire one, three seconds and an hour later, as in Camunda;
    a timer whose element asks for working days waits for Monday's office hours,
    and so does the SLA due date (P1D), which follows the configured default."""
    from dataclasses import replace

    from engine.time.calendar import WorkingCalendar, duration_adder

    settings = replace(settings, calendar=calendar)
    saturday = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)
    clock = FrozenClock(saturday)
    engine = Engine(settings, clock=clock)
    with engine.write() as s:
        s.deployments.deploy([("wall.bpmn", definitions("wall", WALL_CLOCK).encode())])
        s.runtime.start_instance("wall")
    with engine.read() as s:
        due = dict(s.session.execute(sa.select(Timer.element_id, Timer.due_at)).all())
        (sla,) = s.session.scalars(sa.select(Task.due_at).where(Task.element_id == "work"))
    assert due["pause"] == saturday + timedelta(seconds=1)
    assert due["late"] == saturday + timedelta(seconds=3)
    assert due["every"] == saturday + timedelta(hours=1)
    monday_nine = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta
    assert due["office"] == monday_nine
    adder = duration_adder(WorkingCalendar(settings.timezone), calendar)
    assert sla == adder(saturday, "P1D", None)
    assert (sla > monday_nine) == (calendar == "working-days")
    clock.set(saturday + timedelta(seconds=3))
    assert TimerSweep(engine).run_once() == 1  # the instance's two due timers, in one go
    with engine.read() as s:
        open_tasks = set(s.session.scalars(sa.select(Task.element_id).where(
            Task.state == "ready")))
    assert open_tasks == {"work", "after_pause", "remind"}
    engine.close()
